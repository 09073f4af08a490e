//! The probe sites of CPython's allocator: the functions its object and
//! mem tables point to, placed in the files that hold them.

use std::collections::BTreeSet;

use crate::config::ProbeOptions;
use crate::probes::allocator_probes::{Location, ProbeSite, return_site};
use crate::probes::inlined_plan::InlinedProbes;
use crate::probes::plan_finish::finish_plan;
use crate::process::maps::{MemoryMap, mapped_file_path};
use crate::python::allocator_table::{DomainTable, Operation};

/// The entry program for one operation of a table function, which takes
/// its context pointer first.
fn table_entry_program(operation: Operation) -> &'static str {
    match operation {
        Operation::Malloc => "py_malloc_enter",
        Operation::Calloc => "py_calloc_enter",
        Operation::Realloc => "py_realloc_enter",
        Operation::Free => "py_free_enter",
    }
}

/// The entry program for one operation of an exported wrapper, whose
/// arguments sit where libc's do.
fn wrapper_entry_program(operation: Operation) -> &'static str {
    match operation {
        Operation::Malloc => "pywrap_malloc_enter",
        Operation::Calloc => "pywrap_calloc_enter",
        Operation::Realloc => "pywrap_realloc_enter",
        Operation::Free => "free_enter",
    }
}

/// The sites for `tables` and `inlined`, in attach order: frees, returns
/// (and inlined meeting points), entries (and inlined guards). A function
/// shared by several tables (pymalloc serves both the object and the mem
/// domain) is probed once. Wrappers with an inlined copy of their function
/// are probed too: a block they free never reaches the function. Addresses
/// outside any file mapping are skipped with a warning. The sites are
/// placed and programmed as `options` say.
pub fn python_plan(
    pid: u32,
    maps: &[MemoryMap],
    tables: &[&DomainTable],
    inlined: &InlinedProbes,
    options: ProbeOptions,
) -> Vec<ProbeSite> {
    let mut functions: BTreeSet<(u64, u8, &'static str)> = BTreeSet::new();
    for table in tables {
        let table_functions = table
            .functions
            .iter()
            .map(|(operation, &address)| (*operation, address, table_entry_program(*operation)));
        let wrappers = table
            .guarded_wrappers
            .iter()
            .map(|(operation, &address)| (*operation, address, wrapper_entry_program(*operation)));
        for (operation, address, program) in table_functions.chain(wrappers) {
            let rank = if operation == Operation::Free { 0 } else { 1 };
            functions.insert((address, rank, program));
        }
    }
    let mut frees = Vec::new();
    let mut entries = Vec::new();
    for (address, rank, program) in functions {
        let Some(site) = site_at(pid, maps, address, program) else {
            continue;
        };
        if rank == 0 {
            frees.push(site);
        } else {
            entries.push(site);
        }
    }
    let returns = entries.iter().map(return_site);
    let plan = frees
        .iter()
        .chain(&inlined.frees)
        .cloned()
        .chain(returns)
        .chain(inlined.merges.iter().cloned())
        .chain(entries.iter().cloned())
        .chain(inlined.guards.iter().cloned())
        .collect();
    finish_plan(plan, options)
}

fn site_at(pid: u32, maps: &[MemoryMap], address: u64, program: &'static str) -> Option<ProbeSite> {
    let (object, map) = mapped_object(pid, maps, address)?;
    Some(ProbeSite {
        program,
        object,
        location: Location::FileOffset(address - map.start + map.offset),
        single_stepped: false,
        cookie: 0,
    })
}

/// The file that holds the code at `address` of process `pid`, and its
/// mapping; None, with a warning, when no file can be probed there.
pub fn mapped_object(
    pid: u32,
    maps: &[MemoryMap],
    address: u64,
) -> Option<(std::path::PathBuf, &MemoryMap)> {
    let map = maps
        .iter()
        .find(|map| map.contains(address) && map.executable && map.is_file_backed());
    let Some(map) = map else {
        log::warn!("allocator function {address:#x} of process {pid} is in no mapped file");
        return None;
    };
    match mapped_file_path(pid, map) {
        Ok(object) => Some((object, map)),
        Err(error) => {
            log::warn!("cannot probe {address:#x}: {error}");
            None
        }
    }
}
