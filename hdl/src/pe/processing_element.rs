//! The PE: lane decoders → reconfigurable mantissa multiplier → exponent path and alignment →
//! lane sum → exact accumulator, in six pipeline stages.
//!
//! Stage 0 registers the ports (and the lane mode). Stage 1 decodes up to four lanes per
//! operand, packs their mantissas and adds exponents; stage 1b multiplies the lane-packed
//! mantissas. Stage 2a aligns each lane's product into the accumulator's fixed-point window and
//! sums lane pairs; stage 2b adds the pairs into the beat's total;
//! stage 2c accumulates. A beat presented before clock edge `t` is in `acc`
//! after edge `t + PE_LATENCY - 1`, i.e. readable after [`PE_LATENCY`] ticks.
//!
//! Lanes: the wider operand format decides (16-bit: 1 lane, 5–8-bit: 2, ≤ 4-bit: 4); lane `l`'s
//! code sits at bit `l × (16 / lanes)` of its port, right-aligned in its slot.
//! NaN/NaR operands, Inf × 0 and operand formats that are not multiplier formats (E8M0, unknown
//! ids) raise the sticky `nan` flag and add nothing; Inf products raise `pinf` / `ninf`.

use super::{ExpSum, LaneAlign, MantissaMul, PeGeometry, EXP_SUM_BITS, SHARED};
use crate::decode::format_decode::{CODE_BITS, FMT_BITS};
use crate::decode::{const_bits, FormatDecode};
use crate::pe::mantissa_mul::MUL_OUT_BITS;
use crate::spec::Format;
use rust_hdl::prelude::*;

/// Clock ticks from presenting a beat to seeing it in `acc`.
pub const PE_LATENCY: usize = 6;

/// The multiplier formats of `formats` a decoder of a lane whose slot is `slot` bits wide
/// must handle.
fn formats_up_to(formats: &[Format], slot: u32) -> Vec<Format> {
    formats
        .iter()
        .copied()
        .filter(|f| f.is_mac_operand() && f.slot_bits() <= slot)
        .collect()
}

/// A 16-bit mask with bit `id` set for every format of `formats` that `pick` accepts.
fn id_mask(formats: &[Format], pick: impl Fn(Format) -> bool) -> Constant<Bits<16>> {
    const_bits(
        formats
            .iter()
            .copied()
            .filter(|&f| pick(f))
            .fold(0u64, |m, f| m | 1 << f.id()),
    )
}

/// The shared PE: every multiplier format of the table.
pub type Pe = GenericPe<
    { SHARED.acc_width },
    { SHARED.window },
    { SHARED.lane0.width },
    { SHARED.lane1.width },
    { SHARED.lane23.width },
>;

