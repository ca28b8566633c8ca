//! Tests of the golden model against hand-derived values and values read off the references
//! (ml_dtypes 0.6.0 for FP4/FP6/FP8/E8M0, SoftPosit for posit8/posit16, numpy for FP16).

use num_bigint::BigInt;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;

fn fin(mant: i64, exp: i64) -> Exact {
    Exact::Finite {
        mant: BigInt::from(mant),
        exp,
    }
}

fn val(fmt: Format, code: u32) -> f64 {
    to_f64(fmt, code).unwrap()
}

fn p2(e: i32) -> f64 {
    2f64.powi(e)
}

fn is_nan_code(fmt: Format, code: u32) -> bool {
    decode(fmt, code).unwrap().nar
}

// ---------------------------------------------------------------------------------------------
// Decode: known values and canonical forms.

#[test]
fn fp4_values() {
    let mags = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];
    for (code, &m) in mags.iter().enumerate() {
        assert_eq!(val(Format::Fp4E2M1, code as u32), m);
        assert_eq!(val(Format::Fp4E2M1, code as u32 | 8), -m);
    }
    // Subnormal and normal canonical forms.
    let sub = decode(Format::Fp4E2M1, 1).unwrap();
    assert_eq!((sub.mant, sub.exp, sub.sign), (1, -1, false));
    let norm = decode(Format::Fp4E2M1, 0b1111).unwrap();
    assert_eq!((norm.mant, norm.exp, norm.sign), (3, 1, true));
}

#[test]
fn fp6_and_fp8_values() {
    assert_eq!(val(Format::Fp6E2M3, 0x1F), 7.5);
    assert_eq!(val(Format::Fp6E2M3, 0x01), 0.125);
    assert_eq!(val(Format::Fp6E3M2, 0x1F), 28.0);
    assert_eq!(val(Format::Fp6E3M2, 0x01), 0.0625);
    assert_eq!(val(Format::Fp8E4M3, 0x7E), 448.0);
    assert_eq!(val(Format::Fp8E4M3, 0xFE), -448.0);
    assert_eq!(val(Format::Fp8E4M3, 0x01), p2(-9));
    assert_eq!(val(Format::Fp8E4M3, 0x38), 1.0);
    assert!(is_nan_code(Format::Fp8E4M3, 0x7F));
    assert!(is_nan_code(Format::Fp8E4M3, 0xFF));
    // E4M3 "fn": the all-ones exponent is otherwise finite.
    assert_eq!(val(Format::Fp8E4M3, 0x78), 256.0);
    assert_eq!(val(Format::Fp8E5M2, 0x7B), 57344.0);
    assert_eq!(val(Format::Fp8E5M2, 0x7C), f64::INFINITY);
    assert_eq!(val(Format::Fp8E5M2, 0xFC), f64::NEG_INFINITY);
    assert_eq!(val(Format::Fp8E5M2, 0x01), p2(-16));
    for c in [0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF] {
        assert!(is_nan_code(Format::Fp8E5M2, c), "{c:#x}");
    }
}

#[test]
fn e8m0_and_int_values() {
    assert_eq!(val(Format::E8M0, 0x7F), 1.0);
    assert_eq!(val(Format::E8M0, 0x00), p2(-127));
    assert_eq!(val(Format::E8M0, 0xFE), p2(127));
    assert!(is_nan_code(Format::E8M0, 0xFF));
    let u = decode(Format::E8M0, 0x80).unwrap();
    assert_eq!((u.mant, u.exp, u.sign, u.zero), (1, 1, false, false));
    for (code, v) in [(0, 0.0), (1, 1.0), (2, -2.0), (3, -1.0)] {
        assert_eq!(val(Format::Int2, code), v);
    }
    assert_eq!(val(Format::Int4, 0x8), -8.0);
    assert_eq!(val(Format::Int8, 0x80), -128.0);
    assert_eq!(val(Format::Int8, 0x7F), 127.0);
    let u = decode(Format::Int16, 0x8000).unwrap();
    assert_eq!((u.mant, u.exp, u.sign), (32768, 0, true));
}

#[test]
fn posit_values() {
    assert_eq!(val(Format::Posit8Es0, 0x40), 1.0);
    assert_eq!(val(Format::Posit8Es0, 0x7F), 64.0);
    assert_eq!(val(Format::Posit8Es0, 0x01), p2(-6));
    assert_eq!(val(Format::Posit8Es0, 0xC0), -1.0);
    assert_eq!(val(Format::Posit8Es0, 0xFF), -p2(-6));
    assert_eq!(val(Format::Posit8Es0, 0x72), 5.0);
    assert!(is_nan_code(Format::Posit8Es0, 0x80));
    assert_eq!(val(Format::Posit16Es1, 0x4000), 1.0);
    assert_eq!(val(Format::Posit16Es1, 0x7FFF), p2(28));
    assert_eq!(val(Format::Posit16Es1, 0x0001), p2(-28));
    assert_eq!(val(Format::Posit16Es1, 0x5800), 3.0);
    assert_eq!(val(Format::Posit16Es1, 0xA800), -3.0);
    assert_eq!(val(Format::Posit16Es1, 0x7920), 100.0);
    assert!(is_nan_code(Format::Posit16Es1, 0x8000));
    // Posit(4,1): 0, 1/16, 1/4, 1/2, 1, 2, 4, 16, NaR, then the negatives by two's complement.
    let mags = [0.0, 1.0 / 16.0, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0];
    for (code, &m) in mags.iter().enumerate() {
        assert_eq!(val(Format::Posit4Es1, code as u32), m);
        if code != 0 {
            assert_eq!(val(Format::Posit4Es1, 16 - code as u32), -m);
        }
    }
    assert!(is_nan_code(Format::Posit4Es1, 8));
    // The same magnitudes by the formula: scale = k·2^es + e, exponent bits cut by the regime
    // are 0 (0110: regime 11 → k = 1, the exponent bit is cut: scale 2).
    let u = decode(Format::Posit4Es1, 0b0110).unwrap();
    assert_eq!((u.mant, u.exp), (1, 2));
}

