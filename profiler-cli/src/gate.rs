//! The CI gate of `record` and `run`: `--fail-on-growth SIZE[/min]` fails
//! the run (exit 1) when a stack judged a leak grew more than SIZE over the
//! trace, or faster than SIZE per minute, and says which and why.
//!
//! Exit codes: 0 when no leak passes the limit, [`EXIT_GROWTH`] (1) when
//! one does, 2 on errors. When the traced command itself fails, its 2 wins
//! over the gate's 1: a failed run's memory says little, and CI must see
//! the failure as an error, not as a leak. The summary is printed anyway.

use std::fmt;
use std::io::{self, Write};

use thiserror::Error;

use crate::frame::{Frame, FrameKind};
use crate::report::{Report, Stack, Verdict};
use crate::units::{UnitError, format_bytes, format_bytes_per_min, parse_size};

/// Exit code 1: a stack judged a leak grew past `--fail-on-growth`.
pub const EXIT_GROWTH: u8 = 1;

/// How much a leaking stack may grow before the gate fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrowthLimit {
    /// Bytes over the whole trace: the stack's live bytes at the end, since
    /// tracing starts from nothing.
    Total(u64),
    /// Bytes per minute: the stack's `growth_bytes_per_min`.
    PerMinute(u64),
}

/// Why a `--fail-on-growth` value could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LimitError {
    #[error("invalid growth limit: {0}")]
    Size(#[from] UnitError),
    #[error(
        "invalid growth limit {text:?}: unknown rate {rate:?}; expected SIZE or SIZE/min, \
         such as \"5MiB\" or \"1MiB/min\""
    )]
    UnknownRate { text: String, rate: String },
}

/// Parses `SIZE` or `SIZE/min`, SIZE as [`parse_size`] reads it:
/// "5MiB", "500KB/min", "1 GiB / min".
pub fn parse_limit(text: &str) -> Result<GrowthLimit, LimitError> {
    let Some((size, rate)) = text.split_once('/') else {
        return Ok(GrowthLimit::Total(parse_size(text)?));
    };
    if !rate.trim().eq_ignore_ascii_case("min") {
        return Err(LimitError::UnknownRate {
            text: text.into(),
            rate: rate.trim().into(),
        });
    }
    Ok(GrowthLimit::PerMinute(parse_size(size)?))
}

impl GrowthLimit {
    /// Whether `stack` grew past the limit; only leaks can.
    fn exceeded_by(self, stack: &Stack) -> bool {
        stack.verdict == Verdict::Leak
            && match self {
                GrowthLimit::Total(bytes) => stack.live_bytes > bytes,
                GrowthLimit::PerMinute(bytes) => stack.growth_bytes_per_min > bytes as f64,
            }
    }
}

impl fmt::Display for GrowthLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GrowthLimit::Total(bytes) => write!(f, "{}", format_bytes(bytes)),
            GrowthLimit::PerMinute(bytes) => write!(f, "{}/min", format_bytes(bytes)),
        }
    }
}

/// What the gate found in one report.
#[derive(Clone, Debug)]
pub struct GateOutcome<'a> {
    pub limit: GrowthLimit,
    /// The stacks judged a leak that grew past the limit, in report order.
    pub failed: Vec<&'a Stack>,
    /// How many stacks were judged a leak, past the limit or not.
    pub leaks: usize,
}

impl GateOutcome<'_> {
    pub fn passed(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Checks every stack of `report` against `limit`.
pub fn check(report: &Report, limit: GrowthLimit) -> GateOutcome<'_> {
    GateOutcome {
        limit,
        failed: report
            .stacks
            .iter()
            .filter(|stack| limit.exceeded_by(stack))
            .collect(),
        leaks: report
            .stacks
            .iter()
            .filter(|stack| stack.verdict == Verdict::Leak)
            .count(),
    }
}

/// Writes, for people reading a CI log, whether the gate passed and, when
/// it failed, one line per failing stack: where it allocates, its live
/// bytes, its growth per minute and the limit.
pub fn write_summary(outcome: &GateOutcome<'_>, out: &mut impl Write) -> io::Result<()> {
    let limit = outcome.limit;
    let past = match limit {
        GrowthLimit::Total(_) => "grew more than",
        GrowthLimit::PerMinute(_) => "grew faster than",
    };
    if outcome.passed() {
        return writeln!(
            out,
            "leakspy: --fail-on-growth passed: no stack judged a leak {past} {limit} \
             ({} judged a leak in all)",
            outcome.leaks
        );
    }
    writeln!(
        out,
        "leakspy: --fail-on-growth failed: {} of {} stacks judged a leak {past} {limit}:",
        outcome.failed.len(),
        outcome.leaks
    )?;
    for stack in &outcome.failed {
        writeln!(
            out,
            "  {}: live {}, growth {}, limit {limit} (stack {}, confidence {:.2})",
            place(stack),
            format_bytes(stack.live_bytes),
            format_bytes_per_min(stack.growth_bytes_per_min),
            stack.id,
            stack.confidence
        )?;
    }
    Ok(())
}

