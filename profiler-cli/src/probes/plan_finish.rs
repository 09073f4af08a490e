//! The last step of every probe plan, libc's and the interpreter's: move
//! each function's sites where placement says, then, for `--count-only`,
//! swap their programs for the hit counter.

use crate::config::ProbeOptions;
use crate::probes::allocator_probes::ProbeSite;
use crate::probes::{count_only, placement};

/// `plan`, placed and programmed as `options` say.
pub fn finish_plan(plan: Vec<ProbeSite>, options: ProbeOptions) -> Vec<ProbeSite> {
    let placed = placement::place(plan, options.placement);
    if options.count_only {
        count_only::counting_plan(placed)
    } else {
        placed
    }
}
