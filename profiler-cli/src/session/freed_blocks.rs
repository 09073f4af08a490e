//! Finding recorded blocks that were freed where no probe saw it, from the
//! target's memory (`process::block_liveness`). In precise mode those are
//! the pymalloc frees an LTO build inlines; in growth mode, every sampled
//! block whose free came between bursts. Each window the dead blocks are
//! retired from the kernel's map, and their stacks credited with the free.

use std::collections::HashMap;

use aya::Ebpf;
use profiler_common::{AllocationKey, AllocationSource, StackCounters};

use crate::error::Error;
use crate::probes::kernel_maps;
use crate::process::block_liveness::{
    DeathEvidence, Fingerprint, HeapLayout, RecordedBlock, judge, read_blocks,
};
use crate::process::memory::ProcessMemory;
use crate::python::pymalloc_evidence::PYMALLOC_MAX_BLOCK;

/// Which recorded blocks a sweep looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepScope {
    /// Blocks of pymalloc's size served by the interpreter (precise mode).
    PymallocBlocks,
    /// Every recorded block: growth mode's samples.
    Samples,
}

/// Frees found in memory so far, per stack.
#[derive(Debug, Default)]
pub struct FreedBlocks {
    credited: HashMap<u64, (u64, u64)>,
    by_evidence: HashMap<DeathEvidence, u64>,
    /// Fingerprints of blocks at first sight, by (address, record time).
    first_seen: HashMap<(u64, u64), Fingerprint>,
}

impl FreedBlocks {
    /// Checks the recorded blocks of `pid` in `scope`, and retires the dead.
    /// `finalizing`, when given, tells whether the target's interpreter
    /// has begun to tear down, freeing what the program kept: then there
    /// is no sweep, and asked again once the blocks are read, it voids a
    /// reading that may have caught the teardown.
    pub fn sweep(
        &mut self,
        ebpf: &mut Ebpf,
        pid: u32,
        scope: SweepScope,
        layout: HeapLayout,
        finalizing: Option<&dyn Fn() -> bool>,
    ) -> Result<(), Error> {
        let finalizing = || finalizing.is_some_and(|finalizing| finalizing());
        if finalizing() {
            return Ok(());
        }
        let candidates: Vec<_> = kernel_maps::live_allocations(ebpf)?
            .into_iter()
            .filter(|(key, live)| {
                key.tgid == pid
                    && match scope {
                        SweepScope::Samples => true,
                        SweepScope::PymallocBlocks => {
                            live.source == AllocationSource::Interpreter as u32
                                && live.size <= PYMALLOC_MAX_BLOCK
                        }
                    }
            })
            .collect();
        let blocks: Vec<RecordedBlock> = candidates
            .iter()
            .map(|(key, live)| RecordedBlock {
                address: key.address,
                size: live.size,
                from_interpreter: live.source == AllocationSource::Interpreter as u32,
            })
            .collect();
        // Once the target's address space is gone every read fails, and
        // none of that is evidence: the blocks keep their standing.
        let Ok(readings) = read_blocks(&ProcessMemory { pid }, &blocks, layout) else {
            return Ok(());
        };
        if finalizing() {
            return Ok(());
        }
        let mut still_recorded = HashMap::with_capacity(candidates.len());
        for (((key, live), block), reading) in candidates.iter().zip(&blocks).zip(&readings) {
            let identity = (key.address, live.timestamp_ns);
            let first_seen = self.first_seen.get(&identity).copied();
            let evidence = match scope {
                SweepScope::Samples => judge(block, reading, first_seen),
                // Precise mode sees every other free: only the pool's own
                // word, the trace of an inlined pymalloc free, counts.
                SweepScope::PymallocBlocks => judge(block, reading, None).filter(|evidence| {
                    matches!(
                        evidence,
                        DeathEvidence::FreeListLink | DeathEvidence::PoolReclaimed
                    )
                }),
            };
            match evidence {
                Some(evidence) => self.retire(ebpf, key, live.timestamp_ns, live, evidence)?,
                None => {
                    let fingerprint = first_seen.or(reading.fingerprint);
                    if let Some(fingerprint) = fingerprint {
                        still_recorded.insert(identity, fingerprint);
                    }
                }
            }
        }
        // Blocks retired by the kernel meanwhile are forgotten here too.
        self.first_seen = still_recorded;
        Ok(())
    }

    fn retire(
        &mut self,
        ebpf: &mut Ebpf,
        key: &AllocationKey,
        timestamp_ns: u64,
        live: &profiler_common::LiveAllocation,
        evidence: DeathEvidence,
    ) -> Result<(), Error> {
        if kernel_maps::forget_allocation(ebpf, key, timestamp_ns)? {
            let credit = self.credited.entry(live.stack_id).or_default();
            credit.0 += live.weight;
            credit.1 += 1;
            *self.by_evidence.entry(evidence).or_default() += 1;
        }
        Ok(())
    }

    /// Adds the frees found so far to the kernel's totals.
    pub fn credit(&self, totals: &mut HashMap<u64, StackCounters>) {
        for (id, (bytes, count)) in &self.credited {
            if let Some(counters) = totals.get_mut(id) {
                counters.freed_bytes += bytes;
                counters.freed_count += count;
            }
        }
    }

    /// Blocks found dead in memory, by the evidence.
    pub fn found(&self, evidence: DeathEvidence) -> u64 {
        self.by_evidence.get(&evidence).copied().unwrap_or(0)
    }

    /// Blocks found dead in memory, whatever the evidence.
    pub fn total(&self) -> u64 {
        self.by_evidence.values().sum()
    }

    /// A note for the report, when any free was found this way.
    pub fn note(&self, scope: SweepScope) -> Option<String> {
        let total = self.total();
        (total > 0).then(|| match scope {
            SweepScope::PymallocBlocks => format!(
                "{total} pymalloc blocks were freed where no probe sees it (frees inlined by the interpreter's build); they were found on pymalloc's free lists or in pools that no longer hold them, and counted as freed"
            ),
            SweepScope::Samples => format!(
                "{total} sampled blocks were found gone from the target's memory between bursts: {} unmapped, {} on pymalloc's free lists, {} in pymalloc pools emptied or set up again, {} free by glibc's next chunk header, {} holding another object",
                self.found(DeathEvidence::Unmapped),
                self.found(DeathEvidence::FreeListLink),
                self.found(DeathEvidence::PoolReclaimed),
                self.found(DeathEvidence::ChunkFreed),
                self.found(DeathEvidence::FingerprintChanged)
            ),
        })
    }
}
