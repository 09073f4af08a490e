//! `--count-only`: a probe program that only counts its hits. Attached at
//! precise mode's entry sites, without the return probes, it measures the
//! floor under precise mode's cost: the breakpoints themselves.

use aya_ebpf::{macros::uprobe, programs::ProbeContext};
use profiler_common::ActivityCounter;

use crate::losses::count_activity;

#[uprobe]
pub fn count_hit(_ctx: ProbeContext) -> u32 {
    count_activity(ActivityCounter::AllocatorHits, 1);
    0
}
