//! A fake target built from a layout: `_PyRuntime`, a main interpreter and
//! a sub-interpreter, thread states, frame chains (with a shim frame where
//! the version has them) and code objects with their names, laid out in a
//! `FakeMemory` at the layout's offsets.

use profiler_common::{InstructionKind, NO_OFFSET, PythonFrame, ThreadIdKind};

use crate::process::memory::FakeMemory;
use crate::python::offsets::{InterpreterLayout, ThreadStateInfo, UnicodeLayout};

/// Bytes of every fake struct: more than any offset in any version.
const BLOCK: usize = 0x1_0000;

pub const RUNTIME: u64 = 0x10_0000;
const SUB_INTERPRETER: u64 = 0x20_0000;
const MAIN_INTERPRETER: u64 = 0x30_0000;
const THREAD_A: u64 = 0x40_0000;
const THREAD_B: u64 = 0x41_0000;
const SUB_THREAD: u64 = 0x42_0000;
const CFRAME: u64 = 0x48_0000;
const FRAME_OUTER: u64 = 0x50_0000;
const FRAME_SHIM: u64 = 0x51_0000;
const FRAME_INNER: u64 = 0x52_0000;
const CODE_OUTER: u64 = 0x60_0000;
const CODE_INNER: u64 = 0x61_0000;
const CODE_SHIM: u64 = 0x62_0000;
const STRINGS: u64 = 0x70_0000;
pub const LINE_TABLE: u64 = 0x80_0000;
pub const LINE_TABLE_BYTES: &[u8] = &[0x80, 0x00, 0xd8, 0x04, 0x08];

/// The names of the fake code objects: ASCII, Latin-1 and UCS-2 text.
pub const OUTER_NAME: &str = "outer";
pub const INNER_NAME: &str = "naïve_λ";
pub const FILE_NAME: &str = "café.py";

/// A fake target and what reading it must give.
pub struct FakeInterpreter {
    pub memory: FakeMemory,
    /// Thread states of the main interpreter, newest first.
    pub threads: Vec<ThreadStateInfo>,
    /// The frames of each thread, innermost first.
    pub frames: Vec<Vec<PythonFrame>>,
    /// (code object, co_name) of each frame of the first thread.
    pub names: Vec<(u64, &'static str)>,
}

/// One struct being written.
struct Block {
    address: u64,
    bytes: Vec<u8>,
}

impl Block {
    fn new(address: u64) -> Block {
        Block {
            address,
            bytes: vec![0; BLOCK],
        }
    }

    fn put(&mut self, offset: u64, value: &[u8]) -> &mut Block {
        assert_ne!(offset, NO_OFFSET, "writing a field the version lacks");
        let start = offset as usize;
        self.bytes[start..start + value.len()].copy_from_slice(value);
        self
    }

    fn u64(&mut self, offset: u64, value: u64) -> &mut Block {
        self.put(offset, &value.to_le_bytes())
    }

