//! The ways a workload is run, one table row each: uninstrumented, under
//! leakspy's modes, under tracemalloc and under memray. Each mode turns a
//! workload into the command line that runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The programs the modes run.
#[derive(Clone, Debug)]
pub struct Tools {
    /// The benchmark interpreter (pyenv's 3.11).
    pub python: PathBuf,
    pub leakspy: PathBuf,
    /// `memray` in the harness's virtualenv; `None` when it could not be
    /// installed (the memray rows then fail).
    pub memray: Option<PathBuf>,
}

/// What runs the workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tool {
    /// `python W.py SIZE`.
    Uninstrumented,
    /// `leakspy run FLAGS -o REPORT -- python W.py SIZE`.
    Leakspy(&'static [&'static str]),
    /// `PYTHONTRACEMALLOC=FRAMES python W.py SIZE`.
    Tracemalloc(u32),
    /// `memray run FLAGS -o CAPTURE W.py SIZE` (memray's script runs the
    /// same interpreter, from its virtualenv).
    Memray(&'static [&'static str]),
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    /// Its name for `--mode`.
    pub name: &'static str,
    /// Its row label.
    pub label: &'static str,
    pub tool: Tool,
}

/// Every mode, the uninstrumented baseline first.
pub const MODES: &[Mode] = &[
    Mode {
        name: "uninstrumented",
        label: "uninstrumented",
        tool: Tool::Uninstrumented,
    },
    Mode {
        name: "growth",
        label: "leakspy growth",
        tool: Tool::Leakspy(&["--mode", "growth"]),
    },
    Mode {
        name: "growth-detection",
        label: "leakspy growth, detection only (--overhead-budget 0)",
        tool: Tool::Leakspy(&["--mode", "growth", "--overhead-budget", "0"]),
    },
    Mode {
        name: "precise",
        label: "leakspy precise",
        tool: Tool::Leakspy(&["--mode", "precise"]),
    },
    Mode {
        name: "precise-floor",
        label: "uprobes counting only (precise's floor, --count-only)",
        tool: Tool::Leakspy(&["--mode", "precise", "--count-only"]),
    },
    Mode {
        name: "tracemalloc",
        label: "tracemalloc, 1 frame",
        tool: Tool::Tracemalloc(1),
    },
    Mode {
        name: "tracemalloc-25",
        label: "tracemalloc, 25 frames",
        tool: Tool::Tracemalloc(25),
    },
    Mode {
        name: "memray",
        label: "memray",
        tool: Tool::Memray(&[]),
    },
    Mode {
        name: "memray-python-allocators",
        label: "memray --trace-python-allocators",
        tool: Tool::Memray(&["--trace-python-allocators"]),
    },
    Mode {
        name: "memray-native",
        label: "memray --native",
        tool: Tool::Memray(&["--native"]),
    },
];

/// The file, in a run's scratch folder, that `leakspy run` writes its
/// report to.
pub const LEAKSPY_REPORT: &str = "leakspy-report.json";

/// The modes of the steady-state runs: those cheap enough to run for
/// seconds, whose cost depends on time (growth mode's bursts).
pub const STEADY_STATE_MODES: &[&str] = &["uninstrumented", "growth", "growth-detection"];

/// The baseline every ratio is taken against.
pub const BASELINE: &str = "uninstrumented";

impl Mode {
    pub fn is_baseline(&self) -> bool {
        self.name == BASELINE
    }

    pub fn uses_memray(&self) -> bool {
        matches!(self.tool, Tool::Memray(_))
    }

    /// The command that runs `script SIZE` in this mode; the tool's own
    /// output files go to `scratch`. `None` for memray modes without memray.
    pub fn command(
        &self,
        tools: &Tools,
        script: &Path,
        size: u64,
        scratch: &Path,
    ) -> Option<Command> {
        let size = size.to_string();
        let mut command = match self.tool {
            Tool::Uninstrumented | Tool::Tracemalloc(_) => {
                let mut command = Command::new(&tools.python);
                command.arg(script).arg(&size);
                command
            }
            Tool::Leakspy(flags) => {
                let mut command = Command::new(&tools.leakspy);
                command
                    .arg("run")
                    .args(flags)
                    .arg("-o")
                    .arg(scratch.join(LEAKSPY_REPORT))
                    .arg("--")
                    .arg(&tools.python)
                    .arg(script)
                    .arg(&size);
                command
            }
            Tool::Memray(flags) => {
                let mut command = Command::new(tools.memray.as_ref()?);
                command
                    .args(["run", "--quiet", "--force"])
                    .args(flags)
                    .arg("-o")
                    .arg(scratch.join("memray-capture.bin"))
                    .arg(script)
                    .arg(&size);
                command
            }
        };
        // Every mode runs with the same environment but for tracemalloc's
        // switch; no .pyc files are written into the workspace.
        command
            .env_remove("PYTHONMALLOC")
            .env_remove("PYTHONTRACEMALLOC")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        if let Tool::Tracemalloc(frames) = self.tool {
            command.env("PYTHONTRACEMALLOC", frames.to_string());
        }
        Some(command)
    }

    /// For leakspy modes, the command that asks leakspy whether it accepts
    /// this mode's flags (clap parses them before it prints the help).
    pub fn support_check(&self, tools: &Tools) -> Option<Command> {
        let Tool::Leakspy(flags) = self.tool else {
            return None;
        };
        let mut command = Command::new(&tools.leakspy);
        command.arg("run").args(flags).arg("--help");
        Some(command)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::command::describe;

    fn by_name(name: &str) -> &'static Mode {
        MODES.iter().find(|mode| mode.name == name).unwrap()
    }

    fn tools() -> Tools {
        Tools {
            python: "/py/python3.11".into(),
            leakspy: "/bin/leakspy".into(),
            memray: Some("/venv/bin/memray".into()),
        }
    }

    fn line(name: &str) -> String {
        let mode = by_name(name);
        describe(
            &mode
                .command(&tools(), Path::new("/w/churn.py"), 7, Path::new("/s"))
                .unwrap(),
        )
    }

    #[test]
    fn names_are_unique_and_the_baseline_comes_first() {
        assert!(MODES[0].is_baseline());
        for (index, mode) in MODES.iter().enumerate() {
            assert!(
                MODES[index + 1..]
                    .iter()
                    .all(|other| other.name != mode.name)
            );
        }
    }

    #[test]
    fn builds_each_tools_command_line() {
        assert_eq!(line("uninstrumented"), "python3.11 /w/churn.py 7");
        assert_eq!(
            line("growth-detection"),
            "leakspy run --mode growth --overhead-budget 0 -o /s/leakspy-report.json -- /py/python3.11 /w/churn.py 7"
        );
        assert_eq!(
            line("memray-native"),
            "memray run --quiet --force --native -o /s/memray-capture.bin /w/churn.py 7"
        );
        let mode = by_name("tracemalloc-25");
        let command = mode
            .command(&tools(), Path::new("/w/a.py"), 1, Path::new("/s"))
            .unwrap();
        assert!(
            command
                .get_envs()
                .any(|(key, value)| key == "PYTHONTRACEMALLOC" && value == Some("25".as_ref()))
        );
    }

    #[test]
    fn only_leakspy_modes_check_their_flags() {
        let check = by_name("precise-floor").support_check(&tools()).unwrap();
        assert_eq!(
            describe(&check),
            "leakspy run --mode precise --count-only --help"
        );
        assert!(by_name("memray").support_check(&tools()).is_none());
    }
}
