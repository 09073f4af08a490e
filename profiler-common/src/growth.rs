//! What growth mode shares between the kernel and userspace: which process
//! is traced, how allocations are sampled, the owners of faulted pages,
//! the anonymous mappings, and the activity counters.

/// Page size the fault accounting works in.
pub const PAGE_SIZE: u64 = 4096;

/// Page faults are followed on one page in this many. The pages are
/// chosen by address, so the fault that claims a page and the release that
/// gives it back agree on it without a lookup, and a sampled page counts
/// for this many.
pub const PAGE_SAMPLE_EVERY: u64 = 16;

/// Whether the page holding `address` is one that the fault accounting
/// follows: the top bits of its page number, Fibonacci-hashed, are zero for
/// one page in [`PAGE_SAMPLE_EVERY`], spread evenly over any range.
#[inline(always)]
pub const fn page_is_sampled(address: u64) -> bool {
    const FIBONACCI: u64 = 0x9e37_79b9_7f4a_7c15;
    const SHIFT: u32 = 64 - PAGE_SAMPLE_EVERY.trailing_zeros();
    (address / PAGE_SIZE).wrapping_mul(FIBONACCI) >> SHIFT == 0
}

/// How allocations are recorded, at index 0 of `SAMPLE_SETTINGS`.
///
/// With `period_bytes` 0 every allocation is recorded with its own size
/// (precise mode). Otherwise a block of `size` bytes is recorded with
/// probability `min(1, size / period_bytes)` and then stands for
/// `max(size, period_bytes)` bytes: the estimate of a stack's bytes stays
/// unbiased, and large blocks are always recorded.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleSettings {
    pub period_bytes: u64,
}

/// The process whose page faults and memory system calls are counted, at
/// index 0 of `TRACED_PROCESS`. 0 counts nothing.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TracedProcess {
    pub tgid: u32,
    pub _pad: u32,
}

/// The bytes that `pages` sampled pages stand for.
pub const fn sampled_pages_bytes(pages: u64) -> u64 {
    pages.saturating_mul(PAGE_SIZE * PAGE_SAMPLE_EVERY)
}

/// Sampled pages (`page_is_sampled`) first touched by one stack:
/// `faulted_pages - released_pages` are still mapped, and each stands for
/// `PAGE_SAMPLE_EVERY` pages.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounters {
    pub faulted_pages: u64,
    pub released_pages: u64,
}

/// An anonymous private mapping made by the target, with the stack that
/// made it. glibc serves large blocks this way; pymalloc its arenas.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnonymousMapping {
    pub length: u64,
    pub stack_id: u64,
    pub timestamp_ns: u64,
}

/// An `mremap` call between its entry and its exit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingRemap {
    pub address: u64,
    pub old_length: u64,
    pub new_length: u64,
}

/// Counts of what happened, per CPU, in the `ACTIVITY` map.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityCounter {
    /// Sampled pages the target touched for the first time since tracing
    /// began (each stands for `PAGE_SAMPLE_EVERY`).
    FaultedPages = 0,
    /// Of those, pages it gave back (munmap, madvise, brk, mremap).
    ReleasedPages = 1,
    /// Allocator probe hits: entries and frees.
    AllocatorHits = 2,
    /// Sampled allocations recorded.
    Samples = 3,
    /// Sampled blocks found dead because the allocator returned their
    /// address again.
    SamplesReused = 4,
    /// Sampled blocks found dead because their free was seen.
    SamplesFreed = 5,
    /// Of the allocator hits, those on a probe the kernel single-steps
    /// (attached with cookie `SINGLE_STEPPED_COOKIE`): each costs several
    /// times an emulated one.
    SingleSteppedHits = 6,
}

impl ActivityCounter {
    pub const COUNT: u32 = 7;
}

/// The attach cookie bit of an allocator probe on an instruction the
/// kernel single-steps; probes on emulated instructions leave it clear
/// (the cookie's high half may carry an inlined site's index).
pub const SINGLE_STEPPED_COOKIE: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_in_sample_every_is_followed_whatever_the_range() {
        for start in [0x5555_0000_0000u64, 0x7f12_3456_7000, 0x1000] {
            let pages = 1 << 16;
            let sampled = (0..pages)
                .filter(|page| page_is_sampled(start + page * PAGE_SIZE))
                .count() as u64;
            let expected = pages / PAGE_SAMPLE_EVERY;
            assert!(
                sampled.abs_diff(expected) < expected / 20,
                "{sampled} of {pages}"
            );
        }
        // Every address of a page shares its page's fate.
        let page = (0..64u64)
            .map(|n| 0x7f00_0000_0000 + n * PAGE_SIZE)
            .find(|&address| page_is_sampled(address))
            .expect("one in 16 pages");
        assert!(page_is_sampled(page + PAGE_SIZE - 1));
    }

    #[test]
    fn a_strided_buffer_is_not_missed_or_counted_whole() {
        // Pages 16 apart, as a stride of 64 KiB touches them.
        let sampled = (0..4096u64)
            .filter(|n| page_is_sampled(0x7f00_0000_0000 + n * PAGE_SAMPLE_EVERY * PAGE_SIZE))
            .count() as u64;
        assert!((128..=384).contains(&sampled), "{sampled} of 4096");
    }
}
