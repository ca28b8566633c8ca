//! Exact values: finite dyadic rationals (`mant × 2^exp`, any size) and the specials.

use num_bigint::{BigInt, Sign};
use num_traits::{ToPrimitive, Zero};

use npe_hdl::spec::{Encoding, FloatSpecials, Overflow};

use super::round::{round_value, Mag, Value};

/// An exact value: a finite dyadic rational or a special.
///
/// There is one zero (no sign): `Finite` with `mant == 0`, whatever `exp` is. The same finite
/// value has many representations (`2 × 2^0 == 1 × 2^1`); compare [`Exact::normalized`] forms,
/// or results of [`exact_dot`](super::exact_dot), which are already normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exact {
    /// `mant × 2^exp`; zero is `mant == 0`.
    Finite {
        /// Signed integer significand.
        mant: BigInt,
        /// Power-of-two exponent of `mant`'s LSB.
        exp: i64,
    },
    /// Signed infinity.
    Inf {
        /// `true` for −∞.
        negative: bool,
    },
    /// NaN (also stands for a posit NaR).
    NaN,
}

impl Exact {
    /// The (unsigned) zero, `0 × 2^0`.
    pub fn zero() -> Exact {
        Exact::Finite {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    /// True for a finite zero (any exponent).
    pub fn is_zero(&self) -> bool {
        matches!(self, Exact::Finite { mant, .. } if mant.is_zero())
    }

    /// The canonical representation: trailing zero bits of `mant` moved into `exp` (so a nonzero
    /// `mant` is odd), zero as `0 × 2^0`. Specials are returned unchanged.
    pub fn normalized(&self) -> Exact {
        match self {
            Exact::Finite { mant, exp } => match mant.trailing_zeros() {
                None => Exact::zero(),
                Some(tz) => match i64::try_from(tz).ok().and_then(|t| exp.checked_add(t)) {
                    Some(exp) => Exact::Finite { mant: mant >> tz, exp },
                    // Only reachable with an exponent next to i64::MAX: keep the value as it is
                    // rather than panic.
                    None => self.clone(),
                },
            },
            other => other.clone(),
        }
    }

    /// The exact value of an `f64` (−0.0 becomes the unsigned zero; every NaN becomes `NaN`).
    pub fn from_f64(x: f64) -> Exact {
        match Value::from_f64(x) {
            Value::Zero => Exact::zero(),
            Value::NaN => Exact::NaN,
            Value::Inf(negative) => Exact::Inf { negative },
            Value::Finite(m) => {
                // from_f64 only builds magnitudes below 2^53 with small exponents.
                let mag = BigInt::from(m.m);
                Exact::Finite {
                    mant: if m.neg { -mag } else { mag },
                    exp: m.e as i64,
                }
            }
        }
    }

    /// The nearest `f64`: exact when representable, else round to nearest, ties to even (IEEE
    /// binary64 overflow to ±∞, gradual underflow; a nonzero value that underflows gives ±0.0).
    pub fn to_f64(&self) -> f64 {
        // binary64's parameters, read from the standard library rather than restated.
        let man_bits = f64::MANTISSA_DIGITS - 1;
        let enc = Encoding::Float {
            exp_bits: 64 - 1 - man_bits,
            man_bits,
            bias: f64::MAX_EXP - 1,
            specials: FloatSpecials::Ieee,
        };
        f64::from_bits(round_value(64, enc, Overflow::ToInf, &Value::from_exact(self)))
    }
}

impl Value {
    /// The rounding view of an [`Exact`]: magnitudes wider than [`Mag::KEEP`] bits keep their top
    /// bits plus a sticky bit, which rounds identically at every precision npe uses.
    pub(crate) fn from_exact(x: &Exact) -> Value {
        match x {
            Exact::NaN => Value::NaN,
            Exact::Inf { negative } => Value::Inf(*negative),
            Exact::Finite { mant, exp } => {
                let neg = mant.sign() == Sign::Minus;
                let mag = mant.magnitude();
                let len = mag.bits();
                if len == 0 {
                    return Value::Zero;
                }
                let e = i128::from(*exp);
                if len <= u64::from(Mag::KEEP) {
                    // Fits: exact.
                    let m = mag.to_u128().unwrap_or(0);
                    return Value::Finite(Mag { neg, m, e });
                }
                // Keep KEEP-1 top bits, then one sticky bit standing for everything dropped.
                let drop = len - u64::from(Mag::KEEP) + 1;
                let sticky = mag.trailing_zeros().is_some_and(|tz| tz < drop);
                let top = (mag >> drop).to_u128().unwrap_or(0);
                Value::Finite(Mag {
                    neg,
                    m: (top << 1) | u128::from(sticky),
                    e: e + i128::from(drop) - 1,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(mant: i64, exp: i64) -> Exact {
        Exact::Finite {
            mant: BigInt::from(mant),
            exp,
        }
    }

    #[test]
    fn zero_and_normalization() {
        assert!(Exact::zero().is_zero());
        assert!(fin(0, 17).is_zero());
        assert_eq!(fin(0, 17).normalized(), Exact::zero());
        assert_eq!(fin(12, 3).normalized(), fin(3, 5));
        assert_eq!(fin(-12, -3).normalized(), fin(-3, -1));
        assert_eq!(fin(5, -3).normalized(), fin(5, -3));
        assert_eq!(Exact::NaN.normalized(), Exact::NaN);
        assert!(!Exact::NaN.is_zero());
        assert!(!Exact::Inf { negative: true }.is_zero());
    }

    #[test]
    fn f64_round_trips_exactly() {
        let xs = [
            1.0,
            -1.5,
            0.1,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1e300,
            -123456.789,
        ];
        for x in xs {
            assert_eq!(Exact::from_f64(x).to_f64().to_bits(), x.to_bits(), "{x}");
        }
        assert_eq!(Exact::from_f64(-0.0), Exact::zero());
        assert_eq!(Exact::from_f64(f64::NAN), Exact::NaN);
        assert_eq!(Exact::from_f64(f64::NEG_INFINITY), Exact::Inf { negative: true });
        assert!(Exact::NaN.to_f64().is_nan());
        assert_eq!(Exact::Inf { negative: true }.to_f64(), f64::NEG_INFINITY);
    }

    #[test]
    fn to_f64_rounds_to_nearest_even() {
        // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: even is 2^53.
        assert_eq!(fin((1 << 53) + 1, 0).to_f64(), 9007199254740992.0);
        // 2^53 + 3 ties up to 2^53 + 4.
        assert_eq!(fin((1 << 53) + 3, 0).to_f64(), 9007199254740996.0);
        // A value past the tie by a far-away bit must round up (sticky survives reduction).
        let big = (BigInt::from((1u64 << 53) + 1) << 200) + 1;
        assert_eq!(Exact::Finite { mant: big, exp: -200 }.to_f64(), 9007199254740994.0);
        // Overflow and underflow.
        assert_eq!(fin(1, 1024).to_f64(), f64::INFINITY);
        assert_eq!(fin(-1, 1024).to_f64(), f64::NEG_INFINITY);
        assert_eq!(fin(1, -1076).to_f64(), 0.0);
        assert_eq!(fin(3, -1076).to_f64(), 5e-324); // 0.75 ulp rounds up
        assert_eq!(fin(1, -1075).to_f64(), 0.0); // tie to even (0)
        assert!(fin(-1, -1080).to_f64().is_sign_negative());
        // Huge exponents do not panic.
        assert_eq!(fin(1, i64::MAX).to_f64(), f64::INFINITY);
        assert_eq!(fin(1, i64::MIN).to_f64(), 0.0);
        assert_eq!(fin(2, i64::MAX).normalized(), fin(2, i64::MAX));
    }
}
