//! Placement on the real objects of this machine: glibc's libc.so.6, the
//! pyenv interpreters' libpython (3.9 to 3.13) and Debian's stripped LTO
//! python3.11. Each expectation was read off `objdump -d` of the build
//! whose build ID it names; an object with another build ID is skipped with
//! a printed reason, not failed.

use std::path::{Path, PathBuf};

use iced_x86::{Decoder, DecoderOptions, Mnemonic};

use super::emulation::is_emulated;
use super::object_code::ObjectCode;
use super::{ProbePlacement, place};
use crate::config::ProbeOptions;
use crate::probes::allocator_probes::{Location, ProbeSite, RETURN_PROGRAM, libc_plan};
use crate::symbolize::ElfObject;

const LIBC: &str = "/lib/x86_64-linux-gnu/libc.so.6";
const LIBC_BUILD_ID: &str = "93ac61ec5a8eb1396f9fbd350e3169a558528a40";

/// Where one function's probes are expected.
struct Expected {
    /// Bytes after the entry.
    delta: u64,
    /// The instruction probed, and those skipped before it.
    probed: Mnemonic,
    skipped: &'static [Mnemonic],
    /// Whether the kernel emulates the probed instruction.
    emulated: bool,
}

/// Probes on an emulated instruction, `delta` bytes in.
const fn at(delta: u64, probed: Mnemonic, skipped: &'static [Mnemonic]) -> Expected {
    Expected {
        delta,
        probed,
        skipped,
        emulated: true,
    }
}

/// Probes kept on a single-stepped entry.
const fn kept(probed: Mnemonic) -> Expected {
    Expected {
        delta: 0,
        probed,
        skipped: &[],
        emulated: false,
    }
}

/// The object at `path` when it is the build the expectations describe.
fn expected_build(path: &Path, build_id: &str) -> Option<ObjectCode> {
    let Ok(elf) = ElfObject::open(path) else {
        eprintln!("SKIPPED: {} cannot be read here", path.display());
        return None;
    };
    let found: String = elf
        .build_id
        .unwrap_or_default()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if found != build_id {
        eprintln!(
            "SKIPPED: {} is build {found}, not {build_id}",
            path.display()
        );
        return None;
    }
    Some(ObjectCode::open(path).unwrap())
}

/// Checks that a function entered at `entry` (ELF virtual address) is
/// probed by `site` as `expected` says.
fn check(code: &ObjectCode, name: &str, entry: u64, site: &ProbeSite, expected: &Expected) {
    let entry_offset = code.file_offset(entry).unwrap();
    let Location::FileOffset(offset) = site.location else {
        panic!("{name} is probed by symbol: {site:?}")
    };
    let delta = offset - entry_offset;
    assert_eq!(delta, expected.delta, "{name}: probed at +{delta:#x}");
    let bytes = code.code_at(entry, 64).unwrap();
    let mut decoder = Decoder::with_ip(64, bytes, entry, DecoderOptions::NONE);
    let mut skipped = Vec::new();
    while (decoder.position() as u64) < delta {
        skipped.push(decoder.decode().mnemonic());
    }
    assert_eq!(skipped, expected.skipped, "{name}: skipped instructions");
    let start = decoder.position();
    let probed = decoder.decode();
    assert_eq!(
        probed.mnemonic(),
        expected.probed,
        "{name}: probed instruction"
    );
    let emulated = is_emulated(&bytes[start..start + probed.len()]);
    assert_eq!(emulated, expected.emulated, "{name}: emulated");
    assert_eq!(
        site.single_stepped, !emulated,
        "{name}: marked single-stepped"
    );
}

