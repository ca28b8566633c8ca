//! The block-scaled fixed-point MAC: the fixed-point MAC pipe sums each weight block's exact
//! partial sum, and the bit-serial dequantization unit ([`Dequant`]) scales it into the tile's
//! exact accumulator while the pipe already sums the next block (DESIGN §3.1.1).
//!
//! ```text
//!  beats (a, w, lane mode) ─► GenericFixedMac ─ acc = this block's Σ ─┐
//!     │  clear at every block's first beat                           ▼
//!  bend, last, scale ─► delay (FIXED_MAC_LATENCY edges) ─────────► Dequant ─► acc, nan, done
//! ```
//!
//! A beat marked `bend` is its block's last; the pipe's sum of that block is in its accumulator
//! for exactly one cycle, [`FIXED_MAC_LATENCY`] edges after the beat's cycle, when the block's scale reaches
//! the unit beside it. The next block's first beat may follow at once: the pipe restarts its sum
//! with it. The unit takes a block every `len` cycles (the scale's bits), so a block must last at
//! least `len` beats: 8 for BitMoD's u8, 4 for E4M3 (NVFP4's 16 elements in the four-lane mode
//! are 4 beats), 1 for E8M0; the sequencer that feeds the array guarantees it. A tile's sum is
//! in `acc` when `done` is high, `len + 1` edges after its last block reached the unit.

use super::dequant::{Dequant, DEQUANT_LEN_BITS};
use super::fixed_mac::{FixedGeometry, GenericFixedMac, FIXED_MAC_LATENCY};
use crate::decode::{const_index, BitIndex};
use crate::spec::block_scale::{SCALE_Q_BITS, SCALE_SHIFT_BITS};
use crate::spec::FixedPoint;
use rust_hdl::prelude::*;

/// Edges from a block's last beat to its sum in the MAC pipe's accumulator (a beat presented
/// before edge `t` is there after edge `t + FIXED_MAC_LATENCY − 1`), when its scale must reach
/// the dequantization unit.
const SCALE_DELAY: usize = FIXED_MAC_LATENCY;

/// One block's scale and flags on their way to the dequantization unit.
#[derive(LogicBlock)]
pub struct ScaleDelay {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: nothing in flight.
    pub reset: Signal<In, Bit>,
    /// A block ends with this beat.
    pub go_in: Signal<In, Bit>,
    /// Its flags and scale (see [`Dequant`]'s inputs).
    pub first_in: Signal<In, Bit>,
    /// The tile's last block.
    pub last_in: Signal<In, Bit>,
    /// Integer scale.
    pub q_in: Signal<In, Bits<SCALE_Q_BITS>>,
    /// Scale bits to take.
    pub len_in: Signal<In, Bits<DEQUANT_LEN_BITS>>,
    /// Negative scale.
    pub neg_in: Signal<In, Bit>,
    /// NaN scale.
    pub nan_in: Signal<In, Bit>,
    /// Shift.
    pub shift_in: Signal<In, Bits<SCALE_SHIFT_BITS>>,
    /// The same, `SCALE_DELAY` (the fixed MAC's latency) edges later.
    pub go: Signal<Out, Bit>,
    /// Delayed `first_in`.
    pub first: Signal<Out, Bit>,
    /// Delayed `last_in`.
    pub last: Signal<Out, Bit>,
    /// Delayed `q_in`.
    pub q: Signal<Out, Bits<SCALE_Q_BITS>>,
    /// Delayed `len_in`.
    pub len: Signal<Out, Bits<DEQUANT_LEN_BITS>>,
    /// Delayed `neg_in`.
    pub neg: Signal<Out, Bit>,
    /// Delayed `nan_in`.
    pub nan: Signal<Out, Bit>,
    /// Delayed `shift_in`.
    pub shift: Signal<Out, Bits<SCALE_SHIFT_BITS>>,
    go_d: [DFF<Bit>; SCALE_DELAY],
    first_d: [DFF<Bit>; SCALE_DELAY],
    last_d: [DFF<Bit>; SCALE_DELAY],
    q_d: [DFF<Bits<SCALE_Q_BITS>>; SCALE_DELAY],
    len_d: [DFF<Bits<DEQUANT_LEN_BITS>>; SCALE_DELAY],
    neg_d: [DFF<Bit>; SCALE_DELAY],
    nan_d: [DFF<Bit>; SCALE_DELAY],
    shift_d: [DFF<Bits<SCALE_SHIFT_BITS>>; SCALE_DELAY],
    // The stage count as a field: rust-hdl's Verilog generator reads loop bounds from fields.
    _n: usize,
}

