//! The precision-scalable SIMD MAC PE and its parts.
//!
//! ```text
//!  a, w (16-bit ports, 1/2/4 lane codes) ─► lane decoders (pipelined) ─► register ─► mantissa_mul (2 DSP lanes, 2 LUT 4×4 lanes)
//!                                                                           │                  │ one product per lane
//!                                                                           └─► exponent sums ─┴─► align: lane 0 into the accumulator,
//!                                                                                                  lanes 1–3 summed in lane 1's window ─► Σ ─► exact accumulator
//!                                                                               └──────────── MAC pipe ([`GenericMac`]) ────────────┘
//! ```
//!
//! The lane decoders ([`crate::decode::LaneDecode`]) and the MAC pipe are separate blocks: the
//! array decodes once per row and column at its edge and moves decoded words through its PEs,
//! which are MAC pipes only; [`GenericPe`] puts the two together for one PE.
//!
//! Alignment: canonical unified mantissas are integers with the hidden bit at a fixed place
//! (posits left-aligned), so a product's exponent can lie below the accumulator's LSB while its
//! low bits are zero: posit16's canonical exponents go down to −40, a product's to −80, yet no
//! product has a set bit under 2^−56 (the accumulator LSB, from [`Accumulator::shared`]). Each
//! lane therefore shifts its product into a window [`PeGeometry::below`] bits deeper than the
//! accumulator and drops those bits, which are provably zero.

pub mod align;
pub mod bit_serial;
pub mod block_mac;
pub mod dequant;
pub mod dsp_mul;
pub mod dsp_pair;
pub mod fixed_mac;
pub mod fixed_pe;
pub mod mac_pipe;
pub mod mantissa_mul;
pub mod processing_element;

pub use align::{ExpSum, FineShift, LaneAlign, NarrowLane};
pub use bit_serial::{BitSerialMac, MacBitSerial};
pub use block_mac::{GenericBlockMac, MacBlock8};
pub use dequant::{Dequant, Dequant8, BLOCK8_ACCUMULATOR, DEQUANT8_A, DEQUANT8_P, DEQUANT_LEN_BITS};
pub use dsp_mul::DspMul;
pub use dsp_pair::{DspPairSum, DSP_PAIR_LATENCY};
pub use fixed_mac::{FixedGeometry, GenericFixedMac, FIXED_MAC_LATENCY};
pub use fixed_pe::{GenericFixedPe, FIXED_PE_LATENCY};
pub use mac_pipe::{GenericMac, Mac, MAC_LATENCY};
pub use mantissa_mul::MantissaMul;
pub use processing_element::{GenericPe, Pe, PE_LATENCY};

use crate::decode::EXP_BITS;
use crate::spec::{Accumulator, Encoding, Format};

/// What a lane must align: the smallest and largest canonical unified exponent and the widest
/// canonical mantissa over the multiplier operand formats of `formats` whose lane slot is at
/// most `max_slot` bits (16: every format; 8 and 4: what lanes 1 and 2–3 carry); `None` when the
/// lane carries none of them.
pub(crate) const fn lane_range(formats: &[Format], max_slot: u32) -> Option<(i32, i32, usize)> {
    let (mut lo, mut hi, mut mant) = (i32::MAX, i32::MIN, 0);
    let mut i = 0;
    while i < formats.len() {
        let f = formats[i];
        if f.is_mac_operand() && f.slot_bits() <= max_slot {
            let (a, b) = f.unified_exp_range();
            lo = if a < lo { a } else { lo };
            hi = if b > hi { b } else { hi };
            let s = f.spec();
            // Integers' magnitudes reach 2^(bits-1) (the most negative code); the others carry
            // the hidden bit above their fraction.
            let m = match s.encoding {
                Encoding::Int => s.bits,
                Encoding::Ovp { normal } => normal.mant_bits(),
                _ => s.encoding.max_frac_bits(s.bits) + 1,
            } as usize;
            mant = if m > mant { m } else { mant };
        }
        i += 1;
    }
    if lo > hi {
        None
    } else {
        Some((lo, hi, mant))
    }
}

