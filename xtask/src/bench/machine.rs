//! What the figures were measured on: the CPU, its cores, the kernel, the
//! date, the interpreter and the commit of leakspy.

use std::path::Path;
use std::process::Command;

use crate::{command, workspace};

/// The facts BENCHMARKS.md opens with.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    /// The UTC date of the run, YYYY-MM-DD.
    pub date: String,
    /// `python --version` and its path.
    pub python: String,
    /// The workspace's commit, with "+ uncommitted changes" when dirty.
    pub commit: String,
    /// The 1-minute load average when the benchmark began and ended: how
    /// busy the machine was with other work.
    pub load_average: String,
}

impl Machine {
    /// Reads the facts; a fact that cannot be read is "unknown".
    /// `load_at_start` is [`load_average`] when the benchmark began.
    pub fn describe(python: &Path, load_at_start: &str) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let read = |command: &mut Command| {
            command::stdout(command)
                .map_or_else(|_| "unknown".to_string(), |out| out.trim().to_string())
        };
        Machine {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |release| release.trim().to_string()),
            date: read(Command::new("date").args(["-u", "+%Y-%m-%d"])),
            python: format!(
                "{} ({})",
                read(Command::new(python).arg("--version")),
                python.display()
            ),
            commit: git_commit(),
            load_average: format!(
                "{load_at_start} at the start, {} at the end",
                load_average()
            ),
        }
    }
}

/// The 1-minute load average, from /proc/loadavg.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|loads| loads.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The first "model name" of /proc/cpuinfo.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// The short commit hash of the workspace, marked when the tree is dirty.
fn git_commit() -> String {
    let git = |args: &[&str]| {
        command::stdout(
            Command::new("git")
                .current_dir(workspace::root())
                .args(args),
        )
        .map(|out| out.trim().to_string())
    };
    match (
        git(&["rev-parse", "--short", "HEAD"]),
        git(&["status", "--porcelain"]),
    ) {
        (Ok(commit), Ok(status)) if status.is_empty() => commit,
        (Ok(commit), Ok(_)) => format!("{commit} + uncommitted changes"),
        _ => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::cpu_model;

    #[test]
    fn reads_the_first_model_name() {
        let cpuinfo =
            "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n\nmodel name\t: other\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) Processor")
        );
        assert_eq!(cpu_model(""), None);
    }
}
