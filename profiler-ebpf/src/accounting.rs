//! The bookkeeping behind precise mode: a block is recorded when it is
//! returned and retired when it is freed, and each stack's totals move with
//! it.

use core::intrinsics::{AtomicOrdering, atomic_xadd};

use aya_ebpf::helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns};
use profiler_common::{AllocationKey, LiveAllocation, LossCounter, StackCounters};

use crate::{
    losses::count_loss,
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
    if let Some(counters) = STACK_COUNTERS.get_ptr(&stack_id) {
        return Some(unsafe { &*counters });
    }
    let _ = STACK_COUNTERS.insert(&stack_id, &StackCounters::default(), BPF_NOEXIST);
    match STACK_COUNTERS.get_ptr(&stack_id) {
        Some(counters) => Some(unsafe { &*counters }),
        None => {
            count_loss(LossCounter::CounterMapFull);
            None
        }
    }
}

/// Adds `value` to a counter shared between CPUs. The bpf target has no
/// compare-and-swap, so core's `AtomicU64::fetch_add` is not offered; the
/// intrinsic lowers to the eBPF atomic add instruction.
#[inline(always)]
fn atomic_add(counter: &u64, value: u64) {
    let counter = counter as *const u64 as *mut u64;
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(counter, value) };
}

/// Records a block of `size` bytes at `address`, allocated from `stack_id`.
#[inline(always)]
pub fn record_allocation(address: u64, size: u64, stack_id: u64, source: u32) {
    let key = current_key(address);
    if LIVE_ALLOCATIONS.get_ptr(&key).is_some() {
        // The free of the earlier block at this address was missed.
        count_loss(LossCounter::ReusedLiveAddress);
        retire(&key);
    }
    let Some(counters) = counters_of(stack_id) else {
        return;
    };
    let live = LiveAllocation {
        size,
        stack_id,
        timestamp_ns: unsafe { bpf_ktime_get_ns() },
        source,
        _pad: 0,
    };
    if LIVE_ALLOCATIONS.insert(&key, &live, 0).is_err() {
        count_loss(LossCounter::LiveMapFull);
        return;
    }
    atomic_add(&counters.alloc_bytes, size);
    atomic_add(&counters.alloc_count, 1);
}

/// Retires the block at `address`, if it was recorded.
#[inline(always)]
pub fn record_free(address: u64) {
    retire(&current_key(address));
}

#[inline(always)]
fn retire(key: &AllocationKey) {
    let Some(live) = LIVE_ALLOCATIONS.get_ptr(key) else {
        return;
    };
    let live = unsafe { *live };
    // Only the CPU whose delete succeeds counts the free.
    if LIVE_ALLOCATIONS.remove(key).is_err() {
        return;
    }
    if let Some(counters) = STACK_COUNTERS.get_ptr(&live.stack_id) {
        let counters = unsafe { &*counters };
        atomic_add(&counters.freed_bytes, live.size);
        atomic_add(&counters.freed_count, 1);
    }
}
