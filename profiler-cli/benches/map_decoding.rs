//! Decoding what the kernel's maps hold into userspace types, the part of
//! a window's close that runs after the map reads (the `bpf()` system
//! calls themselves are not timed here):
//!
//! - the per-stack counter map's entries into the totals by stack id;
//! - growth mode's readings (anonymous mappings, sampled live blocks,
//!   first-touched pages) combined into totals and evidence;
//! - one interned stack trace into its frames, the binary already loaded.

#[expect(dead_code, reason = "each benchmark uses part of the shared inputs")]
mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leakspy::probes::kernel_maps::decode_stack_counters;
use leakspy::session::StackSymbols;
use std::hint::black_box;

use common::native::{FRAMES_PER_STACK, own_maps, return_addresses, stack_of};
use common::population::Population;
use common::{STACKS, WINDOWS, growth};

fn stack_counters(c: &mut Criterion) {
    let entries = Population::new(STACKS, WINDOWS).counter_entries(WINDOWS - 1);
    let mut group = c.benchmark_group("map_decoding");
    group.throughput(Throughput::Elements(entries.len() as u64));
    group.bench_function("stack_counters_100k", |b| {
        b.iter(|| decode_stack_counters(entries.iter().map(|&entry| Ok(entry))).unwrap())
    });
    group.finish();
}

fn growth_readings(c: &mut Criterion) {
    let population = Population::new(STACKS, WINDOWS);
    let mut group = c.benchmark_group("map_decoding");
    group.throughput(Throughput::Elements(STACKS as u64));
    group.bench_function("growth_readings_100k", |b| {
        b.iter_batched(
            || growth::readings(&population),
            |readings| readings.combine(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn stack_trace(c: &mut Criterion) {
    let maps = own_maps();
    let pool = return_addresses();
    let pid = std::process::id();
    let traces: Vec<_> = (0..1_000).map(|index| stack_of(&pool, index)).collect();
    let mut symbols = StackSymbols::default();
    // Loads this binary once, as the first stack of a trace does.
    symbols.resolve(0, Some(&traces[0]), pid, &maps, None);
    let frames = symbols.frames(0);
    assert!(frames.len() >= FRAMES_PER_STACK, "{frames:?}");
    assert!(
        frames.iter().all(|frame| !frame.function.starts_with("0x")),
        "{frames:?}"
    );
    let mut group = c.benchmark_group("map_decoding");
    group.throughput(Throughput::Elements(1));
    group.bench_function("stack_trace_8_native_frames", |b| {
        let mut next = 0;
        b.iter(|| {
            let id = next as u64;
            symbols.resolve(id, Some(&traces[next]), pid, &maps, None);
            next = (next + 1) % traces.len();
            black_box(id)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = stack_counters, growth_readings, stack_trace
}
criterion_main!(benches);
