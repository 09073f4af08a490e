//! Attaches precise mode's probes to the allocator of one process, and
//! detaches them.
//!
//! The order matters: `free` first, then the return probes, then the entry
//! probes. A free attached late would miss frees of blocks already
//! recorded, and an entry probe without its return probe would leave a call
//! in flight that never ends.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use aya::{
    Ebpf,
    programs::{
        ProgramError,
        uprobe::{UProbeError, UProbeLinkId, UProbeScope},
    },
};
use profiler_common::AllocatorFunction;

use crate::{error::Error, probes::loader::uprobe};

const RETURN_PROGRAM: &str = "allocator_return";
const FREE_PROGRAM: &str = "free_enter";

/// The probes attached to one allocator object in one process.
#[derive(Debug)]
pub struct AllocatorProbes {
    /// The file the probes sit in (libc, or a static executable).
    pub object: PathBuf,
    /// Allocator functions the object does not export (older libcs lack
    /// reallocarray, for example).
    pub missing: Vec<&'static str>,
    links: Vec<(&'static str, UProbeLinkId)>,
}

/// The entry program of each allocating function.
fn entry_program(function: AllocatorFunction) -> &'static str {
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

/// Attaches every allocator probe to `object` for process `pid` only.
pub fn attach(ebpf: &mut Ebpf, object: &Path, pid: u32) -> Result<AllocatorProbes, Error> {
    let mut probes = AllocatorProbes {
        object: object.to_path_buf(),
        missing: Vec::new(),
        links: Vec::new(),
    };
    let outcome = attach_all(ebpf, &mut probes, pid);
    if let Err(error) = outcome {
        detach(ebpf, probes);
        return Err(error);
    }
    Ok(probes)
}

fn attach_all(ebpf: &mut Ebpf, probes: &mut AllocatorProbes, pid: u32) -> Result<(), Error> {
    let scope = UProbeScope::OneProcess(NonZeroU32::new(pid).expect("a PID is never 0"));
    let object = probes.object.clone();
    if !attach_one(ebpf, probes, FREE_PROGRAM, "free", &object, scope)? {
        return Err(no_symbol(pid, &object, "free"));
    }
    let mut present = Vec::new();
    for function in AllocatorFunction::ALL {
        let symbol = function.symbol();
        if attach_one(ebpf, probes, RETURN_PROGRAM, symbol, &object, scope)? {
            present.push(function);
        } else if function == AllocatorFunction::Malloc {
            return Err(no_symbol(pid, &object, symbol));
        } else {
            probes.missing.push(symbol);
        }
    }
    for function in present {
        attach_one(
            ebpf,
            probes,
            entry_program(function),
            function.symbol(),
            &object,
            scope,
        )?;
    }
    Ok(())
}

/// Attaches `program` at `symbol`. Returns false when the object does not
/// define the symbol.
fn attach_one(
    ebpf: &mut Ebpf,
    probes: &mut AllocatorProbes,
    program: &'static str,
    symbol: &str,
    object: &Path,
    scope: UProbeScope,
) -> Result<bool, Error> {
    match uprobe(ebpf, program)?.attach(symbol, object, scope) {
        Ok(link) => {
            probes.links.push((program, link));
            Ok(true)
        }
        Err(ProgramError::UProbeError(UProbeError::SymbolError { .. })) => Ok(false),
        Err(source) => Err(Error::Program {
            program,
            action: "attach",
            source,
        }),
    }
}

fn no_symbol(pid: u32, object: &Path, symbol: &str) -> Error {
    Error::NoAllocator {
        pid,
        reason: format!("{} does not define {symbol}", object.display()),
    }
}

/// Detaches every probe, newest first (entries before returns before free).
pub fn detach(ebpf: &mut Ebpf, probes: AllocatorProbes) {
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
