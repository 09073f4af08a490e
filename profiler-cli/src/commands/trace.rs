//! `leakspy record` and `leakspy run`: trace, write the report (JSON, or
//! `--format`), print its summary, and apply the `--fail-on-growth` gate.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::OutputArgs;
use crate::commands::{EXIT_ERROR, finish_output};
use crate::config::TraceConfig;
use crate::export;
use crate::gate;
use crate::report::{self, Report};
use crate::session::{self, EndReason, WindowObserver, WindowSummary};
use crate::units::format_bytes;

/// Traces as `config` says and reports to `output`.
pub fn run(config: &TraceConfig, output: &OutputArgs) -> anyhow::Result<ExitCode> {
    let mut progress = ProgressLines {
        to_terminal: std::io::stderr().is_terminal(),
    };
    let outcome = session::trace(config, &mut progress)?;
    let path = output.output.clone().unwrap_or_else(|| {
        let pid = outcome.report.target.pid;
        PathBuf::from(format!("leakspy-{pid}.{}", output.format.extension()))
    });
    export::write_file(&outcome.report, output.format, output.top, &path)
        .with_context(|| format!("cannot write the report to {}", path.display()))?;
    eprintln!(
        "leakspy: {}; report written to {}",
        describe_end(outcome.end),
        path.display()
    );
    let printed = print_summary(&outcome.report, output.top);
    let gate = output
        .fail_on_growth
        .map(|limit| gate::check(&outcome.report, limit));
    if let Some(gate) = &gate {
        gate::write_summary(gate, &mut std::io::stderr().lock())?;
    }
    let code = finish_output(printed)?;
    // A failed command's 2 wins over the gate's 1 (see crate::gate).
    match outcome.end {
        EndReason::TargetExited(Some(status)) if status != 0 => {
            eprintln!("leakspy: the traced command exited with status {status}");
            Ok(ExitCode::from(EXIT_ERROR))
        }
        _ if gate.is_some_and(|gate| !gate.passed()) => Ok(ExitCode::from(gate::EXIT_GROWTH)),
        _ => Ok(code),
    }
}

fn print_summary(report: &Report, top: usize) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    report::render_text(report, top, &mut stdout)?;
    stdout.flush()
}

fn describe_end(end: EndReason) -> String {
    match end {
        EndReason::DurationReached => "the duration ended".into(),
        EndReason::Interrupted(signal) => format!("stopped by {signal}"),
        EndReason::TargetExited(Some(status)) => format!("the command exited with status {status}"),
        EndReason::TargetExited(None) => "the process exited".into(),
    }
}

/// One line on stderr per closed window.
struct ProgressLines {
    to_terminal: bool,
}

impl WindowObserver for ProgressLines {
    fn window_closed(&mut self, summary: &WindowSummary, _: Option<&Report>) {
        let line = format!(
            "window {} at {:.1}s: {} live in {} stacks, RSS {}",
            summary.index,
            summary.end_seconds,
            format_bytes(summary.live_bytes),
            summary.stacks,
            format_bytes(summary.rss_bytes)
        );
        if self.to_terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }
}

impl Drop for ProgressLines {
    fn drop(&mut self) {
        if self.to_terminal {
            eprintln!();
        }
    }
}
