//! The measurements beyond the workload table: how long leakspy takes to
//! attach and show its first window, what it costs itself while it holds
//! about a million live allocations from about a hundred thousand stacks,
//! and how long that report takes to write and to render.

mod attach;
mod holding;
mod render;

use std::path::Path;

use anyhow::{Context as _, Result};

pub use self::holding::{
    FULL_SHAPE, HoldingFigures, QUICK_SHAPE, TargetShape, WINDOWS_AFTER_HOLDING,
};
use self::holding::{kernel_map_limit, maps_source};
use crate::bench::modes::Tools;
use crate::bench::statistics::{format_mib, format_seconds, format_size, median};
use crate::bench::table::Table;

/// The leakspy modes whose attach time is measured.
const ATTACH_MODES: &[&str] = &["growth", "precise"];

/// Attach times of one mode: medians over the repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct AttachFigures {
    pub mode: &'static str,
    pub repeats: usize,
    pub tracing_seconds: f64,
    pub first_window_seconds: f64,
}

/// Every scale figure, or why it is missing.
#[derive(Debug)]
pub struct ScaleResults {
    pub attach: Vec<Result<AttachFigures, String>>,
    pub shape: TargetShape,
    pub holding: Result<HoldingFigures, String>,
    pub renders: Vec<Result<render::RenderFigures, String>>,
    /// The sizes of the kernel maps that bound precise mode.
    pub max_live_allocations: Option<u64>,
    pub max_stacks: Option<u64>,
}

