//! Aggregation over time: at the end of each window, every stack's live
//! bytes join its series, and in growth mode its first-touched bytes join
//! a second one, and its new sampled survivors a third.

use std::collections::HashMap;

use profiler_common::StackCounters;

use crate::report::Window;
use crate::session::recaptures::NewSurvivors;

/// One stack's history.
#[derive(Clone, Debug, Default)]
pub struct StackHistory {
    /// The totals at the last window's end.
    pub counters: StackCounters,
    /// Live bytes at the end of each window, one entry per window.
    pub series: Vec<u64>,
    /// Allocations counted from the start of tracing to the end of each
    /// window, one entry per window.
    pub allocations: Vec<u64>,
    /// Growth mode: bytes of pages this stack touched first and that are
    /// still mapped, at the end of each window (empty in precise mode).
    pub fault_series: Vec<u64>,
    /// Growth mode: sampled blocks alive at the end of the window they were
    /// recorded in, counted from the start of tracing to the end of each
    /// window (empty in precise mode)...
    pub survivors: Vec<u64>,
    /// ...and those of them that took over an address this stack held at
    /// the window before's end (`session::recaptures`).
    pub recaptured: Vec<u64>,
    /// Live bytes when the trace ended, by the window they were allocated
    /// in (`session::live_ages`); empty until then.
    pub age_profile: Vec<u64>,
    /// Growth mode: bytes of glibc's mmapped blocks this stack allocated
    /// that are still mapped (they are part of `counters` too).
    pub mapped_bytes: u64,
}

/// What growth mode knows per stack besides the sampled blocks.
#[derive(Clone, Debug, Default)]
pub struct GrowthEvidence {
    /// Bytes of pages first touched and still mapped, per stack.
    pub fault_bytes: HashMap<u64, u64>,
    /// Bytes of glibc's mmapped blocks still mapped, per stack.
    pub mapped_bytes: HashMap<u64, u64>,
    /// Sampled blocks recorded in the window and alive at its end, per
    /// stack.
    pub new_survivors: HashMap<u64, NewSurvivors>,
}

impl StackHistory {
    /// An empty history over `windows` windows.
    pub fn zero(windows: usize) -> Self {
        StackHistory {
            series: vec![0; windows],
            allocations: vec![0; windows],
            ..StackHistory::default()
        }
    }

    /// Adds `other`'s totals and series to this one.
    pub fn add(&mut self, other: &StackHistory) {
        self.counters.alloc_bytes += other.counters.alloc_bytes;
        self.counters.alloc_count += other.counters.alloc_count;
        self.counters.freed_bytes += other.counters.freed_bytes;
        self.counters.freed_count += other.counters.freed_count;
        add_counts(&mut self.series, &other.series);
        add_counts(&mut self.allocations, &other.allocations);
        add_counts(&mut self.fault_series, &other.fault_series);
        add_counts(&mut self.survivors, &other.survivors);
        add_counts(&mut self.recaptured, &other.recaptured);
        add_counts(&mut self.age_profile, &other.age_profile);
        self.mapped_bytes += other.mapped_bytes;
    }

    /// Bytes first touched by this stack and still mapped, at the end.
    pub fn fault_bytes(&self) -> u64 {
        self.fault_series.last().copied().unwrap_or(0)
    }

    pub fn live_bytes(&self) -> u64 {
        self.counters
            .alloc_bytes
            .saturating_sub(self.counters.freed_bytes)
    }

    pub fn live_count(&self) -> u64 {
        self.counters
            .alloc_count
            .saturating_sub(self.counters.freed_count)
    }
}

/// Adds `other` to `sums` value by value, the longer of the two setting
/// the length.
fn add_counts(sums: &mut Vec<u64>, other: &[u64]) {
    if sums.len() < other.len() {
        sums.resize(other.len(), 0);
    }
    for (sum, value) in sums.iter_mut().zip(other) {
        *sum += value;
    }
}

/// Appends to `counts`, a cumulative count over the first `earlier`
/// windows (padded when it starts late), the count `new` after them.
fn push_cumulative(counts: &mut Vec<u64>, earlier: usize, new: u64) {
    let before = counts.last().copied().unwrap_or(0);
    counts.resize(earlier, before);
    counts.push(before + new);
}

/// The windows closed so far and each stack's series over them.
#[derive(Clone, Debug, Default)]
pub struct WindowRecorder {
    windows: Vec<Window>,
    stacks: HashMap<u64, StackHistory>,
}

