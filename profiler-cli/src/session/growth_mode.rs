//! Growth mode's state during a trace: the always-on tracepoints, the
//! burst schedule of the allocator probes, and the activity seen per
//! window.

use std::time::Duration;

use aya::Ebpf;
use profiler_common::{ActivityCounter, sampled_pages_bytes};

use crate::error::Error;
use crate::probes::growth_maps::{self, Activity};
use crate::probes::growth_tracepoints::{self, AttachedTracepoints};
use crate::process::maps::MemoryMap;
use crate::report::{GrowthSummary, WindowGrowth};
use crate::session::bursts::{BurstSchedule, ratio};
use crate::session::freed_blocks::FreedBlocks;
use crate::session::growth_totals::ChunkHeaders;
use crate::session::recaptures::Recaptures;

/// Growth mode's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrowthSettings {
    /// The cap on the estimated overhead of the bursts (0.03 is 3%).
    pub overhead_budget: f64,
    /// See `profiler_common::SampleSettings`.
    pub sample_period_bytes: u64,
}

/// One traced process in growth mode.
pub struct GrowthMode {
    settings: GrowthSettings,
    tracepoints: Option<AttachedTracepoints>,
    pub schedule: BurstSchedule,
    /// The counters when the last window closed, and the burst time then.
    at_window_start: Activity,
    probed_at_window_start: Duration,
    /// Whether the last window gained more pages than it gave back, or
    /// ended with more anonymous memory resident than it began with.
    growing: bool,
    /// The target's anonymous RSS when the last window closed.
    anon_rss_at_window_start: u64,
    /// glibc's chunk headers of the mappings seen, read once each.
    pub chunk_headers: ChunkHeaders,
    /// The sampled blocks recorded at the last window's end.
    pub recaptures: Recaptures,
}

impl GrowthMode {
    /// Points the kernel side at `pid` and attaches the tracepoints.
    pub fn start(
        ebpf: &mut Ebpf,
        pid: u32,
        maps: &[MemoryMap],
        settings: GrowthSettings,
    ) -> Result<Self, Error> {
        growth_maps::set_sample_period(ebpf, settings.sample_period_bytes)?;
        if let Some(heap) = maps.iter().find(|map| map.pathname == "[heap]") {
            growth_maps::seed_program_break(ebpf, pid, heap.end)?;
        }
        growth_maps::set_traced_process(ebpf, pid)?;
        let tracepoints = growth_tracepoints::attach(ebpf)?;
        Ok(GrowthMode {
            settings,
            tracepoints: Some(tracepoints),
            schedule: BurstSchedule::new(settings.overhead_budget, std::time::Instant::now()),
            at_window_start: growth_maps::activity(ebpf)?,
            probed_at_window_start: Duration::ZERO,
            growing: false,
            anon_rss_at_window_start: 0,
            chunk_headers: ChunkHeaders::default(),
            recaptures: Recaptures::default(),
        })
    }

    /// Detaches the tracepoints.
    pub fn stop(&mut self, ebpf: &mut Ebpf) {
        if let Some(tracepoints) = self.tracepoints.take() {
            growth_tracepoints::detach(ebpf, tracepoints);
        }
        if let Err(error) = growth_maps::set_traced_process(ebpf, 0) {
            log::warn!("{error}");
        }
    }

    pub fn growing(&self) -> bool {
        self.growing
    }

    /// What the window that ends now saw, `length` long, with `anon_rss`
    /// the target's anonymous RSS now. The followed pages are one in 16: a
    /// slow leak may fault none of them in a window, and the RSS, exact if
    /// coarse, still shows it growing.
    pub fn close_window(
        &mut self,
        ebpf: &Ebpf,
        length: Duration,
        anon_rss: u64,
    ) -> Result<WindowGrowth, Error> {
        let now = growth_maps::activity(ebpf)?;
        let delta = |counter| {
            now.get(counter)
                .saturating_sub(self.at_window_start.get(counter))
        };
        let faulted = sampled_pages_bytes(delta(ActivityCounter::FaultedPages));
        let released = sampled_pages_bytes(delta(ActivityCounter::ReleasedPages));
        let rss_grew =
            self.anon_rss_at_window_start != 0 && anon_rss > self.anon_rss_at_window_start;
        self.growing = faulted > released || rss_grew;
        self.anon_rss_at_window_start = anon_rss;
        let probed = self
            .schedule
            .probed
            .saturating_sub(self.probed_at_window_start);
        self.at_window_start = now;
        self.probed_at_window_start = self.schedule.probed;
        Ok(WindowGrowth {
            faulted_bytes: faulted,
            released_bytes: released,
            duty_cycle: ratio(probed, length),
        })
    }

    /// The report's summary over a trace of `elapsed`.
    pub fn summary(
        &self,
        activity: &Activity,
        elapsed: Duration,
        freed: &FreedBlocks,
    ) -> GrowthSummary {
        GrowthSummary {
            sample_period_bytes: self.settings.sample_period_bytes,
            overhead_budget: self.settings.overhead_budget,
            bursts: self.schedule.bursts,
            duty_cycle: self.schedule.duty_cycle(elapsed),
            estimated_overhead: self.schedule.estimated_overhead(elapsed),
            allocator_hits: activity.get(ActivityCounter::AllocatorHits),
            samples: activity.get(ActivityCounter::Samples),
            samples_freed: activity.get(ActivityCounter::SamplesFreed),
            samples_reused: activity.get(ActivityCounter::SamplesReused),
            samples_gone_from_memory: freed.total(),
            faulted_bytes: sampled_pages_bytes(activity.get(ActivityCounter::FaultedPages)),
            released_bytes: sampled_pages_bytes(activity.get(ActivityCounter::ReleasedPages)),
        }
    }
}

/// The report's note on what growth mode did and what it cost.
pub fn describe(growth: &GrowthSummary) -> String {
    if growth.overhead_budget == 0.0 {
        return "growth mode with a budget of 0: growth was detected from page faults alone, and no allocation was sampled".into();
    }
    format!(
        "growth mode: the allocator was probed {:.1}% of the time in {} bursts, at an estimated cost of {:.2}% (budget {:.1}%); blocks under {} bytes were sampled",
        growth.duty_cycle * 100.0,
        growth.bursts,
        growth.estimated_overhead * 100.0,
        growth.overhead_budget * 100.0,
        growth.sample_period_bytes
    )
}
