//! The binary that holds the interpreter in a target (the executable, or
//! libpython), and the symbols leakspy needs from it, placed at their
//! runtime addresses.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use object::{Object as _, ObjectSection as _, ObjectSegment as _, ObjectSymbol as _};

use crate::process::maps::{MemoryMap, mapped_file_path};
use crate::python::PythonError;

/// Symbols read from the interpreter binary.
pub const RUNTIME_SYMBOL: &str = "_PyRuntime";
pub const VERSION_SYMBOL: &str = "Py_Version";

/// One interpreter binary as the target maps it.
#[derive(Debug)]
pub struct InterpreterBinary {
    /// The path the target maps it under.
    pub mapped_path: String,
    /// A path leakspy can open it by (through /proc for chroots).
    pub open_path: PathBuf,
    /// Added to an ELF virtual address to get the runtime address.
    pub load_bias: u64,
    /// Runtime addresses and sizes of the symbols found, by name.
    symbols: HashMap<String, (u64, u64)>,
    /// The NUL-terminated strings of the form "3.M.N" in .rodata: PY_VERSION
    /// is one of them.
    version_strings: Vec<String>,
}

impl InterpreterBinary {
    /// The runtime address of `name`, if the binary defines it.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).map(|&(address, _)| address)
    }

    /// The size in bytes the symbol table gives `name` (0 when unknown).
    pub fn symbol_size(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).map(|&(_, size)| size)
    }

    /// The micro version of a 3.`minor` interpreter, from the PY_VERSION
    /// string compiled into it.
    pub fn micro_version(&self, minor: u8) -> Option<u8> {
        let prefix = format!("3.{minor}.");
        self.version_strings
            .iter()
            .find_map(|text| text.strip_prefix(&prefix)?.parse().ok())
    }

    /// The file name, such as `libpython3.11.so.1.0` or `python3.11`.
    pub fn file_name(&self) -> &str {
        Path::new(&self.mapped_path)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or(&self.mapped_path)
    }
}

/// True for the file names an interpreter binary goes by.
fn may_hold_interpreter(path: &str, executable: &str) -> bool {
    let name = Path::new(path)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    path == executable || name.starts_with("libpython3")
}

/// Finds the binary of `pid` that defines `_PyRuntime`, loading the
/// `wanted` symbols from it. None when the target is not CPython.
pub fn find_interpreter(
    pid: u32,
    maps: &[MemoryMap],
    wanted: &[&str],
) -> Result<Option<InterpreterBinary>, PythonError> {
    let executable = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    for map in maps {
        if !map.is_file_backed()
            || seen.contains(&map.pathname.as_str())
            || !may_hold_interpreter(&map.pathname, &executable)
        {
            continue;
        }
        seen.push(&map.pathname);
        let first = maps
            .iter()
            .filter(|other| other.pathname == map.pathname)
            .min_by_key(|other| other.offset)
            .expect("the map itself matches");
        if let Some(binary) = load(pid, first, wanted)? {
            return Ok(Some(binary));
        }
    }
    Ok(None)
}

/// Loads `map`'s file when it defines `_PyRuntime`.
fn load(
    pid: u32,
    map: &MemoryMap,
    wanted: &[&str],
) -> Result<Option<InterpreterBinary>, PythonError> {
    let open_path = mapped_file_path(pid, map).map_err(|source| PythonError::Binary {
        path: map.pathname.clone(),
        reason: source.to_string(),
    })?;
    let binary_error = |reason: String| PythonError::Binary {
        path: map.pathname.clone(),
        reason,
    };
    let file = File::open(&open_path).map_err(|error| binary_error(error.to_string()))?;
    // SAFETY: the mapping is read only; a file changed under it gives wrong
    // symbols, not unsafety in this read-only parse.
    let data = unsafe { Mmap::map(&file) }.map_err(|error| binary_error(error.to_string()))?;
    let elf = object::File::parse(&*data).map_err(|error| binary_error(error.to_string()))?;
    let mut symbols = HashMap::new();
    for symbol in elf.dynamic_symbols().chain(elf.symbols()) {
        let Ok(name) = symbol.name() else { continue };
        if symbol.is_definition() && (name == RUNTIME_SYMBOL || wanted.contains(&name)) {
            symbols
                .entry(name.to_string())
                .or_insert((symbol.address(), symbol.size()));
        }
    }
    if !symbols.contains_key(RUNTIME_SYMBOL) {
        return Ok(None);
    }
    let segments: Vec<(u64, u64)> = elf
        .segments()
        .map(|segment| (segment.address(), segment.file_range().0))
        .collect();
    let load_bias = load_bias(map, &segments)
        .ok_or_else(|| binary_error("no loadable segment covers its first mapping".into()))?;
    for (address, _) in symbols.values_mut() {
        *address = address.wrapping_add(load_bias);
    }
    let version_strings = elf
        .section_by_name(".rodata")
        .and_then(|section| section.data().ok())
        .map(version_strings)
        .unwrap_or_default();
    Ok(Some(InterpreterBinary {
        mapped_path: map.pathname.clone(),
        open_path,
        load_bias,
        symbols,
        version_strings,
    }))
}

