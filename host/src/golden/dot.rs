//! Exact products and dot products, rounded once.

use std::sync::OnceLock;

use num_bigint::BigInt;
use num_traits::Zero;

use super::decode::{decode, decode_codes, decode_pair};
use super::exact::Exact;
use super::round::round_to_output;
use super::GoldenError;
use npe_hdl::spec::{Format, OutputFormat, Unified};

/// The exact product of two unified values.
///
/// NaN/NaR in either → `NaN`; Inf × 0 → `NaN`; Inf × nonzero → `Inf` with the xor of the signs;
/// a zero operand otherwise → [`Exact::zero`]; else `Finite(±mant_a·mant_b, exp_a + exp_b)`
/// (not normalized).
pub fn exact_product(a: Unified, b: Unified) -> Exact {
    if a.nar || b.nar || (a.inf && b.zero) || (a.zero && b.inf) {
        Exact::NaN
    } else if a.inf || b.inf {
        Exact::Inf {
            negative: a.sign ^ b.sign,
        }
    } else if a.zero || b.zero {
        Exact::zero()
    } else {
        let mant = BigInt::from(u32::from(a.mant) * u32::from(b.mant));
        Exact::Finite {
            mant: if a.sign ^ b.sign { -mant } else { mant },
            exp: i64::from(a.exp) + i64::from(b.exp),
        }
    }
}

/// The exact sum of exact values (for example [`exact_product`]s computed elsewhere), with the
/// same rules as [`exact_dot`]: `NaN` if any term is NaN or both +Inf and −Inf occur, `Inf` if
/// only one sign of Inf occurs, else the exact sum, normalized (an empty or zero sum is
/// [`Exact::zero`]). The terms are aligned in one `BigInt` at the smallest exponent, so memory
/// grows with the exponents' spread (a few hundred bits for terms from decoded operands).
pub fn exact_sum(terms: &[Exact]) -> Exact {
    let (mut nan, mut pos_inf, mut neg_inf) = (false, false, false);
    let mut lo: Option<i64> = None;
    for t in terms {
        match t {
            Exact::NaN => nan = true,
            Exact::Inf { negative: true } => neg_inf = true,
            Exact::Inf { negative: false } => pos_inf = true,
            Exact::Finite { mant, exp } if !mant.is_zero() => {
                lo = Some(lo.map_or(*exp, |l| l.min(*exp)));
            }
            Exact::Finite { .. } => {}
        }
    }
    if nan || (pos_inf && neg_inf) {
        return Exact::NaN;
    }
    if pos_inf || neg_inf {
        return Exact::Inf { negative: neg_inf };
    }
    let Some(lo) = lo else {
        return Exact::zero();
    };
    let mut sum = BigInt::zero();
    for t in terms {
        if let Exact::Finite { mant, exp } = t {
            if !mant.is_zero() {
                // exp ≥ lo, and the difference of two i64 fits a u64.
                let shift = (i128::from(*exp) - i128::from(lo)) as u64;
                sum += mant << shift;
            }
        }
    }
    Exact::Finite { mant: sum, exp: lo }.normalized()
}

/// The exact dot product `Σ a[i]·w[i]` of two coded vectors (no rounding anywhere).
///
/// `NaN` if any product is NaN (NaN/NaR operand, Inf × 0) or if both +Inf and −Inf products
/// occur; `Inf` if only one sign of Inf occurs; else the exact finite sum, normalized (see
/// [`Exact::normalized`]; a zero sum is [`Exact::zero`], unsigned). Empty vectors give zero.
/// The result does not depend on the order of the terms.
///
/// A pair format (OVP) is decoded two codes at a time ([`decode_codes`]: `a[2k]`, `a[2k + 1]`
/// form one pair byte), so its vectors must have an even length.
///
/// Errors: [`GoldenError::LengthMismatch`] if the lengths differ (checked first), else
/// [`GoldenError::OddPairs`] for an odd-length vector of a pair format, else
/// [`GoldenError::CodeOutOfRange`] for the first code wider than its format.
pub fn exact_dot(a_fmt: Format, a: &[u32], w_fmt: Format, w: &[u32]) -> Result<Exact, GoldenError> {
    if a.len() != w.len() {
        return Err(GoldenError::LengthMismatch { a: a.len(), w: w.len() });
    }
    let (sa, sw) = (span(a_fmt), span(w_fmt));
    // Every product is a multiple of 2^lo and below 2^hi in magnitude; the sum of n of them needs
    // (hi − lo) + bitlen(n) bits plus a sign.
    let lo = sa.min_exp + sw.min_exp;
    let hi = sa.max_top + sw.max_top;
    let guard = usize::BITS - a.len().leading_zeros();
    let width = (hi - lo) as u32 + guard + 1;
    if a_fmt.is_paired() || w_fmt.is_paired() {
        // Pair formats decode two codes at a time: decode both vectors first.
        let (ua, uw) = (decode_codes(a_fmt, a)?, decode_codes(w_fmt, w)?);
        return accumulate(width, lo, ua.into_iter().zip(uw).map(Ok));
    }
    accumulate(
        width,
        lo,
        a.iter()
            .zip(w)
            .map(|(&ca, &cw)| Ok((decode(a_fmt, ca)?, decode(w_fmt, cw)?))),
    )
}

