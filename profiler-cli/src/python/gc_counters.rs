//! The cyclic GC's counters of a live interpreter, read from its memory:
//! what `gc.get_count()` and `gc.get_stats()` would say inside it, and the
//! objects that survived the last full collection.

use crate::process::memory::{MemoryError, MemoryReader};
use crate::python::offsets::{GC_STATS_SIZE, GcLayout};
use crate::report::GcCounters;

/// Reads the GC state of the interpreter at `interpreter`.
pub fn read(
    memory: &dyn MemoryReader,
    layout: &GcLayout,
    interpreter: u64,
) -> Result<GcCounters, MemoryError> {
    let generations = 0..layout.generation_count;
    let counts = match layout.generations {
        Some(first) => Some(
            generations
                .clone()
                .map(|generation| {
                    let at = interpreter + first + generation * layout.generation_size;
                    memory.read_i32(at + layout.count).map(i64::from)
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let stats = memory.read_vec(
        interpreter + layout.stats,
        (layout.generation_count * GC_STATS_SIZE) as usize,
    )?;
    let word = |index: usize| {
        let bytes = &stats[index * 8..index * 8 + 8];
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    };
    let field = |offset: usize| -> Vec<u64> {
        generations
            .clone()
            .map(|generation| word(generation as usize * 3 + offset))
            .collect()
    };
    let long_lived_objects = match layout.long_lived_total {
        Some(offset) => Some(memory.read_u64(interpreter + offset)?),
        None => None,
    };
    Ok(GcCounters {
        counts,
        collections: field(0),
        collected: field(1),
        uncollectable: field(2),
        long_lived_objects,
    })
}
