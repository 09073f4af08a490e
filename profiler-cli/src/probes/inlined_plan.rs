//! The probes on pymalloc's inlined copies of an LTO build: where each
//! goes, and the description (`InlinedSite`) the kernel reads there,
//! found by `python::inlined_guards`.
//!
//! Only a target whose object table runs the inlined functions gets them:
//! under hooks or `PYTHONMALLOC=malloc` the guards never hold.

use std::ops::Range;
use std::path::{Path, PathBuf};

use iced_x86::Register;
use profiler_common::{
    CONSTANT_VALUE, InlinedSite, MAX_INLINED_SITES, PT_REGS_GENERAL, inlined_site_cookie,
};

use crate::probes::allocator_probes::{Location, ProbeSite};
use crate::probes::placement::object_code::ObjectCode;
use crate::probes::python_allocator_plan::mapped_object;
use crate::process::maps::MemoryMap;
use crate::python::allocator_table::{DomainTable, Operation};
use crate::python::inlined_guards::{InlinedSites, ValueSource, find_inlined_sites};

/// The inlined sites' probes, grouped by attach order, and their
/// descriptions, indexed by the index in each probe's cookie.
#[derive(Clone, Debug, Default)]
pub struct InlinedProbes {
    pub frees: Vec<ProbeSite>,
    pub merges: Vec<ProbeSite>,
    pub guards: Vec<ProbeSite>,
    pub descriptions: Vec<InlinedSite>,
    /// Guards found whose code leakspy does not understand: not probed.
    pub not_understood: usize,
}

/// The probes for the copies of `object`'s functions inlined in the file
/// that holds them, in process `pid`. Empty when the table's functions
/// are not the inlined ones, or the file cannot be read.
pub fn plan_inlined(
    pid: u32,
    maps: &[MemoryMap],
    object: &DomainTable,
    wrappers: &[&DomainTable],
) -> InlinedProbes {
    let (malloc, free) = (
        object.runs_inlined(Operation::Malloc),
        object.runs_inlined(Operation::Free),
    );
    let Some((path, _)) = malloc.or(free).and_then(|at| mapped_object(pid, maps, at)) else {
        return InlinedProbes::default();
    };
    let code = match ObjectCode::open(&path) {
        Ok(code) => code,
        Err(error) => {
            log::warn!(
                "pymalloc's inlined copies are not probed, {} cannot be read: {error}",
                path.display()
            );
            return InlinedProbes::default();
        }
    };
    // The wrappers are probed as functions.
    let skipped: Vec<Range<u64>> = wrappers
        .iter()
        .flat_map(|table| table.guarded_wrappers.values())
        .filter_map(|&entry| code.function_range(entry))
        .collect();
    let sites = find_inlined_sites(&code, malloc, free, &skipped);
    let targets = Targets {
        malloc: malloc.unwrap_or_default(),
        free: free.unwrap_or_default(),
    };
    let probes = probes_for(&path, &code, &sites, targets);
    log::info!(
        "pymalloc inlined in {}: {} allocations and {} frees probed, {} guards not understood",
        path.display(),
        probes.guards.len(),
        probes.frees.len(),
        probes.not_understood
    );
    probes
}

/// The functions the guards compare with.
#[derive(Clone, Copy, Debug)]
struct Targets {
    malloc: u64,
    free: u64,
}

/// The probes and descriptions for `sites`, found in `code` of the file
/// at `path`. Sites past `MAX_INLINED_SITES` descriptions are left out.
fn probes_for(
    path: &Path,
    code: &ObjectCode,
    sites: &InlinedSites,
    targets: Targets,
) -> InlinedProbes {
    let mut probes = InlinedProbes {
        not_understood: sites.not_understood.len(),
        ..InlinedProbes::default()
    };
    let mut builder = Builder {
        path: path.to_path_buf(),
        code,
        probes: &mut probes,
    };
    for free in &sites.frees {
        let Some(pointer) = pt_regs_index(free.pointer) else {
            builder.probes.not_understood += 1;
            continue;
        };
        let described = InlinedSite {
            guard_target: targets.free,
            constant: 0,
            guard_register: pt_regs_index(free.guard_register).unwrap_or(CONSTANT_VALUE),
            value_register: pointer,
            _pad: [0; 2],
            merge: 0,
        };
        if !builder.add(Kind::FreeGuard, free.guard, described) {
            builder.probes.not_understood += 1;
        }
    }
    for malloc in &sites.mallocs {
        let size = match malloc.size {
            ValueSource::Register(register) => pt_regs_index(register).map(|index| (index, 0)),
            ValueSource::Constant(size) => Some((CONSTANT_VALUE, size)),
        };
        let (Some((size_register, constant)), Some(result)) = (size, pt_regs_index(malloc.result))
        else {
            builder.probes.not_understood += 1;
            continue;
        };
        let merge = builder.probes.descriptions.len() as u32;
        let meeting = InlinedSite {
            guard_target: 0,
            constant: 0,
            guard_register: CONSTANT_VALUE,
            value_register: result,
            _pad: [0; 2],
            merge,
        };
        let guard = InlinedSite {
            guard_target: targets.malloc,
            constant,
            guard_register: pt_regs_index(malloc.guard_register).unwrap_or(CONSTANT_VALUE),
            value_register: size_register,
            _pad: [0; 2],
            merge,
        };
        if !(builder.add(Kind::Merge, malloc.merge, meeting)
            && builder.add(Kind::MallocGuard, malloc.guard, guard))
        {
            builder.probes.not_understood += 1;
        }
    }
    probes
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    FreeGuard,
    MallocGuard,
    Merge,
}

