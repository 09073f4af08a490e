//! The benchmark interpreter: pyenv's CPython 3.11.7, a shared-libpython
//! build without LTO whose allocator functions have symbols, so every
//! tool sees every allocation. Every mode runs this same binary.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::{command, workspace};

/// The pyenv version the benchmark runs.
pub const VERSION: &str = "3.11.7";

/// The interpreter's path; fails, saying how to get it, when it is missing.
pub fn find() -> Result<PathBuf> {
    let python = pyenv_root()
        .join("versions")
        .join(VERSION)
        .join("bin/python3.11");
    if !python.is_file() {
        bail!(
            "the benchmark interpreter {} is missing: install it with `pyenv install {VERSION}`",
            python.display()
        );
    }
    Ok(python)
}

/// `pyenv root`, else $PYENV_ROOT, else ~/.pyenv.
fn pyenv_root() -> PathBuf {
    if let Ok(root) = command::stdout(Command::new("pyenv").arg("root")) {
        return PathBuf::from(root.trim());
    }
    match std::env::var_os("PYENV_ROOT") {
        Some(root) => PathBuf::from(root),
        None => workspace::home_dir().join(".pyenv"),
    }
}
