//! The kernel file systems leakspy uses: tracefs (uprobe events) and bpffs.
//! Mounted when missing and running as root; a warning otherwise.

use std::process::Command;

use anyhow::{Context as _, Result};

use crate::{command, workspace};

/// (mount point, file system type, source) of each needed mount.
const MOUNTS: &[(&str, &str, &str)] = &[
    ("/sys/kernel/tracing", "tracefs", "nodev"),
    ("/sys/fs/bpf", "bpf", "bpf"),
];

/// Mounts what is missing, and describes the result for setup's summary.
pub fn ensure() -> Result<String> {
    let table = std::fs::read_to_string("/proc/mounts").context("cannot read /proc/mounts")?;
    let mut summary = Vec::new();
    for &(point, kind, source) in MOUNTS {
        if is_mounted(&table, point, kind) {
            summary.push(format!("{kind} on {point}"));
        } else if workspace::is_root() {
            eprintln!("setup: mounting {kind} on {point}");
            command::run(Command::new("mount").args(["-t", kind, source, point]))?;
            summary.push(format!("{kind} on {point}"));
        } else {
            eprintln!(
                "setup: warning: {kind} is not mounted on {point}, and mounting it needs root"
            );
            summary.push(format!("{kind} NOT on {point}"));
        }
    }
    Ok(summary.join(", "))
}

/// Whether the /proc/mounts `table` has a `kind` file system on `point`.
fn is_mounted(table: &str, point: &str, kind: &str) -> bool {
    table.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(1) == Some(&point) && fields.get(2) == Some(&kind)
    })
}

#[cfg(test)]
mod tests {
    use super::is_mounted;

    #[test]
    fn finds_a_mount_by_point_and_type() {
        let table = "nodev /sys/kernel/tracing tracefs rw,relatime 0 0\nsysfs /sys sysfs rw 0 0\n";
        assert!(is_mounted(table, "/sys/kernel/tracing", "tracefs"));
        assert!(!is_mounted(table, "/sys/fs/bpf", "bpf"));
        assert!(!is_mounted(table, "/sys", "tracefs"));
    }
}
