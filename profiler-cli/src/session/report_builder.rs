//! Turns what a trace gathered into the versioned report.
//!
//! A report stack is a list of symbolized frames. Kernel stacks that differ
//! only in frames the report leaves out (the interpreter's own native
//! frames above a Python line) are added together into one.

use std::collections::{BTreeMap, HashMap};

use crate::frame::Frame;
use crate::report::{self, Mode, Report, Stack, Target, Totals};
use crate::session::stack_symbols::StackSymbols;
use crate::session::windows::{StackHistory, WindowRecorder};
use crate::trend;

/// What the report says about the trace itself.
#[derive(Clone, Debug)]
pub struct TraceFacts {
    pub mode: Mode,
    pub target: Target,
    pub started_at_unix_ms: u64,
    pub duration_seconds: f64,
    pub window_seconds: f64,
    pub lost_events: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

/// Builds the report: every stack with its verdict, most suspicious first.
pub fn build_report(
    facts: TraceFacts,
    recorder: &WindowRecorder,
    symbols: &StackSymbols,
) -> Report {
    let histories = merge_by_frames(recorder, symbols);
    let all_live: u64 = histories
        .iter()
        .map(|(_, _, history)| history.live_bytes())
        .sum();
    let mut stacks: Vec<Stack> = histories
        .into_iter()
        .map(|(id, frames, history)| {
            let trend = trend::analyze(&history.series, facts.window_seconds, all_live);
            Stack {
                id: format!("{id:#018x}"),
                verdict: trend.verdict,
                confidence: trend.confidence,
                live_bytes: history.live_bytes(),
                live_count: history.live_count(),
                alloc_bytes: history.counters.alloc_bytes,
                alloc_count: history.counters.alloc_count,
                freed_bytes: history.counters.freed_bytes,
                freed_count: history.counters.freed_count,
                growth_bytes_per_min: trend.growth_bytes_per_min,
                series: history.series,
                frames,
            }
        })
        .collect();
    report::rank(&mut stacks);
    let totals = Totals {
        live_bytes: all_live,
        live_count: stacks.iter().map(|stack| stack.live_count).sum(),
        alloc_bytes: stacks.iter().map(|stack| stack.alloc_bytes).sum(),
        alloc_count: stacks.iter().map(|stack| stack.alloc_count).sum(),
        freed_bytes: stacks.iter().map(|stack| stack.freed_bytes).sum(),
        freed_count: stacks.iter().map(|stack| stack.freed_count).sum(),
        stacks: stacks.len() as u64,
    };
    Report {
        schema: report::SCHEMA.to_string(),
        leakspy_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: facts.mode,
        target: facts.target,
        started_at_unix_ms: facts.started_at_unix_ms,
        duration_seconds: facts.duration_seconds,
        window_seconds: facts.window_seconds,
        windows: recorder.windows().to_vec(),
        lost_events: facts.lost_events,
        notes: facts.notes,
        totals,
        stacks,
    }
}

/// Adds up the histories of kernel stacks with the same frames. Each merged
/// stack keeps the smallest kernel id, so ids are stable between runs of
/// the same report.
fn merge_by_frames(
    recorder: &WindowRecorder,
    symbols: &StackSymbols,
) -> Vec<(u64, Vec<Frame>, StackHistory)> {
    let mut merged: HashMap<Vec<Frame>, (u64, StackHistory)> = HashMap::new();
    for (&id, history) in recorder.stacks() {
        let entry = merged
            .entry(symbols.frames(id))
            .or_insert_with(|| (id, StackHistory::zero(history.series.len())));
        entry.0 = entry.0.min(id);
        entry.1.add(history);
    }
    merged
        .into_iter()
        .map(|(frames, (id, history))| (id, frames, history))
        .collect()
}
