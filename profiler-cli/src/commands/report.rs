//! `leakspy report FILE`: prints the summary of a saved report, or writes
//! it in another format (`--format`, `-o`).

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::ValueEnum as _;

use crate::cli::ReportArgs;
use crate::commands::{EXIT_OK, finish_output};
use crate::export;
use crate::report;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let report = report::read(&args.file)?;
    if let Some(path) = &args.output {
        export::write_file(&report, args.format, args.top, path)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let mut stdout = std::io::stdout().lock();
    if args.format.is_binary() && stdout.is_terminal() {
        let name = args
            .format
            .to_possible_value()
            .map(|value| value.get_name().to_owned());
        anyhow::bail!(
            "--format {} is binary and standard output is a terminal: write it to a file with -o FILE, or pipe it",
            name.unwrap_or_default()
        );
    }
    let bytes = export::render(&report, args.format, args.top)?;
    finish_output(stdout.write_all(&bytes).and_then(|()| stdout.flush()))
}
