//! Capture and recapture of growth mode's sampled blocks: which of a
//! stack's blocks recorded in a window took over an address that the same
//! stack held at the window before's end.
//!
//! A stack whose memory is bounded, a cache that evicts as it fills, gets
//! the addresses it gave back handed out again. Most of its blocks die
//! between bursts, unseen, and another of its blocks of the same size and
//! contents then lives at that address: in memory the recorded block looks
//! alive. So the sampled survivors of such a stack climb towards every
//! address it cycles through as bursts cover more of them, which looks
//! like growth. Its new survivors mostly land on addresses it already held,
//! though, while a leak's new survivors land on addresses it never gave
//! back. The share of recaptures among a stack's new survivors tells the
//! two apart (`trend::Features::recaptured_share`).

use std::collections::HashMap;

use profiler_common::{AllocationKey, LiveAllocation};

/// One stack's blocks recorded in a window and alive at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NewSurvivors {
    pub blocks: u64,
    /// Those at an address the same stack held at the window before's end.
    pub recaptured: u64,
}

/// The recorded blocks at the last window's end.
#[derive(Debug, Default)]
pub struct Recaptures {
    /// The stack id and record time of the block at each address.
    held: HashMap<u64, (u64, u64)>,
}

impl Recaptures {
    /// Compares `live`, the blocks recorded now, with those of the last
    /// call, and counts each stack's new survivors among the blocks of
    /// `pid`.
    pub fn observe(
        &mut self,
        pid: u32,
        live: &[(AllocationKey, LiveAllocation)],
    ) -> HashMap<u64, NewSurvivors> {
        let mut survivors: HashMap<u64, NewSurvivors> = HashMap::new();
        let mut held = HashMap::with_capacity(self.held.len());
        for (key, block) in live.iter().filter(|(key, _)| key.tgid == pid) {
            let before = self.held.get(&key.address);
            if before.is_none_or(|&(_, recorded)| recorded != block.timestamp_ns) {
                let counts = survivors.entry(block.stack_id).or_default();
                counts.blocks += 1;
                if before.is_some_and(|&(stack, _)| stack == block.stack_id) {
                    counts.recaptured += 1;
                }
            }
            held.insert(key.address, (block.stack_id, block.timestamp_ns));
        }
        self.held = held;
        survivors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(address: u64, stack_id: u64, timestamp_ns: u64) -> (AllocationKey, LiveAllocation) {
        (
            AllocationKey {
                tgid: 7,
                _pad: 0,
                address,
            },
            LiveAllocation {
                size: 64,
                stack_id,
                timestamp_ns,
                weight: 64,
                source: 0,
                _pad: 0,
            },
        )
    }

    #[test]
    fn only_an_address_held_by_the_same_stack_is_a_recapture() {
        let mut recaptures = Recaptures::default();
        let first = recaptures.observe(7, &[block(0x100, 1, 10), block(0x200, 2, 11)]);
        assert_eq!(
            first[&1],
            NewSurvivors {
                blocks: 1,
                recaptured: 0
            }
        );
        // 0x100 kept its block; 0x200 holds a new block of stack 2; 0x300
        // is an address no stack held.
        let second = recaptures.observe(
            7,
            &[
                block(0x100, 1, 10),
                block(0x200, 2, 20),
                block(0x300, 1, 21),
            ],
        );
        assert_eq!(
            second[&2],
            NewSurvivors {
                blocks: 1,
                recaptured: 1
            }
        );
        assert_eq!(
            second[&1],
            NewSurvivors {
                blocks: 1,
                recaptured: 0
            },
            "the block kept at 0x100 is no new survivor"
        );
        // Stack 1 takes 0x200 over from stack 2: no recapture.
        let third = recaptures.observe(7, &[block(0x200, 1, 30)]);
        assert_eq!(
            third[&1],
            NewSurvivors {
                blocks: 1,
                recaptured: 0
            }
        );
    }

    #[test]
    fn other_processes_blocks_are_left_out() {
        let mut recaptures = Recaptures::default();
        let other = |address| {
            let (mut key, block) = block(address, 1, 5);
            key.tgid = 8;
            (key, block)
        };
        assert!(recaptures.observe(7, &[other(0x100)]).is_empty());
        assert!(recaptures.held.is_empty());
    }
}
