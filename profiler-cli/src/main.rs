//! The `leakspy` binary.
fn main() {}