/// The "3.M.N" versions (digits only) that end a NUL-terminated string in
/// `data`. PY_VERSION may stand alone or, after the linker merges string
/// tails, end a longer string such as a build path ".../Python-3.9.18".
fn version_strings(data: &[u8]) -> Vec<String> {
    data.split(|byte| *byte == 0)
        .filter_map(|text| {
            (0..text.len()).find_map(|start| {
                let starts_a_number =
                    start == 0 || !(text[start - 1].is_ascii_digit() || text[start - 1] == b'.');
                let version = std::str::from_utf8(&text[start..]).ok()?;
                (starts_a_number && is_version_triple(version)).then(|| version.to_string())
            })
        })
        .collect()
}

/// "3.M.N", digits only.
fn is_version_triple(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[0] == "3"
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

/// The difference between runtime and ELF virtual addresses, from the
/// mapping of the file's lowest offset and the segment (vaddr, file offset)
/// that holds it. Zero for non-PIE executables.
fn load_bias(map: &MemoryMap, segments: &[(u64, u64)]) -> Option<u64> {
    let (vaddr, file_offset) = segments
        .iter()
        .filter(|(_, offset)| *offset <= map.offset)
        .max_by_key(|(_, offset)| *offset)?;
    let vaddr_at_map = vaddr + (map.offset - file_offset);
    Some(map.start.wrapping_sub(vaddr_at_map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::maps::parse_maps;

    #[test]
    fn load_bias_of_a_shared_library_and_of_a_non_pie_executable() {
        let library = &parse_maps(
            "7f0000000000-7f0000001000 r--p 00000000 fd:01 42 /usr/lib/libpython3.11.so.1.0\n",
        )
        .unwrap()[0];
        assert_eq!(
            load_bias(library, &[(0, 0), (0x1000, 0x1000)]),
            Some(0x7f00_0000_0000)
        );
        let executable =
            &parse_maps("00400000-00401000 r--p 00000000 fd:01 43 /usr/bin/python3.11\n").unwrap()
                [0];
        assert_eq!(
            load_bias(executable, &[(0x400000, 0), (0x401000, 0x1000)]),
            Some(0)
        );
    }

    #[test]
    fn version_strings_end_nul_terminated_strings() {
        let data =
            b"\x003.9.18\x00/tmp/Python-3.9.17\x00\x003.10\x00x.3.9.2\x003.11.7rc1\x0013.9.1\x00/v/3.13.5\x00";
        let found = ["3.9.18", "3.9.17", "3.13.5"].map(String::from);
        assert_eq!(version_strings(data), found.to_vec());
    }

    #[test]
    fn interpreter_file_names() {
        assert!(may_hold_interpreter(
            "/usr/lib/libpython3.11.so.1.0",
            "/usr/bin/python3.11"
        ));
        assert!(may_hold_interpreter(
            "/usr/bin/python3.11",
            "/usr/bin/python3.11"
        ));
        assert!(!may_hold_interpreter(
            "/usr/lib/libc.so.6",
            "/usr/bin/python3.11"
        ));
    }
}
