//! What each uprobe program reads when it is hit: argument registers, and
//! whether it needs the stack as the function's entry left it. A probe may
//! move past an instruction only if that instruction changes none of them.
//!
//! The entry programs (profiler-ebpf/src/allocator_probes.rs and
//! hit_counter.rs) read argument registers only, never %rsp nor the stack:
//! the stack is captured in the return probe. A return probe needs the
//! return address on top of the stack, because the kernel swaps that slot
//! for its trampoline when the probe is hit.

use iced_x86::Register;

/// The System V argument registers, in order.
const ARGUMENT_REGISTERS: [Register; 6] = [
    Register::RDI,
    Register::RSI,
    Register::RDX,
    Register::RCX,
    Register::R8,
    Register::R9,
];

/// The general registers, all an inlined site's program may read.
const GENERAL_REGISTERS: [Register; 15] = [
    Register::RAX,
    Register::RBX,
    Register::RCX,
    Register::RDX,
    Register::RSI,
    Register::RDI,
    Register::RBP,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::R12,
    Register::R13,
    Register::R14,
    Register::R15,
];

/// What the programs attached at one place read there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramInputs {
    /// Full 64-bit registers.
    pub registers: Vec<Register>,
    /// The stack must be as at the function's entry (return address on top).
    pub stack_as_at_entry: bool,
}

impl ProgramInputs {
    /// What `program` reads; an unknown program is assumed to read every
    /// argument register and the stack, so that it never moves.
    pub fn of(program: &str) -> ProgramInputs {
        match arguments_read(program) {
            Some(ProgramKind::Entry(arguments)) => ProgramInputs {
                registers: arguments.iter().map(|&n| ARGUMENT_REGISTERS[n]).collect(),
                stack_as_at_entry: false,
            },
            Some(ProgramKind::Return) => ProgramInputs {
                registers: Vec::new(),
                stack_as_at_entry: true,
            },
            Some(ProgramKind::InlinedSite) => ProgramInputs {
                registers: GENERAL_REGISTERS.to_vec(),
                stack_as_at_entry: false,
            },
            None => {
                log::warn!("no description of uprobe program {program}: it stays at the entry");
                ProgramInputs {
                    registers: ARGUMENT_REGISTERS.to_vec(),
                    stack_as_at_entry: true,
                }
            }
        }
    }

    /// What all of `programs` read together.
    pub fn of_all<'a>(programs: impl IntoIterator<Item = &'a str>) -> ProgramInputs {
        let mut inputs = ProgramInputs::default();
        for program in programs {
            let one = ProgramInputs::of(program);
            for register in one.registers {
                if !inputs.registers.contains(&register) {
                    inputs.registers.push(register);
                }
            }
            inputs.stack_as_at_entry |= one.stack_as_at_entry;
        }
        inputs
    }
}

enum ProgramKind {
    /// An entry program and the argument positions it reads (`arg(&ctx, n)`).
    Entry(&'static [usize]),
    Return,
    /// A program on an inlined allocator site: which registers it reads
    /// is the site's description, so it is taken to read them all.
    InlinedSite,
}

/// The arguments each program of the eBPF object reads, by position.
fn arguments_read(program: &str) -> Option<ProgramKind> {
    use ProgramKind::{Entry, InlinedSite, Return};
    Some(match program {
        "malloc_enter" | "valloc_enter" | "free_enter" | "pywrap_malloc_enter" => Entry(&[0]),
        "calloc_enter" | "realloc_enter" | "pywrap_calloc_enter" | "pywrap_realloc_enter" => {
            Entry(&[0, 1])
        }
        "reallocarray_enter" => Entry(&[0, 1, 2]),
        "posix_memalign_enter" => Entry(&[0, 2]),
        "aligned_alloc_enter" | "memalign_enter" | "py_malloc_enter" | "py_free_enter" => {
            Entry(&[1])
        }
        "py_calloc_enter" | "py_realloc_enter" => Entry(&[1, 2]),
        "count_hit" => Entry(&[]),
        "allocator_return" => Return,
        "inlined_free_guard" | "inlined_malloc_guard" | "inlined_malloc_merge" => InlinedSite,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::loader::UPROBE_PROGRAMS;

    #[test]
    fn every_program_of_the_object_is_described() {
        for program in UPROBE_PROGRAMS {
            assert!(
                arguments_read(program).is_some(),
                "{program} is not described"
            );
        }
    }

    #[test]
    fn table_functions_read_one_register_later_than_libc() {
        assert_eq!(ProgramInputs::of("malloc_enter").registers, [Register::RDI]);
        assert_eq!(
            ProgramInputs::of("py_malloc_enter").registers,
            [Register::RSI]
        );
        assert_eq!(
            ProgramInputs::of("reallocarray_enter").registers,
            [Register::RDI, Register::RSI, Register::RDX]
        );
    }

    #[test]
    fn a_return_probe_needs_the_stack_and_the_union_keeps_both() {
        let inputs = ProgramInputs::of_all(["allocator_return", "py_calloc_enter"]);
        assert!(inputs.stack_as_at_entry);
        assert_eq!(inputs.registers, [Register::RSI, Register::RDX]);
        assert!(!ProgramInputs::of("free_enter").stack_as_at_entry);
    }

    #[test]
    fn an_unknown_program_stays_put() {
        let inputs = ProgramInputs::of("something_new");
        assert!(inputs.stack_as_at_entry);
        assert_eq!(inputs.registers.len(), 6);
    }
}
