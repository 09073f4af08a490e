//! Tests of the layouts: against fake interpreters built from them, against
//! fake `_Py_DebugOffsets`, against the C headers, and against live
//! interpreters.

mod debug_offsets_blob;
mod fake_interpreter;
mod fake_walks;
mod headers;
mod live_interpreters;
mod pythons;
