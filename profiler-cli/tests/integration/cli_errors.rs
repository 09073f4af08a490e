//! Bad input gets a clear message and exit code 2, and loses nothing.

use std::process::Output;

use crate::support::{leakspy, privileged};

fn assert_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
}

#[test]
fn a_corrupt_report_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\"schema\": \"leakspy.report/v1\", \"mode\": ").unwrap();
    let output = leakspy().arg("report").arg(&path).output().unwrap();
    assert_error(&output, "is not a leakspy report");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"schema\": \"leakspy.report/v1\", \"mode\": ",
        "the file is left as it was"
    );
}

#[test]
fn a_missing_report_is_named() {
    let output = leakspy()
        .args(["report", "/nonexistent/leak.json"])
        .output()
        .unwrap();
    assert_error(&output, "/nonexistent/leak.json");
}

#[test]
fn a_budget_out_of_range_is_explained() {
    let output = leakspy()
        .args(["record", "--pid", "1", "--overhead-budget", "120%"])
        .output()
        .unwrap();
    assert_error(&output, "must be from 0 to 100%");
}

#[test]
fn bad_durations_and_sizes_are_explained() {
    let output = leakspy()
        .args(["record", "--pid", "1", "--duration", "ten"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ten"));
}

#[test]
fn a_pid_that_does_not_exist_is_named() {
    let Some(_guard) = privileged("a_pid_that_does_not_exist_is_named") else {
        return;
    };
    let output = leakspy()
        .args(["record", "--pid", "4000000", "--duration", "1"])
        .output()
        .unwrap();
    assert_error(&output, "no process with PID 4000000");
}

#[test]
fn a_command_that_cannot_start_is_named() {
    let Some(_guard) = privileged("a_command_that_cannot_start_is_named") else {
        return;
    };
    let output = leakspy()
        .args(["run", "--", "/nonexistent/program"])
        .output()
        .unwrap();
    assert_error(&output, "cannot start \"/nonexistent/program\"");
}

#[test]
fn without_privileges_it_says_what_it_needs() {
    let Some(_guard) = privileged("without_privileges_it_says_what_it_needs") else {
        return;
    };
    // setpriv drops to nobody with no capabilities.
    let output = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_leakspy"))
        .args(["record", "--pid", "1", "--duration", "1"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert_error(&output, "needs root");
    assert!(String::from_utf8_lossy(&output.stderr).contains("hint: run it with sudo"));
}
