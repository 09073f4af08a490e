//! Parsing /proc/PID/maps, and finding a path through which leakspy can open
//! the file behind one of its mappings.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// One line of /proc/PID/maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryMap {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    pub private: bool,
    /// Offset in the file of the byte mapped at `start`.
    pub offset: u64,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub inode: u64,
    /// As the kernel prints it: "" for anonymous memory, "[heap]", "[stack]"
    /// and the like kept as they are, " (deleted)" suffix kept.
    pub pathname: String,
}

impl MemoryMap {
    /// Whether `address` lies in `start..end`.
    pub fn contains(&self, address: u64) -> bool {
        self.start <= address && address < self.end
    }

    /// Whether a file backs this mapping (not anonymous memory nor a
    /// pseudo-mapping such as `[vdso]`).
    pub fn is_file_backed(&self) -> bool {
        self.inode != 0 && self.pathname.starts_with('/')
    }
}

/// Why the maps of a process could not be read or a mapped file not found.
#[derive(Debug, thiserror::Error)]
pub enum MapsError {
    #[error("line {line_number} of the memory maps is malformed ({reason}): {line:?}")]
    Malformed {
        line_number: usize,
        line: String,
        reason: &'static str,
    },
    #[error("process {pid} has exited")]
    ProcessGone { pid: u32 },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the file mapped at {start:#x}-{end:#x} in process {pid} ({pathname}) cannot be opened: \
         neither its path, nor the path under /proc/{pid}/root, nor /proc/{pid}/map_files \
         (needs root) is that file"
    )]
    FileNotReachable {
        pid: u32,
        start: u64,
        end: u64,
        pathname: String,
    },
}

/// Parses the text of /proc/PID/maps.
pub fn parse_maps(text: &str) -> Result<Vec<MemoryMap>, MapsError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            parse_line(line).map_err(|reason| MapsError::Malformed {
                line_number: index + 1,
                line: line.to_owned(),
                reason,
            })
        })
        .collect()
}

/// Reads and parses /proc/PID/maps. A process that no longer exists gives
/// [`MapsError::ProcessGone`].
pub fn read_maps(pid: u32) -> Result<Vec<MemoryMap>, MapsError> {
    let path = PathBuf::from(format!("/proc/{pid}/maps"));
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_maps(&text),
        Err(error) if is_process_gone(&error) => Err(MapsError::ProcessGone { pid }),
        Err(source) => Err(MapsError::Io { path, source }),
    }
}

/// A path through which the file behind `map` can be opened from leakspy's
/// own mount namespace and root, checked to be the same inode as the mapping.
///
/// Tries, in order: the pathname as is; `/proc/PID/root/<pathname>` (targets
/// in chroots and containers); `/proc/PID/map_files/<start>-<end>` (works
/// even when the path is not reachable, but needs root).
///
/// A candidate whose stat gives the device and inode of the maps line is
/// taken first. Failing that, one with only the inode equal is taken: on
/// overlayfs, /proc/PID/maps shows the device of the underlying layer's file
/// while stat through the overlay mount shows the overlay's own device.
pub fn mapped_file_path(pid: u32, map: &MemoryMap) -> Result<PathBuf, MapsError> {
    let mut inode_only = None;
    for candidate in candidate_paths(pid, map) {
        match identity_match(&candidate, map) {
            Some(Match::Exact) => return Ok(candidate),
            Some(Match::InodeOnly) if inode_only.is_none() => inode_only = Some(candidate),
            _ => {}
        }
    }
    inode_only.ok_or_else(|| MapsError::FileNotReachable {
        pid,
        start: map.start,
        end: map.end,
        pathname: map.pathname.clone(),
    })
}

/// The paths `mapped_file_path` tries, in its order of preference.
fn candidate_paths(pid: u32, map: &MemoryMap) -> Vec<PathBuf> {
    let mut candidates = Vec::with_capacity(3);
    if map.pathname.starts_with('/') {
        candidates.push(PathBuf::from(&map.pathname));
        candidates.push(PathBuf::from(format!("/proc/{pid}/root{}", map.pathname)));
    }
    candidates.push(PathBuf::from(format!(
        "/proc/{pid}/map_files/{:x}-{:x}",
        map.start, map.end
    )));
    candidates
}

