//! The decoders against real interpreters: every code unit of every code
//! object in the fixtures that `testdata/dump_line_tables.py` recorded from
//! CPython 3.9 to 3.14 must get the line the interpreter itself gives it.

use serde::Deserialize;

use super::{LineTableFormat, line_for_offset};

/// One interpreter's fixture, as `dump_line_tables.py` writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    version: String,
    code_objects: Vec<CodeObject>,
}

/// One code object of the sample program.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeObject {
    name: String,
    first_line: u32,
    /// The raw line table, in hex.
    table: String,
    /// The bytecode's length in bytes.
    code_len: u32,
    /// The expected line of each 2-byte code unit, as runs of
    /// `[line, count]`.
    line_runs: Vec<(Option<u32>, u32)>,
}

pub(super) const FIXTURES: [(LineTableFormat, &str); 6] = [
    (LineTableFormat::Lnotab, include_str!("testdata/py39.json")),
    (
        LineTableFormat::Linetable310,
        include_str!("testdata/py310.json"),
    ),
    (
        LineTableFormat::Locations,
        include_str!("testdata/py311.json"),
    ),
    (
        LineTableFormat::Locations,
        include_str!("testdata/py312.json"),
    ),
    (
        LineTableFormat::Locations,
        include_str!("testdata/py313.json"),
    ),
    (
        LineTableFormat::Locations,
        include_str!("testdata/py314.json"),
    ),
];

/// The raw line tables of every fixture, with their format.
pub(super) fn fixture_tables() -> Vec<(LineTableFormat, Vec<u8>)> {
    FIXTURES
        .iter()
        .flat_map(|&(format, json)| {
            parse(json)
                .code_objects
                .into_iter()
                .map(move |code| (format, hex(&code.table)))
        })
        .collect()
}

fn parse(json: &str) -> Fixture {
    serde_json::from_str(json).expect("fixture is valid JSON of the expected shape")
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// The expected line of every code unit, runs expanded.
fn expected_lines(code: &CodeObject) -> Vec<Option<u32>> {
    code.line_runs
        .iter()
        .flat_map(|&(line, count)| std::iter::repeat_n(line, count as usize))
        .collect()
}

#[test]
fn every_offset_of_every_code_object_of_every_version() {
    for (format, json) in FIXTURES {
        let fixture = parse(json);
        assert!(fixture.code_objects.len() >= 18, "{}", fixture.version);
        let mut units_checked = 0;
        for code in &fixture.code_objects {
            let table = hex(&code.table);
            let expected = expected_lines(code);
            assert_eq!(expected.len() as u32 * 2, code.code_len, "{}", code.name);
            for (unit, &line) in expected.iter().enumerate() {
                let byte_offset = unit as u32 * 2;
                assert_eq!(
                    line_for_offset(format, &table, code.first_line, byte_offset),
                    line,
                    "{} {} at byte {byte_offset}",
                    fixture.version,
                    code.name
                );
                units_checked += 1;
            }
        }
        assert!(units_checked > 600, "{}", fixture.version);
    }
}

#[test]
fn fixtures_cover_big_line_jumps_and_lineless_code() {
    for (format, json) in FIXTURES {
        let fixture = parse(json);
        let lines: Vec<_> = fixture
            .code_objects
            .iter()
            .flat_map(expected_lines)
            .collect();
        // `far_away` sits past line 1000 and `long_line_gaps` jumps more
        // than 127 lines both ways.
        assert!(
            lines.iter().flatten().any(|&line| line > 1000),
            "{}",
            fixture.version
        );
        if format != LineTableFormat::Lnotab {
            assert!(lines.contains(&None), "{}", fixture.version);
        }
    }
}

#[test]
fn odd_offsets_in_3_11_plus_are_the_unit_holding_them() {
    for (_, json) in &FIXTURES[2..] {
        for code in parse(json).code_objects {
            let table = hex(&code.table);
            for byte in (0..code.code_len).step_by(2) {
                assert_eq!(
                    line_for_offset(
                        LineTableFormat::Locations,
                        &table,
                        code.first_line,
                        byte + 1
                    ),
                    line_for_offset(LineTableFormat::Locations, &table, code.first_line, byte),
                );
            }
        }
    }
}
