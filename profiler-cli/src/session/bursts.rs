//! When growth mode attaches the allocator probes, and for how long.
//!
//! A probe hit costs the target microseconds, so the probes are attached
//! only in short bursts, one per period. A burst's length follows a cost
//! budget: from the hits of the last burst the schedule estimates what
//! share of the target's time the probes take while attached, and keeps
//! that share times the duty cycle under the budget. A process that
//! allocates little can be probed for long; an allocation-heavy one for
//! a few milliseconds a second. While the process grows the budget is
//! full; while it does not, a third of it.
//!
//! A burst can last longer than planned: attaching takes a few
//! milliseconds, and where tracefs cannot share the uprobes, detaching
//! costs a kernel grace period per probe (about 85 ms here, one after the
//! other) with the probes hot meanwhile. The pause after each burst makes
//! up for it: the burst's estimated cost over the budget. A burst without
//! a single hit tells nothing of the cost, so the next is at most twice
//! as long.
//!
//! The pause between bursts varies at random around its mean, so that the
//! bursts do not lock onto a program that repeats once a period (a ticker,
//! a poll loop, rounds of requests): each burst would see the same part of
//! its cycle, and what it does in the rest would never be sampled.
//!
//! A budget of 0 plans no burst: growth mode then detects growth from page
//! faults alone.

use std::time::{Duration, Instant};

use crate::probes::growth_maps::ProbeHits;

/// Time from the start of one burst to the start of the next.
pub const PERIOD: Duration = Duration::from_secs(1);
/// Shortest burst: attaching costs about as much as this anyway.
const MIN_BURST: Duration = Duration::from_millis(5);
/// The largest share of time the probes stay attached, however cheap.
const MAX_DUTY_CYCLE: f64 = 0.5;
/// What one hit is taken to cost the target: a uprobe trap, the eBPF
/// program and, for an allocation, its return probe (or, inlined, its
/// meeting point, which counts no hit of its own) and stack walk. On an
/// instruction the kernel emulates, and on one it single-steps
/// (docs/probe-placement.md, measured with `cargo xtask probe-costs`).
const EMULATED_HIT_COST: Duration = Duration::from_micros(2);
const SINGLE_STEPPED_HIT_COST: Duration = Duration::from_micros(7);
/// The budget's share used while the process is not growing.
const IDLE_SHARE: f64 = 1.0 / 3.0;
/// The pause after a burst is its mean times a factor drawn evenly from
/// 1 ± this.
const PAUSE_JITTER: f64 = 0.5;

/// The bursts planned and done.
#[derive(Clone, Debug)]
pub struct BurstSchedule {
    budget: f64,
    /// None with a budget of 0: no burst at all.
    next_start: Option<Instant>,
    length: Duration,
    pub bursts: u64,
    pub probed: Duration,
    pub hits: u64,
    /// What the hits are estimated to have cost the target.
    pub cost: Duration,
    /// Draws the pauses' jitter.
    random: fastrand::Rng,
}

