//! Ordering stacks from most to least suspicious.

use std::cmp::Reverse;

use super::{Stack, Verdict};

/// How suspicious a verdict is; lower sorts first.
fn suspicion(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Leak => 0,
        Verdict::Growing => 1,
        Verdict::Stable => 2,
        Verdict::Churn => 3,
    }
}

/// Sorts stacks most suspicious first: leak, growing, stable, churn; within a
/// verdict by live bytes, largest first; ties by id. Takes a slice, so
/// `rank(&mut vec)` works on a `Vec<Stack>` too.
pub fn rank(stacks: &mut [Stack]) {
    stacks.sort_by(|a, b| {
        (suspicion(a.verdict), Reverse(a.live_bytes), &a.id).cmp(&(
            suspicion(b.verdict),
            Reverse(b.live_bytes),
            &b.id,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::sample_report;

    fn stack(id: &str, verdict: Verdict, live_bytes: u64) -> Stack {
        Stack {
            id: id.into(),
            verdict,
            live_bytes,
            ..sample_report().stacks[0].clone()
        }
    }

    #[test]
    fn leaks_come_first_then_by_live_bytes_then_by_id() {
        let mut stacks = vec![
            stack("0x1", Verdict::Churn, 10),
            stack("0x2", Verdict::Stable, 9_000_000),
            stack("0x3", Verdict::Leak, 5_000),
            stack("0x4", Verdict::Growing, 8_000_000),
            stack("0x5", Verdict::Leak, 7_000),
            stack("0x6", Verdict::Leak, 5_000),
        ];
        rank(&mut stacks);
        let order: Vec<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(order, ["0x5", "0x3", "0x6", "0x4", "0x2", "0x1"]);
    }
}
