//! Tests of the OVP (OliVe outlier-victim pair) golden decode and dot products against values
//! re-derived here from the definitions (integers in grid units, exact), independently of the
//! decode code.

use num_bigint::BigInt;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use npe_hdl::spec::formats::ovp;

/// The flint4 magnitude grid re-derived from the flint construction (ANT): a 3-bit unsigned
/// flint has one zero, then values `2^k × (1 + j / 2^mb)` whose exponent field grows as the
/// mantissa shrinks: 0.25 (mb 0), 0.5 and 0.75 (mb 1), 1 and 1.5 (mb 1), 2 (mb 0), and the top
/// code 4; scaled so that the top code is the threshold 32.
fn flint_grid() -> Vec<i64> {
    let units = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0];
    units.iter().map(|u| (u * 32.0 / 4.0) as i64).collect()
}

/// The value of one nibble of a pair, in grid units, from the definitions: `role` says whether
/// the nibble is normal, the victim or the outlier.
fn expected_pair(normal: OvpNormal, byte: u32) -> [i64; 2] {
    let nib = [byte & 0xF, byte >> 4];
    let marker = |n: u32| n == 8;
    let normal_val = |n: u32| -> i64 {
        match normal {
            // Two's complement int4.
            OvpNormal::Int4 => ((n as i64) << 60) >> 60,
            OvpNormal::Flint4 => {
                let m = flint_grid()[(n & 7) as usize];
                if n & 8 != 0 {
                    -m
                } else {
                    m
                }
            }
        }
    };
    // abfloat: sign, 2 exponent bits, 1 mantissa bit, (1 + m/2)·2^(e + 5) flint units; an int4
    // unit is 4 flint units (the authors scale the int4 grid by 32/8).
    let outlier_val = |n: u32| -> i64 {
        let (e, m) = ((n >> 1) & 3, n & 1);
        let flint = (2 + m as i64) << (e + 4); // (1 + m/2)·2^(e+5) = (2 + m)·2^(e+4)
        let mag = match normal {
            OvpNormal::Int4 => flint / 4,
            OvpNormal::Flint4 => flint,
        };
        if n & 8 != 0 {
            -mag
        } else {
            mag
        }
    };
    match (marker(nib[0]), marker(nib[1])) {
        (false, false) => [normal_val(nib[0]), normal_val(nib[1])],
        (false, true) => [outlier_val(nib[0]), 0],
        (true, false) => [0, outlier_val(nib[1])],
        (true, true) => [0, 0],
    }
}

fn unified_int(u: Unified) -> i64 {
    assert!(!u.nar && !u.inf);
    if u.zero {
        assert_eq!((u.sign, u.exp, u.mant), (false, 0, 0), "canonical zero");
        return 0;
    }
    assert!(u.exp >= 0, "grid values are integers: {u:?}");
    let m = i64::from(u.mant) << u.exp;
    if u.sign {
        -m
    } else {
        m
    }
}

#[test]
fn every_pair_byte_decodes_to_the_rederived_values() {
    for (fmt, normal) in [
        (Format::OvpInt4, OvpNormal::Int4),
        (Format::OvpFlint4, OvpNormal::Flint4),
    ] {
        assert_eq!(fmt.ovp_normal(), Some(normal));
        for byte in 0..=0xFFu32 {
            let got = decode_pair(fmt, byte).unwrap();
            let want = expected_pair(normal, byte);
            assert_eq!([unified_int(got[0]), unified_int(got[1])], want, "{fmt} {byte:#04x}");
            // Canonical mantissas: int4 normals |q|, the rest 1.f with one fraction bit.
            let outlier_pair = (byte & 0xF == 8) != (byte >> 4 == 8);
            for u in got.iter().filter(|u| !u.zero) {
                if normal == OvpNormal::Int4 && !outlier_pair {
                    assert_eq!(u.exp, 0);
                } else {
                    assert!(u.mant == 2 || u.mant == 3, "{fmt} {byte:#04x}: {u:?}");
                }
            }
            // The spec's reference decode (what the rust-hdl pair decoder is tested against)
            // agrees with the golden model.
            assert_eq!(ovp::decode_pair(normal, byte as u8), got, "{fmt} {byte:#04x}");
        }
    }
}

#[test]
fn grids_and_tie_rules_of_the_pair() {
    // The outlier grids of DESIGN §3.2 (flint units) and their int4 equivalents.
    let outliers = |fmt: Format| -> Vec<i64> {
        (0..8u32)
            .filter(|&c| c != 0) // abfloat 000 (the threshold itself) is never encoded
            .map(|c| unified_int(decode_pair(fmt, c | 0x80).unwrap()[0]))
            .collect()
    };
    assert_eq!(outliers(Format::OvpFlint4), [48, 64, 96, 128, 192, 256, 384]);
    assert_eq!(outliers(Format::OvpInt4), [12, 16, 24, 32, 48, 64, 96]);
    assert_eq!(flint_grid(), [0, 2, 4, 6, 8, 12, 16, 32]);
    // The victim may sit first or second; the outlier keeps its sign.
    let v = |fmt, b| decode_pair(fmt, b).unwrap().map(unified_int);
    assert_eq!(v(Format::OvpFlint4, 0x8F), [-384, 0]);
    assert_eq!(v(Format::OvpFlint4, 0xF8), [0, -384]);
    assert_eq!(v(Format::OvpInt4, 0x83), [24, 0]);
    // The illegal pair (both markers) decodes to two zeros; abfloat 000 decodes by the formula.
    assert_eq!(v(Format::OvpInt4, 0x88), [0, 0]);
    assert_eq!(v(Format::OvpFlint4, 0x88), [0, 0]);
    assert_eq!(v(Format::OvpFlint4, 0x80), [32, 0]);
    assert_eq!(v(Format::OvpInt4, 0x08), [0, 8]);
    // No marker: two normals (int4 two's complement: 0xF = −1, 0x9 = −7).
    assert_eq!(v(Format::OvpInt4, 0x9F), [-1, -7]);
    assert_eq!(v(Format::OvpFlint4, 0x97), [32, -2]);
}

