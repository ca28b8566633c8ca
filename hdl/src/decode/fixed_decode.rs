//! One operand word's lanes decoded into fixed point, for the fixed-point PE
//! ([`crate::pe::fixed_mac`]): when every format of a preset's set is a small multiple of one
//! power of two ([`FixedPoint`]), the array's edge turns each lane code into a magnitude, a sign
//! and a NaN flag, and no PE needs an exponent.
//!
//! Each lane is decoded to the unified form by the table's own decoders
//! ([`FormatDecode::pipelined`], the same as [`super::LaneDecode`] uses), then its mantissa is
//! shifted by its exponent into the lane's fixed point: `mag = mant × 2^(exp − lsb)`. Lanes 0–1
//! carry every format of the set ([`FixedPoint::wide`]), lanes 2–3 the ≤ 4-bit ones
//! ([`FixedPoint::narrow`]). The word ([`FixedWord`]): four magnitudes from bit 0 up, then four
//! sign bits and four NaN bits (bit `l` for lane `l`). The word follows the code
//! [`super::DECODE_LATENCY`] clock later.

use super::format_decode::{CODE_BITS, FMT_BITS};
use super::lane_decode::formats_up_to;
use super::{const_bits, const_index, BitIndex, FormatDecode, EXP_BITS, MANT_BITS};
use crate::spec::{FixedLane, FixedPoint, Format};
use rust_hdl::prelude::*;

/// Layout of a fixed-point lane word (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedWord {
    /// Magnitude bits of lanes 0–1.
    pub wb: usize,
    /// Magnitude bits of lanes 2–3.
    pub nb: usize,
    /// Offset of the four sign bits.
    pub sign: usize,
    /// Offset of the four NaN bits.
    pub nan: usize,
    /// Width of the word.
    pub bits: usize,
}

impl FixedWord {
    /// The layout for `wb`-bit wide and `nb`-bit narrow magnitudes.
    pub const fn new(wb: usize, nb: usize) -> FixedWord {
        let sign = 2 * wb + 2 * nb;
        FixedWord {
            wb,
            nb,
            sign,
            nan: sign + 4,
            bits: sign + 8,
        }
    }

    /// Offset of lane `l`'s magnitude.
    pub const fn mag(&self, l: usize) -> usize {
        match l {
            0 => 0,
            1 => self.wb,
            2 => 2 * self.wb,
            _ => 2 * self.wb + self.nb,
        }
    }
}

/// Width of the shifter field: the widest unified mantissa moved by the widest exponent span.
const FIELD: usize = 48;

/// One lane's unified mantissa and exponent into `B`-bit fixed point (see the module docs).
///
/// The shift is `exp − base` for a base `base ≤ lo` (the lane's smallest exponent) that is a
/// multiple of `2^(m−1)`, with `m` bits enough for every shift of the lane's exponents: modulo
/// `2^m` that is `exp`'s low `m` bits with the top one inverted or not, so the shift amount
/// needs no subtracter and the shifter only `m` stages. (The shift amount behind an `exp − lo`
/// carry chain was the decoder's critical path, 10.1 ns.)
#[derive(LogicBlock)]
pub struct ToFixed<const B: usize> {
    /// Unified exponent (two's complement).
    pub exp: Signal<In, Bits<EXP_BITS>>,
    /// Unified mantissa.
    pub mant: Signal<In, Bits<MANT_BITS>>,
    /// `mant × 2^(exp − lsb)`.
    pub mag: Signal<Out, Bits<B>>,
    sh: Signal<Local, Bits<EXP_BITS>>,
    sh_mask: Constant<Bits<EXP_BITS>>,
    sh_flip: Constant<Bits<EXP_BITS>>,
    field: Signal<Local, Bits<FIELD>>,
    // Bits of the field under the lane's LSB and above its magnitude are zero for every value
    // of the lane's formats (checked by the test); Verilator exempts `unused*` names.
    unused_field: Signal<Local, Bits<FIELD>>,
    at: Constant<BitIndex>,
}

