//! Tests of the block-scaled golden model, against an exact-rational reference written here.

use num_traits::Signed;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use crate::golden::{exact_dot, output_to_f64};
use crate::quant::block::{n_blocks, quantize};

// -----------------------------------------------------------------------------------------
// An independent reference: exact rationals (BigInt numerator / positive denominator) and
// values written from the format definitions, not from the golden model's decoders.

#[derive(Clone, Debug)]
struct Q {
    n: BigInt,
    d: BigInt,
}

impl Q {
    fn int(n: i64) -> Q {
        Q {
            n: BigInt::from(n),
            d: BigInt::from(1),
        }
    }
    /// `n · 2^e`.
    fn dyadic(n: i64, e: i32) -> Q {
        let one = BigInt::from(1);
        if e >= 0 {
            Q {
                n: BigInt::from(n) << e as usize,
                d: one,
            }
        } else {
            Q {
                n: BigInt::from(n),
                d: one << (-e) as usize,
            }
        }
    }
    fn reduce(self) -> Q {
        let (mut x, mut y) = (self.n.abs(), self.d.clone());
        while !y.is_zero() {
            let r = &x % &y;
            x = y;
            y = r;
        }
        if x.is_zero() {
            return Q::int(0);
        }
        Q {
            n: self.n / &x,
            d: self.d / &x,
        }
    }
    fn add(&self, o: &Q) -> Q {
        Q {
            n: &self.n * &o.d + &o.n * &self.d,
            d: &self.d * &o.d,
        }
        .reduce()
    }
    fn mul(&self, o: &Q) -> Q {
        Q {
            n: &self.n * &o.n,
            d: &self.d * &o.d,
        }
        .reduce()
    }
    fn same(&self, o: &Q) -> bool {
        &self.n * &o.d == &o.n * &self.d
    }
}

/// The rational of a finite `Exact` (None for NaN / Inf).
fn q_of(x: &Exact) -> Option<Q> {
    match x {
        Exact::Finite { mant, exp } => Some(if *exp >= 0 {
            Q {
                n: mant << *exp as usize,
                d: BigInt::from(1),
            }
        } else {
            Q {
                n: mant.clone(),
                d: BigInt::from(1) << (-*exp) as usize,
            }
        }),
        _ => None,
    }
}

/// FP8 E4M3 (OCP "fn"): bias 7, 3 mantissa bits, S.1111.111 NaN, no Inf.
fn ref_e4m3(code: u32) -> Option<Q> {
    let (s, e, m) = ((code >> 7) & 1, (code >> 3) & 0xF, code & 7);
    if e == 15 && m == 7 {
        return None;
    }
    let sign = if s == 1 { -1 } else { 1 };
    Some(if e == 0 {
        Q::dyadic(sign * i64::from(m), -9)
    } else {
        Q::dyadic(sign * i64::from(8 + m), e as i32 - 10)
    })
}

/// An activation's value (None for NaN).
fn ref_act(fmt: Format, code: u32) -> Option<Q> {
    match fmt {
        Format::Int8 => Some(Q::int(i64::from(code as u8 as i8))),
        Format::Int16 => Some(Q::int(i64::from(code as u16 as i16))),
        Format::Fp8E4M3 => ref_e4m3(code),
        _ => unreachable!("the reference covers INT8, INT16 and FP8 E4M3"),
    }
}

/// E2M1 magnitudes in halves.
const E2M1_HALVES: [i64; 8] = [0, 1, 2, 3, 4, 6, 8, 12];

