//! Probes attached through BPF `uprobe_multi` links (kernel 6.6+): one link
//! runs a program at many offsets of one file, each with its own cookie,
//! and closing it detaches them all after one grace period. Through perf
//! events every probe costs its own grace period when it goes, one after
//! the other: for the few hundred inlined pymalloc places of a Debian
//! python, about 47 s.
//!
//! aya 0.14 loads uprobe programs without the `uprobe_multi` attach type
//! such a link requires. So the programs named here are loaded a second
//! time, from the same embedded object parsed with aya-obj, relocated
//! against the maps aya created: they share every map with the others.

use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd as _, AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use aya::Ebpf;
use aya::maps::Map;
use aya_obj::Object;
use aya_obj::generated::{bpf_attach_type, bpf_attr, bpf_cmd, bpf_prog_type};

use crate::error::Error;
use crate::probes::allocator_probes::{Location, ProbeSite};

/// Verifier log kept when a load fails.
const LOG_BYTES: usize = 1 << 20;

/// Programs loaded for `uprobe_multi` links, by name.
pub struct MultiPrograms {
    programs: HashMap<&'static str, OwnedFd>,
    _btf: Option<OwnedFd>,
}

impl std::fmt::Debug for MultiPrograms {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MultiPrograms")
            .field("programs", &self.programs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl MultiPrograms {
    /// Loads `names` from the eBPF object `object`, sharing the maps of
    /// `ebpf` (loaded from the same object).
    pub fn load(
        ebpf: &Ebpf,
        object: &[u8],
        names: &[&'static str],
    ) -> Result<MultiPrograms, String> {
        let mut parsed = Object::parse(object).map_err(|error| error.to_string())?;
        let btf = match aya::features().btf() {
            Some(features) => match parsed
                .fixup_and_sanitize_btf(features)
                .map_err(|error| error.to_string())?
            {
                Some(btf) => Some(load_btf(&btf.to_bytes())?),
                None => None,
            },
            None => None,
        };
        if parsed.has_btf_relocations() {
            return Err("the object has CO-RE relocations, which are not applied here".into());
        }
        let map_objects = parsed.maps.clone();
        let mut maps = Vec::new();
        for (name, map_object) in &map_objects {
            let map = ebpf
                .map(name)
                .ok_or_else(|| format!("map {name} was not created"))?;
            maps.push((name.as_str(), map_fd(map)?, map_object));
        }
        let text_sections = parsed
            .functions
            .keys()
            .map(|(section, _)| *section)
            .collect();
        parsed
            .relocate_maps(maps.into_iter(), &text_sections)
            .map_err(|error| error.to_string())?;
        parsed
            .relocate_calls(&text_sections)
            .map_err(|error| error.to_string())?;
        parsed.sanitize_functions(aya::features());
        let mut programs = HashMap::new();
        for &name in names {
            let program = parsed
                .programs
                .get(name)
                .ok_or_else(|| format!("no program {name} in the object"))?;
            let function = &parsed.functions[&program.function_key()];
            let fd = load_program(name, program, function, btf.as_ref())?;
            programs.insert(name, fd);
        }
        Ok(MultiPrograms {
            programs,
            _btf: btf,
        })
    }

    /// Runs `program` at each of `offsets` in `object`, with the matching
    /// cookie, in process `pid` only. Closing the link detaches them all.
    pub fn attach(
        &self,
        program: &str,
        object: &Path,
        offsets: &[u64],
        cookies: &[u64],
        pid: u32,
    ) -> io::Result<OwnedFd> {
        let program = self.programs.get(program).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{program} is not loaded"))
        })?;
        let path = CString::new(object.as_os_str().as_bytes())?;
        let mut attr: bpf_attr = unsafe { std::mem::zeroed() };
        let link = unsafe { &mut attr.link_create };
        link.__bindgen_anon_1.prog_fd = program.as_raw_fd() as u32;
        link.attach_type = bpf_attach_type::BPF_TRACE_UPROBE_MULTI as u32;
        let multi = unsafe { &mut link.__bindgen_anon_3.uprobe_multi };
        multi.path = path.as_ptr() as u64;
        multi.offsets = offsets.as_ptr() as u64;
        multi.cookies = cookies.as_ptr() as u64;
        multi.cnt = offsets.len() as u32;
        multi.pid = pid;
        bpf(bpf_cmd::BPF_LINK_CREATE, &mut attr)
    }
}

/// The programs `uprobe_multi` links serve: those of the inlined sites.
pub const MULTI_PROGRAMS: [&str; 3] = [
    "inlined_free_guard",
    "inlined_malloc_merge",
    "inlined_malloc_guard",
];

/// The places one link serves: one program in one file, each place with
/// its cookie.
#[derive(Debug, PartialEq, Eq)]
pub struct LinkPlan<'a> {
    pub program: &'static str,
    pub object: &'a Path,
    pub offsets: Vec<u64>,
    pub cookies: Vec<u64>,
}

/// `sites` (of `MULTI_PROGRAMS`) grouped into links, one per program and
/// file: frees first, then meeting points, then guards.
pub fn link_plans(sites: &[ProbeSite]) -> Vec<LinkPlan<'_>> {
    let mut plans = Vec::new();
    for program in MULTI_PROGRAMS {
        let mut by_object: BTreeMap<&Path, LinkPlan<'_>> = BTreeMap::new();
        for site in sites.iter().filter(|site| site.program == program) {
            let Location::FileOffset(offset) = site.location else {
                continue;
            };
            let plan = by_object.entry(&site.object).or_insert_with(|| LinkPlan {
                program,
                object: &site.object,
                offsets: Vec::new(),
                cookies: Vec::new(),
            });
            plan.offsets.push(offset);
            plan.cookies.push(site.attach_cookie());
        }
        plans.extend(by_object.into_values());
    }
    plans
}

