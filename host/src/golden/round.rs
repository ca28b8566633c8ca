//! The one rounding routine: an exact value to the nearest code of an encoding.

use npe_hdl::spec::{Encoding, FloatSpecials, Format, OutputFormat, Overflow};

use super::exact::Exact;
use super::GoldenError;

/// A nonzero finite magnitude for rounding: `(-1)^neg × m × 2^e`.
///
/// `m < 2^KEEP`. Wider values are cut to their top bits with a sticky bit in bit 0 (see
/// `Value::from_exact`); that rounds exactly like the full value whenever the rounding position
/// (guard bit) lies above bit 0, which holds for every precision here (at most 53 kept bits,
/// for `Exact::to_f64`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mag {
    pub(crate) neg: bool,
    pub(crate) m: u128,
    pub(crate) e: i128,
}

impl Mag {
    /// Bits kept of a wide magnitude. Leaves room below 2^128 for a posit's exponent field
    /// (< 32 bits) on top of the magnitude.
    pub(crate) const KEEP: u32 = 96;

    /// Bit length of `m`.
    fn len(&self) -> i128 {
        i128::from(128 - self.m.leading_zeros())
    }

    /// `floor(log2 |value|)`.
    fn scale(&self) -> i128 {
        self.len() - 1 + self.e
    }
}

/// What a value looks like to the rounding routine.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    Zero,
    NaN,
    Inf(bool),
    Finite(Mag),
}

impl Value {
    /// The exact value of an `f64`, without going through a `BigInt`.
    pub(crate) fn from_f64(x: f64) -> Value {
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let man_bits = f64::MANTISSA_DIGITS - 1;
        let bias = i128::from(f64::MAX_EXP - 1);
        let e_field = (bits >> man_bits) & ((1 << (63 - man_bits)) - 1);
        let frac = bits & ((1 << man_bits) - 1);
        if x.is_nan() {
            Value::NaN
        } else if x.is_infinite() {
            Value::Inf(neg)
        } else if x == 0.0 {
            Value::Zero
        } else if e_field == 0 {
            Value::Finite(Mag {
                neg,
                m: u128::from(frac),
                e: 1 - bias - i128::from(man_bits),
            })
        } else {
            Value::Finite(Mag {
                neg,
                m: u128::from(frac | (1 << man_bits)),
                e: i128::from(e_field) - bias - i128::from(man_bits),
            })
        }
    }
}

/// Where the discarded part of a right shift lies relative to half an LSB.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rest {
    Below,
    Half,
    Above,
}

/// `m >> r` and the rest class, for any `r` (negative shifts left; the caller guarantees that
/// a left shift does not overflow).
fn split(m: u128, r: i128) -> (u128, Rest) {
    if r <= 0 {
        let q = u32::try_from(-r).ok().and_then(|s| m.checked_shl(s));
        return (q.unwrap_or(0), Rest::Below);
    }
    if r > 128 {
        // m < 2^128 < half of 2^r: below half, unless m is zero (callers never pass zero).
        return (0, Rest::Below);
    }
    let q = if r == 128 { 0 } else { m >> r };
    let half = 1u128 << (r - 1);
    let rem = if r == 128 { m } else { m & ((1u128 << r) - 1) };
    let rest = match rem.cmp(&half) {
        std::cmp::Ordering::Less => Rest::Below,
        std::cmp::Ordering::Equal => Rest::Half,
        std::cmp::Ordering::Greater => Rest::Above,
    };
    (q, rest)
}

