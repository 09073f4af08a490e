//! The errors a user can meet, each with the hint that helps them. The CLI
//! prints the hint from the error kind, never by matching message text.

use thiserror::Error;

/// Everything that can stop a trace before or while it runs.
#[derive(Debug, Error)]
pub enum Error {
    #[error("leakspy needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE")]
    NotPrivileged,
    #[error("no process with PID {0}")]
    NoSuchProcess(u32),
    #[error("process {0} exited while leakspy was attaching to it")]
    ExitedDuringAttach(u32),
    #[error("this kernel cannot run leakspy: {0}")]
    KernelUnsupported(String),
    #[error("process {pid} maps no allocator leakspy can probe: {reason}")]
    NoAllocator { pid: u32, reason: String },
    #[error("cannot start {command:?}: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("loading the eBPF programs failed")]
    Load(#[source] aya::EbpfError),
    #[error("the eBPF program {program} failed to {action}")]
    Program {
        program: &'static str,
        action: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("attaching {program} to {object} through tracefs failed")]
    SharedProbe {
        program: &'static str,
        object: String,
        #[source]
        source: std::io::Error,
    },
    #[error("attaching {program} to {object} through a uprobe_multi link failed")]
    MultiProbe {
        program: &'static str,
        object: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the eBPF map {map} failed")]
    Map {
        map: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
    #[error("reading {what} of process {pid} failed")]
    Proc {
        pid: u32,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("tracing the started command failed: {0}")]
    Ptrace(#[source] nix::Error),
}

impl Error {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::NotPrivileged => Some("run it with sudo"),
            Error::NoSuchProcess(_) => Some("check the PID with `ps -p PID`"),
            Error::ExitedDuringAttach(_) => Some("the process ended; nothing was left attached"),
            Error::KernelUnsupported(_) => {
                Some("leakspy needs Linux 5.8+ with BTF, uprobes and tracefs")
            }
            Error::NoAllocator { .. } => Some(
                "leakspy probes glibc's malloc family; statically linked musl is not supported",
            ),
            Error::Load(_)
            | Error::Program { .. }
            | Error::SharedProbe { .. }
            | Error::MultiProbe { .. } => Some(
                "run `cargo xtask setup` (it mounts tracefs and bpffs), and check `dmesg` for the verifier's words",
            ),
            _ => None,
        }
    }
}
