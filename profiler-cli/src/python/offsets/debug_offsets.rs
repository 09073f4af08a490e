//! Reading the layout of a 3.13+ interpreter from `_Py_DebugOffsets`, the
//! struct of offsets that starts `_PyRuntime`. Where each offset sits in it,
//! and what it leaves out, comes from the version table.

use profiler_common::{InstructionKind, PythonOffsets, ThreadIdKind};

use crate::process::memory::MemoryReader;
use crate::python::offsets::table::{self, GcFacts, Source};
use crate::python::offsets::{
    BytesLayout, CodeLayout, InterpreterLayout, LineTableFormat, OffsetsError, UnicodeLayout,
    parse_version_hex,
};

/// `_Py_DebugOffsets.cookie`, at offset 0 of every version.
pub const DEBUG_OFFSETS_COOKIE: &[u8; 8] = b"xdebugpy";
/// `_Py_DebugOffsets.version` (PY_VERSION_HEX), at offset 8 of every version.
const VERSION_POSITION: u64 = 8;

/// Where, within `_Py_DebugOffsets`, each offset leakspy reads is stored.
/// Names follow the C fields (`interpreter_state.threads_head` becomes
/// `interpreter_threads_head`).
#[derive(Clone, Copy, Debug)]
pub(super) struct DebugPositions {
    pub free_threaded: u64,
    pub finalizing: u64,
    pub interpreters_head: u64,
    pub interpreter_next: u64,
    pub interpreter_threads_head: u64,
    pub interpreter_gc: u64,
    pub thread_next: u64,
    pub thread_current_frame: u64,
    pub thread_id: u64,
    pub thread_native_thread_id: u64,
    pub frame_previous: u64,
    pub frame_executable: u64,
    pub frame_instr_ptr: u64,
    pub frame_owner: u64,
    pub code_filename: u64,
    pub code_name: u64,
    pub code_qualname: u64,
    pub code_linetable: u64,
    pub code_firstlineno: u64,
    pub code_adaptive: u64,
    pub bytes_size: u64,
    pub bytes_data: u64,
    pub unicode_state: u64,
    pub unicode_length: u64,
    pub unicode_ascii_size: u64,
    pub gc_collecting: u64,
}

/// What a 3.13+ version's table entry gives: the positions above, and the
/// facts `_Py_DebugOffsets` does not carry.
#[derive(Clone, Copy, Debug)]
pub(super) struct DebugOffsetsFacts {
    pub positions: DebugPositions,
    /// The `owner` of the shim entry frames.
    pub owner_shim: u64,
    /// Tag bits of `f_executable`.
    pub code_tag_mask: u64,
    /// The `state` bits, and how much bigger PyCompactUnicodeObject is than
    /// PyASCIIObject (`compact_data - ascii_data`); the offsets themselves
    /// are read.
    pub unicode: UnicodeLayout,
    /// What `gc` and `gc.collecting` imply about the GC's other fields
    /// (see the table).
    pub gc: GcFacts,
}

impl DebugPositions {
    /// One byte past the last position read.
    fn end(&self) -> u64 {
        let all = [
            self.free_threaded,
            self.finalizing,
            self.interpreters_head,
            self.interpreter_next,
            self.interpreter_threads_head,
            self.interpreter_gc,
            self.thread_next,
            self.thread_current_frame,
            self.thread_id,
            self.thread_native_thread_id,
            self.frame_previous,
            self.frame_executable,
            self.frame_instr_ptr,
            self.frame_owner,
            self.code_filename,
            self.code_name,
            self.code_qualname,
            self.code_linetable,
            self.code_firstlineno,
            self.code_adaptive,
            self.bytes_size,
            self.bytes_data,
            self.unicode_state,
            self.unicode_length,
            self.unicode_ascii_size,
            self.gc_collecting,
        ];
        all.into_iter().max().unwrap_or(0) + 8
    }
}

