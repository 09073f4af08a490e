//! Allocator calls in flight, per thread, between an entry probe and its
//! return probe. Only the outermost allocator call on a thread is accounted:
//! glibc's realloc calls malloc and free internally, and counting those too
//! would count one block twice.

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    programs::ProbeContext,
};
use profiler_common::{AllocationSource, AllocatorFunction, LossCounter, PendingCall};

use crate::{
    losses::{count_loss, count_probe_hit},
    maps::PENDING_CALLS,
    sampling::sampling,
};

/// A call older than this never returned (longjmp, or a missed return
/// probe) and no longer counts as in flight.
const STALE_AFTER_NS: u64 = 1_000_000_000;

/// What an entry probe knows about the call it saw.
pub struct CallArguments {
    pub size: u64,
    pub old_address: u64,
    pub out_pointer: u64,
    pub source: AllocationSource,
}

/// Records an allocator call starting on this thread, or, when this thread
/// is already inside one, notes the nesting so the return is ignored.
#[inline(always)]
pub fn begin_call(ctx: &ProbeContext, function: AllocatorFunction, arguments: CallArguments) {
    count_probe_hit(ctx);
    let thread = bpf_get_current_pid_tgid();
    let now = unsafe { bpf_ktime_get_ns() };
    if let Some(outer) = PENDING_CALLS.get_ptr_mut(&thread) {
        let outer = unsafe { &mut *outer };
        if now.wrapping_sub(outer.started_ns) < STALE_AFTER_NS {
            outer.depth += 1;
            return;
        }
    }
    let call = PendingCall {
        size: arguments.size,
        old_address: arguments.old_address,
        out_pointer: arguments.out_pointer,
        started_ns: now,
        function: function as u32,
        depth: 0,
        source: arguments.source as u32,
        _pad: 0,
    };
    if PENDING_CALLS.insert(&thread, &call, 0).is_err() {
        count_loss(LossCounter::PendingMapFull);
    }
}

/// Ends the call on this thread. Returns it when it was the outermost one.
#[inline(always)]
pub fn end_call() -> Option<PendingCall> {
    let thread = bpf_get_current_pid_tgid();
    let Some(pending) = PENDING_CALLS.get_ptr_mut(&thread) else {
        // In growth mode each burst attaches the return probes before the
        // entries: calls entered in between return unmatched, as expected.
        if !sampling() {
            count_loss(LossCounter::UnmatchedReturn);
        }
        return None;
    };
    let pending = unsafe { &mut *pending };
    if pending.depth > 0 {
        pending.depth -= 1;
        return None;
    }
    let call = *pending;
    let _ = PENDING_CALLS.remove(&thread);
    Some(call)
}

/// True when this thread is inside an allocator call that is accounted
/// already (a `free` made by `realloc` itself).
#[inline(always)]
pub fn inside_allocator() -> bool {
    let thread = bpf_get_current_pid_tgid();
    match PENDING_CALLS.get_ptr(&thread) {
        Some(pending) => {
            let now = unsafe { bpf_ktime_get_ns() };
            now.wrapping_sub(unsafe { (*pending).started_ns }) < STALE_AFTER_NS
        }
        None => false,
    }
}
