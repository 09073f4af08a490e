//! The report as text for people: what `leakspy report FILE` prints.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use super::runtime_lines::{gc_line, memory_line};
use super::{Mode, Report, Stack, Verdict};
use crate::frame::Frame;
use crate::units::{format_bytes, format_bytes_per_min, format_count, format_duration};

/// Writes a header about the recording, then the `top` most suspicious
/// stacks in the report's order, each with its frames innermost first.
pub fn render_text(report: &Report, top: usize, out: &mut impl Write) -> io::Result<()> {
    render_header(report, out)?;
    writeln!(out)?;
    if report.stacks.is_empty() {
        return writeln!(out, "no stacks recorded");
    }
    let shown = top.min(report.stacks.len());
    writeln!(
        out,
        "top {shown} of {} stacks, most suspicious first:",
        report.stacks.len()
    )?;
    for (index, stack) in report.stacks.iter().take(top).enumerate() {
        writeln!(out)?;
        render_stack(index + 1, stack, out)?;
    }
    Ok(())
}

fn render_header(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let target = &report.target;
    let python = match (&target.python_version, &target.python_allocator) {
        (Some(version), Some(allocator)) => format!("Python {version}, {allocator}"),
        (Some(version), None) => format!("Python {version}"),
        (None, _) => "not Python".into(),
    };
    writeln!(
        out,
        "leakspy {} report ({})",
        report.leakspy_version, report.schema
    )?;
    writeln!(
        out,
        "target:   pid {} {} ({python})",
        target.pid, target.command
    )?;
    writeln!(out, "mode:     {}", mode_word(report.mode))?;
    writeln!(
        out,
        "duration: {} in {} windows of {}",
        format_duration(seconds(report.duration_seconds)),
        report.windows.len(),
        format_duration(seconds(report.window_seconds))
    )?;
    match (report.windows.first(), report.windows.last()) {
        (Some(first), Some(last)) => writeln!(
            out,
            "rss:      {} -> {} (first window -> last)",
            format_bytes(first.rss_bytes),
            format_bytes(last.rss_bytes)
        )?,
        _ => writeln!(out, "rss:      no windows recorded")?,
    }
    if let Some(last) = report.windows.last() {
        writeln!(out, "at end:   {}", memory_line(last))?;
    }
    if let Some(gc) = gc_line(report) {
        writeln!(out, "gc:       {gc}")?;
    }
    let totals = &report.totals;
    writeln!(
        out,
        "totals:   live {} in {} blocks; allocated {} in {}; freed {} in {}; {} stacks",
        format_bytes(totals.live_bytes),
        format_count(totals.live_count),
        format_bytes(totals.alloc_bytes),
        format_count(totals.alloc_count),
        format_bytes(totals.freed_bytes),
        format_count(totals.freed_count),
        format_count(totals.stacks)
    )?;
    let lost: Vec<String> = report
        .lost_events
        .iter()
        .filter(|&(_, &count)| count > 0)
        .map(|(cause, &count)| format!("{cause} {}", format_count(count)))
        .collect();
    if lost.is_empty() {
        writeln!(out, "no events lost")?;
    } else {
        writeln!(out, "lost:     {}", lost.join(", "))?;
    }
    for note in &report.notes {
        writeln!(out, "note:     {note}")?;
    }
    Ok(())
}

fn render_stack(rank: usize, stack: &Stack, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "#{rank} {}  live {} in {} blocks  growth {}  allocated {} in {}  freed {} in {}  stack {}",
        verdict_word(stack.verdict),
        format_bytes(stack.live_bytes),
        format_count(stack.live_count),
        format_bytes_per_min(stack.growth_bytes_per_min),
        format_bytes(stack.alloc_bytes),
        format_count(stack.alloc_count),
        format_bytes(stack.freed_bytes),
        format_count(stack.freed_count),
        stack.id
    )?;
    for frame in &stack.frames {
        writeln!(out, "    {}", frame_line(frame))?;
    }
    Ok(())
}

/// `function  file:line  (object basename)`, leaving out what is unknown.
fn frame_line(frame: &Frame) -> String {
    let mut parts = vec![frame.function.clone()];
    match (&frame.file, frame.line) {
        (Some(file), Some(line)) => parts.push(format!("{file}:{line}")),
        (Some(file), None) => parts.push(file.clone()),
        (None, _) => {}
    }
    if let Some(object) = &frame.object {
        let name = Path::new(object).file_name().map_or_else(
            || object.clone(),
            |name| name.to_string_lossy().into_owned(),
        );
        parts.push(format!("({name})"));
    }
    parts.join("  ")
}

pub(crate) fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Leak => "LEAK",
        Verdict::Growing => "growing",
        Verdict::Stable => "stable",
        Verdict::Churn => "churn",
    }
}

fn mode_word(mode: Mode) -> &'static str {
    match mode {
        Mode::Precise => "precise (every allocation and free)",
        Mode::Growth => "growth (new resident memory, sampled allocations)",
    }
}

/// Seconds from the report as a Duration; nonsense (negative, NaN) shows as 0.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    fn render(report: &Report, top: usize) -> String {
        let mut out = Vec::new();
        render_text(report, top, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_leak_is_shown_with_its_line() {
        let text = render(&sample_report(), 10);
        assert!(
            text.contains("#1 LEAK  live 3.0 MiB in 3,072 blocks"),
            "{text}"
        );
        assert!(text.contains("growth +6.0 MiB/min"), "{text}");
        assert!(
            text.contains("    leak_here  app.py:42  (python3)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "    _PyObject_Malloc  Objects/obmalloc.c:1520  (libpython3.11.so.1.0)\n"
            ),
            "{text}"
        );
        assert!(text.contains("#2 stable"), "{text}");
        assert!(text.contains("    0x1a2b  (libc.so.6)\n"), "{text}");
    }

    #[test]
    fn the_header_describes_the_recording() {
        let text = render(&sample_report(), 10);
        for expected in [
            "target:   pid 4242 python3 app.py (Python 3.11.2, pymalloc)\n",
            "mode:     precise",
            "duration: 30.0s in 3 windows of 10.0s\n",
            "rss:      40.0 MiB -> 42.0 MiB",
            "lost:     stack_unavailable 3\n",
            "note:     tracemalloc is active in the target\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("live_map_full"), "{text}");
    }

    #[test]
    fn top_limits_the_stacks() {
        let text = render(&sample_report(), 1);
        assert!(text.contains("top 1 of 2 stacks"), "{text}");
        assert!(!text.contains("#2"), "{text}");
    }

    #[test]
    fn an_empty_report_says_so() {
        let mut report = sample_report();
        report.stacks.clear();
        report.windows.clear();
        report.lost_events.values_mut().for_each(|count| *count = 0);
        report.target.python_version = None;
        let text = render(&report, 10);
        assert!(text.contains("(not Python)"), "{text}");
        assert!(text.contains("rss:      no windows recorded"), "{text}");
        assert!(text.contains("no events lost\n"), "{text}");
        assert!(text.ends_with("no stacks recorded\n"), "{text}");
    }
}
