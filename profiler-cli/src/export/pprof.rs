//! A pprof profile (gzipped profile.proto) of live and allocated memory,
//! for `go tool pprof` and the tools that read its format.

use std::collections::HashMap;
use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use prost::Message as _;

use super::ExportError;
use super::label::profile_title;
use super::pprof_proto::{Function, Label, Line, Location, Mapping, Profile, Sample, ValueType};
use crate::frame::{Frame, FrameKind};
use crate::report::{Report, Stack, Verdict};

/// The sample types, in the order of each sample's values, as Go's heap
/// profiles name them.
pub const SAMPLE_TYPES: [(&str, &str); 4] = [
    ("live_space", "bytes"),
    ("live_objects", "count"),
    ("alloc_space", "bytes"),
    ("alloc_objects", "count"),
];

/// The profile, encoded and gzipped as `go tool pprof` reads it.
pub fn render(report: &Report) -> Result<Vec<u8>, ExportError> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&build(report).encode_to_vec())
        .map_err(ExportError::Compress)?;
    gzip.finish().map_err(ExportError::Compress)
}

/// The profile: one sample per stack (every stack, also those with nothing
/// live, for their allocations), labelled with its id and verdict; one
/// location per distinct frame, one function per distinct name and file,
/// one mapping per native object. The first mapping names the target's
/// program, which pprof shows as the profile's "File".
pub fn build(report: &Report) -> Profile {
    let mut builder = Builder::default();
    builder.intern("");
    if let Some(program) = report.target.command.split_whitespace().next() {
        builder.mapping(program);
    }
    let sample_type = SAMPLE_TYPES
        .iter()
        .map(|(kind, unit)| ValueType {
            r#type: builder.intern(kind),
            unit: builder.intern(unit),
        })
        .collect();
    let sample = report
        .stacks
        .iter()
        .map(|stack| builder.sample(stack))
        .collect();
    let mut comments = vec![
        profile_title(report),
        format!(
            "leakspy {} report ({})",
            report.leakspy_version, report.schema
        ),
    ];
    comments.extend(report.notes.iter().map(|note| format!("note: {note}")));
    let comment = comments.iter().map(|text| builder.intern(text)).collect();
    let default_sample_type = builder.intern(SAMPLE_TYPES[0].0);
    Profile {
        sample_type,
        sample,
        mapping: builder.mappings,
        location: builder.locations,
        function: builder.functions,
        string_table: builder.strings,
        time_nanos: to_i64(report.started_at_unix_ms.saturating_mul(1_000_000)),
        // `as` saturates, and turns NaN into 0.
        duration_nanos: (report.duration_seconds * 1e9) as i64,
        comment,
        default_sample_type,
    }
}

/// The tables of a profile under construction, with the ids already given.
#[derive(Default)]
struct Builder {
    strings: Vec<String>,
    string_ids: HashMap<String, i64>,
    locations: Vec<Location>,
    location_ids: HashMap<Frame, u64>,
    functions: Vec<Function>,
    function_ids: HashMap<(i64, i64), u64>,
    mappings: Vec<Mapping>,
    mapping_ids: HashMap<i64, u64>,
}

impl Builder {
    /// The index of `text` in the string table, adding it when new.
    fn intern(&mut self, text: &str) -> i64 {
        if let Some(&id) = self.string_ids.get(text) {
            return id;
        }
        let id = to_i64(self.strings.len() as u64);
        self.strings.push(text.to_owned());
        self.string_ids.insert(text.to_owned(), id);
        id
    }

    fn sample(&mut self, stack: &Stack) -> Sample {
        let stack_id = [self.intern("stack_id"), self.intern(&stack.id)];
        let verdict = [
            self.intern("verdict"),
            self.intern(verdict_word(stack.verdict)),
        ];
        Sample {
            // Both innermost first.
            location_id: stack
                .frames
                .iter()
                .map(|frame| self.location(frame))
                .collect(),
            value: [
                stack.live_bytes,
                stack.live_count,
                stack.alloc_bytes,
                stack.alloc_count,
            ]
            .map(to_i64)
            .to_vec(),
            label: [stack_id, verdict]
                .map(|[key, str]| Label { key, str })
                .to_vec(),
        }
    }

    fn location(&mut self, frame: &Frame) -> u64 {
        if let Some(&id) = self.location_ids.get(frame) {
            return id;
        }
        let function_id = self.function(frame);
        let mapping_id = match (frame.kind, &frame.object) {
            (FrameKind::Native, Some(object)) => self.mapping(object),
            _ => 0,
        };
        let id = self.locations.len() as u64 + 1;
        self.locations.push(Location {
            id,
            mapping_id,
            line: vec![Line {
                function_id,
                line: frame.line.map_or(0, i64::from),
            }],
        });
        self.location_ids.insert(frame.clone(), id);
        id
    }

