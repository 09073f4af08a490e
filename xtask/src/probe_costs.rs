//! `cargo xtask probe-costs`: what one uprobe hit costs on each function
//! precise mode probes, at the function's entry and where placement puts
//! it (docs/probe-placement.md).
//!
//! Each case runs a driver from bench/probe_drivers/ that calls one
//! function N times: unprobed, then under `leakspy record --mode precise`
//! with `--count-only` (the probes only count) and without (precise mode
//! itself), each with `--probe-placement entry` and `emulated`. The cost of
//! a hit is the loop's extra time over the unprobed run divided by the
//! hits counted; each figure is the median of `--reps` runs.

mod runs;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;

use crate::{build, command, workspace};
use runs::Run;

#[derive(Debug, Args)]
pub struct ProbeCostsArgs {
    /// Calls per run of each C driver (valloc and the Python loop do a tenth).
    #[arg(long, default_value_t = 200_000)]
    calls: u64,
    /// Runs per figure; the median is kept.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Only the cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
}

/// One function driven by one driver.
struct Case {
    name: String,
    argv: Vec<String>,
}

/// The probed configurations, as leakspy flags.
const CONFIGS: [(&str, &[&str]); 4] = [
    (
        "count, entry",
        &["--count-only", "--probe-placement", "entry"],
    ),
    (
        "count, emulated",
        &["--count-only", "--probe-placement", "emulated"],
    ),
    ("precise, entry", &["--probe-placement", "entry"]),
    ("precise, emulated", &["--probe-placement", "emulated"]),
];

/// The libc functions precise mode probes.
const LIBC_FUNCTIONS: [&str; 9] = [
    "malloc",
    "free",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
];

/// The interpreter functions, called through their exported wrappers.
const PYTHON_FUNCTIONS: [&str; 4] = [
    "PyObject_Malloc",
    "PyObject_Calloc",
    "PyObject_Realloc",
    "PyObject_Free",
];

const PYENV_PYTHON: &str = "3.11.7";
const DEBIAN_PYTHON: &str = "/usr/bin/python3.11";

pub fn run(args: &ProbeCostsArgs) -> Result<()> {
    let leakspy = build::run()?;
    let out = workspace::target_dir().join("probe-costs");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let cases: Vec<Case> = cases(args, &out)?
        .into_iter()
        .filter(|case| {
            args.only
                .as_ref()
                .is_none_or(|only| case.name.contains(only))
        })
        .collect();
    let mut table = vec![header()];
    for case in &cases {
        eprintln!("probe-costs: {}", case.name);
        table.push(measure(
            &leakspy,
            case,
            args.reps,
            &out.join("report.json"),
        )?);
        println!("{}", table.last().expect("just pushed"));
    }
    let results = out.join("results.md");
    std::fs::write(&results, table.join("\n") + "\n")
        .with_context(|| format!("cannot write {}", results.display()))?;
    eprintln!("probe-costs: the table is in {}", results.display());
    Ok(())
}

/// Compiles the drivers and lists the cases.
fn cases(args: &ProbeCostsArgs, out: &Path) -> Result<Vec<Case>> {
    let drivers = workspace::root().join("bench/probe_drivers");
    let libc_calls = runs::compile(&drivers.join("libc_calls.c"), &out.join("libc_calls"), &[])?;
    let mut cases: Vec<Case> = LIBC_FUNCTIONS
        .iter()
        .map(|function| {
            let calls = if *function == "valloc" {
                args.calls / 10
            } else {
                args.calls
            };
            Case {
                name: format!("libc {function}"),
                argv: argv(&libc_calls, &[function, &calls.to_string()]),
            }
        })
        .collect();
    let pyenv = workspace::home_dir()
        .join(".pyenv/versions")
        .join(PYENV_PYTHON);
    let python_calls = compile_embedding(&drivers.join("python_calls.c"), &pyenv, out)?;
    cases.extend(PYTHON_FUNCTIONS.iter().map(|function| Case {
        name: format!("pyenv {PYENV_PYTHON} {function}"),
        argv: argv(&python_calls, &[function, &args.calls.to_string()]),
    }));
    let script = drivers.join("alloc_loop.py").display().to_string();
    let iterations = (args.calls / 10).to_string();
    for (name, python) in [
        (format!("pyenv {PYENV_PYTHON}"), pyenv.join("bin/python3")),
        ("Debian 3.11".to_string(), PathBuf::from(DEBIAN_PYTHON)),
    ] {
        cases.push(Case {
            name: format!("{name} alloc_loop.py"),
            argv: argv(&python, &[&script, &iterations]),
        });
    }
    Ok(cases)
}

