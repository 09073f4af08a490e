//! The Python interpreters of other Debian suites that the tests run
//! against, each unpacked with mmdebstrap into its own folder under
//! [`DEBIAN_ROOTS`] and run with chroot. The tests look for them there.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use anyhow::{Context as _, Result, bail};

use crate::{command, workspace};

/// Where the suites are unpacked, one folder per suite.
pub const DEBIAN_ROOTS: &str = "/var/tmp/leakspy-pythons";

/// (suite, interpreter) pairs: the interpreter is the package to unpack and
/// /usr/bin/<interpreter> in the root.
const SUITES: &[(&str, &str)] = &[
    ("bullseye", "python3.9"),
    ("trixie", "python3.13"),
    ("forky", "python3.14"),
];

/// Unpacks the suites whose interpreter is missing, all at once (about ten
/// seconds); needs root when any is missing.
pub fn ensure() -> Result<()> {
    let missing: Vec<(&str, &str)> = SUITES
        .iter()
        .copied()
        .filter(|&(suite, python)| !interpreter(&root(suite), python).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|(suite, python)| format!("{python} ({suite})"))
        .collect();
    if !workspace::is_root() {
        bail!(
            "Debian pythons missing from {DEBIAN_ROOTS}: {}; run `cargo xtask setup` as root",
            names.join(", ")
        );
    }
    eprintln!(
        "setup: unpacking Debian pythons into {DEBIAN_ROOTS}: {}",
        names.join(", ")
    );
    let mirror = apt_mirror();
    let started: Vec<(&str, &str, Result<Child>)> = missing
        .iter()
        .map(|&(suite, python)| (suite, python, start_unpacking(suite, python, &mirror)))
        .collect();
    let mut failures = Vec::new();
    for (suite, python, child) in started {
        if let Err(error) = child.and_then(|child| finish(suite, python, child)) {
            failures.push(format!("{python} ({suite}): {error:#}"));
        }
    }
    if !failures.is_empty() {
        bail!(
            "unpacking Debian pythons failed:\n  {}",
            failures.join("\n  ")
        );
    }
    Ok(())
}

fn root(suite: &str) -> PathBuf {
    Path::new(DEBIAN_ROOTS).join(suite)
}

fn partial_root(suite: &str) -> PathBuf {
    Path::new(DEBIAN_ROOTS).join(format!("{suite}.partial"))
}

fn interpreter(root: &Path, python: &str) -> PathBuf {
    root.join("usr/bin").join(python)
}

/// Starts mmdebstrap unpacking `python` of `suite` into its partial root:
/// `extract` unpacks the packages apt resolves and runs no maintainer
/// scripts. Check-Valid-Until is off because mirrors can serve Release
/// files past that date (seen for sid and forky).
fn start_unpacking(suite: &str, python: &str, mirror: &str) -> Result<Child> {
    let partial = partial_root(suite);
    if partial.exists() {
        fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    fs::create_dir_all(DEBIAN_ROOTS).with_context(|| format!("cannot create {DEBIAN_ROOTS}"))?;
    let mut mmdebstrap = Command::new("mmdebstrap");
    mmdebstrap
        .args(["--quiet", "--variant=extract", "--mode=root"])
        .arg("--aptopt=Acquire::Check-Valid-Until \"false\"")
        .arg(format!("--include={python}"))
        .arg(suite)
        .arg(&partial)
        .arg(mirror);
    mmdebstrap
        .spawn()
        .with_context(|| format!("could not start `{}`", command::describe(&mmdebstrap)))
}

/// Waits for mmdebstrap, makes the root runnable, checks the interpreter
/// starts, and only then moves the root into place.
fn finish(suite: &str, python: &str, mut child: Child) -> Result<()> {
    let status = child.wait().context("waiting for mmdebstrap")?;
    if !status.success() {
        bail!("mmdebstrap failed ({status})");
    }
    let partial = partial_root(suite);
    // Merged-/usr suites: the ELF interpreter is /lib64/ld-linux-x86-64.so.2.
    for dir in ["bin", "sbin", "lib", "lib64"] {
        let top = partial.join(dir);
        if !top.exists() && !top.is_symlink() && partial.join("usr").join(dir).exists() {
            std::os::unix::fs::symlink(format!("usr/{dir}"), &top)
                .with_context(|| format!("cannot create {}", top.display()))?;
        }
    }
    command::stdout(
        Command::new("chroot")
            .arg(&partial)
            .arg(Path::new("/usr/bin").join(python))
            .args(["-c", "import sys; print(sys.version)"]),
    )?;
    let root = root(suite);
    if root.exists() {
        fs::remove_dir_all(&root).with_context(|| format!("cannot remove {}", root.display()))?;
    }
    fs::rename(&partial, &root)
        .with_context(|| format!("cannot move {} to {}", partial.display(), root.display()))
}

/// The Debian mirror this machine's apt already uses.
fn apt_mirror() -> String {
    let deb822 = fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let one_line = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    mirror_in(&deb822, &one_line).unwrap_or_else(|| "http://deb.debian.org/debian".to_string())
}

/// The first mirror in a deb822 sources file, else in a one-line-style
/// sources.list (`deb [options] URI suite components`).
fn mirror_in(deb822: &str, one_line: &str) -> Option<String> {
    let from_deb822 = deb822.lines().find_map(|line| {
        line.strip_prefix("URIs:")?
            .split_whitespace()
            .next()
            .map(str::to_string)
    });
    from_deb822.or_else(|| {
        one_line.lines().find_map(|line| {
            let rest = line.trim().strip_prefix("deb ")?.trim_start();
            let rest = match rest.strip_prefix('[') {
                Some(options) => options.split_once(']')?.1,
                None => rest,
            };
            rest.split_whitespace().next().map(str::to_string)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::mirror_in;

    #[test]
    fn reads_the_mirror_of_either_sources_format() {
        let deb822 =
            "Types: deb\n# http://snapshot\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n";
        assert_eq!(
            mirror_in(deb822, "").as_deref(),
            Some("http://deb.debian.org/debian")
        );
        let one_line = "# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n";
        assert_eq!(
            mirror_in("", one_line).as_deref(),
            Some("http://mirror.example/debian")
        );
        assert_eq!(mirror_in("", ""), None);
    }
}
