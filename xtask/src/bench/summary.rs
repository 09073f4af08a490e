//! From the raw runs to what the tables show: each cell's medians, its
//! ratios to the uninstrumented run of the same workload, and the tables
//! (ratios by mode and workload; every figure by workload and mode).

use crate::bench::matrix::{Cell, Matrix, Problem};
use crate::bench::measure::GrowthFacts;
use crate::bench::statistics::{
    format_mib, format_ratio, format_seconds, format_size, median, ratio, spread,
};
use crate::bench::table::Table;

/// The medians of one cell's runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellSummary {
    pub loop_seconds: f64,
    pub command_seconds: f64,
    pub peak_rss_bytes: f64,
    /// The spread of the loop times, (max − min) / median.
    pub loop_spread: f64,
    pub runs: usize,
}

/// A figure the ratio tables compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// The workload's main loop, timed by itself.
    LoopTime,
    /// The whole command, the tool's start-up and shutdown included.
    CommandTime,
    /// The workload process's peak RSS.
    PeakRss,
}

impl Metric {
    fn of(self, summary: &CellSummary) -> f64 {
        match self {
            Metric::LoopTime => summary.loop_seconds,
            Metric::CommandTime => summary.command_seconds,
            Metric::PeakRss => summary.peak_rss_bytes,
        }
    }
}

/// The medians of a cell, when it has runs and no problem.
pub fn summarize(cell: &Cell) -> Option<CellSummary> {
    if cell.problem.is_some() {
        return None;
    }
    let of = |figure: fn(&crate::bench::measure::Measurement) -> f64| {
        cell.runs.iter().map(figure).collect::<Vec<f64>>()
    };
    let loop_times = of(|run| run.loop_seconds);
    Some(CellSummary {
        loop_seconds: median(&loop_times)?,
        command_seconds: median(&of(|run| run.command_seconds))?,
        peak_rss_bytes: median(&of(|run| run.peak_rss_bytes as f64))?,
        loop_spread: spread(&loop_times).unwrap_or(0.0),
        runs: cell.runs.len(),
    })
}

/// The median share of the loop time the kernel counted in leakspy's eBPF
/// programs, over the runs that have the figure.
pub fn ebpf_share(cell: &Cell) -> Option<f64> {
    let shares: Vec<f64> = cell
        .runs
        .iter()
        .filter_map(|run| Some(run.ebpf_seconds? / run.loop_seconds))
        .filter(|share| share.is_finite())
        .collect();
    median(&shares)
}

/// `metric` of cell (workload, mode) over the same workload's baseline.
pub fn cell_ratio(matrix: &Matrix, workload: usize, mode: usize, metric: Metric) -> Option<f64> {
    let value = summarize(matrix.cell(workload, mode))?;
    let baseline = summarize(matrix.baseline(workload)?)?;
    ratio(metric.of(&value), metric.of(&baseline))
}

/// The short word for a cell with a problem.
fn problem_word(problem: &Problem) -> &'static str {
    match problem {
        Problem::Unsupported(_) => "not supported",
        Problem::Failed { .. } => "FAILED",
    }
}

/// One row per mode, one column per workload: the median of `metric` as a
/// ratio to the uninstrumented run.
pub fn ratio_table(matrix: &Matrix, metric: Metric) -> Table {
    let mut table = Table::new(
        std::iter::once("tool and mode")
            .chain(matrix.workloads.iter().map(|workload| workload.name)),
    );
    for (m, mode) in matrix.modes.iter().enumerate() {
        let mut row = vec![mode.label.to_string()];
        for w in 0..matrix.workloads.len() {
            let cell = matrix.cell(w, m);
            row.push(match (&cell.problem, cell_ratio(matrix, w, m, metric)) {
                (Some(problem), _) => problem_word(problem).to_string(),
                (None, Some(ratio)) => format_ratio(ratio),
                (None, None) => "—".to_string(),
            });
        }
        table.push(row);
    }
    table
}

/// One row per workload and mode with every median, its ratio and the
/// spread of the loop times.
pub fn detail_table(matrix: &Matrix) -> Table {
    let mut table = Table::new([
        "workload",
        "tool and mode",
        "runs",
        "loop time",
        "ratio",
        "spread",
        "command time",
        "ratio",
        "peak RSS",
        "ratio",
    ])
    .with_text_columns(2);
    for (w, workload) in matrix.workloads.iter().enumerate() {
        for (m, mode) in matrix.modes.iter().enumerate() {
            let cell = matrix.cell(w, m);
            let mut row = vec![workload.name.to_string(), mode.label.to_string()];
            match (&cell.problem, summarize(cell)) {
                (Some(problem), _) => {
                    row.push(cell.runs.len().to_string());
                    row.push(problem_word(problem).to_string());
                    row.extend(std::iter::repeat_n(String::new(), 6));
                }
                (None, None) => {
                    row.push("0".into());
                    row.extend(std::iter::repeat_n("—".to_string(), 7));
                }
                (None, Some(summary)) => {
                    let ratio_text = |metric| {
                        cell_ratio(matrix, w, m, metric).map_or("—".to_string(), format_ratio)
                    };
                    row.extend([
                        summary.runs.to_string(),
                        format_seconds(summary.loop_seconds),
                        ratio_text(Metric::LoopTime),
                        format!("{:.0}%", summary.loop_spread * 100.0),
                        format_seconds(summary.command_seconds),
                        ratio_text(Metric::CommandTime),
                        format_mib(summary.peak_rss_bytes),
                        ratio_text(Metric::PeakRss),
                    ]);
                }
            }
            table.push(row);
        }
    }
    table
}

