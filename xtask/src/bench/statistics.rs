//! The statistics the benchmark tables show: medians of repeated runs, and
//! ratios to the uninstrumented run, formatted for people.

/// The median of `values`: the middle one, or the mean of the two middle
/// ones for an even count; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// The spread of `values` around their median: (max − min) / median, so
/// 0.04 means the runs lay within 4% of each other.
pub fn spread(values: &[f64]) -> Option<f64> {
    let median = median(values)?;
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (median > 0.0).then(|| (max - min) / median)
}

/// `value / baseline`, when the baseline is positive.
pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0).then(|| value / baseline)
}

/// A ratio as people read it: "1.03×", "12.5×", "104×".
pub fn format_ratio(ratio: f64) -> String {
    if ratio < 10.0 {
        format!("{ratio:.2}×")
    } else if ratio < 100.0 {
        format!("{ratio:.1}×")
    } else {
        format!("{ratio:.0}×")
    }
}

/// Seconds with three significant figures or more: "0.412 s", "35.1 s".
pub fn format_seconds(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.3} s")
    } else {
        format!("{seconds:.1} s")
    }
}

/// A size in the unit that suits it: "812 B", "42.5 KiB", "110.1 MiB".
pub fn format_size(bytes: f64) -> String {
    if bytes < 1024.0 {
        format!("{bytes:.0} B")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else if bytes < 1024.0 * 1024.0 * 1024.0 {
        format_mib(bytes)
    } else {
        format!("{:.2} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Bytes in MiB, one decimal: "14.2 MiB".
pub fn format_mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[1.0, 100.0, 2.0, 2.0, 3.0]), Some(2.0));
    }

    #[test]
    fn spread_is_the_range_over_the_median() {
        assert_eq!(spread(&[]), None);
        assert_eq!(spread(&[2.0, 2.0]), Some(0.0));
        let spread = spread(&[0.9, 1.0, 1.1]).unwrap();
        assert!((spread - 0.2).abs() < 1e-9, "{spread}");
    }

    #[test]
    fn ratios_need_a_positive_baseline() {
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
    }

    #[test]
    fn formats_ratios_seconds_and_sizes() {
        assert_eq!(format_ratio(1.0349), "1.03×");
        assert_eq!(format_ratio(7.24), "7.24×");
        assert_eq!(format_ratio(12.46), "12.5×");
        assert_eq!(format_ratio(104.4), "104×");
        assert_eq!(format_seconds(0.41234), "0.412 s");
        assert_eq!(format_seconds(35.08), "35.1 s");
        assert_eq!(format_mib(14.26 * 1024.0 * 1024.0), "14.3 MiB");
        assert_eq!(format_size(812.0), "812 B");
        assert_eq!(format_size(42.5 * 1024.0), "42.5 KiB");
        assert_eq!(format_size(2.5 * 1024.0 * 1024.0 * 1024.0), "2.50 GiB");
    }
}
