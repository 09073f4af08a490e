//! Following the CPython runtime of a target during a trace: finding it
//! once it is mapped and initialized, telling the kernel's frame walker how
//! to read it, probing its allocator table, and keeping the thread map
//! current.

use aya::Ebpf;
use profiler_common::PythonOffsets;

use crate::config::ProbeOptions;
use crate::error::Error;
use crate::probes::allocator_probes::ProbeSet;
use crate::probes::inlined_plan::{InlinedProbes, plan_inlined};
use crate::probes::kernel_maps;
use crate::probes::python_allocator_plan::python_plan;
use crate::process::maps::MemoryMap;
use crate::python::allocator_kind::{AllocatorKind, classify};
use crate::python::allocator_table::{Domain, DomainTable, Operation, read_domain};
use crate::python::runtime::{PythonRuntime, discover};
use crate::python::thread_map::ThreadMap;
use crate::symbolize::Symbolizer;

/// Native frames kept above the Python frames: the allocator's caller (a C
/// extension, libffi, the interpreter). Beyond it the interpreters at hand,
/// built without frame pointers, give garbage.
const NATIVE_FRAMES_ABOVE_PYTHON: u32 = 1;

/// A runtime whose frames the kernel walks and whose allocator is probed.
pub struct ActivePython {
    pub runtime: PythonRuntime,
    /// None when the allocator table could not be read.
    pub allocator: Option<AllocatorKind>,
    /// The build inlines pymalloc's free behind guards: some frees reach
    /// no probe, and must be found in memory.
    pub inlines_frees: bool,
    /// pymalloc's inlined copies are planned for probing (not with
    /// `--no-inlined-pymalloc`).
    inlined_planned: bool,
    /// What the plan says of pymalloc's inlined copies, if the build has
    /// any.
    inlined_plan_note: Option<String>,
    threads: ThreadMap,
    probes: ProbeSet,
}

impl ActivePython {
    /// pymalloc's inlined copies are probed: planned, and not left out by
    /// a kernel that could not load `uprobe_multi` links.
    pub fn inlined_probed(&self) -> bool {
        self.inlined_planned && self.probes.multi_sites_left_out() == 0
    }

    /// What the report says of pymalloc's inlined copies, as attaching
    /// left them.
    pub fn inlined_note(&self) -> Option<String> {
        note_after_attach(
            self.inlined_plan_note.as_deref(),
            self.probes.multi_sites_left_out(),
        )
    }
}

/// The plan's note on the inlined copies, unless `left_out` of their
/// places could not be probed.
fn note_after_attach(plan_note: Option<&str>, left_out: usize) -> Option<String> {
    if left_out == 0 {
        return plan_note.map(str::to_string);
    }
    Some(format!(
        "pymalloc is inlined by this build (LTO), and this kernel could not load the uprobe_multi links that probe those places: {left_out} inlined places are not probed, so small objects allocated there are not seen"
    ))
}

/// Where the search for the runtime stands.
#[derive(Default)]
pub enum PythonTracking {
    /// Not found yet; binaries already seen without `_PyRuntime` are skipped.
    #[default]
    Searching,
    /// Found, waiting for Py_Initialize to create the main interpreter.
    Found(Box<PythonRuntime>),
    Active(Box<ActivePython>),
}

impl PythonTracking {
    /// Moves the search on: called often, cheap when nothing changes.
    /// Probes the interpreter's allocator on activation when
    /// `attach_probes` (precise mode), placed as `probes` says; growth mode
    /// attaches them per burst.
    pub fn poll(
        &mut self,
        ebpf: &mut Ebpf,
        pid: u32,
        maps: &[MemoryMap],
        depth_limit: u32,
        attach_probes: bool,
        probes: ProbeOptions,
    ) -> Result<(), Error> {
        if let PythonTracking::Searching = self {
            match discover(pid, maps) {
                Ok(Some(runtime)) => *self = PythonTracking::Found(Box::new(runtime)),
                Ok(None) => return Ok(()),
                Err(error) => {
                    log::debug!("no Python runtime yet in {pid}: {error}");
                    return Ok(());
                }
            }
        }
        if let PythonTracking::Found(runtime) = self {
            if !runtime.is_initialized() {
                return Ok(());
            }
            let PythonTracking::Found(runtime) = std::mem::take(self) else {
                unreachable!("matched above")
            };
            let mut active = activate(ebpf, *runtime, maps, depth_limit, probes)?;
            if attach_probes {
                active.probes.attach(ebpf, active.runtime.pid)?;
            }
            *self = PythonTracking::Active(Box::new(active));
        }
        if let PythonTracking::Active(active) = self
            && kernel_maps::take_unknown_threads(ebpf)?
        {
            active.rescan_threads(ebpf)?;
        }
        Ok(())
    }

    /// The active runtime, if any.
    pub fn active(&self) -> Option<&ActivePython> {
        match self {
            PythonTracking::Active(active) => Some(active),
            _ => None,
        }
    }

    /// Rescans the threads, dropping those that ended.
    pub fn refresh_threads(&mut self, ebpf: &mut Ebpf) -> Result<(), Error> {
        match self {
            PythonTracking::Active(active) => active.rescan_threads(ebpf),
            _ => Ok(()),
        }
    }

    /// Attaches the interpreter's allocator probes, if it is active.
    pub fn attach_probes(&mut self, ebpf: &mut Ebpf) -> Result<(), Error> {
        match self {
            PythonTracking::Active(active) => active.probes.attach(ebpf, active.runtime.pid),
            _ => Ok(()),
        }
    }

