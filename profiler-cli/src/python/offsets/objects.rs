//! Reading the str and bytes objects that name code: `co_name`,
//! `co_filename`, the line table.

use crate::process::memory::MemoryReader;
use crate::python::offsets::{BytesLayout, OffsetsError, UnicodeLayout};

/// Longest str read, in code points: names and paths are far shorter.
const MAX_STR_LENGTH: u64 = 1 << 16;
/// Longest bytes object read: line tables and bytecode are far shorter.
const MAX_BYTES_LENGTH: u64 = 16 << 20;

/// The text of the str object at `address`.
pub fn read_str(
    memory: &dyn MemoryReader,
    layout: &UnicodeLayout,
    address: u64,
) -> Result<String, OffsetsError> {
    let bad = |detail: String| OffsetsError::BadObject {
        what: "str",
        address,
        detail,
    };
    let length = memory.read_u64(address.wrapping_add(layout.length))?;
    if length > MAX_STR_LENGTH {
        return Err(bad(format!("{length} code points")));
    }
    let state = memory.read_u32(address.wrapping_add(layout.state))?;
    let bit = |shift: u32| (state >> shift) & 1 == 1;
    let kind = (state >> layout.kind_shift) & 0b111;
    let data = match (bit(layout.compact_shift), bit(layout.ascii_shift)) {
        (true, true) => address.wrapping_add(layout.ascii_data),
        (true, false) => address.wrapping_add(layout.compact_data),
        (false, _) => memory.read_u64(address.wrapping_add(layout.compact_data))?,
    };
    let bytes = match kind {
        1 | 2 | 4 => memory.read_vec(data, (length * u64::from(kind)) as usize)?,
        _ => return Err(bad(format!("kind {kind} in state {state:#x}"))),
    };
    bytes
        .chunks_exact(kind as usize)
        .map(|unit| {
            let mut word = [0u8; 4];
            word[..unit.len()].copy_from_slice(unit);
            char::from_u32(u32::from_le_bytes(word))
                .ok_or_else(|| bad(format!("code point {:#x}", u32::from_le_bytes(word))))
        })
        .collect()
}

/// The contents of the bytes object at `address`.
pub fn read_bytes(
    memory: &dyn MemoryReader,
    layout: &BytesLayout,
    address: u64,
) -> Result<Vec<u8>, OffsetsError> {
    let length = memory.read_u64(address.wrapping_add(layout.size))?;
    if length > MAX_BYTES_LENGTH {
        return Err(OffsetsError::BadObject {
            what: "bytes",
            address,
            detail: format!("{length} bytes long"),
        });
    }
    Ok(memory.read_vec(address.wrapping_add(layout.data), length as usize)?)
}
