//! The places where an LTO build of CPython runs pymalloc inlined, and how
//! to see a call there.
//!
//! GCC devirtualizes each call through the allocator table behind a guard:
//! `mov reg, [slot]; cmp reg, <_PyObject_Malloc>; je inlined; ...`. On a
//! match the inlined copy runs and reaches no probe; otherwise the out of
//! line path calls `reg` the usual way (`mov rsi, size; call reg`). That
//! out of line path tells everything a probe needs, without reading the
//! inlined copy:
//! - the argument's register at the guard, from the move into `rsi`
//!   (the table functions take their context first);
//! - for an allocation, where both paths meet again and in which register
//!   the new block is there: after the call, the result is copied into
//!   the register the inlined copy also leaves it in, then a jump goes
//!   back to the meeting point.
//!
//! A guard whose out of line path has another shape is left out and
//! counted. Only non-PIE executables are read: their guards compare with
//! the function's absolute address (Debian's builds are such).

use std::collections::HashSet;

use iced_x86::{
    Code, Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, Mnemonic,
    OpAccess, OpKind, Register,
};

use crate::probes::placement::object_code::ObjectCode;

/// Machine code by address: an object file's, or a test's.
pub trait CodeBytes {
    /// Every executable range: its first address and its bytes.
    fn ranges(&self) -> Vec<(u64, &[u8])>;
    /// Up to `length` bytes from `at`, fewer at the end of its range.
    fn bytes_at(&self, at: u64, length: usize) -> Option<&[u8]>;
}

impl CodeBytes for ObjectCode {
    fn ranges(&self) -> Vec<(u64, &[u8])> {
        self.sections().collect()
    }

    fn bytes_at(&self, at: u64, length: usize) -> Option<&[u8]> {
        self.code_at(at, length)
    }
}

/// Instructions read on the out of line path, up to its call.
const MAX_PATH_BEFORE_CALL: usize = 16;
/// Instructions read after the call, up to the jump back.
const MAX_PATH_AFTER_CALL: usize = 8;
/// Unconditional jumps followed to reach the out of line path.
const MAX_JUMPS_FOLLOWED: usize = 3;
/// Longest x86 instruction.
const MAX_INSTRUCTION_BYTES: usize = 15;

/// Where a value is at a guard: in a register, or a constant the out of
/// line path loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueSource {
    Register(Register),
    Constant(u64),
}

/// One inlined `_PyObject_Malloc(ctx, size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlinedMalloc {
    /// The guard's `cmp`, an ELF virtual address.
    pub guard: u64,
    /// The register compared with the function's address.
    pub guard_register: Register,
    pub size: ValueSource,
    /// Where the inlined and the out of line paths meet again.
    pub merge: u64,
    /// The register that holds the new block there.
    pub result: Register,
}

/// One inlined `_PyObject_Free(ctx, pointer)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlinedFree {
    pub guard: u64,
    pub guard_register: Register,
    pub pointer: Register,
}

/// The inlined calls of one executable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InlinedSites {
    pub mallocs: Vec<InlinedMalloc>,
    pub frees: Vec<InlinedFree>,
    /// Guards whose out of line path has a shape not understood.
    pub not_understood: Vec<u64>,
}

/// The inlined copies of the functions at `malloc` and `free` (their
/// addresses, as the guards compare them) in `code`. Guards inside
/// `skipped` ranges (the exported wrappers, probed on their own) are left
/// out.
pub fn find_inlined_sites(
    code: &dyn CodeBytes,
    malloc: Option<u64>,
    free: Option<u64>,
    skipped: &[std::ops::Range<u64>],
) -> InlinedSites {
    let mut sites = InlinedSites::default();
    let guards = |target: Option<u64>| -> Vec<Guard> {
        let found = target.map(|target| guards_of(code, target));
        found
            .unwrap_or_default()
            .into_iter()
            .filter(|guard| !skipped.iter().any(|range| range.contains(&guard.at)))
            .collect()
    };
    for guard in guards(malloc) {
        match read_malloc(code, &guard) {
            Some(site) => sites.mallocs.push(site),
            None => sites.not_understood.push(guard.at),
        }
    }
    for guard in guards(free) {
        match read_free(code, &guard) {
            Some(site) => sites.frees.push(site),
            None => sites.not_understood.push(guard.at),
        }
    }
    sites
}