impl<const B: usize> ToFixed<B> {
    /// The converter for the lane `lane` of `formats` (the multiplier formats of its slot).
    pub fn new(formats: &[Format], lane: FixedLane) -> Self {
        assert_eq!(lane.bits as usize, B, "{lane:?}");
        // The unified exponents the lane's formats span (none: the lane is never used).
        let (lo, hi) = match crate::pe::lane_range(formats, 16) {
            Some((lo, hi, _)) => (lo, hi),
            None => (lane.lsb, lane.lsb),
        };
        // Unified exponents never lie above a format's value LSB… below it only by zero bits.
        assert!(lo <= lane.lsb, "{formats:?}: {lo} > {}", lane.lsb);
        let (base, m) = shift_base(lo, hi);
        assert!(MANT_BITS + (hi - base) as usize <= FIELD, "{formats:?}: field");
        assert!((lane.lsb - base) as usize + B <= FIELD, "{formats:?}: field");
        let flip = ((-base) as u64) & ((1 << m) - 1);
        Self {
            exp: Default::default(),
            mant: Default::default(),
            mag: Default::default(),
            sh: Default::default(),
            sh_mask: const_bits((1 << m) - 1),
            sh_flip: const_bits(flip),
            field: Default::default(),
            unused_field: Default::default(),
            at: const_index((lane.lsb - base) as usize),
        }
    }
}

impl<const B: usize> Logic for ToFixed<B> {
    #[hdl_gen]
    fn update(&mut self) {
        // exp − base modulo 2^m (see the type's docs).
        self.sh.next = (self.exp.val() & self.sh_mask.val()) ^ self.sh_flip.val();
        self.field.next = bit_cast::<FIELD, MANT_BITS>(self.mant.val()) << bit_cast::<FIELD, EXP_BITS>(self.sh.val());
        self.mag.next = self.field.val().get_bits::<B>(self.at.val().index());
        self.unused_field.next = self.field.val();
    }
}

/// The shift base and width of [`ToFixed`] for exponents `lo..=hi`: the fewest bits `m` and
/// the largest multiple `base ≤ lo` of `2^(m−1)` with every `exp − base` in `0..2^m`; then
/// `(exp − base) mod 2^m` is `exp mod 2^m` with bit `m − 1` inverted when `base` is an odd
/// multiple of `2^(m−1)`.
const fn shift_base(lo: i32, hi: i32) -> (i32, u32) {
    let mut m = 1;
    loop {
        let half = 1i32 << (m - 1);
        let base = lo.div_euclid(half) * half;
        if hi - base < 1 << m {
            assert!(m < EXP_BITS as u32, "shift wider than the exponent");
            return (base, m);
        }
        m += 1;
    }
}

/// Decodes one operand word's lanes to fixed point (see the module docs); `WB`, `NB` are the
/// wide and narrow magnitudes, `FW` the word ([`FixedWord`]).
#[derive(LogicBlock)]
pub struct FixedDecode<const WB: usize, const NB: usize, const FW: usize> {
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
    /// The fixed-point word.
    pub word: Signal<Out, Bits<FW>>,
    d0: FormatDecode,
    d1: FormatDecode,
    d2: FormatDecode,
    d3: FormatDecode,
    c0: ToFixed<WB>,
    c1: ToFixed<WB>,
    c2: ToFixed<NB>,
    c3: ToFixed<NB>,
    sign: Signal<Local, Bits<4>>,
    nan: Signal<Local, Bits<4>>,
    // Zero and Inf flags: zeros have a zero mantissa and the set has no infinities.
    unused_flags: Signal<Local, Bit>,
    // The two-lane flag is not needed: lane 1's code sits at bit 4 in the four-lane mode and
    // at bit 8 otherwise (a one-lane pair is not `ok` in a fixed-point set).
    unused_l2: Signal<Local, Bit>,
    four: Constant<Bits<CODE_BITS>>,
    eight: Constant<Bits<CODE_BITS>>,
    twelve: Constant<Bits<CODE_BITS>>,
    s1: Constant<Bits<4>>,
    s2: Constant<Bits<4>>,
    s3: Constant<Bits<4>>,
    at1: Constant<Bits<FW>>,
    at2: Constant<Bits<FW>>,
    at3: Constant<Bits<FW>>,
    at_sign: Constant<Bits<FW>>,
    at_nan: Constant<Bits<FW>>,
}

