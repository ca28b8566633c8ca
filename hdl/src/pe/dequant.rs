//! The bit-serial dequantization unit (DESIGN §3.1, §3.1.1): at the end of each weight block it
//! multiplies the block's exact partial sum by the block's scale, one scale bit per cycle,
//! most significant first (shift and add, no multiplier), and adds the product into the exact
//! accumulator, while the PE already sums the next block.
//!
//! ```text
//!  start: psum, scale (q, len, neg, nan, shift)
//!     │
//!     ▼ load                serial stage (len cycles)                 add stage (1 cycle)
//!  p = ±psum ──────────► t = 2·t + (q's next bit ? p : 0) ──last bit──► acc = (first ? 0 : acc)
//!  q left-aligned          the last bit's t goes to `prod`,               + sext(prod) << shift
//!                          t restarts at 0
//! ```
//!
//! A block takes `len` cycles ([`ScaleCode::q_bits`](crate::spec::block_scale::ScaleCode::q_bits):
//! 8 for BitMoD's u8, 4 for E4M3, 1 for E8M0), and the unit takes the next block in the cycle
//! of the previous block's last bit (`ready`), so blocks may start every `len` cycles: an NVFP4
//! block of 16 elements in the four-lane mode (4 beats, 4 scale bits) keeps up, as do MXFP4
//! (8 beats, 1 bit) and BitMoD g128 (32 beats, 8 bits). Its product is in `acc` two cycles after
//! its last bit: a block started before clock edge `s` is in `acc` after edge `s + len + 1`.
//!
//! Exactness: `|±psum × q| < 2^(P − 1) × 2^8`, so the product fits `T = P + 8` bits; the shift
//! puts it up to `2^SCALE_SHIFT_BITS − 1` places up in the `A`-bit accumulator, whose width the
//! user sizes for the blocks a tile can hold. A NaN scale makes the tile's sum NaN (sticky
//! `acc_nan`), even when the block's partial sum is 0 (the golden model's rule).

use crate::decode::{const_bits, const_index, BitIndex};
use crate::spec::block_scale::{SCALE_Q_BITS, SCALE_SHIFT_BITS};
use crate::spec::ACC_GUARD_BITS;
use rust_hdl::prelude::*;

/// Width of the unit's `len` input (1 ..= [`SCALE_Q_BITS`]).
pub const DEQUANT_LEN_BITS: usize = 4;

/// Partial-sum width of the unit beside the ≤ 8-bit fixed-point PE ([`crate::pe::FIXED8`]): a
/// block of up to 128 of its beat totals (BitMoD's g128 at one element per beat).
pub const DEQUANT8_P: usize = crate::pe::FIXED8.sw + 7;
/// Accumulator width of that unit: the product shifted across the window, and the guard bits
/// of every accumulator ([`ACC_GUARD_BITS`]) for the blocks a tile holds.
pub const DEQUANT8_A: usize = DEQUANT8_P + SCALE_Q_BITS + (1 << SCALE_SHIFT_BITS) - 1 + ACC_GUARD_BITS as usize;
/// The block-scaled PE's accumulator ([`crate::pe::MacBlock8`]): [`DEQUANT8_A`] bits whose
/// LSB is the fixed-point accumulator's; the window's base exponent (the block scales' lowest)
/// is the job's, applied by the output unit's column scale.
pub const BLOCK8_ACCUMULATOR: crate::spec::Accumulator = crate::spec::Accumulator {
    lsb: crate::pe::FIXED8_POINT.acc.lsb,
    width: DEQUANT8_A as u32,
};
/// The unit beside the ≤ 8-bit fixed-point PE (what `npe synth --top dequant8` measures).
pub type Dequant8 = Dequant<DEQUANT8_P, { DEQUANT8_P + SCALE_Q_BITS }, DEQUANT8_A>;

