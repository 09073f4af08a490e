//! Facts about a process read from /proc/PID: whether it still runs, its
//! command line, its resident memory and its thread count.

use std::fs;
use std::io;

/// A process's resident memory, in bytes, and its thread count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusFigures {
    pub rss_bytes: u64,
    pub anon_rss_bytes: u64,
    pub threads: u32,
}

/// True while the process exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => is_alive(&stat),
        Err(_) => false,
    }
}

/// Whether a /proc/PID/stat line is of a process that is not a zombie.
fn is_alive(stat: &str) -> bool {
    process_state(stat).is_some_and(|state| state != 'Z' && state != 'X')
}

/// The kernel's flag on a task that has begun to exit (`PF_EXITING`).
const PF_EXITING: u64 = 0x4;

/// True once the process is gone, a zombie, or its main thread has begun
/// to exit: probes can no longer be attached to it (ESRCH) although its
/// exit may not be reported yet, as when it waits in a ptrace exit stop.
pub fn is_ending(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let flags = fields_after_name(&stat)
        .and_then(|mut fields| fields.nth(6))
        .and_then(|flags| flags.parse::<u64>().ok());
    !is_alive(&stat) || flags.is_some_and(|flags| flags & PF_EXITING != 0)
}

/// The fields of a /proc/PID/stat line after the command name, from the
/// state on. The name may hold spaces and parentheses, so they start
/// after the last ')'.
fn fields_after_name(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace())
}

/// The state letter of a /proc/PID/stat line.
fn process_state(stat: &str) -> Option<char> {
    fields_after_name(stat)?.next()?.chars().next()
}

/// The command line, arguments joined by spaces.
pub fn command_line(pid: u32) -> io::Result<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline"))?;
    let arguments: Vec<String> = raw
        .split(|byte| *byte == 0)
        .filter(|argument| !argument.is_empty())
        .map(|argument| String::from_utf8_lossy(argument).into_owned())
        .collect();
    Ok(arguments.join(" "))
}

/// Resident memory and threads from /proc/PID/status.
pub fn figures(pid: u32) -> io::Result<StatusFigures> {
    Ok(parse_figures(&fs::read_to_string(format!(
        "/proc/{pid}/status"
    ))?))
}

fn parse_figures(status: &str) -> StatusFigures {
    let number = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(0)
    };
    StatusFigures {
        rss_bytes: number("VmRSS:") * 1024,
        anon_rss_bytes: number("RssAnon:") * 1024,
        threads: u32::try_from(number("Threads:")).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_found_after_a_command_name_with_parentheses() {
        assert_eq!(process_state("42 (a) b) S 1 2 3"), Some('S'));
        assert_eq!(process_state("42 (zombie) Z 1"), Some('Z'));
        assert_eq!(process_state("garbage"), None);
    }

    #[test]
    fn residency_is_read_in_bytes_and_threads_counted() {
        let status = "Name:\tx\nVmRSS:\t    2048 kB\nRssAnon:\t     512 kB\nThreads:\t3\n";
        assert_eq!(
            parse_figures(status),
            StatusFigures {
                rss_bytes: 2048 * 1024,
                anon_rss_bytes: 512 * 1024,
                threads: 3,
            }
        );
    }

    #[test]
    fn this_process_runs_and_has_a_command_line() {
        let pid = std::process::id();
        assert!(is_running(pid));
        assert!(!is_ending(pid));
        assert!(!command_line(pid).unwrap().is_empty());
        let figures = figures(pid).unwrap();
        assert!(figures.rss_bytes > 0);
        assert!(figures.threads >= 1);
    }

    #[test]
    fn a_zombie_or_a_reaped_process_is_ending() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for yet: a zombie once it has exited.
        while is_running(pid) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(is_ending(pid));
        // Another test's child reaper may have reaped it already.
        let _ = child.wait();
        assert!(is_ending(pid));
    }
}
