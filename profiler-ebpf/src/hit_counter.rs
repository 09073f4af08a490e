//! `--count-only`: a probe program that only counts its hits. Attached at
//! precise mode's entry sites, without the return probes, it measures the
//! floor under precise mode's cost: the breakpoints themselves.

use aya_ebpf::{macros::uprobe, programs::ProbeContext};

use crate::losses::count_probe_hit;

#[uprobe]
pub fn count_hit(ctx: ProbeContext) -> u32 {
    count_probe_hit(&ctx);
    0
}