/// The bit-serial dequantization unit for a `P`-bit partial sum, a `T = P + 8`-bit product and
/// an `A`-bit accumulator (see the module docs).
#[derive(LogicBlock)]
pub struct Dequant<const P: usize, const T: usize, const A: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: no block in flight, the accumulator and its NaN flag zero.
    pub reset: Signal<In, Bit>,
    /// Take a block this cycle (only while `ready`).
    pub start: Signal<In, Bit>,
    /// The block is a tile's first: its product replaces the accumulator and its NaN flag.
    pub first: Signal<In, Bit>,
    /// The block is a tile's last: `done` marks the cycle its product is in `acc`.
    pub last: Signal<In, Bit>,
    /// The block's exact partial sum, two's complement.
    pub psum: Signal<In, Bits<P>>,
    /// The integer scale, right-aligned in its `len` bits.
    pub q: Signal<In, Bits<SCALE_Q_BITS>>,
    /// How many bits of `q` to take, 1 ..= 8: the block's cycles in the unit.
    pub len: Signal<In, Bits<DEQUANT_LEN_BITS>>,
    /// The scale is negative.
    pub neg: Signal<In, Bit>,
    /// The scale is NaN.
    pub nan: Signal<In, Bit>,
    /// Places the product goes up in the accumulator (the scale's exponent above the window's base).
    pub shift: Signal<In, Bits<SCALE_SHIFT_BITS>>,
    /// The exact sum of the tile's scaled blocks so far, two's complement.
    pub acc: Signal<Out, Bits<A>>,
    /// Sticky: a block of this tile had a NaN scale.
    pub acc_nan: Signal<Out, Bit>,
    /// `acc` holds the whole tile: the product of a block marked `last` is in it.
    pub done: Signal<Out, Bit>,
    /// The unit takes a block this cycle (idle, or taking the last bit of the one it holds).
    pub ready: Signal<Out, Bit>,
    // Serial stage.
    p: DFF<Bits<T>>,
    qs: DFF<Bits<SCALE_Q_BITS>>,
    left: DFF<Bits<DEQUANT_LEN_BITS>>,
    t: DFF<Bits<T>>,
    sh: DFF<Bits<SCALE_SHIFT_BITS>>,
    first1: DFF<Bit>,
    last1: DFF<Bit>,
    nan1: DFF<Bit>,
    // Add stage.
    prod: DFF<Bits<T>>,
    sh2: DFF<Bits<SCALE_SHIFT_BITS>>,
    valid2: DFF<Bit>,
    first2: DFF<Bit>,
    last2: DFF<Bit>,
    nan2: DFF<Bit>,
    acc_q: DFF<Bits<A>>,
    nan_q: DFF<Bit>,
    done_q: DFF<Bit>,
    // Combinational.
    ps: Signal<Local, Bits<T>>,
    t2: Signal<Local, Bits<T>>,
    tn: Signal<Local, Bits<T>>,
    wide: Signal<Local, Bits<A>>,
    term: Signal<Local, Bits<A>>,
    base: Signal<Local, Bits<A>>,
    ext_t: Constant<Bits<T>>,
    ext_a: Constant<Bits<A>>,
    p_sign: Constant<BitIndex>,
    t_sign: Constant<BitIndex>,
    q_top: Constant<BitIndex>,
    q_width: Constant<Bits<DEQUANT_LEN_BITS>>,
    one: Constant<Bits<DEQUANT_LEN_BITS>>,
    zero_len: Constant<Bits<DEQUANT_LEN_BITS>>,
    zero_t: Constant<Bits<T>>,
    one_t: Constant<Bits<T>>,
    zero_a: Constant<Bits<A>>,
}

