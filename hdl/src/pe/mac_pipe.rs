//! The PE's arithmetic behind the lane decoders: reconfigurable mantissa multiplier → exponent
//! path and alignment → lane sum → exact accumulator, in [`MAC_LATENCY`] pipeline stages.
//!
//! Its operands are decoded words ([`LaneDecode`](crate::decode::LaneDecode)), registered by
//! whoever feeds it: in the array, the systolic registers that move them from PE to PE; in the
//! stand-alone PE, its input register. Stage 1 multiplies the lane-packed mantissas, adds the
//! lanes' exponents and resolves specials; stage 2a aligns each lane's product into the
//! accumulator's fixed-point window and sums lane pairs; stage 2b adds the pairs into the
//! beat's total; stage 2c accumulates. A beat presented before clock edge `t` is in `acc` after
//! edge `t + MAC_LATENCY - 1`.
//!
//! NaN/NaR operands, Inf × 0 and a format pair that is not `ok` raise the sticky `nan` flag and
//! add nothing; Inf products raise `pinf` / `ninf`.

use super::{ExpSum, LaneAlign, MantissaMul, PeGeometry, EXP_SUM_BITS, SHARED};
use crate::decode::lane_decode::lane_word;
use crate::decode::{const_bits, BitIndex, EXP_BITS, LANE_WORD_BITS, MANT_BITS};
use crate::pe::mantissa_mul::MUL_OUT_BITS;
use rust_hdl::prelude::*;

/// Clock ticks from presenting a decoded beat to seeing it in `acc`.
pub const MAC_LATENCY: usize = 4;

const W: usize = LANE_WORD_BITS;
const EXP_W: usize = lane_word::EXP_W;

/// The MAC pipe of every multiplier format of the table.
pub type Mac = GenericMac<
    { SHARED.acc_width },
    { SHARED.window },
    { SHARED.lane0.width },
    { SHARED.lane1.width },
    { SHARED.lane23.width },
>;

/// The MAC pipe of a PE for a set of formats, with the widths of its [`PeGeometry`] as
/// parameters: accumulator `ACC_W`, alignment window `WIN`, lane windows `W0`, `W1`, `W23`.
#[derive(LogicBlock)]
pub struct GenericMac<const ACC_W: usize, const WIN: usize, const W0: usize, const W1: usize, const W23: usize> {
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

    // Stage 1: multiply, exponent sums, specials.
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
    p0: DFF<Bits<MUL_OUT_BITS>>,
    p1: DFF<Bits<16>>,
    p2: DFF<Bits<8>>,
    p3: DFF<Bits<8>>,
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

