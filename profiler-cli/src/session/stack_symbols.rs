//! Symbolized frames per kernel stack id, computed once per stack while the
//! target's memory map is known.

use std::collections::HashMap;

use aya::Ebpf;

use crate::error::Error;
use crate::frame::{Frame, FrameKind};
use crate::probes::kernel_maps;
use crate::process::maps::MemoryMap;
use crate::symbolize::Symbolizer;

/// Frames for every stack symbolized so far.
pub struct StackSymbols {
    symbolizer: Symbolizer,
    frames: HashMap<u64, Vec<Frame>>,
}

impl Default for StackSymbols {
    fn default() -> Self {
        StackSymbols {
            symbolizer: Symbolizer::new(),
            frames: HashMap::new(),
        }
    }
}

impl StackSymbols {
    /// Symbolizes each of `ids` not seen before, with `maps` taken now.
    pub fn symbolize_new<'a>(
        &mut self,
        ebpf: &Ebpf,
        pid: u32,
        maps: &[MemoryMap],
        ids: impl IntoIterator<Item = &'a u64>,
    ) -> Result<(), Error> {
        for &id in ids {
            if self.frames.contains_key(&id) {
                continue;
            }
            let frames = match kernel_maps::stack_frames(ebpf, id)? {
                // Captured in return probes: every address is a return
                // address, the first one included.
                Some(addresses) => addresses
                    .iter()
                    .flat_map(|&address| self.symbolizer.symbolize(pid, maps, address, true))
                    .collect(),
                None => vec![unknown_stack()],
            };
            self.frames.insert(id, frames);
        }
        Ok(())
    }

    /// The frames of stack `id`, innermost first.
    pub fn frames(&self, id: u64) -> Vec<Frame> {
        self.frames
            .get(&id)
            .cloned()
            .unwrap_or_else(|| vec![unknown_stack()])
    }

    /// Forgets everything: the process replaced its program.
    pub fn clear(&mut self) {
        self.frames.clear();
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