impl<const WB: usize, const NB: usize, const FW: usize> FixedDecode<WB, NB, FW> {
    /// The decoder of the fixed-point datapath `fx` of `formats`.
    pub fn new(formats: &[Format], fx: FixedPoint) -> Self {
        let word = FixedWord::new(WB, NB);
        assert_eq!(word.bits, FW);
        let wide = formats_up_to(formats, 8);
        let narrow = formats_up_to(formats, 4);
        let at = |x: usize| const_bits::<FW>(x as u64);
        Self {
            clock: Default::default(),
            fmt: Default::default(),
            code: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            word: Default::default(),
            d0: FormatDecode::pipelined(&wide),
            d1: FormatDecode::pipelined(&wide),
            d2: FormatDecode::pipelined(&narrow),
            d3: FormatDecode::pipelined(&narrow),
            c0: ToFixed::new(&wide, fx.wide),
            c1: ToFixed::new(&wide, fx.wide),
            c2: ToFixed::new(&narrow, fx.narrow),
            c3: ToFixed::new(&narrow, fx.narrow),
            sign: Default::default(),
            nan: Default::default(),
            unused_flags: Default::default(),
            unused_l2: Default::default(),
            four: const_bits(4),
            eight: const_bits(8),
            twelve: const_bits(12),
            s1: const_bits(1),
            s2: const_bits(2),
            s3: const_bits(3),
            at1: at(word.mag(1)),
            at2: at(word.mag(2)),
            at3: at(word.mag(3)),
            at_sign: at(word.sign),
            at_nan: at(word.nan),
        }
    }
}

