//! Aggregation over time: at the end of each window, every stack's live
//! bytes join its series.

use std::collections::HashMap;

use profiler_common::StackCounters;

use crate::report::Window;

/// One stack's history.
#[derive(Clone, Debug, Default)]
pub struct StackHistory {
    /// The totals at the last window's end.
    pub counters: StackCounters,
    /// Live bytes at the end of each window, one entry per window.
    pub series: Vec<u64>,
}

impl StackHistory {
    /// An empty history over `windows` windows.
    pub fn zero(windows: usize) -> Self {
        StackHistory {
            counters: StackCounters::default(),
            series: vec![0; windows],
        }
    }

    /// Adds `other`'s totals and series to this one.
    pub fn add(&mut self, other: &StackHistory) {
        self.counters.alloc_bytes += other.counters.alloc_bytes;
        self.counters.alloc_count += other.counters.alloc_count;
        self.counters.freed_bytes += other.counters.freed_bytes;
        self.counters.freed_count += other.counters.freed_count;
        for (sum, value) in self.series.iter_mut().zip(&other.series) {
            *sum += value;
        }
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

/// The windows closed so far and each stack's series over them.
#[derive(Debug, Default)]
pub struct WindowRecorder {
    windows: Vec<Window>,
    stacks: HashMap<u64, StackHistory>,
}

impl WindowRecorder {
    /// Closes a window with the kernel's totals at its end. Stacks first
    /// seen now get zeros for the windows before.
    pub fn close_window(&mut self, window: Window, totals: HashMap<u64, StackCounters>) {
        let earlier_windows = self.windows.len();
        self.windows.push(window);
        for (id, counters) in totals {
            let history = self.stacks.entry(id).or_insert_with(|| StackHistory {
                counters,
                series: vec![0; earlier_windows],
            });
            history.counters = counters;
        }
        for history in self.stacks.values_mut() {
            let live = history.live_bytes();
            history.series.push(live);
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
        }
    }

    #[test]
    fn late_stacks_are_padded_and_every_series_has_one_value_per_window() {
        let mut recorder = WindowRecorder::default();
        recorder.close_window(window(0), HashMap::from([(1, counters(64, 0))]));
        recorder.close_window(
            window(1),
            HashMap::from([(1, counters(128, 64)), (2, counters(32, 0))]),
        );
        let stacks = recorder.stacks();
        assert_eq!(stacks[&1].series, vec![64, 64]);
        assert_eq!(stacks[&2].series, vec![0, 32]);
        assert_eq!(stacks[&1].live_count(), 8);
        assert_eq!(recorder.windows().len(), 2);
    }
}
