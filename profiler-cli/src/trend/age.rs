//! A hook for the age of live memory, which the trend does not use yet:
//! the engine does not export allocation ages.
//!
//! Ages would separate cases the series alone cannot. A leak's live bytes
//! spread over every age since it began; a bounded cache that keeps
//! replacing entries holds only blocks younger than its turnover; churn
//! holds only the youngest. When the engine can export, per stack, its
//! live bytes by allocation age, build an [`AgeProfile`], pass it to
//! [`super::analyze`] as a fourth input, and weigh it in
//! [`super::rule::judge`]: in the confidence first, in the verdict only
//! once privileged tests show how real programs look.

/// Live bytes at the end of tracing, by when they were allocated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgeProfile {
    /// Entry `i` holds the live bytes allocated in window `i`, one entry
    /// per window of the report.
    pub live_bytes_by_window: Vec<u64>,
}
