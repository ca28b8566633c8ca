//! The exponent path of one lane: exponent sum, and the lane's product placed, signed, at its
//! position in the exact accumulator.

use super::{LaneWindow, PeGeometry, EXP_SUM_BITS};
use crate::decode::{const_bits, const_high, const_index, BitIndex, EXP_BITS};
use crate::pe::mantissa_mul::{MUL_OUT_BITS, P23_BITS};
use rust_hdl::prelude::*;

/// Adds two unified exponents (two's complement, `EXP_BITS` each) into `EXP_SUM_BITS` bits,
/// plus the lane window's offset, giving the product's left shift into the lane's window.
///
/// The shift is cut to the bits of the lane's largest shift ([`LaneWindow::max_shift`]): the
/// formats never produce more, and the shifters behind it lose their always-zero stages
/// (lane 0's aligner: 1,062 → 870 LUT4 in Yosys alone).
#[derive(LogicBlock)]
pub struct ExpSum {
    /// Activation exponent.
    pub ea: Signal<In, Bits<EXP_BITS>>,
    /// Weight exponent.
    pub ew: Signal<In, Bits<EXP_BITS>>,
    /// `ea + ew + offset`, never negative for the formats the lane carries.
    pub shift: Signal<Out, Bits<EXP_SUM_BITS>>,
    ea_w: Signal<Local, Bits<EXP_SUM_BITS>>,
    ew_w: Signal<Local, Bits<EXP_SUM_BITS>>,
    sign_ext: Constant<Bits<EXP_SUM_BITS>>,
    offset: Constant<Bits<EXP_SUM_BITS>>,
    keep: Constant<Bits<EXP_SUM_BITS>>,
    top: Constant<BitIndex>,
}

impl ExpSum {
    /// The exponent path of a lane with window `lane`.
    pub fn new(lane: LaneWindow) -> Self {
        let ext = ((1u64 << EXP_SUM_BITS) - 1) ^ ((1u64 << EXP_BITS) - 1);
        Self {
            ea: Default::default(),
            ew: Default::default(),
            shift: Default::default(),
            ea_w: Default::default(),
            ew_w: Default::default(),
            sign_ext: const_bits(ext),
            offset: const_bits(lane.offset as u64),
            keep: const_bits((1u64 << (u32::BITS - lane.max_shift.leading_zeros())) - 1),
            top: const_index(EXP_BITS - 1),
        }
    }
}

impl Logic for ExpSum {
    #[hdl_gen]
    fn update(&mut self) {
        // Sign-extend by hand: rust-hdl's signed widening is a bare `$signed(x)`.
        self.ea_w.next = bit_cast::<EXP_SUM_BITS, EXP_BITS>(self.ea.val());
        if self.ea.val().get_bit(self.top.val().index()) {
            self.ea_w.next = bit_cast::<EXP_SUM_BITS, EXP_BITS>(self.ea.val()) | self.sign_ext.val();
        }
        self.ew_w.next = bit_cast::<EXP_SUM_BITS, EXP_BITS>(self.ew.val());
        if self.ew.val().get_bit(self.top.val().index()) {
            self.ew_w.next = bit_cast::<EXP_SUM_BITS, EXP_BITS>(self.ew.val()) | self.sign_ext.val();
        }
        self.shift.next = (self.ea_w.val() + self.ew_w.val() + self.offset.val()) & self.keep.val();
    }
}

/// Bits of a lane shift applied a stage ahead of [`LaneAlign`] (lane 0's product waits a stage
/// for lanes 1–3 anyway): the product is registered shifted by `shift mod 2^FINE_SHIFT_BITS`.
pub const FINE_SHIFT_BITS: usize = 3;
/// Width of a product shifted by its fine shift.
pub const PRE_SHIFTED_BITS: usize = MUL_OUT_BITS + (1 << FINE_SHIFT_BITS) - 1;

