//! The Debian packages that building and testing need, installed with
//! apt-get when missing.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{command, workspace};

/// Every Debian package the tests and the demo need.
pub const PACKAGES: &[&str] = &[
    // The C fixtures and the demo are compiled with gcc; bpf-linker's build links with it.
    "gcc",
    "libc6-dev",
    // objcopy and strip, to make stripped fixtures with separate debug files.
    "binutils",
    // A terminal for testing the live view of `leakspy top`.
    "tmux",
    // Debian bookworm's LTO, stripped, non-PIE python, one of the tested interpreters.
    "python3.11",
    // Unpacks the Python interpreters of other Debian suites (setup/pythons.rs).
    "mmdebstrap",
    // `go tool pprof` reads the pprof export back in the tests.
    "golang-go",
    // setpriv, to test the error without privileges; script, for a terminal.
    "util-linux",
];

/// Installs the missing [`PACKAGES`]; needs root when any is missing.
pub fn ensure() -> Result<()> {
    let missing = missing()?;
    if missing.is_empty() {
        return Ok(());
    }
    if !workspace::is_root() {
        bail!(
            "Debian packages missing: {}; run `cargo xtask setup` as root, or `apt-get install` them",
            missing.join(" ")
        );
    }
    eprintln!("setup: installing Debian packages: {}", missing.join(" "));
    command::run(Command::new("apt-get").args(["update", "-qq"]))?;
    command::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The [`PACKAGES`] that dpkg does not list as installed.
fn missing() -> Result<Vec<&'static str>> {
    // dpkg-query exits with 1 when a package is unknown; its output still
    // lists the others.
    let output = command::output(
        Command::new("dpkg-query")
            .args(["-W", "-f=${Package} ${Status}\\n"])
            .args(PACKAGES),
    )?;
    let listed = String::from_utf8_lossy(&output.stdout);
    Ok(PACKAGES
        .iter()
        .copied()
        .filter(|package| {
            !listed.lines().any(|line| {
                line.split_once(' ').is_some_and(|(name, status)| {
                    name == *package && status == "install ok installed"
                })
            })
        })
        .collect())
}
