//! Trend analysis: `trend::analyze` (Theil–Sen slope, Mann–Kendall
//! strength, the verdict rule) over every stack of a 60-window trace, as
//! the report does once per report; and over one stack of each shape, to
//! show what one verdict costs.

#[expect(dead_code, reason = "each benchmark uses part of the shared inputs")]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakspy::report::Verdict;
use leakspy::trend::analyze;
use std::hint::black_box;

use common::population::{Population, Shape};
use common::{STACKS, WINDOW_SECONDS, WINDOWS};

fn all_stacks(c: &mut Criterion) {
    let population = Population::new(STACKS, WINDOWS);
    let all_live = population.live_bytes();
    let leaks = population
        .stacks
        .iter()
        .filter(|stack| analyze(&stack.series, WINDOW_SECONDS, all_live).verdict == Verdict::Leak)
        .count();
    assert!(leaks > 0, "the population holds leaks the rule calls leaks");

    let mut group = c.benchmark_group("trend");
    group.sample_size(10);
    group.throughput(Throughput::Elements(STACKS as u64));
    group.bench_function("analyze_100k_stacks_60_windows", |b| {
        b.iter(|| {
            population
                .stacks
                .iter()
                .map(|stack| analyze(&stack.series, WINDOW_SECONDS, all_live).confidence)
                .sum::<f64>()
        })
    });
    group.finish();
}

fn one_stack(c: &mut Criterion) {
    let population = Population::new(STACKS, WINDOWS);
    let all_live = population.live_bytes();
    let mut group = c.benchmark_group("trend");
    group.throughput(Throughput::Elements(1));
    for shape in [Shape::Leak, Shape::CacheFill, Shape::Stable, Shape::Churn] {
        let stack = population
            .stacks
            .iter()
            .find(|stack| stack.shape == shape && stack.first_window == 0)
            .expect("every shape is in the population");
        let name = format!("analyze_one_stack_{shape:?}").to_lowercase();
        group.bench_function(name, |b| {
            b.iter(|| analyze(black_box(&stack.series), WINDOW_SECONDS, all_live))
        });
    }
    group.finish();
}

criterion_group!(benches, all_stacks, one_stack);
criterion_main!(benches);
