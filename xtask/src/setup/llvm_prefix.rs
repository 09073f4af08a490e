//! The LLVM_PREFIX folder bpf-linker is built against: a lib/ holding two
//! symlinks to the nightly's own libLLVM, one named `libLLVM.so` (for the
//! build) and one with the library's own name (which bpf-linker loads from
//! there every time it runs, so the folder lives outside /tmp).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::toolchain::Nightly;
use crate::workspace;

/// Creates or refreshes the folder for `nightly` and returns it.
pub fn prepare(nightly: &Nightly) -> Result<PathBuf> {
    let library = nightly_libllvm(&nightly.sysroot)?;
    let name = library
        .file_name()
        .expect("a file found in a folder has a name");
    let prefix = data_dir().join(format!("llvm-{}", nightly.llvm_major));
    let lib = prefix.join("lib");
    fs::create_dir_all(&lib).with_context(|| format!("cannot create {}", lib.display()))?;
    // Drop the links of an earlier nightly: they would dangle.
    for entry in fs::read_dir(&lib).with_context(|| format!("cannot read {}", lib.display()))? {
        let path = entry?.path();
        if path.is_symlink() {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    for link in [Path::new("libLLVM.so"), Path::new(name)] {
        let link = lib.join(link);
        std::os::unix::fs::symlink(&library, &link)
            .with_context(|| format!("cannot link {} to {}", link.display(), library.display()))?;
    }
    Ok(prefix)
}

/// The nightly's shared libLLVM: `lib/libLLVM.so.<ver>-rust-<ver>-nightly`,
/// not the `libLLVM-<major>-rust-….so` linker script beside it.
fn nightly_libllvm(sysroot: &Path) -> Result<PathBuf> {
    let lib = sysroot.join("lib");
    let mut found: Vec<PathBuf> = fs::read_dir(&lib)
        .with_context(|| format!("cannot read {}", lib.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libLLVM.so."))
        })
        .collect();
    found.sort();
    let library = found
        .pop()
        .with_context(|| format!("no libLLVM.so.* in {}", lib.display()))?;
    fs::canonicalize(&library).with_context(|| format!("cannot resolve {}", library.display()))
}

/// leakspy's own data folder: $XDG_DATA_HOME/leakspy, else
/// ~/.local/share/leakspy.
fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map_or_else(|| workspace::home_dir().join(".local/share"), PathBuf::from)
        .join("leakspy")
}
