//! Datapath facts derived from the format table: SIMD lanes per format pair, the exact value
//! range of each format, the span of each product, and the exact accumulator that holds them.
//!
//! Nothing here is a restated literal: spans follow from each row's [`Encoding`], so adding a
//! format to the table resizes the accumulator.

use super::formats::{Encoding, FloatSpecials, Format, OvpNormal};

/// Width of one operand port of the PE (and of the multiplier).
pub const OPERAND_BITS: u32 = 16;

/// Extra accumulator bits above the largest product: exact for up to `2^ACC_GUARD_BITS`
/// accumulations of the largest product (the 16-bit formats, one lane, K ≤ 65536).
pub const ACC_GUARD_BITS: u32 = 16;

impl Format {
    /// Whether the format can be a multiplier operand (E8M0 is a block scale only).
    pub const fn is_mac_operand(self) -> bool {
        !matches!(self.spec().encoding, Encoding::PowerOfTwo { .. })
    }

    /// Width of the lane slot a code of this format occupies in an operand port: 4, 8 or 16.
    pub const fn slot_bits(self) -> u32 {
        match self.bits() {
            0..=4 => 4,
            5..=8 => 8,
            _ => 16,
        }
    }

    /// Exponent of the lowest set bit any finite nonzero value can have.
    pub const fn min_lsb(self) -> i32 {
        let s = self.spec();
        match s.encoding {
            Encoding::Int => 0,
            Encoding::Float { man_bits, bias, .. } => 1 - bias - man_bits as i32,
            Encoding::PowerOfTwo { bias } => -bias,
            Encoding::Posit { es } => -(((s.bits - 2) << es) as i32),
            // int4 normals are integers; flint values are all even (2 … 384 flint units).
            Encoding::Ovp {
                normal: OvpNormal::Int4,
            } => 0,
            Encoding::Ovp {
                normal: OvpNormal::Flint4,
            } => 1,
            // 0.5 in both grids.
            Encoding::Bitmod { .. } => -1,
        }
    }

    /// The largest finite magnitude as `(mant, exp)`, value `mant × 2^exp`.
    pub const fn max_finite(self) -> (u64, i32) {
        let s = self.spec();
        match s.encoding {
            Encoding::Int => (1 << (s.bits - 1), 0),
            Encoding::Float {
                exp_bits,
                man_bits,
                bias,
                specials,
            } => {
                let all_ones = (1u64 << (man_bits + 1)) - 1;
                let (emax, mant) = match specials {
                    FloatSpecials::None => ((1 << exp_bits) - 1, all_ones),
                    // S.1…1.1…1 is NaN: the top exponent keeps every mantissa but the last.
                    FloatSpecials::NanOnly => ((1 << exp_bits) - 1, all_ones - 1),
                    FloatSpecials::Ieee => ((1 << exp_bits) - 2, all_ones),
                };
                (mant, emax - bias - man_bits as i32)
            }
            Encoding::PowerOfTwo { bias } => (1, (1 << s.bits) - 2 - bias),
            Encoding::Posit { es } => (1, ((s.bits - 2) << es) as i32),
            // The largest abfloat outlier, 1.1b × 2^(3 + bias): 96 int4 units, 384 flint units.
            Encoding::Ovp { normal } => (3, 3 + normal.abfloat_bias() - 1),
            Encoding::Bitmod { special } => {
                // The grid's top (6 = 3·2^1, 2 = 1·2^1) or the special, whichever is larger.
                let (_, m, e) = crate::spec::formats::bitmod::special(s.bits, special);
                let (gm, ge) = if s.bits == 4 { (3u64, 1) } else { (1, 1) };
                if ((m as u64) << (e + 1)) > (gm << (ge + 1)) {
                    (m as u64, e as i32)
                } else {
                    (gm, ge)
                }
            }
        }
    }
}

