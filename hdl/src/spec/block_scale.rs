//! Block scales (DESIGN §3.1.1) in the one form the bit-serial dequantization unit
//! ([`crate::pe::Dequant`]) takes.
//!
//! A block's exact partial sum `P` is multiplied by its scale `S = (−1)^neg × q × 2^exp`, with
//! `q` a small unsigned integer whose bits the unit takes one per cycle, most significant first,
//! and `2^exp` one shift at the end. The three scale codes of the block-scaled schemes:
//!
//! | code | schemes | `q` (bits taken) | `exp` | NaN |
//! |---|---|---|---|---|
//! | [`ScaleCode::U8`] | BitMoD | the code (8) | 0 | — |
//! | [`ScaleCode::E8m0`] | MXFP4 | 1 (1) | code − bias | the all-ones code |
//! | [`ScaleCode::E4m3`] | NVFP4 | `1mmm` normal, `0mmm` subnormal (4) | the LSB's exponent | `S.1111.111` |
//!
//! E8M0 and E4M3 are decoded from their rows of the format table ([`Format::E8M0`],
//! [`Format::Fp8E4M3`]), so their biases and widths are not restated here. The unit shifts by
//! `exp − base`, where `base` is the lowest exponent of the window it covers
//! ([`SCALE_SHIFT_BITS`] bits of shift): every E4M3 exponent fits one window, so NVFP4 needs no
//! per-column base; E8M0 spans 2^254, so an MXFP4 column's block exponents must lie within one
//! window, whose base the output unit's column scale applies.

use super::axi::AXI_BEAT_BYTES;
use super::{Encoding, FloatSpecials, Format};

/// Bits of the integer scale the unit takes (BitMoD's unsigned 8-bit group scale is the widest).
pub const SCALE_Q_BITS: usize = 8;

/// The fewest packed words a weight block may have on a block-scaled array (BLOCK.BEATS_LOG2
/// ≥ 2): every scale kind's bits fit it but u8's, which needs its 8.
pub const BLOCK_WORDS_MIN: usize = 4;

/// Bits of one column's entry for a block, in BS_ADDR's layout and the block-scale bank: the
/// scale code in bits 0–7 and, for BitMoD, the block's data-type selector
/// ([`Format::bitmod`]) in bits [`SELECTOR_AT`]…; the other bits are zero.
pub const BS_ENTRY_BITS: usize = 16;

/// Bit of the selector in a block's entry.
pub const SELECTOR_AT: usize = 8;

/// Bits of a BitMoD block's data-type selector.
pub const SELECTOR_BITS: usize = 2;

/// Blocks per line (one AXI beat of C entries) of the block scales of an array `cols` wide.
pub const fn blocks_per_line(cols: usize) -> usize {
    let per_block = cols * BS_ENTRY_BITS / 8;
    if per_block >= AXI_BEAT_BYTES as usize {
        1
    } else {
        AXI_BEAT_BYTES as usize / per_block
    }
}

/// Bits of the unit's final shift: exponents `base … base + 2^SCALE_SHIFT_BITS − 1` in one
/// window. Four bits hold E4M3's 15 finite exponents (checked by a test against the table).
pub const SCALE_SHIFT_BITS: usize = 4;

/// How a block's scale is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScaleCode {
    /// Unsigned 8-bit integer (BitMoD's group scale; its per-channel `f32` is applied on the host).
    U8,
    /// OCP E8M0, a power of two (MXFP4).
    E8m0,
    /// OCP FP8 E4M3 (NVFP4; its per-tensor `f32` is applied on the host).
    E4m3,
}

/// A scale code in the dequantization unit's form: `(−1)^neg × q × 2^exp`, or NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SerialScale {
    /// The integer scale, right-aligned; only its low [`ScaleCode::q_bits`] bits are set.
    pub q: u8,
    /// The power of two of `q`'s LSB.
    pub exp: i32,
    /// The scale is negative (E4M3 codes with the sign bit; the quantizers never write them).
    pub neg: bool,
    /// NaN: the block's product is NaN whatever its partial sum.
    pub nan: bool,
}

/// Bits of a scale kind's hardware id ([`ScaleCode::id`]).
pub const SCALE_KIND_BITS: usize = 2;

impl ScaleCode {
    /// Every scale code kind, in hardware-id order.
    pub const ALL: [ScaleCode; 3] = [ScaleCode::U8, ScaleCode::E8m0, ScaleCode::E4m3];

    /// The kind's hardware id (its place in [`ScaleCode::ALL`]).
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The shift the dequantization unit applies for `scale`, with the window's lowest exponent
    /// at `window_lo`; `None` when the exponent lies outside the window.
    pub const fn shift(scale: SerialScale, window_lo: i32) -> Option<u32> {
        let d = scale.exp - window_lo;
        if d >= 0 && d < 1 << SCALE_SHIFT_BITS {
            Some(d as u32)
        } else {
            None
        }
    }

    /// The lowest exponent of a job's window (what the accumulator's LSB is scaled by): the
    /// kind's smallest, or for E8M0 the exponent of the job's `base` code.
    pub const fn window_lo(self, base: u8) -> i32 {
        match self {
            ScaleCode::E8m0 => self.exp_range().0 + base as i32,
            _ => self.exp_range().0,
        }
    }

