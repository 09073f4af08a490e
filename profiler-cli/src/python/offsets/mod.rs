//! Everything leakspy knows about the structs of each CPython version, in
//! one module: the kernel walker's offsets, the thread list, code objects,
//! str and bytes objects and the GC's generation counts.
//!
//! 3.9–3.12 come from a table chosen by one `match` on (major, minor)
//! (`table.rs`). 3.13+ describe themselves in `_Py_DebugOffsets` at the
//! start of `_PyRuntime`, read at run time (`debug_offsets.rs`); the same
//! `match` gives where each field sits in it and what it leaves out.
//! Nothing outside this module branches on the Python version.

mod debug_offsets;
mod error;
mod instruction;
mod layout;
mod objects;
mod table;
mod threads;
mod version;

#[cfg(test)]
mod tests;

pub use debug_offsets::{DEBUG_OFFSETS_COOKIE, layout_from_debug_offsets};
pub use error::OffsetsError;
pub use layout::{
    BytesLayout, CodeLayout, GC_STATS_SIZE, GcLayout, InterpreterLayout, LineTableFormat,
    UnicodeLayout,
};
pub use objects::{read_bytes, read_str};
pub use table::layout_for;
pub use threads::{MAX_THREAD_STATES, ThreadStateInfo, thread_states, walk_frames};
pub use version::{PythonVersion, parse_version_hex};
