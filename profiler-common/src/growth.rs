//! What growth mode shares between the kernel and userspace: which process
//! is traced, how allocations are sampled, the owners of faulted pages,
//! the anonymous mappings, and the activity counters.

/// Page size the fault accounting works in.
pub const PAGE_SIZE: u64 = 4096;

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

/// Pages first touched by one stack: `faulted_pages - released_pages` are
/// still mapped.
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
    /// Pages the target touched for the first time since tracing began.
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

/// The attach cookie of an allocator probe on an instruction the kernel
/// single-steps; probes on emulated instructions carry 0.
pub const SINGLE_STEPPED_COOKIE: u64 = 1;