/// The precision-scalable SIMD MAC processing element for a set of formats, with the widths of
/// its [`PeGeometry`] as parameters: accumulator `ACC_W`, alignment window `WIN`, lane windows
/// `W0`, `W1`, `W23`. [`Pe`] carries every format; the area report builds single-format PEs
/// from the same code (see [`crate::baseline`]).
#[derive(LogicBlock)]
pub struct GenericPe<const ACC_W: usize, const WIN: usize, const W0: usize, const W1: usize, const W23: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties the pipeline, zeroes the accumulator and flags.
    pub reset: Signal<In, Bit>,
    /// Activation format id.
    pub a_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Weight format id.
    pub w_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Activation codes, lane-packed.
    pub a: Signal<In, Bits<CODE_BITS>>,
    /// Weight codes, lane-packed.
    pub w: Signal<In, Bits<CODE_BITS>>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Start a new dot product (with `valid`: the sum restarts at this beat).
    pub clear: Signal<In, Bit>,
    /// The exact sum, two's complement, bit 0 weighing `2^ACC.lsb`.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky: a NaN/NaR operand, Inf × 0, or a non-multiplier format was seen.
    pub nan: Signal<Out, Bit>,
    /// Sticky: a +Inf product was seen.
    pub pinf: Signal<Out, Bit>,
    /// Sticky: a −Inf product was seen.
    pub ninf: Signal<Out, Bit>,

    // Stage 0: registered ports.
    a_q: DFF<Bits<CODE_BITS>>,
    w_q: DFF<Bits<CODE_BITS>>,
    af_q: DFF<Bits<FMT_BITS>>,
    wf_q: DFF<Bits<FMT_BITS>>,
    valid0: DFF<Bit>,
    clear0: DFF<Bit>,
    // The lane mode is registered with the ports: stage 1 steers lane codes with it, and a
    // register (not logic of the same block) lets Verilator order that steering statically.
    // Both modes are gated by `ok`, so a PE of one format folds them to constants.
    l4_0: DFF<Bit>,
    l2_0: DFF<Bit>,
    ok_0: DFF<Bit>,

    // Stage 1: decode, multiply, exponent sums.
    da0: FormatDecode,
    dw0: FormatDecode,
    da1: FormatDecode,
    dw1: FormatDecode,
    da2: FormatDecode,
    dw2: FormatDecode,
    da3: FormatDecode,
    dw3: FormatDecode,
    mul: MantissaMul,
    es0: ExpSum,
    es1: ExpSum,
    es2: ExpSum,
    es3: ExpSum,
    slot4: Constant<Bits<16>>,
    slot16: Constant<Bits<16>>,
    mac_ok: Constant<Bits<16>>,
    four: Constant<Bits<CODE_BITS>>,
    eight: Constant<Bits<CODE_BITS>>,
    twelve: Constant<Bits<CODE_BITS>>,
    lanes4: Signal<Local, Bit>,
    lanes2: Signal<Local, Bit>,
    ok: Signal<Local, Bit>,
    en0: Signal<Local, Bit>,
    en1: Signal<Local, Bit>,
    en2: Signal<Local, Bit>,
    en3: Signal<Local, Bit>,
    pa: Signal<Local, Bits<CODE_BITS>>,
    pw: Signal<Local, Bits<CODE_BITS>>,
    nan_beat: Signal<Local, Bit>,
    inf0: Signal<Local, Bit>,
    inf1: Signal<Local, Bit>,
    inf2: Signal<Local, Bit>,
    inf3: Signal<Local, Bit>,
    pinf_beat: Signal<Local, Bit>,
    ninf_beat: Signal<Local, Bit>,
    // Narrow lanes' decoders only see formats whose mantissas fit the lane (≤ 8 / ≤ 4 bits):
    // their upper mantissa bits are always zero (Verilator exempts `*unused*` names).
    unused_mant: Signal<Local, Bit>,
    pa1: DFF<Bits<CODE_BITS>>,
    pw1: DFF<Bits<CODE_BITS>>,
    sh0: DFF<Bits<EXP_SUM_BITS>>,
    sh1: DFF<Bits<EXP_SUM_BITS>>,
    sh2: DFF<Bits<EXP_SUM_BITS>>,
    sh3: DFF<Bits<EXP_SUM_BITS>>,
    sg0: DFF<Bit>,
    sg1: DFF<Bit>,
    sg2: DFF<Bit>,
    sg3: DFF<Bit>,
    le0: DFF<Bit>,
    le1: DFF<Bit>,
    le2: DFF<Bit>,
    le3: DFF<Bit>,
    l4_1: DFF<Bit>,
    l2_1: DFF<Bit>,
    valid1: DFF<Bit>,
    clear1: DFF<Bit>,
    nan1: DFF<Bit>,
    pinf1: DFF<Bit>,
    ninf1: DFF<Bit>,

    // Stage 1b: the multiplier's output and the side-band, one stage later.
    prod2: DFF<Bits<MUL_OUT_BITS>>,
    sh0_b: DFF<Bits<EXP_SUM_BITS>>,
    sh1_b: DFF<Bits<EXP_SUM_BITS>>,
    sh2_b: DFF<Bits<EXP_SUM_BITS>>,
    sh3_b: DFF<Bits<EXP_SUM_BITS>>,
    sg0_b: DFF<Bit>,
    sg1_b: DFF<Bit>,
    sg2_b: DFF<Bit>,
    sg3_b: DFF<Bit>,
    le0_b: DFF<Bit>,
    le1_b: DFF<Bit>,
    le2_b: DFF<Bit>,
    le3_b: DFF<Bit>,
    l4_1_b: DFF<Bit>,
    l2_1_b: DFF<Bit>,
    valid1_b: DFF<Bit>,
    clear1_b: DFF<Bit>,
    nan1_b: DFF<Bit>,
    pinf1_b: DFF<Bit>,
    ninf1_b: DFF<Bit>,

    // Stage 2a/2b: align, pair sums, accumulate.
    al0: LaneAlign<W0, WIN, ACC_W>,
    al1: LaneAlign<W1, WIN, ACC_W>,
    al2: LaneAlign<W23, WIN, ACC_W>,
    al3: LaneAlign<W23, WIN, ACC_W>,
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

