//! CPython's allocator table: the functions the interpreter really calls.
//!
//! Inside an LTO build, the exported `PyObject_Malloc` is inlined into its
//! callers and a probe on it misses most calls. Every caller, though, ends
//! in an indirect call through the table (`_PyObject.malloc` before 3.12,
//! `_PyRuntime.allocators.standard.obj.malloc` after). The exported
//! wrappers are still compiled: decoding one shows which table slot it
//! calls through, and the slot, read from the target's memory, gives the
//! function to probe. One mechanism for every version, and for stripped
//! binaries too.

use std::collections::HashMap;

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, InstructionInfoFactory, Mnemonic, OpAccess, OpKind,
    Register,
};

use crate::process::memory::MemoryReader;
use crate::python::PythonError;
use crate::python::interpreter_binary::InterpreterBinary;

/// Bytes of a wrapper decoded at most: they are a handful of instructions.
const WRAPPER_BYTES: usize = 256;

/// One allocator operation and the exported wrappers that call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Malloc,
    Calloc,
    Realloc,
    Free,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Malloc,
        Operation::Calloc,
        Operation::Realloc,
        Operation::Free,
    ];

    /// The slot's index in PyMemAllocatorEx {ctx, malloc, calloc, realloc, free}.
    fn slot_index(self) -> u64 {
        match self {
            Operation::Malloc => 1,
            Operation::Calloc => 2,
            Operation::Realloc => 3,
            Operation::Free => 4,
        }
    }
}

/// The allocator domains, by their exported wrappers' prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    Raw,
    Mem,
    Object,
}

impl Domain {
    fn wrapper(self, operation: Operation) -> String {
        let prefix = match self {
            Domain::Raw => "PyMem_Raw",
            Domain::Mem => "PyMem_",
            Domain::Object => "PyObject_",
        };
        let name = match operation {
            Operation::Malloc => "Malloc",
            Operation::Calloc => "Calloc",
            Operation::Realloc => "Realloc",
            Operation::Free => "Free",
        };
        format!("{prefix}{name}")
    }
}

/// Every exported wrapper name, for the symbol lookup.
pub fn wrapper_names() -> Vec<String> {
    [Domain::Raw, Domain::Mem, Domain::Object]
        .into_iter()
        .flat_map(|domain| Operation::ALL.map(|operation| domain.wrapper(operation)))
        .collect()
}

/// One domain's table, read from the target: runtime addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainTable {
    pub context: u64,
    pub functions: HashMap<Operation, u64>,
}

/// Reads `domain`'s table from the target through its exported wrappers.
pub fn read_domain(
    memory: &dyn MemoryReader,
    binary: &InterpreterBinary,
    domain: Domain,
) -> Result<DomainTable, PythonError> {
    let mut functions = HashMap::new();
    let mut table_start = None;
    for operation in Operation::ALL {
        let name = domain.wrapper(operation);
        let entry = binary
            .symbol(&name)
            .ok_or_else(|| PythonError::AllocatorTable(format!("{name} is not exported")))?;
        let code = read_code(memory, entry)?;
        let slot = indirect_call_slot(&code, entry).ok_or_else(|| {
            PythonError::AllocatorTable(format!(
                "{name} calls through no table slot leakspy can see"
            ))
        })?;
        let start = slot - 8 * operation.slot_index();
        if *table_start.get_or_insert(start) != start {
            return Err(PythonError::AllocatorTable(format!(
                "{name}'s slot is not in the same table as the others"
            )));
        }
        let function = memory.read_u64(slot).map_err(PythonError::Memory)?;
        functions.insert(operation, function);
    }
    let start = table_start.expect("four operations were read");
    let context = memory.read_u64(start).map_err(PythonError::Memory)?;
    Ok(DomainTable { context, functions })
}

/// Up to WRAPPER_BYTES of code at `entry`, fewer at the end of a mapping.
fn read_code(memory: &dyn MemoryReader, entry: u64) -> Result<Vec<u8>, PythonError> {
    let mut length = WRAPPER_BYTES;
    loop {
        match memory.read_vec(entry, length) {
            Ok(code) => return Ok(code),
            Err(_) if length > 16 => length /= 2,
            Err(error) => return Err(PythonError::Memory(error)),
        }
    }
}

/// The address of the memory slot through which the code at `ip` makes its
/// first indirect call or jump: `jmp [rip+d]`, or `mov reg, [rip+d]` then
/// `jmp reg`. None when it returns first.
pub fn indirect_call_slot(code: &[u8], ip: u64) -> Option<u64> {
    let mut loaded: HashMap<Register, u64> = HashMap::new();
    let mut info = InstructionInfoFactory::new();
    let decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    for instruction in decoder {
        if instruction.is_invalid() {
            return None;
        }
        match instruction.flow_control() {
            FlowControl::IndirectBranch | FlowControl::IndirectCall => {
                return match instruction.op0_kind() {
                    OpKind::Memory if instruction.is_ip_rel_memory_operand() => {
                        Some(instruction.ip_rel_memory_address())
                    }
                    OpKind::Register => loaded
                        .get(&instruction.op0_register().full_register())
                        .copied(),
                    _ => None,
                };
            }
            FlowControl::Return | FlowControl::UnconditionalBranch => return None,
            _ => {}
        }
        let writes_register = instruction.op_count() >= 1
            && instruction.op0_kind() == OpKind::Register
            && matches!(
                info.info(&instruction).op0_access(),
                OpAccess::Write
                    | OpAccess::ReadWrite
                    | OpAccess::CondWrite
                    | OpAccess::ReadCondWrite
            );
        if writes_register {
            let target = instruction.op0_register().full_register();
            let rip_load = instruction.mnemonic() == Mnemonic::Mov
                && instruction.op1_kind() == OpKind::Memory
                && instruction.is_ip_rel_memory_operand();
            if rip_load {
                loaded.insert(target, instruction.ip_rel_memory_address());
            } else {
                loaded.remove(&target);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_jump_through_memory_names_its_slot() {
        // mov rsi, rdi; mov rdi, [rip+0x100]; jmp [rip+0x200]
        let code = [
            0x48, 0x89, 0xfe, 0x48, 0x8b, 0x3d, 0x00, 0x01, 0x00, 0x00, 0xff, 0x25, 0x00, 0x02,
            0x00, 0x00,
        ];
        let ip = 0x1000;
        assert_eq!(indirect_call_slot(&code, ip), Some(ip + 16 + 0x200));
    }

    #[test]
    fn a_jump_through_a_loaded_register_names_the_loaded_slot() {
        // mov rax, [rip+0x40]; test rax, rax; mov rdi, [rip+0x38]; jmp rax
        let code = [
            0x48, 0x8b, 0x05, 0x40, 0x00, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x48, 0x8b, 0x3d, 0x38,
            0x00, 0x00, 0x00, 0xff, 0xe0,
        ];
        let ip = 0x2000;
        assert_eq!(indirect_call_slot(&code, ip), Some(ip + 7 + 0x40));
    }

    #[test]
    fn a_function_that_returns_first_has_no_slot() {
        // xor eax, eax; ret
        assert_eq!(indirect_call_slot(&[0x31, 0xc0, 0xc3], 0x3000), None);
    }
}
