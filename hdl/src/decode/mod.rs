//! Operand decoders: every format of the table into the unified representation.
//!
//! One small combinational block per encoding family ([`IntDecode`], [`FloatDecode`],
//! [`E8m0Decode`], [`PositDecode`]), each built from its row of the format table, and
//! [`FormatDecode`], which holds one instance per format behind a format-select. All of them
//! produce the canonical unified form documented on [`Encoding`](crate::spec::Encoding), bit for
//! bit: `zero, nar, inf, sign`, `exp` (two's complement, [`unified_width::EXP`] bits) and `mant`
//! ([`unified_width::MANT`] bits). [`LaneMode`] and [`LaneDecode`] turn a format pair into a
//! lane count and a word of lane codes into the PE's decoded word.
//!
//! Widths are const generics (rust-hdl needs them in the types); the type aliases in
//! [`format_decode`] compute them from the table at compile time and every constructor checks
//! them against its row again, so the table stays the only place a width or bias is written.
//!
//! Conventions that keep the emitted Verilog `verilator -Wall` clean without waivers:
//! no integer literals in expressions (they become 32-bit Verilog literals) — constants are
//! `Constant` fields of the exact width; bit positions are 32-bit constants (`BitIndex`);
//! widening is `bit_cast` of a plain signal (the emitter turns it into a zero-extension);
//! every bit of every local is read.
//!
//! [`unified_width::EXP`]: crate::spec::formats::unified_width::EXP
//! [`unified_width::MANT`]: crate::spec::formats::unified_width::MANT

pub mod bitmod_lanes;
pub mod e8m0_decode;
pub mod fixed_decode;
pub mod float_decode;
pub mod format_decode;
pub mod int_decode;
pub mod lane_decode;
pub mod lane_mode;
pub mod ovp_decode;
pub mod posit_decode;
pub mod scale_decode;

pub use bitmod_lanes::BitmodLanes;
pub use e8m0_decode::E8m0Decode;
pub use fixed_decode::{FixedDecode, FixedWord};
pub use float_decode::FloatDecode;
pub use format_decode::FormatDecode;
pub use int_decode::IntDecode;
pub use lane_decode::{LaneDecode, DECODE_LATENCY, LANE_WORD_BITS};
pub use lane_mode::LaneMode;
pub use ovp_decode::{OvpDecode, OvpLane};
pub use posit_decode::PositDecode;
pub use scale_decode::ScaleDecode;

use crate::spec::formats::unified_width;
use crate::spec::formats::FORMATS;
use crate::spec::{Format, FormatSpec};
use rust_hdl::prelude::*;

/// Bits of the unified `exp` field (from the spec).
pub const EXP_BITS: usize = unified_width::EXP;
/// Bits of the unified `mant` field (from the spec).
pub const MANT_BITS: usize = unified_width::MANT;

/// The table row of `f`, usable in constant expressions (type-level widths).
pub const fn row(f: Format) -> FormatSpec {
    // FORMATS is ordered like `Format` (held by the table's own unit test).
    FORMATS[f as usize]
}

/// Panics unless `x` fits the unified (two's complement) `exp` field; `what` names it.
pub(crate) fn assert_exp_fits(x: i32, what: &str) {
    assert!(
        (-(1 << (EXP_BITS - 1))..(1 << (EXP_BITS - 1))).contains(&x),
        "{what} ({x}) does not fit the unified exp field"
    );
}

/// `x mod 2^EXP_BITS` as an `exp`-wide constant: how a signed exponent offset is added with
/// unsigned wrap-around arithmetic in hardware.
pub(crate) fn exp_const(x: i32) -> Constant<Bits<EXP_BITS>> {
    assert_exp_fits(x, "exponent constant");
    Constant::new(bits((x as u64) & ((1u64 << EXP_BITS) - 1)))
}

