//! What leakspy reads about a target process from /proc.

pub mod maps;
