//! Uprobes defined once as tracefs events and attached per burst with a
//! perf event, so that growth mode's bursts cost almost nothing to end.
//!
//! A uprobe attached the usual way (aya's, through the `uprobe` PMU) is
//! registered for its own perf event; closing that event unregisters the
//! uprobe and detaches its program, and the kernel waits a grace period
//! for each: about 85 ms per probe here, one after the other. An event
//! defined in tracefs (`uprobe_events`) stays registered while any perf
//! event uses it, and the eBPF programs of an event run on every hit of
//! it, whichever perf event they were attached through. So a keeper
//! process holds one perf event on each event, with the program attached,
//! for the whole trace; the target's own perf event, which carries no
//! program, only adds and removes the target's breakpoints. Measured
//! here, closing six such events took under 0.1 ms, against 240 ms for six
//! aya-style ones.
//!
//! One event is defined per place, program and occurrence: glibc's
//! aliases (memalign and aligned_alloc are one function) put two entry
//! programs and two return probes at one address. A tracefs event runs a
//! program once however often it is attached, so each occurrence gets its
//! own event, and the programs run as often as with aya's attachments.
//!
//! The events live in a tracefs group named after leakspy's pid and a
//! counter, removed when the group is dropped; groups left by a leakspy
//! that died are removed at start.

mod keeper;
mod perf_event;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use keeper::Keeper;

/// Where tracefs is mounted (`cargo xtask setup` mounts it).
const TRACEFS: &str = "/sys/kernel/tracing";
/// Prefix of the groups leakspy defines; the pid and a counter follow.
const GROUP_PREFIX: &str = "leakspy_";
/// Groups this leakspy has made.
static GROUPS_MADE: AtomicU32 = AtomicU32::new(0);

/// Where one probe goes: an offset in a file, at entry or at return, and
/// which occurrence of its program there it is (0 for the first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProbePoint {
    pub object: PathBuf,
    pub offset: u64,
    pub is_return: bool,
    pub occurrence: u32,
}

/// The eBPF program an event runs: its name, its descriptor and the attach
/// cookie it reads (`bpf_get_attach_cookie`).
pub struct EventProgram<'a> {
    pub name: &'static str,
    pub fd: BorrowedFd<'a>,
    pub cookie: u64,
}

/// One defined event, the keeper's perf event on it, and the link that
/// runs the program on its hits (dropped first: fields drop in order).
struct DefinedEvent {
    id: u64,
    _program: OwnedFd,
    _kept: OwnedFd,
}

/// The tracefs events of one leakspy process.
pub struct SharedUprobes {
    group: String,
    events: HashMap<(ProbePoint, &'static str), DefinedEvent>,
    names: Vec<String>,
    keeper: Keeper,
}

impl SharedUprobes {
    /// Starts the keeper; None when tracefs cannot define uprobes here
    /// (not mounted, or no uprobe_events), and the caller attaches the
    /// usual way.
    pub fn new() -> Option<Self> {
        if !Path::new(TRACEFS).join("uprobe_events").exists() {
            return None;
        }
        remove_orphaned_groups();
        let keeper = Keeper::start()
            .inspect_err(|error| log::debug!("no keeper process: {error}"))
            .ok()?;
        Some(SharedUprobes {
            group: format!(
                "{GROUP_PREFIX}{}_{}",
                std::process::id(),
                GROUPS_MADE.fetch_add(1, Ordering::Relaxed)
            ),
            events: HashMap::new(),
            names: Vec::new(),
            keeper,
        })
    }

    /// Puts `point` into process `pid`, with `program` run on each hit;
    /// the event is defined, and the program attached through the keeper
    /// with `program.cookie`, on first use. Closing the returned descriptor
    /// takes the breakpoint out of the process again.
    pub fn attach(
        &mut self,
        point: &ProbePoint,
        program: &EventProgram,
        pid: u32,
    ) -> io::Result<OwnedFd> {
        let id = self.event_id(point, program)?;
        perf_event::open_for_process(id, pid)
    }

    fn event_id(&mut self, point: &ProbePoint, program: &EventProgram) -> io::Result<u64> {
        let program_name = program.name;
        let key = (point.clone(), program_name);
        if let Some(event) = self.events.get(&key) {
            return Ok(event.id);
        }
        let path = point
            .object
            .to_str()
            .filter(|path| !path.contains(char::is_whitespace));
        let Some(path) = path else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("tracefs cannot name {}", point.object.display()),
            ));
        };
        let name = format!("p{}", self.names.len());
        let kind = if point.is_return { 'r' } else { 'p' };
        let definition = format!("{kind}:{}/{name} {path}:{:#x}\n", self.group, point.offset);
        write_uprobe_events(&definition)?;
        self.names.push(name.clone());
        let id_file = Path::new(TRACEFS)
            .join("events")
            .join(&self.group)
            .join(&name)
            .join("id");
        let id = fs::read_to_string(&id_file)?
            .trim()
            .parse::<u64>()
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        let kept = perf_event::open_for_process(id, self.keeper.pid())?;
        let link = perf_event::attach_program(&kept, program.fd, program.cookie)?;
        self.events.insert(
            key,
            DefinedEvent {
                id,
                _program: link,
                _kept: kept,
            },
        );
        Ok(id)
    }
}

impl Drop for SharedUprobes {
    /// Closes the keeper's events, then removes them; each removal waits
    /// for the kernel's grace period, once per event, at the very end.
    fn drop(&mut self) {
        self.events.clear();
        for name in &self.names {
            if let Err(error) = remove_event(&format!("{}/{name}", self.group)) {
                log::warn!(
                    "could not remove uprobe event {}/{name}: {error}",
                    self.group
                );
            }
        }
    }
}

/// Removes the event "group/name". The kernel refuses (EBUSY) while a perf
/// event on it is still being released, which can outlast the close of
/// its descriptor by a little: that is retried for up to a second.
fn remove_event(event: &str) -> io::Result<()> {
    const RETRY: std::time::Duration = std::time::Duration::from_millis(10);
    let mut attempts = 100;
    loop {
        match write_uprobe_events(&format!("-:{event}\n")) {
            Err(error) if error.raw_os_error() == Some(libc::EBUSY) && attempts > 0 => {
                attempts -= 1;
                std::thread::sleep(RETRY);
            }
            result => return result,
        }
    }
}

fn write_uprobe_events(line: &str) -> io::Result<()> {
    fs::OpenOptions::new()
        .append(true)
        .open(Path::new(TRACEFS).join("uprobe_events"))?
        .write_all(line.as_bytes())
}

/// Removes the events of groups whose leakspy is gone.
fn remove_orphaned_groups() {
    let Ok(definitions) = fs::read_to_string(Path::new(TRACEFS).join("uprobe_events")) else {
        return;
    };
    for definition in definitions.lines() {
        let Some(event) = orphaned_event(definition) else {
            continue;
        };
        if let Err(error) = remove_event(event) {
            log::debug!("could not remove stale uprobe event {event}: {error}");
        }
    }
}

/// "group/name" of a definition line whose group names a dead leakspy.
fn orphaned_event(definition: &str) -> Option<&str> {
    let event = definition.split_whitespace().next()?.split_once(':')?.1;
    let group = event.strip_prefix(GROUP_PREFIX)?.split_once('/')?.0;
    let pid: u32 = group.split_once('_')?.0.parse().ok()?;
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    (!alive).then_some(event)
}

#[cfg(test)]
mod tests;
