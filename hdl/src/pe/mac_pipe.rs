//! The PE's arithmetic behind the lane decoders: reconfigurable mantissa multiplier → exponent
//! path and alignment → lane sum → exact accumulator, in [`MAC_LATENCY`] pipeline stages.
//!
//! Its operands are decoded words ([`LaneDecode`](crate::decode::LaneDecode)), registered by
//! whoever feeds it: in the array, the systolic registers that move them from PE to PE; in the
//! stand-alone PE, its input register. Stage 0 masks the lane-packed mantissas to the mode and
//! registers them (inside [`MantissaMul`]), adds the lanes' exponents and resolves specials;
//! stage 1 multiplies, from the registered operands, into registered products (the DSP blocks'
//! own registers for lanes 0–1); stage 2a aligns lanes 1–3 into lane 1's window
//! (lane 0's product waits, shifted by its shift's low bits: [`FineShift`]); stage 2n aligns lane 0 into the accumulator's fixed-point window
//! and sums lanes 1–3; stage 2b adds the two into the beat's total; stage 2c accumulates.
//! Aligning and summing the narrow lanes in one stage was the PE's critical path (13.1 ns); the
//! operand masks in front of the DSP multipliers, behind the route from the array's systolic
//! registers, were the whole accelerator's (13.5 ns). A beat presented before clock edge `t` is
//! in `acc` after edge `t + MAC_LATENCY - 1`.
//!
//! NaN/NaR operands, Inf × 0 and a format pair that is not `ok` raise the sticky `nan` flag and
//! add nothing; Inf products raise `pinf` / `ninf`.

use super::align::PRE_SHIFTED_BITS;
use super::{ExpSum, FineShift, LaneAlign, MantissaMul, NarrowLane, PeGeometry, EXP_SUM_BITS, SHARED};
use crate::decode::lane_decode::lane_word;
use crate::decode::{const_bits, const_high, BitIndex, EXP_BITS, LANE_WORD_BITS, MANT_BITS};
use crate::pe::mantissa_mul::MUL_LATENCY;
use rust_hdl::prelude::*;

/// Clock ticks from presenting a decoded beat to seeing it in `acc`: the multiplier's operand
/// and product registers, lanes 1–3 aligned, lane 0 aligned and lanes 1–3 summed, total,
/// accumulator.
pub const MAC_LATENCY: usize = MUL_LATENCY + 4;

const W: usize = LANE_WORD_BITS;
const EXP_W: usize = lane_word::EXP_W;

/// The MAC pipe of every multiplier format of the table.
pub type Mac = crate::pe_type!(GenericMac, SHARED);

/// The MAC pipe of a PE for a set of formats, with the widths of its [`PeGeometry`] as
/// parameters: accumulator `ACC_W`, alignment window `WIN`, lane windows `W0`, `W1`, `W23`,
/// narrow sum `NW`, lanes 2–3's signed window `S23`.
///
/// Lane 0 (every format) is aligned into the whole accumulator, ones' complement with its `+1`
/// as a carry-in. Lanes 1–3 carry ≤ 8-bit formats, whose products all land in lane 1's window:
/// they are summed, signed, in that window (`NW` bits) and the sum is placed once, so only
/// two adders per PE are as wide as the accumulator.
#[derive(LogicBlock)]
pub struct GenericMac<
    const ACC_W: usize,
    const WIN: usize,
    const W0: usize,
    const W1: usize,
    const W23: usize,
    const NW: usize,
    const S23: usize,
> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties the pipeline, zeroes the accumulator and flags.
    pub reset: Signal<In, Bit>,
    /// Decoded activation word.
    pub a: Signal<In, Bits<W>>,
    /// Decoded weight word.
    pub w: Signal<In, Bits<W>>,
    /// The format pair is a multiplier pair (from [`crate::decode::LaneMode`]).
    pub ok: Signal<In, Bit>,
    /// Four lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Start a new dot product (with `valid`: the sum restarts at this beat).
    pub clear: Signal<In, Bit>,
    /// The exact sum, two's complement, bit 0 weighing `2^ACC.lsb`.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky: a NaN/NaR operand, Inf × 0, or a pair that is not `ok` was seen.
    pub nan: Signal<Out, Bit>,
    /// Sticky: a +Inf product was seen.
    pub pinf: Signal<Out, Bit>,
    /// Sticky: a −Inf product was seen.
    pub ninf: Signal<Out, Bit>,

    // Stage 0: operands masked and registered (in `mul`), exponent sums, specials.
    mul: MantissaMul,
    es0: ExpSum,
    es1: ExpSum,
    es2: ExpSum,
    es3: ExpSum,
    en: Signal<Local, Bits<4>>,
    az: Signal<Local, Bits<4>>,
    wz: Signal<Local, Bits<4>>,
    an: Signal<Local, Bits<4>>,
    wn: Signal<Local, Bits<4>>,
    ai: Signal<Local, Bits<4>>,
    wi: Signal<Local, Bits<4>>,
    sg: Signal<Local, Bits<4>>,
    infl: Signal<Local, Bits<4>>,
    ae: Signal<Local, Bits<EXP_W>>,
    we: Signal<Local, Bits<EXP_W>>,
    en1: Constant<Bits<4>>,
    en2: Constant<Bits<4>>,
    en4: Constant<Bits<4>>,
    en0: Constant<Bits<4>>,
    at_mant: Constant<BitIndex>,
    at_exp: Constant<BitIndex>,
    at_zero: Constant<BitIndex>,
    at_nar: Constant<BitIndex>,
    at_inf: Constant<BitIndex>,
    at_sign: Constant<BitIndex>,
    e1: Constant<BitIndex>,
    e2: Constant<BitIndex>,
    e3: Constant<BitIndex>,
    op_sh0: DFF<Bits<EXP_SUM_BITS>>,
    op_sh1: DFF<Bits<EXP_SUM_BITS>>,
    op_sh2: DFF<Bits<EXP_SUM_BITS>>,
    op_sh3: DFF<Bits<EXP_SUM_BITS>>,
    op_sg: DFF<Bits<4>>,
    op_le: DFF<Bits<4>>,
    op_valid: DFF<Bit>,
    op_clear: DFF<Bit>,
    op_nan: DFF<Bit>,
    op_pinf: DFF<Bit>,
    op_ninf: DFF<Bit>,

    // Stage 1: multiply (the products are registered in `mul`). Lane 1's product is wider
    // than its window when the lane carries only 4-bit mantissas; Verilator exempts `*unused*`.
    unused_p1: Signal<Local, Bit>,
    sh0: DFF<Bits<EXP_SUM_BITS>>,
    sh1: DFF<Bits<EXP_SUM_BITS>>,
    sh2: DFF<Bits<EXP_SUM_BITS>>,
    sh3: DFF<Bits<EXP_SUM_BITS>>,
    sg1: DFF<Bits<4>>,
    le1: DFF<Bits<4>>,
    valid1: DFF<Bit>,
    clear1: DFF<Bit>,
    nan1: DFF<Bit>,
    pinf1: DFF<Bit>,
    ninf1: DFF<Bit>,

    // Stage 2a/2n/2b/2c: align lanes 1–3, align lane 0 and sum lanes 1–3, total, accumulate.
    fine0: FineShift,
    al0: LaneAlign<W0, WIN, ACC_W>,
    al2: NarrowLane<S23, NW>,
    al3: NarrowLane<S23, NW>,
    x1: Signal<Local, Bits<W1>>,
    x1w: Signal<Local, Bits<NW>>,
    x1s: Signal<Local, Bits<NW>>,
    p0d: DFF<Bits<PRE_SHIFTED_BITS>>,
    sh0d: DFF<Bits<EXP_SUM_BITS>>,
    sg0d: DFF<Bit>,
    le0d: DFF<Bit>,
    xs1: DFF<Bits<NW>>,
    v2: DFF<Bits<NW>>,
    v3: DFF<Bits<NW>>,
    n1: DFF<Bit>,
    valid_n: DFF<Bit>,
    clear_n: DFF<Bit>,
    nan_n: DFF<Bit>,
    pinf_n: DFF<Bit>,
    ninf_n: DFF<Bit>,
    // The narrow sum's carry-save layer: xs1 + v2 + v3 = s3 + 2·c3, so one adder remains
    // (two in series were the PE's slowest path in the whole top, 16 endpoints to −0.56 ns).
    x1i: Signal<Local, Bits<NW>>,
    s3: Signal<Local, Bits<NW>>,
    c3: Signal<Local, Bits<NW>>,
    c3n: Signal<Local, Bits<NW>>,
    one_nw: Constant<Bits<NW>>,
    nw_sign: Constant<BitIndex>,
    zero_nw: Constant<Bits<NW>>,
    a0: DFF<Bits<ACC_W>>,
    nsum: DFF<Bits<NW>>,
    neg0: DFF<Bit>,
    nwin: Signal<Local, Bits<WIN>>,
    nplaced: Signal<Local, Bits<WIN>>,
    nacc: Signal<Local, Bits<ACC_W>>,
    tw: Signal<Local, Bits<WIN>>,
    // The placed narrow sum's bits under the accumulator LSB are zero for every product, and
    // the wide sum's bit 0 is the carry-in trick's; Verilator exempts `*unused*` names.
    unused_low: Signal<Local, Bit>,
    ext_win: Constant<Bits<WIN>>,
    place1: Constant<Bits<WIN>>,
    below: Constant<BitIndex>,
    below_mask: Constant<Bits<WIN>>,
    one_win: Constant<Bits<WIN>>,
    i0: Constant<BitIndex>,
    i1: Constant<BitIndex>,
    i2: Constant<BitIndex>,
    i3: Constant<BitIndex>,
    valid_c: DFF<Bit>,
    clear_c: DFF<Bit>,
    nan_c: DFF<Bit>,
    pinf_c: DFF<Bit>,
    ninf_c: DFF<Bit>,
    total: DFF<Bits<ACC_W>>,
    clear_t: DFF<Bit>,
    nan_t: DFF<Bit>,
    pinf_t: DFF<Bit>,
    ninf_t: DFF<Bit>,
    // What the next beat adds to: the accumulator, or zero when that beat starts a new sum
    // (known a stage ahead, from `clear_c`). A register of its own, zeroed by the flip-flops'
    // synchronous reset, so no multiplexer sits between the route from `clear_t` and the
    // accumulator's carry chain (npe4x4's critical path: 4.6 ns of that route, then the chain).
    base: DFF<Bits<ACC_W>>,
    sum: Signal<Local, Bits<ACC_W>>,
    acc_q: DFF<Bits<ACC_W>>,
    nan_q: DFF<Bit>,
    pinf_q: DFF<Bit>,
    ninf_q: DFF<Bit>,
    acc_zero: Constant<Bits<ACC_W>>,
}

