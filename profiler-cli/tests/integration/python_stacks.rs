//! Python stacks on every interpreter at hand: for each fixture, the first
//! stack judged a leak has, as its innermost frame in the fixture file, the
//! line marked `# LEAK`, and the churning code is never called a leak.

use std::path::Path;

use leakspy::frame::FrameKind;
use leakspy::report::{self, Report, Verdict};

use crate::interpreters::{Interpreter, available};
use crate::support::{
    PRECISE_RECORD, fixtures_dir, leakspy, marker_line, privileged_sharing, record_waiting_target,
};

const ROUNDS: &str = "20";
const INTERVAL: &str = "0.25";

/// A fixture and the function whose stacks must not be called leaks.
pub struct Fixture {
    pub file: &'static str,
    pub churn: &'static str,
}

pub const MAIN_THREAD: Fixture = Fixture {
    file: "leak_main.py",
    churn: "encode_payload",
};
pub const WORKER_THREAD: Fixture = Fixture {
    file: "leak_thread.py",
    churn: "churn",
};
pub const ASYNCIO: Fixture = Fixture {
    file: "leak_asyncio.py",
    churn: "job",
};
pub const CTYPES: Fixture = Fixture {
    file: "leak_ctypes.py",
    churn: "scratch_buffers",
};

/// What a failure message needs besides the stacks: notes and losses.
fn context(report: &Report) -> String {
    format!("notes {:?}, lost {:?}", report.notes, report.lost_events)
}

/// Checks one report against its fixture; returns a description of the
/// failure instead of panicking, so every interpreter is tried.
pub fn check(report: &Report, fixture: &Fixture) -> Result<(), String> {
    let source = fixtures_dir().join("python").join(fixture.file);
    let marked = marker_line(&source, "# LEAK");
    if report.target.python_version.is_none() {
        return Err("the report names no Python version".into());
    }
    let in_fixture = |file: &Option<String>| {
        file.as_deref()
            .is_some_and(|file| Path::new(file).file_name() == Some(fixture.file.as_ref()))
    };
    let leak = report
        .stacks
        .iter()
        .find(|stack| stack.verdict == Verdict::Leak)
        .ok_or_else(|| format!("no stack judged a leak; {}", context(report)))?;
    let frame = leak
        .frames
        .iter()
        .find(|frame| frame.kind == FrameKind::Python && in_fixture(&frame.file))
        .ok_or_else(|| {
            format!(
                "the first leak has no frame in {}: {:#?}",
                fixture.file, leak.frames
            )
        })?;
    if frame.line != Some(marked) {
        return Err(format!(
            "the first leak is at line {:?}, not {marked}: {:#?}",
            frame.line, leak.frames
        ));
    }
    let churn_leaks: Vec<_> = report
        .stacks
        .iter()
        .filter(|stack| stack.verdict == Verdict::Leak)
        .filter(|stack| {
            stack
                .frames
                .iter()
                .any(|frame| frame.function.ends_with(fixture.churn))
        })
        .collect();
    if !churn_leaks.is_empty() {
        return Err(format!("churn judged a leak: {churn_leaks:#?}"));
    }
    Ok(())
}

fn run_fixture(
    interpreter: &Interpreter,
    fixture: &Fixture,
    report_path: &Path,
) -> Result<Report, String> {
    run_fixture_with(interpreter, fixture, report_path, &[], &[])
}

/// Runs `fixture` under `leakspy run` with extra interpreter options and
/// environment variables.
fn run_fixture_with(
    interpreter: &Interpreter,
    fixture: &Fixture,
    report_path: &Path,
    options: &[&str],
    environment: &[(&str, &str)],
) -> Result<Report, String> {
    let script = interpreter.fixtures().join(fixture.file);
    let mut argv = interpreter.argv(&script);
    let script_index = argv.len() - 1;
    for option in options.iter().rev() {
        argv.insert(script_index, option.to_string());
    }
    let output = leakspy()
        .envs(environment.iter().copied())
        .args(["run", "--mode", "precise", "--window", "0.5", "-o"])
        .arg(report_path)
        .arg("--")
        .args(&argv)
        .args([ROUNDS, INTERVAL])
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "leakspy run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    report::read(report_path).map_err(|error| error.to_string())
}

