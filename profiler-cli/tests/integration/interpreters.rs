//! The Python interpreters the tests run against: pyenv's builds (shared
//! libpython, unstripped), Debian bookworm's host python3.11 (LTO, stripped,
//! non-PIE), and Debian's 3.9, 3.13 and 3.14 unpacked into chroots by
//! `cargo xtask setup`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `cargo xtask setup` unpacks the Debian chroots.
pub const DEBIAN_ROOTS: &str = "/var/tmp/leakspy-pythons";

/// One interpreter and how to start it.
#[derive(Clone, Debug)]
pub struct Interpreter {
    /// A short name for messages, such as "pyenv 3.11".
    pub name: String,
    /// The chroot it lives in, if any.
    pub root: Option<PathBuf>,
    /// The interpreter's path (inside `root` when there is one).
    pub executable: PathBuf,
}

impl Interpreter {
    /// The command line that runs `script` (a path as the interpreter sees it).
    pub fn argv(&self, script: &Path) -> Vec<String> {
        let mut argv = Vec::new();
        if let Some(root) = &self.root {
            argv.push("chroot".to_string());
            argv.push(root.display().to_string());
        }
        argv.push(self.executable.display().to_string());
        argv.push(script.display().to_string());
        argv
    }

    /// Where the fixtures are, as this interpreter sees them: copied into
    /// the chroot when there is one.
    pub fn fixtures(&self) -> PathBuf {
        let source = crate::support::fixtures_dir().join("python");
        let Some(root) = &self.root else {
            return source;
        };
        let inside = Path::new("/tmp/leakspy-fixtures");
        let outside = root.join(inside.strip_prefix("/").unwrap());
        std::fs::create_dir_all(&outside).unwrap();
        for entry in std::fs::read_dir(&source).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), outside.join(entry.file_name())).unwrap();
        }
        inside.to_path_buf()
    }
}

fn pyenv_root() -> Option<PathBuf> {
    let output = Command::new("pyenv").arg("root").output().ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// Every interpreter the tests expect, present or not: (name, interpreter).
pub fn expected() -> Vec<Interpreter> {
    let mut all = Vec::new();
    let pyenv = pyenv_root().unwrap_or_else(|| PathBuf::from("/root/.pyenv"));
    for minor in 9..=13 {
        let pattern = format!("3.{minor}.");
        let version = std::fs::read_dir(pyenv.join("versions"))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .find(|name| name.starts_with(&pattern))
            .unwrap_or_else(|| format!("3.{minor}.missing"));
        all.push(Interpreter {
            name: format!("pyenv {version}"),
            root: None,
            executable: pyenv
                .join("versions")
                .join(&version)
                .join(format!("bin/python3.{minor}")),
        });
    }
    all.push(Interpreter {
        name: "Debian bookworm 3.11".into(),
        root: None,
        executable: PathBuf::from("/usr/bin/python3.11"),
    });
    for (suite, minor) in [("bullseye", 9), ("trixie", 13), ("forky", 14)] {
        all.push(Interpreter {
            name: format!("Debian {suite} 3.{minor}"),
            root: Some(Path::new(DEBIAN_ROOTS).join(suite)),
            executable: PathBuf::from(format!("/usr/bin/python3.{minor}")),
        });
    }
    all
}

/// The expected interpreters that exist here. A missing one is a failure
/// under CI=true (setup installs them all) and a printed skip elsewhere.
pub fn available() -> Vec<Interpreter> {
    expected()
        .into_iter()
        .filter(|interpreter| {
            let path = match &interpreter.root {
                Some(root) => root.join(interpreter.executable.strip_prefix("/").unwrap()),
                None => interpreter.executable.clone(),
            };
            let present = path.exists();
            if !present {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{} is missing at {}; `cargo xtask setup` installs it",
                    interpreter.name,
                    path.display()
                );
                eprintln!(
                    "SKIPPED {}: not installed at {}",
                    interpreter.name,
                    path.display()
                );
            }
            present
        })
        .collect()
}