/// Round to nearest, ties to even: `m / 2^r` rounded.
fn rne(m: u128, r: i128) -> u128 {
    let (q, rest) = split(m, r);
    if rest == Rest::Above || (rest == Rest::Half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// Rounds `x` to the nearest code of a `bits`-wide `enc` — the one rounding routine everything
/// uses (encode from `f64`, the output formats, `Exact::to_f64`).
///
/// Round to nearest, ties to even (RNE) on the exact value, then the encoding's rule:
/// - `Int` (two's complement): RNE to an integer, then clamp to `[-2^(bits-1), 2^(bits-1)-1]`
///   (integers always saturate, whatever `overflow` says); NaN → 0; ±Inf → the clamp bound.
/// - `Float`: IEEE RNE with subnormals. A nonzero value that rounds to zero keeps its sign (−0
///   code); an exact zero gives +0. A result beyond the largest finite magnitude (after rounding,
///   so a tie with the next binade rounds to even first, as IEEE and ml_dtypes do) follows
///   `overflow`: `Saturate` → ±max finite, `ToNan` → the NaN code, `ToInf` → ±Inf (formats with no
///   Inf saturate instead). ±Inf in: ±Inf for `Ieee` formats, else treated as an overflow.
///   NaN in: `Ieee` → the canonical quiet NaN (exponent all ones, top mantissa bit set, sign 0:
///   FP32 `0x7FC00000`, BF16 `0x7FC0`, FP16 `0x7E00`, E5M2 `0x7E`); `NanOnly` → `S.1…1.1…1` with
///   sign 0 (E4M3 `0x7F`), an overflow keeps the sign (E4M3 −1e9 → `0xFF`); `None` (FP4, FP6,
///   no NaN) → the negative-zero code `1 0…0` (as ml_dtypes does for a positive NaN).
/// - `PowerOfTwo` (E8M0): zero, negatives, NaN and −Inf → NaN (the all-ones code). The nearest
///   power of two by arithmetic midpoints with ties up: `2^k ≤ x < 2^(k+1)` rounds up iff
///   `x ≥ 1.5·2^k` (ml_dtypes' `float8_e8m0fnu` does this: its RNE sees the hidden bit as the
///   odd LSB). `x ≤ 2^-bias` clamps to code 0 (never NaN), as ml_dtypes does. A result at the
///   all-ones code or beyond (and +Inf) follows `overflow`: `ToNan` → NaN, else the largest code.
///   Code 0 is an ordinary value (OCP E8M0 has no subnormals), so `(2^-bias, 1.5·2^-bias)` → code
///   0; ml_dtypes 0.6.0 sends that stretch to code 1 (it rounds as if code 0 were a subnormal).
/// - `Posit { es }`: RNE on the posit bit string (SoftPosit's rounding; in regime-only stretches
///   this is a geometric tie); never rounds a nonzero to 0 (→ ±minpos) nor to NaR (→ ±maxpos);
///   NaN and ±Inf → NaR; zero → 0. `overflow` is not consulted (posits always saturate).
///
/// `bits` must be at most 32 and the encoding must fit it (every table row does); otherwise the
/// result is 0 rather than a panic.
pub fn round_exact(bits: u32, enc: Encoding, overflow: Overflow, x: &Exact) -> u32 {
    if bits > 32 {
        return 0;
    }
    round_value(bits, enc, overflow, &Value::from_exact(x)) as u32
}

/// Rounds `x` to an output format: [`round_exact`] with the format's table row.
pub fn round_to_output(out: OutputFormat, x: &Exact) -> u32 {
    let s = out.spec();
    round_exact(s.bits, s.encoding, s.overflow, x)
}

/// Encodes an `f64` in an operand format: round to nearest, ties to even, then the format's rule
/// — exactly [`round_exact`] on the exact value of `x` with the format's table row, except for
/// the signs `Exact` cannot carry, which follow ml_dtypes for float formats: −0.0 gives the −0
/// code; a negative NaN gives the NaN code with the sign bit set (E4M3 `0xFF`, E5M2 `0xFE`) and,
/// in formats with no NaN, the +0 code (a positive NaN gives −0 there: ml_dtypes flips the sign).
///
/// Note ml_dtypes converts `float64` arrays through `float32` first (double rounding): for inputs
/// that are not `f32` values it can differ within 2^-24 relative of a tie, and it maps values
/// below `f32`'s range to 0 (E8M0: NaN). This function rounds once, correctly.
///
/// It never refuses: a NaN in a format with no NaN code (INT, FP4, FP6) becomes zero, as in
/// ml_dtypes. For user data use [`encode_checked`] / [`encode_all`], which refuse it.
pub fn encode(fmt: Format, x: f64) -> u32 {
    let s = fmt.spec();
    if s.bits > 32 {
        return 0;
    }
    let code = round_value(s.bits, s.encoding, s.overflow, &Value::from_f64(x)) as u32;
    if let Encoding::Float { specials, .. } = s.encoding {
        let sign_bit = 1u32 << (s.bits - 1);
        if x == 0.0 && x.is_sign_negative() {
            return sign_bit;
        }
        if x.is_nan() && x.is_sign_negative() {
            return if specials == FloatSpecials::None {
                0
            } else {
                code | sign_bit
            };
        }
    }
    code
}

/// What to do with a NaN to be encoded in a format that has no NaN code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NanPolicy {
    /// Refuse it ([`GoldenError::NanInput`]): there is no right code, so guessing one would
    /// hide a bad input.
    #[default]
    Refuse,
    /// Encode it as [`encode`] does, following ml_dtypes: zero (INT: 0; FP4/FP6: the −0 code
    /// for a positive NaN, +0 for a negative one).
    Zero,
}

/// Whether `fmt` has a code for NaN: float formats with NaN (FP8, E8M0) and posits (NaR) do;
/// integers and the FP4/FP6 formats (no specials) do not.
pub fn has_nan(fmt: Format) -> bool {
    match fmt.spec().encoding {
        Encoding::Int => false,
        Encoding::Float { specials, .. } => specials != FloatSpecials::None,
        Encoding::PowerOfTwo { .. } | Encoding::Posit { .. } => true,
        Encoding::Ovp { .. } | Encoding::Bitmod { .. } => false,
    }
}

/// [`encode`], except that a NaN for a format without NaN ([`has_nan`]) follows `nan`: refused
/// with [`GoldenError::NanInput`] (naming element `index`), or encoded as [`encode`] does.
pub fn encode_checked(fmt: Format, x: f64, index: usize, nan: NanPolicy) -> Result<u32, GoldenError> {
    if fmt.is_paired() {
        return Err(GoldenError::Paired { format: fmt });
    }
    if matches!(fmt.spec().encoding, Encoding::Bitmod { .. }) {
        return Err(GoldenError::BlockTyped { format: fmt });
    }
    if x.is_nan() && nan == NanPolicy::Refuse && !has_nan(fmt) {
        return Err(GoldenError::NanInput {
            format: fmt,
            index,
            bits: x.to_bits(),
        });
    }
    Ok(encode(fmt, x))
}

/// [`encode_checked`] on every element; the first NaN refused is the error.
pub fn encode_all(fmt: Format, xs: &[f64], nan: NanPolicy) -> Result<Vec<u32>, GoldenError> {
    xs.iter()
        .enumerate()
        .map(|(i, &x)| encode_checked(fmt, x, i, nan))
        .collect()
}

/// Whether `enc` can be laid out in `bits` (≤ 64) without shift overflows.
fn fits(bits: u32, enc: Encoding) -> bool {
    match enc {
        Encoding::Int => (1..=64).contains(&bits),
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            ..
        } => {
            (1..32).contains(&exp_bits)
                && u64::from(exp_bits) + u64::from(man_bits) < u64::from(bits)
                && bits <= 64
                && bias.unsigned_abs() < (1 << 30)
        }
        Encoding::PowerOfTwo { bias } => (1..=32).contains(&bits) && bias.unsigned_abs() < (1 << 30),
        Encoding::Posit { es } => (2..=32).contains(&bits) && es < 32,
        // Pairs are encoded by the OliVe quantizer, BitMoD codes by the BitMoD quantizer (with
        // its own tie rule), never one value at a time.
        Encoding::Ovp { .. } | Encoding::Bitmod { .. } => false,
    }
}