/// Runs `attempt` on every available interpreter, and fails with every
/// interpreter's problem at once.
fn on_interpreters(test: &str, attempt: impl Fn(&Interpreter, &Path) -> Result<(), String>) {
    let Some(_guard) = privileged_sharing(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for interpreter in available() {
        let path = dir
            .path()
            .join(format!("{}.json", interpreter.name.replace(' ', "_")));
        match attempt(&interpreter, &path) {
            Ok(()) => eprintln!("{test}: {} ok", interpreter.name),
            Err(failure) => failures.push(format!("{}: {failure}", interpreter.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs `fixture` under `leakspy run` on every interpreter.
fn run_everywhere(test: &str, fixture: &Fixture) {
    on_interpreters(test, |interpreter, path| {
        run_fixture(interpreter, fixture, path).and_then(|report| check(&report, fixture))
    });
}

#[test]
fn main_thread_leak_is_found_on_every_interpreter() {
    run_everywhere(
        "main_thread_leak_is_found_on_every_interpreter",
        &MAIN_THREAD,
    );
}

#[test]
fn worker_thread_leak_is_found_on_every_interpreter() {
    run_everywhere(
        "worker_thread_leak_is_found_on_every_interpreter",
        &WORKER_THREAD,
    );
}

#[test]
fn asyncio_callback_leak_is_found_on_every_interpreter() {
    run_everywhere(
        "asyncio_callback_leak_is_found_on_every_interpreter",
        &ASYNCIO,
    );
}

#[test]
fn ctypes_malloc_is_attributed_to_the_calling_line_on_every_interpreter() {
    run_everywhere(
        "ctypes_malloc_is_attributed_to_the_calling_line_on_every_interpreter",
        &CTYPES,
    );
}

/// `record --pid` attaches to an interpreter that already runs (`chroot`
/// execs the interpreter, so its pid is the interpreter's).
#[test]
fn record_attaches_to_running_interpreters() {
    on_interpreters(
        "record_attaches_to_running_interpreters",
        |interpreter, path| {
            let mut argv = interpreter.argv(&interpreter.fixtures().join(MAIN_THREAD.file));
            argv.extend([ROUNDS.into(), INTERVAL.into(), "--wait-stdin".into()]);
            record_waiting_target(&argv, PRECISE_RECORD, path)
                .and_then(|report| check(&report, &MAIN_THREAD))
        },
    );
}

/// An interpreter (by name), its options and environment, and the
/// allocator the report must name.
type AllocatorCase = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The report names the allocator CPython runs with, read from its table,
/// and the leak is found whichever it is.
#[test]
fn the_allocator_in_use_is_named() {
    let Some(_guard) = privileged_sharing("the_allocator_in_use_is_named") else {
        return;
    };
    let interpreters = available();
    let by_name = |name: &str| {
        interpreters
            .iter()
            .find(|interpreter| interpreter.name.contains(name))
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases: [AllocatorCase; 5] = [
        ("pyenv 3.11", &[], &[], "pymalloc"),
        (
            "pyenv 3.11",
            &[],
            &[("PYTHONMALLOC", "malloc")],
            "malloc (PYTHONMALLOC=malloc)",
        ),
        (
            "pyenv 3.11",
            &[],
            &[("PYTHONMALLOC", "pymalloc_debug")],
            "debug hooks",
        ),
        (
            "pyenv 3.11",
            &["-X", "tracemalloc"],
            &[],
            "tracemalloc hooks",
        ),
        // Stripped and LTO: the kind comes from the tables alone.
        ("Debian bookworm 3.11", &[], &[], "pymalloc"),
    ];
    for (index, (name, options, environment, expected)) in cases.into_iter().enumerate() {
        let Some(interpreter) = by_name(name) else {
            continue;
        };
        let path = dir.path().join(format!("{index}.json"));
        let outcome = run_fixture_with(interpreter, &MAIN_THREAD, &path, options, environment)
            .and_then(|report| {
                let named = report.target.python_allocator.as_deref();
                if named != Some(expected) {
                    return Err(format!("allocator {named:?}, expected {expected:?}"));
                }
                check(&report, &MAIN_THREAD)
            });
        if let Err(failure) = outcome {
            failures.push(format!("{name} {options:?} {environment:?}: {failure}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
