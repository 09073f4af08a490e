//! The JSON report, version `leakspy.report/v1` (docs/report-schema.md):
//! its types, reading and writing it, ranking stacks and judging them, and
//! rendering it as text.

mod file;
mod rank;
mod schema;
mod text;
pub mod verdict;

#[cfg(test)]
mod sample;

pub use file::{ReportError, read, write_atomically};
pub use rank::rank;
pub use schema::{Mode, Report, SCHEMA, Stack, Target, Totals, Verdict, Window};
pub use text::render_text;
pub use verdict::{growth_bytes_per_min, judge};
