//! leakspy's developer tasks, run as `cargo xtask <task>`: install what the
//! build and the tests need, build, run every test, and run the demo.

mod command;
mod demo;
mod setup;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "leakspy's developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the toolchain pieces, mounts, packages and interpreters the
    /// build and the tests need. Fast when everything is there.
    Setup,
    /// Set up, then build the release binary (target/release/leakspy).
    Build,
    /// Set up, build, check formatting and lints, and run every test,
    /// privileged ones included (they need root).
    Test {
        /// Extra arguments for `cargo test`, after `--`.
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Set up, build, start the bundled leaking demo and show what leakspy
    /// finds in it.
    Demo {
        /// Trace this running process instead of the bundled demo.
        #[arg(long)]
        pid: Option<u32>,
        /// How long to trace, in seconds.
        #[arg(long, default_value_t = 20)]
        duration: u32,
    },
}

/// The workspace root: xtask lives one folder below it.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().task {
        Task::Setup => setup::run(),
        Task::Build => setup::run().and_then(|()| command::build_release()),
        Task::Test { cargo_args } => setup::run().and_then(|()| test::run(&cargo_args)),
        Task::Demo { pid, duration } => setup::run().and_then(|()| demo::run(pid, duration)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
