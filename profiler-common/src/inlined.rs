//! Probes on pymalloc's inlined copies in LTO builds: the guard before
//! each inlined `_PyObject_Malloc`/`_PyObject_Free`, and the point after an
//! inlined allocation where the new block is in a known register.
//! Userspace describes each probed place in `INLINED_SITES`; the probe's
//! attach cookie carries the description's index.

use crate::growth::SINGLE_STEPPED_COOKIE;

/// Places described at most.
pub const MAX_INLINED_SITES: u32 = 4096;

/// `InlinedSite::value_register` for a value that is a constant.
pub const CONSTANT_VALUE: u8 = 0xff;

/// The general registers in the kernel's x86-64 `pt_regs` order: a site
/// names a register by its index here.
pub const PT_REGS_GENERAL: [&str; 15] = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
    "rdi",
];

/// One probed place.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlinedSite {
    /// The function's address the guard compares with: the probe counts
    /// only when the guard holds it (the inlined copy runs).
    pub guard_target: u64,
    /// The value when `value_register` is `CONSTANT_VALUE`.
    pub constant: u64,
    /// `PT_REGS_GENERAL` index of the register the guard compares.
    pub guard_register: u8,
    /// `PT_REGS_GENERAL` index of the value: the size or the pointer at a
    /// guard, the new block where an allocation's paths meet.
    pub value_register: u8,
    pub _pad: [u8; 2],
    /// The index of the meeting point's site: for an allocation's guard,
    /// and for the meeting point itself.
    pub merge: u32,
}

/// An inlined allocation between its guard and its meeting point, per
/// thread.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PendingInlinedCall {
    pub size: u64,
    pub started_ns: u64,
    /// The meeting point's site index.
    pub merge: u32,
    pub _pad: u32,
}

/// The attach cookie of a probe on site `index`.
pub const fn inlined_site_cookie(index: u32, single_stepped: bool) -> u64 {
    ((index as u64) << 32)
        | if single_stepped {
            SINGLE_STEPPED_COOKIE
        } else {
            0
        }
}

/// The site index an attach cookie carries.
pub const fn inlined_site_index(cookie: u64) -> u32 {
    (cookie >> 32) as u32
}

/// Whether an attach cookie marks a single-stepped probe.
pub const fn is_single_stepped(cookie: u64) -> bool {
    cookie & SINGLE_STEPPED_COOKIE != 0
}
