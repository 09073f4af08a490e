//! CPython 3.12 code objects laid out in a `FakeMemory` as the
//! interpreter lays them out (compact ASCII names, a bytes line table,
//! `co_code_adaptive` inline), with the real line tables CPython 3.12.1
//! wrote for the line-table fixtures, and frames that point into them.

use leakspy::process::memory::FakeMemory;
use leakspy::python::offsets::{
    BytesLayout, InterpreterLayout, PythonVersion, UnicodeLayout, layout_for,
};
use profiler_common::PythonFrame;
use serde_json::Value;

use super::mix;

/// The line-table fixture of CPython 3.12.1.
const FIXTURE: &str = include_str!("../../src/python/line_table/testdata/py312.json");
/// Where the fake interpreter's objects start.
const HEAP_START: u64 = 0x7f3a_0000_0000;

/// One code object of the fixture.
struct FixtureCode {
    name: String,
    first_line: u32,
    table: Vec<u8>,
    code_len: u64,
    /// The 2-byte code units the interpreter gives a line: where frames
    /// stop (the others are inline caches and the like).
    lined_units: Vec<u64>,
}

fn fixture_codes() -> Vec<FixtureCode> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    fixture["code_objects"]
        .as_array()
        .expect("the fixture lists code objects")
        .iter()
        .map(|code| FixtureCode {
            name: code["name"].as_str().expect("a name").to_string(),
            first_line: code["first_line"].as_u64().expect("a first line") as u32,
            table: unhex(code["table"].as_str().expect("a hex table")),
            code_len: code["code_len"].as_u64().expect("a bytecode length"),
            lined_units: lined_units(&code["line_runs"]),
        })
        .collect()
}

/// The code units with a line, from the fixture's `[line, count]` runs.
fn lined_units(runs: &Value) -> Vec<u64> {
    let mut unit = 0;
    let mut lined = Vec::new();
    for run in runs.as_array().expect("line runs") {
        let count = run[1].as_u64().expect("a run length");
        if !run[0].is_null() {
            lined.extend(unit..unit + count);
        }
        unit += count;
    }
    lined
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex digits"))
        .collect()
}

/// The fake interpreter's memory while it is being laid out.
struct Heap(Vec<u8>);

impl Heap {
    /// Reserves `len` zeroed bytes, 16-aligned, and returns their address.
    fn reserve(&mut self, len: u64) -> u64 {
        let at = self.0.len().next_multiple_of(16);
        self.0.resize(at + len as usize, 0);
        HEAP_START + at as u64
    }

    fn write(&mut self, address: u64, bytes: &[u8]) {
        let at = (address - HEAP_START) as usize;
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// A compact ASCII str object holding `text`.
    fn str_object(&mut self, layout: &UnicodeLayout, text: &str) -> u64 {
        let address = self.reserve(layout.ascii_data + text.len() as u64 + 1);
        let state =
            (1 << layout.kind_shift) | (1 << layout.compact_shift) | (1 << layout.ascii_shift);
        self.write(address + layout.length, &(text.len() as u64).to_le_bytes());
        self.write(address + layout.state, &u32::to_le_bytes(state));
        self.write(address + layout.ascii_data, text.as_bytes());
        address
    }

    /// A bytes object holding `bytes`.
    fn bytes_object(&mut self, layout: &BytesLayout, bytes: &[u8]) -> u64 {
        let address = self.reserve(layout.data + bytes.len() as u64 + 1);
        self.write(address + layout.size, &(bytes.len() as u64).to_le_bytes());
        self.write(address + layout.data, bytes);
        address
    }
}

/// A fake CPython 3.12 with its code objects and the frames to name.
pub struct FakePython {
    pub memory: FakeMemory,
    pub layout: InterpreterLayout,
    /// Frames at varied instructions of every code object.
    pub frames: Vec<PythonFrame>,
}

/// A CPython 3.12 with `modules` copies of the fixture's code objects
/// (one module each) and `frames_per_code` frames in each code object.
pub fn fake_python(modules: usize, frames_per_code: usize) -> FakePython {
    let version = PythonVersion {
        major: 3,
        minor: 12,
        micro: 1,
    };
    let layout = layout_for(version).expect("3.12 is in the table");
    let fields = &layout.code;
    let code_start = fields
        .code_adaptive
        .expect("3.12 keeps its bytecode inline");
    let mut heap = Heap(Vec::new());
    let mut frames = Vec::new();
    let codes = fixture_codes();
    for module in 0..modules {
        let filename =
            format!("/srv/app/venv/lib/python3.12/site-packages/service/module_{module}.py");
        let filename = heap.str_object(&layout.unicode, &filename);
        for code in &codes {
            let qualname = format!("Handler{module}.{}", code.name);
            let qualname = heap.str_object(&layout.unicode, &qualname);
            let table = heap.bytes_object(&layout.bytes, &code.table);
            let address = heap.reserve(code_start + code.code_len);
            heap.write(address + fields.filename, &filename.to_le_bytes());
            heap.write(
                address + fields.qualname.unwrap_or(fields.name),
                &qualname.to_le_bytes(),
            );
            heap.write(address + fields.line_table, &table.to_le_bytes());
            heap.write(address + fields.first_line, &code.first_line.to_le_bytes());
            for index in 0..frames_per_code as u64 {
                let lined = &code.lined_units;
                let unit = lined[(mix(address ^ index) % lined.len() as u64) as usize];
                frames.push(PythonFrame {
                    code: address,
                    instruction: address + code_start + unit * 2,
                });
            }
        }
    }
    let mut memory = FakeMemory::default();
    memory.place(HEAP_START, heap.0);
    FakePython {
        memory,
        layout,
        frames,
    }
}
