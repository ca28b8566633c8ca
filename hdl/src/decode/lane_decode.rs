//! One operand word's lanes decoded into the PE's lane form: the array decodes each row's
//! activations and each column's weights once, at its edge, and the decoded word travels
//! through the PEs instead of the codes.
//!
//! Lane `l`'s code sits at bit `l × (16 / lanes)` of the word, right-aligned in its slot. The
//! decoded word ([`LANE_WORD_BITS`] bits, fields at the offsets of [`lane_word`]):
//!
//! | field  | bits            | content                                                      |
//! |--------|-----------------|--------------------------------------------------------------|
//! | `mant` | 16              | lane mantissas packed for the multiplier: 4/8/16 bits a lane |
//! | `exp`  | 4 × `EXP_BITS`  | lane `l`'s unified exponent at `l × EXP_BITS`                |
//! | `zero` | 4               | bit `l`: lane `l` is zero                                    |
//! | `nar`  | 4               | bit `l`: lane `l` is NaN / NaR                               |
//! | `inf`  | 4               | bit `l`: lane `l` is ±Inf                                    |
//! | `sign` | 4               | bit `l`: lane `l`'s sign                                     |
//!
//! Lanes the mode does not use carry whatever their decoder makes of the word's other bits;
//! the PE ignores them.
//!
//! The decoders are pipelined ([`FormatDecode::pipelined`]): the word follows the code
//! [`DECODE_LATENCY`] clock later. Combinational, posit16's decode (11.5 ns) held the array's
//! edge under 100 MHz.

use super::format_decode::{CODE_BITS, FMT_BITS};
use super::{const_bits, FormatDecode, EXP_BITS, MANT_BITS};
use crate::spec::Format;
use rust_hdl::prelude::*;

/// Offsets and widths of the decoded word's fields (see the module docs).
pub mod lane_word {
    use super::{EXP_BITS, MANT_BITS};

    /// Lanes per word.
    pub const LANES: usize = 4;
    /// Width of the packed mantissas.
    pub const MANT_W: usize = MANT_BITS;
    /// Width of the packed exponents.
    pub const EXP_W: usize = LANES * EXP_BITS;
    /// Offset of `mant`.
    pub const MANT: usize = 0;
    /// Offset of `exp`.
    pub const EXP: usize = MANT + MANT_W;
    /// Offset of `zero`.
    pub const ZERO: usize = EXP + EXP_W;
    /// Offset of `nar`.
    pub const NAR: usize = ZERO + LANES;
    /// Offset of `inf`.
    pub const INF: usize = NAR + LANES;
    /// Offset of `sign`.
    pub const SIGN: usize = INF + LANES;
    /// Width of the whole word.
    pub const BITS: usize = SIGN + LANES;
}

/// Clock edges from a code to its decoded word.
pub const DECODE_LATENCY: usize = 1;

/// Width of a decoded operand word.
pub const LANE_WORD_BITS: usize = lane_word::BITS;
const W: usize = LANE_WORD_BITS;

/// The multiplier formats of `formats` whose slot is at most `slot` bits: what the decoder of
/// a lane with that slot must handle.
pub fn formats_up_to(formats: &[Format], slot: u32) -> Vec<Format> {
    formats
        .iter()
        .copied()
        .filter(|f| f.is_mac_operand() && f.slot_bits() <= slot)
        .collect()
}

/// Decodes the lanes of one operand word (see the module docs).
#[derive(LogicBlock)]
pub struct LaneDecode {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Format id of the word's codes.
    pub fmt: Signal<In, Bits<FMT_BITS>>,
    /// Lane-packed codes.
    pub code: Signal<In, Bits<CODE_BITS>>,
    /// Four lanes (from [`super::LaneMode`]).
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// The decoded word.
    pub word: Signal<Out, Bits<W>>,
    d0: FormatDecode,
    d1: FormatDecode,
    d2: FormatDecode,
    d3: FormatDecode,
    mant: Signal<Local, Bits<MANT_BITS>>,
    zero: Signal<Local, Bits<4>>,
    nar: Signal<Local, Bits<4>>,
    inf: Signal<Local, Bits<4>>,
    sign: Signal<Local, Bits<4>>,
    // Narrow lanes' decoders only see formats whose mantissas fit the lane (≤ 8 / ≤ 4 bits):
    // their upper mantissa bits are always zero (Verilator exempts `*unused*` names).
    unused_mant: Signal<Local, Bit>,
    four: Constant<Bits<CODE_BITS>>,
    eight: Constant<Bits<CODE_BITS>>,
    twelve: Constant<Bits<CODE_BITS>>,
    s1: Constant<Bits<4>>,
    s2: Constant<Bits<4>>,
    s3: Constant<Bits<4>>,
    at_exp1: Constant<Bits<W>>,
    at_exp2: Constant<Bits<W>>,
    at_exp3: Constant<Bits<W>>,
    at_exp: Constant<Bits<W>>,
    at_zero: Constant<Bits<W>>,
    at_nar: Constant<Bits<W>>,
    at_inf: Constant<Bits<W>>,
    at_sign: Constant<Bits<W>>,
    // The lane mode of the codes in the decoders' register stage, for packing their results.
    l4_q: DFF<Bit>,
    l2_q: DFF<Bit>,
}

