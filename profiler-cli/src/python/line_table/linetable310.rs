//! The 3.10 `co_linetable` line table.
//!
//! The table is a list of (length, line increment) byte pairs, each
//! covering the next `length` bytes of bytecode (unsigned). The line
//! increment is a signed byte added to a running line that starts at
//! `co_firstlineno`; the value -128 instead marks the range as having no
//! line and leaves the running line alone. Ranges of length 0 only move the
//! line.

use super::to_line;

/// The line increment that means "this range has no line".
const NO_LINE: i8 = -128;

/// The line of the instruction at `byte_offset`; `None` if its range has
/// no line, the table does not reach it, has an odd length, or the line
/// leaves the `u32` range.
pub(super) fn line_for_offset(table: &[u8], first_line: u32, byte_offset: u32) -> Option<u32> {
    if !table.len().is_multiple_of(2) {
        return None;
    }
    let target = u64::from(byte_offset);
    let mut end: u64 = 0;
    let mut line = i64::from(first_line);
    for pair in table.chunks_exact(2) {
        end += u64::from(pair[0]);
        let delta = pair[1].cast_signed();
        let range_line = (delta != NO_LINE).then(|| {
            line += i64::from(delta);
            line
        });
        if target < end {
            return range_line.and_then(to_line);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_for_offset;

    #[test]
    fn ranges_zero_length_and_no_line() {
        // [0, 4) line 11; [4, 6) no line; a zero-length move by +127;
        // [6, 10) line 11 + 127 - 1.
        let table = [4, 1, 2, 0x80, 0, 127, 4, 0xff];
        assert_eq!(line_for_offset(&table, 10, 0), Some(11));
        assert_eq!(line_for_offset(&table, 10, 3), Some(11));
        assert_eq!(line_for_offset(&table, 10, 4), None);
        assert_eq!(line_for_offset(&table, 10, 6), Some(137));
        assert_eq!(line_for_offset(&table, 10, 9), Some(137));
    }

    #[test]
    fn past_the_table_or_odd_length_is_none() {
        assert_eq!(line_for_offset(&[4, 1], 1, 4), None);
        assert_eq!(line_for_offset(&[], 1, 0), None);
        assert_eq!(line_for_offset(&[4, 1, 2], 1, 0), None);
    }
}
