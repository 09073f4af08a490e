//! Counters kept in the kernel: totals per stack, and losses by cause.

/// Running totals for one stack. Live bytes are `alloc_bytes - freed_bytes`.
///
/// The kernel updates these with atomic adds, so that userspace never has
/// to scan the (changing) map of live allocations to learn per-stack totals.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackCounters {
    pub alloc_bytes: u64,
    pub alloc_count: u64,
    pub freed_bytes: u64,
    pub freed_count: u64,
}

/// Why the kernel side dropped something. Each cause has a per-CPU slot in
/// the `LOSSES` map; userspace sums them and shows them in every report.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossCounter {
    /// The live-allocation map was full: an allocation went unrecorded.
    LiveMapFull = 0,
    /// The stack map was full: an allocation was counted under the unknown stack.
    StackMapFull = 1,
    /// The per-stack counter map was full: an allocation went unrecorded.
    CounterMapFull = 2,
    /// The map of calls in flight was full: an allocation went unrecorded.
    PendingMapFull = 3,
    /// The kernel could not capture the user stack.
    StackUnavailable = 4,
    /// A return probe found no matching entry (the entry was missed or evicted).
    UnmatchedReturn = 5,
    /// posix_memalign's out-pointer could not be read.
    UnreadableResult = 6,
    /// An allocator returned an address already recorded as live: the free
    /// of the earlier block was missed, and it was retired.
    ReusedLiveAddress = 7,
    /// A thread had no known PyThreadState yet: its stack has no Python frames.
    UnknownPythonThread = 8,
    /// A Python frame could not be read from the target's memory.
    UnreadablePythonFrame = 9,
    /// A Python stack was cut at the depth limit.
    TruncatedPythonStack = 10,
    /// The page-owner map was full: a faulted page went uncounted.
    PageMapFull = 11,
    /// The anonymous-mapping map was full: a mapping went unrecorded.
    MappingMapFull = 12,
    /// A release spanned more pages than one call may walk: some released
    /// pages still count as live.
    ReleaseTooLarge = 13,
}

impl LossCounter {
    pub const COUNT: u32 = 14;

    pub const ALL: [LossCounter; LossCounter::COUNT as usize] = [
        LossCounter::LiveMapFull,
        LossCounter::StackMapFull,
        LossCounter::CounterMapFull,
        LossCounter::PendingMapFull,
        LossCounter::StackUnavailable,
        LossCounter::UnmatchedReturn,
        LossCounter::UnreadableResult,
        LossCounter::ReusedLiveAddress,
        LossCounter::UnknownPythonThread,
        LossCounter::UnreadablePythonFrame,
        LossCounter::TruncatedPythonStack,
        LossCounter::PageMapFull,
        LossCounter::MappingMapFull,
        LossCounter::ReleaseTooLarge,
    ];

    /// The name used in reports (`lost_events`).
    pub const fn name(self) -> &'static str {
        match self {
            LossCounter::LiveMapFull => "live_map_full",
            LossCounter::StackMapFull => "stack_map_full",
            LossCounter::CounterMapFull => "counter_map_full",
            LossCounter::PendingMapFull => "pending_map_full",
            LossCounter::StackUnavailable => "stack_unavailable",
            LossCounter::UnmatchedReturn => "unmatched_return",
            LossCounter::UnreadableResult => "unreadable_result",
            LossCounter::ReusedLiveAddress => "reused_live_address",
            LossCounter::UnknownPythonThread => "unknown_python_thread",
            LossCounter::UnreadablePythonFrame => "unreadable_python_frame",
            LossCounter::TruncatedPythonStack => "truncated_python_stack",
            LossCounter::PageMapFull => "page_map_full",
            LossCounter::MappingMapFull => "mapping_map_full",
            LossCounter::ReleaseTooLarge => "release_too_large",
        }
    }
}
