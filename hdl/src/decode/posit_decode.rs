//! Posit decoder: sign, regime run, `es` exponent bits, fraction.

use super::{assert_exp_fits, const_bit, const_bits, const_index, exp_const, BitIndex, EXP_BITS, MANT_BITS};
use crate::spec::{Encoding, FormatSpec};
use rust_hdl::prelude::*;

/// Decodes a posit(`N`, es) (an [`Encoding::Posit`] row).
///
/// Widths derived from `N` are parameters of their own because rust-hdl needs them in types
/// and Rust cannot compute them from `N` there: `NB = N − 1` (body after the sign), `NR = N − 2`
/// (body after the first regime bit), `NT = N − 3` (exponent and fraction bits at most), and
/// `EW = max(es, 1)` (exponent window; 1 when es = 0, then masked off). The constructor checks
/// them. [`format_decode`](super::format_decode) builds them from the table.
///
/// Datapath: a negative posit's magnitude is the two's complement of its body, but the regime
/// is read without waiting for that negation. The run is counted on the body XOR-ed with the
/// sign (its one's complement, `a`): a leading-zero count of `a` after its first bit, XOR-ed
/// with that bit, where the sign cancels (the count sees `body ^ body[top]`). The `+ 1` that
/// turns `a` into the magnitude changes the regime only when its carry runs through every bit
/// below the terminator, that is when the body's bits below it are all zero (`corr`); then it
/// raises `k` by exactly one and leaves the bits after the new terminator zero. The fraction
/// bits need the negation itself, of the low `N − 3` bits only, in parallel with the count.
/// Shifting those bits left by the run length drops the regime and its terminator, leaving
/// exponent bits (missing ones read as 0) and the fraction left-aligned to `max_frac_bits`
/// bits. Since −x keeps x's trailing zeros, `corr` is read before the shift, beside the
/// count: negative, and no set body bit lies below the terminator, i.e. every set bit of the
/// low `N − 3` has no set bit of `rest_zeros` above it.
/// `k = run − 1` for a run of ones and `−run` for a run of zeros (plus `corr`);
/// `scale = k·2^es + e`.
///
/// The exponent needs no adder: `max_frac_bits` is a multiple of `2^es` (the constructor checks
/// it), so `exp = ((k + corr − max_frac_bits / 2^es) << es) | e`, and both `k − …` and
/// `k + 1 − …` are constants of the run (`lz`, its bit): two table lookups the correction picks
/// between. With two adders there (`k << es`, `+ e`, `− max_frac_bits`), posit8's exponent was
/// npe4x4's last failing endpoint (`aedge0 ← posit8.b_lz`, −0.24 ns).
///
/// Pipelined ([`PositDecode::pipelined`]), a register splits the path after the regime count
/// (count, correction and the low bits' negation before it, shift and exponent tables after):
/// posit16 is the slowest decode. With the correction after the register (`!tail.any()` behind
/// the shift), that back half was npe4x4's last failing endpoint (`wedge0 ← posit16.r_lz`,
/// −0.11 ns) while the front half had 2 ns to spare. Otherwise ([`PositDecode::new`]) the register is bypassed
/// and the block is combinational.
#[derive(LogicBlock)]
pub struct PositDecode<const N: usize, const NB: usize, const NR: usize, const NT: usize, const EW: usize> {
    /// Clock (used when pipelined).
    pub clock: Signal<In, Clock>,
    /// The code.
    pub code: Signal<In, Bits<N>>,
    /// The code is 0…0.
    pub zero: Signal<Out, Bit>,
    /// NaR (10…0).
    pub nar: Signal<Out, Bit>,
    /// Always 0 (posits have no Inf).
    pub inf: Signal<Out, Bit>,
    /// Sign of a nonzero real.
    pub sign: Signal<Out, Bit>,
    /// `scale − max_frac_bits`.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// `1.f`, fraction left-aligned to `max_frac_bits` bits.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    sign_pos: Constant<BitIndex>,
    regime_pos: Constant<BitIndex>,
    exp_pos: Constant<BitIndex>,
    low_pos: Constant<BitIndex>,
    // Leading-zero count when the highest set bit of the regime rest is bit i: NR − 1 − i.
    lz_at: Vec<Constant<Bits<EXP_BITS>>>,
    // Leading-zero count of an all-zero rest: the run fills the body.
    lz_all: Constant<Bits<EXP_BITS>>,
    // Bits of `rest` above bit i, for i in 0..NT.
    above: Vec<Constant<Bits<NR>>>,
    es_shift: Constant<Bits<EXP_BITS>>,
    es_mask: Constant<Bits<EXP_BITS>>,
    // For each run count `v` (0..=NR): `v` itself, and `k − max_frac_bits / 2^es` and
    // `k + 1 − …` for a run of ones (`k = v`) and of zeros (`k = −v − 1`).
    lz_v: Vec<Constant<Bits<EXP_BITS>>>,
    kq_ones: Vec<Constant<Bits<EXP_BITS>>>,
    kq1_ones: Vec<Constant<Bits<EXP_BITS>>>,
    kq_zeros: Vec<Constant<Bits<EXP_BITS>>>,
    kq1_zeros: Vec<Constant<Bits<EXP_BITS>>>,
    hidden: Constant<Bits<MANT_BITS>>,
    frac_mask: Constant<Bits<MANT_BITS>>,
    exp_zero: Constant<Bits<EXP_BITS>>,
    mant_zero: Constant<Bits<MANT_BITS>>,
    no: Constant<Bit>,
    one_t: Constant<Bits<NT>>,
    body: Signal<Local, Bits<NB>>,
    body_low: Signal<Local, Bits<NT>>,
    neg_low: Signal<Local, Bits<NT>>,
    code_sign: Signal<Local, Bit>,
    special: Signal<Local, Bit>,
    run_bit: Signal<Local, Bit>,
    rest: Signal<Local, Bits<NR>>,
    // `rest` with the run turned into zeros, so the run length is a leading-zero count.
    rest_zeros: Signal<Local, Bits<NR>>,
    low: Signal<Local, Bits<NT>>,
    lz: Signal<Local, Bits<EXP_BITS>>,
    // The negation's carry reaches the regime (see the type).
    corr: Signal<Local, Bit>,
    // `k − max_frac_bits / 2^es`, without and with the correction.
    kq: Signal<Local, Bits<EXP_BITS>>,
    kq1: Signal<Local, Bits<EXP_BITS>>,
    kq_c: Signal<Local, Bits<EXP_BITS>>,
    tail: Signal<Local, Bits<NT>>,
    tail_wide: Signal<Local, Bits<MANT_BITS>>,
    e_field: Signal<Local, Bits<EW>>,
    e_wide: Signal<Local, Bits<EXP_BITS>>,
    // The regime count's results, registered when pipelined (`piped`), and as the back half
    // sees them.
    piped: Constant<Bit>,
    r_low: DFF<Bits<NT>>,
    r_lz: DFF<Bits<EXP_BITS>>,
    r_run: DFF<Bit>,
    r_special: DFF<Bit>,
    r_sign: DFF<Bit>,
    r_corr: DFF<Bit>,
    b_low: Signal<Local, Bits<NT>>,
    b_lz: Signal<Local, Bits<EXP_BITS>>,
    b_run: Signal<Local, Bit>,
    b_special: Signal<Local, Bit>,
    b_sign: Signal<Local, Bit>,
    b_corr: Signal<Local, Bit>,
}

