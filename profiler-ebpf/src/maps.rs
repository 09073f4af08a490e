//! Every BPF map of the object. Names match `profiler_common::map_names`.

use aya_ebpf::{
    macros::map,
    maps::{HashMap, PerCpuArray},
};
use profiler_common::{
    AllocationKey, LiveAllocation, LossCounter, PendingCall, StackCounters, StackTrace,
};

/// Userspace may resize these before loading; the values are the defaults.
const MAX_LIVE_ALLOCATIONS: u32 = 4 * 1024 * 1024;
const MAX_STACKS: u32 = 256 * 1024;
const MAX_THREADS_IN_ALLOCATOR: u32 = 64 * 1024;

#[map(name = "LIVE_ALLOCATIONS")]
pub static LIVE_ALLOCATIONS: HashMap<AllocationKey, LiveAllocation> =
    HashMap::with_max_entries(MAX_LIVE_ALLOCATIONS, 0);

#[map(name = "PENDING_CALLS")]
pub static PENDING_CALLS: HashMap<u64, PendingCall> =
    HashMap::with_max_entries(MAX_THREADS_IN_ALLOCATOR, 0);

#[map(name = "STACKS")]
pub static STACKS: HashMap<u64, StackTrace> = HashMap::with_max_entries(MAX_STACKS, 0);

#[map(name = "STACK_COUNTERS")]
pub static STACK_COUNTERS: HashMap<u64, StackCounters> = HashMap::with_max_entries(MAX_STACKS, 0);

#[map(name = "LOSSES")]
pub static LOSSES: PerCpuArray<u64> = PerCpuArray::with_max_entries(LossCounter::COUNT, 0);

/// Per-CPU scratch space for the stack being captured: a `StackTrace` is
/// too large for the 512-byte eBPF stack.
#[map(name = "STACK_SCRATCH")]
pub static STACK_SCRATCH: PerCpuArray<StackTrace> = PerCpuArray::with_max_entries(1, 0);
