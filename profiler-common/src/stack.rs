//! An interned call stack, as the kernel stores it.

use crate::python::{MAX_PYTHON_FRAMES, PythonFrame};

/// Native frames kept per stack.
pub const MAX_NATIVE_FRAMES: usize = 64;

/// One call stack: native return addresses and Python frames, each
/// innermost first.
///
/// Stacks are interned in the kernel: the id is a hash of the frames, so
/// identical stacks share one entry and one set of counters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StackTrace {
    pub native_len: u32,
    pub python_len: u32,
    /// `StackTrace::PYTHON_TRUNCATED` and friends.
    pub flags: u32,
    pub _pad: u32,
    pub native: [u64; MAX_NATIVE_FRAMES],
    pub python: [PythonFrame; MAX_PYTHON_FRAMES],
}

impl StackTrace {
    /// The stack id used when no stack could be captured or stored.
    pub const UNKNOWN_ID: u64 = 0;
    /// The Python walk stopped at the depth limit with frames left.
    pub const PYTHON_TRUNCATED: u32 = 1;
    /// A Python frame could not be read; the walk stopped there.
    pub const PYTHON_UNREADABLE: u32 = 2;
    /// The thread had no known PyThreadState: no Python frames.
    pub const PYTHON_UNKNOWN_THREAD: u32 = 4;
}
