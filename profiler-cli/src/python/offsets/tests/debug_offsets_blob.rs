//! `layout_from_debug_offsets` against hand-made `_Py_DebugOffsets`: each
//! field at its place in the C struct of 3.13 or 3.14, holding the value a
//! real build stores there (pyenv's 3.13.0; Debian's 3.14.8).

use profiler_common::{InstructionKind, NO_OFFSET, PythonOffsets, ThreadIdKind};

use crate::process::memory::FakeMemory;
use crate::python::offsets::tests::fake_interpreter::RUNTIME;
use crate::python::offsets::tests::fake_walks::check_fake_interpreter;
use crate::python::offsets::{
    BytesLayout, GcLayout, InterpreterLayout, OffsetsError, layout_from_debug_offsets,
};

/// (position in _Py_DebugOffsets, value) of 3.13.0.
const FIELDS_3_13: &[(usize, u64)] = &[
    (8, 0x030D_00F0), // version
    (16, 0),          // free_threaded
    (32, 608),        // runtime_state.finalizing
    (40, 632),        // runtime_state.interpreters_head
    (64, 7264),       // interpreter_state.next
    (72, 7344),       // interpreter_state.threads_head
    (80, 7400),       // interpreter_state.gc
    (168, 8),         // thread_state.next
    (184, 72),        // thread_state.current_frame
    (192, 152),       // thread_state.thread_id
    (200, 160),       // thread_state.native_thread_id
    (232, 8),         // interpreter_frame.previous
    (240, 0),         // interpreter_frame.executable
    (248, 56),        // interpreter_frame.instr_ptr
    (264, 70),        // interpreter_frame.owner
    (280, 112),       // code_object.filename
    (288, 120),       // code_object.name
    (296, 128),       // code_object.qualname
    (304, 136),       // code_object.linetable
    (312, 68),        // code_object.firstlineno
    (344, 200),       // code_object.co_code_adaptive
    (520, 16),        // bytes_object.ob_size
    (528, 32),        // bytes_object.ob_sval
    (544, 32),        // unicode_object.state
    (552, 16),        // unicode_object.length
    (560, 40),        // unicode_object.asciiobject_size
    (576, 200),       // gc.collecting
];

/// (position in _Py_DebugOffsets, value) of 3.14.8: 3.14 added
/// interpreter_state.threads_main, code_object_generation and
/// tlbc_generation, interpreter_frame.stackpointer and tlbc_index,
/// code_object.co_tlbc and set_object, which moves everything after them.
const FIELDS_3_14: &[(usize, u64)] = &[
    (8, 0x030E_08F0), // version
    (16, 0),          // free_threaded
    (32, 0x310),      // runtime_state.finalizing
    (40, 0x328),      // runtime_state.interpreters_head
    (64, 0x1c68),     // interpreter_state.next
    (72, 0x1cb0),     // interpreter_state.threads_head
    (80, 0x1cc0),     // interpreter_state.threads_main
    (88, 0x1cf0),     // interpreter_state.gc
    (192, 8),         // thread_state.next
    (208, 0x48),      // thread_state.current_frame
    (216, 0x98),      // thread_state.thread_id
    (224, 0xa0),      // thread_state.native_thread_id
    (256, 8),         // interpreter_frame.previous
    (264, 0),         // interpreter_frame.executable
    (272, 0x38),      // interpreter_frame.instr_ptr
    (288, 0x4a),      // interpreter_frame.owner
    (320, 0x70),      // code_object.filename
    (328, 0x78),      // code_object.name
    (336, 0x80),      // code_object.qualname
    (344, 0x88),      // code_object.linetable
    (352, 0x44),      // code_object.firstlineno
    (384, 0xd0),      // code_object.co_code_adaptive
    (600, 0x10),      // bytes_object.ob_size
    (608, 0x20),      // bytes_object.ob_sval
    (624, 0x20),      // unicode_object.state
    (632, 0x10),      // unicode_object.length
    (640, 0x28),      // unicode_object.asciiobject_size
    (656, 0xc0),      // gc.collecting
];

/// A `_Py_DebugOffsets` with `cookie` and `fields`.
fn blob(cookie: &[u8; 8], fields: &[(usize, u64)]) -> Vec<u8> {
    let mut bytes = vec![0u8; 0x300];
    bytes[..8].copy_from_slice(cookie);
    for &(position, value) in fields {
        bytes[position..position + 8].copy_from_slice(&value.to_le_bytes());
    }
    bytes
}

