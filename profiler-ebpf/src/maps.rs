//! Every BPF map of the object. Names match `profiler_common::map_names`.

use aya_ebpf::{
    macros::map,
    maps::{Array, HashMap, LruHashMap, PerCpuArray},
};
use profiler_common::{
    ActivityCounter, AllocationKey, AnonymousMapping, FaultCounters, InlinedSite, LiveAllocation,
    LossCounter, MAX_INLINED_SITES, PendingCall, PendingInlinedCall, PendingRemap, PythonOffsets,
    SampleSettings, StackCounters, StackTrace, TracedProcess,
};

/// Userspace may resize these before loading; the values are the defaults.
const MAX_LIVE_ALLOCATIONS: u32 = 4 * 1024 * 1024;
const MAX_STACKS: u32 = 256 * 1024;
const MAX_THREADS_IN_ALLOCATOR: u32 = 64 * 1024;
const MAX_PYTHON_THREADS: u32 = 16 * 1024;
/// 16 GiB of first-touched pages.
const MAX_PAGE_OWNERS: u32 = 4 * 1024 * 1024;
const MAX_ANONYMOUS_MAPPINGS: u32 = 256 * 1024;
/// Grow-on-insert: these maps hold millions of entries at most, and
/// preallocating them would pin hundreds of MiB of kernel memory up front.
const BPF_F_NO_PREALLOC: u32 = 1;

#[map(name = "LIVE_ALLOCATIONS")]
pub static LIVE_ALLOCATIONS: HashMap<AllocationKey, LiveAllocation> =
    HashMap::with_max_entries(MAX_LIVE_ALLOCATIONS, BPF_F_NO_PREALLOC);

#[map(name = "PENDING_CALLS")]
pub static PENDING_CALLS: HashMap<u64, PendingCall> =
    HashMap::with_max_entries(MAX_THREADS_IN_ALLOCATOR, 0);

#[map(name = "INLINED_SITES")]
pub static INLINED_SITES: Array<InlinedSite> = Array::with_max_entries(MAX_INLINED_SITES, 0);

#[map(name = "PENDING_INLINED")]
pub static PENDING_INLINED: HashMap<u64, PendingInlinedCall> =
    HashMap::with_max_entries(MAX_THREADS_IN_ALLOCATOR, 0);

#[map(name = "STACKS")]
pub static STACKS: HashMap<u64, StackTrace> =
    HashMap::with_max_entries(MAX_STACKS, BPF_F_NO_PREALLOC);

#[map(name = "STACK_COUNTERS")]
pub static STACK_COUNTERS: HashMap<u64, StackCounters> = HashMap::with_max_entries(MAX_STACKS, 0);

#[map(name = "LOSSES")]
pub static LOSSES: PerCpuArray<u64> = PerCpuArray::with_max_entries(LossCounter::COUNT, 0);

/// Per-CPU scratch space for the stack being captured: a `StackTrace` is
/// too large for the 512-byte eBPF stack.
#[map(name = "STACK_SCRATCH")]
pub static STACK_SCRATCH: PerCpuArray<StackTrace> = PerCpuArray::with_max_entries(1, 0);

#[map(name = "PYTHON_OFFSETS")]
pub static PYTHON_OFFSETS: Array<PythonOffsets> = Array::with_max_entries(1, 0);

#[map(name = "THREAD_STATES")]
pub static THREAD_STATES: HashMap<u32, u64> = HashMap::with_max_entries(MAX_PYTHON_THREADS, 0);

#[map(name = "UNKNOWN_THREADS")]
pub static UNKNOWN_THREADS: LruHashMap<u32, u32> = LruHashMap::with_max_entries(1024, 0);

#[map(name = "SAMPLE_SETTINGS")]
pub static SAMPLE_SETTINGS: Array<SampleSettings> = Array::with_max_entries(1, 0);

#[map(name = "TRACED_PROCESS")]
pub static TRACED_PROCESS: Array<TracedProcess> = Array::with_max_entries(1, 0);

#[map(name = "PAGE_OWNERS")]
pub static PAGE_OWNERS: HashMap<AllocationKey, u64> =
    HashMap::with_max_entries(MAX_PAGE_OWNERS, BPF_F_NO_PREALLOC);

#[map(name = "FAULT_COUNTERS")]
pub static FAULT_COUNTERS: HashMap<u64, FaultCounters> =
    HashMap::with_max_entries(MAX_STACKS, BPF_F_NO_PREALLOC);

#[map(name = "ANONYMOUS_MAPPINGS")]
pub static ANONYMOUS_MAPPINGS: HashMap<AllocationKey, AnonymousMapping> =
    HashMap::with_max_entries(MAX_ANONYMOUS_MAPPINGS, BPF_F_NO_PREALLOC);

/// Lengths of `mmap` calls between entry and exit, per thread.
#[map(name = "PENDING_MAPS")]
pub static PENDING_MAPS: HashMap<u64, u64> = HashMap::with_max_entries(MAX_THREADS_IN_ALLOCATOR, 0);

#[map(name = "PENDING_REMAPS")]
pub static PENDING_REMAPS: HashMap<u64, PendingRemap> =
    HashMap::with_max_entries(MAX_THREADS_IN_ALLOCATOR, 0);

/// The program break of each traced process, as its last `brk` left it.
#[map(name = "PROGRAM_BREAKS")]
pub static PROGRAM_BREAKS: HashMap<u32, u64> = HashMap::with_max_entries(1024, 0);

#[map(name = "ACTIVITY")]
pub static ACTIVITY: PerCpuArray<u64> = PerCpuArray::with_max_entries(ActivityCounter::COUNT, 0);