    /// Detaches the interpreter's probes, keeping what was learnt of the
    /// runtime for the report.
    pub fn detach_probes(&mut self, ebpf: &mut Ebpf) {
        if let PythonTracking::Active(active) = self {
            active.probes.detach(ebpf);
        }
    }

    /// Detaches the interpreter's probes and forgets the runtime.
    pub fn reset(&mut self, ebpf: &mut Ebpf) -> Result<(), Error> {
        if let PythonTracking::Active(mut active) = std::mem::take(self) {
            active.probes.detach(ebpf);
        }
        kernel_maps::set_python_offsets(ebpf, &PythonOffsets::DISABLED)?;
        kernel_maps::replace_thread_states(ebpf, &Default::default())
    }
}

impl ActivePython {
    fn rescan_threads(&mut self, ebpf: &mut Ebpf) -> Result<(), Error> {
        match self.threads.scan(&self.runtime) {
            Ok(threads) => kernel_maps::replace_thread_states(ebpf, &threads),
            Err(error) => {
                log::debug!("thread rescan failed: {error}");
                Ok(())
            }
        }
    }
}

/// Seeds the thread map, turns the frame walker on, and plans the probes on
/// allocator table.
fn activate(
    ebpf: &mut Ebpf,
    runtime: PythonRuntime,
    maps: &[MemoryMap],
    depth_limit: u32,
    probes: ProbeOptions,
) -> Result<ActivePython, Error> {
    let mut threads = ThreadMap::default();
    let known = threads.scan(&runtime).unwrap_or_default();
    kernel_maps::replace_thread_states(ebpf, &known)?;
    let mut offsets = runtime.layout.walker;
    offsets.enabled = 1;
    offsets.depth_limit = depth_limit;
    offsets.native_depth_limit = NATIVE_FRAMES_ABOVE_PYTHON;
    offsets.finalizing_address = runtime.runtime_address + runtime.layout.runtime_finalizing;
    kernel_maps::set_python_offsets(ebpf, &offsets)?;

    let memory = runtime.memory();
    let tables = [Domain::Object, Domain::Mem, Domain::Raw]
        .map(|domain| read_domain(&memory, &runtime.binary, domain));
    let (allocator, inlines_frees, (inlined_planned, inlined_plan_note), probes) = match tables {
        [Ok(object), Ok(mem), Ok(raw)] => {
            let inlines_frees = [&object, &mem]
                .iter()
                .any(|table| table.guarded_wrappers.contains_key(&Operation::Free));
            let malloc_name = object
                .functions
                .get(&Operation::Malloc)
                .and_then(|&address| {
                    let frames = Symbolizer::new().symbolize(runtime.pid, maps, address, false);
                    frames.into_iter().next().map(|frame| frame.function)
                });
            let allocator = Some(classify(&object, &raw, malloc_name.as_deref()));
            let inlined = if probes.inlined_pymalloc {
                plan_inlined(runtime.pid, maps, &object, &[&object, &mem])
            } else {
                InlinedProbes::default()
            };
            kernel_maps::set_inlined_sites(ebpf, &inlined.descriptions)?;
            let probed = !inlined.descriptions.is_empty();
            let note = inlined_note(&object, &inlined, probes.inlined_pymalloc);
            let plan = python_plan(runtime.pid, maps, &[&object, &mem], &inlined, probes);
            (
                allocator,
                inlines_frees,
                (probed, note),
                ProbeSet::new(plan, &[]),
            )
        }
        [object, mem, raw] => {
            let error = [object, mem, raw].into_iter().find_map(Result::err);
            log::warn!(
                "the interpreter's allocator is not probed, only libc's: {}",
                error.map_or_else(String::new, |error| error.to_string())
            );
            (None, false, (false, None), ProbeSet::default())
        }
    };
    log::info!(
        "Python {} found in {}, allocator {}, {} threads",
        runtime.version(),
        runtime.binary.mapped_path,
        allocator
            .as_ref()
            .map_or("unknown".to_string(), ToString::to_string),
        known.len()
    );
    Ok(ActivePython {
        runtime,
        allocator,
        inlines_frees,
        inlined_planned,
        inlined_plan_note,
        threads,
        probes,
    })
}

/// The report's note on pymalloc's inlined copies: how many are probed,
/// or, with `--no-inlined-pymalloc`, that the build has some.
fn inlined_note(object: &DomainTable, inlined: &InlinedProbes, asked: bool) -> Option<String> {
    if asked {
        let probed = inlined.guards.len() + inlined.frees.len();
        return (probed + inlined.not_understood > 0).then(|| {
            format!(
                "pymalloc is inlined by this build (LTO): {} inlined allocations and {} inlined frees are probed, {} places leakspy cannot read are not",
                inlined.guards.len(),
                inlined.frees.len(),
                inlined.not_understood
            )
        });
    }
    let runs_inlined = Operation::ALL
        .into_iter()
        .any(|operation| object.runs_inlined(operation).is_some());
    runs_inlined.then(|| {
        "pymalloc is inlined by this build (LTO), and --no-inlined-pymalloc leaves those places unprobed: small objects allocated there are not seen".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::note_after_attach;

    #[test]
    fn the_note_says_when_the_inlined_places_could_not_be_probed() {
        let planned = "pymalloc is inlined by this build (LTO): 3 inlined allocations are probed";
        assert_eq!(
            note_after_attach(Some(planned), 0).as_deref(),
            Some(planned)
        );
        assert_eq!(note_after_attach(None, 0), None);
        let left_out = note_after_attach(Some(planned), 29).unwrap();
        assert!(
            left_out.contains("29 inlined places are not probed"),
            "{left_out}"
        );
        assert!(!left_out.contains("are probed"), "{left_out}");
    }
}