/// The exact sum of the products of decoded operand pairs, in an accumulator of `width` bits
/// whose LSB weighs `2^lo` (see [`exact_dot`] for the rules).
pub(super) fn accumulate(
    width: u32,
    lo: i32,
    pairs: impl Iterator<Item = Result<(Unified, Unified), GoldenError>>,
) -> Result<Exact, GoldenError> {
    let mut acc = Acc::new(width);
    let (mut nan, mut pos_inf, mut neg_inf) = (false, false, false);
    for p in pairs {
        let (ua, uw) = p?;
        if ua.nar || uw.nar || (ua.inf && uw.zero) || (ua.zero && uw.inf) {
            nan = true;
        } else if ua.inf || uw.inf {
            if ua.sign ^ uw.sign {
                neg_inf = true;
            } else {
                pos_inf = true;
            }
        } else if !(ua.zero || uw.zero) {
            let mant = u32::from(ua.mant) * u32::from(uw.mant);
            let shift = (i32::from(ua.exp) + i32::from(uw.exp) - lo) as u32;
            acc.add(mant, shift, ua.sign ^ uw.sign);
        }
    }
    Ok(if nan || (pos_inf && neg_inf) {
        Exact::NaN
    } else if pos_inf || neg_inf {
        Exact::Inf { negative: neg_inf }
    } else {
        Exact::Finite {
            mant: acc.into_bigint(),
            exp: i64::from(lo),
        }
        .normalized()
    })
}

/// The dot product rounded once to an output format: [`exact_dot`], then [`round_to_output`]
/// (so for posit16 any NaN or Inf gives NaR; for FP32/BF16/FP16 NaN is the canonical quiet NaN).
pub fn dot(a_fmt: Format, a: &[u32], w_fmt: Format, w: &[u32], out: OutputFormat) -> Result<u32, GoldenError> {
    Ok(round_to_output(out, &exact_dot(a_fmt, a, w_fmt, w)?))
}

/// Exponent span of a format's finite nonzero codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    /// Smallest `exp` (the weight of the lowest possible set bit).
    min_exp: i32,
    /// Largest `exp + bitlen(mant)`: every value is below `2^max_top`.
    max_top: i32,
}

/// The span of `fmt`, found once by decoding every code, so it follows the table by
/// construction.
fn span(fmt: Format) -> Span {
    static SPANS: OnceLock<Vec<Span>> = OnceLock::new();
    SPANS.get_or_init(|| Format::TABLE.iter().map(|&f| scan_span(f)).collect())[fmt as usize]
}

fn scan_span(fmt: Format) -> Span {
    let mut s = Span { min_exp: 0, max_top: 0 };
    let mut first = true;
    let values: Vec<Unified> = if fmt.is_paired() {
        (0..=0xFF).filter_map(|b| decode_pair(fmt, b).ok()).flatten().collect()
    } else {
        (0..fmt.code_count()).filter_map(|c| decode(fmt, c).ok()).collect()
    };
    for u in values {
        if u.zero || u.nar || u.inf {
            continue;
        }
        let exp = i32::from(u.exp);
        let top = exp + (u16::BITS - u.mant.leading_zeros()) as i32;
        if first {
            s = Span {
                min_exp: exp,
                max_top: top,
            };
            first = false;
        } else {
            s.min_exp = s.min_exp.min(exp);
            s.max_top = s.max_top.max(top);
        }
    }
    s
}

