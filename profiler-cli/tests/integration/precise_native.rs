//! Precise mode on a native program: the leaking function is found with
//! its file and line, its live bytes are exact, and the churn is not
//! called a leak. Tested through both `run` and `record --pid`.

use std::path::Path;

use leakspy::frame::FrameKind;
use leakspy::report::{self, Report, Verdict};

use crate::support::{
    PRECISE_RECORD, c_fixture, fixtures_dir, leakspy, marker_line, privileged,
    record_waiting_target,
};

const ROUNDS: u64 = 12;
const INTERVAL_MS: &str = "250";
/// LEAK_BLOCKS × LEAK_SIZE in native_leak.c.
const LEAKED_PER_ROUND: u64 = 20 * 1000;

fn check_leak_report(report: &Report) {
    let source = fixtures_dir().join("native_leak.c");
    let leak_line = marker_line(&source, "/* LEAK */");
    assert_eq!(report.schema, report::SCHEMA);

    let leak = report
        .stacks
        .iter()
        .find(|stack| stack.verdict == Verdict::Leak)
        .unwrap_or_else(|| panic!("no stack judged a leak in {report:#?}"));
    let innermost = &leak.frames[0];
    assert_eq!(innermost.kind, FrameKind::Native);
    assert_eq!(
        innermost.function, "leak_round",
        "frames: {:#?}",
        leak.frames
    );
    let file = innermost.file.as_deref().expect("DWARF gives the file");
    assert_eq!(Path::new(file).file_name().unwrap(), "native_leak.c");
    assert_eq!(innermost.line, Some(leak_line));
    assert_eq!(
        leak.live_bytes,
        ROUNDS * LEAKED_PER_ROUND,
        "the leak's live bytes are exact"
    );
    assert_eq!(leak.live_count, ROUNDS * 20);
    assert!(leak.growth_bytes_per_min > 0.0);
    // Rounds 250 ms apart in windows of 0.5 s: every live byte is dated,
    // about two rounds to a window.
    let ages = &leak.age_profile;
    assert_eq!(ages.len(), report.windows.len());
    assert_eq!(ages.iter().sum::<u64>(), leak.live_bytes, "{ages:?}");
    let dated = ages.iter().filter(|&&bytes| bytes > 0).count() as u64;
    assert!(dated >= ROUNDS / 2 - 1, "{ages:?}");
    assert!(
        ages.iter().all(|&bytes| bytes <= 3 * LEAKED_PER_ROUND),
        "{ages:?}"
    );

    let churn: Vec<_> = report
        .stacks
        .iter()
        .filter(|stack| {
            stack
                .frames
                .iter()
                .any(|frame| frame.function == "churn_round")
        })
        .collect();
    assert!(
        churn.len() >= 8,
        "every churning allocator shows up: {churn:#?}"
    );
    for stack in churn {
        assert_ne!(
            stack.verdict,
            Verdict::Leak,
            "churn judged a leak: {stack:#?}"
        );
        assert_eq!(stack.live_bytes, 0, "churn left live bytes: {stack:#?}");
        assert!(stack.alloc_count > 0 && stack.alloc_count == stack.freed_count);
    }
    // The target is stopped or idle while the probes attach, so nothing
    // may be lost.
    assert!(
        report.lost_events.values().all(|&count| count == 0),
        "lost events: {:?}",
        report.lost_events
    );
}

#[test]
fn run_names_the_leaking_line_with_exact_live_bytes() {
    let Some(_guard) = privileged("run_names_the_leaking_line_with_exact_live_bytes") else {
        return;
    };
    let fixture = c_fixture("native_leak");
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("run.json");
    let output = leakspy()
        .args(["run", "--mode", "precise", "--window", "0.5", "-o"])
        .arg(&report_path)
        .arg("--")
        .arg(&fixture)
        .args([&ROUNDS.to_string(), INTERVAL_MS])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "leakspy run failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("leak_round"),
        "the summary names the leak: {stdout}"
    );
    let report = report::read(&report_path).unwrap();
    assert_eq!(
        report.target.command.split_whitespace().next(),
        fixture.to_str()
    );
    check_leak_report(&report);
}

#[test]
fn record_attaches_to_a_running_process() {
    let Some(_guard) = privileged("record_attaches_to_a_running_process") else {
        return;
    };
    let fixture = c_fixture("native_leak");
    let argv = [
        fixture.display().to_string(),
        ROUNDS.to_string(),
        INTERVAL_MS.into(),
        "--wait-stdin".into(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let report =
        record_waiting_target(&argv, PRECISE_RECORD, &dir.path().join("record.json")).unwrap();
    check_leak_report(&report);
}