/// The fine part of a lane shift: a product shifted left by the low [`FINE_SHIFT_BITS`] bits
/// of `shift` (the stage before [`LaneAlign`], which shifts by the rest).
#[derive(LogicBlock)]
pub struct FineShift {
    /// Unsigned product magnitude.
    pub prod: Signal<In, Bits<MUL_OUT_BITS>>,
    /// The lane's whole shift (from [`ExpSum`]).
    pub shift: Signal<In, Bits<EXP_SUM_BITS>>,
    /// `prod << (shift mod 2^FINE_SHIFT_BITS)`.
    pub out: Signal<Out, Bits<PRE_SHIFTED_BITS>>,
    fine: Constant<Bits<EXP_SUM_BITS>>,
}

impl Default for FineShift {
    fn default() -> Self {
        Self {
            prod: Default::default(),
            shift: Default::default(),
            out: Default::default(),
            fine: const_bits((1 << FINE_SHIFT_BITS) - 1),
        }
    }
}

impl Logic for FineShift {
    #[hdl_gen]
    fn update(&mut self) {
        self.out.next =
            bit_cast::<PRE_SHIFTED_BITS, MUL_OUT_BITS>(self.prod.val()) << (self.shift.val() & self.fine.val());
    }
}

/// Shifts an unsigned lane product, already shifted by the low [`FINE_SHIFT_BITS`] of `shift`
/// ([`FineShift`]), by the rest of `shift` within the lane's `W`-bit window, places that
/// window (a constant shift) in the PE's `WIN`-bit alignment window, drops the
/// [`PeGeometry::below`] bits under
/// the accumulator's LSB (provably zero, see [`super`]) and inverts it if `sign`. The lane's exact
/// two's complement contribution is `aligned + neg`: the `+1` of each negation is left to the
/// accumulator's adder, so no lane carries a full-width increment.
#[derive(LogicBlock)]
pub struct LaneAlign<const W: usize, const WIN: usize, const ACC_W: usize> {
    /// Unsigned product magnitude, shifted by the fine part of `shift` ([`FineShift`]).
    pub prod: Signal<In, Bits<PRE_SHIFTED_BITS>>,
    /// Left shift into the window (from [`ExpSum`]); its fine part is already applied.
    pub shift: Signal<In, Bits<EXP_SUM_BITS>>,
    /// Product sign.
    pub sign: Signal<In, Bit>,
    /// The contribution, ones' complement when negative (zero when `enable` is low).
    pub aligned: Signal<Out, Bits<ACC_W>>,
    /// Add 1 to `aligned` to complete the negation.
    pub neg: Signal<Out, Bit>,
    /// Whether the lane contributes.
    pub enable: Signal<In, Bit>,
    wide: Signal<Local, Bits<W>>,
    shifted: Signal<Local, Bits<W>>,
    full: Signal<Local, Bits<WIN>>,
    placed: Signal<Local, Bits<WIN>>,
    place: Constant<Bits<32>>,
    mag: Signal<Local, Bits<ACC_W>>,
    // The window bits under the accumulator LSB are zero for every product; Verilator exempts
    // `*unused*` names from UNUSEDSIGNAL, and reading them here says they are dropped on purpose.
    unused_below: Signal<Local, Bit>,
    // A narrow lane's window can be narrower than the multiplier's output word; its products
    // never reach the top bits.
    unused_prod: Signal<Local, Bit>,
    below: Constant<BitIndex>,
    below_mask: Constant<Bits<WIN>>,
    zero: Constant<Bits<ACC_W>>,
    coarse: Constant<Bits<EXP_SUM_BITS>>,
}

