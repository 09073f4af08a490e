//! The keeper: a child of leakspy that only sleeps. A perf event on each
//! shared uprobe event stays open for it, so the kernel keeps the uprobes
//! registered while the target's own events come and go. It dies with
//! leakspy (PR_SET_PDEATHSIG) and calls no allocator, so its breakpoints
//! are never hit.

use std::io;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};

/// The sleeping child.
pub struct Keeper {
    pid: Pid,
}

impl Keeper {
    pub fn start() -> io::Result<Self> {
        // SAFETY: the child calls only async-signal-safe system calls
        // (close_range, prctl, pause) until it is killed; it never returns
        // into Rust code.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => {
                // SAFETY: plain integer arguments. The child lets go of
                // leakspy's descriptors (probe links among them), which it
                // would otherwise hold open.
                unsafe {
                    libc::syscall(libc::SYS_close_range, 3, libc::c_uint::MAX, 0);
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                }
                loop {
                    // SAFETY: pause takes no argument.
                    unsafe { libc::pause() };
                }
            }
            ForkResult::Parent { child } => Ok(Keeper { pid: child }),
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
    }
}
