//! Growth mode's figures at a window's end, per stack: the sampled blocks
//! still alive (estimated bytes) and the new ones among them that took
//! over an address of the stack's own (`recaptures`), glibc's large blocks
//! still mapped, and the pages first touched and still mapped.
//!
//! glibc serves large blocks with their own mmap, and the stack that made
//! the mapping is the one that allocated the block: those count in full,
//! whether or not a burst saw them. pymalloc's arenas are mmaps too, but
//! many lines share one arena, so its mapping says nothing of who keeps
//! memory. The two are told apart by glibc's chunk header at the mapping's
//! start: the size of the mapping with the IS_MMAPPED bit.

use std::collections::{HashMap, HashSet};

use aya::Ebpf;
use profiler_common::{
    AllocationKey, AnonymousMapping, FaultCounters, LiveAllocation, StackCounters,
    sampled_pages_bytes,
};

use crate::error::Error;
use crate::probes::{growth_maps, kernel_maps};
use crate::process::block_liveness::glibc_chunks::{CHUNK_HEADER, SIZE_FIELD, is_mmapped_chunk};
use crate::process::memory::ProcessMemory;
use crate::session::freed_blocks::FreedBlocks;
use crate::session::recaptures::Recaptures;
use crate::session::windows::GrowthEvidence;

/// The chunk-size word of each mapping seen, by (address, time mapped).
/// It never changes while the mapping lives, so each is read once; and the
/// mappings keep their owner after the target's memory can no longer be
/// read, as in the window that closes when it exits.
#[derive(Debug, Default)]
pub struct ChunkHeaders {
    known: HashMap<(u64, u64), Option<u64>>,
}

impl ChunkHeaders {
    /// The header word of each of `mappings`, None where it is unmapped or
    /// could not be read.
    fn of(&mut self, pid: u32, mappings: &[(AllocationKey, AnonymousMapping)]) -> Vec<Option<u64>> {
        let identity = |(key, mapping): &(AllocationKey, AnonymousMapping)| {
            (key.address, mapping.timestamp_ns)
        };
        let unknown: Vec<u64> = mappings
            .iter()
            .filter(|entry| !self.known.contains_key(&identity(entry)))
            .map(|(key, _)| key.address + SIZE_FIELD)
            .collect();
        if let Ok(words) = (ProcessMemory { pid }).read_words(&unknown) {
            let mut words = words.into_iter();
            for entry in mappings {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    self.known.entry(identity(entry))
                {
                    slot.insert(words.next().flatten());
                }
            }
        }
        let current: HashSet<_> = mappings.iter().map(identity).collect();
        self.known.retain(|identity, _| current.contains(identity));
        mappings
            .iter()
            .map(|entry| self.known.get(&identity(entry)).copied().flatten())
            .collect()
    }
}

/// Each stack's totals and evidence at a window's end.
pub fn read(
    ebpf: &Ebpf,
    pid: u32,
    freed: &FreedBlocks,
    chunk_headers: &mut ChunkHeaders,
    recaptures: &mut Recaptures,
) -> Result<(HashMap<u64, StackCounters>, GrowthEvidence), Error> {
    let mut totals = kernel_maps::stack_counters(ebpf)?;
    freed.credit(&mut totals);
    let mappings: Vec<_> = growth_maps::anonymous_mappings(ebpf)?
        .into_iter()
        .filter(|(key, _)| key.tgid == pid)
        .collect();
    let headers = chunk_headers.of(pid, &mappings);
    let live = kernel_maps::live_allocations(ebpf)?;
    let new_survivors = recaptures.observe(pid, &live);
    let readings = GrowthReadings {
        pid,
        totals,
        mappings,
        headers,
        live,
        faults: growth_maps::fault_counters(ebpf)?,
    };
    let (totals, mut evidence) = readings.combine();
    evidence.new_survivors = new_survivors;
    Ok((totals, evidence))
}

/// What growth mode reads from the kernel's maps and the target's memory
/// at a window's end, before it is combined. Public so that
/// `benches/map_decoding.rs` can time [`GrowthReadings::combine`] without
/// a kernel.
#[doc(hidden)]
pub struct GrowthReadings {
    /// The traced process.
    pub pid: u32,
    /// The kernel's per-stack totals, with the frees found in memory.
    pub totals: HashMap<u64, StackCounters>,
    /// The anonymous mappings of `pid`.
    pub mappings: Vec<(AllocationKey, AnonymousMapping)>,
    /// The word `SIZE_FIELD` bytes into each mapping, None when unreadable.
    pub headers: Vec<Option<u64>>,
    /// Every sampled block recorded live.
    pub live: Vec<(AllocationKey, LiveAllocation)>,
    /// Pages first touched, per stack.
    pub faults: HashMap<u64, FaultCounters>,
}

