//! The table against CPython's own headers: `probe/layout_probe.c` is built
//! against each pyenv interpreter's headers, and every offset it prints
//! must be the layout's. For 3.13 the probe also prints where each field
//! sits in `_Py_DebugOffsets`, which this test fills to get the layout.

use std::collections::HashMap;
use std::process::Command;

use profiler_common::NO_OFFSET;

use crate::process::memory::FakeMemory;
use crate::python::offsets::tests::pythons::pyenv;
use crate::python::offsets::{
    DEBUG_OFFSETS_COOKIE, InterpreterLayout, PythonVersion, layout_for, layout_from_debug_offsets,
    parse_version_hex,
};

const PROBE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/python/offsets/probe/layout_probe.c"
);

/// Probe fields the layout leaves out on purpose: 3.11 frames have an
/// `owner`, but no shim frames for the walker to skip.
const NOT_IN_LAYOUT: &[&str] = &["frame.owner"];

/// Builds and runs the probe against `include`: `name value` pairs.
fn probe(include: &std::path::Path) -> HashMap<String, u64> {
    let folder = tempfile::tempdir().unwrap();
    let binary = folder.path().join("layout_probe");
    let built = Command::new("gcc")
        .args(["-w", "-o"])
        .arg(&binary)
        .arg(format!("-I{}", include.display()))
        .arg(format!("-I{}/internal", include.display()))
        .arg(PROBE)
        .status()
        .unwrap();
    assert!(
        built.success(),
        "gcc could not build the probe against {}",
        include.display()
    );
    let output = Command::new(&binary).output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// The layout of a 3.13+ probe: a `_Py_DebugOffsets` filled at the
/// positions the probe printed, with the values it printed.
fn layout_from_probe(facts: &HashMap<String, u64>) -> InterpreterLayout {
    let fields = [
        ("version", "version"),
        (
            "runtime_state.interpreters_head",
            "runtime.interpreters_head",
        ),
        ("runtime_state.finalizing", "runtime.finalizing"),
        ("interpreter_state.next", "interpreter.next"),
        ("interpreter_state.threads_head", "interpreter.threads_head"),
        ("interpreter_state.gc", "interpreter.gc"),
        ("thread_state.next", "thread.next"),
        ("thread_state.current_frame", "thread.frame"),
        ("thread_state.thread_id", "thread.thread_id"),
        ("thread_state.native_thread_id", "thread.native_thread_id"),
        ("interpreter_frame.previous", "frame.previous"),
        ("interpreter_frame.executable", "frame.code"),
        ("interpreter_frame.instr_ptr", "frame.instruction"),
        ("interpreter_frame.owner", "frame.owner"),
        ("code_object.filename", "code.filename"),
        ("code_object.name", "code.name"),
        ("code_object.qualname", "code.qualname"),
        ("code_object.linetable", "code.line_table"),
        ("code_object.firstlineno", "code.firstlineno"),
        ("code_object.co_code_adaptive", "code.code_adaptive"),
        ("bytes_object.ob_size", "bytes.ob_size"),
        ("bytes_object.ob_sval", "bytes.ob_sval"),
        ("unicode_object.state", "unicode.state"),
        ("unicode_object.length", "unicode.length"),
        ("unicode_object.asciiobject_size", "unicode.ascii_data"),
        ("gc.collecting", "gc.collecting"),
    ];
    let mut blob = vec![0u8; 0x400];
    blob[..8].copy_from_slice(DEBUG_OFFSETS_COOKIE);
    for (debug, value) in fields {
        let position = facts[&format!("debug.{debug}")] as usize;
        blob[position..position + 8].copy_from_slice(&facts[value].to_le_bytes());
    }
    let mut memory = FakeMemory::default();
    memory.place(0x1000, blob);
    layout_from_debug_offsets(&memory, 0x1000).unwrap()
}

/// The layout's offsets, named as the probe names them.
fn layout_values(layout: &InterpreterLayout) -> HashMap<&'static str, u64> {
    let walker = &layout.walker;
    let code = &layout.code;
    let unicode = &layout.unicode;
    let mut values = HashMap::from([
        (
            "runtime.interpreters_head",
            layout.runtime_interpreters_head,
        ),
        (
            "runtime.interpreters_main",
            layout.runtime_interpreters_main,
        ),
        ("runtime.finalizing", layout.runtime_finalizing),
        ("runtime.initialized", layout.runtime_initialized),
        ("interpreter.next", layout.interpreter_next),
        ("interpreter.threads_head", layout.interpreter_threads_head),
        ("thread.next", layout.thread_state_next),
        ("thread.frame", walker.thread_state_frame),
        ("frame.previous", walker.frame_previous),
        ("frame.code", walker.frame_code),
        ("frame.instruction", walker.frame_instruction),
        ("code.filename", code.filename),
        ("code.name", code.name),
        ("code.firstlineno", code.first_line),
        ("code.line_table", code.line_table),
        ("unicode.length", unicode.length),
        ("unicode.state", unicode.state),
        ("unicode.ascii_data", unicode.ascii_data),
        ("unicode.compact_data", unicode.compact_data),
        ("unicode.legacy_data", unicode.compact_data),
        ("unicode.state.kind_shift", u64::from(unicode.kind_shift)),
        (
            "unicode.state.compact_shift",
            u64::from(unicode.compact_shift),
        ),
        ("unicode.state.ascii_shift", u64::from(unicode.ascii_shift)),
        ("bytes.ob_size", layout.bytes.size),
        ("bytes.ob_sval", layout.bytes.data),
    ]);
    let optional = [
        (
            "thread.native_thread_id",
            layout.thread_state_native_thread_id,
        ),
        ("code.qualname", code.qualname),
        ("code.code", code.code),
        ("code.code_adaptive", code.code_adaptive),
    ];
    if let Some(gc) = layout.gc {
        values.extend([
            ("gc.generation_size", gc.generation_size),
            ("gc.generation_threshold", gc.threshold),
            ("gc.generation_count", gc.count),
            ("gc.stats_before_collecting", gc.collecting - gc.stats),
        ]);
        if let Some(long_lived_total) = gc.long_lived_total {
            values.insert(
                "gc.long_lived_total_after_collecting",
                long_lived_total - gc.collecting,
            );
        }
    }
    values.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?))),
    );
    let walker_only = [
        ("cframe.current_frame", walker.cframe_current_frame),
        ("frame.owner", walker.frame_owner),
        ("frame.owner_shim", walker.owner_shim),
    ];
    values.extend(
        walker_only
            .into_iter()
            .filter(|(_, value)| *value != NO_OFFSET),
    );
    // The thread id the walker keys by is native_thread_id where it exists.
    let keyed_by = if layout.thread_state_native_thread_id.is_some() {
        "thread.native_thread_id"
    } else {
        "thread.thread_id"
    };
    assert_eq!(walker.thread_state_thread_id, layout.thread_state_thread_id);
    values.insert(keyed_by, layout.thread_state_thread_id);
    values
}

