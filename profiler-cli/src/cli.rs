//! The command line: clap's types, turned into the engine's plain
//! settings. Nothing outside this module sees clap.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{ProbeOptions, TargetSpec, TraceConfig};
use crate::export::Format;
use crate::gate::{GrowthLimit, parse_limit};
use crate::probes::placement::ProbePlacement;
use crate::report::Mode;
use crate::session::GrowthSettings;
use crate::units::{parse_duration, parse_size};

/// Find memory leaks in running processes from the outside, with eBPF.
#[derive(Debug, Parser)]
#[command(name = "leakspy", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log what leakspy does (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Attach to a running process, trace it, and write a report.
    Record(RecordArgs),
    /// Start a command, trace it from its first instruction, and write a report.
    Run(RunArgs),
    /// Show the stacks whose live memory grows, refreshed every window
    /// (full screen on a terminal; text or --json otherwise).
    Top(TopArgs),
    /// Print the summary of a saved report, or export it (--format).
    Report(ReportArgs),
}

/// Options shared by every command that traces.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Stop after this long (10, 10s, 5m, 2h); default: until the target exits or Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Length of one aggregation window (10, 10s, 1m).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub window: Duration,
    /// How memory is observed: growth (page faults, with the allocator
    /// probed in short bursts; low overhead, for production) or precise
    /// (every allocation and free; for CI and short traces).
    #[arg(long, value_enum, default_value = "growth")]
    pub mode: Mode,
    /// Growth mode: the most the allocator bursts may cost the target, as
    /// a share of its time (3%, 0.03); 0 turns the bursts off, leaving
    /// detection from page faults alone.
    #[arg(long, value_name = "SHARE", default_value = "3%", value_parser = parse_share)]
    pub overhead_budget: f64,
    /// Growth mode: blocks smaller than this are sampled with probability
    /// size/SIZE (2KiB, 512).
    #[arg(long, value_name = "SIZE", default_value = "1KiB", value_parser = parse_sample_period)]
    pub sample_period: u64,
    /// Python frames recorded per stack at most (1 to 128).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=128))]
    pub max_python_frames: u32,
    /// For measurement: where the allocator probes go on each function, at
    /// its entry or on the first instruction the kernel emulates.
    #[arg(long, value_enum, default_value = "emulated", hide = true)]
    pub probe_placement: ProbePlacement,
    /// For measurement, precise mode only: probe the same sites with a
    /// program that only counts hits, without return probes.
    #[arg(long, hide = true)]
    pub count_only: bool,
    /// Leave unprobed the places where an LTO build (Debian's pythons)
    /// inlined pymalloc into its callers: small objects allocated there
    /// are then not seen.
    #[arg(long)]
    pub no_inlined_pymalloc: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The process to trace.
    #[arg(long)]
    pub pid: u32,
    #[command(flatten)]
    pub trace: TraceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The command to start, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Where the results of `record` and `run` go.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The report's path; default leakspy-PID.json (another format: its own ending).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The report file's format; only json can be read back by `leakspy report`.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// How many stacks the printed summary shows.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// For CI: exit 1 when a stack judged a leak grew more than SIZE over the
    /// trace (its live bytes at the end), or faster than SIZE per minute with
    /// /min, such as 5MiB or 1MiB/min. A failing traced command still exits 2.
    #[arg(long, value_name = "SIZE[/min]", value_parser = parse_limit)]
    pub fail_on_growth: Option<GrowthLimit>,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// The process to watch.
    #[arg(long)]
    pub pid: u32,
    #[command(flatten)]
    pub trace: TraceArgs,
    /// How many stacks to show.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print one JSON object per window (JSON Lines) instead of the view.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A report written by `leakspy record` or `leakspy run`.
    pub file: PathBuf,
    /// The output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// How many stacks to show.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

impl TraceArgs {
    /// The engine's settings for tracing `target`.
    pub fn config(&self, target: TargetSpec) -> TraceConfig {
        let count_only = self.count_only && self.mode == Mode::Precise;
        if self.count_only && !count_only {
            log::warn!("--count-only applies to precise mode only; ignored");
        }
        TraceConfig {
            target,
            duration: self.duration,
            window: self.window,
            mode: self.mode,
            python_depth: self.max_python_frames,
            growth: GrowthSettings {
                overhead_budget: self.overhead_budget,
                sample_period_bytes: self.sample_period,
            },
            probes: ProbeOptions {
                placement: self.probe_placement,
                count_only,
                inlined_pymalloc: !self.no_inlined_pymalloc,
            },
        }
    }
}

/// A share of time: "3%" or "0.03", from 0 to 1.
fn parse_share(text: &str) -> Result<f64, String> {
    let share = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.trim().parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a share such as 3% or 0.03"))?;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("{text:?} must be from 0 to 100%"))
    }
}

/// A sampling period: a size of at least one byte.
fn parse_sample_period(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(0) => Err("the sample period must be at least 1 byte".into()),
        Ok(size) => Ok(size),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_take_percent_or_fraction_and_stay_in_range() {
        assert_eq!(parse_share("3%"), Ok(0.03));
        assert_eq!(parse_share("0.5"), Ok(0.5));
        assert_eq!(parse_share("0"), Ok(0.0));
        assert!(parse_share("-1%").is_err());
        assert!(parse_share("150%").is_err());
        assert!(parse_share("lots").unwrap_err().contains("not a share"));
    }

    #[test]
    fn growth_is_the_default_mode() {
        let cli = Cli::try_parse_from(["leakspy", "record", "--pid", "1"]).unwrap();
        let Command::Record(args) = cli.command else {
            panic!("record parses as record")
        };
        assert_eq!(args.trace.mode, Mode::Growth);
        assert_eq!(args.trace.sample_period, 1024);
        assert!(parse_sample_period("0").is_err());
    }

    #[test]
    fn probes_go_on_emulated_instructions_unless_told_and_count_only_needs_precise() {
        let config = |args: &[&str]| {
            let argv = ["leakspy", "run"].iter().chain(args).chain(&["--", "true"]);
            let cli = Cli::try_parse_from(argv).unwrap();
            let Command::Run(args) = cli.command else {
                panic!("run parses as run")
            };
            args.trace.config(TargetSpec::Command(args.command.clone()))
        };
        assert_eq!(config(&[]).probes, ProbeOptions::default());
        assert_eq!(config(&[]).probes.placement, ProbePlacement::Emulated);
        let measured = config(&[
            "--mode",
            "precise",
            "--count-only",
            "--probe-placement",
            "entry",
        ]);
        assert!(measured.probes.count_only);
        assert_eq!(measured.probes.placement, ProbePlacement::Entry);
        assert!(!config(&["--count-only"]).probes.count_only);
    }

    #[test]
    fn measurement_flags_stay_out_of_the_help() {
        use clap::CommandFactory as _;
        let help = Cli::command()
            .find_subcommand_mut("run")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("--max-python-frames"));
        assert!(!help.contains("--count-only"));
        assert!(!help.contains("--probe-placement"));
    }
}