#[test]
fn pair_formats_refuse_single_codes_and_odd_vectors() {
    assert_eq!(
        decode(Format::OvpInt4, 3),
        Err(GoldenError::Paired {
            format: Format::OvpInt4
        })
    );
    assert_eq!(
        decode_pair(Format::Fp4E2M1, 0x11),
        Err(GoldenError::NotPaired {
            format: Format::Fp4E2M1
        })
    );
    assert!(matches!(
        decode_pair(Format::OvpInt4, 0x100),
        Err(GoldenError::CodeOutOfRange { .. })
    ));
    assert_eq!(
        exact_dot(Format::OvpInt4, &[1, 2, 3], Format::Int4, &[1, 1, 1]),
        Err(GoldenError::OddPairs {
            format: Format::OvpInt4,
            len: 3
        })
    );
    assert!(matches!(
        exact_dot(Format::OvpInt4, &[1, 0x10], Format::Int4, &[1, 1]),
        Err(GoldenError::CodeOutOfRange { code: 0x10, .. })
    ));
    assert_eq!(
        encode_checked(Format::OvpFlint4, 1.0, 0, NanPolicy::Refuse),
        Err(GoldenError::Paired {
            format: Format::OvpFlint4
        })
    );
}

/// `x × 2^64` as an exact integer (every value here is a multiple of 2^-64).
fn scaled(x: &Exact) -> BigInt {
    match x {
        Exact::Finite { mant, exp } => {
            let e = exp + 64;
            assert!(e >= 0);
            mant << e as u64
        }
        other => panic!("not finite: {other:?}"),
    }
}

/// The exact value of an operand code as `v × 2^64`, from its f64 value (exact: every operand
/// value is a dyadic rational with few bits, ≥ 2^-56).
fn scaled_f64(x: f64) -> BigInt {
    assert!(x.is_finite());
    scaled(&Exact::from_f64(x))
}

fn values(fmt: Format, codes: &[u32]) -> Vec<BigInt> {
    if let Some(normal) = fmt.ovp_normal() {
        codes
            .chunks(2)
            .flat_map(|p| expected_pair(normal, p[0] | p[1] << 4))
            .map(|v| BigInt::from(v) << 64)
            .collect()
    } else {
        codes.iter().map(|&c| scaled_f64(to_f64(fmt, c).unwrap())).collect()
    }
}

#[test]
fn ovp_dot_products_are_exact() {
    let mut rng = StdRng::seed_from_u64(13);
    let others = [
        Format::OvpInt4,
        Format::OvpFlint4,
        Format::Int4,
        Format::Int8,
        Format::Fp4E2M1,
        Format::Fp8E4M3,
        Format::Posit8Es0,
        Format::Int16,
    ];
    let mut checked = 0;
    for a_fmt in Format::PAIRED {
        for w_fmt in others {
            for trial in 0..40 {
                let k = 2 * rng.gen_range(1..=64);
                let gen = |rng: &mut StdRng, f: Format| -> Vec<u32> {
                    (0..k)
                        .map(|_| loop {
                            let c = rng.gen_range(0..f.code_count());
                            // Skip NaN codes of the other format: the finite sum is the point.
                            if f.is_paired() || !decode(f, c).unwrap().nar {
                                break c;
                            }
                        })
                        .collect()
                };
                let (a, w) = (gen(&mut rng, a_fmt), gen(&mut rng, w_fmt));
                let want: BigInt = values(a_fmt, &a)
                    .iter()
                    .zip(values(w_fmt, &w))
                    .map(|(x, y)| x * y)
                    .sum::<BigInt>();
                // Both operands are scaled by 2^64: the product by 2^128.
                let got = exact_dot(a_fmt, &a, w_fmt, &w).unwrap();
                assert_eq!(scaled(&got) << 64, want, "{a_fmt} x {w_fmt} trial {trial}");
                // Symmetric, and rounded once like every other pair.
                assert_eq!(exact_dot(w_fmt, &w, a_fmt, &a).unwrap(), got);
                assert_eq!(
                    dot(a_fmt, &a, w_fmt, &w, OutputFormat::Fp32).unwrap(),
                    round_to_output(OutputFormat::Fp32, &got)
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * others.len() * 40);
}

#[test]
fn largest_ovp_products_fit_the_golden_window() {
    // 384 × 384 flint units, K = 2 with one outlier per pair each side: 147456 each.
    let a = [0xF, 0x8];
    let got = exact_dot(Format::OvpFlint4, &a, Format::OvpFlint4, &a).unwrap();
    assert_eq!(scaled(&got), BigInt::from(384 * 384) << 64);
    let got = exact_dot(Format::OvpInt4, &[0x7, 0x8], Format::OvpInt4, &[0x9, 0x1]).unwrap();
    // 0x87 is an outlier pair (7 → abfloat 1.11 → 96), 0x19 two normals (−7, 1): 96 × −7.
    assert_eq!(scaled(&got), BigInt::from(-672) << 64);
}
