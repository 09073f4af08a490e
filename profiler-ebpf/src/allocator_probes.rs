//! The uprobes and uretprobes on the allocators: libc's entry points, and
//! the functions in CPython's allocator table. Each probe body only reads
//! its arguments and hands them to `pending` and `accounting`.
//!
//! The table's functions take a context pointer first (`malloc(ctx, size)`,
//! `free(ctx, ptr)`), so their entry probes read every argument one
//! register later than libc's. Their returns behave like libc's and share
//! `allocator_return`.

use aya_ebpf::{
    EbpfContext,
    helpers::bpf_probe_read_user,
    macros::{uprobe, uretprobe},
    programs::{ProbeContext, RetProbeContext},
};
use profiler_common::{ActivityCounter, AllocationSource, AllocatorFunction, LossCounter};

use crate::{
    accounting::{ReturnedBlock, record_allocation, record_free, retire_reused_address},
    finalizing::interpreter_finalizing,
    losses::{count_activity, count_loss, count_probe_hit},
    pending::{CallArguments, begin_call, end_call, inside_allocator},
    sampling::{sample_weight, sampling},
    stack_capture::capture_stack,
};

fn arg(ctx: &ProbeContext, n: usize) -> u64 {
    ctx.arg::<u64>(n).unwrap_or(0)
}

fn sized(size: u64) -> CallArguments {
    CallArguments {
        size,
        old_address: 0,
        out_pointer: 0,
        source: AllocationSource::Libc,
    }
}

fn interpreter_sized(size: u64) -> CallArguments {
    CallArguments {
        source: AllocationSource::Interpreter,
        ..sized(size)
    }
}

fn resized(old_address: u64, size: u64, source: AllocationSource) -> CallArguments {
    CallArguments {
        size,
        old_address,
        out_pointer: 0,
        source,
    }
}

#[uprobe]
pub fn malloc_enter(ctx: ProbeContext) -> u32 {
    begin_call(&ctx, AllocatorFunction::Malloc, sized(arg(&ctx, 0)));
    0
}

#[uprobe]
pub fn calloc_enter(ctx: ProbeContext) -> u32 {
    let size = arg(&ctx, 0).wrapping_mul(arg(&ctx, 1));
    begin_call(&ctx, AllocatorFunction::Calloc, sized(size));
    0
}

#[uprobe]
pub fn realloc_enter(ctx: ProbeContext) -> u32 {
    let arguments = resized(arg(&ctx, 0), arg(&ctx, 1), AllocationSource::Libc);
    begin_call(&ctx, AllocatorFunction::Realloc, arguments);
    0
}

#[uprobe]
pub fn reallocarray_enter(ctx: ProbeContext) -> u32 {
    let size = arg(&ctx, 1).wrapping_mul(arg(&ctx, 2));
    let arguments = resized(arg(&ctx, 0), size, AllocationSource::Libc);
    begin_call(&ctx, AllocatorFunction::Reallocarray, arguments);
    0
}

#[uprobe]
pub fn posix_memalign_enter(ctx: ProbeContext) -> u32 {
    let arguments = CallArguments {
        out_pointer: arg(&ctx, 0),
        ..sized(arg(&ctx, 2))
    };
    begin_call(&ctx, AllocatorFunction::PosixMemalign, arguments);
    0
}

#[uprobe]
pub fn aligned_alloc_enter(ctx: ProbeContext) -> u32 {
    begin_call(&ctx, AllocatorFunction::AlignedAlloc, sized(arg(&ctx, 1)));
    0
}

#[uprobe]
pub fn memalign_enter(ctx: ProbeContext) -> u32 {
    begin_call(&ctx, AllocatorFunction::Memalign, sized(arg(&ctx, 1)));
    0
}

#[uprobe]
pub fn valloc_enter(ctx: ProbeContext) -> u32 {
    begin_call(&ctx, AllocatorFunction::Valloc, sized(arg(&ctx, 0)));
    0
}

