//! The layout of one CPython version's structs: what the kernel walker
//! needs, and what userspace needs to walk threads, name code objects and
//! read strings, bytes and GC counts. Every offset is in bytes from the
//! start of the struct named in its doc, unless the doc says otherwise.

use profiler_common::PythonOffsets;

use crate::python::offsets::PythonVersion;

/// Everything leakspy knows about one interpreter's structs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpreterLayout {
    pub version: PythonVersion,
    /// The kernel walker's settings; `enabled`, `depth_limit` and
    /// `task_fsbase` are left for the caller (0, 0 and NO_OFFSET).
    pub walker: PythonOffsets,
    /// _PyRuntimeState: `interpreters.head`, the newest interpreter.
    pub runtime_interpreters_head: u64,
    /// _PyRuntimeState: `interpreters.main`, the main interpreter.
    pub runtime_interpreters_main: u64,
    /// _PyRuntimeState: `initialized`, an int set to 1 at the end of
    /// Py_Initialize, when the allocator hooks and the main thread are final.
    pub runtime_initialized: u64,
    /// _PyRuntimeState: `_finalizing`, the thread state that runs
    /// Py_Finalize; NULL until user code and atexit handlers are done.
    pub runtime_finalizing: u64,
    /// PyInterpreterState: `next`.
    pub interpreter_next: u64,
    /// PyInterpreterState: `tstate_head` (3.9, 3.10) or `threads.head` (3.11+).
    pub interpreter_threads_head: u64,
    /// PyThreadState: `next`.
    pub thread_state_next: u64,
    /// PyThreadState: the thread id the walker keys threads by, as in
    /// `walker.thread_state_thread_id` (`native_thread_id` on 3.11+,
    /// `thread_id` before).
    pub thread_state_thread_id: u64,
    /// PyThreadState: `native_thread_id` (3.11+; 3.9 and 3.10 lack it).
    pub thread_state_native_thread_id: Option<u64>,
    pub code: CodeLayout,
    pub unicode: UnicodeLayout,
    pub bytes: BytesLayout,
    pub gc: Option<GcLayout>,
}

/// How a code object's line table is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineTableFormat {
    /// `co_lnotab` (3.9): (bytecode byte delta, line delta) pairs.
    Lnotab,
    /// `co_linetable` of 3.10: (byte delta, line delta) pairs, with no-line entries.
    Linetable310,
    /// `co_linetable` of 3.11+: the location table, in 2-byte code units.
    Locations,
}

/// PyCodeObject, for naming frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLayout {
    /// `co_filename` (a str).
    pub filename: u64,
    /// `co_name` (a str).
    pub name: u64,
    /// `co_qualname` (a str; 3.11+).
    pub qualname: Option<u64>,
    /// `co_firstlineno` (a C int).
    pub first_line: u64,
    /// `co_lnotab` (3.9) or `co_linetable` (3.10+): the bytes object of the line table.
    pub line_table: u64,
    pub line_table_format: LineTableFormat,
    /// `co_code` (3.9, 3.10): the bytes object holding the bytecode.
    pub code: Option<u64>,
    /// `co_code_adaptive` (3.11+): the bytecode itself, inline in the code object.
    pub code_adaptive: Option<u64>,
    /// Bytes per unit of a frame's `f_lasti`: 1 on 3.9 (a byte offset), 2
    /// on 3.10 (an index of 2-byte code units). Unused on 3.11+, where frames
    /// point into `co_code_adaptive`.
    pub last_index_unit: u64,
}

/// PyASCIIObject and PyCompactUnicodeObject, for reading str objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnicodeLayout {
    /// PyASCIIObject: `length`, in code points.
    pub length: u64,
    /// PyASCIIObject: `state`, a 32-bit word of bit fields.
    pub state: u64,
    /// First bit of `state.kind` (3 bits: 1, 2 or 4 bytes per code point).
    pub kind_shift: u32,
    /// The bit of `state.compact`: the characters follow the header.
    pub compact_shift: u32,
    /// The bit of `state.ascii`: compact and ASCII only.
    pub ascii_shift: u32,
    /// sizeof(PyASCIIObject): where a compact ASCII string's characters start.
    pub ascii_data: u64,
    /// sizeof(PyCompactUnicodeObject): where a compact non-ASCII string's
    /// characters start; also PyUnicodeObject's `data` pointer, which holds
    /// the characters of a string that is not compact.
    pub compact_data: u64,
}

/// PyBytesObject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BytesLayout {
    /// `ob_base.ob_size`: the length in bytes.
    pub size: u64,
    /// `ob_sval`: the bytes.
    pub data: u64,
}

/// Where the cyclic GC keeps its per-generation counts and statistics,
/// from the start of PyInterpreterState (`interp->gc` is a `struct
/// _gc_runtime_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcLayout {
    /// `gc.generations[0]` (3.9–3.13), or `gc.young` (3.14, followed by
    /// `old[0]` and `old[1]` in the same places). None where they moved
    /// within a version (3.13).
    pub generations: Option<u64>,
    /// sizeof(struct gc_generation): the stride of the generations.
    pub generation_size: u64,
    /// How many generations: NUM_GENERATIONS.
    pub generation_count: u64,
    /// gc_generation: `threshold` (a C int).
    pub threshold: u64,
    /// gc_generation: `count` (a C int): allocations, or collections of
    /// the younger generation, since this one was collected.
    pub count: u64,
    /// `gc.generation_stats[0]`: per generation, `collections`,
    /// `collected` and `uncollectable` (a Py_ssize_t each). In every
    /// version they end where `gc.collecting` starts.
    pub stats: u64,
    /// `gc.collecting` (a C int): non-zero while a collection runs.
    pub collecting: u64,
    /// `gc.long_lived_total` (a Py_ssize_t; 3.9–3.13): how many objects
    /// survived the last full collection.
    pub long_lived_total: Option<u64>,
}

/// sizeof(struct gc_generation_stats): three Py_ssize_t.
pub const GC_STATS_SIZE: u64 = 24;
