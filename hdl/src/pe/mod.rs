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
pub mod pe;

pub use align::{ExpSum, LaneAlign};
pub use mantissa_mul::MantissaMul;
pub use pe::Pe;

use crate::decode::EXP_BITS;
use crate::spec::{Accumulator, Format};

/// The PE's exact accumulator: every operand format of the table.
pub const ACC: Accumulator = Accumulator::shared();
/// Accumulator width in bits (two's complement).
pub const ACC_WIDTH: usize = ACC.width as usize;

/// The smallest and largest canonical unified exponent over the multiplier operand formats.
const fn exp_range() -> (i32, i32) {
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    let mut i = 0;
    while i < Format::ALL.len() {
        let f = Format::ALL[i];
        if f.is_mac_operand() {
            let (a, b) = f.unified_exp_range();
            lo = if a < lo { a } else { lo };
            hi = if b > hi { b } else { hi };
        }
        i += 1;
    }
    (lo, hi)
}

/// Added to an exponent sum so every product's shift into the window is ≥ 0.
pub const ALIGN_OFFSET: i32 = -2 * exp_range().0;
/// Window bits below the accumulator's LSB (zero for every real product).
pub const ALIGN_BELOW: usize = (ACC.lsb + ALIGN_OFFSET) as usize;
/// Width of the alignment window.
pub const ALIGN_WINDOW: usize = ALIGN_BELOW + ACC_WIDTH;
/// Width of an exponent sum (two unified exponents plus the offset).
pub const EXP_SUM_BITS: usize = EXP_BITS + 1;

// The largest product (32 bits) at the largest shift still fits the window, and the shift fits.
const _: () = assert!(ALIGN_OFFSET + 2 * exp_range().1 + 32 <= ALIGN_WINDOW as i32);
const _: () = assert!(ALIGN_OFFSET + 2 * exp_range().1 < (1 << EXP_SUM_BITS));
const _: () = assert!(ACC.lsb + ALIGN_OFFSET >= 0);
