//! Attaches precise mode's probes to the allocators of one process, and
//! detaches them.
//!
//! A plan lists probe sites in the order they must be attached: frees
//! first, then the return probes, then the entry probes. A free attached
//! late would miss frees of blocks already recorded, and an entry probe
//! without its return probe would leave a call in flight that never ends.
//!
//! Where tracefs can define uprobes, a `ProbeSet` attaches through shared
//! uprobe events (`shared_uprobes`): detaching then costs the target's
//! breakpoints only, not a kernel grace period per probe, which growth
//! mode's bursts need. Elsewhere it attaches the usual way, through aya.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::os::fd::{AsFd as _, OwnedFd};
use std::path::{Path, PathBuf};

use aya::{
    Ebpf,
    programs::{
        ProgramError,
        uprobe::{UProbeAttachLocation, UProbeAttachPoint, UProbeError, UProbeLinkId, UProbeScope},
    },
};
use profiler_common::{AllocatorFunction, SINGLE_STEPPED_COOKIE};

use crate::config::ProbeOptions;
use crate::probes::loader::object_bytes;
use crate::probes::plan_finish::finish_plan;
use crate::probes::shared_uprobes::{EventProgram, ProbePoint, SharedUprobes};
use crate::probes::uprobe_multi::{MULTI_PROGRAMS, MultiPrograms, attach_sites};
use crate::symbolize::function_file_offset;
use crate::{error::Error, probes::loader::uprobe};

/// The return probe shared by every allocating function.
pub const RETURN_PROGRAM: &str = "allocator_return";

/// Where in an object a probe goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// An exported symbol; a missing one is skipped, not an error.
    Symbol(&'static str),
    /// An offset in the file, for functions found by address.
    FileOffset(u64),
}

/// One probe to attach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSite {
    pub program: &'static str,
    pub object: PathBuf,
    pub location: Location,
    /// The kernel single-steps the instruction probed (placement says):
    /// its hits are counted apart, they cost several times more.
    pub single_stepped: bool,
    /// The attach cookie's own part: an inlined site's index
    /// (`inlined_site_cookie`), 0 on a function.
    pub cookie: u64,
}

impl ProbeSite {
    /// The cookie the probe is attached with.
    pub fn attach_cookie(&self) -> u64 {
        if self.single_stepped {
            self.cookie | SINGLE_STEPPED_COOKIE
        } else {
            self.cookie
        }
    }
}

/// The probes attached to one process.
#[derive(Debug, Default)]
pub struct AttachedProbes {
    /// Symbols the objects do not export (older libcs lack reallocarray).
    pub missing: Vec<&'static str>,
    links: Vec<(&'static str, UProbeLinkId)>,
    /// The target's perf events on shared uprobe events; closing one
    /// detaches it.
    events: Vec<OwnedFd>,
    /// `uprobe_multi` links; closing one detaches all its places.
    multi_links: Vec<OwnedFd>,
}

impl AttachedProbes {
    /// Records that `site`'s symbol is missing: an error when `required`
    /// names it, otherwise a note.
    fn note_missing(&mut self, site: &ProbeSite, pid: u32, required: &[&str]) -> Result<(), Error> {
        let Location::Symbol(symbol) = site.location else {
            unreachable!("only symbols can be missing")
        };
        if required.contains(&symbol) {
            return Err(Error::NoAllocator {
                pid,
                reason: format!("{} does not define {symbol}", site.object.display()),
            });
        }
        if !self.missing.contains(&symbol) {
            self.missing.push(symbol);
        }
        Ok(())
    }
}

/// The entry program of each libc allocating function.
fn libc_entry_program(function: AllocatorFunction) -> &'static str {
    match function {
        AllocatorFunction::Malloc => "malloc_enter",
        AllocatorFunction::Calloc => "calloc_enter",
        AllocatorFunction::Realloc => "realloc_enter",
        AllocatorFunction::Reallocarray => "reallocarray_enter",
        AllocatorFunction::PosixMemalign => "posix_memalign_enter",
        AllocatorFunction::AlignedAlloc => "aligned_alloc_enter",
        AllocatorFunction::Memalign => "memalign_enter",
        AllocatorFunction::Valloc => "valloc_enter",
    }
}

/// The sites of libc's malloc family in `object`, in attach order, placed
/// and programmed as `options` say.
pub fn libc_plan(object: &Path, options: ProbeOptions) -> Vec<ProbeSite> {
    let site = |program, symbol| ProbeSite {
        program,
        object: object.to_path_buf(),
        location: Location::Symbol(symbol),
        single_stepped: false,
        cookie: 0,
    };
    let mut plan = vec![site("free_enter", "free")];
    plan.extend(
        AllocatorFunction::ALL
            .iter()
            .map(|function| site(RETURN_PROGRAM, function.symbol())),
    );
    plan.extend(
        AllocatorFunction::ALL
            .iter()
            .map(|function| site(libc_entry_program(*function), function.symbol())),
    );
    finish_plan(plan, options)
}

