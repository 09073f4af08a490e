//! How consistently a series moves one way: Kendall's tau between time and
//! value, the statistic of the Mann–Kendall trend test.

/// Over every pair of points (earlier, later): the share that rose minus
/// the share that fell, in [-1, 1]. Ties count as neither, so a flat
/// series scores 0 and a strictly rising one 1 (tau-a). 0 with fewer than
/// two points.
pub fn trend_strength(points: &[u64]) -> f64 {
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
        return 0.0;
    }
    (rose as f64 - fell as f64) / pairs as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotone_series_score_one_or_minus_one() {
        assert_eq!(trend_strength(&[1, 2, 3, 4]), 1.0);
        assert_eq!(trend_strength(&[4, 3, 2, 1]), -1.0);
    }

    #[test]
    fn ties_count_as_neither() {
        assert_eq!(trend_strength(&[5, 5, 5]), 0.0);
        // 3 rises among 6 pairs.
        assert_eq!(trend_strength(&[3, 3, 3, 4]), 0.5);
    }

    #[test]
    fn too_few_points_give_zero() {
        assert_eq!(trend_strength(&[]), 0.0);
        assert_eq!(trend_strength(&[7]), 0.0);
    }
}
