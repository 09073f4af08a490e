//! `cargo xtask build`: setup, then the release build, which compiles the
//! eBPF object through profiler-cli's build.rs and produces
//! target/release/leakspy.

use std::path::PathBuf;

use anyhow::Result;

use crate::{command, setup, workspace};

/// Runs setup and the release build; returns the leakspy binary's path.
pub fn run() -> Result<PathBuf> {
    setup::run()?;
    eprintln!("build: cargo build --release");
    command::run(command::cargo().args(["build", "--release"]))?;
    Ok(workspace::target_dir().join("release/leakspy"))
}

/// The debug build of leakspy alone, for runs whose timings nobody reads
/// (the quick benchmark inside `cargo xtask test`, which has built it
/// already for the integration tests); returns the binary's path.
pub fn debug_leakspy() -> Result<PathBuf> {
    setup::run()?;
    command::run(command::cargo().args(["build", "-p", "profiler-cli", "--bin", "leakspy"]))?;
    Ok(workspace::target_dir().join("debug/leakspy"))
}
