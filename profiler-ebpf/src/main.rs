//! leakspy's eBPF object: the allocator probes (every call in precise mode,
//! sampled bursts in growth mode), growth mode's page-fault and memory
//! system-call tracepoints, the stack capture they share, and a probe that
//! only counts hits, for measurement.
//!
//! Built for `bpfel-unknown-none` by profiler-cli's build.rs (aya-build) and
//! embedded in the `leakspy` binary. On the host it compiles to an empty
//! program, so that `cargo clippy --workspace` can check it.
#![cfg_attr(target_arch = "bpf", no_std)]
#![cfg_attr(target_arch = "bpf", no_main)]
// atomic_xadd: the bpf target offers no AtomicU64::fetch_add (no CAS).
#![cfg_attr(target_arch = "bpf", feature(core_intrinsics))]
#![cfg_attr(
    target_arch = "bpf",
    expect(
        internal_features,
        reason = "atomic_xadd is the only atomic add on bpf"
    )
)]

#[cfg(target_arch = "bpf")]
mod accounting;
#[cfg(target_arch = "bpf")]
mod allocator_probes;
#[cfg(target_arch = "bpf")]
mod finalizing;
#[cfg(target_arch = "bpf")]
mod hit_counter;
#[cfg(target_arch = "bpf")]
mod inlined_allocator;
#[cfg(target_arch = "bpf")]
mod losses;
#[cfg(target_arch = "bpf")]
mod maps;
#[cfg(target_arch = "bpf")]
mod memory_syscalls;
#[cfg(target_arch = "bpf")]
mod page_faults;
#[cfg(target_arch = "bpf")]
mod page_owners;
#[cfg(target_arch = "bpf")]
mod pending;
#[cfg(target_arch = "bpf")]
mod python_walk;
#[cfg(target_arch = "bpf")]
mod sampling;
#[cfg(target_arch = "bpf")]
mod stack_capture;

#[cfg(target_arch = "bpf")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // The verifier rejects any path that could reach here; this loop only
    // satisfies the compiler.
    loop {}
}

/// GPL is needed for bpf_probe_read_user and bpf_get_stack.
#[cfg(target_arch = "bpf")]
#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";

#[cfg(not(target_arch = "bpf"))]
fn main() {}
