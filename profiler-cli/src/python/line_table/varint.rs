//! A bounds-checked reader of the bytes inside one entry of the 3.11+
//! location table, with its variable-length integer encodings.
//!
//! Unsigned varints are 6-bit chunks, least significant first, where every
//! chunk but the last has bit 6 set. Signed varints are unsigned ones whose
//! lowest bit is the sign and whose other bits are the magnitude. Bytes
//! inside an entry never have bit 7 set (that bit starts the next entry).

/// Chunks in the longest varint accepted: 36 bits hold any line or column
/// CPython (which keeps them in C `int`s) can write.
const MAX_CHUNKS: u32 = 6;

/// Reads entry bytes from a table, front to back.
pub(super) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn new(table: &'a [u8]) -> Self {
        Self { rest: table }
    }

    /// The next byte, whatever it is; `None` at the end of the table.
    pub(super) fn entry_start(&mut self) -> Option<u8> {
        let (&byte, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(byte)
    }

    /// The next byte of the current entry; `None` at the end of the table
    /// or if the byte has bit 7 set.
    pub(super) fn byte(&mut self) -> Option<u8> {
        let byte = self.entry_start()?;
        (byte & 0x80 == 0).then_some(byte)
    }

    /// An unsigned varint; `None` if truncated or too long.
    pub(super) fn varint(&mut self) -> Option<u64> {
        let mut value = 0;
        for chunk in 0..MAX_CHUNKS {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x3f) << (6 * chunk);
            if byte & 0x40 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A signed varint; `None` if truncated or too long.
    pub(super) fn svarint(&mut self) -> Option<i64> {
        let raw = self.varint()?;
        let magnitude = i64::try_from(raw >> 1).ok()?;
        Some(if raw & 1 == 1 { -magnitude } else { magnitude })
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn varints_of_the_format_description() {
        assert_eq!(Cursor::new(&[0x3f]).varint(), Some(63));
        assert_eq!(Cursor::new(&[0x48, 0x03]).varint(), Some(200));
    }

    #[test]
    fn svarints_carry_the_sign_in_bit_zero() {
        assert_eq!(Cursor::new(&[0x06]).svarint(), Some(3));
        assert_eq!(Cursor::new(&[0x07]).svarint(), Some(-3));
        assert_eq!(Cursor::new(&[0x50, 0x12]).svarint(), Some(584));
    }

    #[test]
    fn truncated_overlong_and_high_bit_varints_fail() {
        assert_eq!(Cursor::new(&[0x48]).varint(), None);
        assert_eq!(Cursor::new(&[0x40; 7]).varint(), None);
        assert_eq!(Cursor::new(&[0x48, 0x83]).varint(), None);
        assert_eq!(Cursor::new(&[]).byte(), None);
    }
}
