//! The report in other formats: text for people, the JSON report itself, a
//! flame graph (SVG), pprof and speedscope profiles (docs/exports.md).
//!
//! Each format is a pure function from a [`Report`] to bytes in a file of
//! its own; [`render`] picks one and [`write_file`] saves it atomically.

mod atomic;
mod flamegraph;
mod json;
pub(crate) mod label;
mod pprof;
mod pprof_proto;
mod speedscope;
mod text;

#[cfg(test)]
mod test_report;

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::report::{self, Report, ReportError};

pub use label::frame_label;

/// The formats a report can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// The summary for people that `leakspy report` prints.
    Text,
    /// The JSON report (docs/report-schema.md); the only format `leakspy report` reads back.
    Json,
    /// An SVG flame graph of live bytes.
    Flamegraph,
    /// A gzipped pprof profile (`go tool pprof`); binary.
    Pprof,
    /// A speedscope profile of live bytes (https://www.speedscope.app).
    Speedscope,
}

impl Format {
    /// Whether the output is binary, and so not for a terminal.
    pub fn is_binary(self) -> bool {
        self == Format::Pprof
    }

    /// The usual file name ending, without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Flamegraph => "svg",
            Format::Pprof => "pb.gz",
            Format::Speedscope => "speedscope.json",
        }
    }
}

/// Why a report could not be exported.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error("cannot encode the report as JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("cannot draw the flame graph: {0}")]
    Flamegraph(#[source] io::Error),
    #[error("cannot compress the pprof profile: {0}")]
    Compress(#[source] io::Error),
    #[error("cannot write the text summary: {0}")]
    Text(#[source] io::Error),
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// The report in `format`. `top` limits the stacks of the text summary;
/// the other formats hold every stack.
pub fn render(report: &Report, format: Format, top: usize) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Text => text::render(report, top).map(String::into_bytes),
        Format::Json => json::render(report).map(String::into_bytes),
        Format::Flamegraph => flamegraph::render(report).map(String::into_bytes),
        Format::Pprof => pprof::render(report),
        Format::Speedscope => speedscope::render(report).map(String::into_bytes),
    }
}

/// Writes the report in `format` to `path`, atomically: `path` holds either
/// its old content or the whole new one, never a part.
pub fn write_file(
    report: &Report,
    format: Format,
    top: usize,
    path: &Path,
) -> Result<(), ExportError> {
    match format {
        // The report's own writer, so `leakspy report` reads it back.
        Format::Json => Ok(report::write_atomically(report, path)?),
        _ => atomic::write_atomically(&render(report, format, top)?, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_report::sample_report;

    #[test]
    fn every_format_renders_the_sample() {
        let report = sample_report();
        for format in [
            Format::Text,
            Format::Json,
            Format::Flamegraph,
            Format::Pprof,
            Format::Speedscope,
        ] {
            let bytes = render(&report, format, 10).unwrap();
            assert!(!bytes.is_empty(), "{format:?}");
            assert_eq!(
                format.is_binary(),
                std::str::from_utf8(&bytes).is_err(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn json_files_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_file(&sample_report(), Format::Json, 10, &path).unwrap();
        assert_eq!(report::read(&path).unwrap(), sample_report());
    }

    #[test]
    fn other_files_hold_the_rendered_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.svg");
        write_file(&sample_report(), Format::Flamegraph, 10, &path).unwrap();
        let expected = render(&sample_report(), Format::Flamegraph, 10).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }
}
