//! The bookkeeping of allocations: a block is recorded when it is returned
//! and retired when it is freed, and each stack's totals move with it by
//! the block's weight (its size in precise mode, its sampled estimate in
//! growth mode).

use core::intrinsics::{AtomicOrdering, atomic_xadd};

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    maps::HashMap,
};
use profiler_common::{ActivityCounter, AllocationKey, LiveAllocation, LossCounter, StackCounters};

use crate::{
    losses::{count_activity, count_loss},
    maps::{LIVE_ALLOCATIONS, STACK_COUNTERS},
};

const BPF_NOEXIST: u64 = 1;

fn current_key(address: u64) -> AllocationKey {
    AllocationKey {
        tgid: (bpf_get_current_pid_tgid() >> 32) as u32,
        _pad: 0,
        address,
    }
}

/// Returns the counters of `stack_id`, creating them at zero if needed.
#[inline(always)]
fn counters_of(stack_id: u64) -> Option<&'static StackCounters> {
    zeroed_entry(&STACK_COUNTERS, stack_id, LossCounter::CounterMapFull)
}

/// The entry of `key` in a map of per-stack counters, created at zero if
/// needed; None (with `full` counted) when the map has no room.
#[inline(always)]
pub fn zeroed_entry<V: Default>(
    map: &'static HashMap<u64, V>,
    key: u64,
    full: LossCounter,
) -> Option<&'static V> {
    if let Some(entry) = map.get_ptr(&key) {
        return Some(unsafe { &*entry });
    }
    let _ = map.insert(&key, &V::default(), BPF_NOEXIST);
    match map.get_ptr(&key) {
        Some(entry) => Some(unsafe { &*entry }),
        None => {
            count_loss(full);
            None
        }
    }
}

/// Adds `value` to a counter shared between CPUs. The bpf target has no
/// compare-and-swap, so core's `AtomicU64::fetch_add` is not offered; the
/// intrinsic lowers to the eBPF atomic add instruction.
#[inline(always)]
pub fn atomic_add(counter: &u64, value: u64) {
    let counter = counter as *const u64 as *mut u64;
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(counter, value) };
}

/// A block the allocator returned, and what it counts for.
pub struct ReturnedBlock {
    pub address: u64,
    pub size: u64,
    pub weight: u64,
    pub stack_id: u64,
    pub source: u32,
}

/// Records `block`, allocated from its stack.
#[inline(always)]
pub fn record_allocation(block: ReturnedBlock, sampled: bool) {
    let key = current_key(block.address);
    retire_reused(&key, sampled);
    let Some(counters) = counters_of(block.stack_id) else {
        return;
    };
    let live = LiveAllocation {
        size: block.size,
        stack_id: block.stack_id,
        timestamp_ns: unsafe { bpf_ktime_get_ns() },
        weight: block.weight,
        source: block.source,
        _pad: 0,
    };
    if LIVE_ALLOCATIONS.insert(&key, &live, 0).is_err() {
        count_loss(LossCounter::LiveMapFull);
        return;
    }
    if sampled {
        count_activity(ActivityCounter::Samples, 1);
    }
    atomic_add(&counters.alloc_bytes, block.weight);
    atomic_add(&counters.alloc_count, 1);
}

/// The allocator returned `address`: a block still recorded there was
/// freed. In precise mode that free was missed, a loss; in growth mode it
/// came while no probe was attached, and this is how a sample's death is
/// learnt.
#[inline(always)]
pub fn retire_reused_address(address: u64, sampled: bool) {
    retire_reused(&current_key(address), sampled);
}

#[inline(always)]
fn retire_reused(key: &AllocationKey, sampled: bool) {
    if LIVE_ALLOCATIONS.get_ptr(key).is_none() {
        return;
    }
    if sampled {
        count_activity(ActivityCounter::SamplesReused, 1);
    } else {
        count_loss(LossCounter::ReusedLiveAddress);
    }
    retire(key);
}

/// Retires the block at `address`, if it was recorded; returns whether it was.
#[inline(always)]
pub fn record_free(address: u64) -> bool {
    retire(&current_key(address))
}

#[inline(always)]
fn retire(key: &AllocationKey) -> bool {
    let Some(live) = LIVE_ALLOCATIONS.get_ptr(key) else {
        return false;
    };
    let live = unsafe { *live };
    // Only the CPU whose delete succeeds counts the free.
    if LIVE_ALLOCATIONS.remove(key).is_err() {
        return false;
    }
    if let Some(counters) = STACK_COUNTERS.get_ptr(&live.stack_id) {
        let counters = unsafe { &*counters };
        atomic_add(&counters.freed_bytes, live.weight);
        atomic_add(&counters.freed_count, 1);
    }
    true
}
