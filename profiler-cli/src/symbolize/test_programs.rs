//! Test support: builds the C fixtures of tests/fixtures_symbolize with gcc
//! and binutils, runs them, and reads the addresses they print and their
//! maps while they wait.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::process::maps::{MemoryMap, read_maps};

/// The path of a fixture source.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures_symbolize")
        .join(name)
}

/// The 1-based number of the one line of `source` marked `MARK(marker)`.
pub(crate) fn marked_line(source: &Path, marker: &str) -> u32 {
    let text = std::fs::read_to_string(source).unwrap();
    let tag = format!("MARK({marker})");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(&tag))
        .map(|(index, _)| index + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{tag} must mark exactly one line of {source:?}"
    );
    u32::try_from(lines[0]).unwrap()
}

/// Runs a build command; panics with its output if it fails.
pub(crate) fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles the fixture `prog.c` to `dir/name` with gcc and `flags`.
pub(crate) fn build_program(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let output = dir.join(name);
    let source = fixture("prog.c");
    let mut args = vec![source.to_str().unwrap(), "-o", output.to_str().unwrap()];
    args.extend_from_slice(flags);
    run("gcc", &args);
    output
}

/// Makes `binary` stripped, with its debug info in `binary.debug` next to it
/// and a .gnu_debuglink naming that file. Returns the debug file's path.
pub(crate) fn split_debug_info(binary: &Path) -> PathBuf {
    let debug = binary.with_extension("debug");
    let (binary, debug_str) = (binary.to_str().unwrap(), debug.to_str().unwrap());
    run("objcopy", &["--only-keep-debug", binary, debug_str]);
    run("strip", &["--strip-debug", "--strip-unneeded", binary]);
    run(
        "objcopy",
        &[&format!("--add-gnu-debuglink={debug_str}"), binary],
    );
    debug
}

/// A fixture program running until dropped, with what it printed.
pub(crate) struct RunningProgram {
    child: Child,
    addresses: HashMap<String, u64>,
    pub maps: Vec<MemoryMap>,
}

impl RunningProgram {
    /// Starts `path`, reads the `name 0x…` lines it prints up to "ready",
    /// then its maps.
    pub fn start(path: &Path) -> Self {
        let mut child = Command::new(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {path:?}: {error}"));
        let mut addresses = HashMap::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        loop {
            let mut line = String::new();
            assert_ne!(
                stdout.read_line(&mut line).unwrap(),
                0,
                "{path:?} exited early"
            );
            if line.trim() == "ready" {
                break;
            }
            let (name, address) = line.trim().split_once(' ').unwrap();
            let address = u64::from_str_radix(address.trim_start_matches("0x"), 16).unwrap();
            addresses.insert(name.to_owned(), address);
        }
        let maps = read_maps(child.id()).unwrap();
        Self {
            child,
            addresses,
            maps,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address the program printed under `name`.
    pub fn address(&self, name: &str) -> u64 {
        self.addresses[name]
    }
}

impl Drop for RunningProgram {
    fn drop(&mut self) {
        // The program would exit once its stdin closes; killing is quicker.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