/// One row per workload and growth-mode row: the medians of what
/// leakspy's reports say its bursts and page faults were.
pub fn growth_table(matrix: &Matrix) -> Table {
    let mut table = Table::new([
        "workload",
        "tool and mode",
        "bursts",
        "probes attached",
        "leakspy's estimated burst cost",
        "eBPF programs' run time",
        "memory faulted in",
    ])
    .with_text_columns(2);
    for (w, workload) in matrix.workloads.iter().enumerate() {
        for (m, mode) in matrix.modes.iter().enumerate() {
            let cell = matrix.cell(w, m);
            let facts: Vec<_> = cell.runs.iter().filter_map(|run| run.growth).collect();
            if facts.is_empty() {
                continue;
            }
            let median_of = |figure: fn(&GrowthFacts) -> f64| {
                median(&facts.iter().map(figure).collect::<Vec<_>>()).unwrap_or(0.0)
            };
            table.push(vec![
                workload.name.to_string(),
                mode.label.to_string(),
                format!("{:.0}", median_of(|facts| facts.bursts as f64)),
                format!(
                    "{:.0}% of the time",
                    median_of(|facts| facts.duty_cycle) * 100.0
                ),
                format!(
                    "{:.1}%",
                    median_of(|facts| facts.estimated_overhead) * 100.0
                ),
                ebpf_share(cell).map_or("not counted".into(), |share| {
                    format!("{:.3}% of the loop", share * 100.0)
                }),
                format_size(median_of(|facts| facts.faulted_bytes as f64)),
            ]);
        }
    }
    table
}

/// One line per cell with a problem: "workload, mode: not supported: why".
pub fn problem_lines(matrix: &Matrix) -> Vec<String> {
    matrix
        .problems()
        .into_iter()
        .map(|(workload, mode, problem)| match problem {
            Problem::Unsupported(reason) => {
                format!("{}, {}: not supported: {reason}", workload.name, mode.label)
            }
            Problem::Failed { run, reason } => {
                format!(
                    "{}, {}: FAILED in run {run}: {reason}",
                    workload.name, mode.label
                )
            }
        })
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::bench::measure::Measurement;
    use crate::bench::modes::MODES;
    use crate::bench::workloads::WORKLOADS;

    fn runs(loop_seconds: &[f64], rss: u64) -> Vec<Measurement> {
        loop_seconds
            .iter()
            .map(|&loop_seconds| Measurement {
                loop_seconds,
                command_seconds: loop_seconds + 0.5,
                peak_rss_bytes: rss,
                growth: None,
                ebpf_seconds: Some(loop_seconds / 100.0),
            })
            .collect()
    }

    /// One workload; the baseline, growth (1.1× time, 1× RSS) and a failed
    /// precise mode.
    pub fn sample_matrix() -> Matrix {
        let modes = vec![MODES[0], MODES[1], MODES[3]];
        let mut matrix = Matrix::new(vec![WORKLOADS[0]], modes, 3);
        matrix.cell_mut(0, 0).runs = runs(&[1.0, 2.0, 1.0], 10 << 20);
        matrix.cell_mut(0, 1).runs = runs(&[1.1, 1.1, 5.0], 10 << 20);
        matrix.cell_mut(0, 2).problem = Some(Problem::Failed {
            run: 1,
            reason: "exit status: 2: boom".into(),
        });
        matrix
    }

    #[test]
    fn ratios_are_of_medians() {
        let matrix = sample_matrix();
        let ratio = cell_ratio(&matrix, 0, 1, Metric::LoopTime).unwrap();
        assert!((ratio - 1.1).abs() < 1e-9);
        assert_eq!(cell_ratio(&matrix, 0, 1, Metric::PeakRss), Some(1.0));
        assert_eq!(cell_ratio(&matrix, 0, 2, Metric::LoopTime), None);
    }

    #[test]
    fn the_ratio_table_names_failed_cells() {
        let table = ratio_table(&sample_matrix(), Metric::LoopTime);
        assert_eq!(table.header, ["tool and mode", "churn_slow_leak"]);
        assert_eq!(table.rows[0], ["uninstrumented", "1.00×"]);
        assert_eq!(table.rows[1], ["leakspy growth", "1.10×"]);
        assert_eq!(table.rows[2], ["leakspy precise", "FAILED"]);
    }

    #[test]
    fn the_growth_table_has_the_medians_of_leakspys_own_figures() {
        let mut matrix = sample_matrix();
        assert!(growth_table(&matrix).rows.is_empty());
        for (run, bursts) in matrix.cell_mut(0, 1).runs.iter_mut().zip([1, 5, 3]) {
            run.growth = Some(GrowthFacts {
                bursts,
                duty_cycle: 0.25,
                estimated_overhead: 0.031,
                faulted_bytes: 3 << 20,
            });
        }
        assert_eq!(
            growth_table(&matrix).rows,
            [[
                "churn_slow_leak",
                "leakspy growth",
                "3",
                "25% of the time",
                "3.1%",
                "1.000% of the loop",
                "3.0 MiB"
            ]]
        );
    }

    #[test]
    fn the_detail_table_has_every_figure() {
        let table = detail_table(&sample_matrix());
        assert_eq!(
            table.rows[1],
            [
                "churn_slow_leak",
                "leakspy growth",
                "3",
                "1.100 s",
                "1.10×",
                "355%",
                "1.600 s",
                "1.07×",
                "10.0 MiB",
                "1.00×"
            ]
        );
        assert_eq!(table.rows[2][3], "FAILED");
        assert_eq!(
            problem_lines(&sample_matrix()),
            ["churn_slow_leak, leakspy precise: FAILED in run 1: exit status: 2: boom"]
        );
    }
}
