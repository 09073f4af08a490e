//! Growth mode's always-on hooks: the page-fault and memory system-call
//! tracepoints. They are system-wide; the programs themselves keep only the
//! traced process's events (`TRACED_PROCESS`).

use aya::{
    Ebpf,
    programs::{TracePoint, trace_point::TracePointLinkId},
};

use crate::error::Error;

/// (program, tracepoint category, tracepoint name), in attach order:
/// releases and mappings before faults, so that no claimed page misses the
/// release that would give it back.
pub const TRACEPOINTS: [(&str, &str, &str); 9] = [
    ("munmap_enter", "syscalls", "sys_enter_munmap"),
    ("madvise_enter", "syscalls", "sys_enter_madvise"),
    ("brk_exit", "syscalls", "sys_exit_brk"),
    ("mremap_enter", "syscalls", "sys_enter_mremap"),
    ("mremap_exit", "syscalls", "sys_exit_mremap"),
    ("mmap_enter", "syscalls", "sys_enter_mmap"),
    ("mmap_exit", "syscalls", "sys_exit_mmap"),
    ("page_fault_user", "exceptions", "page_fault_user"),
    ("page_fault_kernel", "exceptions", "page_fault_kernel"),
];

/// The attached tracepoints.
#[derive(Debug, Default)]
pub struct AttachedTracepoints {
    links: Vec<(&'static str, TracePointLinkId)>,
}

fn tracepoint<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut TracePoint, Error> {
    let program = ebpf
        .program_mut(name)
        .expect("every program name is in the embedded object");
    program.try_into().map_err(|source| Error::Program {
        program: name,
        action: "load as a tracepoint",
        source,
    })
}

/// Loads every tracepoint program into the kernel, unattached.
pub fn load(ebpf: &mut Ebpf) -> Result<(), Error> {
    for (name, _, _) in TRACEPOINTS {
        tracepoint(ebpf, name)?
            .load()
            .map_err(|source| Error::Program {
                program: name,
                action: "load",
                source,
            })?;
    }
    Ok(())
}

/// Attaches every tracepoint; on error nothing stays attached.
pub fn attach(ebpf: &mut Ebpf) -> Result<AttachedTracepoints, Error> {
    let mut attached = AttachedTracepoints::default();
    for (name, category, event) in TRACEPOINTS {
        match tracepoint(ebpf, name).and_then(|program| {
            program
                .attach(category, event)
                .map_err(|source| Error::Program {
                    program: name,
                    action: "attach",
                    source,
                })
        }) {
            Ok(link) => attached.links.push((name, link)),
            Err(error) => {
                detach(ebpf, attached);
                return Err(error);
            }
        }
    }
    Ok(attached)
}

/// Detaches every tracepoint, newest first.
pub fn detach(ebpf: &mut Ebpf, attached: AttachedTracepoints) {
    for (name, link) in attached.links.into_iter().rev() {
        let detached = tracepoint(ebpf, name).and_then(|program| {
            program.detach(link).map_err(|source| Error::Program {
                program: name,
                action: "detach",
                source,
            })
        });
        if let Err(error) = detached {
            log::warn!("{error}");
        }
    }
}
