//! Where on each function its probes go. A uprobe hit on an instruction the
//! kernel emulates costs about 0.7 µs here; on one it must single-step,
//! about 9 µs (DESIGN.md). glibc's `free` starts with `test rdi, rdi`,
//! single-stepped, and goes on with `je`, emulated: probing `free+3`
//! instead of `free` sees every call with the same argument, ten times
//! cheaper.
//!
//! All the probes of one function move together, so that they keep
//! sharing one breakpoint: a return probe left at a single-stepped entry
//! would cost its single step anyway, and a second breakpoint on top.
//! A function's probes move past an instruction only when the instruction
//! runs straight through, writes no register they read and, for a return
//! probe, leaves the stack pointer and the return address alone
//! (`window`); and when no jump in the object lands among the skipped
//! instructions (`object_code`). Otherwise they stay at the entry.
//!
//! Either way each site is marked single-stepped or not, so that growth
//! mode can count what its hits cost.
//!
//! - `emulation`: which instructions the kernel emulates;
//! - `program_inputs`: what each program reads;
//! - `window`: the choice on one function's first bytes;
//! - `object_code`: symbols, code and jumps of the object file.

mod emulation;
pub mod object_code;
mod program_inputs;
#[cfg(test)]
mod real_object_tests;
mod window;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::probes::allocator_probes::{Location, ProbeSite};
use object_code::ObjectCode;
use program_inputs::ProgramInputs;
use window::{Placement, WINDOW_BYTES};

/// Where the probes go on each function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProbePlacement {
    /// At the function's first instruction.
    Entry,
    /// At the first instruction the kernel emulates, where that is safe.
    #[default]
    Emulated,
}

/// One probed function: the place all its sites share.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Function {
    object: PathBuf,
    location: Location,
}

impl Function {
    fn of(site: &ProbeSite) -> Function {
        Function {
            object: site.object.clone(),
            location: site.location.clone(),
        }
    }
}

/// Where a function's sites go, and whether they are single-stepped there.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Placed {
    location: Location,
    single_stepped: bool,
}

/// Places the sites of `plan` as `placement` says, keeping their order,
/// each at a file offset. A function that cannot be read (or a symbol the
/// object does not define) keeps its sites as they are, counted as
/// emulated.
pub fn place(plan: Vec<ProbeSite>, placement: ProbePlacement) -> Vec<ProbeSite> {
    let mut programs: HashMap<Function, Vec<&'static str>> = HashMap::new();
    let mut by_object: HashMap<PathBuf, Vec<Function>> = HashMap::new();
    for site in &plan {
        let function = Function::of(site);
        let entry = programs.entry(function.clone()).or_default();
        if entry.is_empty() {
            by_object
                .entry(site.object.clone())
                .or_default()
                .push(function);
        }
        entry.push(site.program);
    }
    let mut placed: HashMap<Function, Placed> = HashMap::new();
    for (path, functions) in by_object {
        let code = match ObjectCode::open(&path) {
            Ok(code) => code,
            Err(error) => {
                log::debug!(
                    "probes stay at function entries in {}: {error}",
                    path.display()
                );
                continue;
            }
        };
        let found = place_in_object(&code, &functions, &programs, placement);
        for (function, found) in functions.into_iter().zip(found) {
            if let Some(found) = found {
                placed.insert(function, found);
            }
        }
    }
    plan.into_iter()
        .map(|site| match placed.get(&Function::of(&site)) {
            Some(found) => ProbeSite {
                location: found.location.clone(),
                single_stepped: found.single_stepped,
                ..site
            },
            None => site,
        })
        .collect()
}

/// Where each of `functions`, all in `code`'s object, is probed; None
/// where it cannot be read.
fn place_in_object(
    code: &ObjectCode,
    functions: &[Function],
    programs: &HashMap<Function, Vec<&'static str>>,
    placement: ProbePlacement,
) -> Vec<Option<Placed>> {
    let found: Vec<Option<(u64, Placement)>> = functions
        .iter()
        .map(|function| {
            let vaddr = match &function.location {
                Location::Symbol(name) => code.symbol(name)?,
                Location::FileOffset(offset) => code.vaddr(*offset)?,
            };
            let bytes = code.code_at(vaddr, WINDOW_BYTES)?;
            let chosen = match placement {
                ProbePlacement::Entry => window::at_entry(bytes, vaddr),
                ProbePlacement::Emulated => {
                    let inputs = ProgramInputs::of_all(programs[function].iter().copied());
                    window::choose(bytes, vaddr, &inputs)
                }
            };
            Some((vaddr, chosen))
        })
        .collect();
    let windows: Vec<_> = found
        .iter()
        .map(|found| match found {
            Some((vaddr, placement)) if placement.delta > 0 => {
                Some(vaddr + 1..=vaddr + placement.delta)
            }
            _ => None,
        })
        .collect();
    let jumps = code.jumps_into(&windows);
    functions
        .iter()
        .zip(found)
        .zip(jumps)
        .map(|((function, found), jump)| {
            let (vaddr, mut placement) = found?;
            if let Some(jump) = jump {
                let reason = format!(
                    "a jump at {:#x} lands at +{:#x}, among the skipped instructions",
                    jump.from,
                    jump.to - vaddr
                );
                placement = Placement::at_entry(placement.skipped[0].clone(), false, Some(reason));
            }
            let name = match &function.location {
                Location::Symbol(name) => Some(*name),
                Location::FileOffset(_) => code.name_at(vaddr),
            };
            let name = name.map_or_else(|| format!("the function at {vaddr:#x}"), String::from);
            log_placement(&name, &function.object, &placement);
            // A file offset even at the entry: aliases such as glibc's
            // memalign and aligned_alloc then show as the one place they are.
            Some(Placed {
                location: Location::FileOffset(code.file_offset(vaddr)? + placement.delta),
                single_stepped: !placement.emulated,
            })
        })
        .collect()
}

fn log_placement(name: &str, object: &Path, placement: &Placement) {
    let object = object.display();
    let kind = if placement.emulated {
        "emulated"
    } else {
        "single-stepped"
    };
    match (&placement.kept_because, placement.delta) {
        (None, 0) => log::debug!(
            "probe placement: {name} in {object}: entry, `{}` is {kind}",
            placement.probed
        ),
        (None, delta) => log::debug!(
            "probe placement: {name} in {object}: +{delta:#x}, `{}` is {kind} (skipping `{}`)",
            placement.probed,
            placement.skipped.join("; ")
        ),
        (Some(reason), _) => log::debug!(
            "probe placement: {name} in {object}: entry, `{}` is {kind}: {reason}",
            placement.probed
        ),
    }
}