/// Where a lane's products can land: a narrow lane only carries narrow formats, so its
/// shifter spans only their exponent sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneWindow {
    /// Added to the lane's exponent sum to give its shift (≥ 0).
    pub offset: i32,
    /// The largest shift the lane's formats produce (`2 × (hi − lo)` of their exponents).
    pub max_shift: u32,
    /// Width of the lane's shifter output.
    pub width: usize,
    /// Constant left shift from the shifter output into the PE's alignment window.
    pub place: usize,
}

/// Every width and offset of a PE built for a set of operand formats: the accumulator, the
/// alignment window and the three lane windows. The shared PE uses [`Format::ALL`]; the
/// single-format PEs of the area comparison use one format each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeGeometry {
    /// The exact accumulator of the formats.
    pub acc: Accumulator,
    /// Accumulator width in bits.
    pub acc_width: usize,
    /// Added to lane 0's exponent sum so every product's shift into the window is ≥ 0.
    pub align_offset: i32,
    /// Window bits below the accumulator's LSB (zero for every real product).
    pub below: usize,
    /// Width of the alignment window: `below + acc_width`.
    pub window: usize,
    /// Lane 0: every format, 16×16 products.
    pub lane0: LaneWindow,
    /// Lane 1: ≤ 8-bit formats, 8×8 products.
    pub lane1: LaneWindow,
    /// Lanes 2 and 3: ≤ 4-bit formats, 4×4 products.
    pub lane23: LaneWindow,
    /// Width of the narrow sum: lanes 1–3 are added, signed, in lane 1's window plus a sign
    /// bit, a headroom bit and a carry-in bit (see [`GenericMac`]).
    pub narrow: usize,
    /// Width of lanes 2–3's signed (two's complement) window.
    pub signed23: usize,
    /// Where lanes 2–3's window starts inside lane 1's (0 when they carry no format).
    pub lane23_in_lane1: usize,
}

impl PeGeometry {
    /// The geometry of a PE for `formats` (the multiplier operand formats among them).
    pub const fn for_formats(formats: &[Format]) -> PeGeometry {
        let acc = Accumulator::for_formats(formats);
        let Some((lo, hi, _)) = lane_range(formats, 16) else {
            panic!("a PE needs at least one multiplier format");
        };
        // One window bit more than the deepest product needs, so the dropped part is never
        // empty (an integer-only PE has no bits under its LSB).
        let align_offset = -2 * lo + 1;
        let below = (acc.lsb + align_offset) as usize;
        assert!(acc.lsb + align_offset >= 1);
        assert!(align_offset + 2 * hi < (1 << EXP_SUM_BITS));
        let window = below + acc.width as usize;
        let lane1 = Self::lane(formats, 8, 16, align_offset);
        let lane23 = Self::lane(formats, 4, 8, align_offset);
        // A ≤ 4-bit format is a ≤ 8-bit format: lanes 2–3's window lies inside lane 1's.
        let lane23_in_lane1 = if lane23.width > 1 {
            assert!(lane23.place >= lane1.place && lane23.place + lane23.width <= lane1.place + lane1.width);
            lane23.place - lane1.place
        } else {
            0
        };
        let g = PeGeometry {
            acc,
            acc_width: acc.width as usize,
            align_offset,
            below,
            window,
            lane0: Self::lane(formats, 16, 32, align_offset),
            lane1,
            lane23,
            narrow: lane1.width + 3,
            signed23: lane23.width + 1,
            lane23_in_lane1,
        };
        assert!(g.lane0.place + g.lane0.width <= window);
        assert!(g.lane1.place + g.lane1.width <= window);
        assert!(g.lane23.place + g.lane23.width <= window);
        g
    }

