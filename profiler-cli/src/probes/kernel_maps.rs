//! Reads what the eBPF programs keep in their maps: per-stack totals, the
//! interned stacks and the loss counters.

use std::collections::{BTreeMap, HashMap};

use aya::{
    Ebpf,
    maps::{Array, HashMap as BpfHashMap, MapData, PerCpuArray},
};
use profiler_common::{
    AllocationKey, InlinedSite, LiveAllocation, LossCounter, PythonOffsets, StackCounters,
    StackTrace, map_names,
};

use crate::error::Error;

pub(super) fn map_error(map: &'static str) -> impl FnOnce(aya::maps::MapError) -> Error {
    move |source| Error::Map { map, source }
}

pub(super) fn hash_map<'a, K: aya::Pod, V: aya::Pod>(
    ebpf: &'a Ebpf,
    name: &'static str,
) -> Result<BpfHashMap<&'a MapData, K, V>, Error> {
    let map = ebpf
        .map(name)
        .expect("every map name is in the embedded object");
    BpfHashMap::try_from(map).map_err(map_error(name))
}

/// The running totals of every stack seen so far.
pub fn stack_counters(ebpf: &Ebpf) -> Result<HashMap<u64, StackCounters>, Error> {
    let map = hash_map::<u64, StackCounters>(ebpf, map_names::STACK_COUNTERS)?;
    decode_stack_counters(map.iter())
}

/// The entries of the per-stack counter map as userspace keeps them, by
/// stack id; the first entry that could not be read fails it all. Public
/// so that `benches/map_decoding.rs` can time it without a kernel.
#[doc(hidden)]
pub fn decode_stack_counters(
    entries: impl IntoIterator<Item = Result<(u64, StackCounters), aya::maps::MapError>>,
) -> Result<HashMap<u64, StackCounters>, Error> {
    let mut totals = HashMap::new();
    for entry in entries {
        let (id, counters) = entry.map_err(map_error(map_names::STACK_COUNTERS))?;
        totals.insert(id, counters);
    }
    Ok(totals)
}

/// The stack `id` as the kernel stored it, or None when the kernel holds
/// no such stack (the unknown stack, id 0).
pub fn stack_trace(ebpf: &Ebpf, id: u64) -> Result<Option<StackTrace>, Error> {
    let map = hash_map::<u64, StackTrace>(ebpf, map_names::STACKS)?;
    match map.get(&id, 0) {
        Ok(trace) => Ok(Some(trace)),
        Err(aya::maps::MapError::KeyNotFound) => Ok(None),
        Err(source) => Err(Error::Map {
            map: map_names::STACKS,
            source,
        }),
    }
}

/// Every loss cause with its count, summed over CPUs.
pub fn losses(ebpf: &Ebpf) -> Result<BTreeMap<String, u64>, Error> {
    let sums = per_cpu_sums(ebpf, map_names::LOSSES, LossCounter::COUNT)?;
    Ok(LossCounter::ALL
        .iter()
        .map(|cause| (cause.name().to_string(), sums[*cause as usize]))
        .collect())
}

/// Each slot of the per-CPU array `name`, summed over CPUs.
pub(super) fn per_cpu_sums(ebpf: &Ebpf, name: &'static str, slots: u32) -> Result<Vec<u64>, Error> {
    let map = ebpf
        .map(name)
        .expect("every map name is in the embedded object");
    let array = PerCpuArray::<_, u64>::try_from(map).map_err(map_error(name))?;
    (0..slots)
        .map(|slot| {
            let per_cpu = array.get(&slot, 0).map_err(map_error(name))?;
            Ok(per_cpu.iter().sum())
        })
        .collect()
}

/// Forgets everything recorded so far: used when the traced process execs,
/// because its old memory is gone.
pub fn clear(ebpf: &mut Ebpf) -> Result<(), Error> {
    clear_map::<AllocationKey, LiveAllocation>(ebpf, map_names::LIVE_ALLOCATIONS)?;
    clear_map::<u64, StackCounters>(ebpf, map_names::STACK_COUNTERS)?;
    clear_map::<u64, StackTrace>(ebpf, map_names::STACKS)?;
    clear_pending_calls(ebpf)
}

/// Forgets the allocator calls in flight: after a burst's probes are
/// detached, calls that began inside it never see their return.
pub fn clear_pending_calls(ebpf: &mut Ebpf) -> Result<(), Error> {
    clear_map::<u64, profiler_common::PendingCall>(ebpf, map_names::PENDING_CALLS)
}

