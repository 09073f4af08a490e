//! A spinner on stderr for the steps that can take seconds: attaching to
//! the target and, at the end, naming the last stacks and detaching. It
//! is hidden when stderr is not a terminal (indicatif checks) and when
//! the live view owns the screen.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// One step under way; the spinner goes away when it is dropped.
pub struct Step(ProgressBar);

impl Step {
    pub fn start(message: &'static str, shown: bool) -> Self {
        let bar = if shown {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template("{spinner} leakspy: {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Step(bar)
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
