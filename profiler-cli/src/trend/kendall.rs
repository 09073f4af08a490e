//! How consistently a series moves one way, and whether that could be
//! chance: the Mann–Kendall trend test (Kendall's tau between time and
//! value).

/// The Mann–Kendall statistics of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannKendall {
    /// Over every pair of points (earlier, later): the share that rose
    /// minus the share that fell, in [-1, 1] (Kendall's tau-a). Ties count
    /// as neither, so a flat series scores 0 and a strictly rising one 1.
    pub strength: f64,
    /// The rises minus the falls in standard deviations of that count for
    /// a series in random order, without the correction for ties (which
    /// would only raise it): about 1.64 or more happens by chance once in
    /// twenty.
    pub significance: f64,
}

/// The statistics of `points`; both 0 with fewer than two points.
pub fn mann_kendall(points: &[u64]) -> MannKendall {
    let (mut rose, mut fell, mut pairs) = (0u64, 0u64, 0u64);
    for (i, &earlier) in points.iter().enumerate() {
        for &later in &points[i + 1..] {
            pairs += 1;
            match later.cmp(&earlier) {
                std::cmp::Ordering::Greater => rose += 1,
                std::cmp::Ordering::Less => fell += 1,
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    if pairs == 0 {
        return MannKendall {
            strength: 0.0,
            significance: 0.0,
        };
    }
    let score = rose as f64 - fell as f64;
    let n = points.len() as f64;
    let variance = n * (n - 1.0) * (2.0 * n + 5.0) / 18.0;
    MannKendall {
        strength: score / pairs as f64,
        significance: score / variance.sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strength(points: &[u64]) -> f64 {
        mann_kendall(points).strength
    }

    #[test]
    fn monotone_series_score_one_or_minus_one() {
        assert_eq!(strength(&[1, 2, 3, 4]), 1.0);
        assert_eq!(strength(&[4, 3, 2, 1]), -1.0);
    }

    #[test]
    fn ties_count_as_neither() {
        assert_eq!(strength(&[5, 5, 5]), 0.0);
        // 3 rises among 6 pairs.
        assert_eq!(strength(&[3, 3, 3, 4]), 0.5);
    }

    #[test]
    fn significance_grows_with_the_points() {
        // Three rising points: 3 / sqrt(3 * 2 * 11 / 18).
        let three = mann_kendall(&[0, 1, 2]).significance;
        assert!((three - 1.5667).abs() < 1e-4, "{three}");
        let ten: Vec<u64> = (0..10).collect();
        assert!(mann_kendall(&ten).significance > 3.0);
        assert_eq!(mann_kendall(&[5, 5, 5, 5]).significance, 0.0);
    }

    #[test]
    fn too_few_points_give_zero() {
        assert_eq!(mann_kendall(&[]).strength, 0.0);
        assert_eq!(mann_kendall(&[7]).significance, 0.0);
    }
}
