//! `leakspy report FILE --format F -o OUT`: each export, read by the tool
//! or checked against the format it claims to be. No privileges needed.
//!
//! tests/fixtures/speedscope-file-format-schema.json is speedscope's
//! published schema, dist/release/file-format-schema.json of the npm
//! package speedscope 1.25.0 (MIT licence).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use leakspy::frame::{Frame, FrameKind};
use leakspy::report::{self, Mode, Report, SCHEMA, Stack, Target, Totals, Verdict, Window};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::leakspy;

/// The leaking Python function and where it is.
const LEAK_FUNCTION: &str = "grow_cache";
const LEAK_LABEL: &str = "grow_cache (service.py:17)";

/// A report with one leaking stack (1 KiB blocks), native allocator frame
/// innermost, and one stack whose memory was all freed.
fn leaking_report() -> Report {
    let frame = |kind, function: &str, file: Option<&str>, line, object: Option<&str>| Frame {
        kind,
        function: function.into(),
        file: file.map(Into::into),
        line,
        object: object.map(Into::into),
    };
    let stack = |id: &str, verdict, live_bytes: u64, frames| Stack {
        id: id.into(),
        verdict,
        confidence: 0.5,
        live_bytes,
        live_count: live_bytes / 1024,
        alloc_bytes: 2 << 20,
        alloc_count: 2048,
        freed_bytes: (2 << 20) - live_bytes,
        freed_count: 2048 - live_bytes / 1024,
        growth_bytes_per_min: live_bytes as f64 / 2.0,
        series: vec![live_bytes / 2, live_bytes],
        frames,
        evidence: None,
        age_profile: Vec::new(),
    };
    let stacks = vec![
        stack(
            "0x2a",
            Verdict::Leak,
            1 << 20,
            vec![
                frame(
                    FrameKind::Native,
                    "malloc",
                    None,
                    None,
                    Some("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                ),
                frame(
                    FrameKind::Python,
                    LEAK_FUNCTION,
                    Some("service.py"),
                    Some(17),
                    None,
                ),
                frame(
                    FrameKind::Python,
                    "<module>",
                    Some("service.py"),
                    Some(30),
                    None,
                ),
            ],
        ),
        stack(
            "0x3",
            Verdict::Churn,
            0,
            vec![frame(
                FrameKind::Python,
                "all_freed",
                Some("service.py"),
                Some(9),
                None,
            )],
        ),
    ];
    Report {
        schema: SCHEMA.into(),
        leakspy_version: env!("CARGO_PKG_VERSION").into(),
        mode: Mode::Precise,
        target: Target {
            pid: 777,
            command: "python3 service.py".into(),
            python_version: Some("3.11.2".into()),
            python_allocator: Some("pymalloc".into()),
        },
        started_at_unix_ms: 1_700_000_000_000,
        duration_seconds: 120.0,
        window_seconds: 60.0,
        windows: (0..2)
            .map(|i| Window {
                start: f64::from(i) * 60.0,
                end: f64::from(i + 1) * 60.0,
                rss_bytes: 50 << 20,
                anon_rss_bytes: 40 << 20,
                threads: 1,
                gc: None,
                growth: None,
            })
            .collect(),
        lost_events: BTreeMap::from([("live_map_full".into(), 0)]),
        notes: Vec::new(),
        totals: Totals {
            live_bytes: 1 << 20,
            live_count: 1024,
            alloc_bytes: 4 << 20,
            alloc_count: 4096,
            freed_bytes: 3 << 20,
            freed_count: 4096 - 1024,
            stacks: 2,
        },
        stacks,
        growth: None,
        ebpf_run_time: None,
    }
}

/// A temporary directory holding the report as `report.json`.
fn report_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    report::write_atomically(&leaking_report(), &path).unwrap();
    (dir, path)
}

/// Runs `leakspy report INPUT --format FORMAT -o OUTPUT`; it must succeed
/// and print nothing.
fn export(input: &Path, format: &str, output: &Path) {
    let run = leakspy()
        .arg("report")
        .arg(input)
        .args(["--format", format, "-o"])
        .arg(output)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty(), "-o writes nothing to stdout");
}

/// Whether `tool` runs here. Otherwise prints why the test is skipped, or
/// panics when CI=true.
fn have(tool: &str, test: &str) -> bool {
    if Command::new(tool).arg("version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: `{tool}` is missing under CI (Debian package golang-go)"
    );
    eprintln!("SKIPPED {test}: `{tool}` is not installed (Debian package golang-go)");
    false
}

