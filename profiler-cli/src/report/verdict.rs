//! A first verdict rule and growth rate for one stack's live-bytes series.
//!
//! Deliberately small and replaceable: the real trend analysis comes later.
//! A series holds the live bytes at the end of consecutive windows; tracing
//! starts from nothing, so an implicit 0 comes before the first window.

use super::Verdict;

/// The trend looks at the later half of the windows, and at least this
/// many steps.
pub const TREND_MIN_STEPS: usize = 3;
/// A leak must hold at least this many bytes...
pub const MATERIAL_MIN_BYTES: u64 = 4096;
/// ...and at least this percentage of all stacks' live bytes.
pub const MATERIAL_PERCENT: u64 = 1;
/// A step down by more than this share of the last value breaks a leak:
/// leaked memory does not come back.
pub const FALL_PERCENT: u64 = 5;

/// The verdict for one stack, given its series and the live bytes of all
/// stacks together. The trend is judged over the later half of the windows
/// (at least [`TREND_MIN_STEPS`] steps, counting the step from the implicit
/// 0), so growth early in a trace that has since stopped, such as a cache
/// filling up, does not count.
///
/// - `leak`: over that part the live bytes rose (last above first, and the
///   median of the slopes between every pair of points is positive), at
///   least two steps rose, none fell by more than [`FALL_PERCENT`]% of the
///   last value, and the last value is material (at least
///   [`MATERIAL_MIN_BYTES`] and [`MATERIAL_PERCENT`]% of all).
/// - `growing`: it rose, but the rest of the leak rule does not hold.
/// - `churn`: it did not rise, and the last value is below [`MATERIAL_MIN_BYTES`].
/// - `stable`: it did not rise otherwise.
pub fn judge(series: &[u64], all_stacks_live_bytes: u64) -> Verdict {
    let points: Vec<u64> = std::iter::once(0).chain(series.iter().copied()).collect();
    let recent_points = (points.len().div_ceil(2)).max(TREND_MIN_STEPS + 1);
    let recent = &points[points.len().saturating_sub(recent_points)..];
    let (first, last) = (recent[0], recent[recent.len() - 1]);
    let rose = last > first && median_pairwise_slope(recent) > 0.0;
    let rises = recent.windows(2).filter(|step| step[1] > step[0]).count();
    let fell = recent.windows(2).any(|step| {
        step[1] < step[0]
            && u128::from(step[0] - step[1]) * 100 > u128::from(last) * u128::from(FALL_PERCENT)
    });
    let material = last >= MATERIAL_MIN_BYTES
        && u128::from(last) * 100
            >= u128::from(all_stacks_live_bytes) * u128::from(MATERIAL_PERCENT);
    if rose && rises >= 2 && !fell && material {
        Verdict::Leak
    } else if rose {
        Verdict::Growing
    } else if last < MATERIAL_MIN_BYTES {
        Verdict::Churn
    } else {
        Verdict::Stable
    }
}

/// The Theil-Sen slope: the median of the slopes between every pair of
/// points, in bytes per window. One spike moves it little.
fn median_pairwise_slope(points: &[u64]) -> f64 {
    let mut slopes = Vec::with_capacity(points.len() * points.len() / 2);
    for (i, &earlier) in points.iter().enumerate() {
        for (j, &later) in points.iter().enumerate().skip(i + 1) {
            slopes.push((later as f64 - earlier as f64) / (j - i) as f64);
        }
    }
    if slopes.is_empty() {
        return 0.0;
    }
    slopes.sort_by(f64::total_cmp);
    let middle = slopes.len() / 2;
    if slopes.len() % 2 == 1 {
        slopes[middle]
    } else {
        (slopes[middle - 1] + slopes[middle]) / 2.0
    }
}

