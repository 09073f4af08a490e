//! The layouts against live interpreters: each pyenv build (3.9–3.13), the
//! system's /usr/bin/python3.11, and Debian's 3.9, 3.13 and 3.14 when
//! get-pythons.sh has unpacked them (its chroots need root). Each runs
//! a script that sleeps in known functions on two threads. The test finds
//! `_PyRuntime` in the running process, and checks that the thread list
//! holds both threads by their ids, that the frame walk finds the sleeping
//! functions, and that code objects, strings, bytes and GC thresholds read
//! back as the script printed them, and the GC counters as `gc.get_stats()`
//! and `gc.get_objects(2)` gave them after three full collections. Missing
//! interpreters are skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use object::{Object, ObjectSegment, ObjectSymbol};
use profiler_common::ThreadIdKind;

use crate::process::memory::{MemoryReader, ProcessMemory};
use crate::python::gc_counters;
use crate::python::offsets::tests::pythons::{debian_root, pyenv};
use crate::python::offsets::{
    DEBUG_OFFSETS_COOKIE, InterpreterLayout, PythonVersion, layout_for, layout_from_debug_offsets,
    read_bytes, read_str, thread_states, walk_frames,
};

/// Sleeps in `leakspy_sleeper` on the main thread and `leakspy_worker` on
/// another, after printing what the test checks against.
const SCRIPT: &str = r#"
import gc, sys, threading, time

def leakspy_worker(started):
    started.set()
    time.sleep(600)

def leakspy_sleeper():
    started = threading.Event()
    worker = threading.Thread(target=leakspy_worker, args=(started,), daemon=True)
    worker.start()
    started.wait()
    code = leakspy_sleeper.__code__
    table = code.co_lnotab if sys.version_info < (3, 10) else code.co_linetable
    main = threading.main_thread()
    for _ in range(3):
        gc.collect()
    collections = [stats["collections"] for stats in gc.get_stats()]
    long_lived = len(gc.get_objects(2)) if sys.version_info < (3, 14) else 0
    print("ready", *collections, long_lived, main.ident, threading.get_native_id(), worker.ident, worker.native_id,
          *gc.get_threshold(), len(table), code.co_firstlineno, len(code.co_code), flush=True)
    time.sleep(600)

leakspy_sleeper()
"#;

/// What the script printed.
struct Printed {
    collections: [u64; 3],
    long_lived: u64,
    main_ident: u64,
    main_native: u64,
    worker_ident: u64,
    worker_native: u64,
    thresholds: [u64; 3],
    line_table_len: u64,
    first_line: u64,
    code_len: u64,
}

/// A child interpreter, killed when dropped.
struct Target {
    child: Child,
    printed: Printed,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(mut command: Command) -> Target {
    let mut child = command
        .arg("-c")
        .arg(SCRIPT)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let numbers: Vec<u64> = line
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the script printed {line:?}"))
        .split_whitespace()
        .map(|word| word.parse().unwrap())
        .collect();
    let printed = Printed {
        collections: [numbers[0], numbers[1], numbers[2]],
        long_lived: numbers[3],
        main_ident: numbers[4],
        main_native: numbers[5],
        worker_ident: numbers[6],
        worker_native: numbers[7],
        thresholds: [numbers[8], numbers[9], numbers[10]],
        line_table_len: numbers[11],
        first_line: numbers[12],
        code_len: numbers[13],
    };
    Target { child, printed }
}

/// The runtime address of `_PyRuntime` in `pid`: the first mapped file
/// whose ELF symbols define it, relocated by where its first segment sits.
fn find_runtime(pid: u32) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut seen = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(range), Some(offset), Some(path)) =
            (fields.first(), fields.get(2), fields.get(5))
        else {
            continue;
        };
        if u64::from_str_radix(offset, 16) != Ok(0) || seen.contains(path) {
            continue;
        }
        seen.push(path);
        let Ok(data) = std::fs::read(path) else {
            continue;
        };
        let Ok(file) = object::File::parse(&*data) else {
            continue;
        };
        let symbol = file
            .symbols()
            .chain(file.dynamic_symbols())
            .find(|symbol| symbol.is_definition() && symbol.name() == Ok("_PyRuntime"));
        let Some(symbol) = symbol else {
            continue;
        };
        let first_segment = file
            .segments()
            .map(|segment| segment.address())
            .min()
            .unwrap();
        let start = u64::from_str_radix(range.split('-').next().unwrap(), 16).unwrap();
        return start - (first_segment & !0xfff) + symbol.address();
    }
    panic!("no mapped file of {pid} defines _PyRuntime");
}

