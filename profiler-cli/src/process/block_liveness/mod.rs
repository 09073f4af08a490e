//! Whether a recorded block is still the one the allocator handed out,
//! judged from the target's memory alone: the evidence growth mode uses
//! for sampled blocks whose free it may not have seen, and precise mode
//! for frees an LTO build hides.
//!
//! Evidence of death, strongest first:
//! - the block is no longer mapped (its memory went back to the system);
//! - it is on its pymalloc pool's free list, or its pool no longer has
//!   it handed out: the pool is empty, set up again for another size
//!   class, or not carved that far (`pymalloc_evidence`);
//! - glibc's next chunk says it is free, for a block glibc served
//!   (`glibc_chunks`);
//! - its fingerprint changed: the two words where an object's type
//!   pointer sits (+8 without a GC header, +24 with one) both differ from
//!   when the block was first seen, so another object lives there now.
//!
//! A block reused by an object of the same type keeps its fingerprint.
//! pymalloc reuses addresses last-in first-out, so that case is common,
//! and an unchanged fingerprint is weak evidence of life: such blocks
//! only die by a free or reuse seen in a later burst.

pub mod glibc_chunks;

use std::collections::HashMap;

use crate::process::memory::{MemoryError, MemoryReader as _, ProcessMemory};
use crate::python::pymalloc_evidence::{
    PYMALLOC_MAX_BLOCK, PoolLayout, PoolStanding, pool_base, standing,
};

/// The words of a block that carry an object's type, with and without a
/// GC header in front.
pub type Fingerprint = [u64; 2];

/// What one read of a block found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockReading {
    /// The first word, None when the block is not mapped.
    pub first: Option<u64>,
    /// Where it stands in its pymalloc pool (None: not a pymalloc block,
    /// or its pool could not be read).
    pub in_pool: Option<PoolStanding>,
    pub fingerprint: Option<Fingerprint>,
    /// glibc's word on the block's chunk (`glibc_chunks::freed`), when asked.
    pub chunk_freed: Option<bool>,
}

/// How a target's blocks can be read for evidence of their death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapLayout {
    pub pools: PoolLayout,
    /// glibc's malloc serves the process's malloc (no other allocator
    /// replaces it), so a block it served has glibc's chunk header.
    pub glibc_chunks: bool,
}

/// Why a block is known to be gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeathEvidence {
    Unmapped,
    FreeListLink,
    /// glibc's next chunk has the block's in-use bit clear.
    ChunkFreed,
    /// Its pool is empty, set up again, or not carved as far as the block.
    PoolReclaimed,
    FingerprintChanged,
}

/// A recorded block to judge.
#[derive(Clone, Copy, Debug)]
pub struct RecordedBlock {
    pub address: u64,
    pub size: u64,
    /// Served by the interpreter's allocator (pymalloc for small blocks).
    pub from_interpreter: bool,
}

impl RecordedBlock {
    fn maybe_pymalloc(&self) -> bool {
        self.from_interpreter && self.size <= PYMALLOC_MAX_BLOCK
    }

    /// Whether the block is one glibc handed out at this very address: a
    /// libc block, or a large one the interpreter asked libc for, under
    /// plain pymalloc (debug hooks hand out an offset into theirs).
    fn glibc_chunk(&self, layout: HeapLayout) -> bool {
        layout.glibc_chunks
            && !self.maybe_pymalloc()
            && (!self.from_interpreter || layout.pools.headers_apply)
    }
}

/// Judges one block from its reading and the fingerprint it had when first
/// seen (None: first sight).
pub fn judge(
    block: &RecordedBlock,
    reading: &BlockReading,
    first_seen: Option<Fingerprint>,
) -> Option<DeathEvidence> {
    if reading.first.is_none() {
        return Some(DeathEvidence::Unmapped);
    }
    if block.maybe_pymalloc() {
        match reading.in_pool {
            Some(PoolStanding::OnFreeList) => return Some(DeathEvidence::FreeListLink),
            Some(PoolStanding::NotHandedOut) => return Some(DeathEvidence::PoolReclaimed),
            Some(PoolStanding::HandedOut) | None => {}
        }
    }
    if reading.chunk_freed == Some(true) {
        return Some(DeathEvidence::ChunkFreed);
    }
    match (first_seen, reading.fingerprint) {
        (Some([was_near, was_far]), Some([near, far])) if was_near != near && was_far != far => {
            Some(DeathEvidence::FingerprintChanged)
        }
        _ => None,
    }
}