impl Default for Mac {
    fn default() -> Self {
        Self::new(&SHARED)
    }
}

impl<
        const ACC_W: usize,
        const WIN: usize,
        const W0: usize,
        const W1: usize,
        const W23: usize,
        const NW: usize,
        const S23: usize,
    > GenericMac<ACC_W, WIN, W0, W1, W23, NW, S23>
{
    /// The MAC pipe of geometry `g`. Panics unless the parameters are its widths.
    pub fn new(g: &PeGeometry) -> Self {
        assert_eq!(
            (
                g.acc_width,
                g.window,
                g.lane0.width,
                g.lane1.width,
                g.lane23.width,
                g.narrow,
                g.signed23
            ),
            (ACC_W, WIN, W0, W1, W23, NW, S23),
            "MAC parameters must match the geometry of its formats"
        );
        let idx = |i: usize| const_bits::<32>(i as u64);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a: Default::default(),
            w: Default::default(),
            ok: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            mul: Default::default(),
            es0: ExpSum::new(g.lane0),
            es1: ExpSum::new(g.lane1),
            es2: ExpSum::new(g.lane23),
            es3: ExpSum::new(g.lane23),
            en: Default::default(),
            az: Default::default(),
            wz: Default::default(),
            an: Default::default(),
            wn: Default::default(),
            ai: Default::default(),
            wi: Default::default(),
            sg: Default::default(),
            infl: Default::default(),
            ae: Default::default(),
            we: Default::default(),
            en1: const_bits(0b0001),
            en2: const_bits(0b0011),
            en4: const_bits(0b1111),
            en0: const_bits(0),
            at_mant: idx(lane_word::MANT),
            at_exp: idx(lane_word::EXP),
            at_zero: idx(lane_word::ZERO),
            at_nar: idx(lane_word::NAR),
            at_inf: idx(lane_word::INF),
            at_sign: idx(lane_word::SIGN),
            e1: idx(EXP_BITS),
            e2: idx(2 * EXP_BITS),
            e3: idx(3 * EXP_BITS),
            op_sh0: Default::default(),
            op_sh1: Default::default(),
            op_sh2: Default::default(),
            op_sh3: Default::default(),
            op_sg: Default::default(),
            op_le: Default::default(),
            op_valid: Default::default(),
            op_clear: Default::default(),
            op_nan: Default::default(),
            op_pinf: Default::default(),
            op_ninf: Default::default(),
            unused_p1: Default::default(),
            sh0: Default::default(),
            sh1: Default::default(),
            sh2: Default::default(),
            sh3: Default::default(),
            sg1: Default::default(),
            le1: Default::default(),
            valid1: Default::default(),
            clear1: Default::default(),
            nan1: Default::default(),
            pinf1: Default::default(),
            ninf1: Default::default(),
            fine0: Default::default(),
            al0: LaneAlign::new(g, g.lane0),
            al2: NarrowLane::new(g),
            al3: NarrowLane::new(g),
            x1: Default::default(),
            x1w: Default::default(),
            x1s: Default::default(),
            p0d: Default::default(),
            sh0d: Default::default(),
            sg0d: Default::default(),
            le0d: Default::default(),
            xs1: Default::default(),
            v2: Default::default(),
            v3: Default::default(),
            n1: Default::default(),
            valid_n: Default::default(),
            clear_n: Default::default(),
            nan_n: Default::default(),
            pinf_n: Default::default(),
            ninf_n: Default::default(),
            x1i: Default::default(),
            s3: Default::default(),
            c3: Default::default(),
            c3n: Default::default(),
            one_nw: const_bits(1),
            nw_sign: idx(NW - 1),
            zero_nw: const_bits(0),
            a0: Default::default(),
            nsum: Default::default(),
            neg0: Default::default(),
            nwin: Default::default(),
            nplaced: Default::default(),
            nacc: Default::default(),
            tw: Default::default(),
            unused_low: Default::default(),
            ext_win: const_high(NW),
            place1: const_bits(g.lane1.place as u64),
            below: idx(g.below),
            below_mask: Constant::new(Bits::<WIN>::mask() >> (WIN - g.below) as u64),
            one_win: const_bits(1),
            i0: idx(0),
            i1: idx(1),
            i2: idx(2),
            i3: idx(3),
            valid_c: Default::default(),
            clear_c: Default::default(),
            nan_c: Default::default(),
            pinf_c: Default::default(),
            ninf_c: Default::default(),
            total: Default::default(),
            clear_t: Default::default(),
            nan_t: Default::default(),
            pinf_t: Default::default(),
            ninf_t: Default::default(),
            base: Default::default(),
            sum: Default::default(),
            acc_q: Default::default(),
            nan_q: Default::default(),
            pinf_q: Default::default(),
            ninf_q: Default::default(),
            acc_zero: const_bits(0),
        }
    }
}

