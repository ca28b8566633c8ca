//! Decoding codes into the unified representation, exactly as the hardware decoders must.

use num_bigint::BigInt;

use super::exact::Exact;
use super::GoldenError;
use npe_hdl::spec::formats::ovp;
use npe_hdl::spec::{Encoding, FloatSpecials, Format, OvpNormal, Unified};

const ZERO: Unified = Unified::ZERO;

const NAR: Unified = Unified {
    zero: false,
    nar: true,
    inf: false,
    sign: false,
    exp: 0,
    mant: 0,
};

fn inf(sign: bool) -> Unified {
    Unified {
        inf: true,
        sign,
        ..Unified::default()
    }
}

fn finite(sign: bool, mant: u32, exp: i32) -> Unified {
    // Every code of every table format fits the unified fields; the exhaustive tests hold
    // the table to that.
    Unified {
        sign,
        mant: mant as u16,
        exp: exp as i8,
        ..Unified::default()
    }
}

/// Decodes a code into the canonical unified form documented on [`Encoding`]; never rounds.
///
/// - Zeros (including a float's −0): `zero = 1`, sign, exp and mant 0. NaN / NaR: `nar = 1`, the
///   rest 0. ±Inf: `inf = 1`, sign kept, the rest 0.
/// - Int: `exp = 0`, `mant = |x|`, `sign = x < 0`.
/// - Float: normal `mant = (1 << man_bits) | frac`, `exp = e − bias − man_bits`; subnormal
///   `mant = frac`, `exp = 1 − bias − man_bits`.
/// - E8M0 (`PowerOfTwo`): `mant = 1`, `exp = code − bias`; all ones is NaN.
/// - Posit(n, es): 0 is zero, `10…0` is NaR, a negative is decoded from its two's complement; the
///   regime run gives `k`, `scale = k·2^es + e` (exponent bits cut off by a long regime are 0),
///   `mant = 1.f` with `f` left-aligned to [`Encoding::max_frac_bits`] bits,
///   `exp = scale − max_frac_bits`.
///
/// A code with bits above the format's width is [`GoldenError::CodeOutOfRange`]; a code of a
/// pair format (OVP) is [`GoldenError::Paired`]: its value depends on its partner, see
/// [`decode_pair`].
#[inline]
pub fn decode(fmt: Format, code: u32) -> Result<Unified, GoldenError> {
    let s = fmt.spec();
    if u64::from(code) >> s.bits != 0 {
        return Err(GoldenError::CodeOutOfRange { format: fmt, code });
    }
    let bits = s.bits;
    let sign_bit = 1u32 << (bits - 1);
    Ok(match s.encoding {
        Encoding::Int => {
            // Written as selects, not branches: the sign of random data is unpredictable.
            let sign = code & sign_bit != 0;
            let mag = if sign {
                code.wrapping_neg() & width_mask(bits)
            } else {
                code
            };
            if mag == 0 {
                ZERO
            } else {
                finite(sign, mag, 0)
            }
        }
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials,
        } => {
            let sign = code & sign_bit != 0;
            let e = (code >> man_bits) & ((1 << exp_bits) - 1);
            let frac = code & ((1 << man_bits) - 1);
            let e_ones = (1 << exp_bits) - 1;
            let frac_ones = (1 << man_bits) - 1;
            match specials {
                FloatSpecials::Ieee if e == e_ones && frac == 0 => inf(sign),
                FloatSpecials::Ieee if e == e_ones => NAR,
                FloatSpecials::NanOnly if e == e_ones && frac == frac_ones => NAR,
                _ if e == 0 && frac == 0 => ZERO,
                _ if e == 0 => finite(sign, frac, 1 - bias - man_bits as i32),
                _ => finite(sign, (1 << man_bits) | frac, e as i32 - bias - man_bits as i32),
            }
        }
        Encoding::PowerOfTwo { bias } => {
            if code == width_mask(bits) {
                NAR
            } else {
                finite(false, 1, code as i32 - bias)
            }
        }
        Encoding::Posit { es } => decode_posit(bits, es, s.encoding.max_frac_bits(bits), code),
        Encoding::Ovp { .. } => return Err(GoldenError::Paired { format: fmt }),
        Encoding::Bitmod { special } => npe_hdl::spec::formats::bitmod::unified(bits, special, code as u8),
    })
}

