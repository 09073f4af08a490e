//! Counting what the kernel side had to drop, so that no loss is silent,
//! and what it saw happen.

use profiler_common::{ActivityCounter, LossCounter};

use crate::maps::{ACTIVITY, LOSSES};

/// Adds one to the per-CPU counter of `cause`.
#[inline(always)]
pub fn count_loss(cause: LossCounter) {
    add_per_cpu(&LOSSES, cause as u32, 1);
}

/// Adds `value` to the per-CPU activity counter `counter`.
#[inline(always)]
pub fn count_activity(counter: ActivityCounter, value: u64) {
    add_per_cpu(&ACTIVITY, counter as u32, value);
}

#[inline(always)]
fn add_per_cpu(map: &aya_ebpf::maps::PerCpuArray<u64>, index: u32, value: u64) {
    if let Some(slot) = map.get_ptr_mut(index) {
        // Per-CPU slot: no other CPU writes it, a plain add is enough.
        unsafe { *slot += value };
    }
}
