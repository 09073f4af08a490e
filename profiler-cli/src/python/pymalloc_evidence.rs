//! Evidence in the target's memory that a pymalloc block was freed.
//!
//! pymalloc frees a block by pushing it on its pool's free list: the
//! block's first word becomes the pool's previous free-list head, a pointer
//! into the same pool (or NULL when the list was empty). A live object's
//! first word is its reference count, never such a pointer. LTO builds
//! inline pymalloc's free behind a guard in dozens of places that no probe
//! sees, so this check is how their frees are found.

/// Blocks larger than this are not pymalloc's: it hands them to malloc.
pub const PYMALLOC_MAX_BLOCK: u64 = 512;

/// Pools are 4 KiB (3.9) or 16 KiB (3.10+), aligned to their size: two
/// addresses in one pool agree above bit 14 either way.
const POOL_REGION_BITS: u32 = 14;

/// True when `first_word`, read at the start of the block at `address`,
/// may be a free-list link: a pointer to another block of the same pool. A
/// NULL link (the pool's list was empty) is not taken as evidence: a live
/// block may start with zero too.
pub fn may_link(address: u64, first_word: u64) -> bool {
    first_word != 0
        && first_word != address
        && first_word >> POOL_REGION_BITS == address >> POOL_REGION_BITS
}

/// True when the block at `address` is on its pool's free list: its first
/// word links to a block whose own first word (`next_word`) continues the
/// list (NULL, or another link into the pool). An array of pointers to
/// live objects of the same pool fails here: a live object starts with its
/// reference count.
pub fn looks_freed(address: u64, first_word: u64, next_word: u64) -> bool {
    may_link(address, first_word) && (next_word == 0 || may_link(first_word, next_word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_list_links_point_into_the_same_pool() {
        let block = 0x7f00_1234_5040;
        assert!(
            may_link(block, 0x7f00_1234_5100),
            "a later block of the pool"
        );
        assert!(
            may_link(block, 0x7f00_1234_4010),
            "an earlier block of the pool"
        );
        assert!(!may_link(block, 1), "a reference count");
        assert!(!may_link(block, 0), "NULL is no evidence");
        assert!(!may_link(block, 0x7f00_1235_0000), "another pool");
        assert!(!may_link(block, block), "a block never links to itself");
    }

    #[test]
    fn a_link_must_lead_to_a_free_block() {
        let block = 0x7f00_1234_5040;
        let next = 0x7f00_1234_5100;
        assert!(looks_freed(block, next, 0), "the last free block");
        assert!(
            looks_freed(block, next, 0x7f00_1234_5200),
            "a free block with a successor"
        );
        assert!(
            !looks_freed(block, next, 3),
            "a live object: its reference count"
        );
    }
}