#[test]
fn posit_canonical_mantissa_is_left_aligned() {
    let mf = |f: Format| f.spec().encoding.max_frac_bits(f.bits()) as i8;
    let u = decode(Format::Posit8Es0, 0x40).unwrap();
    assert_eq!((u.mant, u.exp), (1 << mf(Format::Posit8Es0), -mf(Format::Posit8Es0)));
    // 0x7FFE: 14 regime ones and the terminator, no bits left: scale 26.
    let u = decode(Format::Posit16Es1, 0x7FFE).unwrap();
    assert_eq!((u.mant, i32::from(u.exp)), (1 << 12, 26 - 12));
    // 0x5800 = 3.0: regime 10, e = 1, fraction .1 (left-aligned to 12 bits).
    let u = decode(Format::Posit16Es1, 0x5800).unwrap();
    assert_eq!((u.mant, u.exp), (0b1_1000_0000_0000, 1 - 12));
}

#[test]
fn canonical_specials() {
    let zero = Unified {
        zero: true,
        ..Unified::default()
    };
    let nar = Unified {
        nar: true,
        ..Unified::default()
    };
    for fmt in Format::ALL {
        if fmt != Format::E8M0 {
            assert_eq!(decode(fmt, 0).unwrap(), zero, "{fmt}");
        }
    }
    // Negative zeros are the canonical (unsigned) zero.
    assert_eq!(decode(Format::Fp4E2M1, 0x8).unwrap(), zero);
    assert_eq!(decode(Format::Fp8E4M3, 0x80).unwrap(), zero);
    assert_eq!(decode(Format::Fp8E5M2, 0x80).unwrap(), zero);
    assert_eq!(decode(Format::Fp8E4M3, 0xFF).unwrap(), nar);
    assert_eq!(decode(Format::Fp8E5M2, 0xFE).unwrap(), nar);
    assert_eq!(decode(Format::E8M0, 0xFF).unwrap(), nar);
    assert_eq!(decode(Format::Posit16Es1, 0x8000).unwrap(), nar);
    let ninf = Unified {
        inf: true,
        sign: true,
        ..Unified::default()
    };
    assert_eq!(decode(Format::Fp8E5M2, 0xFC).unwrap(), ninf);
}

#[test]
fn out_of_range_codes_are_errors() {
    for fmt in Format::ALL {
        let code = fmt.code_count();
        assert_eq!(
            decode(fmt, code),
            Err(GoldenError::CodeOutOfRange { format: fmt, code })
        );
        assert!(to_f64(fmt, u32::MAX).is_err());
        assert!(exact_dot(fmt, &[0, code], fmt, &[0, 0]).is_err());
    }
    let e = decode(Format::Fp4E2M1, 16).unwrap_err();
    assert_eq!(e.to_string(), "code 0x10 is out of range for fp4 (4 bits)");
}

// ---------------------------------------------------------------------------------------------
// Every code of every format.

#[test]
fn every_code_is_canonical_and_exact() {
    for fmt in Format::ALL {
        for code in 0..fmt.code_count() {
            let u = decode(fmt, code).unwrap();
            let specials = [u.zero, u.nar, u.inf].iter().filter(|&&b| b).count();
            assert!(specials <= 1, "{fmt} {code:#x}");
            if specials == 1 {
                assert_eq!((u.exp, u.mant), (0, 0), "{fmt} {code:#x}");
                assert!(!u.sign || u.inf, "{fmt} {code:#x}");
            } else {
                assert!(u.mant != 0, "{fmt} {code:#x}");
            }
            let x = unified_to_exact(u);
            let f = to_f64(fmt, code).unwrap();
            assert_eq!(x.to_f64().to_bits(), f.to_bits(), "{fmt} {code:#x}");
            // Exact in f64: back to the same Exact.
            if !u.nar {
                assert_eq!(Exact::from_f64(f).normalized(), x.normalized(), "{fmt} {code:#x}");
            }
        }
    }
}

/// The code `encode` gives for a value that decodes from `code`: itself, except that NaN codes
/// map to the canonical NaN and negative zeros to +0.
#[test]
fn decode_then_encode_round_trips() {
    for fmt in Format::ALL {
        let s = fmt.spec();
        let canonical_nan = round_exact(s.bits, s.encoding, s.overflow, &Exact::NaN);
        for code in 0..fmt.code_count() {
            let u = decode(fmt, code).unwrap();
            let want = if u.nar {
                canonical_nan
            } else if u.zero {
                0
            } else {
                code
            };
            assert_eq!(encode(fmt, val(fmt, code)), want, "{fmt} {code:#x}");
            let x = unified_to_exact(u);
            assert_eq!(round_exact(s.bits, s.encoding, s.overflow, &x), want);
        }
    }
}

#[test]
fn canonical_nan_codes() {
    let nan = |f: Format| encode(f, f64::NAN);
    assert_eq!(nan(Format::Fp4E2M1), 0x8);
    assert_eq!(nan(Format::Fp6E2M3), 0x20);
    assert_eq!(nan(Format::Fp6E3M2), 0x20);
    assert_eq!(nan(Format::Fp8E4M3), 0x7F);
    assert_eq!(nan(Format::Fp8E5M2), 0x7E);
    assert_eq!(nan(Format::E8M0), 0xFF);
    assert_eq!(nan(Format::Posit4Es1), 0x8);
    assert_eq!(nan(Format::Posit8Es0), 0x80);
    assert_eq!(nan(Format::Posit16Es1), 0x8000);
    for f in [Format::Int2, Format::Int4, Format::Int8, Format::Int16] {
        assert_eq!(nan(f), 0);
    }
    assert_eq!(round_to_output(OutputFormat::Fp32, &Exact::NaN), 0x7FC0_0000);
    assert_eq!(round_to_output(OutputFormat::Bf16, &Exact::NaN), 0x7FC0);
    assert_eq!(round_to_output(OutputFormat::Fp16, &Exact::NaN), 0x7E00);
    assert_eq!(round_to_output(OutputFormat::Int32, &Exact::NaN), 0);
    assert_eq!(round_to_output(OutputFormat::Posit16Es1, &Exact::NaN), 0x8000);
}

