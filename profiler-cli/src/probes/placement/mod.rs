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
//! - `emulation`: which instructions the kernel emulates;
//! - `program_inputs`: what each program reads;
//! - `window`: the choice on one function's first bytes;
//! - `object_code`: symbols, code and jumps of the object file.

mod emulation;
mod object_code;
mod program_inputs;
#[cfg(test)]
mod real_object_tests;
mod window;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::probes::allocator_probes::{Location, ProbeSite};
use object_code::ObjectCode;
use program_inputs::ProgramInputs;
use window::{Placement, WINDOW_BYTES, choose};

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

/// Moves the sites of `plan` as `placement` says, keeping their order. A
/// function that cannot be read keeps its sites where they are.
pub fn place(plan: Vec<ProbeSite>, placement: ProbePlacement) -> Vec<ProbeSite> {
    if placement == ProbePlacement::Entry {
        return plan;
    }
    let mut programs: HashMap<Function, Vec<&'static str>> = HashMap::new();
    let mut functions: Vec<Function> = Vec::new();
    for site in &plan {
        let function = Function {
            object: site.object.clone(),
            location: site.location.clone(),
        };
        let entry = programs.entry(function.clone()).or_default();
        if entry.is_empty() {
            functions.push(function);
        }
        entry.push(site.program);
    }
    let mut moved: HashMap<Function, Location> = HashMap::new();
    let mut objects: HashMap<PathBuf, Vec<Function>> = HashMap::new();
    for function in functions {
        objects
            .entry(function.object.clone())
            .or_default()
            .push(function);
    }
    for (path, functions) in objects {
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
        let placed = place_in_object(&code, &functions, &programs);
        for (function, placed) in functions.into_iter().zip(placed) {
            if let Some(location) = placed {
                moved.insert(function, location);
            }
        }
    }
    plan.into_iter()
        .map(|site| {
            let function = Function {
                object: site.object.clone(),
                location: site.location.clone(),
            };
            match moved.get(&function) {
                Some(location) => ProbeSite {
                    location: location.clone(),
                    ..site
                },
                None => site,
            }
        })
        .collect()
}

/// The new location of each of `functions`, all in `code`'s object; None
/// where the probes stay.
fn place_in_object(
    code: &ObjectCode,
    functions: &[Function],
    programs: &HashMap<Function, Vec<&'static str>>,
) -> Vec<Option<Location>> {
    let found: Vec<Option<(u64, Placement)>> = functions
        .iter()
        .map(|function| {
            let vaddr = match &function.location {
                Location::Symbol(name) => code.symbol(name)?,
                Location::FileOffset(offset) => code.vaddr(*offset)?,
            };
            let inputs = ProgramInputs::of_all(programs[function].iter().copied());
            let bytes = code.code_at(vaddr, WINDOW_BYTES)?;
            Some((vaddr, choose(bytes, vaddr, &inputs)))
        })
        .collect();
    let windows: Vec<_> = found
        .iter()
        .map(|found| match found {
            Some((vaddr, placement)) if placement.delta > 0 => vaddr + 1..=vaddr + placement.delta,
            // An empty range: nothing to check.
            _ => 1..=0,
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
            let entry = code.file_offset(vaddr)?;
            (placement.delta > 0).then(|| Location::FileOffset(entry + placement.delta))
        })
        .collect()
}

fn log_placement(name: &str, object: &Path, placement: &Placement) {
    let object = object.display();
    match &placement.kept_because {
        None if placement.delta == 0 => log::debug!(
            "probe placement: {name} in {object}: entry, `{}` is emulated",
            placement.probed
        ),
        None => log::debug!(
            "probe placement: {name} in {object}: +{:#x}, `{}` is emulated (skipping `{}`)",
            placement.delta,
            placement.probed,
            placement.skipped.join("; ")
        ),
        Some(reason) => log::debug!(
            "probe placement: {name} in {object}: entry, `{}` is single-stepped: {reason}",
            placement.probed
        ),
    }
}
