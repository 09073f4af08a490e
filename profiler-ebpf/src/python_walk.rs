//! The interpreter frame walker: from the current thread's PyThreadState,
//! follow the frame chain and record (code object, instruction) per frame.
//! One function, shared by every program that needs a Python stack.

use core::ffi::c_void;

use aya_ebpf::helpers::{bpf_get_current_pid_tgid, bpf_probe_read_user, generated::bpf_loop};
use profiler_common::{
    InstructionKind, LossCounter, MAX_PYTHON_FRAMES, NO_OFFSET, PythonFrame, PythonOffsets,
    StackTrace,
};

use crate::{
    losses::count_loss,
    maps::{PYTHON_OFFSETS, STACK_SCRATCH, THREAD_STATES, UNKNOWN_THREADS},
};

#[inline(always)]
fn read_u64(address: u64) -> Option<u64> {
    unsafe { bpf_probe_read_user(address as *const u64) }.ok()
}

/// Fills `trace.python` with the current thread's Python frames, innermost
/// first, and sets `trace.python_len` and the PYTHON_* flags. `trace` must
/// be the per-CPU `STACK_SCRATCH` entry: the walk's steps write there.
#[inline(always)]
pub fn walk_python_frames(trace: &mut StackTrace) {
    trace.python_len = 0;
    let Some(offsets) = PYTHON_OFFSETS.get(0) else {
        return;
    };
    if offsets.enabled == 0 {
        return;
    }
    trace.native_len = trace.native_len.min(offsets.native_depth_limit);
    let thread = bpf_get_current_pid_tgid() as u32;
    let Some(&thread_state) = (unsafe { THREAD_STATES.get(&thread) }) else {
        // Ask userspace to rescan the interpreter's threads.
        let _ = UNKNOWN_THREADS.insert(&thread, &1, 0);
        count_loss(LossCounter::UnknownPythonThread);
        trace.flags |= StackTrace::PYTHON_UNKNOWN_THREAD;
        return;
    };
    match first_frame(offsets, thread_state) {
        Ok(0) => {}
        Ok(frame) => walk_from(offsets, frame, trace),
        Err(()) => {
            trace.flags |= StackTrace::PYTHON_UNREADABLE;
            count_loss(LossCounter::UnreadablePythonFrame);
        }
    }
}

/// The innermost frame of a thread, 0 when it runs no Python code, or an
/// error when the thread state could not be read.
#[inline(always)]
fn first_frame(offsets: &PythonOffsets, thread_state: u64) -> Result<u64, ()> {
    let mut frame = read_u64(thread_state + offsets.thread_state_frame).ok_or(())?;
    if offsets.cframe_current_frame != NO_OFFSET && frame != 0 {
        frame = read_u64(frame + offsets.cframe_current_frame).ok_or(())?;
    }
    Ok(frame)
}

/// The walk's progress, shared with `walk_step` through `bpf_loop`. Only
/// scalars: the step looks the maps up itself, which keeps the verifier's
/// view simple.
#[repr(C)]
struct WalkState {
    frame: u64,
    recorded: u32,
    limit: u32,
    flags: u32,
    _pad: u32,
}

#[inline(always)]
fn walk_from(offsets: &PythonOffsets, frame: u64, trace: &mut StackTrace) {
    let mut state = WalkState {
        frame,
        recorded: 0,
        limit: offsets.depth_limit.min(MAX_PYTHON_FRAMES as u32),
        flags: 0,
        _pad: 0,
    };
    // One step per frame, shim frames included. bpf_loop has the verifier
    // check the step once instead of once per frame.
    unsafe {
        bpf_loop(
            MAX_PYTHON_FRAMES as u32,
            walk_step as *mut c_void,
            (&mut state as *mut WalkState).cast(),
            0,
        );
    }
    if state.frame != 0 && state.flags == 0 {
        // Frames are left: the depth limit, or the loop's own bound.
        state.flags |= StackTrace::PYTHON_TRUNCATED;
        count_loss(LossCounter::TruncatedPythonStack);
    }
    trace.flags |= state.flags;
    trace.python_len = state.recorded;
}

/// One frame of the walk; returns 1 to stop.
#[inline(never)]
extern "C" fn walk_step(_index: u64, context: *mut c_void) -> i64 {
    let state = unsafe { &mut *(context as *mut WalkState) };
    if state.frame == 0 || state.recorded >= state.limit {
        return 1;
    }
    let (Some(offsets), Some(trace)) = (PYTHON_OFFSETS.get(0), STACK_SCRATCH.get_ptr_mut(0)) else {
        return 1;
    };
    let Some(step) = read_frame(offsets, state.frame) else {
        state.flags |= StackTrace::PYTHON_UNREADABLE;
        count_loss(LossCounter::UnreadablePythonFrame);
        return 1;
    };
    if let Some(entry) = step.entry {
        let trace = unsafe { &mut *trace };
        match trace.python.get_mut(state.recorded as usize) {
            Some(slot) => *slot = entry,
            None => return 1,
        }
        state.recorded += 1;
    }
    state.frame = step.previous;
    0
}

/// What one frame gives: its entry (None for a shim frame) and the next frame.
struct FrameStep {
    entry: Option<PythonFrame>,
    previous: u64,
}

#[inline(always)]
fn read_frame(offsets: &PythonOffsets, frame: u64) -> Option<FrameStep> {
    let previous = read_u64(frame + offsets.frame_previous)?;
    if offsets.frame_owner != NO_OFFSET {
        let owner =
            unsafe { bpf_probe_read_user((frame + offsets.frame_owner) as *const u8) }.ok()?;
        if owner as u64 == offsets.owner_shim {
            return Some(FrameStep {
                entry: None,
                previous,
            });
        }
    }
    let code = read_u64(frame + offsets.frame_code)? & !offsets.code_tag_mask;
    let instruction = if offsets.instruction_kind == InstructionKind::LastIndex as u32 {
        let last_index =
            unsafe { bpf_probe_read_user((frame + offsets.frame_instruction) as *const i32) }
                .ok()?;
        last_index as i64 as u64
    } else {
        read_u64(frame + offsets.frame_instruction)?
    };
    Some(FrameStep {
        entry: Some(PythonFrame { code, instruction }),
        previous,
    })
}
