//! The reconfigurable mantissa multiplier: sixteen 4×4 sub-products that serve as one 16×16
//! multiplier, two 8×8 or four 4×4, selected per job.
//!
//! Operand nibble `i` of `a` times nibble `j` of `b` is sub-product `(i, j)`, weighted
//! `2^(4(i+j))`. The full 16×16 product sums all sixteen; lane `l` of the 2×8 mode sums the four
//! with `i/2 = j/2 = l`, and lane `l` of the 4×4 mode is the diagonal `(l, l)`. In every mode the
//! weighted sum of the enabled sub-products *is* the lane products packed side by side (8×8
//! lane `l` at bits `16l..16l+16`, 4×4 lane `l` at `8l..8l+8`), since lane products never
//! overlap. A disabled sub-product sees zero operands, so idle lanes do not toggle.

use crate::decode::{const_bit, const_bits, const_index, BitIndex};
use rust_hdl::prelude::*;

/// Width of each multiplier operand.
pub const MUL_IN_BITS: usize = 16;
/// Width of the packed product.
pub const MUL_OUT_BITS: usize = 32;
/// Sub-products per operand (nibbles of an operand).
const NIBBLES: usize = MUL_IN_BITS / 4;

/// One 4×4 sub-product `a[4i..4i+4] × b[4j..4j+4]`, shifted to its weight `2^(4(i+j))`.
#[derive(LogicBlock)]
pub struct SubProduct {
    /// Multiplicand nibble `i`.
    pub a: Signal<In, Bits<4>>,
    /// Multiplier nibble `j`.
    pub b: Signal<In, Bits<4>>,
    /// Whether this sub-product takes part in the current mode.
    pub en: Signal<In, Bit>,
    /// The weighted sub-product.
    pub term: Signal<Out, Bits<MUL_OUT_BITS>>,
    weight: Constant<Bits<32>>,
    one: Constant<Bits<32>>,
    two: Constant<Bits<32>>,
    three: Constant<Bits<32>>,
    zero4: Constant<Bits<4>>,
    zero8: Constant<Bits<8>>,
    na: Signal<Local, Bits<4>>,
    nb: Signal<Local, Bits<4>>,
    ga: Signal<Local, Bits<8>>,
    pp0: Signal<Local, Bits<8>>,
    pp1: Signal<Local, Bits<8>>,
    pp2: Signal<Local, Bits<8>>,
    pp3: Signal<Local, Bits<8>>,
    p: Signal<Local, Bits<8>>,
    pw: Signal<Local, Bits<MUL_OUT_BITS>>,
}

impl SubProduct {
    /// Sub-product `(i, j)`.
    pub fn new(i: usize, j: usize) -> Self {
        assert!(i < NIBBLES && j < NIBBLES);
        Self {
            a: Default::default(),
            b: Default::default(),
            en: Default::default(),
            term: Default::default(),
            weight: const_bits((4 * (i + j)) as u64),
            one: const_bits(1),
            two: const_bits(2),
            three: const_bits(3),
            zero4: const_bits(0),
            zero8: const_bits(0),
            na: Default::default(),
            nb: Default::default(),
            ga: Default::default(),
            pp0: Default::default(),
            pp1: Default::default(),
            pp2: Default::default(),
            pp3: Default::default(),
            p: Default::default(),
            pw: Default::default(),
        }
    }
}

impl Logic for SubProduct {
    #[hdl_gen]
    fn update(&mut self) {
        // Operand isolation: a disabled sub-product multiplies zeros.
        if self.en.val() {
            self.na.next = self.a.val();
            self.nb.next = self.b.val();
        } else {
            self.na.next = self.zero4.val();
            self.nb.next = self.zero4.val();
        }
        self.ga.next = bit_cast::<8, 4>(self.na.val());
        // Shift-and-add over the four multiplier bits: no `*`, which would infer a DSP per
        // sub-product.
        self.pp0.next = self.zero8.val();
        self.pp1.next = self.zero8.val();
        self.pp2.next = self.zero8.val();
        self.pp3.next = self.zero8.val();
        if self.nb.val().get_bit(0) {
            self.pp0.next = self.ga.val();
        }
        if self.nb.val().get_bit(1) {
            self.pp1.next = self.ga.val() << self.one.val();
        }
        if self.nb.val().get_bit(2) {
            self.pp2.next = self.ga.val() << self.two.val();
        }
        if self.nb.val().get_bit(3) {
            self.pp3.next = self.ga.val() << self.three.val();
        }
        self.p.next = (self.pp0.val() + self.pp1.val()) + (self.pp2.val() + self.pp3.val());
        self.pw.next = bit_cast::<MUL_OUT_BITS, 8>(self.p.val());
        self.term.next = self.pw.val() << self.weight.val();
    }
}