#[test]
fn nan_is_refused_where_the_format_has_no_nan() {
    use crate::golden::{encode_all, encode_checked, has_nan, GoldenError, NanPolicy};
    for f in Format::ALL {
        let r = encode_checked(f, f64::NAN, 3, NanPolicy::Refuse);
        if has_nan(f) {
            assert_eq!(r, Ok(encode(f, f64::NAN)), "{f} has a NaN code: it is used");
        } else {
            let e = r.unwrap_err();
            assert_eq!(
                e,
                GoldenError::NanInput {
                    format: f,
                    index: 3,
                    bits: f64::NAN.to_bits()
                }
            );
            assert_eq!(e.to_string(), format!("element 3 is NaN (NaN); {f} has no NaN code"));
        }
        // Opting in keeps the ml_dtypes codes, sign flip included.
        assert_eq!(
            encode_checked(f, -f64::NAN, 0, NanPolicy::Zero),
            Ok(encode(f, -f64::NAN))
        );
    }
    for f in [Format::Int2, Format::Int4, Format::Int8, Format::Int16, Format::Fp4E2M1] {
        assert!(!has_nan(f), "{f}");
    }
    assert!(!has_nan(Format::Fp6E2M3) && !has_nan(Format::Fp6E3M2));
    let e = encode_all(Format::Fp4E2M1, &[1.0, 2.0, -f64::NAN], NanPolicy::Refuse).unwrap_err();
    assert!(e.to_string().starts_with("element 2 is NaN (-NaN); fp4"), "{e}");
    assert_eq!(
        encode_all(Format::Fp4E2M1, &[1.0, f64::NAN], NanPolicy::Zero),
        Ok(vec![0x2, 0x8])
    );
    // Infinities are not NaN: they follow the overflow rule (saturate).
    assert_eq!(
        encode_all(Format::Int8, &[f64::INFINITY], NanPolicy::Refuse),
        Ok(vec![0x7F])
    );
}

// ---------------------------------------------------------------------------------------------
// Encode: ties, overflow, underflow (expected codes read off ml_dtypes / SoftPosit).

#[test]
fn fp4_ties_to_even() {
    let e = |x| encode(Format::Fp4E2M1, x);
    assert_eq!(e(2.5), 0x4); // 2 (mantissa 0) not 3
    assert_eq!(e(3.5), 0x6); // 4
    assert_eq!(e(5.0), 0x6); // 4 not 6
    assert_eq!(e(1.25), 0x2); // 1
    assert_eq!(e(1.75), 0x4); // 2
    assert_eq!(e(0.75), 0x2); // 1, not the odd 0.5
    assert_eq!(e(0.25), 0x0); // 0
    assert_eq!(e(0.26), 0x1);
    assert_eq!(e(-2.5), 0xC);
    assert_eq!(e(2.5000001), 0x5);
}

#[test]
fn underflow_keeps_the_sign() {
    // IEEE and ml_dtypes: a nonzero value that rounds to zero is ±0.
    assert_eq!(encode(Format::Fp4E2M1, -0.25), 0x8);
    assert_eq!(encode(Format::Fp4E2M1, -1e-9), 0x8);
    assert_eq!(encode(Format::Fp4E2M1, 1e-9), 0x0);
    assert_eq!(encode(Format::Fp8E4M3, -1e-9), 0x80);
    assert_eq!(encode(Format::Fp8E5M2, -1e-9), 0x80);
    assert_eq!(encode(Format::Fp8E4M3, p2(-10)), 0x00); // tie with 2^-9: even is 0
    assert_eq!(encode(Format::Fp8E4M3, p2(-10) * 1.0000001), 0x01);
    assert_eq!(encode(Format::Fp8E4M3, -p2(-10) * 1.0001), 0x81);
    // −0.0 keeps its sign in float formats (as ml_dtypes), not in posits or integers.
    assert_eq!(encode(Format::Fp8E4M3, -0.0), 0x80);
    assert_eq!(encode(Format::Fp4E2M1, -0.0), 0x8);
    assert_eq!(encode(Format::Posit8Es0, -0.0), 0x00);
    assert_eq!(encode(Format::Int8, -0.0), 0x00);
    // A negative NaN keeps its sign where the format has NaN; no-NaN formats flip it (ml_dtypes).
    assert_eq!(encode(Format::Fp8E4M3, -f64::NAN), 0xFF);
    assert_eq!(encode(Format::Fp8E5M2, -f64::NAN), 0xFE);
    assert_eq!(encode(Format::Fp4E2M1, -f64::NAN), 0x0);
    assert_eq!(encode(Format::Fp4E2M1, f64::NAN), 0x8);
    assert_eq!(round_to_output(OutputFormat::Fp32, &fin(-1, -200)), 0x8000_0000);
}

#[test]
fn overflow_rules() {
    let inf = f64::INFINITY;
    // FP4/FP6: saturate.
    for (x, c) in [(7.0, 0x7), (1e9, 0x7), (-1e9, 0xF), (inf, 0x7), (-inf, 0xF), (6.9, 0x7)] {
        assert_eq!(encode(Format::Fp4E2M1, x), c, "{x}");
    }
    assert_eq!(encode(Format::Fp6E2M3, 1e9), 0x1F);
    assert_eq!(encode(Format::Fp6E3M2, -inf), 0x3F);
    // E4M3fn: past 448 (after rounding) is NaN, sign kept.
    for (x, c) in [
        (448.0, 0x7E),
        (464.0, 0x7E), // tie between 448 and 480: even mantissa is 448
        (465.0, 0x7F),
        (480.0, 0x7F),
        (1e9, 0x7F),
        (-464.0, 0xFE),
        (-1e9, 0xFF),
        (inf, 0x7F),
        (-inf, 0xFF),
    ] {
        assert_eq!(encode(Format::Fp8E4M3, x), c, "{x}");
    }
    // E5M2: IEEE overflow to ±Inf.
    for (x, c) in [
        (57344.0, 0x7B),
        (61439.0, 0x7B),
        (61440.0, 0x7C), // tie: even goes up to 2^16 → Inf
        (1e9, 0x7C),
        (-1e9, 0xFC),
        (inf, 0x7C),
        (-inf, 0xFC),
    ] {
        assert_eq!(encode(Format::Fp8E5M2, x), c, "{x}");
    }
    // Integers saturate.
    for (x, c) in [
        (127.4, 0x7F),
        (127.5, 0x7F),
        (1e300, 0x7F),
        (inf, 0x7F),
        (-128.5, 0x80),
        (-1e9, 0x80),
        (-inf, 0x80),
    ] {
        assert_eq!(encode(Format::Int8, x), c, "{x}");
    }
    assert_eq!(encode(Format::Int2, 5.0), 0x1);
    assert_eq!(encode(Format::Int2, -5.0), 0x2);
    // Posits saturate at ±maxpos and never reach 0.
    for (x, c) in [
        (1e9, 0x7F),
        (-1e9, 0x81),
        (1e-9, 0x01),
        (-1e-9, 0xFF),
        (inf, 0x80),
        (-inf, 0x80),
        (0.0, 0x00),
    ] {
        assert_eq!(encode(Format::Posit8Es0, x), c, "{x}");
    }
    assert_eq!(encode(Format::Posit4Es1, 1e9), 0x7);
    assert_eq!(encode(Format::Posit4Es1, -1e-9), 0xF);
}

