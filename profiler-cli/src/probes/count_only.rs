//! `--count-only`, for measurement: precise mode's probe sites, where
//! placement put them, with one program that only counts hits and no
//! return probes. A run with it costs what the breakpoints cost and little
//! more, which is the floor under precise mode's overhead.

use std::collections::HashSet;

use crate::probes::allocator_probes::{ProbeSite, RETURN_PROGRAM};
use crate::probes::uprobe_multi::MULTI_PROGRAMS;

/// The eBPF program that counts hits (profiler-ebpf/src/hit_counter.rs).
pub const COUNT_PROGRAM: &str = "count_hit";

/// `plan` with every entry site counting instead, once per place (glibc's
/// `memalign` and `aligned_alloc` are one function), and its return sites
/// and pymalloc's inlined places dropped.
pub fn counting_plan(plan: Vec<ProbeSite>) -> Vec<ProbeSite> {
    let mut seen = HashSet::new();
    plan.into_iter()
        .filter(|site| site.program != RETURN_PROGRAM)
        // Inlined places attach through uprobe_multi links, which only
        // their own programs can use.
        .filter(|site| !MULTI_PROGRAMS.contains(&site.program))
        .filter(|site| seen.insert((site.object.clone(), site.location.clone())))
        .map(|site| ProbeSite {
            program: COUNT_PROGRAM,
            ..site
        })
        .collect()
}

/// The report's note on a count-only trace.
pub fn note(hits: u64) -> String {
    format!(
        "count-only: the allocator probes were hit {hits} times; they only counted, nothing was recorded"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::allocator_probes::Location;

    fn site(program: &'static str, location: Location) -> ProbeSite {
        ProbeSite {
            program,
            object: "/lib/libc.so.6".into(),
            location,
            single_stepped: false,
            cookie: 0,
        }
    }

    #[test]
    fn entries_count_once_per_place_and_returns_go() {
        let plan = vec![
            site("free_enter", Location::FileOffset(0x98ef3)),
            site(RETURN_PROGRAM, Location::Symbol("malloc")),
            site(RETURN_PROGRAM, Location::FileOffset(0x99617)),
            site("malloc_enter", Location::Symbol("malloc")),
            site("memalign_enter", Location::FileOffset(0x99617)),
            site("aligned_alloc_enter", Location::FileOffset(0x99617)),
        ];
        let counting = counting_plan(plan);
        assert_eq!(
            counting,
            vec![
                site(COUNT_PROGRAM, Location::FileOffset(0x98ef3)),
                site(COUNT_PROGRAM, Location::Symbol("malloc")),
                site(COUNT_PROGRAM, Location::FileOffset(0x99617)),
            ]
        );
    }
}