impl<const P: usize, const T: usize, const A: usize> Default for Dequant<P, T, A> {
    fn default() -> Self {
        assert_eq!(T, P + SCALE_Q_BITS, "Dequant<{P}, {T}, {A}>: T = P + 8");
        assert!(
            A >= T + (1 << SCALE_SHIFT_BITS) - 1,
            "Dequant<{P}, {T}, {A}>: the shifted product fits"
        );
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            first: Default::default(),
            last: Default::default(),
            psum: Default::default(),
            q: Default::default(),
            len: Default::default(),
            neg: Default::default(),
            nan: Default::default(),
            shift: Default::default(),
            acc: Default::default(),
            acc_nan: Default::default(),
            done: Default::default(),
            ready: Default::default(),
            p: Default::default(),
            qs: Default::default(),
            left: Default::default(),
            t: Default::default(),
            sh: Default::default(),
            first1: Default::default(),
            last1: Default::default(),
            nan1: Default::default(),
            prod: Default::default(),
            sh2: Default::default(),
            valid2: Default::default(),
            first2: Default::default(),
            last2: Default::default(),
            nan2: Default::default(),
            acc_q: Default::default(),
            nan_q: Default::default(),
            done_q: Default::default(),
            ps: Default::default(),
            t2: Default::default(),
            tn: Default::default(),
            wide: Default::default(),
            term: Default::default(),
            base: Default::default(),
            ext_t: Constant::new(Bits::<T>::mask() << P as u64),
            ext_a: Constant::new(Bits::<A>::mask() << T as u64),
            p_sign: const_index(P - 1),
            t_sign: const_index(T - 1),
            q_top: const_index(SCALE_Q_BITS - 1),
            q_width: const_bits(SCALE_Q_BITS as u64),
            one: const_bits(1),
            zero_len: const_bits(0),
            zero_t: const_bits(0),
            one_t: const_bits(1),
            zero_a: const_bits(0),
        }
    }
}

