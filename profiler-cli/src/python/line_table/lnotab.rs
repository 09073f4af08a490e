//! The 3.9 `co_lnotab` line table.
//!
//! The table is a list of (offset increment, line increment) byte pairs.
//! The offset increment is unsigned and counts bytes; the line increment is
//! a signed byte. Starting from offset 0 at `co_firstlineno`, each pair
//! first moves the offset, and an instruction belongs to the line reached
//! before the offset moves past it. Large jumps are split over several
//! pairs, so a pair may move only the offset or only the line.

use super::to_line;

/// The line of the instruction at `byte_offset`; `None` if the table has
/// an odd length or the line leaves the `u32` range.
pub(super) fn line_for_offset(table: &[u8], first_line: u32, byte_offset: u32) -> Option<u32> {
    if !table.len().is_multiple_of(2) {
        return None;
    }
    let target = u64::from(byte_offset);
    let mut offset: u64 = 0;
    let mut line = i64::from(first_line);
    for pair in table.chunks_exact(2) {
        offset += u64::from(pair[0]);
        if offset > target {
            break;
        }
        line += i64::from(pair[1].cast_signed());
    }
    to_line(line)
}

#[cfg(test)]
mod tests {
    use super::line_for_offset;

    #[test]
    fn empty_table_is_first_line_everywhere() {
        assert_eq!(line_for_offset(&[], 7, 0), Some(7));
        assert_eq!(line_for_offset(&[], 7, 1000), Some(7));
    }

    #[test]
    fn offset_and_line_jumps_split_over_pairs() {
        // Offsets 0, 6, 300 start lines 1, 2, 202 (the example of
        // lnotab_notes.txt, split as the compiler splits it).
        let table = [0, 0, 6, 1, 255, 0, 39, 127, 0, 73];
        assert_eq!(line_for_offset(&table, 1, 0), Some(1));
        assert_eq!(line_for_offset(&table, 1, 5), Some(1));
        assert_eq!(line_for_offset(&table, 1, 6), Some(2));
        assert_eq!(line_for_offset(&table, 1, 299), Some(2));
        assert_eq!(line_for_offset(&table, 1, 300), Some(202));
    }

    #[test]
    fn negative_line_increments() {
        let table = [0, 5, 4, 0xfe];
        assert_eq!(line_for_offset(&table, 10, 2), Some(15));
        assert_eq!(line_for_offset(&table, 10, 4), Some(13));
    }

    #[test]
    fn odd_length_or_negative_line_is_malformed() {
        assert_eq!(line_for_offset(&[0, 1, 2], 1, 0), None);
        assert_eq!(line_for_offset(&[0, 0x80], 1, 0), None);
    }
}
