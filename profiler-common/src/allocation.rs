//! Types that describe one allocation: the call in flight and the block it
//! returned.

/// The libc allocator entry points precise mode probes. The value travels
/// from a function's entry probe to its return probe in `PendingCall::function`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocatorFunction {
    Malloc = 0,
    Calloc = 1,
    Realloc = 2,
    Reallocarray = 3,
    PosixMemalign = 4,
    AlignedAlloc = 5,
    Memalign = 6,
    Valloc = 7,
}

impl AllocatorFunction {
    /// Every function, in the order userspace attaches their probes.
    pub const ALL: [AllocatorFunction; 8] = [
        AllocatorFunction::Malloc,
        AllocatorFunction::Calloc,
        AllocatorFunction::Realloc,
        AllocatorFunction::Reallocarray,
        AllocatorFunction::PosixMemalign,
        AllocatorFunction::AlignedAlloc,
        AllocatorFunction::Memalign,
        AllocatorFunction::Valloc,
    ];

    /// The exported symbol name in libc.
    pub const fn symbol(self) -> &'static str {
        match self {
            AllocatorFunction::Malloc => "malloc",
            AllocatorFunction::Calloc => "calloc",
            AllocatorFunction::Realloc => "realloc",
            AllocatorFunction::Reallocarray => "reallocarray",
            AllocatorFunction::PosixMemalign => "posix_memalign",
            AllocatorFunction::AlignedAlloc => "aligned_alloc",
            AllocatorFunction::Memalign => "memalign",
            AllocatorFunction::Valloc => "valloc",
        }
    }
}

/// Key of a live allocation. The tgid keeps processes apart when one
/// session follows more than one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationKey {
    pub tgid: u32,
    pub _pad: u32,
    pub address: u64,
}

/// Which allocator served a block.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationSource {
    /// libc's malloc family.
    Libc = 0,
    /// CPython's allocator table or its exported wrappers: pymalloc for
    /// small blocks, unless the target runs with other hooks.
    Interpreter = 1,
}

/// An allocation that was returned and whose free has not been seen. In
/// growth mode only sampled allocations are recorded.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LiveAllocation {
    /// The size requested.
    pub size: u64,
    pub stack_id: u64,
    pub timestamp_ns: u64,
    /// The bytes this block stands for in its stack's totals: `size` in
    /// precise mode; in growth mode `size` divided by the chance that it
    /// was sampled (see `SampleSettings`).
    pub weight: u64,
    /// An `AllocationSource` value.
    pub source: u32,
    pub _pad: u32,
}

/// What an allocator's entry probe saves for its return probe.
///
/// `depth` counts nested allocator calls on the same thread (glibc's
/// `realloc(NULL, n)` calls `malloc`, `realloc(p, 0)` calls `free`): only
/// the outermost call is accounted, inner ones are ignored.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PendingCall {
    /// Requested size in bytes, already multiplied out for calloc and reallocarray.
    pub size: u64,
    /// The block realloc and reallocarray were asked to resize, or 0.
    pub old_address: u64,
    /// Where posix_memalign stores the new pointer, or 0.
    pub out_pointer: u64,
    pub started_ns: u64,
    /// An `AllocatorFunction` value.
    pub function: u32,
    pub depth: u32,
    /// An `AllocationSource` value.
    pub source: u32,
    pub _pad: u32,
}
