//! An interned call stack, as the kernel stores it.

/// Native frames kept per stack.
pub const MAX_NATIVE_FRAMES: usize = 64;

/// One call stack: native return addresses, innermost first.
///
/// Stacks are interned in the kernel: the id is a hash of the frames, so
/// identical stacks share one entry and one set of counters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StackTrace {
    pub native_len: u32,
    pub _pad: u32,
    pub native: [u64; MAX_NATIVE_FRAMES],
}

impl StackTrace {
    /// The stack id used when no stack could be captured or stored.
    pub const UNKNOWN_ID: u64 = 0;
}
