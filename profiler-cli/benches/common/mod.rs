//! Inputs shared by the benchmarks, built in memory with synthetic but
//! realistic data: no root, no kernel and no target process needed.
//!
//! - [`population`]: a trace's stacks, their live-byte series and the
//!   kernel's counters behind them;
//! - [`growth`]: what growth mode reads at a window's end;
//! - [`native`]: native stacks made of return addresses in this binary;
//! - [`python`]: CPython 3.12 code objects laid out in a fake memory.

pub mod growth;
pub mod native;
pub mod population;
pub mod python;

/// Stacks in a trace of a large service: what the kernel's counter map
/// holds after a long run.
pub const STACKS: usize = 100_000;
/// Windows in a trace: ten minutes of 10-second windows.
pub const WINDOWS: usize = 60;
/// Seconds per window.
pub const WINDOW_SECONDS: f64 = 10.0;

/// A well-mixed 64-bit value from `value` (the SplitMix64 finalizer): the
/// benchmarks' deterministic source of variety.
pub fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
