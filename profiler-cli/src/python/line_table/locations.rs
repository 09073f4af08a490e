//! The 3.11+ `co_linetable` location table.
//!
//! The table is a list of entries, each covering 1 to 8 code units of 2
//! bytes (inline caches included). An entry's first byte has bit 7 set, the
//! kind in bits 3-6 and the length minus one in bits 0-2; the bytes after it
//! depend on the kind. Only the start line matters here; it is a running
//! value starting at `co_firstlineno`:
//!
//! | kind  | start line                    | bytes after the first      |
//! |-------|-------------------------------|----------------------------|
//! | 0-9   | unchanged (short form)        | 1 (columns)                |
//! | 10-12 | + (kind - 10) (one-line form) | 2 (columns)                |
//! | 13    | + svarint (no columns)        | svarint                    |
//! | 14    | + svarint (long form)         | svarint, 3 varints         |
//! | 15    | none, running line unchanged  | 0                          |

use super::{to_line, varint::Cursor};

/// Bytes per code unit.
const CODE_UNIT: u32 = 2;

/// The line of the instruction at `byte_offset`; `None` if its entry has
/// no location, the table does not reach it or is malformed, or the line
/// leaves the `u32` range.
pub(super) fn line_for_offset(table: &[u8], first_line: u32, byte_offset: u32) -> Option<u32> {
    let target = u64::from(byte_offset / CODE_UNIT);
    let mut cursor = Cursor::new(table);
    let mut line = i64::from(first_line);
    let mut end: u64 = 0;
    while let Some(first) = cursor.entry_start() {
        if first & 0x80 == 0 {
            return None;
        }
        let kind = (first >> 3) & 0x0f;
        end += u64::from(first & 0x07) + 1;
        let delta = match kind {
            0..=9 => {
                cursor.byte()?;
                Some(0)
            }
            10..=12 => {
                cursor.byte()?;
                cursor.byte()?;
                Some(i64::from(kind - 10))
            }
            13 => Some(cursor.svarint()?),
            14 => {
                let delta = cursor.svarint()?;
                for _end_line_and_columns in 0..3 {
                    cursor.varint()?;
                }
                Some(delta)
            }
            _ => None,
        };
        let entry_line = match delta {
            Some(delta) => {
                line = line.checked_add(delta)?;
                Some(line)
            }
            None => None,
        };
        if target < end {
            return entry_line.and_then(to_line);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_for_offset;

    /// Units 0-1 short form; unit 2 one-line +2; units 3-5 no location;
    /// unit 6 no-column -3; unit 7 long form +200; unit 8 short form.
    const TABLE: [u8; 15] = [
        0x81, 0x12, // kind 0, 2 units
        0xe0, 0x04, 0x08, // kind 12, 1 unit
        0xfa, // kind 15, 3 units
        0xe8, 0x07, // kind 13, 1 unit, -3
        0xf0, 0x50, 0x06, 0x02, 0x04, 0x05, // kind 14, 1 unit, +200
        0x80, // kind 0, 1 unit, its column byte left off below
    ];

    #[test]
    fn every_kind_of_entry() {
        let table = [&TABLE[..], &[0x11]].concat();
        let lines: Vec<_> = (0..20)
            .map(|byte| line_for_offset(&table, 10, byte))
            .collect();
        let mut expected = vec![Some(10); 4];
        expected.extend([Some(12), Some(12)]);
        expected.extend([None; 6]);
        expected.extend([Some(9), Some(9), Some(209), Some(209)]);
        expected.extend([Some(209), Some(209), None, None]);
        assert_eq!(lines, expected);
    }

    #[test]
    fn truncated_entry_is_malformed() {
        assert_eq!(line_for_offset(&TABLE, 10, 16), None);
        assert_eq!(line_for_offset(&TABLE[..TABLE.len() - 2], 10, 14), None);
    }

    #[test]
    fn entry_without_high_bit_is_malformed() {
        assert_eq!(line_for_offset(&[0x01, 0x12], 10, 0), None);
        assert_eq!(line_for_offset(&[0x81, 0x92], 10, 0), None);
    }

    #[test]
    fn line_below_zero_is_none() {
        assert_eq!(line_for_offset(&[0xe8, 0x07], 1, 0), None);
    }
}
