//! Captures the current stack, native and Python, and interns it: identical
//! stacks share one id (a hash of their frames) and one entry in `STACKS`.

use aya_ebpf::{EbpfContext, bindings::BPF_F_USER_STACK, helpers::generated::bpf_get_stack};
use profiler_common::{LossCounter, MAX_NATIVE_FRAMES, StackTrace};

use crate::{
    losses::count_loss,
    maps::{STACK_SCRATCH, STACKS},
    python_walk::walk_python_frames,
};

const BPF_NOEXIST: u64 = 1;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Returns the id of the current user stack, or `StackTrace::UNKNOWN_ID`
/// (with the loss counted) when it cannot be captured or stored.
#[inline(always)]
pub fn capture_stack<C: EbpfContext>(ctx: &C) -> u64 {
    let Some(scratch) = STACK_SCRATCH.get_ptr_mut(0) else {
        return StackTrace::UNKNOWN_ID;
    };
    let scratch = unsafe { &mut *scratch };
    let size = core::mem::size_of_val(&scratch.native) as u32;
    scratch.flags = 0;
    let written = unsafe {
        bpf_get_stack(
            ctx.as_ptr(),
            scratch.native.as_mut_ptr().cast(),
            size,
            BPF_F_USER_STACK as u64,
        )
    };
    if written <= 0 {
        count_loss(LossCounter::StackUnavailable);
        scratch.native_len = 0;
    } else {
        scratch.native_len = (written as usize / 8).min(MAX_NATIVE_FRAMES) as u32;
    }
    walk_python_frames(scratch);
    if scratch.native_len == 0 && scratch.python_len == 0 {
        return StackTrace::UNKNOWN_ID;
    }

    let id = hash_stack(scratch);
    if STACKS.insert(&id, &*scratch, BPF_NOEXIST).is_err() && STACKS.get_ptr(&id).is_none() {
        count_loss(LossCounter::StackMapFull);
        return StackTrace::UNKNOWN_ID;
    }
    id
}

/// FNV-1a over the recorded frames, native then Python; never returns the
/// unknown id.
#[inline(always)]
fn hash_stack(trace: &StackTrace) -> u64 {
    let mut hash = FNV_OFFSET;
    let native = trace.native_len as usize;
    for (index, frame) in trace.native.iter().enumerate() {
        if index >= native {
            break;
        }
        hash = (hash ^ *frame).wrapping_mul(FNV_PRIME);
    }
    let python = trace.python_len as usize;
    for (index, frame) in trace.python.iter().enumerate() {
        if index >= python {
            break;
        }
        hash = (hash ^ frame.code).wrapping_mul(FNV_PRIME);
        hash = (hash ^ frame.instruction).wrapping_mul(FNV_PRIME);
    }
    if hash == StackTrace::UNKNOWN_ID {
        1
    } else {
        hash
    }
}