impl<const P: usize, const T: usize, const A: usize> Logic for Dequant<P, T, A> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, p, qs, left, t, sh, first1, last1, nan1, prod, sh2, valid2, first2, last2, nan2, acc_q, nan_q,
            done_q
        );

        // ---- serial stage: one bit of q per cycle, most significant first.
        self.t2.next = self.t.q.val() << self.one_t.val();
        self.tn.next = self.t2.val();
        if self.qs.q.val().get_bit(self.q_top.val().index()) {
            self.tn.next = self.t2.val() + self.p.q.val();
        }
        self.ready.next = (self.left.q.val() == self.zero_len.val()) | (self.left.q.val() == self.one.val());
        self.valid2.d.next = false;
        if self.left.q.val() != self.zero_len.val() {
            self.qs.d.next = self.qs.q.val() << 1;
            self.left.d.next = self.left.q.val() - self.one.val();
            self.t.d.next = self.tn.val();
            if self.left.q.val() == self.one.val() {
                // The last bit: the product moves on, the next block starts from 0.
                self.prod.d.next = self.tn.val();
                self.sh2.d.next = self.sh.q.val();
                self.first2.d.next = self.first1.q.val();
                self.last2.d.next = self.last1.q.val();
                self.nan2.d.next = self.nan1.q.val();
                self.valid2.d.next = true;
                self.t.d.next = self.zero_t.val();
            }
        }
        // Load: the partial sum sign-extended and negated for a negative scale, q left-aligned.
        self.ps.next = bit_cast::<T, P>(self.psum.val());
        if self.psum.val().get_bit(self.p_sign.val().index()) {
            self.ps.next = bit_cast::<T, P>(self.psum.val()) | self.ext_t.val();
        }
        if self.start.val() & self.ready.val() {
            self.p.d.next = self.ps.val();
            if self.neg.val() {
                self.p.d.next = self.zero_t.val() - self.ps.val();
            }
            self.qs.d.next = self.q.val() << (self.q_width.val() - self.len.val());
            self.left.d.next = self.len.val();
            self.sh.d.next = self.shift.val();
            self.first1.d.next = self.first.val();
            self.last1.d.next = self.last.val();
            self.nan1.d.next = self.nan.val();
        }

        // ---- add stage: the product sign-extended, shifted, into the accumulator.
        self.wide.next = bit_cast::<A, T>(self.prod.q.val());
        if self.prod.q.val().get_bit(self.t_sign.val().index()) {
            self.wide.next = bit_cast::<A, T>(self.prod.q.val()) | self.ext_a.val();
        }
        self.term.next = self.wide.val() << self.sh2.q.val();
        self.base.next = self.acc_q.q.val();
        if self.first2.q.val() {
            self.base.next = self.zero_a.val();
        }
        self.done_q.d.next = false;
        if self.valid2.q.val() {
            self.acc_q.d.next = self.base.val() + self.term.val();
            self.nan_q.d.next = (self.nan_q.q.val() & !self.first2.q.val()) | self.nan2.q.val();
            self.done_q.d.next = self.last2.q.val();
        }

        if self.reset.val() {
            self.left.d.next = self.zero_len.val();
            self.valid2.d.next = false;
            self.acc_q.d.next = self.zero_a.val();
            self.nan_q.d.next = false;
            self.done_q.d.next = false;
        }
        self.acc.next = self.acc_q.q.val();
        self.acc_nan.next = self.nan_q.q.val();
        self.done.next = self.done_q.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};
    use crate::spec::block_scale::{ScaleCode, SerialScale};

    const P: usize = DEQUANT8_P;
    const A: usize = DEQUANT8_A;
    type Unit = Dequant8;

    fn unit() -> Unit {
        let mut u = Unit::default();
        u.connect_all();
        u.reset.next = true;
        cycle(&mut u);
        u.reset.next = false;
        u
    }

    fn acc(u: &Unit) -> i128 {
        let v = u.acc.val().to_u128() as i128;
        (v << (128 - A)) >> (128 - A)
    }

    struct ScaledBlock {
        psum: i64,
        scale: SerialScale,
        len: usize,
        shift: u32,
    }

    impl ScaledBlock {
        fn value(&self) -> i128 {
            let v = (i128::from(self.psum) * i128::from(self.scale.q)) << self.shift;
            if self.scale.neg {
                -v
            } else {
                v
            }
        }
    }

    /// Runs `blocks` as one tile, each started as soon as the unit is ready (after `gap` idle
    /// cycles), and checks the sum, the NaN flag and the cycle `done` rises.
    fn tile(u: &mut Unit, blocks: &[ScaledBlock], gap: usize) {
        let want: i128 = blocks.iter().map(ScaledBlock::value).sum();
        let want_nan = blocks.iter().any(|b| b.scale.nan);
        let mut last_start = 0;
        let mut now = 0;
        for (i, b) in blocks.iter().enumerate() {
            for _ in 0..gap {
                cycle(u);
                now += 1;
            }
            while !u.ready.val() {
                cycle(u);
                now += 1;
            }
            u.start.next = true;
            u.first.next = i == 0;
            u.last.next = i + 1 == blocks.len();
            u.psum.next = bits((b.psum as u64) & ((1 << P) - 1));
            u.q.next = bits(u64::from(b.scale.q));
            u.len.next = bits(b.len as u64);
            u.neg.next = b.scale.neg;
            u.nan.next = b.scale.nan;
            u.shift.next = bits(u64::from(b.shift));
            last_start = now;
            cycle(u);
            now += 1;
            u.start.next = false;
        }
        let len = blocks.last().unwrap().len;
        // The last block is in `acc` after edge `start + len + 1`.
        while now < last_start + len + 2 {
            assert!(!u.done.val(), "done before the last block's product");
            cycle(u);
            now += 1;
        }
        assert!(u.done.val(), "done with the last block's product");
        assert_eq!(u.acc_nan.val(), want_nan);
        assert_eq!(acc(u), want, "{} blocks", blocks.len());
        cycle(u);
        assert!(!u.done.val(), "done lasts one cycle");
    }

    /// Partial sums at both ends of their range, near zero and at random.
    fn psums(rnd: &mut impl FnMut() -> u64) -> Vec<i64> {
        let max = (1i64 << (P - 1)) - 1;
        let mut v = vec![-max - 1, max, 0, 1, -1, -max, max - 1];
        v.extend((0..3).map(|_| ((rnd() << (64 - P)) as i64) >> (64 - P)));
        v
    }

    /// Every code of every scale kind, against partial sums at both ends of their range: one
    /// block per tile, so each product is checked alone, and the unit is back to back with no
    /// idle cycle between tiles.
    #[test]
    fn every_scale_code_times_extreme_partial_sums_is_exact() {
        let mut u = unit();
        let mut rnd = rng(0x5EED_0001);
        let mut checked = 0;
        for kind in ScaleCode::ALL {
            let (lo, _) = kind.exp_range();
            for code in 0..=u8::MAX {
                let scale = kind.serial(code);
                // E4M3's exponents all fit the window from its lowest one; an E8M0 exponent
                // sits at a random place of a window whose base the column scale would carry.
                let shift = match kind {
                    ScaleCode::U8 => 0,
                    ScaleCode::E4m3 => (scale.exp - lo) as u32,
                    ScaleCode::E8m0 => (rnd() % (1 << SCALE_SHIFT_BITS)) as u32,
                };
                for psum in psums(&mut rnd) {
                    let block = ScaledBlock {
                        psum,
                        scale,
                        len: kind.q_bits(),
                        shift,
                    };
                    tile(&mut u, &[block], 0);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3 * 256 * 10);
    }

    #[test]
    fn the_8_bit_geometry() {
        // 39-bit beat totals, 128 of them: 46 bits; × 2^8 × 2^15 and 16 guard bits: 85.
        assert_eq!((DEQUANT8_P, DEQUANT8_A), (46, 85));
    }

    /// Tiles of many blocks started at the unit's full rate (every `len` cycles) and with gaps:
    /// the sum over blocks is exact, a NaN scale anywhere makes the tile NaN and the next tile's
    /// first block clears it, and the last block's product lands while the next tile's first
    /// block is already in the serial stage.
    #[test]
    fn tiles_of_blocks_at_full_rate_sum_exactly() {
        let mut u = unit();
        let mut rnd = rng(0x5EED_0002);
        for case in 0..120 {
            let kind = ScaleCode::ALL[case % 3];
            let (lo, _) = kind.exp_range();
            let n = 1 + (rnd() % 12) as usize;
            let ends = psums(&mut rnd);
            let blocks: Vec<ScaledBlock> = (0..n)
                .map(|_| {
                    let mut code = rnd() as u8;
                    // NaN codes rarely, so most tiles check a sum.
                    while kind.serial(code).nan && !rnd().is_multiple_of(8) {
                        code = rnd() as u8;
                    }
                    let scale = kind.serial(code);
                    let shift = match kind {
                        ScaleCode::U8 => 0,
                        ScaleCode::E4m3 if !scale.nan => (scale.exp - lo) as u32,
                        _ => (rnd() % (1 << SCALE_SHIFT_BITS)) as u32,
                    };
                    ScaledBlock {
                        psum: ends[(rnd() % ends.len() as u64) as usize],
                        scale,
                        len: kind.q_bits(),
                        shift,
                    }
                })
                .collect();
            tile(&mut u, &blocks, if case % 5 == 0 { (rnd() % 4) as usize } else { 0 });
        }
    }

    /// A 4-bit scale taken as 4 bits and as 8 (its high bits zero) gives the same product: `len`
    /// only sets how many of the right-aligned bits are taken.
    #[test]
    fn len_only_sets_the_bits_taken() {
        let mut u = unit();
        for len in [4, 8] {
            let block = ScaledBlock {
                psum: -12345,
                scale: SerialScale {
                    q: 13,
                    exp: 0,
                    neg: false,
                    nan: false,
                },
                len,
                shift: 3,
            };
            tile(&mut u, &[block], 0);
            assert_eq!(acc(&u), -12345 * 13 * 8);
        }
    }
}
