//! One run of one workload in one mode: the figures the workload reports
//! about itself (its main loop's wall time, its peak RSS) and the whole
//! command's wall time, or why the run failed. Under leakspy, also what
//! its report says its bursts and page faults were, and the time the
//! kernel counted in its eBPF programs.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::bench::modes::{LEAKSPY_REPORT, Mode, Tool, Tools};
use crate::bench::process::Started;

/// The environment variable naming the file a workload writes its figures to.
pub const RESULT_VARIABLE: &str = "LEAKSPY_BENCH_RESULT";

/// The figures of one successful run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    /// The workload's main loop, timed by the workload.
    pub loop_seconds: f64,
    /// The whole command, tool start-up and shutdown included.
    pub command_seconds: f64,
    /// The workload process's peak RSS (its VmHWM).
    pub peak_rss_bytes: u64,
    /// Under growth mode, the `growth` section of leakspy's report.
    pub growth: Option<GrowthFacts>,
    /// Under leakspy, the run time of its eBPF programs, when the kernel
    /// counted it (`ebpf_run_time.seconds` in its report).
    pub ebpf_seconds: Option<f64>,
}

/// What growth mode reports about its own work (docs/report-schema.md,
/// `GrowthSummary`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct GrowthFacts {
    pub bursts: u64,
    /// The share of the trace the allocator probes were attached.
    pub duty_cycle: f64,
    /// leakspy's estimate of the bursts' cost, as a share of the trace.
    pub estimated_overhead: f64,
    /// Pages the target touched for the first time (leakspy's estimate
    /// from the one page in 16 its tracepoint follows).
    pub faulted_bytes: u64,
}

/// The parts of leakspy's report read here; other fields are ignored.
#[derive(Debug, Default, Deserialize, PartialEq)]
struct ReportFacts {
    growth: Option<GrowthFacts>,
    #[serde(default)]
    ebpf_run_time: Option<EbpfRunTime>,
}

/// The report's `ebpf_run_time`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
struct EbpfRunTime {
    seconds: f64,
}

/// The line a workload writes (bench/workloads/workload_timing.py).
#[derive(Debug, Deserialize)]
struct WorkloadResult {
    loop_seconds: f64,
    peak_rss_bytes: u64,
}

/// Runs `script SIZE` in `mode` once, with `scratch` (emptied first) for
/// the files of the run. Err holds why the run failed, in one line.
pub fn run_once(
    mode: &Mode,
    tools: &Tools,
    script: &Path,
    size: u64,
    scratch: &Path,
    limit: Duration,
) -> Result<Measurement, String> {
    prepare_scratch(scratch).map_err(|error| format!("{error:#}"))?;
    let Some(mut command) = mode.command(tools, script, size, scratch) else {
        return Err("memray is not installed (see the virtualenv error above)".into());
    };
    let result_path = scratch.join("result.json");
    let stderr_path = scratch.join("stderr.txt");
    let files = (|| -> Result<_> {
        Ok((
            fs::File::create(scratch.join("stdout.txt"))?,
            fs::File::create(&stderr_path)?,
        ))
    })()
    .map_err(|error| format!("cannot create the run's output files: {error:#}"))?;
    command
        .env(RESULT_VARIABLE, &result_path)
        .stdin(Stdio::null())
        .stdout(files.0)
        .stderr(files.1);
    let exit = Started::spawn(&mut command)
        .and_then(|started| started.wait(limit))
        .map_err(|error| format!("{error:#}"))?;
    let stderr_tail = || last_lines(&fs::read_to_string(&stderr_path).unwrap_or_default());
    if exit.timed_out {
        return Err(format!(
            "killed after {} s: {}",
            limit.as_secs(),
            stderr_tail()
        ));
    }
    if !exit.status.success() {
        return Err(format!("{}: {}", exit.status, stderr_tail()));
    }
    let line = fs::read_to_string(&result_path)
        .map_err(|_| format!("the workload wrote no result: {}", stderr_tail()))?;
    let result: WorkloadResult = serde_json::from_str(line.trim())
        .map_err(|error| format!("unreadable workload result {line:?}: {error}"))?;
    let report = match mode.tool {
        Tool::Leakspy(_) => read_report_facts(&scratch.join(LEAKSPY_REPORT))?,
        _ => ReportFacts::default(),
    };
    Ok(Measurement {
        loop_seconds: result.loop_seconds,
        command_seconds: exit.elapsed.as_secs_f64(),
        peak_rss_bytes: result.peak_rss_bytes,
        growth: report.growth,
        ebpf_seconds: report.ebpf_run_time.map(|run_time| run_time.seconds),
    })
}

/// What is read of the leakspy report at `path`.
fn read_report_facts(path: &Path) -> Result<ReportFacts, String> {
    let text = fs::read_to_string(path)
        .map_err(|error| format!("leakspy wrote no report to {}: {error}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|error| format!("{} is not a leakspy report: {error}", path.display()))
}

/// Empties `scratch`, so no file of an earlier run is taken for this one's.
fn prepare_scratch(scratch: &Path) -> Result<()> {
    if scratch.exists() {
        fs::remove_dir_all(scratch)
            .with_context(|| format!("cannot empty {}", scratch.display()))?;
    }
    fs::create_dir_all(scratch).with_context(|| format!("cannot create {}", scratch.display()))
}

/// The last two non-empty lines of a command's stderr, joined, at most
/// 300 characters: enough to say why it failed.
pub fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(2)..].join(" / ");
    if tail.is_empty() {
        return "(no output on stderr)".into();
    }
    let mut short: String = tail.chars().take(300).collect();
    if short.len() < tail.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_growth_section_and_the_run_time_of_a_report() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.json");
        fs::write(
            &path,
            r#"{"mode": "growth", "growth": {"bursts": 3, "duty_cycle": 0.5,
                "estimated_overhead": 0.02, "faulted_bytes": 4096, "samples": 7},
                "ebpf_run_time": {"seconds": 0.25, "runs": 9}}"#,
        )
        .unwrap();
        let report = read_report_facts(&path).unwrap();
        let facts = report.growth.unwrap();
        assert_eq!(facts.bursts, 3);
        assert_eq!(facts.faulted_bytes, 4096);
        assert_eq!(report.ebpf_run_time, Some(EbpfRunTime { seconds: 0.25 }));
        fs::write(&path, r#"{"mode": "precise", "growth": null}"#).unwrap();
        assert_eq!(read_report_facts(&path), Ok(ReportFacts::default()));
        fs::remove_dir_all(&dir).unwrap();
        assert!(
            read_report_facts(&path)
                .unwrap_err()
                .contains("wrote no report")
        );
    }

    #[test]
    fn keeps_the_last_two_lines_of_stderr() {
        assert_eq!(last_lines(""), "(no output on stderr)");
        assert_eq!(last_lines("a\n\nb\n  c  \n\n"), "b / c");
        assert_eq!(last_lines(&"x".repeat(400)).chars().count(), 301);
    }
}