/// A weight code's value in grid units (the README / module tables, written out).
fn ref_weight(scheme: BlockScheme, sel: u8, code: u8) -> Q {
    let signed = |neg: bool, halves: i64| Q::dyadic(if neg { -halves } else { halves }, -1);
    match scheme {
        BlockScheme::Mxfp4 | BlockScheme::Nvfp4 | BlockScheme::Fp4g => {
            signed(code & 8 != 0, E2M1_HALVES[usize::from(code & 7)])
        }
        BlockScheme::Int4g => Q::int(i64::from(((code << 4) as i8) >> 4)),
        BlockScheme::Bitmod4 if code == 8 => signed(false, [10, -10, 16, -16][usize::from(sel)]),
        BlockScheme::Bitmod4 => signed(code & 8 != 0, E2M1_HALVES[usize::from(code & 7)]),
        BlockScheme::Bitmod3 if code == 4 => signed(false, [3, -3, 6, -6][usize::from(sel)]),
        BlockScheme::Bitmod3 => signed(code & 4 != 0, [0, 1, 2, 4][usize::from(code & 3)]),
    }
}

/// An `f32` from its bits (finite only).
fn ref_f32(x: f32) -> Q {
    let b = x.to_bits();
    let (s, e, f) = (b >> 31, (b >> 23) & 0xFF, b & 0x7F_FFFF);
    assert!(e != 0xFF, "the reference takes finite f32 scales");
    let sign = if s == 1 { -1 } else { 1 };
    if e == 0 {
        Q::dyadic(sign * i64::from(f), -149)
    } else {
        Q::dyadic(sign * i64::from((1 << 23) | f), e as i32 - 150)
    }
}

/// Block `j` of row `r`'s scale (None for NaN).
fn ref_scale(w: &BlockTensor, r: usize, j: usize) -> Option<Q> {
    let i = r * n_blocks(w.k, w.block) + j;
    match (&w.scales, w.scheme) {
        (BlockScales::U8(v), BlockScheme::Mxfp4) => (v[i] != 0xFF).then(|| Q::dyadic(1, i32::from(v[i]) - 127)),
        (BlockScales::U8(v), BlockScheme::Nvfp4) => {
            ref_e4m3(u32::from(v[i])).map(|s| s.mul(&ref_f32(w.tensor_scale.unwrap())))
        }
        (BlockScales::U8(v), _) => Some(Q::int(i64::from(v[i])).mul(&ref_f32(w.row_scales[r]))),
        (BlockScales::F32(v), _) => Some(ref_f32(v[i])),
    }
}

/// The reference block-scaled dot product (None for NaN).
fn ref_block_dot(a_fmt: Format, a: &[u32], w: &BlockTensor, r: usize) -> Option<Q> {
    let nb = n_blocks(w.k, w.block);
    let mut total = Q::int(0);
    for j in 0..nb {
        let cols = j * w.block..((j + 1) * w.block).min(w.k);
        let sel = w.selectors.get(r * nb + j).copied().unwrap_or(0);
        let mut p = Q::int(0);
        for c in cols {
            let x = ref_act(a_fmt, a[c])?;
            p = p.add(&x.mul(&ref_weight(w.scheme, sel, w.codes[r * w.k + c])));
        }
        total = total.add(&p.mul(&ref_scale(w, r, j)?));
    }
    Some(total)
}

// -----------------------------------------------------------------------------------------
// Random inputs.

/// Random activation codes; NaN codes (FP8 E4M3) are kept with probability 1/10 each.
fn random_acts(rng: &mut StdRng, fmt: Format, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| loop {
            let c = rng.gen_range(0..1u32 << fmt.bits());
            if !decode(fmt, c).unwrap().nar || rng.gen_bool(0.1) {
                break c;
            }
        })
        .collect()
}

/// A random finite `f32` of moderate range.
fn random_f32(rng: &mut StdRng) -> f32 {
    let e = rng.gen_range(100u32..160);
    f32::from_bits(u32::from(rng.gen_bool(0.3)) << 31 | e << 23 | rng.gen_range(0..1u32 << 23))
}

