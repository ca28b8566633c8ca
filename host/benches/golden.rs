//! Throughput of the golden model's hot paths: decode, encode and exact dot products.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use npe_host::golden::{decode, dot, encode, Format, OutputFormat};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_all_codes");
    for fmt in [Format::Fp8E4M3, Format::Posit8Es0] {
        g.throughput(Throughput::Elements(u64::from(fmt.code_count())));
        g.bench_function(fmt.name(), |b| {
            b.iter(|| {
                for code in 0..fmt.code_count() {
                    black_box(decode(fmt, black_box(code)).unwrap());
                }
            })
        });
    }
    g.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    // Values spread over the formats' ranges and beyond (so overflow paths are hit too).
    let xs: Vec<f64> = (0..1000)
        .map(|_| rng.gen_range(-1.0..1.0) * 2f64.powi(rng.gen_range(-12..12)))
        .collect();
    let mut g = c.benchmark_group("encode_1000_f64");
    g.throughput(Throughput::Elements(xs.len() as u64));
    for fmt in [Format::Fp4E2M1, Format::Fp8E4M3, Format::Posit16Es1] {
        g.bench_function(fmt.name(), |b| {
            b.iter(|| {
                for &x in &xs {
                    black_box(encode(fmt, black_box(x)));
                }
            })
        });
    }
    g.finish();
}

fn bench_dot(c: &mut Criterion) {
    const K: usize = 1024;
    let mut rng = StdRng::seed_from_u64(2);
    let mut g = c.benchmark_group("dot_1024_to_fp32");
    g.throughput(Throughput::Elements(K as u64));
    for fmt in [Format::Int8, Format::Fp8E4M3, Format::Posit16Es1] {
        let spec = fmt.spec();
        // Finite codes only, so the whole vector is summed.
        let codes = |rng: &mut StdRng| -> Vec<u32> {
            (0..K)
                .map(|_| loop {
                    let c = rng.gen_range(0..fmt.code_count());
                    if !decode(fmt, c).unwrap().nar {
                        break c;
                    }
                })
                .collect()
        };
        let (a, w) = (codes(&mut rng), codes(&mut rng));
        g.bench_function(spec.name, |b| {
            b.iter(|| dot(fmt, black_box(&a), fmt, black_box(&w), OutputFormat::Fp32).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench_decode, bench_encode, bench_dot);
criterion_main!(benches);