impl Format {
    /// The smallest and largest `exp` of the canonical unified form over the format's finite
    /// nonzero codes (see [`Encoding`]): the range the PE's exponent path must align.
    pub const fn unified_exp_range(self) -> (i32, i32) {
        let s = self.spec();
        let frac = s.encoding.max_frac_bits(s.bits) as i32;
        match s.encoding {
            Encoding::Int => (0, 0),
            Encoding::Float { .. } => (self.min_lsb(), self.max_finite().1),
            Encoding::PowerOfTwo { .. } => (self.min_lsb(), self.max_finite().1),
            // Canonical posit mantissas are left-aligned to `frac` fraction bits.
            Encoding::Posit { es } => {
                let r = ((s.bits - 2) << es) as i32;
                (-r - frac, r - frac)
            }
            // int4 normals at 0, flint normals 2 × 2^0 … 2 × 2^4, outliers up to 3 × 2^(bias + 2).
            Encoding::Ovp { .. } => (0, self.max_finite().1),
            // Over every code (the special's odd mantissa can sit lowest: 1.5 = 3·2^-1).
            Encoding::Bitmod { special } => {
                let (mut lo, mut hi) = (i32::MAX, i32::MIN);
                let mut code = 0;
                while code < 1 << s.bits {
                    let u = crate::spec::formats::bitmod::unified(s.bits, special, code as u8);
                    if !u.zero {
                        let e = u.exp as i32;
                        lo = if e < lo { e } else { lo };
                        hi = if e > hi { e } else { hi };
                    }
                    code += 1;
                }
                (lo, hi)
            }
        }
    }
}

/// Number of SIMD lanes for a format pair: the wider operand's slot decides (16-bit: 1 lane,
/// 8-bit: 2, 4-bit: 4), so both operands of a lane sit at the same slot of their ports.
pub fn lanes(a: Format, w: Format) -> u32 {
    OPERAND_BITS / a.slot_bits().max(w.slot_bits())
}

/// Where the set bits of a product of two formats can lie: exponents `lsb..=msb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Exponent of the lowest bit that can be set.
    pub lsb: i32,
    /// Exponent of the highest bit that can be set.
    pub msb: i32,
}

/// The span of every product `a × w` (finite, nonzero).
pub const fn product_span(a: Format, w: Format) -> Span {
    let (ma, ea) = a.max_finite();
    let (mw, ew) = w.max_finite();
    let top = 63 - (ma * mw).leading_zeros() as i32;
    Span {
        lsb: a.min_lsb() + w.min_lsb(),
        msb: top + ea + ew,
    }
}

/// The exact (Kulisch) accumulator: a two's complement fixed-point register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accumulator {
    /// Weight of bit 0 is `2^lsb`.
    pub lsb: i32,
    /// Total width in bits, sign included.
    pub width: u32,
}

impl Accumulator {
    /// The accumulator that holds every product of every pair of `formats` exactly, plus
    /// [`ACC_GUARD_BITS`] of headroom and a sign bit.
    pub const fn for_formats(formats: &[Format]) -> Accumulator {
        let (mut lsb, mut msb) = (i32::MAX, i32::MIN);
        let mut i = 0;
        while i < formats.len() {
            let mut j = 0;
            while j < formats.len() {
                if formats[i].is_mac_operand() && formats[j].is_mac_operand() {
                    let s = product_span(formats[i], formats[j]);
                    lsb = if s.lsb < lsb { s.lsb } else { lsb };
                    msb = if s.msb > msb { s.msb } else { msb };
                }
                j += 1;
            }
            i += 1;
        }
        assert!(lsb <= msb, "no multiplier operand format given");
        Accumulator {
            lsb,
            width: (msb - lsb + 1) as u32 + ACC_GUARD_BITS + 1,
        }
    }

    /// The accumulator of the shared PE: every operand format of the table.
    pub const fn shared() -> Accumulator {
        Accumulator::for_formats(&Format::ALL)
    }
}

