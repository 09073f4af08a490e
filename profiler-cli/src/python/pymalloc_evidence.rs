//! Evidence in the target's memory that a pymalloc block was freed.
//!
//! pymalloc frees a block by pushing it on its pool's free list: the pool
//! header's `freeblock` points to the last freed block, whose first word
//! points to the one freed before, and so on to NULL. A block reachable
//! from `freeblock` is free. Walking the list, rather than looking at the
//! block's first word alone, matters: a live GC object starts with its GC
//! link, a pointer to a neighbour in the same pool, just like a free-list
//! link. LTO builds inline pymalloc's free behind a guard in dozens of
//! places that no probe sees, so this check is how their frees are found.
//!
//! The pool header says more. A pool whose count of used blocks is 0 holds
//! nothing; a pool set up again for another size class no longer has the
//! block where it was, or has it too small for what was asked; and blocks
//! at or past `nextoffset` have not been handed out since the pool was set
//! up. In each case the old block's bytes stay as they were, and it would
//! look alive to every other test. The header is trusted only when it is
//! consistent: `maxnextoffset` is the pool size less the block size of
//! `szidx`, and `nextoffset` lies between the first block and it.

/// Blocks larger than this are not pymalloc's: it hands them to malloc.
pub const PYMALLOC_MAX_BLOCK: u64 = 512;

/// `ref.count`, the blocks in use, in `struct pool_header`.
const COUNT_OFFSET: usize = 0;
/// `freeblock` in `struct pool_header`.
const FREEBLOCK_OFFSET: u64 = 8;
/// `szidx`, `nextoffset` and `maxnextoffset`: 32-bit words.
const SIZE_INDEX_OFFSET: usize = 36;
const NEXT_OFFSET_OFFSET: usize = 40;
const MAX_NEXT_OFFSET_OFFSET: usize = 44;
/// The header's size, rounded to the alignment: where the first block is.
const POOL_OVERHEAD: u64 = 48;
/// pymalloc's alignment on 64-bit builds since 3.8: size class `szidx`
/// has blocks of `(szidx + 1) * 16` bytes.
const ALIGNMENT: u64 = 16;
/// The smallest pymalloc block: a free-list walk has at most this many
/// steps per pool byte.
const MIN_BLOCK: u64 = 16;

/// How a target's pymalloc pools are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLayout {
    /// The pool size (`pool_size`).
    pub size: u64,
    /// Whether the blocks recorded are pymalloc's own, starting on their
    /// pool's grid, so that its header can be trusted about them: true for
    /// plain pymalloc; not under the debug hooks, which hand out an offset
    /// into each block, nor under hooks that may wrap them.
    pub headers_apply: bool,
}

/// pymalloc's pool size for a CPython minor version: 4 KiB up to 3.9,
/// 16 KiB from 3.10.
pub fn pool_size(minor: u8) -> u64 {
    if minor <= 9 { 4096 } else { 16384 }
}

/// The start of the pool holding `address`: pools are aligned to their size.
pub fn pool_base(address: u64, pool_size: u64) -> u64 {
    address & !(pool_size - 1)
}

/// Where a recorded block stands in its pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolStanding {
    /// Handed out: alive, or freed where the pool cannot tell.
    HandedOut,
    /// On the pool's free list.
    OnFreeList,
    /// The pool no longer has it handed out: the pool is empty, set up
    /// again for another size class, or not yet carved that far.
    NotHandedOut,
}

/// Where the block at `block`, recorded as `size` bytes, stands in the
/// pool whose bytes, read at `base`, are `pool`; the header is asked only
/// when `headers_apply` (`PoolLayout`).
pub fn standing(
    pool: &[u8],
    base: u64,
    block: u64,
    size: u64,
    headers_apply: bool,
) -> PoolStanding {
    if headers_apply
        && let Some(header) = PoolHeader::read(pool)
        && header.no_longer_holds(block - base, size)
    {
        return PoolStanding::NotHandedOut;
    }
    if on_free_list(pool, base, block) {
        PoolStanding::OnFreeList
    } else {
        PoolStanding::HandedOut
    }
}

/// The fields of `struct pool_header` that tell which blocks exist.
struct PoolHeader {
    count: u64,
    block_size: u64,
    next_offset: u64,
}

impl PoolHeader {
    /// The header at the start of `pool`, when it is consistent.
    fn read(pool: &[u8]) -> Option<PoolHeader> {
        let word = |offset: usize| -> Option<u64> {
            let bytes = pool.get(offset..offset + 4)?;
            Some(u64::from(u32::from_le_bytes(bytes.try_into().ok()?)))
        };
        let count = word(COUNT_OFFSET)?;
        let block_size = (word(SIZE_INDEX_OFFSET)? + 1) * ALIGNMENT;
        let next_offset = word(NEXT_OFFSET_OFFSET)?;
        let max_next_offset = word(MAX_NEXT_OFFSET_OFFSET)?;
        let pool_size = pool.len() as u64;
        let consistent = block_size <= PYMALLOC_MAX_BLOCK
            && max_next_offset + block_size == pool_size
            && next_offset >= POOL_OVERHEAD + block_size
            && next_offset <= max_next_offset + block_size;
        consistent.then_some(PoolHeader {
            count,
            block_size,
            next_offset,
        })
    }

    /// True when no block of `size` bytes at `offset` can be in use.
    fn no_longer_holds(&self, offset: u64, size: u64) -> bool {
        let off_grid =
            offset < POOL_OVERHEAD || !(offset - POOL_OVERHEAD).is_multiple_of(self.block_size);
        self.count == 0 || off_grid || size > self.block_size || offset >= self.next_offset
    }
}

