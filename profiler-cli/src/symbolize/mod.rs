//! Native symbolization: from an address in a target process to function,
//! file and line, with the crates object, gimli and addr2line. Binaries are
//! opened through the target's view of its files (chroots and containers
//! work), placed with their program headers, named from .symtab/.dynsym and
//! located in source from DWARF, in the binary or a separate debug file.

mod binary;
mod cache;
mod crc32;
mod debug_file;
mod dwarf;
mod elf_object;
mod error;
mod segments;
mod symbol_table;
#[cfg(test)]
mod test_programs;
#[cfg(test)]
mod tests;

pub(crate) use elf_object::ElfObject;
pub(crate) use segments::{file_offset_to_vaddr, vaddr_to_file_offset};

use crate::frame::{Frame, FrameKind};
use crate::process::maps::MemoryMap;
use cache::BinaryCache;
use segments::file_offset;

/// The file offset of function `name` in the ELF file at `path`; None
/// when the file does not define it.
pub(crate) fn function_file_offset(
    path: &std::path::Path,
    name: &str,
) -> std::io::Result<Option<u64>> {
    let object = elf_object::ElfObject::open(path)
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(object.function_file_offset(name))
}

/// Symbolizes native addresses, keeping every binary it has opened (or
/// failed to open) for later addresses.
#[derive(Default)]
pub struct Symbolizer {
    binaries: BinaryCache,
}

impl Symbolizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Symbolizes `address`, a virtual address in process `pid`, using
    /// `maps`, a snapshot of its /proc/PID/maps taken while the address was
    /// valid. `is_return_address` is true for every frame but the innermost:
    /// then address-1 is looked up, so that the call site's line is found.
    ///
    /// Returns frames innermost first, more than one when DWARF shows inlined
    /// calls. Never fails: without a symbol the one frame is named by the
    /// address as `0x…` — the ELF virtual address when the binary could be
    /// read, the file offset when it could not, the absolute address outside
    /// file-backed mappings.
    pub fn symbolize(
        &mut self,
        pid: u32,
        maps: &[MemoryMap],
        address: u64,
        is_return_address: bool,
    ) -> Vec<Frame> {
        let probe = if is_return_address {
            address.saturating_sub(1)
        } else {
            address
        };
        let Some(map) = maps.iter().find(|map| map.contains(probe)) else {
            return vec![address_frame(address, None)];
        };
        let object = (!map.pathname.is_empty()).then(|| map.pathname.clone());
        if !map.is_file_backed() {
            return vec![address_frame(address, object)];
        }
        let binary = self.binaries.get_or_load(pid, map);
        let Some((binary, vaddr)) = binary.and_then(|b| Some((b, b.vaddr(map, probe)?))) else {
            let offset = file_offset(map, probe) + (address - probe);
            return vec![address_frame(offset, object)];
        };
        binary
            .lookup(vaddr)
            .into_iter()
            .map(|source| Frame {
                kind: FrameKind::Native,
                function: source
                    .function
                    .unwrap_or_else(|| address_name(vaddr + (address - probe))),
                file: source.file,
                line: source.line,
                object: object.clone(),
            })
            .collect()
    }
}

/// A frame that only an address names.
fn address_frame(address: u64, object: Option<String>) -> Frame {
    Frame {
        kind: FrameKind::Native,
        function: address_name(address),
        file: None,
        line: None,
        object,
    }
}

/// The name of a function known only by its address, such as `0x1a2b`.
fn address_name(address: u64) -> String {
    format!("{address:#x}")
}
