//! Parsing and printing durations and sizes.