impl<const N: usize, const NB: usize, const NR: usize, const NT: usize, const EW: usize>
    PositDecode<N, NB, NR, NT, EW>
{
    /// The combinational decoder for `spec`, which must be a posit row `N` bits wide with the
    /// derived widths described on the type.
    pub fn new(spec: &FormatSpec) -> Self {
        Self::build(spec, false)
    }

    /// The decoder for `spec` with one register stage: outputs follow the code one clock later.
    pub fn pipelined(spec: &FormatSpec) -> Self {
        Self::build(spec, true)
    }

    fn build(spec: &FormatSpec, piped: bool) -> Self {
        let Encoding::Posit { es } = spec.encoding else {
            panic!("{} is not a posit", spec.name);
        };
        let es = es as usize;
        let frac = spec.encoding.max_frac_bits(spec.bits) as usize;
        assert_eq!(spec.bits as usize, N, "{}: width", spec.name);
        assert!(N >= 4, "{}: posits narrower than 4 bits are not supported", spec.name);
        assert_eq!((NB, NR, NT), (N - 1, N - 2, N - 3), "{}: derived widths", spec.name);
        assert_eq!(EW, es.max(1), "{}: exponent window", spec.name);
        assert_eq!(es + frac, NT, "{}: exponent and fraction fill the tail", spec.name);
        assert!(frac < MANT_BITS && EW <= EXP_BITS, "{}: fields too wide", spec.name);
        // k ranges over −(N−2) (minpos: a run of N−2 zeros) ..= N−2 (maxpos: N−1 ones).
        let (k_min, k_max) = (-(NR as i32), NR as i32);
        assert_exp_fits((k_min << es) - frac as i32, "smallest exponent");
        assert_exp_fits((k_max << es) + (1 << es) - 1 - frac as i32, "largest exponent");
        assert_eq!(
            frac % (1 << es),
            0,
            "{}: max_frac_bits is a multiple of 2^es",
            spec.name
        );
        let fq = (frac >> es) as i32;
        let table = |k: &dyn Fn(i32) -> i32| (0..=NR as i32).map(|v| exp_const(k(v))).collect();
        Self {
            clock: Default::default(),
            code: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            sign_pos: const_index(N - 1),
            regime_pos: const_index(NB - 1),
            exp_pos: const_index(NT - EW),
            low_pos: const_index(0),
            lz_at: (0..NR).map(|i| const_bits((NR - 1 - i) as u64)).collect(),
            lz_all: const_bits(NR as u64),
            above: (0..NT)
                .map(|i| const_bits(((1u64 << NR) - 1) & !((2u64 << i) - 1)))
                .collect(),
            es_shift: const_bits(es as u64),
            es_mask: const_bits((1 << es) - 1),
            lz_v: (0..=NR).map(|v| const_bits(v as u64)).collect(),
            kq_ones: table(&|v| v - fq),
            kq1_ones: table(&|v| v + 1 - fq),
            kq_zeros: table(&|v| -v - 1 - fq),
            kq1_zeros: table(&|v| -v - fq),
            hidden: const_bits(1 << frac),
            frac_mask: const_bits((1 << frac) - 1),
            exp_zero: exp_const(0),
            mant_zero: const_bits(0),
            no: Constant::new(false),
            one_t: const_bits(1),
            body: Default::default(),
            body_low: Default::default(),
            neg_low: Default::default(),
            code_sign: Default::default(),
            special: Default::default(),
            run_bit: Default::default(),
            rest: Default::default(),
            rest_zeros: Default::default(),
            low: Default::default(),
            lz: Default::default(),
            corr: Default::default(),
            kq: Default::default(),
            kq1: Default::default(),
            kq_c: Default::default(),
            tail: Default::default(),
            tail_wide: Default::default(),
            e_field: Default::default(),
            e_wide: Default::default(),
            piped: const_bit(piped),
            r_low: Default::default(),
            r_lz: Default::default(),
            r_run: Default::default(),
            r_special: Default::default(),
            r_sign: Default::default(),
            r_corr: Default::default(),
            b_low: Default::default(),
            b_lz: Default::default(),
            b_run: Default::default(),
            b_special: Default::default(),
            b_sign: Default::default(),
            b_corr: Default::default(),
        }
    }
}