impl Default for LaneDecode {
    fn default() -> Self {
        Self::with_formats(&Format::ALL)
    }
}

impl LaneDecode {
    /// A decoder for the multiplier formats of `formats`: lane 0 decodes all of them, lane 1
    /// those of ≤ 8 bits, lanes 2–3 those of ≤ 4 bits.
    pub fn with_formats(formats: &[Format]) -> Self {
        let at = |x: usize| const_bits::<W>(x as u64);
        Self {
            clock: Default::default(),
            fmt: Default::default(),
            code: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            word: Default::default(),
            d0: FormatDecode::pipelined(&formats_up_to(formats, 16)),
            d1: FormatDecode::pipelined(&formats_up_to(formats, 8)),
            d2: FormatDecode::pipelined(&formats_up_to(formats, 4)),
            d3: FormatDecode::pipelined(&formats_up_to(formats, 4)),
            mant: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            unused_mant: Default::default(),
            four: const_bits(4),
            eight: const_bits(8),
            twelve: const_bits(12),
            s1: const_bits(1),
            s2: const_bits(2),
            s3: const_bits(3),
            at_exp1: at(EXP_BITS),
            at_exp2: at(2 * EXP_BITS),
            at_exp3: at(3 * EXP_BITS),
            at_exp: at(lane_word::EXP),
            at_zero: at(lane_word::ZERO),
            at_nar: at(lane_word::NAR),
            at_inf: at(lane_word::INF),
            at_sign: at(lane_word::SIGN),
            l4_q: Default::default(),
            l2_q: Default::default(),
        }
    }
}