    /// The window of a lane whose slot is at most `max_slot` bits, with products of at most
    /// `prod_bits` (fewer when its formats' mantissas are narrower; a lane that carries none of
    /// the formats gets a 1-bit window and is never enabled).
    const fn lane(formats: &[Format], max_slot: u32, prod_bits: usize, align_offset: i32) -> LaneWindow {
        match lane_range(formats, max_slot) {
            Some((lo, hi, mant)) => LaneWindow {
                offset: -2 * lo,
                max_shift: (2 * (hi - lo)) as u32,
                width: (2 * (hi - lo)) as usize + if 2 * mant < prod_bits { 2 * mant } else { prod_bits },
                place: (align_offset + 2 * lo) as usize,
            },
            None => LaneWindow {
                offset: 0,
                max_shift: 0,
                width: 1,
                place: 0,
            },
        }
    }
}

/// `$ty` (a PE or MAC pipe type) with the widths of geometry `$g` as its parameters.
#[macro_export]
macro_rules! pe_type {
    ($ty:ident, $g:expr) => {
        $ty<
            { $g.acc_width },
            { $g.window },
            { $g.lane0.width },
            { $g.lane1.width },
            { $g.lane23.width },
            { $g.narrow },
            { $g.signed23 },
        >
    };
}

/// The shared PE: every operand format of the table.
pub const SHARED: PeGeometry = PeGeometry::for_formats(&Format::ALL);
/// The shared PE's exact accumulator.
pub const ACC: Accumulator = SHARED.acc;
/// Accumulator width in bits (two's complement).
pub const ACC_WIDTH: usize = SHARED.acc_width;
/// Width of an exponent sum (two unified exponents plus the offset).
pub const EXP_SUM_BITS: usize = EXP_BITS + 1;

/// The fixed-point datapath of the ≤ 8-bit format set ([`crate::spec::config::LE8_FORMATS`]).
pub const FIXED8_POINT: crate::spec::FixedPoint =
    match crate::spec::FixedPoint::for_formats(&crate::spec::config::LE8_FORMATS) {
        Some(fx) => fx,
        None => panic!("the 8-bit set is fixed point"),
    };
/// The fixed-point PE geometry of the ≤ 8-bit format set.
pub const FIXED8: FixedGeometry = FixedGeometry::of(FIXED8_POINT);
/// The fixed-point edge decoder of the ≤ 8-bit set.
pub type DecodeFixed8 = crate::decode::FixedDecode<{ FIXED8.word.wb }, { FIXED8.word.nb }, { FIXED8.word.bits }>;
/// The fixed-point MAC pipe of the ≤ 8-bit set.
pub type MacFixed8 = crate::fixed_type!(GenericFixedMac, FIXED8);
/// The stand-alone fixed-point PE of the ≤ 8-bit set.
pub type PeFixed8 = crate::fixed_type!(GenericFixedPe, FIXED8);

/// The fixed-point datapath of OliVe's format set ([`crate::spec::config::OLIVE_FORMATS`]).
pub const FIXED_OVP_POINT: crate::spec::FixedPoint =
    match crate::spec::FixedPoint::for_formats(&crate::spec::config::OLIVE_FORMATS) {
        Some(fx) => fx,
        None => panic!("OliVe's set is fixed point"),
    };
/// The fixed-point PE geometry of OliVe's set.
pub const FIXED_OVP: FixedGeometry = FixedGeometry::of(FIXED_OVP_POINT);
/// The fixed-point edge decoder of OliVe's set, with the pair decoders.
pub type DecodeFixedOvp =
    crate::decode::FixedDecode<{ FIXED_OVP.word.wb }, { FIXED_OVP.word.nb }, { FIXED_OVP.word.bits }>;
/// The fixed-point MAC pipe of OliVe's set.
pub type MacFixedOvp = crate::fixed_type!(GenericFixedMac, FIXED_OVP);