impl<
        const ACC_W: usize,
        const WIN: usize,
        const W0: usize,
        const W1: usize,
        const W23: usize,
        const NW: usize,
        const S23: usize,
    > Logic for GenericMac<ACC_W, WIN, W0, W1, W23, NW, S23>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op_sh0, op_sh1, op_sh2, op_sh3, op_sg, op_le, op_valid, op_clear, op_nan, op_pinf, op_ninf,
            sh0, sh1, sh2, sh3, sg1, le1, valid1, clear1, nan1, pinf1, ninf1, p0d, sh0d, sg0d, le0d, xs1, v2, v3, n1,
            valid_n, clear_n, nan_n, pinf_n, ninf_n, a0, nsum, neg0, valid_c, clear_c, nan_c, pinf_c, ninf_c, total,
            clear_t, nan_t, pinf_t, ninf_t, base, acc_q, nan_q, pinf_q, ninf_q
        );

        // ---- stage 0: lanes the mode uses.
        self.en.next = self.en0.val();
        if self.ok.val() {
            if self.lanes4.val() {
                self.en.next = self.en4.val();
            } else if self.lanes2.val() {
                self.en.next = self.en2.val();
            } else {
                self.en.next = self.en1.val();
            }
        }

        // The lane-packed mantissas multiply as they are (the multiplier registers them, masked
        // to the mode: its products are a clock later).
        self.mul.clock.next = self.clock.val();
        self.mul.a.next = self.a.val().get_bits::<MANT_BITS>(self.at_mant.val().index());
        self.mul.b.next = self.w.val().get_bits::<MANT_BITS>(self.at_mant.val().index());
        self.mul.lanes4.next = self.lanes4.val();
        self.mul.lanes2.next = self.lanes2.val();
        // Only a beat's operands are registered (a bubble's product is never added).
        self.mul.en.next = self.valid.val();

        self.ae.next = self.a.val().get_bits::<EXP_W>(self.at_exp.val().index());
        self.we.next = self.w.val().get_bits::<EXP_W>(self.at_exp.val().index());
        self.es0.ea.next = self.ae.val().get_bits::<EXP_BITS>(self.i0.val().index());
        self.es0.ew.next = self.we.val().get_bits::<EXP_BITS>(self.i0.val().index());
        self.es1.ea.next = self.ae.val().get_bits::<EXP_BITS>(self.e1.val().index());
        self.es1.ew.next = self.we.val().get_bits::<EXP_BITS>(self.e1.val().index());
        self.es2.ea.next = self.ae.val().get_bits::<EXP_BITS>(self.e2.val().index());
        self.es2.ew.next = self.we.val().get_bits::<EXP_BITS>(self.e2.val().index());
        self.es3.ea.next = self.ae.val().get_bits::<EXP_BITS>(self.e3.val().index());
        self.es3.ew.next = self.we.val().get_bits::<EXP_BITS>(self.e3.val().index());

        // Specials per lane: NaN if either is NaN or Inf × 0; Inf otherwise if either is Inf.
        self.az.next = self.a.val().get_bits::<4>(self.at_zero.val().index());
        self.wz.next = self.w.val().get_bits::<4>(self.at_zero.val().index());
        self.an.next = self.a.val().get_bits::<4>(self.at_nar.val().index());
        self.wn.next = self.w.val().get_bits::<4>(self.at_nar.val().index());
        self.ai.next = self.a.val().get_bits::<4>(self.at_inf.val().index());
        self.wi.next = self.w.val().get_bits::<4>(self.at_inf.val().index());
        self.sg.next = self.a.val().get_bits::<4>(self.at_sign.val().index())
            ^ self.w.val().get_bits::<4>(self.at_sign.val().index());
        // Lanes 2–3's products come out signed.
        self.mul.neg2.next = self.sg.val().get_bit(self.i2.val().index());
        self.mul.neg3.next = self.sg.val().get_bit(self.i3.val().index());
        self.infl.next = self.en.val() & (self.ai.val() | self.wi.val());
        self.op_nan.d.next = !self.ok.val()
            | (self.en.val()
                & (self.an.val() | self.wn.val() | (self.ai.val() & self.wz.val()) | (self.az.val() & self.wi.val())))
            .any();
        self.op_pinf.d.next = (self.infl.val() & !self.sg.val()).any();
        self.op_ninf.d.next = (self.infl.val() & self.sg.val()).any();

        self.op_sh0.d.next = self.es0.shift.val();
        self.op_sh1.d.next = self.es1.shift.val();
        self.op_sh2.d.next = self.es2.shift.val();
        self.op_sh3.d.next = self.es3.shift.val();
        self.op_sg.d.next = self.sg.val();
        self.op_le.d.next = self.en.val();
        self.op_valid.d.next = self.valid.val();
        self.op_clear.d.next = self.clear.val();

        // ---- stage 1: the lane products, from registered operands; the rest waits.
        self.unused_p1.next = self.mul.p1.val().any();
        self.sh0.d.next = self.op_sh0.q.val();
        self.sh1.d.next = self.op_sh1.q.val();
        self.sh2.d.next = self.op_sh2.q.val();
        self.sh3.d.next = self.op_sh3.q.val();
        self.sg1.d.next = self.op_sg.q.val();
        self.le1.d.next = self.op_le.q.val();
        self.valid1.d.next = self.op_valid.q.val();
        self.clear1.d.next = self.op_clear.q.val();
        self.nan1.d.next = self.op_nan.q.val();
        self.pinf1.d.next = self.op_pinf.q.val();
        self.ninf1.d.next = self.op_ninf.q.val();

        // ---- stage 2a: lanes 1–3 aligned in lane 1's window; lane 0's product waits.
        // Lane 1: its magnitude; negated in the narrow sum (ones' complement there, the +1 as
        // a carry-in), where the inversion shares the carry-save layer's LUTs (here, behind the
        // route from the DSP block and the shift, it was −0.74 ns to `xs1` in one placement).
        self.x1.next = bit_cast::<W1, 16>(self.mul.p1.val()) << self.sh1.q.val();
        self.x1w.next = bit_cast::<NW, W1>(self.x1.val());
        self.x1s.next = self.zero_nw.val();
        if self.le1.q.val().get_bit(self.i1.val().index()) {
            self.x1s.next = self.x1w.val();
        }
        self.al2.prod.next = self.mul.p2.val();
        self.al2.shift.next = self.sh2.q.val();
        self.al2.enable.next = self.le1.q.val().get_bit(self.i2.val().index());
        self.al3.prod.next = self.mul.p3.val();
        self.al3.shift.next = self.sh3.q.val();
        self.al3.enable.next = self.le1.q.val().get_bit(self.i3.val().index());
        self.xs1.d.next = self.x1s.val();
        self.v2.d.next = self.al2.value.val();
        self.v3.d.next = self.al3.value.val();
        self.n1.d.next =
            self.le1.q.val().get_bit(self.i1.val().index()) & self.sg1.q.val().get_bit(self.i1.val().index());
        // Lane 0's product waits, shifted by the fine part of its shift (its aligner below was
        // the PE's longest path in the whole top).
        self.fine0.prod.next = self.mul.p0.val();
        self.fine0.shift.next = self.sh0.q.val();
        self.p0d.d.next = self.fine0.out.val();
        self.sh0d.d.next = self.sh0.q.val();
        self.sg0d.d.next = self.sg1.q.val().get_bit(self.i0.val().index());
        self.le0d.d.next = self.le1.q.val().get_bit(self.i0.val().index());
        self.valid_n.d.next = self.valid1.q.val();
        self.clear_n.d.next = self.clear1.q.val();
        self.nan_n.d.next = self.nan1.q.val();
        self.pinf_n.d.next = self.pinf1.q.val();
        self.ninf_n.d.next = self.ninf1.q.val();

        // ---- stage 2n: lane 0 aligned into the accumulator; lanes 1–3 summed.
        self.al0.prod.next = self.p0d.q.val();
        self.al0.shift.next = self.sh0d.q.val();
        self.al0.sign.next = self.sg0d.q.val();
        self.al0.enable.next = self.le0d.q.val();
        self.a0.d.next = self.al0.aligned.val();
        self.neg0.d.next = self.al0.neg.val();
        // ±xs1 + v2 + v3 (−xs1 = !xs1 + n1, the +1 in the carry vector's free low bit), modulo 2^NW:
        // the values fit NW bits.
        self.x1i.next = self.xs1.q.val();
        if self.n1.q.val() {
            self.x1i.next = !self.xs1.q.val();
        }
        self.s3.next = self.x1i.val() ^ self.v2.q.val() ^ self.v3.q.val();
        self.c3.next = (self.x1i.val() & self.v2.q.val())
            | (self.x1i.val() & self.v3.q.val())
            | (self.v2.q.val() & self.v3.q.val());
        self.c3n.next = self.c3.val() << self.one_nw.val();
        if self.n1.q.val() {
            self.c3n.next = (self.c3.val() << self.one_nw.val()) | self.one_nw.val();
        }
        self.nsum.d.next = self.s3.val() + self.c3n.val();
        self.valid_c.d.next = self.valid_n.q.val();
        self.clear_c.d.next = self.clear_n.q.val();
        self.nan_c.d.next = self.nan_n.q.val();
        self.pinf_c.d.next = self.pinf_n.q.val();
        self.ninf_c.d.next = self.ninf_n.q.val();

        // ---- stage 2b: the beat's total, so stage 2c is a two-operand add. The narrow sum is
        // sign-extended and placed at lane 1's window; lane 0's +1 is the carry-in
        // ((2·a0 + 1) + (2·n + neg0) = 2·(a0 + n + neg0) + 1).
        self.nwin.next = bit_cast::<WIN, NW>(self.nsum.q.val());
        if self.nsum.q.val().get_bit(self.nw_sign.val().index()) {
            self.nwin.next = bit_cast::<WIN, NW>(self.nsum.q.val()) | self.ext_win.val();
        }
        self.nplaced.next = self.nwin.val() << self.place1.val();
        self.nacc.next = self.nplaced.val().get_bits::<ACC_W>(self.below.val().index());
        if self.neg0.q.val() {
            self.tw.next = ((bit_cast::<WIN, ACC_W>(self.a0.q.val()) << self.one_win.val()) | self.one_win.val())
                + ((bit_cast::<WIN, ACC_W>(self.nacc.val()) << self.one_win.val()) | self.one_win.val());
        } else {
            self.tw.next = ((bit_cast::<WIN, ACC_W>(self.a0.q.val()) << self.one_win.val()) | self.one_win.val())
                + (bit_cast::<WIN, ACC_W>(self.nacc.val()) << self.one_win.val());
        }
        // A bubble adds zero, so the accumulator needs no clock enable (whose one net to ~260
        // flip-flops was npe4x4's critical path): its registers load every cycle.
        self.total.d.next = self.acc_zero.val();
        if self.valid_c.q.val() {
            self.total.d.next = self.tw.val().get_bits::<ACC_W>(self.i1.val().index());
        }
        self.unused_low.next =
            (self.nplaced.val() & self.below_mask.val()).any() | self.tw.val().get_bit(self.i0.val().index());
        self.clear_t.d.next = self.clear_c.q.val();
        self.nan_t.d.next = self.nan_c.q.val() & self.valid_c.q.val();
        self.pinf_t.d.next = self.pinf_c.q.val() & self.valid_c.q.val();
        self.ninf_t.d.next = self.ninf_c.q.val() & self.valid_c.q.val();

        // ---- stage 2c: accumulate.
        // A clear without a beat leaves 0 + 0: the base was zeroed a stage ahead.
        self.sum.next = self.base.q.val() + self.total.q.val();
        self.acc_q.d.next = self.sum.val();
        self.base.d.next = self.sum.val();
        self.nan_q.d.next = (self.nan_q.q.val() & !self.clear_t.q.val()) | self.nan_t.q.val();
        self.pinf_q.d.next = (self.pinf_q.q.val() & !self.clear_t.q.val()) | self.pinf_t.q.val();
        self.ninf_q.d.next = (self.ninf_q.q.val() & !self.clear_t.q.val()) | self.ninf_t.q.val();
        if self.clear_c.q.val() {
            self.base.d.next = self.acc_zero.val();
        }

        // The sums need no reset: a tile's first beat clears the base, and nothing reads the
        // accumulator before a tile ends. Only the control flags are reset (fewer reset loads).
        if self.reset.val() {
            self.op_valid.d.next = false;
            self.op_clear.d.next = false;
            self.valid1.d.next = false;
            self.clear1.d.next = false;
            self.valid_n.d.next = false;
            self.clear_n.d.next = false;
            self.valid_c.d.next = false;
            self.clear_c.d.next = false;
            self.clear_t.d.next = false;
            self.nan_t.d.next = false;
            self.pinf_t.d.next = false;
            self.ninf_t.d.next = false;
            self.nan_q.d.next = false;
            self.pinf_q.d.next = false;
            self.ninf_q.d.next = false;
        }

        self.acc.next = self.acc_q.q.val();
        self.nan.next = self.nan_q.q.val();
        self.pinf.next = self.pinf_q.q.val();
        self.ninf.next = self.ninf_q.q.val();
    }
}
