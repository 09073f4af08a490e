//! Waiting for Ctrl-C, SIGTERM and child events without signal handlers.
//!
//! The three signals are blocked in the main thread before any other thread
//! starts, and taken synchronously with `sigtimedwait`. The trace loop then
//! decides what a signal means, with nothing running behind its back.

use std::time::Duration;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

/// What woke the trace loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// The user asked to stop (SIGINT or SIGTERM).
    Stop(Signal),
    /// A child changed state (SIGCHLD).
    Child,
    /// The timeout passed.
    Timeout,
}

/// The signals leakspy takes synchronously.
pub struct Signals {
    set: SigSet,
}

impl Signals {
    /// Blocks SIGINT, SIGTERM and SIGCHLD for the calling thread and the
    /// threads it starts afterwards.
    pub fn block() -> nix::Result<Self> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGCHLD);
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        Ok(Signals { set })
    }

    /// Waits at most `timeout` for one of the signals.
    pub fn wait(&self, timeout: Duration) -> Wakeup {
        let timeout = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: the set and the timespec are valid for the call; the
        // siginfo pointer may be null.
        let signal =
            unsafe { libc::sigtimedwait(self.set.as_ref(), std::ptr::null_mut(), &timeout) };
        match Signal::try_from(signal) {
            Ok(Signal::SIGCHLD) => Wakeup::Child,
            Ok(signal) if signal == Signal::SIGINT || signal == Signal::SIGTERM => {
                Wakeup::Stop(signal)
            }
            _ => Wakeup::Timeout,
        }
    }
}

/// Unblocks every signal; the started command must not inherit leakspy's mask.
pub fn unblock_all() -> nix::Result<()> {
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
}
