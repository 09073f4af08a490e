//! Empty on purpose: a library target lets profiler-cli name this crate as
//! a build-dependency, so cargo rebuilds leakspy when the eBPF code changes.
#![no_std]
