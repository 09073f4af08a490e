//! Starting a command in its own process group, waiting for it under a time
//! limit, and reading its resource usage from wait4: a tool's CPU time and
//! peak RSS are its own (and its reaped children's) this way.

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::command;

/// What wait4 says a finished process used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// The largest RSS of the process, or of any child it reaped.
    pub peak_rss_bytes: u64,
}

impl Usage {
    pub fn cpu_seconds(&self) -> f64 {
        self.user_seconds + self.system_seconds
    }
}

/// How a process ended.
#[derive(Clone, Copy, Debug)]
pub struct Exit {
    pub status: ExitStatus,
    /// From the spawn to the reaping.
    pub elapsed: Duration,
    pub usage: Usage,
    /// It was killed for outliving its time limit.
    pub timed_out: bool,
}

/// A started process, leader of its own process group. Dropping it without
/// [`Started::wait`] kills the group and reaps the process.
pub struct Started {
    child: Child,
    started: Instant,
    reaped: bool,
}

impl Started {
    /// Spawns `command` in a new process group.
    pub fn spawn(command: &mut Command) -> Result<Started> {
        let started = Instant::now();
        let child = command
            .process_group(0)
            .spawn()
            .with_context(|| format!("could not start `{}`", command::describe(command)))?;
        Ok(Started {
            child,
            started,
            reaped: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// When it was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The child, to take its piped stdio.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Sends `signal` to the process (not its group).
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill has no memory preconditions; the pid is our
        // unreaped child, so it cannot have been reused.
        unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
    }

    /// Waits for the process; after `limit` kills its whole group.
    pub fn wait(mut self, limit: Duration) -> Result<Exit> {
        let pid = self.pid() as libc::pid_t;
        let timed_out = Arc::new(AtomicBool::new(false));
        let (cancel, cancelled) = mpsc::channel::<()>();
        let watchdog = {
            let timed_out = Arc::clone(&timed_out);
            std::thread::spawn(move || {
                if cancelled.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
                    timed_out.store(true, Ordering::SeqCst);
                    kill_group(pid);
                }
            })
        };
        let reaped = wait4(pid);
        self.reaped = true;
        let elapsed = self.started.elapsed();
        // The watchdog may have ended already: then nobody receives this.
        let _ = cancel.send(());
        let _ = watchdog.join();
        let (status, usage) = reaped?;
        Ok(Exit {
            status,
            elapsed,
            usage,
            timed_out: timed_out.load(Ordering::SeqCst),
        })
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if !self.reaped {
            let pid = self.pid() as libc::pid_t;
            kill_group(pid);
            let _ = wait4(pid);
        }
    }
}

/// SIGKILL to the process group led by `pid`.
fn kill_group(pid: libc::pid_t) {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
}

/// Reaps `pid`, retrying on EINTR.
fn wait4(pid: libc::pid_t) -> Result<(ExitStatus, Usage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data, valid when zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals of the right types.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).with_context(|| format!("wait4 on process {pid}"));
        }
    }
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    Ok((
        ExitStatus::from_raw(status),
        Usage {
            user_seconds: seconds(usage.ru_utime),
            system_seconds: seconds(usage.ru_stime),
            // ru_maxrss is in KiB on Linux.
            peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        },
    ))
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::Duration;

    use super::Started;

    #[test]
    fn reports_the_exit_and_the_usage_of_a_child() {
        let started = Started::spawn(Command::new("sh").args(["-c", "exit 3"])).unwrap();
        let exit = started.wait(Duration::from_secs(30)).unwrap();
        assert_eq!(exit.status.code(), Some(3));
        assert!(!exit.timed_out);
        assert!(exit.usage.peak_rss_bytes > 0);
    }

    #[test]
    fn kills_the_group_past_the_limit() {
        let started = Started::spawn(Command::new("sleep").arg("30")).unwrap();
        let exit = started.wait(Duration::from_millis(100)).unwrap();
        assert!(exit.timed_out);
        assert!(exit.elapsed < Duration::from_secs(10));
    }
}