impl<const WB: usize, const NB: usize, const FW: usize> Logic for FixedDecode<WB, NB, FW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.d0.clock.next = self.clock.val();
        self.d1.clock.next = self.clock.val();
        self.d2.clock.next = self.clock.val();
        self.d3.clock.next = self.clock.val();
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
        self.unused_l2.next = self.lanes2.val();

        // The decoders' results (a clock after the code) into fixed point.
        self.c0.exp.next = self.d0.exp.val();
        self.c0.mant.next = self.d0.mant.val();
        self.c1.exp.next = self.d1.exp.val();
        self.c1.mant.next = self.d1.mant.val();
        self.c2.exp.next = self.d2.exp.val();
        self.c2.mant.next = self.d2.mant.val();
        self.c3.exp.next = self.d3.exp.val();
        self.c3.mant.next = self.d3.mant.val();
        self.sign.next = bit_cast::<4, 1>(self.d0.sign.val().into())
            | (bit_cast::<4, 1>(self.d1.sign.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.sign.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.sign.val().into()) << self.s3.val());
        self.nan.next = bit_cast::<4, 1>(self.d0.nar.val().into())
            | (bit_cast::<4, 1>(self.d1.nar.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.d2.nar.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.d3.nar.val().into()) << self.s3.val());
        self.unused_flags.next = self.d0.zero.val()
            | self.d1.zero.val()
            | self.d2.zero.val()
            | self.d3.zero.val()
            | self.d0.inf.val()
            | self.d1.inf.val()
            | self.d2.inf.val()
            | self.d3.inf.val();
        self.word.next = bit_cast::<FW, WB>(self.c0.mag.val())
            | (bit_cast::<FW, WB>(self.c1.mag.val()) << self.at1.val())
            | (bit_cast::<FW, NB>(self.c2.mag.val()) << self.at2.val())
            | (bit_cast::<FW, NB>(self.c3.mag.val()) << self.at3.val())
            | (bit_cast::<FW, 4>(self.sign.val()) << self.at_sign.val())
            | (bit_cast::<FW, 4>(self.nan.val()) << self.at_nan.val());
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::settle;
    use super::*;
    use crate::accel::testbench::cycle;
    use crate::spec::config::LE8_FORMATS;
    use crate::spec::lanes;

    use crate::pe::{DecodeFixed8 as Dec, FIXED8, FIXED8_POINT as FX};

    const WORD: FixedWord = FIXED8.word;

    /// The shift base: `exp − base` is `m` bits for every exponent, and the XOR form is it.
    #[test]
    fn shift_bases_need_no_subtracter() {
        for lo in -40..10 {
            for hi in lo..lo + 30 {
                let (base, m) = shift_base(lo, hi);
                assert!(base <= lo && base % (1 << (m - 1)) == 0, "{lo}..={hi}");
                let flip = (-base) as u64 & ((1 << m) - 1);
                assert!(flip == 0 || flip == 1 << (m - 1));
                for e in lo..=hi {
                    let sh = (e - base) as u64;
                    assert!(sh < 1 << m, "{lo}..={hi}: {e}");
                    assert_eq!(((e as u64) & ((1 << m) - 1)) ^ flip, sh, "{lo}..={hi}: {e}");
                }
            }
        }
        // The 8-bit set's wide lane: exponents −11..=5, five bits from −16.
        let (lo, hi, _) = crate::pe::lane_range(&LE8_FORMATS, 16).unwrap();
        assert_eq!(shift_base(lo, hi), (-16, 5), "{lo}..={hi}");
    }

    /// Every code of every format of the 8-bit set, in every lane of every lane mode it rides
    /// in: the lane's magnitude × 2^lsb and sign are the value the format's own decoder gives
    /// the code, NaN codes set the lane's NaN bit, one clock after the code.
    #[test]
    fn every_code_in_every_lane_is_its_value_in_fixed_point() {
        let mut d = Dec::new(&LE8_FORMATS, FX);
        d.connect_all();
        let mut reference = FormatDecode::new();
        reference.connect_all();
        for f in LE8_FORMATS {
            for n in [2u32, 4].into_iter().filter(|&n| n <= lanes(f, f)) {
                let slot = 16 / n;
                for code in 0..1u32 << f.bits() {
                    reference.fmt.next = bits(f.id() as u64);
                    reference.code.next = bits(code as u64);
                    settle(&mut reference);
                    let want = crate::decode::unified_outputs!(reference);
                    for l in 0..n as usize {
                        // The code in lane l, the other lanes' slots filled with a pattern.
                        let word = (0x5A5Au32 & !(((1 << slot) - 1) << (l as u32 * slot))) | code << (l as u32 * slot);
                        d.fmt.next = bits(f.id() as u64);
                        d.code.next = bits(word as u64);
                        d.lanes4.next = n == 4;
                        d.lanes2.next = n == 2;
                        cycle(&mut d);
                        d.code.next = bits(!word as u64 & 0xFFFF);
                        settle(&mut d);
                        let got = d.word.val();
                        let (lane, wb) = if l < 2 {
                            (FX.wide, WORD.wb)
                        } else {
                            (FX.narrow, WORD.nb)
                        };
                        let mag: u64 = (0..wb).map(|i| (got.get_bit(WORD.mag(l) + i) as u64) << i).sum();
                        let sign = got.get_bit(WORD.sign + l);
                        let nan = got.get_bit(WORD.nan + l);
                        let what = format!("{f:?} code {code:#x} lane {l} of {n}");
                        assert_eq!(nan, want.nar, "{what}");
                        assert!(!want.inf, "{what}: the set has no infinities");
                        if want.nar {
                            continue;
                        }
                        // mant × 2^exp = mag × 2^lsb, exactly.
                        let (m, e) = (want.mant as i128, want.exp as i32);
                        let lhs = if e >= lane.lsb { m << (e - lane.lsb) } else { m };
                        let rhs = if e >= lane.lsb {
                            mag as i128
                        } else {
                            (mag as i128) << (lane.lsb - e)
                        };
                        assert_eq!(lhs, rhs, "{what}: {want:?} vs magnitude {mag}");
                        if !want.zero {
                            assert_eq!(sign, want.sign, "{what}");
                        }
                    }
                }
            }
        }
    }
}