/// Attaches `sites` (of `MULTI_PROGRAMS`) for process `pid`, as
/// `link_plans` groups them. On error none stays attached.
pub fn attach_sites(
    programs: &MultiPrograms,
    sites: &[ProbeSite],
    pid: u32,
) -> Result<Vec<OwnedFd>, Error> {
    link_plans(sites)
        .into_iter()
        .map(|plan| {
            programs
                .attach(plan.program, plan.object, &plan.offsets, &plan.cookies, pid)
                .map_err(|source| Error::MultiProbe {
                    program: plan.program,
                    object: plan.object.display().to_string(),
                    source,
                })
        })
        .collect()
}

/// The descriptor of an aya map, whatever its kind.
fn map_fd(map: &Map) -> Result<RawFd, String> {
    let data = match map {
        Map::Array(data)
        | Map::HashMap(data)
        | Map::LruHashMap(data)
        | Map::PerCpuArray(data)
        | Map::PerCpuHashMap(data)
        | Map::PerCpuLruHashMap(data)
        | Map::RingBuf(data)
        | Map::StackTraceMap(data)
        | Map::PerfEventArray(data) => data,
        _ => return Err("a map of a kind leakspy does not use".into()),
    };
    Ok(data.fd().as_fd().as_raw_fd())
}

fn load_btf(bytes: &[u8]) -> Result<OwnedFd, String> {
    let mut attr: bpf_attr = unsafe { std::mem::zeroed() };
    let btf = unsafe { &mut attr.__bindgen_anon_7 };
    btf.btf = bytes.as_ptr() as u64;
    btf.btf_size = bytes.len() as u32;
    bpf(bpf_cmd::BPF_BTF_LOAD, &mut attr).map_err(|error| format!("BTF load: {error}"))
}

fn load_program(
    name: &str,
    program: &aya_obj::Program,
    function: &aya_obj::Function,
    btf: Option<&OwnedFd>,
) -> Result<OwnedFd, String> {
    let mut log = vec![0u8; LOG_BYTES];
    let mut attr: bpf_attr = unsafe { std::mem::zeroed() };
    let load = unsafe { &mut attr.__bindgen_anon_3 };
    load.prog_type = bpf_prog_type::BPF_PROG_TYPE_KPROBE as u32;
    load.expected_attach_type = bpf_attach_type::BPF_TRACE_UPROBE_MULTI as u32;
    load.insns = function.instructions.as_ptr() as u64;
    load.insn_cnt = function.instructions.len() as u32;
    load.license = program.license.as_ptr() as u64;
    load.kern_version = program.kernel_version.unwrap_or(0);
    for (slot, byte) in load.prog_name.iter_mut().zip(name.bytes().take(15)) {
        *slot = byte as std::ffi::c_char;
    }
    if let Some(btf) = btf {
        load.prog_btf_fd = btf.as_raw_fd() as u32;
        let func_info = &function.func_info.func_info;
        if !func_info.is_empty() {
            load.func_info_rec_size = function.func_info_rec_size as u32;
            load.func_info = func_info.as_ptr() as u64;
            load.func_info_cnt = func_info.len() as u32;
        }
        let line_info = &function.line_info.line_info;
        if !line_info.is_empty() {
            load.line_info_rec_size = function.line_info_rec_size as u32;
            load.line_info = line_info.as_ptr() as u64;
            load.line_info_cnt = line_info.len() as u32;
        }
    }
    if let Ok(fd) = bpf(bpf_cmd::BPF_PROG_LOAD, &mut attr) {
        return Ok(fd);
    }
    // Again with the verifier's log, for the error.
    let load = unsafe { &mut attr.__bindgen_anon_3 };
    load.log_level = 1;
    load.log_buf = log.as_mut_ptr() as u64;
    load.log_size = log.len() as u32;
    bpf(bpf_cmd::BPF_PROG_LOAD, &mut attr).map_err(|error| {
        let end = log.iter().position(|&byte| byte == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(&log[..end]);
        let tail: String = text.lines().rev().take(8).collect::<Vec<_>>().join(" / ");
        format!("loading {name} for uprobe_multi: {error}: {tail}")
    })
}

/// The bpf system call; a returned descriptor is owned.
fn bpf(command: bpf_cmd, attr: &mut bpf_attr) -> io::Result<OwnedFd> {
    let result = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            command as libc::c_long,
            attr as *mut bpf_attr,
            size_of::<bpf_attr>(),
        )
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(result as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(program: &'static str, object: &str, offset: u64, index: u32) -> ProbeSite {
        ProbeSite {
            program,
            object: object.into(),
            location: Location::FileOffset(offset),
            single_stepped: index == 2,
            cookie: profiler_common::inlined_site_cookie(index, false),
        }
    }

    #[test]
    fn sites_group_into_one_link_per_program_and_file_frees_first() {
        let sites = [
            site("inlined_malloc_guard", "/usr/bin/python3.11", 0x10, 1),
            site("inlined_free_guard", "/usr/bin/python3.11", 0x20, 0),
            site("inlined_malloc_guard", "/usr/bin/python3.11", 0x30, 2),
        ];
        let plans = link_plans(&sites);
        let python = Path::new("/usr/bin/python3.11");
        assert_eq!(
            plans,
            [
                LinkPlan {
                    program: "inlined_free_guard",
                    object: python,
                    offsets: vec![0x20],
                    cookies: vec![0],
                },
                LinkPlan {
                    program: "inlined_malloc_guard",
                    object: python,
                    offsets: vec![0x10, 0x30],
                    // The single-stepped bit rides along with the index.
                    cookies: vec![1 << 32, (2 << 32) | 1],
                },
            ]
        );
    }
}
