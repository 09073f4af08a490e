//! `cargo xtask demo`: builds leakspy, starts the bundled leaking demo
//! service (or uses `--pid`), records it, and prints the report, so the
//! leaking stack shows up. The demo service is killed afterwards, always.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, bail};
use clap::Args;

use crate::{build, command, workspace};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Record this process instead of the bundled demo service.
    #[arg(long)]
    pid: Option<u32>,
    /// How long to record, in seconds.
    #[arg(long, default_value_t = 20)]
    duration: u32,
}

/// Kills and reaps the demo service when dropped, on every path out.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        eprintln!("demo: stopping the demo service (pid {})", self.0.id());
        // It may have exited already; nothing more to do then.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<()> {
    let leakspy = build::run()?;
    let demo_dir = workspace::target_dir().join("demo");
    std::fs::create_dir_all(&demo_dir)
        .with_context(|| format!("cannot create {}", demo_dir.display()))?;
    let report = demo_dir.join("report.json");
    // Kept until the end of this function, which kills the service.
    let service = match args.pid {
        Some(_) => None,
        None => Some(start_service(&demo_dir)?),
    };
    let pid = match (&service, args.pid) {
        (Some(Running(child)), _) => child.id(),
        (None, pid) => pid.expect("without --pid the service is started"),
    };
    eprintln!(
        "demo: recording pid {pid} for {} s into {}",
        args.duration,
        report.display()
    );
    command::run(
        Command::new(&leakspy)
            .args(["record", "--mode", "precise", "--pid", &pid.to_string()])
            .args(["--duration", &args.duration.to_string(), "--window", "2"])
            .arg("-o")
            .arg(&report),
    )?;
    eprintln!("demo: the report, with the leaking stacks first:");
    command::run(Command::new(&leakspy).arg("report").arg(&report))
}

/// Compiles tests/fixtures/demo_service.c into `demo_dir` and starts it;
/// returns once it says it is serving, so its libc is mapped.
fn start_service(demo_dir: &Path) -> Result<Running> {
    let source = workspace::root().join("tests/fixtures/demo_service.c");
    let binary = demo_dir.join("demo_service");
    eprintln!("demo: compiling {}", source.display());
    command::run(
        Command::new("gcc")
            .args([
                "-g",
                "-O1",
                "-fno-omit-frame-pointer",
                "-Wall",
                "-Wextra",
                "-o",
            ])
            .arg(&binary)
            .arg(&source),
    )?;
    let mut child = Command::new(&binary)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", binary.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let service = Running(child);
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .context("reading the demo service's first line")?;
    if first_line.is_empty() {
        bail!("the demo service exited before serving");
    }
    eprintln!(
        "demo: started {} (pid {})",
        binary.display(),
        service.0.id()
    );
    Ok(service)
}
