//! Turns on the kernel's count of eBPF program run time for as long as the
//! benchmark runs, so that leakspy's reports carry the time its programs
//! took (`ebpf_run_time`). The count stays on while the file descriptor
//! BPF_ENABLE_STATS returns is open, and ends with it, even if the
//! benchmark is killed; the sysctl is left as it was.

use std::os::fd::{FromRawFd as _, OwnedFd};

use anyhow::{Result, bail};

/// `BPF_ENABLE_STATS` from the kernel's `enum bpf_cmd`.
const BPF_ENABLE_STATS: libc::c_long = 32;
/// `BPF_STATS_RUN_TIME` from `enum bpf_stats_type`.
const BPF_STATS_RUN_TIME: u32 = 0;

/// Program run time is counted while this lives.
pub struct RunTimeCount {
    _enabled: OwnedFd,
}

/// Starts counting program run time.
pub fn count_run_time() -> Result<RunTimeCount> {
    // The `enable_stats` member of `union bpf_attr`: one u32, its type.
    let attribute: u32 = BPF_STATS_RUN_TIME;
    // SAFETY: the kernel reads size_of::<u32>() bytes from a live local.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_ENABLE_STATS,
            &attribute as *const u32,
            std::mem::size_of::<u32>() as libc::c_uint,
        )
    };
    if fd < 0 {
        bail!(
            "BPF_ENABLE_STATS failed: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: a new file descriptor the kernel returned, owned by nobody else.
    let enabled = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    Ok(RunTimeCount { _enabled: enabled })
}

#[cfg(test)]
mod tests {
    use super::count_run_time;
    use crate::workspace;

    #[test]
    fn the_kernel_counts_while_the_descriptor_is_open() {
        if !workspace::is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs as root: BPF_ENABLE_STATS must be tried"
            );
            eprintln!("skipped: BPF_ENABLE_STATS needs root");
            return;
        }
        let switch = "/proc/sys/kernel/bpf_stats_enabled";
        let count = count_run_time().expect("BPF_ENABLE_STATS");
        assert_eq!(std::fs::read_to_string(switch).unwrap().trim(), "1");
        drop(count);
    }
}
