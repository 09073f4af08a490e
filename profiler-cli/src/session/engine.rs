//! The trace loop. It attaches the probes to the target (precise mode: the
//! allocator probes, for good; growth mode: the tracepoints, and the
//! allocator probes in bursts), closes a window every `window` seconds,
//! and on the end (deadline, Ctrl-C, SIGTERM or the target's exit) takes
//! the last window, detaches every probe and builds the report.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aya::Ebpf;
use nix::sys::signal::Signal;
use profiler_common::ActivityCounter;

use crate::config::{TargetSpec, TraceConfig};
use crate::error::Error;
use crate::probes::allocator_probes::{ProbeSet, libc_plan};
use crate::probes::{count_only, growth_maps, kernel_maps, loader, program_run_time};
use crate::process::block_liveness::HeapLayout;
use crate::process::{allocator_object, maps, status};
use crate::python::allocator_kind::AllocatorKind;
use crate::python::pymalloc_evidence::{self, PoolLayout};
use crate::report::{Mode, Report, Target, Window};
use crate::session::freed_blocks::{FreedBlocks, SweepScope};
use crate::session::growth_mode::{self, GrowthMode};
use crate::session::growth_totals;
use crate::session::live_ages::{self, TraceClock};
use crate::session::progress::Step;
use crate::session::python_tracking::{ActivePython, PythonTracking};
use crate::session::report_builder::{TraceFacts, build_report};
use crate::session::signals::{Signals, Wakeup};
use crate::session::spawned_child::{ChildStop, Resume, SpawnedChild};
use crate::session::stack_symbols::StackSymbols;
use crate::session::windows::WindowRecorder;
use crate::{preflight, report};

/// The longest the loop sleeps: it also polls the target's liveness.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// System-call stops a starting Python target is held to at most, waiting
/// for its interpreter to initialize (CPython's start-up makes a few
/// thousand system calls).
const MAX_STARTUP_SYSCALL_STOPS: u64 = 200_000;
/// Time spent naming new stacks per pass of the loop.
const SYMBOLIZE_BUDGET: Duration = Duration::from_millis(200);

/// Why the trace ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    DurationReached,
    Interrupted(Signal),
    /// The target exited, with its exit code when leakspy started it.
    TargetExited(Option<i32>),
}

/// A finished trace.
#[derive(Debug)]
pub struct TraceOutcome {
    pub report: Report,
    pub end: EndReason,
}

/// The figures of one closed window, for progress lines.
#[derive(Clone, Copy, Debug)]
pub struct WindowSummary {
    pub index: usize,
    pub end_seconds: f64,
    pub live_bytes: u64,
    pub stacks: usize,
    pub rss_bytes: u64,
}

/// Told about every closed window, for live output.
pub trait WindowObserver {
    /// Whether `window_closed` wants the full provisional report.
    fn wants_report(&self) -> bool {
        false
    }
    /// Whether a spinner on stderr may show slow steps; not while a view
    /// owns the screen.
    fn wants_progress(&self) -> bool {
        true
    }
    /// The probes are attached (or the command is started) and tracing runs.
    fn tracing_started(&mut self, pid: u32, command: &str) {
        eprintln!("leakspy: tracing process {pid} ({command}); Ctrl-C to stop");
    }
    fn window_closed(&mut self, summary: &WindowSummary, report: Option<&Report>);
}

/// Runs one trace to its end.
pub fn trace(
    config: &TraceConfig,
    observer: &mut dyn WindowObserver,
) -> Result<TraceOutcome, Error> {
    preflight::check_privileges()?;
    preflight::check_kernel()?;
    if let TargetSpec::Pid(pid) = config.target {
        preflight::check_process(pid)?;
    }
    let signals = Signals::block().map_err(Error::Ptrace)?;
    let mut session = Session::new(config, loader::load()?);
    let end = session.run(&signals, observer);
    let step = Step::start(
        "naming the last stacks and detaching",
        observer.wants_progress(),
    );
    session.detach();
    drop(step);
    let end = end?;
    Ok(TraceOutcome {
        report: session.report(),
        end,
    })
}