#[test]
fn glibc_probes_move_past_tests_and_compares_but_not_past_writes_to_arguments() {
    use Mnemonic::{Cmp, Je, Mov, Push, Test};
    let Some(code) = expected_build(Path::new(LIBC), LIBC_BUILD_ID) else {
        return;
    };
    let plan = libc_plan(Path::new(LIBC), ProbeOptions::default());
    let expectations: [(&str, &str, Expected); 9] = [
        ("free", "free_enter", at(3, Je, &[Test])),
        ("malloc", "malloc_enter", at(0, Push, &[])),
        ("calloc", "calloc_enter", at(0, Push, &[])),
        ("realloc", "realloc_enter", at(0, Push, &[])),
        // mov rax, rsi; mul rdx: mul writes rdx, the third argument.
        ("reallocarray", "reallocarray_enter", kept(Mov)),
        (
            "posix_memalign",
            "posix_memalign_enter",
            at(7, Push, &[Cmp]),
        ),
        ("aligned_alloc", "aligned_alloc_enter", at(7, Je, &[Cmp])),
        ("memalign", "memalign_enter", at(7, Je, &[Cmp])),
        ("valloc", "valloc_enter", at(7, Push, &[Cmp])),
    ];
    for (name, program, expected) in &expectations {
        let site = plan.iter().find(|site| site.program == *program).unwrap();
        let entry = code.symbol(name).unwrap();
        check(&code, name, entry, site, expected);
    }
    // Each return probe sits where its function's entry program does.
    let returns: Vec<&Location> = plan
        .iter()
        .filter(|site| site.program == RETURN_PROGRAM)
        .map(|site| &site.location)
        .collect();
    for site in plan
        .iter()
        .filter(|site| !matches!(site.program, RETURN_PROGRAM | "free_enter"))
    {
        assert!(
            returns.contains(&&site.location),
            "{site:?} has no return probe"
        );
    }
}

#[test]
fn with_entry_placement_every_libc_probe_stays_at_its_entry() {
    let Some(code) = expected_build(Path::new(LIBC), LIBC_BUILD_ID) else {
        return;
    };
    let options = ProbeOptions {
        placement: ProbePlacement::Entry,
        ..ProbeOptions::default()
    };
    let plan = libc_plan(Path::new(LIBC), options);
    let entry_of = |name| code.file_offset(code.symbol(name).unwrap()).unwrap();
    let free = plan
        .iter()
        .find(|site| site.program == "free_enter")
        .unwrap();
    assert_eq!(free.location, Location::FileOffset(entry_of("free")));
    let memalign = plan
        .iter()
        .find(|site| site.program == "memalign_enter")
        .unwrap();
    let aligned_alloc = plan
        .iter()
        .find(|site| site.program == "aligned_alloc_enter")
        .unwrap();
    assert_eq!(
        memalign.location,
        Location::FileOffset(entry_of("memalign"))
    );
    assert_eq!(memalign.location, aligned_alloc.location);
    // free's entry, `test rdi, rdi`, is single-stepped; malloc's `push` is not.
    let stepped = |program: &str| {
        plan.iter()
            .find(|site| site.program == program)
            .unwrap()
            .single_stepped
    };
    assert!(stepped("free_enter"));
    assert!(!stepped("malloc_enter"));
}

