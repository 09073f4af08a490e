//! Whether the target's interpreter has begun finalizing. From then on the
//! probes account nothing: CPython's teardown frees the objects a program
//! kept, and the report must show memory as the program left it, not as
//! the teardown does.

use aya_ebpf::helpers::bpf_probe_read_user;
use profiler_common::NO_OFFSET;

use crate::maps::PYTHON_OFFSETS;

/// True once `_PyRuntime._finalizing` is set.
#[inline(always)]
pub fn interpreter_finalizing() -> bool {
    let Some(offsets) = PYTHON_OFFSETS.get(0) else {
        return false;
    };
    if offsets.enabled == 0 || offsets.finalizing_address == NO_OFFSET {
        return false;
    }
    unsafe { bpf_probe_read_user(offsets.finalizing_address as *const u64) }
        .is_ok_and(|finalizing| finalizing != 0)
}