/// A tensor of random codes and metadata (every selector, every scale code).
fn random_tensor(rng: &mut StdRng, scheme: BlockScheme, rows: usize, k: usize, b: usize) -> BlockTensor {
    let nb = rows * n_blocks(k, b);
    let bitmod = matches!(scheme, BlockScheme::Bitmod4 | BlockScheme::Bitmod3);
    let codes = (0..rows * k)
        .map(|_| rng.gen_range(0..1u8 << scheme.code_bits()))
        .collect();
    let scales = match scheme {
        BlockScheme::Int4g | BlockScheme::Fp4g => BlockScales::F32((0..nb).map(|_| random_f32(rng)).collect()),
        // E8M0: NaN (0xFF) in about one block in 16.
        BlockScheme::Mxfp4 => BlockScales::U8(
            (0..nb)
                .map(|_| {
                    if rng.gen_bool(1.0 / 16.0) {
                        0xFF
                    } else {
                        rng.gen_range(0..=254)
                    }
                })
                .collect(),
        ),
        _ => BlockScales::U8((0..nb).map(|_| rng.gen()).collect()),
    };
    BlockTensor {
        scheme,
        rows,
        k,
        block: b,
        codes,
        scales,
        selectors: if bitmod {
            (0..nb).map(|_| rng.gen_range(0..4)).collect()
        } else {
            vec![]
        },
        row_scales: if bitmod {
            (0..rows).map(|_| random_f32(rng)).collect()
        } else {
            vec![]
        },
        tensor_scale: (scheme == BlockScheme::Nvfp4).then(|| random_f32(rng)),
        values: vec![],
    }
}

/// Random weights with outliers, quantized by the scheme's own quantizer.
fn quantized_tensor(rng: &mut StdRng, scheme: BlockScheme, rows: usize, k: usize, b: usize) -> BlockTensor {
    let data: Vec<f64> = (0..rows * k)
        .map(|i| {
            let x: f64 = rng.gen_range(-1.0..1.0);
            if i % 97 == 5 {
                x * 50.0
            } else if i % 131 == 7 {
                0.0
            } else {
                x
            }
        })
        .collect();
    quantize(scheme, &data, k, b).unwrap()
}

const ACT_FORMATS: [Format; 3] = [Format::Int8, Format::Fp8E4M3, Format::Int16];

/// Checks every row of `w` against the reference, and rounding against `block_dot`.
fn check_against_reference(rng: &mut StdRng, w: &BlockTensor, what: &str) -> (usize, usize) {
    let (mut finite, mut nan) = (0, 0);
    for a_fmt in ACT_FORMATS {
        let a = random_acts(rng, a_fmt, w.k);
        for r in 0..w.rows {
            let got = exact_block_dot(a_fmt, &a, w, r).unwrap();
            match ref_block_dot(a_fmt, &a, w, r) {
                Some(want) => {
                    let g = q_of(&got).unwrap_or_else(|| panic!("{what} {a_fmt} row {r}: {got:?}"));
                    assert!(g.same(&want), "{what} {a_fmt} row {r}: {got:?} vs {want:?}");
                    finite += 1;
                }
                None => {
                    assert_eq!(got, Exact::NaN, "{what} {a_fmt} row {r}");
                    nan += 1;
                }
            }
            for out in OutputFormat::ALL {
                assert_eq!(
                    block_dot(a_fmt, &a, w, r, out).unwrap(),
                    round_to_output(out, &got),
                    "{what} {a_fmt} row {r} {out:?}"
                );
            }
        }
    }
    (finite, nan)
}

