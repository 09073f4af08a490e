//! Running the commands the tasks are made of: each prints what it runs
//! and fails with the command's name when it fails.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context as _, bail};

use crate::workspace_root;

/// Runs `command` with inherited output; fails unless it succeeds.
pub fn exec(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {}", describe(command));
    let status = command
        .status()
        .with_context(|| format!("cannot start {}", describe(command)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs `command` and returns its output, whatever its status.
pub fn output(command: &mut Command) -> anyhow::Result<Output> {
    command
        .output()
        .with_context(|| format!("cannot start {}", describe(command)))
}

/// True when `command` runs and succeeds; its output is discarded.
pub fn succeeds(command: &mut Command) -> bool {
    output(command).is_ok_and(|output| output.status.success())
}

/// `cargo build --release` at the workspace root: leakspy with its eBPF
/// object embedded.
pub fn build_release() -> anyhow::Result<()> {
    exec(cargo().args(["build", "--release"]))
}

/// A cargo command in the workspace root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|argument| argument.to_string_lossy().into_owned()),
    );
    words.join(" ")
}