fn argv(program: &Path, args: &[&str]) -> Vec<String> {
    std::iter::once(program.display().to_string())
        .chain(args.iter().map(ToString::to_string))
        .collect()
}

/// Compiles the embedding driver against the interpreter at `prefix`.
fn compile_embedding(source: &Path, prefix: &Path, out: &Path) -> Result<PathBuf> {
    let config = prefix.join("bin/python3-config");
    let flags = command::stdout(std::process::Command::new(&config).args([
        "--cflags",
        "--ldflags",
        "--embed",
    ]))?;
    let mut extra: Vec<String> = flags.split_whitespace().map(String::from).collect();
    extra.push(format!("-Wl,-rpath,{}", prefix.join("lib").display()));
    runs::compile(source, &out.join("python_calls"), &extra)
}

fn header() -> String {
    let configs: Vec<String> = CONFIGS
        .iter()
        .map(|(config, _)| format!("{config}: µs/hit"))
        .collect();
    format!(
        "| case | calls | hits (entry / emulated) | unprobed ms | {} | placement |\n|{}",
        configs.join(" | "),
        "---|".repeat(CONFIGS.len() + 5)
    )
}

/// Measures one case in every configuration; returns its table row.
fn measure(leakspy: &Path, case: &Case, reps: usize, report: &Path) -> Result<String> {
    let unprobed = median(reps, || runs::unprobed(&case.argv))?;
    let mut probed = Vec::new();
    for (_, flags) in CONFIGS {
        probed.push(median(reps, || {
            runs::probed(leakspy, &case.argv, flags, report)
        })?);
    }
    // Precise runs hit the same places as the count-only runs with the
    // same placement: their hits are those.
    let hits = [0, 1, 0, 1].map(|index| probed[index].hits.unwrap_or(0));
    let costs: Vec<String> = probed
        .iter()
        .zip(hits)
        .map(|(run, hits)| {
            let extra = run.elapsed_ns.saturating_sub(unprobed.elapsed_ns) as f64;
            format!("{:.2}", extra / hits.max(1) as f64 / 1000.0)
        })
        .collect();
    let placement = probed[1]
        .placements
        .iter()
        .filter(|line| mentions(line, &case.name))
        .cloned()
        .collect::<Vec<_>>()
        .join("<br>");
    Ok(format!(
        "| {} | {} | {} / {} | {:.1} | {} | {} |",
        case.name,
        unprobed.calls,
        hits[0],
        hits[1],
        unprobed.elapsed_ns as f64 / 1e6,
        costs.join(" | "),
        placement
    ))
}

/// Whether a placement line is about the function a case drives.
fn mentions(line: &str, case: &str) -> bool {
    let function = case.rsplit(' ').next().unwrap_or(case);
    let table_function = function
        .strip_prefix("Py")
        .map(|rest| format!("_Py{rest} "));
    line.starts_with(&format!("{function} "))
        || table_function.is_some_and(|name| line.starts_with(&name))
        || case.ends_with(".py")
}

/// The run with the median loop time of `reps` runs.
fn median(reps: usize, mut run: impl FnMut() -> Result<Run>) -> Result<Run> {
    let mut runs = (0..reps.max(1))
        .map(|_| run())
        .collect::<Result<Vec<_>>>()?;
    runs.sort_by_key(|run| run.elapsed_ns);
    Ok(runs.swap_remove(runs.len() / 2))
}
