//! Finding pymalloc blocks that were freed where no probe could see it (an
//! LTO build's inlined frees), by the free-list link pymalloc writes into a
//! freed block. Each window, recorded live blocks that carry one are
//! retired, and their stacks are credited with the free.

use std::collections::HashMap;

use aya::Ebpf;
use profiler_common::{AllocationSource, StackCounters};

use crate::error::Error;
use crate::probes::kernel_maps;
use crate::process::memory::ProcessMemory;
use crate::python::pymalloc_evidence::{PYMALLOC_MAX_BLOCK, looks_freed};

/// Frees found in memory so far, per stack.
#[derive(Debug, Default)]
pub struct FreedBlocks {
    credited: HashMap<u64, (u64, u64)>,
    total: u64,
}

impl FreedBlocks {
    /// Checks every live pymalloc block of `pid`, and retires those freed.
    pub fn sweep(&mut self, ebpf: &mut Ebpf, pid: u32) -> Result<(), Error> {
        let candidates: Vec<_> = kernel_maps::live_allocations(ebpf)?
            .into_iter()
            .filter(|(key, live)| {
                key.tgid == pid
                    && live.source == AllocationSource::Interpreter as u32
                    && live.size <= PYMALLOC_MAX_BLOCK
            })
            .collect();
        let memory = ProcessMemory { pid };
        let addresses: Vec<u64> = candidates.iter().map(|(key, _)| key.address).collect();
        let words = memory.read_words(&addresses);
        // The blocks those first words link to, read in one more pass.
        let links: Vec<u64> = words.iter().map(|word| word.unwrap_or(0)).collect();
        let next_words = memory.read_words(&links);
        for (((key, live), word), next) in candidates.iter().zip(words).zip(next_words) {
            let freed = matches!((word, next), (Some(word), Some(next)) if looks_freed(key.address, word, next));
            if freed && kernel_maps::forget_allocation(ebpf, key, live.timestamp_ns)? {
                let credit = self.credited.entry(live.stack_id).or_default();
                credit.0 += live.size;
                credit.1 += 1;
                self.total += 1;
            }
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

    /// A note for the report, when any free was found this way.
    pub fn note(&self) -> Option<String> {
        (self.total > 0).then(|| {
            format!(
                "{} pymalloc blocks were freed where no probe sees it (frees inlined by the interpreter's build); they were found in pymalloc's free lists and counted as freed",
                self.total
            )
        })
    }
}
