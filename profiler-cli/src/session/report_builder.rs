//! Turns what a trace gathered into the versioned report.
//!
//! A report stack is a list of symbolized frames. Kernel stacks that differ
//! only in frames the report leaves out (the interpreter's own native
//! frames above a Python line) are added together into one.
//!
//! In growth mode a stack is judged on its sampled blocks still alive; a
//! stack with no sampled block is judged on the pages it touched first,
//! which is weak evidence, so it is never called more than `growing`.

use std::collections::{BTreeMap, HashMap};

use crate::frame::Frame;
use crate::report::{
    self, EbpfRunTime, Evidence, EvidenceBasis, GrowthSummary, Mode, Report, Stack, Target, Totals,
    Verdict, Window,
};
use crate::session::stack_symbols::StackSymbols;
use crate::session::windows::{StackHistory, WindowRecorder};
use crate::trend::{self, Turnover};

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
    pub growth: Option<GrowthSummary>,
    pub ebpf_run_time: Option<EbpfRunTime>,
}

/// Builds the report: every stack with its verdict, most suspicious first.
pub fn build_report(
    facts: TraceFacts,
    recorder: &WindowRecorder,
    symbols: &StackSymbols,
) -> Report {
    let histories = merge_by_frames(recorder, symbols);
    let growth_mode = facts.mode == Mode::Growth;
    let judged: Vec<_> = histories
        .into_iter()
        .map(|(id, frames, history)| {
            let basis = growth_mode.then(|| evidence_basis(&history));
            let series = match basis {
                Some(EvidenceBasis::Faults) => history.fault_series.clone(),
                _ => history.series.clone(),
            };
            (id, frames, history, basis, series)
        })
        .collect();
    // A stack's share of memory is judged against stacks of its own kind:
    // first-touched pages are no estimate of what sampled blocks hold.
    let all_live: u64 = judged
        .iter()
        .filter(|(_, _, _, basis, _)| *basis != Some(EvidenceBasis::Faults))
        .map(|(_, _, _, _, series)| series.last().copied().unwrap_or(0))
        .sum();
    let sampled_windows = sampled_windows(recorder.windows());
    let mut stacks: Vec<Stack> = judged
        .into_iter()
        .map(|(id, frames, history, basis, series)| {
            // Faults are counted by page, not by allocation, and in every
            // window; sampled blocks only in windows with a burst.
            let trend = if basis == Some(EvidenceBasis::Faults) {
                trend::analyze(&series, facts.window_seconds, all_live)
            } else {
                let allocations = pick(&history.allocations, &sampled_windows);
                let survivors = pick(&history.survivors, &sampled_windows);
                let recaptured = pick(&history.recaptured, &sampled_windows);
                let ages = pick(&history.age_profile, &sampled_windows);
                let turnover = Turnover {
                    allocations: &allocations,
                    survivors: &survivors,
                    recaptured: &recaptured,
                    ages: &ages,
                };
                trend::analyze_with_turnover(
                    &pick(&series, &sampled_windows),
                    turnover,
                    facts.window_seconds,
                    all_live,
                )
            };
            log::debug!("stack {id:#018x}: {:?}", trend.features);
            let verdict = match (basis, trend.verdict) {
                (Some(EvidenceBasis::Faults), Verdict::Leak) => Verdict::Growing,
                (_, verdict) => verdict,
            };
            Stack {
                id: format!("{id:#018x}"),
                verdict,
                confidence: trend.confidence,
                live_bytes: series.last().copied().unwrap_or(0),
                live_count: history.live_count(),
                alloc_bytes: history.counters.alloc_bytes,
                alloc_count: history.counters.alloc_count,
                freed_bytes: history.counters.freed_bytes,
                freed_count: history.counters.freed_count,
                growth_bytes_per_min: trend.growth_bytes_per_min,
                evidence: basis.map(|basis| Evidence {
                    basis,
                    sampled_blocks: history.counters.alloc_count,
                    surviving_blocks: history.live_count(),
                    large_block_bytes: history.mapped_bytes,
                    fault_bytes: history.fault_bytes(),
                }),
                series,
                frames,
                age_profile: history.age_profile,
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
        growth: facts.growth,
        ebpf_run_time: facts.ebpf_run_time,
    }
}

/// The windows whose ends a stack's allocations are judged at: in growth
/// mode those in which a burst sampled (a window without one brings no
/// news of any stack's blocks, but for the deaths the next one shows as
/// well), every window otherwise.
fn sampled_windows(windows: &[Window]) -> Vec<usize> {
    let sampled: Vec<usize> = windows
        .iter()
        .enumerate()
        .filter(|(_, window)| {
            window
                .growth
                .as_ref()
                .is_none_or(|growth| growth.duty_cycle > 0.0)
        })
        .map(|(index, _)| index)
        .collect();
    if sampled.is_empty() {
        (0..windows.len()).collect()
    } else {
        sampled
    }
}

/// The values of `series` at `indices`.
fn pick(series: &[u64], indices: &[usize]) -> Vec<u64> {
    indices
        .iter()
        .filter_map(|&index| series.get(index).copied())
        .collect()
}

/// What a growth-mode stack is judged on: its sampled blocks, or, when
/// none was sampled, the pages it touched first.
fn evidence_basis(history: &StackHistory) -> EvidenceBasis {
    if history.counters.alloc_count > 0 {
        EvidenceBasis::SampledSurvivors
    } else {
        EvidenceBasis::Faults
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::WindowGrowth;

    fn window(duty_cycle: Option<f64>) -> Window {
        Window {
            start: 0.0,
            end: 1.0,
            rss_bytes: 0,
            anon_rss_bytes: 0,
            threads: 1,
            gc: None,
            growth: duty_cycle.map(|duty_cycle| WindowGrowth {
                faulted_bytes: 0,
                released_bytes: 0,
                duty_cycle,
            }),
        }
    }

    #[test]
    fn sampled_stacks_are_judged_at_the_windows_with_a_burst() {
        let windows = [Some(0.0), Some(0.4), Some(0.0), Some(0.3)].map(window);
        let picked = sampled_windows(&windows);
        assert_eq!(picked, vec![1, 3]);
        assert_eq!(pick(&[10, 20, 20, 35], &picked), vec![20, 35]);
        // Precise mode, and growth mode without a single burst: all.
        assert_eq!(sampled_windows(&[None, None].map(window)), vec![0, 1]);
        assert_eq!(sampled_windows(&[Some(0.0); 2].map(window)), vec![0, 1]);
    }
}