impl<const W: usize, const WIN: usize, const ACC_W: usize> LaneAlign<W, WIN, ACC_W> {
    /// The aligner of lane window `lane` in a PE of geometry `pe` (`W`, `WIN` and `ACC_W` must be
    /// `lane.width`, `pe.window` and `pe.acc_width`).
    pub fn new(pe: &PeGeometry, lane: LaneWindow) -> Self {
        assert_eq!((lane.width, pe.window, pe.acc_width), (W, WIN, ACC_W), "lane geometry");
        Self {
            prod: Default::default(),
            shift: Default::default(),
            sign: Default::default(),
            aligned: Default::default(),
            neg: Default::default(),
            enable: Default::default(),
            wide: Default::default(),
            shifted: Default::default(),
            full: Default::default(),
            placed: Default::default(),
            place: const_bits(lane.place as u64),
            mag: Default::default(),
            unused_below: Default::default(),
            unused_prod: Default::default(),
            below: const_index(pe.below),
            below_mask: Constant::new(Bits::<WIN>::mask() >> (WIN - pe.below) as u64),
            zero: const_bits(0),
            coarse: const_bits(((1 << EXP_SUM_BITS) - 1) ^ ((1 << FINE_SHIFT_BITS) - 1)),
        }
    }
}

impl<const W: usize, const WIN: usize, const ACC_W: usize> Logic for LaneAlign<W, WIN, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.wide.next = bit_cast::<W, PRE_SHIFTED_BITS>(self.prod.val());
        self.unused_prod.next = self.prod.val().any();
        self.shifted.next = self.wide.val() << (self.shift.val() & self.coarse.val());
        self.full.next = bit_cast::<WIN, W>(self.shifted.val());
        self.placed.next = self.full.val() << self.place.val();
        self.mag.next = self.placed.val().get_bits::<ACC_W>(self.below.val().index());
        self.unused_below.next = (self.placed.val() & self.below_mask.val()).any();
        self.neg.next = self.enable.val() & self.sign.val();
        if !self.enable.val() {
            self.aligned.next = self.zero.val();
        } else if self.sign.val() {
            self.aligned.next = !self.mag.val();
        } else {
            self.aligned.next = self.mag.val();
        }
    }
}

/// Lanes 2–3's contribution in the narrow sum's domain: the signed 4×4 product (negated by the
/// multiplier, [`P23_BITS`] bits) resized to `S` bits, shifted by `shift` within the lane's
/// window, sign-extended to the narrow sum's `NW` bits and placed where lanes 2–3's window
/// starts inside lane 1's (zero when `enable` is low).
#[derive(LogicBlock)]
pub struct NarrowLane<const S: usize, const NW: usize> {
    /// The product, two's complement.
    pub prod: Signal<In, Bits<P23_BITS>>,
    /// Left shift into the lane's window (from [`ExpSum`]).
    pub shift: Signal<In, Bits<EXP_SUM_BITS>>,
    /// Whether the lane contributes.
    pub enable: Signal<In, Bit>,
    /// The signed contribution, two's complement.
    pub value: Signal<Out, Bits<NW>>,
    sval: Signal<Local, Bits<S>>,
    shifted: Signal<Local, Bits<S>>,
    wide: Signal<Local, Bits<NW>>,
    // A lane window narrower than the product (a 2-bit integer's) never sees its top bits:
    // the value fits, and truncation keeps its two's complement.
    unused_prod: Signal<Local, Bit>,
    top: Constant<BitIndex>,
    prod_sign: Constant<BitIndex>,
    ext_s: Constant<Bits<S>>,
    ext: Constant<Bits<NW>>,
    place: Constant<Bits<NW>>,
    zero: Constant<Bits<NW>>,
}

impl<const S: usize, const NW: usize> NarrowLane<S, NW> {
    /// Lanes 2–3 of a PE of geometry `pe` (`S` and `NW` must be `pe.signed23` and `pe.narrow`).
    pub fn new(pe: &PeGeometry) -> Self {
        assert_eq!((pe.signed23, pe.narrow), (S, NW), "narrow lane geometry");
        assert!(S < NW && pe.lane23_in_lane1 + S <= NW);
        Self {
            prod: Default::default(),
            shift: Default::default(),
            enable: Default::default(),
            value: Default::default(),
            sval: Default::default(),
            shifted: Default::default(),
            wide: Default::default(),
            unused_prod: Default::default(),
            top: const_index(S - 1),
            prod_sign: const_index(P23_BITS - 1),
            // The product's sign copied above it (nothing when the window is narrower).
            ext_s: const_high(P23_BITS),
            ext: const_high(S),
            place: const_bits(pe.lane23_in_lane1 as u64),
            zero: const_bits(0),
        }
    }
}

