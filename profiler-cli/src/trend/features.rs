//! What the trend rule looks at in one stack's series: the judged part,
//! the later half of its points and at least [`JUDGED_MIN_STEPS`] steps,
//! so growth early in the trace that has since stopped does not count.
//!
//! The judged part may end in a flat tail, windows whose live bytes did
//! not change at all: a target that idles or shuts down before it exits.
//! Steadiness leaves that tail out, so a leak followed by an idle tail is
//! still steady; a tail so long that fewer than two rises remain in the
//! judged part is no leak.
//!
//! When the stack's allocations per window are known, the steps since its
//! last rise in which it allocated and still did not grow are counted too:
//! memory handed out and given back as fast, a bounded cache that evicts
//! as it fills. An idle stack does not allocate, so idling never counts.
//! Growth mode knows how many of the stack's new sampled survivors took
//! over an address it held before (`session::recaptures`): the share of
//! those in the judged part is high for memory that is handed out again
//! and again, and low for a leak, whose blocks are never given back.

use super::kendall::mann_kendall;
use super::theil_sen::median_pairwise_slope;

/// The judged part holds at least this many window-to-window steps (when
/// the series has them), so a short flat tail cannot fill it.
pub const JUDGED_MIN_STEPS: usize = 3;

/// What a stack did besides its live bytes, each counted from the start of
/// tracing to the end of each window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Turnover<'a> {
    /// Its allocations.
    pub allocations: &'a [u64],
    /// Its sampled blocks alive at the end of the window they were
    /// recorded in (empty outside growth mode)...
    pub survivors: &'a [u64],
    /// ...and those at an address it held at the window before's end.
    pub recaptured: &'a [u64],
    /// Its live bytes when tracing ended, by the window they were
    /// allocated in (one entry per window; empty when not known).
    pub ages: &'a [u64],
}

/// The measurements of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Window-to-window steps in the judged part.
    pub steps: usize,
    /// How many of them rose.
    pub rises: usize,
    /// Live bytes at the start and at the end of the judged part.
    pub first: u64,
    pub last: u64,
    /// Theil–Sen slope of the judged part, in bytes per window.
    pub slope_per_window: f64,
    /// Kendall's tau of live bytes against time in the judged part, in
    /// [-1, 1].
    pub strength: f64,
    /// How unlikely that strength is by chance (the Mann–Kendall score in
    /// standard deviations).
    pub significance: f64,
    /// The share of the judged steps that rose, from the first rise (a leak
    /// may start late) to the flat tail, in [0, 1]; 0 when nothing rose.
    pub steadiness: f64,
    /// Whether memory came back: the largest fall from an earlier high in
    /// the judged part, as a share of that high, in [0, 1]. A series that
    /// ends below its maximum came back at least by that much.
    pub came_back: f64,
    /// Steps at the end of the judged part in which live bytes did not
    /// change.
    pub flat_tail: usize,
    /// Steps of the judged part after its last rise in which the stack
    /// allocated but live bytes did not rise; 0 when its allocations are
    /// not known.
    pub allocating_without_growth: usize,
    /// The share of the new survivors of the judged part that took over
    /// an address the stack held before, in [0, 1]; 0 when none is known.
    pub recaptured_share: f64,
    /// The share of its live bytes allocated in the earlier half of the
    /// windows, in [0, 1]: about a half for a leak since the start, 0 for
    /// memory that is only ever young. None when the ages are not known.
    pub older_share: Option<f64>,
}

impl Features {
    /// Measures `series`, the live bytes at the end of each window, after
    /// the implicit 0 at the start of tracing.
    pub fn of(series: &[u64]) -> Features {
        Features::with_turnover(series, Turnover::default())
    }