/// A return probe paired with `entry`: both attach at the same place.
pub fn return_site(entry: &ProbeSite) -> ProbeSite {
    ProbeSite {
        program: RETURN_PROGRAM,
        ..entry.clone()
    }
}

/// Attaches every site of `plan` for process `pid` only. `required` names
/// symbols whose absence is an error. On error nothing stays attached.
pub fn attach(
    ebpf: &mut Ebpf,
    plan: &[ProbeSite],
    pid: u32,
    required: &[&str],
) -> Result<AttachedProbes, Error> {
    let scope = UProbeScope::OneProcess(NonZeroU32::new(pid).expect("a PID is never 0"));
    attach_each(ebpf, plan, pid, required, |ebpf, site, probes| {
        let Some(link) = attach_site(ebpf, site, scope)? else {
            return Ok(false);
        };
        probes.links.push((site.program, link));
        Ok(true)
    })
}

/// Attaches each site of `plan` with `attach_one`, which returns false
/// when the site's symbol is missing: that is noted, or an error when
/// `required` names it. On error nothing stays attached.
fn attach_each<'a>(
    ebpf: &mut Ebpf,
    plan: &'a [ProbeSite],
    pid: u32,
    required: &[&str],
    mut attach_one: impl FnMut(&mut Ebpf, &'a ProbeSite, &mut AttachedProbes) -> Result<bool, Error>,
) -> Result<AttachedProbes, Error> {
    let mut probes = AttachedProbes::default();
    for site in plan {
        let attached = match attach_one(ebpf, site, &mut probes) {
            Ok(true) => Ok(()),
            Ok(false) => probes.note_missing(site, pid, required),
            Err(error) => Err(error),
        };
        if let Err(error) = attached {
            detach(ebpf, probes);
            return Err(error);
        }
    }
    Ok(probes)
}

/// Attaches every site of `plan` for process `pid` through `shared`, as
/// `attach` does. `offsets` caches where each symbol is. Aliases give the
/// same program at the same place twice; each is its own occurrence.
fn attach_shared(
    ebpf: &mut Ebpf,
    shared: &mut SharedUprobes,
    offsets: &mut SymbolOffsets,
    plan: &[ProbeSite],
    pid: u32,
    required: &[&str],
) -> Result<AttachedProbes, Error> {
    let mut occurrences: HashMap<(&Path, u64, &str), u32> = HashMap::new();
    attach_each(ebpf, plan, pid, required, |ebpf, site, probes| {
        let Some(offset) = offsets.offset(site)? else {
            return Ok(false);
        };
        let occurrence = occurrences
            .entry((&site.object, offset, site.program))
            .or_default();
        let point = ProbePoint {
            object: site.object.clone(),
            offset,
            is_return: site.program == RETURN_PROGRAM,
            occurrence: *occurrence,
        };
        *occurrence += 1;
        probes
            .events
            .push(attach_shared_site(ebpf, shared, site, &point, pid)?);
        Ok(true)
    })
}

fn attach_shared_site(
    ebpf: &mut Ebpf,
    shared: &mut SharedUprobes,
    site: &ProbeSite,
    point: &ProbePoint,
    pid: u32,
) -> Result<OwnedFd, Error> {
    let program = uprobe(ebpf, site.program)?
        .fd()
        .map_err(|source| Error::Program {
            program: site.program,
            action: "attach",
            source,
        })?;
    let program = EventProgram {
        name: site.program,
        fd: program.as_fd(),
        cookie: site.attach_cookie(),
    };
    shared
        .attach(point, &program, pid)
        .map_err(|source| Error::SharedProbe {
            program: site.program,
            object: site.object.display().to_string(),
            source,
        })
}

