//! Walking a target's interpreter from userspace with a layout: its thread
//! states, and each thread's frames the way the kernel walker follows them.

use profiler_common::{InstructionKind, NO_OFFSET, PythonFrame};

use crate::process::memory::MemoryReader;
use crate::python::offsets::{InterpreterLayout, OffsetsError};

/// Thread states read at most per interpreter, against corrupt lists.
pub const MAX_THREAD_STATES: usize = 4096;

/// One PyThreadState of the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadStateInfo {
    /// The PyThreadState's address.
    pub address: u64,
    /// Its thread id as stored at `thread_state_thread_id`: the kernel tid
    /// (`native_thread_id`, 3.11+) or pthread_self() (`thread_id`, 3.9, 3.10).
    pub thread_id: u64,
}

/// Every thread state of the main interpreter, newest first. Empty while
/// the runtime has no main interpreter yet.
pub fn thread_states(
    memory: &dyn MemoryReader,
    layout: &InterpreterLayout,
    runtime_address: u64,
) -> Result<Vec<ThreadStateInfo>, OffsetsError> {
    let interpreter =
        memory.read_u64(runtime_address.wrapping_add(layout.runtime_interpreters_main))?;
    if interpreter == 0 {
        return Ok(Vec::new());
    }
    let mut states = Vec::new();
    let mut address = memory.read_u64(interpreter.wrapping_add(layout.interpreter_threads_head))?;
    while address != 0 {
        if states.len() == MAX_THREAD_STATES {
            return Err(OffsetsError::TooManyThreads {
                interpreter,
                limit: MAX_THREAD_STATES,
            });
        }
        states.push(ThreadStateInfo {
            address,
            thread_id: memory.read_u64(address.wrapping_add(layout.thread_state_thread_id))?,
        });
        address = memory.read_u64(address.wrapping_add(layout.thread_state_next))?;
    }
    Ok(states)
}

/// The Python frames of a thread state, innermost first, at most `limit`,
/// read exactly as the kernel walker reads them: shim frames skipped, code
/// pointers untagged, `f_lasti` sign-extended.
pub fn walk_frames(
    memory: &dyn MemoryReader,
    layout: &InterpreterLayout,
    thread_state: u64,
    limit: usize,
) -> Result<Vec<PythonFrame>, OffsetsError> {
    let offsets = &layout.walker;
    let mut frame = memory.read_u64(thread_state.wrapping_add(offsets.thread_state_frame))?;
    if offsets.cframe_current_frame != NO_OFFSET && frame != 0 {
        frame = memory.read_u64(frame.wrapping_add(offsets.cframe_current_frame))?;
    }
    let mut frames = Vec::new();
    // A shim frame always sits below a Python frame, so this bounds a cycle.
    let mut steps_left = limit.saturating_mul(2).saturating_add(1);
    while frame != 0 && frames.len() < limit && steps_left > 0 {
        steps_left -= 1;
        let previous = memory.read_u64(frame.wrapping_add(offsets.frame_previous))?;
        let is_shim = offsets.frame_owner != NO_OFFSET
            && u64::from(memory.read_u8(frame.wrapping_add(offsets.frame_owner))?)
                == offsets.owner_shim;
        if !is_shim {
            let code =
                memory.read_u64(frame.wrapping_add(offsets.frame_code))? & !offsets.code_tag_mask;
            let instruction = if offsets.instruction_kind == InstructionKind::LastIndex as u32 {
                memory.read_i32(frame.wrapping_add(offsets.frame_instruction))? as i64 as u64
            } else {
                memory.read_u64(frame.wrapping_add(offsets.frame_instruction))?
            };
            frames.push(PythonFrame { code, instruction });
        }
        frame = previous;
    }
    Ok(frames)
}
