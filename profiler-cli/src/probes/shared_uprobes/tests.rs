//! The shared uprobe events against a real process: a Python child that
//! frees in a loop, probed on libc's `free` through tracefs. Hits arrive
//! while the target's event is open and stop once it is closed, and the
//! group's events are gone from tracefs once it is dropped.

use std::os::fd::{AsFd as _, OwnedFd};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use profiler_common::ActivityCounter;

use super::*;
use crate::probes::{growth_maps, loader};
use crate::symbolize::function_file_offset;

#[test]
fn only_dead_leakspy_groups_are_orphans() {
    let dead = "p:leakspy_5000000000_0/p0 /lib/x86_64-linux-gnu/libc.so.6:0x0000000000098930";
    assert_eq!(orphaned_event(dead), None, "no such pid: not a u32 pid");
    let dead = "p:leakspy_3999999_1/p0 /lib/libc.so.6:0x10";
    assert_eq!(orphaned_event(dead), Some("leakspy_3999999_1/p0"));
    let alive = format!("r:leakspy_{}_0/p1 /lib/libc.so.6:0x10", std::process::id());
    assert_eq!(orphaned_event(&alive), None);
    assert_eq!(orphaned_event("p:uprobes/p_bash_0x4 /bin/bash:0x4"), None);
}

/// The child, killed when dropped.
struct Target(Child);

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_enter(program: &OwnedFd) -> EventProgram<'_> {
    EventProgram {
        name: "free_enter",
        fd: program.as_fd(),
        cookie: 0,
    }
}

fn hits(ebpf: &aya::Ebpf) -> u64 {
    growth_maps::activity(ebpf)
        .unwrap()
        .get(ActivityCounter::AllocatorHits)
}

#[test]
fn a_target_event_comes_and_goes_while_the_uprobe_stays_defined() {
    if !nix::unistd::geteuid().is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shared uprobes need root under CI"
        );
        eprintln!("skipped: loading eBPF needs root");
        return;
    }
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    let offset = function_file_offset(libc, "free")
        .unwrap()
        .expect("libc defines free");
    let target = Target(
        Command::new("python3")
            .args(["-c", "while True: bytearray(100000)"])
            .spawn()
            .expect("python3 starts"),
    );
    let mut ebpf = loader::load().unwrap();
    let mut shared = SharedUprobes::new().expect("tracefs is mounted (cargo xtask setup)");
    let point = ProbePoint {
        object: libc.to_path_buf(),
        offset,
        is_return: false,
        occurrence: 0,
    };
    let program = loader::uprobe(&mut ebpf, "free_enter")
        .unwrap()
        .fd()
        .unwrap();
    let program: OwnedFd = program.as_fd().try_clone_to_owned().unwrap();
    let before = hits(&ebpf);
    let event = shared
        .attach(&point, &free_enter(&program), target.0.id())
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let attached = hits(&ebpf);
    assert!(attached > before, "no free was seen while attached");
    drop(event);
    let detached = hits(&ebpf);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        hits(&ebpf),
        detached,
        "frees are still seen after the close"
    );

    let again = shared
        .attach(&point, &free_enter(&program), target.0.id())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(hits(&ebpf) > detached, "a second attach sees frees again");
    drop(again);

    let group = Path::new(TRACEFS).join("events").join(&shared.group);
    assert!(group.exists());
    drop(shared);
    assert!(!group.exists(), "the group's events were not removed");
}
