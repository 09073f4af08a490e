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

/// Blocks larger than this are not pymalloc's: it hands them to malloc.
pub const PYMALLOC_MAX_BLOCK: u64 = 512;

/// `freeblock` in `struct pool_header`.
const FREEBLOCK_OFFSET: u64 = 8;
/// The smallest pymalloc block: a free-list walk has at most this many
/// steps per pool byte.
const MIN_BLOCK: u64 = 16;

/// pymalloc's pool size for a CPython minor version: 4 KiB up to 3.9,
/// 16 KiB from 3.10.
pub fn pool_size(minor: u8) -> u64 {
    if minor <= 9 { 4096 } else { 16384 }
}

/// The start of the pool holding `address`: pools are aligned to their size.
pub fn pool_base(address: u64, pool_size: u64) -> u64 {
    address & !(pool_size - 1)
}

/// True when `block` is on the free list of the pool whose bytes, read at
/// `base`, are `pool`.
pub fn on_free_list(pool: &[u8], base: u64, block: u64) -> bool {
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

    #[test]
    fn pools_are_4_kib_until_3_9_and_16_kib_after() {
        assert_eq!(pool_size(9), 4096);
        assert_eq!(pool_size(13), 16384);
        assert_eq!(pool_base(0x7f00_1234_7ff0, 16384), 0x7f00_1234_4000);
    }
}
