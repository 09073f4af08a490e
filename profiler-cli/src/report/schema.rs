//! The report's data types, version `leakspy.report/v1`, as documented in
//! docs/report-schema.md. Readers are strict: an unknown field is an error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::frame::Frame;

/// The schema string every report carries; it changes on any incompatible change.
pub const SCHEMA: &str = "leakspy.report/v1";

/// A whole recording: what was traced, how, and the stacks found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub leakspy_version: String,
    pub mode: Mode,
    pub target: Target,
    pub started_at_unix_ms: u64,
    pub duration_seconds: f64,
    pub window_seconds: f64,
    pub windows: Vec<Window>,
    /// Events lost, by cause; every cause is listed, even when 0.
    pub lost_events: BTreeMap<String, u64>,
    /// Plain-language remarks, such as "native stacks only: the target is not Python".
    pub notes: Vec<String>,
    pub totals: Totals,
    /// Most suspicious first (see [`super::rank`]).
    pub stacks: Vec<Stack>,
    /// Growth mode's cost and what it saw; `None` in precise mode. Added
    /// within v1.
    #[serde(default)]
    pub growth: Option<GrowthSummary>,
    /// The time the kernel spent in leakspy's eBPF programs; `None` when
    /// it was not counting (`kernel.bpf_stats_enabled`). Added within v1.
    #[serde(default)]
    pub ebpf_run_time: Option<EbpfRunTime>,
}

/// The run time of leakspy's eBPF programs, as the kernel counted it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EbpfRunTime {
    pub seconds: f64,
    /// Program runs: one per probe hit and per traced event.
    pub runs: u64,
}

/// How growth mode spent its budget, and what it saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthSummary {
    /// A block smaller than this was sampled with probability size/period
    /// and stands for `sample_period_bytes`.
    pub sample_period_bytes: u64,
    /// The cap on the estimated overhead, as a share of time (0.03 is 3%).
    pub overhead_budget: f64,
    /// Allocator probe bursts taken.
    pub bursts: u64,
    /// The share of the trace the allocator probes were attached.
    pub duty_cycle: f64,
    /// Probe hits times an estimated cost per hit, as a share of the trace.
    pub estimated_overhead: f64,
    pub allocator_hits: u64,
    /// Sampled blocks recorded, and of those the ones found dead: freed in
    /// a burst, their address handed out again, or gone from memory.
    pub samples: u64,
    pub samples_freed: u64,
    pub samples_reused: u64,
    pub samples_gone_from_memory: u64,
    /// Pages touched for the first time, and of those given back, in bytes.
    pub faulted_bytes: u64,
    pub released_bytes: u64,
}

/// How memory was observed (DESIGN.md, "Two ways to see memory").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every allocation and free, through allocator uprobes.
    Precise,
    /// New resident memory, attributed by sampled allocator bursts.
    Growth,
}

/// The traced process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub pid: u32,
    pub command: String,
    /// Such as "3.11.4"; `None` when the target is not Python.
    pub python_version: Option<String>,
    /// The allocator CPython runs with ("pymalloc", "malloc
    /// (PYTHONMALLOC=malloc)", "debug hooks", "tracemalloc hooks", "custom
    /// hooks"); `None` when the target is not Python or its table was unreadable.
    pub python_allocator: Option<String>,
}

/// One aggregation window, in seconds since tracing began.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: f64,
    pub end: f64,
    /// The target's resident set size at the end of the window.
    pub rss_bytes: u64,
    /// Its anonymous resident memory (RssAnon) then. Added within v1.
    #[serde(default)]
    pub anon_rss_bytes: u64,
    /// Its thread count then. Added within v1.
    #[serde(default)]
    pub threads: u32,
    /// Python targets: the cyclic GC's counters then. Added within v1.
    #[serde(default)]
    pub gc: Option<GcCounters>,
    /// Growth mode: pages first touched in this window and pages given back,
    /// in bytes, and the share of the window the allocator probes were
    /// attached. `None` in precise mode. Added within v1.
    #[serde(default)]
    pub growth: Option<WindowGrowth>,
}

/// The cyclic GC of a Python target, read from its interpreter's memory.
/// Each list has one entry per generation, the youngest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcCounters {
    /// `gc.get_count()`: allocations (generation 0), or collections of the
    /// younger generation, since the generation was last collected. None
    /// where the interpreter's layout does not tell.
    #[serde(default)]
    pub counts: Option<Vec<i64>>,
    /// Collections of each generation since the interpreter started.
    pub collections: Vec<u64>,
    /// Objects each generation's collections freed.
    pub collected: Vec<u64>,
    /// Objects they found unreachable but could not free.
    pub uncollectable: Vec<u64>,
    /// Objects that survived the last full collection (3.9–3.13).
    #[serde(default)]
    pub long_lived_objects: Option<u64>,
}

/// What growth mode saw in one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowGrowth {
    pub faulted_bytes: u64,
    pub released_bytes: u64,
    pub duty_cycle: f64,
}

/// Sums over all stacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub live_bytes: u64,
    pub live_count: u64,
    pub alloc_bytes: u64,
    pub alloc_count: u64,
    pub freed_bytes: u64,
    pub freed_count: u64,
    /// How many distinct stacks were seen (the report may list fewer).
    pub stacks: u64,
}

