//! One operand word's lanes decoded into fixed point, for the fixed-point PE
//! ([`crate::pe::fixed_mac`]): when every format of a preset's set is a small multiple of one
//! power of two ([`FixedPoint`]), the array's edge turns each lane code into a magnitude, a sign
//! and a NaN flag, and no PE needs an exponent.
//!
//! Lanes 0–1 carry every format of the set ([`FixedPoint::wide`]): each is one table look-up
//! ([`WideTable`], a ROM that synthesis puts in block RAM) at `base(format) | code`, whose
//! entries are the magnitudes `|value| / 2^lsb`; the sign is the code's top bit and NaN a
//! comparison with the set's NaN codes. Lanes 2–3 carry the ≤ 4-bit formats
//! ([`FixedPoint::narrow`]): they are decoded to the unified form by the table's own decoders
//! ([`FormatDecode::pipelined`], the same as [`super::LaneDecode`] uses), then the mantissa is
//! shifted by its exponent into the lane's fixed point: `mag = mant × 2^(exp − lsb)`. The word
//! ([`FixedWord`]): four magnitudes from bit 0 up, then four sign bits and four NaN bits (bit
//! `l` for lane `l`). The word follows the code [`super::DECODE_LATENCY`] clock later (the
//! ROM's read register and the narrow decoders' stage).
//!
//! The table is computed from [`FormatDecode`] itself (simulated once per build), so the
//! wide lanes decode exactly as the table's decoders do.
//!
//! Outlier-victim pair formats ([`Format::is_paired`], when the set has them) decode lanes
//! (0, 1) and (2, 3) as pairs: a lane whose partner is the marker is an outlier. Lanes 0–1 read
//! the table's outlier half (`base | 16 | code`, from the spec's pair decode); lanes 2–3 use two
//! [`OvpLane`]s behind a register of their codes, beside the narrow decoders' stage. In the
//! two-lane mode a pair's codes sit in the low halves of lanes 0 and 1's 8-bit slots.

use super::format_decode::{CODE_BITS, FMT_BITS};
use super::lane_decode::formats_up_to;
use super::ovp_decode::OvpLane;
use super::{const_bits, const_index, BitIndex, FormatDecode, EXP_BITS, MANT_BITS};
use crate::spec::formats::ovp;
use crate::spec::{FixedLane, FixedPoint, Format, OvpNormal, Unified};
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// Address bits of the wide lanes' table: one 1024 × 18 block RAM of the ECP5 (DP16KD).
pub const TABLE_ADDR_BITS: usize = 10;

/// The wide lanes' table (see the module docs): where each format's codes start, its NaN
/// codes, and the magnitude of every code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WideTable {
    /// Per format of the lane: the format, the address of its code 0, its code mask.
    pub formats: Vec<(Format, u64, u64)>,
    /// `(format, code)` of every NaN code.
    pub nans: Vec<(Format, u64)>,
    /// Magnitude (`|value| / 2^lane.lsb`) by address.
    pub mags: BTreeMap<u64, u64>,
}

