//! Everything leakspy knows about CPython: where the runtime is, the
//! layout of its structs per version, its allocator table, its threads,
//! its GC counters and how to name its frames.

pub mod allocator_kind;
pub mod allocator_table;
pub mod code_objects;
pub mod gc_counters;
pub mod inlined_guards;
pub mod interpreter_binary;
pub mod line_table;
pub mod offsets;
pub mod pymalloc_evidence;
pub mod runtime;
pub mod thread_map;

use thiserror::Error;

use crate::process::memory::MemoryError;

/// Why a Python target could not be understood.
#[derive(Debug, Error)]
pub enum PythonError {
    #[error("cannot read the interpreter binary {path}: {reason}")]
    Binary { path: String, reason: String },
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error(transparent)]
    Offsets(#[from] offsets::OffsetsError),
    #[error("cannot find CPython's allocator table: {0}")]
    AllocatorTable(String),
    #[error("cannot tell the Python version of {0}")]
    UnknownVersion(String),
}
