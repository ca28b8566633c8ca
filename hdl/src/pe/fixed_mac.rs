//! The fixed-point MAC pipe: the PE of a format set whose values are all small multiples of one
//! power of two ([`FixedPoint`]). Its operands are fixed-point lane words
//! ([`crate::decode::FixedDecode`]): per lane a magnitude, a sign and a NaN flag, already
//! aligned at the array's edge, so the PE has no exponent path and no alignment shifter.
//!
//! ```text
//!                                          stage 1 (3 registers)    stage 2                    stage 3         stage 4
//!  lanes 0–1: 18×18 (MULT18X18D) ─► p0 ± p1 in the ALU54B ──┐
//!  lanes 2–3: narrow products in LUTs, delayed ─────────────┴─► ones' complement (wide), ─► beat total ──► acc += total
//!                                                               narrow ± sum placed,       (one adder)
//!                                                               wide carry-in below it
//! ```
//!
//! Lanes 0–1 are one DSP slice ([`DspPairSum`]): their products are added or subtracted in the
//! ALU54B beside the multipliers (subtracted when their signs differ), and lane 0's sign
//! negates the sum in the fabric. Only that sum leaves the slice.
//!
//! A beat presented before clock edge `t` is in `acc` after edge `t + FIXED_MAC_LATENCY − 1`.
//! NaN/NaR operands of a lane the mode uses and a format pair that is not `ok` raise the sticky
//! `nan` flag (the golden model's rule); the set has no infinities, so `pinf`/`ninf` stay low.
//! Lanes 2–3 count only in the four-lane mode, lane 1 in the two- and four-lane modes.

use super::dsp_pair::{DspPairSum, DSP_PAIR_LATENCY};
use crate::decode::fixed_decode::FixedWord;
use crate::decode::{const_bits, const_index, BitIndex};
use crate::many;
use crate::spec::FixedPoint;
use rust_hdl::prelude::*;

/// Registers of stage 1: those of the DSP slice that sums the wide lanes.
const S1: usize = DSP_PAIR_LATENCY;

/// Clock ticks from presenting a beat to seeing it in `acc`: stage 1 and three more.
pub const FIXED_MAC_LATENCY: usize = S1 + 3;

/// Every width of a fixed-point PE, from its [`FixedPoint`] datapath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedGeometry {
    /// The lane word's layout (magnitudes `wb` and `nb` bits).
    pub word: FixedWord,
    /// Wide product width (`2 × wb`).
    pub pw: usize,
    /// Narrow product width (`2 × nb`).
    pub npw: usize,
    /// Where a narrow product's bit 0 sits above a wide product's (`2 × (narrow.lsb − wide.lsb)`).
    pub place23: usize,
    /// Width of a beat's signed total: two wide products, the placed narrow sum, a sign.
    pub sw: usize,
    /// Accumulator width.
    pub acc_w: usize,
}

impl FixedGeometry {
    /// The geometry of `fx`.
    pub const fn of(fx: FixedPoint) -> FixedGeometry {
        let word = FixedWord::new(fx.wide.bits as usize, fx.narrow.bits as usize);
        let pw = 2 * word.wb;
        let npw = 2 * word.nb;
        let place23 = (2 * (fx.narrow.lsb - fx.wide.lsb)) as usize;
        // The wide lanes' carry-ins sit in the two bits under the placed narrow sum.
        assert!(place23 >= 2);
        let top = if pw > npw + place23 { pw } else { npw + place23 };
        // Two terms below 2^top sum below 2^(top + 1), a third likewise: two bits and a sign.
        let sw = top + 3;
        assert!(sw <= fx.acc.width as usize);
        FixedGeometry {
            word,
            pw,
            npw,
            place23,
            sw,
            acc_w: fx.acc.width as usize,
        }
    }

    /// The type-level widths, in the order of [`GenericFixedMac`]'s parameters.
    pub const fn widths(&self) -> (usize, usize, usize, usize, usize, usize, usize) {
        (
            self.word.wb,
            self.word.nb,
            self.word.bits,
            self.pw,
            self.npw,
            self.sw,
            self.acc_w,
        )
    }
}

/// `$ty` (a fixed-point MAC pipe or PE type) with the widths of the geometry `$g`.
#[macro_export]
macro_rules! fixed_type {
    ($ty:ident, $g:expr) => {
        $ty<
            { $g.word.wb },
            { $g.word.nb },
            { $g.word.bits },
            { $g.pw },
            { $g.npw },
            { $g.sw },
            { $g.acc_w },
        >
    };
}

