//! The plain settings the engine runs on. The CLI builds them from its
//! arguments; the engine never sees clap.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::probes::placement::ProbePlacement;
use crate::report::Mode;
use crate::session::GrowthSettings;

/// Which process to trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A process that already runs.
    Pid(u32),
    /// A command leakspy starts and traces from its first instruction.
    Command(Vec<OsString>),
}

/// Everything a trace needs to know.
#[derive(Clone, Debug)]
pub struct TraceConfig {
    pub target: TargetSpec,
    /// Stop after this long; None runs until the target exits or a signal.
    pub duration: Option<Duration>,
    /// Length of one aggregation window.
    pub window: Duration,
    pub mode: Mode,
    /// Python frames walked per stack at most.
    pub python_depth: u32,
    /// Growth mode's budget and sampling; unused in precise mode.
    pub growth: GrowthSettings,
    /// Where the allocator probes go and what they run.
    pub probes: ProbeOptions,
}

/// Where the allocator probes go and whether they only count hits (knobs
/// for measuring what the probes cost), and whether the places where an
/// LTO build inlined pymalloc are probed too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeOptions {
    pub placement: ProbePlacement,
    /// Precise mode's sites with a program that only counts hits, and no
    /// return probes: the floor under precise mode's cost.
    pub count_only: bool,
    /// Also probe the places where an LTO build inlined pymalloc.
    pub inlined_pymalloc: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            placement: ProbePlacement::default(),
            count_only: false,
            inlined_pymalloc: true,
        }
    }
}

/// Where and how results are written.
#[derive(Clone, Debug)]
pub struct OutputConfig {
    /// The JSON report's path.
    pub report_path: PathBuf,
    /// How many stacks the text summary shows.
    pub top: usize,
}
