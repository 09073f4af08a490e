//! The time the kernel spent running leakspy's eBPF programs, as it counts
//! it: only while run-time statistics are on (the sysctl
//! `kernel.bpf_stats_enabled`, or a BPF_ENABLE_STATS file descriptor held
//! by any process). leakspy does not turn them on: counting puts two clock
//! reads on every run of every eBPF program on the machine.
//!
//! The figure is the programs' own run time. It leaves out what a probe
//! costs around its program: the breakpoint trap of a uprobe, and the
//! tracepoint's dispatch.

use std::time::Duration;

use aya::Ebpf;

use crate::report::EbpfRunTime;

/// Where the kernel says whether it counts program run time.
const STATS_SWITCH: &str = "/proc/sys/kernel/bpf_stats_enabled";

/// The run time of every program in `ebpf`, or `None` when the kernel is
/// not counting now (the figures would be zero or stale).
pub fn total(ebpf: &Ebpf) -> Option<EbpfRunTime> {
    if !counting() {
        return None;
    }
    let mut time = Duration::ZERO;
    let mut runs = 0;
    for (name, program) in ebpf.programs() {
        match program.info() {
            Ok(info) => {
                log::debug!(
                    "program {name}: {:?} over {} runs",
                    info.run_time(),
                    info.run_count()
                );
                time += info.run_time();
                runs += info.run_count();
            }
            Err(error) => log::debug!("no run time for program {name}: {error}"),
        }
    }
    Some(EbpfRunTime {
        seconds: time.as_secs_f64(),
        runs,
    })
}

/// Whether the kernel counts program run time now.
fn counting() -> bool {
    std::fs::read_to_string(STATS_SWITCH).is_ok_and(|value| value.trim() == "1")
}

/// The report's note on the figure, over a trace of `trace_seconds`.
pub fn describe(run_time: &EbpfRunTime, trace_seconds: f64) -> String {
    let share = if trace_seconds > 0.0 {
        format!(
            " ({:.3}% of the trace)",
            run_time.seconds / trace_seconds * 100.0
        )
    } else {
        String::new()
    };
    format!(
        "the kernel counted {:.1} ms in leakspy's eBPF programs over {} runs{share}; a uprobe's breakpoint trap around its program is not in that figure",
        run_time.seconds * 1000.0,
        run_time.runs
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_run_time_as_a_share_of_the_trace() {
        let run_time = EbpfRunTime {
            seconds: 0.0125,
            runs: 4000,
        };
        let note = describe(&run_time, 10.0);
        assert!(note.starts_with("the kernel counted 12.5 ms"), "{note}");
        assert!(
            note.contains("over 4000 runs (0.125% of the trace)"),
            "{note}"
        );
        assert!(!describe(&run_time, 0.0).contains("of the trace"));
    }
}
