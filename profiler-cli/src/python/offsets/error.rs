//! Why the layout of a CPython target could not be known or followed.

use thiserror::Error;

use crate::process::memory::MemoryError;
use crate::python::offsets::PythonVersion;

/// Why a layout could not be had, or a walk with it failed.
#[derive(Debug, Error)]
pub enum OffsetsError {
    #[error("Python {0} is not supported: leakspy knows CPython 3.9 to 3.14")]
    Unsupported(PythonVersion),
    #[error(
        "Python {0} describes its own layout: read it from _Py_DebugOffsets at the start of _PyRuntime"
    )]
    NeedsDebugOffsets(PythonVersion),
    #[error(
        "Python {0} has no _Py_DebugOffsets (they start with 3.13): take its layout from leakspy's table"
    )]
    NoDebugOffsets(PythonVersion),
    #[error("no _Py_DebugOffsets at {address:#x}: it starts with {found:?}, not \"xdebugpy\"")]
    BadCookie { address: u64, found: String },
    #[error("Python {0} is a free-threaded build, which leakspy does not support")]
    FreeThreaded(PythonVersion),
    #[error(
        "the thread states of the interpreter at {interpreter:#x} do not end within {limit}: the list is corrupt or cyclic"
    )]
    TooManyThreads { interpreter: u64, limit: usize },
    #[error("the {what} at {address:#x} is not plausible: {detail}")]
    BadObject {
        what: &'static str,
        address: u64,
        detail: String,
    },
    #[error(transparent)]
    Memory(#[from] MemoryError),
}
