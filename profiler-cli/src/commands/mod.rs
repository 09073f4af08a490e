//! What each subcommand does, between the parsed command line and the
//! engine. Each returns the process exit code.

pub mod report;
pub mod top;
pub mod trace;

use std::io;
use std::process::ExitCode;

/// Exit code 0: everything went as asked.
pub const EXIT_OK: u8 = 0;
/// Exit code 2: an error stopped leakspy, or the traced command failed.
pub const EXIT_ERROR: u8 = 2;

/// Maps a failed write to stdout: a closed pipe (`leakspy report | head`)
/// is a normal end, anything else is an error.
pub fn finish_output(result: io::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::from(EXIT_OK)),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::from(EXIT_OK)),
        Err(error) => Err(anyhow::Error::new(error).context("writing to standard output failed")),
    }
}
