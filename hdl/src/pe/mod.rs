//! The precision-scalable SIMD MAC PE and its parts.
//!
//! ```text
//!  a, w (16-bit ports, 1/2/4 lane codes) ─► lane decoders ─► mantissa_mul (4×4 sub-products)
//!                                                 │                  │ packed lane products
//!                                                 └─► exponent sums ─┴─► align (per lane) ─► Σ ─► exact accumulator
//! ```
//!
//! Alignment: canonical unified mantissas are integers with the hidden bit at a fixed place
//! (posits left-aligned), so a product's exponent can lie below the accumulator's LSB while its
//! low bits are zero: posit16's canonical exponents go down to −40, a product's to −80, yet no
//! product has a set bit under 2^−56 (the accumulator LSB, from [`Accumulator::shared`]). Each
//! lane therefore shifts its product into a window [`ALIGN_BELOW`] bits deeper than the
//! accumulator and drops those bits, which are provably zero.

pub mod align;
pub mod mantissa_mul;
pub mod processing_element;

pub use align::{ExpSum, LaneAlign};
pub use mantissa_mul::MantissaMul;
pub use processing_element::{Pe, PE_LATENCY};

use crate::decode::EXP_BITS;
use crate::spec::{Accumulator, Format};

/// The PE's exact accumulator: every operand format of the table.
pub const ACC: Accumulator = Accumulator::shared();
/// Accumulator width in bits (two's complement).
pub const ACC_WIDTH: usize = ACC.width as usize;

/// The smallest and largest canonical unified exponent over the multiplier operand formats whose
/// lane slot is at most `max_slot` bits (16: every format; 8 and 4: what lanes 1 and 2–3 carry).
const fn exp_range(max_slot: u32) -> (i32, i32) {
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    let mut i = 0;
    while i < Format::ALL.len() {
        let f = Format::ALL[i];
        if f.is_mac_operand() && f.slot_bits() <= max_slot {
            let (a, b) = f.unified_exp_range();
            lo = if a < lo { a } else { lo };
            hi = if b > hi { b } else { hi };
        }
        i += 1;
    }
    (lo, hi)
}

/// Added to lane 0's exponent sum so every product's shift into its window is ≥ 0.
pub const ALIGN_OFFSET: i32 = -2 * exp_range(16).0;
/// Window bits below the accumulator's LSB (zero for every real product).
pub const ALIGN_BELOW: usize = (ACC.lsb + ALIGN_OFFSET) as usize;
/// Width of lane 0's alignment window (every format).
pub const ALIGN_WINDOW: usize = ALIGN_BELOW + ACC_WIDTH;
/// Width of an exponent sum (two unified exponents plus the offset).
pub const EXP_SUM_BITS: usize = EXP_BITS + 1;

/// Where a lane's products can land: a narrow lane only carries narrow formats, so its
/// shifter spans only their exponent sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneWindow {
    /// Added to the lane's exponent sum to give its shift (≥ 0).
    pub offset: i32,
    /// Width of the lane's shifter output.
    pub width: usize,
    /// Constant left shift from the shifter output into the window of [`ALIGN_WINDOW`] bits.
    pub place: usize,
}

/// The window of a lane whose slot is at most `max_slot` bits, with products of `prod_bits`.
pub const fn lane_window(max_slot: u32, prod_bits: usize) -> LaneWindow {
    let (lo, hi) = exp_range(max_slot);
    let offset = -2 * lo;
    LaneWindow {
        offset,
        width: (2 * (hi - lo)) as usize + prod_bits,
        place: (ALIGN_OFFSET - offset) as usize,
    }
}

/// Lane 0: every format, 16×16 products.
pub const LANE0: LaneWindow = lane_window(16, 32);
/// Lane 1: ≤ 8-bit formats, 8×8 products.
pub const LANE1: LaneWindow = lane_window(8, 16);
/// Lanes 2 and 3: ≤ 4-bit formats, 4×4 products.
pub const LANE23: LaneWindow = lane_window(4, 8);

// Every lane's window fits lane 0's, and every shift fits the exponent-sum width.
const _: () = assert!(LANE0.place + LANE0.width <= ALIGN_WINDOW);
const _: () = assert!(LANE1.place + LANE1.width <= ALIGN_WINDOW);
const _: () = assert!(LANE23.place + LANE23.width <= ALIGN_WINDOW);
const _: () = assert!(ALIGN_OFFSET + 2 * exp_range(16).1 < (1 << EXP_SUM_BITS));
const _: () = assert!(ACC.lsb + ALIGN_OFFSET >= 0);
