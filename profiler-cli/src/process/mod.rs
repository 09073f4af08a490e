//! What leakspy reads about a target process from /proc and its memory.

pub mod allocator_object;
pub mod block_liveness;
pub mod maps;
pub mod memory;
pub mod status;