impl GrowthReadings {
    /// Each stack's totals and evidence: glibc's mmapped chunks count in
    /// full for the stack that mapped them, sampled blocks inside them do
    /// not count twice, and touched pages still mapped become fault bytes.
    pub fn combine(self) -> (HashMap<u64, StackCounters>, GrowthEvidence) {
        let GrowthReadings {
            pid,
            mut totals,
            mappings,
            headers,
            live,
            faults,
        } = self;
        let mut evidence = GrowthEvidence::default();
        let mut chunk_starts = HashSet::new();
        for ((key, mapping), header) in mappings.iter().zip(headers) {
            if header.is_some_and(|header| is_mmapped_chunk(header, mapping.length)) {
                chunk_starts.insert(key.address);
                *evidence.mapped_bytes.entry(mapping.stack_id).or_default() += mapping.length;
                let counters = totals.entry(mapping.stack_id).or_default();
                counters.alloc_bytes += mapping.length;
                counters.alloc_count += 1;
            }
        }
        // A sampled block inside such a mapping is already counted by it.
        for (key, live) in live {
            let chunk = key.address.wrapping_sub(CHUNK_HEADER);
            if key.tgid == pid
                && chunk_starts.contains(&chunk)
                && let Some(counters) = totals.get_mut(&live.stack_id)
            {
                counters.alloc_bytes = counters.alloc_bytes.saturating_sub(live.weight);
                counters.alloc_count = counters.alloc_count.saturating_sub(1);
            }
        }
        for (id, faults) in faults {
            let pages = faults.faulted_pages.saturating_sub(faults.released_pages);
            if pages > 0 {
                evidence.fault_bytes.insert(id, sampled_pages_bytes(pages));
            }
        }
        (totals, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::block_liveness::glibc_chunks::IS_MMAPPED;
    use profiler_common::{PAGE_SAMPLE_EVERY, PAGE_SIZE};

    #[test]
    fn chunk_headers_are_read_once_and_outlive_the_target() {
        let words: [u64; 2] = [0, 0x21000 | IS_MMAPPED];
        let mapping = |address, timestamp_ns| {
            (
                AllocationKey {
                    tgid: 0,
                    _pad: 0,
                    address,
                },
                AnonymousMapping {
                    length: 0x21000,
                    stack_id: 1,
                    timestamp_ns,
                },
            )
        };
        let here = mapping(words.as_ptr() as u64, 5);
        let mut headers = ChunkHeaders::default();
        assert_eq!(
            headers.of(std::process::id(), &[here]),
            vec![Some(words[1])]
        );
        let mut exited = std::process::Command::new("true").spawn().unwrap();
        let gone = exited.id();
        exited.wait().unwrap();
        let later = mapping(0x5000_0000, 6);
        assert_eq!(
            headers.of(gone, &[here, later]),
            vec![Some(words[1]), None],
            "the header read before the exit is kept; the new one is unknown"
        );
        headers.of(gone, &[later]);
        assert!(headers.known.is_empty(), "unmapped ones are forgotten");
    }

    #[test]
    fn a_glibc_chunk_counts_once_and_touched_pages_become_bytes() {
        let key = |address| AllocationKey {
            tgid: 7,
            _pad: 0,
            address,
        };
        let mapping = |length, stack_id| AnonymousMapping {
            length,
            stack_id,
            timestamp_ns: 0,
        };
        let sampled = LiveAllocation {
            size: 0x20000,
            stack_id: 1,
            timestamp_ns: 0,
            weight: 0x20000,
            source: 0,
            _pad: 0,
        };
        let faults = |faulted_pages, released_pages| FaultCounters {
            faulted_pages,
            released_pages,
        };
        let readings = GrowthReadings {
            pid: 7,
            totals: HashMap::from([(
                1,
                StackCounters {
                    alloc_bytes: 0x20000,
                    alloc_count: 1,
                    ..StackCounters::default()
                },
            )]),
            mappings: vec![
                (key(0x10000), mapping(0x21000, 1)),
                (key(0x100000), mapping(1 << 20, 2)),
            ],
            headers: vec![Some(0x21000 | IS_MMAPPED), Some(0x100030)],
            live: vec![(key(0x10000 + CHUNK_HEADER), sampled)],
            faults: HashMap::from([(3, faults(5, 2)), (4, faults(1, 1))]),
        };
        let (totals, evidence) = readings.combine();
        let chunk_stack = totals[&1];
        assert_eq!(
            (chunk_stack.alloc_bytes, chunk_stack.alloc_count),
            (0x21000, 1),
            "the sampled block inside the chunk is not counted again"
        );
        assert!(!totals.contains_key(&2), "an arena names no owner");
        assert_eq!(evidence.mapped_bytes, HashMap::from([(1, 0x21000)]));
        assert_eq!(
            evidence.fault_bytes,
            HashMap::from([(3, 3 * PAGE_SIZE * PAGE_SAMPLE_EVERY)])
        );
    }
}
