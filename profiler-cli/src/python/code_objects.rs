//! Naming Python frames: each code object is read once from the target
//! (file name, qualified name, first line, line table) and cached by
//! address. A code object can be freed and its address reused, so each
//! cached entry is checked again, once per pass, against the object's
//! current fields.

use std::collections::HashMap;

use profiler_common::PythonFrame;

use crate::frame::{Frame, FrameKind};
use crate::process::memory::{MemoryError, MemoryReader};
use crate::python::line_table::line_for_offset;
use crate::python::offsets::{InterpreterLayout, OffsetsError, read_bytes, read_str};
use crate::python::runtime::PythonRuntime;

/// What a code object tells about its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CodeInfo {
    filename: String,
    qualname: String,
    first_line: u32,
    line_table: Vec<u8>,
}

/// The fields that identify a code object: its str and bytes pointers and
/// its first line. A different object at the same address differs here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint([u64; 4]);

#[derive(Debug)]
struct Cached {
    fingerprint: Fingerprint,
    info: Option<CodeInfo>,
    checked_in_pass: u64,
}

/// Code objects read so far, by address.
#[derive(Debug, Default)]
pub struct CodeObjects {
    cache: HashMap<u64, Cached>,
    pass: u64,
}

impl CodeObjects {
    /// Starts a new pass: each entry is checked again at its next use.
    pub fn start_pass(&mut self) {
        self.pass += 1;
    }

    /// The frame for one recorded Python frame.
    pub fn frame(&mut self, runtime: &PythonRuntime, frame: PythonFrame) -> Frame {
        self.frame_in(&runtime.memory(), &runtime.layout, frame)
    }

    /// The frame for one recorded Python frame of an interpreter with
    /// `layout` whose memory `memory` reads. Public so that
    /// `benches/symbol_cache.rs` can time it on code objects laid out in
    /// a `FakeMemory`.
    #[doc(hidden)]
    pub fn frame_in(
        &mut self,
        memory: &dyn MemoryReader,
        layout: &InterpreterLayout,
        frame: PythonFrame,
    ) -> Frame {
        match self.info(memory, layout, frame.code) {
            Some(info) => Frame {
                kind: FrameKind::Python,
                function: info.qualname.clone(),
                file: Some(info.filename.clone()),
                line: layout
                    .bytecode_offset(frame.code, frame.instruction)
                    .and_then(|offset| u32::try_from(offset).ok())
                    .and_then(|offset| {
                        line_for_offset(
                            layout.code.line_table_format,
                            &info.line_table,
                            info.first_line,
                            offset,
                        )
                    }),
                object: None,
            },
            None => Frame {
                kind: FrameKind::Python,
                function: format!("[code object {:#x} unreadable]", frame.code),
                file: None,
                line: None,
                object: None,
            },
        }
    }

    fn info(
        &mut self,
        memory: &dyn MemoryReader,
        layout: &InterpreterLayout,
        code: u64,
    ) -> Option<&CodeInfo> {
        let pass = self.pass;
        let current = self
            .cache
            .get(&code)
            .filter(|cached| cached.checked_in_pass == pass)
            .is_some();
        if !current {
            let fingerprint = fingerprint(memory, layout, code).ok()?;
            let unchanged = self
                .cache
                .get(&code)
                .is_some_and(|cached| cached.fingerprint == fingerprint);
            if unchanged {
                self.cache.get_mut(&code)?.checked_in_pass = pass;
            } else {
                let info = read_code(memory, layout, code).ok();
                self.cache.insert(
                    code,
                    Cached {
                        fingerprint,
                        info,
                        checked_in_pass: pass,
                    },
                );
            }
        }
        self.cache.get(&code)?.info.as_ref()
    }
}

fn fingerprint(
    memory: &dyn MemoryReader,
    layout: &InterpreterLayout,
    code: u64,
) -> Result<Fingerprint, MemoryError> {
    let fields = &layout.code;
    let name = fields.qualname.unwrap_or(fields.name);
    Ok(Fingerprint([
        memory.read_u64(code.wrapping_add(fields.filename))?,
        memory.read_u64(code.wrapping_add(name))?,
        memory.read_u64(code.wrapping_add(fields.line_table))?,
        memory.read_u32(code.wrapping_add(fields.first_line))? as u64,
    ]))
}

fn read_code(
    memory: &dyn MemoryReader,
    layout: &InterpreterLayout,
    code: u64,
) -> Result<CodeInfo, OffsetsError> {
    let fields = &layout.code;
    let text = |offset: u64| -> Result<String, OffsetsError> {
        read_str(
            memory,
            &layout.unicode,
            memory.read_u64(code.wrapping_add(offset))?,
        )
    };
    Ok(CodeInfo {
        filename: text(fields.filename)?,
        qualname: text(fields.qualname.unwrap_or(fields.name))?,
        first_line: memory
            .read_i32(code.wrapping_add(fields.first_line))?
            .max(0) as u32,
        line_table: read_bytes(
            memory,
            &layout.bytes,
            memory.read_u64(code.wrapping_add(fields.line_table))?,
        )?,
    })
}
