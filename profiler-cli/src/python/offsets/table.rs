//! The one place that knows each CPython version's structs: a `match` on
//! (major, minor). 3.9–3.12 are given whole; for 3.13+ the match gives
//! where `_Py_DebugOffsets` keeps each offset, plus the few facts it does
//! not carry.
//!
//! The 3.9–3.13 numbers are `offsetof` and `sizeof` printed by
//! `probe/layout_probe.c`, built against the headers of pyenv's 3.9.18,
//! 3.10.13, 3.11.7, 3.12.1 and 3.13.0 (the test
//! `table_matches_the_interpreter_headers` rebuilds it and compares). The
//! 3.14 `_Py_DebugOffsets` positions follow CPython 3.14's
//! Include/internal/pycore_debug_offsets.h and were checked against the
//! `.PyRuntime` section of Debian's python3.14 (3.14.8).

use profiler_common::{InstructionKind, NO_OFFSET, PythonOffsets, ThreadIdKind};

use crate::python::offsets::debug_offsets::{DebugOffsetsFacts, DebugPositions};
use crate::python::offsets::{
    BytesLayout, CodeLayout, GC_STATS_SIZE, GcLayout, InterpreterLayout, LineTableFormat,
    OffsetsError, PythonVersion, UnicodeLayout,
};

/// Where a version's layout comes from.
pub(super) enum Source {
    /// 3.9–3.12: all of it is in this table.
    Table(InterpreterLayout),
    /// 3.13+: read from `_Py_DebugOffsets`, completed by these facts.
    DebugOffsets(DebugOffsetsFacts),
}

/// The layout of a 3.9–3.12 interpreter. 3.13+ interpreters describe
/// themselves: use `layout_from_debug_offsets`.
pub fn layout_for(version: PythonVersion) -> Result<InterpreterLayout, OffsetsError> {
    match source(version)? {
        Source::Table(layout) => Ok(layout),
        Source::DebugOffsets(_) => Err(OffsetsError::NeedsDebugOffsets(version)),
    }
}

/// PyASCIIObject before 3.12: it still has `wstr`, and `state` a `ready` bit.
const UNICODE_WITH_WSTR: UnicodeLayout = UnicodeLayout {
    length: 16,
    state: 32,
    kind_shift: 2,
    compact_shift: 5,
    ascii_shift: 6,
    ascii_data: 48,
    compact_data: 72,
};

/// PyASCIIObject from 3.12 on: `wstr` and `wstr_length` are gone.
const UNICODE_WITHOUT_WSTR: UnicodeLayout = UnicodeLayout {
    length: 16,
    state: 32,
    kind_shift: 2,
    compact_shift: 5,
    ascii_shift: 6,
    ascii_data: 40,
    compact_data: 56,
};

/// PyBytesObject, the same in every supported version.
const BYTES: BytesLayout = BytesLayout { size: 16, data: 32 };

/// `struct gc_generation` {PyGC_Head head; int threshold; int count;} and
/// its place in `struct _gc_runtime_state`, the same from 3.9 to 3.14
/// where the headers are followed (not Debian's 3.13.5).
const GC_GENERATIONS_IN_STATE: u64 = 24;
const GC_COLLECTING_IN_STATE: u64 = 200;
/// `long_lived_total` follows `collecting`, `garbage` and `callbacks` (3.9–3.13).
pub(super) const GC_LONG_LIVED_AFTER_COLLECTING: u64 = 24;

/// What is known of one version's `struct _gc_runtime_state`, besides
/// where it and its `collecting` are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GcFacts {
    pub generations_known: bool,
    /// `long_lived_total` minus `collecting`, where the field exists.
    pub long_lived_after_collecting: Option<u64>,
}

/// The table's versions: all of it is known.
const GC_AS_IN_HEADERS: GcFacts = GcFacts {
    generations_known: true,
    long_lived_after_collecting: Some(GC_LONG_LIVED_AFTER_COLLECTING),
};

const fn gc(interpreter_gc: u64, collecting_in_state: u64, facts: GcFacts) -> GcLayout {
    let collecting = interpreter_gc + collecting_in_state;
    GcLayout {
        generations: if facts.generations_known {
            Some(interpreter_gc + GC_GENERATIONS_IN_STATE)
        } else {
            None
        },
        generation_size: 24,
        generation_count: 3,
        threshold: 16,
        count: 20,
        stats: collecting - 3 * GC_STATS_SIZE,
        collecting,
        long_lived_total: match facts.long_lived_after_collecting {
            Some(after) => Some(collecting + after),
            None => None,
        },
    }
}

/// The kernel walker's settings; the caller fills the rest.
struct Walker {
    thread_id_kind: ThreadIdKind,
    instruction_kind: InstructionKind,
    thread_state_thread_id: u64,
    thread_state_frame: u64,
    cframe_current_frame: u64,
    frame_previous: u64,
    frame_code: u64,
    frame_instruction: u64,
    frame_owner: u64,
    owner_shim: u64,
}

