//! `leakspy top` in a real terminal: tmux runs it full screen against a
//! leaking Python fixture, and the captured pane must show the leaking
//! line, the GC line and the keys at work; after `q` the view gives the
//! terminal back and the summary names the leak again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::interpreters::available;
use crate::support::{marker_line, privileged};

/// A private tmux server, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("leakspy-test-{}", std::process::id()),
        };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-x", "180", "-y", "50", command])
            .status()
            .expect("tmux runs (cargo xtask setup installs it)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    fn screen(&self) -> String {
        let output = self
            .command()
            // With the history: the final summary is longer than the pane.
            .args(["capture-pane", "-p", "-S", "-500"])
            .output()
            .expect("tmux capture-pane runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn press(&self, key: &str) {
        let status = self.command().args(["send-keys", key]).status().unwrap();
        assert!(status.success());
    }

    /// Waits until the screen satisfies `wanted`; returns the last screen.
    fn wait_for(&self, wanted: impl Fn(&str) -> bool, limit: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if wanted(&screen) {
                return Ok(screen);
            }
            if start.elapsed() > limit {
                return Err(screen);
            }
            sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// The fixture, killed when dropped.
struct Target(Child);

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn top_shows_the_leaking_line_full_screen_and_quits_on_q() {
    let Some(_guard) = privileged("top_shows_the_leaking_line_full_screen_and_quits_on_q") else {
        return;
    };
    let interpreter = available()
        .into_iter()
        .find(|interpreter| interpreter.name.starts_with("pyenv 3.11"))
        .expect("pyenv 3.11 is installed");
    let script = interpreter.fixtures().join("leak_main.py");
    let line = marker_line(&script, "# LEAK");
    let argv = interpreter.argv(&script);
    let target = Target(
        Command::new(&argv[0])
            .args(&argv[1..])
            .args(["400", "0.25"])
            .stdout(Stdio::null())
            .spawn()
            .expect("the fixture starts"),
    );
    let command = format!(
        "{} top --pid {} --window 1 --mode precise; echo leakspy-exit=$?; sleep 60",
        env!("CARGO_BIN_EXE_leakspy"),
        target.0.id()
    );
    let tmux = Tmux::start(&command);
    let place = format!("leak_main.py:{line}");
    let leak_row = |screen: &str| {
        screen
            .lines()
            .any(|row| row.contains("LEAK") && row.contains(&place))
    };
    let screen = tmux
        .wait_for(leak_row, Duration::from_secs(60))
        .unwrap_or_else(|screen| panic!("no LEAK row at {place} on screen:\n{screen}"));
    assert!(screen.contains("GC: collections"), "no GC line:\n{screen}");
    assert!(screen.contains("resident"), "no memory line:\n{screen}");
    assert!(
        screen.contains("frames, innermost first") && screen.contains("handle_request"),
        "the selected stack's frames are not shown:\n{screen}"
    );

    tmux.press("s");
    tmux.wait_for(
        |screen| screen.contains("sorted by live bytes"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|screen| panic!("s did not change the sort:\n{screen}"));
    tmux.press("p");
    tmux.wait_for(|screen| screen.contains("PAUSED"), Duration::from_secs(5))
        .unwrap_or_else(|screen| panic!("p did not pause:\n{screen}"));

    tmux.press("q");
    let screen = tmux
        .wait_for(
            |screen| screen.contains("leakspy-exit="),
            Duration::from_secs(60),
        )
        .unwrap_or_else(|screen| panic!("leakspy did not end after q:\n{screen}"));
    assert!(
        screen.contains("leakspy-exit=0"),
        "leakspy failed:\n{screen}"
    );
    assert!(
        screen.contains("most suspicious first") && screen.contains(&place),
        "the final summary does not name {place}:\n{screen}"
    );
    assert!(
        Path::new(&format!("/proc/{}", target.0.id())).exists(),
        "the target must outlive leakspy"
    );
}
