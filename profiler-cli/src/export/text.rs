//! The text summary for people, as `leakspy report` prints it.

use super::ExportError;
use crate::report::{Report, render_text};

/// The header and the `top` most suspicious stacks ([`render_text`]).
pub fn render(report: &Report, top: usize) -> Result<String, ExportError> {
    let mut out = Vec::new();
    render_text(report, top, &mut out).map_err(ExportError::Text)?;
    // render_text writes only `str`s, so this cannot fail.
    Ok(String::from_utf8_lossy(&out).into_owned())
}
