//! Names of the BPF maps, shared so that userspace looks up exactly the maps
//! the eBPF object defines.

/// Allocations seen and not yet freed: `AllocationKey` → `LiveAllocation`.
pub const LIVE_ALLOCATIONS: &str = "LIVE_ALLOCATIONS";
/// Allocator calls between entry and return, per thread: `u64` pid_tgid → `PendingCall`.
pub const PENDING_CALLS: &str = "PENDING_CALLS";
/// The places probed on pymalloc's inlined copies: index → `InlinedSite`.
pub const INLINED_SITES: &str = "INLINED_SITES";
/// Inlined allocations between guard and meeting point, per thread:
/// `u64` pid_tgid → `PendingInlinedCall`.
pub const PENDING_INLINED: &str = "PENDING_INLINED";
/// Interned stacks: `u64` stack id → `StackTrace`.
pub const STACKS: &str = "STACKS";
/// Running totals per stack: `u64` stack id → `StackCounters`.
pub const STACK_COUNTERS: &str = "STACK_COUNTERS";
/// Losses by cause, per CPU: index `LossCounter` → `u64`.
pub const LOSSES: &str = "LOSSES";
/// The target interpreter's struct offsets: index 0 → `PythonOffsets`.
pub const PYTHON_OFFSETS: &str = "PYTHON_OFFSETS";
/// Kernel thread id → address of its PyThreadState, kept by userspace.
pub const THREAD_STATES: &str = "THREAD_STATES";
/// Thread ids the kernel met without a PyThreadState: userspace rescans
/// the interpreter's thread list when this is not empty.
pub const UNKNOWN_THREADS: &str = "UNKNOWN_THREADS";
/// How allocations are sampled: index 0 → `SampleSettings`.
pub const SAMPLE_SETTINGS: &str = "SAMPLE_SETTINGS";
/// The process growth mode's tracepoints count: index 0 → `TracedProcess`.
pub const TRACED_PROCESS: &str = "TRACED_PROCESS";
/// Who first touched each page: `AllocationKey` (page address) → `u64` stack id.
pub const PAGE_OWNERS: &str = "PAGE_OWNERS";
/// Pages first touched per stack: `u64` stack id → `FaultCounters`.
pub const FAULT_COUNTERS: &str = "FAULT_COUNTERS";
/// Anonymous mappings still mapped: `AllocationKey` (start) → `AnonymousMapping`.
pub const ANONYMOUS_MAPPINGS: &str = "ANONYMOUS_MAPPINGS";
/// What happened, per CPU: index `ActivityCounter` → `u64`.
pub const ACTIVITY: &str = "ACTIVITY";
/// The program break of each traced process: `u32` tgid → `u64` address.
pub const PROGRAM_BREAKS: &str = "PROGRAM_BREAKS";