/// One return probe serves every allocating function: what to do depends on
/// the function saved at entry.
#[uretprobe]
pub fn allocator_return(ctx: RetProbeContext) -> u32 {
    let Some(call) = end_call() else {
        return 0;
    };
    if interpreter_finalizing() {
        return 0;
    }
    let returned: u64 = ctx.ret();
    let address = if call.function == AllocatorFunction::PosixMemalign as u32 {
        // posix_memalign returns 0 on success and stores the block through
        // its first argument.
        if returned != 0 {
            return 0;
        }
        match unsafe { bpf_probe_read_user(call.out_pointer as *const u64) } {
            Ok(address) => address,
            Err(_) => {
                count_loss(LossCounter::UnreadableResult);
                return 0;
            }
        }
    } else {
        returned
    };
    let resizes = call.function == AllocatorFunction::Realloc as u32
        || call.function == AllocatorFunction::Reallocarray as u32;
    if resizes && call.old_address != 0 && (address != 0 || call.size == 0) {
        // A successful resize frees the old block; realloc(p, 0) frees it
        // and returns NULL. A failed resize leaves it alone.
        record_free(call.old_address);
    }
    if address != 0 {
        account_returned(&ctx, address, call.size, call.source);
    }
    0
}

/// Records the block an allocator call returned, with the caller's stack,
/// or, when growth mode's sampling passes it over, retires an older block
/// recorded at its address.
#[inline(always)]
pub fn account_returned<C: EbpfContext>(ctx: &C, address: u64, size: u64, source: u32) {
    match sample_weight(size) {
        Some(weight) => {
            let block = ReturnedBlock {
                address,
                size,
                weight,
                stack_id: capture_stack(ctx),
                source,
            };
            record_allocation(block, sampling());
        }
        None => retire_reused_address(address, true),
    }
}

#[uprobe]
pub fn free_enter(ctx: ProbeContext) -> u32 {
    free_at(&ctx, arg(&ctx, 0));
    0
}

#[uprobe]
pub fn py_malloc_enter(ctx: ProbeContext) -> u32 {
    begin_call(
        &ctx,
        AllocatorFunction::Malloc,
        interpreter_sized(arg(&ctx, 1)),
    );
    0
}

#[uprobe]
pub fn py_calloc_enter(ctx: ProbeContext) -> u32 {
    let size = arg(&ctx, 1).wrapping_mul(arg(&ctx, 2));
    begin_call(&ctx, AllocatorFunction::Calloc, interpreter_sized(size));
    0
}

#[uprobe]
pub fn py_realloc_enter(ctx: ProbeContext) -> u32 {
    let arguments = resized(arg(&ctx, 1), arg(&ctx, 2), AllocationSource::Interpreter);
    begin_call(&ctx, AllocatorFunction::Realloc, arguments);
    0
}

/// The exported wrappers (`PyObject_Malloc(size)`) take no context pointer.
#[uprobe]
pub fn pywrap_malloc_enter(ctx: ProbeContext) -> u32 {
    begin_call(
        &ctx,
        AllocatorFunction::Malloc,
        interpreter_sized(arg(&ctx, 0)),
    );
    0
}

#[uprobe]
pub fn pywrap_calloc_enter(ctx: ProbeContext) -> u32 {
    let size = arg(&ctx, 0).wrapping_mul(arg(&ctx, 1));
    begin_call(&ctx, AllocatorFunction::Calloc, interpreter_sized(size));
    0
}

#[uprobe]
pub fn pywrap_realloc_enter(ctx: ProbeContext) -> u32 {
    let arguments = resized(arg(&ctx, 0), arg(&ctx, 1), AllocationSource::Interpreter);
    begin_call(&ctx, AllocatorFunction::Realloc, arguments);
    0
}

#[uprobe]
pub fn py_free_enter(ctx: ProbeContext) -> u32 {
    free_at(&ctx, arg(&ctx, 1));
    0
}

/// A free outside any accounted allocator call retires the block. pymalloc
/// hands large blocks to libc's free after its own: the block is retired
/// by the first, and the second finds nothing.
pub fn free_at(ctx: &ProbeContext, address: u64) {
    count_probe_hit(ctx);
    if address != 0
        && !inside_allocator()
        && !interpreter_finalizing()
        && record_free(address)
        && sampling()
    {
        count_activity(ActivityCounter::SamplesFreed, 1);
    }
}