    /// Bits of `q` the unit takes for this kind, one per cycle: the unit's cycles per block.
    pub const fn q_bits(self) -> usize {
        match self {
            ScaleCode::U8 => SCALE_Q_BITS,
            ScaleCode::E8m0 => 1,
            ScaleCode::E4m3 => match Format::Fp8E4M3.spec().encoding {
                Encoding::Float { man_bits, .. } => man_bits as usize + 1,
                _ => panic!("E4M3 is a float row"),
            },
        }
    }

    /// The finite codes' smallest and largest `exp`.
    pub const fn exp_range(self) -> (i32, i32) {
        match self {
            ScaleCode::U8 => (0, 0),
            ScaleCode::E8m0 => match Format::E8M0.spec().encoding {
                // Codes 0 … 2^8 − 2; the all-ones one is NaN.
                Encoding::PowerOfTwo { bias } => (-bias, (1 << Format::E8M0.bits()) - 2 - bias),
                _ => panic!("E8M0 is a power-of-two row"),
            },
            ScaleCode::E4m3 => match Format::Fp8E4M3.spec().encoding {
                // Subnormals share the smallest normal's LSB; the top binade keeps its
                // non-NaN mantissas.
                Encoding::Float {
                    exp_bits,
                    man_bits,
                    bias,
                    ..
                } => (1 - bias - man_bits as i32, (1 << exp_bits) - 1 - bias - man_bits as i32),
                _ => panic!("E4M3 is a float row"),
            },
        }
    }

    /// The 8-bit `code` in the unit's form.
    pub const fn serial(self, code: u8) -> SerialScale {
        match self {
            ScaleCode::U8 => SerialScale {
                q: code,
                exp: 0,
                neg: false,
                nan: false,
            },
            ScaleCode::E8m0 => {
                let Encoding::PowerOfTwo { bias } = Format::E8M0.spec().encoding else {
                    panic!("E8M0 is a power-of-two row")
                };
                SerialScale {
                    q: 1,
                    exp: code as i32 - bias,
                    neg: false,
                    nan: code == u8::MAX,
                }
            }
            ScaleCode::E4m3 => {
                let Encoding::Float {
                    exp_bits,
                    man_bits,
                    bias,
                    specials,
                } = Format::Fp8E4M3.spec().encoding
                else {
                    panic!("E4M3 is a float row")
                };
                assert!(matches!(specials, FloatSpecials::NanOnly));
                let mant = code as u32 & ((1 << man_bits) - 1);
                let e = (code as u32 >> man_bits) & ((1 << exp_bits) - 1);
                let all = (1u32 << (exp_bits + man_bits)) - 1;
                let nan = code as u32 & all == all;
                let (q, e) = if e == 0 { (mant, 1) } else { (mant | 1 << man_bits, e) };
                SerialScale {
                    q: if nan { 0 } else { q as u8 },
                    exp: if nan { 0 } else { e as i32 - bias - man_bits as i32 },
                    neg: code >> (exp_bits + man_bits) & 1 == 1,
                    nan,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finite_code_fits_its_q_bits_and_exp_range() {
        for kind in ScaleCode::ALL {
            let (lo, hi) = kind.exp_range();
            let (mut seen_lo, mut seen_hi) = (i32::MAX, i32::MIN);
            for code in 0..=u8::MAX {
                let s = kind.serial(code);
                if s.nan {
                    continue;
                }
                assert!(u32::from(s.q) < 1 << kind.q_bits(), "{kind:?} {code:#x}");
                assert!((lo..=hi).contains(&s.exp), "{kind:?} {code:#x}: {}", s.exp);
                seen_lo = seen_lo.min(s.exp);
                seen_hi = seen_hi.max(s.exp);
            }
            assert_eq!((seen_lo, seen_hi), (lo, hi), "{kind:?}: the range is tight");
        }
        // One shift window holds every E4M3 exponent, so NVFP4 needs no column base.
        let (lo, hi) = ScaleCode::E4m3.exp_range();
        assert!(hi - lo < 1 << SCALE_SHIFT_BITS);
    }

    #[test]
    fn hand_computed_codes() {
        let s = |kind: ScaleCode, code| {
            let s = kind.serial(code);
            (s.q, s.exp, s.neg, s.nan)
        };
        assert_eq!(s(ScaleCode::U8, 0), (0, 0, false, false));
        assert_eq!(s(ScaleCode::U8, 255), (255, 0, false, false));
        assert_eq!(s(ScaleCode::E8m0, 127), (1, 0, false, false));
        assert_eq!(s(ScaleCode::E8m0, 0), (1, -127, false, false));
        assert_eq!(s(ScaleCode::E8m0, 254), (1, 127, false, false));
        assert!(s(ScaleCode::E8m0, 255).3);
        // E4M3: 1.0 = 0x38 = 8 × 2^-3; 448 = 0x7E = 14 × 2^5; 2^-9 = 0x01; −1.5 = 0xBC.
        assert_eq!(s(ScaleCode::E4m3, 0x38), (8, -3, false, false));
        assert_eq!(s(ScaleCode::E4m3, 0x7E), (14, 5, false, false));
        assert_eq!(s(ScaleCode::E4m3, 0x01), (1, -9, false, false));
        assert_eq!(s(ScaleCode::E4m3, 0x00), (0, -9, false, false));
        assert_eq!(s(ScaleCode::E4m3, 0xBC), (12, -3, true, false));
        assert!(s(ScaleCode::E4m3, 0x7F).3 && s(ScaleCode::E4m3, 0xFF).3);
        assert_eq!(
            [ScaleCode::U8, ScaleCode::E8m0, ScaleCode::E4m3].map(ScaleCode::q_bits),
            [8, 1, 4]
        );
    }
}
