//! Python stacks on every interpreter at hand: for each fixture, the first
//! stack judged a leak has, as its innermost frame in the fixture file, the
//! line marked `# LEAK`, and the churning code is never called a leak.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use leakspy::frame::FrameKind;
use leakspy::report::{self, Report, Verdict};

use crate::interpreters::{Interpreter, available};
use crate::support::{fixtures_dir, leakspy, marker_line, privileged, rest_of, start_tracing};

const ROUNDS: &str = "12";
const INTERVAL: &str = "0.25";

/// A fixture and the function whose stacks must not be called leaks.
struct Fixture {
    file: &'static str,
    churn: &'static str,
}

const MAIN_THREAD: Fixture = Fixture {
    file: "leak_main.py",
    churn: "encode_payload",
};
const WORKER_THREAD: Fixture = Fixture {
    file: "leak_thread.py",
    churn: "churn",
};
const ASYNCIO: Fixture = Fixture {
    file: "leak_asyncio.py",
    churn: "job",
};
const CTYPES: Fixture = Fixture {
    file: "leak_ctypes.py",
    churn: "scratch_buffers",
};

/// Checks one report against its fixture; returns a description of the
/// failure instead of panicking, so every interpreter is tried.
fn check(report: &Report, fixture: &Fixture) -> Result<(), String> {
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
        .ok_or("no stack judged a leak")?;
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
    let script = interpreter.fixtures().join(fixture.file);
    let output = leakspy()
        .args(["run", "--window", "0.5", "-o"])
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
    report::read(report_path).map_err(|error| error.to_string())
}

/// Runs `fixture` under `leakspy run` on every interpreter and fails with
/// every interpreter's problem at once.
fn run_everywhere(test: &str, fixture: &Fixture) {
    let Some(_guard) = privileged(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for interpreter in available() {
        let path = dir
            .path()
            .join(format!("{}.json", interpreter.name.replace(' ', "_")));
        let outcome =
            run_fixture(&interpreter, fixture, &path).and_then(|report| check(&report, fixture));
        match outcome {
            Ok(()) => eprintln!("{test}: {} ok", interpreter.name),
            Err(failure) => failures.push(format!("{}: {failure}", interpreter.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
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

/// `record --pid` attaches to an interpreter that already runs.
#[test]
fn record_attaches_to_running_interpreters() {
    let Some(_guard) = privileged("record_attaches_to_running_interpreters") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for interpreter in available() {
        let path = dir
            .path()
            .join(format!("{}.json", interpreter.name.replace(' ', "_")));
        match record_fixture(&interpreter, &MAIN_THREAD, &path)
            .and_then(|report| check(&report, &MAIN_THREAD))
        {
            Ok(()) => eprintln!("record: {} ok", interpreter.name),
            Err(failure) => failures.push(format!("{}: {failure}", interpreter.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn record_fixture(
    interpreter: &Interpreter,
    fixture: &Fixture,
    report_path: &PathBuf,
) -> Result<Report, String> {
    let script = interpreter.fixtures().join(fixture.file);
    let argv = interpreter.argv(&script);
    let mut target = Command::new(&argv[0])
        .args(&argv[1..])
        .args([ROUNDS, INTERVAL, "--wait-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| error.to_string())?;
    let mut stdout = BufReader::new(target.stdout.take().unwrap());
    let mut ready = String::new();
    stdout
        .read_line(&mut ready)
        .map_err(|error| error.to_string())?;
    // `chroot` execs the interpreter, so the pid is the interpreter's.
    let mut command = leakspy();
    command
        .args([
            "record",
            "--window",
            "0.5",
            "--pid",
            &target.id().to_string(),
            "-o",
        ])
        .arg(report_path);
    let (tracer, stderr) = start_tracing(command);
    target
        .stdin
        .take()
        .unwrap()
        .write_all(b"go\n")
        .map_err(|error| error.to_string())?;
    let status = target.wait().map_err(|error| error.to_string())?;
    let output = tracer
        .wait_with_output()
        .map_err(|error| error.to_string())?;
    if !status.success() || !output.status.success() {
        return Err(format!(
            "fixture {status}, leakspy {}: {}",
            output.status,
            rest_of(stderr)
        ));
    }
    report::read(report_path).map_err(|error| error.to_string())
}