/// [`round_exact`] on the rounding view, for codes up to 64 bits.
pub(crate) fn round_value(bits: u32, enc: Encoding, overflow: Overflow, x: &Value) -> u64 {
    if !fits(bits, enc) {
        return 0;
    }
    match enc {
        Encoding::Int => round_int(bits, x),
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials,
        } => round_float(bits, exp_bits, man_bits, bias, specials, overflow, x),
        Encoding::PowerOfTwo { bias } => round_pow2(bits, bias, overflow, x),
        Encoding::Posit { es } => round_posit(bits, es, x),
        Encoding::Ovp { .. } | Encoding::Bitmod { .. } => 0,
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

fn round_int(bits: u32, x: &Value) -> u64 {
    let max_pos = (1u128 << (bits - 1)) - 1;
    let max_neg = 1u128 << (bits - 1);
    let (neg, mag) = match x {
        Value::Zero | Value::NaN => return 0,
        Value::Inf(neg) => (*neg, u128::MAX),
        Value::Finite(m) => {
            // |x| ≥ 2^bits saturates for sure; below that the shift cannot overflow.
            let mag = if m.scale() >= i128::from(bits) {
                u128::MAX
            } else {
                rne(m.m, -m.e)
            };
            (m.neg, mag)
        }
    };
    let code = if neg {
        (1u128 << bits) - mag.min(max_neg)
    } else {
        mag.min(max_pos)
    };
    (code as u64) & mask(bits)
}

fn round_float(
    bits: u32,
    exp_bits: u32,
    man_bits: u32,
    bias: i32,
    specials: FloatSpecials,
    overflow: Overflow,
    x: &Value,
) -> u64 {
    let sign_bit = 1u64 << (bits - 1);
    let exp_ones = (1u64 << exp_bits) - 1;
    let inf_code = exp_ones << man_bits;
    let max_finite = match specials {
        FloatSpecials::None => (1u64 << (exp_bits + man_bits)) - 1,
        FloatSpecials::NanOnly => (1u64 << (exp_bits + man_bits)) - 2,
        FloatSpecials::Ieee => inf_code - 1,
    };
    let nan_code = match specials {
        FloatSpecials::None => sign_bit,
        FloatSpecials::NanOnly => max_finite + 1,
        FloatSpecials::Ieee => inf_code | (1u64 << man_bits.saturating_sub(1)),
    };
    let signed = |neg: bool, mag: u64| if neg { sign_bit | mag } else { mag };
    let overflowed = |neg: bool| match (overflow, specials) {
        (Overflow::ToInf, FloatSpecials::Ieee) => signed(neg, inf_code),
        (Overflow::ToNan, _) => signed(neg, nan_code),
        _ => signed(neg, max_finite),
    };
    let m = match x {
        Value::Zero => return 0,
        Value::NaN => return nan_code,
        Value::Inf(neg) if specials == FloatSpecials::Ieee => return signed(*neg, inf_code),
        Value::Inf(neg) => return overflowed(*neg),
        Value::Finite(m) => m,
    };
    let bias = i128::from(bias);
    let emin = 1 - bias;
    let scale = m.scale();
    // Beyond the top binade of any code: overflow without building the code.
    if scale + bias > exp_ones as i128 {
        return overflowed(m.neg);
    }
    let binade = scale.max(emin);
    let quantum = binade - i128::from(man_bits);
    // The rounded significand, hidden bit included; 2^(man_bits+1) carries into the exponent
    // through the addition below, and a subnormal's 2^man_bits becomes the smallest normal.
    let sig = rne(m.m, quantum - m.e) as u64;
    let mag = (((binade - emin) as u64) << man_bits) + sig;
    if mag > max_finite {
        return overflowed(m.neg);
    }
    signed(m.neg, mag)
}

fn round_pow2(bits: u32, bias: i32, overflow: Overflow, x: &Value) -> u64 {
    let nan_code = mask(bits);
    let too_big = match overflow {
        Overflow::ToNan => nan_code,
        _ => nan_code - 1,
    };
    let m = match x {
        Value::Finite(m) if !m.neg => m,
        Value::Inf(false) => return too_big,
        _ => return nan_code,
    };
    let bias = i128::from(bias);
    let scale = m.scale();
    let code = if scale < -bias {
        0
    } else {
        // The bit below the leading one decides: ≥ 1.5·2^scale rounds up.
        let len = m.len();
        let up = len >= 2 && (m.m >> (len - 2)) & 1 == 1;
        scale + bias + i128::from(up)
    };
    if code >= nan_code as i128 {
        too_big
    } else {
        code as u64
    }
}

fn round_posit(bits: u32, es: u32, x: &Value) -> u64 {
    let nar = 1u64 << (bits - 1);
    let m = match x {
        Value::Zero => return 0,
        Value::NaN | Value::Inf(_) => return nar,
        Value::Finite(m) => m,
    };
    let body_bits = bits - 1;
    let max_scale = i128::from(bits - 2) << es;
    let scale = m.scale();
    let mag = if scale >= max_scale {
        nar - 1 // maxpos
    } else if scale < -max_scale {
        1 // minpos
    } else {
        let k = scale >> es; // floor
        let e = (scale - (k << es)) as u128;
        // Regime: k+1 ones and a zero, or -k zeros and a one.
        let (regime, regime_len) = if k >= 0 {
            (((1u128 << (k + 1)) - 1) << 1, k as u32 + 2)
        } else {
            (1u128, (-k) as u32 + 1)
        };
        // Exponent and fraction as one field: e, then every fraction bit of m.
        let frac_len = (m.len() - 1) as u32;
        let field = (e << frac_len) | (m.m & ((1u128 << frac_len) - 1));
        let field_len = es + frac_len;
        // regime_len ≤ body_bits because |k| ≤ bits - 2 here.
        let kept = body_bits - regime_len;
        let (q, rest) = split(field, i128::from(field_len) - i128::from(kept));
        let string = (regime << kept) + q;
        // Ties go to an even *string*: the parity may be the regime's last bit.
        let up = rest == Rest::Above || (rest == Rest::Half && string & 1 == 1);
        (string + u128::from(up)) as u64
    };
    if m.neg {
        (nar << 1).wrapping_sub(mag) & mask(bits)
    } else {
        mag
    }
}
