//! `cargo xtask bench`: runs the Python workloads uninstrumented, under
//! leakspy's modes, under tracemalloc and under memray, and prints the
//! median slowdown and peak RSS of each as ratios to the uninstrumented
//! run; then measures leakspy's attach time, its own cost at a million
//! live allocations, and how long its report takes to write and render.
//! `--write BENCHMARKS.md` writes the results as Markdown; `--quick` is
//! the reduced run inside `cargo xtask test`.

mod document;
mod ebpf_stats;
mod goals;
mod interpreter;
mod line_watch;
mod machine;
mod matrix;
mod measure;
mod memray_venv;
mod modes;
mod process;
mod scale;
mod statistics;
mod summary;
mod table;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;

use self::document::Results;
use self::matrix::{Plan, Problem};
use self::modes::{MODES, Mode, STEADY_STATE_MODES, Tools};
use self::workloads::{STEADY_STATE_FACTOR, STEADY_STATE_WORKLOADS, WORKLOADS};
use crate::{build, workspace};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The reduced run inside `cargo xtask test`: one run each at small
    /// sizes, a small scale target; a mode that fails fails the command.
    #[arg(long)]
    quick: bool,
    /// Runs of every workload in every mode [default: 5, or 1 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    runs: Option<u16>,
    /// Run only this workload (repeat the flag for more).
    #[arg(long = "workload", value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(WORKLOADS.iter().map(|w| w.name)))]
    workloads: Vec<String>,
    /// Run only this mode (repeat the flag for more); the uninstrumented
    /// baseline always runs.
    #[arg(long = "mode", value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(MODES.iter().map(|m| m.name)))]
    modes: Vec<String>,
    /// Skip the attach-time, scale and rendering measurements.
    #[arg(long)]
    no_scale: bool,
    /// Also write the results as Markdown to this file (BENCHMARKS.md).
    #[arg(long, value_name = "PATH")]
    write: Option<PathBuf>,
    /// Kill and fail a run that takes longer than this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    run_timeout: u64,
}

