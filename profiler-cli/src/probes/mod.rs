//! The kernel side as userspace sees it: the embedded eBPF object, the
//! allocator probes and tracepoints attached from it, where the probes go
//! on each function, the maps the programs fill, and the programs' run time.

pub mod allocator_probes;
pub mod count_only;
pub mod growth_maps;
pub mod growth_tracepoints;
pub mod inlined_plan;
pub mod kernel_maps;
pub mod loader;
pub mod placement;
pub mod plan_finish;
pub mod program_run_time;
pub mod python_allocator_plan;
pub mod shared_uprobes;
pub mod uprobe_multi;
