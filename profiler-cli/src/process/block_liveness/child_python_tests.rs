//! The liveness check on real blocks: a child Python allocates bytes
//! objects, then frees some (and, for pymalloc's blocks, puts objects of
//! another type in their place), and each block's verdict is checked
//! against what happened.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use super::{BlockReading, DeathEvidence, HeapLayout, RecordedBlock, judge, read_blocks};
use crate::process::memory::ProcessMemory;
use crate::python::pymalloc_evidence::PoolLayout;

/// Python 3.11's pools, under plain pymalloc: their headers are asked
/// too, and so are glibc's chunks (the host's python3.11 uses glibc).
const LAYOUT: HeapLayout = HeapLayout {
    pools: PoolLayout {
        size: 16384,
        headers_apply: true,
    },
    glibc_chunks: true,
};

/// Bytes objects of 100 bytes (a 144-byte pymalloc block), in two groups;
/// on a line from stdin the second is dropped, and 13-item tuples (144
/// bytes with their GC header) are made, more than enough to fill the
/// freed blocks again, last freed first.
const POOLED: &str = r#"
import sys
kept = [bytes([65 + i % 26]) * 100 for i in range(40)]
freed = [bytes([97 + i % 26]) * 100 for i in range(40)]
print(" ".join(str(id(o)) for o in kept))
print(" ".join(str(id(o)) for o in freed))
sys.stdout.flush()
sys.stdin.readline()
del freed
others = [tuple(range(i, i + 13)) for i in range(400)]
print("swapped", flush=True)
sys.stdin.readline()
"#;
/// Size of a 100-byte bytes object as pymalloc is asked for it.
const POOLED_SIZE: u64 = 133;

/// Bytes objects of 2000 bytes (2033 asked of libc: past pymalloc and the
/// tcache), made in pairs, one kept and one to free, so that no two freed
/// blocks touch and none borders the top chunk; on a line from stdin the
/// second of each pair is dropped, and nothing new is made.
const LARGE: &str = r#"
import sys
pairs = [(bytes([65 + i % 26]) * 2000, bytes([97 + i % 26]) * 2000) for i in range(40)]
tail = bytes(2000)
kept = [k for k, _ in pairs]
freed = [f for _, f in pairs]
del pairs
print(" ".join(str(id(o)) for o in kept))
print(" ".join(str(id(o)) for o in freed))
sys.stdout.flush()
sys.stdin.readline()
del freed
print("swapped", flush=True)
sys.stdin.readline()
"#;
const LARGE_SIZE: u64 = 2033;

/// A child Python running `script`, past its two lines of addresses.
struct ChildPython {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    kept: Vec<RecordedBlock>,
    freed: Vec<RecordedBlock>,
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line
}

fn blocks(line: &str, size: u64) -> Vec<RecordedBlock> {
    line.split_whitespace()
        .map(|id| RecordedBlock {
            address: id.parse().unwrap(),
            size,
            from_interpreter: true,
        })
        .collect()
}

/// Starts `script` under the host's python3.11, or says why not (a
/// failure under CI, where `cargo xtask setup` installs it).
fn start(script: &str, size: u64) -> Option<ChildPython> {
    let Some(python) = ["/usr/bin/python3.11", "/usr/bin/python3"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3.11 is missing; `cargo xtask setup` installs it"
        );
        eprintln!("SKIPPED: no python3 at hand");
        return None;
    };
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let stdin = child.stdin.take().unwrap();
    let kept = blocks(&read_line(&mut stdout), size);
    let freed = blocks(&read_line(&mut stdout), size);
    Some(ChildPython {
        child,
        stdin,
        stdout,
        kept,
        freed,
    })
}

/// The verdicts on the kept and the freed blocks, each judged against its
/// first sight, which is checked to find every block alive.
fn verdicts(mut run: ChildPython) -> (Vec<Option<DeathEvidence>>, Vec<Option<DeathEvidence>>) {
    let memory = ProcessMemory {
        pid: run.child.id(),
    };
    let first_kept = read_blocks(&memory, &run.kept, LAYOUT).unwrap();
    let first_freed = read_blocks(&memory, &run.freed, LAYOUT).unwrap();
    for (block, reading) in run
        .kept
        .iter()
        .chain(&run.freed)
        .zip(first_kept.iter().chain(&first_freed))
    {
        assert_eq!(judge(block, reading, None), None, "alive at first sight");
    }
    writeln!(run.stdin, "go").unwrap();
    assert_eq!(read_line(&mut run.stdout).trim(), "swapped");
    let judged = |group: &[RecordedBlock], first: &[BlockReading]| {
        let now = read_blocks(&memory, group, LAYOUT).unwrap();
        group
            .iter()
            .zip(now.iter().zip(first))
            .map(|(block, (now, first))| judge(block, now, first.fingerprint))
            .collect::<Vec<_>>()
    };
    let kept = judged(&run.kept, &first_kept);
    let freed = judged(&run.freed, &first_freed);
    writeln!(run.stdin, "done").unwrap();
    run.child.wait().unwrap();
    assert!(
        kept.iter().all(Option::is_none),
        "a kept block was judged dead: {kept:?}"
    );
    (kept, freed)
}

fn count(verdicts: &[Option<DeathEvidence>], evidence: DeathEvidence) -> usize {
    verdicts.iter().filter(|v| **v == Some(evidence)).count()
}

#[test]
fn kept_blocks_live_and_freed_or_reused_blocks_die() {
    let Some(run) = start(POOLED, POOLED_SIZE) else {
        return;
    };
    let (_, freed) = verdicts(run);
    let linked = count(&freed, DeathEvidence::FreeListLink);
    let replaced = count(&freed, DeathEvidence::FingerprintChanged);
    let reclaimed = count(&freed, DeathEvidence::PoolReclaimed);
    // The freed blocks hold tuples now; any left over are on the free list
    // or in a pool that no longer holds them.
    assert!(
        replaced >= 30 && linked + replaced + reclaimed == 40,
        "freed blocks: {linked} on the free list, {reclaimed} reclaimed, {replaced} replaced, of 40: {freed:?}"
    );
}

#[test]
fn glibc_chunks_tell_freed_large_blocks_from_kept_ones() {
    let Some(run) = start(LARGE, LARGE_SIZE) else {
        return;
    };
    let (_, freed) = verdicts(run);
    // Each freed block lies between two kept ones: glibc puts it in a bin
    // and clears its bit in the next chunk, and nothing took it back.
    assert_eq!(
        count(&freed, DeathEvidence::ChunkFreed),
        40,
        "freed blocks: {freed:?}"
    );
}