/// The file offsets of the plan's symbols, looked up once.
#[derive(Debug, Default)]
struct SymbolOffsets(HashMap<(PathBuf, &'static str), Option<u64>>);

impl SymbolOffsets {
    /// Where `site` goes in its file; None when its symbol is missing.
    fn offset(&mut self, site: &ProbeSite) -> Result<Option<u64>, Error> {
        let symbol = match site.location {
            Location::FileOffset(offset) => return Ok(Some(offset)),
            Location::Symbol(symbol) => symbol,
        };
        let key = (site.object.clone(), symbol);
        if let Some(offset) = self.0.get(&key) {
            return Ok(*offset);
        }
        let offset =
            function_file_offset(&site.object, symbol).map_err(|source| Error::SharedProbe {
                program: site.program,
                object: site.object.display().to_string(),
                source,
            })?;
        self.0.insert(key, offset);
        Ok(offset)
    }
}

/// Attaches one site; None when its symbol does not exist.
fn attach_site(
    ebpf: &mut Ebpf,
    site: &ProbeSite,
    scope: UProbeScope,
) -> Result<Option<UProbeLinkId>, Error> {
    let location = match site.location {
        Location::Symbol(symbol) => UProbeAttachLocation::Symbol(symbol),
        Location::FileOffset(offset) => UProbeAttachLocation::AbsoluteOffset(offset),
    };
    let point = UProbeAttachPoint {
        location,
        cookie: Some(site.attach_cookie()).filter(|&cookie| cookie != 0),
    };
    match uprobe(ebpf, site.program)?.attach(point, &site.object, scope) {
        Ok(link) => Ok(Some(link)),
        Err(ProgramError::UProbeError(UProbeError::SymbolError { .. })) => Ok(None),
        Err(source) => Err(Error::Program {
            program: site.program,
            action: "attach",
            source,
        }),
    }
}

/// Detaches every probe, newest first (entries before returns before frees).
/// A shared event is closed at once; an aya link waits for a kernel grace
/// period after removing its breakpoint (about 85 ms here), and the kernel
/// serializes them.
pub fn detach(ebpf: &mut Ebpf, probes: AttachedProbes) {
    // Closing a shared event's perf event or a link is all it takes.
    for link in probes.multi_links.into_iter().rev() {
        drop(link);
    }
    for event in probes.events.into_iter().rev() {
        drop(event);
    }
    for (program, link) in probes.links.into_iter().rev() {
        let detached = uprobe(ebpf, program).and_then(|probe| {
            probe.detach(link).map_err(|source| Error::Program {
                program,
                action: "detach",
                source,
            })
        });
        if let Err(error) = detached {
            log::warn!("{error}");
        }
    }
}

/// A plan and, while they are attached, its probes: attached once in
/// precise mode, for each burst in growth mode.
#[derive(Default)]
pub struct ProbeSet {
    /// The sites attached one by one.
    plan: Vec<ProbeSite>,
    /// The sites `uprobe_multi` links serve (pymalloc's inlined places).
    multi_plan: Vec<ProbeSite>,
    required: &'static [&'static str],
    attached: Option<AttachedProbes>,
    /// Symbols the last attach did not find.
    missing: Vec<&'static str>,
    /// The shared uprobe events, from the first attach on; None until
    /// then, or where tracefs cannot define them.
    shared: Option<SharedUprobes>,
    shared_tried: bool,
    /// The programs of `uprobe_multi` links, from the first attach of a
    /// plan that has inlined sites on; None until then, or where they
    /// cannot be loaded (their sites are then left out).
    multi: Option<MultiPrograms>,
    multi_tried: bool,
    offsets: SymbolOffsets,
}

impl std::fmt::Debug for ProbeSet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProbeSet")
            .field("plan", &self.plan)
            .field("multi_plan", &self.multi_plan)
            .field("attached", &self.attached.is_some())
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl ProbeSet {
    /// `required` names symbols whose absence makes attaching fail.
    pub fn new(plan: Vec<ProbeSite>, required: &'static [&'static str]) -> Self {
        let (multi_plan, plan) = plan
            .into_iter()
            .partition(|site| MULTI_PROGRAMS.contains(&site.program));
        ProbeSet {
            plan,
            multi_plan,
            required,
            ..ProbeSet::default()
        }
    }

    /// Attaches the plan for process `pid`, unless it is attached.
    pub fn attach(&mut self, ebpf: &mut Ebpf, pid: u32) -> Result<(), Error> {
        if self.attached.is_some() {
            return Ok(());
        }
        if !self.shared_tried && !self.plan.is_empty() {
            self.shared_tried = true;
            self.shared = SharedUprobes::new();
            if self.shared.is_none() {
                log::info!("tracefs cannot define uprobes here: each detach waits a grace period");
            }
        }
        if !self.multi_tried && !self.multi_plan.is_empty() {
            self.multi_tried = true;
            match MultiPrograms::load(ebpf, object_bytes(), &MULTI_PROGRAMS) {
                Ok(programs) => self.multi = Some(programs),
                Err(error) => log::warn!(
                    "uprobe_multi links are not available ({error}): pymalloc's inlined places are not probed"
                ),
            }
        }
        let mut probes = match self.shared.as_mut() {
            Some(shared) => attach_shared(
                ebpf,
                shared,
                &mut self.offsets,
                &self.plan,
                pid,
                self.required,
            )?,
            None => attach(ebpf, &self.plan, pid, self.required)?,
        };
        // Without the links the inlined places are left out: one by one,
        // each would cost a kernel grace period when detached.
        if let Some(programs) = &self.multi {
            match attach_sites(programs, &self.multi_plan, pid) {
                Ok(links) => probes.multi_links = links,
                Err(error) => {
                    detach(ebpf, probes);
                    return Err(error);
                }
            }
        }
        self.missing = probes.missing.clone();
        self.attached = Some(probes);
        Ok(())
    }

    pub fn detach(&mut self, ebpf: &mut Ebpf) {
        if let Some(probes) = self.attached.take() {
            detach(ebpf, probes);
        }
    }

    pub fn is_attached(&self) -> bool {
        self.attached.is_some()
    }

    pub fn missing(&self) -> &[&'static str] {
        &self.missing
    }

    /// The inlined places left unprobed because the `uprobe_multi` links
    /// could not be loaded; 0 before the first attach.
    pub fn multi_sites_left_out(&self) -> usize {
        if self.multi_tried && self.multi.is_none() {
            self.multi_plan.len()
        } else {
            0
        }
    }
}
