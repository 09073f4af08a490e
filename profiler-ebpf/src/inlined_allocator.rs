//! Probes on pymalloc's copies inlined by LTO builds (Debian's), which no
//! probe on a function sees. Userspace finds each copy's guard and, for an
//! allocation, the place after it where the new block is in a register;
//! `INLINED_SITES` says which registers to read at each.
//!
//! - `inlined_free_guard`: a free, when the guard holds `_PyObject_Free`.
//! - `inlined_malloc_guard`: an allocation starts, when the guard holds
//!   `_PyObject_Malloc` and the size is one pymalloc serves itself (larger
//!   ones reach libc's probed malloc). Kept per thread until:
//! - `inlined_malloc_merge`: the block is in its register; accounted as a
//!   table function's return would be. Like a return probe it counts no
//!   hit of its own: growth mode prices an allocation by its entry (the
//!   guard here), whichever way it returns (`session/bursts.rs`).

use aya_ebpf::{
    EbpfContext,
    helpers::{bpf_get_attach_cookie, bpf_get_current_pid_tgid, bpf_ktime_get_ns},
    macros::uprobe,
    programs::ProbeContext,
};
use profiler_common::{
    AllocationSource, CONSTANT_VALUE, InlinedSite, PT_REGS_GENERAL, PendingInlinedCall,
    inlined_site_index,
};

use crate::{
    allocator_probes::{account_returned, free_at},
    finalizing::interpreter_finalizing,
    losses::count_probe_hit,
    maps::{INLINED_SITES, PENDING_INLINED},
    pending::inside_allocator,
};

/// pymalloc's largest request (`SMALL_REQUEST_THRESHOLD`); 0 and larger
/// go to the raw allocator.
const LARGEST_SMALL_REQUEST: u64 = 512;
/// The allocation between guard and meeting point takes well under this;
/// an older pending one belongs to a path that never met (a failure).
const STALE_AFTER_NS: u64 = 10_000_000;

/// The description of the site this probe is attached at.
#[inline(always)]
fn site(ctx: &ProbeContext) -> Option<InlinedSite> {
    let cookie = unsafe { bpf_get_attach_cookie(ctx.as_ptr()) };
    INLINED_SITES.get(inlined_site_index(cookie)).copied()
}

/// The general register at `index` of `PT_REGS_GENERAL`, which is also
/// the order of `pt_regs`' first fields. The verifier refuses a context
/// read at a variable offset, and LLVM would fold a `match` of field reads
/// into one: so every register is copied to the stack with fixed-offset
/// (volatile, never folded) reads, and the copy is indexed.
#[inline(always)]
fn register(ctx: &ProbeContext, index: u8) -> Option<u64> {
    if usize::from(index) >= PT_REGS_GENERAL.len() {
        return None;
    }
    let regs = ctx.regs as *const u64;
    let mut general = [0u64; 16];
    for (offset, slot) in general.iter_mut().take(PT_REGS_GENERAL.len()).enumerate() {
        *slot = unsafe { core::ptr::read_volatile(regs.add(offset)) };
    }
    Some(general[usize::from(index & 15)])
}

/// The site's value: its register, or its constant.
#[inline(always)]
fn value(ctx: &ProbeContext, site: &InlinedSite) -> Option<u64> {
    if site.value_register == CONSTANT_VALUE {
        Some(site.constant)
    } else {
        register(ctx, site.value_register)
    }
}

/// The site, when its guard holds the inlined function (so the inlined
/// copy runs, not a call some other probe sees).
#[inline(always)]
fn guard_holds(ctx: &ProbeContext) -> Option<InlinedSite> {
    let site = site(ctx)?;
    (register(ctx, site.guard_register)? == site.guard_target).then_some(site)
}

#[uprobe]
pub fn inlined_free_guard(ctx: ProbeContext) -> u32 {
    match guard_holds(&ctx).and_then(|site| value(&ctx, &site)) {
        Some(address) => free_at(&ctx, address),
        None => count_probe_hit(&ctx),
    }
    0
}

#[uprobe]
pub fn inlined_malloc_guard(ctx: ProbeContext) -> u32 {
    count_probe_hit(&ctx);
    let Some(site) = guard_holds(&ctx) else {
        return 0;
    };
    let Some(size) = value(&ctx, &site) else {
        return 0;
    };
    if size == 0 || size > LARGEST_SMALL_REQUEST || inside_allocator() {
        return 0;
    }
    let call = PendingInlinedCall {
        size,
        started_ns: unsafe { bpf_ktime_get_ns() },
        merge: site.merge,
        _pad: 0,
    };
    let _ = PENDING_INLINED.insert(&bpf_get_current_pid_tgid(), &call, 0);
    0
}

#[uprobe]
pub fn inlined_malloc_merge(ctx: ProbeContext) -> u32 {
    let thread = bpf_get_current_pid_tgid();
    let Some(call) = (unsafe { PENDING_INLINED.get(&thread) }).copied() else {
        return 0;
    };
    let Some(site) = site(&ctx) else {
        return 0;
    };
    if call.merge != site.merge {
        // Another inlined allocation's meeting point, reached some other way.
        return 0;
    }
    let _ = PENDING_INLINED.remove(&thread);
    let now = unsafe { bpf_ktime_get_ns() };
    if now.wrapping_sub(call.started_ns) > STALE_AFTER_NS || interpreter_finalizing() {
        return 0;
    }
    if let Some(address) = register(&ctx, site.value_register).filter(|&address| address != 0) {
        account_returned(
            &ctx,
            address,
            call.size,
            AllocationSource::Interpreter as u32,
        );
    }
    0
}
