//! The Theil–Sen slope: the median of the slopes between every pair of
//! points. Unlike a least-squares fit, one spike moves it little.

/// The median slope between every pair of `points`, taken at equal steps,
/// in units per step; 0 with fewer than two points.
pub fn median_pairwise_slope(points: &[u64]) -> f64 {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_its_own_slope() {
        assert_eq!(median_pairwise_slope(&[0, 3, 6, 9]), 3.0);
        assert_eq!(median_pairwise_slope(&[9, 6, 3, 0]), -3.0);
        assert_eq!(median_pairwise_slope(&[5, 5, 5]), 0.0);
    }

    #[test]
    fn one_spike_barely_moves_it() {
        assert_eq!(median_pairwise_slope(&[1, 2, 3, 100, 5]), 1.0);
        assert_eq!(median_pairwise_slope(&[7, 7, 900, 7, 7]), 0.0);
    }

    #[test]
    fn too_few_points_give_zero() {
        assert_eq!(median_pairwise_slope(&[]), 0.0);
        assert_eq!(median_pairwise_slope(&[42]), 0.0);
        assert_eq!(median_pairwise_slope(&[0, u64::MAX]), u64::MAX as f64);
    }
}
