//! leakspy's own cost at scale: `leakspy record --mode precise --pid P` on
//! a target that allocates and then holds about a million live blocks
//! from about a hundred thousand distinct Python stacks
//! (bench/scale/many_stacks.py). leakspy's CPU time and peak RSS come from
//! wait4 on it alone; the time from Ctrl-C to its exit is what detaching,
//! building and writing the report take.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use crate::bench::line_watch::LineWatch;
use crate::bench::modes::Tools;
use crate::bench::process::{Started, Usage};
use crate::workspace;

/// The longest the harness waits for the target or leakspy at each step.
const STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// Windows leakspy closes after the target holds everything, before it is
/// stopped: time to count and name every stack.
pub const WINDOWS_AFTER_HOLDING: usize = 2;

/// The target's shape: OUTER x INNER x SITES sites, REPEAT blocks each.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetShape {
    pub outer: u32,
    pub inner: u32,
    pub sites: u32,
    pub repeat: u32,
    /// leakspy's window during the measurement.
    pub window_seconds: u32,
}

/// About 1 M live blocks from about 100 k stacks.
pub const FULL_SHAPE: TargetShape = TargetShape {
    outer: 100,
    inner: 100,
    sites: 10,
    repeat: 10,
    window_seconds: 5,
};

/// 10 k blocks from 1 k stacks.
pub const QUICK_SHAPE: TargetShape = TargetShape {
    outer: 10,
    inner: 10,
    sites: 10,
    repeat: 10,
    window_seconds: 1,
};

/// What the measurement found.
#[derive(Clone, Debug, PartialEq)]
pub struct HoldingFigures {
    /// Blocks and sites the target says it holds.
    pub target_blocks: u64,
    pub target_sites: u64,
    /// What leakspy's report counts: live blocks and distinct stacks.
    pub report_live_count: u64,
    pub report_stacks: u64,
    /// The stacks of leakspy's last window line: the kernel's stack ids,
    /// before the report merges those whose frames symbolize alike.
    pub kernel_stacks: Option<u64>,
    /// Events the kernel side dropped, by cause (only causes above 0).
    pub lost_events: Vec<(String, u64)>,
    /// leakspy's own usage, from wait4.
    pub usage: Usage,
    /// From starting leakspy to its exit.
    pub wall_seconds: f64,
    /// From the target's first allocation to it holding everything.
    pub allocating_seconds: f64,
    /// From Ctrl-C to leakspy's exit: detach, build and write the report.
    pub stop_to_exit_seconds: f64,
    pub report_path: PathBuf,
    pub report_bytes: u64,
}