impl Logic for LaneDecode {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, l4_q, l2_q);
        self.d0.clock.next = self.clock.val();
        self.d1.clock.next = self.clock.val();
        self.d2.clock.next = self.clock.val();
        self.d3.clock.next = self.clock.val();
        self.l4_q.d.next = self.lanes4.val();
        self.l2_q.d.next = self.lanes2.val();
        // Lane codes: decoders ignore bits above their format's width.
        self.d0.fmt.next = self.fmt.val();
        self.d1.fmt.next = self.fmt.val();
        self.d2.fmt.next = self.fmt.val();
        self.d3.fmt.next = self.fmt.val();
        self.d0.code.next = self.code.val();
        if self.lanes4.val() {
            self.d1.code.next = self.code.val() >> self.four.val();
        } else {
            self.d1.code.next = self.code.val() >> self.eight.val();
        }
        self.d2.code.next = self.code.val() >> self.eight.val();
        self.d3.code.next = self.code.val() >> self.twelve.val();

        // Lane-packed mantissas for the multiplier (the decoders' results are a clock old).
        if self.l4_q.q.val() {
            self.mant.next = bit_cast::<MANT_BITS, 4>(self.d0.mant.val().get_bits::<4>(0))
                | (bit_cast::<MANT_BITS, 4>(self.d1.mant.val().get_bits::<4>(0)) << self.four.val())
                | (bit_cast::<MANT_BITS, 4>(self.d2.mant.val().get_bits::<4>(0)) << self.eight.val())
                | (bit_cast::<MANT_BITS, 4>(self.d3.mant.val().get_bits::<4>(0)) << self.twelve.val());
        } else if self.l2_q.q.val() {
            self.mant.next = bit_cast::<MANT_BITS, 8>(self.d0.mant.val().get_bits::<8>(0))
                | (bit_cast::<MANT_BITS, 8>(self.d1.mant.val().get_bits::<8>(0)) << self.eight.val());
        } else {
            self.mant.next = self.d0.mant.val();
        }
        self.unused_mant.next = self.d1.mant.val().get_bits::<8>(8).any()
            | self.d2.mant.val().get_bits::<12>(4).any()
            | self.d3.mant.val().get_bits::<12>(4).any();

        // Per-lane flags, bit l for lane l.
        self.zero.next = bit_cast::<4, 1>(self.d0.zero.val().into())
            | (bit_cast::<4, 1>(self.d1.zero.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.zero.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.zero.val().into()) << self.s3.val());
        self.nar.next = bit_cast::<4, 1>(self.d0.nar.val().into())
            | (bit_cast::<4, 1>(self.d1.nar.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.nar.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.nar.val().into()) << self.s3.val());
        self.inf.next = bit_cast::<4, 1>(self.d0.inf.val().into())
            | (bit_cast::<4, 1>(self.d1.inf.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.inf.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.inf.val().into()) << self.s3.val());
        self.sign.next = bit_cast::<4, 1>(self.d0.sign.val().into())
            | (bit_cast::<4, 1>(self.d1.sign.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.sign.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.sign.val().into()) << self.s3.val());

        self.word.next = bit_cast::<W, MANT_BITS>(self.mant.val())
            | (bit_cast::<W, EXP_BITS>(self.d0.exp.val()) << self.at_exp.val())
            | (bit_cast::<W, EXP_BITS>(self.d1.exp.val()) << (self.at_exp.val() + self.at_exp1.val()))
            | (bit_cast::<W, EXP_BITS>(self.d2.exp.val()) << (self.at_exp.val() + self.at_exp2.val()))
            | (bit_cast::<W, EXP_BITS>(self.d3.exp.val()) << (self.at_exp.val() + self.at_exp3.val()))
            | (bit_cast::<W, 4>(self.zero.val()) << self.at_zero.val())
            | (bit_cast::<W, 4>(self.nar.val()) << self.at_nar.val())
            | (bit_cast::<W, 4>(self.inf.val()) << self.at_inf.val())
            | (bit_cast::<W, 4>(self.sign.val()) << self.at_sign.val());
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::settle;
    use super::*;
    use crate::accel::testbench::{cycle, rng};
    use crate::spec::{lanes, Unified};

    /// Reads lane `l` of a decoded word back as the unified form.
    fn lane(word: u128, l: usize, lanes: u32) -> Unified {
        let bit = |at: usize| (word >> (at + l)) & 1 == 1;
        let slot = 16 / lanes as usize;
        let mant = (word >> (lane_word::MANT + l * slot)) as u64 & ((1u64 << slot) - 1);
        Unified {
            zero: bit(lane_word::ZERO),
            nar: bit(lane_word::NAR),
            inf: bit(lane_word::INF),
            sign: bit(lane_word::SIGN),
            exp: (word >> (lane_word::EXP + l * EXP_BITS)) as u8 as i8,
            mant: mant as u16,
        }
    }

    /// Every lane of every multiplier format, in every lane mode it can ride in, carries what the format's own decoder
    /// makes of that lane's code, at the place the PE reads it, one clock after the code.
    #[test]
    fn each_lane_is_its_codes_unified_form() {
        let mut d = LaneDecode::default();
        d.connect_all();
        let mut reference = FormatDecode::new();
        reference.connect_all();
        let mut rnd = rng(0x2545_f491_4f6c_dd1d);
        // A format rides in its own slot width or in a wider one (paired with a wider format).
        let modes = Format::ALL.into_iter().filter(|f| f.is_mac_operand()).flat_map(|f| {
            [1u32, 2, 4]
                .into_iter()
                .filter(move |&n| n <= lanes(f, f))
                .map(move |n| (f, n))
        });
        for (f, n) in modes {
            let slot = 16 / n;
            for _ in 0..100 {
                let word = (rnd() & 0xFFFF) as u32;
                d.fmt.next = bits(f.id() as u64);
                d.code.next = bits(word as u64);
                d.lanes4.next = n == 4;
                d.lanes2.next = n == 2;
                cycle(&mut d);
                // The word is the beat's from the edge on, whatever the inputs do next.
                d.code.next = bits(!word as u64 & 0xFFFF);
                d.lanes4.next = n != 4;
                settle(&mut d);
                let got = d.word.val();
                let got: u128 = (0..W).map(|i| (got.get_bit(i) as u128) << i).sum();
                for l in 0..n as usize {
                    let code = (word >> (l as u32 * slot)) & ((1 << slot) - 1) & ((1 << f.bits()) - 1);
                    reference.fmt.next = bits(f.id() as u64);
                    reference.code.next = bits(code as u64);
                    settle(&mut reference);
                    let want = crate::decode::unified_outputs!(reference);
                    assert_eq!(lane(got, l, n), want, "{f:?} lane {l} of word {word:#06x}");
                }
            }
        }
    }
}
