//! The two perf-event calls the shared uprobe events need, which aya does
//! not expose: opening a tracepoint-type perf event for one process, and
//! attaching an eBPF program to it.

use std::io;
use std::os::fd::{AsRawFd as _, BorrowedFd, FromRawFd as _, OwnedFd};

/// PERF_TYPE_TRACEPOINT: `config` is a tracefs event id.
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `perf_event_attr` as of PERF_ATTR_SIZE_VER0, which every kernel takes.
const ATTR_SIZE: u32 = 64;
/// The `disabled` bit of the attribute flags: enabled once the program is on.
const FLAG_DISABLED: u64 = 1;
/// The descriptor is closed on exec.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// _IO('$', 0) and _IOW('$', 8, __u32).
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// The first 64 bytes of the kernel's `struct perf_event_attr`.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

/// Opens tracefs event `event_id` for process `pid` (all its threads, any
/// CPU), disabled: it records nothing itself, but while it is open the
/// event's uprobe fires in that process and runs the event's programs.
pub fn open_for_process(event_id: u64, pid: u32) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        kind: PERF_TYPE_TRACEPOINT,
        size: ATTR_SIZE,
        config: event_id,
        sample_period: 1,
        flags: FLAG_DISABLED,
        ..PerfEventAttr::default()
    };
    // SAFETY: the attribute is a valid, fully initialized 64-byte struct
    // that outlives the call; the other arguments are plain integers.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid as libc::pid_t,
            -1 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Adds `program` to the programs of `event`'s tracefs event, run on every
/// hit in any process the event is open for. Detaching it again (closing
/// `event`) waits for a grace period.
pub fn attach_program(event: &OwnedFd, program: BorrowedFd) -> io::Result<()> {
    let program = program.as_raw_fd();
    for (request, argument) in [
        (PERF_EVENT_IOC_SET_BPF, program as libc::c_ulong),
        (PERF_EVENT_IOC_ENABLE, 0),
    ] {
        // SAFETY: both requests take an integer argument and `event` is an
        // open perf event.
        if unsafe { libc::ioctl(event.as_raw_fd(), request, argument) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
