//! Growth mode, the default, on pyenv's 3.11 and 3.13 and Debian's host
//! 3.11: for each fixture the first stack judged a leak is at the line
//! marked `# LEAK`, including the two patterns where the first touch of a
//! page names the wrong line (growth_json_cache, growth_scratch); a bounded
//! cache is never called a leak; memory mapped, touched and unmapped
//! leaves nothing live, and the kernel counts a run of leakspy's programs
//! for each page faulted in; and `record --pid` finds the leak of a running
//! interpreter.

use std::path::Path;

use leakspy::frame::FrameKind;
use leakspy::report::{self, Report, Verdict};

use crate::interpreters::{Interpreter, available};
use crate::python_stacks::{ASYNCIO, CTYPES, Fixture, MAIN_THREAD, WORKER_THREAD, check};
use crate::support::{fixtures_dir, leakspy, marker_line, privileged, record_waiting_target};

/// Long enough for several bursts: about 13 s per run.
const ROUNDS: &str = "50";
const INTERVAL: &str = "0.25";
/// Short fixtures need bursts more often than the default budget allows.
const BUDGET: &str = "10%";

const JSON_CACHE: Fixture = Fixture {
    file: "growth_json_cache.py",
    churn: "serialize",
};
const SCRATCH: Fixture = Fixture {
    file: "growth_scratch.py",
    churn: "scratch",
};

/// The interpreters growth mode is tested on.
fn interpreters() -> Vec<Interpreter> {
    let wanted = ["pyenv 3.11", "pyenv 3.13", "Debian bookworm 3.11"];
    available()
        .into_iter()
        .filter(|interpreter| wanted.iter().any(|name| interpreter.name.contains(name)))
        .collect()
}

/// The options of every growth-mode trace here (the mode is the default).
const GROWTH_OPTIONS: [&str; 4] = ["--window", "1", "--overhead-budget", BUDGET];

fn run_growth(interpreter: &Interpreter, file: &str, report_path: &Path) -> Result<Report, String> {
    let script = interpreter.fixtures().join(file);
    let output = leakspy()
        .arg("run")
        .args(GROWTH_OPTIONS)
        .arg("-o")
        .arg(report_path)
        .arg("--")
        .args(interpreter.argv(&script))
        .args([ROUNDS, INTERVAL])
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "leakspy run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let report = report::read(report_path).map_err(|error| error.to_string())?;
    with_bursts(report)
}

/// `report`, when growth mode took at least two bursts in it.
fn with_bursts(report: Report) -> Result<Report, String> {
    if report
        .growth
        .as_ref()
        .is_none_or(|growth| growth.bursts < 2)
    {
        return Err(format!("fewer than two bursts: {:?}", report.growth));
    }
    Ok(report)
}

