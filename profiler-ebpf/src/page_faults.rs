//! Growth mode's detection: a page fault of the traced process on a
//! sampled page claims it for the stack that touched it first
//! (`page_owners`); other faults cost a hash. Faults taken by the kernel
//! on the process's behalf (a read() into a fresh buffer) count too.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};

use crate::page_owners::{USER_SPACE_END, claim_page, traced_tgid};

/// `address` in the exceptions:page_fault_* records.
const FAULT_ADDRESS: usize = 8;

#[tracepoint]
pub fn page_fault_user(ctx: TracePointContext) -> u32 {
    on_fault(&ctx);
    0
}

#[tracepoint]
pub fn page_fault_kernel(ctx: TracePointContext) -> u32 {
    on_fault(&ctx);
    0
}

#[inline(always)]
fn on_fault(ctx: &TracePointContext) {
    let Some(tgid) = traced_tgid() else {
        return;
    };
    let Ok(address) = (unsafe { ctx.read_at::<u64>(FAULT_ADDRESS) }) else {
        return;
    };
    if address < USER_SPACE_END {
        claim_page(ctx, tgid, address);
    }
}