/// Widest magnitude of a fixed-point PE's wide lanes: one operand of the ECP5's 18×18 multiplier
/// (MULT18X18D), unsigned.
pub const FIXED_WIDE_MAX_BITS: u32 = 18;
/// Widest magnitude of a fixed-point PE's narrow lanes (2–3), which multiply in LUTs.
pub const FIXED_NARROW_MAX_BITS: u32 = 9;

impl Format {
    /// Where the set bits of this format's finite nonzero values can lie.
    pub const fn value_span(self) -> Span {
        let (m, e) = self.max_finite();
        Span {
            lsb: self.min_lsb(),
            msb: 63 - m.leading_zeros() as i32 + e,
        }
    }
}

/// A lane of fixed-point values: `±mag × 2^lsb` with `mag < 2^bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedLane {
    /// Weight of the magnitude's bit 0.
    pub lsb: i32,
    /// Magnitude width.
    pub bits: u32,
}

impl FixedLane {
    /// The lane that holds every value of the multiplier formats of `formats` whose slot is at
    /// most `max_slot` bits exactly; `None` when there is none.
    const fn for_slots(formats: &[Format], max_slot: u32) -> Option<FixedLane> {
        let (mut lsb, mut msb) = (i32::MAX, i32::MIN);
        let mut i = 0;
        while i < formats.len() {
            let f = formats[i];
            if f.is_mac_operand() && f.slot_bits() <= max_slot {
                let s = f.value_span();
                lsb = if s.lsb < lsb { s.lsb } else { lsb };
                msb = if s.msb > msb { s.msb } else { msb };
            }
            i += 1;
        }
        if lsb > msb {
            None
        } else {
            Some(FixedLane {
                lsb,
                bits: (msb - lsb + 1) as u32,
            })
        }
    }
}

/// The fixed-point datapath of a format set: when every value of every format is a small
/// multiple of a common power of two, the array's edge turns each lane code into a fixed-point
/// magnitude and sign, and the PE is an integer MAC (no exponents, no alignment shifter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    /// Lanes 0–1: every format of the set (a 4-bit format may sit in an 8-bit slot).
    pub wide: FixedLane,
    /// Lanes 2–3: the ≤ 4-bit formats (a 2-bit lane, never enabled, when there are none).
    pub narrow: FixedLane,
    /// The exact accumulator of the set; its LSB is the wide products' (`2 × wide.lsb`).
    pub acc: Accumulator,
}

