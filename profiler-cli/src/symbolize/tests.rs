//! End-to-end tests of `Symbolizer` on real programs compiled from the C
//! fixtures: PIE and non-PIE executables with DWARF, one without, one
//! stripped with a debuglink, and a shared library.

use std::path::Path;

use object::{Object, ObjectKind};

use super::Symbolizer;
use super::elf_object::ElfObject;
use super::test_programs::{
    RunningProgram, build_program, fixture, marked_line, run, split_debug_info,
};
use crate::frame::{Frame, FrameKind};
use crate::process::maps::parse_maps;

/// Asserts a frame's function, and its file's base name and line (or that
/// it has neither).
fn assert_frame(frame: &Frame, function: &str, location: Option<(&str, u32)>) {
    assert_eq!(frame.kind, FrameKind::Native);
    assert_eq!(frame.function, function, "{frame:?}");
    let base_name = frame
        .file
        .as_deref()
        .map(|file| Path::new(file).file_name().unwrap().to_str().unwrap());
    let expected = location.map_or((None, None), |(file, line)| (Some(file), Some(line)));
    assert_eq!((base_name, frame.line), expected, "{frame:?}");
}

/// The ELF type of the file at `path`.
fn object_kind(path: &Path) -> ObjectKind {
    object::File::parse(&*std::fs::read(path).unwrap())
        .unwrap()
        .kind()
}

/// The path the kernel shows in maps for `path`.
fn mapped_name(path: &Path) -> Option<String> {
    Some(
        std::fs::canonicalize(path)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned(),
    )
}

/// The checks that every build of prog.c with DWARF passes: a function's
/// entry, a call site, and a call inside an inlined function.
fn assert_lines_found(symbolizer: &mut Symbolizer, program: &RunningProgram, binary: &Path) {
    let source = fixture("prog.c");
    let line = |marker| marked_line(&source, marker);
    let mut symbolize = |name, is_return_address| {
        symbolizer.symbolize(
            program.pid(),
            &program.maps,
            program.address(name),
            is_return_address,
        )
    };

    let entry = symbolize("call_site", false);
    assert_eq!(entry.len(), 1, "{entry:?}");
    assert_frame(
        &entry[0],
        "call_site",
        Some(("prog.c", line("call_site_entry"))),
    );
    assert_eq!(entry[0].object, mapped_name(binary));

    let call = symbolize("call_site_return", true);
    assert_eq!(call.len(), 1, "{call:?}");
    assert_frame(
        &call[0],
        "call_site",
        Some(("prog.c", line("call_site_call"))),
    );

    let inlined = symbolize("inlined_return", true);
    assert_eq!(inlined.len(), 2, "{inlined:?}");
    assert_frame(
        &inlined[0],
        "inlined_helper",
        Some(("prog.c", line("inlined_call"))),
    );
    assert_frame(
        &inlined[1],
        "inlined_caller",
        Some(("prog.c", line("inlined_site"))),
    );
    assert_eq!(inlined[1].object, mapped_name(binary));
}

#[test]
fn pie_with_dwarf_and_after_the_target_exits() {
    let dir = tempfile::tempdir().unwrap();
    let binary = build_program(dir.path(), "prog", &["-g", "-O0", "-fPIE", "-pie"]);
    assert_eq!(object_kind(&binary), ObjectKind::Dynamic);
    let program = RunningProgram::start(&binary);
    let mut symbolizer = Symbolizer::new();
    assert_lines_found(&mut symbolizer, &program, &binary);

    // The cached binary answers once the process is gone and the file deleted.
    let (pid, maps, address) = (
        program.pid(),
        program.maps.clone(),
        program.address("call_site"),
    );
    drop(program);
    std::fs::remove_file(&binary).unwrap();
    let entry = symbolizer.symbolize(pid, &maps, address, false);
    let line = marked_line(&fixture("prog.c"), "call_site_entry");
    assert_frame(&entry[0], "call_site", Some(("prog.c", line)));
}

#[test]
fn non_pie_with_dwarf() {
    let dir = tempfile::tempdir().unwrap();
    let binary = build_program(dir.path(), "prog", &["-g", "-O0", "-fno-pie", "-no-pie"]);
    assert_eq!(object_kind(&binary), ObjectKind::Executable);
    let program = RunningProgram::start(&binary);
    assert_lines_found(&mut Symbolizer::new(), &program, &binary);
}