impl WideTable {
    /// The table of the multiplier formats of `formats` in `lane`: the formats are placed in
    /// order of decreasing size, each at a multiple of its size (so `base | code` is the
    /// address; a pair format takes 32 entries, see `WideTable::entries`). Panics if they do
    /// not fit [`TABLE_ADDR_BITS`] or a value is not an exact magnitude of the lane, or if a
    /// format's sign is not its code's top bit.
    pub fn new(formats: &[Format], lane: FixedLane) -> WideTable {
        let mut set: Vec<Format> = formats.iter().copied().filter(|f| f.is_mac_operand()).collect();
        set.sort_by_key(|&f| std::cmp::Reverse(Self::entries(f)));
        let mut dec = FormatDecode::with_formats(&set);
        dec.connect_all();
        let mut t = WideTable {
            formats: Vec::new(),
            nans: Vec::new(),
            mags: BTreeMap::new(),
        };
        let mut base = 0u64;
        for f in set {
            let n = Self::entries(f);
            assert!(base.is_multiple_of(n));
            t.formats.push((f, base, (1 << f.bits()) - 1));
            for addr in 0..n {
                let u = match f.ovp_normal() {
                    // Pair formats: normals at `code`, outliers at `16 | code` (see `new`).
                    Some(normal) if addr >> 4 == 0 => ovp::normal_unified(normal, addr as u8),
                    Some(_) if addr & 0xF == u64::from(ovp::MARKER) => Unified::ZERO,
                    Some(normal) => ovp::outlier_unified(normal, addr as u8 & 0xF),
                    None => {
                        dec.fmt.next = bits(f.id() as u64);
                        dec.code.next = bits(addr);
                        assert!(simulate(&mut dec, 100), "the decoder settles");
                        Unified {
                            zero: dec.zero.val(),
                            nar: dec.nar.val(),
                            inf: dec.inf.val(),
                            sign: dec.sign.val(),
                            exp: dec.exp.val().to_u64() as u8 as i8,
                            mant: dec.mant.val().to_u64() as u16,
                        }
                    }
                };
                let code = addr & ((1 << f.bits()) - 1);
                let (mant, exp) = (u.mant as u64, i32::from(u.exp));
                assert!(!u.inf, "{f:?}: a fixed-point set has no infinities");
                if u.nar {
                    t.nans.push((f, code));
                    t.mags.insert(base | addr, 0);
                    continue;
                }
                if !u.zero {
                    assert_eq!(u.sign, code >> (f.bits() - 1) & 1 == 1, "{f:?} {addr:#x}: sign");
                }
                // mant × 2^exp = mag × 2^lsb, exactly, within the lane.
                assert!(
                    exp >= lane.lsb || mant & ((1 << (lane.lsb - exp)) - 1) == 0,
                    "{f:?} {addr:#x}"
                );
                let mag = if exp >= lane.lsb {
                    mant << (exp - lane.lsb)
                } else {
                    mant >> (lane.lsb - exp)
                };
                assert!(mag >> lane.bits == 0, "{f:?} {addr:#x}: {mag} exceeds the lane");
                t.mags.insert(base | addr, mag);
            }
            base += n;
        }
        assert!(
            base <= 1 << TABLE_ADDR_BITS,
            "the wide lanes' table needs {base} entries"
        );
        t
    }

    /// Table entries of a format: one per code, or for a pair format ([`Format::is_paired`])
    /// 16 normals and 16 outliers (its partner is the marker).
    fn entries(f: Format) -> u64 {
        if f.is_paired() {
            32
        } else {
            1 << f.bits()
        }
    }
}

/// Layout of a fixed-point lane word (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedWord {
    /// Magnitude bits of lanes 0–1.
    pub wb: usize,
    /// Magnitude bits of lanes 2–3.
    pub nb: usize,
    /// Offset of the four sign bits.
    pub sign: usize,
    /// Offset of the four NaN bits.
    pub nan: usize,
    /// Width of the word.
    pub bits: usize,
}

impl FixedWord {
    /// The layout for `wb`-bit wide and `nb`-bit narrow magnitudes.
    pub const fn new(wb: usize, nb: usize) -> FixedWord {
        let sign = 2 * wb + 2 * nb;
        FixedWord {
            wb,
            nb,
            sign,
            nan: sign + 4,
            bits: sign + 8,
        }
    }

    /// Offset of lane `l`'s magnitude.
    pub const fn mag(&self, l: usize) -> usize {
        match l {
            0 => 0,
            1 => self.wb,
            2 => 2 * self.wb,
            _ => 2 * self.wb + self.nb,
        }
    }
}

/// Width of the shifter field: the widest unified mantissa moved by the widest exponent span.
const FIELD: usize = 48;

/// One lane's unified mantissa and exponent into `B`-bit fixed point (see the module docs).
///
/// The shift is `exp − base` for a base `base ≤ lo` (the lane's smallest exponent) that is a
/// multiple of `2^(m−1)`, with `m` bits enough for every shift of the lane's exponents: modulo
/// `2^m` that is `exp`'s low `m` bits with the top one inverted or not, so the shift amount
/// needs no subtracter and the shifter only `m` stages. (The shift amount behind an `exp − lo`
/// carry chain was the decoder's critical path, 10.1 ns.)
#[derive(LogicBlock)]
pub struct ToFixed<const B: usize> {
    /// Unified exponent (two's complement).
    pub exp: Signal<In, Bits<EXP_BITS>>,
    /// Unified mantissa.
    pub mant: Signal<In, Bits<MANT_BITS>>,
    /// `mant × 2^(exp − lsb)`.
    pub mag: Signal<Out, Bits<B>>,
    sh: Signal<Local, Bits<EXP_BITS>>,
    sh_mask: Constant<Bits<EXP_BITS>>,
    sh_flip: Constant<Bits<EXP_BITS>>,
    field: Signal<Local, Bits<FIELD>>,
    // Bits of the field under the lane's LSB and above its magnitude are zero for every value
    // of the lane's formats (checked by the test); Verilator exempts `unused*` names.
    unused_field: Signal<Local, Bits<FIELD>>,
    at: Constant<BitIndex>,
}