/// The state of one trace.
struct Session<'a> {
    config: &'a TraceConfig,
    ebpf: Ebpf,
    /// libc's allocator probes, once libc is mapped.
    libc: Option<ProbeSet>,
    /// The object libc's probes go on, for notes.
    libc_object: String,
    /// glibc's malloc serves the target, so its chunk headers are evidence.
    glibc_heap: bool,
    /// Growth mode's tracepoints and bursts, once the target is known.
    growth: Option<GrowthMode>,
    python: PythonTracking,
    freed_blocks: FreedBlocks,
    child: Option<SpawnedChild>,
    pid: u32,
    command: String,
    recorder: WindowRecorder,
    symbols: StackSymbols,
    latest_maps: Vec<maps::MemoryMap>,
    notes: Vec<String>,
    started: Instant,
    started_at_unix_ms: u64,
    window_started: Instant,
    /// The target's exit stop closed the last window already.
    final_window_taken: bool,
    /// System-call stops of the started command since its last exec.
    syscall_stops: u64,
}

impl<'a> Session<'a> {
    fn new(config: &'a TraceConfig, ebpf: Ebpf) -> Self {
        let now = Instant::now();
        Session {
            config,
            ebpf,
            libc: None,
            libc_object: String::new(),
            glibc_heap: false,
            growth: None,
            python: PythonTracking::default(),
            freed_blocks: FreedBlocks::default(),
            child: None,
            pid: 0,
            command: String::new(),
            recorder: WindowRecorder::default(),
            symbols: StackSymbols::default(),
            latest_maps: Vec::new(),
            notes: Vec::new(),
            started: now,
            started_at_unix_ms: unix_ms(),
            window_started: now,
            final_window_taken: false,
            syscall_stops: 0,
        }
    }

    fn run(
        &mut self,
        signals: &Signals,
        observer: &mut dyn WindowObserver,
    ) -> Result<EndReason, Error> {
        let step = Step::start("attaching", observer.wants_progress());
        self.start_target(observer)?;
        self.poll_python()?;
        drop(step);
        observer.tracing_started(self.pid, &self.command);
        self.started = Instant::now();
        self.started_at_unix_ms = unix_ms();
        self.window_started = self.started;
        let deadline = self.config.duration.map(|duration| self.started + duration);
        loop {
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return Ok(EndReason::DurationReached);
            }
            // After the exit stop took the last window, the target's memory
            // goes away before its exit is reported: no window reads it.
            if now >= self.window_started + self.config.window && !self.final_window_taken {
                self.close_window(now, observer)?;
            }
            // Nor does a burst attach to a target past its exit stop.
            if self.growth.as_ref().is_some_and(|g| g.schedule.due(now))
                && !self.final_window_taken
                && let Some(signal) = self.burst(signals)?
            {
                return Ok(EndReason::Interrupted(signal));
            }
            let next_burst = self.growth.as_ref().and_then(|g| g.schedule.next_start());
            let next_event = [
                Some(self.window_started + self.config.window),
                deadline,
                next_burst,
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("the window end is always set");
            let sleep = next_event
                .saturating_duration_since(Instant::now())
                .min(POLL_INTERVAL);
            if let Wakeup::Stop(signal) = signals.wait(sleep) {
                return Ok(EndReason::Interrupted(signal));
            }
            if let Some(end) = self.follow_target(observer)? {
                return Ok(end);
            }
            self.poll_python()?;
            self.symbolize(Some(SYMBOLIZE_BUDGET))?;
        }
    }

    /// Names queued stacks, within `budget` (None: all), while the target's
    /// memory map and code objects can still be read.
    fn symbolize(&mut self, budget: Option<Duration>) -> Result<(), Error> {
        if let Ok(maps) = maps::read_maps(self.pid) {
            self.latest_maps = maps;
        }
        self.symbols.symbolize_pending(
            &self.ebpf,
            self.pid,
            &self.latest_maps,
            self.python.active(),
            budget,
        )
    }

