//! The code of one object file, as placement needs it: functions by symbol
//! or file offset, their first bytes, and every direct jump or call in the
//! object, to check that none lands inside the instructions a probe skips.
//!
//! The jumps are found by decoding every executable section from start to
//! end. Compilers keep jump tables out of .text on x86-64, so the sweep
//! stays in step; an indirect jump's target is unknown, and none is
//! assumed to land a few bytes into a function.

use std::ops::RangeInclusive;
use std::path::Path;

use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction};
use object::{Object as _, ObjectSection as _, ObjectSegment as _, SectionKind};

use crate::symbolize::{ElfObject, file_offset_to_vaddr, vaddr_to_file_offset};

/// ELF's "executable" segment flag.
const PF_X: u32 = 1;

/// Bytes of code at an ELF virtual address.
struct CodeRange {
    vaddr: u64,
    file_offset: u64,
    size: u64,
}

/// One object file opened for placement.
pub struct ObjectCode {
    elf: ElfObject,
    code: Vec<CodeRange>,
}

/// A direct jump or call into a window of skipped instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JumpInto {
    pub from: u64,
    pub to: u64,
}

impl ObjectCode {
    pub fn open(path: &Path) -> Result<ObjectCode, String> {
        let elf = ElfObject::open(path).map_err(|error| error.to_string())?;
        let code = code_ranges(&elf)?;
        Ok(ObjectCode { elf, code })
    }

    /// The ELF virtual address of the function symbol `name`: its exported
    /// definition first, as the dynamic linker resolves it.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.elf
            .dynsym
            .iter()
            .chain(&self.elf.symtab)
            .find(|symbol| symbol.name == name && symbol.address != 0)
            .map(|symbol| symbol.address)
    }

    /// The name of a function symbol that starts at `vaddr`, if any.
    pub fn name_at(&self, vaddr: u64) -> Option<&str> {
        self.elf
            .symtab
            .iter()
            .chain(&self.elf.dynsym)
            .find(|symbol| symbol.address == vaddr)
            .map(|symbol| symbol.name.as_str())
    }

    /// The addresses of the sized function symbol that starts at `vaddr`.
    pub fn function_range(&self, vaddr: u64) -> Option<std::ops::Range<u64>> {
        self.elf
            .dynsym
            .iter()
            .chain(&self.elf.symtab)
            .find(|symbol| symbol.address == vaddr && symbol.size > 0)
            .map(|symbol| vaddr..vaddr + symbol.size)
    }

    pub fn vaddr(&self, file_offset: u64) -> Option<u64> {
        file_offset_to_vaddr(&self.elf.segments, file_offset)
    }

    pub fn file_offset(&self, vaddr: u64) -> Option<u64> {
        vaddr_to_file_offset(&self.elf.segments, vaddr)
    }

    /// Up to `length` bytes of code from `vaddr` (fewer at the end of its
    /// section), or None when no executable section holds `vaddr`.
    pub fn code_at(&self, vaddr: u64, length: usize) -> Option<&[u8]> {
        let range = self
            .code
            .iter()
            .find(|range| range.vaddr <= vaddr && vaddr - range.vaddr < range.size)?;
        let start = (range.file_offset + vaddr - range.vaddr) as usize;
        let end = (range.file_offset + range.size) as usize;
        self.elf.data().get(start..end.min(start + length))
    }

    /// Every executable section (or segment): its address and its bytes.
    pub fn sections(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.code.iter().filter_map(|range| {
            let start = range.file_offset as usize;
            let bytes = self.elf.data().get(start..start + range.size as usize)?;
            Some((range.vaddr, bytes))
        })
    }

    /// For each window, the first direct jump or call found whose target
    /// lies in it (None for no window).
    pub fn jumps_into(&self, windows: &[Option<RangeInclusive<u64>>]) -> Vec<Option<JumpInto>> {
        let mut found = vec![None; windows.len()];
        if windows.iter().all(Option::is_none) {
            return found;
        }
        let mut instruction = Instruction::default();
        for (vaddr, bytes) in self.sections() {
            let mut decoder = Decoder::with_ip(64, bytes, vaddr, DecoderOptions::NONE);
            while decoder.can_decode() {
                decoder.decode_out(&mut instruction);
                if !is_direct_transfer(&instruction) {
                    continue;
                }
                let to = instruction.near_branch_target();
                for (window, slot) in windows.iter().zip(found.iter_mut()) {
                    if slot.is_none() && window.as_ref().is_some_and(|window| window.contains(&to))
                    {
                        *slot = Some(JumpInto {
                            from: instruction.ip(),
                            to,
                        });
                    }
                }
            }
        }
        found
    }
}

fn is_direct_transfer(instruction: &Instruction) -> bool {
    matches!(
        instruction.flow_control(),
        FlowControl::UnconditionalBranch | FlowControl::ConditionalBranch | FlowControl::Call
    ) && instruction.near_branch_target() != 0
}

/// The executable sections, or without section headers the executable
/// segments.
fn code_ranges(elf: &ElfObject) -> Result<Vec<CodeRange>, String> {
    let parsed = elf.parse().map_err(|error| error.to_string())?;
    let sections: Vec<CodeRange> = parsed
        .sections()
        .filter(|section| section.kind() == SectionKind::Text)
        .filter_map(|section| {
            let (file_offset, size) = section.file_range()?;
            Some(CodeRange {
                vaddr: section.address(),
                file_offset,
                size,
            })
        })
        .collect();
    if !sections.is_empty() {
        return Ok(sections);
    }
    Ok(parsed
        .segments()
        .filter(|segment| {
            matches!(segment.flags(), object::SegmentFlags::Elf { p_flags } if p_flags & PF_X != 0)
        })
        .map(|segment| {
            let (file_offset, size) = segment.file_range();
            CodeRange {
                vaddr: segment.address(),
                file_offset,
                size,
            }
        })
        .collect())
}
