//! The reconfigurable mantissa multiplier: one 16×16, two 8×8 or four 4×4 lane products,
//! selected per job.
//!
//! Lanes 0 and 1 are [`DspMul`]s, each one MULT18X18D with its own input and output registers
//! (its 18×18 covers the 16×16 and 8×8 cases); lanes 2 and 3, which only exist in the four-lane
//! mode, are 4×4 [`SubProduct`]s in LUTs between fabric registers. It replaces sixteen LUT 4×4
//! sub-products shared by all modes (the XR-NPE scheme); the saving was measured only together
//! with edge decoding (`fpga/reports/`), not on its own.
//!
//! The lane operands are masked to the mode and registered, then multiplied and the products
//! registered ([`MUL_LATENCY`] = 2): in the array the mask logic sat behind the long route from
//! the systolic operand registers to the DSP column, in front of the MULT18X18D (13.5 ns,
//! npe4x4's critical path), and with the registers in the fabric the routes into and out of the
//! DSP column were (see [`DspMul`]).

use super::dsp_mul::{DspMul, DSP_LATENCY, DSP_OUT_BITS};
use crate::decode::{const_bits, const_high, const_index, BitIndex};
use rust_hdl::prelude::*;

/// Width of each multiplier operand.
pub const MUL_IN_BITS: usize = 16;
/// Width of the widest (lane 0) product.
pub const MUL_OUT_BITS: usize = DSP_OUT_BITS;
/// Clock ticks from the operands to the products: the operand register, the product register.
pub const MUL_LATENCY: usize = DSP_LATENCY;
/// Width of lanes 2–3's signed products: a 4×4 product and its sign.
pub const P23_BITS: usize = 9;

/// Width of lanes 2–3's signed multiplicands: a 4-bit magnitude, negated when the product is.
pub const A23_BITS: usize = 5;

/// A signed 5-bit × unsigned 4-bit product in LUTs, two's complement: the lane's sign rides in
/// the multiplicand, negated before its register, so no negation follows the product (behind
/// the shift-and-add it was lanes 2–3's slowest path in the whole top: npe4x4, to −0.8 ns).
#[derive(LogicBlock)]
pub struct SubProduct {
    /// Multiplicand, two's complement.
    pub a: Signal<In, Bits<A23_BITS>>,
    /// Multiplier, unsigned.
    pub b: Signal<In, Bits<4>>,
    /// The product, two's complement.
    pub p: Signal<Out, Bits<P23_BITS>>,
    one: Constant<Bits<P23_BITS>>,
    two: Constant<Bits<P23_BITS>>,
    three: Constant<Bits<P23_BITS>>,
    zero9: Constant<Bits<P23_BITS>>,
    ext: Constant<Bits<P23_BITS>>,
    sign_at: Constant<BitIndex>,
    ga: Signal<Local, Bits<P23_BITS>>,
    pp0: Signal<Local, Bits<P23_BITS>>,
    pp1: Signal<Local, Bits<P23_BITS>>,
    pp2: Signal<Local, Bits<P23_BITS>>,
    pp3: Signal<Local, Bits<P23_BITS>>,
}

impl Default for SubProduct {
    fn default() -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            one: const_bits(1),
            two: const_bits(2),
            three: const_bits(3),
            zero9: const_bits(0),
            ext: const_high(A23_BITS),
            sign_at: const_index(A23_BITS - 1),
            ga: Default::default(),
            pp0: Default::default(),
            pp1: Default::default(),
            pp2: Default::default(),
            pp3: Default::default(),
        }
    }
}

impl Logic for SubProduct {
    #[hdl_gen]
    fn update(&mut self) {
        // The multiplicand sign-extended to the product's width (all sums modulo 2^9).
        self.ga.next = bit_cast::<P23_BITS, A23_BITS>(self.a.val());
        if self.a.val().get_bit(self.sign_at.val().index()) {
            self.ga.next = bit_cast::<P23_BITS, A23_BITS>(self.a.val()) | self.ext.val();
        }
        // Shift-and-add over the four multiplier bits: no `*`, which would infer a DSP.
        self.pp0.next = self.zero9.val();
        self.pp1.next = self.zero9.val();
        self.pp2.next = self.zero9.val();
        self.pp3.next = self.zero9.val();
        if self.b.val().get_bit(0) {
            self.pp0.next = self.ga.val();
        }
        if self.b.val().get_bit(1) {
            self.pp1.next = self.ga.val() << self.one.val();
        }
        if self.b.val().get_bit(2) {
            self.pp2.next = self.ga.val() << self.two.val();
        }
        if self.b.val().get_bit(3) {
            self.pp3.next = self.ga.val() << self.three.val();
        }
        self.p.next = (self.pp0.val() + self.pp1.val()) + (self.pp2.val() + self.pp3.val());
    }
}

