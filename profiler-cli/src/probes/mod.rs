//! The kernel side as userspace sees it: the embedded eBPF object, the
//! allocator probes and tracepoints attached from it, and the maps it fills.

pub mod allocator_probes;
pub mod growth_maps;
pub mod growth_tracepoints;
pub mod kernel_maps;
pub mod loader;
pub mod python_allocator_plan;
pub mod shared_uprobes;