impl<const B: usize> ToFixed<B> {
    /// The converter for the lane `lane` of `formats` (the multiplier formats of its slot).
    pub fn new(formats: &[Format], lane: FixedLane) -> Self {
        assert_eq!(lane.bits as usize, B, "{lane:?}");
        // The unified exponents the lane's formats span (none: the lane is never used).
        let (lo, hi) = match crate::pe::lane_range(formats, 16) {
            Some((lo, hi, _)) => (lo, hi),
            None => (lane.lsb, lane.lsb),
        };
        // Unified exponents never lie above a format's value LSB… below it only by zero bits.
        assert!(lo <= lane.lsb, "{formats:?}: {lo} > {}", lane.lsb);
        let (base, m) = shift_base(lo, hi);
        assert!(MANT_BITS + (hi - base) as usize <= FIELD, "{formats:?}: field");
        assert!((lane.lsb - base) as usize + B <= FIELD, "{formats:?}: field");
        let flip = ((-base) as u64) & ((1 << m) - 1);
        Self {
            exp: Default::default(),
            mant: Default::default(),
            mag: Default::default(),
            sh: Default::default(),
            sh_mask: const_bits((1 << m) - 1),
            sh_flip: const_bits(flip),
            field: Default::default(),
            unused_field: Default::default(),
            at: const_index((lane.lsb - base) as usize),
        }
    }
}

impl<const B: usize> Logic for ToFixed<B> {
    #[hdl_gen]
    fn update(&mut self) {
        // exp − base modulo 2^m (see the type's docs).
        self.sh.next = (self.exp.val() & self.sh_mask.val()) ^ self.sh_flip.val();
        self.field.next = bit_cast::<FIELD, MANT_BITS>(self.mant.val()) << bit_cast::<FIELD, EXP_BITS>(self.sh.val());
        self.mag.next = self.field.val().get_bits::<B>(self.at.val().index());
        self.unused_field.next = self.field.val();
    }
}

/// The shift base and width of [`ToFixed`] for exponents `lo..=hi`: the fewest bits `m` and
/// the largest multiple `base ≤ lo` of `2^(m−1)` with every `exp − base` in `0..2^m`; then
/// `(exp − base) mod 2^m` is `exp mod 2^m` with bit `m − 1` inverted when `base` is an odd
/// multiple of `2^(m−1)`.
const fn shift_base(lo: i32, hi: i32) -> (i32, u32) {
    let mut m = 1;
    loop {
        let half = 1i32 << (m - 1);
        let base = lo.div_euclid(half) * half;
        if hi - base < 1 << m {
            assert!(m < EXP_BITS as u32, "shift wider than the exponent");
            return (base, m);
        }
        m += 1;
    }
}

