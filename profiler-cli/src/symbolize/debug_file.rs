//! Finding the separate debug file of a binary: by build ID under
//! /usr/lib/debug/.build-id, then by `.gnu_debuglink` (next to the binary, in
//! its `.debug/` subdirectory, and under /usr/lib/debug), each looked up in
//! the target's root first and then in the host's. Also finds the dwz
//! supplementary file that a `.gnu_debugaltlink` names.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::crc32::crc32;
use super::elf_object::ElfObject;

/// Where distributions install debug files.
const DEBUG_DIR: &str = "/usr/lib/debug";

/// The directories absolute paths are looked up under, in order.
#[derive(Clone, Debug)]
pub(crate) struct SearchRoots {
    roots: Vec<PathBuf>,
}

impl SearchRoots {
    /// The target's root (which reaches into chroots and containers), then
    /// leakspy's own unless it is the same directory.
    pub fn for_process(pid: u32) -> Self {
        let process_root = PathBuf::from(format!("/proc/{pid}/root"));
        let host_root = PathBuf::from("/");
        let identity = |path: &Path| {
            let metadata = std::fs::metadata(path).ok()?;
            Some((metadata.dev(), metadata.ino()))
        };
        let same = identity(&process_root).is_some_and(|id| Some(id) == identity(&host_root));
        let roots = if same {
            vec![host_root]
        } else {
            vec![process_root, host_root]
        };
        Self { roots }
    }

    #[cfg(test)]
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self { roots }
    }

    /// `absolute` (a path as the target sees it) under each root in turn.
    fn resolve<'a>(&'a self, absolute: &'a Path) -> impl Iterator<Item = PathBuf> + 'a {
        let relative: PathBuf = absolute
            .components()
            .filter(|component| !matches!(component, Component::RootDir))
            .collect();
        self.roots.iter().map(move |root| root.join(&relative))
    }
}

/// The debug file of `binary`, whose path in the target is `target_path`.
pub(crate) fn find_debug_file(
    binary: &ElfObject,
    target_path: &Path,
    roots: &SearchRoots,
) -> Option<ElfObject> {
    let by_build_id = binary.build_id.as_deref().and_then(|build_id| {
        let path = build_id_path(build_id)?;
        first_match(roots.resolve(&path), |debug| {
            debug.build_id.as_deref() == Some(build_id)
        })
    });
    by_build_id.or_else(|| {
        let link = binary.debuglink.as_ref()?;
        let candidates = debuglink_paths(target_path, &link.file_name);
        first_match(
            candidates.iter().flat_map(|path| roots.resolve(path)),
            |debug| crc32(debug.data()) == link.crc,
        )
    })
}

/// The dwz supplementary file named by the `.gnu_debugaltlink` of `debug`:
/// its path (relative paths start from the directory of `debug`), then its
/// build ID; its build ID must match.
pub(crate) fn find_supplementary_file(debug: &ElfObject, roots: &SearchRoots) -> Option<ElfObject> {
    let link = debug.altlink.as_ref()?;
    let matches = |sup: &ElfObject| sup.build_id.as_deref() == Some(link.build_id.as_slice());
    let by_path = if link.path.is_absolute() {
        first_match(roots.resolve(&link.path), matches)
    } else {
        let directory = std::fs::canonicalize(&debug.path)
            .ok()?
            .parent()?
            .to_owned();
        first_match(std::iter::once(directory.join(&link.path)), matches)
    };
    by_path.or_else(|| {
        let path = build_id_path(&link.build_id)?;
        first_match(roots.resolve(&path), matches)
    })
}

/// `/usr/lib/debug/.build-id/xx/rest.debug` for a build ID `xxrest…`.
fn build_id_path(build_id: &[u8]) -> Option<PathBuf> {
    let (first, rest) = build_id
        .split_first()
        .filter(|(_, rest)| !rest.is_empty())?;
    let rest: String = rest.iter().map(|byte| format!("{byte:02x}")).collect();
    Some(Path::new(DEBUG_DIR).join(format!(".build-id/{first:02x}/{rest}.debug")))
}

