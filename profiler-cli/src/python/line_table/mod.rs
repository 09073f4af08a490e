//! Decoding the line tables of code objects: which source line an
//! instruction of a CPython code object belongs to.
//!
//! Each CPython version family stores the mapping differently; one file per
//! format decodes it, and [`line_for_offset`] picks the decoder. The tables
//! are read from another process's memory and may be garbage, so every
//! decoder bounds its work by the table's length, never panics, and answers
//! `None` when the table is malformed.

mod linetable310;
mod lnotab;
mod locations;
mod varint;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod robustness_tests;

pub use crate::python::offsets::LineTableFormat;

/// The source line of the instruction at `byte_offset`, or `None` when the
/// table says the instruction has no line, or the table is malformed, or
/// `byte_offset` lies past what the table covers (3.10+).
///
/// `table` is the raw table (`co_lnotab` for [`LineTableFormat::Lnotab`],
/// `co_linetable` otherwise) and `first_line` is `co_firstlineno`.
///
/// `byte_offset` is the offset in bytes of the instruction from the start
/// of the bytecode. How the caller gets it from a frame:
///
/// - 3.9: `f_lasti` is already a byte offset.
/// - 3.10: `f_lasti` counts 2-byte code units: `byte_offset = 2 * f_lasti`.
/// - 3.11 and 3.12: `prev_instr - &co_code_adaptive[0]` in bytes. Inline
///   cache units count, and they carry their instruction's line, so a
///   `prev_instr` left on the last cache unit of a `CALL` (as it is while
///   the callee runs) still gives the call's line. A frame that has not
///   started yet has `prev_instr` one unit *before* the code (offset -2):
///   clamp it to 0.
/// - 3.13 and later: `instr_ptr - &co_code_adaptive[0]` in bytes. Here
///   `instr_ptr` points at the instruction being executed (a caller's
///   `CALL` while the callee runs), not at the previous one, and at offset
///   0 for a frame that has not started.
///
/// For 3.10+ an odd `byte_offset` is looked up as the code unit holding it.
#[must_use]
pub fn line_for_offset(
    format: LineTableFormat,
    table: &[u8],
    first_line: u32,
    byte_offset: u32,
) -> Option<u32> {
    match format {
        LineTableFormat::Lnotab => lnotab::line_for_offset(table, first_line, byte_offset),
        LineTableFormat::Linetable310 => {
            linetable310::line_for_offset(table, first_line, byte_offset)
        }
        LineTableFormat::Locations => locations::line_for_offset(table, first_line, byte_offset),
    }
}

/// A line computed in a wider type, as a `u32` if it is one.
fn to_line(line: i64) -> Option<u32> {
    u32::try_from(line).ok()
}
