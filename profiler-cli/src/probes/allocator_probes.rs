//! Attaches precise mode's probes to the allocators of one process, and
//! detaches them.
//!
//! A plan lists probe sites in the order they must be attached: frees
//! first, then the return probes, then the entry probes. A free attached
//! late would miss frees of blocks already recorded, and an entry probe
//! without its return probe would leave a call in flight that never ends.

use std::num::NonZeroU32;
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
use crate::probes::plan_finish::finish_plan;
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
}

/// The probes attached to one process.
#[derive(Debug, Default)]
pub struct AttachedProbes {
    /// Symbols the objects do not export (older libcs lack reallocarray).
    pub missing: Vec<&'static str>,
    links: Vec<(&'static str, UProbeLinkId)>,
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
    let mut probes = AttachedProbes::default();
    for site in plan {
        match attach_site(ebpf, site, scope) {
            Ok(Some(link)) => probes.links.push((site.program, link)),
            Ok(None) => {
                let Location::Symbol(symbol) = site.location else {
                    unreachable!("only symbols can be missing")
                };
                if required.contains(&symbol) {
                    detach(ebpf, probes);
                    return Err(Error::NoAllocator {
                        pid,
                        reason: format!("{} does not define {symbol}", site.object.display()),
                    });
                }
                if !probes.missing.contains(&symbol) {
                    probes.missing.push(symbol);
                }
            }
            Err(error) => {
                detach(ebpf, probes);
                return Err(error);
            }
        }
    }
    Ok(probes)
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
        cookie: site.single_stepped.then_some(SINGLE_STEPPED_COOKIE),
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
/// Each detach waits for a kernel grace period after removing its
/// breakpoint (about 85 ms here), and the kernel serializes them.
pub fn detach(ebpf: &mut Ebpf, probes: AttachedProbes) {
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
#[derive(Debug, Default)]
pub struct ProbeSet {
    plan: Vec<ProbeSite>,
    required: &'static [&'static str],
    attached: Option<AttachedProbes>,
    /// Symbols the last attach did not find.
    missing: Vec<&'static str>,
}

impl ProbeSet {
    /// `required` names symbols whose absence makes attaching fail.
    pub fn new(plan: Vec<ProbeSite>, required: &'static [&'static str]) -> Self {
        ProbeSet {
            plan,
            required,
            attached: None,
            missing: Vec::new(),
        }
    }

    /// Attaches the plan for process `pid`, unless it is attached.
    pub fn attach(&mut self, ebpf: &mut Ebpf, pid: u32) -> Result<(), Error> {
        if self.attached.is_none() {
            let probes = attach(ebpf, &self.plan, pid, self.required)?;
            self.missing = probes.missing.clone();
            self.attached = Some(probes);
        }
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
}