/// How well the file at a path matches the identity on a maps line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    Exact,
    InodeOnly,
}

fn identity_match(path: &std::path::Path, map: &MemoryMap) -> Option<Match> {
    let metadata = std::fs::metadata(path).ok()?;
    if metadata.ino() != map.inode {
        return None;
    }
    let dev = metadata.dev();
    if libc::major(dev) == map.dev_major && libc::minor(dev) == map.dev_minor {
        Some(Match::Exact)
    } else {
        Some(Match::InodeOnly)
    }
}

fn is_process_gone(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotFound || error.raw_os_error() == Some(libc::ESRCH)
}

/// Parses `start-end perms offset major:minor inode [pathname]`.
fn parse_line(line: &str) -> Result<MemoryMap, &'static str> {
    let mut rest = line;
    let range = next_field(&mut rest).ok_or("no address range")?;
    let perms = next_field(&mut rest).ok_or("no permissions")?;
    let offset = next_field(&mut rest).ok_or("no offset")?;
    let dev = next_field(&mut rest).ok_or("no device")?;
    let inode = next_field(&mut rest).ok_or("no inode")?;
    let pathname = rest.trim_start().to_owned();

    let (start, end) = range.split_once('-').ok_or("address range without '-'")?;
    let start = hex(start).ok_or("bad start address")?;
    let end = hex(end).ok_or("bad end address")?;
    if end < start {
        return Err("end address before start address");
    }
    let perms = perms.as_bytes();
    if perms.len() != 4 {
        return Err("permissions are not 4 characters");
    }
    let flag = |index: usize, set: u8| match perms[index] {
        b'-' => Ok(false),
        c if c == set => Ok(true),
        _ => Err("bad permission character"),
    };
    let private = match perms[3] {
        b'p' => true,
        b's' => false,
        _ => return Err("sharing flag is neither 'p' nor 's'"),
    };
    let (dev_major, dev_minor) = dev.split_once(':').ok_or("device without ':'")?;
    Ok(MemoryMap {
        start,
        end,
        readable: flag(0, b'r')?,
        writable: flag(1, b'w')?,
        executable: flag(2, b'x')?,
        private,
        offset: hex(offset).ok_or("bad offset")?,
        dev_major: u32::from_str_radix(dev_major, 16).map_err(|_| "bad device major")?,
        dev_minor: u32::from_str_radix(dev_minor, 16).map_err(|_| "bad device minor")?,
        inode: inode.parse().map_err(|_| "bad inode")?,
        pathname,
    })
}

/// Takes the next space-separated field off the front of `rest`.
fn next_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let trimmed = rest.trim_start();
    let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
    let (field, remainder) = trimmed.split_at(end);
    *rest = remainder;
    (!field.is_empty()).then_some(field)
}

