//! The JSON report, version `leakspy.report/v1` (docs/report-schema.md):
//! its types, reading and writing it, ranking stacks, and rendering it as
//! text. Stacks are judged in [`crate::trend`].

mod file;
mod rank;
pub mod runtime_lines;
mod schema;
mod text;

#[cfg(test)]
pub(crate) mod sample;

pub use file::{ReportError, read, write_atomically};
pub use rank::rank;
pub use schema::{
    EbpfRunTime, Evidence, EvidenceBasis, GcCounters, GrowthSummary, Mode, Report, SCHEMA, Stack,
    Target, Totals, Verdict, Window, WindowGrowth,
};
pub use text::render_text;
pub(crate) use text::verdict_word;
