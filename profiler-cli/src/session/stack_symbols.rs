//! Symbolized frames per kernel stack id, computed once per stack while the
//! target's memory map is known.
//!
//! A Python stack reads, innermost first: the native leaf frames (libc, a C
//! extension) down to the first frame inside the interpreter, then the
//! Python frames. Without Python frames every native frame is kept.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use aya::Ebpf;
use profiler_common::StackTrace;

use crate::error::Error;
use crate::frame::{Frame, FrameKind};
use crate::probes::kernel_maps;
use crate::process::maps::MemoryMap;
use crate::python::code_objects::CodeObjects;
use crate::session::python_tracking::ActivePython;
use crate::symbolize::Symbolizer;

/// Frames for every stack symbolized so far.
pub struct StackSymbols {
    symbolizer: Symbolizer,
    code_objects: CodeObjects,
    frames: HashMap<u64, Vec<Frame>>,
    /// Stack ids seen but not symbolized yet, oldest first, and as a set.
    pending: VecDeque<u64>,
    queued: HashSet<u64>,
    truncated_stacks: u64,
    unreadable_stacks: u64,
    unknown_thread_stacks: u64,
}

impl Default for StackSymbols {
    fn default() -> Self {
        StackSymbols {
            symbolizer: Symbolizer::new(),
            code_objects: CodeObjects::default(),
            frames: HashMap::new(),
            pending: VecDeque::new(),
            queued: HashSet::new(),
            truncated_stacks: 0,
            unreadable_stacks: 0,
            unknown_thread_stacks: 0,
        }
    }
}

impl StackSymbols {
    /// Queues each of `ids` not seen before for symbolization.
    pub fn enqueue<'a>(&mut self, ids: impl IntoIterator<Item = &'a u64>) {
        for &id in ids {
            if !self.frames.contains_key(&id) && self.queued.insert(id) {
                self.pending.push_back(id);
            }
        }
    }

    /// Orders the queue by `live_bytes`, largest first: the stacks a report
    /// leads with are named first, before the target can free their code
    /// objects (a finalizing interpreter does) or exit.
    pub fn prioritize(&mut self, live_bytes: impl Fn(u64) -> u64) {
        self.pending
            .make_contiguous()
            .sort_by_key(|&id| std::cmp::Reverse(live_bytes(id)));
    }

    /// Symbolizes queued stacks with `maps` taken now, for at most
    /// `budget` (None: all of them). The trace loop stays responsive while
    /// thousands of start-up stacks are named.
    pub fn symbolize_pending(
        &mut self,
        ebpf: &Ebpf,
        pid: u32,
        maps: &[MemoryMap],
        python: Option<&ActivePython>,
        budget: Option<Duration>,
    ) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        self.code_objects.start_pass();
        while let Some(id) = self.pending.pop_front() {
            self.queued.remove(&id);
            let trace = kernel_maps::stack_trace(ebpf, id)?;
            self.resolve(id, trace.as_ref(), pid, maps, python);
            if budget.is_some_and(|budget| started.elapsed() >= budget) {
                break;
            }
        }
        Ok(())
    }

    /// Symbolizes stack `id` from its entry in the kernel's stack map
    /// (None: the kernel holds no such stack) and keeps its frames. Public
    /// so that the benchmarks in `benches/` can feed it stacks without a
    /// kernel.
    #[doc(hidden)]
    pub fn resolve(
        &mut self,
        id: u64,
        trace: Option<&StackTrace>,
        pid: u32,
        maps: &[MemoryMap],
        python: Option<&ActivePython>,
    ) {
        let frames = match trace {
            Some(trace) => {
                self.count_quality(trace);
                self.merge(pid, maps, python, trace)
            }
            None => vec![unknown_stack()],
        };
        self.frames.insert(id, frames);
    }

    fn count_quality(&mut self, trace: &StackTrace) {
        if trace.python_len == 0 {
            log::debug!(
                "a stack with no Python frames: flags {:#x}, {} native frames",
                trace.flags,
                trace.native_len
            );
        }
        let flagged = |flag: u32| u64::from(trace.flags & flag != 0);
        self.truncated_stacks += flagged(StackTrace::PYTHON_TRUNCATED);
        self.unreadable_stacks += flagged(StackTrace::PYTHON_UNREADABLE);
        self.unknown_thread_stacks += flagged(StackTrace::PYTHON_UNKNOWN_THREAD);
    }

    /// The native leaf frames above the interpreter, then the Python frames.
    fn merge(
        &mut self,
        pid: u32,
        maps: &[MemoryMap],
        python: Option<&ActivePython>,
        trace: &StackTrace,
    ) -> Vec<Frame> {
        let native_len = (trace.native_len as usize).min(trace.native.len());
        let python_len = (trace.python_len as usize).min(trace.python.len());
        let interpreter = python
            .filter(|_| python_len > 0)
            .map(|active| active.runtime.binary.mapped_path.as_str());
        let mut frames = Vec::new();
        // Captured in return probes: every native address is a return
        // address, the first one included.
        for &address in &trace.native[..native_len] {
            let in_code = maps
                .iter()
                .any(|map| map.contains(address) && map.executable);
            if !in_code {
                // A frame-pointer chain gone astray: nothing past it is real.
                break;
            }
            let symbolized = self.symbolizer.symbolize(pid, maps, address, true);
            let in_interpreter = interpreter.is_some_and(|path| {
                symbolized
                    .first()
                    .is_some_and(|frame| frame.object.as_deref() == Some(path))
            });
            if in_interpreter {
                break;
            }
            frames.extend(symbolized);
        }
        if let Some(active) = python {
            for frame in &trace.python[..python_len] {
                frames.push(self.code_objects.frame(&active.runtime, *frame));
            }
        }
        if frames.is_empty() {
            frames.push(unknown_stack());
        }
        frames
    }

    /// The frames of stack `id`, innermost first.
    pub fn frames(&self, id: u64) -> Vec<Frame> {
        self.frames
            .get(&id)
            .cloned()
            .unwrap_or_else(|| vec![unknown_stack()])
    }

    /// Plain words on stacks that are not whole, for the report's notes.
    pub fn stack_quality_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.truncated_stacks > 0 {
            notes.push(format!(
                "{} stacks were cut at the Python depth limit (--max-python-frames)",
                self.truncated_stacks
            ));
        }
        if self.unreadable_stacks > 0 {
            notes.push(format!(
                "{} stacks stop early: a Python frame could not be read",
                self.unreadable_stacks
            ));
        }
        if self.unknown_thread_stacks > 0 {
            notes.push(format!(
                "{} stacks have no Python frames: their thread was not yet in leakspy's thread map",
                self.unknown_thread_stacks
            ));
        }
        notes
    }

    /// Forgets everything: the process replaced its program.
    pub fn clear(&mut self) {
        self.frames.clear();
        self.pending.clear();
        self.queued.clear();
        self.code_objects = CodeObjects::default();
    }
}

fn unknown_stack() -> Frame {
    Frame {
        kind: FrameKind::Native,
        function: "[stack not captured]".into(),
        file: None,
        line: None,
        object: None,
    }
}