/// Decodes one operand word's lanes to fixed point (see the module docs); `WB`, `NB` are the
/// wide and narrow magnitudes, `FW` the word ([`FixedWord`]).
#[derive(LogicBlock)]
pub struct FixedDecode<const WB: usize, const NB: usize, const FW: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Format id of the word's codes.
    pub fmt: Signal<In, Bits<FMT_BITS>>,
    /// Lane-packed codes.
    pub code: Signal<In, Bits<CODE_BITS>>,
    /// Four lanes (from [`super::LaneMode`]).
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// The fixed-point word.
    pub word: Signal<Out, Bits<FW>>,
    rom0: SyncROM<Bits<WB>, TABLE_ADDR_BITS>,
    rom1: SyncROM<Bits<WB>, TABLE_ADDR_BITS>,
    // Lane 1's code, masked codes and table bases of lanes 0–1.
    code1: Signal<Local, Bits<CODE_BITS>>,
    m0: Signal<Local, Bits<CODE_BITS>>,
    m1: Signal<Local, Bits<CODE_BITS>>,
    b0: Signal<Local, Bits<TABLE_ADDR_BITS>>,
    b1: Signal<Local, Bits<TABLE_ADDR_BITS>>,
    // Sign and NaN of lanes 0–1, registered beside the table's read.
    sg0: Signal<Local, Bit>,
    sg1: Signal<Local, Bit>,
    nn0: Signal<Local, Bit>,
    nn1: Signal<Local, Bit>,
    sn: Signal<Local, Bits<4>>,
    snq: DFF<Bits<4>>,
    d2: FormatDecode,
    d3: FormatDecode,
    // Pair formats (none in a set without them): whether the word is one, flint4 or int4,
    // lanes 0–1's outlier flags (their partner is the marker), and lanes 2–3's pair
    // decoders behind a register of their codes (beside the narrow decoders' stage).
    ovp: Signal<Local, Bit>,
    flint: Signal<Local, Bit>,
    o0: Signal<Local, Bit>,
    o1: Signal<Local, Bit>,
    pq: DFF<Bits<8>>,
    ovpq: DFF<Bit>,
    flintq: DFF<Bit>,
    mk2: Signal<Local, Bit>,
    mk3: Signal<Local, Bit>,
    p2: OvpLane,
    p3: OvpLane,
    c2: ToFixed<NB>,
    c3: ToFixed<NB>,
    sign: Signal<Local, Bits<4>>,
    nan: Signal<Local, Bits<4>>,
    // Zero and Inf flags: zeros have a zero mantissa and the set has no infinities.
    unused_flags: Signal<Local, Bit>,
    // Per format of the table: id, base, code mask, sign bit.
    t_id: Vec<Constant<Bits<FMT_BITS>>>,
    t_base: Vec<Constant<Bits<TABLE_ADDR_BITS>>>,
    t_mask: Vec<Constant<Bits<CODE_BITS>>>,
    t_msb: Vec<Constant<BitIndex>>,
    // Per NaN code: format id and code.
    n_id: Vec<Constant<Bits<FMT_BITS>>>,
    n_code: Vec<Constant<Bits<CODE_BITS>>>,
    // Per pair format: id; per flint4 pair format: id.
    o_id: Vec<Constant<Bits<FMT_BITS>>>,
    fl_id: Vec<Constant<Bits<FMT_BITS>>>,
    _nf: usize,
    _nn: usize,
    _no: usize,
    _nfl: usize,
    nib: Constant<Bits<CODE_BITS>>,
    marker: Constant<Bits<CODE_BITS>>,
    marker4: Constant<Bits<4>>,
    outlier_at: Constant<Bits<TABLE_ADDR_BITS>>,
    i0: Constant<BitIndex>,
    i4: Constant<BitIndex>,
    i8: Constant<BitIndex>,
    // The two-lane flag is not needed: lane 1's code sits at bit 4 in the four-lane mode and
    // at bit 8 otherwise (a one-lane pair is not `ok` in a fixed-point set).
    unused_l2: Signal<Local, Bit>,
    four: Constant<Bits<CODE_BITS>>,
    eight: Constant<Bits<CODE_BITS>>,
    twelve: Constant<Bits<CODE_BITS>>,
    s1: Constant<Bits<4>>,
    s2: Constant<Bits<4>>,
    s3: Constant<Bits<4>>,
    low2: Constant<Bits<4>>,
    at1: Constant<Bits<FW>>,
    at2: Constant<Bits<FW>>,
    at3: Constant<Bits<FW>>,
    at_sign: Constant<Bits<FW>>,
    at_nan: Constant<Bits<FW>>,
}

