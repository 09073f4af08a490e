//! Finds the object that holds a process's malloc family: the libc it maps,
//! or the executable itself when it is linked statically.

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
    let data = std::fs::read(&path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let defines_malloc = file
        .symbols()
        .chain(file.dynamic_symbols())
        .any(|symbol| symbol.is_definition() && symbol.name() == Ok("malloc"));
    defines_malloc.then_some(path)
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
    }
}