/// The reconfigurable multiplier: unsigned lane-packed magnitudes in, packed products out.
///
/// Modes: `lanes4` = four 4×4 lanes, `lanes2` = two 8×8 lanes, neither = one 16×16.
#[derive(LogicBlock)]
pub struct MantissaMul {
    /// Lane-packed multiplicands.
    pub a: Signal<In, Bits<MUL_IN_BITS>>,
    /// Lane-packed multipliers.
    pub b: Signal<In, Bits<MUL_IN_BITS>>,
    /// Four 4×4 lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two 8×8 lanes (ignored when `lanes4`).
    pub lanes2: Signal<In, Bit>,
    /// Lane-packed products.
    pub p: Signal<Out, Bits<MUL_OUT_BITS>>,
    subs: Vec<SubProduct>,
    nib_a: Vec<Constant<BitIndex>>,
    nib_b: Vec<Constant<BitIndex>>,
    same_half: Vec<Constant<Bit>>,
    diagonal: Vec<Constant<Bit>>,
    // A balanced adder tree over the sixteen terms: four levels instead of a sixteen-add chain.
    s1: Vec<Signal<Local, Bits<MUL_OUT_BITS>>>,
    s2: Vec<Signal<Local, Bits<MUL_OUT_BITS>>>,
    s3: Vec<Signal<Local, Bits<MUL_OUT_BITS>>>,
}

impl Default for MantissaMul {
    fn default() -> Self {
        let pairs = (0..NIBBLES).flat_map(|i| (0..NIBBLES).map(move |j| (i, j)));
        Self {
            a: Default::default(),
            b: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            p: Default::default(),
            subs: pairs.clone().map(|(i, j)| SubProduct::new(i, j)).collect(),
            nib_a: pairs.clone().map(|(i, _)| const_index(4 * i)).collect(),
            nib_b: pairs.clone().map(|(_, j)| const_index(4 * j)).collect(),
            same_half: pairs.clone().map(|(i, j)| const_bit(i / 2 == j / 2)).collect(),
            diagonal: pairs.map(|(i, j)| const_bit(i == j)).collect(),
            s1: (0..8).map(|_| Default::default()).collect(),
            s2: (0..4).map(|_| Default::default()).collect(),
            s3: (0..2).map(|_| Default::default()).collect(),
        }
    }
}

impl Logic for MantissaMul {
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..16 {
            self.subs[k].a.next = self.a.val().get_bits::<4>(self.nib_a[k].val().index());
            self.subs[k].b.next = self.b.val().get_bits::<4>(self.nib_b[k].val().index());
            self.subs[k].en.next = (!self.lanes4.val() & !self.lanes2.val())
                | (!self.lanes4.val() & self.lanes2.val() & self.same_half[k].val())
                | (self.lanes4.val() & self.diagonal[k].val());
        }
        for k in 0..8 {
            self.s1[k].next = self.subs[2 * k].term.val() + self.subs[2 * k + 1].term.val();
        }
        for k in 0..4 {
            self.s2[k].next = self.s1[2 * k].val() + self.s1[2 * k + 1].val();
        }
        for k in 0..2 {
            self.s3[k].next = self.s2[2 * k].val() + self.s2[2 * k + 1].val();
        }
        self.p.next = self.s3[0].val() + self.s3[1].val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mul(a: u64, b: u64, lanes4: bool, lanes2: bool) -> u64 {
        let mut m = MantissaMul::default();
        m.connect_all();
        m.a.next = bits(a);
        m.b.next = bits(b);
        m.lanes4.next = lanes4;
        m.lanes2.next = lanes2;
        assert!(simulate(&mut m, 1000), "did not settle");
        m.p.val().to_u64()
    }

    #[test]
    fn one_lane_is_a_16x16_multiply() {
        for (a, b) in [(0xFFFF, 0xFFFF), (12345, 54321), (1, 0x8000), (0, 77)] {
            assert_eq!(mul(a, b, false, false), a * b, "{a} * {b}");
        }
    }

    #[test]
    fn two_lanes_pack_8x8_products() {
        let (a, b) = (0xC3_7Fu64, 0xFF_12u64);
        let want = (0xC3 * 0xFF) << 16 | (0x7F * 0x12);
        assert_eq!(mul(a, b, false, true), want);
    }

    #[test]
    fn four_lanes_pack_4x4_products() {
        let (a, b) = (0xF_7_3_1u64, 0xF_2_9_E);
        let want = (0xF * 0xF) << 24 | (0x7 * 0x2) << 16 | (0x3 * 0x9) << 8 | 0xE;
        assert_eq!(mul(a, b, true, false), want);
    }
}
