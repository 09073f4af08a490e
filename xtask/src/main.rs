//! `cargo xtask`: leakspy's developer tasks. `setup` installs what building
//! and testing need, `build` builds the release binary, `test` runs the
//! checks and every test, `demo` shows leakspy on a leaking program, and
//! `bench` measures leakspy's overhead against other tools.

mod bench;
mod build;
mod command;
mod demo;
mod probe_costs;
mod setup;
mod test;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// leakspy's developer tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install what building and testing need (only what is missing; fast
    /// when everything is there).
    Setup,
    /// Set up, then build the release binary (target/release/leakspy).
    Build,
    /// Set up, check formatting and lints, and run every test, privileged
    /// ones included (they need root).
    Test(test::TestArgs),
    /// Set up, build, and record and report the bundled leaking demo
    /// service (or a running process).
    Demo(demo::DemoArgs),
    /// Set up, build, and measure leakspy's overhead on Python workloads
    /// against tracemalloc and memray, and its own cost at scale.
    Bench(bench::BenchArgs),
    /// Measure what a probe hit costs per allocator function, at the entry and where placement puts it.
    ProbeCosts(probe_costs::ProbeCostsArgs),
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().task {
        Task::Setup => setup::run(),
        Task::Build => build::run().map(drop),
        Task::Test(args) => test::run(&args),
        Task::Demo(args) => demo::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::ProbeCosts(args) => probe_costs::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
