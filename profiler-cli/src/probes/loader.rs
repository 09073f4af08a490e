//! Loads the eBPF object embedded in the leakspy binary and its programs.

use aya::{Ebpf, programs::UProbe};

use crate::error::Error;

/// The eBPF object built by build.rs for bpfel-unknown-none.
static EBPF_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/profiler"));

/// The embedded eBPF object's bytes.
pub fn object_bytes() -> &'static [u8] {
    EBPF_OBJECT
}

/// Names of every uprobe program in the object.
pub const UPROBE_PROGRAMS: [&str; 21] = [
    "malloc_enter",
    "calloc_enter",
    "realloc_enter",
    "reallocarray_enter",
    "posix_memalign_enter",
    "aligned_alloc_enter",
    "memalign_enter",
    "valloc_enter",
    "allocator_return",
    "free_enter",
    "py_malloc_enter",
    "py_calloc_enter",
    "py_realloc_enter",
    "py_free_enter",
    "pywrap_malloc_enter",
    "pywrap_calloc_enter",
    "pywrap_realloc_enter",
    "count_hit",
    "inlined_free_guard",
    "inlined_malloc_guard",
    "inlined_malloc_merge",
];

/// Loads the object and every program into the kernel, unattached.
pub fn load() -> Result<Ebpf, Error> {
    raise_memlock_limit();
    let mut ebpf = Ebpf::load(EBPF_OBJECT).map_err(Error::Load)?;
    for name in UPROBE_PROGRAMS {
        uprobe(&mut ebpf, name)?
            .load()
            .map_err(|source| Error::Program {
                program: name,
                action: "load",
                source,
            })?;
    }
    crate::probes::growth_tracepoints::load(&mut ebpf)?;
    Ok(ebpf)
}

/// The uprobe program `name` of the object.
pub fn uprobe<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut UProbe, Error> {
    let program = ebpf
        .program_mut(name)
        .expect("every program name is in the embedded object");
    program.try_into().map_err(|source| Error::Program {
        program: name,
        action: "load as a uprobe",
        source,
    })
}

/// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK; lift it so large
/// maps load there too. Newer kernels ignore it.
fn raise_memlock_limit() {
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads a valid rlimit struct.
    let result = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited) };
    if result != 0 {
        log::debug!(
            "could not raise RLIMIT_MEMLOCK: {}",
            std::io::Error::last_os_error()
        );
    }
}
