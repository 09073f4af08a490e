//! memray, installed from PyPI into a virtualenv the harness makes under
//! the target folder with the benchmark interpreter, so memray runs the
//! same Python as every other mode. An existing virtualenv with the pinned
//! version is reused.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::command;

/// The memray release the figures are measured with.
pub const MEMRAY_VERSION: &str = "1.20.0";

/// The `memray` script of the virtualenv in `venv`, made with `python`
/// and installed when missing or of another version.
pub fn ensure(python: &Path, venv: &Path) -> Result<PathBuf> {
    let memray = venv.join("bin/memray");
    if installed_version(&memray).as_deref() == Some(MEMRAY_VERSION) {
        return Ok(memray);
    }
    eprintln!(
        "bench: installing memray {MEMRAY_VERSION} from PyPI into {}",
        venv.display()
    );
    command::run(
        Command::new(python)
            .args(["-m", "venv", "--clear"])
            .arg(venv),
    )?;
    command::run(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("memray=={MEMRAY_VERSION}")),
    )?;
    match installed_version(&memray) {
        Some(version) if version == MEMRAY_VERSION => Ok(memray),
        other => bail!(
            "{} reports version {other:?} after installing {MEMRAY_VERSION}",
            memray.display()
        ),
    }
}

/// What `memray --version` prints, when it runs.
fn installed_version(memray: &Path) -> Option<String> {
    if !memray.is_file() {
        return None;
    }
    let version = command::stdout(Command::new(memray).arg("--version")).ok()?;
    Some(version.trim().to_string())
}