/// Runs the benchmark; fails when a mode or measurement failed (a mode
/// this leakspy does not support yet is reported, not failed).
pub fn run(args: &BenchArgs) -> Result<()> {
    let began = Instant::now();
    let load_at_start = machine::load_average();
    if !workspace::is_root() {
        bail!("cargo xtask bench needs root: leakspy loads eBPF programs");
    }
    let _run_time_count = ebpf_stats::count_run_time()
        .inspect_err(|error| eprintln!("bench: eBPF program run time is not counted: {error:#}"))
        .ok();
    // The quick run's timings are not read: the debug build the tests
    // made saves a release build.
    let leakspy = if args.quick {
        build::debug_leakspy()?
    } else {
        build::run()?
    };
    let python = interpreter::find()?;
    let bench_dir = workspace::target_dir().join("bench");
    let (plan, steady_plan) = plans(args, &bench_dir.join("scratch"));
    let memray = if plan.modes.iter().any(Mode::uses_memray) {
        memray_venv::ensure(&python, &bench_dir.join("memray-venv"))
            .inspect_err(|error| eprintln!("bench: memray is not available: {error:#}"))
            .ok()
    } else {
        None
    };
    let tools = Tools {
        python: python.clone(),
        leakspy,
        memray,
    };
    eprintln!(
        "bench: {} workloads x {} modes x {} runs with {}",
        plan.workloads.len(),
        plan.modes.len(),
        plan.runs,
        python.display()
    );
    let matrix = matrix::run(&plan, &tools);
    let steady = steady_plan.map(|steady_plan| {
        eprintln!(
            "bench: steady state: growth mode at {STEADY_STATE_FACTOR}x the sizes, {} runs",
            steady_plan.runs
        );
        matrix::run(&steady_plan, &tools)
    });
    let scale = if args.no_scale {
        None
    } else {
        let (shape, repeats) = if args.quick {
            (scale::QUICK_SHAPE, 1)
        } else {
            (scale::FULL_SHAPE, 3)
        };
        Some(scale::run(
            &tools,
            shape,
            repeats,
            &bench_dir.join("scale"),
        )?)
    };
    let results = Results {
        machine: machine::Machine::describe(&python, &load_at_start),
        quick: args.quick,
        matrix,
        steady,
        scale,
        duration: began.elapsed(),
    };
    print!("{}", document::to_text(&results));
    if let Some(path) = &args.write {
        std::fs::write(path, document::to_markdown(&results))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    fail_on_problems(&results)
}

/// The main plan, and the steady-state plan of growth mode over seconds
/// (none in the quick run, or when the choices leave nothing of it).
fn plans(args: &BenchArgs, scratch: &Path) -> (Plan, Option<Plan>) {
    let plan = Plan {
        workloads: chosen(WORKLOADS, &args.workloads, |workload| workload.name),
        // In the table's order; the baseline always runs.
        modes: MODES
            .iter()
            .copied()
            .filter(|mode| {
                mode.is_baseline()
                    || args.modes.is_empty()
                    || args.modes.iter().any(|name| name == mode.name)
            })
            .collect(),
        runs: usize::from(args.runs.unwrap_or(if args.quick { 1 } else { 5 })),
        quick: args.quick,
        size_factor: 1,
        run_limit: Duration::from_secs(args.run_timeout),
        scratch: scratch.to_path_buf(),
    };
    let steady = Plan {
        workloads: plan
            .workloads
            .iter()
            .copied()
            .filter(|workload| STEADY_STATE_WORKLOADS.contains(&workload.name))
            .collect(),
        modes: plan
            .modes
            .iter()
            .copied()
            .filter(|mode| STEADY_STATE_MODES.contains(&mode.name))
            .collect(),
        size_factor: STEADY_STATE_FACTOR,
        ..plan.clone()
    };
    let run_steady = !args.quick
        && !steady.workloads.is_empty()
        && steady.modes.iter().any(|mode| !mode.is_baseline());
    (plan, run_steady.then_some(steady))
}

/// The items of `all` whose names are in `names`, or all when none are.
fn chosen<T: Copy>(all: &[T], names: &[String], name: impl Fn(&T) -> &str) -> Vec<T> {
    all.iter()
        .copied()
        .filter(|item| names.is_empty() || names.iter().any(|wanted| wanted == name(item)))
        .collect()
}

/// Fails when a mode failed or a scale measurement did; modes this leakspy
/// does not support yet are only counted.
fn fail_on_problems(results: &Results) -> Result<()> {
    let problems: Vec<_> = results
        .matrix
        .problems()
        .into_iter()
        .chain(results.steady.iter().flat_map(|steady| steady.problems()))
        .collect();
    let unsupported = problems
        .iter()
        .filter(|(_, _, problem)| matches!(problem, Problem::Unsupported(_)))
        .count();
    let mut failed: Vec<String> = problems
        .iter()
        .filter_map(|(workload, mode, problem)| match problem {
            Problem::Failed { .. } => Some(format!("{} in {}", workload.name, mode.label)),
            Problem::Unsupported(_) => None,
        })
        .collect();
    if let Some(scale) = &results.scale {
        failed.extend(scale.problems());
    }
    eprintln!(
        "bench: done in {:.1} min; {} failed, {unsupported} not supported by this leakspy",
        results.duration.as_secs_f64() / 60.0,
        failed.len()
    );
    if !failed.is_empty() {
        bail!("failed: {}", failed.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::workloads::Workload;

    #[test]
    fn chooses_by_name_or_takes_all() {
        let names = |workloads: Vec<Workload>| workloads.iter().map(|w| w.name).collect::<Vec<_>>();
        assert_eq!(chosen(WORKLOADS, &[], |w| w.name).len(), WORKLOADS.len());
        assert_eq!(
            names(chosen(WORKLOADS, &["asyncio_tasks".to_string()], |w| w.name)),
            ["asyncio_tasks"]
        );
    }
}
