//! Chooses where on one function its probes go, from the function's first
//! bytes alone: the first instruction the kernel emulates, provided the few
//! instructions before it run straight through and change nothing the
//! probes read. Every call then passes that instruction exactly once, with
//! the same arguments in the same registers as at the entry.
//!
//! What the first bytes cannot show, a jump from elsewhere landing inside
//! the skipped instructions, is checked on the whole object by
//! `object_code`.

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Instruction, InstructionInfoFactory, OpAccess, Register,
};

use super::emulation::is_emulated;
use super::program_inputs::ProgramInputs;

/// Instructions skipped at most: a probe further in would rest on more
/// reasoning about the code than a prologue deserves.
pub const MAX_SKIPPED: usize = 4;
/// Bytes of code enough to decode the window (x86 instructions are at most
/// 15 bytes long).
pub const WINDOW_BYTES: usize = 15 * (MAX_SKIPPED + 1);

/// Where a function's probes go, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Bytes after the function's entry.
    pub delta: u64,
    /// The instruction the probes rest on, as text.
    pub probed: String,
    /// Whether the kernel emulates that instruction.
    pub emulated: bool,
    /// The instructions skipped, as text (empty at the entry).
    pub skipped: Vec<String>,
    /// Why the probes stay at the entry although it is single-stepped.
    pub kept_because: Option<String>,
}

impl Placement {
    /// The probes stay at the entry, on `entry`, for `reason`.
    pub fn at_entry(entry: String, emulated: bool, reason: Option<String>) -> Placement {
        Placement {
            delta: 0,
            probed: entry,
            emulated,
            skipped: Vec::new(),
            kept_because: reason,
        }
    }
}

/// The function's entry, whose code starts `code` at address `ip`, as a
/// placement: for `--probe-placement entry`.
pub fn at_entry(code: &[u8], ip: u64) -> Placement {
    let mut decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let instruction = decoder.decode();
    let emulated = !instruction.is_invalid() && is_emulated(&code[..instruction.len()]);
    Placement::at_entry(instruction.to_string(), emulated, None)
}

/// Chooses the placement on the function whose code starts `code`, at
/// address `ip`, for probes that read `inputs`.
pub fn choose(code: &[u8], ip: u64, inputs: &ProgramInputs) -> Placement {
    let mut decoder = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let mut info = InstructionInfoFactory::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut entry_text = String::from("(undecodable)");
    let stay =
        |entry_text: String, reason: String| Placement::at_entry(entry_text, false, Some(reason));
    while decoder.can_decode() {
        let delta = decoder.position();
        let instruction = decoder.decode();
        let text = instruction.to_string();
        if instruction.is_invalid() {
            return stay(entry_text, format!("undecodable bytes at +{delta:#x}"));
        }
        if delta == 0 {
            entry_text = text.clone();
        }
        if is_emulated(&code[delta..delta + instruction.len()]) {
            return Placement {
                delta: delta as u64,
                probed: text,
                emulated: true,
                skipped,
                kept_because: None,
            };
        }
        if skipped.len() == MAX_SKIPPED {
            let reason = format!(
                "no emulated instruction among the first {}",
                MAX_SKIPPED + 1
            );
            return stay(entry_text, reason);
        }
        if let Some(reason) = why_not_skippable(&instruction, &mut info, inputs) {
            return stay(entry_text, format!("`{text}` {reason}"));
        }
        skipped.push(text);
    }
    stay(entry_text, "the code ends".into())
}