/// A `cmp reg, imm32` with the target's address.
#[derive(Clone, Copy, Debug)]
struct Guard {
    at: u64,
    register: Register,
    /// The first instruction of the out of line path.
    out_of_line: u64,
}

/// Every guard comparing a register with `target` in `code`.
fn guards_of(code: &dyn CodeBytes, target: u64) -> Vec<Guard> {
    let Ok(immediate) = u32::try_from(target) else {
        return Vec::new();
    };
    if immediate > i32::MAX as u32 {
        // An imm32 is sign-extended: such an address cannot be compared.
        return Vec::new();
    }
    let needle = immediate.to_le_bytes();
    let mut guards = Vec::new();
    for (start, bytes) in code.ranges() {
        for position in 0..bytes.len().saturating_sub(3) {
            if bytes[position..position + 4] != needle {
                continue;
            }
            // `cmp rax, imm32` is 2 bytes before its immediate (48 3d),
            // `cmp r64, imm32` 3 (REX 81 /7).
            let found = [2, 3].into_iter().find_map(|back| {
                let at = position.checked_sub(back)?;
                let instruction = decode_one(&bytes[at..position + 4], start + at as u64)?;
                (instruction.len() == back + 4 && compares_with(&instruction, target))
                    .then_some(instruction)
            });
            let Some(compare) = found else {
                continue;
            };
            if let Some(guard) = guard_at(code, &compare) {
                guards.push(guard);
            }
        }
    }
    guards
}

fn compares_with(instruction: &Instruction, target: u64) -> bool {
    instruction.mnemonic() == Mnemonic::Cmp
        && instruction.op0_kind() == OpKind::Register
        && instruction.op0_register().size() == 8
        && instruction.op1_kind() == OpKind::Immediate32to64
        && instruction.immediate64() == target
}

/// The guard at `compare`, when a `je` or `jne` follows it.
fn guard_at(code: &dyn CodeBytes, compare: &Instruction) -> Option<Guard> {
    let branch = decode_at(code, compare.next_ip())?;
    let out_of_line = match branch.mnemonic() {
        Mnemonic::Jne => branch.near_branch_target(),
        Mnemonic::Je => branch.next_ip(),
        _ => return None,
    };
    Some(Guard {
        at: compare.ip(),
        register: compare.op0_register(),
        out_of_line: follow_jumps(code, out_of_line)?,
    })
}

/// `at`, or where the unconditional jumps starting there lead.
fn follow_jumps(code: &dyn CodeBytes, mut at: u64) -> Option<u64> {
    for _ in 0..MAX_JUMPS_FOLLOWED {
        let instruction = decode_at(code, at)?;
        if instruction.flow_control() != FlowControl::UnconditionalBranch
            || instruction.op0_kind() != OpKind::NearBranch64
        {
            return Some(at);
        }
        at = instruction.near_branch_target();
    }
    Some(at)
}

/// The out of line path up to its call through the guard's register,
/// following direct jumps: the second argument's source at the guard, and
/// the instruction after the call (None for a tail call, a jump through
/// the register).
fn path_to_call(code: &dyn CodeBytes, guard: &Guard) -> Option<(ValueSource, Option<u64>)> {
    let mut info = InstructionInfoFactory::new();
    let mut written: HashSet<Register> = HashSet::new();
    let mut argument = None;
    let mut at = guard.out_of_line;
    for _ in 0..MAX_PATH_BEFORE_CALL {
        let instruction = decode_at(code, at)?;
        at = instruction.next_ip();
        let flow = instruction.flow_control();
        if matches!(
            flow,
            FlowControl::IndirectCall | FlowControl::IndirectBranch
        ) {
            let through_guard = instruction.op0_kind() == OpKind::Register
                && instruction.op0_register() == guard.register;
            if !through_guard || written.contains(&guard.register) {
                return None;
            }
            let argument = argument.unwrap_or(ValueSource::Register(Register::RSI));
            let returns_here = flow == FlowControl::IndirectCall;
            return Some((argument, returns_here.then_some(at)));
        }
        if flow == FlowControl::UnconditionalBranch
            && instruction.op0_kind() == OpKind::NearBranch64
        {
            // Several guards may share one call.
            at = instruction.near_branch_target();
            continue;
        }
        if flow != FlowControl::Next {
            return None;
        }
        let writes = written_registers(&mut info, &instruction);
        if writes.contains(&Register::RSI) {
            argument = Some(argument_source(&instruction, &written)?);
        }
        written.extend(writes);
    }
    None
}

