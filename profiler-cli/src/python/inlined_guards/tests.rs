//! Guards read from hand-assembled code, and from Debian's python3.11.

use super::*;

/// Code at one address, for the hand-assembled cases.
struct Flat {
    start: u64,
    bytes: Vec<u8>,
}

impl CodeBytes for Flat {
    fn ranges(&self) -> Vec<(u64, &[u8])> {
        vec![(self.start, &self.bytes)]
    }

    fn bytes_at(&self, at: u64, length: usize) -> Option<&[u8]> {
        let start = usize::try_from(at.checked_sub(self.start)?).ok()?;
        let end = self.bytes.len().min(start + length);
        self.bytes.get(start..end)
    }
}

const MALLOC: u64 = 0x4f_b450;
const FREE: u64 = 0x50_0fe0;

/// Three guards, as GCC lays them out (addresses from 0):
/// - 0x07 `cmp rax, MALLOC; je inlined; jmp out_of_line`, whose out of
///   line path is `mov esi, 8; call rax; mov r15, rax; test rax, rax;
///   jne 0x14 (merge)`;
/// - 0x31 `cmp rcx, FREE; jne out_of_line` with `mov rsi, rdx; mov rdi,
///   [rip+..]; call rcx`;
/// - 0x48 `cmp rax, MALLOC; jne` to `lea rsi, [rbx+8]; call rax`: a size
///   computed on the way, not understood.
fn hand_assembled() -> Flat {
    let bytes = vec![
        0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x48, 0x3d, 0x50, 0xb4, 0x4f, 0x00, 0x74, 0x02,
        0xeb, 0x07, 0x49, 0x89, 0xd7, 0x4c, 0x89, 0xff, 0xc3, 0xbe, 0x08, 0x00, 0x00, 0x00, 0xff,
        0xd0, 0x49, 0x89, 0xc7, 0x48, 0x85, 0xc0, 0x75, 0xed, 0xeb, 0x00, 0xc3, 0x48, 0x8b, 0x0d,
        0x00, 0x01, 0x00, 0x00, 0x48, 0x81, 0xf9, 0xe0, 0x0f, 0x50, 0x00, 0x75, 0x01, 0xc3, 0x48,
        0x89, 0xd6, 0x48, 0x8b, 0x3d, 0x00, 0x02, 0x00, 0x00, 0xff, 0xd1, 0xc3, 0x48, 0x3d, 0x50,
        0xb4, 0x4f, 0x00, 0x75, 0x01, 0xc3, 0x48, 0x8d, 0x73, 0x08, 0xff, 0xd0, 0xc3,
    ];
    Flat { start: 0, bytes }
}

#[test]
fn an_inlined_malloc_is_read_from_its_out_of_line_path() {
    let sites = find_inlined_sites(&hand_assembled(), Some(MALLOC), Some(FREE), &[]);
    assert_eq!(
        sites.mallocs,
        [InlinedMalloc {
            guard: 0x07,
            guard_register: Register::RAX,
            size: ValueSource::Constant(8),
            merge: 0x14,
            result: Register::R15,
        }]
    );
    assert_eq!(
        sites.frees,
        [InlinedFree {
            guard: 0x31,
            guard_register: Register::RCX,
            pointer: Register::RDX,
        }]
    );
    assert_eq!(sites.not_understood, [0x48]);
}

#[test]
fn guards_inside_skipped_ranges_are_left_out() {
    let wrapper = 0..0x30;
    let sites = find_inlined_sites(&hand_assembled(), Some(MALLOC), Some(FREE), &[wrapper]);
    assert!(sites.mallocs.is_empty());
    assert_eq!(sites.frees.len(), 1);
}

#[test]
fn an_address_an_imm32_cannot_hold_has_no_guard() {
    let sites = find_inlined_sites(&hand_assembled(), Some(0x8000_0000), None, &[]);
    assert_eq!(sites, InlinedSites::default());
}

/// Debian bookworm's python3.11 (stripped, LTO): its guards compare with
/// `_PyObject_Malloc` at 0x4fb450 and `_PyObject_Free` at 0x500fe0
/// (objdump shows 190 and 52 of them).
#[test]
fn debian_python_3_11_guards_are_read() {
    let path = std::path::Path::new("/usr/bin/python3.11");
    let code = match ObjectCode::open(path) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("SKIPPED: {}: {error}", path.display());
            return;
        }
    };
    if code.symbol("PyObject_Malloc") != Some(0x4f_b350) {
        eprintln!(
            "SKIPPED: {} is not the build this test knows",
            path.display()
        );
        return;
    }
    let sites = find_inlined_sites(&code, Some(MALLOC), Some(FREE), &[]);
    let total = sites.mallocs.len() + sites.frees.len() + sites.not_understood.len();
    assert_eq!(total, 190 + 52);
    assert!(
        sites.mallocs.len() >= 175,
        "{} mallocs",
        sites.mallocs.len()
    );
    assert!(sites.frees.len() >= 50, "{} frees", sites.frees.len());
    // Two sites read by hand from objdump.
    assert!(sites.mallocs.contains(&InlinedMalloc {
        guard: 0x42_e7e3,
        guard_register: Register::RAX,
        size: ValueSource::Constant(8),
        merge: 0x52_37ed,
        result: Register::R15,
    }));
    assert!(sites.frees.contains(&InlinedFree {
        guard: 0x43_9376,
        guard_register: Register::RCX,
        pointer: Register::RDX,
    }));
}