/// The fields of the report this measurement reads.
#[derive(Deserialize)]
struct ReportHead {
    totals: ReportTotals,
    lost_events: std::collections::BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct ReportTotals {
    live_count: u64,
    stacks: u64,
}

/// Runs the measurement; the report is left in `scratch` for the
/// rendering measurement.
pub fn measure(tools: &Tools, shape: TargetShape, scratch: &Path) -> Result<HoldingFigures> {
    let script = workspace::root().join("bench/scale/many_stacks.py");
    let mut target = Started::spawn(
        Command::new(&tools.python)
            .arg(&script)
            .args([shape.outer, shape.inner, shape.sites, shape.repeat].map(|n| n.to_string()))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    )?;
    let mut target_stdin = target
        .child_mut()
        .stdin
        .take()
        .context("the target's stdin")?;
    let mut target_lines = LineWatch::new(
        target
            .child_mut()
            .stdout
            .take()
            .context("the target's stdout")?,
    );
    let deadline = || Instant::now() + STEP_TIMEOUT;
    if target_lines
        .wait_for(deadline(), |line| line == "ready")
        .is_none()
    {
        bail!(
            "{} did not get ready: {}",
            script.display(),
            target_lines.tail()
        );
    }
    let report_path = scratch.join("many-stacks-report.json");
    let mut leakspy = Started::spawn(
        Command::new(&tools.leakspy)
            .args(["record", "--mode", "precise", "--window"])
            .arg(shape.window_seconds.to_string())
            .arg("--pid")
            .arg(target.pid().to_string())
            .arg("-o")
            .arg(&report_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )?;
    let started = leakspy.started();
    let mut leakspy_lines = LineWatch::new(
        leakspy
            .child_mut()
            .stderr
            .take()
            .context("leakspy's stderr")?,
    );
    if leakspy_lines
        .wait_for(deadline(), |line| {
            line.starts_with("leakspy: tracing process")
        })
        .is_none()
    {
        bail!("leakspy did not attach: {}", leakspy_lines.tail());
    }
    let go = Instant::now();
    writeln!(target_stdin).context("starting the target's allocations")?;
    let Some((held, holding)) =
        target_lines.wait_for(deadline(), |line| line.starts_with("holding"))
    else {
        bail!("the target never held its blocks: {}", target_lines.tail());
    };
    let (target_sites, target_blocks) = parse_holding(&holding)
        .with_context(|| format!("unexpected line from the target: {holding:?}"))?;
    let mut last_window = String::new();
    for _ in 0..WINDOWS_AFTER_HOLDING {
        match leakspy_lines.wait_for(deadline(), |line| line.starts_with("window ")) {
            Some((_, line)) => last_window = line,
            None => bail!("leakspy closed no window: {}", leakspy_lines.tail()),
        }
    }
    let stop = Instant::now();
    leakspy.signal(libc::SIGINT);
    let exit = leakspy.wait(STEP_TIMEOUT)?;
    let exited = Instant::now();
    // Lets the target exit; dropping it would kill it anyway.
    let _ = writeln!(target_stdin);
    drop(target_stdin);
    target.wait(STEP_TIMEOUT)?;
    if !exit.status.success() {
        bail!(
            "leakspy record failed ({}): {}",
            exit.status,
            leakspy_lines.tail()
        );
    }
    let text = fs::read_to_string(&report_path)
        .with_context(|| format!("cannot read {}", report_path.display()))?;
    let report: ReportHead = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a leakspy report", report_path.display()))?;
    Ok(HoldingFigures {
        target_blocks,
        target_sites,
        report_live_count: report.totals.live_count,
        report_stacks: report.totals.stacks,
        kernel_stacks: window_stacks(&last_window),
        lost_events: report
            .lost_events
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .collect(),
        usage: exit.usage,
        wall_seconds: (exited - started).as_secs_f64(),
        allocating_seconds: (held - go).as_secs_f64(),
        stop_to_exit_seconds: (exited - stop).as_secs_f64(),
        report_bytes: text.len() as u64,
        report_path,
    })
}

/// "holding SITES BLOCKS" → (sites, blocks).
fn parse_holding(line: &str) -> Option<(u64, u64)> {
    let mut words = line.split_whitespace();
    (words.next()? == "holding").then_some(())?;
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// N in a window line: "window 3 at 6.0s: 25.1 MiB live in N stacks, RSS 44.5 MiB".
fn window_stacks(line: &str) -> Option<u64> {
    let (before, _) = line.split_once(" stacks")?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The value of `const NAME: u32 = A * B * ...;` in profiler-ebpf's
/// maps.rs: the kernel maps' sizes, quoted next to the figures.
pub fn kernel_map_limit(maps_source: &str, name: &str) -> Option<u64> {
    let prefix = format!("const {name}:");
    let line = maps_source
        .lines()
        .find(|line| line.trim_start().starts_with(&prefix))?;
    let expression = line.split_once('=')?.1.trim().trim_end_matches(';');
    expression
        .split('*')
        .map(|factor| factor.trim().replace('_', "").parse::<u64>().ok())
        .product()
}

/// profiler-ebpf/src/maps.rs, read for [`kernel_map_limit`].
pub fn maps_source() -> String {
    fs::read_to_string(workspace::root().join("profiler-ebpf/src/maps.rs")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_holding_line() {
        assert_eq!(
            parse_holding("holding 100000 1000000"),
            Some((100_000, 1_000_000))
        );
        assert_eq!(parse_holding("ready"), None);
    }

    #[test]
    fn reads_the_stacks_of_a_window_line() {
        let line = "window 13 at 26.5s: 100.6 MiB live in 200202 stacks, RSS 131.9 MiB";
        assert_eq!(window_stacks(line), Some(200_202));
        assert_eq!(window_stacks("leakspy: tracing process 1"), None);
    }

    #[test]
    fn evaluates_the_map_size_products() {
        let source = "const MAX_LIVE_ALLOCATIONS: u32 = 4 * 1024 * 1024;\nconst MAX_STACKS: u32 = 256_000;\n";
        assert_eq!(
            kernel_map_limit(source, "MAX_LIVE_ALLOCATIONS"),
            Some(4 << 20)
        );
        assert_eq!(kernel_map_limit(source, "MAX_STACKS"), Some(256_000));
        assert_eq!(kernel_map_limit(source, "MAX_OTHER"), None);
        assert!(kernel_map_limit(&maps_source(), "MAX_LIVE_ALLOCATIONS").is_some());
    }
}
