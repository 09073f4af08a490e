//! The live view's keys: q (or Esc, Ctrl-C) quits, p (or space) pauses,
//! s changes the sort order, the arrows (or j and k) move the selection.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::state::Command;

/// The help line's text.
pub const HELP: &str = "q quit  p pause  s sort  ↑↓ select";

/// What `key` asks for; None for keys the view does not use.
pub fn command_for(key: KeyEvent) -> Option<Command> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Command::Quit),
        KeyCode::Char('q') | KeyCode::Esc => Some(Command::Quit),
        KeyCode::Char('p') | KeyCode::Char(' ') => Some(Command::TogglePause),
        KeyCode::Char('s') => Some(Command::NextSort),
        KeyCode::Up | KeyCode::Char('k') => Some(Command::SelectPrevious),
        KeyCode::Down | KeyCode::Char('j') => Some(Command::SelectNext),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Option<Command> {
        command_for(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_map_to_commands() {
        let none = KeyModifiers::NONE;
        assert_eq!(press(KeyCode::Char('q'), none), Some(Command::Quit));
        assert_eq!(
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(press(KeyCode::Char('c'), none), None);
        assert_eq!(press(KeyCode::Char(' '), none), Some(Command::TogglePause));
        assert_eq!(press(KeyCode::Char('s'), none), Some(Command::NextSort));
        assert_eq!(press(KeyCode::Down, none), Some(Command::SelectNext));
        assert_eq!(
            press(KeyCode::Char('k'), none),
            Some(Command::SelectPrevious)
        );
    }
}
