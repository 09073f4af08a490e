//! Struct offsets of each CPython version.
