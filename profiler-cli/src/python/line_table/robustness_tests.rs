//! The decoders on garbage: tables read from another process may be
//! truncated, corrupted or random, and decoding them must neither panic nor
//! run longer than the table.

use super::{LineTableFormat, fixture_tests::fixture_tables, line_for_offset};

const FORMATS: [LineTableFormat; 3] = [
    LineTableFormat::Lnotab,
    LineTableFormat::Linetable310,
    LineTableFormat::Locations,
];

/// Offsets worth asking about: small ones, large ones, and the extremes.
const OFFSETS: [u32; 8] = [0, 1, 2, 17, 500, 4096, u32::MAX - 1, u32::MAX];

/// Decodes and drops the answer: these tests only ask that decoding returns.
fn decode(format: LineTableFormat, table: &[u8], first_line: u32, byte_offset: u32) {
    std::hint::black_box(line_for_offset(format, table, first_line, byte_offset));
}

/// A small xorshift generator, so the test needs no dependency and every
/// run sees the same tables.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

#[test]
fn random_tables_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let table = rng.bytes(round % 97);
        let first_line = if round % 5 == 0 {
            u32::MAX
        } else {
            rng.next() as u32 % 5000
        };
        for format in FORMATS {
            for offset in OFFSETS {
                decode(format, &table, first_line, offset);
            }
            decode(format, &table, first_line, rng.next() as u32);
        }
    }
}

#[test]
fn real_tables_read_as_the_wrong_format_never_panic() {
    for (_, table) in fixture_tables() {
        for format in FORMATS {
            for offset in OFFSETS {
                decode(format, &table, 1, offset);
            }
        }
    }
}

#[test]
fn truncated_and_corrupted_real_tables_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for (format, table) in fixture_tables() {
        for cut in 0..table.len() {
            for offset in (0..64).step_by(2) {
                decode(format, &table[..cut], 1, offset);
            }
        }
        for _ in 0..50 {
            let mut corrupted = table.clone();
            if let Some(len) = std::num::NonZeroUsize::new(corrupted.len()) {
                let at = rng.next() as usize % len;
                corrupted[at] = rng.next().to_le_bytes()[0];
            }
            for offset in OFFSETS {
                decode(format, &corrupted, 7, offset);
            }
        }
    }
}

#[test]
fn a_truncated_3_11_table_knows_nothing_past_the_cut() {
    for (format, table) in fixture_tables() {
        if format != LineTableFormat::Locations || table.is_empty() {
            continue;
        }
        // Dropping the last byte breaks or removes the last entry, so the
        // last unit of the code now lies past what the table covers.
        let full_units = units_covered(&table);
        let cut = &table[..table.len() - 1];
        let last = (full_units - 1) * 2;
        assert_eq!(line_for_offset(format, cut, 1, last), None);
    }
}

/// How many code units a well-formed 3.11+ table covers.
fn units_covered(table: &[u8]) -> u32 {
    table
        .iter()
        .filter(|&&byte| byte & 0x80 != 0)
        .map(|&byte| u32::from(byte & 7) + 1)
        .sum()
}

#[test]
fn huge_varints_and_line_overflow_are_none() {
    // A long-form entry whose line delta needs more chunks than allowed.
    let overlong = [0xf0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f, 0, 0, 0];
    assert_eq!(
        line_for_offset(LineTableFormat::Locations, &overlong, 1, 0),
        None
    );
    // The largest accepted positive delta takes the line past u32::MAX.
    let past_u32 = [0xe8, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f];
    assert_eq!(
        line_for_offset(LineTableFormat::Locations, &past_u32, u32::MAX, 0),
        None
    );
    assert_eq!(
        line_for_offset(LineTableFormat::Linetable310, &[2, 1], u32::MAX, 0),
        None
    );
    assert_eq!(
        line_for_offset(LineTableFormat::Lnotab, &[0, 1], u32::MAX, 0),
        None
    );
}
