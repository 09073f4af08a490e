//! `leakspy top --json`: one JSON object per line for each closed window,
//! and a last one marked `"last": true` for the whole trace, for programs
//! that follow the trace as it runs.

use std::io::{self, Write as _};

use serde::Serialize;

use super::TopOutput;
use crate::frame::Frame;
use crate::report::{GcCounters, Report, Verdict};
use crate::session::{WindowObserver, WindowSummary};

/// One line of output.
#[derive(Serialize)]
struct WindowRecord<'a> {
    /// Windows closed so far.
    window: usize,
    /// Seconds since tracing began, at the end of the window.
    end: f64,
    /// True on the line written when the trace ended.
    last: bool,
    pid: u32,
    rss_bytes: u64,
    anon_rss_bytes: u64,
    threads: u32,
    gc: Option<&'a GcCounters>,
    /// Growth mode: the share of the trace the allocator was probed.
    duty_cycle: Option<f64>,
    live_bytes: u64,
    /// Distinct stacks seen; `stacks` holds the most suspicious of them.
    stack_count: u64,
    stacks: Vec<StackRecord<'a>>,
}

#[derive(Serialize)]
struct StackRecord<'a> {
    id: &'a str,
    verdict: Verdict,
    confidence: f64,
    live_bytes: u64,
    growth_bytes_per_min: f64,
    /// Innermost first.
    frames: &'a [Frame],
}

fn record(report: &Report, top: usize, last: bool) -> WindowRecord<'_> {
    let window = report.windows.last();
    WindowRecord {
        window: report.windows.len(),
        end: window.map_or(0.0, |window| window.end),
        last,
        pid: report.target.pid,
        rss_bytes: window.map_or(0, |window| window.rss_bytes),
        anon_rss_bytes: window.map_or(0, |window| window.anon_rss_bytes),
        threads: window.map_or(0, |window| window.threads),
        gc: window.and_then(|window| window.gc.as_ref()),
        duty_cycle: report.growth.as_ref().map(|growth| growth.duty_cycle),
        live_bytes: report.totals.live_bytes,
        stack_count: report.totals.stacks,
        stacks: report
            .stacks
            .iter()
            .take(top)
            .map(|stack| StackRecord {
                id: &stack.id,
                verdict: stack.verdict,
                confidence: stack.confidence,
                live_bytes: stack.live_bytes,
                growth_bytes_per_min: stack.growth_bytes_per_min,
                frames: &stack.frames,
            })
            .collect(),
    }
}

/// Writes the lines; remembers the first failed write.
pub struct JsonLines {
    top: usize,
    result: io::Result<()>,
}

impl JsonLines {
    pub fn new(top: usize) -> Self {
        JsonLines {
            top,
            result: Ok(()),
        }
    }

    fn write(&mut self, report: &Report, last: bool) {
        if self.result.is_err() {
            return;
        }
        let mut stdout = io::stdout().lock();
        self.result = serde_json::to_writer(&mut stdout, &record(report, self.top, last))
            .map_err(io::Error::from)
            .and_then(|()| writeln!(stdout))
            .and_then(|()| stdout.flush());
    }
}

impl TopOutput for JsonLines {
    fn finish(&mut self, report: &Report) -> io::Result<()> {
        self.write(report, true);
        std::mem::replace(&mut self.result, Ok(()))
    }
}

impl WindowObserver for JsonLines {
    fn wants_report(&self) -> bool {
        true
    }

    fn window_closed(&mut self, _: &WindowSummary, report: Option<&Report>) {
        if let Some(report) = report {
            self.write(report, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    #[test]
    fn a_record_carries_the_window_and_the_top_stacks() {
        let report = sample_report();
        let line = serde_json::to_string(&record(&report, 1, false)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["window"], 3);
        assert_eq!(value["last"], false);
        assert_eq!(value["threads"], 2);
        assert_eq!(value["gc"]["collections"][0], 120);
        assert_eq!(value["stacks"].as_array().unwrap().len(), 1);
        assert_eq!(value["stacks"][0]["verdict"], "leak");
        assert!(value["stacks"][0]["frames"][0]["function"].is_string());
        assert!(!line.contains('\n'));
    }
}
