//! The liveness check on real blocks: a child Python allocates bytes
//! objects, then frees some and puts objects of another type in their
//! place, and each block's verdict is checked against what happened.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use super::{DeathEvidence, RecordedBlock, judge, read_blocks};
use crate::process::memory::ProcessMemory;
use crate::python::pymalloc_evidence::PoolLayout;

/// Python 3.11's pools, under plain pymalloc: their headers are asked too.
const POOLS: PoolLayout = PoolLayout {
    size: 16384,
    headers_apply: true,
};

/// Bytes objects of 100 bytes (a 144-byte pymalloc block), in two groups;
/// on a line from stdin the second is dropped, and 13-item tuples (144
/// bytes with their GC header) are made, more than enough to fill the
/// freed blocks again, last freed first.
const SCRIPT: &str = r#"
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

fn addresses(line: &str) -> Vec<u64> {
    line.split_whitespace()
        .map(|id| id.parse().unwrap())
        .collect()
}

fn blocks(addresses: &[u64]) -> Vec<RecordedBlock> {
    addresses
        .iter()
        .map(|&address| RecordedBlock {
            address,
            size: 133,
            from_interpreter: true,
        })
        .collect()
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line
}

fn start() -> Option<Child> {
    let python = ["/usr/bin/python3.11", "/usr/bin/python3"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())?;
    Some(
        Command::new(python)
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn kept_blocks_live_and_freed_or_reused_blocks_die() {
    let Some(mut child) = start() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3.11 is missing; `cargo xtask setup` installs it"
        );
        eprintln!("SKIPPED: no python3 at hand");
        return;
    };
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let kept = blocks(&addresses(&read_line(&mut stdout)));
    let freed = blocks(&addresses(&read_line(&mut stdout)));
    let memory = ProcessMemory { pid: child.id() };

    // Sampled: their fingerprints at first sight.
    let first_kept: Vec<_> = read_blocks(&memory, &kept, POOLS).unwrap();
    let first_freed: Vec<_> = read_blocks(&memory, &freed, POOLS).unwrap();
    for (block, reading) in kept
        .iter()
        .chain(&freed)
        .zip(first_kept.iter().chain(&first_freed))
    {
        assert_eq!(judge(block, reading, None), None, "alive at first sight");
    }

    writeln!(stdin, "go").unwrap();
    assert_eq!(read_line(&mut stdout).trim(), "swapped");
    let verdicts = |group: &[RecordedBlock], first: &[super::BlockReading]| {
        let now = read_blocks(&memory, group, POOLS).unwrap();
        group
            .iter()
            .zip(now.iter().zip(first))
            .map(|(block, (now, first))| judge(block, now, first.fingerprint))
            .collect::<Vec<_>>()
    };
    let kept_verdicts = verdicts(&kept, &first_kept);
    let freed_verdicts = verdicts(&freed, &first_freed);
    writeln!(stdin, "done").unwrap();
    child.wait().unwrap();

    assert!(
        kept_verdicts.iter().all(Option::is_none),
        "a kept block was judged dead: {kept_verdicts:?}"
    );
    let linked = freed_verdicts
        .iter()
        .filter(|v| **v == Some(DeathEvidence::FreeListLink))
        .count();
    let replaced = freed_verdicts
        .iter()
        .filter(|v| **v == Some(DeathEvidence::FingerprintChanged))
        .count();
    let reclaimed = freed_verdicts
        .iter()
        .filter(|v| **v == Some(DeathEvidence::PoolReclaimed))
        .count();
    // The freed blocks hold tuples now; any left over are on the free list
    // or in a pool that no longer holds them.
    assert!(
        replaced >= 30 && linked + replaced + reclaimed == 40,
        "freed blocks: {linked} on the free list, {reclaimed} reclaimed, {replaced} replaced, of 40: {freed_verdicts:?}"
    );
}
