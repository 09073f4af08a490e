//! How the exports name a frame and a recording, so one leak reads the same
//! in every format.

use std::path::Path;

use crate::frame::{Frame, FrameKind};
use crate::report::{Mode, Report};
use crate::units::format_bytes;

/// `function (file:line)` for a Python frame, `function (object basename)`
/// for a native one; what is unknown is left out.
pub fn frame_label(frame: &Frame) -> String {
    let place = match frame.kind {
        FrameKind::Python => match (&frame.file, frame.line) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            (Some(file), None) => Some(file.clone()),
            (None, _) => None,
        },
        FrameKind::Native => frame.object.as_deref().map(basename),
    };
    match place {
        Some(place) => format!("{} ({place})", frame.function),
        None => frame.function.clone(),
    }
}

/// The last component of a path, or the whole text when it has none.
fn basename(path: &str) -> String {
    Path::new(path).file_name().map_or_else(
        || path.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// One line naming what a profile shows: "3.0 MiB live in python3 app.py
/// (pid 4242), precise mode".
pub fn profile_title(report: &Report) -> String {
    let mode = match report.mode {
        Mode::Precise => "precise",
        Mode::Growth => "growth",
    };
    format!(
        "{} live in {} (pid {}), {mode} mode",
        format_bytes(report.totals.live_bytes),
        report.target.command,
        report.target.pid
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_report::sample_report;

    fn frame(
        kind: FrameKind,
        file: Option<&str>,
        line: Option<u32>,
        object: Option<&str>,
    ) -> Frame {
        Frame {
            kind,
            function: "f".into(),
            file: file.map(Into::into),
            line,
            object: object.map(Into::into),
        }
    }

    #[test]
    fn python_frames_show_their_line() {
        let python = FrameKind::Python;
        assert_eq!(
            frame_label(&frame(
                python,
                Some("app.py"),
                Some(42),
                Some("/usr/bin/python3")
            )),
            "f (app.py:42)"
        );
        assert_eq!(
            frame_label(&frame(python, Some("app.py"), None, None)),
            "f (app.py)"
        );
        assert_eq!(frame_label(&frame(python, None, Some(3), None)), "f");
    }

    #[test]
    fn native_frames_show_their_object() {
        let native = FrameKind::Native;
        assert_eq!(
            frame_label(&frame(
                native,
                Some("a.c"),
                Some(7),
                Some("/usr/lib/libc.so.6")
            )),
            "f (libc.so.6)"
        );
        assert_eq!(frame_label(&frame(native, None, None, Some("/"))), "f (/)");
        assert_eq!(frame_label(&frame(native, None, None, None)), "f");
    }

    #[test]
    fn the_title_names_bytes_target_and_mode() {
        assert_eq!(
            profile_title(&sample_report()),
            "3.1 MiB live in python3 app.py (pid 4242), precise mode"
        );
    }
}