/// Runs `attempt` on each growth interpreter, all at once: the fixtures
/// mostly sleep between rounds, and each run is its own traced process
/// with its own probes, so they only share the CPU.
fn on_growth_interpreters(
    test: &str,
    attempt: impl Fn(&Interpreter, &Path) -> Result<(), String> + Sync,
) {
    let Some(_guard) = privileged(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let interpreters = interpreters();
    let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = interpreters
            .iter()
            .map(|interpreter| {
                let path = dir
                    .path()
                    .join(format!("{}.json", interpreter.name.replace(' ', "_")));
                let attempt = &attempt;
                scope.spawn(move || attempt(interpreter, &path))
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap_or_else(|_| Err("panicked".into())))
            .collect()
    });
    let mut failures = Vec::new();
    for (interpreter, outcome) in interpreters.iter().zip(outcomes) {
        match outcome {
            Ok(()) => eprintln!("{test}: {} ok", interpreter.name),
            Err(failure) => failures.push(format!("{}: {failure}", interpreter.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn leak_found(test: &str, fixture: &Fixture) {
    on_growth_interpreters(test, |interpreter, path| {
        let report = run_growth(interpreter, fixture.file, path)?;
        check(&report, fixture)
    });
}

#[test]
fn growth_finds_the_cached_string_where_first_touch_blames_the_encoder() {
    leak_found(
        "growth_finds_the_cached_string_where_first_touch_blames_the_encoder",
        &JSON_CACHE,
    );
}

#[test]
fn growth_finds_the_kept_bytes_where_first_touch_blames_the_scratch_buffer() {
    leak_found(
        "growth_finds_the_kept_bytes_where_first_touch_blames_the_scratch_buffer",
        &SCRATCH,
    );
}

#[test]
fn growth_finds_a_closure_kept_buffer_in_the_main_thread() {
    leak_found(
        "growth_finds_a_closure_kept_buffer_in_the_main_thread",
        &MAIN_THREAD,
    );
}

#[test]
fn growth_finds_a_worker_thread_leak() {
    leak_found("growth_finds_a_worker_thread_leak", &WORKER_THREAD);
}

#[test]
fn growth_finds_an_asyncio_callback_leak() {
    leak_found("growth_finds_an_asyncio_callback_leak", &ASYNCIO);
}

#[test]
fn growth_finds_a_leak_made_with_the_gil_released() {
    leak_found("growth_finds_a_leak_made_with_the_gil_released", &CTYPES);
}

/// `record --pid` in growth mode: attached to an interpreter that already
/// runs, whose exit leakspy learns only by polling, the kept bytes are
/// still named when the target is gone.
#[test]
fn growth_record_attaches_to_a_running_interpreter() {
    on_growth_interpreters(
        "growth_record_attaches_to_a_running_interpreter",
        |interpreter, path| {
            let mut argv = interpreter.argv(&interpreter.fixtures().join(SCRATCH.file));
            argv.extend([ROUNDS.into(), INTERVAL.into(), "--wait-stdin".into()]);
            record_waiting_target(&argv, &GROWTH_OPTIONS, path)
                .and_then(with_bursts)
                .and_then(|report| check(&report, &SCRATCH))
        },
    );
}

#[test]
fn growth_calls_a_bounded_cache_no_leak() {
    on_growth_interpreters(
        "growth_calls_a_bounded_cache_no_leak",
        |interpreter, path| {
            let report = run_growth(interpreter, "bounded_cache.py", path)?;
            let leaks: Vec<_> = report
                .stacks
                .iter()
                .filter(|stack| stack.verdict == Verdict::Leak)
                .collect();
            if leaks.is_empty() {
                Ok(())
            } else {
                Err(format!("the bounded cache was judged a leak: {leaks:#?}"))
            }
        },
    );
}

#[test]
fn growth_counts_nothing_live_after_memory_is_unmapped() {
    // The kernel counts program run time while this is open (it needs
    // root, as the test does: without root it is skipped below).
    let _counting = aya::sys::enable_stats(aya::sys::Stats::RunTime).ok();
    on_growth_interpreters(
        "growth_counts_nothing_live_after_memory_is_unmapped",
        |interpreter, path| {
            let report = run_growth(interpreter, "growth_release.py", path)?;
            let source = fixtures_dir().join("python").join("growth_release.py");
            let touch = marker_line(&source, "# TOUCH");
            let growth = report.growth.as_ref().expect("checked by run_growth");
            // 50 rounds of 32 MiB each, nearly all touched while traced.
            let touched = 40 * (32 << 20);
            if growth.faulted_bytes < touched || growth.released_bytes < touched {
                return Err(format!(
                    "expected at least {touched} bytes faulted and released: {growth:?}"
                ));
            }
            // The fault tracepoint's program runs on every fault.
            let faults = touched / 4096;
            match report.ebpf_run_time {
                Some(run_time) if run_time.runs >= faults && run_time.seconds > 0.0 => {}
                other => {
                    return Err(format!(
                        "expected at least {faults} program runs, with their time: {other:?}"
                    ));
                }
            }
            let still_live: Vec<_> = report
                .stacks
                .iter()
                .filter(|stack| {
                    stack
                        .frames
                        .iter()
                        .any(|frame| frame.kind == FrameKind::Python && frame.line == Some(touch))
                })
                .filter(|stack| stack.evidence.as_ref().is_some_and(|e| e.fault_bytes > 0))
                .collect();
            if still_live.is_empty() {
                Ok(())
            } else {
                Err(format!("unmapped pages still count: {still_live:#?}"))
            }
        },
    );
}