impl<const S: usize, const NW: usize> Logic for NarrowLane<S, NW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.unused_prod.next = self.prod.val().any();
        self.sval.next = bit_cast::<S, P23_BITS>(self.prod.val());
        if self.prod.val().get_bit(self.prod_sign.val().index()) {
            self.sval.next = bit_cast::<S, P23_BITS>(self.prod.val()) | self.ext_s.val();
        }
        self.shifted.next = self.sval.val() << self.shift.val();
        self.wide.next = bit_cast::<NW, S>(self.shifted.val());
        if self.shifted.val().get_bit(self.top.val().index()) {
            self.wide.next = bit_cast::<NW, S>(self.shifted.val()) | self.ext.val();
        }
        if self.enable.val() {
            self.value.next = self.wide.val() << self.place.val();
        } else {
            self.value.next = self.zero.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::SHARED;

    /// A two's complement exponent of `EXP_BITS` bits.
    fn exp(e: i64) -> Bits<EXP_BITS> {
        bits((e as u64) & ((1 << EXP_BITS) - 1))
    }

    #[test]
    fn exponent_sum_sign_extends_both_exponents() {
        let lane = LaneWindow {
            offset: 40,
            max_shift: 100,
            width: 8,
            place: 0,
        };
        for (ea, ew) in [(3, 4), (-3, 5), (-7, -9), (0, 0)] {
            let mut s = ExpSum::new(lane);
            s.connect_all();
            s.ea.next = exp(ea);
            s.ew.next = exp(ew);
            assert!(simulate(&mut s, 100));
            assert_eq!(s.shift.val().to_u64() as i64, ea + ew + 40, "{ea} + {ew}");
        }
    }

    type Lane0 = LaneAlign<{ SHARED.lane0.width }, { SHARED.window }, { SHARED.acc_width }>;

    /// The lane-0 aligner's (aligned, neg) for product `prod`, shift `shift`, `sign`, `enable`,
    /// its fine shift applied by [`FineShift`] first (a stage ahead, in the MAC pipe).
    fn align(prod: u64, shift: u64, sign: bool, enable: bool) -> (Bits<{ SHARED.acc_width }>, bool) {
        let mut f = FineShift::default();
        f.connect_all();
        f.prod.next = bits(prod);
        f.shift.next = bits(shift);
        assert!(simulate(&mut f, 100));
        let mut a = Lane0::new(&SHARED, SHARED.lane0);
        a.connect_all();
        a.prod.next = f.out.val();
        a.shift.next = bits(shift);
        a.sign.next = sign;
        a.enable.next = enable;
        assert!(simulate(&mut a, 100));
        (a.aligned.val(), a.neg.val())
    }

    #[test]
    fn products_land_at_their_shift_and_negatives_are_ones_complement() {
        // The shift at which a product's bit 0 reaches the accumulator's bit 0.
        let zero = (SHARED.below - SHARED.lane0.place) as u64;
        let (v, neg) = align(0b1011, zero + 5, false, true);
        assert_eq!((v, neg), (bits(0b1011 << 5), false));
        // Negative: ones' complement plus the separate `neg` increment gives −value.
        let (v, neg) = align(0b1011, zero + 5, true, true);
        assert_eq!((v, neg), (!bits::<{ SHARED.acc_width }>(0b1011 << 5), true));
        assert_eq!(v + bits(1), bits::<{ SHARED.acc_width }>(0) - bits(0b1011 << 5));
        // One more shift doubles it; a disabled lane contributes nothing.
        assert_eq!(align(0b1011, zero + 6, false, true).0, bits(0b1011 << 6));
        // Every shift the fine and coarse parts split differently lands at the same place.
        for k in 0..20 {
            assert_eq!(
                align(0b1011, zero + k, false, true).0,
                bits::<{ SHARED.acc_width }>(0b1011) << k,
                "{k}"
            );
        }
        assert_eq!(align(0b1011, zero + 6, true, false), (bits(0), false));
    }
}
