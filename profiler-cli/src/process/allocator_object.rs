//! Finds the object that holds a process's malloc family: the libc it maps,
//! or the executable itself when it is linked statically; and tells
//! whether that malloc is glibc's, not replaced by another allocator.

use std::path::{Path, PathBuf};

use object::{Object as _, ObjectSymbol as _};

use crate::process::maps::{MemoryMap, mapped_file_path};

/// True for the file names glibc's shared library goes by.
fn is_libc_name(name: &str) -> bool {
    name == "libc.so.6" || name == "libc.so" || (name.starts_with("libc-") && name.ends_with(".so"))
}

/// The libc that `maps` shows mapped executable, as a path leakspy can open.
pub fn mapped_libc(pid: u32, maps: &[MemoryMap]) -> Option<PathBuf> {
    let libc = maps.iter().find(|map| {
        map.executable
            && map.is_file_backed()
            && Path::new(&map.pathname)
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_libc_name)
    })?;
    match mapped_file_path(pid, libc) {
        Ok(path) => Some(path),
        Err(error) => {
            log::warn!("libc of process {pid} is mapped but cannot be opened: {error}");
            None
        }
    }
}

/// The executable of `pid` when it defines `malloc` itself (static
/// linking). The path is /proc/PID/exe, which reaches the file from any
/// mount namespace.
pub fn static_executable(pid: u32) -> Option<PathBuf> {
    let path = PathBuf::from(format!("/proc/{pid}/exe"));
    defines(&path, "malloc", Symbols::StaticAndDynamic)?.then_some(path)
}

/// Whether glibc's malloc serves `pid`: its mapped libc is glibc's, and
/// no other object it maps (jemalloc, tcmalloc or mimalloc, preloaded or
/// linked) defines `malloc` in its place.
pub fn glibc_serves_malloc(pid: u32, maps: &[MemoryMap]) -> bool {
    let Some(libc) = mapped_libc(pid, maps) else {
        return false;
    };
    let mut others: Vec<&MemoryMap> = maps
        .iter()
        .filter(|map| map.executable && map.is_file_backed())
        .collect();
    others.dedup_by(|a, b| a.inode == b.inode && a.pathname == b.pathname);
    let is_glibc = defines(&libc, "gnu_get_libc_version", Symbols::Dynamic).unwrap_or(false);
    is_glibc
        && others.iter().all(|map| match mapped_file_path(pid, map) {
            Ok(path) if path == libc => true,
            Ok(path) => !defines(&path, "malloc", Symbols::Dynamic).unwrap_or(false),
            Err(_) => true,
        })
}

/// Which symbol tables `defines` looks in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Symbols {
    /// What the object exports: what another object's calls resolve to.
    Dynamic,
    /// The static table too, for an executable that exports nothing.
    StaticAndDynamic,
}

/// Whether the object at `path` defines `name` among `symbols`; None when
/// it cannot be read.
fn defines(path: &Path, name: &str, symbols: Symbols) -> Option<bool> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: a read-only private mapping; a file changed under it shows
    // as a parse error or a wrong answer, never as unsafety here.
    let data = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let object = object::File::parse(&*data).ok()?;
    let defined =
        |symbol: object::Symbol<'_, '_>| symbol.is_definition() && symbol.name() == Ok(name);
    Some(match symbols {
        Symbols::Dynamic => object.dynamic_symbols().any(defined),
        Symbols::StaticAndDynamic => object
            .symbols()
            .chain(object.dynamic_symbols())
            .any(defined),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_names() {
        assert!(is_libc_name("libc.so.6"));
        assert!(is_libc_name("libc-2.31.so"));
        assert!(!is_libc_name("libcrypt.so.1"));
        assert!(!is_libc_name("libc++.so.1"));
    }

    #[test]
    fn finds_the_libc_this_test_maps() {
        let pid = std::process::id();
        let maps = crate::process::maps::read_maps(pid).unwrap();
        let libc = mapped_libc(pid, &maps).expect("the test process maps libc");
        assert!(libc.exists());
        assert!(
            static_executable(pid).is_none(),
            "the test binary links libc dynamically"
        );
        assert!(
            glibc_serves_malloc(pid, &maps),
            "no allocator replaces glibc's here"
        );
        assert_eq!(defines(&libc, "malloc", Symbols::Dynamic), Some(true));
        assert_eq!(
            defines(&libc, "no_such_symbol_here", Symbols::StaticAndDynamic),
            Some(false)
        );
    }
}
