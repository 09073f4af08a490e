//! Compiles the eBPF crate for bpfel-unknown-none with the nightly toolchain
//! (aya-build), so that `include_bytes_aligned!` can embed it in leakspy.
//! `cargo xtask setup` installs what this needs: rust-src and bpf-linker.

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let package = aya_build::Package {
        name: "profiler-ebpf",
        root_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../profiler-ebpf"),
        ..Default::default()
    };
    aya_build::build_ebpf([package], aya_build::Toolchain::default())
        .context("building the eBPF object failed; `cargo xtask setup` installs what it needs")
}
