//! The Verilated output unit against the golden model's rounding: edge cases of every output
//! format (powers of two, their neighbours, exact ties, overflow and underflow edges, specials)
//! and random accumulators, under a spread of power-of-two scales, streamed one per cycle.

use npe_hdl::pe::{ACC, ACC_WIDTH};
use npe_hdl::spec::OutputFormat;
use npe_host::golden::{round_to_output, Exact};
use npe_host::rtl::output::{AccIn, OutputUnit};
use npe_host::rtl::PeState;
use num_bigint::BigInt;
use rand::{rngs::StdRng, Rng, SeedableRng};

fn finite(acc: BigInt) -> AccIn {
    AccIn {
        acc,
        nan: false,
        pinf: false,
        ninf: false,
    }
}

/// The golden code for `x` scaled by 2^s.
fn golden(x: &AccIn, out: OutputFormat, s: i8) -> u32 {
    let e = PeState {
        acc: x.acc.clone(),
        nan: x.nan,
        pinf: x.pinf,
        ninf: x.ninf,
    }
    .exact();
    let e = match e {
        Exact::Finite { mant, exp } => Exact::Finite {
            mant,
            exp: exp + i64::from(s),
        },
        other => other,
    };
    round_to_output(out, &e)
}

/// Accumulators that sit on every format's edges: ±2^i, ±(2^i ± 1), and values whose bits below
/// the top `k` form exact ties (…1 followed by zeros) or ties ± 1, for every k up to 34.
fn edge_cases() -> Vec<AccIn> {
    let top = ACC_WIDTH - 2; // the largest magnitude bit a PE can reach, with room for the sign
    let mut v = vec![finite(BigInt::from(0))];
    for i in 0..=top {
        let p = BigInt::from(1) << i;
        for x in [p.clone(), &p + 1, &p - 1] {
            v.push(finite(x.clone()));
            v.push(finite(-x));
        }
    }
    for k in 1..=34usize {
        for shift in (0..=top.saturating_sub(k + 1)).step_by(3) {
            // top k bits 1…1, then a 1 (the half), then zeros: a tie; and its neighbours.
            let tie = (((BigInt::from(1) << k) - 1) << 1 | BigInt::from(1)) << shift;
            let even_tie = ((BigInt::from(1) << k) << 1 | BigInt::from(1)) << shift;
            for x in [&tie, &even_tie] {
                for d in [-1i32, 0, 1] {
                    let y: BigInt = x + BigInt::from(d);
                    v.push(finite(y.clone()));
                    v.push(finite(-y));
                }
            }
        }
    }
    for (nan, pinf, ninf) in [
        (true, false, false),
        (false, true, false),
        (false, false, true),
        (false, true, true),
    ] {
        v.push(AccIn {
            acc: BigInt::from(12345),
            nan,
            pinf,
            ninf,
        });
    }
    v
}

fn random_cases(n: usize, rng: &mut StdRng) -> Vec<AccIn> {
    (0..n)
        .map(|_| {
            let bits = rng.gen_range(1..ACC_WIDTH - 1);
            let mut x = BigInt::from(0);
            for _ in 0..bits.div_ceil(32) {
                x = (x << 32) | BigInt::from(rng.gen::<u32>());
            }
            x >>= bits.div_ceil(32) * 32 - bits;
            if rng.gen() {
                x = -x;
            }
            finite(x)
        })
        .collect()
}

#[test]
fn output_unit_matches_the_golden_rounding() {
    let n_random: usize = std::env::var("NPE_OUT_RANDOM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = StdRng::seed_from_u64(0x0u64);
    let edges = edge_cases();
    let mut unit = OutputUnit::default();
    let (mut cases, mut mismatches) = (0usize, 0usize);
    for out in OutputFormat::ALL {
        // Scales that move each format's overflow and underflow edges across the accumulator.
        for s in [-128i8, -100, -60, -20, -1, 0, 1, 7, 30, 56, 90, 127] {
            let mut inputs = edges.clone();
            inputs.extend(random_cases(n_random / 12, &mut rng));
            let got = unit.round_stream(&inputs, out, s);
            for (x, g) in inputs.iter().zip(&got) {
                let want = golden(x, out, s);
                if *g != want {
                    if mismatches < 10 {
                        eprintln!(
                            "{out} scale {s}: acc {} (nan {} +inf {} -inf {}): hw {g:#x}, golden {want:#x}",
                            x.acc, x.nan, x.pinf, x.ninf
                        );
                    }
                    mismatches += 1;
                }
            }
            cases += inputs.len();
        }
    }
    eprintln!("output unit: {cases} roundings (5 formats x 12 scales, {} edge cases each), {mismatches} mismatches; ACC lsb 2^{}", edges.len(), ACC.lsb);
    assert_eq!(mismatches, 0);
}
