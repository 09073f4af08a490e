//! Counting what the kernel side had to drop, so that no loss is silent,
//! and what it saw happen.

use aya_ebpf::{EbpfContext, helpers::generated::bpf_get_attach_cookie};
use profiler_common::{ActivityCounter, LossCounter, is_single_stepped};

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

/// Counts one allocator probe hit, and whether the probe sits on an
/// instruction the kernel single-steps (its attach cookie says so).
#[inline(always)]
pub fn count_probe_hit<C: EbpfContext>(ctx: &C) {
    count_activity(ActivityCounter::AllocatorHits, 1);
    if is_single_stepped(unsafe { bpf_get_attach_cookie(ctx.as_ptr()) }) {
        count_activity(ActivityCounter::SingleSteppedHits, 1);
    }
}

#[inline(always)]
fn add_per_cpu(map: &aya_ebpf::maps::PerCpuArray<u64>, index: u32, value: u64) {
    if let Some(slot) = map.get_ptr_mut(index) {
        // Per-CPU slot: no other CPU writes it, a plain add is enough.
        unsafe { *slot += value };
    }
}