impl WindowRecorder {
    /// Closes a window with the kernel's totals at its end, and in growth
    /// mode its evidence. Stacks first seen now get zeros for the windows
    /// before.
    pub fn close_window(
        &mut self,
        window: Window,
        totals: HashMap<u64, StackCounters>,
        evidence: Option<&GrowthEvidence>,
    ) {
        let earlier_windows = self.windows.len();
        self.windows.push(window);
        let fault_stacks = evidence.into_iter().flat_map(|e| e.fault_bytes.keys());
        let ids: Vec<u64> = totals.keys().chain(fault_stacks).copied().collect();
        for id in ids {
            self.stacks
                .entry(id)
                .or_insert_with(|| StackHistory::zero(earlier_windows));
        }
        for (id, counters) in totals {
            if let Some(history) = self.stacks.get_mut(&id) {
                history.counters = counters;
            }
        }
        for (id, history) in &mut self.stacks {
            let live = history.live_bytes();
            history.series.push(live);
            history.allocations.push(history.counters.alloc_count);
            if let Some(evidence) = evidence {
                history.fault_series.resize(earlier_windows, 0);
                history
                    .fault_series
                    .push(evidence.fault_bytes.get(id).copied().unwrap_or(0));
                history.mapped_bytes = evidence.mapped_bytes.get(id).copied().unwrap_or(0);
                let new = evidence.new_survivors.get(id).copied().unwrap_or_default();
                push_cumulative(&mut history.survivors, earlier_windows, new.blocks);
                push_cumulative(&mut history.recaptured, earlier_windows, new.recaptured);
            }
        }
    }

    /// Sets each stack's age profile, by stack id, as the trace ends.
    pub fn set_age_profiles(&mut self, profiles: HashMap<u64, Vec<u64>>) {
        for (id, profile) in profiles {
            if let Some(history) = self.stacks.get_mut(&id) {
                history.age_profile = profile;
            }
        }
    }

    /// Forgets every stack: the process replaced its program.
    pub fn forget_stacks(&mut self) {
        self.stacks.clear();
    }

    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    pub fn stacks(&self) -> &HashMap<u64, StackHistory> {
        &self.stacks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(alloc: u64, freed: u64) -> StackCounters {
        StackCounters {
            alloc_bytes: alloc,
            alloc_count: alloc / 8,
            freed_bytes: freed,
            freed_count: freed / 8,
        }
    }

    fn window(index: u64) -> Window {
        Window {
            start: index as f64,
            end: index as f64 + 1.0,
            rss_bytes: 0,
            anon_rss_bytes: 0,
            threads: 1,
            gc: None,
            growth: None,
        }
    }

    #[test]
    fn late_stacks_are_padded_and_every_series_has_one_value_per_window() {
        let mut recorder = WindowRecorder::default();
        recorder.close_window(window(0), HashMap::from([(1, counters(64, 0))]), None);
        recorder.close_window(
            window(1),
            HashMap::from([(1, counters(128, 64)), (2, counters(32, 0))]),
            None,
        );
        let stacks = recorder.stacks();
        assert_eq!(stacks[&1].series, vec![64, 64]);
        assert_eq!(stacks[&2].series, vec![0, 32]);
        assert_eq!(stacks[&1].allocations, vec![8, 16]);
        assert_eq!(stacks[&2].allocations, vec![0, 4]);
        assert_eq!(stacks[&1].live_count(), 8);
        assert_eq!(recorder.windows().len(), 2);
    }

    #[test]
    fn new_survivors_add_up_over_windows_and_over_merged_stacks() {
        let survivors = |entries: &[(u64, u64, u64)]| GrowthEvidence {
            new_survivors: entries
                .iter()
                .map(|&(id, blocks, recaptured)| (id, NewSurvivors { blocks, recaptured }))
                .collect(),
            ..GrowthEvidence::default()
        };
        let mut recorder = WindowRecorder::default();
        let totals = |ids: &[u64]| ids.iter().map(|&id| (id, counters(64, 0))).collect();
        recorder.close_window(window(0), totals(&[1]), Some(&survivors(&[(1, 3, 0)])));
        recorder.close_window(
            window(1),
            totals(&[1, 2]),
            Some(&survivors(&[(1, 2, 2), (2, 4, 1)])),
        );
        let stacks = recorder.stacks();
        assert_eq!(
            (&stacks[&1].survivors, &stacks[&1].recaptured),
            (&vec![3, 5], &vec![0, 2])
        );
        assert_eq!(
            (&stacks[&2].survivors, &stacks[&2].recaptured),
            (&vec![0, 4], &vec![0, 1]),
            "a stack first seen late starts from 0"
        );
        let mut merged = StackHistory::zero(2);
        merged.add(&stacks[&1]);
        merged.add(&stacks[&2]);
        assert_eq!(
            (merged.survivors, merged.recaptured),
            (vec![3, 9], vec![0, 3])
        );
    }
}
