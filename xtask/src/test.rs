//! `cargo xtask test`: setup, then rustfmt, clippy and every test of the
//! workspace, privileged ones included (those need root and a kernel with
//! BPF; under CI=true they fail instead of skipping). Every step runs, so a
//! CI log shows them all, and the last line says how each went.

use std::process::Command;

use anyhow::{Result, bail};
use clap::Args;

use crate::{command, setup};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Passed on to `cargo test --workspace`, after `--`.
    #[arg(last = true)]
    cargo_test_args: Vec<String>,
}

/// Runs setup and the three steps; fails when any step failed.
pub fn run(args: &TestArgs) -> Result<()> {
    setup::run()?;
    let steps: [(&str, Command); 3] = [
        ("fmt", cargo(&["fmt", "--all", "--", "--check"])),
        (
            "clippy",
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        ("tests", {
            let mut test = cargo(&["test", "--workspace"]);
            test.args(&args.cargo_test_args);
            test
        }),
    ];
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for (name, mut step) in steps {
        eprintln!("test: {}", command::describe(&step));
        match command::run(&mut step) {
            Ok(()) => outcomes.push(format!("{name} ok")),
            Err(error) => {
                eprintln!("test: {name} FAILED: {error:#}");
                outcomes.push(format!("{name} FAILED"));
                failed.push(name);
            }
        }
    }
    eprintln!("xtask test: setup ok, {}", outcomes.join(", "));
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Command {
    let mut command = command::cargo();
    command.args(args);
    command
}
