//! A series drawn as one line of block characters, for the stack table
//! and the header of the live view.

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values of `series`, scaled from the smallest shown to
/// the largest; a flat series is a flat line at the bottom.
pub fn sparkline(series: &[u64], width: usize) -> String {
    let shown = &series[series.len().saturating_sub(width)..];
    let (Some(&low), Some(&high)) = (shown.iter().min(), shown.iter().max()) else {
        return String::new();
    };
    let span = (high - low) as f64;
    shown
        .iter()
        .map(|&value| {
            if span == 0.0 {
                LEVELS[0]
            } else {
                let level = ((value - low) as f64 / span * 7.0).round() as usize;
                LEVELS[level.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_series_climbs_from_bottom_to_top() {
        assert_eq!(sparkline(&[0, 1, 2, 3, 4, 5, 6, 7], 8), "▁▂▃▄▅▆▇█");
    }

    #[test]
    fn only_the_last_values_fit() {
        assert_eq!(sparkline(&[100, 0, 7], 2), "▁█");
    }

    #[test]
    fn flat_and_empty_series() {
        assert_eq!(sparkline(&[5, 5, 5], 10), "▁▁▁");
        assert_eq!(sparkline(&[], 10), "");
    }
}