impl Default for Pe {
    fn default() -> Self {
        Self::new()
    }
}

impl Pe {
    /// The PE for every multiplier format of the table.
    pub fn new() -> Self {
        Self::with_formats(&Format::ALL)
    }
}

impl<const ACC_W: usize, const WIN: usize, const W0: usize, const W1: usize, const W23: usize>
    GenericPe<ACC_W, WIN, W0, W1, W23>
{
    /// The PE for the multiplier formats of `formats` (the others are rejected like unknown
    /// ids). Panics unless the parameters are `PeGeometry::for_formats(formats)`'s widths.
    pub fn with_formats(formats: &[Format]) -> Self {
        let g = PeGeometry::for_formats(formats);
        assert_eq!(
            (g.acc_width, g.window, g.lane0.width, g.lane1.width, g.lane23.width),
            (ACC_W, WIN, W0, W1, W23),
            "PE parameters must match the geometry of its formats"
        );
        let narrow8 = formats_up_to(formats, 8);
        let narrow4 = formats_up_to(formats, 4);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            a: Default::default(),
            w: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            a_q: Default::default(),
            w_q: Default::default(),
            af_q: Default::default(),
            wf_q: Default::default(),
            valid0: Default::default(),
            clear0: Default::default(),
            l4_0: Default::default(),
            l2_0: Default::default(),
            ok_0: Default::default(),
            da0: FormatDecode::with_formats(&formats_up_to(formats, 16)),
            dw0: FormatDecode::with_formats(&formats_up_to(formats, 16)),
            da1: FormatDecode::with_formats(&narrow8),
            dw1: FormatDecode::with_formats(&narrow8),
            da2: FormatDecode::with_formats(&narrow4),
            dw2: FormatDecode::with_formats(&narrow4),
            da3: FormatDecode::with_formats(&narrow4),
            dw3: FormatDecode::with_formats(&narrow4),
            mul: Default::default(),
            es0: ExpSum::new(g.lane0),
            es1: ExpSum::new(g.lane1),
            es2: ExpSum::new(g.lane23),
            es3: ExpSum::new(g.lane23),
            slot4: id_mask(formats, |f| f.slot_bits() == 4),
            slot16: id_mask(formats, |f| f.slot_bits() == 16),
            mac_ok: id_mask(formats, Format::is_mac_operand),
            four: const_bits(4),
            eight: const_bits(8),
            twelve: const_bits(12),
            lanes4: Default::default(),
            lanes2: Default::default(),
            ok: Default::default(),
            en0: Default::default(),
            en1: Default::default(),
            en2: Default::default(),
            en3: Default::default(),
            pa: Default::default(),
            pw: Default::default(),
            nan_beat: Default::default(),
            inf0: Default::default(),
            inf1: Default::default(),
            inf2: Default::default(),
            inf3: Default::default(),
            pinf_beat: Default::default(),
            ninf_beat: Default::default(),
            unused_mant: Default::default(),
            pa1: Default::default(),
            pw1: Default::default(),
            prod2: Default::default(),
            sh0_b: Default::default(),
            sh1_b: Default::default(),
            sh2_b: Default::default(),
            sh3_b: Default::default(),
            sg0_b: Default::default(),
            sg1_b: Default::default(),
            sg2_b: Default::default(),
            sg3_b: Default::default(),
            le0_b: Default::default(),
            le1_b: Default::default(),
            le2_b: Default::default(),
            le3_b: Default::default(),
            l4_1_b: Default::default(),
            l2_1_b: Default::default(),
            valid1_b: Default::default(),
            clear1_b: Default::default(),
            nan1_b: Default::default(),
            pinf1_b: Default::default(),
            ninf1_b: Default::default(),
            sh0: Default::default(),
            sh1: Default::default(),
            sh2: Default::default(),
            sh3: Default::default(),
            sg0: Default::default(),
            sg1: Default::default(),
            sg2: Default::default(),
            sg3: Default::default(),
            le0: Default::default(),
            le1: Default::default(),
            le2: Default::default(),
            le3: Default::default(),
            l4_1: Default::default(),
            l2_1: Default::default(),
            valid1: Default::default(),
            clear1: Default::default(),
            nan1: Default::default(),
            pinf1: Default::default(),
            ninf1: Default::default(),
            al0: LaneAlign::new(&g, g.lane0),
            al1: LaneAlign::new(&g, g.lane1),
            al2: LaneAlign::new(&g, g.lane23),
            al3: LaneAlign::new(&g, g.lane23),
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
    for GenericPe<ACC_W, WIN, W0, W1, W23>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, a_q, w_q, af_q, wf_q, valid0, clear0, l4_0, l2_0, ok_0, pa1, pw1, prod2, sh0_b, sh1_b, sh2_b,
            sh3_b, sg0_b, sg1_b, sg2_b, sg3_b, le0_b, le1_b, le2_b, le3_b, l4_1_b, l2_1_b, valid1_b, clear1_b, nan1_b,
            pinf1_b, ninf1_b, sh0, sh1, sh2, sh3, sg0, sg1, sg2, sg3, le0, le1, le2, le3, l4_1, l2_1, valid1, clear1,
            nan1, pinf1, ninf1, s01, s23, nneg, valid_c, clear_c, nan_c, pinf_c, ninf_c, total, valid_t, clear_t,
            nan_t, pinf_t, ninf_t, acc_q, nan_q, pinf_q, ninf_q
        );

        // ---- stage 0
        self.a_q.d.next = self.a.val();
        self.w_q.d.next = self.w.val();
        self.af_q.d.next = self.a_fmt.val();
        self.wf_q.d.next = self.w_fmt.val();
        self.valid0.d.next = self.valid.val();
        self.clear0.d.next = self.clear.val();

        // Lane mode from the two formats (the wider decides).
        self.ok.next =
            self.mac_ok.val().get_bit(self.a_fmt.val().index()) & self.mac_ok.val().get_bit(self.w_fmt.val().index());
        self.lanes4.next = self.ok.val()
            & self.slot4.val().get_bit(self.a_fmt.val().index())
            & self.slot4.val().get_bit(self.w_fmt.val().index());
        self.lanes2.next = self.ok.val()
            & !self.lanes4.val()
            & !self.slot16.val().get_bit(self.a_fmt.val().index())
            & !self.slot16.val().get_bit(self.w_fmt.val().index());
        self.l4_0.d.next = self.lanes4.val();
        self.l2_0.d.next = self.lanes2.val();
        self.ok_0.d.next = self.ok.val();

        // ---- stage 1
        self.en0.next = self.ok_0.q.val();
        self.en1.next = self.ok_0.q.val() & (self.l4_0.q.val() | self.l2_0.q.val());
        self.en2.next = self.ok_0.q.val() & self.l4_0.q.val();
        self.en3.next = self.ok_0.q.val() & self.l4_0.q.val();

        // Lane codes: decoders ignore bits above their format's width.
        self.da0.fmt.next = self.af_q.q.val();
        self.da1.fmt.next = self.af_q.q.val();
        self.da2.fmt.next = self.af_q.q.val();
        self.da3.fmt.next = self.af_q.q.val();
        self.dw0.fmt.next = self.wf_q.q.val();
        self.dw1.fmt.next = self.wf_q.q.val();
        self.dw2.fmt.next = self.wf_q.q.val();
        self.dw3.fmt.next = self.wf_q.q.val();
        self.da0.code.next = self.a_q.q.val();
        self.dw0.code.next = self.w_q.q.val();
        if self.l4_0.q.val() {
            self.da1.code.next = self.a_q.q.val() >> self.four.val();
            self.dw1.code.next = self.w_q.q.val() >> self.four.val();
        } else {
            self.da1.code.next = self.a_q.q.val() >> self.eight.val();
            self.dw1.code.next = self.w_q.q.val() >> self.eight.val();
        }
        self.da2.code.next = self.a_q.q.val() >> self.eight.val();
        self.dw2.code.next = self.w_q.q.val() >> self.eight.val();
        self.da3.code.next = self.a_q.q.val() >> self.twelve.val();
        self.dw3.code.next = self.w_q.q.val() >> self.twelve.val();

        // Lane-packed mantissas for the multiplier.
        if self.l4_0.q.val() {
            self.pa.next = bit_cast::<CODE_BITS, 4>(self.da0.mant.val().get_bits::<4>(0))
                | (bit_cast::<CODE_BITS, 4>(self.da1.mant.val().get_bits::<4>(0)) << self.four.val())
                | (bit_cast::<CODE_BITS, 4>(self.da2.mant.val().get_bits::<4>(0)) << self.eight.val())
                | (bit_cast::<CODE_BITS, 4>(self.da3.mant.val().get_bits::<4>(0)) << self.twelve.val());
            self.pw.next = bit_cast::<CODE_BITS, 4>(self.dw0.mant.val().get_bits::<4>(0))
                | (bit_cast::<CODE_BITS, 4>(self.dw1.mant.val().get_bits::<4>(0)) << self.four.val())
                | (bit_cast::<CODE_BITS, 4>(self.dw2.mant.val().get_bits::<4>(0)) << self.eight.val())
                | (bit_cast::<CODE_BITS, 4>(self.dw3.mant.val().get_bits::<4>(0)) << self.twelve.val());
        } else if self.l2_0.q.val() {
            self.pa.next = bit_cast::<CODE_BITS, 8>(self.da0.mant.val().get_bits::<8>(0))
                | (bit_cast::<CODE_BITS, 8>(self.da1.mant.val().get_bits::<8>(0)) << self.eight.val());
            self.pw.next = bit_cast::<CODE_BITS, 8>(self.dw0.mant.val().get_bits::<8>(0))
                | (bit_cast::<CODE_BITS, 8>(self.dw1.mant.val().get_bits::<8>(0)) << self.eight.val());
        } else {
            self.pa.next = self.da0.mant.val();
            self.pw.next = self.dw0.mant.val();
        }
        self.unused_mant.next = self.da1.mant.val().get_bits::<8>(8).any()
            | self.dw1.mant.val().get_bits::<8>(8).any()
            | self.da2.mant.val().get_bits::<12>(4).any()
            | self.dw2.mant.val().get_bits::<12>(4).any()
            | self.da3.mant.val().get_bits::<12>(4).any()
            | self.dw3.mant.val().get_bits::<12>(4).any();

        self.es0.ea.next = self.da0.exp.val();
        self.es0.ew.next = self.dw0.exp.val();
        self.es1.ea.next = self.da1.exp.val();
        self.es1.ew.next = self.dw1.exp.val();
        self.es2.ea.next = self.da2.exp.val();
        self.es2.ew.next = self.dw2.exp.val();
        self.es3.ea.next = self.da3.exp.val();
        self.es3.ew.next = self.dw3.exp.val();

        // Specials per lane: NaN if either is NaN or Inf × 0; Inf otherwise if either is Inf.
        self.nan_beat.next = !self.ok_0.q.val()
            | (self.en0.val()
                & (self.da0.nar.val()
                    | self.dw0.nar.val()
                    | (self.da0.inf.val() & self.dw0.zero.val())
                    | (self.da0.zero.val() & self.dw0.inf.val())))
            | (self.en1.val()
                & (self.da1.nar.val()
                    | self.dw1.nar.val()
                    | (self.da1.inf.val() & self.dw1.zero.val())
                    | (self.da1.zero.val() & self.dw1.inf.val())))
            | (self.en2.val()
                & (self.da2.nar.val()
                    | self.dw2.nar.val()
                    | (self.da2.inf.val() & self.dw2.zero.val())
                    | (self.da2.zero.val() & self.dw2.inf.val())))
            | (self.en3.val()
                & (self.da3.nar.val()
                    | self.dw3.nar.val()
                    | (self.da3.inf.val() & self.dw3.zero.val())
                    | (self.da3.zero.val() & self.dw3.inf.val())));
        self.inf0.next = self.en0.val() & (self.da0.inf.val() | self.dw0.inf.val());
        self.inf1.next = self.en1.val() & (self.da1.inf.val() | self.dw1.inf.val());
        self.inf2.next = self.en2.val() & (self.da2.inf.val() | self.dw2.inf.val());
        self.inf3.next = self.en3.val() & (self.da3.inf.val() | self.dw3.inf.val());
        self.pinf_beat.next = (self.inf0.val() & !(self.da0.sign.val() ^ self.dw0.sign.val()))
            | (self.inf1.val() & !(self.da1.sign.val() ^ self.dw1.sign.val()))
            | (self.inf2.val() & !(self.da2.sign.val() ^ self.dw2.sign.val()))
            | (self.inf3.val() & !(self.da3.sign.val() ^ self.dw3.sign.val()));
        self.ninf_beat.next = (self.inf0.val() & (self.da0.sign.val() ^ self.dw0.sign.val()))
            | (self.inf1.val() & (self.da1.sign.val() ^ self.dw1.sign.val()))
            | (self.inf2.val() & (self.da2.sign.val() ^ self.dw2.sign.val()))
            | (self.inf3.val() & (self.da3.sign.val() ^ self.dw3.sign.val()));

        self.pa1.d.next = self.pa.val();
        self.pw1.d.next = self.pw.val();
        self.sh0.d.next = self.es0.shift.val();
        self.sh1.d.next = self.es1.shift.val();
        self.sh2.d.next = self.es2.shift.val();
        self.sh3.d.next = self.es3.shift.val();
        self.sg0.d.next = self.da0.sign.val() ^ self.dw0.sign.val();
        self.sg1.d.next = self.da1.sign.val() ^ self.dw1.sign.val();
        self.sg2.d.next = self.da2.sign.val() ^ self.dw2.sign.val();
        self.sg3.d.next = self.da3.sign.val() ^ self.dw3.sign.val();
        self.le0.d.next = self.en0.val();
        self.le1.d.next = self.en1.val();
        self.le2.d.next = self.en2.val();
        self.le3.d.next = self.en3.val();
        self.l4_1.d.next = self.l4_0.q.val();
        self.l2_1.d.next = self.l2_0.q.val();
        self.valid1.d.next = self.valid0.q.val();
        self.clear1.d.next = self.clear0.q.val();
        self.nan1.d.next = self.nan_beat.val();
        self.pinf1.d.next = self.pinf_beat.val();
        self.ninf1.d.next = self.ninf_beat.val();

        // ---- stage 1b: multiply the registered lane mantissas; the side-band follows.
        self.mul.a.next = self.pa1.q.val();
        self.mul.b.next = self.pw1.q.val();
        self.mul.lanes4.next = self.l4_1.q.val();
        self.mul.lanes2.next = self.l2_1.q.val();
        self.prod2.d.next = self.mul.p.val();
        self.sh0_b.d.next = self.sh0.q.val();
        self.sh1_b.d.next = self.sh1.q.val();
        self.sh2_b.d.next = self.sh2.q.val();
        self.sh3_b.d.next = self.sh3.q.val();
        self.sg0_b.d.next = self.sg0.q.val();
        self.sg1_b.d.next = self.sg1.q.val();
        self.sg2_b.d.next = self.sg2.q.val();
        self.sg3_b.d.next = self.sg3.q.val();
        self.le0_b.d.next = self.le0.q.val();
        self.le1_b.d.next = self.le1.q.val();
        self.le2_b.d.next = self.le2.q.val();
        self.le3_b.d.next = self.le3.q.val();
        self.l4_1_b.d.next = self.l4_1.q.val();
        self.l2_1_b.d.next = self.l2_1.q.val();
        self.valid1_b.d.next = self.valid1.q.val();
        self.clear1_b.d.next = self.clear1.q.val();
        self.nan1_b.d.next = self.nan1.q.val();
        self.pinf1_b.d.next = self.pinf1.q.val();
        self.ninf1_b.d.next = self.ninf1.q.val();

        // ---- stage 2a: each lane's product out of the packed word, aligned and signed.
        if self.l4_1_b.q.val() {
            self.al0.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.prod2.q.val().get_bits::<8>(0));
            self.al1.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.prod2.q.val().get_bits::<8>(8));
        } else if self.l2_1_b.q.val() {
            self.al0.prod.next = bit_cast::<MUL_OUT_BITS, 16>(self.prod2.q.val().get_bits::<16>(0));
            self.al1.prod.next = bit_cast::<MUL_OUT_BITS, 16>(self.prod2.q.val().get_bits::<16>(16));
        } else {
            self.al0.prod.next = self.prod2.q.val();
            self.al1.prod.next = bit_cast::<MUL_OUT_BITS, 16>(self.prod2.q.val().get_bits::<16>(16));
        }
        self.al2.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.prod2.q.val().get_bits::<8>(16));
        self.al3.prod.next = bit_cast::<MUL_OUT_BITS, 8>(self.prod2.q.val().get_bits::<8>(24));
        self.al0.shift.next = self.sh0_b.q.val();
        self.al1.shift.next = self.sh1_b.q.val();
        self.al2.shift.next = self.sh2_b.q.val();
        self.al3.shift.next = self.sh3_b.q.val();
        self.al0.sign.next = self.sg0_b.q.val();
        self.al1.sign.next = self.sg1_b.q.val();
        self.al2.sign.next = self.sg2_b.q.val();
        self.al3.sign.next = self.sg3_b.q.val();
        self.al0.enable.next = self.le0_b.q.val();
        self.al1.enable.next = self.le1_b.q.val();
        self.al2.enable.next = self.le2_b.q.val();
        self.al3.enable.next = self.le3_b.q.val();

        // Stage 2a: lane pairs summed, the negations' +1s counted.
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
        self.valid_c.d.next = self.valid1_b.q.val();
        self.clear_c.d.next = self.clear1_b.q.val();
        self.nan_c.d.next = self.nan1_b.q.val();
        self.pinf_c.d.next = self.pinf1_b.q.val();
        self.ninf_c.d.next = self.ninf1_b.q.val();

        // Stage 2b: the beat's total, so stage 2c is a two-operand add.
        self.nneg_wide.next = bit_cast::<ACC_W, 3>(self.nneg.q.val());
        self.total.d.next = self.s01.q.val() + (self.s23.q.val() + self.nneg_wide.val());
        self.valid_t.d.next = self.valid_c.q.val();
        self.clear_t.d.next = self.clear_c.q.val();
        self.nan_t.d.next = self.nan_c.q.val();
        self.pinf_t.d.next = self.pinf_c.q.val();
        self.ninf_t.d.next = self.ninf_c.q.val();

        // Stage 2c: accumulate.
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
            self.valid0.d.next = false;
            self.clear0.d.next = false;
            self.valid1.d.next = false;
            self.clear1.d.next = false;
            self.valid1_b.d.next = false;
            self.clear1_b.d.next = false;
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