impl Walker {
    const fn offsets(self) -> PythonOffsets {
        PythonOffsets {
            thread_id_kind: self.thread_id_kind as u32,
            instruction_kind: self.instruction_kind as u32,
            thread_state_thread_id: self.thread_state_thread_id,
            thread_state_frame: self.thread_state_frame,
            cframe_current_frame: self.cframe_current_frame,
            frame_previous: self.frame_previous,
            frame_code: self.frame_code,
            frame_instruction: self.frame_instruction,
            frame_owner: self.frame_owner,
            owner_shim: self.owner_shim,
            code_tag_mask: 0,
            ..PythonOffsets::DISABLED
        }
    }
}

/// Every version's facts, chosen by (major, minor).
pub(super) fn source(version: PythonVersion) -> Result<Source, OffsetsError> {
    let layout = match (version.major, version.minor) {
        // 3.9 and 3.10: PyFrameObject chains through f_back; threads are
        // named by pthread_self() only.
        (3, 9) | (3, 10) => InterpreterLayout {
            version,
            walker: Walker {
                thread_id_kind: ThreadIdKind::PthreadSelf,
                instruction_kind: InstructionKind::LastIndex,
                thread_state_thread_id: 176, // thread_id
                thread_state_frame: 24,      // frame
                cframe_current_frame: NO_OFFSET,
                frame_previous: 24, // f_back
                frame_code: 32,     // f_code
                // f_lasti: 3.10 dropped `int f_stackdepth` before it.
                frame_instruction: if version.minor == 9 { 104 } else { 96 },
                frame_owner: NO_OFFSET,
                owner_shim: NO_OFFSET,
            }
            .offsets(),
            runtime_interpreters_head: 32,
            runtime_interpreters_main: 40,
            runtime_initialized: 12,
            runtime_finalizing: 16,
            interpreter_next: 0,
            interpreter_threads_head: 8, // tstate_head
            thread_state_next: 8,
            thread_state_thread_id: 176,
            thread_state_native_thread_id: None,
            code: CodeLayout {
                filename: 104,
                name: 112,
                qualname: None,
                first_line: 40,
                line_table: 120, // co_lnotab (3.9), co_linetable (3.10)
                line_table_format: if version.minor == 9 {
                    LineTableFormat::Lnotab
                } else {
                    LineTableFormat::Linetable310
                },
                code: Some(48),
                code_adaptive: None,
                last_index_unit: if version.minor == 9 { 1 } else { 2 },
            },
            unicode: UNICODE_WITH_WSTR,
            bytes: BYTES,
            gc: Some(gc(616, GC_COLLECTING_IN_STATE, GC_AS_IN_HEADERS)),
        },
        // 3.11: _PyInterpreterFrame, reached through tstate->cframe; no
        // shim frames (the entry frame is marked by `is_entry` instead).
        (3, 11) => InterpreterLayout {
            version,
            walker: Walker {
                thread_id_kind: ThreadIdKind::NativeThreadId,
                instruction_kind: InstructionKind::Pointer,
                thread_state_thread_id: 160, // native_thread_id
                thread_state_frame: 56,      // cframe
                cframe_current_frame: 8,
                frame_previous: 48,
                frame_code: 32,        // f_code
                frame_instruction: 56, // prev_instr
                frame_owner: NO_OFFSET,
                owner_shim: NO_OFFSET,
            }
            .offsets(),
            runtime_interpreters_head: 40,
            runtime_interpreters_main: 48,
            runtime_initialized: 16,
            runtime_finalizing: 24,
            interpreter_next: 0,
            interpreter_threads_head: 16,
            thread_state_next: 8,
            thread_state_thread_id: 160,
            thread_state_native_thread_id: Some(160),
            code: CodeLayout {
                filename: 112,
                name: 120,
                qualname: Some(128),
                first_line: 72,
                line_table: 136,
                line_table_format: LineTableFormat::Locations,
                code: None,
                code_adaptive: Some(184),
                last_index_unit: 2,
            },
            unicode: UNICODE_WITH_WSTR,
            bytes: BYTES,
            gc: Some(gc(648, GC_COLLECTING_IN_STATE, GC_AS_IN_HEADERS)),
        },
        // 3.12: each _PyEval_EvalFrameDefault pushes a shim entry frame
        // owned by FRAME_OWNED_BY_CSTACK (3) that the walker skips.
        (3, 12) => InterpreterLayout {
            version,
            walker: Walker {
                thread_id_kind: ThreadIdKind::NativeThreadId,
                instruction_kind: InstructionKind::Pointer,
                thread_state_thread_id: 144, // native_thread_id
                thread_state_frame: 56,      // cframe
                cframe_current_frame: 0,
                frame_previous: 8,
                frame_code: 0,         // f_code
                frame_instruction: 56, // prev_instr
                frame_owner: 70,
                owner_shim: 3,
            }
            .offsets(),
            runtime_interpreters_head: 40,
            runtime_interpreters_main: 48,
            runtime_initialized: 16,
            runtime_finalizing: 24,
            interpreter_next: 0,
            interpreter_threads_head: 72,
            thread_state_next: 8,
            thread_state_thread_id: 144,
            thread_state_native_thread_id: Some(144),
            code: CodeLayout {
                filename: 112,
                name: 120,
                qualname: Some(128),
                first_line: 68,
                line_table: 136,
                line_table_format: LineTableFormat::Locations,
                code: None,
                code_adaptive: Some(192),
                last_index_unit: 2,
            },
            unicode: UNICODE_WITHOUT_WSTR,
            bytes: BYTES,
            gc: Some(gc(112, GC_COLLECTING_IN_STATE, GC_AS_IN_HEADERS)),
        },
        // 3.13: f_executable is a plain PyObject*; the shim entry frame is
        // still FRAME_OWNED_BY_CSTACK (3). The GC generations moved within
        // 3.13: pyenv's 3.13.0 keeps generations[0] 24 bytes into
        // `interp->gc`, as its headers say; Debian's 3.13.5 keeps it at 20
        // (its compiled code reads the threshold at gc+36, the count at
        // gc+40). The statistics before `collecting` and the fields after
        // it stayed.
        (3, 13) => {
            return Ok(Source::DebugOffsets(DebugOffsetsFacts {
                positions: DebugPositions {
                    free_threaded: 16,
                    finalizing: 32,
                    interpreters_head: 40,
                    interpreter_next: 64,
                    interpreter_threads_head: 72,
                    interpreter_gc: 80,
                    thread_next: 168,
                    thread_current_frame: 184,
                    thread_id: 192,
                    thread_native_thread_id: 200,
                    frame_previous: 232,
                    frame_executable: 240,
                    frame_instr_ptr: 248,
                    frame_owner: 264,
                    code_filename: 280,
                    code_name: 288,
                    code_qualname: 296,
                    code_linetable: 304,
                    code_firstlineno: 312,
                    code_adaptive: 344,
                    bytes_size: 520,
                    bytes_data: 528,
                    unicode_state: 544,
                    unicode_length: 552,
                    unicode_ascii_size: 560,
                    gc_collecting: 576,
                },
                owner_shim: 3,
                code_tag_mask: 0,
                unicode: UNICODE_WITHOUT_WSTR,
                gc: GcFacts {
                    generations_known: false,
                    long_lived_after_collecting: Some(GC_LONG_LIVED_AFTER_COLLECTING),
                },
            }));
        }
        // 3.14: f_executable is a _PyStackRef whose low bits are tags
        // (Py_TAG_REFCNT = 1 on deferred/immortal references; Py_INT_TAG = 3
        // never names a code object): clear both, code objects are aligned.
        // The entry frame is now FRAME_OWNED_BY_INTERPRETER (3);
        // FRAME_OWNED_BY_CSTACK became 4 and no frame on the chain uses it.
        // The GC is incremental: generations[3] became young and old[2],
        // in the same places; `long_lived_total` is gone.
        (3, 14) => {
            return Ok(Source::DebugOffsets(DebugOffsetsFacts {
                positions: DebugPositions {
                    free_threaded: 16,
                    finalizing: 32,
                    interpreters_head: 40,
                    interpreter_next: 64,
                    interpreter_threads_head: 72,
                    interpreter_gc: 88,
                    thread_next: 192,
                    thread_current_frame: 208,
                    thread_id: 216,
                    thread_native_thread_id: 224,
                    frame_previous: 256,
                    frame_executable: 264,
                    frame_instr_ptr: 272,
                    frame_owner: 288,
                    code_filename: 320,
                    code_name: 328,
                    code_qualname: 336,
                    code_linetable: 344,
                    code_firstlineno: 352,
                    code_adaptive: 384,
                    bytes_size: 600,
                    bytes_data: 608,
                    unicode_state: 624,
                    unicode_length: 632,
                    unicode_ascii_size: 640,
                    gc_collecting: 656,
                },
                owner_shim: 3,
                code_tag_mask: 0b11,
                unicode: UNICODE_WITHOUT_WSTR,
                gc: GcFacts {
                    generations_known: true,
                    long_lived_after_collecting: None,
                },
            }));
        }
        _ => return Err(OffsetsError::Unsupported(version)),
    };
    Ok(Source::Table(layout))
}

/// The GC layout of a 3.13+ interpreter, from `interp->gc` and
/// `gc.collecting` as `_Py_DebugOffsets` gives them.
pub(super) fn gc_from(interpreter_gc: u64, collecting_in_state: u64, facts: GcFacts) -> GcLayout {
    gc(interpreter_gc, collecting_in_state, facts)
}