/// The reconfigurable multiplier: unsigned lane-packed magnitudes in, one product per lane out
/// (lanes 0–1 unsigned, lanes 2–3 signed by their `neg` inputs).
///
/// Modes: `lanes4` = four 4×4 lanes, `lanes2` = two 8×8 lanes, neither = one 16×16. Lanes 0
/// and 1 multiply their operands masked to the mode's lane width, each in one registered DSP
/// block ([`DspMul`]); lanes 2 and 3 only ever multiply 4×4 and are LUT [`SubProduct`]s. A
/// lane the mode does not use multiplies whatever its slot holds; the PE ignores it. The
/// products are registered, [`MUL_LATENCY`] clocks after the operands.
#[derive(LogicBlock)]
pub struct MantissaMul {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Lane-packed multiplicands.
    pub a: Signal<In, Bits<MUL_IN_BITS>>,
    /// Lane-packed multipliers.
    pub b: Signal<In, Bits<MUL_IN_BITS>>,
    /// Four 4×4 lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two 8×8 lanes (ignored when `lanes4`).
    pub lanes2: Signal<In, Bit>,
    /// The operands are a beat's: lanes 2–3 register them (else their registers hold). Without
    /// the enable, those registers of unmasked operand bits equal the array's next operand
    /// registers (the same word, a clock later), and synthesis merged them: the sub-products
    /// then read a register placed by the next PE (as lanes 0–1 did when their operand
    /// registers were in the fabric: npe4x4, 32 endpoints at −0.9 ns). The DSP blocks'
    /// registers load every cycle (see [`DspMul`]); a product that is not a beat's is ignored.
    pub en: Signal<In, Bit>,
    /// Lane 0's product (16×16, 8×8 or 4×4 by mode).
    pub p0: Signal<Out, Bits<MUL_OUT_BITS>>,
    /// Lane 1's product (8×8 or 4×4).
    pub p1: Signal<Out, Bits<16>>,
    /// Lane 2's product is negative (folded into its registered multiplicand, on a beat only).
    pub neg2: Signal<In, Bit>,
    /// Lane 3's product is negative.
    pub neg3: Signal<In, Bit>,
    /// Lane 2's signed product (4×4, negated by `neg2`), two's complement.
    pub p2: Signal<Out, Bits<P23_BITS>>,
    /// Lane 3's signed product, two's complement.
    pub p3: Signal<Out, Bits<P23_BITS>>,
    a0: Signal<Local, Bits<MUL_IN_BITS>>,
    b0: Signal<Local, Bits<MUL_IN_BITS>>,
    a1: Signal<Local, Bits<MUL_IN_BITS>>,
    b1: Signal<Local, Bits<MUL_IN_BITS>>,
    // Lanes 0–1: operands masked to the mode, multiplied between the DSP blocks' registers.
    dsp0: DspMul,
    dsp1: DspMul,
    // Lanes 2–3: the registered slots (multiplicands signed: negated when the product is),
    // their products registered. Negating the product instead put a carry chain behind the
    // shift-and-add (npe4x4: −0.8 ns), and in the aligner behind that (−0.93 ns).
    a2m: Signal<Local, Bits<A23_BITS>>,
    a3m: Signal<Local, Bits<A23_BITS>>,
    a2s: Signal<Local, Bits<A23_BITS>>,
    a3s: Signal<Local, Bits<A23_BITS>>,
    zero5: Constant<Bits<A23_BITS>>,
    a2q: DFF<Bits<A23_BITS>>,
    b2q: DFF<Bits<4>>,
    a3q: DFF<Bits<A23_BITS>>,
    b3q: DFF<Bits<4>>,
    p2q: DFF<Bits<P23_BITS>>,
    p3q: DFF<Bits<P23_BITS>>,
    // Lane 1's operands are at most 8 bits: the top half of its product is always zero.
    unused_p1: Signal<Local, Bit>,
    sub2: SubProduct,
    sub3: SubProduct,
    mask4: Constant<Bits<MUL_IN_BITS>>,
    mask8: Constant<Bits<MUL_IN_BITS>>,
    four: Constant<Bits<MUL_IN_BITS>>,
    eight: Constant<Bits<MUL_IN_BITS>>,
    at8: Constant<BitIndex>,
    at12: Constant<BitIndex>,
}

