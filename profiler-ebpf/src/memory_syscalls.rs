//! The traced process's memory system calls: releases (munmap, madvise,
//! a shrinking brk, mremap) give claimed pages back, and anonymous private
//! mmaps are recorded with the stack that made them, so userspace can tell
//! glibc's large blocks from pymalloc's arenas.

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    macros::tracepoint,
    programs::TracePointContext,
};
use profiler_common::{AllocationKey, AnonymousMapping, LossCounter, PendingRemap};

use crate::{
    losses::count_loss,
    maps::{ANONYMOUS_MAPPINGS, PENDING_MAPS, PENDING_REMAPS, PROGRAM_BREAKS},
    page_owners::{USER_SPACE_END, move_range, release_range, traced_tgid},
    stack_capture::capture_stack,
};

/// Where a syscall tracepoint record keeps its arguments and its result.
const ARGUMENT_0: usize = 16;
const RESULT: usize = 16;

const MADV_DONTNEED: u64 = 4;
const MADV_FREE: u64 = 8;
const MADV_REMOVE: u64 = 9;
const MAP_PRIVATE: u64 = 0x02;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_STACK: u64 = 0x20000;

#[inline(always)]
fn argument(ctx: &TracePointContext, n: usize) -> u64 {
    unsafe { ctx.read_at::<u64>(ARGUMENT_0 + 8 * n) }.unwrap_or(0)
}

/// The syscall's result when it is an address, None for an error.
#[inline(always)]
fn returned_address(ctx: &TracePointContext) -> Option<u64> {
    let result = unsafe { ctx.read_at::<i64>(RESULT) }.ok()?;
    (result > 0 && (result as u64) < USER_SPACE_END).then_some(result as u64)
}

fn mapping_key(tgid: u32, address: u64) -> AllocationKey {
    AllocationKey {
        tgid,
        _pad: 0,
        address,
    }
}

#[tracepoint]
pub fn munmap_enter(ctx: TracePointContext) -> u32 {
    let Some(tgid) = traced_tgid() else {
        return 0;
    };
    let address = argument(&ctx, 0);
    release_range(tgid, address, argument(&ctx, 1));
    let _ = ANONYMOUS_MAPPINGS.remove(&mapping_key(tgid, address));
    0
}

#[tracepoint]
pub fn madvise_enter(ctx: TracePointContext) -> u32 {
    let Some(tgid) = traced_tgid() else {
        return 0;
    };
    let advice = argument(&ctx, 2) & 0xffff_ffff;
    if matches!(advice, MADV_DONTNEED | MADV_FREE | MADV_REMOVE) {
        release_range(tgid, argument(&ctx, 0), argument(&ctx, 1));
    }
    0
}

/// brk returns the new break: a lower one than before gave pages back.
#[tracepoint]
pub fn brk_exit(ctx: TracePointContext) -> u32 {
    let Some(tgid) = traced_tgid() else {
        return 0;
    };
    let Some(new_break) = returned_address(&ctx) else {
        return 0;
    };
    if let Some(&old_break) = unsafe { PROGRAM_BREAKS.get(&tgid) }
        && new_break < old_break
    {
        release_range(tgid, new_break, old_break - new_break);
    }
    let _ = PROGRAM_BREAKS.insert(&tgid, &new_break, 0);
    0
}

#[tracepoint]
pub fn mremap_enter(ctx: TracePointContext) -> u32 {
    if traced_tgid().is_none() {
        return 0;
    }
    let call = PendingRemap {
        address: argument(&ctx, 0),
        old_length: argument(&ctx, 1),
        new_length: argument(&ctx, 2),
    };
    let _ = PENDING_REMAPS.insert(&bpf_get_current_pid_tgid(), &call, 0);
    0
}

/// A shrink gives the tail back; a move takes the claims along.
#[tracepoint]
pub fn mremap_exit(ctx: TracePointContext) -> u32 {
    let Some(tgid) = traced_tgid() else {
        return 0;
    };
    let thread = bpf_get_current_pid_tgid();
    let Some(call) = (unsafe { PENDING_REMAPS.get(&thread) }).copied() else {
        return 0;
    };
    let _ = PENDING_REMAPS.remove(&thread);
    let Some(address) = returned_address(&ctx) else {
        return 0;
    };
    if call.new_length < call.old_length {
        release_range(
            tgid,
            call.address + call.new_length,
            call.old_length - call.new_length,
        );
    }
    if address != call.address {
        let kept = call.old_length.min(call.new_length);
        move_range(tgid, call.address, address, kept, capture_stack(&ctx));
    }
    let old_key = mapping_key(tgid, call.address);
    if let Some(mapping) = unsafe { ANONYMOUS_MAPPINGS.get(&old_key) }.copied() {
        let _ = ANONYMOUS_MAPPINGS.remove(&old_key);
        let moved = AnonymousMapping {
            length: call.new_length,
            ..mapping
        };
        let _ = ANONYMOUS_MAPPINGS.insert(&mapping_key(tgid, address), &moved, 0);
    }
    0
}

/// Anonymous private read-write mappings that are not thread stacks: what
/// glibc's large blocks and pymalloc's arenas are made of.
#[tracepoint]
pub fn mmap_enter(ctx: TracePointContext) -> u32 {
    if traced_tgid().is_none() {
        return 0;
    }
    let protection = argument(&ctx, 2);
    let flags = argument(&ctx, 3);
    let anonymous_private = flags & (MAP_PRIVATE | MAP_ANONYMOUS) == MAP_PRIVATE | MAP_ANONYMOUS;
    if anonymous_private && flags & MAP_STACK == 0 && protection != 0 {
        let _ = PENDING_MAPS.insert(&bpf_get_current_pid_tgid(), &argument(&ctx, 1), 0);
    }
    0
}

#[tracepoint]
pub fn mmap_exit(ctx: TracePointContext) -> u32 {
    let Some(tgid) = traced_tgid() else {
        return 0;
    };
    let thread = bpf_get_current_pid_tgid();
    let Some(length) = (unsafe { PENDING_MAPS.get(&thread) }).copied() else {
        return 0;
    };
    let _ = PENDING_MAPS.remove(&thread);
    let Some(address) = returned_address(&ctx) else {
        return 0;
    };
    let mapping = AnonymousMapping {
        length,
        stack_id: capture_stack(&ctx),
        timestamp_ns: unsafe { bpf_ktime_get_ns() },
    };
    if ANONYMOUS_MAPPINGS
        .insert(&mapping_key(tgid, address), &mapping, 0)
        .is_err()
    {
        count_loss(LossCounter::MappingMapFull);
    }
    0
}
