//! Running external commands: each helper either succeeds or fails with a
//! message naming the command line and what went wrong.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context as _, Result, bail};

use crate::workspace;

/// The command line of `command`, for messages (the program by its file
/// name: `cargo`, not the toolchain's full path).
pub fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let mut line = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned();
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `command` with inherited stdio; fails unless it exits with 0.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not start `{}`", describe(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs `command` and returns its output, whatever its exit status; fails
/// only when it cannot be started.
pub fn output(command: &mut Command) -> Result<Output> {
    command
        .output()
        .with_context(|| format!("could not start `{}`", describe(command)))
}

/// Runs `command` and returns its stdout; fails unless it exits with 0,
/// quoting its stderr.
pub fn stdout(command: &mut Command) -> Result<String> {
    let output = output(command)?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `cargo` (the one running xtask), at the workspace root, with
/// cargo-installed tools such as bpf-linker on its PATH.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(workspace::root())
        .env("PATH", workspace::tool_path());
    command
}