    fn function(&mut self, frame: &Frame) -> u64 {
        let name = self.intern(&frame.function);
        let filename = self.intern(frame.file.as_deref().unwrap_or(""));
        let next = self.functions.len() as u64 + 1;
        let id = *self.function_ids.entry((name, filename)).or_insert(next);
        if id == next {
            self.functions.push(Function {
                id,
                name,
                system_name: name,
                filename,
            });
        }
        id
    }

    fn mapping(&mut self, object: &str) -> u64 {
        let filename = self.intern(object);
        let next = self.mappings.len() as u64 + 1;
        let id = *self.mapping_ids.entry(filename).or_insert(next);
        if id == next {
            self.mappings.push(Mapping {
                id,
                filename,
                has_functions: true,
                has_filenames: true,
                has_line_numbers: true,
            });
        }
        id
    }
}

/// The report's word for a verdict, such as "leak".
fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Leak => "leak",
        Verdict::Growing => "growing",
        Verdict::Stable => "stable",
        Verdict::Churn => "churn",
    }
}

/// Protobuf's int64 for a count; no real count comes near the limit.
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use flate2::read::GzDecoder;

    use super::*;
    use crate::export::test_report::sample_report;

    fn decoded(report: &Report) -> Profile {
        let mut bytes = Vec::new();
        GzDecoder::new(render(report).unwrap().as_slice())
            .read_to_end(&mut bytes)
            .unwrap();
        Profile::decode(bytes.as_slice()).unwrap()
    }

    fn string(profile: &Profile, index: i64) -> &str {
        &profile.string_table[usize::try_from(index).unwrap()]
    }

    #[test]
    fn it_round_trips_through_gzip_and_protobuf() {
        let report = sample_report();
        assert_eq!(decoded(&report), build(&report));
    }

    #[test]
    fn the_tables_are_well_formed() {
        let profile = decoded(&sample_report());
        assert_eq!(profile.string_table[0], "");
        let types: Vec<(&str, &str)> = profile
            .sample_type
            .iter()
            .map(|t| (string(&profile, t.r#type), string(&profile, t.unit)))
            .collect();
        assert_eq!(types, SAMPLE_TYPES);
        assert_eq!(string(&profile, profile.default_sample_type), "live_space");
        assert_eq!(profile.time_nanos, 1_700_000_000_000_000_000);
        assert_eq!(profile.duration_nanos, 30_000_000_000);
        // Ids are 1-based and dense, so pprof can index by them.
        for (index, location) in profile.location.iter().enumerate() {
            assert_eq!(location.id, index as u64 + 1);
        }
        for (index, function) in profile.function.iter().enumerate() {
            assert_eq!(function.id, index as u64 + 1);
        }
        let comments: Vec<&str> = profile
            .comment
            .iter()
            .map(|&c| string(&profile, c))
            .collect();
        assert_eq!(
            comments[0],
            "3.1 MiB live in python3 app.py (pid 4242), precise mode"
        );
    }

    #[test]
    fn each_distinct_frame_is_one_location() {
        let profile = decoded(&sample_report());
        // _PyObject_Malloc, leak_here, main (shared by two stacks), 0x1a2b, all_freed.
        assert_eq!(profile.location.len(), 5);
        assert_eq!(profile.function.len(), 5);
        let objects: Vec<&str> = profile
            .mapping
            .iter()
            .map(|m| string(&profile, m.filename))
            .collect();
        assert_eq!(
            objects,
            [
                "python3",
                "/usr/lib/libpython3.11.so.1.0",
                "/usr/lib/x86_64-linux-gnu/libc.so.6"
            ]
        );
    }

    #[test]
    fn the_leak_is_a_sample_with_its_lines_innermost_first() {
        let profile = decoded(&sample_report());
        assert_eq!(
            profile.sample.len(),
            3,
            "every stack, also one with nothing live"
        );
        let leak = &profile.sample[0];
        assert_eq!(leak.value, [3 << 20, 3072, 4 << 20, 4096]);
        let frames: Vec<(&str, &str, i64)> = leak
            .location_id
            .iter()
            .map(|&id| {
                let line = &profile.location[usize::try_from(id - 1).unwrap()].line[0];
                let function = &profile.function[usize::try_from(line.function_id - 1).unwrap()];
                (
                    string(&profile, function.name),
                    string(&profile, function.filename),
                    line.line,
                )
            })
            .collect();
        assert_eq!(
            frames,
            [
                ("_PyObject_Malloc", "Objects/obmalloc.c", 1520),
                ("leak_here", "app.py", 42),
                ("main", "app.py", 50),
            ]
        );
        let labels: Vec<(&str, &str)> = leak
            .label
            .iter()
            .map(|l| (string(&profile, l.key), string(&profile, l.str)))
            .collect();
        assert_eq!(labels, [("stack_id", "0x2a"), ("verdict", "leak")]);
    }
}
