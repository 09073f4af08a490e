//! `leakspy report FILE`: prints the summary of a saved report.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::ReportArgs;
use crate::commands::finish_output;
use crate::report;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let report = report::read(&args.file)?;
    let mut stdout = std::io::stdout().lock();
    finish_output(report::render_text(&report, args.top, &mut stdout).and_then(|()| stdout.flush()))
}
