//! A synthetic report for the export tests: the example of
//! docs/report-schema.md (one leaking stack), plus a stable stack that
//! shares a frame with it and a stack with nothing live.
//!
//! It is kept apart from `report::sample`: the export tests need a frame
//! shared by two stacks (how flamegraph and pprof merge it) and a stack
//! with nothing live, which that sample does not have.

use crate::frame::{Frame, FrameKind};
use crate::report::{Report, Stack, Verdict};

const DOC: &str = include_str!("../../../docs/report-schema.md");

fn frame(
    kind: FrameKind,
    function: &str,
    file: Option<&str>,
    line: Option<u32>,
    object: Option<&str>,
) -> Frame {
    Frame {
        kind,
        function: function.into(),
        file: file.map(Into::into),
        line,
        object: object.map(Into::into),
    }
}

/// Stacks, most suspicious first: `0x2a` leaks 3 MiB at `leak_here`
/// (app.py:42) called from `main` (app.py:50); `0x7` holds 64 KiB from
/// libc, also under `main`; `0x9` holds nothing.
pub fn sample_report() -> Report {
    let start = DOC.find("```json\n").expect("a json example") + "```json\n".len();
    let end = start + DOC[start..].find("```").expect("the example's end");
    let mut report: Report = serde_json::from_str(&DOC[start..end]).expect("a valid example");
    let main = frame(FrameKind::Python, "main", Some("app.py"), Some(50), None);
    report.stacks[0].frames.push(main.clone());
    let stable = Stack {
        id: "0x7".into(),
        verdict: Verdict::Stable,
        confidence: 0.5,
        live_bytes: 64 << 10,
        live_count: 16,
        alloc_bytes: 1 << 20,
        alloc_count: 256,
        freed_bytes: (1 << 20) - (64 << 10),
        freed_count: 240,
        growth_bytes_per_min: 0.0,
        series: vec![64 << 10; 3],
        frames: vec![
            frame(
                FrameKind::Native,
                "0x1a2b",
                None,
                None,
                Some("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            ),
            main,
        ],
        evidence: None,
        age_profile: Vec::new(),
    };
    let freed = Stack {
        id: "0x9".into(),
        verdict: Verdict::Churn,
        confidence: 0.5,
        live_bytes: 0,
        live_count: 0,
        alloc_bytes: 4096,
        alloc_count: 4,
        freed_bytes: 4096,
        freed_count: 4,
        growth_bytes_per_min: 0.0,
        series: vec![0; 3],
        frames: vec![frame(
            FrameKind::Python,
            "all_freed",
            Some("app.py"),
            Some(60),
            None,
        )],
        evidence: None,
        age_profile: Vec::new(),
    };
    for stack in [&stable, &freed] {
        let totals = &mut report.totals;
        totals.live_bytes += stack.live_bytes;
        totals.live_count += stack.live_count;
        totals.alloc_bytes += stack.alloc_bytes;
        totals.alloc_count += stack.alloc_count;
        totals.freed_bytes += stack.freed_bytes;
        totals.freed_count += stack.freed_count;
        totals.stacks += 1;
    }
    report.stacks.extend([stable, freed]);
    report
}