/// (1) Every scheme × {INT8, FP8 E4M3, INT16}, K not a multiple of B, against the
/// independent rational reference: quantizer outputs and random codes / metadata.
#[test]
fn matches_the_rational_reference() {
    let mut rng = StdRng::seed_from_u64(14);
    let (mut finite, mut nan) = (0, 0);
    for scheme in BlockScheme::ALL {
        let bs: Vec<usize> = if scheme.fixed_block() {
            vec![scheme.default_block()]
        } else {
            vec![scheme.default_block(), 7]
        };
        for b in bs {
            let k = 300; // 300 = 2·128 + 44 = 9·32 + 12 = 18·16 + 12 = 42·7 + 6
            assert_ne!(k % b, 0);
            let w = quantized_tensor(&mut rng, scheme, 3, k, b);
            let (f, n) = check_against_reference(&mut rng, &w, &format!("{} B={b} quantized", scheme.name()));
            (finite, nan) = (finite + f, nan + n);
            let w = random_tensor(&mut rng, scheme, 4, k, b);
            let (f, n) = check_against_reference(&mut rng, &w, &format!("{} B={b} random", scheme.name()));
            (finite, nan) = (finite + f, nan + n);
        }
    }
    // Both kinds of result were exercised.
    assert!(finite > 100 && nan > 5, "{finite} finite, {nan} NaN");
}

/// An MXFP4 row from codes and E8M0 scale codes.
fn mxfp4(codes: Vec<u8>, scales: Vec<u8>) -> BlockTensor {
    BlockTensor {
        scheme: BlockScheme::Mxfp4,
        rows: 1,
        k: codes.len(),
        block: 32,
        codes,
        scales: BlockScales::U8(scales),
        selectors: vec![],
        row_scales: vec![],
        tensor_scale: None,
        values: vec![],
    }
}

fn fin(mant: i64, exp: i64) -> Exact {
    Exact::Finite {
        mant: BigInt::from(mant),
        exp,
    }
}

