//! A speedscope profile of live bytes, in speedscope's file format
//! (https://www.speedscope.app/file-format-schema.json): one sampled
//! profile whose samples are the stacks and whose weights are live bytes.

use std::collections::HashMap;

use serde::Serialize;

use super::ExportError;
use super::label::{frame_label, profile_title};
use crate::frame::Frame;
use crate::report::Report;

/// The schema URL every file names.
pub const SCHEMA_URL: &str = "https://www.speedscope.app/file-format-schema.json";

#[derive(Serialize)]
struct File {
    #[serde(rename = "$schema")]
    schema: &'static str,
    shared: Shared,
    profiles: Vec<SampledProfile>,
    name: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: u32,
    exporter: String,
}

#[derive(Serialize)]
struct Shared {
    frames: Vec<SpeedscopeFrame>,
}

#[derive(Serialize)]
struct SpeedscopeFrame {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SampledProfile {
    r#type: &'static str,
    name: String,
    unit: &'static str,
    start_value: u64,
    end_value: u64,
    /// Indexes into `shared.frames`, outermost first.
    samples: Vec<Vec<usize>>,
    weights: Vec<u64>,
}

/// The profile as JSON. Stacks with nothing live are left out; frames are
/// named as in the flame graph, with their file and line alongside.
pub fn render(report: &Report) -> Result<String, ExportError> {
    let mut frames = Vec::new();
    let mut frame_ids: HashMap<&Frame, usize> = HashMap::new();
    let (mut samples, mut weights) = (Vec::new(), Vec::new());
    for stack in report.stacks.iter().filter(|stack| stack.live_bytes > 0) {
        let sample = stack
            .frames
            .iter()
            .rev()
            .map(|frame| {
                *frame_ids.entry(frame).or_insert_with(|| {
                    frames.push(SpeedscopeFrame {
                        name: frame_label(frame),
                        file: frame.file.clone(),
                        line: frame.line,
                    });
                    frames.len() - 1
                })
            })
            .collect();
        samples.push(sample);
        weights.push(stack.live_bytes);
    }
    let title = profile_title(report);
    let file = File {
        schema: SCHEMA_URL,
        shared: Shared { frames },
        profiles: vec![SampledProfile {
            r#type: "sampled",
            name: title.clone(),
            unit: "bytes",
            start_value: 0,
            end_value: weights.iter().fold(0, |sum: u64, &w| sum.saturating_add(w)),
            samples,
            weights,
        }],
        name: format!("leakspy: {title}"),
        active_profile_index: 0,
        exporter: format!("leakspy {}", env!("CARGO_PKG_VERSION")),
    };
    serde_json::to_string(&file).map_err(ExportError::Json)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::export::test_report::sample_report;

    fn rendered(report: &Report) -> Value {
        serde_json::from_str(&render(report).unwrap()).unwrap()
    }

    #[test]
    fn samples_are_stacks_outermost_first_weighted_by_live_bytes() {
        let file = rendered(&sample_report());
        assert_eq!(file["$schema"], SCHEMA_URL);
        assert_eq!(
            file["shared"]["frames"],
            json!([
                {"name": "main (app.py:50)", "file": "app.py", "line": 50},
                {"name": "leak_here (app.py:42)", "file": "app.py", "line": 42},
                {"name": "_PyObject_Malloc (libpython3.11.so.1.0)", "file": "Objects/obmalloc.c", "line": 1520},
                {"name": "0x1a2b (libc.so.6)"},
            ])
        );
        let profile = &file["profiles"][0];
        assert_eq!(profile["type"], "sampled");
        assert_eq!(profile["unit"], "bytes");
        assert_eq!(profile["samples"], json!([[0, 1, 2], [0, 3]]));
        assert_eq!(profile["weights"], json!([3 << 20, 64 << 10]));
        assert_eq!(profile["startValue"], 0);
        assert_eq!(profile["endValue"], (3 << 20) + (64 << 10));
        assert_eq!(
            file["exporter"],
            format!("leakspy {}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            file["name"],
            "leakspy: 3.1 MiB live in python3 app.py (pid 4242), precise mode"
        );
    }

    #[test]
    fn it_follows_the_published_schema() {
        let schema: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/speedscope-file-format-schema.json"
        ))
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut empty = sample_report();
        empty.stacks.clear();
        for report in [sample_report(), empty] {
            let file = rendered(&report);
            let errors: Vec<String> = validator
                .iter_errors(&file)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
        // The schema does check: a sample that is not an array fails.
        let mut file = rendered(&sample_report());
        file["profiles"][0]["samples"] = json!([1]);
        assert!(!validator.is_valid(&file));
    }

    #[test]
    fn an_empty_report_is_an_empty_profile() {
        let mut report = sample_report();
        report.stacks.clear();
        let file = rendered(&report);
        assert_eq!(file["shared"]["frames"], json!([]));
        assert_eq!(file["profiles"][0]["samples"], json!([]));
        assert_eq!(file["profiles"][0]["endValue"], 0);
    }
}
