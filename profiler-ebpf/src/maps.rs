//! Every BPF map of the object. Names match `profiler_common::map_names`.

use aya_ebpf::{
    macros::map,
    maps::{Array, HashMap, LruHashMap, PerCpuArray},
};
use profiler_common::{
    AllocationKey, LiveAllocation, LossCounter, PendingCall, PythonOffsets, StackCounters,
    StackTrace,
};

/// Userspace may resize these before loading; the values are the defaults.
const MAX_LIVE_ALLOCATIONS: u32 = 4 * 1024 * 1024;
const MAX_STACKS: u32 = 256 * 1024;
const MAX_THREADS_IN_ALLOCATOR: u32 = 64 * 1024;
const MAX_PYTHON_THREADS: u32 = 16 * 1024;
/// Grow-on-insert: these maps hold millions of entries at most, and
/// preallocating them would pin hundreds of MiB of kernel memory up front.
const BPF_F_NO_PREALLOC: u32 = 1;

#[map(name = "LIVE_ALLOCATIONS")]
pub static LIVE_ALLOCATIONS: HashMap<AllocationKey, LiveAllocation> =
    HashMap::with_max_entries(MAX_LIVE_ALLOCATIONS, BPF_F_NO_PREALLOC);

#[map(name = "PENDING_CALLS")]
pub static PENDING_CALLS: HashMap<u64, PendingCall> =
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
