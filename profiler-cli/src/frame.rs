//! One frame of a symbolized stack, as reports and views show it.

use serde::{Deserialize, Serialize};

/// Where a frame comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameKind {
    Python,
    Native,
}

/// A symbolized frame. `function` is always set: when no symbol covers the
/// address it is the address relative to its object, such as `0x1a2b`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub kind: FrameKind,
    pub function: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The binary or library (its path as the target maps it), for native frames.
    pub object: Option<String>,
}