/// What `mov rsi, ...` loads, as seen at the guard: a register not written
/// since, or a constant.
fn argument_source(instruction: &Instruction, written: &HashSet<Register>) -> Option<ValueSource> {
    match instruction.code() {
        Code::Mov_r64_rm64 | Code::Mov_rm64_r64 if instruction.op1_kind() == OpKind::Register => {
            let source = instruction.op1_register();
            (!written.contains(&source)).then_some(ValueSource::Register(source))
        }
        Code::Mov_r32_imm32 | Code::Mov_rm64_imm32 | Code::Mov_r64_imm64 => {
            Some(ValueSource::Constant(instruction.immediate64()))
        }
        _ => None,
    }
}

/// The full registers `instruction` writes, implicit ones included.
fn written_registers(
    info: &mut InstructionInfoFactory,
    instruction: &Instruction,
) -> Vec<Register> {
    info.info(instruction)
        .used_registers()
        .iter()
        .filter(|used| {
            matches!(
                used.access(),
                OpAccess::Write
                    | OpAccess::ReadWrite
                    | OpAccess::CondWrite
                    | OpAccess::ReadCondWrite
            )
        })
        .map(|used| used.register().full_register())
        .collect()
}

fn read_free(code: &dyn CodeBytes, guard: &Guard) -> Option<InlinedFree> {
    let (ValueSource::Register(pointer), _) = path_to_call(code, guard)? else {
        return None;
    };
    Some(InlinedFree {
        guard: guard.at,
        guard_register: guard.register,
        pointer,
    })
}

fn read_malloc(code: &dyn CodeBytes, guard: &Guard) -> Option<InlinedMalloc> {
    let (size, after_call) = path_to_call(code, guard)?;
    let (merge, result) = path_to_merge(code, after_call?)?;
    Some(InlinedMalloc {
        guard: guard.at,
        guard_register: guard.register,
        size,
        merge,
        result,
    })
}

/// From the instruction after the call: where the path jumps back to the
/// inlined one, and the register holding the result there (the last copy
/// of `rax` made on the way, or `rax`). A `je` after `test` of the result
/// leads to the failure path and is passed; a `jne` after it is the jump
/// back.
fn path_to_merge(code: &dyn CodeBytes, mut at: u64) -> Option<(u64, Register)> {
    let mut info = InstructionInfoFactory::new();
    let mut holders = vec![Register::RAX];
    let mut tested = false;
    for _ in 0..MAX_PATH_AFTER_CALL {
        let instruction = decode_at(code, at)?;
        at = instruction.next_ip();
        let result = *holders.last().expect("rax or a copy");
        match instruction.mnemonic() {
            Mnemonic::Jmp if instruction.op0_kind() == OpKind::NearBranch64 => {
                return Some((instruction.near_branch_target(), result));
            }
            Mnemonic::Jne if tested => return Some((instruction.near_branch_target(), result)),
            Mnemonic::Je if tested => continue,
            Mnemonic::Test
                if instruction.op0_kind() == OpKind::Register
                    && instruction.op1_kind() == OpKind::Register
                    && instruction.op0_register() == instruction.op1_register()
                    && holders.contains(&instruction.op0_register()) =>
            {
                tested = true;
                continue;
            }
            _ => {}
        }
        if instruction.flow_control() != FlowControl::Next {
            return None;
        }
        let copy = (instruction.code() == Code::Mov_r64_rm64
            || instruction.code() == Code::Mov_rm64_r64)
            && instruction.op0_kind() == OpKind::Register
            && instruction.op1_kind() == OpKind::Register
            && holders.contains(&instruction.op1_register());
        let writes = written_registers(&mut info, &instruction);
        holders.retain(|holder| !writes.contains(holder));
        if copy {
            holders.push(instruction.op0_register());
        }
        if holders.last() != Some(&result) && !copy {
            // The register the result was last copied to is overwritten.
            return None;
        }
        tested = tested && instruction.rflags_modified() == 0;
    }
    None
}

fn decode_at(code: &dyn CodeBytes, at: u64) -> Option<Instruction> {
    decode_one(code.bytes_at(at, MAX_INSTRUCTION_BYTES)?, at)
}

fn decode_one(bytes: &[u8], ip: u64) -> Option<Instruction> {
    let instruction = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE).decode();
    (!instruction.is_invalid()).then_some(instruction)
}

#[cfg(test)]
mod tests;