impl Default for ScaleDelay {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            go_in: Default::default(),
            first_in: Default::default(),
            last_in: Default::default(),
            q_in: Default::default(),
            len_in: Default::default(),
            neg_in: Default::default(),
            nan_in: Default::default(),
            shift_in: Default::default(),
            go: Default::default(),
            first: Default::default(),
            last: Default::default(),
            q: Default::default(),
            len: Default::default(),
            neg: Default::default(),
            nan: Default::default(),
            shift: Default::default(),
            go_d: Default::default(),
            first_d: Default::default(),
            last_d: Default::default(),
            q_d: Default::default(),
            len_d: Default::default(),
            neg_d: Default::default(),
            nan_d: Default::default(),
            shift_d: Default::default(),
            _n: SCALE_DELAY,
        }
    }
}

impl Logic for ScaleDelay {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..self._n {
            self.go_d[i].clock.next = self.clock.val();
            self.first_d[i].clock.next = self.clock.val();
            self.last_d[i].clock.next = self.clock.val();
            self.q_d[i].clock.next = self.clock.val();
            self.len_d[i].clock.next = self.clock.val();
            self.neg_d[i].clock.next = self.clock.val();
            self.nan_d[i].clock.next = self.clock.val();
            self.shift_d[i].clock.next = self.clock.val();
        }
        self.go_d[0].d.next = self.go_in.val();
        self.first_d[0].d.next = self.first_in.val();
        self.last_d[0].d.next = self.last_in.val();
        self.q_d[0].d.next = self.q_in.val();
        self.len_d[0].d.next = self.len_in.val();
        self.neg_d[0].d.next = self.neg_in.val();
        self.nan_d[0].d.next = self.nan_in.val();
        self.shift_d[0].d.next = self.shift_in.val();
        for i in 1..self._n {
            self.go_d[i].d.next = self.go_d[i - 1].q.val();
            self.first_d[i].d.next = self.first_d[i - 1].q.val();
            self.last_d[i].d.next = self.last_d[i - 1].q.val();
            self.q_d[i].d.next = self.q_d[i - 1].q.val();
            self.len_d[i].d.next = self.len_d[i - 1].q.val();
            self.neg_d[i].d.next = self.neg_d[i - 1].q.val();
            self.nan_d[i].d.next = self.nan_d[i - 1].q.val();
            self.shift_d[i].d.next = self.shift_d[i - 1].q.val();
        }
        if self.reset.val() {
            for i in 0..self._n {
                self.go_d[i].d.next = false;
            }
        }
        for i in (self._n - 1)..self._n {
            self.go.next = self.go_d[i].q.val();
            self.first.next = self.first_d[i].q.val();
            self.last.next = self.last_d[i].q.val();
            self.q.next = self.q_d[i].q.val();
            self.len.next = self.len_d[i].q.val();
            self.neg.next = self.neg_d[i].q.val();
            self.nan.next = self.nan_d[i].q.val();
            self.shift.next = self.shift_d[i].q.val();
        }
    }
}

/// The block-scaled fixed-point MAC (see the module docs): the widths of the fixed-point MAC
/// pipe ([`GenericFixedMac`]) and of the dequantization unit (`P`, `T`, `A`, [`Dequant`]).
#[derive(LogicBlock)]
pub struct GenericBlockMac<
    const WB: usize,
    const NB: usize,
    const FW: usize,
    const PW: usize,
    const NPW: usize,
    const SW: usize,
    const ACC_W: usize,
    const P: usize,
    const T: usize,
    const A: usize,
> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties both pipes, zeroes the accumulators and flags.
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
    /// With `valid`: the tile's first beat.
    pub clear: Signal<In, Bit>,
    /// With `valid`: the block's last beat (its scale below is taken with it).
    pub bend: Signal<In, Bit>,
    /// With `valid` and `bend`: the tile's last beat.
    pub last: Signal<In, Bit>,
    /// The block's integer scale ([`crate::spec::block_scale::SerialScale::q`]).
    pub q: Signal<In, Bits<SCALE_Q_BITS>>,
    /// Its bits to take ([`crate::spec::block_scale::ScaleCode::q_bits`]).
    pub len: Signal<In, Bits<DEQUANT_LEN_BITS>>,
    /// The scale is negative.
    pub neg: Signal<In, Bit>,
    /// The scale is NaN.
    pub snan: Signal<In, Bit>,
    /// The scale's exponent above the window's base.
    pub shift: Signal<In, Bits<SCALE_SHIFT_BITS>>,
    /// The tile's exact sum of scaled blocks, two's complement (bit 0 weighs the fixed-point
    /// accumulator's LSB times the window's base).
    pub acc: Signal<Out, Bits<A>>,
    /// Sticky for the tile: a NaN operand, a pair that is not `ok`, or a NaN scale.
    pub nan: Signal<Out, Bit>,
    /// `acc` and `nan` hold the tile's result (one cycle).
    pub done: Signal<Out, Bit>,
    /// Sticky until reset: a block ended while the unit was still scaling the one before (a
    /// block shorter than its scale's bits); that block was lost.
    pub overrun: Signal<Out, Bit>,
    mac: GenericFixedMac<WB, NB, FW, PW, NPW, SW, ACC_W>,
    delay: ScaleDelay,
    dq: Dequant<P, T, A>,
    // The next valid beat starts a block / belongs to the tile's first block.
    bstart: DFF<Bit>,
    tfirst: DFF<Bit>,
    // A block of at most the unit's `P` bits leaves the pipe's top bits unused (they only
    // repeat the sign); Verilator exempts `*unused*` names from UNUSEDSIGNAL.
    unused_acc_top: Signal<Local, Bit>,
    // The fixed-point set has no infinities: the pipe's flags stay low.
    unused_inf: Signal<Local, Bit>,
    overrun_q: DFF<Bit>,
    at_top: Constant<BitIndex>,
}

impl<
        const WB: usize,
        const NB: usize,
        const FW: usize,
        const PW: usize,
        const NPW: usize,
        const SW: usize,
        const ACC_W: usize,
        const P: usize,
        const T: usize,
        const A: usize,
    > GenericBlockMac<WB, NB, FW, PW, NPW, SW, ACC_W, P, T, A>
{
    /// The block-scaled MAC of the fixed-point datapath `fx`; panics unless the widths are its
    /// geometry's and a block's sum fits `P` bits.
    pub fn for_fixed(fx: FixedPoint) -> Self {
        let g = FixedGeometry::of(fx);
        assert!(P > g.sw && P <= ACC_W, "GenericBlockMac: P = {P}");
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
            bend: Default::default(),
            last: Default::default(),
            q: Default::default(),
            len: Default::default(),
            neg: Default::default(),
            snan: Default::default(),
            shift: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            done: Default::default(),
            mac: GenericFixedMac::for_fixed(fx),
            delay: Default::default(),
            dq: Default::default(),
            bstart: Default::default(),
            tfirst: Default::default(),
            unused_acc_top: Default::default(),
            overrun: Default::default(),
            unused_inf: Default::default(),
            overrun_q: Default::default(),
            at_top: const_index(P),
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
        const P: usize,
        const T: usize,
        const A: usize,
    > Logic for GenericBlockMac<WB, NB, FW, PW, NPW, SW, ACC_W, P, T, A>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, bstart, tfirst, overrun_q);
        self.mac.clock.next = self.clock.val();
        self.delay.clock.next = self.clock.val();
        self.dq.clock.next = self.clock.val();
        self.mac.reset.next = self.reset.val();
        self.delay.reset.next = self.reset.val();
        self.dq.reset.next = self.reset.val();

        // Every block's first beat restarts the pipe's sum.
        self.mac.a.next = self.a.val();
        self.mac.w.next = self.w.val();
        self.mac.ok.next = self.ok.val();
        self.mac.lanes4.next = self.lanes4.val();
        self.mac.lanes2.next = self.lanes2.val();
        self.mac.valid.next = self.valid.val();
        self.mac.clear.next = self.valid.val() & (self.clear.val() | self.bstart.q.val());
        if self.valid.val() {
            self.bstart.d.next = self.bend.val();
            self.tfirst.d.next = !self.bend.val() & (self.clear.val() | self.tfirst.q.val());
        }

        // The block's scale waits for its sum.
        self.delay.go_in.next = self.valid.val() & self.bend.val();
        self.delay.first_in.next = self.clear.val() | self.tfirst.q.val();
        self.delay.last_in.next = self.last.val();
        self.delay.q_in.next = self.q.val();
        self.delay.len_in.next = self.len.val();
        self.delay.neg_in.next = self.neg.val();
        self.delay.nan_in.next = self.snan.val();
        self.delay.shift_in.next = self.shift.val();

        self.dq.start.next = self.delay.go.val();
        self.dq.first.next = self.delay.first.val();
        self.dq.last.next = self.delay.last.val();
        self.dq.psum.next = self.mac.acc.val().get_bits::<P>(0);
        self.unused_acc_top.next = (self.mac.acc.val() >> self.at_top.val()).any();
        self.unused_inf.next = self.mac.pinf.val() | self.mac.ninf.val();
        self.dq.q.next = self.delay.q.val();
        self.dq.len.next = self.delay.len.val();
        self.dq.neg.next = self.delay.neg.val();
        self.dq.nan.next = self.delay.nan.val() | self.mac.nan.val();
        self.dq.shift.next = self.delay.shift.val();

        if self.delay.go.val() & !self.dq.ready.val() {
            self.overrun_q.d.next = true;
        }

        if self.reset.val() {
            self.bstart.d.next = false;
            self.tfirst.d.next = false;
            self.overrun_q.d.next = false;
        }
        self.overrun.next = self.overrun_q.q.val();
        self.acc.next = self.dq.acc.val();
        self.nan.next = self.dq.acc_nan.val();
        self.done.next = self.dq.done.val();
    }
}

