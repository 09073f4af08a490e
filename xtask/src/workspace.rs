//! Where things are: the workspace root, its target folder, the PATH that
//! finds cargo-installed tools, and whether xtask runs as root.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The workspace root (the folder above xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent folder")
        .to_path_buf()
}

/// The target folder cargo builds into: $CARGO_TARGET_DIR, else target/.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// The folder `cargo install` puts binaries in: $CARGO_HOME/bin, else
/// ~/.cargo/bin.
pub fn cargo_bin_dir() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home).join("bin"),
        None => home_dir().join(".cargo/bin"),
    }
}

/// $PATH with cargo's bin folder appended when it is missing, so that a
/// bpf-linker installed by setup is found by the builds xtask starts.
pub fn tool_path() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let cargo_bin = cargo_bin_dir();
    if !dirs.contains(&cargo_bin) {
        dirs.push(cargo_bin);
    }
    std::env::join_paths(dirs).unwrap_or(path)
}

/// The first `name` on [`tool_path`], if any.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&tool_path())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// $HOME (root's home when it is unset).
pub fn home_dir() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// Whether xtask runs as root, which mounting and apt-get need.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
