//! `leakspy top` when standard output is not a terminal: the text summary
//! after each window, separated by a line of dashes.

use std::io::{self, Write as _};

use super::TopOutput;
use crate::report::{Report, render_text};
use crate::session::{WindowObserver, WindowSummary};

/// Prints each window's summary; remembers the first failed write.
pub struct PlainText {
    top: usize,
    result: io::Result<()>,
}

impl PlainText {
    pub fn new(top: usize) -> Self {
        PlainText {
            top,
            result: Ok(()),
        }
    }

    fn print(&mut self, report: &Report) {
        if self.result.is_err() {
            return;
        }
        let mut stdout = io::stdout().lock();
        self.result = writeln!(stdout, "----")
            .and_then(|()| render_text(report, self.top, &mut stdout))
            .and_then(|()| stdout.flush());
    }
}

impl TopOutput for PlainText {
    fn finish(&mut self, report: &Report) -> io::Result<()> {
        self.print(report);
        std::mem::replace(&mut self.result, Ok(()))
    }
}

impl WindowObserver for PlainText {
    fn wants_report(&self) -> bool {
        true
    }

    fn window_closed(&mut self, _: &WindowSummary, report: Option<&Report>) {
        if let Some(report) = report {
            self.print(report);
        }
    }
}