/// Where a stack allocates, as "function file:line": its innermost Python
/// frame (the line in the program's own code) when it has one, else its
/// innermost frame.
fn place(stack: &Stack) -> String {
    let frame = stack
        .frames
        .iter()
        .find(|frame| frame.kind == FrameKind::Python)
        .or(stack.frames.first());
    match frame {
        Some(Frame {
            function,
            file: Some(file),
            line: Some(line),
            ..
        }) => format!("{function} {file}:{line}"),
        Some(Frame {
            function,
            file: Some(file),
            ..
        }) => format!("{function} {file}"),
        Some(Frame {
            function,
            object: Some(object),
            ..
        }) => format!("{function} in {object}"),
        Some(frame) => frame.function.clone(),
        None => "(no frames)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    const MIB: u64 = 1 << 20;

    #[test]
    fn limits_are_sizes_with_an_optional_per_minute() {
        assert_eq!(parse_limit("5MiB"), Ok(GrowthLimit::Total(5 * MIB)));
        assert_eq!(parse_limit("0"), Ok(GrowthLimit::Total(0)));
        assert_eq!(
            parse_limit("500KB/min"),
            Ok(GrowthLimit::PerMinute(500_000))
        );
        assert_eq!(parse_limit("1 MiB / MIN"), Ok(GrowthLimit::PerMinute(MIB)));
        assert_eq!(GrowthLimit::Total(5 * MIB).to_string(), "5.0 MiB");
        assert_eq!(GrowthLimit::PerMinute(MIB).to_string(), "1.0 MiB/min");
    }

    #[test]
    fn bad_limits_are_refused_with_a_clear_message() {
        let rate = parse_limit("5MiB/s").unwrap_err();
        assert!(matches!(rate, LimitError::UnknownRate { ref rate, .. } if rate == "s"));
        assert!(rate.to_string().contains("SIZE/min"), "{rate}");
        for text in ["", "5 parsecs", "-1MiB", "/min", "5MiB/min/min", "MiB"] {
            let error = parse_limit(text).unwrap_err();
            assert!(
                error.to_string().starts_with("invalid growth limit"),
                "{error}"
            );
        }
        let size = parse_limit("5 parsecs/min").unwrap_err();
        assert!(size.to_string().contains("500KB"), "{size}");
    }

    /// The sample report: a 3 MiB leak growing 6 MiB/min at app.py:42 and
    /// a 64 KiB stable stack.
    fn outcome_for(limit: &str) -> (bool, Vec<String>) {
        let report = sample_report();
        let outcome = check(&report, parse_limit(limit).unwrap());
        let failed = outcome
            .failed
            .iter()
            .map(|stack| stack.id.clone())
            .collect();
        (outcome.passed(), failed)
    }

    #[test]
    fn a_leak_past_the_limit_fails() {
        assert_eq!(outcome_for("2MiB"), (false, vec!["0x2a".to_string()]));
        assert_eq!(outcome_for("5MiB/min"), (false, vec!["0x2a".to_string()]));
        assert_eq!(outcome_for("0"), (false, vec!["0x2a".to_string()]));
    }

    #[test]
    fn a_leak_at_or_below_the_limit_passes() {
        assert_eq!(outcome_for("3MiB"), (true, vec![]));
        assert_eq!(outcome_for("6MiB/min"), (true, vec![]));
        assert_eq!(outcome_for("1GiB"), (true, vec![]));
    }

    #[test]
    fn only_stacks_judged_a_leak_can_fail() {
        let mut report = sample_report();
        report.stacks[0].verdict = Verdict::Growing;
        report.stacks[1].live_bytes = 900 * MIB;
        let outcome = check(&report, GrowthLimit::Total(MIB));
        assert!(outcome.passed());
        assert_eq!(outcome.leaks, 0);
    }

    fn summary(report: &Report, limit: GrowthLimit) -> String {
        let mut out = Vec::new();
        write_summary(&check(report, limit), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_summary_says_which_stacks_failed_and_why() {
        let text = summary(&sample_report(), GrowthLimit::Total(2 * MIB));
        assert!(text.contains("failed: 1 of 1 stacks"), "{text}");
        assert!(text.contains("grew more than 2.0 MiB"), "{text}");
        assert!(
            text.contains(
                "  leak_here app.py:42: live 3.0 MiB, growth +6.0 MiB/min, limit 2.0 MiB"
            ),
            "{text}"
        );
        let text = summary(&sample_report(), GrowthLimit::PerMinute(MIB));
        assert!(text.contains("grew faster than 1.0 MiB/min:"), "{text}");
    }

    #[test]
    fn the_summary_says_when_nothing_failed() {
        let text = summary(&sample_report(), GrowthLimit::Total(4 * MIB));
        assert_eq!(
            text,
            "leakspy: --fail-on-growth passed: no stack judged a leak grew more than \
             4.0 MiB (1 judged a leak in all)\n"
        );
    }

    #[test]
    fn a_stack_without_python_frames_is_named_by_its_innermost_frame() {
        let mut report = sample_report();
        report.stacks.swap(0, 1);
        report.stacks[0].verdict = Verdict::Leak;
        let text = summary(&report, GrowthLimit::Total(0));
        assert!(
            text.contains("  0x1a2b in /usr/lib/x86_64-linux-gnu/libc.so.6: live 64.0 KiB"),
            "{text}"
        );
    }
}