fn read(blob: Vec<u8>) -> Result<InterpreterLayout, OffsetsError> {
    let mut memory = FakeMemory::default();
    memory.place(RUNTIME, blob);
    layout_from_debug_offsets(&memory, RUNTIME)
}

/// The walker settings of 3.13+, with the version's own numbers.
fn walker(native_thread_id: u64, current_frame: u64, owner: u64, tag_mask: u64) -> PythonOffsets {
    PythonOffsets {
        thread_id_kind: ThreadIdKind::NativeThreadId as u32,
        instruction_kind: InstructionKind::Pointer as u32,
        thread_state_thread_id: native_thread_id,
        thread_state_frame: current_frame,
        cframe_current_frame: NO_OFFSET,
        frame_previous: 8,
        frame_code: 0,
        frame_instruction: 56,
        frame_owner: owner,
        owner_shim: 3,
        code_tag_mask: tag_mask,
        ..PythonOffsets::DISABLED
    }
}

#[test]
fn reads_the_3_13_layout() {
    let layout = read(blob(b"xdebugpy", FIELDS_3_13)).unwrap();
    assert_eq!(layout.version.to_string(), "3.13.0");
    assert_eq!(layout.walker, walker(160, 72, 70, 0));
    assert_eq!(layout.runtime_interpreters_head, 632);
    assert_eq!(layout.runtime_interpreters_main, 640);
    assert_eq!(layout.runtime_finalizing, 608);
    assert_eq!(layout.interpreter_threads_head, 7344);
    assert_eq!(layout.code.code_adaptive, Some(200));
    assert_eq!(
        (layout.unicode.ascii_data, layout.unicode.compact_data),
        (40, 56)
    );
    assert_eq!(layout.bytes, BytesLayout { size: 16, data: 32 });
    check_fake_interpreter(&layout, &blob(b"xdebugpy", FIELDS_3_13));
}

#[test]
fn reads_the_3_14_layout() {
    let layout = read(blob(b"xdebugpy", FIELDS_3_14)).unwrap();
    assert_eq!(layout.version.to_string(), "3.14.8");
    assert_eq!(layout.walker, walker(0xa0, 0x48, 0x4a, 0b11));
    assert_eq!(layout.runtime_interpreters_main, 0x330);
    assert_eq!(layout.runtime_finalizing, 0x310);
    assert_eq!(layout.interpreter_next, 0x1c68);
    assert_eq!(layout.code.qualname, Some(0x80));
    assert_eq!(layout.code.first_line, 0x44);
    assert_eq!(
        (layout.unicode.ascii_data, layout.unicode.compact_data),
        (40, 56)
    );
    let gc = layout.gc.unwrap();
    assert_eq!(
        gc,
        GcLayout {
            generations: Some(0x1cf0 + 24),
            generation_size: 24,
            generation_count: 3,
            threshold: 16,
            count: 20,
            stats: 0x1cf0 + 0xc0 - 72,
            collecting: 0x1cf0 + 0xc0,
            long_lived_total: None,
        }
    );
    check_fake_interpreter(&layout, &blob(b"xdebugpy", FIELDS_3_14));
}

#[test]
fn a_wrong_cookie_says_what_it_found() {
    let error = read(blob(b"notdebug", FIELDS_3_13)).unwrap_err();
    assert!(matches!(error, OffsetsError::BadCookie { .. }));
    let message = error.to_string();
    assert!(
        message.contains("\"notdebug\"") && message.contains("xdebugpy"),
        "{message}"
    );
}

#[test]
fn free_threaded_and_unknown_builds_are_refused() {
    let mut free_threaded = FIELDS_3_14.to_vec();
    free_threaded[1] = (16, 1);
    let error = read(blob(b"xdebugpy", &free_threaded)).unwrap_err();
    assert!(matches!(error, OffsetsError::FreeThreaded(_)), "{error}");

    let error = read(blob(b"xdebugpy", &[(8, 0x030F_00A1)])).unwrap_err();
    assert!(matches!(error, OffsetsError::Unsupported(_)), "{error}");
    let error = read(blob(b"xdebugpy", &[(8, 0x030C_01F0)])).unwrap_err();
    assert!(matches!(error, OffsetsError::NoDebugOffsets(_)), "{error}");
}