/// The layout of a 3.13+ interpreter whose `_PyRuntime` is at
/// `runtime_address`, read from the `_Py_DebugOffsets` it starts with.
pub fn layout_from_debug_offsets(
    memory: &dyn MemoryReader,
    runtime_address: u64,
) -> Result<InterpreterLayout, OffsetsError> {
    let cookie = memory.read_vec(runtime_address, DEBUG_OFFSETS_COOKIE.len())?;
    if cookie != DEBUG_OFFSETS_COOKIE {
        return Err(OffsetsError::BadCookie {
            address: runtime_address,
            found: String::from_utf8_lossy(&cookie).into_owned(),
        });
    }
    let version =
        parse_version_hex(memory.read_u64(runtime_address.wrapping_add(VERSION_POSITION))?);
    let facts = match table::source(version)? {
        Source::DebugOffsets(facts) => facts,
        Source::Table(_) => return Err(OffsetsError::NoDebugOffsets(version)),
    };
    let positions = facts.positions;
    let blob = memory.read_vec(runtime_address, positions.end() as usize)?;
    let at = |position: u64| {
        let start = position as usize;
        u64::from_le_bytes(blob[start..start + 8].try_into().expect("8 bytes"))
    };
    if at(positions.free_threaded) != 0 {
        return Err(OffsetsError::FreeThreaded(version));
    }
    let native_thread_id = at(positions.thread_native_thread_id);
    let interpreter_gc = at(positions.interpreter_gc);
    let ascii_data = at(positions.unicode_ascii_size);
    Ok(InterpreterLayout {
        version,
        walker: PythonOffsets {
            thread_id_kind: ThreadIdKind::NativeThreadId as u32,
            instruction_kind: InstructionKind::Pointer as u32,
            thread_state_thread_id: native_thread_id,
            thread_state_frame: at(positions.thread_current_frame),
            frame_previous: at(positions.frame_previous),
            frame_code: at(positions.frame_executable),
            frame_instruction: at(positions.frame_instr_ptr),
            frame_owner: at(positions.frame_owner),
            owner_shim: facts.owner_shim,
            code_tag_mask: facts.code_tag_mask,
            ..PythonOffsets::DISABLED
        },
        runtime_interpreters_head: at(positions.interpreters_head),
        // `struct pyinterpreters` keeps `main` right after `head`.
        runtime_interpreters_main: at(positions.interpreters_head) + 8,
        runtime_finalizing: at(positions.finalizing),
        // `_Py_DebugOffsets` has no field for it: five ints precede
        // `_finalizing` (padded to 24 bytes) and `initialized` is the last.
        runtime_initialized: at(positions.finalizing) - 8,
        interpreter_next: at(positions.interpreter_next),
        interpreter_threads_head: at(positions.interpreter_threads_head),
        thread_state_next: at(positions.thread_next),
        thread_state_thread_id: native_thread_id,
        thread_state_native_thread_id: Some(native_thread_id),
        code: CodeLayout {
            filename: at(positions.code_filename),
            name: at(positions.code_name),
            qualname: Some(at(positions.code_qualname)),
            first_line: at(positions.code_firstlineno),
            line_table: at(positions.code_linetable),
            line_table_format: LineTableFormat::Locations,
            code: None,
            code_adaptive: Some(at(positions.code_adaptive)),
            last_index_unit: 2,
        },
        unicode: UnicodeLayout {
            length: at(positions.unicode_length),
            state: at(positions.unicode_state),
            ascii_data,
            compact_data: ascii_data + (facts.unicode.compact_data - facts.unicode.ascii_data),
            ..facts.unicode
        },
        bytes: BytesLayout {
            size: at(positions.bytes_size),
            data: at(positions.bytes_data),
        },
        gc: Some(table::gc_from(
            interpreter_gc,
            at(positions.gc_collecting),
            facts.gc,
        )),
    })
}
