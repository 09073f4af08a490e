//! The age of live memory when a trace ends: each stack's recorded blocks
//! still alive, by the window they were allocated in. A leak holds blocks
//! of every age since it began; a cache that keeps replacing its entries
//! holds only blocks younger than its turnover; churn only the youngest.
//! Precise mode records every block; growth mode its sampled ones.

use std::collections::HashMap;

use nix::time::{ClockId, clock_gettime};
use profiler_common::{AllocationKey, LiveAllocation};

use crate::report::Window;

/// The kernel's clock for recorded blocks (`bpf_ktime_get_ns`, that is
/// CLOCK_MONOTONIC) against seconds since the trace began.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceClock {
    /// The kernel clock's reading when the trace began.
    start_ns: u64,
}

impl TraceClock {
    /// The clock, `seconds` of the trace having passed now.
    pub fn now_at(seconds: f64) -> Self {
        let now = clock_gettime(ClockId::CLOCK_MONOTONIC)
            .map(|now| now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64)
            .unwrap_or(0);
        TraceClock::at(now, seconds)
    }

    fn at(now_ns: u64, seconds: f64) -> Self {
        TraceClock {
            start_ns: now_ns.saturating_sub((seconds * 1e9) as u64),
        }
    }

    /// Seconds since the trace began at kernel clock reading `ns`.
    fn seconds(&self, ns: u64) -> f64 {
        (ns as f64 - self.start_ns as f64) / 1e9
    }
}

/// Each stack's live bytes among the recorded blocks of `pid`, by the
/// window of `windows` they were allocated in: one entry per window, the
/// blocks from before the first counted in it and those from after the
/// last in the last.
pub fn live_bytes_by_window(
    pid: u32,
    live: impl IntoIterator<Item = (AllocationKey, LiveAllocation)>,
    windows: &[Window],
    clock: TraceClock,
) -> HashMap<u64, Vec<u64>> {
    let mut profiles: HashMap<u64, Vec<u64>> = HashMap::new();
    let Some(last) = windows.len().checked_sub(1) else {
        return profiles;
    };
    for (_, block) in live.into_iter().filter(|(key, _)| key.tgid == pid) {
        let second = clock.seconds(block.timestamp_ns);
        let index = windows
            .partition_point(|window| window.end <= second)
            .min(last);
        profiles
            .entry(block.stack_id)
            .or_insert_with(|| vec![0; windows.len()])[index] += block.weight;
    }
    profiles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: f64) -> Window {
        Window {
            start,
            end: start + 1.0,
            rss_bytes: 0,
            anon_rss_bytes: 0,
            threads: 1,
            gc: None,
            growth: None,
        }
    }

    fn block(
        tgid: u32,
        stack_id: u64,
        at_seconds: f64,
        weight: u64,
    ) -> (AllocationKey, LiveAllocation) {
        (
            AllocationKey {
                tgid,
                _pad: 0,
                address: 0x1000,
            },
            LiveAllocation {
                size: weight,
                stack_id,
                timestamp_ns: 5_000_000_000 + (at_seconds * 1e9) as u64,
                weight,
                source: 0,
                _pad: 0,
            },
        )
    }

    #[test]
    fn blocks_count_in_the_window_they_were_allocated_in() {
        // The trace began at kernel time 5 s; it is 3 s in now.
        let clock = TraceClock::at(8_000_000_000, 3.0);
        let windows = [window(0.0), window(1.0), window(2.0)];
        let live = [
            block(7, 1, 0.5, 10),
            block(7, 1, 2.5, 20),
            block(7, 1, 2.7, 1),
            block(7, 2, 1.0, 30),
            block(7, 2, -4.0, 40),
            block(7, 2, 9.0, 50),
            block(8, 1, 0.5, 1000),
        ];
        let profiles = live_bytes_by_window(7, live, &windows, clock);
        assert_eq!(profiles[&1], vec![10, 0, 21]);
        assert_eq!(
            profiles[&2],
            vec![40, 30, 50],
            "a window's end belongs to the next; before and after count at the edges"
        );
        assert_eq!(profiles.len(), 2, "another process's blocks are left out");
        assert!(live_bytes_by_window(7, live, &[], clock).is_empty());
    }

    #[test]
    fn the_clock_starts_where_the_trace_began() {
        let now = TraceClock::now_at(0.0);
        let earlier = TraceClock::now_at(2.5);
        let gap = now.start_ns - earlier.start_ns;
        assert!(
            (2_400_000_000..=2_500_000_000).contains(&gap),
            "a trace 2.5 s in began 2.5 s before now: {gap} ns"
        );
    }
}
