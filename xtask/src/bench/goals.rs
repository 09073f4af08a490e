//! The goals, checked against the measured figures: growth mode's
//! cost on the allocation-heavy workload, detection's alone (by the clock,
//! and by the time the kernel counted in its programs), precise mode
//! against its counting floor, and leakspy's RSS at a million live blocks.
//! A goal without a figure says why; nothing is assumed met.

use crate::bench::matrix::Matrix;
use crate::bench::scale::ScaleResults;
use crate::bench::statistics::{format_mib, format_ratio};
use crate::bench::summary::{Metric, cell_ratio, ebpf_share, summarize};
use crate::bench::table::Table;

/// The workload the time goals are stated for.
pub const GOAL_WORKLOAD: &str = "churn_slow_leak";
/// Detection's share of the loop in its eBPF programs, at most: the
/// 1.02× goal's margin, which the clock cannot resolve on this machine.
const DETECTION_PROGRAM_SHARE: f64 = 0.02;
/// The RSS goal's limit.
const RSS_LIMIT_BYTES: f64 = 200.0 * 1024.0 * 1024.0;
/// The live blocks the RSS goal is stated at.
const RSS_GOAL_BLOCKS: u64 = 1_000_000;

/// One goal and how the measurement stands against it.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalCheck {
    pub goal: String,
    pub measured: String,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    NotMeasured,
}

impl Verdict {
    fn word(&self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// Checks every goal: growth mode's on the steady-state runs when there
/// are some (its bursts come once a second), the others on the main runs.
pub fn check(
    main: &Matrix,
    steady: Option<&Matrix>,
    scale: Option<&ScaleResults>,
) -> Vec<GoalCheck> {
    let growth_runs = steady.unwrap_or(main);
    let growth_workload = match steady {
        Some(steady) => format!("{GOAL_WORKLOAD} at {}× size", steady.size_factor),
        None => GOAL_WORKLOAD.to_string(),
    };
    let over_baseline = |name: &str| {
        let (workload, mode) = position(growth_runs, name)?;
        cell_ratio(growth_runs, workload, mode, Metric::LoopTime)
    };
    let loop_seconds = |name: &str| {
        let (workload, mode) = position(main, name)?;
        Some(summarize(main.cell(workload, mode))?.loop_seconds)
    };
    let detection_programs = position(growth_runs, "growth-detection")
        .and_then(|(workload, mode)| ebpf_share(growth_runs.cell(workload, mode)));
    let precise_over_floor = match (loop_seconds("precise"), loop_seconds("precise-floor")) {
        (Some(precise), Some(floor)) if floor > 0.0 => Some(precise / floor),
        _ => None,
    };
    vec![
        ratio_goal(
            format!("leakspy growth, {growth_workload}: loop time ≤ 1.05× uninstrumented"),
            over_baseline("growth"),
            1.05,
        ),
        ratio_goal(
            format!("growth detection alone, {growth_workload}: loop time ≤ 1.02× uninstrumented"),
            over_baseline("growth-detection"),
            1.02,
        ),
        limit_goal(
            format!(
                "growth detection alone, {growth_workload}: time in its eBPF programs ≤ 2% of the loop"
            ),
            detection_programs,
            DETECTION_PROGRAM_SHARE,
            |share| format!("{:.3}%", share * 100.0),
        ),
        ratio_goal(
            format!("leakspy precise, {GOAL_WORKLOAD}: loop time ≤ 1.2× the counting floor"),
            precise_over_floor,
            1.2,
        ),
        rss_goal(scale),
    ]
}

/// The (workload, mode) indices of the goals' workload in mode `name`.
fn position(matrix: &Matrix, name: &str) -> Option<(usize, usize)> {
    Some((
        matrix
            .workloads
            .iter()
            .position(|workload| workload.name == GOAL_WORKLOAD)?,
        matrix.modes.iter().position(|mode| mode.name == name)?,
    ))
}

fn ratio_goal(goal: String, ratio: Option<f64>, limit: f64) -> GoalCheck {
    limit_goal(goal, ratio, limit, format_ratio)
}

/// A goal met when `measured` is at most `limit`.
fn limit_goal(
    goal: String,
    measured: Option<f64>,
    limit: f64,
    format: impl Fn(f64) -> String,
) -> GoalCheck {
    match measured {
        Some(value) => GoalCheck {
            goal,
            measured: format(value),
            verdict: if value <= limit {
                Verdict::Met
            } else {
                Verdict::Missed
            },
        },
        None => GoalCheck {
            goal,
            measured: "no figure (a row failed or was not run)".into(),
            verdict: Verdict::NotMeasured,
        },
    }
}

fn rss_goal(scale: Option<&ScaleResults>) -> GoalCheck {
    let goal = "leakspy's peak RSS < 200 MiB holding 1 M live allocations".to_string();
    let Some(Ok(figures)) = scale.map(|scale| &scale.holding) else {
        return GoalCheck {
            goal,
            measured: "no figure (the scale recording failed or was not run)".into(),
            verdict: Verdict::NotMeasured,
        };
    };
    let rss = figures.usage.peak_rss_bytes as f64;
    let at = format!(
        "{} at {} live blocks, {} stacks",
        format_mib(rss),
        figures.report_live_count,
        figures.report_stacks
    );
    if figures.report_live_count < RSS_GOAL_BLOCKS * 9 / 10 {
        return GoalCheck {
            goal,
            measured: format!("{at} (too few blocks for the goal: a reduced run)"),
            verdict: Verdict::NotMeasured,
        };
    }
    GoalCheck {
        goal,
        measured: at,
        verdict: if rss < RSS_LIMIT_BYTES {
            Verdict::Met
        } else {
            Verdict::Missed
        },
    }
}

/// The goals as a table.
pub fn table(checks: &[GoalCheck]) -> Table {
    let mut table = Table::new(["goal", "measured", "verdict"]).with_text_columns(3);
    for check in checks {
        table.push(vec![
            check.goal.clone(),
            check.measured.clone(),
            check.verdict.word().to_string(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::summary::tests::sample_matrix;

    #[test]
    fn checks_what_was_measured_and_names_what_was_not() {
        let checks = check(&sample_matrix(), None, None);
        assert_eq!(checks[0].measured, "1.10×");
        assert_eq!(checks[0].verdict, Verdict::Missed);
        // The sample has no detection-only or floor row, and no scale run.
        assert!(
            checks[1..]
                .iter()
                .all(|check| check.verdict == Verdict::NotMeasured)
        );
        let table = table(&checks);
        assert_eq!(table.rows[0][2], "missed");
    }
}