/// What the trend of one stack's live bytes says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Live bytes kept growing and are a material share of memory.
    Leak,
    /// Live bytes grew, but not (yet) enough for a leak.
    Growing,
    /// Live bytes are not growing and are not small.
    Stable,
    /// Live bytes are not growing and stay small: memory comes and goes.
    Churn,
}

/// One allocating stack and its counters over the whole recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// The kernel stack id in hex, "0x...".
    pub id: String,
    pub verdict: Verdict,
    /// How sure the verdict is, in [0, 1]. Added within v1: a report
    /// written without it reads as 0.
    #[serde(default)]
    pub confidence: f64,
    pub live_bytes: u64,
    pub live_count: u64,
    pub alloc_bytes: u64,
    pub alloc_count: u64,
    pub freed_bytes: u64,
    pub freed_count: u64,
    /// The Theil–Sen slope of the judged part of `series` (see
    /// [`crate::trend`]).
    pub growth_bytes_per_min: f64,
    /// Live bytes at the end of each window.
    pub series: Vec<u64>,
    /// Innermost first.
    pub frames: Vec<Frame>,
    /// Growth mode: what the verdict rests on; `None` in precise mode.
    /// Added within v1.
    #[serde(default)]
    pub evidence: Option<Evidence>,
    /// Live bytes when the trace ended, by the window they were allocated
    /// in: one entry per window, empty when not known. Added within v1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub age_profile: Vec<u64>,
}

/// What a growth-mode verdict rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceBasis {
    /// The series is the estimated bytes of sampled blocks still alive
    /// (and of glibc's large blocks still mapped).
    SampledSurvivors,
    /// No block of this stack was sampled: the series is the bytes of
    /// pages it touched first, which says who touched memory, not who
    /// keeps it. Such a stack is never judged more than `growing`.
    Faults,
}

/// The evidence behind one growth-mode stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub basis: EvidenceBasis,
    /// Blocks of this stack sampled in bursts, and those still alive.
    pub sampled_blocks: u64,
    pub surviving_blocks: u64,
    /// Bytes of glibc's mmapped blocks this stack allocated, still mapped.
    pub large_block_bytes: u64,
    /// Bytes of pages this stack touched first, still mapped.
    pub fault_bytes: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::report::sample::sample_report;

    const DOC: &str = include_str!("../../../docs/report-schema.md");

    /// Every key of every object in `value`, except inside `lost_events`,
    /// whose keys are causes, checked on their own.
    fn field_names(value: &Value, names: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    names.push(key.clone());
                    if key != "lost_events" {
                        field_names(child, names);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| field_names(item, names)),
            _ => {}
        }
    }

    #[test]
    fn the_doc_mentions_every_field_word_and_loss_cause() {
        // The sample fills every struct, so its JSON holds every field name.
        let value = serde_json::to_value(sample_report()).unwrap();
        let mut names = Vec::new();
        field_names(&value, &mut names);
        let words = [
            Verdict::Leak,
            Verdict::Growing,
            Verdict::Stable,
            Verdict::Churn,
        ]
        .map(|v| serde_json::to_value(v).unwrap())
        .into_iter()
        .chain([Mode::Precise, Mode::Growth].map(|m| serde_json::to_value(m).unwrap()))
        .map(|v| v.as_str().unwrap().to_owned());
        let causes = profiler_common::LossCounter::ALL.map(|c| c.name().to_owned());
        let missing: Vec<String> = names
            .into_iter()
            .chain(words)
            .chain(causes)
            .chain([SCHEMA.to_owned()])
            .filter(|name| !DOC.contains(&format!("`{name}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/report-schema.md does not mention {missing:?}"
        );
    }

    #[test]
    fn the_doc_example_is_a_valid_report() {
        let start = DOC.find("```json\n").expect("a json example") + "```json\n".len();
        let end = start + DOC[start..].find("```").expect("the example's end");
        let report: Report = serde_json::from_str(&DOC[start..end]).unwrap();
        assert_eq!(report.schema, SCHEMA);
    }

    #[test]
    fn enums_are_lowercase_words() {
        assert_eq!(serde_json::to_value(Mode::Growth).unwrap(), json!("growth"));
        assert_eq!(serde_json::to_value(Verdict::Leak).unwrap(), json!("leak"));
    }

    #[test]
    fn an_unknown_field_fails() {
        for (pointer, field) in [
            ("", "extra"),
            ("/target", "uid"),
            ("/totals", "peak"),
            ("/windows/0", "cpu"),
            ("/stacks/0", "rank"),
            ("/stacks/0/frames/0", "column"),
        ] {
            let mut value = serde_json::to_value(sample_report()).unwrap();
            let object = value.pointer_mut(pointer).unwrap().as_object_mut().unwrap();
            object.insert(field.into(), json!(1));
            let error = serde_json::from_value::<Report>(value).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains(&format!("unknown field `{field}`")),
                "{pointer}: {error}"
            );
        }
    }

    #[test]
    fn a_missing_field_fails() {
        for (pointer, field) in [
            ("", "lost_events"),
            ("/target", "command"),
            ("/stacks/0", "series"),
            ("/windows/0", "rss_bytes"),
        ] {
            let mut value = serde_json::to_value(sample_report()).unwrap();
            let object = value.pointer_mut(pointer).unwrap().as_object_mut().unwrap();
            object.remove(field).unwrap();
            let error = serde_json::from_value::<Report>(value).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains(&format!("missing field `{field}`")),
                "{pointer}: {error}"
            );
        }
    }
}
