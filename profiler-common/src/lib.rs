//! Plain data shared by leakspy's eBPF programs and its userspace.
//!
//! Every type here is `#[repr(C)]`, `Copy`, has explicit padding and no
//! `bool`, so the kernel and userspace agree on its layout byte for byte.
//! With the `user` feature the types also implement `aya::Pod`, which lets
//! userspace read and write them in BPF maps.
#![no_std]

mod allocation;
mod counters;
mod growth;
mod inlined;
pub mod map_names;
mod python;
mod stack;

pub use allocation::{
    AllocationKey, AllocationSource, AllocatorFunction, LiveAllocation, PendingCall,
};
pub use counters::{LossCounter, StackCounters};
pub use growth::{
    ActivityCounter, AnonymousMapping, FaultCounters, PAGE_SAMPLE_EVERY, PAGE_SIZE, PendingRemap,
    SINGLE_STEPPED_COOKIE, SampleSettings, TracedProcess, page_is_sampled, sampled_pages_bytes,
};
pub use inlined::{
    CONSTANT_VALUE, InlinedSite, MAX_INLINED_SITES, PT_REGS_GENERAL, PendingInlinedCall,
    inlined_site_cookie, inlined_site_index, is_single_stepped,
};
pub use python::{
    InstructionKind, MAX_PYTHON_FRAMES, NO_OFFSET, PythonFrame, PythonOffsets, ThreadIdKind,
};
pub use stack::{MAX_NATIVE_FRAMES, StackTrace};

#[cfg(feature = "user")]
mod pod {
    //! `aya::Pod` for every shared type: they are plain bytes with no padding
    //! left implicit.
    use super::*;

    unsafe impl aya::Pod for AllocationKey {}
    unsafe impl aya::Pod for LiveAllocation {}
    unsafe impl aya::Pod for PendingCall {}
    unsafe impl aya::Pod for StackCounters {}
    unsafe impl aya::Pod for StackTrace {}
    unsafe impl aya::Pod for PythonFrame {}
    unsafe impl aya::Pod for PythonOffsets {}
    unsafe impl aya::Pod for SampleSettings {}
    unsafe impl aya::Pod for TracedProcess {}
    unsafe impl aya::Pod for FaultCounters {}
    unsafe impl aya::Pod for AnonymousMapping {}
    unsafe impl aya::Pod for PendingRemap {}
    unsafe impl aya::Pod for InlinedSite {}
    unsafe impl aya::Pod for PendingInlinedCall {}
}