impl<const N: usize, const NB: usize, const NR: usize, const NT: usize, const EW: usize> Logic
    for PositDecode<N, NB, NR, NT, EW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r_low, r_lz, r_run, r_special, r_sign, r_corr);
        self.body.next = self.code.val().get_bits::<NB>(self.low_pos.val().index());
        self.code_sign.next = self.code.val().get_bit(self.sign_pos.val().index());
        self.special.next = !self.body.val().any();
        // The run bit of the one's complement `a = body ^ sign`; its count needs no sign.
        self.run_bit.next = self.body.val().get_bit(self.regime_pos.val().index()) ^ self.code_sign.val();
        self.rest.next = self.body.val().get_bits::<NR>(self.low_pos.val().index());
        if self.body.val().get_bit(self.regime_pos.val().index()) {
            self.rest_zeros.next = !self.rest.val();
        } else {
            self.rest_zeros.next = self.rest.val();
        }
        // Leading-zero count: ascending scan, the highest set bit is the last hit.
        self.lz.next = self.lz_all.val();
        for i in 0..NR {
            if self.rest_zeros.val().get_bit(i) {
                self.lz.next = self.lz_at[i].val();
            }
        }
        // The magnitude's low bits: −x on them alone (the carry out does not reach them).
        self.body_low.next = self.body.val().get_bits::<NT>(self.low_pos.val().index());
        self.neg_low.next = !self.body_low.val() + self.one_t.val();
        if self.code_sign.val() {
            self.low.next = self.neg_low.val();
        } else {
            self.low.next = self.body_low.val();
        }
        // The negation's carry reaches the regime (k + 1, e = 0): negative, and each set bit of
        // the low bits lies at or above the terminator (no run-ending bit above it).
        self.corr.next = self.code_sign.val();
        for i in 0..NT {
            if self.body_low.val().get_bit(i) & (self.rest_zeros.val() & self.above[i].val()).any() {
                self.corr.next = self.no.val();
            }
        }
        // ---- the register (bypassed unless pipelined).
        self.r_low.d.next = self.low.val();
        self.r_lz.d.next = self.lz.val();
        self.r_run.d.next = self.run_bit.val();
        self.r_special.d.next = self.special.val();
        self.r_sign.d.next = self.code_sign.val();
        self.r_corr.d.next = self.corr.val();
        if self.piped.val() {
            self.b_low.next = self.r_low.q.val();
            self.b_lz.next = self.r_lz.q.val();
            self.b_run.next = self.r_run.q.val();
            self.b_special.next = self.r_special.q.val();
            self.b_sign.next = self.r_sign.q.val();
            self.b_corr.next = self.r_corr.q.val();
        } else {
            self.b_low.next = self.low.val();
            self.b_lz.next = self.lz.val();
            self.b_run.next = self.run_bit.val();
            self.b_special.next = self.special.val();
            self.b_sign.next = self.code_sign.val();
            self.b_corr.next = self.corr.val();
        }
        // Run of ones of length lz + 1: k = lz; run of zeros: k = −(lz + 1) = ~lz.
        self.kq.next = self.exp_zero.val();
        self.kq1.next = self.exp_zero.val();
        // NB = NR + 1: every run count 0..=NR.
        for v in 0..NB {
            if self.b_lz.val() == self.lz_v[v].val() {
                if self.b_run.val() {
                    self.kq.next = self.kq_ones[v].val();
                    self.kq1.next = self.kq1_ones[v].val();
                } else {
                    self.kq.next = self.kq_zeros[v].val();
                    self.kq1.next = self.kq1_zeros[v].val();
                }
            }
        }
        // Bits below the regime's terminator; the lower NT bits of `rest << lz` equal
        // `low << lz`.
        self.tail.next = self.b_low.val() << self.b_lz.val();
        self.tail_wide.next = bit_cast::<MANT_BITS, NT>(self.tail.val());
        self.e_field.next = self.tail.val().get_bits::<EW>(self.exp_pos.val().index());
        if self.b_corr.val() {
            self.kq_c.next = self.kq1.val();
        } else {
            self.kq_c.next = self.kq.val();
        }
        self.e_wide.next = bit_cast::<EXP_BITS, EW>(self.e_field.val()) & self.es_mask.val();
        self.zero.next = self.b_special.val() & !self.b_sign.val();
        self.nar.next = self.b_special.val() & self.b_sign.val();
        self.inf.next = self.no.val();
        if self.b_special.val() {
            self.sign.next = self.no.val();
            self.exp.next = self.exp_zero.val();
            self.mant.next = self.mant_zero.val();
        } else {
            self.sign.next = self.b_sign.val();
            // (kq << es) has es zero low bits, so adding e is concatenating it.
            self.exp.next = (self.kq_c.val() << self.es_shift.val()) | self.e_wide.val();
            self.mant.next = self.hidden.val() | (self.tail_wide.val() & self.frac_mask.val());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::format_decode::{Posit16Decode, Posit4Decode, Posit8Decode};
    use super::super::test_util::{nar, settle, val, value, zero};
    use super::*;
    use crate::spec::{Format, Unified};

    fn p4(code: u64) -> Unified {
        let mut b = Posit4Decode::new(Format::Posit4Es1.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    fn p8(code: u64) -> Unified {
        let mut b = Posit8Decode::new(Format::Posit8Es0.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    fn p16(code: u64) -> Unified {
        let mut b = Posit16Decode::new(Format::Posit16Es1.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    #[test]
    fn posit4_es1_all_codes() {
        // By hand: 0001 = 2^-4, 0010 = 2^-2, 0011 = 2^-1, 0100 = 1, 0101 = 2, 0110 = 4,
        // 0111 = 16; negatives mirror them.
        let pos = [(0x1, -4), (0x2, -2), (0x3, -1), (0x4, 0), (0x5, 1), (0x6, 2), (0x7, 4)];
        assert_eq!(p4(0x0), zero());
        assert_eq!(p4(0x8), nar());
        for (code, e) in pos {
            assert_eq!(p4(code), val(false, e, 1), "{code:#x}");
            assert_eq!(p4((16 - code) & 0xF), val(true, e, 1), "-{code:#x}");
        }
    }

    #[test]
    fn posit8_es0() {
        assert_eq!(p8(0x00), zero());
        assert_eq!(p8(0x80), nar());
        assert_eq!(p8(0x40), val(false, -5, 32)); // 1
        assert_eq!(p8(0xC0), val(true, -5, 32)); // −1
        assert_eq!(p8(0x7F), val(false, 1, 32)); // maxpos 64
        assert_eq!(p8(0x01), val(false, -11, 32)); // minpos 2^-6
        assert_eq!(p8(0x81), val(true, 1, 32)); // −maxpos
        assert_eq!(p8(0x50), val(false, -5, 48)); // 1.5
        assert_eq!(p8(0x20), val(false, -6, 32)); // 0.5
        assert_eq!(p8(0x3F), val(false, -6, 63)); // 0.984375
    }

    #[test]
    fn posit16_es1() {
        assert_eq!(p16(0x0000), zero());
        assert_eq!(p16(0x8000), nar());
        assert_eq!(p16(0x7FFF), val(false, 16, 1 << 12)); // maxpos 2^28
        assert_eq!(p16(0x0001), val(false, -40, 1 << 12)); // minpos 2^-28
        assert_eq!(p16(0x4000), val(false, -12, 1 << 12)); // 1
        assert_eq!(p16(0x4001), val(false, -12, (1 << 12) | 1)); // 1 + 2^-12
        assert_eq!(p16(0x5000), val(false, -11, 1 << 12)); // 2
        assert_eq!(p16(0x3000), val(false, -13, 1 << 12)); // 0.5
        assert_eq!(p16(0xC000), val(true, -12, 1 << 12)); // −1
        assert_eq!(p16(0x7FFE), val(false, 14, 1 << 12)); // 2^26: exponent bit cut off
        assert_eq!(p16(0x0002), val(false, -38, 1 << 12)); // 2^-26
    }

    /// A posit's value read the textbook way (negate the whole code, walk the regime bit by
    /// bit, then the exponent and fraction bits): independent of the decoder's shortcuts.
    fn reference(n: u32, es: u32, code: u64) -> Option<f64> {
        let mask = (1u64 << n) - 1;
        if code == 0 {
            return Some(0.0);
        }
        if code == 1 << (n - 1) {
            return None;
        }
        let neg = code >> (n - 1) == 1;
        let x = if neg { code.wrapping_neg() & mask } else { code };
        let bit = |i: i32| i >= 0 && (x >> i) & 1 == 1;
        let first = bit(n as i32 - 2);
        let mut i = n as i32 - 2;
        let mut run = 0;
        while i >= 0 && bit(i) == first {
            run += 1;
            i -= 1;
        }
        i -= 1; // the terminator
        let k = if first { run - 1 } else { -run };
        let mut e = 0;
        for _ in 0..es {
            e = e << 1 | bit(i) as i32;
            i -= 1;
        }
        let frac_bits = (i + 1).max(0);
        let frac = if frac_bits > 0 { x & ((1 << frac_bits) - 1) } else { 0 };
        let m = 1.0 + frac as f64 / 2f64.powi(frac_bits);
        let v = m * 2f64.powi(k * (1 << es) + e);
        Some(if neg { -v } else { v })
    }

    #[test]
    fn every_code_matches_the_reference_decode() {
        let nar_or_value = |u: Unified| {
            if u.nar {
                None
            } else if u.zero {
                Some(0.0)
            } else {
                value(&u)
            }
        };
        for code in 0..1 << 4 {
            assert_eq!(nar_or_value(p4(code)), reference(4, 1, code), "posit4 {code:#x}");
        }
        for code in 0..1 << 8 {
            assert_eq!(nar_or_value(p8(code)), reference(8, 0, code), "posit8 {code:#x}");
        }
        for code in 0..1 << 16 {
            assert_eq!(nar_or_value(p16(code)), reference(16, 1, code), "posit16 {code:#x}");
        }
    }

    #[test]
    fn codes_are_ordered_like_values() {
        // Posits order like two's complement integers: an independent check of every code.
        for (f, decode) in [(Format::Posit8Es0, p8 as fn(u64) -> Unified), (Format::Posit16Es1, p16)] {
            let bits_ = f.bits();
            let frac = f.spec().encoding.max_frac_bits(bits_);
            let half = 1i64 << (bits_ - 1);
            let mut last = f64::NEG_INFINITY;
            for signed in -half + 1..half {
                let code = (signed as u64) & ((1 << bits_) - 1);
                let u = decode(code);
                let v = if u.zero { 0.0 } else { value(&u).unwrap() };
                assert!(v > last, "code {code:#x}: {v} after {last}");
                last = v;
                // Canonical: the hidden bit sits at max_frac_bits.
                if !u.zero {
                    assert_eq!(u.mant >> frac, 1, "code {code:#x}");
                }
            }
        }
    }
}
