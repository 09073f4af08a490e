//! A small, complete report for tests: every struct is present and every
//! optional field is set, so its JSON holds every field name.

use std::collections::BTreeMap;

use super::{
    EbpfRunTime, Evidence, EvidenceBasis, GcCounters, GrowthSummary, Mode, Report, SCHEMA, Stack,
    Target, Totals, Verdict, Window, WindowGrowth,
};
use crate::frame::{Frame, FrameKind};

fn frame(kind: FrameKind, function: &str, file: &str, line: u32, object: &str) -> Frame {
    Frame {
        kind,
        function: function.into(),
        file: Some(file.into()),
        line: Some(line),
        object: Some(object.into()),
    }
}

/// A precise-mode report of three 10-second windows with one leaking stack
/// (`leak_here` at app.py:42) and one stable stack.
pub(crate) fn sample_report() -> Report {
    let leak = Stack {
        id: "0x2a".into(),
        verdict: Verdict::Leak,
        confidence: 0.65,
        live_bytes: 3 << 20,
        live_count: 3072,
        alloc_bytes: 4 << 20,
        alloc_count: 4096,
        freed_bytes: 1 << 20,
        freed_count: 1024,
        growth_bytes_per_min: 6_291_456.0,
        series: vec![1 << 20, 2 << 20, 3 << 20],
        frames: vec![
            frame(
                FrameKind::Native,
                "_PyObject_Malloc",
                "Objects/obmalloc.c",
                1520,
                "/usr/lib/libpython3.11.so.1.0",
            ),
            frame(
                FrameKind::Python,
                "leak_here",
                "app.py",
                42,
                "/usr/bin/python3",
            ),
            frame(FrameKind::Python, "main", "app.py", 50, "/usr/bin/python3"),
        ],
        evidence: Some(Evidence {
            basis: EvidenceBasis::SampledSurvivors,
            sampled_blocks: 4096,
            surviving_blocks: 3072,
            large_block_bytes: 0,
            fault_bytes: 3 << 20,
        }),
        age_profile: vec![1 << 20, 1 << 20, 1 << 20],
    };
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
        series: vec![64 << 10, 64 << 10, 64 << 10],
        frames: vec![Frame {
            kind: FrameKind::Native,
            function: "0x1a2b".into(),
            file: None,
            line: None,
            object: Some("/usr/lib/x86_64-linux-gnu/libc.so.6".into()),
        }],
        evidence: None,
        age_profile: Vec::new(),
    };
    let mut lost_events: BTreeMap<String, u64> = profiler_common::LossCounter::ALL
        .iter()
        .map(|cause| (cause.name().to_owned(), 0))
        .collect();
    lost_events.insert("stack_unavailable".into(), 3);
    Report {
        schema: SCHEMA.into(),
        leakspy_version: "0.1.0".into(),
        mode: Mode::Precise,
        target: Target {
            pid: 4242,
            command: "python3 app.py".into(),
            python_version: Some("3.11.2".into()),
            python_allocator: Some("pymalloc".into()),
        },
        started_at_unix_ms: 1_700_000_000_000,
        duration_seconds: 30.0,
        window_seconds: 10.0,
        windows: (0..3u32)
            .map(|i| Window {
                start: f64::from(i) * 10.0,
                end: f64::from(i + 1) * 10.0,
                rss_bytes: (40 << 20) + (u64::from(i) << 20),
                anon_rss_bytes: (30 << 20) + (u64::from(i) << 20),
                threads: 2,
                gc: Some(GcCounters {
                    counts: Some(vec![120, 3, 1]),
                    collections: vec![40 * u64::from(i + 1), 3 * u64::from(i + 1), 0],
                    collected: vec![900 * u64::from(i + 1), 20, 0],
                    uncollectable: vec![0, 0, 0],
                    long_lived_objects: Some(41_000),
                }),
                growth: Some(WindowGrowth {
                    faulted_bytes: 1 << 20,
                    released_bytes: 0,
                    duty_cycle: 0.02,
                }),
            })
            .collect(),
        lost_events,
        notes: vec!["tracemalloc is active in the target".into()],
        totals: Totals {
            live_bytes: leak.live_bytes + stable.live_bytes,
            live_count: leak.live_count + stable.live_count,
            alloc_bytes: leak.alloc_bytes + stable.alloc_bytes,
            alloc_count: leak.alloc_count + stable.alloc_count,
            freed_bytes: leak.freed_bytes + stable.freed_bytes,
            freed_count: leak.freed_count + stable.freed_count,
            stacks: 2,
        },
        stacks: vec![leak, stable],
        growth: Some(GrowthSummary {
            sample_period_bytes: 4096,
            overhead_budget: 0.03,
            bursts: 30,
            duty_cycle: 0.02,
            estimated_overhead: 0.015,
            allocator_hits: 75_000,
            samples: 5000,
            samples_freed: 1200,
            samples_reused: 300,
            samples_gone_from_memory: 100,
            faulted_bytes: 3 << 20,
            released_bytes: 0,
        }),
        ebpf_run_time: Some(EbpfRunTime {
            seconds: 0.004,
            runs: 80_000,
        }),
    }
}
