//! Writing a report to disk atomically and reading it back strictly.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

use super::{Report, SCHEMA};

/// Why a report could not be written or read. Messages name the file and
/// say what is wrong with it.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot read report {}: no such file", .path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read report {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    /// Not JSON, or cut short; the message gives the line and column.
    #[error("{} is not a leakspy report: {source}", .path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} is not a leakspy report: it has no \"schema\" field (expected {SCHEMA:?})", .path.display())]
    MissingSchema { path: PathBuf },
    #[error("{} was written by an incompatible leakspy: schema {found}, expected {SCHEMA}", .path.display())]
    WrongSchema { path: PathBuf, found: String },
    /// The right schema, but a field is unknown, missing or of the wrong type.
    #[error("{} does not follow {SCHEMA}: {source}", .path.display())]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot encode the report as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("cannot write report {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Writes `report` as pretty JSON to `path`, atomically: into a temporary
/// file in the same directory, synced, then renamed over `path`. On failure
/// `path` is untouched and the temporary file is removed.
pub fn write_atomically(report: &Report, path: &Path) -> Result<(), ReportError> {
    let mut json = serde_json::to_vec_pretty(report).map_err(ReportError::Encode)?;
    json.push(b'\n');
    let write_error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let file_name = path.file_name().ok_or_else(|| {
        write_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ))
    })?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (temp_path, mut temp) = create_temp(directory, file_name).map_err(write_error)?;
    let written = temp
        .write_all(&json)
        .and_then(|()| temp.sync_all())
        .and_then(|()| fs::rename(&temp_path, path));
    if let Err(source) = written {
        // Best effort: the write already failed, which is the error to report.
        let _ = fs::remove_file(&temp_path);
        return Err(write_error(source));
    }
    // Make the rename itself durable.
    File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(write_error)
}

/// Creates a new, hidden file next to the target, named after it with a
/// suffix unique to this process and call: `.NAME.PID-N.tmp`.
fn create_temp(directory: &Path, file_name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut name = std::ffi::OsString::from(".");
        name.push(file_name);
        name.push(format!(
            ".{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temp_path = directory.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            // Left over by an earlier process with the same pid: try the next.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Reads and checks a report written by this version of leakspy.
pub fn read(path: &Path) -> Result<Report, ReportError> {
    let path_buf = || path.to_owned();
    let text = fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ReportError::NotFound { path: path_buf() },
        _ => ReportError::Read {
            path: path_buf(),
            source,
        },
    })?;
    match serde_json::from_str::<Report>(&text) {
        Ok(report) if report.schema == SCHEMA => Ok(report),
        Ok(report) => Err(ReportError::WrongSchema {
            path: path_buf(),
            found: report.schema,
        }),
        Err(source) if source.is_syntax() || source.is_eof() => Err(ReportError::NotJson {
            path: path_buf(),
            source,
        }),
        // A data error: a wrong schema explains it better than the field does.
        Err(source) => Err(match schema_of(&text) {
            None => ReportError::MissingSchema { path: path_buf() },
            Some(found) if found != SCHEMA => ReportError::WrongSchema {
                path: path_buf(),
                found,
            },
            Some(_) => ReportError::Invalid {
                path: path_buf(),
                source,
            },
        }),
    }
}

/// The "schema" field of a JSON document, as text; `None` when the document
/// is not an object or has no such field.
fn schema_of(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.get("schema")? {
        serde_json::Value::String(schema) => Some(schema.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    fn read_error(contents: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, contents).unwrap();
        read(&path).unwrap_err().to_string()
    }

    #[test]
    fn a_written_report_reads_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leak.json");
        let report = sample_report();
        write_atomically(&report, &path).unwrap();
        assert_eq!(read(&path).unwrap(), report);
        // Overwriting works, and no temporary file is left behind.
        write_atomically(&report, &path).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["leak.json"]);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory, so the rename fails.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        let error = write_atomically(&sample_report(), &path).unwrap_err();
        assert!(matches!(error, ReportError::Write { .. }), "{error}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let error = read(&dir.path().join("absent.json")).unwrap_err();
        assert!(matches!(error, ReportError::NotFound { .. }));
        assert!(
            error.to_string().contains("absent.json: no such file"),
            "{error}"
        );
    }

    #[test]
    fn a_truncated_file_is_not_a_report() {
        let json = serde_json::to_string_pretty(&sample_report()).unwrap();
        let message = read_error(&json[..json.len() / 2]);
        assert!(message.contains("is not a leakspy report: "), "{message}");
        assert!(message.contains(" at line "), "{message}");
        assert!(message.contains(" column "), "{message}");
        let message = read_error("hello");
        assert!(message.contains("is not a leakspy report: "), "{message}");
    }

    #[test]
    fn a_wrong_or_missing_schema_says_so() {
        let mut report = sample_report();
        report.schema = "leakspy.report/v2".into();
        let message = read_error(&serde_json::to_string(&report).unwrap());
        assert!(
            message.contains(
                "was written by an incompatible leakspy: schema leakspy.report/v2, \
                 expected leakspy.report/v1"
            ),
            "{message}"
        );
        // A future version with other fields still gets the schema message.
        let message = read_error(r#"{"schema": "leakspy.report/v2", "stacks": {}}"#);
        assert!(message.contains("schema leakspy.report/v2"), "{message}");
        let message = read_error(r#"{"stacks": []}"#);
        assert!(message.contains("no \"schema\" field"), "{message}");
        let message = read_error("[1, 2]");
        assert!(message.contains("no \"schema\" field"), "{message}");
    }

    #[test]
    fn an_unknown_field_names_the_field_and_place() {
        let mut value = serde_json::to_value(sample_report()).unwrap();
        value["totals"]["peak_bytes"] = 1.into();
        let message = read_error(&serde_json::to_string_pretty(&value).unwrap());
        assert!(
            message.contains("does not follow leakspy.report/v1: unknown field `peak_bytes`"),
            "{message}"
        );
        assert!(message.contains(" at line "), "{message}");
    }
}
