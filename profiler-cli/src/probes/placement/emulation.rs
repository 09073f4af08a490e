//! Which x86-64 instructions the kernel emulates when a uprobe hits them.
//!
//! A uprobe replaces the instruction's first byte with `int3`. On a hit the
//! kernel runs the BPF programs, then has to carry out the instruction it
//! replaced. A few kinds it carries out itself, by changing the saved
//! registers (Linux 6.x, arch/x86/kernel/uprobes.c):
//! - relative jumps, `call rel32` and conditional jumps, unless an
//!   operand-size prefix (0x66) is present;
//! - `push` of a general-purpose register: one byte for the eight legacy
//!   registers, two with the REX prefix 0x41 for r8 to r15;
//! - the NOPs of its own table (the P6 NOPs of one to eight bytes).
//!
//! Every other instruction is copied to a page of its own and
//! single-stepped: one more trap and return to user space per hit, about
//! 9 µs against 0.7 µs on this machine's VM (DESIGN.md).
//!
//! The check is on raw bytes and deliberately narrow: a prefixed variant
//! the kernel might also emulate counts as single-stepped, which only
//! costs time, never correctness.

/// The kernel's NOPs for x86-64 (asm/nops.h), by length.
const KERNEL_NOPS: [&[u8]; 8] = [
    &[0x90],
    &[0x66, 0x90],
    &[0x0f, 0x1f, 0x00],
    &[0x0f, 0x1f, 0x40, 0x00],
    &[0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
    &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
    &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/// The REX prefix that selects r8 to r15 for `push`, and nothing else.
const REX_B: u8 = 0x41;

/// True when `instruction`, the bytes of exactly one instruction, is one
/// the kernel emulates.
pub fn is_emulated(instruction: &[u8]) -> bool {
    KERNEL_NOPS.contains(&instruction)
        || is_register_push(instruction)
        || is_relative_branch(instruction)
}

fn is_register_push(instruction: &[u8]) -> bool {
    let is_push_opcode = |byte: u8| (0x50..=0x57).contains(&byte);
    match instruction {
        [opcode] => is_push_opcode(*opcode),
        [REX_B, opcode] => is_push_opcode(*opcode),
        _ => false,
    }
}

/// An unprefixed `jmp rel8/rel32`, `call rel32` or `jcc rel8/rel32`.
fn is_relative_branch(instruction: &[u8]) -> bool {
    matches!(
        instruction,
        [0xeb | 0x70..=0x7f, _] | [0xe9 | 0xe8, _, _, _, _] | [0x0f, 0x80..=0x8f, _, _, _, _]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_of_every_general_register_are_emulated() {
        assert!(is_emulated(&[0x53])); // push rbx
        assert!(is_emulated(&[0x41, 0x54])); // push r12
        assert!(is_emulated(&[0x55])); // push rbp
    }

    #[test]
    fn pushes_with_other_prefixes_or_operands_are_not() {
        assert!(!is_emulated(&[0x48, 0x53])); // rex.W push rbx
        assert!(!is_emulated(&[0x66, 0x53])); // push bx
        assert!(!is_emulated(&[0x6a, 0x01])); // push 1
        assert!(!is_emulated(&[0xff, 0x35, 0, 0, 0, 0])); // push [rip]
    }

    #[test]
    fn relative_jumps_and_calls_are_emulated() {
        assert!(is_emulated(&[0x74, 0x7b])); // je rel8
        assert!(is_emulated(&[0x0f, 0x84, 0xbf, 0, 0, 0])); // je rel32
        assert!(is_emulated(&[0xeb, 0x05])); // jmp rel8
        assert!(is_emulated(&[0xe9, 1, 2, 3, 4])); // jmp rel32
        assert!(is_emulated(&[0xe8, 1, 2, 3, 4])); // call rel32
    }

    #[test]
    fn indirect_and_prefixed_branches_and_returns_are_not() {
        assert!(!is_emulated(&[0xff, 0xe0])); // jmp rax
        assert!(!is_emulated(&[0xff, 0xd0])); // call rax
        assert!(!is_emulated(&[0xc3])); // ret
        assert!(!is_emulated(&[0x66, 0x74, 0x02])); // jz with 0x66
        assert!(!is_emulated(&[0xe3, 0x02])); // jrcxz
    }

    #[test]
    fn only_the_kernels_own_nops_are_emulated() {
        assert!(is_emulated(&[0x90]));
        assert!(is_emulated(&[0x66, 0x90]));
        assert!(is_emulated(&[0x0f, 0x1f, 0x44, 0x00, 0x00]));
        assert!(is_emulated(&[0x0f, 0x1f, 0x80, 0, 0, 0, 0]));
        // nopw %cs:0x0(%rax,%rax,1), GCC's padding, and nopl (%rax) with a
        // non-zero displacement.
        assert!(!is_emulated(&[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]));
        assert!(!is_emulated(&[0x0f, 0x1f, 0x40, 0x08]));
        // endbr64 reads as a NOP to the CPU, but the kernel single-steps it.
        assert!(!is_emulated(&[0xf3, 0x0f, 0x1e, 0xfa]));
    }

    #[test]
    fn ordinary_instructions_are_not() {
        assert!(!is_emulated(&[0x48, 0x85, 0xff])); // test rdi, rdi
        assert!(!is_emulated(&[0x48, 0x8d, 0x46, 0xff])); // lea rax, [rsi-1]
        assert!(!is_emulated(&[0x48, 0x83, 0xec, 0x18])); // sub rsp, 0x18
    }
}
