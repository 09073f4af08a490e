//! Loaded binaries, one per (device, inode) of their mappings, so each is
//! opened and parsed once and stays mapped after the target exits. A binary
//! that cannot be loaded is remembered as unknown and not retried.

use std::collections::HashMap;

use super::binary::Binary;
use crate::process::maps::MemoryMap;

/// The identity of a mapped file, as /proc/PID/maps gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct BinaryKey {
    dev_major: u32,
    dev_minor: u32,
    inode: u64,
}

#[derive(Default)]
pub(crate) struct BinaryCache {
    /// `None`: the binary could not be loaded.
    entries: HashMap<BinaryKey, Option<Binary>>,
}

impl BinaryCache {
    /// The binary behind the file-backed `map` of process `pid`, loaded on
    /// first use; `None` if it cannot be loaded (logged once).
    pub fn get_or_load(&mut self, pid: u32, map: &MemoryMap) -> Option<&Binary> {
        let key = BinaryKey {
            dev_major: map.dev_major,
            dev_minor: map.dev_minor,
            inode: map.inode,
        };
        self.entries
            .entry(key)
            .or_insert_with(|| {
                Binary::load(pid, map)
                    .inspect_err(|error| {
                        log::warn!("cannot symbolize {}: {}", map.pathname, error.chain());
                    })
                    .ok()
            })
            .as_ref()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