#[test]
fn int_rounding() {
    let e = |x| encode(Format::Int8, x);
    assert_eq!(e(2.5), 2);
    assert_eq!(e(3.5), 4);
    assert_eq!(e(-2.5), 0xFE);
    assert_eq!(e(-3.5), 0xFC);
    assert_eq!(e(0.5), 0);
    assert_eq!(e(-0.5), 0);
    assert_eq!(e(0.5000001), 1);
    assert_eq!(e(-7.0), 0xF9);
    assert_eq!(encode(Format::Int16, -32768.0), 0x8000);
    assert_eq!(encode(Format::Int16, 32767.5), 0x7FFF);
}

/// E8M0 rounding (values read off ml_dtypes 0.6.0, except the documented bottom stretch).
#[test]
fn e8m0_rounding_matches_ml_dtypes() {
    let e = |x| encode(Format::E8M0, x);
    for (x, c) in [
        (1.0, 0x7F),
        (1.4, 0x7F),
        (1.5, 0x80), // ties go up (away from zero) at every exponent
        (3.0, 0x81),
        (6.0, 0x82),
        (1.5 * p2(-5), 0x7B),
        (1.5 * p2(-4), 0x7C),
        (0.75, 0x7F),
        (0.7, 0x7E),
        (1e9, 0x9D),
        (1e-9, 0x61),
        (p2(127), 0xFE),
        (1.4 * p2(127), 0xFE),
        (1.5 * p2(127), 0xFF),
        (p2(128), 0xFF),
        (p2(200), 0xFF),
        (f64::INFINITY, 0xFF),
        (p2(-126) * 1.4999, 0x01),
        (p2(-126) * 1.5, 0x02),
        // The bottom: at and below 2^-127 is code 0; the midpoint rule holds there too (where
        // ml_dtypes 0.6.0 gives code 1 for all of (2^-127, 1.5·2^-127)).
        (p2(-127), 0x00),
        (p2(-127) * 1.05, 0x00),
        (p2(-127) * 1.4999, 0x00),
        (p2(-127) * 1.5, 0x01),
        (p2(-128) * 1.9, 0x00),
        (p2(-130), 0x00),
        (p2(-149), 0x00),
        // Not positive: NaN.
        (0.0, 0xFF),
        (-1.0, 0xFF),
        (f64::NEG_INFINITY, 0xFF),
    ] {
        assert_eq!(e(x), c, "{x:e}");
    }
    // With saturation instead, the top finite code.
    let enc = Format::E8M0.spec().encoding;
    assert_eq!(round_exact(8, enc, Overflow::Saturate, &fin(1, 300)), 0xFE);
}

/// Values read off SoftPosit (posit8 = es 0, posit16 = es 1).
#[test]
fn posit_rounding_matches_softposit() {
    let p8 = |x| encode(Format::Posit8Es0, x);
    for (x, c) in [
        (3.0 * p2(-7), 0x02), // tie in the regime-only stretch: even string
        (48.0, 0x7E),         // tie between 32 and 64: even string 0x7E
        (49.0, 0x7F),
        (40.0, 0x7E),
        (56.0, 0x7F),
        (1.0 + p2(-6), 0x40), // tie: even
        (1.0 + 3.0 * p2(-6), 0x42),
        (0.1, 0x06),
        (-0.1, 0xFA),
        (5.0, 0x72),
        (p2(-7), 0x01),
        (0.75 * p2(-6), 0x01),
    ] {
        assert_eq!(p8(x), c, "{x:e}");
    }
    let p16 = |x| encode(Format::Posit16Es1, x);
    for (x, c) in [
        (1.0, 0x4000),
        (p2(28), 0x7FFF),
        (p2(29), 0x7FFF),
        (p2(-28), 0x0001),
        (p2(-30), 0x0001),
        (1.5 * p2(-28), 0x0001),
        (1.0 + p2(-13), 0x4000),
        (1.0 + 3.0 * p2(-13), 0x4002),
        (1.0 + p2(-13) + p2(-40), 0x4001),
        (1.5 * p2(26), 0x7FFE),
        (p2(27), 0x7FFE), // cut exponent bit: tie, the regime's last bit 0 is even
        (3.0 * p2(26), 0x7FFF),
        (1.25 * p2(27), 0x7FFF),
        (1.75 * p2(26), 0x7FFE),
        (1.5 * p2(-27), 0x0002),
        (1.5 * p2(-26), 0x0002),
        (1.26 * p2(-26), 0x0002),
        (-3.0, 0xA800),
        (100.0, 0x7920),
        (0.1, 0x14CD),
        (-0.1, 0xEB33),
        (12345.678, 0x7F60),
    ] {
        assert_eq!(p16(x), c, "{x:e}");
        assert_eq!(round_to_output(OutputFormat::Posit16Es1, &Exact::from_f64(x)), c);
    }
    let p4 = |x| encode(Format::Posit4Es1, x);
    // Posit(4,1) by hand: 2^-3 is the (geometric) tie between 1/16 (0001) and 1/4 (0010).
    assert_eq!(p4(0.125), 0x2);
    assert_eq!(p4(0.1), 0x1);
    assert_eq!(p4(8.0), 0x6); // tie between 4 (0110) and 16 (0111): even
    assert_eq!(p4(9.0), 0x7);
    assert_eq!(p4(3.0), 0x6); // 3 is the tie of 2 (0101) and 4 (0110): even
    assert_eq!(p4(1.5), 0x4); // tie of 1 (0100) and 2 (0101): even
}

