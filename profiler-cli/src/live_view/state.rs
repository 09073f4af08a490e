//! What the live view shows and how its keys change it: the latest report
//! (or the one held while paused), the sort order and the selected stack.
//! Kept apart from the terminal so that it is tested without one.

use std::cmp::Reverse;

use crate::report::{Report, Stack};

/// How the stack table is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// The report's order: leaks first, then growing, stable and churn.
    Suspicion,
    LiveBytes,
    Growth,
}

impl SortKey {
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Suspicion => "suspicion",
            SortKey::LiveBytes => "live bytes",
            SortKey::Growth => "growth rate",
        }
    }

    fn next(self) -> Self {
        match self {
            SortKey::Suspicion => SortKey::LiveBytes,
            SortKey::LiveBytes => SortKey::Growth,
            SortKey::Growth => SortKey::Suspicion,
        }
    }
}

/// What a key asks of the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Quit,
    TogglePause,
    NextSort,
    SelectPrevious,
    SelectNext,
}

/// The live view's state.
#[derive(Debug)]
pub struct ViewState {
    /// The report on screen.
    shown: Option<Report>,
    /// A report that arrived while paused, shown on resume.
    held: Option<Report>,
    pub paused: bool,
    pub sort: SortKey,
    /// The selected row of the table.
    pub selected: usize,
    pub quitting: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            shown: None,
            held: None,
            paused: false,
            sort: SortKey::Suspicion,
            selected: 0,
            quitting: false,
        }
    }
}

impl ViewState {
    /// Takes the report of a closed window.
    pub fn receive(&mut self, report: Report) {
        if self.paused {
            self.held = Some(report);
        } else {
            self.shown = Some(report);
            self.clamp_selection();
        }
    }

    pub fn apply(&mut self, command: Command) {
        match command {
            Command::Quit => self.quitting = true,
            Command::TogglePause => {
                self.paused = !self.paused;
                if let Some(report) = self.held.take().filter(|_| !self.paused) {
                    self.shown = Some(report);
                }
            }
            Command::NextSort => {
                self.sort = self.sort.next();
                self.selected = 0;
            }
            Command::SelectPrevious => self.selected = self.selected.saturating_sub(1),
            Command::SelectNext => self.selected += 1,
        }
        self.clamp_selection();
    }

    pub fn report(&self) -> Option<&Report> {
        self.shown.as_ref()
    }

    /// The shown report's stacks in the chosen order.
    pub fn stacks(&self) -> Vec<&Stack> {
        let Some(report) = &self.shown else {
            return Vec::new();
        };
        let mut stacks: Vec<&Stack> = report.stacks.iter().collect();
        match self.sort {
            SortKey::Suspicion => {}
            SortKey::LiveBytes => stacks.sort_by_key(|stack| Reverse(stack.live_bytes)),
            SortKey::Growth => {
                stacks.sort_by(|a, b| b.growth_bytes_per_min.total_cmp(&a.growth_bytes_per_min))
            }
        }
        stacks
    }

    pub fn selected_stack(&self) -> Option<&Stack> {
        self.stacks().get(self.selected).copied()
    }

    fn clamp_selection(&mut self) {
        let count = self.shown.as_ref().map_or(0, |report| report.stacks.len());
        self.selected = self.selected.min(count.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    fn report_with_live(live: &[u64]) -> Report {
        let mut report = sample_report();
        let template = report.stacks[0].clone();
        report.stacks = live
            .iter()
            .enumerate()
            .map(|(index, &live_bytes)| Stack {
                id: format!("0x{index}"),
                live_bytes,
                growth_bytes_per_min: index as f64,
                ..template.clone()
            })
            .collect();
        report
    }

    #[test]
    fn sorting_cycles_through_the_keys() {
        let mut state = ViewState::default();
        state.receive(report_with_live(&[10, 30, 20]));
        let ids = |state: &ViewState| -> Vec<String> {
            state
                .stacks()
                .iter()
                .map(|stack| stack.id.clone())
                .collect()
        };
        assert_eq!(ids(&state), ["0x0", "0x1", "0x2"]);
        state.apply(Command::NextSort);
        assert_eq!(state.sort, SortKey::LiveBytes);
        assert_eq!(ids(&state), ["0x1", "0x2", "0x0"]);
        state.apply(Command::NextSort);
        assert_eq!(ids(&state), ["0x2", "0x1", "0x0"]);
        state.apply(Command::NextSort);
        assert_eq!(state.sort, SortKey::Suspicion);
    }

    #[test]
    fn a_paused_view_holds_its_report_until_resumed() {
        let mut state = ViewState::default();
        state.receive(report_with_live(&[1]));
        state.apply(Command::TogglePause);
        state.receive(report_with_live(&[1, 2]));
        assert_eq!(state.report().unwrap().stacks.len(), 1);
        state.apply(Command::TogglePause);
        assert!(!state.paused);
        assert_eq!(state.report().unwrap().stacks.len(), 2);
    }

    #[test]
    fn the_selection_stays_on_a_row() {
        let mut state = ViewState::default();
        state.apply(Command::SelectNext);
        assert_eq!(state.selected, 0);
        state.receive(report_with_live(&[1, 2]));
        for _ in 0..5 {
            state.apply(Command::SelectNext);
        }
        assert_eq!(state.selected_stack().unwrap().id, "0x1");
        state.apply(Command::SelectPrevious);
        assert_eq!(state.selected_stack().unwrap().id, "0x0");
        state.receive(report_with_live(&[1]));
        state.apply(Command::Quit);
        assert!(state.quitting);
        assert_eq!(state.selected, 0);
    }
}