/// Checks one live interpreter of 3.`minor`.
fn check(name: &str, minor: u8, command: Command) {
    let target = start(command);
    let printed = &target.printed;
    let pid = target.child.id();
    let memory = ProcessMemory { pid };
    let runtime = find_runtime(pid);
    let layout = if memory.read_vec(runtime, 8).unwrap() == DEBUG_OFFSETS_COOKIE {
        layout_from_debug_offsets(&memory, runtime).unwrap()
    } else {
        layout_for(PythonVersion {
            major: 3,
            minor,
            micro: 0,
        })
        .unwrap()
    };
    assert_eq!(layout.version.minor, minor, "{name}");

    // One interpreter: `interpreters.main` is `interpreters.head`.
    let head = memory
        .read_u64(runtime + layout.runtime_interpreters_head)
        .unwrap();
    let main = memory
        .read_u64(runtime + layout.runtime_interpreters_main)
        .unwrap();
    assert_eq!(head, main, "{name}: interpreters.main");

    let native = layout.walker.thread_id_kind == ThreadIdKind::NativeThreadId as u32;
    let (main_id, worker_id) = if native {
        assert_eq!(
            printed.main_native,
            u64::from(pid),
            "{name}: the main thread's tid"
        );
        (printed.main_native, printed.worker_native)
    } else {
        (printed.main_ident, printed.worker_ident)
    };
    let states = thread_states(&memory, &layout, runtime).unwrap();
    let ids: Vec<u64> = states.iter().map(|state| state.thread_id).collect();
    assert_eq!(
        ids,
        [worker_id, main_id],
        "{name}: thread ids, newest first"
    );

    let innermost = |address: u64| {
        let frames = walk_frames(&memory, &layout, address, 64).unwrap();
        assert!(!frames.is_empty(), "{name}: no frames");
        frames[0]
    };
    let worker_frame = innermost(states[0].address);
    assert_eq!(
        code_name(&memory, &layout, worker_frame.code),
        "leakspy_worker",
        "{name}"
    );
    let frame = innermost(states[1].address);
    let code = frame.code;
    assert_eq!(
        code_name(&memory, &layout, code),
        "leakspy_sleeper",
        "{name}"
    );
    if let Some(qualname) = layout.code.qualname {
        let address = memory.read_u64(code + qualname).unwrap();
        assert_eq!(
            read_str(&memory, &layout.unicode, address).unwrap(),
            "leakspy_sleeper"
        );
    }
    let file = memory.read_u64(code + layout.code.filename).unwrap();
    assert_eq!(
        read_str(&memory, &layout.unicode, file).unwrap(),
        "<string>",
        "{name}"
    );
    let first_line = memory.read_i32(code + layout.code.first_line).unwrap();
    assert_eq!(
        first_line as u64, printed.first_line,
        "{name}: co_firstlineno"
    );
    let table = memory.read_u64(code + layout.code.line_table).unwrap();
    let table = read_bytes(&memory, &layout.bytes, table).unwrap();
    assert_eq!(
        table.len() as u64,
        printed.line_table_len,
        "{name}: the line table"
    );
    let offset = layout.bytecode_offset(code, frame.instruction);
    assert!(
        offset.is_some_and(|offset| offset > 0 && offset < printed.code_len),
        "{name}: bytecode offset {offset:?} of {} bytes",
        printed.code_len
    );

    let gc = layout.gc.expect("every supported version places the GC");
    let counters = gc_counters::read(&memory, &gc, main).unwrap();
    assert_eq!(
        counters.collections, printed.collections,
        "{name}: collections per generation"
    );
    assert!(
        counters.collections[2] >= 3,
        "{name}: three full collections"
    );
    match counters.long_lived_objects {
        Some(long_lived) => assert_eq!(long_lived, printed.long_lived, "{name}: long-lived"),
        None => assert!(minor >= 14, "{name}: long_lived_total is placed up to 3.13"),
    }
    let Some(generations) = gc.generations else {
        eprintln!("{name} ({}): read back; GC counters too", layout.version);
        return;
    };
    assert_eq!(
        counters.counts.map(|counts| counts.len()),
        Some(3),
        "{name}"
    );
    for (generation, threshold) in printed.thresholds.iter().enumerate() {
        let at = main + generations + generation as u64 * gc.generation_size + gc.threshold;
        let read = memory.read_i32(at).unwrap();
        assert_eq!(
            read as u64, *threshold,
            "{name}: threshold of generation {generation}"
        );
    }
    eprintln!(
        "{name} ({}): read back, GC counters and thresholds too",
        layout.version
    );
}

fn code_name(memory: &dyn MemoryReader, layout: &InterpreterLayout, code: u64) -> String {
    let name = memory.read_u64(code + layout.code.name).unwrap();
    read_str(memory, &layout.unicode, name).unwrap()
}

#[test]
fn layouts_walk_live_pyenv_interpreters() {
    for minor in 9..=13 {
        match pyenv(minor) {
            Some((python, _)) => check(&format!("pyenv 3.{minor}"), minor, Command::new(python)),
            None => eprintln!("skipped pyenv 3.{minor}: not installed"),
        }
    }
}

#[test]
fn layouts_walk_live_debian_interpreters() {
    // This machine's own python3.11: non-PIE, libpython built in, stripped, LTO.
    let system = Path::new("/usr/bin/python3.11");
    if system.is_file() {
        check("Debian /usr/bin/python3.11", 11, Command::new(system));
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: running Debian's interpreters needs chroot, so root");
        return;
    }
    for (suite, minor) in [("bullseye", 9), ("trixie", 13), ("forky", 14)] {
        let Some(root) = debian_root(suite, minor) else {
            eprintln!("skipped Debian {suite} 3.{minor}: not unpacked (see get-pythons.sh)");
            continue;
        };
        check(
            &format!("Debian {suite} 3.{minor}"),
            minor,
            chroot(&root, minor),
        );
    }
}

fn chroot(root: &Path, minor: u8) -> Command {
    let mut command = Command::new("chroot");
    command
        .arg(root)
        .arg(PathBuf::from(format!("/usr/bin/python3.{minor}")));
    command
}