/// True when `block` is on the free list of the pool whose bytes, read at
/// `base`, are `pool`.
fn on_free_list(pool: &[u8], base: u64, block: u64) -> bool {
    let word = |address: u64| -> Option<u64> {
        let offset = usize::try_from(address.checked_sub(base)?).ok()?;
        let bytes = pool.get(offset..offset + 8)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    };
    let mut next = word(base + FREEBLOCK_OFFSET);
    for _ in 0..pool.len() as u64 / MIN_BLOCK {
        match next {
            Some(0) | None => return false,
            Some(free) if free == block => return true,
            Some(free) => next = word(free),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x7f00_1234_4000;

    /// A 4 KiB pool of 64-byte blocks whose free list is `free`, in order.
    fn pool(free: &[u64]) -> Vec<u8> {
        let mut bytes = vec![0u8; 4096];
        let mut put = |at: u64, value: u64| {
            let offset = (at - BASE) as usize;
            bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        };
        let mut link = BASE + FREEBLOCK_OFFSET;
        for &block in free {
            put(link, block);
            link = block;
        }
        put(link, 0);
        // A live GC object whose first word points to a neighbour.
        put(BASE + 0x200, BASE + 0x240);
        bytes
    }

    #[test]
    fn blocks_reachable_from_freeblock_are_free() {
        let bytes = pool(&[BASE + 0x100, BASE + 0x80, BASE + 0x300]);
        for block in [BASE + 0x100, BASE + 0x80, BASE + 0x300] {
            assert!(on_free_list(&bytes, BASE, block), "{block:#x}");
        }
    }

    #[test]
    fn a_live_object_linking_to_a_neighbour_is_not_free() {
        let bytes = pool(&[BASE + 0x100]);
        assert!(!on_free_list(&bytes, BASE, BASE + 0x200));
        assert!(!on_free_list(&bytes, BASE, BASE + 0x240));
    }

    #[test]
    fn a_corrupt_or_cyclic_list_ends_the_walk() {
        let mut bytes = pool(&[BASE + 0x100]);
        // The last free block links back to the first: a cycle.
        bytes[0x100..0x108].copy_from_slice(&(BASE + 0x100).to_le_bytes());
        assert!(!on_free_list(&bytes, BASE, BASE + 0x200));
        // A link out of the pool stops the walk too.
        bytes[0x100..0x108].copy_from_slice(&0xdead_0000u64.to_le_bytes());
        assert!(!on_free_list(&bytes, BASE, BASE + 0x200));
    }

    /// A consistent 4 KiB pool header: `count` blocks in use, blocks of
    /// size class `size_index`, carved up to `next_offset`.
    fn header(count: u32, size_index: u32, next_offset: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 4096];
        let block_size = (size_index + 1) * 16;
        let mut put = |offset: usize, value: u32| {
            bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        };
        put(COUNT_OFFSET, count);
        put(SIZE_INDEX_OFFSET, size_index);
        put(NEXT_OFFSET_OFFSET, next_offset);
        put(MAX_NEXT_OFFSET_OFFSET, 4096 - block_size);
        bytes
    }

    #[test]
    fn a_consistent_header_tells_which_blocks_can_be_in_use() {
        // 64-byte blocks from offset 48, carved up to offset 48 + 10 * 64.
        let pool = header(3, 3, 48 + 10 * 64);
        let at = |block: u64| BASE + 48 + block * 64;
        assert_eq!(
            standing(&pool, BASE, at(2), 50, true),
            PoolStanding::HandedOut
        );
        assert_eq!(
            standing(&pool, BASE, at(10), 50, true),
            PoolStanding::NotHandedOut,
            "not carved yet"
        );
        assert_eq!(
            standing(&pool, BASE, at(2) + 16, 50, true),
            PoolStanding::NotHandedOut,
            "between two blocks of the pool's size class"
        );
        assert_eq!(
            standing(&pool, BASE, at(2), 100, true),
            PoolStanding::NotHandedOut,
            "larger than the pool's blocks"
        );
        let empty = header(0, 3, 48 + 10 * 64);
        assert_eq!(
            standing(&empty, BASE, at(2), 50, true),
            PoolStanding::NotHandedOut
        );
        assert_eq!(
            standing(&empty, BASE, at(2), 50, false),
            PoolStanding::HandedOut,
            "the header is not asked under hooks"
        );
    }

    #[test]
    fn an_inconsistent_header_leaves_only_the_free_list() {
        // maxnextoffset does not fit the size class: not a pool header.
        let mut pool = header(0, 3, 48 + 10 * 64);
        pool[MAX_NEXT_OFFSET_OFFSET..MAX_NEXT_OFFSET_OFFSET + 4]
            .copy_from_slice(&1000u32.to_le_bytes());
        let block = BASE + 48 + 2 * 64;
        assert_eq!(
            standing(&pool, BASE, block, 50, true),
            PoolStanding::HandedOut
        );
        pool[FREEBLOCK_OFFSET as usize..FREEBLOCK_OFFSET as usize + 8]
            .copy_from_slice(&block.to_le_bytes());
        assert_eq!(
            standing(&pool, BASE, block, 50, true),
            PoolStanding::OnFreeList
        );
    }

    #[test]
    fn pools_are_4_kib_until_3_9_and_16_kib_after() {
        assert_eq!(pool_size(9), 4096);
        assert_eq!(pool_size(13), 16384);
        assert_eq!(pool_base(0x7f00_1234_7ff0, 16384), 0x7f00_1234_4000);
    }
}