impl Default for MantissaMul {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            en: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            neg2: Default::default(),
            neg3: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            a0: Default::default(),
            b0: Default::default(),
            a1: Default::default(),
            b1: Default::default(),
            dsp0: Default::default(),
            dsp1: Default::default(),
            a2m: Default::default(),
            a3m: Default::default(),
            a2s: Default::default(),
            a3s: Default::default(),
            zero5: const_bits(0),
            a2q: Default::default(),
            b2q: Default::default(),
            a3q: Default::default(),
            b3q: Default::default(),
            p2q: Default::default(),
            p3q: Default::default(),
            unused_p1: Default::default(),
            sub2: Default::default(),
            sub3: Default::default(),
            mask4: const_bits(0xF),
            mask8: const_bits(0xFF),
            four: const_bits(4),
            eight: const_bits(8),
            at8: const_index(8),
            at12: const_index(12),
        }
    }
}

impl Logic for MantissaMul {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, a2q, b2q, a3q, b3q, p2q, p3q);
        self.dsp0.clock.next = self.clock.val();
        self.dsp1.clock.next = self.clock.val();
        // Lane 0: the low lane slot of the mode; lane 1 the next (8 bits unless four lanes).
        if self.lanes4.val() {
            self.a0.next = self.a.val() & self.mask4.val();
            self.b0.next = self.b.val() & self.mask4.val();
            self.a1.next = (self.a.val() >> self.four.val()) & self.mask4.val();
            self.b1.next = (self.b.val() >> self.four.val()) & self.mask4.val();
        } else if self.lanes2.val() {
            self.a0.next = self.a.val() & self.mask8.val();
            self.b0.next = self.b.val() & self.mask8.val();
            self.a1.next = (self.a.val() >> self.eight.val()) & self.mask8.val();
            self.b1.next = (self.b.val() >> self.eight.val()) & self.mask8.val();
        } else {
            self.a0.next = self.a.val();
            self.b0.next = self.b.val();
            self.a1.next = (self.a.val() >> self.eight.val()) & self.mask8.val();
            self.b1.next = (self.b.val() >> self.eight.val()) & self.mask8.val();
        }
        self.dsp0.a.next = self.a0.val();
        self.dsp0.b.next = self.b0.val();
        self.dsp1.a.next = self.a1.val();
        self.dsp1.b.next = self.b1.val();
        self.p0.next = self.dsp0.p.val();
        self.p1.next = self.dsp1.p.val().get_bits::<16>(0);
        self.unused_p1.next = self.dsp1.p.val().get_bits::<16>(16).any();

        self.a2m.next = bit_cast::<A23_BITS, 4>(self.a.val().get_bits::<4>(self.at8.val().index()));
        self.a3m.next = bit_cast::<A23_BITS, 4>(self.a.val().get_bits::<4>(self.at12.val().index()));
        self.a2s.next = self.a2m.val();
        if self.neg2.val() {
            self.a2s.next = self.zero5.val() - self.a2m.val();
        }
        self.a3s.next = self.a3m.val();
        if self.neg3.val() {
            self.a3s.next = self.zero5.val() - self.a3m.val();
        }
        if self.en.val() {
            self.a2q.d.next = self.a2s.val();
            self.b2q.d.next = self.b.val().get_bits::<4>(self.at8.val().index());
            self.a3q.d.next = self.a3s.val();
            self.b3q.d.next = self.b.val().get_bits::<4>(self.at12.val().index());
        }
        self.sub2.a.next = self.a2q.q.val();
        self.sub2.b.next = self.b2q.q.val();
        self.sub3.a.next = self.a3q.q.val();
        self.sub3.b.next = self.b3q.q.val();
        self.p2q.d.next = self.sub2.p.val();
        self.p3q.d.next = self.sub3.p.val();
        self.p2.next = self.p2q.q.val();
        self.p3.next = self.p3q.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::accel::testbench::{cycle, HasClock};

    impl HasClock for MantissaMul {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// The four lane products of `a × b` in a mode, [`MUL_LATENCY`] clocks after the operands.
    fn mul(a: u64, b: u64, lanes4: bool, lanes2: bool) -> [u64; 4] {
        let mut m = MantissaMul::default();
        m.connect_all();
        m.a.next = bits(a);
        m.b.next = bits(b);
        m.lanes4.next = lanes4;
        m.lanes2.next = lanes2;
        m.en.next = true;
        cycle(&mut m);
        // The products are of the registered operands, not of the inputs since.
        m.a.next = bits(!a & 0xFFFF);
        m.b.next = bits(!b & 0xFFFF);
        m.lanes4.next = !lanes4;
        for _ in 1..MUL_LATENCY {
            cycle(&mut m);
        }
        [
            m.p0.val().to_u64(),
            m.p1.val().to_u64(),
            m.p2.val().to_u64(),
            m.p3.val().to_u64(),
        ]
    }

    #[test]
    fn lanes_2_and_3_register_a_beat_only() {
        let mut m = MantissaMul::default();
        m.connect_all();
        m.lanes4.next = true;
        m.a.next = bits(0x3_5_0_0);
        m.b.next = bits(0x7_B_0_0);
        m.neg3.next = true;
        m.en.next = true;
        cycle(&mut m);
        // Not a beat: lanes 2–3 keep the beat's operands and signs.
        m.a.next = bits(0xF_F_0_0);
        m.neg2.next = true;
        m.neg3.next = false;
        m.en.next = false;
        for _ in 0..MUL_LATENCY {
            cycle(&mut m);
        }
        let minus = |v: u64| (1u64 << P23_BITS) - v;
        assert_eq!([m.p2.val().to_u64(), m.p3.val().to_u64()], [5 * 0xB, minus(3 * 7)]);
    }

    #[test]
    fn lanes_2_and_3_negate_every_product() {
        for x in 0..16u64 {
            for y in 0..16u64 {
                let mut m = MantissaMul::default();
                m.connect_all();
                m.lanes4.next = true;
                m.a.next = bits(x * 0x1100);
                m.b.next = bits(y * 0x1100);
                m.neg2.next = true;
                m.en.next = true;
                for _ in 0..MUL_LATENCY {
                    cycle(&mut m);
                }
                let neg = ((1u64 << P23_BITS) - x * y) % (1 << P23_BITS);
                assert_eq!([m.p2.val().to_u64(), m.p3.val().to_u64()], [neg, x * y], "{x} * {y}");
            }
        }
    }

    #[test]
    fn one_lane_is_a_16x16_multiply() {
        for (a, b) in [(0xFFFF, 0xFFFF), (12345, 54321), (1, 0x8000), (0, 77)] {
            assert_eq!(mul(a, b, false, false)[0], a * b, "{a} * {b}");
        }
    }

    #[test]
    fn two_lanes_are_8x8_products() {
        let (a, b) = (0xC3_7Fu64, 0xFF_12u64);
        assert_eq!(mul(a, b, false, true)[..2], [0x7F * 0x12, 0xC3 * 0xFF]);
    }

    #[test]
    fn four_lanes_are_4x4_products() {
        let (a, b) = (0xF_7_3_1u64, 0xF_2_9_E);
        assert_eq!(mul(a, b, true, false), [0xE, 0x3 * 0x9, 0x7 * 0x2, 0xF * 0xF]);
        // Every 4×4 pair in every lane.
        for x in 0..16u64 {
            for y in 0..16u64 {
                let rep = |v: u64| v * 0x1111;
                assert_eq!(mul(rep(x), rep(y), true, false), [x * y; 4], "{x} * {y}");
            }
        }
    }
}