/// Reads `blocks` in a few batched passes, and each pymalloc pool they
/// lie in once. Fails when the address space itself is
/// gone, as when the target has exited: an unreadable block then says
/// nothing about its own death.
pub fn read_blocks(
    memory: &ProcessMemory,
    blocks: &[RecordedBlock],
    layout: HeapLayout,
) -> Result<Vec<BlockReading>, MemoryError> {
    let pools_read = layout.pools;
    let firsts = memory.read_words(&blocks.iter().map(|b| b.address).collect::<Vec<_>>())?;
    let mut pools: HashMap<u64, Option<Vec<u8>>> = HashMap::new();
    let in_pool: Vec<Option<PoolStanding>> = blocks
        .iter()
        .map(|block| {
            if !block.maybe_pymalloc() {
                return None;
            }
            let base = pool_base(block.address, pools_read.size);
            let pool = pools
                .entry(base)
                .or_insert_with(|| memory.read_vec(base, pools_read.size as usize).ok());
            pool.as_ref().map(|pool| {
                standing(
                    pool,
                    base,
                    block.address,
                    block.size,
                    pools_read.headers_apply,
                )
            })
        })
        .collect();
    // A fingerprint word past the block's end belongs to another block.
    let fingerprint_at = |block: &RecordedBlock, offset: u64| {
        if block.size >= offset + 8 {
            block.address + offset
        } else {
            0
        }
    };
    let near = memory.read_words(
        &blocks
            .iter()
            .map(|b| fingerprint_at(b, 8))
            .collect::<Vec<_>>(),
    )?;
    let far = memory.read_words(
        &blocks
            .iter()
            .map(|b| fingerprint_at(b, 24))
            .collect::<Vec<_>>(),
    )?;
    let chunks_asked: Vec<Option<(u64, u64)>> = blocks
        .iter()
        .map(|b| b.glibc_chunk(layout).then_some((b.address, b.size)))
        .collect();
    let chunk_freed = if chunks_asked.iter().any(Option::is_some) {
        glibc_chunks::freed(memory, &chunks_asked)?
    } else {
        vec![None; blocks.len()]
    };
    Ok((0..blocks.len())
        .map(|index| BlockReading {
            first: firsts[index],
            in_pool: in_pool[index],
            fingerprint: Some([near[index].unwrap_or(0), far[index].unwrap_or(0)]),
            chunk_freed: chunk_freed[index],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL_BLOCK: u64 = 0x7f00_1234_5040;

    fn small_object() -> RecordedBlock {
        RecordedBlock {
            address: POOL_BLOCK,
            size: 48,
            from_interpreter: true,
        }
    }

    fn reading(first: Option<u64>, fingerprint: Fingerprint) -> BlockReading {
        BlockReading {
            first,
            in_pool: Some(PoolStanding::HandedOut),
            fingerprint: Some(fingerprint),
            chunk_freed: None,
        }
    }

    #[test]
    fn an_unmapped_block_is_dead() {
        let gone = BlockReading {
            first: None,
            in_pool: None,
            fingerprint: None,
            chunk_freed: None,
        };
        assert_eq!(
            judge(&small_object(), &gone, None),
            Some(DeathEvidence::Unmapped)
        );
    }

    #[test]
    fn a_free_list_link_kills_only_pymalloc_blocks() {
        let linked = BlockReading {
            in_pool: Some(PoolStanding::OnFreeList),
            ..reading(Some(POOL_BLOCK + 0x40), [1, 2])
        };
        assert_eq!(
            judge(&small_object(), &linked, None),
            Some(DeathEvidence::FreeListLink)
        );
        let from_libc = RecordedBlock {
            from_interpreter: false,
            ..small_object()
        };
        assert_eq!(judge(&from_libc, &linked, None), None);
        let reclaimed = BlockReading {
            in_pool: Some(PoolStanding::NotHandedOut),
            ..linked
        };
        assert_eq!(
            judge(&small_object(), &reclaimed, None),
            Some(DeathEvidence::PoolReclaimed)
        );
        assert_eq!(judge(&from_libc, &reclaimed, None), None);
    }

    #[test]
    fn a_free_chunk_kills_a_block_glibc_served() {
        let large = RecordedBlock {
            size: 2033,
            ..small_object()
        };
        let freed = BlockReading {
            chunk_freed: Some(true),
            ..reading(Some(1), [1, 2])
        };
        assert_eq!(judge(&large, &freed, None), Some(DeathEvidence::ChunkFreed));
        let in_use = BlockReading {
            chunk_freed: Some(false),
            ..freed
        };
        assert_eq!(judge(&large, &in_use, None), None);
        let layout = |headers_apply, glibc_chunks| HeapLayout {
            pools: PoolLayout {
                size: 16384,
                headers_apply,
            },
            glibc_chunks,
        };
        assert!(large.glibc_chunk(layout(true, true)));
        assert!(!large.glibc_chunk(layout(false, true)), "debug hooks");
        assert!(!large.glibc_chunk(layout(true, false)), "another malloc");
        assert!(
            !small_object().glibc_chunk(layout(true, true)),
            "pymalloc's"
        );
        let from_libc = RecordedBlock {
            from_interpreter: false,
            ..small_object()
        };
        assert!(from_libc.glibc_chunk(layout(false, true)));
    }

    #[test]
    fn only_a_fingerprint_changed_in_both_words_is_evidence() {
        let block = small_object();
        let now = reading(Some(1), [0x55_0000, 0x66_0000]);
        assert_eq!(
            judge(&block, &now, Some([0x11_0000, 0x22_0000])),
            Some(DeathEvidence::FingerprintChanged)
        );
        // A GC header's link moved but the type stayed: alive.
        assert_eq!(judge(&block, &now, Some([0x11_0000, 0x66_0000])), None);
        assert_eq!(judge(&block, &now, None), None, "first sight");
    }
}

#[cfg(test)]
mod child_python_tests;