/// An `N`-bit constant; panics if `x` does not fit.
pub(crate) fn const_bits<const N: usize>(x: u64) -> Constant<Bits<N>> {
    assert!(N >= 64 || x >> N == 0, "constant {x} does not fit {N} bits");
    Constant::new(bits(x))
}

/// An `N`-bit constant with bits `from`…`N − 1` set (none when `from ≥ N`): the bits a
/// sign extension fills above a `from`-bit value.
pub(crate) fn const_high<const N: usize>(from: usize) -> Constant<Bits<N>> {
    Constant::new(match from {
        0 => Bits::<N>::mask(),
        f if f >= N => Bits::<N>::default(),
        f => Bits::<N>::mask() ^ (Bits::<N>::mask() >> (N - f) as u64),
    })
}

/// A bit position inside a code, as a constant (rust-hdl indexes with `Bits::index()`).
///
/// 32 bits because Verilator accepts a 32-bit (integer-sized) constant as a bit index of any
/// vector, while any other width must be exactly `clog2` of the vector's width (WIDTH warning).
pub(crate) type BitIndex = Bits<32>;

/// The bit position `i` as a constant.
pub(crate) fn const_index(i: usize) -> Constant<BitIndex> {
    const_bits(i as u64)
}

/// A one-bit constant.
pub(crate) fn const_bit(x: bool) -> Constant<Bit> {
    Constant::new(x)
}

/// Reads a decoder's six unified outputs back as a [`Unified`](crate::spec::Unified), after
/// rust-hdl's simulator has settled the block (tests drive the blocks this way).
#[cfg(test)]
macro_rules! unified_outputs {
    ($b:expr) => {
        $crate::spec::Unified {
            zero: $b.zero.val(),
            nar: $b.nar.val(),
            inf: $b.inf.val(),
            sign: $b.sign.val(),
            exp: $b.exp.val().to_u32() as u8 as i8,
            mant: $b.mant.val().to_u32() as u16,
        }
    };
}
#[cfg(test)]
pub(crate) use unified_outputs;

#[cfg(test)]
pub(crate) mod test_util {
    use crate::spec::Unified;
    use rust_hdl::prelude::*;

    /// Settles a combinational block after its inputs were set (rust-hdl's own evaluator).
    pub fn settle<B: Block>(b: &mut B) {
        assert!(simulate(b, 100), "block did not settle");
    }

    /// A finite value in the unified form.
    pub fn val(sign: bool, exp: i8, mant: u16) -> Unified {
        Unified {
            sign,
            exp,
            mant,
            ..Unified::default()
        }
    }

    /// The canonical zero.
    pub fn zero() -> Unified {
        Unified {
            zero: true,
            ..Unified::default()
        }
    }

    /// The canonical NaN / NaR.
    pub fn nar() -> Unified {
        Unified {
            nar: true,
            ..Unified::default()
        }
    }

    /// The canonical ±Inf.
    pub fn inf(sign: bool) -> Unified {
        Unified {
            inf: true,
            sign,
            ..Unified::default()
        }
    }

    /// Exact value of a finite unified result (None for zero/NaN/Inf), for ordering checks.
    pub fn value(u: &Unified) -> Option<f64> {
        if u.nar || u.inf {
            return None;
        }
        let m = u.mant as f64 * 2f64.powi(u.exp as i32);
        Some(if u.sign { -m } else { m })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_constants_set_the_bits_from_their_start() {
        let v = |c: Constant<Bits<8>>| c.val().to_u64();
        assert_eq!(v(const_high(0)), 0xFF);
        assert_eq!(v(const_high(3)), 0b1111_1000);
        assert_eq!(v(const_high(7)), 0x80);
        assert_eq!(v(const_high(8)), 0);
        assert_eq!(v(const_high(9)), 0);
        // Wider than a machine word (accumulator windows).
        let w = const_high::<130>(129).val();
        assert!(w.get_bit(129) && !w.get_bit(128));
    }
}
