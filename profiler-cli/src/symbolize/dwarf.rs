//! Source locations from DWARF with addr2line: function, file and line for an
//! ELF virtual address, one frame per inlined call. Sections are read in
//! place from the mapped file; only compressed ones are copied, decompressed.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectSection};

use super::elf_object::ElfObject;
use super::error::SymbolizeError;

/// What DWARF (or a symbol) says about one frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SourceFrame {
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// The bytes of one DWARF section.
#[derive(Clone, Debug)]
pub(crate) enum SectionBytes {
    /// A range of the mapped file.
    Mapped {
        file: Arc<Mmap>,
        start: usize,
        len: usize,
    },
    /// A decompressed copy.
    Owned(Arc<[u8]>),
}

impl SectionBytes {
    /// `slice`, as a range of `file` when it lies in it, else copied.
    fn new(file: &Arc<Mmap>, slice: &[u8]) -> Self {
        let start = (slice.as_ptr() as usize).wrapping_sub(file.as_ptr() as usize);
        match start.checked_add(slice.len()) {
            Some(end) if end <= file.len() => Self::Mapped {
                file: Arc::clone(file),
                start,
                len: slice.len(),
            },
            _ => Self::Owned(slice.into()),
        }
    }
}

impl Deref for SectionBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped { file, start, len } => &file[*start..*start + *len],
            Self::Owned(bytes) => bytes,
        }
    }
}

// SAFETY: both variants deref into memory owned through an `Arc` (a mapping
// or a boxed slice) that never moves while any clone is alive, so the slice
// keeps its address across moves and clones.
unsafe impl gimli::StableDeref for SectionBytes {}
// SAFETY: as above; a clone shares the same `Arc`, hence the same bytes.
unsafe impl gimli::CloneStableDeref for SectionBytes {}

type Reader = gimli::EndianReader<gimli::RunTimeEndian, SectionBytes>;

/// The DWARF of one object file, with its dwz supplementary file if any.
pub(crate) struct DwarfInfo {
    context: addr2line::Context<Reader>,
}

impl DwarfInfo {
    pub fn load(
        object: &ElfObject,
        supplementary: Option<&ElfObject>,
    ) -> Result<Self, SymbolizeError> {
        let mut dwarf = gimli::Dwarf::load(section_loader(object)?)?;
        if let Some(sup) = supplementary {
            dwarf.load_sup(section_loader(sup)?)?;
        }
        let context =
            addr2line::Context::from_dwarf(dwarf).map_err(|source| SymbolizeError::Dwarf {
                path: object.path.clone(),
                source,
            })?;
        Ok(Self { context })
    }

    /// The frames at `vaddr`, innermost (inlined) first; empty when no unit
    /// covers it. A unit that fails to parse ends the list where it fails.
    pub fn frames(&self, vaddr: u64) -> Vec<SourceFrame> {
        let mut frames = Vec::new();
        let Ok(mut iter) = self.context.find_frames(vaddr).skip_all_loads() else {
            return frames;
        };
        while let Ok(Some(frame)) = iter.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|name| name.raw_name().ok())
                .map(Cow::into_owned);
            let location = frame.location.as_ref();
            frames.push(SourceFrame {
                function,
                file: location.and_then(|l| l.file).map(str::to_owned),
                line: location.and_then(|l| l.line),
            });
        }
        frames
    }
}

/// A loader for `gimli::Dwarf::load`: each section by name, empty if absent.
fn section_loader(
    object: &ElfObject,
) -> Result<impl FnMut(gimli::SectionId) -> Result<Reader, SymbolizeError> + '_, SymbolizeError> {
    let parsed = object.parse()?;
    let endian = if parsed.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    Ok(move |id: gimli::SectionId| {
        let bytes = match parsed.section_by_name(id.name()) {
            Some(section) => match section.uncompressed_data() {
                Ok(Cow::Borrowed(slice)) => SectionBytes::new(object.data(), slice),
                Ok(Cow::Owned(copy)) => SectionBytes::Owned(copy.into()),
                Err(source) => {
                    return Err(SymbolizeError::Parse {
                        path: object.path.clone(),
                        source,
                    });
                }
            },
            None => SectionBytes::Owned(Arc::new([])),
        };
        Ok(gimli::EndianReader::new(bytes, endian))
    })
}
