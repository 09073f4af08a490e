//! The perf-event calls the shared uprobe events need, which aya does not
//! expose: opening a tracepoint-type perf event for one process, and
//! linking an eBPF program, with its attach cookie, to it.

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
/// _IO('$', 0).
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
/// The bpf(2) command BPF_LINK_CREATE, and its attach type for perf events.
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_PERF_EVENT: u32 = 41;

/// `union bpf_attr` as BPF_LINK_CREATE reads it for a perf event, padded
/// to a size every kernel with perf links accepts.
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    bpf_cookie: u64,
    padding: [u64; 4],
}

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
/// hit in any process the event is open for, with `cookie` as its attach
/// cookie. Closing the returned link detaches it, after a grace period.
pub fn attach_program(event: &OwnedFd, program: BorrowedFd, cookie: u64) -> io::Result<OwnedFd> {
    let attr = LinkCreateAttr {
        prog_fd: program.as_raw_fd() as u32,
        target_fd: event.as_raw_fd() as u32,
        attach_type: BPF_PERF_EVENT,
        bpf_cookie: cookie,
        ..LinkCreateAttr::default()
    };
    // SAFETY: the attribute is fully initialized and outlives the call; its
    // size is passed along.
    let link = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_LINK_CREATE,
            &attr as *const LinkCreateAttr,
            std::mem::size_of::<LinkCreateAttr>() as libc::c_uint,
        )
    };
    if link < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    let link = unsafe { OwnedFd::from_raw_fd(link as libc::c_int) };
    // SAFETY: the request takes an integer argument and `event` is an open
    // perf event.
    if unsafe { libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(link)
}