/// Encode against a brute-force nearest-code search (ties to the even code) for every
/// sign-magnitude float and integer operand format, within range.
#[test]
fn encode_matches_brute_force_nearest() {
    let mut rng = StdRng::seed_from_u64(1);
    for fmt in Format::ALL {
        let enc = fmt.spec().encoding;
        if !matches!(enc, Encoding::Float { .. } | Encoding::Int) {
            continue;
        }
        // Finite codes with their values, sorted by value (one zero).
        let mut grid: Vec<(f64, u32)> = (0..fmt.code_count())
            .filter_map(|c| {
                let u = decode(fmt, c).unwrap();
                (!u.nar && !u.inf && (!u.zero || c == 0)).then(|| (val(fmt, c), c))
            })
            .collect();
        grid.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        // Midpoints of neighbours, and random points in range.
        let mut xs: Vec<f64> = grid.windows(2).map(|w| (w[0].0 + w[1].0) / 2.0).collect();
        let (lo, hi) = (grid[0].0, grid[grid.len() - 1].0);
        xs.extend((0..2000).map(|_| rng.gen_range(lo..hi)));
        for x in xs {
            let i = grid.partition_point(|g| g.0 < x);
            let want = if i == 0 {
                grid[0].1
            } else if i == grid.len() {
                grid[i - 1].1
            } else {
                let (a, b) = (grid[i - 1], grid[i]);
                match (x - a.0).partial_cmp(&(b.0 - x)).unwrap() {
                    std::cmp::Ordering::Less => a.1,
                    std::cmp::Ordering::Greater => b.1,
                    std::cmp::Ordering::Equal => {
                        if a.1 & 1 == 0 {
                            a.1
                        } else {
                            b.1
                        }
                    }
                }
            };
            let got = encode(fmt, x);
            // A zero result may carry the sign of x (floats): compare values then.
            if want == 0 {
                assert_eq!(val(fmt, got), 0.0, "{fmt} {x:e}");
            } else {
                assert_eq!(got, want, "{fmt} {x:e}");
            }
        }
    }
}

#[test]
fn encode_agrees_with_round_exact_of_the_exact_value() {
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..20_000 {
        let x = f64::from_bits(rng.gen());
        let x = if rng.gen_bool(0.5) {
            x
        } else {
            rng.gen_range(-500.0..500.0)
        };
        let ex = Exact::from_f64(x);
        // The signs of −0.0 and of a NaN are encode's own rule (Exact carries neither).
        if x == 0.0 || x.is_nan() {
            continue;
        }
        for fmt in Format::ALL {
            let s = fmt.spec();
            assert_eq!(
                encode(fmt, x),
                round_exact(s.bits, s.encoding, s.overflow, &ex),
                "{fmt} {x:e}"
            );
        }
    }
}

