//! leakspy's integration tests: the real `leakspy` binary against real
//! programs compiled by the tests. The privileged ones need root and a
//! kernel with BPF and uprobes; elsewhere they skip with a printed reason,
//! and under CI=true a skip is a failure.

mod cli_errors;
mod detach;
mod exports;
mod gate;
mod growth_mode;
mod interpreters;
mod precise_native;
mod python_stacks;
mod support;
mod top_view;