/// Where GDB looks for a debuglink's file, for a binary at `target_path`.
fn debuglink_paths(target_path: &Path, file_name: &OsStr) -> Vec<PathBuf> {
    let Some(directory) = target_path.parent() else {
        return Vec::new();
    };
    let under_debug_dir: PathBuf = Path::new(DEBUG_DIR)
        .components()
        .chain(
            directory
                .components()
                .filter(|c| !matches!(c, Component::RootDir)),
        )
        .collect();
    vec![
        directory.join(file_name),
        directory.join(".debug").join(file_name),
        under_debug_dir.join(file_name),
    ]
}

/// The first candidate that opens as ELF and passes `accept`.
fn first_match(
    candidates: impl Iterator<Item = PathBuf>,
    accept: impl Fn(&ElfObject) -> bool,
) -> Option<ElfObject> {
    candidates
        .filter(|path| path.is_file())
        .filter_map(|path| ElfObject::open(&path).ok())
        .find(|object| accept(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolize::test_programs::{build_program, split_debug_info};

    #[test]
    fn finds_debug_file_by_debuglink_with_its_crc_or_by_build_id() {
        let dir = tempfile::tempdir().unwrap();
        let binary = build_program(dir.path(), "prog", &["-g", "-O0"]);
        let debug = split_debug_info(&binary);
        let object = ElfObject::open(&binary).unwrap();
        let host = SearchRoots::new(vec![PathBuf::from("/")]);
        let found = find_debug_file(&object, &binary, &host).unwrap();
        assert_eq!(found.path, debug);
        assert!(found.has_dwarf);

        // One more byte: still the same ELF and build ID, but another CRC.
        let mut bytes = std::fs::read(&debug).unwrap();
        bytes.push(0);
        std::fs::write(&debug, bytes).unwrap();
        assert!(find_debug_file(&object, &binary, &host).is_none());

        // Under a root holding only the .build-id tree, the build ID finds it.
        let root = tempfile::tempdir().unwrap();
        let roots = SearchRoots::new(vec![root.path().to_owned()]);
        let build_id_file = build_id_path(object.build_id.as_deref().unwrap()).unwrap();
        let installed = roots.resolve(&build_id_file).next().unwrap();
        std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
        std::fs::copy(&debug, &installed).unwrap();
        let found = find_debug_file(&object, &binary, &roots).unwrap();
        assert_eq!(found.path, installed);
        assert!(found.has_dwarf);
    }

    #[test]
    fn build_id_path_splits_the_first_byte() {
        assert_eq!(
            build_id_path(&[0xab, 0x01, 0xcd]),
            Some(PathBuf::from("/usr/lib/debug/.build-id/ab/01cd.debug"))
        );
        assert_eq!(build_id_path(&[0xab]), None);
    }

    #[test]
    fn debuglink_candidates_follow_gdb_order() {
        assert_eq!(
            debuglink_paths(
                Path::new("/usr/bin/python3.11"),
                OsStr::new("python3.11.debug")
            ),
            [
                PathBuf::from("/usr/bin/python3.11.debug"),
                PathBuf::from("/usr/bin/.debug/python3.11.debug"),
                PathBuf::from("/usr/lib/debug/usr/bin/python3.11.debug"),
            ]
        );
    }

    #[test]
    fn roots_are_tried_in_order_without_dropping_the_path() {
        let roots = SearchRoots::new(vec![PathBuf::from("/proc/7/root"), PathBuf::from("/")]);
        let resolved: Vec<_> = roots.resolve(Path::new("/usr/lib/debug/x.debug")).collect();
        assert_eq!(
            resolved,
            [
                PathBuf::from("/proc/7/root/usr/lib/debug/x.debug"),
                PathBuf::from("/usr/lib/debug/x.debug"),
            ]
        );
    }

    #[test]
    fn a_process_sharing_our_root_is_searched_once() {
        let roots = SearchRoots::for_process(std::process::id());
        assert_eq!(roots.roots, [PathBuf::from("/")]);
        // Pids above pid_max never exist: their root cannot be compared.
        let roots = SearchRoots::for_process(u32::MAX - 1);
        assert_eq!(roots.roots.len(), 2);
    }
}
