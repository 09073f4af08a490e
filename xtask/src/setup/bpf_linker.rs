//! bpf-linker, which links the eBPF object. It must load the same LLVM
//! major as the nightly that emits the bitcode; the crates.io default wants
//! an LLVM that cannot be had here, so setup builds it against the
//! nightly's own libLLVM when the one on PATH does not fit.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, anyhow};

use super::llvm_prefix;
use super::toolchain::Nightly;
use crate::{command, workspace};

/// The bpf-linker releases known to build with `--features llvm-<major>`
/// for the nightly's LLVM.
const VERSION: &str = "~0.13";

/// Makes sure the bpf-linker on PATH runs and loads the nightly's LLVM
/// major, building one when it does not.
pub fn ensure(nightly: &Nightly) -> Result<()> {
    let major = nightly.llvm_major;
    let Err(problem) = check(major) else {
        return Ok(());
    };
    eprintln!("setup: {problem}");
    eprintln!("setup: building bpf-linker against nightly's LLVM {major} (about a minute)");
    let prefix = llvm_prefix::prepare(nightly)?;
    command::run(
        command::cargo()
            .args(["install", "bpf-linker", "--locked", "--force"])
            .args(["--version", VERSION, "--no-default-features"])
            .arg(format!("--features=llvm-{major}"))
            .env("LLVM_PREFIX", &prefix),
    )?;
    check(major).map_err(|problem| anyhow!("bpf-linker was installed, but {problem}"))?;
    eprintln!(
        "setup: bpf-linker built; it loads libLLVM from {}/lib",
        prefix.display()
    );
    Ok(())
}

/// Ok when the bpf-linker on PATH runs and loads LLVM `major`; otherwise
/// what is wrong with it.
fn check(major: u32) -> Result<(), String> {
    let path = workspace::find_tool("bpf-linker")
        .ok_or_else(|| "bpf-linker is not installed".to_string())?;
    let runs = Command::new(&path)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !runs {
        return Err(format!("{} --version fails", path.display()));
    }
    match loaded_llvm_major(&path)? {
        Some(found) if found == major => Ok(()),
        Some(found) => Err(format!(
            "{} was built for LLVM {found}, the nightly has LLVM {major}",
            path.display()
        )),
        None => Err(format!(
            "{} does not load a shared libLLVM, so its LLVM version is unknown",
            path.display()
        )),
    }
}

/// The major version of the shared libLLVM that `ldd` says `binary` loads.
fn loaded_llvm_major(binary: &Path) -> Result<Option<u32>, String> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|error| format!("cannot run ldd: {error}"))?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| llvm_major_in_name(line.trim())))
}

/// The major in a library name: `libLLVM.so.22.1-rust-…`, `libLLVM-22.so`.
fn llvm_major_in_name(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("libLLVM")?;
    let digits: String = rest
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::llvm_major_in_name;

    #[test]
    fn reads_the_major_from_library_names() {
        let rust = "libLLVM.so.22.1-rust-1.97.0-nightly => /x/lib/libLLVM.so.22.1-rust-1.97.0-nightly (0x7f)";
        assert_eq!(llvm_major_in_name(rust), Some(22));
        assert_eq!(
            llvm_major_in_name("libLLVM-19.so.1 => /usr/lib/libLLVM-19.so.1 (0x7f)"),
            Some(19)
        );
        assert_eq!(
            llvm_major_in_name("libc.so.6 => /lib/libc.so.6 (0x7f)"),
            None
        );
    }
}
