//! The verdict and its confidence, from the measurements of one stack's
//! judged part (docs/report-schema.md, "Verdicts").

use super::features::Features;
use crate::report::Verdict;

/// Kendall's tau the judged part needs to count as growing: at least three
/// rising pairs for every falling one.
pub const TREND_MIN_STRENGTH: f64 = 0.5;
/// A leak's strength must be this unlikely by chance (Mann–Kendall score,
/// in standard deviations), so short noisy series are not called leaks;
/// two steady windows after the implicit 0 just reach it.
pub const LEAK_MIN_SIGNIFICANCE: f64 = 1.5;
/// A leak rose in at least this many steps of the judged part (growth
/// must go on into the later half of the trace)...
pub const LEAK_MIN_RISES: usize = 2;
/// ...in at least this share of the steps from the first rise on.
pub const LEAK_MIN_STEADINESS: f64 = 0.5;
/// Leaked memory does not come back: no fall from an earlier high by more
/// than this share of it.
pub const LEAK_MAX_CAME_BACK: f64 = 0.05;
/// A stack that allocated in this many steps since its last rise without
/// growing has levelled off, as a full cache that evicts does: no leak.
pub const LEVELLED_OFF_STEPS: usize = 2;
/// A stack whose new survivors took over addresses it held before at least
/// this often hands the same memory out again: no leak.
pub const RECAPTURED_MAX_SHARE: f64 = 0.5;
/// A leak must hold at least this many bytes...
pub const MATERIAL_MIN_BYTES: u64 = 4096;
/// ...and at least this percentage of all stacks' live bytes.
pub const MATERIAL_PERCENT: u64 = 1;

