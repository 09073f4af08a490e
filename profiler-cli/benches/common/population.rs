//! A trace's stacks: each with a kernel stack id, a shape of memory use,
//! its live bytes at the end of every window, and the running totals the
//! kernel's counter map holds for it.
//!
//! The mix is that of a service: most stacks churn (allocate and free
//! within a window), a quarter hold steady, a few fill caches early and
//! two in ten thousand leak, each by a few hundred KiB a window: enough
//! to be material among 100 k stacks. One stack in ten appears after the
//! first window, so the recorder pads it with zeros.

use std::collections::HashMap;

use profiler_common::StackCounters;

use super::mix;

/// What a stack's memory does over the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Keeps what it allocates: rises in nine windows of ten, by 64 to
    /// 127 pages.
    Leak,
    /// Fills a bounded cache in the first quarter of the trace, then holds.
    CacheFill,
    /// Holds about the same bytes all along, give or take some blocks.
    Stable,
    /// Allocates and frees within a window: a few blocks live at a time.
    Churn,
}

impl Shape {
    /// The shape of stack number `index`: 0.02 % leaks, 4 % caches, 25 %
    /// stable, the rest churn.
    pub fn of(index: usize) -> Shape {
        match mix(index as u64) % 10_000 {
            0..2 => Shape::Leak,
            2..400 => Shape::CacheFill,
            400..2900 => Shape::Stable,
            _ => Shape::Churn,
        }
    }
}

/// One stack of the population.
#[derive(Clone, Debug)]
pub struct SyntheticStack {
    /// A kernel stack id: a hash of the frames.
    pub id: u64,
    pub shape: Shape,
    /// Bytes per block allocated, 32 B to 4 KiB.
    pub block: u64,
    /// The first window in which the stack allocated.
    pub first_window: usize,
    /// Live bytes at the end of every window, 0 before `first_window`.
    pub series: Vec<u64>,
}

impl SyntheticStack {
    /// Stack number `index` over `windows` windows.
    pub fn new(index: usize, windows: usize) -> SyntheticStack {
        let seed = mix(index as u64 ^ 0x5eed);
        let shape = Shape::of(index);
        let block = 32 << (seed % 8);
        let first_window = if seed.is_multiple_of(10) {
            (seed >> 8) as usize % windows
        } else {
            0
        };
        let mut live = 0u64;
        let series = (0..windows)
            .map(|window| {
                if window < first_window {
                    return 0;
                }
                let noise = mix(seed.wrapping_add(window as u64));
                live = match shape {
                    Shape::Leak if noise.is_multiple_of(10) => live,
                    Shape::Leak => live + 4096 * (64 + noise % 64),
                    Shape::CacheFill if window < first_window + windows / 4 => live + block * 4,
                    Shape::CacheFill => live,
                    Shape::Stable => block * 16 + block * (noise % 4),
                    Shape::Churn => block * (noise % 4),
                };
                live
            })
            .collect();
        SyntheticStack {
            id: mix(seed),
            shape,
            block,
            first_window,
            series,
        }
    }

    /// The kernel's running totals at the end of `window`: whatever the
    /// shape, 64 blocks a window are freed, so allocated is live + freed.
    pub fn counters(&self, window: usize) -> StackCounters {
        let windows_alive = (window + 1).saturating_sub(self.first_window) as u64;
        let freed_bytes = self.block * 64 * windows_alive;
        let alloc_bytes = self.series[window] + freed_bytes;
        StackCounters {
            alloc_bytes,
            alloc_count: alloc_bytes / self.block,
            freed_bytes,
            freed_count: freed_bytes / self.block,
        }
    }
}

/// The stacks of one trace.
#[derive(Clone, Debug)]
pub struct Population {
    pub stacks: Vec<SyntheticStack>,
    pub windows: usize,
}

impl Population {
    pub fn new(stacks: usize, windows: usize) -> Population {
        Population {
            stacks: (0..stacks)
                .map(|index| SyntheticStack::new(index, windows))
                .collect(),
            windows,
        }
    }

    /// The counter map's entries at the end of `window`, in the order a
    /// map iteration gives them: every stack that allocated by then.
    pub fn counter_entries(&self, window: usize) -> Vec<(u64, StackCounters)> {
        self.stacks
            .iter()
            .filter(|stack| stack.first_window <= window)
            .map(|stack| (stack.id, stack.counters(window)))
            .collect()
    }

    /// The totals the trace loop hands the recorder at the end of `window`.
    pub fn totals(&self, window: usize) -> HashMap<u64, StackCounters> {
        self.counter_entries(window).into_iter().collect()
    }

    /// All stacks' live bytes at the end of the trace.
    pub fn live_bytes(&self) -> u64 {
        self.stacks
            .iter()
            .map(|stack| stack.series.last().copied().unwrap_or(0))
            .sum()
    }
}
