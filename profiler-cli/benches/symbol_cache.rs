//! Symbolization when the work is already done: the lookups every window
//! and every report make for frames resolved before.
//!
//! - `StackSymbols::enqueue` of 100 k stack ids all symbolized already
//!   (each window queues every id in the counter map);
//! - `StackSymbols::frames` of those stacks (the report takes each
//!   stack's frames);
//! - `Symbolizer::symbolize` of an address in a binary already loaded
//!   (the binary cache hit behind every new native frame);
//! - `CodeObjects::frame_in` of a frame in a code object already read in
//!   this pass (every Python frame of a new stack): a hash lookup, the
//!   line-table walk and the names' copies.

#[expect(dead_code, reason = "each benchmark uses part of the shared inputs")]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakspy::frame::FrameKind;
use leakspy::python::code_objects::CodeObjects;
use leakspy::session::StackSymbols;
use leakspy::symbolize::Symbolizer;
use std::hint::black_box;

use common::STACKS;
use common::native::{own_maps, return_addresses, stack_of};
use common::python::fake_python;

fn stack_symbols(c: &mut Criterion) {
    let maps = own_maps();
    let pool = return_addresses();
    let pid = std::process::id();
    let ids: Vec<u64> = (0..STACKS as u64).map(common::mix).collect();
    let mut symbols = StackSymbols::default();
    for (index, &id) in ids.iter().enumerate() {
        let trace = stack_of(&pool, index as u64);
        symbols.resolve(id, Some(&trace), pid, &maps, None);
    }

    let mut group = c.benchmark_group("symbol_cache");
    group.sample_size(20);
    group.throughput(Throughput::Elements(STACKS as u64));
    group.bench_function("enqueue_100k_known_stacks", |b| {
        b.iter(|| symbols.enqueue(black_box(&ids)))
    });
    group.bench_function("frames_100k_stacks", |b| {
        b.iter(|| {
            ids.iter()
                .map(|&id| symbols.frames(id).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

fn warm_binary(c: &mut Criterion) {
    let maps = own_maps();
    let addresses = return_addresses();
    let pid = std::process::id();
    let mut symbolizer = Symbolizer::new();
    let first = symbolizer.symbolize(pid, &maps, addresses[0], true);
    assert!(!first[0].function.starts_with("0x"), "{first:?}");

    let mut group = c.benchmark_group("symbol_cache");
    group.throughput(Throughput::Elements(addresses.len() as u64));
    group.bench_function("symbolize_16_addresses_loaded_binary", |b| {
        b.iter(|| {
            addresses
                .iter()
                .map(|&address| symbolizer.symbolize(pid, &maps, address, true).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

fn code_objects(c: &mut Criterion) {
    let python = fake_python(100, 4);
    let mut code_objects = CodeObjects::default();
    code_objects.start_pass();
    for &frame in &python.frames {
        let named = code_objects.frame_in(&python.memory, &python.layout, frame);
        assert!(
            named.kind == FrameKind::Python && named.line.is_some(),
            "{named:?}"
        );
    }

    let mut group = c.benchmark_group("symbol_cache");
    group.throughput(Throughput::Elements(python.frames.len() as u64));
    let name = format!("python_frames_{}_cached", python.frames.len());
    group.bench_function(name, |b| {
        b.iter(|| {
            python
                .frames
                .iter()
                .map(|&frame| code_objects.frame_in(&python.memory, &python.layout, frame))
                .filter(|frame| frame.line.is_some())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, stack_symbols, warm_binary, code_objects);
criterion_main!(benches);
