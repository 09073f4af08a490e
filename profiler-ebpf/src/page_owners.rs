//! Which stack first touched each sampled page of the traced process, and
//! the pages it gives back. A page is claimed at its first fault and
//! released by munmap, madvise, a shrinking brk or mremap; what stays
//! claimed is the process's growth since tracing began, per stack.
//!
//! Only one page in `PAGE_SAMPLE_EVERY`, chosen by address
//! (`page_is_sampled`), is followed: a fault on another page costs a hash
//! and nothing else, and a release skips those pages without a lookup.

use core::ffi::c_void;

use aya_ebpf::{
    EbpfContext,
    helpers::{bpf_get_current_pid_tgid, generated::bpf_loop},
};
use profiler_common::{ActivityCounter, AllocationKey, LossCounter, PAGE_SIZE, page_is_sampled};

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

/// Claims the page holding `address` for the current stack, when it is a
/// sampled page not claimed before.
#[inline(always)]
pub fn claim_page<C: EbpfContext>(ctx: &C, tgid: u32, address: u64) {
    if !page_is_sampled(address) {
        return;
    }
    let key = page_key(tgid, address);
    if PAGE_OWNERS.get_ptr(&key).is_some() {
        return;
    }
    claim_for(tgid, key.address, capture_stack(ctx));
}

/// Claims the sampled page at `page` for `stack_id`, unless it is claimed.
#[inline(always)]
fn claim_for(tgid: u32, page: u64, stack_id: u64) {
    let Some(counters) = zeroed_entry(&FAULT_COUNTERS, stack_id, LossCounter::CounterMapFull)
    else {
        return;
    };
    // BPF_NOEXIST: of two CPUs faulting the same page, one claims it.
    let key = page_key(tgid, page);
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
    /// For a move: the stack that moved them, which claims the sampled
    /// pages of the destination whose source was not followed.
    mover: u64,
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
        mover: 0,
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
    let page = range.first_page + index * PAGE_SIZE;
    if page_is_sampled(page) {
        release_page(range.tgid, page);
    }
    0
}

/// Releases the claim on the sampled page at `page`, if it has one.
#[inline(always)]
fn release_page(tgid: u32, page: u64) {
    if let Some(owner) = take_claim(tgid, page) {
        count_release(owner);
    }
}

/// Removes the claim on `page` and returns its owner, None when unclaimed.
#[inline(always)]
fn take_claim(tgid: u32, page: u64) -> Option<u64> {
    let key = page_key(tgid, page);
    let owner = (unsafe { PAGE_OWNERS.get(&key) }).copied()?;
    PAGE_OWNERS.remove(&key).ok()?;
    Some(owner)
}

/// Counts a claimed page of `owner` as given back.
#[inline(always)]
fn count_release(owner: u64) {
    count_activity(ActivityCounter::ReleasedPages, 1);
    if let Some(counters) = FAULT_COUNTERS.get_ptr(&owner) {
        atomic_add(unsafe { &(*counters).released_pages }, 1);
    }
}

/// Moves the claims of [from, from + length) to `to` (an mremap that moved
/// the mapping): the pages stay resident. Which pages are followed depends
/// on their address, so a followed page that lands on one that is not is
/// released, and a page that lands on a followed one is claimed: by its
/// owner when its source was followed, else by `mover`, the stack that
/// moved it.
#[inline(always)]
pub fn move_range(tgid: u32, from: u64, to: u64, length: u64, mover: u64) {
    let (first_page, pages) = range_pages(from, length);
    let mut range = PageRange {
        tgid,
        _pad: 0,
        first_page,
        destination: to & !(PAGE_SIZE - 1),
        mover,
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
    let from = range.first_page + index * PAGE_SIZE;
    let to = range.destination + index * PAGE_SIZE;
    let owner = if page_is_sampled(from) {
        take_claim(range.tgid, from)
    } else {
        None
    };
    match (owner, page_is_sampled(to)) {
        (Some(owner), true) => {
            if PAGE_OWNERS
                .insert(&page_key(range.tgid, to), &owner, 0)
                .is_err()
            {
                count_loss(LossCounter::PageMapFull);
                count_release(owner);
            }
        }
        (Some(owner), false) => count_release(owner),
        (None, true) => claim_for(range.tgid, to, range.mover),
        (None, false) => {}
    }
    0
}
