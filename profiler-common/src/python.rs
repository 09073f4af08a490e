//! What the kernel needs to walk a CPython interpreter's frames: the struct
//! offsets of the target's version, and the frames it records.

/// Python frames kept per stack (the walker's compiled-in ceiling; the
/// depth actually walked is `PythonOffsets::depth_limit`).
pub const MAX_PYTHON_FRAMES: usize = 128;

/// An offset that does not exist in this version.
pub const NO_OFFSET: u64 = u64::MAX;

/// How a PyThreadState names its OS thread.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadIdKind {
    /// `native_thread_id`: the kernel's thread id (3.11+).
    NativeThreadId = 0,
    /// `thread_id`: pthread_self(), which glibc makes the thread's fs base (3.9, 3.10).
    PthreadSelf = 1,
}

/// How a frame stores its position in the bytecode.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstructionKind {
    /// An `int f_lasti` (3.9: byte offset; 3.10: index of 2-byte code units).
    LastIndex = 0,
    /// A pointer into the code object's bytecode (3.11+: `prev_instr` or `instr_ptr`).
    Pointer = 1,
}

/// One Python frame as the kernel records it: the code object's address and
/// the raw instruction position (see `InstructionKind`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PythonFrame {
    pub code: u64,
    pub instruction: u64,
}

/// Offsets of the target interpreter's structs, in bytes, for the frame
/// walker. Userspace fills this once per target, from a table for 3.9–3.12
/// or from `_Py_DebugOffsets` on 3.13+.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythonOffsets {
    /// 0 when the target is not Python: no frames are walked.
    pub enabled: u32,
    /// A `ThreadIdKind` value.
    pub thread_id_kind: u32,
    /// An `InstructionKind` value.
    pub instruction_kind: u32,
    /// Frames walked at most, up to `MAX_PYTHON_FRAMES`.
    pub depth_limit: u32,
    /// Native frames kept above the Python frames. The interpreters at hand
    /// have no frame pointers, so past the leaf (the allocator's caller) the
    /// frame-pointer chain is garbage that would split one stack into many.
    pub native_depth_limit: u32,
    pub _pad: u32,
    /// PyThreadState: `native_thread_id` or `thread_id`.
    pub thread_state_thread_id: u64,
    /// PyThreadState: `frame` (3.9, 3.10), `cframe` (3.11, 3.12) or `current_frame` (3.13+).
    pub thread_state_frame: u64,
    /// _PyCFrame: `current_frame` (3.11, 3.12); NO_OFFSET otherwise.
    pub cframe_current_frame: u64,
    /// Frame: `f_back` or `previous`.
    pub frame_previous: u64,
    /// Frame: `f_code` or `f_executable`.
    pub frame_code: u64,
    /// Frame: `f_lasti`, `prev_instr` or `instr_ptr`.
    pub frame_instruction: u64,
    /// Frame: the `owner` byte (3.12+), NO_OFFSET when shim frames do not exist.
    pub frame_owner: u64,
    /// The `owner` value of shim frames that belong to the C stack.
    pub owner_shim: u64,
    /// Bits to clear from the code pointer (3.14's tagged `_PyStackRef`).
    pub code_tag_mask: u64,
    /// The address of `_PyRuntime._finalizing` in the target, or NO_OFFSET.
    /// Once it is non-zero the interpreter is tearing down, freeing what the
    /// program kept, and the probes stop accounting.
    pub finalizing_address: u64,
    /// task_struct: offset of `thread.fsbase`, for `ThreadIdKind::PthreadSelf`.
    /// Unused by the walker today: threads are keyed by kernel tid for every
    /// version, and userspace maps pthread_self() values to tids.
    pub task_fsbase: u64,
}

impl PythonOffsets {
    /// The walker's settings for a target that is not Python.
    pub const DISABLED: PythonOffsets = PythonOffsets {
        enabled: 0,
        thread_id_kind: 0,
        instruction_kind: 0,
        depth_limit: 0,
        native_depth_limit: 0,
        _pad: 0,
        thread_state_thread_id: NO_OFFSET,
        thread_state_frame: NO_OFFSET,
        cframe_current_frame: NO_OFFSET,
        frame_previous: NO_OFFSET,
        frame_code: NO_OFFSET,
        frame_instruction: NO_OFFSET,
        frame_owner: NO_OFFSET,
        owner_shim: NO_OFFSET,
        code_tag_mask: 0,
        finalizing_address: NO_OFFSET,
        task_fsbase: NO_OFFSET,
    };
}
