//! After leakspy exits, normally or on SIGINT, nothing of it stays in the
//! kernel or in the target: no BPF program of ours is loaded, and the
//! breakpoint a uprobe writes over malloc's first byte is gone. Both checks
//! are first seen to hold while leakspy runs, so they can fail.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _, Seek as _, SeekFrom};
use std::process::{Child, Command, Stdio};

use crate::support::{c_fixture, leakspy, privileged, rest_of, start_tracing};

/// x86's int3, which a uprobe writes at the probed instruction.
const BREAKPOINT: u8 = 0xcc;
/// Our program names, as the kernel keeps them (15 characters at most).
const OUR_PROGRAMS: [&str; 3] = ["malloc_enter", "free_enter", "allocator_retur"];

/// A fixture that runs for minutes, and the address of its malloc.
struct Target {
    child: Child,
    malloc: u64,
}

impl Target {
    fn start() -> Target {
        let mut child = Command::new(c_fixture("native_leak"))
            .args(["100000", "50"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let malloc = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("malloc=0x"))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .unwrap_or_else(|| panic!("no malloc address in {line:?}"));
        Target { child, malloc }
    }

    fn first_byte_of_malloc(&self) -> u8 {
        let mut memory = std::fs::File::open(format!("/proc/{}/mem", self.child.id())).unwrap();
        memory.seek(SeekFrom::Start(self.malloc)).unwrap();
        let mut byte = [0u8; 1];
        memory.read_exact(&mut byte).unwrap();
        byte[0]
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ids of loaded programs named like ours. Another leakspy running
/// on the machine has its own, so tests compare sets taken before, during
/// and after.
fn programs_named_like_ours() -> HashSet<u32> {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .filter(|program| {
            program
                .name_as_str()
                .is_some_and(|name| OUR_PROGRAMS.contains(&name))
        })
        .map(|program| program.id())
        .collect()
}

fn record(target: &Target, extra: &[&str], report: &std::path::Path) -> Command {
    let mut command = leakspy();
    command
        .args([
            "record",
            "--mode",
            "precise",
            "--window",
            "1",
            "--pid",
            &target.child.id().to_string(),
            "-o",
        ])
        .arg(report)
        .args(extra);
    command
}

/// Checks the probes are in place; returns the ids of the programs this
/// leakspy loaded.
fn assert_attached(target: &Target, before: &HashSet<u32>) -> HashSet<u32> {
    assert_eq!(
        target.first_byte_of_malloc(),
        BREAKPOINT,
        "malloc is probed while tracing"
    );
    let ours: HashSet<u32> = programs_named_like_ours()
        .difference(before)
        .copied()
        .collect();
    assert!(
        ours.len() >= OUR_PROGRAMS.len(),
        "our programs are loaded while tracing"
    );
    ours
}

fn assert_detached(target: &mut Target, ours: &HashSet<u32>) {
    assert_ne!(
        target.first_byte_of_malloc(),
        BREAKPOINT,
        "malloc's breakpoint is gone"
    );
    let left = programs_named_like_ours();
    assert!(ours.is_disjoint(&left), "no program of ours stays loaded");
    assert!(target.is_running(), "the target was not harmed");
}

#[test]
fn nothing_stays_attached_after_a_normal_exit() {
    let Some(_guard) = privileged("nothing_stays_attached_after_a_normal_exit") else {
        return;
    };
    let mut target = Target::start();
    let before = target.first_byte_of_malloc();
    assert_ne!(before, BREAKPOINT);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let programs_before = programs_named_like_ours();
    let (tracer, stderr) = start_tracing(record(&target, &["--duration", "3"], &report));
    let ours = assert_attached(&target, &programs_before);
    let output = tracer.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "leakspy failed: {}",
        rest_of(stderr)
    );
    assert_detached(&mut target, &ours);
    assert_eq!(target.first_byte_of_malloc(), before);
    leakspy::report::read(&report).expect("the report is written");
}

#[test]
fn nothing_stays_attached_after_sigint_and_the_report_is_written() {
    let Some(_guard) = privileged("nothing_stays_attached_after_sigint_and_the_report_is_written")
    else {
        return;
    };
    let mut target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let programs_before = programs_named_like_ours();
    let (tracer, stderr) = start_tracing(record(&target, &[], &report));
    let ours = assert_attached(&target, &programs_before);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe { libc::kill(tracer.id() as i32, libc::SIGINT) };
    let output = tracer.wait_with_output().unwrap();
    let stderr = rest_of(stderr);
    assert!(
        output.status.success(),
        "leakspy failed after SIGINT: {stderr}"
    );
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");
    assert_detached(&mut target, &ours);
    let written = leakspy::report::read(&report).expect("the report is written on SIGINT");
    assert!(!written.windows.is_empty());
    assert!(written.stacks.iter().any(|stack| stack.alloc_count > 0));
}