    /// Measures `series` knowing the stack's `turnover` in the same
    /// windows.
    pub fn with_turnover(series: &[u64], turnover: Turnover) -> Features {
        let points = from_zero(series);
        let judged_points = points.len().div_ceil(2).max(JUDGED_MIN_STEPS + 1);
        let judged_start = points.len().saturating_sub(judged_points);
        let judged = &points[judged_start..];
        let flat_tail = judged
            .windows(2)
            .rev()
            .take_while(|step| step[1] == step[0])
            .count();
        let rising: Vec<bool> = judged.windows(2).map(|step| step[1] > step[0]).collect();
        let rises = rising.iter().filter(|&&rose| rose).count();
        let steadiness = match rising.iter().position(|&rose| rose) {
            Some(first_rise) => rises as f64 / (rising.len() - flat_tail - first_rise) as f64,
            None => 0.0,
        };
        let kendall = mann_kendall(judged);
        Features {
            steps: rising.len(),
            rises,
            first: judged[0],
            last: judged[judged.len() - 1],
            slope_per_window: median_pairwise_slope(judged),
            strength: kendall.strength,
            significance: kendall.significance,
            steadiness,
            came_back: largest_fall_share(judged),
            flat_tail,
            allocating_without_growth: allocating_since_last_rise(
                judged,
                &judged_counts(turnover.allocations, judged_start),
            ),
            recaptured_share: judged_share(
                &judged_counts(turnover.recaptured, judged_start),
                &judged_counts(turnover.survivors, judged_start),
            ),
            older_share: older_share(turnover.ages),
        }
    }
}

/// The judged part of cumulative `counts`, from the implicit 0 before the
/// first window; empty when they are not known.
fn judged_counts(counts: &[u64], judged_start: usize) -> Vec<u64> {
    if counts.is_empty() {
        return Vec::new();
    }
    from_zero(counts)
        .get(judged_start..)
        .unwrap_or(&[])
        .to_vec()
}

/// `values` at the ends of the windows, after the implicit 0 at the start
/// of tracing.
fn from_zero(values: &[u64]) -> Vec<u64> {
    std::iter::once(0).chain(values.iter().copied()).collect()
}

/// What `part` added over the judged part as a share of what `whole`
/// added, 0 when `whole` added nothing.
fn judged_share(part: &[u64], whole: &[u64]) -> f64 {
    let added = |counts: &[u64]| match (counts.first(), counts.last()) {
        (Some(first), Some(last)) => last.saturating_sub(*first),
        _ => 0,
    };
    match added(whole) {
        0 => 0.0,
        whole => (added(part) as f64 / whole as f64).min(1.0),
    }
}

/// The share of `ages` (live bytes by the window they were allocated in)
/// in the earlier half of the windows; None when nothing is live.
fn older_share(ages: &[u64]) -> Option<f64> {
    let all: u64 = ages.iter().sum();
    let older: u64 = ages[..ages.len() / 2].iter().sum();
    (all > 0).then(|| older as f64 / all as f64)
}

/// The steps after the last rise of `points` in which `counts` (the
/// allocations up to each point) went up.
fn allocating_since_last_rise(points: &[u64], counts: &[u64]) -> usize {
    points
        .windows(2)
        .zip(counts.windows(2))
        .rev()
        .take_while(|(live, _)| live[1] <= live[0])
        .filter(|(_, allocated)| allocated[1] > allocated[0])
        .count()
}

