//! leakspy's engine: attaching to a process, kernel probes, symbolization,
//! aggregation and reports. The `leakspy` binary is a thin layer over it.

pub mod frame;
pub mod process;
pub mod report;
pub mod symbolize;
pub mod units;
