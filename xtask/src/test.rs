//! `cargo xtask test`: setup, then rustfmt, clippy and every test of the
//! workspace, privileged ones included (those need root and a kernel with
//! BPF; under CI=true they fail instead of skipping), and the benchmark in
//! its reduced form (`cargo xtask bench --quick`: its timings are not
//! checked, but a mode that fails to run fails the step). Every step runs,
//! so a CI log shows them all, and the last line says how each went.

use std::process::Command;

use anyhow::{Result, bail};
use clap::Args;

use crate::{command, setup};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Passed on to `cargo test`, after `--`. `--workspace` is added unless
    /// they choose packages with `-p`/`--package`.
    #[arg(last = true)]
    cargo_test_args: Vec<String>,
}

/// Runs setup and the four steps; fails when any step failed.
pub fn run(args: &TestArgs) -> Result<()> {
    setup::run()?;
    let steps: [(&str, Command); 4] = [
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
            // Every test binary runs, so one failure hides no other.
            let mut test = cargo(&["test", "--no-fail-fast"]);
            if !names_packages(&args.cargo_test_args) {
                test.arg("--workspace");
            }
            test.args(&args.cargo_test_args);
            test
        }),
        ("bench", cargo(&["xtask", "bench", "--quick"])),
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

/// Whether cargo's own arguments (those before a `--`) choose packages.
fn names_packages(args: &[String]) -> bool {
    args.iter()
        .take_while(|arg| *arg != "--")
        .any(|arg| arg.starts_with("-p") || arg.starts_with("--package"))
}

fn cargo(args: &[&str]) -> Command {
    let mut command = command::cargo();
    command.args(args);
    command
}

#[cfg(test)]
mod tests {
    use super::names_packages;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn sees_package_choices_only_before_the_separator() {
        assert!(names_packages(&args(&["-p", "xtask"])));
        assert!(names_packages(&args(&["-pxtask"])));
        assert!(names_packages(&args(&["--package=xtask"])));
        assert!(!names_packages(&args(&["--release", "--", "-p"])));
        assert!(!names_packages(&args(&[])));
    }
}
