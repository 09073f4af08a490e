//! An SVG flame graph of live bytes, drawn by inferno from folded stacks.

use std::collections::BTreeMap;
use std::time::Duration;

use inferno::flamegraph::color::{BasicPalette, Palette};
use inferno::flamegraph::{self, Options};

use super::ExportError;
use super::label::{frame_label, profile_title};
use crate::report::Report;
use crate::units::format_duration;

/// Stands for a stack the kernel could not capture.
const NO_FRAMES: &str = "[unknown stack]";

/// The flame graph: one box per frame, as wide as the bytes live under it.
/// A report with nothing live gives a small SVG that says so.
pub fn render(report: &Report) -> Result<String, ExportError> {
    let lines = folded_stacks(report);
    let title = profile_title(report);
    if lines.is_empty() {
        return Ok(nothing_live_svg(&title));
    }
    let mut options = Options::default();
    options.title = title;
    options.subtitle = Some(format!(
        "allocated and not freed at the end of a {} recording, by allocating stack (leakspy {})",
        format_duration(Duration::try_from_secs_f64(report.duration_seconds).unwrap_or_default()),
        report.leakspy_version
    ));
    options.count_name = "bytes".into();
    options.colors = Palette::Basic(BasicPalette::Mem);
    // Colours from the frame names, so the same report draws the same SVG.
    options.hash = true;
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut svg)
        .map_err(ExportError::Flamegraph)?;
    // inferno writes UTF-8 from `str`s only.
    Ok(String::from_utf8_lossy(&svg).into_owned())
}

/// `outermost;...;innermost live_bytes`, one line per distinct stack with
/// live bytes, sorted (stacks with the same labels are added up).
pub fn folded_stacks(report: &Report) -> Vec<String> {
    let mut folded: BTreeMap<String, u64> = BTreeMap::new();
    for stack in report.stacks.iter().filter(|stack| stack.live_bytes > 0) {
        let labels: Vec<String> = stack
            .frames
            .iter()
            .rev()
            .map(|frame| folded_label(&frame_label(frame)))
            .collect();
        let key = if labels.is_empty() {
            NO_FRAMES.to_owned()
        } else {
            labels.join(";")
        };
        let bytes = folded.entry(key).or_default();
        *bytes = bytes.saturating_add(stack.live_bytes);
    }
    folded
        .into_iter()
        .map(|(stack, bytes)| format!("{stack} {bytes}"))
        .collect()
}

/// A label safe in a folded line, where `;` separates frames and a line
/// ends the stack.
fn folded_label(label: &str) -> String {
    label.replace(';', ",").replace(['\n', '\r'], " ")
}

/// A valid SVG with the title and a line saying that nothing is live.
fn nothing_live_svg(title: &str) -> String {
    let title = xml_escape(title);
    format!(
        concat!(
            r#"<?xml version="1.0" standalone="no"?>"#,
            "\n",
            r#"<svg version="1.1" width="1200" height="90" viewBox="0 0 1200 90" xmlns="http://www.w3.org/2000/svg">"#,
            "\n<title>{title}</title>\n",
            r#"<rect x="0" y="0" width="100%" height="100%" fill="rgb(255,255,255)"/>"#,
            "\n",
            r#"<text x="600" y="30" text-anchor="middle" font-family="Verdana" font-size="17">{title}</text>"#,
            "\n",
            r#"<text x="600" y="65" text-anchor="middle" font-family="Verdana" font-size="14">Nothing is live: no stack in this report holds memory at the end of tracing.</text>"#,
            "\n</svg>\n"
        ),
        title = title
    )
}

/// Escapes the five characters XML gives a meaning.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_report::sample_report;

    /// The text of every `<title>` in the SVG, which must be well-formed XML.
    fn titles(svg: &str) -> Vec<String> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let document = roxmltree::Document::parse_with_options(svg, options).unwrap();
        document
            .descendants()
            .filter(|node| node.has_tag_name("title"))
            .map(|node| node.text().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn stacks_are_folded_outermost_first_without_empty_ones() {
        assert_eq!(
            folded_stacks(&sample_report()),
            [
                "main (app.py:50);0x1a2b (libc.so.6) 65536",
                "main (app.py:50);leak_here (app.py:42);_PyObject_Malloc (libpython3.11.so.1.0) 3145728",
            ]
        );
    }

    #[test]
    fn same_labels_are_added_up_and_unknown_stacks_named() {
        let mut report = sample_report();
        let copy = report.stacks[0].clone();
        report.stacks.push(copy);
        report.stacks[1].frames.clear();
        report.stacks[2].frames[0].function = "a;b\nc".into();
        report.stacks[2].live_bytes = 1;
        let lines = folded_stacks(&report);
        assert!(
            lines.contains(&"[unknown stack] 65536".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"a,b c (app.py:60) 1".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|line| line.ends_with(&format!(" {}", 2 * (3 << 20)))),
            "{lines:?}"
        );
    }

    #[test]
    fn the_svg_names_the_leak_and_the_recording() {
        let svg = render(&sample_report()).unwrap();
        let titles = titles(&svg);
        assert!(
            titles
                .iter()
                .any(|t| t.starts_with("leak_here (app.py:42) (3,145,728 bytes")),
            "{titles:?}"
        );
        assert!(svg.contains("3.1 MiB live in python3 app.py (pid 4242), precise mode"));
        assert!(
            !svg.contains("all_freed"),
            "stacks with nothing live are left out"
        );
        assert_eq!(svg, render(&sample_report()).unwrap(), "deterministic");
    }

    #[test]
    fn an_empty_report_says_nothing_is_live() {
        let mut report = sample_report();
        report.stacks.retain(|stack| stack.live_bytes == 0);
        report.target.command = "python3 <x> & 'y'".into();
        let svg = render(&report).unwrap();
        let titles = titles(&svg);
        assert_eq!(titles.len(), 1, "{titles:?}");
        assert!(titles[0].contains("python3 <x> & 'y'"), "{titles:?}");
        assert!(svg.contains("Nothing is live"), "{svg}");
    }
}