/// The sites python_plan makes for one table function at `offset`.
fn table_sites(object: &Path, offset: u64, programs: &[&'static str]) -> Vec<ProbeSite> {
    programs
        .iter()
        .map(|&program| ProbeSite {
            program,
            object: object.to_path_buf(),
            location: Location::FileOffset(offset),
            single_stepped: false,
            cookie: 0,
        })
        .collect()
}

const MALLOC_PROGRAMS: &[&str] = &["py_malloc_enter", RETURN_PROGRAM];
const CALLOC_PROGRAMS: &[&str] = &["py_calloc_enter", RETURN_PROGRAM];
const REALLOC_PROGRAMS: &[&str] = &["py_realloc_enter", RETURN_PROGRAM];
const FREE_PROGRAMS: &[&str] = &["py_free_enter"];

/// Places the sites of `programs` on the function at ELF virtual address
/// `entry` of `object`, and checks every site against `expected`.
fn check_function(
    code: &ObjectCode,
    object: &Path,
    (name, entry): (&str, u64),
    programs: &[&'static str],
    expected: &Expected,
) {
    let offset = code.file_offset(entry).unwrap();
    let placed = place(
        table_sites(object, offset, programs),
        ProbePlacement::Emulated,
    );
    assert_eq!(placed.len(), programs.len());
    for site in &placed {
        check(code, name, entry, site, expected);
    }
}

#[test]
fn pyenv_allocators_skip_a_lea_or_a_null_test() {
    use Mnemonic::{Je, Lea, Push, Test};
    let builds = [
        ("3.9.18", "8a6cadea533dd782615a0f14a75b5aef248a10d4", 4),
        ("3.10.13", "ece57af647dd10ee274f46d757d62a5eab42c418", 4),
        ("3.11.7", "49daf84ed369fe589b73ea876f2591cd4c3588bb", 4),
        ("3.12.1", "f9d5c82f5f2c22df68c1d49c944ef3dee5103dcc", 0),
        ("3.13.0", "d11d13fb0f82d32f3da1221ffd551ab179afb423", 0),
    ];
    for (version, build_id, malloc_delta) in builds {
        let minor = &version[..version.rfind('.').unwrap()];
        let path = PathBuf::from(format!(
            "/root/.pyenv/versions/{version}/lib/libpython{minor}.so.1.0"
        ));
        let Some(code) = expected_build(&path, build_id) else {
            continue;
        };
        // 3.9 to 3.11: lea rax, [rsi-1]; push rbx. 3.12 on: push rbp.
        let malloc = if malloc_delta == 4 {
            at(4, Push, &[Lea])
        } else {
            at(0, Push, &[])
        };
        let functions: [(&str, &[&str], Expected); 4] = [
            ("_PyObject_Malloc", MALLOC_PROGRAMS, malloc),
            ("_PyObject_Calloc", CALLOC_PROGRAMS, at(0, Push, &[])),
            ("_PyObject_Realloc", REALLOC_PROGRAMS, at(0, Push, &[])),
            ("_PyObject_Free", FREE_PROGRAMS, at(3, Je, &[Test])),
        ];
        for (name, programs, expected) in &functions {
            let entry = code.symbol(name).unwrap();
            check_function(&code, &path, (name, entry), programs, expected);
        }
    }
}

#[test]
fn debian_lto_python_keeps_malloc_at_its_entry_and_moves_the_frees() {
    use Mnemonic::{Cmp, Je, Jne, Lea, Mov, Push, Test};
    let path = Path::new("/usr/bin/python3.11");
    let Some(code) = expected_build(path, "571d98e01096d5c1c32420d229a6731a0a50d2a0") else {
        return;
    };
    // Stripped: the table's functions are known by address only (the
    // allocator table's initial values in .data).
    let functions: [(&str, u64, &[&str], Expected); 6] = [
        // lea rax, [rsi-1]; sub rsp, 0x18: the return probe needs rsp.
        ("_PyObject_Malloc", 0x4fb450, MALLOC_PROGRAMS, kept(Lea)),
        (
            "_PyObject_Calloc",
            0x506400,
            CALLOC_PROGRAMS,
            at(0, Push, &[]),
        ),
        (
            "_PyObject_Realloc",
            0x510c00,
            REALLOC_PROGRAMS,
            at(0, Push, &[]),
        ),
        (
            "_PyObject_Free",
            0x500fe0,
            FREE_PROGRAMS,
            at(3, Je, &[Test]),
        ),
        // The exported frees hold an inlined _PyObject_Free behind a guard,
        // and are probed with the pointer in rdi.
        (
            "PyObject_Free",
            0x500950,
            &["free_enter"],
            at(0x14, Jne, &[Mov, Mov, Cmp]),
        ),
        (
            "PyMem_Free",
            0x506970,
            &["free_enter"],
            at(0x14, Jne, &[Mov, Mov, Cmp]),
        ),
    ];
    for (name, entry, programs, expected) in &functions {
        check_function(&code, path, (name, *entry), programs, expected);
    }
}

#[test]
fn the_jump_sweep_finds_jumps_into_a_window_and_none_into_frees_test() {
    let Some(code) = expected_build(Path::new(LIBC), LIBC_BUILD_ID) else {
        return;
    };
    let free = code.symbol("free").unwrap();
    // free+3 is `je free+0xc8`: a window at its target finds it.
    let target = free + 0xc8;
    let found = code.jumps_into(&[Some(free + 1..=free + 3), None, Some(target..=target)]);
    assert_eq!(found[0], None);
    assert_eq!(found[1], None);
    assert_eq!(found[2].unwrap().from, free + 3);
}

#[test]
fn an_unreadable_object_keeps_its_sites() {
    let sites = table_sites(
        Path::new("/nonexistent/libpython.so"),
        0x1000,
        FREE_PROGRAMS,
    );
    assert_eq!(place(sites.clone(), ProbePlacement::Emulated), sites);
}