pub(super) fn clear_map<K: aya::Pod, V: aya::Pod>(
    ebpf: &mut Ebpf,
    name: &'static str,
) -> Result<(), Error> {
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut map = BpfHashMap::<_, K, V>::try_from(map).map_err(map_error(name))?;
    let keys: Vec<K> = map.keys().filter_map(Result::ok).collect();
    for key in keys {
        match map.remove(&key) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
            Err(source) => return Err(Error::Map { map: name, source }),
        }
    }
    Ok(())
}

/// Tells the frame walker how to read the target's interpreter.
pub fn set_python_offsets(ebpf: &mut Ebpf, offsets: &PythonOffsets) -> Result<(), Error> {
    let map = ebpf
        .map_mut(map_names::PYTHON_OFFSETS)
        .expect("every map name is in the embedded object");
    let mut array =
        Array::<_, PythonOffsets>::try_from(map).map_err(map_error(map_names::PYTHON_OFFSETS))?;
    array
        .set(0, offsets, 0)
        .map_err(map_error(map_names::PYTHON_OFFSETS))
}

/// Describes the inlined allocator sites to the kernel, by index.
pub fn set_inlined_sites(ebpf: &mut Ebpf, sites: &[InlinedSite]) -> Result<(), Error> {
    let name = map_names::INLINED_SITES;
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut array = Array::<_, InlinedSite>::try_from(map).map_err(map_error(name))?;
    for (index, site) in sites.iter().enumerate() {
        array.set(index as u32, site, 0).map_err(map_error(name))?;
    }
    Ok(())
}

/// Makes the kernel's thread map equal to `threads` (tid → PyThreadState).
pub fn replace_thread_states(
    ebpf: &mut Ebpf,
    threads: &std::collections::HashMap<u32, u64>,
) -> Result<(), Error> {
    let name = map_names::THREAD_STATES;
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut map = BpfHashMap::<_, u32, u64>::try_from(map).map_err(map_error(name))?;
    let stale: Vec<u32> = map
        .keys()
        .filter_map(Result::ok)
        .filter(|tid| !threads.contains_key(tid))
        .collect();
    for tid in stale {
        let _ = map.remove(&tid);
    }
    for (tid, state) in threads {
        map.insert(tid, state, 0).map_err(map_error(name))?;
    }
    Ok(())
}

/// Takes the kernel's requests for a thread rescan: true when some thread
/// was met without a known PyThreadState since the last call.
pub fn take_unknown_threads(ebpf: &mut Ebpf) -> Result<bool, Error> {
    let name = map_names::UNKNOWN_THREADS;
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut map = BpfHashMap::<_, u32, u32>::try_from(map).map_err(map_error(name))?;
    let requested: Vec<u32> = map.keys().filter_map(Result::ok).collect();
    for tid in &requested {
        let _ = map.remove(tid);
    }
    Ok(!requested.is_empty())
}

/// Every allocation recorded live, with its key.
pub fn live_allocations(ebpf: &Ebpf) -> Result<Vec<(AllocationKey, LiveAllocation)>, Error> {
    let map = live_allocation_map(ebpf)?;
    Ok(map.iter().filter_map(Result::ok).collect())
}

/// The map of allocations recorded live, to walk without a copy.
pub fn live_allocation_map(
    ebpf: &Ebpf,
) -> Result<BpfHashMap<&MapData, AllocationKey, LiveAllocation>, Error> {
    hash_map(ebpf, map_names::LIVE_ALLOCATIONS)
}

/// Forgets the live allocation at `key` if it is still the one recorded at
/// `timestamp_ns` (the kernel may have replaced it meanwhile). Returns
/// whether it was forgotten.
pub fn forget_allocation(
    ebpf: &mut Ebpf,
    key: &AllocationKey,
    timestamp_ns: u64,
) -> Result<bool, Error> {
    let name = map_names::LIVE_ALLOCATIONS;
    let map = ebpf
        .map_mut(name)
        .expect("every map name is in the embedded object");
    let mut map =
        BpfHashMap::<_, AllocationKey, LiveAllocation>::try_from(map).map_err(map_error(name))?;
    match map.get(key, 0) {
        Ok(live) if live.timestamp_ns == timestamp_ns => Ok(map.remove(key).is_ok()),
        _ => Ok(false),
    }
}