/// Decodes one outlier-victim pair byte of a pair format (element `2k` in bits 3:0, `2k + 1` in
/// bits 7:4) into its two canonical unified values (layout: [`npe_hdl::spec::formats::ovp`]).
///
/// - No nibble is the marker `1000`: both are normal codes. int4: two's complement, `mant = |q|`,
///   `exp = 0`. flint4: sign-magnitude, magnitude code `c` → {0, 2, 4, 6, 8, 12, 16, 32}[c] flint
///   units, as `mant ∈ {2, 3}` times a power of two.
/// - One nibble is the marker: it is the victim (zero); the other is an abfloat outlier
///   `s.ee.m`: `mant = 2 + m`, `exp = e + bias − 1` (bias 5 in flint units, 3 in int4 units).
/// - Both nibbles are the marker (never written by the encoder): both are zero.
///
/// Errors: [`GoldenError::NotPaired`] for a format that is not a pair format,
/// [`GoldenError::CodeOutOfRange`] for a byte above `0xFF`.
pub fn decode_pair(fmt: Format, byte: u32) -> Result<[Unified; 2], GoldenError> {
    let Some(normal) = fmt.ovp_normal() else {
        return Err(GoldenError::NotPaired { format: fmt });
    };
    if byte > 0xFF {
        return Err(GoldenError::CodeOutOfRange {
            format: fmt,
            code: byte,
        });
    }
    let (lo, hi) = (byte & 0xF, byte >> 4);
    let marker = u32::from(ovp::MARKER);
    Ok(match (lo == marker, hi == marker) {
        (false, false) => [ovp_normal(normal, lo), ovp_normal(normal, hi)],
        (false, true) => [ovp_outlier(normal, lo), ZERO],
        (true, false) => [ZERO, ovp_outlier(normal, hi)],
        (true, true) => [ZERO, ZERO],
    })
}

/// The canonical unified form of a normal OVP nibble (not the marker).
fn ovp_normal(normal: OvpNormal, code: u32) -> Unified {
    let sign = code & 8 != 0;
    match normal {
        OvpNormal::Int4 => {
            let mag = if sign { 16 - code } else { code };
            if mag == 0 {
                ZERO
            } else {
                finite(sign, mag, 0)
            }
        }
        OvpNormal::Flint4 => match ovp::FLINT_MAGS[(code & 7) as usize] {
            0 => ZERO,
            // mag = mant × 2^exp with mant ∈ {2, 3}: 3·2^k when 3 divides it, else 2·2^(k−1).
            mag if mag % 3 == 0 => finite(sign, 3, (mag / 3).trailing_zeros() as i32),
            mag => finite(sign, 2, mag.trailing_zeros() as i32 - 1),
        },
    }
}

/// The canonical unified form of an abfloat outlier nibble `s.ee.m`.
fn ovp_outlier(normal: OvpNormal, code: u32) -> Unified {
    let (e, m) = ((code >> 1) & 3, code & 1);
    finite(code & 8 != 0, 2 + m, e as i32 + normal.abfloat_bias() - 1)
}

/// Decodes a vector of codes into unified values: element by element ([`decode`]), or two by
/// two for a pair format ([`decode_pair`] on `codes[2k] | codes[2k + 1] << 4`), where an odd
/// length is [`GoldenError::OddPairs`] (the host pads K to even before it encodes, see
/// `npe_host::quant::olive`).
pub fn decode_codes(fmt: Format, codes: &[u32]) -> Result<Vec<Unified>, GoldenError> {
    if !fmt.is_paired() {
        return codes.iter().map(|&c| decode(fmt, c)).collect();
    }
    if !codes.len().is_multiple_of(2) {
        return Err(GoldenError::OddPairs {
            format: fmt,
            len: codes.len(),
        });
    }
    let mut out = Vec::with_capacity(codes.len());
    for p in codes.chunks_exact(2) {
        for &c in p {
            if c > 0xF {
                return Err(GoldenError::CodeOutOfRange { format: fmt, code: c });
            }
        }
        out.extend(decode_pair(fmt, p[0] | p[1] << 4)?);
    }
    Ok(out)
}

