//! The fixed-point MAC pipe: the PE of a format set whose values are all small multiples of one
//! power of two ([`FixedPoint`]). Its operands are fixed-point lane words
//! ([`crate::decode::FixedDecode`]): per lane a magnitude, a sign and a NaN flag, already
//! aligned at the array's edge, so the PE has no exponent path and no alignment shifter.
//!
//! ```text
//!  lanes 0–1: 18×18 (MULT18X18D) ─┐ stage 1      stage 2                   stage 3            stage 4
//!  lanes 2–3: narrow, in LUTs ────┴─► products ─► ones' complement (wide), ─► beat total ─────► acc += total
//!                                                  narrow ± sum placed,        (one adder of
//!                                                  wide carry-ins below it      three operands)
//! ```
//!
//! A beat presented before clock edge `t` is in `acc` after edge `t + FIXED_MAC_LATENCY − 1`.
//! NaN/NaR operands of a lane the mode uses and a format pair that is not `ok` raise the sticky
//! `nan` flag (the golden model's rule); the set has no infinities, so `pinf`/`ninf` stay low.
//! Lanes 2–3 count only in the four-lane mode, lane 1 in the two- and four-lane modes.

use crate::decode::fixed_decode::FixedWord;
use crate::decode::{const_bits, const_index, BitIndex};
use crate::spec::FixedPoint;
use rust_hdl::prelude::*;

/// Clock ticks from presenting a beat to seeing it in `acc`.
pub const FIXED_MAC_LATENCY: usize = 4;

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

/// An unsigned `A`×`B` → `P` multiply written as Verilog `*`, which synthesis maps to a
/// MULT18X18D when both operands fit 18 bits (rust-hdl's own `*` takes 16-bit operands only).
#[derive(LogicBlock, Default)]
pub struct UMul<const A: usize, const B: usize, const P: usize> {
    /// Multiplicand.
    pub a: Signal<In, Bits<A>>,
    /// Multiplier.
    pub b: Signal<In, Bits<B>>,
    /// The product.
    pub p: Signal<Out, Bits<P>>,
}

impl<const A: usize, const B: usize, const P: usize> Logic for UMul<A, B, P> {
    fn update(&mut self) {
        assert!(A + B <= P && P <= 64, "UMul<{A}, {B}, {P}>");
        self.p.next = bits(self.a.val().to_u64() * self.b.val().to_u64());
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        // Operands zero-extended to the product's width: a full-width unsigned product without
        // a width warning; synthesis drops the constant zeros again.
        Verilog::Custom(format!(
            "assign p = {{{za}'b0, a}} * {{{zb}'b0, b}};\n",
            za = P - A,
            zb = P - B
        ))
    }
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
            pp: (0..N).map(|_| Default::default()).collect(),
            pair: (0..N / 2).map(|_| Default::default()).collect(),
            run: (0..N / 2).map(|_| Default::default()).collect(),
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
    m0: UMul<WB, WB, PW>,
    m1: UMul<WB, WB, PW>,
    m2: LutMul<NB, NPW>,
    m3: LutMul<NB, NPW>,
    en: Signal<Local, Bits<4>>,
    sg: Signal<Local, Bits<4>>,
    // stage 1
    p0: DFF<Bits<PW>>,
    p1: DFF<Bits<PW>>,
    p2: DFF<Bits<NPW>>,
    p3: DFF<Bits<NPW>>,
    le1: DFF<Bits<4>>,
    neg1: DFF<Bits<4>>,
    valid1: DFF<Bit>,
    clear1: DFF<Bit>,
    nan1: DFF<Bit>,
    // stage 2
    e0: Signal<Local, Bits<SW>>,
    e1: Signal<Local, Bits<SW>>,
    n2: Signal<Local, Bits<SW>>,
    n3: Signal<Local, Bits<SW>>,
    nsum: Signal<Local, Bits<SW>>,
    x0: DFF<Bits<SW>>,
    x1: DFF<Bits<SW>>,
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
    two_sw: Constant<Bits<SW>>,
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
            m0: Default::default(),
            m1: Default::default(),
            m2: Default::default(),
            m3: Default::default(),
            en: Default::default(),
            sg: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            le1: Default::default(),
            neg1: Default::default(),
            valid1: Default::default(),
            clear1: Default::default(),
            nan1: Default::default(),
            e0: Default::default(),
            e1: Default::default(),
            n2: Default::default(),
            n3: Default::default(),
            nsum: Default::default(),
            x0: Default::default(),
            x1: Default::default(),
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
            two_sw: const_bits(2),
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
        dff_setup!(
            self, clock, p0, p1, p2, p3, le1, neg1, valid1, clear1, nan1, x0, x1, xn, valid2, clear2, nan2, total,
            clear3, nan3, acc_q, nan_q, base
        );

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
        self.m0.a.next = self.a.val().get_bits::<WB>(self.at_mag[0].val().index());
        self.m0.b.next = self.w.val().get_bits::<WB>(self.at_mag[0].val().index());
        self.m1.a.next = self.a.val().get_bits::<WB>(self.at_mag[1].val().index());
        self.m1.b.next = self.w.val().get_bits::<WB>(self.at_mag[1].val().index());
        self.m2.a.next = self.a.val().get_bits::<NB>(self.at_mag[2].val().index());
        self.m2.b.next = self.w.val().get_bits::<NB>(self.at_mag[2].val().index());
        self.m3.a.next = self.a.val().get_bits::<NB>(self.at_mag[3].val().index());
        self.m3.b.next = self.w.val().get_bits::<NB>(self.at_mag[3].val().index());
        self.p0.d.next = self.m0.p.val();
        self.p1.d.next = self.m1.p.val();
        self.p2.d.next = self.m2.p.val();
        self.p3.d.next = self.m3.p.val();
        self.sg.next = self.a.val().get_bits::<4>(self.at_sign.val().index())
            ^ self.w.val().get_bits::<4>(self.at_sign.val().index());
        self.le1.d.next = self.en.val();
        self.neg1.d.next = self.sg.val() & self.en.val();
        self.nan1.d.next = !self.ok.val()
            | (self.en.val()
                & (self.a.val().get_bits::<4>(self.at_nan.val().index())
                    | self.w.val().get_bits::<4>(self.at_nan.val().index())))
            .any();
        self.valid1.d.next = self.valid.val();
        self.clear1.d.next = self.clear.val();

