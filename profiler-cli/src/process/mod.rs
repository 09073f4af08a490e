//! What leakspy reads about a target process from /proc.

pub mod allocator_object;
pub mod maps;
pub mod status;
