//! Native stacks in this very process, the way the kernel records them in
//! a target: return addresses inside functions of this binary, which the
//! symbolizer opens like any mapped ELF file (a bench build keeps its
//! symbol table and drops DWARF, so names come from .symtab).

use leakspy::process::maps::{MemoryMap, read_maps};
use profiler_common::{MAX_NATIVE_FRAMES, MAX_PYTHON_FRAMES, PythonFrame, StackTrace};

use super::mix;

/// Native frames per stack: a C service's allocation sites are this deep
/// or deeper.
pub const FRAMES_PER_STACK: usize = 8;

/// This process's memory map, as the trace loop reads a target's.
pub fn own_maps() -> Vec<MemoryMap> {
    read_maps(std::process::id()).expect("a process can read its own maps")
}

/// Return addresses in distinct functions of this binary: one byte into
/// each, so that the byte before it, which the symbolizer looks up, is
/// the function's first.
pub fn return_addresses() -> Vec<u64> {
    let functions = [
        leakspy::trend::analyze as *const (),
        leakspy::report::rank as *const (),
        leakspy::report::read as *const (),
        leakspy::process::maps::parse_maps as *const (),
        leakspy::process::maps::read_maps as *const (),
        leakspy::process::maps::mapped_file_path as *const (),
        leakspy::python::line_table::line_for_offset as *const (),
        leakspy::python::offsets::layout_for as *const (),
        leakspy::python::offsets::read_str as *const (),
        leakspy::python::offsets::read_bytes as *const (),
        leakspy::python::offsets::parse_version_hex as *const (),
        leakspy::symbolize::Symbolizer::symbolize as *const (),
        leakspy::session::StackSymbols::frames as *const (),
        leakspy::python::code_objects::CodeObjects::frame as *const (),
        std::process::id as *const (),
        own_maps as *const (),
    ];
    functions
        .iter()
        .map(|function| function.addr() as u64 + 1)
        .collect()
}

/// A kernel stack entry with `addresses`, innermost first, and no Python
/// frames.
pub fn native_trace(addresses: &[u64]) -> StackTrace {
    let mut native = [0; MAX_NATIVE_FRAMES];
    native[..addresses.len()].copy_from_slice(addresses);
    StackTrace {
        native_len: addresses.len() as u32,
        python_len: 0,
        flags: 0,
        _pad: 0,
        native,
        python: [PythonFrame::default(); MAX_PYTHON_FRAMES],
    }
}

/// Stack number `index`: `FRAMES_PER_STACK` frames drawn from `pool`.
pub fn stack_of(pool: &[u64], index: u64) -> StackTrace {
    let addresses: Vec<u64> = (0..FRAMES_PER_STACK as u64)
        .map(|depth| pool[(mix(index ^ (depth << 56)) % pool.len() as u64) as usize])
        .collect();
    native_trace(&addresses)
}