fn width_mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

fn decode_posit(bits: u32, es: u32, max_frac: u32, code: u32) -> Unified {
    let sign_bit = 1u32 << (bits - 1);
    if code == 0 {
        return ZERO;
    }
    if code == sign_bit {
        return NAR;
    }
    let sign = code & sign_bit != 0;
    let mag = if sign {
        code.wrapping_neg() & width_mask(bits)
    } else {
        code
    };
    // The body: every bit after the sign.
    let body_bits = bits - 1;
    let body = mag & width_mask(body_bits);
    let first = (body >> (body_bits - 1)) & 1;
    // Run length of the regime: leading copies of `first` within the body.
    let run_src = if first == 1 { !body } else { body } & width_mask(body_bits);
    let run = (run_src.leading_zeros() - (32 - body_bits)).min(body_bits);
    let k = if first == 1 { run as i32 - 1 } else { -(run as i32) };
    // Bits after the regime and its terminating bit (none if the run fills the body).
    let rest_len = body_bits.saturating_sub(run + 1);
    let rest = body & width_mask(rest_len);
    let (e, frac, frac_len) = if rest_len >= es {
        let frac_len = rest_len - es;
        (rest >> frac_len, rest & width_mask(frac_len), frac_len)
    } else {
        // Missing exponent bits are zeros at the bottom of the field.
        (rest << (es - rest_len), 0, 0)
    };
    let scale = (k << es) + e as i32;
    finite(
        sign,
        (1 << max_frac) | (frac << (max_frac - frac_len)),
        scale - max_frac as i32,
    )
}

/// The exact value of a unified representation (`NaN` for NaN/NaR, `Inf` for ±Inf, the unsigned
/// zero for zero; a finite value keeps `mant` and `exp` as they are, not normalized).
pub fn unified_to_exact(u: Unified) -> Exact {
    if u.nar {
        Exact::NaN
    } else if u.inf {
        Exact::Inf { negative: u.sign }
    } else if u.zero {
        Exact::zero()
    } else {
        let mant = BigInt::from(u.mant);
        Exact::Finite {
            mant: if u.sign { -mant } else { mant },
            exp: i64::from(u.exp),
        }
    }
}

/// The value of a code as an `f64`: exact for every code of every format (NaN codes give a NaN,
/// −0 codes give +0.0, as the canonical unified zero is unsigned).
pub fn to_f64(fmt: Format, code: u32) -> Result<f64, GoldenError> {
    let u = decode(fmt, code)?;
    Ok(unified_f64(u))
}

/// The `f64` of a unified value, built directly: `mant < 2^16` and `|exp| < 2^7` are exact.
pub fn unified_f64(u: Unified) -> f64 {
    if u.nar {
        f64::NAN
    } else if u.inf {
        if u.sign {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    } else if u.zero {
        0.0
    } else {
        let v = f64::from(u.mant) * f64::powi(2.0, i32::from(u.exp));
        if u.sign {
            -v
        } else {
            v
        }
    }
}

/// The real value of an output-format code (NaN for NaN/NaR), for reports and `.npy` output.
/// The code's layout comes from the output format table ([`npe_hdl::spec::formats::OUTPUT_FORMATS`]);
/// bits above the format's width are ignored (16-bit results sit in the low half of their
/// 32-bit container).
pub fn output_to_f64(out: npe_hdl::spec::OutputFormat, code: u32) -> f64 {
    let s = out.spec();
    let code = code & width_mask(s.bits);
    let sign_bit = 1u32 << (s.bits - 1);
    match s.encoding {
        Encoding::Int => {
            // Sign-extend from the format's width.
            let shift = 32 - s.bits;
            f64::from(((code << shift) as i32) >> shift)
        }
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials,
        } => {
            let e = (code >> man_bits) & width_mask(exp_bits);
            let f = code & width_mask(man_bits);
            let e_ones = width_mask(exp_bits);
            let mag = match specials {
                FloatSpecials::Ieee if e == e_ones && f == 0 => f64::INFINITY,
                FloatSpecials::Ieee if e == e_ones => f64::NAN,
                FloatSpecials::NanOnly if e == e_ones && f == width_mask(man_bits) => f64::NAN,
                _ if e == 0 => f64::from(f) * f64::from(1 - bias - man_bits as i32).exp2(),
                _ => f64::from((1 << man_bits) | f) * f64::from(e as i32 - bias - man_bits as i32).exp2(),
            };
            if code & sign_bit != 0 {
                -mag
            } else {
                mag
            }
        }
        Encoding::PowerOfTwo { bias } => {
            if code == width_mask(s.bits) {
                f64::NAN
            } else {
                f64::from(code as i32 - bias).exp2()
            }
        }
        Encoding::Posit { es } => {
            let u = decode_posit(s.bits, es, s.encoding.max_frac_bits(s.bits), code);
            unified_f64(u)
        }
        // No output format is a pair format or a BitMoD data type.
        Encoding::Ovp { .. } | Encoding::Bitmod { .. } => f64::NAN,
    }
}

