//! Thread lists, frame walks and object reads over fake interpreters built
//! from each version's layout.

use crate::process::memory::{FakeMemory, MemoryReader};
use crate::python::offsets::tests::fake_interpreter::{
    FILE_NAME, LINE_TABLE, LINE_TABLE_BYTES, RUNTIME, fake_interpreter,
};
use crate::python::offsets::{
    InterpreterLayout, OffsetsError, PythonVersion, layout_for, read_bytes, read_str,
    thread_states, walk_frames,
};

/// Builds a fake interpreter for `layout` and checks that every reader
/// gives back exactly what was laid out.
pub(super) fn check_fake_interpreter(layout: &InterpreterLayout, runtime_prefix: &[u8]) {
    let fake = fake_interpreter(layout, runtime_prefix);
    let memory = &fake.memory;
    let version = layout.version;

    let threads = thread_states(memory, layout, RUNTIME).unwrap();
    assert_eq!(
        threads, fake.threads,
        "{version}: the main interpreter's threads"
    );
    for (thread, expected) in threads.iter().zip(&fake.frames) {
        let frames = walk_frames(memory, layout, thread.address, 64).unwrap();
        assert_eq!(
            &frames, expected,
            "{version}: frames of {:#x}",
            thread.address
        );
    }
    let first = walk_frames(memory, layout, threads[0].address, 1).unwrap();
    assert_eq!(first, fake.frames[0][..1], "{version}: the depth limit");

    for (code, name) in &fake.names {
        let read = read_str(
            memory,
            &layout.unicode,
            memory_u64(memory, code + layout.code.name),
        );
        assert_eq!(read.unwrap(), *name, "{version}: co_name");
        let file = memory_u64(memory, code + layout.code.filename);
        assert_eq!(read_str(memory, &layout.unicode, file).unwrap(), FILE_NAME);
        assert_eq!(
            memory_u64(memory, code + layout.code.line_table),
            LINE_TABLE
        );
    }
    let table = read_bytes(memory, &layout.bytes, LINE_TABLE).unwrap();
    assert_eq!(table, LINE_TABLE_BYTES, "{version}: the line table's bytes");
}

fn memory_u64(memory: &dyn MemoryReader, address: u64) -> u64 {
    memory.read_u64(address).unwrap()
}

fn version(minor: u8) -> PythonVersion {
    PythonVersion {
        major: 3,
        minor,
        micro: 0,
    }
}

#[test]
fn every_table_version_reads_back_its_fake_interpreter() {
    for minor in 9..=12 {
        check_fake_interpreter(&layout_for(version(minor)).unwrap(), &[]);
    }
}

#[test]
fn the_table_refuses_versions_it_does_not_hold() {
    for minor in [13, 14] {
        let error = layout_for(version(minor)).unwrap_err();
        assert!(matches!(error, OffsetsError::NeedsDebugOffsets(_)));
        assert!(error.to_string().contains("_Py_DebugOffsets"), "{error}");
    }
    for minor in [8, 15] {
        let error = layout_for(version(minor)).unwrap_err();
        assert!(matches!(error, OffsetsError::Unsupported(_)));
        assert!(error.to_string().contains("3.9 to 3.14"), "{error}");
    }
    let python2 = PythonVersion {
        major: 2,
        minor: 7,
        micro: 18,
    };
    assert!(matches!(
        layout_for(python2),
        Err(OffsetsError::Unsupported(_))
    ));
}

#[test]
fn a_cyclic_thread_list_is_an_error_not_a_hang() {
    let layout = layout_for(version(12)).unwrap();
    let (interpreter, looping) = (0xa0_0000u64, 0xb0_0000u64);
    let with_pointer = |offset: u64, pointer: u64| {
        let mut bytes = vec![0u8; 0x1000];
        bytes[offset as usize..][..8].copy_from_slice(&pointer.to_le_bytes());
        bytes
    };
    let mut memory = FakeMemory::default();
    memory.place(
        RUNTIME,
        with_pointer(layout.runtime_interpreters_main, interpreter),
    );
    memory.place(
        interpreter,
        with_pointer(layout.interpreter_threads_head, looping),
    );
    // A thread state whose `next` is itself.
    memory.place(looping, with_pointer(layout.thread_state_next, looping));
    let error = thread_states(&memory, &layout, RUNTIME).unwrap_err();
    assert!(
        matches!(error, OffsetsError::TooManyThreads { .. }),
        "{error}"
    );
}

#[test]
fn no_main_interpreter_yet_means_no_threads() {
    let layout = layout_for(version(10)).unwrap();
    let mut memory = FakeMemory::default();
    memory.place(RUNTIME, vec![0; 0x100]);
    assert_eq!(
        thread_states(&memory, &layout, RUNTIME).unwrap(),
        Vec::new()
    );
}
