//! The full-screen live view on a terminal. It runs in its own thread,
//! started once tracing runs (so that it inherits the trace loop's blocked
//! signals), and takes each window's report through a channel. Quitting
//! sends SIGINT to leakspy itself: the trace loop then ends as on Ctrl-C,
//! detaching every probe. The terminal is restored when the thread ends,
//! before the final summary is printed.

use std::io::{self, Write as _};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{self, Event};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::TopOutput;
use super::draw::{Waiting, draw};
use super::keys::command_for;
use super::state::{Command, ViewState};
use crate::report::{Report, render_text};
use crate::session::{WindowObserver, WindowSummary};

/// How often the view looks for keys and new windows.
const TICK: Duration = Duration::from_millis(100);

/// The full-screen view.
pub struct FullScreen {
    top: usize,
    window_seconds: f64,
    reports: Option<Sender<Report>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl FullScreen {
    pub fn new(top: usize, window: Duration) -> Self {
        FullScreen {
            top,
            window_seconds: window.as_secs_f64(),
            reports: None,
            thread: None,
        }
    }

    /// Ends the view's thread, which restores the terminal.
    fn close(&mut self) -> io::Result<()> {
        self.reports = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the live view's thread panicked")),
            None => Ok(()),
        }
    }
}

impl TopOutput for FullScreen {
    fn finish(&mut self, report: &Report) -> io::Result<()> {
        self.close()?;
        let mut stdout = io::stdout().lock();
        render_text(report, self.top, &mut stdout)?;
        stdout.flush()
    }
}

impl WindowObserver for FullScreen {
    fn wants_report(&self) -> bool {
        true
    }

    fn wants_progress(&self) -> bool {
        false
    }

    fn tracing_started(&mut self, pid: u32, command: &str) {
        let (sender, receiver) = mpsc::channel();
        let command = command.to_string();
        let window_seconds = self.window_seconds;
        self.reports = Some(sender);
        self.thread = Some(std::thread::spawn(move || {
            let waiting = Waiting {
                pid,
                command: &command,
                window_seconds,
            };
            show(&receiver, &waiting)
        }));
    }

    fn window_closed(&mut self, _: &WindowSummary, report: Option<&Report>) {
        if let (Some(reports), Some(report)) = (&self.reports, report) {
            // A closed channel means the view has failed; close() says why.
            let _ = reports.send(report.clone());
        }
    }
}

impl Drop for FullScreen {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            log::warn!("the live view failed: {error}");
        }
    }
}

/// The view's thread: draws until the trace loop drops its sender.
fn show(reports: &Receiver<Report>, waiting: &Waiting) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| {
        let mut state = ViewState::default();
        loop {
            loop {
                match reports.try_recv() {
                    Ok(report) => state.receive(report),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                }
            }
            terminal.draw(|frame| draw(frame, &state, waiting))?;
            if !event::poll(TICK)? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            let Some(command) = command_for(key) else {
                continue;
            };
            let first_quit = command == Command::Quit && !state.quitting;
            state.apply(command);
            if first_quit {
                kill(Pid::this(), Signal::SIGINT).map_err(io::Error::from)?;
            }
        }
    })();
    ratatui::try_restore()?;
    result
}
