//! Time to attach: from starting `leakspy record --pid P --window 1` on a
//! busy Python process to leakspy saying it traces (probes attached), and
//! to the first window it shows.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::bench::line_watch::LineWatch;
use crate::bench::modes::Tools;
use crate::bench::process::Started;
use crate::bench::workloads::WORKLOADS;

/// How long the target runs before leakspy attaches, to be past start-up.
const TARGET_WARM_UP: Duration = Duration::from_secs(1);
/// The longest the harness waits for one line of leakspy's.
const LINE_TIMEOUT: Duration = Duration::from_secs(120);

/// One attach, in seconds from starting leakspy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttachTimes {
    /// To "leakspy: tracing process ...": loaded, probes attached.
    pub tracing_seconds: f64,
    /// To the first "window 1 at ..." line.
    pub first_window_seconds: f64,
}

/// Attaches to a fresh json_requests target in `mode` (growth or precise).
pub fn measure(tools: &Tools, mode: &str, scratch: &Path) -> Result<AttachTimes> {
    let workload = WORKLOADS
        .iter()
        .find(|workload| workload.name == "json_requests")
        .expect("json_requests is a workload");
    // Runs far longer than the measurement; killed when it is dropped.
    let target = Started::spawn(
        Command::new(&tools.python)
            .arg(workload.script())
            .arg((workload.full_size * 1000).to_string())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    )?;
    std::thread::sleep(TARGET_WARM_UP);
    let mut leakspy = Started::spawn(
        Command::new(&tools.leakspy)
            .args(["record", "--mode", mode, "--window", "1", "--pid"])
            .arg(target.pid().to_string())
            .arg("-o")
            .arg(scratch.join("attach-report.json"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )?;
    let started = leakspy.started();
    let stderr = leakspy
        .child_mut()
        .stderr
        .take()
        .context("leakspy's stderr")?;
    let mut lines = LineWatch::new(stderr);
    let deadline = Instant::now() + LINE_TIMEOUT;
    let tracing = lines.wait_for(deadline, |line| {
        line.starts_with("leakspy: tracing process")
    });
    let window = tracing
        .as_ref()
        .and_then(|_| lines.wait_for(deadline, |line| line.starts_with("window 1 at")));
    leakspy.signal(libc::SIGINT);
    let exit = leakspy.wait(LINE_TIMEOUT)?;
    drop(target);
    match (tracing, window) {
        (Some((traced, _)), Some((shown, _))) => Ok(AttachTimes {
            tracing_seconds: (traced - started).as_secs_f64(),
            first_window_seconds: (shown - started).as_secs_f64(),
        }),
        _ => bail!(
            "leakspy record --mode {mode} showed no first window ({}): {}",
            exit.status,
            lines.tail()
        ),
    }
}