/// An unsigned `N`×`N` → `P` multiply in LUTs: the multiplier's bits select shifted copies of
/// the multiplicand, added in pairs and the pairs' sums in a row (no `*`, which synthesis would
/// put on a DSP block; one chain of N adders held the fixed-point MAC pipe at 77.7 MHz).
#[derive(LogicBlock)]
pub struct LutMul<const N: usize, const P: usize> {
    /// Multiplicand.
    pub a: Signal<In, Bits<N>>,
    /// Multiplier.
    pub b: Signal<In, Bits<N>>,
    /// The product.
    pub p: Signal<Out, Bits<P>>,
    ga: Signal<Local, Bits<P>>,
    pp: Vec<Signal<Local, Bits<P>>>,
    pair: Vec<Signal<Local, Bits<P>>>,
    run: Vec<Signal<Local, Bits<P>>>,
    last: Signal<Local, Bits<P>>,
    at: Vec<Constant<Bits<P>>>,
    idx: Vec<Constant<BitIndex>>,
    zero: Constant<Bits<P>>,
    _n: usize,
    _h: usize,
    _odd: usize,
}

impl<const N: usize, const P: usize> Default for LutMul<N, P> {
    fn default() -> Self {
        assert!(N >= 2 && 2 * N <= P, "LutMul<{N}, {P}>");
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            ga: Default::default(),
            pp: many(N),
            pair: many(N / 2),
            run: many(N / 2),
            last: Default::default(),
            at: (0..N).map(|i| const_bits(i as u64)).collect(),
            idx: (0..N).map(const_index).collect(),
            zero: const_bits(0),
            _n: N,
            _h: N / 2,
            _odd: 2 * (N / 2),
        }
    }
}

impl<const N: usize, const P: usize> Logic for LutMul<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ga.next = bit_cast::<P, N>(self.a.val());
        for i in 0..self._n {
            self.pp[i].next = self.zero.val();
            if self.b.val().get_bit(self.idx[i].val().index()) {
                self.pp[i].next = self.ga.val() << self.at[i].val();
            }
        }
        for j in 0..self._h {
            self.pair[j].next = self.pp[2 * j].val() + self.pp[2 * j + 1].val();
        }
        self.run[0].next = self.pair[0].val();
        for j in 1..self._h {
            self.run[j].next = self.run[j - 1].val() + self.pair[j].val();
        }
        for h in self._h..(self._h + 1) {
            self.last.next = self.run[h - 1].val();
        }
        self.p.next = self.last.val();
        // An odd multiplier width leaves its top partial product unpaired.
        for i in self._odd..self._n {
            self.p.next = self.last.val() + self.pp[i].val();
        }
    }
}

/// The fixed-point MAC pipe (see the module docs), with the widths of its [`FixedGeometry`]:
/// wide and narrow magnitudes `WB`, `NB`, lane word `FW`, wide and narrow products `PW`, `NPW`,
/// beat total `SW` and accumulator `ACC_W`.
#[derive(LogicBlock)]
pub struct GenericFixedMac<
    const WB: usize,
    const NB: usize,
    const FW: usize,
    const PW: usize,
    const NPW: usize,
    const SW: usize,
    const ACC_W: usize,
> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties the pipeline, zeroes the accumulator and flags.
    pub reset: Signal<In, Bit>,
    /// Activation lane word.
    pub a: Signal<In, Bits<FW>>,
    /// Weight lane word.
    pub w: Signal<In, Bits<FW>>,
    /// The format pair is a multiplier pair of the set.
    pub ok: Signal<In, Bit>,
    /// Four lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Start a new dot product with this beat.
    pub clear: Signal<In, Bit>,
    /// The exact sum (two's complement, LSB weight `2^acc.lsb`).
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky: a NaN/NaR operand or a pair that is not `ok` was seen.
    pub nan: Signal<Out, Bit>,
    /// Always low (the set has no infinities); a port so every PE has the same ones.
    pub pinf: Signal<Out, Bit>,
    /// Always low.
    pub ninf: Signal<Out, Bit>,
    // The wide lanes' signed sum (registered in the DSP slice: stage 1).
    pair: DspPairSum<WB, SW>,
    m2: LutMul<NB, NPW>,
    m3: LutMul<NB, NPW>,
    en: Signal<Local, Bits<4>>,
    sg: Signal<Local, Bits<4>>,
    neg: Signal<Local, Bits<4>>,
    // stage 1
    // (the narrow products and the flags wait as long as the DSP slice takes: `S1` registers)
    p2: [DFF<Bits<NPW>>; S1],
    p3: [DFF<Bits<NPW>>; S1],
    le1: [DFF<Bits<4>>; S1],
    neg1: [DFF<Bits<4>>; S1],
    valid1: [DFF<Bit>; S1],
    clear1: [DFF<Bit>; S1],
    nan1: [DFF<Bit>; S1],
    // The stage count as a field: rust-hdl's Verilog generator reads loop bounds from fields.
    _s1: usize,
    // stage 2
    p2l: Signal<Local, Bits<NPW>>,
    p3l: Signal<Local, Bits<NPW>>,
    n2: Signal<Local, Bits<SW>>,
    n3: Signal<Local, Bits<SW>>,
    nsum: Signal<Local, Bits<SW>>,
    x0: DFF<Bits<SW>>,
    xn: DFF<Bits<SW>>,
    valid2: DFF<Bit>,
    clear2: DFF<Bit>,
    nan2: DFF<Bit>,
    // stage 3
    total: DFF<Bits<SW>>,
    clear3: DFF<Bit>,
    nan3: DFF<Bit>,
    // stage 4
    tot_acc: Signal<Local, Bits<ACC_W>>,
    // What the next beat adds to: the accumulator, or zero when that beat starts a new sum
    // (known a stage ahead, from `clear2`). A register of its own, cleared by the flip-flops'
    // synchronous reset, so no gate sits in front of the adder (53 LUT4 per PE).
    base: DFF<Bits<ACC_W>>,
    sum: Signal<Local, Bits<ACC_W>>,
    acc_q: DFF<Bits<ACC_W>>,
    nan_q: DFF<Bit>,
    at_mag: Vec<Constant<BitIndex>>,
    at_sign: Constant<BitIndex>,
    at_nan: Constant<BitIndex>,
    en1: Constant<Bits<4>>,
    en2: Constant<Bits<4>>,
    en4: Constant<Bits<4>>,
    zero4: Constant<Bits<4>>,
    place23: Constant<Bits<SW>>,
    one_sw: Constant<Bits<SW>>,
    zero_sw: Constant<Bits<SW>>,
    sw_sign: Constant<BitIndex>,
    ext_acc: Constant<Bits<ACC_W>>,
    acc_zero: Constant<Bits<ACC_W>>,
    i0: Constant<BitIndex>,
    i1: Constant<BitIndex>,
    i2: Constant<BitIndex>,
    i3: Constant<BitIndex>,
}

impl<
        const WB: usize,
        const NB: usize,
        const FW: usize,
        const PW: usize,
        const NPW: usize,
        const SW: usize,
        const ACC_W: usize,
    > GenericFixedMac<WB, NB, FW, PW, NPW, SW, ACC_W>
{
    /// The MAC pipe of the fixed-point datapath `fx`; panics unless the type's widths are
    /// those of `fx`'s geometry.
    pub fn for_fixed(fx: FixedPoint) -> Self {
        let g = FixedGeometry::of(fx);
        assert_eq!((WB, NB, FW, PW, NPW, SW, ACC_W), g.widths(), "widths of {fx:?}");
        assert!(ACC_W <= 64, "accumulators over 64 bits are the unified PE's");
        let ext = if ACC_W > SW {
            ((1u128 << ACC_W) - (1u128 << SW)) as u64
        } else {
            0
        };
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
            pair: Default::default(),
            m2: Default::default(),
            m3: Default::default(),
            en: Default::default(),
            sg: Default::default(),
            neg: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            le1: Default::default(),
            neg1: Default::default(),
            valid1: Default::default(),
            clear1: Default::default(),
            nan1: Default::default(),
            _s1: S1,
            p2l: Default::default(),
            p3l: Default::default(),
            n2: Default::default(),
            n3: Default::default(),
            nsum: Default::default(),
            x0: Default::default(),
            xn: Default::default(),
            valid2: Default::default(),
            clear2: Default::default(),
            nan2: Default::default(),
            total: Default::default(),
            clear3: Default::default(),
            nan3: Default::default(),
            tot_acc: Default::default(),
            base: Default::default(),
            sum: Default::default(),
            acc_q: Default::default(),
            nan_q: Default::default(),
            at_mag: (0..4).map(|l| const_index(g.word.mag(l))).collect(),
            at_sign: const_index(g.word.sign),
            at_nan: const_index(g.word.nan),
            en1: const_bits(0b0001),
            en2: const_bits(0b0011),
            en4: const_bits(0b1111),
            zero4: const_bits(0),
            place23: const_bits(g.place23 as u64),
            one_sw: const_bits(1),
            zero_sw: const_bits(0),
            sw_sign: const_index(SW - 1),
            ext_acc: const_bits(ext),
            acc_zero: const_bits(0),
            i0: const_index(0),
            i1: const_index(1),
            i2: const_index(2),
            i3: const_index(3),
        }
    }
}