/// The least-squares slope of live bytes over time, in bytes per minute.
///
/// The points are (0 s, 0 bytes) and then (end of window i, series[i]), with
/// windows of `window_seconds` each. Returns 0 for an empty series or a
/// window length that is not a positive number, so the result is always finite.
pub fn growth_bytes_per_min(series: &[u64], window_seconds: f64) -> f64 {
    if series.is_empty() || !(window_seconds.is_finite() && window_seconds > 0.0) {
        return 0.0;
    }
    // Fit against the window index 0..=n, then convert to time.
    let values: Vec<f64> = std::iter::once(0.0)
        .chain(series.iter().map(|&bytes| bytes as f64))
        .collect();
    let count = values.len() as f64;
    let mean_index = (count - 1.0) / 2.0;
    let mean_value = values.iter().sum::<f64>() / count;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (index, value) in values.iter().enumerate() {
        let dx = index as f64 - mean_index;
        covariance += dx * (value - mean_value);
        variance += dx * dx;
    }
    covariance / variance / window_seconds * 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;

    #[test]
    fn a_steady_leak_is_a_leak() {
        let series: Vec<u64> = (1..=10).map(|i| i * MIB).collect();
        assert_eq!(judge(&series, 20 * MIB), Verdict::Leak);
        // Two windows are enough: 0 -> 1 MiB -> 2 MiB.
        assert_eq!(judge(&[MIB, 2 * MIB], 20 * MIB), Verdict::Leak);
    }

    #[test]
    fn a_flat_series_is_stable() {
        assert_eq!(judge(&[5 * MIB; 6], 20 * MIB), Verdict::Stable);
    }

    #[test]
    fn small_values_going_up_and_down_are_churn() {
        assert_eq!(
            judge(&[1000, 3000, 200, 2500, 800], 20 * MIB),
            Verdict::Churn
        );
        assert_eq!(judge(&[0, 0, 0], 20 * MIB), Verdict::Churn);
        assert_eq!(judge(&[], 20 * MIB), Verdict::Churn);
    }

    #[test]
    fn a_single_window_is_growing_at_most() {
        assert_eq!(judge(&[8 * MIB], 10 * MIB), Verdict::Growing);
    }

    #[test]
    fn growth_that_stops_is_not_a_leak() {
        // A cache fills up in three windows, then stays full.
        let series = [MIB, 2 * MIB, 3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB];
        assert_eq!(judge(&series, 10 * MIB), Verdict::Stable);
        // Only one of the last three steps rises: growing, not yet a leak.
        let series = [3 * MIB, 3 * MIB, 3 * MIB, 4 * MIB];
        assert_eq!(judge(&series, 10 * MIB), Verdict::Growing);
    }

    #[test]
    fn a_leak_followed_by_a_short_idle_tail_is_still_a_leak() {
        // Start-up, then steady leaking, then the program idles briefly
        // before it exits: the later half still shows the leak.
        let mut series = vec![0, 0, 0, 0, 0];
        series.extend((1..=6).map(|i| i * 100 * KIB));
        series.push(600 * KIB);
        assert_eq!(judge(&series, MIB), Verdict::Leak);
    }

    #[test]
    fn one_spike_does_not_make_a_trend() {
        let series = [MIB, MIB, 9 * MIB, MIB, MIB, MIB];
        assert_ne!(judge(&series, 20 * MIB), Verdict::Leak);
        assert_eq!(median_pairwise_slope(&[1, 2, 3, 100, 5]), 1.0);
    }

    #[test]
    fn a_falling_step_breaks_the_leak() {
        let series = [MIB, 4 * MIB, 3 * MIB, 5 * MIB];
        assert_eq!(judge(&series, 10 * MIB), Verdict::Growing);
    }

    #[test]
    fn a_leak_below_the_material_share_is_growing() {
        let series: Vec<u64> = (1..=6).map(|i| i * 100).collect();
        assert_eq!(judge(&series, 600), Verdict::Growing, "below 4096 bytes");
        let series: Vec<u64> = (1..=6).map(|i| i * 10 * KIB).collect();
        assert_eq!(judge(&series, 100 * MIB), Verdict::Growing, "below 1%");
        assert_eq!(judge(&series, 6000 * KIB), Verdict::Leak, "exactly 1%");
    }

    #[test]
    fn growth_is_the_slope_in_bytes_per_minute() {
        // 1 MiB more every 10-second window: 6 MiB per minute.
        let series: Vec<u64> = (1..=5).map(|i| i * MIB).collect();
        let rate = growth_bytes_per_min(&series, 10.0);
        assert!((rate - 6.0 * MIB as f64).abs() < 1e-6, "{rate}");
        // The implicit 0 at the start counts: a flat series rose once.
        let rate = growth_bytes_per_min(&[MIB, MIB, MIB], 60.0);
        assert!(rate > 0.0 && rate < MIB as f64, "{rate}");
        // One window: the slope from 0 to its value.
        let rate = growth_bytes_per_min(&[MIB], 30.0);
        assert!((rate - 2.0 * MIB as f64).abs() < 1e-6, "{rate}");
    }

    #[test]
    fn growth_of_nothing_is_zero() {
        assert_eq!(growth_bytes_per_min(&[], 10.0), 0.0);
        assert_eq!(growth_bytes_per_min(&[MIB], 0.0), 0.0);
        assert_eq!(growth_bytes_per_min(&[MIB], f64::NAN), 0.0);
        let falling = growth_bytes_per_min(&[4 * MIB, 2 * MIB, 0], 10.0);
        assert!(falling.is_finite());
    }
}
