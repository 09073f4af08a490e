//! Time to render the scale run's report (about 100 k stacks) in every
//! format: `leakspy report BIG.json --format F -o OUT`, which reads the
//! JSON report back and writes the format.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Result, bail};

use crate::bench::measure::last_lines;
use crate::bench::modes::Tools;
use crate::bench::process::Started;
use crate::bench::statistics::median;

/// Every format `leakspy report` writes, with a file ending for it.
pub const FORMATS: &[(&str, &str)] = &[
    ("text", "txt"),
    ("json", "json"),
    ("flamegraph", "svg"),
    ("pprof", "pb.gz"),
    ("speedscope", "speedscope.json"),
];

const RENDER_TIMEOUT: Duration = Duration::from_secs(600);

/// One format's figures, medians over the repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderFigures {
    pub format: &'static str,
    pub seconds: f64,
    pub peak_rss_bytes: f64,
    pub output_bytes: u64,
}

/// Renders `report` as `format` `repeats` times into `scratch`.
pub fn measure(
    tools: &Tools,
    report: &Path,
    (format, ending): (&'static str, &str),
    repeats: usize,
    scratch: &Path,
) -> Result<RenderFigures> {
    let output = scratch.join(format!("rendered.{ending}"));
    let mut seconds = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..repeats {
        let stderr_path = scratch.join("render-stderr.txt");
        let started = Started::spawn(
            Command::new(&tools.leakspy)
                .arg("report")
                .arg(report)
                .args(["--format", format, "-o"])
                .arg(&output)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&stderr_path)?),
        )?;
        let exit = started.wait(RENDER_TIMEOUT)?;
        if !exit.status.success() || exit.timed_out {
            bail!(
                "leakspy report --format {format} failed ({}): {}",
                exit.status,
                last_lines(&std::fs::read_to_string(&stderr_path).unwrap_or_default())
            );
        }
        seconds.push(exit.elapsed.as_secs_f64());
        peaks.push(exit.usage.peak_rss_bytes as f64);
    }
    Ok(RenderFigures {
        format,
        seconds: median(&seconds).unwrap_or(0.0),
        peak_rss_bytes: median(&peaks).unwrap_or(0.0),
        output_bytes: std::fs::metadata(&output).map_or(0, |metadata| metadata.len()),
    })
}
