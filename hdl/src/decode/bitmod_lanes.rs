//! BitMoD weights at the array's edge (DESIGN §3.1): the block's 2-bit selector picks the data
//! type of every code of the block, and the data types differ from the FP4 E2M1 grid (4-bit)
//! or the FP3 grid (3-bit) only in the −0 code, which holds one special value.
//!
//! So the fixed-point weight decoder ([`super::FixedDecode`]) needs no table entries for them:
//! before it, this block rewrites each lane's BitMoD code as the FP4 E2M1 code of the same grid
//! value (3-bit `s.mm` magnitudes 0, 0.5, 1, 2 become E2M1's `000`, `001`, `010`, `100`) and
//! notes the lanes holding the −0 code; [`super::DECODE_LATENCY`] clock later, beside the
//! decoder's output, it replaces those lanes' magnitude, sign and NaN bits by the special value
//! of the block's data type, in the lane's fixed point. Any other format passes through.
//!
//! ```text
//!  code ─► rewrite ─► fp4 ─► FixedDecode (fmt = FP4) ─► word ─► override ─► out
//!            └─ special lanes, selector, width ─ register ───────────┘
//! ```

use super::fixed_decode::FixedWord;
use super::format_decode::CODE_BITS;
use super::{const_bits, const_index, BitIndex};
use crate::many;
use crate::spec::block_scale::SELECTOR_BITS;
use crate::spec::formats::bitmod;
use crate::spec::{FixedLane, FixedPoint, Format};
use rust_hdl::prelude::*;

/// Lanes of an operand word.
const LANES: usize = 4;

/// BitMoD data types (both widths, [`Format::BITMOD`] order: the 4-bit ones by selector, then
/// the 3-bit ones).
const TYPES: usize = Format::BITMOD.len();

/// The BitMoD rewrite and override around a fixed-point weight decoder whose words are laid out
/// as `word` (`FW` bits); see the module docs.
#[derive(LogicBlock)]
pub struct BitmodLanes<const FW: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// The operand word's codes.
    pub code: Signal<In, Bits<CODE_BITS>>,
    /// The job's W format is a 4-bit BitMoD type (any of them: the selector picks).
    pub bm4: Signal<In, Bit>,
    /// … a 3-bit BitMoD type.
    pub bm3: Signal<In, Bit>,
    /// Four lanes (else two: lane 1's code sits at bit 8).
    pub lanes4: Signal<In, Bit>,
    /// The block's data-type selector (with `code`).
    pub sel: Signal<In, Bits<SELECTOR_BITS>>,
    /// The codes for the decoder: FP4 E2M1 codes of BitMoD lanes, else `code`.
    pub fp4: Signal<Out, Bits<CODE_BITS>>,
    /// The decoder's word (its latency after `code`).
    pub word: Signal<In, Bits<FW>>,
    /// `word` with the special lanes replaced.
    pub out: Signal<Out, Bits<FW>>,
    // Per nibble: its code, its 3-bit code's magnitude, the rewritten code and the special
    // flag; per lane: the special flag, registered.
    cn: Vec<Signal<Local, Bits<4>>>,
    mn: Vec<Signal<Local, Bits<2>>>,
    rn: Vec<Signal<Local, Bits<CODE_BITS>>>,
    sp: Vec<Signal<Local, Bit>>,
    sp_q: Vec<DFF<Bit>>,
    // The special's data type: selector, plus 4 for the 3-bit types.
    ty_q: DFF<Bits<3>>,
    // Per lane: the bits the special replaces; per lane × type: its bits.
    k_mask: Vec<Constant<Bits<FW>>>,
    k_val: Vec<Constant<Bits<FW>>>,
    k_ty: Vec<Constant<Bits<3>>>,
    k_at: Vec<Constant<BitIndex>>,
    k_sh: Vec<Constant<Bits<CODE_BITS>>>,
    k_m: Vec<Constant<Bits<2>>>,
    k_onehot: Vec<Constant<Bits<CODE_BITS>>>,
    k_sign4: Constant<Bits<CODE_BITS>>,
    k_sign3: Constant<BitIndex>,
    k_eight: Constant<Bits<4>>,
    k_four: Constant<Bits<3>>,
    k_zero2: Constant<Bits<2>>,
    _lanes: usize,
    _types: usize,
    // FP3's four magnitudes.
    _mags: usize,
}

