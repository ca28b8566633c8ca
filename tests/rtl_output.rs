//! The Verilated output units against the golden model's rounding: edge cases of every output
//! format (powers of two, their neighbours, exact ties, overflow and underflow edges, specials)
//! and random accumulators, under a spread of power-of-two scales, streamed one per cycle. Each
//! output-unit top is checked with the accumulator it is built for: the shared PE's
//! (`output_unit`) and the LE8 formats' (`output_unit_le8`).

use npe_hdl::emit::{LE8_ACC, OUTPUT_UNIT_LE8_TOP, OUTPUT_UNIT_TOP, OUTPUT_UNIT_TOPS};
use npe_hdl::spec::{Accumulator, OutputFormat};
use npe_host::golden::{round_to_output, Exact};
use npe_host::rtl::output::{AccIn, OutputUnit};
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

/// The golden code for `x` (an accumulator of geometry `acc`) scaled by 2^s.
fn golden(x: &AccIn, acc: Accumulator, out: OutputFormat, s: i8) -> u32 {
    let e = match x.exact(acc) {
        Exact::Finite { mant, exp } => Exact::Finite {
            mant,
            exp: exp + i64::from(s),
        },
        other => other,
    };
    round_to_output(out, &e)
}

/// Accumulators of `width` bits that sit on every format's edges: ±2^i, ±(2^i ± 1), the most
/// negative value, and values whose bits below the top `k` form exact ties (…1 followed by
/// zeros) or ties ± 1, for every k up to 34 (or as far as the width allows).
fn edge_cases(width: usize) -> Vec<AccIn> {
    let top = width - 2; // the largest magnitude bit of a positive value, with room for the sign
    let mut v = vec![finite(BigInt::from(0)), finite(-(BigInt::from(1) << (width - 1)))];
    for i in 0..=top {
        let p = BigInt::from(1) << i;
        for x in [p.clone(), &p + 1, &p - 1] {
            v.push(finite(x.clone()));
            v.push(finite(-x));
        }
    }
    for k in 1..=34usize.min(top - 1) {
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
        // The finite part beside a special is ignored, whatever it is: zero, small, or beyond
        // every format's range with either sign.
        let huge = BigInt::from(1) << (width - 2);
        for acc in [
            BigInt::from(12345),
            BigInt::from(0),
            BigInt::from(-1),
            huge.clone(),
            -huge,
        ] {
            v.push(AccIn { acc, nan, pinf, ninf });
        }
    }
    v
}

/// `n` random accumulators of `width` bits: a random bit length, random bits, a random sign.
fn random_cases(n: usize, width: usize, rng: &mut StdRng) -> Vec<AccIn> {
    (0..n)
        .map(|_| {
            let bits = rng.gen_range(1..width - 1);
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

/// Rounds the edge cases and `NPE_OUT_RANDOM` (default 20 000) random accumulators of `acc`'s
/// width on output-unit top `name`, in every format under every scale, against the golden model.
fn matches_the_golden_rounding(name: &str, acc: Accumulator) {
    let n_random: usize = std::env::var("NPE_OUT_RANDOM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    assert!(
        OUTPUT_UNIT_TOPS.contains(&(name, acc)),
        "{name} is not built for {acc:?}"
    );
    let top = npe_sim::tops::by_name(name).unwrap_or_else(|| panic!("no top {name}"));
    let width = acc.width as usize;
    let mut rng = StdRng::seed_from_u64(0x0u64);
    let edges = edge_cases(width);
    let mut unit = OutputUnit::new(top, acc);
    let (mut cases, mut mismatches) = (0usize, 0usize);
    for out in OutputFormat::ALL {
        // Scales that move each format's overflow and underflow edges across the accumulator.
        for s in [-128i8, -100, -60, -20, -1, 0, 1, 7, 30, 56, 90, 127] {
            let mut inputs = edges.clone();
            inputs.extend(random_cases(n_random / 12, width, &mut rng));
            let got = unit.round_stream(&inputs, out, s);
            for (x, g) in inputs.iter().zip(&got) {
                let want = golden(x, acc, out, s);
                if *g != want {
                    if mismatches < 10 {
                        eprintln!(
                            "{name}: {out} scale {s}: acc {} (nan {} +inf {} -inf {}): hw {g:#x}, golden {want:#x}",
                            x.acc, x.nan, x.pinf, x.ninf
                        );
                    }
                    mismatches += 1;
                }
            }
            cases += inputs.len();
        }
    }
    eprintln!(
        "{name}: {cases} roundings (5 formats x 12 scales, {} edge cases each), {mismatches} mismatches; \
         accumulator {width} bits, lsb 2^{}",
        edges.len(),
        acc.lsb
    );
    assert_eq!(mismatches, 0);
}

#[test]
fn output_unit_matches_the_golden_rounding() {
    matches_the_golden_rounding(OUTPUT_UNIT_TOP, npe_hdl::pe::ACC);
}

#[test]
fn output_unit_le8_matches_the_golden_rounding() {
    matches_the_golden_rounding(OUTPUT_UNIT_LE8_TOP, LE8_ACC);
}