    // Stage 2a/2b/2c: align, pair sums, accumulate.
    al0: LaneAlign<W0, WIN, ACC_W>,
    al1: LaneAlign<W1, WIN, ACC_W>,
    al2: LaneAlign<W23, WIN, ACC_W>,
    al3: LaneAlign<W23, WIN, ACC_W>,
    i0: Constant<BitIndex>,
    i1: Constant<BitIndex>,
    i2: Constant<BitIndex>,
    i3: Constant<BitIndex>,
    s01: DFF<Bits<ACC_W>>,
    s23: DFF<Bits<ACC_W>>,
    nneg: DFF<Bits<3>>,
    valid_c: DFF<Bit>,
    clear_c: DFF<Bit>,
    nan_c: DFF<Bit>,
    pinf_c: DFF<Bit>,
    ninf_c: DFF<Bit>,
    n0: Signal<Local, Bits<3>>,
    n1: Signal<Local, Bits<3>>,
    n2: Signal<Local, Bits<3>>,
    n3: Signal<Local, Bits<3>>,
    nneg_wide: Signal<Local, Bits<ACC_W>>,
    total: DFF<Bits<ACC_W>>,
    valid_t: DFF<Bit>,
    clear_t: DFF<Bit>,
    nan_t: DFF<Bit>,
    pinf_t: DFF<Bit>,
    ninf_t: DFF<Bit>,
    zero3: Constant<Bits<3>>,
    one3: Constant<Bits<3>>,
    base: Signal<Local, Bits<ACC_W>>,
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

impl<const ACC_W: usize, const WIN: usize, const W0: usize, const W1: usize, const W23: usize>
    GenericMac<ACC_W, WIN, W0, W1, W23>
{
    /// The MAC pipe of geometry `g`. Panics unless the parameters are its widths.
    pub fn new(g: &PeGeometry) -> Self {
        assert_eq!(
            (g.acc_width, g.window, g.lane0.width, g.lane1.width, g.lane23.width),
            (ACC_W, WIN, W0, W1, W23),
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
            p0: Default::default(),
            p1: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
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
            al0: LaneAlign::new(g, g.lane0),
            al1: LaneAlign::new(g, g.lane1),
            al2: LaneAlign::new(g, g.lane23),
            al3: LaneAlign::new(g, g.lane23),
            i0: idx(0),
            i1: idx(1),
            i2: idx(2),
            i3: idx(3),
            s01: Default::default(),
            s23: Default::default(),
            nneg: Default::default(),
            valid_c: Default::default(),
            clear_c: Default::default(),
            nan_c: Default::default(),
            pinf_c: Default::default(),
            ninf_c: Default::default(),
            n0: Default::default(),
            n1: Default::default(),
            n2: Default::default(),
            n3: Default::default(),
            nneg_wide: Default::default(),
            total: Default::default(),
            valid_t: Default::default(),
            clear_t: Default::default(),
            nan_t: Default::default(),
            pinf_t: Default::default(),
            ninf_t: Default::default(),
            zero3: const_bits(0),
            one3: const_bits(1),
            base: Default::default(),
            acc_q: Default::default(),
            nan_q: Default::default(),
            pinf_q: Default::default(),
            ninf_q: Default::default(),
            acc_zero: const_bits(0),
        }
    }
}

impl<const ACC_W: usize, const WIN: usize, const W0: usize, const W1: usize, const W23: usize> Logic
    for GenericMac<ACC_W, WIN, W0, W1, W23>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, p0, p1, p2, p3, sh0, sh1, sh2, sh3, sg1, le1, valid1, clear1, nan1, pinf1, ninf1, s01, s23,
            nneg, valid_c, clear_c, nan_c, pinf_c, ninf_c, total, valid_t, clear_t, nan_t, pinf_t, ninf_t, acc_q,
            nan_q, pinf_q, ninf_q
        );

        // ---- stage 1: lanes the mode uses.
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

        // The lane-packed mantissas multiply as they are.
        self.mul.a.next = self.a.val().get_bits::<MANT_BITS>(self.at_mant.val().index());
        self.mul.b.next = self.w.val().get_bits::<MANT_BITS>(self.at_mant.val().index());
        self.mul.lanes4.next = self.lanes4.val();
        self.mul.lanes2.next = self.lanes2.val();
        self.p0.d.next = self.mul.p0.val();
        self.p1.d.next = self.mul.p1.val();
        self.p2.d.next = self.mul.p2.val();
        self.p3.d.next = self.mul.p3.val();

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
        self.infl.next = self.en.val() & (self.ai.val() | self.wi.val());
        self.nan1.d.next = !self.ok.val()
            | (self.en.val()
                & (self.an.val()
                    | self.wn.val()
                    | (self.ai.val() & self.wz.val())
                    | (self.az.val() & self.wi.val())))
                .any();
        self.pinf1.d.next = (self.infl.val() & !self.sg.val()).any();
        self.ninf1.d.next = (self.infl.val() & self.sg.val()).any();

        self.sh0.d.next = self.es0.shift.val();
        self.sh1.d.next = self.es1.shift.val();
        self.sh2.d.next = self.es2.shift.val();
        self.sh3.d.next = self.es3.shift.val();
        self.sg1.d.next = self.sg.val();
        self.le1.d.next = self.en.val();
        self.valid1.d.next = self.valid.val();
        self.clear1.d.next = self.clear.val();

        // ---- stage 2a: each lane's product aligned and signed.
        self.al0.prod.next = self.p0.q.val();
        self.al1.prod.next = bit_cast::<MUL_OUT_BITS, 16>(self.p1.q.val());
        self.al2.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.p2.q.val());
        self.al3.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.p3.q.val());
        self.al0.shift.next = self.sh0.q.val();
        self.al1.shift.next = self.sh1.q.val();
        self.al2.shift.next = self.sh2.q.val();
        self.al3.shift.next = self.sh3.q.val();
        self.al0.sign.next = self.sg1.q.val().get_bit(self.i0.val().index());
        self.al1.sign.next = self.sg1.q.val().get_bit(self.i1.val().index());
        self.al2.sign.next = self.sg1.q.val().get_bit(self.i2.val().index());
        self.al3.sign.next = self.sg1.q.val().get_bit(self.i3.val().index());
        self.al0.enable.next = self.le1.q.val().get_bit(self.i0.val().index());
        self.al1.enable.next = self.le1.q.val().get_bit(self.i1.val().index());
        self.al2.enable.next = self.le1.q.val().get_bit(self.i2.val().index());
        self.al3.enable.next = self.le1.q.val().get_bit(self.i3.val().index());

        // Lane pairs summed, the negations' +1s counted.
        self.s01.d.next = self.al0.aligned.val() + self.al1.aligned.val();
        self.s23.d.next = self.al2.aligned.val() + self.al3.aligned.val();
        self.n0.next = self.zero3.val();
        self.n1.next = self.zero3.val();
        self.n2.next = self.zero3.val();
        self.n3.next = self.zero3.val();
        if self.al0.neg.val() {
            self.n0.next = self.one3.val();
        }
        if self.al1.neg.val() {
            self.n1.next = self.one3.val();
        }
        if self.al2.neg.val() {
            self.n2.next = self.one3.val();
        }
        if self.al3.neg.val() {
            self.n3.next = self.one3.val();
        }
        self.nneg.d.next = (self.n0.val() + self.n1.val()) + (self.n2.val() + self.n3.val());
        self.valid_c.d.next = self.valid1.q.val();
        self.clear_c.d.next = self.clear1.q.val();
        self.nan_c.d.next = self.nan1.q.val();
        self.pinf_c.d.next = self.pinf1.q.val();
        self.ninf_c.d.next = self.ninf1.q.val();

        // ---- stage 2b: the beat's total, so stage 2c is a two-operand add.
        self.nneg_wide.next = bit_cast::<ACC_W, 3>(self.nneg.q.val());
        self.total.d.next = self.s01.q.val() + (self.s23.q.val() + self.nneg_wide.val());
        self.valid_t.d.next = self.valid_c.q.val();
        self.clear_t.d.next = self.clear_c.q.val();
        self.nan_t.d.next = self.nan_c.q.val();
        self.pinf_t.d.next = self.pinf_c.q.val();
        self.ninf_t.d.next = self.ninf_c.q.val();

        // ---- stage 2c: accumulate.
        if self.clear_t.q.val() {
            self.base.next = self.acc_zero.val();
        } else {
            self.base.next = self.acc_q.q.val();
        }
        if self.valid_t.q.val() {
            self.acc_q.d.next = self.base.val() + self.total.q.val();
            self.nan_q.d.next = (self.nan_q.q.val() & !self.clear_t.q.val()) | self.nan_t.q.val();
            self.pinf_q.d.next = (self.pinf_q.q.val() & !self.clear_t.q.val()) | self.pinf_t.q.val();
            self.ninf_q.d.next = (self.ninf_q.q.val() & !self.clear_t.q.val()) | self.ninf_t.q.val();
        } else if self.clear_t.q.val() {
            self.acc_q.d.next = self.acc_zero.val();
            self.nan_q.d.next = false;
            self.pinf_q.d.next = false;
            self.ninf_q.d.next = false;
        }

        if self.reset.val() {
            self.valid1.d.next = false;
            self.clear1.d.next = false;
            self.valid_c.d.next = false;
            self.clear_c.d.next = false;
            self.valid_t.d.next = false;
            self.clear_t.d.next = false;
            self.acc_q.d.next = self.acc_zero.val();
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