/// (2) The per-block scale matters: the unscaled row sums to 0, so any single scale applied
/// to the whole row gives 0, but the block-scaled sum is 1·1 + (−1)·2 = −1.
#[test]
fn each_block_has_its_own_scale() {
    let mut codes = vec![0u8; 40];
    codes[0] = 0b0010; // +1 in block 0 (columns 0 … 31)
    codes[35] = 0b1010; // −1 in block 1 (columns 32 … 39, short)
    let w = mxfp4(codes.clone(), vec![127, 128]); // scales 1 and 2
    let a = vec![1u32; 40];
    let unscaled = exact_dot(
        Format::Int8,
        &a,
        Format::Fp4E2M1,
        &codes.iter().map(|&c| u32::from(c)).collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(unscaled.is_zero());
    assert_eq!(exact_block_dot(Format::Int8, &a, &w, 0).unwrap(), fin(-1, 0));
    // And with scales 2^-3 and 2^4: 2^-3 − 2^4 = −127/8.
    let w = mxfp4(codes, vec![124, 131]);
    assert_eq!(exact_block_dot(Format::Int8, &a, &w, 0).unwrap(), fin(-127, -3));
    let c = block_dot(Format::Int8, &a, &w, 0, OutputFormat::Fp32).unwrap();
    assert_eq!(output_to_f64(OutputFormat::Fp32, c), -127.0 / 8.0);
}

/// (3) E8M0 extremes, a NaN scale, an all-zero block.
#[test]
fn e8m0_extremes_nan_and_zero_blocks() {
    // One block: INT16 32767 × E2M1 6 = 196602 = 98301 · 2.
    let mut codes = vec![0u8; 32];
    codes[3] = 0b0111;
    let mut a = vec![0u32; 32];
    a[3] = 0x7FFF;
    let exact = |scale: u8| exact_block_dot(Format::Int16, &a, &mxfp4(codes.clone(), vec![scale]), 0).unwrap();
    assert_eq!(exact(254), fin(98301, 128)); // × 2^127
    assert_eq!(exact(0), fin(98301, -126)); // × 2^-127
    assert_eq!(exact(127), fin(98301, 1));
    let round = |scale: u8| {
        let w = mxfp4(codes.clone(), vec![scale]);
        output_to_f64(
            OutputFormat::Fp32,
            block_dot(Format::Int16, &a, &w, 0, OutputFormat::Fp32).unwrap(),
        )
    };
    assert_eq!(round(254), f64::INFINITY); // 1.5·2^144 overflows FP32
    assert_eq!(round(0), 98301.0 * 2f64.powi(-126)); // exact in FP32 (17 bits, normal)
                                                     // NaN scale: the block is NaN, even when its partial sum is 0 (codes or activations 0).
    assert_eq!(exact(0xFF), Exact::NaN);
    assert!(round(0xFF).is_nan());
    let zero_block = mxfp4(vec![0; 32], vec![0xFF]);
    assert_eq!(exact_block_dot(Format::Int16, &a, &zero_block, 0).unwrap(), Exact::NaN);
    // Two blocks, the second all zero (codes) with the largest scale: it adds nothing; with
    // a NaN scale it makes the row NaN.
    let mut codes2 = codes.clone();
    codes2.extend([0u8; 5]);
    let mut a2 = a.clone();
    a2.extend([0x7FFF, 1, 2, 3, 0x8000]);
    let w = mxfp4(codes2.clone(), vec![127, 254]);
    assert_eq!(exact_block_dot(Format::Int16, &a2, &w, 0).unwrap(), fin(98301, 1));
    let w = mxfp4(codes2, vec![127, 0xFF]);
    assert_eq!(exact_block_dot(Format::Int16, &a2, &w, 0).unwrap(), Exact::NaN);
    // An all-zero activation block against nonzero weights adds nothing either.
    let mut codes3 = codes.clone();
    codes3.extend([0b0111u8; 5]);
    let mut a3 = a.clone();
    a3.extend([0u32; 5]);
    let w = mxfp4(codes3, vec![127, 254]);
    assert_eq!(exact_block_dot(Format::Int16, &a3, &w, 0).unwrap(), fin(98301, 1));
}

/// (3) BitMoD integer scales 0, 1 and 255, with the special values of the selectors.
#[test]
fn bitmod_integer_scales() {
    // K = 6, B = 2: blocks (q = 0, er_pos), (q = 1, ea_neg), (q = 255, ea_pos); S = 0.75.
    let w = BlockTensor {
        scheme: BlockScheme::Bitmod4,
        rows: 1,
        k: 6,
        block: 2,
        // block 0: 5, 6; block 1: −8, −0.5; block 2: 8, −3.
        codes: vec![0b1000, 0b0111, 0b1000, 0b1001, 0b1000, 0b1101],
        scales: BlockScales::U8(vec![0, 1, 255]),
        selectors: vec![0, 3, 2],
        row_scales: vec![0.75],
        tensor_scale: None,
        values: vec![],
    };
    let a = [3u32, 1, 2, 0xFE, 1, 1]; // INT8: 3, 1, 2, −2, 1, 1
                                      // block 0: 0; block 1: (−16 + 1) · 0.75 = −11.25; block 2: (8 − 3) · 255 · 0.75 = 956.25.
    let want = -11.25 + 956.25;
    let got = exact_block_dot(Format::Int8, &a, &w, 0).unwrap();
    assert_eq!(got, Exact::from_f64(want).normalized());
    assert_eq!(got.to_f64(), 945.0);
    // The first block alone, for each q: 0 → 0, 1 → 21 · 0.75, 255 → 21 · 255 · 0.75.
    for (q, want) in [(0u8, 0.0), (1, 15.75), (255, 4016.25)] {
        let mut w1 = w.clone();
        w1.k = 2;
        w1.block = 128;
        w1.codes.truncate(2);
        w1.scales = BlockScales::U8(vec![q]);
        w1.selectors.truncate(1);
        let got = exact_block_dot(Format::Int8, &a[..2], &w1, 0).unwrap();
        assert_eq!(got, Exact::from_f64(want).normalized(), "q = {q}");
    }
}

/// (4) The exact result equals `Σ a · value` over the quantizer's dequantized values, computed
/// exactly; and, where every partial sum fits an `f64`, the plain `f64` sum too.
#[test]
fn agrees_with_the_dequantized_values() {
    let mut rng = StdRng::seed_from_u64(2);
    for scheme in BlockScheme::ALL {
        let w = quantized_tensor(&mut rng, scheme, 4, 200, scheme.default_block());
        for a_fmt in [Format::Int8, Format::Fp8E4M3, Format::Posit16Es1] {
            let a: Vec<u32> = random_acts(&mut rng, a_fmt, w.k)
                .into_iter()
                .map(|c| if decode(a_fmt, c).unwrap().nar { 0 } else { c })
                .collect();
            for r in 0..w.rows {
                let terms: Vec<Exact> = (0..w.k)
                    .map(|c| {
                        exact_mul(
                            &unified_to_exact(decode(a_fmt, a[c]).unwrap()),
                            &Exact::from_f64(w.values[r * w.k + c]),
                        )
                    })
                    .collect();
                let got = exact_block_dot(a_fmt, &a, &w, r).unwrap();
                assert_eq!(got, exact_sum(&terms), "{} {a_fmt} row {r}", scheme.name());
                for out in OutputFormat::ALL {
                    assert_eq!(block_dot(a_fmt, &a, &w, r, out).unwrap(), round_to_output(out, &got));
                }
            }
        }
    }
    // MXFP4 with values on a narrow grid (scales 2^-2 … 2^0) and INT8 activations: every
    // partial sum of the f64 loop is exact, so the f64 sum equals the exact result.
    let data: Vec<f64> = (0..2 * 70).map(|i| f64::from((i * 37) % 25) / 4.0 - 3.0).collect();
    let w = quantize(BlockScheme::Mxfp4, &data, 70, 32).unwrap();
    let a = random_acts(&mut rng, Format::Int8, 70);
    for r in 0..2 {
        let f: f64 = (0..70)
            .map(|c| f64::from(a[c] as u8 as i8) * w.values[r * 70 + c])
            .sum();
        assert_eq!(exact_block_dot(Format::Int8, &a, &w, r).unwrap().to_f64(), f);
        let c = block_dot(Format::Int8, &a, &w, r, OutputFormat::Fp32).unwrap();
        assert_eq!(output_to_f64(OutputFormat::Fp32, c), f);
    }
}

/// NaN / NaR activations and Infs propagate as in `exact_dot`.
#[test]
fn activation_specials_propagate() {
    let w = mxfp4(vec![0b0010; 40], vec![127, 127]);
    let mut a = vec![0u32; 40];
    a[39] = 0x8000; // posit16 NaR in the short block
    assert_eq!(exact_block_dot(Format::Posit16Es1, &a, &w, 0).unwrap(), Exact::NaN);
    let c = block_dot(Format::Posit16Es1, &a, &w, 0, OutputFormat::Posit16Es1).unwrap();
    assert_eq!(c, 0x8000);
    // FP8 E5M2: +Inf in block 0, −Inf in block 1 → NaN; +Inf alone → +Inf; Inf × 0 → NaN.
    let mut a = vec![0u32; 40];
    a[0] = 0x7C;
    assert_eq!(
        exact_block_dot(Format::Fp8E5M2, &a, &w, 0).unwrap(),
        Exact::Inf { negative: false }
    );
    a[33] = 0xFC;
    assert_eq!(exact_block_dot(Format::Fp8E5M2, &a, &w, 0).unwrap(), Exact::NaN);
    let z = mxfp4(vec![0; 40], vec![127, 127]);
    a[33] = 0;
    assert_eq!(exact_block_dot(Format::Fp8E5M2, &a, &z, 0).unwrap(), Exact::NaN);
    // A finite partial sum of 0 times an Inf f32 scale is NaN; times a finite scale, 0.
    assert_eq!(exact_mul(&Exact::zero(), &Exact::Inf { negative: true }), Exact::NaN);
    assert_eq!(exact_mul(&Exact::Inf { negative: false }, &fin(0, 5)), Exact::NaN);
    assert_eq!(exact_mul(&Exact::NaN, &fin(1, 0)), Exact::NaN);
    assert_eq!(
        exact_mul(&Exact::Inf { negative: true }, &Exact::Inf { negative: true }),
        Exact::Inf { negative: false }
    );
    assert_eq!(
        exact_mul(&fin(-3, 2), &Exact::Inf { negative: true }),
        Exact::Inf { negative: false }
    );
    assert_eq!(exact_mul(&fin(-3, 2), &fin(6, -1)), fin(-9, 2));
}

/// A pair format's pairs that straddle a block boundary (B = 3) decode as pairs: with unit
/// scales the result is the plain `exact_dot`.
#[test]
fn pairs_straddling_blocks_decode_as_pairs() {
    let mut rng = StdRng::seed_from_u64(5);
    let w = BlockTensor {
        scales: BlockScales::F32(vec![1.0; 4]),
        ..random_tensor(&mut rng, BlockScheme::Int4g, 1, 12, 3)
    };
    let wc: Vec<u32> = w.codes.iter().map(|&c| u32::from(c)).collect();
    for _ in 0..20 {
        let a: Vec<u32> = (0..12).map(|_| rng.gen_range(0..16)).collect();
        assert_eq!(
            exact_block_dot(Format::OvpInt4, &a, &w, 0).unwrap(),
            exact_dot(Format::OvpInt4, &a, Format::Int4, &wc).unwrap()
        );
    }
}

/// The GEMM is `block_dot` per element, `C[i][n]` at `i · rows + n`.
#[test]
fn gemm_is_block_dot_per_element() {
    let mut rng = StdRng::seed_from_u64(3);
    for scheme in BlockScheme::ALL {
        let w = random_tensor(
            &mut rng,
            scheme,
            5,
            45,
            if scheme.fixed_block() {
                scheme.default_block()
            } else {
                10
            },
        );
        let a = random_acts(&mut rng, Format::Fp8E4M3, 3 * 45);
        let c = block_gemm(Format::Fp8E4M3, &a, &w, OutputFormat::Bf16).unwrap();
        assert_eq!(c.len(), 15);
        for i in 0..3 {
            for n in 0..5 {
                let want = block_dot(Format::Fp8E4M3, &a[i * 45..(i + 1) * 45], &w, n, OutputFormat::Bf16).unwrap();
                assert_eq!(c[i * 5 + n], want, "{} [{i}][{n}]", scheme.name());
            }
        }
    }
    let w = random_tensor(&mut rng, BlockScheme::Int4g, 2, 8, 4);
    assert_eq!(
        block_gemm(Format::Int8, &[], &w, OutputFormat::Fp32).unwrap(),
        Vec::<u32>::new()
    );
    assert_eq!(
        block_gemm(Format::Int8, &[0; 9], &w, OutputFormat::Fp32),
        Err(BlockDotError::KMismatch { a: 9, k: 8 })
    );
}

/// Every refusal is a typed error, not a panic.
#[test]
fn bad_inputs_are_refused() {
    let mut rng = StdRng::seed_from_u64(4);
    let w = random_tensor(&mut rng, BlockScheme::Bitmod3, 2, 10, 4);
    let a = vec![1u32; 10];
    let dot = |w: &BlockTensor, a: &[u32], r| exact_block_dot(Format::Int8, a, w, r);
    assert!(dot(&w, &a, 1).is_ok());
    assert_eq!(dot(&w, &a[..9], 0), Err(BlockDotError::KMismatch { a: 9, k: 10 }));
    assert_eq!(dot(&w, &a, 2), Err(BlockDotError::RowOutOfRange { row: 2, rows: 2 }));
    let mut bad = w.clone();
    bad.codes[13] = 8; // 4 bits in a 3-bit scheme
    assert_eq!(
        dot(&bad, &a, 1),
        Err(BlockDotError::CodeOutOfRange {
            scheme: BlockScheme::Bitmod3,
            index: 13,
            code: 8
        })
    );
    assert!(dot(&bad, &a, 0).is_ok()); // codes are checked per row used
    let mut bad = w.clone();
    bad.selectors[5] = 4;
    assert_eq!(
        dot(&bad, &a, 0),
        Err(BlockDotError::SelectorOutOfRange { index: 5, selector: 4 })
    );
    let meta = |what, got, expected| BlockDotError::Metadata {
        scheme: BlockScheme::Bitmod3,
        what,
        got,
        expected,
    };
    let mut bad = w.clone();
    bad.selectors.pop();
    assert_eq!(dot(&bad, &a, 0), Err(meta("selectors", 5, 6)));
    let mut bad = w.clone();
    bad.row_scales.push(1.0);
    assert_eq!(dot(&bad, &a, 0), Err(meta("row scales", 3, 2)));
    let mut bad = w.clone();
    bad.scales = BlockScales::U8(vec![1; 7]);
    assert_eq!(dot(&bad, &a, 0), Err(meta("block scales", 7, 6)));
    let mut bad = w.clone();
    bad.tensor_scale = Some(1.0);
    assert_eq!(dot(&bad, &a, 0), Err(meta("tensor scales", 1, 0)));
    let mut bad = w.clone();
    bad.codes.pop();
    assert_eq!(dot(&bad, &a, 0), Err(meta("codes", 19, 20)));
    let mut bad = w.clone();
    bad.scales = BlockScales::F32(vec![1.0; 6]);
    assert_eq!(
        dot(&bad, &a, 0),
        Err(BlockDotError::ScaleKind {
            scheme: BlockScheme::Bitmod3,
            found: "f32"
        })
    );
    let mut bad = w.clone();
    bad.block = 0;
    assert_eq!(dot(&bad, &a, 0), Err(BlockDotError::ZeroBlock));
    // NVFP4 without its tensor scale; int4g with u8 scales; extra selectors on MXFP4.
    let mut nv = random_tensor(&mut rng, BlockScheme::Nvfp4, 1, 16, 16);
    nv.tensor_scale = None;
    assert_eq!(
        exact_block_dot(Format::Int8, &[0; 16], &nv, 0),
        Err(BlockDotError::Metadata {
            scheme: BlockScheme::Nvfp4,
            what: "tensor scales",
            got: 0,
            expected: 1
        })
    );
    let mut ig = random_tensor(&mut rng, BlockScheme::Int4g, 1, 8, 4);
    ig.scales = BlockScales::U8(vec![1, 1]);
    assert_eq!(
        exact_block_dot(Format::Int8, &[0; 8], &ig, 0),
        Err(BlockDotError::ScaleKind {
            scheme: BlockScheme::Int4g,
            found: "u8"
        })
    );
    let mut mx = mxfp4(vec![0; 32], vec![127]);
    mx.selectors = vec![0];
    assert!(matches!(
        exact_block_dot(Format::Int8, &[0; 32], &mx, 0),
        Err(BlockDotError::Metadata { what: "selectors", .. })
    ));
    // Activation codes too wide for their format; an odd K for a pair format.
    let mx = mxfp4(vec![0; 32], vec![127]);
    let mut a = vec![0u32; 32];
    a[4] = 0x100;
    assert_eq!(
        exact_block_dot(Format::Int8, &a, &mx, 0),
        Err(BlockDotError::Golden(GoldenError::CodeOutOfRange {
            format: Format::Int8,
            code: 0x100
        }))
    );
    let mx = mxfp4(vec![0; 33], vec![127, 127]);
    assert!(matches!(
        exact_block_dot(Format::OvpInt4, &[0; 33], &mx, 0),
        Err(BlockDotError::Golden(GoldenError::OddPairs { .. }))
    ));
}
