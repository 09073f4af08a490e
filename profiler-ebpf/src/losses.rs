//! Counting what the kernel side had to drop, so that no loss is silent.

use profiler_common::LossCounter;

use crate::maps::LOSSES;

/// Adds one to the per-CPU counter of `cause`.
#[inline(always)]
pub fn count_loss(cause: LossCounter) {
    if let Some(slot) = LOSSES.get_ptr_mut(cause as u32) {
        // Per-CPU slot: no other CPU writes it, a plain add is enough.
        unsafe { *slot += 1 };
    }
}
