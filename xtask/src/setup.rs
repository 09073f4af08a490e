//! `cargo xtask setup`: installs what building and testing leakspy need,
//! only what is missing, so that it takes well under two seconds when all
//! is in place. Progress goes to stderr, one line per thing it installs.

mod bpf_linker;
mod llvm_prefix;
mod mounts;
mod packages;
mod pythons;
mod toolchain;

use anyhow::Result;

/// Checks every piece, installing the missing ones, and prints one
/// summary line.
pub fn run() -> Result<()> {
    let nightly = toolchain::ensure()?;
    // Before bpf-linker: building it needs gcc as the linker.
    packages::ensure()?;
    bpf_linker::ensure(&nightly)?;
    let mounts = mounts::ensure()?;
    pythons::ensure()?;
    eprintln!(
        "setup: ok: nightly with LLVM {major} and rust-src, bpf-linker for LLVM {major}, {mounts}, \
         Debian packages {packages}, Debian pythons in {roots}",
        major = nightly.llvm_major,
        packages = packages::PACKAGES.join(" "),
        roots = pythons::DEBIAN_ROOTS,
    );
    Ok(())
}
