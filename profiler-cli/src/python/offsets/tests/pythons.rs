//! Finding the interpreters that tests run against: pyenv's builds and
//! the Debian roots `get-pythons.sh` unpacks. Missing ones are skipped by
//! the tests, which say so.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A pyenv interpreter of 3.`minor`: (its python3.X, its include folder).
pub fn pyenv(minor: u8) -> Option<(PathBuf, PathBuf)> {
    let versions = pyenv_root()?.join("versions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(versions)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            name.strip_prefix(&format!("3.{minor}."))
                .is_some_and(|micro| micro.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    found.sort();
    let root = found.pop()?;
    let python = root.join(format!("bin/python3.{minor}"));
    let include = root.join(format!("include/python3.{minor}"));
    (python.is_file() && include.is_dir()).then_some((python, include))
}

fn pyenv_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("PYENV_ROOT") {
        return Some(root.into());
    }
    let output = Command::new("pyenv").arg("root").output().ok();
    if let Some(output) = output.filter(|output| output.status.success()) {
        let root = String::from_utf8_lossy(&output.stdout).trim().to_string();
        return Some(root.into());
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv"))
}

/// The root folder of a Debian suite that holds `/usr/bin/python3.X`:
/// where `cargo xtask setup` unpacks them (/var/tmp/leakspy-pythons), or
/// where get-pythons.sh does ($LEAKSPY_PYTHONS, its default
/// $TMPDIR/leakspy-pythons), or a `pythons` folder beside the workspace.
pub fn debian_root(suite: &str, minor: u8) -> Option<PathBuf> {
    let temporary = std::env::var_os("TMPDIR").unwrap_or_else(|| "/tmp".into());
    let candidates = [
        Some(PathBuf::from("/var/tmp/leakspy-pythons")),
        std::env::var_os("LEAKSPY_PYTHONS").map(PathBuf::from),
        Some(Path::new(&temporary).join("leakspy-pythons")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pythons")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|folder| folder.join(suite))
        .find(|root| root.join(format!("usr/bin/python3.{minor}")).is_file())
}
