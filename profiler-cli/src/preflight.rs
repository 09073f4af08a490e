//! Checks made before anything is attached: privileges and kernel
//! features. Each failure becomes an error kind with its own hint.

use std::path::Path;

use crate::error::Error;

const CAP_SYS_ADMIN: u32 = 21;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Fails unless leakspy may load BPF programs, open uprobes and read other
/// processes' memory.
pub fn check_privileges() -> Result<(), Error> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    if has_needed_capabilities(effective) {
        Ok(())
    } else {
        Err(Error::NotPrivileged)
    }
}

fn has_needed_capabilities(effective: u64) -> bool {
    let has = |capability: u32| effective & (1 << capability) != 0;
    let bpf = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
    bpf && has(CAP_SYS_PTRACE)
}

/// Fails when the kernel lacks what precise mode needs.
pub fn check_kernel() -> Result<(), Error> {
    if !Path::new("/sys/bus/event_source/devices/uprobe").exists() {
        return Err(Error::KernelUnsupported(
            "no uprobe event source (/sys/bus/event_source/devices/uprobe)".into(),
        ));
    }
    Ok(())
}

/// Fails when `pid` names no running process.
pub fn check_process(pid: u32) -> Result<(), Error> {
    if crate::process::status::is_running(pid) {
        Ok(())
    } else {
        Err(Error::NoSuchProcess(pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpf_needs_sys_admin_or_bpf_with_perfmon_and_ptrace_always() {
        let bits = |capabilities: &[u32]| capabilities.iter().fold(0u64, |a, c| a | 1 << c);
        assert!(has_needed_capabilities(bits(&[
            CAP_SYS_ADMIN,
            CAP_SYS_PTRACE
        ])));
        assert!(has_needed_capabilities(bits(&[
            CAP_BPF,
            CAP_PERFMON,
            CAP_SYS_PTRACE
        ])));
        assert!(!has_needed_capabilities(bits(&[CAP_BPF, CAP_SYS_PTRACE])));
        assert!(!has_needed_capabilities(bits(&[CAP_SYS_ADMIN])));
        assert!(!has_needed_capabilities(0));
    }
}