/// The verdict for measurements `f` of a stack, given the live bytes of
/// all stacks together, with its confidence in [0, 1].
///
/// - `leak`: the judged part rose (last above first, positive Theil–Sen
///   slope) with strength at least
///   [`TREND_MIN_STRENGTH`] and significance at least
///   [`LEAK_MIN_SIGNIFICANCE`]; at least [`LEAK_MIN_RISES`] steps rose, and
///   at least [`LEAK_MIN_STEADINESS`] of those from the first rise on; it
///   never came back by more than [`LEAK_MAX_CAME_BACK`]; it did not level
///   off (allocate in [`LEVELLED_OFF_STEPS`] steps since its last rise
///   without growing); fewer than [`RECAPTURED_MAX_SHARE`] of its new
///   survivors took over an address it held; and the last value is
///   material (at least
///   [`MATERIAL_MIN_BYTES`] and [`MATERIAL_PERCENT`]% of all).
/// - `growing`: it rose with that strength, but the rest does not hold.
/// - `churn`: it did not, and the last value is below [`MATERIAL_MIN_BYTES`].
/// - `stable`: it did not otherwise.
///
/// The confidence is the product of the evidence for the verdict and
/// `1 - 2^(-steps/2)`, which grows with the steps judged: 0 with none, 0.5
/// with two, 0.97 with ten. The evidence is, for `leak`,
/// strength × steadiness × (1 - came back) × the age factor; for
/// `growing`, the strength; for `stable` and `churn`, 1 - the strength (or
/// 1 when it fell). The age factor, when the ages of live memory are
/// known, is 0.5 + the share of it allocated in the earlier half of the
/// windows, at most 1: a leak since the start keeps about half, memory
/// only ever young may be a cache still filling. It is 1 otherwise.
pub fn judge(f: &Features, all_stacks_live_bytes: u64) -> (Verdict, f64) {
    let rose = f.last > f.first && f.slope_per_window > 0.0;
    let trending = rose && f.strength >= TREND_MIN_STRENGTH;
    let significant = f.significance >= LEAK_MIN_SIGNIFICANCE;
    let steady = f.rises >= LEAK_MIN_RISES && f.steadiness >= LEAK_MIN_STEADINESS;
    let kept = f.came_back <= LEAK_MAX_CAME_BACK
        && f.allocating_without_growth < LEVELLED_OFF_STEPS
        && f.recaptured_share < RECAPTURED_MAX_SHARE;
    let material = f.last >= MATERIAL_MIN_BYTES
        && u128::from(f.last) * 100
            >= u128::from(all_stacks_live_bytes) * u128::from(MATERIAL_PERCENT);
    let strength = f.strength.clamp(0.0, 1.0);
    let not_growing = if f.last < MATERIAL_MIN_BYTES {
        Verdict::Churn
    } else {
        Verdict::Stable
    };
    let (verdict, evidence) = if trending && significant && steady && kept && material {
        let evidence = strength * f.steadiness * (1.0 - f.came_back) * age_factor(f.older_share);
        (Verdict::Leak, evidence)
    } else if trending {
        (Verdict::Growing, strength)
    } else {
        (not_growing, 1.0 - strength)
    };
    let confidence = evidence * (1.0 - 0.5f64.powf(f.steps as f64 / 2.0));
    let confidence = if confidence.is_finite() {
        confidence.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (verdict, confidence)
}

/// How much the age of live memory backs a leak (see [`judge`]).
fn age_factor(older_share: Option<f64>) -> f64 {
    older_share.map_or(1.0, |older| (0.5 + older).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clean leak of ten steps: every condition holds.
    fn leak() -> Features {
        Features {
            steps: 10,
            rises: 10,
            first: 1 << 20,
            last: 11 << 20,
            slope_per_window: (1 << 20) as f64,
            strength: 1.0,
            significance: 5.0,
            steadiness: 1.0,
            came_back: 0.0,
            flat_tail: 0,
            allocating_without_growth: 0,
            recaptured_share: 0.0,
            older_share: None,
        }
    }

    #[test]
    fn each_condition_can_break_a_leak() {
        let all = 20 << 20;
        assert_eq!(judge(&leak(), all).0, Verdict::Leak);
        let weak = Features {
            strength: 0.4,
            ..leak()
        };
        assert_eq!(judge(&weak, all).0, Verdict::Stable, "too weak to grow");
        let broken = [
            Features {
                significance: 1.4,
                ..leak()
            },
            Features { rises: 1, ..leak() },
            Features {
                steadiness: 0.4,
                ..leak()
            },
            Features {
                came_back: 0.06,
                ..leak()
            },
            Features {
                allocating_without_growth: 2,
                ..leak()
            },
            Features {
                recaptured_share: 0.5,
                ..leak()
            },
        ];
        for features in broken {
            assert_eq!(judge(&features, all).0, Verdict::Growing, "{features:?}");
        }
        assert_eq!(judge(&leak(), 2000 << 20).0, Verdict::Growing, "below 1%");
        let small = Features {
            first: 100,
            last: 4000,
            ..leak()
        };
        assert_eq!(judge(&small, 4000).0, Verdict::Growing, "below 4096 bytes");
    }

    #[test]
    fn young_live_memory_halves_a_leaks_confidence() {
        let all = 20 << 20;
        let with_ages = |older_share| {
            judge(
                &Features {
                    older_share,
                    ..leak()
                },
                all,
            )
        };
        let (verdict, unknown) = with_ages(None);
        assert_eq!(verdict, Verdict::Leak);
        assert_eq!(with_ages(Some(0.5)).1, unknown, "a leak since the start");
        assert_eq!(with_ages(Some(0.9)).1, unknown);
        let (verdict, young) = with_ages(Some(0.0));
        assert_eq!(
            verdict,
            Verdict::Leak,
            "the age weighs on the confidence only"
        );
        assert!((young - unknown / 2.0).abs() < 1e-12, "{young} {unknown}");
    }

    #[test]
    fn confidence_grows_with_the_steps_and_stays_in_range() {
        let all = 20 << 20;
        let few = judge(
            &Features {
                steps: 2,
                rises: 2,
                ..leak()
            },
            all,
        )
        .1;
        let many = judge(&leak(), all).1;
        assert!((few - 0.5).abs() < 1e-12, "{few}");
        assert!(many > 0.95 && many <= 1.0, "{many}");
        let nothing = Features {
            steps: 0,
            rises: 0,
            first: 0,
            last: 0,
            slope_per_window: 0.0,
            strength: 0.0,
            significance: 0.0,
            steadiness: 0.0,
            came_back: 0.0,
            flat_tail: 0,
            allocating_without_growth: 0,
            recaptured_share: 0.0,
            older_share: None,
        };
        assert_eq!(judge(&nothing, 0), (Verdict::Churn, 0.0));
        let broken = Features {
            strength: f64::NAN,
            ..leak()
        };
        let confidence = judge(&broken, all).1;
        assert!((0.0..=1.0).contains(&confidence), "{confidence}");
    }
}
