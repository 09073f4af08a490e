//! `leakspy top`: the stacks whose live memory grows, shown after every
//! window: full screen on a terminal, otherwise as text or JSON Lines.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use crate::cli::TopArgs;
use crate::commands::finish_output;
use crate::config::TargetSpec;
use crate::live_view::{FullScreen, JsonLines, PlainText, TopOutput};
use crate::session;

pub fn run(args: &TopArgs) -> anyhow::Result<ExitCode> {
    let config = args.trace.config(TargetSpec::Pid(args.pid));
    let mut output: Box<dyn TopOutput> = if args.json {
        Box::new(JsonLines::new(args.top))
    } else if std::io::stdout().is_terminal() {
        Box::new(FullScreen::new(args.top, config.window))
    } else {
        Box::new(PlainText::new(args.top))
    };
    let outcome = session::trace(&config, output.as_mut())?;
    finish_output(output.finish(&outcome.report))
}