#[test]
fn without_dwarf_names_come_from_the_symbol_table() {
    let dir = tempfile::tempdir().unwrap();
    let binary = build_program(dir.path(), "prog", &["-O0"]);
    let program = RunningProgram::start(&binary);
    let mut symbolizer = Symbolizer::new();
    let mut symbolize =
        |name| symbolizer.symbolize(program.pid(), &program.maps, program.address(name), true);
    assert_eq!(symbolize("call_site_return").len(), 1);
    assert_frame(&symbolize("call_site_return")[0], "call_site", None);
    // No DWARF, so no inlined frame: only the function the code sits in.
    let inlined = symbolize("inlined_return");
    assert_eq!(inlined.len(), 1, "{inlined:?}");
    assert_frame(&inlined[0], "inlined_caller", None);
}

#[test]
fn stripped_binary_uses_its_debuglink() {
    let dir = tempfile::tempdir().unwrap();
    let binary = build_program(dir.path(), "prog", &["-g", "-O0"]);
    split_debug_info(&binary);
    let stripped = ElfObject::open(&binary).unwrap();
    assert!(stripped.symtab.is_empty() && !stripped.has_dwarf);
    assert!(stripped.debuglink.is_some());
    let program = RunningProgram::start(&binary);
    assert_lines_found(&mut Symbolizer::new(), &program, &binary);
}

#[test]
fn stripped_binary_without_dwarf_takes_names_from_its_debug_file() {
    let dir = tempfile::tempdir().unwrap();
    let binary = build_program(dir.path(), "prog", &["-O0"]);
    split_debug_info(&binary);
    let stripped = ElfObject::open(&binary).unwrap();
    assert!(stripped.symtab.is_empty());
    assert!(
        stripped
            .dynsym
            .iter()
            .all(|symbol| symbol.name != "call_site")
    );
    let program = RunningProgram::start(&binary);
    let address = program.address("call_site_return");
    let frames = Symbolizer::new().symbolize(program.pid(), &program.maps, address, true);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_frame(&frames[0], "call_site", None);
}

#[test]
fn shared_library() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("libsymfix.so");
    let lib_source = fixture("lib.c");
    run(
        "gcc",
        &[
            "-g",
            "-O0",
            "-fPIC",
            "-shared",
            lib_source.to_str().unwrap(),
            "-o",
            library.to_str().unwrap(),
        ],
    );
    let dir_str = dir.path().to_str().unwrap();
    let rpath = format!("-Wl,-rpath,{dir_str}");
    let binary = build_program(
        dir.path(),
        "prog",
        &["-DWITH_LIB", "-L", dir_str, "-lsymfix", &rpath],
    );
    let program = RunningProgram::start(&binary);

    let address = program.address("lib_return");
    let map = program
        .maps
        .iter()
        .find(|map| map.contains(address))
        .unwrap();
    assert!(
        map.offset > 0,
        "the library's code should not map at file offset 0: {map:?}"
    );
    let frames = Symbolizer::new().symbolize(program.pid(), &program.maps, address, true);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_frame(
        &frames[0],
        "lib_call_site",
        Some(("lib.c", marked_line(&lib_source, "lib_call"))),
    );
    assert_eq!(frames[0].object, mapped_name(&library));
}

#[test]
fn addresses_without_a_readable_binary_are_named_by_address() {
    let maps = parse_maps(
        "1000-2000 r-xp 00003000 fd:01 987654321 /nonexistent/lib.so\n\
         5000-6000 rw-p 00000000 00:00 0 [heap]\n",
    )
    .unwrap();
    let pid = std::process::id();
    let mut symbolizer = Symbolizer::new();
    let unmapped = symbolizer.symbolize(pid, &maps, 0x10, false);
    assert_eq!(unmapped, [super::address_frame(0x10, None)]);
    let heap = symbolizer.symbolize(pid, &maps, 0x5010, false);
    assert_eq!(heap, [super::address_frame(0x5010, Some("[heap]".into()))]);

    // Named by file offset; the return address is named as it is, though
    // address-1 is what is looked up.
    let library = Some("/nonexistent/lib.so".to_owned());
    let frames = symbolizer.symbolize(pid, &maps, 0x1010, false);
    assert_eq!(frames, [super::address_frame(0x3010, library.clone())]);
    let frames = symbolizer.symbolize(pid, &maps, 0x1000 + 0x1000, true);
    assert_eq!(frames, [super::address_frame(0x4000, library)]);
    assert_eq!(
        symbolizer.binaries.len(),
        1,
        "the unreadable binary is cached once"
    );
}
