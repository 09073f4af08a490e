//! One trace from attach to report: the loop that closes windows, follows
//! the target, and stops on signal, exit or deadline.

mod bursts;
mod engine;
mod freed_blocks;
mod growth_mode;
mod growth_totals;
mod live_ages;
mod progress;
mod python_tracking;
mod recaptures;
mod report_builder;
mod signals;
mod spawned_child;
mod stack_symbols;
mod windows;

pub use engine::{EndReason, TraceOutcome, WindowObserver, WindowSummary, trace};
pub use growth_mode::GrowthSettings;

// The pure steps of closing a window, for the benchmarks in `benches/`
// (docs/microbenchmarks.md); not part of leakspy's API.
#[doc(hidden)]
pub use growth_totals::GrowthReadings;
#[doc(hidden)]
pub use stack_symbols::StackSymbols;
#[doc(hidden)]
pub use windows::{GrowthEvidence, StackHistory, WindowRecorder};