impl<const WB: usize, const NB: usize, const FW: usize> FixedDecode<WB, NB, FW> {
    /// The decoder of the fixed-point datapath `fx` of `formats`.
    pub fn new(formats: &[Format], fx: FixedPoint) -> Self {
        let word = FixedWord::new(WB, NB);
        assert_eq!(word.bits, FW);
        let table = WideTable::new(&formats_up_to(formats, 8), fx.wide);
        let narrow = formats_up_to(formats, 4);
        let plain: Vec<Format> = narrow.iter().copied().filter(|f| !f.is_paired()).collect();
        let paired: Vec<Format> = formats.iter().copied().filter(|f| f.is_paired()).collect();
        let flint: Vec<Format> = paired
            .iter()
            .copied()
            .filter(|f| f.ovp_normal() == Some(OvpNormal::Flint4))
            .collect();
        let at = |x: usize| const_bits::<FW>(x as u64);
        let rom = || SyncROM::new(table.mags.iter().map(|(&a, &m)| (bits(a), bits(m))).collect());
        let id = |f: Format| const_bits::<FMT_BITS>(f.id() as u64);
        Self {
            clock: Default::default(),
            fmt: Default::default(),
            code: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            word: Default::default(),
            rom0: rom(),
            rom1: rom(),
            code1: Default::default(),
            m0: Default::default(),
            m1: Default::default(),
            b0: Default::default(),
            b1: Default::default(),
            sg0: Default::default(),
            sg1: Default::default(),
            nn0: Default::default(),
            nn1: Default::default(),
            sn: Default::default(),
            snq: Default::default(),
            d2: FormatDecode::pipelined(&plain),
            d3: FormatDecode::pipelined(&plain),
            ovp: Default::default(),
            flint: Default::default(),
            o0: Default::default(),
            o1: Default::default(),
            pq: Default::default(),
            ovpq: Default::default(),
            flintq: Default::default(),
            mk2: Default::default(),
            mk3: Default::default(),
            p2: Default::default(),
            p3: Default::default(),
            c2: ToFixed::new(&narrow, fx.narrow),
            c3: ToFixed::new(&narrow, fx.narrow),
            sign: Default::default(),
            nan: Default::default(),
            unused_flags: Default::default(),
            t_id: table.formats.iter().map(|&(f, _, _)| id(f)).collect(),
            t_base: table.formats.iter().map(|&(_, b, _)| const_bits(b)).collect(),
            t_mask: table.formats.iter().map(|&(_, _, m)| const_bits(m)).collect(),
            t_msb: table
                .formats
                .iter()
                .map(|&(f, _, _)| const_index(f.bits() as usize - 1))
                .collect(),
            n_id: table.nans.iter().map(|&(f, _)| id(f)).collect(),
            n_code: table.nans.iter().map(|&(_, c)| const_bits(c)).collect(),
            o_id: paired.iter().map(|&f| id(f)).collect(),
            fl_id: flint.iter().map(|&f| id(f)).collect(),
            _nf: table.formats.len(),
            _nn: table.nans.len(),
            _no: paired.len(),
            _nfl: flint.len(),
            nib: const_bits(0xF),
            marker: const_bits(u64::from(ovp::MARKER)),
            marker4: const_bits(u64::from(ovp::MARKER)),
            outlier_at: const_bits(16),
            i0: const_index(0),
            i4: const_index(4),
            i8: const_index(8),
            unused_l2: Default::default(),
            four: const_bits(4),
            eight: const_bits(8),
            twelve: const_bits(12),
            s1: const_bits(1),
            s2: const_bits(2),
            s3: const_bits(3),
            low2: const_bits(3),
            at1: at(word.mag(1)),
            at2: at(word.mag(2)),
            at3: at(word.mag(3)),
            at_sign: at(word.sign),
            at_nan: at(word.nan),
        }
    }
}