    /// Growth mode: attaches the allocator probes for one burst, then
    /// detaches them. Returns the signal that cut the burst short, if any.
    fn burst(&mut self, signals: &Signals) -> Result<Option<Signal>, Error> {
        let Some(length) = self.growth.as_ref().map(|g| g.schedule.length()) else {
            return Ok(None);
        };
        let hits = |ebpf: &Ebpf| growth_maps::activity(ebpf).map(|activity| activity.probe_hits());
        let hits_before = hits(&self.ebpf)?;
        let started = Instant::now();
        let attached = self.attach_probe_sets();
        let attach_time = started.elapsed();
        let wakeup = match attached {
            Ok(()) => signals.wait(length),
            Err(_) => Wakeup::Timeout,
        };
        let detach_started = Instant::now();
        self.detach_probe_sets();
        let detach_time = detach_started.elapsed();
        kernel_maps::clear_pending_calls(&mut self.ebpf)?;
        log::debug!(
            "burst detached in {detach_time:?}, pending calls cleared in {:?}",
            detach_started.elapsed() - detach_time
        );
        match attached {
            // The target is gone or exiting: the loop sees its end next.
            Err(_) if status::is_ending(self.pid) => return Ok(None),
            result => result?,
        }
        let probed = started.elapsed();
        let hits = hits(&self.ebpf)?.since(hits_before);
        log::debug!(
            "burst of {length:?} planned took {probed:?} ({:?} to attach), {hits}",
            attach_time
        );
        if let Some(growth) = self.growth.as_mut() {
            let growing = growth.growing();
            growth
                .schedule
                .finished(Instant::now(), probed, hits, growing);
        }
        Ok(match wakeup {
            Wakeup::Stop(signal) => Some(signal),
            _ => None,
        })
    }

    /// Attaches the interpreter's and libc's allocator probes: frees of
    /// either before allocations of either matter less than each plan's
    /// own order, which `ProbeSet` keeps.
    fn attach_probe_sets(&mut self) -> Result<(), Error> {
        self.python.attach_probes(&mut self.ebpf)?;
        if let Some(libc) = self.libc.as_mut() {
            libc.attach(&mut self.ebpf, self.pid)?;
        }
        Ok(())
    }

    /// Detaches the interpreter's probes first: in a Python process they
    /// are the ones hit most.
    fn detach_probe_sets(&mut self) {
        self.python.detach_probes(&mut self.ebpf);
        if let Some(libc) = self.libc.as_mut() {
            libc.detach(&mut self.ebpf);
        }
    }

    /// Finds the target's Python runtime and keeps its thread map current;
    /// nothing to do before libc is mapped.
    fn poll_python(&mut self) -> Result<(), Error> {
        if self.libc.is_none() {
            return Ok(());
        }
        let Ok(maps) = maps::read_maps(self.pid) else {
            return Ok(());
        };
        let attach_now = self.config.mode == Mode::Precise;
        self.python.poll(
            &mut self.ebpf,
            self.pid,
            &maps,
            self.config.python_depth,
            attach_now,
            self.config.probes,
        )
    }

    /// Growth mode: points the tracepoints at the target.
    fn start_growth(&mut self) -> Result<(), Error> {
        if self.config.mode != Mode::Growth || self.growth.is_some() {
            return Ok(());
        }
        let maps = self.read_maps()?;
        self.growth = Some(GrowthMode::start(
            &mut self.ebpf,
            self.pid,
            &maps,
            self.config.growth,
        )?);
        Ok(())
    }

    /// Attaches to the process, or starts the command stopped at its exec.
    fn start_target(&mut self, observer: &mut dyn WindowObserver) -> Result<(), Error> {
        match &self.config.target {
            TargetSpec::Pid(pid) => {
                self.pid = *pid;
                self.command = status::command_line(*pid).unwrap_or_default();
                self.start_growth()?;
                if !self.attach_allocator()? {
                    return Err(Error::NoAllocator {
                        pid: *pid,
                        reason: "it maps no glibc and does not define malloc itself".into(),
                    });
                }
                if !status::is_running(*pid) {
                    return Err(Error::ExitedDuringAttach(*pid));
                }
                Ok(())
            }
            TargetSpec::Command(argv) => {
                let child = SpawnedChild::start(argv)?;
                self.pid = child.pid();
                self.child = Some(child);
                self.start_growth()?;
                self.handle_child_stop(ChildStop::Exec, observer)
                    .map(|_| ())
            }
        }
    }

    /// Plans the allocator probes once the allocator is mapped, and in
    /// precise mode attaches them. Returns whether it is mapped.
    fn attach_allocator(&mut self) -> Result<bool, Error> {
        if self.libc.is_some() {
            return Ok(true);
        }
        let maps = self.read_maps()?;
        let object = allocator_object::mapped_libc(self.pid, &maps)
            .or_else(|| allocator_object::static_executable(self.pid));
        let Some(object) = object else {
            return Ok(false);
        };
        let mut libc = ProbeSet::new(libc_plan(&object, self.config.probes), &["malloc", "free"]);
        if self.config.mode == Mode::Precise {
            libc.attach(&mut self.ebpf, self.pid)?;
            log::info!(
                "probes attached to {} in process {}",
                object.display(),
                self.pid
            );
        }
        // Only growth mode's sweep reads sampled libc blocks' chunks.
        self.glibc_heap = self.config.mode == Mode::Growth
            && allocator_object::glibc_serves_malloc(self.pid, &maps);
        self.libc_object = object.display().to_string();
        self.libc = Some(libc);
        Ok(true)
    }