/// The largest fall from an earlier high, as a share of that high.
fn largest_fall_share(points: &[u64]) -> f64 {
    let mut high = 0u64;
    let mut share: f64 = 0.0;
    for &value in points {
        high = high.max(value);
        if high > 0 {
            share = share.max((high - value) as f64 / high as f64);
        }
    }
    share
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_judged_part_is_the_later_half_and_at_least_three_steps() {
        // 0 + 10 values: 11 points, the later 6 (5 steps) are judged.
        let series: Vec<u64> = (1..=10).collect();
        let features = Features::of(&series);
        assert_eq!((features.steps, features.first, features.last), (5, 5, 10));
        // 0 + 4 values: 5 points, but at least 4 (3 steps).
        let features = Features::of(&[1, 2, 3, 4]);
        assert_eq!((features.steps, features.first), (3, 1));
        // Shorter series are judged whole, from the implicit 0.
        let features = Features::of(&[8]);
        assert_eq!((features.steps, features.first, features.last), (1, 0, 8));
        let features = Features::of(&[]);
        assert_eq!((features.steps, features.first, features.last), (0, 0, 0));
    }

    #[test]
    fn steadiness_leaves_the_flat_tail_out() {
        // Judged: [50, 60, 70, 70, 70]: 2 rises, then 2 flat steps.
        let features = Features::of(&[10, 20, 30, 40, 50, 60, 70, 70, 70]);
        assert_eq!((features.flat_tail, features.rises), (2, 2));
        assert_eq!(features.steadiness, 1.0);
        // A judged part that never changed is all tail.
        let features = Features::of(&[5, 5, 5, 5, 5, 5]);
        assert_eq!((features.flat_tail, features.steps), (3, 3));
        assert_eq!(features.steadiness, 0.0);
    }

    #[test]
    fn steadiness_counts_from_the_first_rise() {
        // Judged: [5, 5, 6, 6, 7]: from the first rise, 2 of 3 steps rose.
        let features = Features::of(&[5, 5, 5, 5, 5, 5, 6, 6, 7]);
        assert_eq!(features.rises, 2);
        assert!((features.steadiness - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(Features::of(&[9, 5, 4, 3]).steadiness, 0.0);
    }

    #[test]
    fn allocating_without_growth_counts_busy_steps_after_the_last_rise() {
        // Judged: [40, 50, 50, 50, 50] with allocations [4, 5, 6, 6, 7]:
        // after the rise to 50, two steps allocated, one idled.
        let series = [10, 20, 30, 40, 50, 50, 50, 50];
        let allocations = [1, 2, 3, 4, 5, 6, 6, 7];
        let busy = |allocations| Turnover {
            allocations,
            ..Turnover::default()
        };
        let features = Features::with_turnover(&series, busy(&allocations));
        assert_eq!(features.allocating_without_growth, 2);
        assert_eq!(Features::of(&series).allocating_without_growth, 0);
        // An idle tail allocates nothing.
        let idle = [1, 2, 3, 4, 5, 5, 5, 5];
        let features = Features::with_turnover(&series, busy(&idle));
        assert_eq!(features.allocating_without_growth, 0);
    }

    #[test]
    fn the_recaptured_share_is_taken_over_the_judged_part() {
        // 8 windows: the later 5 points (4 steps) are judged, from the end
        // of the fourth window: 40 new survivors since, 30 of them
        // recaptures.
        let series = [10, 20, 30, 40, 50, 50, 50, 50];
        let survivors = [10, 20, 30, 40, 50, 60, 70, 80];
        let recaptured = [0, 0, 0, 0, 5, 15, 25, 30];
        let turnover = Turnover {
            survivors: &survivors,
            recaptured: &recaptured,
            ..Turnover::default()
        };
        let features = Features::with_turnover(&series, turnover);
        assert_eq!(features.recaptured_share, 0.75);
        assert_eq!(Features::of(&series).recaptured_share, 0.0);
        let none_new = Turnover {
            survivors: &[10; 8],
            recaptured: &[0; 8],
            ..Turnover::default()
        };
        assert_eq!(
            Features::with_turnover(&series, none_new).recaptured_share,
            0.0
        );
    }

    #[test]
    fn the_older_share_is_what_the_earlier_half_of_the_windows_left_live() {
        let series = [10, 20, 30, 40];
        let features = |ages: &[u64]| {
            let turnover = Turnover {
                ages,
                ..Turnover::default()
            };
            Features::with_turnover(&series, turnover).older_share
        };
        assert_eq!(features(&[10, 10, 10, 10]), Some(0.5), "a steady leak");
        assert_eq!(features(&[0, 0, 0, 40]), Some(0.0), "only young memory");
        assert_eq!(features(&[0, 0, 0, 0]), None);
        assert_eq!(features(&[]), None);
        assert_eq!(Features::of(&series).older_share, None);
    }

    #[test]
    fn came_back_is_the_largest_fall_from_a_high() {
        assert_eq!(Features::of(&[10, 20, 30, 40]).came_back, 0.0);
        // Judged [40, 10, 30, 20]: fell from 40 to 10.
        assert_eq!(Features::of(&[20, 40, 10, 30, 20]).came_back, 0.75);
        assert_eq!(largest_fall_share(&[0, 0]), 0.0);
    }
}