fn hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d4c2a00000-55d4c2a02000 r--p 00000000 fd:01 1835021                    /usr/bin/cat
55d4c2a02000-55d4c2a07000 r-xp 00002000 fd:01 1835021                    /usr/bin/cat
55d4c3b1c000-55d4c3b3d000 rw-p 00000000 00:00 0                          [heap]
7f1e8a000000-7f1e8a021000 rw-p 00000000 00:00 0 
7f1e8a200000-7f1e8a228000 r-xp 00028000 103:02 2621 /tmp/my lib.so (deleted)
7ffd5e9f0000-7ffd5e9f2000 r-xp 00000000 00:00 0                          [vdso]
7f1e8a300000-7f1e8a301000 rw-s 00000000 00:05 42                         /SYSV00000000 (deleted)
";

    #[test]
    fn parses_file_backed_anonymous_heap_and_deleted_lines() {
        let maps = parse_maps(SAMPLE).unwrap();
        assert_eq!(maps.len(), 7);
        assert_eq!(
            maps[1],
            MemoryMap {
                start: 0x55d4c2a02000,
                end: 0x55d4c2a07000,
                readable: true,
                writable: false,
                executable: true,
                private: true,
                offset: 0x2000,
                dev_major: 0xfd,
                dev_minor: 1,
                inode: 1835021,
                pathname: "/usr/bin/cat".into(),
            }
        );
        assert!(maps[1].is_file_backed());
        assert!(maps[1].contains(0x55d4c2a02000) && !maps[1].contains(0x55d4c2a07000));

        assert_eq!(maps[2].pathname, "[heap]");
        assert!(!maps[2].is_file_backed());
        assert_eq!(maps[3].pathname, "");
        assert!(!maps[3].is_file_backed());

        let deleted = &maps[4];
        assert_eq!(deleted.pathname, "/tmp/my lib.so (deleted)");
        assert_eq!((deleted.dev_major, deleted.dev_minor), (0x103, 2));
        assert!(deleted.is_file_backed());

        assert_eq!(maps[5].pathname, "[vdso]");
        assert!(!maps[6].private && maps[6].writable);
    }

    #[test]
    fn malformed_line_is_reported_with_its_number() {
        let text =
            "00400000-00401000 r-xp 00000000 08:01 12 /bin/x\n00401000-zz r--p 0 08:01 12 /bin/x\n";
        match parse_maps(text) {
            Err(MapsError::Malformed {
                line_number, line, ..
            }) => {
                assert_eq!(line_number, 2);
                assert!(line.contains("00401000-zz"));
            }
            other => panic!("expected a malformed-line error, got {other:?}"),
        }
        assert!(parse_maps("00400000-00401000 r-xq 0 08:01 1\n").is_err());
        assert!(parse_maps("00400000-00401000 r-xp 0 0801 1\n").is_err());
        assert!(parse_maps("00400000-00401000 r-xp 0 08:01\n").is_err());
    }

    /// The mapping of this test binary's code, from its own maps.
    fn own_code_map() -> MemoryMap {
        let here = own_code_map as fn() -> MemoryMap as usize as u64;
        let maps = read_maps(std::process::id()).unwrap();
        maps.into_iter().find(|m| m.contains(here)).unwrap()
    }

    #[test]
    fn reads_own_maps_and_reports_a_missing_process() {
        let own = own_code_map();
        assert!(own.executable && own.is_file_backed());

        // Pids above /proc/sys/kernel/pid_max (at most 2^22) never exist.
        assert!(matches!(
            read_maps(u32::MAX - 1),
            Err(MapsError::ProcessGone { .. })
        ));
    }

    #[test]
    fn mapped_file_path_finds_the_test_binary_by_its_own_path() {
        let own = own_code_map();
        let path = mapped_file_path(std::process::id(), &own).unwrap();
        assert_eq!(path, PathBuf::from(&own.pathname));
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), own.inode);
    }

    #[test]
    fn mapped_file_path_rejects_a_file_with_another_inode() {
        let mut wrong = own_code_map();
        wrong.inode += 1;
        // The range of this mapping does not change, so map_files would name
        // the real file, whose inode now differs: every candidate fails.
        assert!(matches!(
            mapped_file_path(std::process::id(), &wrong),
            Err(MapsError::FileNotReachable { .. })
        ));
    }

    #[test]
    fn candidates_are_path_then_process_root_then_map_files() {
        let map = parse_maps("1000-2000 r-xp 0 08:01 7 /usr/lib/libx.so\n").unwrap();
        assert_eq!(
            candidate_paths(42, &map[0]),
            [
                PathBuf::from("/usr/lib/libx.so"),
                PathBuf::from("/proc/42/root/usr/lib/libx.so"),
                PathBuf::from("/proc/42/map_files/1000-2000"),
            ]
        );
    }

    #[test]
    fn deleted_file_is_reached_only_through_map_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.bin");
        std::fs::write(&path, [7u8; 4096]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not modified while mapped.
        let mapping = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        std::fs::remove_file(&path).unwrap();

        let address = mapping.as_ptr() as u64;
        let maps = read_maps(std::process::id()).unwrap();
        let map = maps.iter().find(|m| m.contains(address)).unwrap();
        assert!(map.pathname.ends_with(" (deleted)"), "{map:?}");
        let found = mapped_file_path(std::process::id(), map);
        // map_files can be followed only with CAP_SYS_ADMIN (or
        // CAP_CHECKPOINT_RESTORE); both outcomes are checked exactly.
        if nix::unistd::geteuid().is_root() {
            let expected = format!("/proc/{}/map_files/", std::process::id());
            assert!(found.unwrap().starts_with(expected));
        } else {
            assert!(matches!(found, Err(MapsError::FileNotReachable { .. })));
        }
    }
}