    fn read_maps(&self) -> Result<Vec<maps::MemoryMap>, Error> {
        maps::read_maps(self.pid).map_err(|error| {
            if status::is_running(self.pid) {
                Error::Proc {
                    pid: self.pid,
                    what: "the memory map",
                    source: std::io::Error::other(error.to_string()),
                }
            } else {
                Error::ExitedDuringAttach(self.pid)
            }
        })
    }

    /// Handles what the target did since the last look. Returns the end
    /// reason once it is gone.
    fn follow_target(
        &mut self,
        observer: &mut dyn WindowObserver,
    ) -> Result<Option<EndReason>, Error> {
        if self.child.is_none() {
            return Ok((!status::is_running(self.pid)).then_some(EndReason::TargetExited(None)));
        }
        loop {
            let stop = match self.child.as_mut() {
                Some(child) => child.next_stop(false)?,
                None => None,
            };
            let Some(stop) = stop else {
                return Ok(None);
            };
            if let Some(end) = self.handle_child_stop(stop, observer)? {
                return Ok(Some(end));
            }
        }
    }

    fn handle_child_stop(
        &mut self,
        stop: ChildStop,
        observer: &mut dyn WindowObserver,
    ) -> Result<Option<EndReason>, Error> {
        match stop {
            ChildStop::Gone(code) => return Ok(Some(EndReason::TargetExited(Some(code)))),
            ChildStop::Exec => self.restart_after_exec()?,
            ChildStop::Syscall => {
                self.attach_allocator()?;
                self.syscall_stops += 1;
                self.poll_python()?;
            }
            ChildStop::Exit => {
                // The last moment its memory can be read: take the window now.
                self.close_window(Instant::now(), observer)?;
                self.symbolize(None)?;
                self.final_window_taken = true;
            }
            ChildStop::Signal(_) => {}
        }
        let how = if self.libc.is_some() && !self.python_starting_up() {
            Resume::Freely
        } else {
            Resume::UntilSyscall
        };
        if let Some(child) = self.child.as_mut() {
            child.resume(how)?;
        }
        Ok(None)
    }