#[test]
fn table_matches_the_interpreter_headers() {
    if Command::new("gcc").arg("--version").output().is_err() {
        eprintln!("skipped: no gcc to build probe/layout_probe.c");
        return;
    }
    for minor in 9..=13 {
        let Some((_, include)) = pyenv(minor) else {
            eprintln!("skipped 3.{minor}: no pyenv interpreter with headers");
            continue;
        };
        let facts = probe(&include);
        let version: PythonVersion = parse_version_hex(facts["version"]);
        let layout = if minor >= 13 {
            layout_from_probe(&facts)
        } else {
            layout_for(version).unwrap()
        };
        let values = layout_values(&layout);
        let interpreter_gc = facts["interpreter.gc"];
        if let Some(gc) = layout.gc {
            if let Some(generations) = gc.generations {
                assert_eq!(
                    generations,
                    interpreter_gc + facts["gc.generations"],
                    "{version}"
                );
            }
            let collecting = interpreter_gc + facts["gc.collecting"];
            assert_eq!(gc.collecting, collecting, "{version}");
        }
        for (name, value) in &facts {
            let skipped = name.starts_with("debug.")
                || name.starts_with("interpreter.gc")
                || name.starts_with("gc.") && layout.gc.is_none()
                || ["version", "gc.generations", "gc.collecting"].contains(&name.as_str());
            if skipped {
                continue;
            }
            match values.get(name.as_str()) {
                Some(ours) => assert_eq!(ours, value, "{version}: {name}"),
                None if minor == 11 && NOT_IN_LAYOUT.contains(&name.as_str()) => {}
                None if name == "thread.thread_id" => {}
                None => panic!("{version}: the layout has no {name}"),
            }
        }
        eprintln!("{version}: {} offsets match the headers", facts.len());
    }
}
