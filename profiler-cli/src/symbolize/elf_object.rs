//! One ELF file mapped into leakspy's memory, and the facts symbolization
//! reads from it once: PT_LOAD segments, function symbols, build ID and the
//! links to separate debug files. The mapping stays valid after the target
//! exits or the file is deleted.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

use super::error::SymbolizeError;
use super::segments::{LoadSegment, vaddr_to_file_offset};
use super::symbol_table::{Binding, FunctionSymbol};

/// A `.gnu_debuglink`: the debug file's name and the CRC-32 of its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DebugLink {
    pub file_name: OsString,
    pub crc: u32,
}

/// A `.gnu_debugaltlink` (dwz): the supplementary file's path and build ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AltLink {
    pub path: PathBuf,
    pub build_id: Vec<u8>,
}

pub(crate) struct ElfObject {
    pub path: PathBuf,
    data: Arc<Mmap>,
    pub segments: Vec<LoadSegment>,
    /// Function symbols of .symtab.
    pub symtab: Vec<FunctionSymbol>,
    /// Function symbols of .dynsym.
    pub dynsym: Vec<FunctionSymbol>,
    pub build_id: Option<Vec<u8>>,
    pub debuglink: Option<DebugLink>,
    pub altlink: Option<AltLink>,
    /// Whether .debug_info has contents here (not stripped, not NOBITS).
    pub has_dwarf: bool,
}

impl ElfObject {
    /// Maps and parses the ELF file at `path`.
    pub fn open(path: &Path) -> Result<Self, SymbolizeError> {
        let open_error = |source| SymbolizeError::Open {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open_error)?;
        // SAFETY: the mapping is read-only and private. Executables and
        // libraries in use are not rewritten in place (writing to a running
        // executable fails with ETXTBSY; package managers replace files by
        // renaming), so the bytes do not change under us.
        let data = Arc::new(unsafe { Mmap::map(&file) }.map_err(open_error)?);
        let parsed = parse(path, &data)?;
        let parse_error = |source| SymbolizeError::Parse {
            path: path.to_owned(),
            source,
        };
        let debuglink = parsed
            .gnu_debuglink()
            .map_err(parse_error)?
            .map(|(name, crc)| DebugLink {
                file_name: OsString::from_vec(name.to_vec()),
                crc,
            });
        let altlink = parsed
            .gnu_debugaltlink()
            .map_err(parse_error)?
            .map(|(name, id)| AltLink {
                path: PathBuf::from(OsString::from_vec(name.to_vec())),
                build_id: id.to_vec(),
            });
        Ok(Self {
            path: path.to_owned(),
            segments: load_segments(&parsed),
            symtab: function_symbols(parsed.symbols()),
            dynsym: function_symbols(parsed.dynamic_symbols()),
            build_id: parsed.build_id().map_err(parse_error)?.map(<[u8]>::to_vec),
            debuglink,
            altlink,
            has_dwarf: parsed
                .section_by_name(".debug_info")
                .is_some_and(|section| section.file_range().is_some_and(|(_, size)| size > 0)),
            data,
        })
    }

    /// The file offset of the function `name` defines, from its dynamic
    /// symbols or else its symbol table: where a uprobe on it goes.
    pub fn function_file_offset(&self, name: &str) -> Option<u64> {
        let symbol = self
            .dynsym
            .iter()
            .chain(&self.symtab)
            .find(|symbol| symbol.name == name)?;
        vaddr_to_file_offset(&self.segments, symbol.address)
    }

    /// The whole file, as mapped.
    pub fn data(&self) -> &Arc<Mmap> {
        &self.data
    }

    /// The file parsed again (cheap: headers only), for reading sections.
    pub fn parse(&self) -> Result<object::File<'_>, SymbolizeError> {
        parse(&self.path, &self.data)
    }
}

fn parse<'data>(path: &Path, data: &'data [u8]) -> Result<object::File<'data>, SymbolizeError> {
    let parsed = object::File::parse(data).map_err(|source| SymbolizeError::Parse {
        path: path.to_owned(),
        source,
    })?;
    if parsed.format() != object::BinaryFormat::Elf {
        return Err(SymbolizeError::NotElf {
            path: path.to_owned(),
        });
    }
    Ok(parsed)
}

/// The PT_LOAD program headers (object lists only those as segments).
fn load_segments(parsed: &object::File<'_>) -> Vec<LoadSegment> {
    parsed
        .segments()
        .map(|segment| {
            let (file_offset, file_size) = segment.file_range();
            LoadSegment {
                vaddr: segment.address(),
                file_offset,
                file_size,
                mem_size: segment.size(),
            }
        })
        .collect()
}

fn function_symbols<'data>(
    symbols: impl Iterator<Item = impl ObjectSymbol<'data>>,
) -> Vec<FunctionSymbol> {
    symbols
        .filter(|symbol| symbol.kind() == SymbolKind::Text && symbol.is_definition())
        .filter_map(|symbol| {
            let name = symbol.name().ok().filter(|name| !name.is_empty())?;
            let binding = if symbol.is_weak() {
                Binding::Weak
            } else if symbol.is_global() {
                Binding::Global
            } else {
                Binding::Local
            };
            Some(FunctionSymbol {
                address: symbol.address(),
                size: symbol.size(),
                binding,
                name: name.to_owned(),
            })
        })
        .collect()
}
