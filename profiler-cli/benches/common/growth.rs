//! What growth mode reads at a window's end, for a population: anonymous
//! mappings (glibc's mmapped chunks and pymalloc's arenas) with the word
//! read from each, the sampled blocks still recorded, and the pages each
//! stack touched first.

use std::collections::HashMap;

use leakspy::session::{GrowthEvidence, GrowthReadings};
use profiler_common::{
    AllocationKey, AllocationSource, AnonymousMapping, FaultCounters, LiveAllocation, PAGE_SIZE,
};

use super::mix;
use super::population::Population;

/// The traced process.
pub const PID: u32 = 4242;
/// Anonymous mappings of the target: half glibc chunks, half arenas.
pub const MAPPINGS: usize = 2_000;
/// Sampled blocks still recorded.
pub const SAMPLES: usize = 20_000;
/// One stack in this many first touched pages still mapped.
const FAULTING_ONE_IN: usize = 3;
/// glibc's chunk header before a block: prev_size and size.
const GLIBC_CHUNK_HEADER: u64 = 16;
/// The IS_MMAPPED bit of a glibc chunk's size field.
const GLIBC_IS_MMAPPED: u64 = 0x2;
/// `--sample-period`'s default: a sampled block stands for at least this.
const SAMPLE_PERIOD_BYTES: u64 = 1024;
/// pymalloc's arenas are 1 MiB since 3.10.
const ARENA_BYTES: u64 = 1 << 20;

/// Every `FAULTING_ONE_IN`th stack's pages at the end of the trace: its
/// live bytes rounded up to pages, with some touched and given back.
fn fault_counters(population: &Population) -> HashMap<u64, FaultCounters> {
    let last = population.windows - 1;
    population
        .stacks
        .iter()
        .step_by(FAULTING_ONE_IN)
        .map(|stack| {
            let live_pages = stack.series[last].div_ceil(PAGE_SIZE);
            let released_pages = mix(stack.id) % 64;
            let counters = FaultCounters {
                faulted_pages: live_pages + released_pages,
                released_pages,
            };
            (stack.id, counters)
        })
        .collect()
}

/// The readings at the end of the trace, for [`GrowthReadings::combine`].
pub fn readings(population: &Population) -> GrowthReadings {
    let last = population.windows - 1;
    let stack_id = |seed: u64| population.stacks[seed as usize % population.stacks.len()].id;
    let mut mappings = Vec::with_capacity(MAPPINGS);
    let mut headers = Vec::with_capacity(MAPPINGS);
    for index in 0..MAPPINGS as u64 {
        let seed = mix(index ^ 0x6d61_7073);
        let address = 0x7f00_0000_0000 + index * 2 * ARENA_BYTES;
        let (length, header) = if index.is_multiple_of(2) {
            let length = (33 + seed % 256) * PAGE_SIZE;
            (length, Some(length | GLIBC_IS_MMAPPED))
        } else {
            // An arena starts with a pool header: a reference count and a
            // free-list pointer, never a chunk size.
            (ARENA_BYTES, Some(address + 48))
        };
        let key = AllocationKey {
            tgid: PID,
            _pad: 0,
            address,
        };
        let mapping = AnonymousMapping {
            length,
            stack_id: stack_id(seed),
            timestamp_ns: seed % 600_000_000_000,
        };
        mappings.push((key, mapping));
        // One mapping in a hundred was unmapped before its word was read.
        headers.push(header.filter(|_| !seed.is_multiple_of(100)));
    }
    let live = (0..SAMPLES as u64)
        .map(|index| {
            let seed = mix(index ^ 0x6c69_7665);
            // One sample in twenty is a block glibc served with its own mmap.
            let address = if seed.is_multiple_of(20) {
                let chunk = &mappings[(seed as usize >> 8) % MAPPINGS / 2 * 2];
                chunk.0.address + GLIBC_CHUNK_HEADER
            } else {
                0x5600_0000_0000 + (seed >> 20) * 16
            };
            let size = 16 << (seed % 12);
            let key = AllocationKey {
                tgid: PID,
                _pad: 0,
                address,
            };
            let live = LiveAllocation {
                size,
                stack_id: stack_id(seed >> 4),
                timestamp_ns: seed % 600_000_000_000,
                weight: size.max(SAMPLE_PERIOD_BYTES),
                source: if seed.is_multiple_of(2) {
                    AllocationSource::Libc as u32
                } else {
                    AllocationSource::Interpreter as u32
                },
                _pad: 0,
            };
            (key, live)
        })
        .collect();
    GrowthReadings {
        pid: PID,
        totals: population.totals(last),
        mappings,
        headers,
        live,
        faults: fault_counters(population),
    }
}

/// The evidence the recorder gets at the end of `window`: every
/// `FAULTING_ONE_IN`th stack's pages, and glibc chunks for one stack in
/// a hundred.
pub fn evidence(population: &Population, window: usize) -> GrowthEvidence {
    let mut evidence = GrowthEvidence::default();
    for (index, stack) in population.stacks.iter().enumerate() {
        if stack.first_window > window {
            continue;
        }
        if index.is_multiple_of(FAULTING_ONE_IN) {
            let bytes = stack.series[window].div_ceil(PAGE_SIZE) * PAGE_SIZE;
            evidence.fault_bytes.insert(stack.id, bytes);
        }
        if index.is_multiple_of(100) {
            evidence.mapped_bytes.insert(stack.id, 132 * 1024);
        }
    }
    evidence
}
