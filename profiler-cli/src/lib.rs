//! leakspy's engine: attaching to a process, kernel probes, symbolization,
//! aggregation and reports. The `leakspy` binary is a thin layer over it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod export;
pub mod frame;
pub mod gate;
pub mod live_view;
pub mod preflight;
pub mod probes;
pub mod process;
pub mod python;
pub mod report;
pub mod session;
pub mod symbolize;
pub mod trend;
pub mod units;