fn go_pprof(args: &[&str], profile: &Path) -> String {
    let output: Output = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .arg(profile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "go tool pprof {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn pprof_is_read_by_go_tool_pprof() {
    if !have("go", "pprof_is_read_by_go_tool_pprof") {
        return;
    }
    let (dir, input) = report_file();
    let profile = dir.path().join("live.pb.gz");
    export(&input, "pprof", &profile);
    let top = go_pprof(&["-top"], &profile);
    assert!(top.contains("Type: live_space"), "{top}");
    assert!(top.contains(LEAK_FUNCTION), "{top}");
    assert!(top.contains("malloc"), "{top}");
    let raw = go_pprof(&["-raw"], &profile);
    assert!(
        raw.contains(&format!("{LEAK_FUNCTION} service.py:17")),
        "{raw}"
    );
    assert!(raw.contains("/usr/lib/x86_64-linux-gnu/libc.so.6"), "{raw}");
    assert!(raw.contains("verdict:[leak]"), "{raw}");
    let alloc = go_pprof(&["-sample_index=alloc_space", "-top"], &profile);
    assert!(alloc.contains("all_freed"), "{alloc}");
}

#[test]
fn the_flamegraph_is_svg_with_the_leak_in_a_title() {
    let (dir, input) = report_file();
    let svg_path = dir.path().join("live.svg");
    export(&input, "flamegraph", &svg_path);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let document = roxmltree::Document::parse_with_options(&svg, options).unwrap();
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let titles: Vec<&str> = document
        .descendants()
        .filter(|node| node.has_tag_name("title"))
        .filter_map(|node| node.text())
        .collect();
    assert!(
        titles.iter().any(|title| title.starts_with(LEAK_LABEL)),
        "{titles:?}"
    );
    assert!(
        svg.contains("python3 service.py (pid 777)"),
        "the title names the target"
    );
    assert!(!svg.contains("all_freed"), "nothing live, nothing drawn");
}

#[test]
fn speedscope_follows_the_published_schema() {
    let (dir, input) = report_file();
    let path = dir.path().join("live.speedscope.json");
    export(&input, "speedscope", &path);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/speedscope-file-format-schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&file)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // What the schema cannot say: samples and weights pair up, indexes are frames.
    let frames = file["shared"]["frames"].as_array().unwrap();
    let profile = &file["profiles"][0];
    let samples = profile["samples"].as_array().unwrap();
    assert_eq!(samples.len(), profile["weights"].as_array().unwrap().len());
    let names: Vec<&str> = samples[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|index| {
            frames[usize::try_from(index.as_u64().unwrap()).unwrap()]["name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        ["<module> (service.py:30)", LEAK_LABEL, "malloc (libc.so.6)"]
    );
    assert_eq!(profile["weights"][0], 1 << 20);
}

#[test]
fn text_and_json_go_to_stdout() {
    let (_dir, input) = report_file();
    let text = leakspy().arg("report").arg(&input).output().unwrap();
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!("    {LEAK_FUNCTION}  service.py:17\n")),
        "{text}"
    );
    let json = leakspy()
        .arg("report")
        .arg(&input)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(json.status.success());
    let back: Report = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(back, leaking_report());
}

#[test]
fn pprof_goes_to_a_pipe_but_not_to_a_terminal() {
    let (_dir, input) = report_file();
    let piped = leakspy()
        .arg("report")
        .arg(&input)
        .args(["--format", "pprof"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(piped.stdout[..2], [0x1f, 0x8b], "gzip");
    // util-linux's script gives the command a terminal.
    let command = format!(
        "'{}' report '{}' --format pprof",
        env!("CARGO_BIN_EXE_leakspy"),
        input.display()
    );
    let Ok(on_terminal) = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .output()
    else {
        eprintln!("SKIPPED the terminal half: `script` (util-linux) is not installed");
        return;
    };
    let shown = String::from_utf8_lossy(&on_terminal.stdout);
    assert_eq!(on_terminal.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("--format pprof is binary and standard output is a terminal"),
        "{shown}"
    );
}

#[test]
fn a_corrupt_report_exports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.json");
    std::fs::write(&input, "{\"schema\": \"leakspy.report/v1\", \"stacks\": [").unwrap();
    let output = dir.path().join("out.pb.gz");
    let run = leakspy()
        .arg("report")
        .arg(&input)
        .args(["--format", "pprof", "-o"])
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a leakspy report"), "{stderr}");
    assert!(!output.exists());
}

#[test]
fn a_write_failure_names_the_file() {
    let (_dir, input) = report_file();
    let run = leakspy()
        .arg("report")
        .arg(&input)
        .args(["--format", "flamegraph", "-o", "/nonexistent/dir/live.svg"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write /nonexistent/dir/live.svg"),
        "{stderr}"
    );
}
