//! The Python workloads the benchmark runs (bench/workloads/*.py), and the
//! size each runs at: the full size, where the uninstrumented run takes
//! about a second on the reference machine, and the quick size for the
//! reduced run inside `cargo xtask test`.

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
        full_size: 100_000,
        quick_size: 5_000,
    },
    Workload {
        name: "json_requests",
        summary: "dict- and JSON-heavy request handling with a bounded session table",
        full_size: 30_000,
        quick_size: 1_500,
    },
    Workload {
        name: "threaded_workers",
        summary: "four worker threads taking jobs from a queue",
        full_size: 40_000,
        quick_size: 2_000,
    },
    Workload {
        name: "asyncio_tasks",
        summary: "asyncio producers and consumers passing messages through queues",
        full_size: 100_000,
        quick_size: 5_000,
    },
    Workload {
        name: "numeric_buffers",
        summary: "array and zlib (C code) allocating and freeing megabyte buffers",
        full_size: 40,
        quick_size: 4,
    },
];

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
