//! Following a child's output line by line as it comes, with the moment
//! each line arrived: how the scale measurements see leakspy attach, close
//! its windows, and the target get ready.

use std::io::{BufRead as _, BufReader, Read};
use std::sync::mpsc;
use std::time::Instant;

/// The lines of one stream, read by a thread of their own.
pub struct LineWatch {
    lines: mpsc::Receiver<(Instant, String)>,
    /// Every line seen so far, for error messages.
    pub seen: Vec<String>,
}

impl LineWatch {
    pub fn new(stream: impl Read + Send + 'static) -> Self {
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if sender.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        });
        LineWatch {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until a line satisfies `wanted`, at most until `deadline`;
    /// returns it with the moment it arrived. `None` when the stream ends
    /// or the deadline passes first.
    pub fn wait_for(
        &mut self,
        deadline: Instant,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<(Instant, String)> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (arrived, line) = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if wanted(&line) {
                return Some((arrived, line));
            }
        }
    }

    /// The last lines seen, for an error message.
    pub fn tail(&self) -> String {
        crate::bench::measure::last_lines(&self.seen.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::LineWatch;

    #[test]
    fn finds_the_first_matching_line_and_stops_at_the_end() {
        let mut watch = LineWatch::new(&b"ready\nwindow 1 at 1.0s\nwindow 2 at 2.0s\n"[..]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let (_, line) = watch
            .wait_for(deadline, |line| line.starts_with("window "))
            .unwrap();
        assert_eq!(line, "window 1 at 1.0s");
        assert!(watch.wait_for(deadline, |line| line == "never").is_none());
        assert_eq!(watch.seen.len(), 3);
    }
}
