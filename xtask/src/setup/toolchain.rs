//! The Rust toolchain pieces: the preinstalled nightly that compiles the
//! eBPF crate, its rust-src (for `-Z build-std=core`), and rustfmt and
//! clippy on the toolchain that runs xtask (for `cargo xtask test`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::command;

/// The toolchain aya-build compiles the eBPF crate with.
const NIGHTLY: &str = "nightly";

/// What the rest of setup needs to know about the nightly.
pub struct Nightly {
    /// The major version of the LLVM inside it, which bpf-linker must match.
    pub llvm_major: u32,
    /// Its sysroot, whose lib/ holds its libLLVM.
    pub sysroot: PathBuf,
}

/// Checks the nightly, adds the missing components, and describes it.
pub fn ensure() -> Result<Nightly> {
    ensure_nightly_installed()?;
    let version = command::stdout(rustc_nightly().arg("-vV"))?;
    let field = |name: &str| {
        version_field(&version, name)
            .with_context(|| format!("no \"{name}: …\" line in `rustc +{NIGHTLY} -vV`:\n{version}"))
    };
    let host = field("host")?;
    let llvm_major = llvm_major(field("LLVM version")?)
        .with_context(|| format!("cannot read the LLVM major version in:\n{version}"))?;
    ensure_components(Some(NIGHTLY), &["rust-src"], host)?;
    ensure_components(None, &["rustfmt", "clippy"], host)?;
    let sysroot = command::stdout(rustc_nightly().args(["--print", "sysroot"]))?;
    Ok(Nightly {
        llvm_major,
        sysroot: PathBuf::from(sysroot.trim()),
    })
}

fn ensure_nightly_installed() -> Result<()> {
    let list = command::stdout(Command::new("rustup").args(["toolchain", "list"]))?;
    let installed = list
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .any(|name| {
            name.strip_prefix("nightly-")
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()))
        });
    if !installed {
        bail!(
            "the `{NIGHTLY}` Rust toolchain is not installed, and it cannot be fetched on these \
             machines: use a machine image that has it (`rustup toolchain list`: {})",
            list.trim().replace('\n', ", ")
        );
    }
    Ok(())
}

/// Adds the `wanted` components missing from `toolchain` (None: the
/// toolchain running xtask) on `host`.
fn ensure_components(toolchain: Option<&str>, wanted: &[&str], host: &str) -> Result<()> {
    let with_toolchain = |command: &mut Command| {
        if let Some(toolchain) = toolchain {
            command.args(["--toolchain", toolchain]);
        }
    };
    let mut list = Command::new("rustup");
    list.args(["component", "list", "--installed"]);
    with_toolchain(&mut list);
    let installed = command::stdout(&mut list)?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|component| !has_component(&installed, component, host))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let name = toolchain.unwrap_or("the active toolchain");
    eprintln!("setup: adding {} to {name}", missing.join(" "));
    let mut add = Command::new("rustup");
    add.args(["component", "add"]).args(&missing);
    with_toolchain(&mut add);
    command::run(&mut add).with_context(|| {
        format!(
            "could not add {} to {name}; rustup's server may be unreachable from this machine",
            missing.join(" ")
        )
    })
}

/// Whether `rustup component list --installed` output names `component`,
/// listed bare (`rust-src`) or for `host` (`clippy-x86_64-unknown-linux-gnu`).
fn has_component(installed: &str, component: &str, host: &str) -> bool {
    let for_host = format!("{component}-{host}");
    installed
        .lines()
        .map(str::trim)
        .any(|line| line == component || line == for_host)
}

/// `rustc` of the nightly, through rustup (a plain `rustc +nightly` may hit
/// a toolchain's own rustc when rustup has put it first on PATH).
fn rustc_nightly() -> Command {
    let mut command = Command::new("rustup");
    command.args(["run", NIGHTLY, "rustc"]);
    command
}

/// The value of the `name: value` line of `rustc -vV` output.
fn version_field<'a>(version: &'a str, name: &str) -> Option<&'a str> {
    version.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim())
    })
}

/// The major of an LLVM version such as "22.1.4".
fn llvm_major(llvm_version: &str) -> Option<u32> {
    llvm_version.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_and_llvm_major() {
        let version = "rustc 1.97.0-nightly (e50aa6fba 2026-05-19)\nbinary: rustc\n\
                       host: x86_64-unknown-linux-gnu\nLLVM version: 22.1.4\n";
        assert_eq!(
            version_field(version, "host"),
            Some("x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            version_field(version, "LLVM version").and_then(llvm_major),
            Some(22)
        );
        assert_eq!(
            version_field("rustc 1.97.0-nightly\n", "LLVM version"),
            None
        );
    }

    #[test]
    fn finds_components_bare_or_for_the_host() {
        let host = "x86_64-unknown-linux-gnu";
        let installed =
            "cargo-x86_64-unknown-linux-gnu\nclippy-x86_64-unknown-linux-gnu\nrust-src\n";
        assert!(has_component(installed, "rust-src", host));
        assert!(has_component(installed, "clippy", host));
        assert!(!has_component(installed, "rustfmt", host));
        assert!(!has_component(
            "rust-std-x86_64-unknown-linux-gnu\n",
            "rust",
            host
        ));
    }
}
