//! Finding CPython in a target: the binary that holds it, the address of
//! `_PyRuntime`, the exact version, and the struct layout for it.

use crate::process::maps::MemoryMap;
use crate::process::memory::{MemoryError, MemoryReader, ProcessMemory};
use crate::python::PythonError;
use crate::python::allocator_table::wrapper_names;
use crate::python::gc_counters;
use crate::python::interpreter_binary::{
    InterpreterBinary, RUNTIME_SYMBOL, VERSION_SYMBOL, find_interpreter,
};
use crate::python::offsets::{
    DEBUG_OFFSETS_COOKIE, InterpreterLayout, PythonVersion, layout_for, layout_from_debug_offsets,
    parse_version_hex,
};
use crate::report::GcCounters;

/// A CPython runtime found in a target.
#[derive(Debug)]
pub struct PythonRuntime {
    pub pid: u32,
    pub binary: InterpreterBinary,
    /// The runtime address of `_PyRuntime`.
    pub runtime_address: u64,
    pub layout: InterpreterLayout,
}

impl PythonRuntime {
    pub fn memory(&self) -> ProcessMemory {
        ProcessMemory { pid: self.pid }
    }

    pub fn version(&self) -> PythonVersion {
        self.layout.version
    }

    /// True once Py_Initialize has finished: the allocator hooks
    /// (PYTHONMALLOC, tracemalloc) are in place, and the main thread state
    /// is bound to its thread.
    pub fn is_initialized(&self) -> bool {
        let flag = self
            .runtime_address
            .wrapping_add(self.layout.runtime_initialized);
        self.memory()
            .read_i32(flag)
            .is_ok_and(|initialized| initialized == 1)
    }

    /// The main interpreter's GC counters; None where the layout does not
    /// place the GC state.
    pub fn gc_counters(&self) -> Option<Result<GcCounters, MemoryError>> {
        let layout = self.layout.gc.as_ref()?;
        let memory = self.memory();
        let main = self
            .runtime_address
            .wrapping_add(self.layout.runtime_interpreters_main);
        Some(
            memory
                .read_u64(main)
                .and_then(|interpreter| gc_counters::read(&memory, layout, interpreter)),
        )
    }

    /// True once `_PyRuntime._finalizing` is set: the interpreter tears
    /// down and frees what the program kept.
    pub fn is_finalizing(&self) -> bool {
        let flag = self
            .runtime_address
            .wrapping_add(self.layout.runtime_finalizing);
        self.memory()
            .read_u64(flag)
            .is_ok_and(|finalizing| finalizing != 0)
    }
}

/// Finds the CPython runtime of `pid`. None when the target is not CPython.
pub fn discover(pid: u32, maps: &[MemoryMap]) -> Result<Option<PythonRuntime>, PythonError> {
    let mut wanted = wrapper_names();
    wanted.push(VERSION_SYMBOL.to_string());
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let Some(binary) = find_interpreter(pid, maps, &wanted)? else {
        return Ok(None);
    };
    let runtime_address = binary
        .symbol(RUNTIME_SYMBOL)
        .expect("find_interpreter only returns binaries defining _PyRuntime");
    let memory = ProcessMemory { pid };
    let layout = if &memory.read_vec(runtime_address, 8)?[..] == DEBUG_OFFSETS_COOKIE {
        layout_from_debug_offsets(&memory, runtime_address)?
    } else {
        layout_for(version_before_3_13(&memory, &binary)?)?
    };
    Ok(Some(PythonRuntime {
        pid,
        binary,
        runtime_address,
        layout,
    }))
}

/// The version of an interpreter without `_Py_DebugOffsets`: `Py_Version`
/// (3.11+), else the binary's name (`python3.10`, `libpython3.9.so.1.0`)
/// for the minor version and the PY_VERSION string in its read-only data
/// for the micro version.
fn version_before_3_13(
    memory: &dyn MemoryReader,
    binary: &InterpreterBinary,
) -> Result<PythonVersion, PythonError> {
    if let Some(address) = binary.symbol(VERSION_SYMBOL) {
        return Ok(parse_version_hex(memory.read_u32(address)? as u64));
    }
    let mut version = version_from_file_name(binary.file_name())
        .ok_or_else(|| PythonError::UnknownVersion(binary.mapped_path.clone()))?;
    if let Some(micro) = binary.micro_version(version.minor) {
        version.micro = micro;
    }
    Ok(version)
}

/// `3.X` from `python3.X...` or `libpython3.X...`.
fn version_from_file_name(name: &str) -> Option<PythonVersion> {
    let rest = name
        .strip_prefix("lib")
        .unwrap_or(name)
        .strip_prefix("python3.")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(PythonVersion {
        major: 3,
        minor: digits.parse().ok()?,
        micro: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_binary_names() {
        let minor = |name| version_from_file_name(name).map(|version| version.minor);
        assert_eq!(minor("libpython3.9.so.1.0"), Some(9));
        assert_eq!(minor("python3.10"), Some(10));
        assert_eq!(minor("python3"), None);
        assert_eq!(minor("libc.so.6"), None);
    }
}
