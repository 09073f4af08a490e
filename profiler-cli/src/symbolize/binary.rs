//! Everything known about one mapped binary: where its segments load, its
//! function symbols and its DWARF, gathered from the file itself and from its
//! separate debug files.

use std::path::Path;

use super::debug_file::{SearchRoots, find_debug_file, find_supplementary_file};
use super::dwarf::{DwarfInfo, SourceFrame};
use super::elf_object::ElfObject;
use super::error::SymbolizeError;
use super::segments::{LoadSegment, file_offset, file_offset_to_vaddr};
use super::symbol_table::SymbolTable;
use crate::process::maps::{MemoryMap, mapped_file_path};

pub(crate) struct Binary {
    segments: Vec<LoadSegment>,
    symbols: SymbolTable,
    dwarf: Option<DwarfInfo>,
}

impl Binary {
    /// Opens the file behind `map` in process `pid`, and its debug files.
    pub fn load(pid: u32, map: &MemoryMap) -> Result<Self, SymbolizeError> {
        let object = ElfObject::open(&mapped_file_path(pid, map)?)?;
        let roots = SearchRoots::for_process(pid);
        let debug = if object.has_dwarf && !object.symtab.is_empty() {
            None
        } else {
            find_debug_file(&object, Path::new(&map.pathname), &roots)
        };
        Ok(Self::from_objects(object, debug, &roots))
    }

    /// Symbols come from the binary's .symtab, else the debug file's, else
    /// the binary's .dynsym; DWARF from the binary, else the debug file.
    /// Broken DWARF is logged and left out: symbols still name functions.
    fn from_objects(object: ElfObject, debug: Option<ElfObject>, roots: &SearchRoots) -> Self {
        let debug_symtab = debug.as_ref().map(|debug| &debug.symtab);
        let symbols = [Some(&object.symtab), debug_symtab, Some(&object.dynsym)]
            .into_iter()
            .flatten()
            .find(|symbols| !symbols.is_empty())
            .cloned()
            .unwrap_or_default();
        let dwarf_object = [Some(&object), debug.as_ref()]
            .into_iter()
            .flatten()
            .find(|candidate| candidate.has_dwarf);
        let dwarf = dwarf_object.and_then(|dwarf_object| {
            let supplementary = find_supplementary_file(dwarf_object, roots);
            DwarfInfo::load(dwarf_object, supplementary.as_ref())
                .inspect_err(|error| log::warn!("no source lines: {}", error.chain()))
                .ok()
        });
        Self {
            segments: object.segments,
            symbols: SymbolTable::new(symbols),
            dwarf,
        }
    }

    /// The ELF virtual address of `address`, which `map` contains.
    pub fn vaddr(&self, map: &MemoryMap, address: u64) -> Option<u64> {
        file_offset_to_vaddr(&self.segments, file_offset(map, address))
    }

    /// The frames at `vaddr`, innermost first; at least one. Inlined frames
    /// are named by DWARF; the outermost by its symbol, else by DWARF.
    pub fn lookup(&self, vaddr: u64) -> Vec<SourceFrame> {
        let mut frames = self
            .dwarf
            .as_ref()
            .map(|dwarf| dwarf.frames(vaddr))
            .unwrap_or_default();
        if frames.is_empty() {
            frames.push(SourceFrame::default());
        }
        if let (Some(outermost), Some(symbol)) = (frames.last_mut(), self.symbols.lookup(vaddr)) {
            outermost.function = Some(symbol.to_owned());
        }
        frames
    }
}