#[cfg(test)]
mod output_tests {
    use super::*;
    use npe_hdl::spec::OutputFormat as O;

    #[test]
    fn output_codes_decode_to_their_values() {
        assert_eq!(output_to_f64(O::Fp32, 1.5f32.to_bits()), 1.5);
        assert_eq!(output_to_f64(O::Bf16, 0xC040), -3.0);
        assert_eq!(output_to_f64(O::Fp16, 0x3C02), 1.0 + 2.0 * (-10f64).exp2());
        assert_eq!(output_to_f64(O::Fp16, 0x0001), (-24f64).exp2());
        assert_eq!(output_to_f64(O::Fp16, 0xFC00), f64::NEG_INFINITY);
        assert!(output_to_f64(O::Fp16, 0x7E00).is_nan());
        assert_eq!(output_to_f64(O::Int32, (-7i32) as u32), -7.0);
        assert_eq!(output_to_f64(O::Posit16Es1, 0x4000), 1.0);
        assert!(output_to_f64(O::Posit16Es1, 0x8000).is_nan());
        assert_eq!(output_to_f64(O::Posit16Es1, 0xC000), -1.0);
        assert_eq!(
            output_to_f64(O::Fp32, f32::MIN_POSITIVE.to_bits()),
            f64::from(f32::MIN_POSITIVE)
        );
        assert_eq!(output_to_f64(O::Fp32, 1), f64::from(f32::from_bits(1)));
        assert!(output_to_f64(O::Fp32, f32::NAN.to_bits()).is_nan());
        assert_eq!(output_to_f64(O::Bf16, 0x7F80), f64::INFINITY);
        assert_eq!(output_to_f64(O::Int32, 0x8000_0000), -2147483648.0);
        // A 16-bit result ignores the upper half of its container.
        assert_eq!(output_to_f64(O::Bf16, 0xFFFF_C040), -3.0);
    }

    #[test]
    fn every_bf16_and_fp16_code_matches_the_native_conversions() {
        for code in 0..=0xFFFFu32 {
            let bf = output_to_f64(O::Bf16, code);
            let native = f64::from(f32::from_bits(code << 16));
            assert!(bf == native || (bf.is_nan() && native.is_nan()), "bf16 {code:#x}");
        }
        // fp16 against the operand decoder's float path: same table row layout (E5M10 bias 15).
        let e5m10 = |code: u32| -> f64 {
            let (s, e, f) = ((code >> 15) & 1, (code >> 10) & 0x1F, code & 0x3FF);
            let mag = match e {
                0 => f64::from(f) * (-24f64).exp2(),
                0x1F if f == 0 => f64::INFINITY,
                0x1F => f64::NAN,
                _ => f64::from(0x400 | f) * f64::from(e as i32 - 25).exp2(),
            };
            if s == 1 {
                -mag
            } else {
                mag
            }
        };
        for code in 0..=0xFFFFu32 {
            let (a, b) = (output_to_f64(O::Fp16, code), e5m10(code));
            assert!(a == b || (a.is_nan() && b.is_nan()), "fp16 {code:#x}");
        }
    }
}