    fn place(self, memory: &mut FakeMemory) {
        memory.place(self.address, self.bytes);
    }
}

/// Lays out a target for `layout`. `runtime_prefix` is written at the
/// start of `_PyRuntime` (the `_Py_DebugOffsets` of 3.13+).
pub fn fake_interpreter(layout: &InterpreterLayout, runtime_prefix: &[u8]) -> FakeInterpreter {
    let walker = &layout.walker;
    let mut memory = FakeMemory::default();

    let mut runtime = Block::new(RUNTIME);
    runtime.put(0, runtime_prefix);
    // The newest interpreter is a sub-interpreter: its thread must not show.
    runtime
        .u64(layout.runtime_interpreters_head, SUB_INTERPRETER)
        .u64(layout.runtime_interpreters_main, MAIN_INTERPRETER);
    runtime.place(&mut memory);
    let mut sub = Block::new(SUB_INTERPRETER);
    sub.u64(layout.interpreter_next, MAIN_INTERPRETER)
        .u64(layout.interpreter_threads_head, SUB_THREAD);
    sub.place(&mut memory);
    let mut main = Block::new(MAIN_INTERPRETER);
    main.u64(layout.interpreter_threads_head, THREAD_A);
    main.place(&mut memory);

    let pthread_ids = walker.thread_id_kind == ThreadIdKind::PthreadSelf as u32;
    let thread_id = |tid: u64| {
        if pthread_ids {
            0x7f00_0000_0000 + tid * 0x1000
        } else {
            tid
        }
    };
    let mut thread_a = Block::new(THREAD_A);
    thread_a
        .u64(layout.thread_state_next, THREAD_B)
        .u64(layout.thread_state_thread_id, thread_id(4242));
    let mut thread_b = Block::new(THREAD_B);
    thread_b.u64(layout.thread_state_thread_id, thread_id(4243));
    let mut sub_thread = Block::new(SUB_THREAD);
    sub_thread.u64(layout.thread_state_thread_id, thread_id(4244));
    if walker.cframe_current_frame == NO_OFFSET {
        thread_a.u64(walker.thread_state_frame, FRAME_OUTER);
    } else {
        thread_a.u64(walker.thread_state_frame, CFRAME);
        let mut cframe = Block::new(CFRAME);
        cframe.u64(walker.cframe_current_frame, FRAME_OUTER);
        cframe.place(&mut memory);
        // Thread B has a C frame but no Python frame in it.
        thread_b.u64(walker.thread_state_frame, CFRAME + 0x100);
    }
    for block in [thread_a, thread_b, sub_thread] {
        block.place(&mut memory);
    }

    let has_shims = walker.frame_owner != NO_OFFSET;
    let after_outer = if has_shims { FRAME_SHIM } else { FRAME_INNER };
    let by_index = walker.instruction_kind == InstructionKind::LastIndex as u32;
    // Frames that have not started: f_lasti -1, or a pointer one code
    // unit before the bytecode.
    let instruction = |code: u64, units: i32| {
        if by_index {
            units as i64 as u64
        } else {
            let bytecode = code
                + layout
                    .code
                    .code_adaptive
                    .expect("3.11+ has inline bytecode");
            bytecode.wrapping_add_signed(2 * i64::from(units))
        }
    };
    let mut frames = Vec::new();
    for (address, previous, code, units) in [
        (FRAME_OUTER, after_outer, CODE_OUTER, 7),
        (FRAME_SHIM, FRAME_INNER, CODE_SHIM, 0),
        (FRAME_INNER, 0, CODE_INNER, -1),
    ] {
        let is_shim = address == FRAME_SHIM;
        if is_shim && !has_shims {
            continue;
        }
        let value = instruction(code, units);
        let mut frame = Block::new(address);
        frame
            .u64(walker.frame_previous, previous)
            // The tag bit a 3.14 _PyStackRef carries on deferred references.
            .u64(walker.frame_code, code | (walker.code_tag_mask & 1));
        if by_index {
            frame.put(walker.frame_instruction, &units.to_le_bytes());
        } else {
            frame.u64(walker.frame_instruction, value);
        }
        if has_shims {
            let owner = if is_shim { walker.owner_shim as u8 } else { 0 };
            frame.put(walker.frame_owner, &[owner]);
        }
        frame.place(&mut memory);
        if !is_shim {
            frames.push(PythonFrame {
                code,
                instruction: value,
            });
        }
    }

    let mut strings = Block::new(STRINGS);
    let mut next_string = 0;
    let mut string = |text: &str| {
        let address = STRINGS + next_string;
        write_str(&mut strings, next_string, &layout.unicode, text);
        next_string += 0x400;
        address
    };
    let names = [OUTER_NAME, INNER_NAME, "<shim>"].map(&mut string);
    let file = string(FILE_NAME);
    strings.place(&mut memory);
    for (code, name) in [CODE_OUTER, CODE_INNER, CODE_SHIM].into_iter().zip(names) {
        let mut object = Block::new(code);
        object
            .u64(layout.code.name, name)
            .u64(layout.code.filename, file)
            .u64(layout.code.line_table, LINE_TABLE)
            .put(layout.code.first_line, &12i32.to_le_bytes());
        object.place(&mut memory);
    }
    let mut line_table = Block::new(LINE_TABLE);
    line_table
        .u64(layout.bytes.size, LINE_TABLE_BYTES.len() as u64)
        .put(layout.bytes.data, LINE_TABLE_BYTES);
    line_table.place(&mut memory);

    FakeInterpreter {
        memory,
        threads: vec![
            ThreadStateInfo {
                address: THREAD_A,
                thread_id: thread_id(4242),
            },
            ThreadStateInfo {
                address: THREAD_B,
                thread_id: thread_id(4243),
            },
        ],
        frames: vec![frames, Vec::new()],
        names: vec![(CODE_OUTER, OUTER_NAME), (CODE_INNER, INNER_NAME)],
    }
}

/// Writes a compact str object at `offset` of `block`: ASCII, or the
/// narrowest of 1, 2 or 4 bytes per code point.
fn write_str(block: &mut Block, offset: u64, layout: &UnicodeLayout, text: &str) {
    let points: Vec<u32> = text.chars().map(u32::from).collect();
    let widest = points.iter().copied().max().unwrap_or(0);
    let ascii = widest < 0x80;
    let kind: u32 = match widest {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 4,
    };
    let state = kind << layout.kind_shift
        | 1 << layout.compact_shift
        | u32::from(ascii) << layout.ascii_shift;
    let data = if ascii {
        layout.ascii_data
    } else {
        layout.compact_data
    };
    block
        .u64(offset + layout.length, points.len() as u64)
        .put(offset + layout.state, &state.to_le_bytes());
    for (index, point) in points.iter().enumerate() {
        let at = offset + data + index as u64 * u64::from(kind);
        block.put(at, &point.to_le_bytes()[..kind as usize]);
    }
}