struct Builder<'a> {
    path: PathBuf,
    code: &'a ObjectCode,
    probes: &'a mut InlinedProbes,
}

impl Builder<'_> {
    /// Adds a probe of `kind` at `vaddr`, described by `site`; false when
    /// there is no room or `vaddr` is in no file range. A meeting point's
    /// description is kept even when its guard then finds no room: it is
    /// never matched.
    fn add(&mut self, kind: Kind, vaddr: u64, site: InlinedSite) -> bool {
        let index = self.probes.descriptions.len();
        let Some(offset) = self.code.file_offset(vaddr) else {
            return false;
        };
        if index >= MAX_INLINED_SITES as usize {
            return false;
        }
        self.probes.descriptions.push(site);
        let (program, group) = match kind {
            Kind::FreeGuard => ("inlined_free_guard", &mut self.probes.frees),
            Kind::MallocGuard => ("inlined_malloc_guard", &mut self.probes.guards),
            Kind::Merge => ("inlined_malloc_merge", &mut self.probes.merges),
        };
        group.push(ProbeSite {
            program,
            object: self.path.clone(),
            location: Location::FileOffset(offset),
            single_stepped: false,
            cookie: inlined_site_cookie(index as u32, false),
        });
        true
    }
}

/// `register`'s index in `PT_REGS_GENERAL`.
fn pt_regs_index(register: Register) -> Option<u8> {
    let name = format!("{register:?}").to_ascii_lowercase();
    PT_REGS_GENERAL
        .iter()
        .position(|general| *general == name)
        .map(|index| index as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_are_named_in_the_kernel_order() {
        assert_eq!(pt_regs_index(Register::R15), Some(0));
        assert_eq!(pt_regs_index(Register::RAX), Some(10));
        assert_eq!(pt_regs_index(Register::RDI), Some(14));
        assert_eq!(pt_regs_index(Register::RSP), None);
        assert_eq!(pt_regs_index(Register::EAX), None);
    }

    /// Debian bookworm's python3.11: every understood guard becomes a
    /// probe, each allocation's guard pointing at its meeting point.
    #[test]
    fn debian_python_3_11_sites_become_probes() {
        let path = Path::new("/usr/bin/python3.11");
        let Ok(code) = ObjectCode::open(path) else {
            eprintln!("SKIPPED: {} cannot be read", path.display());
            return;
        };
        let targets = Targets {
            malloc: 0x4f_b450,
            free: 0x50_0fe0,
        };
        if code.symbol("PyObject_Malloc") != Some(0x4f_b350) {
            eprintln!(
                "SKIPPED: {} is not the build this test knows",
                path.display()
            );
            return;
        }
        let sites = find_inlined_sites(&code, Some(targets.malloc), Some(targets.free), &[]);
        let probes = probes_for(path, &code, &sites, targets);
        assert_eq!(probes.frees.len(), sites.frees.len());
        assert_eq!(probes.guards.len(), sites.mallocs.len());
        assert_eq!(probes.merges.len(), sites.mallocs.len());
        assert_eq!(
            probes.descriptions.len(),
            sites.frees.len() + 2 * sites.mallocs.len()
        );
        for guard in &probes.guards {
            let described = probes.descriptions[(guard.cookie >> 32) as usize];
            assert_eq!(described.guard_target, targets.malloc);
            let merge = probes.descriptions[described.merge as usize];
            assert_eq!(merge.merge, described.merge);
            assert_eq!(merge.guard_target, 0);
        }
    }
}