impl BurstSchedule {
    /// A schedule keeping the estimated overhead under `budget` (0.03 is
    /// 3%), whose first burst starts at `first`; a budget of 0 plans none.
    pub fn new(budget: f64, first: Instant) -> Self {
        BurstSchedule {
            budget,
            next_start: (budget > 0.0).then_some(first),
            length: Self::length_for(budget * IDLE_SHARE, 1.0),
            bursts: 0,
            probed: Duration::ZERO,
            hits: 0,
            cost: Duration::ZERO,
            random: fastrand::Rng::new(),
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        self.next_start.is_some_and(|start| now >= start)
    }

    /// When the next burst starts; None when no burst is planned.
    pub fn next_start(&self) -> Option<Instant> {
        self.next_start
    }

    /// How long the next burst lasts.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// Records a burst that ended at `end` after `probed`, with `hits`
    /// probe hits, and plans the next one.
    pub fn finished(&mut self, end: Instant, probed: Duration, hits: ProbeHits, growing: bool) {
        let cost = hit_cost(hits);
        self.bursts += 1;
        self.probed += probed;
        self.hits += hits.all;
        self.cost += cost;
        let busy = if probed.is_zero() {
            1.0
        } else {
            (cost.as_secs_f64() / probed.as_secs_f64()).min(1.0)
        };
        let budget = if growing {
            self.budget
        } else {
            self.budget * IDLE_SHARE
        };
        // A burst without a hit says nothing of what hits cost (the probes
        // may not have been there yet): the next is at most twice as long.
        let longest = if hits.all == 0 {
            probed.max(MIN_BURST) * 2
        } else {
            Duration::MAX
        };
        self.length = Self::length_for(budget, busy).min(longest);
        // A burst can outlast its plan (see the module comment): the
        // pause after it pays for what it cost.
        let jitter = 1.0 + PAUSE_JITTER * (2.0 * self.random.f64() - 1.0);
        let pause = PERIOD
            .saturating_sub(probed)
            .mul_f64(jitter)
            .max(cost.div_f64(budget).saturating_sub(probed));
        self.next_start = Some(end + pause);
    }

    /// The burst length whose cost, at `busy` of the target's time while
    /// probed, is `budget` of the period.
    fn length_for(budget: f64, busy: f64) -> Duration {
        let duty = (budget / busy.max(budget)).min(MAX_DUTY_CYCLE);
        PERIOD.mul_f64(duty).max(MIN_BURST)
    }

    /// The share of `elapsed` the probes were attached.
    pub fn duty_cycle(&self, elapsed: Duration) -> f64 {
        ratio(self.probed, elapsed)
    }

    /// The estimated share of the target's time the probes took.
    pub fn estimated_overhead(&self, elapsed: Duration) -> f64 {
        ratio(self.cost, elapsed)
    }
}

/// What `hits` are estimated to cost the target.
fn hit_cost(hits: ProbeHits) -> Duration {
    let single_stepped = hits.single_stepped.min(hits.all);
    SINGLE_STEPPED_HIT_COST.mul_f64(single_stepped as f64)
        + EMULATED_HIT_COST.mul_f64((hits.all - single_stepped) as f64)
}

/// `part` as a share of `whole`, 0 when `whole` is empty.
pub fn ratio(part: Duration, whole: Duration) -> f64 {
    if whole.is_zero() {
        0.0
    } else {
        part.as_secs_f64() / whole.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` hits on probes the kernel single-steps (7 µs each).
    fn single_stepped(n: u64) -> ProbeHits {
        ProbeHits {
            all: n,
            single_stepped: n,
        }
    }

    /// `n` hits on probes the kernel emulates (2 µs each).
    fn emulated(n: u64) -> ProbeHits {
        ProbeHits {
            all: n,
            single_stepped: 0,
        }
    }

    #[test]
    fn single_stepped_hits_cost_three_and_a_half_emulated_ones() {
        let mixed = ProbeHits {
            all: 10,
            single_stepped: 4,
        };
        assert_eq!(hit_cost(mixed), Duration::from_micros(4 * 7 + 6 * 2));
        assert_eq!(hit_cost(single_stepped(2)), hit_cost(emulated(7)));
    }

    #[test]
    fn a_busy_allocator_is_probed_for_the_budget_share_only() {
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        // 20 ms probed, every microsecond a hit: the probes take all its time.
        schedule.finished(
            start,
            Duration::from_millis(20),
            single_stepped(20_000),
            true,
        );
        assert_eq!(schedule.length(), Duration::from_millis(30));
        schedule.finished(
            start,
            Duration::from_millis(30),
            single_stepped(30_000),
            false,
        );
        assert_eq!(schedule.length(), Duration::from_millis(10));
    }

    #[test]
    fn cheaper_hits_buy_longer_bursts() {
        let start = Instant::now();
        let mut stepped = BurstSchedule::new(0.03, start);
        let mut cheap = BurstSchedule::new(0.03, start);
        // 10,000 hits in 100 ms: 70% busy single-stepped, 20% emulated.
        stepped.finished(
            start,
            Duration::from_millis(100),
            single_stepped(10_000),
            true,
        );
        cheap.finished(start, Duration::from_millis(100), emulated(10_000), true);
        assert_eq!(stepped.length(), Duration::from_secs_f64(0.03 / 0.7));
        assert_eq!(cheap.length(), Duration::from_millis(150));
    }

    #[test]
    fn a_burst_that_overran_is_paid_for_by_a_longer_pause() {
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        // The detach took 2 s with the probes hot: 900,000 hits, 1.8 s of cost.
        let end = start + Duration::from_secs(2);
        schedule.finished(end, Duration::from_secs(2), emulated(900_000), true);
        assert_eq!(schedule.next_start(), Some(end + Duration::from_secs(58)));
        let overhead = schedule.estimated_overhead(Duration::from_secs(60));
        assert!((overhead - 0.03).abs() < 1e-9, "{overhead}");
    }

    #[test]
    fn a_quiet_allocator_is_probed_longer_but_never_more_than_half_the_time() {
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        // 300 hits in 100 ms: 600 µs of 100 ms, 0.6% busy.
        schedule.finished(start, Duration::from_millis(100), emulated(300), true);
        assert_eq!(schedule.length(), Duration::from_millis(500));
        // Cost at that length: 0.5 × 0.6% = 0.3%, under the budget.
        schedule.finished(start, Duration::from_millis(500), emulated(30), true);
        assert_eq!(schedule.length(), Duration::from_millis(500));
    }

    #[test]
    fn a_burst_without_hits_buys_no_long_one() {
        // The first burst came before libc was mapped: no probe, no hit.
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        schedule.finished(start, Duration::from_micros(200), emulated(0), true);
        assert_eq!(schedule.length(), 2 * MIN_BURST);
        schedule.finished(start, 2 * MIN_BURST, emulated(0), true);
        assert_eq!(schedule.length(), 4 * MIN_BURST);
    }

    #[test]
    fn bursts_start_one_period_apart_on_average_at_every_phase() {
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        let probed = Duration::from_millis(10);
        let (mut end, mut phases, mut total) = (start, [0u32; 10], Duration::ZERO);
        for _ in 0..2000 {
            let burst_start = end;
            end += probed;
            schedule.finished(end, probed, emulated(150), true);
            let next = schedule.next_start().unwrap();
            let pause = next - end;
            assert!(
                (495..=1485).contains(&pause.as_millis()),
                "the pause is 990 ms ± half: {pause:?}"
            );
            total += next - burst_start;
            let phase = (next - start).as_secs_f64().fract();
            phases[(phase * 10.0) as usize] += 1;
            end = next;
        }
        let mean = total.as_secs_f64() / 2000.0;
        assert!((mean - 1.0).abs() < 0.03, "mean period {mean} s");
        // Within a period, the starts fall evenly: 200 per tenth, give or take.
        assert!(
            phases.iter().all(|&n| (120..=280).contains(&n)),
            "{phases:?}"
        );
    }

    #[test]
    fn the_totals_add_up() {
        let start = Instant::now();
        let mut schedule = BurstSchedule::new(0.03, start);
        assert!(schedule.due(start));
        let end = start + Duration::from_millis(10);
        schedule.finished(end, Duration::from_millis(10), emulated(15_000), true);
        assert!(!schedule.due(end));
        assert_eq!((schedule.bursts, schedule.hits), (1, 15_000));
        assert_eq!(schedule.duty_cycle(Duration::from_secs(1)), 0.01);
        let overhead = schedule.estimated_overhead(Duration::from_secs(1));
        assert!((overhead - 0.03).abs() < 1e-9, "{overhead}");
    }

    #[test]
    fn a_zero_budget_plans_no_burst() {
        let start = Instant::now();
        let schedule = BurstSchedule::new(0.0, start);
        assert!(!schedule.due(start + Duration::from_secs(3600)));
        assert_eq!(schedule.next_start(), None);
    }
}
