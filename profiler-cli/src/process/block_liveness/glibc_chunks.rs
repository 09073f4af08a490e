//! glibc's own word on whether a block it served is free: the chunk after
//! it. A chunk's size field carries, in its lowest bit (PREV_INUSE),
//! whether the chunk before it is in use. glibc clears that bit when the
//! chunk before is freed into a bin (unsorted, small or large), or merged
//! into a free neighbour, and sets it again only when that memory is
//! handed out as a chunk once more. So, reading the block's own size
//! field just before it, then the next chunk's: a clear bit means the
//! block is free.
//!
//! Chunks held in the tcache or a fastbin keep the bit set: for them this
//! says nothing, and neither does it for a block that glibc mapped on its
//! own (unmapping shows those), nor for a size field that cannot be a
//! chunk of this block (the memory became part of another chunk). A live
//! chunk's successor always has the bit set, top included, so a live
//! block is never called free.
//!
//! Only sound when glibc's malloc served the block at exactly that
//! address (`HeapLayout::glibc_chunks`).
//!
//! The chunk header's layout lives here too, for growth mode's count of
//! the large blocks glibc maps on their own (`is_mmapped_chunk`).

use crate::process::memory::{MemoryError, ProcessMemory};

/// glibc's chunk header: prev_size, then size with flags in its low bits;
/// the block handed out follows it.
pub const CHUNK_HEADER: u64 = 16;
/// Where the size field sits in the header.
pub const SIZE_FIELD: u64 = 8;
/// So the size field sits in the 8 bytes before the block.
const SIZE_FIELD_BEFORE_BLOCK: u64 = CHUNK_HEADER - SIZE_FIELD;
const PREV_INUSE: u64 = 0x1;
pub const IS_MMAPPED: u64 = 0x2;
const CHUNK_FLAGS: u64 = 0x7;
/// glibc's smallest chunk, and its chunk alignment, on 64-bit.
const MIN_CHUNK: u64 = 32;
const CHUNK_ALIGNMENT: u64 = 16;
/// Above this a size field is taken for garbage: heap chunks this large
/// are served by mmap (glibc's threshold grows to 32 MiB at most).
const LARGEST_HEAP_CHUNK: u64 = 64 << 20;

/// True when `size_field`, read `SIZE_FIELD` bytes into a mapping of
/// `length` bytes, is the header of a glibc chunk that owns the whole
/// mapping.
pub fn is_mmapped_chunk(size_field: u64, length: u64) -> bool {
    size_field & IS_MMAPPED != 0 && size_field & !CHUNK_FLAGS == length
}

/// The heap chunk size that `size_field` gives a block of `size` bytes,
/// when it can be that block's chunk: not mmapped, aligned, and holding
/// the block.
fn chunk_size(size_field: u64, size: u64) -> Option<u64> {
    let chunk = size_field & !CHUNK_FLAGS;
    let plausible = size_field & IS_MMAPPED == 0
        && chunk >= MIN_CHUNK
        && chunk.is_multiple_of(CHUNK_ALIGNMENT)
        && chunk <= LARGEST_HEAP_CHUNK
        && chunk >= size + SIZE_FIELD_BEFORE_BLOCK;
    plausible.then_some(chunk)
}

/// Where the size field of the chunk after the block at `address` is,
/// that block's own size field being `size_field`.
fn next_size_field(address: u64, size: u64, size_field: u64) -> Option<u64> {
    chunk_size(size_field, size).map(|chunk| address - SIZE_FIELD_BEFORE_BLOCK + chunk)
}

/// For each block asked about, given as Some((address, size)), whether
/// glibc says its chunk is free: Some(true) when the next chunk's
/// PREV_INUSE bit is clear, Some(false) when set, None when nothing can be
/// told or the block was not asked about.
pub fn freed(
    memory: &ProcessMemory,
    blocks: &[Option<(u64, u64)>],
) -> Result<Vec<Option<bool>>, MemoryError> {
    let own_fields = memory.read_words(
        &blocks
            .iter()
            .map(|block| match block {
                Some((address, _)) if *address > SIZE_FIELD_BEFORE_BLOCK => {
                    address - SIZE_FIELD_BEFORE_BLOCK
                }
                _ => 0,
            })
            .collect::<Vec<_>>(),
    )?;
    let next_addresses: Vec<Option<u64>> = blocks
        .iter()
        .zip(&own_fields)
        .map(|(block, field)| {
            let (address, size) = (*block)?;
            next_size_field(address, size, (*field)?)
        })
        .collect();
    let next_fields = memory.read_words(
        &next_addresses
            .iter()
            .map(|next| next.unwrap_or(0))
            .collect::<Vec<_>>(),
    )?;
    Ok(next_addresses
        .iter()
        .zip(next_fields)
        .map(|(address, next)| address.and(next).map(|next| next & PREV_INUSE == 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glibc_mmapped_chunk_header_owns_its_mapping() {
        let length = 0x21000;
        assert!(is_mmapped_chunk(length | IS_MMAPPED, length));
        assert!(
            !is_mmapped_chunk(length | 0x1, length),
            "a heap chunk: no IS_MMAPPED bit"
        );
        assert!(
            !is_mmapped_chunk(0x1000 | IS_MMAPPED, length),
            "a chunk smaller than the mapping"
        );
        assert!(
            !is_mmapped_chunk(0, 0x100000),
            "a pymalloc arena starts with a pool"
        );
    }

    #[test]
    fn a_size_field_must_fit_the_block_to_be_its_chunk() {
        // A 2033-byte request: a 2048-byte chunk, the previous one in use.
        assert_eq!(chunk_size(2048 | PREV_INUSE, 2033), Some(2048));
        assert_eq!(chunk_size(2048 | 0x4, 2033), Some(2048), "another arena");
        assert_eq!(chunk_size(2048 | IS_MMAPPED, 2033), None);
        assert_eq!(chunk_size(2040, 2033), None, "misaligned");
        assert_eq!(chunk_size(1024 | PREV_INUSE, 2033), None, "too small");
        assert_eq!(chunk_size(16, 8), None, "under the smallest chunk");
        assert_eq!(chunk_size(0x6f6f_6f6f_6f6f_6f60, 2033), None, "text");
    }

    #[test]
    fn the_next_chunk_starts_where_this_one_ends() {
        let block = 0x5555_0000_1010;
        assert_eq!(
            next_size_field(block, 2033, 2048 | PREV_INUSE),
            Some(block - 8 + 2048)
        );
    }

    #[test]
    fn this_process_own_blocks_read_as_live_then_free() {
        // Two 4000-byte blocks side by side; freeing the first clears the
        // bit in the second's size field (4000 is past the tcache).
        let first = unsafe { libc::malloc(4000) } as u64;
        let second = unsafe { libc::malloc(4000) } as u64;
        let memory = ProcessMemory {
            pid: std::process::id(),
        };
        let blocks = [Some((first, 4000))];
        assert_eq!(freed(&memory, &blocks).unwrap(), [Some(false)]);
        assert_eq!(freed(&memory, &[None]).unwrap(), [None]);
        // The free is checked where the second block is the first's
        // neighbour (a 4016-byte chunk), as it is unless another thread
        // of this test binary allocated in between; the child Python test
        // checks it whatever the layout.
        if second == first + 4016 {
            unsafe { libc::free(first as *mut libc::c_void) };
            assert_eq!(freed(&memory, &blocks).unwrap(), [Some(true)]);
        } else {
            unsafe { libc::free(first as *mut libc::c_void) };
        }
        unsafe { libc::free(second as *mut libc::c_void) };
    }
}