/// Lane `l`'s fixed-point lane (lanes 0–1 wide, 2–3 narrow).
fn lane_of(fx: FixedPoint, l: usize) -> FixedLane {
    if l < 2 {
        fx.wide
    } else {
        fx.narrow
    }
}

/// The word bits of BitMoD type `t`'s special value in lane `l`.
pub fn special_bits(word: FixedWord, fx: FixedPoint, l: usize, t: usize) -> u64 {
    let f = Format::BITMOD[t];
    let crate::spec::Encoding::Bitmod { special } = f.spec().encoding else {
        unreachable!("BITMOD rows are BitMoD encodings")
    };
    let (neg, mant, exp) = bitmod::special(f.bits(), special);
    let lane = lane_of(fx, l);
    let sh = i32::from(exp) - lane.lsb;
    assert!(sh >= 0, "{f:?}: the special lies below lane {l}'s LSB");
    let mag = u64::from(mant) << sh;
    assert!(mag >> lane.bits == 0, "{f:?}: the special exceeds lane {l}");
    (mag << word.mag(l)) | (u64::from(neg) << (word.sign + l))
}

impl<const FW: usize> BitmodLanes<FW> {
    /// The block for decoded words laid out as `word` in the fixed point `fx`.
    pub fn new(word: FixedWord, fx: FixedPoint) -> Self {
        assert_eq!(word.bits, FW);
        let lane_bits = |l: usize| if l < 2 { word.wb } else { word.nb };
        let mask = |l: usize| {
            let m = ((1u64 << lane_bits(l)) - 1) << word.mag(l);
            m | 1 << (word.sign + l) | 1 << (word.nan + l)
        };
        Self {
            clock: Default::default(),
            code: Default::default(),
            bm4: Default::default(),
            bm3: Default::default(),
            lanes4: Default::default(),
            sel: Default::default(),
            fp4: Default::default(),
            word: Default::default(),
            out: Default::default(),
            cn: many(LANES),
            mn: many(LANES),
            rn: many(LANES),
            sp: many(LANES),
            sp_q: many(LANES),
            ty_q: Default::default(),
            k_mask: (0..LANES).map(|l| const_bits(mask(l))).collect(),
            k_val: (0..LANES * TYPES)
                .map(|i| const_bits(special_bits(word, fx, i / TYPES, i % TYPES)))
                .collect(),
            k_ty: (0..TYPES).map(|t| const_bits(t as u64)).collect(),
            k_at: (0..LANES).map(|n| const_index(4 * n)).collect(),
            k_sh: (0..LANES).map(|n| const_bits(4 * n as u64)).collect(),
            k_m: (0..4).map(const_bits).collect(),
            // E2M1 magnitudes of FP3's 0.5, 1, 2 (see the module docs).
            k_onehot: [0b000, 0b001, 0b010, 0b100].iter().map(|&c| const_bits(c)).collect(),
            k_sign4: const_bits(8),
            k_sign3: const_index(2),
            k_eight: const_bits(8),
            k_four: const_bits(4),
            k_zero2: const_bits(0),
            _lanes: LANES,
            _types: TYPES,
            _mags: 4,
        }
    }
}

