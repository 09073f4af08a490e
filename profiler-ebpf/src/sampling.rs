//! Which returned blocks are recorded. Precise mode records every one;
//! growth mode samples by size, so that each stack's estimated bytes stay
//! unbiased while the number of recorded blocks stays small.

use aya_ebpf::helpers::bpf_get_prandom_u32;

use crate::maps::SAMPLE_SETTINGS;

/// Whether blocks are sampled (growth mode) rather than all recorded.
#[inline(always)]
pub fn sampling() -> bool {
    period() != 0
}

#[inline(always)]
fn period() -> u64 {
    SAMPLE_SETTINGS
        .get(0)
        .map_or(0, |settings| settings.period_bytes)
}

/// The weight to record a block of `size` bytes with, or None when it is
/// not sampled. A block of at least one period is always recorded at its
/// size; a smaller one with probability size/period, standing for one
/// period of bytes.
#[inline(always)]
pub fn sample_weight(size: u64) -> Option<u64> {
    let period = period();
    if period == 0 || size >= period {
        return Some(size);
    }
    let draw = unsafe { bpf_get_prandom_u32() } as u64 % period;
    (draw < size).then_some(period)
}
