//! Which stack first touched each page of the traced process, and the pages
//! it gives back. A page is claimed at its first fault and released by
//! munmap, madvise, a shrinking brk or mremap; what stays claimed is the
//! process's growth since tracing began, per stack.

use core::ffi::c_void;

use aya_ebpf::{
    EbpfContext,
    helpers::{bpf_get_current_pid_tgid, generated::bpf_loop},
};
use profiler_common::{ActivityCounter, AllocationKey, LossCounter, PAGE_SIZE};

use crate::{
    accounting::{atomic_add, zeroed_entry},
    losses::{count_activity, count_loss},
    maps::{FAULT_COUNTERS, PAGE_OWNERS, TRACED_PROCESS},
    stack_capture::capture_stack,
};

/// Pages one release walks at most (1 GiB); the rest stay counted, and the
/// loss is counted.
const MAX_RELEASE_PAGES: u64 = 1 << 18;
/// Addresses at and above this are the kernel's.
pub const USER_SPACE_END: u64 = 0x0000_8000_0000_0000;

/// The current process's tgid when it is the traced one.
#[inline(always)]
pub fn traced_tgid() -> Option<u32> {
    let traced = TRACED_PROCESS.get(0)?.tgid;
    let current = (bpf_get_current_pid_tgid() >> 32) as u32;
    (traced != 0 && traced == current).then_some(current)
}

fn page_key(tgid: u32, address: u64) -> AllocationKey {
    AllocationKey {
        tgid,
        _pad: 0,
        address: address & !(PAGE_SIZE - 1),
    }
}

/// Claims the page holding `address` for the current stack, unless it was
/// claimed before.
#[inline(always)]
pub fn claim_page<C: EbpfContext>(ctx: &C, tgid: u32, address: u64) {
    let key = page_key(tgid, address);
    if PAGE_OWNERS.get_ptr(&key).is_some() {
        return;
    }
    let stack_id = capture_stack(ctx);
    let Some(counters) = zeroed_entry(&FAULT_COUNTERS, stack_id, LossCounter::CounterMapFull)
    else {
        return;
    };
    // BPF_NOEXIST: of two CPUs faulting the same page, one claims it.
    if PAGE_OWNERS.insert(&key, &stack_id, 1).is_err() {
        if PAGE_OWNERS.get_ptr(&key).is_none() {
            count_loss(LossCounter::PageMapFull);
        }
        return;
    }
    count_activity(ActivityCounter::FaultedPages, 1);
    atomic_add(&counters.faulted_pages, 1);
}

/// A range of pages, for `bpf_loop`'s steps.
#[repr(C)]
struct PageRange {
    tgid: u32,
    _pad: u32,
    first_page: u64,
    /// Where the pages go, for a move; 0 for a release.
    destination: u64,
}

/// The whole pages of [address, address + length), capped.
#[inline(always)]
fn range_pages(address: u64, length: u64) -> (u64, u32) {
    let first = address & !(PAGE_SIZE - 1);
    let end = address.saturating_add(length).saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let mut pages = end.saturating_sub(first) / PAGE_SIZE;
    if pages > MAX_RELEASE_PAGES {
        count_loss(LossCounter::ReleaseTooLarge);
        pages = MAX_RELEASE_PAGES;
    }
    (first, pages as u32)
}

/// Releases every claimed page of [address, address + length).
#[inline(always)]
pub fn release_range(tgid: u32, address: u64, length: u64) {
    let (first_page, pages) = range_pages(address, length);
    let mut range = PageRange {
        tgid,
        _pad: 0,
        first_page,
        destination: 0,
    };
    unsafe {
        bpf_loop(
            pages,
            release_step as *mut c_void,
            (&mut range as *mut PageRange).cast(),
            0,
        );
    }
}

#[inline(never)]
extern "C" fn release_step(index: u64, context: *mut c_void) -> i64 {
    let range = unsafe { &*(context as *const PageRange) };
    let key = page_key(range.tgid, range.first_page + index * PAGE_SIZE);
    let Some(owner) = (unsafe { PAGE_OWNERS.get(&key) }).copied() else {
        return 0;
    };
    if PAGE_OWNERS.remove(&key).is_ok() {
        count_activity(ActivityCounter::ReleasedPages, 1);
        if let Some(counters) = FAULT_COUNTERS.get_ptr(&owner) {
            atomic_add(unsafe { &(*counters).released_pages }, 1);
        }
    }
    0
}

/// Moves the claims of [from, from + length) to `to` (an mremap that moved
/// the mapping): the pages stay resident and keep their owner.
#[inline(always)]
pub fn move_range(tgid: u32, from: u64, to: u64, length: u64) {
    let (first_page, pages) = range_pages(from, length);
    let mut range = PageRange {
        tgid,
        _pad: 0,
        first_page,
        destination: to & !(PAGE_SIZE - 1),
    };
    unsafe {
        bpf_loop(
            pages,
            move_step as *mut c_void,
            (&mut range as *mut PageRange).cast(),
            0,
        );
    }
}

#[inline(never)]
extern "C" fn move_step(index: u64, context: *mut c_void) -> i64 {
    let range = unsafe { &*(context as *const PageRange) };
    let from = page_key(range.tgid, range.first_page + index * PAGE_SIZE);
    let Some(owner) = (unsafe { PAGE_OWNERS.get(&from) }).copied() else {
        return 0;
    };
    if PAGE_OWNERS.remove(&from).is_ok() {
        let to = page_key(range.tgid, range.destination + index * PAGE_SIZE);
        if PAGE_OWNERS.insert(&to, &owner, 0).is_err() {
            count_loss(LossCounter::PageMapFull);
        }
    }
    0
}
