//! The map from kernel thread id to PyThreadState that the frame walker
//! looks threads up in. Userspace builds it by walking the interpreter's
//! thread list, and rebuilds it when the kernel reports a thread it does
//! not know.
//!
//! 3.11+ thread states carry `native_thread_id`, the kernel's tid. 3.9 and
//! 3.10 only carry `thread_id`, glibc's pthread_self(): the address of the
//! thread's `struct pthread`, which holds the tid at an offset leakspy
//! finds once by matching known tids.

use std::collections::{HashMap, HashSet};

use profiler_common::ThreadIdKind;

use crate::process::memory::MemoryReader;
use crate::python::PythonError;
use crate::python::offsets::thread_states;
use crate::python::runtime::PythonRuntime;

/// Bytes of `struct pthread` searched for the tid field, fewer when its
/// mapping ends sooner: the main thread's struct sits in the static TLS
/// block, at times less than this from the end of its mapping.
const PTHREAD_SEARCH_BYTES: u64 = 0x1000;

/// The current thread states of a target, by tid.
#[derive(Debug, Default)]
pub struct ThreadMap {
    /// Offset of `tid` in glibc's struct pthread, once found.
    pthread_tid_offset: Option<u64>,
}

impl ThreadMap {
    /// Walks the interpreter's thread list: tid → PyThreadState address.
    pub fn scan(&mut self, runtime: &PythonRuntime) -> Result<HashMap<u32, u64>, PythonError> {
        let memory = runtime.memory();
        let states = thread_states(&memory, &runtime.layout, runtime.runtime_address)?;
        if runtime.layout.walker.thread_id_kind == ThreadIdKind::NativeThreadId as u32 {
            return Ok(states
                .iter()
                .map(|state| (state.thread_id as u32, state.address))
                .collect());
        }
        let tids = live_tids(runtime.pid);
        let pthreads: Vec<u64> = states.iter().map(|state| state.thread_id).collect();
        let Some(offset) = self.tid_offset(&memory, &pthreads, &tids) else {
            return Ok(HashMap::new());
        };
        Ok(states
            .iter()
            .filter_map(|state| {
                let tid = memory.read_u32(state.thread_id.wrapping_add(offset)).ok()?;
                tids.contains(&tid).then_some((tid, state.address))
            })
            .collect())
    }

    /// The offset of the tid in struct pthread: found once as the offset
    /// where every thread's struct holds one of the process's tids.
    fn tid_offset(
        &mut self,
        memory: &dyn MemoryReader,
        pthreads: &[u64],
        tids: &HashSet<u32>,
    ) -> Option<u64> {
        if self.pthread_tid_offset.is_none() {
            self.pthread_tid_offset = find_tid_offset(memory, pthreads, tids);
        }
        self.pthread_tid_offset
    }
}

fn find_tid_offset(
    memory: &dyn MemoryReader,
    pthreads: &[u64],
    tids: &HashSet<u32>,
) -> Option<u64> {
    let structs: Vec<Vec<u8>> = pthreads
        .iter()
        .filter_map(|&pthread| {
            memory
                .read_up_to(pthread, PTHREAD_SEARCH_BYTES as usize)
                .ok()
        })
        .collect();
    let searchable = structs.iter().map(Vec::len).min()?;
    (0..searchable.saturating_sub(3))
        .step_by(4)
        .find_map(|offset| {
            let all_hold_a_tid = structs.iter().all(|bytes| {
                let word =
                    u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"));
                tids.contains(&word)
            });
            all_hold_a_tid.then_some(offset as u64)
        })
}

/// The tids of every thread of `pid`.
fn live_tids(pid: u32) -> HashSet<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::memory::FakeMemory;

    #[test]
    fn the_tid_offset_is_where_every_pthread_holds_a_live_tid() {
        let mut memory = FakeMemory::default();
        for (address, tid) in [(0x10_000u64, 4242u32), (0x20_000, 4243)] {
            let mut bytes = vec![0u8; PTHREAD_SEARCH_BYTES as usize];
            bytes[0x2d0..0x2d4].copy_from_slice(&tid.to_le_bytes());
            if address == 0x10_000 {
                // A tid-like value in one struct only must not win.
                bytes[0x10..0x14].copy_from_slice(&4243u32.to_le_bytes());
            }
            memory.place(address, bytes);
        }
        let tids = HashSet::from([4242, 4243]);
        assert_eq!(
            find_tid_offset(&memory, &[0x10_000, 0x20_000], &tids),
            Some(0x2d0)
        );
    }

    #[test]
    fn a_pthread_near_the_end_of_its_mapping_is_searched_as_far_as_it_goes() {
        let mut memory = FakeMemory::default();
        // The struct starts 0x900 bytes before its mapping ends.
        let mut bytes = vec![0u8; 0x900];
        bytes[0x2d0..0x2d4].copy_from_slice(&777u32.to_le_bytes());
        memory.place(0x7f00_0000_0700, bytes);
        assert_eq!(
            find_tid_offset(&memory, &[0x7f00_0000_0700], &HashSet::from([777])),
            Some(0x2d0)
        );
    }
}
