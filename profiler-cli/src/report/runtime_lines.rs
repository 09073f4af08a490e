//! The target's runtime figures at the last window, in words: resident
//! memory, threads and the GC. The text report and the live view both
//! print them.

use super::{GcCounters, Report, Window};
use crate::units::{format_bytes, format_count};

/// "45.0 MiB resident (30.0 MiB anonymous), 3 threads", for the last window.
pub fn memory_line(window: &Window) -> String {
    let mut line = format!("{} resident", format_bytes(window.rss_bytes));
    if window.anon_rss_bytes > 0 {
        line.push_str(&format!(
            " ({} anonymous)",
            format_bytes(window.anon_rss_bytes)
        ));
    }
    if window.threads > 0 {
        let plural = if window.threads == 1 { "" } else { "s" };
        line.push_str(&format!(", {} thread{plural}", window.threads));
    }
    line
}

/// The GC at the last window, with the collections since the one before;
/// None when the report has no GC counters.
pub fn gc_line(report: &Report) -> Option<String> {
    let mut with_gc = report.windows.iter().rev().filter_map(|w| w.gc.as_ref());
    let last = with_gc.next()?;
    let joined = |values: &[u64]| {
        values
            .iter()
            .map(|value| format_count(*value))
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut line = match with_gc.next() {
        Some(before) => format!(
            "collections {} in the last window, {} in all",
            joined(&since(last, before)),
            joined(&last.collections)
        ),
        None => format!("collections {} in all", joined(&last.collections)),
    };
    if let Some(counts) = &last.counts {
        let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
        line.push_str(&format!("; counts {}", counts.join("/")));
    }
    if let Some(long_lived) = last.long_lived_objects {
        line.push_str(&format!(
            "; {} objects survived the last full collection",
            format_count(long_lived)
        ));
    }
    let uncollectable: u64 = last.uncollectable.iter().sum();
    if uncollectable > 0 {
        line.push_str(&format!("; {} uncollectable", format_count(uncollectable)));
    }
    Some(line)
}

/// Collections per generation between two readings.
fn since(last: &GcCounters, before: &GcCounters) -> Vec<u64> {
    last.collections
        .iter()
        .zip(&before.collections)
        .map(|(now, then)| now.saturating_sub(*then))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    #[test]
    fn memory_and_threads_read_as_words() {
        let report = sample_report();
        let line = memory_line(report.windows.last().unwrap());
        assert_eq!(line, "42.0 MiB resident (32.0 MiB anonymous), 2 threads");
    }

    #[test]
    fn gc_collections_are_counted_per_window() {
        let report = sample_report();
        let line = gc_line(&report).unwrap();
        assert!(
            line.starts_with("collections 40/3/0 in the last window, 120/9/0 in all"),
            "{line}"
        );
        assert!(line.contains("counts 120/3/1"), "{line}");
        assert!(line.contains("41,000 objects survived"), "{line}");
        let mut without = report;
        for window in &mut without.windows {
            window.gc = None;
        }
        assert_eq!(gc_line(&without), None);
    }
}