        // ---- stage 2: lanes 0–1 in ones' complement when negative (their +1s are added below
        // the placed narrow sum, whose low bits are zero); lanes 2–3 negated and summed.
        self.e0.next = self.zero_sw.val();
        if self.le1.q.val().get_bit(self.i0.val().index()) {
            self.e0.next = bit_cast::<SW, PW>(self.p0.q.val());
        }
        self.x0.d.next = self.e0.val();
        if self.neg1.q.val().get_bit(self.i0.val().index()) {
            self.x0.d.next = !self.e0.val();
        }
        self.e1.next = self.zero_sw.val();
        if self.le1.q.val().get_bit(self.i1.val().index()) {
            self.e1.next = bit_cast::<SW, PW>(self.p1.q.val());
        }
        self.x1.d.next = self.e1.val();
        if self.neg1.q.val().get_bit(self.i1.val().index()) {
            self.x1.d.next = !self.e1.val();
        }
        self.n2.next = self.zero_sw.val();
        if self.le1.q.val().get_bit(self.i2.val().index()) {
            self.n2.next = bit_cast::<SW, NPW>(self.p2.q.val());
        }
        if self.neg1.q.val().get_bit(self.i2.val().index()) {
            self.n2.next = self.zero_sw.val() - bit_cast::<SW, NPW>(self.p2.q.val());
        }
        self.n3.next = self.zero_sw.val();
        if self.le1.q.val().get_bit(self.i3.val().index()) {
            self.n3.next = bit_cast::<SW, NPW>(self.p3.q.val());
        }
        if self.neg1.q.val().get_bit(self.i3.val().index()) {
            self.n3.next = self.zero_sw.val() - bit_cast::<SW, NPW>(self.p3.q.val());
        }
        self.nsum.next = (self.n2.val() + self.n3.val()) << self.place23.val();
        self.xn.d.next = self.nsum.val();
        if self.neg1.q.val().get_bit(self.i0.val().index()) & self.neg1.q.val().get_bit(self.i1.val().index()) {
            self.xn.d.next = self.nsum.val() | self.two_sw.val();
        } else if self.neg1.q.val().get_bit(self.i0.val().index()) | self.neg1.q.val().get_bit(self.i1.val().index()) {
            self.xn.d.next = self.nsum.val() | self.one_sw.val();
        }
        self.valid2.d.next = self.valid1.q.val();
        self.clear2.d.next = self.clear1.q.val();
        self.nan2.d.next = self.nan1.q.val();

        // ---- stage 3: the beat's total.
        // A bubble adds zero, so the accumulator needs no clock enable: its registers load
        // every cycle (as the shared PE's; there the enable's net was npe4x4's critical path).
        self.total.d.next = self.zero_sw.val();
        if self.valid2.q.val() {
            self.total.d.next = self.x0.q.val() + self.x1.q.val() + self.xn.q.val();
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
            self.valid1.d.next = false;
            self.clear1.d.next = false;
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