/// A fixed-point accumulator (LSB weight `2^lo`) wide enough that nothing rounds or wraps.
enum Acc {
    /// Sums that fit an i128: the common case (INT, FP4/6/8 pairs).
    Narrow(i128),
    /// One i128 per 64-bit slice of the window, each taking the products that start in its
    /// slice (posit16 pairs, E8M0). A product shifted within its slice is below 2^96, so a slice
    /// absorbs 2^31 of them before it could overflow; `normalize` carries before that.
    Sliced { slices: Vec<i128>, adds: u32 },
}

impl Acc {
    fn new(width: u32) -> Acc {
        if width <= i128::BITS {
            Acc::Narrow(0)
        } else {
            Acc::Sliced {
                slices: vec![0; width.div_ceil(64) as usize + 1],
                adds: 0,
            }
        }
    }

    fn add(&mut self, mant: u32, shift: u32, neg: bool) {
        match self {
            Acc::Narrow(acc) => {
                // Conditional negation without a branch (signs of products are random).
                let s = -i128::from(neg);
                *acc += ((i128::from(mant) << shift) ^ s) - s;
            }
            Acc::Sliced { slices, adds } => {
                if *adds == 1 << 30 {
                    Self::normalize(slices);
                    *adds = 0;
                }
                *adds += 1;
                let s = -i128::from(neg);
                let v = ((i128::from(mant) << (shift % 64)) ^ s) - s;
                // The window was sized so that every product's slice exists.
                if let Some(slice) = slices.get_mut((shift / 64) as usize) {
                    *slice += v;
                }
            }
        }
    }

    /// Moves every slice's bits above 64 into the next slice (the value is unchanged).
    fn normalize(slices: &mut [i128]) {
        for i in 0..slices.len().saturating_sub(1) {
            let carry = slices[i] >> 64;
            slices[i] -= carry << 64;
            slices[i + 1] += carry;
        }
    }

    fn into_bigint(self) -> BigInt {
        match self {
            Acc::Narrow(acc) => BigInt::from(acc),
            Acc::Sliced { mut slices, .. } => {
                Self::normalize(&mut slices);
                slices
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| **s != 0)
                    .map(|(i, &s)| BigInt::from(s) << (64 * i))
                    .sum()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_the_value() {
        // Slices as full as the 2^30-add bound lets them get (below 2^126), both signs.
        let slices = vec![(1i128 << 126) - 5, -(1i128 << 100) + 3, -(1i128 << 126) + 7, 12345, 0];
        let before = Acc::Sliced {
            slices: slices.clone(),
            adds: 0,
        };
        let mut after = slices.clone();
        Acc::normalize(&mut after);
        assert!(after[..4].iter().all(|s| (0..1i128 << 64).contains(s)));
        let after = Acc::Sliced { slices: after, adds: 0 };
        let direct: BigInt = slices
            .iter()
            .enumerate()
            .map(|(i, &s)| BigInt::from(s) << (64 * i))
            .sum();
        assert_eq!(before.into_bigint(), direct);
        assert_eq!(after.into_bigint(), direct);
    }

    #[test]
    fn spans_follow_the_table() {
        // Hand-derived from the format table: DESIGN §3.3's product spans are twice these.
        assert_eq!(
            span(Format::Int16),
            Span {
                min_exp: 0,
                max_top: 16
            }
        );
        assert_eq!(
            span(Format::Fp4E2M1),
            Span {
                min_exp: -1,
                max_top: 3
            }
        );
        assert_eq!(
            span(Format::Fp8E4M3),
            Span {
                min_exp: -9,
                max_top: 9
            }
        );
        assert_eq!(
            span(Format::Fp8E5M2),
            Span {
                min_exp: -16,
                max_top: 16
            }
        );
        assert_eq!(
            span(Format::Posit8Es0),
            Span {
                min_exp: -11,
                max_top: 7
            }
        );
        assert_eq!(
            span(Format::Posit16Es1),
            Span {
                min_exp: -40,
                max_top: 29
            }
        );
        assert_eq!(
            span(Format::E8M0),
            Span {
                min_exp: -127,
                max_top: 128
            }
        );
    }
}