    /// True while a started Python target has not been activated yet: it
    /// then stops at each system call, so that the frame walker is on
    /// before the script's first line runs. Bounded, for programs that
    /// embed an interpreter they never start.
    fn python_starting_up(&self) -> bool {
        if self.syscall_stops >= MAX_STARTUP_SYSCALL_STOPS {
            return false;
        }
        match self.python {
            PythonTracking::Found(_) => true,
            PythonTracking::Searching => {
                let executable =
                    std::fs::read_link(format!("/proc/{}/exe", self.pid)).unwrap_or_default();
                executable
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("python"))
            }
            PythonTracking::Active(_) => false,
        }
    }

    /// The child replaced its program: its memory and stacks are gone, and
    /// the allocator it will use is not mapped yet.
    fn restart_after_exec(&mut self) -> Result<(), Error> {
        self.detach_probe_sets();
        self.libc = None;
        self.python.reset(&mut self.ebpf)?;
        kernel_maps::clear(&mut self.ebpf)?;
        if self.growth.is_some() {
            growth_maps::clear(&mut self.ebpf)?;
        }
        self.recorder.forget_stacks();
        self.symbols.clear();
        self.freed_blocks = FreedBlocks::default();
        self.syscall_stops = 0;
        self.notes.clear();
        self.command = status::command_line(self.pid).unwrap_or_default();
        // A static executable has its allocator already; others wait for
        // the dynamic loader to map libc.
        self.attach_allocator()?;
        Ok(())
    }

    fn close_window(
        &mut self,
        end: Instant,
        observer: &mut dyn WindowObserver,
    ) -> Result<(), Error> {
        self.python.refresh_threads(&mut self.ebpf)?;
        let length = end.saturating_duration_since(self.window_started);
        let layout = self.heap_layout();
        let figures = status::figures(self.pid).unwrap_or_default();
        let python = &self.python;
        let finalizing = || {
            python
                .active()
                .is_some_and(|active| active.runtime.is_finalizing())
        };
        let (totals, evidence, growth) = match self.growth.as_mut() {
            Some(growth) => {
                let window_growth =
                    growth.close_window(&self.ebpf, length, figures.anon_rss_bytes)?;
                // A finalizing interpreter frees what the program kept: the
                // report shows memory as the program left it.
                self.freed_blocks.sweep(
                    &mut self.ebpf,
                    self.pid,
                    SweepScope::Samples,
                    layout,
                    Some(&finalizing),
                )?;
                let (totals, evidence) = growth_totals::read(
                    &self.ebpf,
                    self.pid,
                    &self.freed_blocks,
                    &mut growth.chunk_headers,
                    &mut growth.recaptures,
                )?;
                (totals, Some(evidence), Some(window_growth))
            }
            None => {
                let active = self.python.active();
                let frees_hidden = active.is_some_and(|active| {
                    active.inlines_frees && active.allocator == Some(AllocatorKind::Pymalloc)
                });
                let inlined_probed = active.is_some_and(ActivePython::inlined_probed);
                // With pymalloc's inlined copies probed, the small objects
                // the program kept are recorded, and a tearing down
                // interpreter frees them: no sweep then, as in growth mode.
                // Without, those objects are not recorded, but some of the
                // churn's inlined frees are found only then (Debian's 3.9
                // asyncio churn): the sweep goes on.
                if frees_hidden {
                    self.freed_blocks.sweep(
                        &mut self.ebpf,
                        self.pid,
                        SweepScope::PymallocBlocks,
                        layout,
                        inlined_probed.then_some(&finalizing as &dyn Fn() -> bool),
                    )?;
                }
                let mut totals = kernel_maps::stack_counters(&self.ebpf)?;
                self.freed_blocks.credit(&mut totals);
                (totals, None, None)
            }
        };
        self.symbols.enqueue(totals.keys());
        if let Some(evidence) = &evidence {
            self.symbols.enqueue(evidence.fault_bytes.keys());
        }
        self.symbols.prioritize(|id| {
            let live = totals.get(&id).map_or(0, |counters| {
                counters.alloc_bytes.saturating_sub(counters.freed_bytes)
            });
            let touched = evidence
                .as_ref()
                .and_then(|evidence| evidence.fault_bytes.get(&id))
                .copied()
                .unwrap_or(0);
            live.max(touched)
        });
        let budget = (!observer.wants_report()).then_some(SYMBOLIZE_BUDGET);
        self.symbolize(budget)?;
        let gc = self
            .python
            .active()
            .and_then(|active| active.runtime.gc_counters())
            .and_then(|read| {
                read.inspect_err(|error| log::debug!("GC counters unreadable: {error}"))
                    .ok()
            });
        let window = Window {
            start: self.seconds_at(self.window_started),
            end: self.seconds_at(end),
            rss_bytes: figures.rss_bytes,
            anon_rss_bytes: figures.anon_rss_bytes,
            threads: figures.threads,
            gc,
            growth,
        };
        self.recorder
            .close_window(window, totals, evidence.as_ref());
        self.window_started = end;
        let summary = WindowSummary {
            index: self.recorder.windows().len(),
            end_seconds: self.seconds_at(end),
            live_bytes: self
                .recorder
                .stacks()
                .values()
                .map(|s| s.live_bytes())
                .sum(),
            stacks: self.recorder.stacks().len(),
            rss_bytes: figures.rss_bytes,
        };
        let report = observer.wants_report().then(|| self.report());
        observer.window_closed(&summary, report.as_ref());
        Ok(())
    }

    /// How the target's blocks are read: its interpreter's pymalloc pools
    /// (16 KiB when the version is unknown; headers asked under plain
    /// pymalloc only), and glibc's chunk headers when glibc serves it.
    fn heap_layout(&self) -> HeapLayout {
        let active = self.python.active();
        let minor = active.map_or(u8::MAX, |active| active.runtime.version().minor);
        HeapLayout {
            pools: PoolLayout {
                size: pymalloc_evidence::pool_size(minor),
                headers_apply: active
                    .is_some_and(|active| active.allocator == Some(AllocatorKind::Pymalloc)),
            },
            glibc_chunks: self.glibc_heap,
        }
    }

    fn seconds_at(&self, instant: Instant) -> f64 {
        instant
            .saturating_duration_since(self.started)
            .as_secs_f64()
    }

    /// Takes the last (partial) window, detaches every probe, and reads
    /// the age of the memory still live.
    fn detach(&mut self) {
        let now = Instant::now();
        let partial =
            now.saturating_duration_since(self.window_started) > Duration::from_millis(10);
        let last_window_due =
            !self.final_window_taken && (partial || self.recorder.windows().is_empty());
        if last_window_due && let Err(error) = self.close_window(now, &mut NoObserver) {
            log::warn!("the last window could not be read: {error}");
        }
        if let Err(error) = self.symbolize(None) {
            log::warn!("some stacks could not be named: {error}");
        }
        self.detach_probe_sets();
        if let Some(growth) = self.growth.as_mut() {
            growth.stop(&mut self.ebpf);
        }
        // The kernel's maps outlive the probes: read after detaching, so
        // the target does not wait on a long walk.
        self.take_age_profiles();
    }

    /// Gives each stack the age profile of its recorded blocks still alive.
    fn take_age_profiles(&mut self) {
        let clock = TraceClock::now_at(self.seconds_at(Instant::now()));
        match kernel_maps::live_allocation_map(&self.ebpf) {
            Ok(map) => {
                let live = map.iter().filter_map(Result::ok);
                let profiles =
                    live_ages::live_bytes_by_window(self.pid, live, self.recorder.windows(), clock);
                self.recorder.set_age_profiles(profiles);
            }
            Err(error) => log::warn!("the age of live memory could not be read: {error}"),
        }
    }

    fn report(&self) -> Report {
        let lost_events = kernel_maps::losses(&self.ebpf).unwrap_or_default();
        let python = self.python.active();
        let mut notes = Vec::new();
        match python {
            Some(active) => notes.push(format!(
                "Python {} in {}; native frames are unwound through frame pointers",
                active.runtime.version(),
                active.runtime.binary.mapped_path
            )),
            None => notes.push(
                "native stacks only: no Python runtime was found in the target; frames are unwound through frame pointers"
                    .to_string(),
            ),
        }
        notes.extend(python.and_then(ActivePython::inlined_note));
        notes.extend(self.notes.iter().cloned());
        if self.config.probes.count_only {
            let activity = growth_maps::activity(&self.ebpf).unwrap_or_default();
            notes.push(count_only::note(
                activity.get(ActivityCounter::AllocatorHits),
            ));
        }
        if let Some(libc) = self.libc.as_ref().filter(|libc| !libc.missing().is_empty()) {
            notes.push(format!(
                "{} does not export {}; those calls are not traced",
                self.libc_object,
                libc.missing().join(", ")
            ));
        }
        notes.extend(self.symbols.stack_quality_notes());
        let scope = match self.config.mode {
            Mode::Growth => SweepScope::Samples,
            Mode::Precise => SweepScope::PymallocBlocks,
        };
        notes.extend(self.freed_blocks.note(scope));
        let duration_seconds = self
            .recorder
            .windows()
            .last()
            .map_or(0.0, |window| window.end);
        let growth = self.growth.as_ref().map(|growth| {
            let activity = growth_maps::activity(&self.ebpf).unwrap_or_default();
            let elapsed = Duration::from_secs_f64(duration_seconds);
            growth.summary(&activity, elapsed, &self.freed_blocks)
        });
        notes.extend(growth.as_ref().map(growth_mode::describe));
        let ebpf_run_time = program_run_time::total(&self.ebpf);
        notes.extend(
            ebpf_run_time
                .as_ref()
                .map(|run_time| program_run_time::describe(run_time, duration_seconds)),
        );
        let facts = TraceFacts {
            mode: self.config.mode,
            target: Target {
                pid: self.pid,
                command: self.command.clone(),
                python_version: python.map(|active| active.runtime.version().to_string()),
                python_allocator: python
                    .and_then(|active| active.allocator.as_ref())
                    .map(ToString::to_string),
            },
            started_at_unix_ms: self.started_at_unix_ms,
            duration_seconds,
            window_seconds: self.config.window.as_secs_f64(),
            lost_events,
            notes,
            growth,
            ebpf_run_time,
        };
        build_report(facts, &self.recorder, &self.symbols)
    }
}

/// The observer for windows nobody watches live.
struct NoObserver;

impl WindowObserver for NoObserver {
    fn window_closed(&mut self, _: &WindowSummary, _: Option<&report::Report>) {}
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}
