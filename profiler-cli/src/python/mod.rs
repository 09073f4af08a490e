//! Everything leakspy knows about CPython: where the runtime is, the
//! layout of its structs per version, and how to read its frames.

pub mod line_table;
pub mod offsets;