/// Runs every scale measurement, `repeats` times where that is cheap.
pub fn run(
    tools: &Tools,
    shape: TargetShape,
    repeats: usize,
    scratch: &Path,
) -> Result<ScaleResults> {
    std::fs::create_dir_all(scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let attach = ATTACH_MODES
        .iter()
        .map(|&mode| {
            let mut runs = Vec::new();
            for repeat in 1..=repeats {
                let times = attach::measure(tools, mode, scratch).map_err(|error| format!("{error:#}"))?;
                eprintln!(
                    "bench: attach {repeat}/{repeats}, {mode}: tracing after {}, first window after {}",
                    format_seconds(times.tracing_seconds),
                    format_seconds(times.first_window_seconds)
                );
                runs.push(times);
            }
            let median_of = |figure: fn(&attach::AttachTimes) -> f64| {
                median(&runs.iter().map(figure).collect::<Vec<_>>()).unwrap_or(0.0)
            };
            Ok(AttachFigures {
                mode,
                repeats,
                tracing_seconds: median_of(|times| times.tracing_seconds),
                first_window_seconds: median_of(|times| times.first_window_seconds),
            })
        })
        .collect();
    eprintln!(
        "bench: scale: {} x {} x {} sites, {} blocks each, recorded in precise mode",
        shape.outer, shape.inner, shape.sites, shape.repeat
    );
    let holding = holding::measure(tools, shape, scratch).map_err(|error| format!("{error:#}"));
    let renders = match &holding {
        Ok(figures) => render::FORMATS
            .iter()
            .map(|&format| {
                let rendered =
                    render::measure(tools, &figures.report_path, format, repeats, scratch)
                        .map_err(|error| format!("{error:#}"));
                if let Ok(rendered) = &rendered {
                    eprintln!(
                        "bench: rendering as {}: {}",
                        rendered.format,
                        format_seconds(rendered.seconds)
                    );
                }
                rendered
            })
            .collect(),
        Err(_) => vec![Err(
            "no report to render: the scale recording failed".to_string()
        )],
    };
    if let Ok(figures) = &holding {
        // The report is large; the figures are taken.
        let _ = std::fs::remove_file(&figures.report_path);
    }
    let maps = maps_source();
    Ok(ScaleResults {
        attach,
        shape,
        holding,
        renders,
        max_live_allocations: kernel_map_limit(&maps, "MAX_LIVE_ALLOCATIONS"),
        max_stacks: kernel_map_limit(&maps, "MAX_STACKS"),
    })
}

impl ScaleResults {
    /// Every failed scale measurement, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .attach
            .iter()
            .filter_map(|attach| attach.as_ref().err())
            .map(|error| format!("attach time: FAILED: {error}"))
            .collect();
        if let Err(error) = &self.holding {
            problems.push(format!("scale recording: FAILED: {error}"));
        }
        for render in &self.renders {
            if let Err(error) = render {
                problems.push(format!("report rendering: FAILED: {error}"));
            }
        }
        problems
    }

    /// Time from starting `leakspy record` to tracing and to the first window.
    pub fn attach_table(&self) -> Table {
        let mut table = Table::new([
            "leakspy record --window 1",
            "runs",
            "probes attached",
            "first window shown",
        ]);
        for attach in self.attach.iter().flatten() {
            table.push(vec![
                format!("--mode {}", attach.mode),
                attach.repeats.to_string(),
                format_seconds(attach.tracing_seconds),
                format_seconds(attach.first_window_seconds),
            ]);
        }
        table
    }

    /// leakspy's own figures while it holds the scale target.
    pub fn holding_table(&self) -> Table {
        let mut table = Table::new(["figure", "value"]);
        let Ok(figures) = &self.holding else {
            return table;
        };
        let limit =
            |limit: Option<u64>| limit.map_or("unknown".to_string(), |limit| limit.to_string());
        let lost = if figures.lost_events.is_empty() {
            "none".to_string()
        } else {
            figures
                .lost_events
                .iter()
                .map(|(cause, count)| format!("{cause} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rows = [
            (
                "live blocks the target holds",
                figures.target_blocks.to_string(),
            ),
            (
                "allocation sites in the target",
                figures.target_sites.to_string(),
            ),
            (
                "live blocks in leakspy's report",
                figures.report_live_count.to_string(),
            ),
            (
                "distinct stacks in leakspy's report",
                figures.report_stacks.to_string(),
            ),
            (
                "stack ids in the kernel's map (last window line)",
                figures
                    .kernel_stacks
                    .map_or("unknown".to_string(), |stacks| stacks.to_string()),
            ),
            ("events lost by the kernel side", lost),
            (
                "kernel map limits (MAX_LIVE_ALLOCATIONS, MAX_STACKS)",
                format!(
                    "{}, {}",
                    limit(self.max_live_allocations),
                    limit(self.max_stacks)
                ),
            ),
            (
                "leakspy peak RSS",
                format_mib(figures.usage.peak_rss_bytes as f64),
            ),
            (
                "leakspy CPU time (user + system)",
                format!(
                    "{} ({} + {})",
                    format_seconds(figures.usage.cpu_seconds()),
                    format_seconds(figures.usage.user_seconds),
                    format_seconds(figures.usage.system_seconds)
                ),
            ),
            ("leakspy wall time", format_seconds(figures.wall_seconds)),
            (
                "target's allocation phase, traced",
                format_seconds(figures.allocating_seconds),
            ),
            (
                "Ctrl-C to exit (detach, build and write the report)",
                format_seconds(figures.stop_to_exit_seconds),
            ),
            (
                "report size (JSON)",
                format_mib(figures.report_bytes as f64),
            ),
        ];
        for (name, value) in rows {
            table.push(vec![name.to_string(), value]);
        }
        table
    }

    /// Rendering times of the scale report, one row per format.
    pub fn render_table(&self) -> Table {
        let mut table = Table::new(["leakspy report --format", "time", "peak RSS", "output"]);
        for rendered in self.renders.iter().flatten() {
            table.push(vec![
                rendered.format.to_string(),
                format_seconds(rendered.seconds),
                format_mib(rendered.peak_rss_bytes),
                format_size(rendered.output_bytes as f64),
            ]);
        }
        table
    }
}
