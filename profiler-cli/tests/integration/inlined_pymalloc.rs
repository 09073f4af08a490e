//! `--inlined-pymalloc` on Debian's LTO pythons, where pymalloc is inlined
//! into its callers: with those places probed, the worker thread's leak
//! of small objects (dicts) is found on each of them, and on bookworm's
//! 3.11 the main thread's churning JSON line is not judged a leak.

use crate::interpreters::available;
use crate::python_stacks::{Fixture, MAIN_THREAD, WORKER_THREAD, check, run_fixture_with};
use crate::support::privileged_sharing;

const TEST: &str = "inlined_pymalloc_finds_small_object_leaks_on_lto_builds";

#[test]
fn inlined_pymalloc_finds_small_object_leaks_on_lto_builds() {
    let Some(_guard) = privileged_sharing(TEST) else {
        return;
    };
    let lto: Vec<_> = available()
        .into_iter()
        .filter(|interpreter| interpreter.name.starts_with("Debian"))
        .collect();
    if lto.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Debian python here: `cargo xtask setup` installs them"
        );
        eprintln!("SKIPPED {TEST}: no Debian python here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for interpreter in &lto {
        let mut fixtures: Vec<&Fixture> = vec![&WORKER_THREAD];
        if interpreter.name.contains("bookworm") {
            fixtures.push(&MAIN_THREAD);
        }
        for fixture in fixtures {
            let path = dir.path().join(format!("{}.json", fixture.file));
            let outcome = run_fixture_with(
                interpreter,
                fixture,
                &path,
                &["--inlined-pymalloc"],
                &[],
                &[],
            )
            .and_then(|report| {
                let probed = report
                    .notes
                    .iter()
                    .any(|note| note.contains("inlined allocations and"));
                if !probed {
                    return Err(format!("no note on inlined probes: {:?}", report.notes));
                }
                check(&report, fixture)
            });
            match outcome {
                Ok(()) => eprintln!("{TEST}: {} {} ok", interpreter.name, fixture.file),
                Err(failure) => {
                    failures.push(format!("{} {}: {failure}", interpreter.name, fixture.file))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
