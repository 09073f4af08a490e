//! Writing bytes to a file atomically: a temporary file in the same
//! directory, synced, then renamed over the target.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;

use tempfile::NamedTempFile;

use super::ExportError;

/// Writes `bytes` to `path` through a temporary file next to it. On failure
/// `path` is untouched and the temporary file is removed.
pub fn write_atomically(bytes: &[u8], path: &Path) -> Result<(), ExportError> {
    let write_error = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    if path.file_name().is_none() {
        return Err(write_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        )));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // Dropping the temporary file on an early return removes it.
    let mut temp = NamedTempFile::new_in(directory).map_err(write_error)?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(write_error)?;
    temp.persist(path)
        .map_err(|error| write_error(error.error))?;
    // Make the rename itself durable.
    File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.svg");
        std::fs::write(&path, "old").unwrap();
        write_atomically(b"new", &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_is_named() {
        let error = write_atomically(b"x", Path::new("/nonexistent/dir/out.svg")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot write /nonexistent/dir/out.svg:"),
            "{error}"
        );
    }
}
