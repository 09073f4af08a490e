//! The `leakspy` binary: parses the command line, runs the subcommand, and
//! turns errors into a message, a hint and exit code 2.

use std::process::ExitCode;

use clap::Parser as _;
use leakspy::cli::{Cli, Command};
use leakspy::commands::{self, EXIT_ERROR};
use leakspy::config::TargetSpec;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .init();
    match run(&cli.command) {
        Ok(code) => code,
        Err(error) => {
            report_error(&error);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: &Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Record(args) => {
            commands::trace::run(&args.trace.config(TargetSpec::Pid(args.pid)), &args.output)
        }
        Command::Run(args) => commands::trace::run(
            &args.trace.config(TargetSpec::Command(args.command.clone())),
            &args.output,
        ),
        Command::Top(args) => commands::top::run(args),
        Command::Report(args) => commands::report::run(args),
    }
}

/// Prints the error, its causes, and the hint of the first leakspy error
/// kind in the chain.
fn report_error(error: &anyhow::Error) {
    eprintln!("leakspy: error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    let hint = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<leakspy::error::Error>())
        .and_then(leakspy::error::Error::hint);
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}
