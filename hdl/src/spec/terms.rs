//! Weights as signed power-of-two terms, BitMoD's unified representation (DESIGN §3.1): a 4-bit
//! weight of FP4 E2M1 or of a BitMoD data type has at most two set mantissa bits, so its value
//! is the sum of at most two terms `±2^e`, and a bit-serial PE takes one term per cycle
//! ([`crate::pe::BitSerialMac`]): its cycles per weight follow the term count.
//!
//! Terms count from [`TERM_LSB`] (the 0.5 of E2M1 and FP3): a term's `shift` is `e − TERM_LSB`,
//! 0 … 4 for these formats (0.5 … 8).

use super::{Encoding, Format, Unified};

/// Most terms a weight of a [`TERM_FORMATS`] format has.
pub const MAX_TERMS: usize = 2;
/// Exponent of a term with shift 0.
pub const TERM_LSB: i32 = -1;
/// Bits of a term's shift.
pub const TERM_SHIFT_BITS: usize = 3;
/// The weight formats a bit-serial PE takes: FP4 E2M1 and BitMoD's data types.
pub const TERM_FORMATS: [Format; 1 + Format::BITMOD.len()] = {
    let mut f = [Format::Fp4E2M1; 1 + Format::BITMOD.len()];
    let mut i = 0;
    while i < Format::BITMOD.len() {
        f[1 + i] = Format::BITMOD[i];
        i += 1;
    }
    f
};

/// One term `(−1)^neg × 2^(shift + TERM_LSB)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// Negative.
    pub neg: bool,
    /// Exponent above [`TERM_LSB`].
    pub shift: u8,
}

/// The terms of a finite value in the unified form, most significant first (`[None, None]`
/// for zero); `None` when it has more than [`MAX_TERMS`] set mantissa bits or a term outside
/// `TERM_LSB … TERM_LSB + 2^TERM_SHIFT_BITS − 1`.
pub const fn terms(u: Unified) -> Option<[Option<Term>; MAX_TERMS]> {
    let mut out = [None; MAX_TERMS];
    if u.zero {
        return Some(out);
    }
    if u.nar || u.inf || u.mant.count_ones() as usize > MAX_TERMS {
        return None;
    }
    let mut n = 0;
    let mut bit = 15i32;
    while bit >= 0 {
        if (u.mant >> bit) & 1 == 1 {
            let shift = u.exp as i32 + bit - TERM_LSB;
            if shift < 0 || shift >= 1 << TERM_SHIFT_BITS {
                return None;
            }
            out[n] = Some(Term {
                neg: u.sign,
                shift: shift as u8,
            });
            n += 1;
        }
        bit -= 1;
    }
    Some(out)
}

/// The terms of `code` of a [`TERM_FORMATS`] format (decoded by the table's canonical form).
pub const fn code_terms(f: Format, code: u8) -> Option<[Option<Term>; MAX_TERMS]> {
    let s = f.spec();
    let u = match s.encoding {
        Encoding::Bitmod { special } => super::formats::bitmod::unified(s.bits, special, code),
        // E2M1 is the BitMoD FP4 grid with its −0 code a zero.
        Encoding::Float { .. } if matches!(f, Format::Fp4E2M1) => {
            if code & 7 == 0 {
                Unified::ZERO
            } else {
                super::formats::bitmod::unified(4, super::BitmodSpecial::ErPos, code)
            }
        }
        _ => return None,
    };
    terms(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of every term format has at most two terms in range, and they sum to its
    /// value; FP4's zero codes have none.
    #[test]
    fn every_code_is_the_sum_of_its_terms() {
        let mut two = 0;
        for f in TERM_FORMATS {
            for code in 0..1u8 << f.bits() {
                let t = code_terms(f, code).unwrap_or_else(|| panic!("{f} {code:#x}"));
                let sum: f64 = t
                    .iter()
                    .flatten()
                    .map(|t| {
                        let v = f64::from(t.shift as i32 + TERM_LSB).exp2();
                        if t.neg {
                            -v
                        } else {
                            v
                        }
                    })
                    .sum();
                let u = match f.spec().encoding {
                    Encoding::Bitmod { special } => super::super::formats::bitmod::unified(f.bits(), special, code),
                    _ if code & 7 == 0 => Unified::ZERO,
                    _ => super::super::formats::bitmod::unified(4, super::super::BitmodSpecial::ErPos, code),
                };
                let v = if u.zero {
                    0.0
                } else {
                    f64::from(u.mant) * f64::from(u.exp).exp2()
                };
                assert_eq!(sum, if u.sign { -v } else { v }, "{f} {code:#x}");
                two += usize::from(t[1].is_some());
            }
        }
        // FP4: 1.5, 3, 6 (×2 signs); BitMoD FP4 adds 5; FP3's 1.5 and 3.
        assert!(two > 30, "{two}");
        // Three set bits are refused.
        let seven = Unified {
            zero: false,
            nar: false,
            inf: false,
            sign: false,
            exp: 0,
            mant: 7,
        };
        assert_eq!(terms(seven), None);
    }
}