/// The block-scaled MAC beside the ≤ 8-bit fixed-point datapath (what `npe synth --top
/// mac_block8` measures against `mac_fixed8`).
pub type MacBlock8 = GenericBlockMac<
    { super::FIXED8.word.wb },
    { super::FIXED8.word.nb },
    { super::FIXED8.word.bits },
    { super::FIXED8.pw },
    { super::FIXED8.npw },
    { super::FIXED8.sw },
    { super::FIXED8.acc_w },
    { super::DEQUANT8_P },
    { super::DEQUANT8_P + SCALE_Q_BITS },
    { super::DEQUANT8_A },
>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};
    use crate::pe::{DEQUANT8_A, FIXED8, FIXED8_POINT};
    use crate::spec::block_scale::ScaleCode;
    use std::collections::VecDeque;

    /// A random beat in `lanes` lanes: the two lane words and the beat's exact signed total
    /// (wide lanes at the accumulator's LSB, narrow ones `place23` above), and whether a NaN
    /// operand is in it.
    fn beat(rnd: &mut impl FnMut() -> u64, lanes: usize, nan_rate: u64) -> (u64, u64, i128, bool) {
        let w = FIXED8.word;
        let (mut a, mut b, mut total, mut nan) = (0u64, 0u64, 0i128, false);
        for l in 0..4 {
            let bits = if l < 2 { w.wb } else { w.nb };
            let (ma, mb) = (rnd() & ((1 << bits) - 1), rnd() & ((1 << bits) - 1));
            let (sa, sb) = (rnd() & 1, rnd() & 1);
            let (na, nb) = (rnd().is_multiple_of(nan_rate), rnd().is_multiple_of(nan_rate));
            a |= ma << w.mag(l) | sa << (w.sign + l) | u64::from(na) << (w.nan + l);
            b |= mb << w.mag(l) | sb << (w.sign + l) | u64::from(nb) << (w.nan + l);
            if l < lanes {
                let p = i128::from(ma * mb) << if l < 2 { 0 } else { FIXED8.place23 };
                total += if sa != sb { -p } else { p };
                nan |= na | nb;
            }
        }
        (a, b, total, nan)
    }

    /// A block shorter than its scale's bits (2 beats against E4M3's 4) cannot be scaled in
    /// time: `overrun` says so and stays up until reset.
    #[test]
    fn a_block_shorter_than_its_scale_bits_is_an_overrun() {
        let mut m = MacBlock8::for_fixed(FIXED8_POINT);
        m.connect_all();
        m.reset.next = true;
        cycle(&mut m);
        m.reset.next = false;
        m.ok.next = true;
        m.lanes4.next = true;
        m.len.next = bits(4);
        m.q.next = bits(8);
        m.valid.next = true;
        for b in 0..6 {
            m.clear.next = b == 0;
            m.bend.next = b % 2 == 1;
            m.last.next = b == 5;
            cycle(&mut m);
        }
        m.valid.next = false;
        for _ in 0..12 {
            cycle(&mut m);
        }
        assert!(m.overrun.val());
        m.reset.next = true;
        cycle(&mut m);
        assert!(!m.overrun.val());
    }

    /// Tiles of blocks at full lane rate in the four- and two-lane modes, each kind of scale at
    /// its scheme's block size (BitMoD 128, MXFP4 32, NVFP4 16 elements) and with a short last
    /// block (K not a multiple of B): each tile's `acc` is the exact Σ over blocks of the block's
    /// sum × its scale, and NaN operands or scales make the tile NaN. Tiles follow each other
    /// without a gap, so a tile's last blocks are scaled while the next tile sums.
    #[test]
    fn block_scaled_tiles_at_full_lane_rate_are_exact() {
        let mut m = MacBlock8::for_fixed(FIXED8_POINT);
        m.connect_all();
        m.reset.next = true;
        cycle(&mut m);
        m.reset.next = false;
        m.ok.next = true;
        let mut rnd = rng(0xB10C_0001);
        let mut want: VecDeque<(i128, bool)> = VecDeque::new();
        let (mut tiles, mut done, mut nan_tiles) = (0, 0, 0);
        let check = |m: &MacBlock8, want: &mut VecDeque<(i128, bool)>, done: &mut usize| {
            if m.done.val() {
                let (sum, nan) = want.pop_front().expect("done for a tile that was sent");
                assert_eq!(m.nan.val(), nan, "tile {done}: NaN");
                if !nan {
                    let v = m.acc.val().to_u128() as i128;
                    let v = (v << (128 - DEQUANT8_A)) >> (128 - DEQUANT8_A);
                    assert_eq!(v, sum, "tile {done}");
                }
                *done += 1;
            }
        };
        for case in 0..48 {
            let lanes = if case % 2 == 0 { 4 } else { 2 };
            let kind = ScaleCode::ALL[(case / 2) % 3];
            let elems = match kind {
                ScaleCode::U8 => 128,
                ScaleCode::E8m0 => 32,
                ScaleCode::E4m3 => 16,
            };
            let block_beats = elems / lanes;
            let len = kind.q_bits();
            let blocks = 1 + (rnd() % 5) as usize;
            // A short last block, at least as long as the unit's bits.
            let short = if case % 3 == 0 {
                (len + (rnd() as usize) % block_beats).min(block_beats)
            } else {
                block_beats
            };
            let (lo, _) = kind.exp_range();
            let nan_rate = if case % 7 == 3 { 200 } else { u64::MAX };
            let (mut sum, mut nan) = (0i128, false);
            m.lanes4.next = lanes == 4;
            m.lanes2.next = lanes == 2;
            for blk in 0..blocks {
                let beats = if blk + 1 == blocks { short } else { block_beats };
                let mut code = rnd() as u8;
                if kind.serial(code).nan && case % 11 != 5 {
                    code = 0x38; // E4M3 1.0 / E8M0 2^-71 / u8 56: a finite scale
                }
                let s = kind.serial(code);
                let shift = match kind {
                    ScaleCode::U8 => 0,
                    ScaleCode::E4m3 if !s.nan => (s.exp - lo) as u32,
                    _ => (rnd() % (1 << SCALE_SHIFT_BITS)) as u32,
                };
                let mut bsum = 0i128;
                for b in 0..beats {
                    let (a, w, total, bn) = beat(&mut rnd, lanes, nan_rate);
                    bsum += total;
                    nan |= bn;
                    m.a.next = bits(a);
                    m.w.next = bits(w);
                    m.valid.next = true;
                    m.clear.next = blk == 0 && b == 0;
                    m.bend.next = b + 1 == beats;
                    m.last.next = blk + 1 == blocks && b + 1 == beats;
                    m.q.next = bits(u64::from(s.q));
                    m.len.next = bits(len as u64);
                    m.neg.next = s.neg;
                    m.snan.next = s.nan;
                    m.shift.next = bits(u64::from(shift));
                    cycle(&mut m);
                    check(&m, &mut want, &mut done);
                }
                let v = (bsum * i128::from(s.q)) << shift;
                sum += if s.neg { -v } else { v };
                nan |= s.nan;
            }
            want.push_back((sum, nan));
            tiles += 1;
            nan_tiles += usize::from(nan);
        }
        m.valid.next = false;
        for _ in 0..40 {
            cycle(&mut m);
            check(&m, &mut want, &mut done);
        }
        assert_eq!((done, want.len()), (tiles, 0), "every tile is done once");
        assert!(!m.overrun.val());
        // Both kinds of tile were checked.
        assert!(
            nan_tiles >= 2 && tiles - nan_tiles >= 30,
            "{nan_tiles} NaN tiles of {tiles}"
        );
    }
}
