//! `leakspy run`: starting the command under ptrace, so that it can be
//! traced from its first instruction and across exec.
//!
//! The child stops at each exec (its old memory is gone, and the allocator
//! it will use is not mapped yet) and once more just before it exits (its
//! memory is still there to read). In between it runs freely; signals it
//! receives are passed on unchanged. ptrace is used for nothing else, and
//! if leakspy dies the kernel detaches the child, which runs on.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sys::ptrace::{self, Event, Options};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::error::Error;
use crate::session::signals::unblock_all;

/// Why the child stopped, or that it is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildStop {
    /// It replaced its program (also the first stop after starting).
    Exec,
    /// It entered or left a system call (only while syscalls are watched).
    Syscall,
    /// It is about to exit; its memory can still be read.
    Exit,
    /// A signal is about to be delivered to it.
    Signal(Signal),
    /// It exited with this code (128 + signal number when killed).
    Gone(i32),
}

/// How to let a stopped child go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Stop again at the next system call: used until its allocator is mapped.
    UntilSyscall,
    /// Run until the next exec, exit or signal.
    Freely,
}

/// A command started by leakspy and traced with ptrace.
#[derive(Debug)]
pub struct SpawnedChild {
    pid: Pid,
    /// The signal to deliver when the child is resumed.
    pending_signal: Option<Signal>,
}

impl SpawnedChild {
    /// Starts `argv` stopped at its first exec.
    pub fn start(argv: &[OsString]) -> Result<SpawnedChild, Error> {
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        // SAFETY: the closure only makes async-signal-safe system calls.
        unsafe {
            command.pre_exec(|| {
                unblock_all().map_err(std::io::Error::from)?;
                ptrace::traceme().map_err(std::io::Error::from)
            });
        }
        let child = command.spawn().map_err(|source| Error::Spawn {
            command: argv[0].to_string_lossy().into_owned(),
            source,
        })?;
        let pid = Pid::from_raw(child.id() as i32);
        // The exec under PTRACE_TRACEME stops the child with SIGTRAP.
        match waitpid(pid, Some(WaitPidFlag::__WALL)).map_err(Error::Ptrace)? {
            WaitStatus::Stopped(_, Signal::SIGTRAP) => {}
            WaitStatus::Exited(..) | WaitStatus::Signaled(..) => {
                return Err(Error::ExitedDuringAttach(pid.as_raw() as u32));
            }
            other => log::debug!("first stop of the child: {other:?}"),
        }
        let options = Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_TRACEEXIT
            | Options::PTRACE_O_TRACESYSGOOD;
        ptrace::setoptions(pid, options).map_err(Error::Ptrace)?;
        Ok(SpawnedChild {
            pid,
            pending_signal: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// The next stop, if the child has one to report; never blocks unless
    /// `block` is set.
    pub fn next_stop(&mut self, block: bool) -> Result<Option<ChildStop>, Error> {
        let mut flags = WaitPidFlag::__WALL;
        if !block {
            flags |= WaitPidFlag::WNOHANG;
        }
        let status = match waitpid(self.pid, Some(flags)) {
            Ok(status) => status,
            Err(nix::Error::ECHILD) => return Ok(Some(ChildStop::Gone(0))),
            Err(error) => return Err(Error::Ptrace(error)),
        };
        Ok(match status {
            WaitStatus::StillAlive => None,
            WaitStatus::Exited(_, code) => Some(ChildStop::Gone(code)),
            WaitStatus::Signaled(_, signal, _) => Some(ChildStop::Gone(128 + signal as i32)),
            WaitStatus::PtraceEvent(_, _, event) if event == Event::PTRACE_EVENT_EXEC as i32 => {
                Some(ChildStop::Exec)
            }
            WaitStatus::PtraceEvent(_, _, event) if event == Event::PTRACE_EVENT_EXIT as i32 => {
                Some(ChildStop::Exit)
            }
            WaitStatus::PtraceSyscall(_) => Some(ChildStop::Syscall),
            WaitStatus::Stopped(_, signal) => {
                self.pending_signal = Some(signal);
                Some(ChildStop::Signal(signal))
            }
            other => {
                log::debug!("ignored child status {other:?}");
                Some(ChildStop::Syscall)
            }
        })
    }

    /// Lets the stopped child go on, delivering the signal it stopped for.
    pub fn resume(&mut self, how: Resume) -> Result<(), Error> {
        let signal = self.pending_signal.take();
        let result = match how {
            Resume::UntilSyscall => ptrace::syscall(self.pid, signal),
            Resume::Freely => ptrace::cont(self.pid, signal),
        };
        match result {
            // Killed while stopped: its exit is reported by the next wait.
            Ok(()) | Err(nix::Error::ESRCH) => Ok(()),
            Err(error) => Err(Error::Ptrace(error)),
        }
    }
}
