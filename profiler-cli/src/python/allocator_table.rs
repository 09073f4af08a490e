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

/// Bytes of a wrapper decoded at most. Wrappers are a handful of
/// instructions, or a few hundred bytes when the compiler inlined
/// pymalloc behind a guard.
const WRAPPER_BYTES: u64 = 4096;
/// Bytes decoded when the symbol table gives no size.
const UNSIZED_WRAPPER_BYTES: u64 = 256;

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
    /// Exported wrappers that hold an inlined copy of the table's function
    /// behind a guard: a call to one of them may never reach the function,
    /// so they are probed too (with the wrapper's own argument positions).
    pub guarded_wrappers: HashMap<Operation, u64>,
    /// The function each guarded wrapper's guard compares with: the one
    /// inlined behind it, in the wrapper and maybe elsewhere.
    pub inlined: HashMap<Operation, u64>,
}

impl DomainTable {
    /// The address of the function inlined behind the guards of
    /// `operation`, when the table runs that very function (no hooks).
    pub fn runs_inlined(&self, operation: Operation) -> Option<u64> {
        let target = self.inlined.get(&operation)?;
        (self.functions.get(&operation) == Some(target)).then_some(*target)
    }
}

/// Reads `domain`'s table from the target through its exported wrappers.
pub fn read_domain(
    memory: &dyn MemoryReader,
    binary: &InterpreterBinary,
    domain: Domain,
) -> Result<DomainTable, PythonError> {
    let mut functions = HashMap::new();
    let mut guarded_wrappers = HashMap::new();
    let mut inlined = HashMap::new();
    let mut table_start = None;
    for operation in Operation::ALL {
        let name = domain.wrapper(operation);
        let entry = binary
            .symbol(&name)
            .ok_or_else(|| PythonError::AllocatorTable(format!("{name} is not exported")))?;
        let size = match binary.symbol_size(&name) {
            Some(size) if size > 0 => size.min(WRAPPER_BYTES),
            _ => UNSIZED_WRAPPER_BYTES,
        };
        let code = read_code(memory, entry, size as usize)?;
        let read_pointer = |address| memory.read_u64(address).ok();
        let SlotUse { slot, guard } =
            indirect_call_slot(&code, entry, &read_pointer).ok_or_else(|| {
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
        if let Some(target) = guard {
            guarded_wrappers.insert(operation, entry);
            inlined.insert(operation, target);
        }
    }
    let start = table_start.expect("four operations were read");
    let context = memory.read_u64(start).map_err(PythonError::Memory)?;
    Ok(DomainTable {
        context,
        functions,
        guarded_wrappers,
        inlined,
    })
}

/// Up to `length` bytes of code at `entry`, fewer at the end of a mapping.
fn read_code(
    memory: &dyn MemoryReader,
    entry: u64,
    mut length: usize,
) -> Result<Vec<u8>, PythonError> {
    loop {
        match memory.read_vec(entry, length) {
            Ok(code) => return Ok(code),
            Err(_) if length > 16 => length /= 2,
            Err(error) => return Err(PythonError::Memory(error)),
        }
    }
}

/// How a wrapper uses its table slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotUse {
    /// The slot's address.
    pub slot: u64,
    /// The constant the wrapper compares the slot with first: it runs an
    /// inlined copy of that function when they match.
    pub guard: Option<u64>,
}

/// The address of the table slot the function at `ip` (all of it in
/// `code`) calls through. `read_pointer` reads a pointer from the target,
/// for tables reached through the GOT (`mov rax, [rip+GOT]; jmp [rax+d]`,
/// as a shared libpython 3.12+ reaches `_PyRuntime`). The first of these,
/// in address order, names the slot:
/// - `jmp`/`call` through memory: `[rip+d]`, or `[reg+d]` with reg loaded;
/// - `jmp`/`call reg` with reg loaded from a slot;
/// - `cmp reg, imm` with reg loaded from a slot: the guard GCC puts before
///   an inlined copy of the expected target (speculative devirtualization).
pub fn indirect_call_slot(
    code: &[u8],
    ip: u64,
    read_pointer: &dyn Fn(u64) -> Option<u64>,
) -> Option<SlotUse> {
    // For each register: the address its value was loaded from.
    let mut loaded_from: HashMap<Register, u64> = HashMap::new();
    let mut info = InstructionInfoFactory::new();
    // The address a memory operand designates, when leakspy can tell.
    let memory_operand = |instruction: &iced_x86::Instruction,
                          loaded_from: &HashMap<Register, u64>| {
        if instruction.is_ip_rel_memory_operand() {
            return Some(instruction.ip_rel_memory_address());
        }
        let base = loaded_from.get(&instruction.memory_base().full_register())?;
        let indexed = instruction.memory_index() != Register::None;
        (!indexed).then(|| {
            read_pointer(*base)
                .map(|pointer| pointer.wrapping_add(instruction.memory_displacement64()))
        })?
    };
    let decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    for instruction in decoder {
        if instruction.is_invalid() {
            return None;
        }
        let op0_register = (instruction.op_count() >= 1
            && instruction.op0_kind() == OpKind::Register)
            .then(|| instruction.op0_register().full_register());
        if matches!(
            instruction.flow_control(),
            FlowControl::IndirectBranch | FlowControl::IndirectCall
        ) {
            let slot = match op0_register {
                Some(register) => loaded_from.get(&register).copied(),
                None => memory_operand(&instruction, &loaded_from),
            };
            if let Some(slot) = slot {
                return Some(SlotUse { slot, guard: None });
            }
        }
        let Some(register) = op0_register else {
            continue;
        };
        let compares_with_constant = instruction.mnemonic() == Mnemonic::Cmp
            && matches!(
                instruction.op1_kind(),
                OpKind::Immediate8to64 | OpKind::Immediate32to64 | OpKind::Immediate32
            );
        if let Some(&slot) = loaded_from
            .get(&register)
            .filter(|_| compares_with_constant)
        {
            return Some(SlotUse {
                slot,
                guard: Some(instruction.immediate64()),
            });
        }
        let writes = matches!(
            info.info(&instruction).op0_access(),
            OpAccess::Write | OpAccess::ReadWrite | OpAccess::CondWrite | OpAccess::ReadCondWrite
        );
        if writes {
            let source = (instruction.mnemonic() == Mnemonic::Mov
                && instruction.op1_kind() == OpKind::Memory)
                .then(|| memory_operand(&instruction, &loaded_from))
                .flatten();
            match source {
                Some(address) => loaded_from.insert(register, address),
                None => loaded_from.remove(&register),
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(found: Option<SlotUse>) -> Option<u64> {
        found.map(|found| found.slot)
    }

    #[test]
    fn a_tail_jump_through_memory_names_its_slot() {
        // mov rsi, rdi; mov rdi, [rip+0x100]; jmp [rip+0x200]
        let code = [
            0x48, 0x89, 0xfe, 0x48, 0x8b, 0x3d, 0x00, 0x01, 0x00, 0x00, 0xff, 0x25, 0x00, 0x02,
            0x00, 0x00,
        ];
        let ip = 0x1000;
        assert_eq!(
            slot(indirect_call_slot(&code, ip, &|_| None)),
            Some(ip + 16 + 0x200)
        );
    }

    #[test]
    fn a_jump_through_a_loaded_register_names_the_loaded_slot() {
        // mov rax, [rip+0x40]; test rax, rax; mov rdi, [rip+0x38]; jmp rax
        let code = [
            0x48, 0x8b, 0x05, 0x40, 0x00, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x48, 0x8b, 0x3d, 0x38,
            0x00, 0x00, 0x00, 0xff, 0xe0,
        ];
        let ip = 0x2000;
        assert_eq!(
            slot(indirect_call_slot(&code, ip, &|_| None)),
            Some(ip + 7 + 0x40)
        );
    }

    #[test]
    fn a_jump_through_a_pointer_loaded_from_the_got_names_the_slot_behind_it() {
        // mov rax, [rip+0x100]; mov rdi, [rax+0x2c0]; jmp [rax+0x2c8]
        let code = [
            0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x48, 0x8b, 0xb8, 0xc0, 0x02, 0x00, 0x00,
            0xff, 0xa0, 0xc8, 0x02, 0x00, 0x00,
        ];
        let ip = 0x5000;
        let got = ip + 7 + 0x100;
        let runtime = 0x7f00_0000_0000;
        let read = |address| (address == got).then_some(runtime);
        assert_eq!(
            slot(indirect_call_slot(&code, ip, &read)),
            Some(runtime + 0x2c8)
        );
    }

    #[test]
    fn a_guard_before_an_inlined_target_names_the_loaded_slot() {
        // mov rax, [rip+0x100]; cmp rax, 0x4f1d00; jne +0; ret
        // (Debian 3.9's PyObject_Malloc starts this way.)
        let code = [
            0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x48, 0x3d, 0x00, 0x1d, 0x4f, 0x00, 0x75,
            0x00, 0xc3,
        ];
        let ip = 0x4000;
        let found = indirect_call_slot(&code, ip, &|_| None);
        assert_eq!(
            found,
            Some(SlotUse {
                slot: ip + 7 + 0x100,
                guard: Some(0x4f1d00)
            })
        );
    }

    #[test]
    fn a_function_that_calls_through_no_slot_has_none() {
        // xor eax, eax; ret
        assert_eq!(
            indirect_call_slot(&[0x31, 0xc0, 0xc3], 0x3000, &|_| None),
            None
        );
    }

    /// The interpreter binaries the privileged tests use, where present.
    fn interpreter_binaries() -> Vec<std::path::PathBuf> {
        let pyenv = std::path::Path::new("/root/.pyenv/versions");
        let mut paths: Vec<_> = std::fs::read_dir(pyenv)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let minor = name.strip_prefix("3.")?.split('.').next()?.to_string();
                Some(entry.path().join(format!("lib/libpython3.{minor}.so.1.0")))
            })
            .collect();
        paths.push("/usr/bin/python3.11".into());
        for (suite, minor) in [("bullseye", 9), ("trixie", 13), ("forky", 14)] {
            paths.push(format!("/var/tmp/leakspy-pythons/{suite}/usr/bin/python3.{minor}").into());
        }
        paths.retain(|path| path.exists());
        paths
    }

    #[test]
    fn every_wrapper_of_real_interpreters_names_a_slot_of_its_domain_table() {
        use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
        let binaries = interpreter_binaries();
        if binaries.is_empty() {
            eprintln!("SKIPPED: no interpreter binary here");
            return;
        }
        for path in binaries {
            let data = std::fs::read(&path).unwrap();
            let elf = object::File::parse(&*data).unwrap();
            let text = elf.section_by_name(".text").unwrap();
            // The file's own bytes: GOT entries hold no relocated pointer
            // (0), so slots reached through them come out relative to 0,
            // which still shows whether a domain's slots are consecutive.
            let read_pointer = |address: u64| {
                let section = elf.sections().find(|section| {
                    (section.address()..section.address() + section.size()).contains(&address)
                })?;
                let bytes = section.data().ok()?;
                let start = (address - section.address()) as usize;
                Some(u64::from_le_bytes(
                    bytes.get(start..start + 8)?.try_into().ok()?,
                ))
            };
            let slot_of = |name: &str| {
                let symbol = elf
                    .dynamic_symbols()
                    .find(|symbol| symbol.name() == Ok(name))
                    .unwrap_or_else(|| panic!("{} exports {name}", path.display()));
                let start = (symbol.address() - text.address()) as usize;
                let code = &text.data().unwrap()[start..start + symbol.size().max(16) as usize];
                indirect_call_slot(code, symbol.address(), &read_pointer)
                    .unwrap_or_else(|| panic!("{name} of {} names no slot", path.display()))
                    .slot
            };
            for domain in [Domain::Raw, Domain::Mem, Domain::Object] {
                let malloc = slot_of(&domain.wrapper(Operation::Malloc));
                for operation in Operation::ALL {
                    let expected = malloc + 8 * (operation.slot_index() - 1);
                    let found = slot_of(&domain.wrapper(operation));
                    assert_eq!(
                        found,
                        expected,
                        "{:?} {operation:?} in {}",
                        domain,
                        path.display()
                    );
                }
            }
        }
    }
}
