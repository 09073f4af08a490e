//! What `leakspy top` shows after each window: a full-screen view on a
//! terminal, otherwise the text summary or, with `--json`, JSON Lines.

mod draw;
mod full_screen;
mod json_lines;
mod keys;
mod plain_text;
mod sparkline;
mod state;

use std::io;

pub use full_screen::FullScreen;
pub use json_lines::JsonLines;
pub use plain_text::PlainText;

use crate::report::Report;
use crate::session::WindowObserver;

/// One of `top`'s outputs.
pub trait TopOutput: WindowObserver {
    /// Shows the whole trace's report once the trace has ended.
    fn finish(&mut self, report: &Report) -> io::Result<()>;
}