impl FixedPoint {
    /// The fixed-point datapath of `formats`, or `None` when one of them does not fit it: a
    /// 16-bit format, a format with infinities, or magnitudes wider than the multipliers
    /// ([`FIXED_WIDE_MAX_BITS`], [`FIXED_NARROW_MAX_BITS`]).
    pub const fn for_formats(formats: &[Format]) -> Option<FixedPoint> {
        let mut i = 0;
        while i < formats.len() {
            let f = formats[i];
            if f.is_mac_operand() {
                if f.slot_bits() > 8 {
                    return None;
                }
                if let Encoding::Float {
                    specials: FloatSpecials::Ieee,
                    ..
                } = f.spec().encoding
                {
                    return None;
                }
            }
            i += 1;
        }
        let Some(wide) = FixedLane::for_slots(formats, 8) else {
            return None;
        };
        let narrow = match FixedLane::for_slots(formats, 4) {
            Some(n) => n,
            // Placed just above the wide products' carry-ins (see the fixed-point MAC pipe).
            None => FixedLane {
                lsb: wide.lsb + 1,
                bits: 2,
            },
        };
        if wide.bits > FIXED_WIDE_MAX_BITS || narrow.bits > FIXED_NARROW_MAX_BITS {
            return None;
        }
        let acc = Accumulator::for_formats(formats);
        assert!(acc.lsb == 2 * wide.lsb && 2 * narrow.lsb >= acc.lsb);
        Some(FixedPoint { wide, narrow, acc })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_match_the_design_table() {
        // DESIGN §3.3: INT16² 2^0…2^30, FP4² 2^-2…2^6 (36 has its top bit at 2^5),
        // E4M3² 2^-18…2^18 (448² < 2^18), E5M2² 2^-32…2^32, posit8² 2^-12…2^12, posit16² 2^-56…2^56.
        assert_eq!(product_span(Format::Int16, Format::Int16), Span { lsb: 0, msb: 30 });
        assert_eq!(product_span(Format::Fp4E2M1, Format::Fp4E2M1), Span { lsb: -2, msb: 5 });
        assert_eq!(
            product_span(Format::Fp8E4M3, Format::Fp8E4M3),
            Span { lsb: -18, msb: 17 }
        );
        assert_eq!(
            product_span(Format::Fp8E5M2, Format::Fp8E5M2),
            Span { lsb: -32, msb: 31 }
        );
        assert_eq!(
            product_span(Format::Posit8Es0, Format::Posit8Es0),
            Span { lsb: -12, msb: 12 }
        );
        assert_eq!(
            product_span(Format::Posit16Es1, Format::Posit16Es1),
            Span { lsb: -56, msb: 56 }
        );
    }

    #[test]
    fn shared_accumulator_is_set_by_posit16() {
        let acc = Accumulator::shared();
        assert_eq!(acc.lsb, -56);
        assert_eq!(acc.width, 113 + ACC_GUARD_BITS + 1);
    }

    #[test]
    fn lanes_follow_the_wider_operand() {
        assert_eq!(lanes(Format::Fp4E2M1, Format::Int4), 4);
        assert_eq!(lanes(Format::Int8, Format::Fp4E2M1), 2);
        assert_eq!(lanes(Format::Fp6E2M3, Format::Fp6E3M2), 2);
        assert_eq!(lanes(Format::Posit16Es1, Format::Int2), 1);
    }

    #[test]
    fn max_finite_values() {
        assert_eq!(Format::Fp8E4M3.max_finite(), (14, 5)); // 448
        assert_eq!(Format::Fp8E5M2.max_finite(), (7, 13)); // 57344
        assert_eq!(Format::Fp4E2M1.max_finite(), (3, 1)); // 6
        assert_eq!(Format::Int16.max_finite(), (32768, 0));
        assert_eq!(Format::Posit16Es1.max_finite(), (1, 28));
    }

    #[test]
    fn the_8_bit_set_is_fixed_point_and_wider_sets_are_not() {
        use Format::*;
        let fx = FixedPoint::for_formats(&super::super::config::LE8_FORMATS).expect("fixed point");
        // E4M3: 2^-9 (subnormal) … 448 < 2^9; FP4 and INT4: 2^-1 … 8.
        assert_eq!(fx.wide, FixedLane { lsb: -9, bits: 18 });
        assert_eq!(fx.narrow, FixedLane { lsb: -1, bits: 5 });
        assert_eq!(
            fx.acc,
            Accumulator {
                lsb: -18,
                width: 36 + ACC_GUARD_BITS + 1
            }
        );
        // Posit4 (2^-4 … 16) widens the narrow lanes to 9 bits; E5M2 has infinities; 16-bit
        // formats and the whole table do not fit.
        assert_eq!(
            FixedPoint::for_formats(&[Int4, Posit4Es1]).unwrap().narrow,
            FixedLane { lsb: -4, bits: 9 }
        );
        assert_eq!(FixedPoint::for_formats(&[Int8, Fp8E5M2]), None);
        assert_eq!(FixedPoint::for_formats(&[Int8, Int16]), None);
        assert_eq!(FixedPoint::for_formats(&Format::ALL), None);
        // Without a 4-bit format the narrow lanes carry nothing.
        assert_eq!(FixedPoint::for_formats(&[Int8]).unwrap().narrow.bits, 2);
    }
}
