//! `leakspy top`: the stacks whose live memory grows, reprinted every
//! window. On a terminal the screen is redrawn; otherwise each window is
//! printed after the last.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use crate::cli::TopArgs;
use crate::commands::finish_output;
use crate::config::TargetSpec;
use crate::report::{Report, render_text};
use crate::session::{self, WindowObserver, WindowSummary};

pub fn run(args: &TopArgs) -> anyhow::Result<ExitCode> {
    let config = args.trace.config(TargetSpec::Pid(args.pid));
    let mut screen = Screen {
        top: args.top,
        redraw: std::io::stdout().is_terminal(),
        result: Ok(()),
    };
    eprintln!("leakspy: watching process {}; Ctrl-C to stop", args.pid);
    let outcome = session::trace(&config, &mut screen)?;
    if screen.result.is_ok() {
        screen.show(&outcome.report);
    }
    finish_output(screen.result)
}

/// The refreshing view; remembers the first failed write (a closed pipe).
struct Screen {
    top: usize,
    redraw: bool,
    result: std::io::Result<()>,
}

impl Screen {
    fn show(&mut self, report: &Report) {
        let mut stdout = std::io::stdout().lock();
        let written = (|| {
            if self.redraw {
                write!(stdout, "\x1b[2J\x1b[H")?;
            } else {
                writeln!(stdout, "----")?;
            }
            render_text(report, self.top, &mut stdout)?;
            stdout.flush()
        })();
        if let Err(error) = written {
            self.result = Err(error);
        }
    }
}

impl WindowObserver for Screen {
    fn wants_report(&self) -> bool {
        true
    }

    fn window_closed(&mut self, _: &WindowSummary, report: Option<&Report>) {
        if let (Ok(()), Some(report)) = (&self.result, report) {
            self.show(report);
        }
    }
}
