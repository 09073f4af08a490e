//! The maps of growth mode, as userspace sees them: which process the
//! tracepoints count, how allocations are sampled, the pages each stack
//! first touched, the anonymous mappings, and the activity counters.

use std::collections::HashMap;

use aya::{
    Ebpf,
    maps::{Array, HashMap as BpfHashMap},
};
use profiler_common::{
    ActivityCounter, AllocationKey, AnonymousMapping, FaultCounters, SampleSettings, TracedProcess,
    map_names,
};

use crate::error::Error;
use crate::probes::kernel_maps::{clear_map, hash_map, map_error, per_cpu_sums};

fn set_array<V: aya::Pod>(ebpf: &mut Ebpf, name: &'static str, value: &V) -> Result<(), Error> {
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut array = Array::<_, V>::try_from(map).map_err(map_error(name))?;
    array.set(0, value, 0).map_err(map_error(name))
}

/// Has the tracepoints count process `tgid` (0: none).
pub fn set_traced_process(ebpf: &mut Ebpf, tgid: u32) -> Result<(), Error> {
    let traced = TracedProcess { tgid, _pad: 0 };
    set_array(ebpf, map_names::TRACED_PROCESS, &traced)
}

/// Samples allocations with `period_bytes` (0: record every one).
pub fn set_sample_period(ebpf: &mut Ebpf, period_bytes: u64) -> Result<(), Error> {
    let settings = SampleSettings { period_bytes };
    set_array(ebpf, map_names::SAMPLE_SETTINGS, &settings)
}

/// Tells the kernel where `tgid`'s program break is now, so that its first
/// shrinking brk is seen as one.
pub fn seed_program_break(ebpf: &mut Ebpf, tgid: u32, program_break: u64) -> Result<(), Error> {
    let name = map_names::PROGRAM_BREAKS;
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut map = BpfHashMap::<_, u32, u64>::try_from(map).map_err(map_error(name))?;
    map.insert(tgid, program_break, 0).map_err(map_error(name))
}

/// Pages first touched per stack.
pub fn fault_counters(ebpf: &Ebpf) -> Result<HashMap<u64, FaultCounters>, Error> {
    let map = hash_map::<u64, FaultCounters>(ebpf, map_names::FAULT_COUNTERS)?;
    Ok(map.iter().filter_map(Result::ok).collect())
}

/// The anonymous mappings still mapped, by start.
pub fn anonymous_mappings(ebpf: &Ebpf) -> Result<Vec<(AllocationKey, AnonymousMapping)>, Error> {
    let map = hash_map::<AllocationKey, AnonymousMapping>(ebpf, map_names::ANONYMOUS_MAPPINGS)?;
    Ok(map.iter().filter_map(Result::ok).collect())
}

/// The activity counters, summed over CPUs, indexed by `ActivityCounter`.
pub fn activity(ebpf: &Ebpf) -> Result<Activity, Error> {
    let sums = per_cpu_sums(ebpf, map_names::ACTIVITY, ActivityCounter::COUNT)?;
    Ok(Activity(sums))
}

/// A reading of the activity counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity(Vec<u64>);

impl Activity {
    pub fn get(&self, counter: ActivityCounter) -> u64 {
        self.0.get(counter as usize).copied().unwrap_or(0)
    }

    /// The allocator probe hits counted so far.
    pub fn probe_hits(&self) -> ProbeHits {
        ProbeHits {
            all: self.get(ActivityCounter::AllocatorHits),
            single_stepped: self.get(ActivityCounter::SingleSteppedHits),
        }
    }
}

/// Allocator probe hits, and of those the ones on single-stepped probes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeHits {
    pub all: u64,
    pub single_stepped: u64,
}

impl ProbeHits {
    /// The hits counted since `earlier`.
    pub fn since(self, earlier: ProbeHits) -> ProbeHits {
        ProbeHits {
            all: self.all.saturating_sub(earlier.all),
            single_stepped: self.single_stepped.saturating_sub(earlier.single_stepped),
        }
    }
}

impl std::fmt::Display for ProbeHits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} hits ({} single-stepped)",
            self.all, self.single_stepped
        )
    }
}

/// Forgets the pages, mappings and program breaks: the process replaced
/// its program.
pub fn clear(ebpf: &mut Ebpf) -> Result<(), Error> {
    clear_map::<AllocationKey, u64>(ebpf, map_names::PAGE_OWNERS)?;
    clear_map::<u64, FaultCounters>(ebpf, map_names::FAULT_COUNTERS)?;
    clear_map::<AllocationKey, AnonymousMapping>(ebpf, map_names::ANONYMOUS_MAPPINGS)?;
    clear_map::<u32, u64>(ebpf, map_names::PROGRAM_BREAKS)
}
