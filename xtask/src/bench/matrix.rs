//! The benchmark matrix: every workload in every mode, `runs` times,
//! interleaved (run 1 of every workload and mode, then run 2, ...) so that
//! a slow spell of the machine touches every mode alike. A mode whose
//! leakspy does not accept its flags is marked unsupported and not run; a
//! workload and mode that fails once is not run again.

use std::path::PathBuf;
use std::time::Duration;

use crate::bench::measure::{self, Measurement};
use crate::bench::modes::{Mode, Tools};
use crate::bench::statistics::{format_ratio, format_seconds};
use crate::bench::workloads::Workload;
use crate::command;

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub workloads: Vec<Workload>,
    pub modes: Vec<Mode>,
    pub runs: usize,
    pub quick: bool,
    /// Every workload runs at this multiple of its size.
    pub size_factor: u64,
    /// The longest one run may take before it is killed and failed.
    pub run_limit: Duration,
    /// Emptied and reused by every run.
    pub scratch: PathBuf,
}

/// Why a cell has no (or not all its) figures.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// This leakspy rejects the mode's flags (a feature not merged yet).
    Unsupported(String),
    /// A run failed: the reason, of the first failed run.
    Failed { run: usize, reason: String },
}

/// The runs of one workload in one mode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    pub runs: Vec<Measurement>,
    pub problem: Option<Problem>,
}

/// The results, one cell per workload and mode.
#[derive(Clone, Debug)]
pub struct Matrix {
    pub workloads: Vec<Workload>,
    pub modes: Vec<Mode>,
    pub runs: usize,
    /// The multiple of the workloads' sizes they ran at.
    pub size_factor: u64,
    /// Workload-major: cell (w, m) is at w * modes.len() + m.
    cells: Vec<Cell>,
}

impl Matrix {
    pub fn new(workloads: Vec<Workload>, modes: Vec<Mode>, runs: usize) -> Self {
        let cells = vec![Cell::default(); workloads.len() * modes.len()];
        Matrix {
            workloads,
            modes,
            runs,
            size_factor: 1,
            cells,
        }
    }

    pub fn cell(&self, workload: usize, mode: usize) -> &Cell {
        &self.cells[workload * self.modes.len() + mode]
    }

    pub fn cell_mut(&mut self, workload: usize, mode: usize) -> &mut Cell {
        let modes = self.modes.len();
        &mut self.cells[workload * modes + mode]
    }

    /// The baseline's cell for `workload`, when the baseline was run.
    pub fn baseline(&self, workload: usize) -> Option<&Cell> {
        let mode = self.modes.iter().position(Mode::is_baseline)?;
        Some(self.cell(workload, mode))
    }

    /// Every (workload, mode, problem), for the summary and the exit status.
    pub fn problems(&self) -> Vec<(&Workload, &Mode, &Problem)> {
        let mut problems = Vec::new();
        for (w, workload) in self.workloads.iter().enumerate() {
            for (m, mode) in self.modes.iter().enumerate() {
                if let Some(problem) = &self.cell(w, m).problem {
                    problems.push((workload, mode, problem));
                }
            }
        }
        problems
    }
}

/// Runs the plan and returns every figure and failure.
pub fn run(plan: &Plan, tools: &Tools) -> Matrix {
    let mut matrix = Matrix::new(plan.workloads.clone(), plan.modes.clone(), plan.runs);
    matrix.size_factor = plan.size_factor;
    for (m, mode) in plan.modes.iter().enumerate() {
        if let Some(reason) = unsupported(mode, tools) {
            eprintln!("bench: {}: not run, {reason}", mode.label);
            for w in 0..plan.workloads.len() {
                matrix.cell_mut(w, m).problem = Some(Problem::Unsupported(reason.clone()));
            }
        }
    }
    for run in 1..=plan.runs {
        for (w, workload) in plan.workloads.iter().enumerate() {
            let size = workload.size(plan.quick) * plan.size_factor;
            for (m, mode) in plan.modes.iter().enumerate() {
                if matrix.cell(w, m).problem.is_some() {
                    continue;
                }
                let outcome = measure::run_once(
                    mode,
                    tools,
                    &workload.script(),
                    size,
                    &plan.scratch,
                    plan.run_limit,
                );
                let baseline_loop = matrix
                    .baseline(w)
                    .and_then(|cell| cell.runs.last())
                    .map(|baseline| baseline.loop_seconds);
                let cell = matrix.cell_mut(w, m);
                match outcome {
                    Ok(measurement) => {
                        eprintln!(
                            "bench: run {run}/{}: {} size {size}, {}: loop {}{}, command {}",
                            plan.runs,
                            workload.name,
                            mode.label,
                            format_seconds(measurement.loop_seconds),
                            baseline_loop
                                .filter(|_| !mode.is_baseline())
                                .map(|baseline| format!(
                                    " ({})",
                                    format_ratio(measurement.loop_seconds / baseline)
                                ))
                                .unwrap_or_default(),
                            format_seconds(measurement.command_seconds),
                        );
                        cell.runs.push(measurement);
                    }
                    Err(reason) => {
                        eprintln!(
                            "bench: run {run}/{}: {} size {size}, {}: FAILED: {reason}",
                            plan.runs, workload.name, mode.label
                        );
                        cell.problem = Some(Problem::Failed { run, reason });
                    }
                }
            }
        }
    }
    matrix
}

/// Why leakspy cannot run `mode`, when it rejects the mode's flags.
fn unsupported(mode: &Mode, tools: &Tools) -> Option<String> {
    let mut check = mode.support_check(tools)?;
    match command::output(&mut check) {
        Ok(output) if output.status.success() => None,
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().find(|line| !line.trim().is_empty());
            Some(format!(
                "this leakspy does not accept its flags ({})",
                first.unwrap_or("no message").trim()
            ))
        }
        Err(error) => Some(format!("{error:#}")),
    }
}
