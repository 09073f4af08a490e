//! Trend analysis of one stack's live bytes over the windows of a trace:
//! its growth rate, its verdict (`leak`, `growing`, `stable`, `churn`) and
//! how sure that verdict is. docs/report-schema.md, "Verdicts", states the
//! rule for users.
//!
//! A series holds the live bytes at the end of consecutive windows;
//! tracing starts from nothing, so an implicit 0 comes before the first
//! window. Only the later half of the points is judged (at least three
//! steps), so growth early in the trace that has since stopped, such as a
//! cache filling up, is not a leak, while a leak followed by idle windows
//! before the target exits still is, as long as two rises remain in that
//! half. A stack that keeps allocating after its last rise without growing
//! has levelled off, and is no leak either; nor is one whose new blocks
//! mostly took over addresses it held before. The age of live memory, when
//! known, weighs on a leak's confidence: a leak since the start holds
//! memory of every age.

mod features;
mod kendall;
pub mod rule;
mod theil_sen;

#[cfg(test)]
mod scenarios;

pub use features::{Features, JUDGED_MIN_STEPS, Turnover};

use crate::report::Verdict;

/// What the trend of one stack says.
#[derive(Clone, Debug, PartialEq)]
pub struct Trend {
    pub verdict: Verdict,
    /// How sure the verdict is, in [0, 1]; always finite.
    pub confidence: f64,
    /// The Theil–Sen slope of the judged part, in bytes per minute;
    /// negative when memory shrank; always finite.
    pub growth_bytes_per_min: f64,
    /// The measurements the verdict came from.
    pub features: Features,
}

/// Analyzes `series` (live bytes at the end of each window of
/// `window_seconds`) of one stack, given the live bytes of all stacks
/// together.
pub fn analyze(series: &[u64], window_seconds: f64, all_stacks_live_bytes: u64) -> Trend {
    analyze_with_turnover(
        series,
        Turnover::default(),
        window_seconds,
        all_stacks_live_bytes,
    )
}

/// [`analyze`], knowing the stack's [`Turnover`] in the same windows: its
/// allocations tell a stack that levelled off while still allocating from
/// one that idles, and its recaptures memory handed out again from new.
pub fn analyze_with_turnover(
    series: &[u64],
    turnover: Turnover,
    window_seconds: f64,
    all_stacks_live_bytes: u64,
) -> Trend {
    let features = Features::with_turnover(series, turnover);
    let (verdict, confidence) = rule::judge(&features, all_stacks_live_bytes);
    let growth_bytes_per_min = if window_seconds.is_finite() && window_seconds > 0.0 {
        features.slope_per_window / window_seconds * 60.0
    } else {
        0.0
    };
    Trend {
        verdict,
        confidence,
        growth_bytes_per_min: if growth_bytes_per_min.is_finite() {
            growth_bytes_per_min
        } else {
            0.0
        },
        features,
    }
}
