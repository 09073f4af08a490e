//! Draws the live view: the target and its runtime figures at the top,
//! the stack table with a sparkline of each stack's live bytes, the
//! selected stack's frames, and a line of help.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize as _};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::keys::HELP;
use super::sparkline::sparkline;
use super::state::ViewState;
use crate::export::label::frame_label;
use crate::frame::FrameKind;
use crate::report::runtime_lines::{gc_line, memory_line};
use crate::report::{Report, Stack, Verdict, verdict_word};
use crate::units::{format_bytes, format_bytes_per_min, format_count};

/// Windows shown in a stack's sparkline.
const TREND_WIDTH: u16 = 20;
/// Lines of the frames pane, borders included.
const FRAMES_HEIGHT: u16 = 12;

/// What the view says before the first window closes.
pub struct Waiting<'a> {
    pub pid: u32,
    pub command: &'a str,
    pub window_seconds: f64,
}

pub fn draw(frame: &mut Frame, state: &ViewState, waiting: &Waiting) {
    let [header, table, frames, help] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Min(4),
        Constraint::Length(FRAMES_HEIGHT),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    match state.report() {
        Some(report) => {
            frame.render_widget(Paragraph::new(header_lines(report)), header);
            draw_table(frame, state, table);
            draw_frames(frame, state.selected_stack(), frames);
        }
        None => frame.render_widget(
            Paragraph::new(format!(
                "leakspy top: pid {} {}\nwaiting for the first window ({:.0}s)…",
                waiting.pid, waiting.command, waiting.window_seconds
            )),
            header,
        ),
    }
    let mut status = format!("{HELP}   sorted by {}", state.sort.name());
    if state.paused {
        status.push_str("   PAUSED");
    }
    if state.quitting {
        status = "stopping: detaching the probes and naming the last stacks…".into();
    }
    frame.render_widget(Paragraph::new(status).reversed(), help);
}

fn header_lines(report: &Report) -> Vec<Line<'static>> {
    let target = &report.target;
    let python = match (&target.python_version, &target.python_allocator) {
        (Some(version), Some(allocator)) => format!("Python {version}, {allocator}"),
        (Some(version), None) => format!("Python {version}"),
        (None, _) => "native stacks only".into(),
    };
    let mode = match &report.growth {
        Some(growth) => format!(
            "growth mode, allocator probed {:.1}% of the time",
            growth.duty_cycle * 100.0
        ),
        None => "precise mode".into(),
    };
    let mut lines = vec![
        Line::from(format!(
            "leakspy top  pid {}  {}  ({python}; {mode})",
            target.pid, target.command
        ))
        .bold(),
    ];
    if let Some(last) = report.windows.last() {
        let rss: Vec<u64> = report.windows.iter().map(|w| w.rss_bytes).collect();
        lines.push(Line::from(format!(
            "window {} at {:.0}s   {}   RSS {}",
            report.windows.len(),
            last.end,
            memory_line(last),
            sparkline(&rss, TREND_WIDTH.into())
        )));
    }
    if let Some(gc) = gc_line(report) {
        lines.push(Line::from(format!("GC: {gc}")));
    }
    lines.push(Line::from(format!(
        "live {} in {} blocks, {} stacks",
        format_bytes(report.totals.live_bytes),
        format_count(report.totals.live_count),
        format_count(report.totals.stacks)
    )));
    lines
}

fn draw_table(frame: &mut Frame, state: &ViewState, area: Rect) {
    let rows = state
        .stacks()
        .into_iter()
        .enumerate()
        .map(|(index, stack)| {
            Row::new([
                Cell::from(format!("{}", index + 1)),
                Cell::from(verdict_word(stack.verdict)).style(verdict_style(stack.verdict)),
                Cell::from(format_bytes(stack.live_bytes)),
                Cell::from(format_bytes_per_min(stack.growth_bytes_per_min)),
                Cell::from(sparkline(&stack.series, TREND_WIDTH.into())),
                Cell::from(headline(stack)),
            ])
        });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(15),
        Constraint::Length(TREND_WIDTH),
        Constraint::Fill(1),
    ];
    let header = Row::new(["#", "verdict", "live", "growth", "trend", "where"]).bold();
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(" stacks "))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}

fn draw_frames(frame: &mut Frame, stack: Option<&Stack>, area: Rect) {
    let mut lines = Vec::new();
    if let Some(stack) = stack {
        let mut summary = format!(
            "{}  confidence {:.2}  live {} in {} blocks  stack {}",
            verdict_word(stack.verdict),
            stack.confidence,
            format_bytes(stack.live_bytes),
            format_count(stack.live_count),
            stack.id
        );
        if let Some(evidence) = &stack.evidence {
            summary.push_str(&format!(
                "  sampled blocks alive {}/{}",
                evidence.surviving_blocks, evidence.sampled_blocks
            ));
        }
        lines.push(Line::from(summary).bold());
        lines.extend(
            stack
                .frames
                .iter()
                .map(|frame| Line::from(format!("  {}", frame_label(frame)))),
        );
    }
    let pane = Paragraph::new(lines).block(Block::bordered().title(" frames, innermost first "));
    frame.render_widget(pane, area);
}

/// The frame a person looks for: the innermost Python frame, or the
/// innermost frame of a native stack.
fn headline(stack: &Stack) -> String {
    stack
        .frames
        .iter()
        .find(|frame| frame.kind == FrameKind::Python)
        .or(stack.frames.first())
        .map(frame_label)
        .unwrap_or_default()
}

fn verdict_style(verdict: Verdict) -> Style {
    match verdict {
        Verdict::Leak => Style::new().red().bold(),
        Verdict::Growing => Style::new().yellow(),
        Verdict::Stable | Verdict::Churn => Style::new(),
    }
}
