//! The Python workloads the benchmark runs (bench/workloads/*.py), and the
//! size each runs at: the full size, where the uninstrumented main loop
//! takes about a quarter of a second on the reference machine (leakspy's
//! precise mode makes that half a minute or more), and the quick size for
//! the reduced run inside `cargo xtask test`. The steady-state runs of
//! growth mode take a few of them at STEADY_STATE_FACTOR times the size.

use std::path::PathBuf;

use crate::workspace;

/// One workload script and its sizes (its argv[1]).
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// The script's name without `.py`, and the column's name.
    pub name: &'static str,
    /// What it does, in a few words, for BENCHMARKS.md.
    pub summary: &'static str,
    pub full_size: u64,
    pub quick_size: u64,
}

/// The first is the allocation-heavy workload the goals are stated for.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "churn_slow_leak",
        summary: "allocation-heavy churn of small dicts, lists and strings, with a slow leak",
        full_size: 25_000,
        quick_size: 1_000,
    },
    Workload {
        name: "json_requests",
        summary: "dict- and JSON-heavy request handling with a bounded session table",
        full_size: 6_000,
        quick_size: 300,
    },
    Workload {
        name: "threaded_workers",
        summary: "four worker threads taking jobs from a queue",
        full_size: 6_000,
        quick_size: 400,
    },
    Workload {
        name: "asyncio_tasks",
        summary: "asyncio producers and consumers passing messages through queues",
        full_size: 45_000,
        quick_size: 2_000,
    },
    Workload {
        name: "numeric_buffers",
        summary: "array and zlib (C code) allocating and freeing megabyte buffers",
        full_size: 12,
        quick_size: 2,
    },
];

/// The workloads of the steady-state runs: growth mode's bursts come once
/// a second, so its cost shows only over seconds. The allocation-heavy one
/// (the goals' workload) and the page-fault-heavy one.
pub const STEADY_STATE_WORKLOADS: &[&str] = &["churn_slow_leak", "numeric_buffers"];
/// How much larger the steady-state runs are than the full size.
pub const STEADY_STATE_FACTOR: u64 = 15;

impl Workload {
    pub fn script(&self) -> PathBuf {
        workloads_dir().join(format!("{}.py", self.name))
    }

    pub fn size(&self, quick: bool) -> u64 {
        if quick {
            self.quick_size
        } else {
            self.full_size
        }
    }
}

/// bench/workloads/ in the workspace.
pub fn workloads_dir() -> PathBuf {
    workspace::root().join("bench/workloads")
}

#[cfg(test)]
mod tests {
    use super::WORKLOADS;

    #[test]
    fn every_workload_has_its_script_and_a_smaller_quick_size() {
        for workload in WORKLOADS {
            assert!(
                workload.script().is_file(),
                "{}",
                workload.script().display()
            );
            assert!(workload.quick_size > 0 && workload.quick_size < workload.full_size);
        }
    }
}
