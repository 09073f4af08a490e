//! Closing a window: `WindowRecorder::close_window` over 100 k stacks,
//! each stack's totals joining its series, at the 60th window of a trace.
//!
//! Each iteration starts from a recorder that has closed 58 windows and
//! closes the 59th untimed, so that series have the spare capacity a long
//! trace gives them; only the 60th close is timed. Precise mode hands over
//! the totals alone; growth mode adds its evidence (first-touched pages for
//! a third of the stacks, glibc's large blocks for one in a hundred).

#[expect(dead_code, reason = "each benchmark uses part of the shared inputs")]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use leakspy::report::Window;
use leakspy::session::{GrowthEvidence, WindowRecorder};
use profiler_common::StackCounters;

use common::population::Population;
use common::{STACKS, WINDOW_SECONDS, WINDOWS, growth};

/// Window `index` of the trace.
fn window(index: usize) -> Window {
    Window {
        start: index as f64 * WINDOW_SECONDS,
        end: (index + 1) as f64 * WINDOW_SECONDS,
        rss_bytes: 2 << 30,
        anon_rss_bytes: 3 << 29,
        threads: 8,
        gc: None,
        growth: None,
    }
}

/// What the trace loop hands the recorder at the end of one window.
struct WindowInput {
    totals: HashMap<u64, StackCounters>,
    evidence: Option<GrowthEvidence>,
}

impl WindowInput {
    fn at(population: &Population, index: usize, growth_mode: bool) -> WindowInput {
        WindowInput {
            totals: population.totals(index),
            evidence: growth_mode.then(|| growth::evidence(population, index)),
        }
    }

    fn close(&self, recorder: &mut WindowRecorder, index: usize) {
        recorder.close_window(window(index), self.totals.clone(), self.evidence.as_ref());
    }
}

fn close_window(c: &mut Criterion, name: &str, growth_mode: bool) {
    let population = Population::new(STACKS, WINDOWS);
    let mut recorder = WindowRecorder::default();
    for index in 0..WINDOWS - 2 {
        WindowInput::at(&population, index, growth_mode).close(&mut recorder, index);
    }
    let second_last = WindowInput::at(&population, WINDOWS - 2, growth_mode);
    let last = WindowInput::at(&population, WINDOWS - 1, growth_mode);
    assert_eq!(
        last.totals.len(),
        STACKS,
        "every stack allocated by the end"
    );

    let mut group = c.benchmark_group("window_aggregation");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(STACKS as u64));
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                let mut trace = recorder.clone();
                second_last.close(&mut trace, WINDOWS - 2);
                let totals = last.totals.clone();
                let started = Instant::now();
                trace.close_window(window(WINDOWS - 1), totals, last.evidence.as_ref());
                timed += started.elapsed();
            }
            timed
        })
    });
    group.finish();
}

fn precise(c: &mut Criterion) {
    close_window(c, "close_window_precise_100k", false);
}

fn growth_mode(c: &mut Criterion) {
    close_window(c, "close_window_growth_100k", true);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = precise, growth_mode
}
criterion_main!(benches);