/// Why the probes cannot move past `instruction`, or None when they can.
fn why_not_skippable(
    instruction: &Instruction,
    info: &mut InstructionInfoFactory,
    inputs: &ProgramInputs,
) -> Option<String> {
    if instruction.flow_control() != FlowControl::Next {
        return Some("changes the flow of control".into());
    }
    let info = info.info(instruction);
    let writes = |access: OpAccess| {
        matches!(
            access,
            OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
        )
    };
    for used in info.used_registers() {
        let register = used.register().full_register();
        if !writes(used.access()) {
            continue;
        }
        if inputs.registers.contains(&register) {
            return Some(format!("writes {register:?}, which the probes read"));
        }
        if inputs.stack_as_at_entry && register == Register::RSP {
            return Some("moves the stack pointer, and a return probe needs it".into());
        }
    }
    let writes_stack = info
        .used_memory()
        .iter()
        .any(|memory| memory.base().full_register() == Register::RSP && writes(memory.access()));
    if inputs.stack_as_at_entry && writes_stack {
        return Some("writes to the stack, and a return probe needs it".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: u64 = 0x1000;

    fn reading(registers: &[Register], return_probe: bool) -> ProgramInputs {
        ProgramInputs {
            registers: registers.to_vec(),
            stack_as_at_entry: return_probe,
        }
    }

    const PUSH_RBX: [u8; 1] = [0x53];

    fn code(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn an_emulated_entry_stays_at_the_entry() {
        // push r12; push rbp (glibc malloc)
        let placement = choose(&[0x41, 0x54, 0x55], IP, &reading(&[Register::RDI], true));
        assert_eq!(placement.delta, 0);
        assert!(placement.emulated);
        assert_eq!(placement.probed, "push r12");
        assert!(placement.kept_because.is_none());
    }

    #[test]
    fn a_test_before_a_conditional_jump_is_skipped() {
        // test rdi, rdi; je +0xbf (glibc free)
        let bytes = code(&[&[0x48, 0x85, 0xff], &[0x0f, 0x84, 0xbf, 0, 0, 0]]);
        let placement = choose(&bytes, IP, &reading(&[Register::RDI], false));
        assert_eq!(placement.delta, 3);
        assert!(placement.emulated);
        assert_eq!(placement.skipped, ["test rdi,rdi"]);
    }

    #[test]
    fn an_instruction_writing_a_read_argument_keeps_the_entry() {
        // mov rdi, rax; push rbx
        let bytes = code(&[&[0x48, 0x89, 0xc7], &PUSH_RBX]);
        let placement = choose(&bytes, IP, &reading(&[Register::RDI], false));
        assert_eq!(placement.delta, 0);
        assert!(!placement.emulated);
        assert!(placement.kept_because.unwrap().contains("RDI"));
        // The same code is fine for a program that reads only rsi.
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RSI], false)).delta,
            3
        );
    }

    #[test]
    fn partial_and_implicit_writes_count_as_writes() {
        // xor edi, edi (zero-extends into rdi); push rbx
        let bytes = code(&[&[0x31, 0xff], &PUSH_RBX]);
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RDI], false)).delta,
            0
        );
        // mul rcx (writes rdx:rax); push rbx
        let bytes = code(&[&[0x48, 0xf7, 0xe1], &PUSH_RBX]);
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RDX], false)).delta,
            0
        );
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RDI], false)).delta,
            3
        );
    }

    #[test]
    fn a_branch_before_keeps_the_entry() {
        // call rax; push rbx
        let bytes = code(&[&[0xff, 0xd0], &PUSH_RBX]);
        let placement = choose(&bytes, IP, &reading(&[], false));
        assert_eq!(placement.delta, 0);
        assert!(placement.kept_because.unwrap().contains("flow of control"));
        // ret; push rbx
        assert_eq!(
            choose(&code(&[&[0xc3], &PUSH_RBX]), IP, &reading(&[], false)).delta,
            0
        );
    }

    #[test]
    fn a_return_probe_forbids_moving_the_stack_pointer() {
        // sub rsp, 0x18; push rbx
        let bytes = code(&[&[0x48, 0x83, 0xec, 0x18], &PUSH_RBX]);
        assert_eq!(choose(&bytes, IP, &reading(&[], true)).delta, 0);
        assert_eq!(choose(&bytes, IP, &reading(&[], false)).delta, 4);
        // mov [rsp], rdi: overwrites the return address.
        let bytes = code(&[&[0x48, 0x89, 0x3c, 0x24], &PUSH_RBX]);
        assert_eq!(choose(&bytes, IP, &reading(&[], true)).delta, 0);
        assert_eq!(choose(&bytes, IP, &reading(&[], false)).delta, 4);
    }

    #[test]
    fn a_push_may_be_skipped_only_without_a_return_probe() {
        // endbr64; push rbx: the push is itself emulated, so it is chosen.
        let bytes = code(&[&[0xf3, 0x0f, 0x1e, 0xfa], &PUSH_RBX]);
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RDI], true)).delta,
            4
        );
        // lea rax, [rsi-1]; push rbx (pyenv 3.11 _PyObject_Malloc): lea
        // moves no stack pointer, so even the return probe moves.
        let bytes = code(&[&[0x48, 0x8d, 0x46, 0xff], &PUSH_RBX]);
        assert_eq!(
            choose(&bytes, IP, &reading(&[Register::RSI], true)).delta,
            4
        );
    }

    #[test]
    fn the_window_is_a_few_instructions() {
        // Five `test rdi, rdi` and then push rbx: too far.
        let mut bytes = [0x48, 0x85, 0xff].repeat(MAX_SKIPPED + 1);
        bytes.extend(PUSH_RBX);
        let placement = choose(&bytes, IP, &reading(&[], false));
        assert_eq!(placement.delta, 0);
        assert!(placement.kept_because.unwrap().contains("no emulated"));
        // Four are fine.
        let mut bytes = [0x48, 0x85, 0xff].repeat(MAX_SKIPPED);
        bytes.extend(PUSH_RBX);
        assert_eq!(choose(&bytes, IP, &reading(&[], false)).delta, 12);
    }

    #[test]
    fn the_entry_as_such_says_whether_it_is_emulated() {
        let test_rdi = at_entry(&[0x48, 0x85, 0xff, 0x74, 0x00], IP);
        assert_eq!((test_rdi.delta, test_rdi.emulated), (0, false));
        let push = at_entry(&PUSH_RBX, IP);
        assert_eq!((push.delta, push.emulated), (0, true));
        assert!(!at_entry(&[0x48], IP).emulated);
    }

    #[test]
    fn undecodable_or_short_code_keeps_the_entry() {
        assert_eq!(choose(&[0x48, 0x85], IP, &reading(&[], false)).delta, 0);
        assert_eq!(choose(&[], IP, &reading(&[], false)).delta, 0);
    }
}
