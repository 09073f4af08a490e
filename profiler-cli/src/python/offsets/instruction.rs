//! Turning a frame's raw instruction value, as the walker records it, into
//! a byte offset in the code object's bytecode, which is what line tables
//! are looked up by.

use profiler_common::InstructionKind;

use crate::python::offsets::InterpreterLayout;

impl InterpreterLayout {
    /// The byte offset into the bytecode of the instruction a frame is at,
    /// from the frame's code object address and raw instruction value. None
    /// before the frame's first instruction (`f_lasti` of -1, or a 3.11+
    /// pointer still before `co_code_adaptive`, as in 3.11's incomplete
    /// frames).
    pub fn bytecode_offset(&self, code: u64, instruction: u64) -> Option<u64> {
        if self.walker.instruction_kind == InstructionKind::LastIndex as u32 {
            let units = u64::try_from(instruction as i64).ok()?;
            return units.checked_mul(self.code.last_index_unit);
        }
        let start = code.checked_add(self.code.code_adaptive?)?;
        instruction.checked_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use crate::python::offsets::{PythonVersion, layout_for};

    fn layout(minor: u8) -> crate::python::offsets::InterpreterLayout {
        layout_for(PythonVersion {
            major: 3,
            minor,
            micro: 0,
        })
        .unwrap()
    }

    #[test]
    fn last_index_counts_bytes_on_3_9_and_code_units_on_3_10() {
        assert_eq!(layout(9).bytecode_offset(0x1000, 10), Some(10));
        assert_eq!(layout(10).bytecode_offset(0x1000, 10), Some(20));
        assert_eq!(layout(10).bytecode_offset(0x1000, -1i64 as u64), None);
    }

    #[test]
    fn pointers_count_from_the_inline_bytecode() {
        let layout = layout(12);
        let start = 0x1000 + layout.code.code_adaptive.unwrap();
        assert_eq!(layout.bytecode_offset(0x1000, start + 6), Some(6));
        assert_eq!(layout.bytecode_offset(0x1000, start - 2), None);
    }
}
