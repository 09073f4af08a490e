//! Shared helpers: privilege gating, compiling fixtures, finding marked
//! lines, and running leakspy.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use leakspy::report::Report;

/// Privileged tests attach probes, and some count the kernel's BPF
/// programs or need the machine quiet (growth mode's timing), so most run
/// alone. Precise-mode runs that only read their own report may share it.
static PRIVILEGED: RwLock<()> = RwLock::new(());

/// The right to run a privileged test, alone or beside others that share.
pub enum Privileged {
    Alone(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
}

/// Returns a guard, held while no other privileged test runs, when this
/// machine can run privileged tests. Otherwise prints why and returns
/// None, or panics when CI=true.
pub fn privileged(test: &str) -> Option<Privileged> {
    can_run_privileged(test).then(|| {
        Privileged::Alone(
            PRIVILEGED
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    })
}

/// [`privileged`], for a test that may run beside others that share: it
/// only reads its own report, and its verdicts do not depend on timing.
pub fn privileged_sharing(test: &str) -> Option<Privileged> {
    can_run_privileged(test).then(|| {
        Privileged::Shared(
            PRIVILEGED
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    })
}

fn can_run_privileged(test: &str) -> bool {
    let reason = if unsafe { libc::geteuid() } != 0 {
        Some("not running as root")
    } else if !Path::new("/sys/bus/event_source/devices/uprobe").exists() {
        Some("the kernel has no uprobe event source")
    } else {
        None
    };
    if let Some(reason) = reason {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: cannot run privileged test under CI: {reason}"
        );
        eprintln!("SKIPPED {test}: {reason}");
        return false;
    }
    true
}

/// The repository's tests/fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Compiles tests/fixtures/NAME.c once per test run, with debug info and
/// frame pointers, and returns the executable.
pub fn c_fixture(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let output = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if !built.iter().any(|done| done == name) {
        let source = fixtures_dir().join(format!("{name}.c"));
        let status = Command::new("gcc")
            .args([
                "-Wall",
                "-Wextra",
                "-Werror",
                "-O0",
                "-g",
                "-fno-omit-frame-pointer",
                "-o",
            ])
            .arg(&output)
            .arg(&source)
            .status()
            .expect("gcc runs");
        assert!(status.success(), "gcc failed on {}", source.display());
        built.push(name.to_string());
    }
    output
}

/// The 1-based line of `source` that holds `marker`; exactly one must.
pub fn marker_line(source: &Path, marker: &str) -> u32 {
    let text = std::fs::read_to_string(source).expect("fixture source is readable");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(marker))
        .map(|(index, _)| index + 1)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{marker} must mark exactly one line of {}",
        source.display()
    );
    lines[0] as u32
}

/// A command running the leakspy binary under test.
pub fn leakspy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakspy"))
}

/// Starts leakspy with stderr piped and waits until it says it is tracing.
/// Returns the child and the rest of its stderr.
#[expect(
    clippy::zombie_processes,
    reason = "the child is returned: the caller waits for it"
)]
pub fn start_tracing(mut command: Command) -> (Child, BufReader<ChildStderr>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leakspy starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = stderr
            .read_line(&mut line)
            .expect("leakspy's stderr is readable");
        if read == 0 {
            let status = child.wait();
            panic!("leakspy ended ({status:?}) before tracing; it said:\n{seen}");
        }
        seen.push_str(&line);
        if line.contains("tracing process") {
            return (child, stderr);
        }
    }
}

/// Reads the rest of a piped stream, for assertion messages.
pub fn rest_of(mut reader: impl std::io::Read) -> String {
    let mut text = String::new();
    let _ = reader.read_to_string(&mut text);
    text
}

/// `record`'s options for precise mode, with short windows.
pub const PRECISE_RECORD: &[&str] = &["--mode", "precise", "--window", "0.5"];

/// Starts `argv` (a fixture that prints a line, then waits for one on
/// stdin), attaches `leakspy record` to it with `options` (the mode and its
/// settings), lets it go, and waits for both. Returns the report leakspy
/// wrote to `report_path`.
pub fn record_waiting_target(
    argv: &[String],
    options: &[&str],
    report_path: &Path,
) -> Result<Report, String> {
    let mut target = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {argv:?}: {error}"))?;
    // Kept open until the target ends: it prints again when it is done.
    let mut target_stdout = BufReader::new(target.stdout.take().expect("stdout is piped"));
    let mut first_line = String::new();
    target_stdout
        .read_line(&mut first_line)
        .map_err(|error| error.to_string())?;
    let mut command = leakspy();
    command
        .arg("record")
        .args(options)
        .args(["--pid", &target.id().to_string(), "-o"])
        .arg(report_path);
    let (tracer, stderr) = start_tracing(command);
    // Attached: let the target start.
    target
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"go\n")
        .map_err(|error| error.to_string())?;
    let said = rest_of(target_stdout);
    let status = target.wait().map_err(|error| error.to_string())?;
    let output = tracer
        .wait_with_output()
        .map_err(|error| error.to_string())?;
    if !status.success() || !output.status.success() {
        return Err(format!(
            "target {status} (it said {said:?}), leakspy {}: {}",
            output.status,
            rest_of(stderr)
        ));
    }
    leakspy::report::read(report_path).map_err(|error| error.to_string())
}