impl<
        const WB: usize,
        const NB: usize,
        const FW: usize,
        const PW: usize,
        const NPW: usize,
        const SW: usize,
        const ACC_W: usize,
    > Logic for GenericFixedMac<WB, NB, FW, PW, NPW, SW, ACC_W>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, x0, xn, valid2, clear2, nan2, total, clear3, nan3, acc_q, nan_q, base);

        // ---- stage 1: the lanes the mode uses, their products, signs and NaNs.
        self.en.next = self.zero4.val();
        if self.ok.val() {
            if self.lanes4.val() {
                self.en.next = self.en4.val();
            } else if self.lanes2.val() {
                self.en.next = self.en2.val();
            } else {
                self.en.next = self.en1.val();
            }
        }
        self.sg.next = self.a.val().get_bits::<4>(self.at_sign.val().index())
            ^ self.w.val().get_bits::<4>(self.at_sign.val().index());
        self.neg.next = self.sg.val() & self.en.val();
        self.pair.clock.next = self.clock.val();
        self.pair.a0.next = self.a.val().get_bits::<WB>(self.at_mag[0].val().index());
        self.pair.b0.next = self.w.val().get_bits::<WB>(self.at_mag[0].val().index());
        self.pair.a1.next = self.a.val().get_bits::<WB>(self.at_mag[1].val().index());
        self.pair.b1.next = self.w.val().get_bits::<WB>(self.at_mag[1].val().index());
        self.pair.use0.next = self.en.val().get_bit(self.i0.val().index());
        self.pair.use1.next = self.en.val().get_bit(self.i1.val().index());
        // Signs that differ subtract; lane 0's sign then negates the sum (stage 2).
        self.pair.sub.next =
            self.neg.val().get_bit(self.i0.val().index()) ^ self.neg.val().get_bit(self.i1.val().index());
        self.m2.a.next = self.a.val().get_bits::<NB>(self.at_mag[2].val().index());
        self.m2.b.next = self.w.val().get_bits::<NB>(self.at_mag[2].val().index());
        self.m3.a.next = self.a.val().get_bits::<NB>(self.at_mag[3].val().index());
        self.m3.b.next = self.w.val().get_bits::<NB>(self.at_mag[3].val().index());
        for i in 0..self._s1 {
            self.p2[i].clock.next = self.clock.val();
            self.p3[i].clock.next = self.clock.val();
            self.le1[i].clock.next = self.clock.val();
            self.neg1[i].clock.next = self.clock.val();
            self.valid1[i].clock.next = self.clock.val();
            self.clear1[i].clock.next = self.clock.val();
            self.nan1[i].clock.next = self.clock.val();
        }
        self.p2[0].d.next = self.m2.p.val();
        self.p3[0].d.next = self.m3.p.val();
        self.le1[0].d.next = self.en.val();
        self.neg1[0].d.next = self.neg.val();
        self.nan1[0].d.next = !self.ok.val()
            | (self.en.val()
                & (self.a.val().get_bits::<4>(self.at_nan.val().index())
                    | self.w.val().get_bits::<4>(self.at_nan.val().index())))
            .any();
        self.valid1[0].d.next = self.valid.val();
        self.clear1[0].d.next = self.clear.val();
        for i in 1..self._s1 {
            self.p2[i].d.next = self.p2[i - 1].q.val();
            self.p3[i].d.next = self.p3[i - 1].q.val();
            self.le1[i].d.next = self.le1[i - 1].q.val();
            self.neg1[i].d.next = self.neg1[i - 1].q.val();
            self.valid1[i].d.next = self.valid1[i - 1].q.val();
            self.clear1[i].d.next = self.clear1[i - 1].q.val();
            self.nan1[i].d.next = self.nan1[i - 1].q.val();
        }

        // ---- stage 2: the wide lanes' sum in ones' complement when lane 0 is negative (its +1
        // is added below the placed narrow sum, whose low bits are zero); lanes 2–3 negated and
        // summed.
        for i in (self._s1 - 1)..self._s1 {
            // (rust-hdl's generator does not rename a loop index inside a turbofish call)
            self.p2l.next = self.p2[i].q.val();
            self.p3l.next = self.p3[i].q.val();
            self.x0.d.next = self.pair.r.val();
            if self.neg1[i].q.val().get_bit(self.i0.val().index()) {
                self.x0.d.next = !self.pair.r.val();
            }
            self.n2.next = self.zero_sw.val();
            if self.le1[i].q.val().get_bit(self.i2.val().index()) {
                self.n2.next = bit_cast::<SW, NPW>(self.p2l.val());
            }
            if self.neg1[i].q.val().get_bit(self.i2.val().index()) {
                self.n2.next = self.zero_sw.val() - bit_cast::<SW, NPW>(self.p2l.val());
            }
            self.n3.next = self.zero_sw.val();
            if self.le1[i].q.val().get_bit(self.i3.val().index()) {
                self.n3.next = bit_cast::<SW, NPW>(self.p3l.val());
            }
            if self.neg1[i].q.val().get_bit(self.i3.val().index()) {
                self.n3.next = self.zero_sw.val() - bit_cast::<SW, NPW>(self.p3l.val());
            }
            self.nsum.next = (self.n2.val() + self.n3.val()) << self.place23.val();
            self.xn.d.next = self.nsum.val();
            if self.neg1[i].q.val().get_bit(self.i0.val().index()) {
                self.xn.d.next = self.nsum.val() | self.one_sw.val();
            }
            self.valid2.d.next = self.valid1[i].q.val();
            self.clear2.d.next = self.clear1[i].q.val();
            self.nan2.d.next = self.nan1[i].q.val();
        }

        // ---- stage 3: the beat's total.
        // A bubble adds zero, so the accumulator needs no clock enable: its registers load
        // every cycle (as the shared PE's; there the enable's net was npe4x4's critical path).
        self.total.d.next = self.zero_sw.val();
        if self.valid2.q.val() {
            self.total.d.next = self.x0.q.val() + self.xn.q.val();
        }
        self.clear3.d.next = self.clear2.q.val();
        self.nan3.d.next = self.nan2.q.val() & self.valid2.q.val();

        // ---- stage 4: accumulate (the total sign-extended to the accumulator).
        self.tot_acc.next = bit_cast::<ACC_W, SW>(self.total.q.val());
        if self.total.q.val().get_bit(self.sw_sign.val().index()) {
            self.tot_acc.next = bit_cast::<ACC_W, SW>(self.total.q.val()) | self.ext_acc.val();
        }
        self.sum.next = self.base.q.val() + self.tot_acc.val();
        // A clear without a beat leaves 0 + 0: the base was zeroed a stage ahead.
        self.acc_q.d.next = self.sum.val();
        self.base.d.next = self.sum.val();
        self.nan_q.d.next = (self.nan_q.q.val() & !self.clear3.q.val()) | self.nan3.q.val();
        if self.clear2.q.val() {
            self.base.d.next = self.acc_zero.val();
        }

        // The sums need no reset: a tile's first beat clears the base, and nothing reads the
        // accumulator before a tile ends. Only the control flags are reset (fewer reset loads).
        if self.reset.val() {
            for i in 0..self._s1 {
                self.valid1[i].d.next = false;
                self.clear1[i].d.next = false;
            }
            self.valid2.d.next = false;
            self.clear2.d.next = false;
            self.clear3.d.next = false;
            self.nan3.d.next = false;
            self.nan_q.d.next = false;
        }

        self.acc.next = self.acc_q.q.val();
        self.nan.next = self.nan_q.q.val();
        self.pinf.next = false;
        self.ninf.next = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};
    use crate::pe::{MacFixed8, FIXED8};

    /// One lane of a beat: magnitude, sign, NaN.
    #[derive(Clone, Copy)]
    struct Lane {
        mag: u64,
        neg: bool,
        nan: bool,
    }

    fn word(lanes: &[Lane; 4]) -> Bits<{ FIXED8.word.bits }> {
        let w = FIXED8.word;
        let mut x = 0u128;
        for (l, v) in lanes.iter().enumerate() {
            x |= (v.mag as u128) << w.mag(l);
            x |= (v.neg as u128) << (w.sign + l);
            x |= (v.nan as u128) << (w.nan + l);
        }
        assert!(w.bits <= 64);
        bits(x as u64)
    }

    /// The accumulator as a signed integer.
    fn acc_value(m: &MacFixed8) -> i128 {
        let v = m.acc.val().to_u64() as i128;
        let w = FIXED8.acc_w;
        if (v >> (w - 1)) & 1 == 1 {
            v - (1i128 << w)
        } else {
            v
        }
    }

    /// Random beats in every lane mode: the accumulator is the exact signed sum of the lane
    /// products the mode uses (wide products at the accumulator's LSB, narrow ones placed
    /// `place23` above), NaNs raise the sticky flag, a pair that is not `ok` too, and `clear`
    /// restarts both.
    #[test]
    fn sums_of_random_beats_are_exact() {
        let mut m = MacFixed8::for_fixed(crate::pe::FIXED8_POINT);
        m.connect_all();
        m.reset.next = true;
        cycle(&mut m);
        m.reset.next = false;
        let mut rnd = rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..60 {
            let (l4, l2, ok) = match case % 4 {
                0 => (true, false, true),
                1 => (false, true, true),
                2 => (true, false, true),
                _ => (false, true, case % 8 != 3),
            };
            let beats = 1 + (rnd() % 20) as usize;
            let (mut want, mut want_nan) = (0i128, !ok);
            let lim = |l: usize| if l < 2 { FIXED8.word.wb } else { FIXED8.word.nb };
            m.ok.next = ok;
            m.lanes4.next = l4;
            m.lanes2.next = l2;
            for b in 0..beats {
                let mut pair = [[Lane {
                    mag: 0,
                    neg: false,
                    nan: false,
                }; 4]; 2];
                for side in &mut pair {
                    for (l, v) in side.iter_mut().enumerate() {
                        *v = Lane {
                            mag: rnd() & ((1 << lim(l)) - 1),
                            neg: rnd() & 1 == 1,
                            nan: rnd().is_multiple_of(64),
                        };
                    }
                }
                let used = if !ok {
                    0
                } else if l4 {
                    4
                } else {
                    2
                };
                for (l, (a, w)) in pair[0].iter().zip(&pair[1]).enumerate().take(used) {
                    let p = (a.mag as i128 * w.mag as i128) << if l < 2 { 0 } else { FIXED8.place23 };
                    want += if a.neg != w.neg { -p } else { p };
                    want_nan |= a.nan | w.nan;
                }
                m.a.next = word(&pair[0]);
                m.w.next = word(&pair[1]);
                m.valid.next = true;
                m.clear.next = b == 0;
                cycle(&mut m);
            }
            m.valid.next = false;
            m.clear.next = false;
            for _ in 0..FIXED_MAC_LATENCY - 1 {
                cycle(&mut m);
            }
            assert_eq!(
                acc_value(&m),
                if want_nan { acc_value(&m) } else { want },
                "case {case}"
            );
            assert_eq!(m.nan.val(), want_nan, "case {case}");
            assert!(!m.pinf.val() && !m.ninf.val());
        }
    }

    /// Every operand pair of the LUT multipliers of both parities.
    #[test]
    fn lut_multipliers_are_exact() {
        fn all<const N: usize, const P: usize>() {
            let mut m = LutMul::<N, P>::default();
            m.connect_all();
            for a in 0..1u64 << N {
                for b in 0..1u64 << N {
                    m.a.next = bits(a);
                    m.b.next = bits(b);
                    assert!(simulate(&mut m, 100));
                    assert_eq!(m.p.val().to_u64(), a * b, "{a} * {b} ({N} bits)");
                }
            }
        }
        all::<5, 10>();
        all::<4, 8>();
        all::<2, 4>();
    }

    #[test]
    fn the_8_bit_geometry() {
        // 18-bit wide and 5-bit narrow magnitudes; narrow products 16 places up; a 39-bit
        // beat total into the 53-bit accumulator.
        assert_eq!(FIXED8.widths(), (18, 5, 54, 36, 10, 39, 53));
        assert_eq!(FIXED8.place23, 16);
    }
}