impl<const FW: usize> Logic for BitmodLanes<FW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ty_q);
        // Every nibble is rewritten (in the two-lane mode the high nibbles of the 8-bit slots
        // are not codes: the decoder masks them, and their flags are not lanes').
        self.fp4.next = self.code.val();
        if self.bm3.val() {
            self.fp4.next = 0.into();
        }
        for n in 0..self._lanes {
            self.sp_q[n].clock.next = self.clock.val();
            self.cn[n].next = self.code.val().get_bits::<4>(self.k_at[n].val().index());
            self.mn[n].next = self.cn[n].val().get_bits::<2>(self.k_at[0].val().index());
            // s.mm → s and E2M1's magnitude code of 0, 0.5, 1, 2.
            self.rn[n].next = 0.into();
            for m in 0..self._mags {
                if self.mn[n].val() == self.k_m[m].val() {
                    self.rn[n].next = self.k_onehot[m].val();
                }
            }
            if self.cn[n].val().get_bit(self.k_sign3.val().index()) {
                self.rn[n].next = self.rn[n].val() | self.k_sign4.val();
            }
            self.sp[n].next = false;
            if self.bm4.val() {
                self.sp[n].next = self.cn[n].val() == self.k_eight.val();
            }
            if self.bm3.val() {
                self.fp4.next = self.fp4.val() | (self.rn[n].val() << self.k_sh[n].val());
                self.sp[n].next =
                    self.cn[n].val().get_bit(self.k_sign3.val().index()) & (self.mn[n].val() == self.k_zero2.val());
            }
        }
        // Nibble → lane: lane 1 is nibble 2 in the two-lane mode, lanes 2–3 only in the four.
        self.sp_q[0].d.next = self.sp[0].val();
        self.sp_q[1].d.next = self.sp[2].val();
        self.sp_q[2].d.next = false;
        self.sp_q[3].d.next = false;
        if self.lanes4.val() {
            self.sp_q[1].d.next = self.sp[1].val();
            self.sp_q[2].d.next = self.sp[2].val();
            self.sp_q[3].d.next = self.sp[3].val();
        }
        self.ty_q.d.next = bit_cast::<3, SELECTOR_BITS>(self.sel.val());
        if self.bm3.val() {
            self.ty_q.d.next = bit_cast::<3, SELECTOR_BITS>(self.sel.val()) | self.k_four.val();
        }

        self.out.next = self.word.val();
        for nt in self._types..(self._types + 1) {
            for l in 0..self._lanes {
                for t in 0..self._types {
                    if self.sp_q[l].q.val() & (self.ty_q.q.val() == self.k_ty[t].val()) {
                        self.out.next = (self.out.val() & !self.k_mask[l].val()) | self.k_val[l * nt + t].val();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixed_decode::tests;
    use super::*;
    use crate::accel::testbench::cycle;
    use crate::pe::{DecodeFixed8, FIXED8, FIXED8_POINT};
    use crate::spec::config::LE8_FORMATS;

    const FW: usize = FIXED8.word.bits;

    /// The weight path of a block-scaled column: the block around the ≤ 8-bit set's decoder.
    #[derive(LogicBlock)]
    struct Column {
        clock: Signal<In, Clock>,
        code: Signal<In, Bits<CODE_BITS>>,
        fmt: Signal<In, Bits<{ super::super::format_decode::FMT_BITS }>>,
        bm4: Signal<In, Bit>,
        bm3: Signal<In, Bit>,
        lanes4: Signal<In, Bit>,
        lanes2: Signal<In, Bit>,
        sel: Signal<In, Bits<SELECTOR_BITS>>,
        out: Signal<Out, Bits<FW>>,
        plain: Signal<Out, Bits<FW>>,
        bm: BitmodLanes<FW>,
        dec: DecodeFixed8,
    }

    impl Logic for Column {
        #[hdl_gen]
        fn update(&mut self) {
            self.bm.clock.next = self.clock.val();
            self.dec.clock.next = self.clock.val();
            self.bm.code.next = self.code.val();
            self.bm.bm4.next = self.bm4.val();
            self.bm.bm3.next = self.bm3.val();
            self.bm.lanes4.next = self.lanes4.val();
            self.bm.sel.next = self.sel.val();
            self.dec.code.next = self.bm.fp4.val();
            self.dec.fmt.next = self.fmt.val();
            self.dec.lanes4.next = self.lanes4.val();
            self.dec.lanes2.next = self.lanes2.val();
            self.bm.word.next = self.dec.word.val();
            self.out.next = self.bm.out.val();
            self.plain.next = self.dec.word.val();
        }
    }

    impl crate::accel::testbench::HasClock for Column {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    fn column() -> Column {
        let mut c = Column {
            clock: Default::default(),
            code: Default::default(),
            fmt: Default::default(),
            bm4: Default::default(),
            bm3: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            sel: Default::default(),
            out: Default::default(),
            plain: Default::default(),
            bm: BitmodLanes::new(FIXED8.word, FIXED8_POINT),
            dec: DecodeFixed8::new(&LE8_FORMATS, FIXED8_POINT),
        };
        c.connect_all();
        c
    }

    /// Every code of both widths' data types under every selector, in every lane of both lane
    /// modes (the other lanes hold other codes of the same type, checked too): each lane is
    /// the value the format table gives the code in the type the selector picks, one clock
    /// after the code, as the decoder presents FP4's codes.
    #[test]
    fn every_code_of_every_selector_is_its_data_types_value() {
        let mut c = column();
        let mut checked = 0;
        for bits_ in [4u32, 3] {
            for sel in 0..4u8 {
                let f = Format::bitmod(bits_, sel).unwrap();
                let crate::spec::Encoding::Bitmod { special } = f.spec().encoding else {
                    unreachable!()
                };
                for n in [2u32, 4] {
                    let slot = 16 / n;
                    for code in 0..1u32 << bits_ {
                        for l in 0..n {
                            let others = if bits_ == 4 { 0x5A3C } else { 0x4736 };
                            let w = (others & !(0xF << (l * slot))) | code << (l * slot);
                            // 3-bit codes leave their slot's top bit clear.
                            let w = if bits_ == 3 { w & 0x7777 } else { w };
                            c.fmt.next = bits(Format::Fp4E2M1.id() as u64);
                            c.code.next = bits(w as u64);
                            c.bm4.next = bits_ == 4;
                            c.bm3.next = bits_ == 3;
                            c.lanes4.next = n == 4;
                            c.lanes2.next = n == 2;
                            c.sel.next = bits(sel as u64);
                            cycle(&mut c);
                            // The next word is another one: the output is the registered one's.
                            c.code.next = bits(!w as u64 & 0xFFFF);
                            c.sel.next = bits(3 - sel as u64);
                            simulate(&mut c, 100);
                            let got: Vec<bool> = (0..FW).map(|i| c.out.val().get_bit(i)).collect();
                            for k in 0..n {
                                let kc = (w >> (k * slot)) & 0xF;
                                let want = bitmod::unified(bits_, special, kc as u8);
                                let lane = lane_of(FIXED8_POINT, k as usize);
                                let what = format!("{f:?} code {kc:#x} lane {k} of {n} (word {w:#06x})");
                                tests::assert_value(want, tests::lane_of(&got, FIXED8.word, k as usize), lane, &what);
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 4 * (16 + 8) * (2 * 2 + 4 * 4));
    }

    /// Other formats pass through: the word is the decoder's own, whatever the selector.
    #[test]
    fn other_formats_pass_through() {
        let mut c = column();
        for (f, n) in [
            (Format::Fp4E2M1, 4u32),
            (Format::Int8, 2),
            (Format::Fp8E4M3, 2),
            (Format::Int4, 4),
        ] {
            for w in [0x8888u32, 0x0808, 0x4444, 0xC4C4, 0x1234, 0xFEDC] {
                c.fmt.next = bits(f.id() as u64);
                c.code.next = bits(w as u64);
                c.bm4.next = false;
                c.bm3.next = false;
                c.lanes4.next = n == 4;
                c.lanes2.next = n == 2;
                c.sel.next = bits(w as u64 & 3);
                cycle(&mut c);
                simulate(&mut c, 100);
                assert_eq!(c.out.val(), c.plain.val(), "{f:?} {w:#06x}");
            }
        }
    }
}
