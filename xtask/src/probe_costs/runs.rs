//! One timed run of a probe-cost driver, alone or under `leakspy record`.
//!
//! Every driver (bench/probe_drivers/) prints "ready", waits for a line on
//! stdin, runs its loop and prints "<nanoseconds> <calls>". A probed run
//! starts leakspy on the waiting driver and says go only once leakspy
//! reports that it traces, so the loop runs entirely under the probes and
//! leakspy's start and end are not timed.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::command;

/// The longest leakspy may take to attach.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(60);
/// What leakspy prints on stderr once its probes are attached.
const TRACING: &str = "leakspy: tracing process";
/// The note a count-only report carries, up to the number of hits.
const COUNT_NOTE: &str = "count-only: the allocator probes were hit ";

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub elapsed_ns: u64,
    pub calls: u64,
    /// Probe hits, from a count-only report.
    pub hits: Option<u64>,
    /// leakspy's "probe placement: …" log lines.
    pub placements: Vec<String>,
}

/// A driver waiting for its go; killed if dropped before it finished.
struct Driver {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Driver {
    fn start(argv: &[String]) -> Result<Driver> {
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", argv.join(" ")))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        if line.trim() != "ready" {
            bail!("{} said {line:?} instead of ready", argv.join(" "));
        }
        Ok(Driver { child, stdout })
    }

    /// Says go, and returns the loop's nanoseconds and calls.
    fn go(mut self) -> Result<(u64, u64)> {
        let stdin = self.child.stdin.as_mut().expect("stdin is piped");
        stdin.write_all(b"go\n")?;
        stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        match (fields.next(), fields.next()) {
            (Some(Ok(elapsed)), Some(Ok(calls))) => {
                self.child.wait()?;
                Ok((elapsed, calls))
            }
            _ => bail!("the driver printed {line:?} instead of its timing"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Gone already after go(); otherwise it must not outlive the run.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `argv` unprobed.
pub fn unprobed(argv: &[String]) -> Result<Run> {
    let (elapsed_ns, calls) = Driver::start(argv)?.go()?;
    Ok(Run {
        elapsed_ns,
        calls,
        ..Run::default()
    })
}

/// Runs `argv` under `leakspy record --mode precise` with `flags`; the
/// report goes to `report`.
pub fn probed(leakspy: &Path, argv: &[String], flags: &[&str], report: &Path) -> Result<Run> {
    let driver = Driver::start(argv)?;
    let mut tracer = Command::new(leakspy)
        .args(["record", "--mode", "precise", "-vv", "--pid"])
        .arg(driver.child.id().to_string())
        .args(flags)
        .arg("-o")
        .arg(report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", leakspy.display()))?;
    let (lines, attached) = collect_stderr(&mut tracer);
    if attached.recv_timeout(ATTACH_TIMEOUT).is_err() {
        let _ = tracer.kill();
        let _ = tracer.wait();
        bail!(
            "leakspy did not attach: {}",
            lines.join().unwrap_or_default().join("\n")
        );
    }
    let timing = driver.go();
    let status = tracer.wait()?;
    let log = lines.join().unwrap_or_default();
    let (elapsed_ns, calls) = timing?;
    if !status.success() {
        bail!("leakspy failed ({status}): {}", log.join("\n"));
    }
    let report_text = std::fs::read_to_string(report)
        .with_context(|| format!("cannot read {}", report.display()))?;
    Ok(Run {
        elapsed_ns,
        calls,
        hits: count_note_hits(&report_text),
        placements: log
            .into_iter()
            .filter_map(|line| Some(line.split_once("probe placement: ")?.1.to_string()))
            .collect(),
    })
}

/// Reads leakspy's stderr on a thread: all its lines, and a signal once it
/// traces.
fn collect_stderr(tracer: &mut Child) -> (thread::JoinHandle<Vec<String>>, mpsc::Receiver<()>) {
    let stderr = tracer.stderr.take().expect("stderr is piped");
    let (attached, signal) = mpsc::channel();
    let lines = thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(TRACING) {
                let _ = attached.send(());
            }
            lines.push(line);
        }
        lines
    });
    (lines, signal)
}

/// The hits a count-only report's note gives.
fn count_note_hits(report: &str) -> Option<u64> {
    let after = &report[report.find(COUNT_NOTE)? + COUNT_NOTE.len()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Compiles a C driver with gcc.
pub fn compile(source: &Path, binary: &Path, extra: &[String]) -> Result<PathBuf> {
    command::run(
        Command::new("gcc")
            .args(["-O2", "-Wall", "-Wextra", "-o"])
            .arg(binary)
            .arg(source)
            .args(extra),
    )?;
    Ok(binary.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_note_gives_the_hits() {
        let report = r#"{"notes":["count-only: the allocator probes were hit 200017 times; they only counted"]}"#;
        assert_eq!(count_note_hits(report), Some(200_017));
        assert_eq!(count_note_hits("{}"), None);
    }
}