/// Posit encode lands on one of the two codes around the value (no code lies between them).
#[test]
fn posit_encode_brackets_the_value() {
    let mut rng = StdRng::seed_from_u64(3);
    for fmt in [Format::Posit4Es1, Format::Posit8Es0, Format::Posit16Es1] {
        let n = fmt.code_count();
        let (minpos, maxpos) = (val(fmt, 1), val(fmt, n / 2 - 1));
        for _ in 0..20_000 {
            let x: f64 = rng.gen_range(-1.0..1.0) * p2(rng.gen_range(-40..40));
            let c = encode(fmt, x);
            let v = val(fmt, c);
            if x.abs() < minpos {
                assert_eq!(v, minpos.copysign(x), "{fmt} {x:e}");
            } else if x.abs() > maxpos {
                assert_eq!(v, maxpos.copysign(x), "{fmt} {x:e}");
            } else {
                // Codes in two's complement order are values in order, so checking the two
                // neighbouring codes is enough.
                for nb in [val(fmt, (c + n - 1) % n), val(fmt, (c + 1) % n)] {
                    let between = nb != v && nb >= x.min(v) && nb <= x.max(v);
                    assert!(!between, "{fmt} {x:e} -> {c:#x}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output formats.

#[test]
fn fp32_output_matches_the_hardware_cast() {
    // Rust's f64 → f32 cast rounds to nearest even with subnormals and overflow to Inf.
    let mut rng = StdRng::seed_from_u64(4);
    for i in 0..200_000 {
        let x = match i % 3 {
            0 => f64::from_bits(rng.gen()),
            1 => rng.gen_range(-1.0..1.0) * p2(rng.gen_range(-160..130)),
            // f32 midpoints (ties) and their neighbours.
            _ => {
                let bits = rng.gen::<u32>() & 0x7F7F_FFFF;
                let f = f64::from(f32::from_bits(bits));
                let g = f64::from(f32::from_bits(bits + 1));
                // The tie and its two f64 neighbours.
                let mid = ((f + g) / 2.0).to_bits();
                let sign = if rng.gen_bool(0.5) { -1.0 } else { 1.0 };
                sign * f64::from_bits(mid + rng.gen_range(0..3) - 1)
            }
        };
        let got = round_to_output(OutputFormat::Fp32, &Exact::from_f64(x));
        if x.is_nan() {
            assert_eq!(got, 0x7FC0_0000);
        } else if x == 0.0 {
            assert_eq!(got, 0);
        } else {
            assert_eq!(got, (x as f32).to_bits(), "{x:e}");
        }
    }
    let r = |x: &Exact| round_to_output(OutputFormat::Fp32, x);
    assert_eq!(r(&fin((1 << 24) + 1, -24)), 0x3F80_0000); // 1 + 2^-24: tie, even
    assert_eq!(r(&fin((1 << 24) + 3, -24)), 0x3F80_0002); // tie, up to even
    assert_eq!(r(&fin(1, -150)), 0); // half the smallest subnormal: tie to 0
    assert_eq!(r(&fin(3, -150)), 2); // 1.5 ulp: tie to 2
    assert_eq!(r(&fin(-5, -151)), 0x8000_0001); // 1.25 ulp
    assert_eq!(r(&fin((1 << 24) - 1, 104)), 0x7F7F_FFFF); // max finite
    assert_eq!(r(&fin((1 << 25) - 1, 103)), 0x7F80_0000); // tie above max: Inf
    assert_eq!(r(&fin(-(1 << 25) + 1, 103)), 0xFF80_0000);
    assert_eq!(r(&fin((1 << 25) - 3, 103)), 0x7F7F_FFFE); // tie below max: even
    assert_eq!(r(&fin((1 << 26) - 3, 102)), 0x7F7F_FFFF);
    assert_eq!(r(&Exact::Inf { negative: true }), 0xFF80_0000);
}

#[test]
fn bf16_output_matches_f32_bit_rounding() {
    // For f32 inputs, BF16 RNE is integer rounding of the top 16 bits.
    let mut rng = StdRng::seed_from_u64(5);
    for i in 0..200_000u32 {
        let bits = if i < 1 << 16 {
            (i << 16) | 0x8000 // every tie, both parities
        } else {
            rng.gen()
        };
        let f = f32::from_bits(bits);
        if f.is_nan() {
            continue;
        }
        let want = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
        let got = round_to_output(OutputFormat::Bf16, &Exact::from_f64(f64::from(f)));
        let want = if f == 0.0 { 0 } else { want };
        assert_eq!(got, want, "{bits:#x}");
    }
}

#[test]
fn fp16_output_values() {
    // Expected codes from numpy's float64 → float16 cast.
    let r = |x: f64| round_to_output(OutputFormat::Fp16, &Exact::from_f64(x));
    for (x, c) in [
        (65504.0, 0x7BFF),
        (65519.0, 0x7BFF),
        (65520.0, 0x7C00),
        (p2(-24), 0x0001),
        (p2(-25), 0x0000),
        (1.5 * p2(-25), 0x0001),
        (3.0 * p2(-25), 0x0002),
        (1.0 + p2(-11), 0x3C00),
        (1.0 + 3.0 * p2(-11), 0x3C02),
        (p2(-14), 0x0400),
        (p2(-14) * (1.0 - p2(-11)), 0x0400),
        (-p2(-26), 0x8000),
        (1e9, 0x7C00),
        (-1e9, 0xFC00),
        (0.1, 0x2E66),
    ] {
        assert_eq!(r(x), c, "{x:e}");
    }
}

#[test]
fn int32_output() {
    let r = |x: &Exact| round_to_output(OutputFormat::Int32, x);
    assert_eq!(r(&fin(5, -1)), 2); // 2.5
    assert_eq!(r(&fin(7, -1)), 4); // 3.5
    assert_eq!(r(&fin(-5, -1)), 0xFFFF_FFFE);
    assert_eq!(r(&fin(3, -1)), 2);
    assert_eq!(r(&fin(1, -1)), 0);
    assert_eq!(r(&fin(1, -100)), 0);
    assert_eq!(r(&fin((1 << 32) - 1, -1)), 0x7FFF_FFFF); // 2^31 - 0.5 ties to 2^31: saturate
    assert_eq!(r(&fin(-(1 << 32) - 1, -1)), 0x8000_0000); // -2^31 - 0.5 ties to -2^31
    assert_eq!(r(&fin(-(1 << 32) - 3, -1)), 0x8000_0000); // saturates
    assert_eq!(r(&fin(i64::from(i32::MIN), 0)), 0x8000_0000);
    assert_eq!(r(&fin(1, 40)), 0x7FFF_FFFF);
    assert_eq!(r(&fin(-1, 4000)), 0x8000_0000);
    assert_eq!(r(&fin(123_456_789, 0)), 123_456_789);
    assert_eq!(r(&Exact::Inf { negative: false }), 0x7FFF_FFFF);
    assert_eq!(r(&Exact::Inf { negative: true }), 0x8000_0000);
    assert_eq!(r(&Exact::zero()), 0);
    // A huge mantissa with a far-away sticky bit: 2.5 + tiny rounds up.
    let big = (BigInt::from(5) << 300) + 1;
    assert_eq!(r(&Exact::Finite { mant: big, exp: -301 }), 3);
}

#[test]
fn posit16_output_minpos_maxpos_and_nar() {
    let r = |x: &Exact| round_to_output(OutputFormat::Posit16Es1, x);
    assert_eq!(r(&fin(1, -1000)), 0x0001);
    assert_eq!(r(&fin(-1, -1000)), 0xFFFF);
    assert_eq!(r(&fin(1, 1000)), 0x7FFF);
    assert_eq!(r(&fin(-1, 1000)), 0x8001);
    assert_eq!(r(&Exact::zero()), 0);
    assert_eq!(r(&Exact::Inf { negative: false }), 0x8000);
    assert_eq!(r(&Exact::Inf { negative: true }), 0x8000);
}

#[test]
fn weird_encodings_do_not_panic() {
    let xs = [
        fin(3, 5),
        fin(-3, -5),
        fin(1, i64::MAX),
        fin(-1, i64::MIN),
        Exact::Finite {
            mant: BigInt::from(1) << 5000,
            exp: -5000,
        },
        Exact::NaN,
        Exact::Inf { negative: true },
        Exact::zero(),
    ];
    let encs = [
        Encoding::Int,
        Encoding::Posit { es: 0 },
        Encoding::Posit { es: 31 },
        Encoding::Posit { es: 1000 },
        Encoding::PowerOfTwo { bias: 0 },
        Encoding::PowerOfTwo { bias: i32::MIN },
        Encoding::Float {
            exp_bits: 0,
            man_bits: 3,
            bias: 0,
            specials: FloatSpecials::None,
        },
        Encoding::Float {
            exp_bits: 8,
            man_bits: 23,
            bias: i32::MAX,
            specials: FloatSpecials::Ieee,
        },
        Encoding::Float {
            exp_bits: 31,
            man_bits: 0,
            bias: 3,
            specials: FloatSpecials::NanOnly,
        },
    ];
    for bits in [0, 1, 2, 3, 8, 16, 31, 32, 33, 64, u32::MAX] {
        for enc in encs {
            for ov in [Overflow::Saturate, Overflow::ToInf, Overflow::ToNan] {
                for x in &xs {
                    let _ = round_exact(bits, enc, ov, x);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Products and dot products.

fn unified(fmt: Format, code: u32) -> Unified {
    decode(fmt, code).unwrap()
}

#[test]
fn exact_product_rules() {
    let e5 = |c| unified(Format::Fp8E5M2, c);
    let (pinf, ninf, nan, zero) = (e5(0x7C), e5(0xFC), e5(0x7E), e5(0x00));
    let two = e5(0x40);
    let neg_half = e5(0xB8);
    assert_eq!(exact_product(nan, two), Exact::NaN);
    assert_eq!(exact_product(two, nan), Exact::NaN);
    assert_eq!(exact_product(pinf, zero), Exact::NaN);
    assert_eq!(exact_product(zero, ninf), Exact::NaN);
    assert_eq!(exact_product(pinf, neg_half), Exact::Inf { negative: true });
    assert_eq!(exact_product(ninf, neg_half), Exact::Inf { negative: false });
    assert_eq!(exact_product(ninf, pinf), Exact::Inf { negative: true });
    assert_eq!(exact_product(zero, neg_half), Exact::zero());
    // Finite: mantissas multiply, exponents add, not normalized.
    assert_eq!(
        exact_product(two, neg_half),
        fin(
            -(i64::from(two.mant) * i64::from(neg_half.mant)),
            i64::from(two.exp) + i64::from(neg_half.exp)
        )
    );
    assert_eq!(exact_product(two, neg_half).to_f64(), -1.0);
    let nar = unified(Format::Posit8Es0, 0x80);
    assert_eq!(exact_product(nar, unified(Format::Int8, 3)), Exact::NaN);
    let p = exact_product(unified(Format::Int8, 0x80), unified(Format::Int8, 0x80));
    assert_eq!(p.normalized(), fin(1, 14));
}

/// The exact dot by the obvious method: BigInt sum of `exact_product`s.
fn naive_dot(af: Format, a: &[u32], wf: Format, w: &[u32]) -> Exact {
    let mut terms = Vec::new();
    let (mut nan, mut pinf, mut ninf) = (false, false, false);
    for (&x, &y) in a.iter().zip(w) {
        match exact_product(unified(af, x), unified(wf, y)) {
            Exact::NaN => nan = true,
            Exact::Inf { negative: true } => ninf = true,
            Exact::Inf { negative: false } => pinf = true,
            Exact::Finite { mant, exp } => terms.push((mant, exp)),
        }
    }
    if nan || (pinf && ninf) {
        return Exact::NaN;
    }
    if pinf || ninf {
        return Exact::Inf { negative: ninf };
    }
    let lo = terms.iter().map(|t| t.1).min().unwrap_or(0);
    let sum: BigInt = terms.iter().map(|(m, e)| m << ((e - lo) as u64)).sum();
    Exact::Finite { mant: sum, exp: lo }.normalized()
}

#[test]
fn exact_dot_matches_the_naive_sum_for_every_format_pair() {
    let mut rng = StdRng::seed_from_u64(6);
    for af in Format::ALL {
        for wf in Format::ALL {
            for round in 0..40 {
                let len = [0, 1, 2, 7, 64, 300][round % 6];
                let pick = |rng: &mut StdRng, f: Format| {
                    let mut c = rng.gen_range(0..f.code_count());
                    // Mostly finite, so the sum is exercised; specials sometimes.
                    while round % 4 != 0 && {
                        let u = unified(f, c);
                        u.nar || u.inf
                    } {
                        c = rng.gen_range(0..f.code_count());
                    }
                    c
                };
                let a: Vec<u32> = (0..len).map(|_| pick(&mut rng, af)).collect();
                let w: Vec<u32> = (0..len).map(|_| pick(&mut rng, wf)).collect();
                let got = exact_dot(af, &a, wf, &w).unwrap();
                assert_eq!(got, naive_dot(af, &a, wf, &w), "{af} x {wf} {a:?} {w:?}");
                let products: Vec<Exact> = a
                    .iter()
                    .zip(&w)
                    .map(|(&x, &y)| exact_product(unified(af, x), unified(wf, y)))
                    .collect();
                assert_eq!(exact_sum(&products), got, "{af} x {wf}");
            }
        }
    }
}

#[test]
fn exact_dot_extremes_use_the_full_accumulator() {
    // Largest and smallest products together, all signs: posit16 (the widest span), E8M0, int16.
    for (f, big, small) in [
        (Format::Posit16Es1, 0x7FFF, 0x0001),
        (Format::E8M0, 0xFE, 0x00),
        (Format::Int16, 0x8000, 0x0001),
        (Format::Fp8E5M2, 0x7B, 0x01),
    ] {
        let a = vec![big, small, big, small, big];
        let w = vec![big, small, big, small, small];
        let got = exact_dot(f, &a, f, &w).unwrap();
        assert_eq!(got, naive_dot(f, &a, f, &w), "{f}");
        let a: Vec<u32> = std::iter::repeat_n(big, 1000).collect();
        assert_eq!(exact_dot(f, &a, f, &a).unwrap(), naive_dot(f, &a, f, &a));
    }
}

#[test]
fn exact_dot_cancellation_keeps_the_small_term() {
    let e4 = |x| encode(Format::Fp8E4M3, x);
    let one = e4(1.0);
    let a = [e4(448.0), e4(p2(-9)), e4(-448.0)];
    let got = exact_dot(Format::Fp8E4M3, &a, Format::Fp8E4M3, &[one; 3]).unwrap();
    assert_eq!(got, fin(1, -9));
    // Rounded once: 448·448 + 2^-18 − 448·448 is 2^-18 exactly, which an FP32 accumulator
    // summing in order would lose.
    let a = [e4(448.0), e4(p2(-9)), e4(-448.0)];
    let w = [e4(448.0), e4(p2(-9)), e4(448.0)];
    let d = dot(Format::Fp8E4M3, &a, Format::Fp8E4M3, &w, OutputFormat::Fp32).unwrap();
    assert_eq!(f32::from_bits(d), 2f32.powi(-18));
    // Posit16: maxpos² + minpos² − maxpos².
    let (maxp, minp, nmaxp) = (0x7FFF, 0x0001, 0x8001);
    let a = [maxp, minp, nmaxp];
    let w = [maxp, minp, maxp];
    let got = exact_dot(Format::Posit16Es1, &a, Format::Posit16Es1, &w).unwrap();
    assert_eq!(got, fin(1, -56));
    let d = dot(Format::Posit16Es1, &a, Format::Posit16Es1, &w, OutputFormat::Posit16Es1);
    assert_eq!(d, Ok(0x0001)); // 2^-56 is below minpos: minpos, never 0
    let d = dot(Format::Posit16Es1, &a, Format::Posit16Es1, &w, OutputFormat::Fp32);
    assert_eq!(d, Ok(0x2380_0000)); // 2^-56 is a normal FP32
                                    // Int8: exact integer sums.
    let a = [0x7F, 0x80, 0x01];
    let w = [0x7F, 0x7F, 0xFF];
    let d = dot(Format::Int8, &a, Format::Int8, &w, OutputFormat::Int32).unwrap();
    assert_eq!(d as i32, 127 * 127 - 128 * 127 - 1);
}

#[test]
fn exact_dot_specials() {
    let f = Format::Fp8E5M2;
    let (pinf, ninf, nan, one, zero) = (0x7C, 0xFC, 0x7E, 0x3C, 0x00);
    let d = |a: &[u32], w: &[u32]| exact_dot(f, a, f, w).unwrap();
    assert_eq!(d(&[pinf, one], &[one, one]), Exact::Inf { negative: false });
    assert_eq!(d(&[pinf, one], &[0xBC, one]), Exact::Inf { negative: true });
    assert_eq!(d(&[pinf, ninf], &[one, one]), Exact::NaN);
    assert_eq!(d(&[pinf, pinf], &[one, ninf]), Exact::NaN);
    assert_eq!(d(&[pinf, one], &[zero, one]), Exact::NaN); // Inf × 0
    assert_eq!(d(&[nan, one], &[one, one]), Exact::NaN);
    assert_eq!(d(&[one, 0xBC], &[one, one]), Exact::zero());
    assert_eq!(d(&[], &[]), Exact::zero());
    let o = |a: &[u32], w: &[u32], out| dot(f, a, f, w, out).unwrap();
    assert_eq!(o(&[pinf], &[one], OutputFormat::Fp32), 0x7F80_0000);
    assert_eq!(o(&[pinf], &[one], OutputFormat::Posit16Es1), 0x8000);
    assert_eq!(o(&[ninf], &[one], OutputFormat::Int32), 0x8000_0000);
    assert_eq!(o(&[nan], &[one], OutputFormat::Bf16), 0x7FC0);
    assert_eq!(o(&[one, 0xBC], &[one, one], OutputFormat::Fp16), 0);
    // NaR in a posit dot.
    let p = exact_dot(Format::Posit8Es0, &[0x80], Format::Int8, &[0]).unwrap();
    assert_eq!(p, Exact::NaN);
}

#[test]
fn exact_sum_rules() {
    let inf = |negative| Exact::Inf { negative };
    assert_eq!(exact_sum(&[]), Exact::zero());
    assert_eq!(exact_sum(&[fin(0, 9), fin(0, -3)]), Exact::zero());
    assert_eq!(exact_sum(&[fin(3, 0), fin(-1, 1)]), fin(1, 0));
    assert_eq!(exact_sum(&[fin(1, 100), fin(1, -100), fin(-1, 100)]), fin(1, -100));
    assert_eq!(exact_sum(&[fin(1, 0), inf(true)]), inf(true));
    assert_eq!(exact_sum(&[inf(false), inf(true)]), Exact::NaN);
    assert_eq!(exact_sum(&[inf(false), Exact::NaN]), Exact::NaN);
}

#[test]
fn exact_dot_errors() {
    assert_eq!(
        exact_dot(Format::Int8, &[1, 2], Format::Int8, &[1]),
        Err(GoldenError::LengthMismatch { a: 2, w: 1 })
    );
    // Length is checked before codes.
    assert_eq!(
        dot(Format::Int8, &[999], Format::Int8, &[], OutputFormat::Fp32),
        Err(GoldenError::LengthMismatch { a: 1, w: 0 })
    );
    assert_eq!(
        dot(Format::Int8, &[1, 2], Format::Fp4E2M1, &[1, 16], OutputFormat::Fp32),
        Err(GoldenError::CodeOutOfRange {
            format: Format::Fp4E2M1,
            code: 16
        })
    );
}

#[test]
fn exact_dot_is_order_independent() {
    let mut rng = StdRng::seed_from_u64(7);
    for f in [Format::Fp8E4M3, Format::Posit16Es1, Format::Int16] {
        let mut pairs = Vec::new();
        while pairs.len() < 200 {
            let (x, y) = (rng.gen_range(0..f.code_count()), rng.gen_range(0..f.code_count()));
            if !unified(f, x).nar && !unified(f, y).nar {
                pairs.push((x, y));
            }
        }
        let (a, w): (Vec<u32>, Vec<u32>) = pairs.iter().copied().unzip();
        let first = exact_dot(f, &a, f, &w).unwrap();
        pairs.reverse();
        pairs.rotate_left(17);
        let (a, w): (Vec<u32>, Vec<u32>) = pairs.into_iter().unzip();
        assert_eq!(exact_dot(f, &a, f, &w).unwrap(), first, "{f}");
    }
}
