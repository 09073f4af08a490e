//! Placing a runtime address into its ELF file: from the mapping that holds
//! it to a file offset, then through the PT_LOAD segment containing that
//! offset to the ELF virtual address that symbols and DWARF use.
//!
//! The same arithmetic serves PIE executables, shared libraries and non-PIE
//! (ET_EXEC) executables: for the latter the mapping sits at the segment's
//! own virtual address, so the result equals the runtime address.

use crate::process::maps::MemoryMap;

/// One PT_LOAD program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoadSegment {
    pub vaddr: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub mem_size: u64,
}

/// The offset in the mapped file of `address`, which `map` contains.
pub(crate) fn file_offset(map: &MemoryMap, address: u64) -> u64 {
    address - map.start + map.offset
}

/// The ELF virtual address of the byte at `offset` in the file, from the
/// PT_LOAD segment whose file bytes contain it (or, failing that, whose
/// memory image does: the zero-filled tail shares the last file page).
pub(crate) fn file_offset_to_vaddr(segments: &[LoadSegment], offset: u64) -> Option<u64> {
    let within = |segment: &&LoadSegment, size: u64| {
        segment.file_offset <= offset && offset - segment.file_offset < size
    };
    segments
        .iter()
        .find(|segment| within(segment, segment.file_size))
        .or_else(|| {
            segments
                .iter()
                .find(|segment| within(segment, segment.mem_size))
        })
        .map(|segment| offset - segment.file_offset + segment.vaddr)
}

/// The offset in the file of the byte at ELF virtual address `vaddr`, when
/// a PT_LOAD segment holds it in the file (not in its zero-filled tail).
pub(crate) fn vaddr_to_file_offset(segments: &[LoadSegment], vaddr: u64) -> Option<u64> {
    segments
        .iter()
        .find(|segment| segment.vaddr <= vaddr && vaddr - segment.vaddr < segment.file_size)
        .map(|segment| vaddr - segment.vaddr + segment.file_offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::maps::parse_maps;

    fn segment(vaddr: u64, file_offset: u64, file_size: u64, mem_size: u64) -> LoadSegment {
        LoadSegment {
            vaddr,
            file_offset,
            file_size,
            mem_size,
        }
    }

    /// `readelf -l` of a PIE built by gcc 12 with -z separate-code.
    const PIE: [LoadSegment; 4] = [
        LoadSegment {
            vaddr: 0,
            file_offset: 0,
            file_size: 0x628,
            mem_size: 0x628,
        },
        LoadSegment {
            vaddr: 0x1000,
            file_offset: 0x1000,
            file_size: 0x1a5,
            mem_size: 0x1a5,
        },
        LoadSegment {
            vaddr: 0x2000,
            file_offset: 0x2000,
            file_size: 0xf4,
            mem_size: 0xf4,
        },
        LoadSegment {
            vaddr: 0x3de8,
            file_offset: 0x2de8,
            file_size: 0x258,
            mem_size: 0x260,
        },
    ];

    #[test]
    fn pie_text_address_becomes_its_vaddr() {
        let map =
            &parse_maps("5600a0001000-5600a0002000 r-xp 00001000 fd:01 9 /a/pie\n").unwrap()[0];
        let offset = file_offset(map, 0x5600a0001139);
        assert_eq!(offset, 0x1139);
        assert_eq!(file_offset_to_vaddr(&PIE, offset), Some(0x1139));
    }

    #[test]
    fn data_segment_whose_vaddr_differs_from_its_offset() {
        // The data mapping starts at file page 0x2000; 0x2df0 is in the
        // segment at offset 0x2de8, vaddr 0x3de8.
        let map =
            &parse_maps("5600a0003000-5600a0004000 rw-p 00002000 fd:01 9 /a/pie\n").unwrap()[0];
        let offset = file_offset(map, 0x5600a0003df0);
        assert_eq!(file_offset_to_vaddr(&PIE, offset), Some(0x3df0));
        // Past the file bytes but inside the memory image (.bss).
        assert_eq!(
            file_offset_to_vaddr(&PIE, 0x2de8 + 0x25c),
            Some(0x3de8 + 0x25c)
        );
    }

    #[test]
    fn non_pie_address_is_unchanged() {
        let segments = [
            segment(0x400000, 0, 0x5a8, 0x5a8),
            segment(0x401000, 0x1000, 0x1c5, 0x1c5),
        ];
        let map = &parse_maps("00401000-00402000 r-xp 00001000 fd:01 9 /a/exe\n").unwrap()[0];
        assert_eq!(
            file_offset_to_vaddr(&segments, file_offset(map, 0x401126)),
            Some(0x401126)
        );
    }

    #[test]
    fn shared_library_with_text_not_at_its_file_offset() {
        // A library whose text segment's vaddr is 0x10000 above its offset,
        // as prelinked or custom-linked libraries have.
        let segments = [
            segment(0, 0, 0x800, 0x800),
            segment(0x11000, 0x1000, 0x3000, 0x3000),
        ];
        let map =
            &parse_maps("7f0000201000-7f0000204000 r-xp 00001000 fd:01 9 /a/lib.so\n").unwrap()[0];
        assert_eq!(
            file_offset_to_vaddr(&segments, file_offset(map, 0x7f0000202345)),
            Some(0x12345)
        );
    }

    #[test]
    fn vaddrs_go_back_to_the_file_offsets_they_came_from() {
        for offset in [0x1139, 0x2de8 + 0x10] {
            let vaddr = file_offset_to_vaddr(&PIE, offset).unwrap();
            assert_eq!(vaddr_to_file_offset(&PIE, vaddr), Some(offset));
        }
        assert_eq!(vaddr_to_file_offset(&PIE, 0x10_0000), None);
    }

    #[test]
    fn offset_in_no_segment_gives_none() {
        assert_eq!(file_offset_to_vaddr(&PIE, 0x9000), None);
    }
}