impl<const WB: usize, const NB: usize, const FW: usize> Logic for FixedDecode<WB, NB, FW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.rom0.clock.next = self.clock.val();
        self.rom1.clock.next = self.clock.val();
        self.snq.clock.next = self.clock.val();
        self.d2.clock.next = self.clock.val();
        self.d3.clock.next = self.clock.val();
        self.pq.clock.next = self.clock.val();
        self.ovpq.clock.next = self.clock.val();
        self.flintq.clock.next = self.clock.val();
        // Lane codes: lane 1's code sits at bit 4 in the four-lane mode and at bit 8 otherwise
        // (a one-lane pair is not `ok` in a fixed-point set); decoders and masks ignore the
        // bits above a format's width.
        if self.lanes4.val() {
            self.code1.next = self.code.val() >> self.four.val();
        } else {
            self.code1.next = self.code.val() >> self.eight.val();
        }
        self.unused_l2.next = self.lanes2.val();

        // Pair formats: a lane is an outlier when its partner (lane 1 for lane 0 and back) is
        // the marker; the table's outlier half is at `16 | code` (see `WideTable`).
        self.ovp.next = false;
        self.flint.next = false;
        for i in 0..self._no {
            if self.fmt.val() == self.o_id[i].val() {
                self.ovp.next = true;
            }
        }
        for i in 0..self._nfl {
            if self.fmt.val() == self.fl_id[i].val() {
                self.flint.next = true;
            }
        }
        self.o0.next = self.ovp.val() & ((self.code1.val() & self.nib.val()) == self.marker.val());
        self.o1.next = self.ovp.val() & ((self.code.val() & self.nib.val()) == self.marker.val());

        // Lanes 0–1: the table at base(format) | code; sign = the code's top bit.
        self.m0.next = 0.into();
        self.m1.next = 0.into();
        self.b0.next = 0.into();
        self.b1.next = 0.into();
        self.sg0.next = false;
        self.sg1.next = false;
        self.nn0.next = false;
        self.nn1.next = false;
        for i in 0..self._nf {
            if self.fmt.val() == self.t_id[i].val() {
                self.m0.next = self.code.val() & self.t_mask[i].val();
                self.m1.next = self.code1.val() & self.t_mask[i].val();
                self.b0.next = self.t_base[i].val();
                self.b1.next = self.t_base[i].val();
                self.sg0.next = self.code.val().get_bit(self.t_msb[i].val().index());
                self.sg1.next = self.code1.val().get_bit(self.t_msb[i].val().index());
            }
        }
        for j in 0..self._nn {
            if self.fmt.val() == self.n_id[j].val() {
                if self.m0.val() == self.n_code[j].val() {
                    self.nn0.next = true;
                }
                if self.m1.val() == self.n_code[j].val() {
                    self.nn1.next = true;
                }
            }
        }
        self.sn.next = bit_cast::<4, 1>(self.sg0.val().into())
            | (bit_cast::<4, 1>(self.sg1.val().into()) << self.s1.val())
            | (bit_cast::<4, 1>(self.nn0.val().into()) << self.s2.val())
            | (bit_cast::<4, 1>(self.nn1.val().into()) << self.s3.val());
        self.rom0.address.next = self.b0.val() | bit_cast::<TABLE_ADDR_BITS, CODE_BITS>(self.m0.val());
        self.rom1.address.next = self.b1.val() | bit_cast::<TABLE_ADDR_BITS, CODE_BITS>(self.m1.val());
        if self.o0.val() {
            self.rom0.address.next =
                self.b0.val() | bit_cast::<TABLE_ADDR_BITS, CODE_BITS>(self.m0.val()) | self.outlier_at.val();
        }
        if self.o1.val() {
            self.rom1.address.next =
                self.b1.val() | bit_cast::<TABLE_ADDR_BITS, CODE_BITS>(self.m1.val()) | self.outlier_at.val();
        }
        self.snq.d.next = self.sn.val();

        // Lanes 2–3: the narrow decoders, then into fixed point (a clock after the code).
        self.d2.fmt.next = self.fmt.val();
        self.d3.fmt.next = self.fmt.val();
        self.d2.code.next = self.code.val() >> self.eight.val();
        self.d3.code.next = self.code.val() >> self.twelve.val();
        // Lanes 2–3 as pairs: their codes registered, then the pair decoders.
        self.pq.d.next = self.code.val().get_bits::<8>(self.i8.val().index());
        self.ovpq.d.next = self.ovp.val();
        self.flintq.d.next = self.flint.val();
        self.mk2.next = self.pq.q.val().get_bits::<4>(self.i0.val().index()) == self.marker4.val();
        self.mk3.next = self.pq.q.val().get_bits::<4>(self.i4.val().index()) == self.marker4.val();
        self.p2.code.next = self.pq.q.val().get_bits::<4>(self.i0.val().index());
        self.p3.code.next = self.pq.q.val().get_bits::<4>(self.i4.val().index());
        self.p2.flint.next = self.flintq.q.val();
        self.p3.flint.next = self.flintq.q.val();
        self.p2.victim.next = self.mk2.val();
        self.p3.victim.next = self.mk3.val();
        self.p2.outlier.next = self.mk3.val() & !self.mk2.val();
        self.p3.outlier.next = self.mk2.val() & !self.mk3.val();
        // snq holds lanes 0–1's signs in bits 0–1 and their NaN flags in bits 2–3.
        if self.ovpq.q.val() {
            self.c2.exp.next = self.p2.exp.val();
            self.c2.mant.next = self.p2.mant.val();
            self.c3.exp.next = self.p3.exp.val();
            self.c3.mant.next = self.p3.mant.val();
            self.sign.next = (self.snq.q.val() & self.low2.val())
                | (bit_cast::<4, 1>(self.p2.sign.val().into()) << self.s2.val())
                | (bit_cast::<4, 1>(self.p3.sign.val().into()) << self.s3.val());
            self.nan.next = self.snq.q.val() >> self.s2.val();
        } else {
            self.c2.exp.next = self.d2.exp.val();
            self.c2.mant.next = self.d2.mant.val();
            self.c3.exp.next = self.d3.exp.val();
            self.c3.mant.next = self.d3.mant.val();
            self.sign.next = (self.snq.q.val() & self.low2.val())
                | (bit_cast::<4, 1>(self.d2.sign.val().into()) << self.s2.val())
                | (bit_cast::<4, 1>(self.d3.sign.val().into()) << self.s3.val());
            self.nan.next = (self.snq.q.val() >> self.s2.val())
                | (bit_cast::<4, 1>(self.d2.nar.val().into()) << self.s2.val())
                | (bit_cast::<4, 1>(self.d3.nar.val().into()) << self.s3.val());
        }
        self.unused_flags.next = self.d2.zero.val()
            | self.d3.zero.val()
            | self.d2.inf.val()
            | self.d3.inf.val()
            | self.p2.zero.val()
            | self.p3.zero.val();
        self.word.next = bit_cast::<FW, WB>(self.rom0.data.val())
            | (bit_cast::<FW, WB>(self.rom1.data.val()) << self.at1.val())
            | (bit_cast::<FW, NB>(self.c2.mag.val()) << self.at2.val())
            | (bit_cast::<FW, NB>(self.c3.mag.val()) << self.at3.val())
            | (bit_cast::<FW, 4>(self.sign.val()) << self.at_sign.val())
            | (bit_cast::<FW, 4>(self.nan.val()) << self.at_nan.val());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_util::settle;
    use super::*;
    use crate::accel::testbench::cycle;
    use crate::spec::config::LE8_FORMATS;
    use crate::spec::lanes;

    use crate::pe::{DecodeFixed8 as Dec, DecodeFixedOvp, FIXED8_POINT as FX, FIXED_OVP, FIXED_OVP_POINT};
    use crate::spec::config::OLIVE_FORMATS;

    /// The shift base: `exp − base` is `m` bits for every exponent, and the XOR form is it.
    #[test]
    fn shift_bases_need_no_subtracter() {
        for lo in -40..10 {
            for hi in lo..lo + 30 {
                let (base, m) = shift_base(lo, hi);
                assert!(base <= lo && base % (1 << (m - 1)) == 0, "{lo}..={hi}");
                let flip = (-base) as u64 & ((1 << m) - 1);
                assert!(flip == 0 || flip == 1 << (m - 1));
                for e in lo..=hi {
                    let sh = (e - base) as u64;
                    assert!(sh < 1 << m, "{lo}..={hi}: {e}");
                    assert_eq!(((e as u64) & ((1 << m) - 1)) ^ flip, sh, "{lo}..={hi}: {e}");
                }
            }
        }
        // The 8-bit set's wide lane: exponents −11..=5, five bits from −16.
        let (lo, hi, _) = crate::pe::lane_range(&LE8_FORMATS, 16).unwrap();
        assert_eq!(shift_base(lo, hi), (-16, 5), "{lo}..={hi}");
    }

    /// One lane of a decoded word: (magnitude, sign, NaN).
    pub(crate) fn lane_of(got: &[bool], word: FixedWord, l: usize) -> (u64, bool, bool) {
        let wb = if l < 2 { word.wb } else { word.nb };
        let mag = (0..wb).map(|i| (got[word.mag(l) + i] as u64) << i).sum();
        (mag, got[word.sign + l], got[word.nan + l])
    }

    /// Feeds `word` (one clock), then other inputs, and returns the decoded word's bits.
    fn decode<const WB: usize, const NB: usize, const FW: usize>(
        d: &mut FixedDecode<WB, NB, FW>,
        f: Format,
        word: u32,
        n: u32,
    ) -> Vec<bool> {
        d.fmt.next = bits(f.id() as u64);
        d.code.next = bits(word as u64);
        d.lanes4.next = n == 4;
        d.lanes2.next = n == 2;
        cycle(d);
        d.code.next = bits(!word as u64 & 0xFFFF);
        settle(d);
        (0..FW).map(|i| d.word.val().get_bit(i)).collect()
    }

    /// `mag × 2^lane.lsb` with `sign` is the unified value `want` (exactly), NaN as flagged.
    pub(crate) fn assert_value(want: Unified, (mag, sign, nan): (u64, bool, bool), lane: FixedLane, what: &str) {
        assert_eq!(nan, want.nar, "{what}");
        assert!(!want.inf, "{what}: the set has no infinities");
        if want.nar {
            return;
        }
        // mant × 2^exp = mag × 2^lsb, exactly.
        let (m, e) = (want.mant as i128, want.exp as i32);
        let lhs = if e >= lane.lsb { m << (e - lane.lsb) } else { m };
        let rhs = if e >= lane.lsb {
            mag as i128
        } else {
            (mag as i128) << (lane.lsb - e)
        };
        assert_eq!(lhs, rhs, "{what}: {want:?} vs magnitude {mag}");
        if !want.zero {
            assert_eq!(sign, want.sign, "{what}");
        }
    }

    /// Every code of every element format of `set`, in every lane of every lane mode it rides
    /// in: the lane's magnitude × 2^lsb and sign are the value the format's own decoder gives
    /// the code, NaN codes set the lane's NaN bit, one clock after the code.
    fn every_code_in_every_lane<const WB: usize, const NB: usize, const FW: usize>(
        d: &mut FixedDecode<WB, NB, FW>,
        set: &[Format],
        fx: FixedPoint,
    ) {
        let word = FixedWord::new(WB, NB);
        let mut reference = FormatDecode::new();
        reference.connect_all();
        for &f in set.iter().filter(|f| !f.is_paired()) {
            for n in [2u32, 4].into_iter().filter(|&n| n <= lanes(f, f)) {
                let slot = 16 / n;
                for code in 0..1u32 << f.bits() {
                    reference.fmt.next = bits(f.id() as u64);
                    reference.code.next = bits(code as u64);
                    settle(&mut reference);
                    let want = crate::decode::unified_outputs!(reference);
                    for l in 0..n as usize {
                        // The code in lane l, the other lanes' slots filled with a pattern.
                        let w = (0x5A5Au32 & !(((1 << slot) - 1) << (l as u32 * slot))) | code << (l as u32 * slot);
                        let got = decode(d, f, w, n);
                        let lane = if l < 2 { fx.wide } else { fx.narrow };
                        let what = format!("{f:?} code {code:#x} lane {l} of {n}");
                        assert_value(want, lane_of(&got, word, l), lane, &what);
                    }
                }
            }
        }
    }

    #[test]
    fn every_code_in_every_lane_is_its_value_in_fixed_point() {
        let mut d = Dec::new(&LE8_FORMATS, FX);
        d.connect_all();
        every_code_in_every_lane(&mut d, &LE8_FORMATS, FX);
        let mut d = DecodeFixedOvp::new(&OLIVE_FORMATS, FIXED_OVP_POINT);
        d.connect_all();
        every_code_in_every_lane(&mut d, &OLIVE_FORMATS, FIXED_OVP_POINT);
    }

    /// Every pair byte of both pair formats, as lanes (0, 1) and (2, 3) of the four-lane mode
    /// and as lanes (0, 1) of the two-lane mode (each code in its 8-bit slot's low half, beside
    /// INT8 / FP8): both values are the spec's pair decode, one clock after the code.
    #[test]
    fn every_pair_byte_in_every_lane_pair_is_its_value_in_fixed_point() {
        let mut d = DecodeFixedOvp::new(&OLIVE_FORMATS, FIXED_OVP_POINT);
        d.connect_all();
        let word = FIXED_OVP.word;
        let mut checked = 0;
        for f in Format::PAIRED {
            let normal = f.ovp_normal().unwrap();
            for byte in 0..=0xFFu32 {
                let want = ovp::decode_pair(normal, byte as u8);
                let (lo, hi) = (byte & 0xF, byte >> 4);
                // (mode, lanes, word): the other pair / the slots' high halves hold a pattern.
                for (n, ls, w) in [
                    (4, [0, 1], 0x9C00 | byte),
                    (4, [2, 3], 0x00C9 | byte << 8),
                    (2, [0, 1], 0x5050 | lo | hi << 8),
                ] {
                    let got = decode(&mut d, f, w, n);
                    for (k, &l) in ls.iter().enumerate() {
                        let lane = if l < 2 {
                            FIXED_OVP_POINT.wide
                        } else {
                            FIXED_OVP_POINT.narrow
                        };
                        let what = format!("{f:?} pair {byte:#04x} lane {l} of {n}");
                        assert_value(want[k], lane_of(&got, word, l), lane, &what);
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * 256 * 3);
    }
}
