//! The output unit (one per array column, or per group of columns that share it): rounds an exact accumulator once to an output
//! format, after a power-of-two scale.
//!
//! Nine pipeline stages, one accumulator per cycle:
//! 0. the inputs, registered beside the unit (the accumulator arrives from across the chip);
//! 1. sign and magnitude of the two's complement accumulator; the scale of the accumulator's
//!    top bit, biased by [`SCALE_BIAS`], with the input scale added;
//! 2. leading-zero count, first level: per 8-bit group a flag and a count, and per group of four
//!    groups the flag and count of its top nonzero group;
//! 3. second level: the top nonzero group of four, picked one-hot; the biased scale of the
//!    magnitude's leading one;
//! 4. normalization: the leading one moves to the top, and only the top [`FRAME`] bits are kept,
//!    with a sticky OR of the rest (no output format keeps more: INT32 needs 33 bits and a guard
//!    bit), taken from a mask of the magnitude beside the shift, in eight partial ORs. In
//!    parallel, from the scale, each format's right shift: FP subnormals are denormalized,
//!    INT32 puts 2^0 at a fixed bit, posits get their regime run in front of exponent and
//!    fraction. Every decision is a comparison of the scale with a constant, side by side, and
//!    shift amounts are six bits. Each shift includes the place of the format's guard bit in
//!    the frame (a constant), so one shift in stage 5 lines the guard bit up at bit 0;
//! 5. that right shift within the frame: the kept bits above bit 0, the guard bit at it, the
//!    bits shifted out (a mask from the shift amount, beside the shift) joining stage 4's parts
//!    in the sticky OR; the posit's regime prefix ORed in; the round-to-nearest-even increment;
//! 6. the rounded magnitude (floats: with the biased exponent added above the significand);
//! 7. the candidate codes (the magnitude, the two's complements of INT32 and posit16) and the
//!    comparisons that choose among them;
//! 8. the code: the format's overflow rule and special values.
//!
//! Stages 0, 2–3, 6–8 and the side-by-side comparisons of stage 4 are how the unit reaches
//! 100 MHz on the ECP5: with five stages, a stage held a 16-bit carry chain after a 130-bit
//! leading-zero count, or three carry chains in series (62.6 MHz).
//!
//! The unit is generic over the accumulator it rounds ([`GenericOutputUnit`], sized by an
//! [`Accumulator`]'s width and LSB through [`OuGeometry`]; [`ou_type!`](crate::ou_type) names
//! the type). [`OutputUnit`] is the one for the shared PE's accumulator ([`crate::pe::ACC`]).
//!
//! The rules are the golden model's ([`crate::spec::OutputFormat`]): FP32/BF16/FP16 overflow
//! to ±Inf, NaN is the positive quiet NaN, a negative value that rounds to zero is −0; INT32
//! saturates and maps NaN to 0; posit16 saturates to maxpos/minpos, never rounds to 0, and
//! NaN or Inf give NaR.
//!
//! Why a frame: the unit used to shift the whole normalized accumulator into a field twice its
//! width (260 bits), which made it the largest and slowest block of the array (4.4 k LUT4,
//! 43 MHz). Rounding only ever looks at the top bits and whether anything below them is set.

use crate::copy_dff::CopyDff;
use crate::decode::{const_bits, const_index, BitIndex};
use crate::many;
use crate::spec::{Accumulator, OutputFormat};
use rust_hdl::prelude::*;

/// Clock edges from `valid` to `out_valid`.
pub const OUTPUT_LATENCY: usize = 9;

/// Parts of stage 4's sticky OR (see `st4`).
const STICKY_PARTS: usize = 8;

use super::geometry::*;

// The constructor: every constant of the stages below, from the accumulator's geometry.
mod construct;

/// The output unit of the shared PE's accumulator ([`crate::pe::ACC`]).
pub type OutputUnit = crate::ou_type!(crate::pe::ACC);

impl Default for OutputUnit {
    fn default() -> Self {
        Self::for_acc(crate::pe::ACC)
    }
}

/// The output unit for an accumulator of `ACC_W` bits, with the widths of its [`OuGeometry`]:
/// the normalized magnitude `NORM_W`, the leading-zero count's padded input `LZ_PAD` and its
/// super-groups `LZ_SUPER`. Name a concrete type with [`ou_type!`](crate::ou_type).
#[derive(LogicBlock)]
pub struct GenericOutputUnit<const ACC_W: usize, const NORM_W: usize, const LZ_PAD: usize, const LZ_SUPER: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (clears the valid pipeline).
    pub reset: Signal<In, Bit>,
    /// An accumulator is presented.
    pub valid: Signal<In, Bit>,
    /// The accumulator, two's complement, bit 0 weighing 2^lsb of the accumulator the unit
    /// was built for.
    pub acc: Signal<In, Bits<ACC_W>>,
    /// Sticky NaN of the PE.
    pub nan: Signal<In, Bit>,
    /// Sticky +Inf.
    pub pinf: Signal<In, Bit>,
    /// Sticky −Inf.
    pub ninf: Signal<In, Bit>,
    /// Output format id.
    pub out_fmt: Signal<In, Bits<3>>,
    /// Power-of-two scale, two's complement ([`SCALE_BITS`]: the job's scale plus a column's).
    pub scale_exp: Signal<In, Bits<SCALE_BITS>>,
    /// `result` holds a rounded value.
    pub out_valid: Signal<Out, Bit>,
    /// The output code (16-bit formats in the low half).
    pub result: Signal<Out, Bits<32>>,

    // stage 0: the inputs, registered beside the unit (the accumulator comes from the output
    // stage's registers across the chip, and its negation below was npe4x4's output-unit path,
    // −1.3 ns)
    v0: DFF<Bit>,
    acc0: DFF<Bits<ACC_W>>,
    nan0: DFF<Bit>,
    pinf0: DFF<Bit>,
    ninf0: DFF<Bit>,
    // The output format is the same for every unit of the array, so as plain registers each
    // unit's format pipeline (`fmt0`…`fmt7`) was one, merged by Yosys, and the units shared
    // the logic behind it: a path from unit 0's scale through LUTs placed by unit 1 into unit
    // 0's shift (`gsh4 ← sb3`, −1.05 ns in `b72511b`'s run). A [`CopyDff`] keeps each unit's.
    fmt0: CopyDff<Bits<3>>,
    scale0: DFF<Bits<SCALE_BITS>>,
    // stage 1
    v1: DFF<Bit>,
    neg1: DFF<Bit>,
    // The magnitude, zero-extended to NORM_W.
    acc_mag: Signal<Local, Bits<ACC_W>>,
    mag1: DFF<Bits<NORM_W>>,
    nan1: DFF<Bit>,
    inf1: DFF<Bit>,
    ninf1: DFF<Bit>,
    fmt1: DFF<Bits<3>>,
    stop1: DFF<Bits<16>>,
    scale_x: Signal<Local, Bits<16>>,
    // stage 2: the leading-zero count's first level: per 8-bit group a flag and a count, and
    // per super-group the flag and count of its top nonzero group
    v2: DFF<Bit>,
    neg2: DFF<Bit>,
    mag2: DFF<Bits<NORM_W>>,
    stop2: DFF<Bits<16>>,
    svec2: DFF<Bits<LZ_SUPER>>,
    slz2: Vec<DFF<Bits<8>>>,
    nan2: DFF<Bit>,
    inf2: DFF<Bit>,
    ninf2: DFF<Bit>,
    fmt2: DFF<Bits<3>>,
    mag_pad: Signal<Local, Bits<LZ_PAD>>,
    gbits: Vec<Signal<Local, Bits<8>>>,
    // 8-bit groups of the count (LZ_PAD / 8).
    _groups: usize,
    // Bit s: super-group s is nonzero.
    svec: Signal<Local, Bits<LZ_SUPER>>,
    k_sbit: Vec<Constant<Bits<LZ_SUPER>>>,
    // Leading zeros of the accumulator if group g holds its leading one (mod 2^8).
    glz: Vec<Signal<Local, Bits<8>>>,
    slz: Vec<Signal<Local, Bits<8>>>,
    goff: Vec<Constant<BitIndex>>,
    gbase: Vec<Constant<Bits<8>>>,
    k_in8: Vec<Constant<Bits<8>>>,
    // stage 3: the top nonzero super-group, picked one-hot (an AND-OR, not a priority chain):
    // it is the top one when no bit above it is set
    v3: DFF<Bit>,
    neg3: DFF<Bit>,
    mag3: DFF<Bits<NORM_W>>,
    lz3: DFF<Bits<8>>,
    sb3: DFF<Bits<16>>,
    zero3: DFF<Bit>,
    nan3: DFF<Bit>,
    inf3: DFF<Bit>,
    ninf3: DFF<Bit>,
    fmt3: DFF<Bits<3>>,
    lz: Signal<Local, Bits<8>>,
    k_sabove: Vec<Constant<Bits<LZ_SUPER>>>,
    // stage 4
    v4: DFF<Bit>,
    neg4: DFF<Bit>,
    src4: DFF<Bits<FRAME>>,
    // The sticky OR of the bits under the frame, in STICKY_PARTS parts (ORed in stage 5): as
    // one bit (95 bits under the frame for the shared PE's accumulator), the mask, the AND and
    // the OR behind the count were npe4x4's slowest path (`st4 ← lz3`, −0.22 ns in `2b12add`'s
    // run, eight LUTs).
    st4: DFF<Bits<STICKY_PARTS>>,
    sparts: Signal<Local, Bits<STICKY_PARTS>>,
    // Part p of the bits under the frame, and its flag.
    k_part: Vec<Constant<Bits<NORM_W>>>,
    k_pbit: Vec<Constant<Bits<STICKY_PARTS>>>,
    gsh4: DFF<Bits<6>>,
    kpos4: DFF<Bit>,
    pw4: DFF<Bits<6>>,
    ebase4: DFF<Bits<16>>,
    ovf4: DFF<Bit>,
    zero4: DFF<Bit>,
    nan4: DFF<Bit>,
    inf4: DFF<Bit>,
    ninf4: DFF<Bit>,
    fmt4: DFF<Bits<3>>,
    norm: Signal<Local, Bits<NORM_W>>,
    // The bits under the frame are not shifted out of `norm`: `smask` marks them in the
    // magnitude (bit i lands under the frame when i + lz < under), beside the shift.
    unused_norm: Signal<Local, Bits<NORM_W>>,
    smask: Signal<Local, Bits<NORM_W>>,
    k_under_mask: Constant<Bits<NORM_W>>,
    src: Signal<Local, Bits<FRAME>>,
    // The format's right shift plus its guard bit's position: the shift that brings the guard
    // bit to bit 0 (stage 5).
    gsh: Signal<Local, Bits<6>>,
    // The low bits of the biased scale: shifts never exceed FRAME < 64.
    sb_lo: Signal<Local, Bits<6>>,
    // Posit regime k's low six bits (SCALE_BIAS / 2 is a multiple of 64).
    kq: Signal<Local, Bits<6>>,
    // The posit's regime prefix, from its direction and width (stage 5).
    prefix: Signal<Local, Bits<FRAME>>,
    // stage 5
    v5: DFF<Bit>,
    neg5: DFF<Bit>,
    q5: DFF<Bits<FRAME>>,
    inc5: DFF<Bit>,
    ebase5: DFF<Bits<16>>,
    ovf5: DFF<Bit>,
    zero5: DFF<Bit>,
    nan5: DFF<Bit>,
    inf5: DFF<Bit>,
    ninf5: DFF<Bit>,
    fmt5: DFF<Bits<3>>,
    // The frame with the format's guard bit at bit 0, the kept field above it.
    e: Signal<Local, Bits<FRAME>>,
    // The posit regime prefix's bits in the kept field.
    qp: Signal<Local, Bits<FRAME>>,
    q: Signal<Local, Bits<FRAME>>,
    sticky: Signal<Local, Bit>,
    // stage 6
    v6: DFF<Bit>,
    neg6: DFF<Bit>,
    mag6: DFF<Bits<MAG>>,
    ovf6: DFF<Bit>,
    zero6: DFF<Bit>,
    nan6: DFF<Bit>,
    inf6: DFF<Bit>,
    ninf6: DFF<Bit>,
    fmt6: DFF<Bits<3>>,
    qi: Signal<Local, Bits<MAG>>,
    eb: Signal<Local, Bits<MAG>>,
    // stage 7: the magnitude's code, the two's complements of INT32 and posit16 (their bits
    // above the code are not part of it), and the saturation flags
    v7: DFF<Bit>,
    neg7: DFF<Bit>,
    code7: DFF<Bits<32>>,
    tint7: DFF<Bits<32>>,
    tposit7: DFF<Bits<32>>,
    big7: DFF<Bit>,
    small7: DFF<Bit>,
    ovf7: DFF<Bit>,
    zero7: DFF<Bit>,
    nan7: DFF<Bit>,
    inf7: DFF<Bit>,
    ninf7: DFF<Bit>,
    fmt7: DFF<Bits<3>>,
    t_int: Signal<Local, Bits<MAG>>,
    t_posit: Signal<Local, Bits<MAG>>,
    unused_t_int: Signal<Local, Bits<MAG>>,
    unused_t_posit: Signal<Local, Bits<MAG>>,
    // stage 8
    res: DFF<Bits<32>>,
    v8: DFF<Bit>,
    code: Signal<Local, Bits<32>>,
    // Per float format (FLOATS order).
    f_id: Vec<Constant<Bits<3>>>,
    f_emin: Vec<Constant<Bits<16>>>,
    f_max: Vec<Constant<Bits<16>>>,
    f_max_finite: Vec<Constant<Bits<MAG>>>,
    f_inf: Vec<Constant<Bits<32>>>,
    f_nan: Vec<Constant<Bits<32>>>,
    f_sign: Vec<Constant<Bits<32>>>,
    f_man: Vec<Constant<Bits<MAG>>>,
    k_sign_bit: Constant<BitIndex>,
    k_under: Constant<BitIndex>,
    k1_acc: Constant<Bits<ACC_W>>,
    k_int32: Constant<Bits<3>>,
    k_posit: Constant<Bits<3>>,
    k_scale_top: Constant<Bits<16>>,
    k_int_max_sh: Constant<Bits<6>>,
    k_int_b: Constant<Bits<16>>,
    k_int_b6: Constant<Bits<6>>,
    k_int_big: Constant<Bits<16>>,
    f_emin6: Vec<Constant<Bits<6>>>,
    f_g6: Vec<Constant<Bits<6>>>,
    f_max_sh: Vec<Constant<Bits<6>>>,
    f_big: Vec<Constant<Bits<16>>>,
    k_sb0: Constant<Bits<16>>,
    k_sb_lo: Constant<Bits<16>>,
    k_sb_hi: Constant<Bits<16>>,
    k1_6: Constant<Bits<6>>,
    k0_6: Constant<Bits<6>>,
    k_kmax6: Constant<Bits<6>>,
    k_kmax6_1: Constant<Bits<6>>,
    k_p_sh_lo: Constant<Bits<6>>,
    k_p_sh_hi: Constant<Bits<6>>,
    k_p_sh_pos: Constant<Bits<6>>,
    k_p_sh_neg: Constant<Bits<6>>,
    // The posit's kept field shift, guard bit and the mask under it, for the regime prefix.
    k_p_qsh: Constant<Bits<FRAME>>,
    k_p_guard: Constant<BitIndex>,
    k_p_smask: Constant<Bits<FRAME>>,
    k0_16: Constant<Bits<16>>,
    k_sext_16: Constant<Bits<16>>,
    k_scale_sign: Constant<BitIndex>,
    k0_f: Constant<Bits<FRAME>>,
    k1_f: Constant<Bits<FRAME>>,
    k_top_f: Constant<Bits<FRAME>>,
    k1_m: Constant<Bits<MAG>>,
    k0_m: Constant<Bits<MAG>>,
    k_int_max: Constant<Bits<MAG>>,
    k_int_min: Constant<Bits<MAG>>,
    k_int_wrap: Constant<Bits<MAG>>,
    k_posit_max: Constant<Bits<MAG>>,
    k_posit_wrap: Constant<Bits<MAG>>,
    // Codes: INT32's extremes; posit16's ±minpos, ±maxpos and NaR.
    k_int_max32: Constant<Bits<32>>,
    k_int_min32: Constant<Bits<32>>,
    k_posit_min32: Constant<Bits<32>>,
    k_posit_max32: Constant<Bits<32>>,
    k_posit_nmin32: Constant<Bits<32>>,
    k_posit_nmax32: Constant<Bits<32>>,
    k_posit_nar: Constant<Bits<32>>,
}

impl<const ACC_W: usize, const NORM_W: usize, const LZ_PAD: usize, const LZ_SUPER: usize> Logic
    for GenericOutputUnit<ACC_W, NORM_W, LZ_PAD, LZ_SUPER>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, v0, acc0, nan0, pinf0, ninf0, scale0, v1, neg1, mag1, nan1, inf1, ninf1, fmt1, stop1, v2,
            neg2, mag2, stop2, svec2, nan2, inf2, ninf2, fmt2, v3, neg3, mag3, lz3, sb3, zero3, nan3, inf3, ninf3,
            fmt3, v4, neg4, src4, st4, gsh4, kpos4, pw4, ebase4, ovf4, zero4, nan4, inf4, ninf4, fmt4, v5, neg5, q5,
            inc5, ebase5, ovf5, zero5, nan5, inf5, ninf5, fmt5, v6, neg6, mag6, ovf6, zero6, nan6, inf6, ninf6, fmt6,
            v7, neg7, code7, tint7, tposit7, big7, small7, ovf7, zero7, nan7, inf7, ninf7, fmt7, res, v8
        );

        // ---- stage 0: the inputs
        self.v0.d.next = self.valid.val() & !self.reset.val();
        self.acc0.d.next = self.acc.val();
        self.nan0.d.next = self.nan.val();
        self.pinf0.d.next = self.pinf.val();
        self.ninf0.d.next = self.ninf.val();
        self.fmt0.clock.next = self.clock.val();
        self.fmt0.d.next = self.out_fmt.val();
        self.scale0.d.next = self.scale_exp.val();

        // ---- stage 1: sign and magnitude; the biased scale of the accumulator's top bit
        self.v1.d.next = self.v0.q.val() & !self.reset.val();
        self.neg1.d.next = self.acc0.q.val().get_bit(self.k_sign_bit.val().index());
        self.acc_mag.next = self.acc0.q.val();
        if self.acc0.q.val().get_bit(self.k_sign_bit.val().index()) {
            self.acc_mag.next = !self.acc0.q.val() + self.k1_acc.val();
        }
        self.mag1.d.next = bit_cast::<NORM_W, ACC_W>(self.acc_mag.val());
        self.nan1.d.next = self.nan0.q.val() | (self.pinf0.q.val() & self.ninf0.q.val());
        self.inf1.d.next = self.pinf0.q.val() | self.ninf0.q.val();
        self.ninf1.d.next = self.ninf0.q.val();
        self.fmt1.d.next = self.fmt0.q.val();
        self.scale_x.next = bit_cast::<16, SCALE_BITS>(self.scale0.q.val());
        if self.scale0.q.val().get_bit(self.k_scale_sign.val().index()) {
            self.scale_x.next = bit_cast::<16, SCALE_BITS>(self.scale0.q.val()) | self.k_sext_16.val();
        }
        self.stop1.d.next = self.k_scale_top.val() + self.scale_x.val();

        // ---- stage 2: per 8-bit group of the magnitude, a flag and the leading zeros; per
        // super-group, those of its top nonzero group (later groups are higher: they win)
        self.mag_pad.next = bit_cast::<LZ_PAD, NORM_W>(self.mag1.q.val());
        self.svec.next = 0.into();
        for s in 0..LZ_SUPER {
            self.slz[s].next = 0.into();
        }
        for g in 0..self._groups {
            self.gbits[g].next = self.mag_pad.val().get_bits::<8>(self.goff[g].val().index());
            self.glz[g].next = self.gbase[g].val() + self.k_in8[0].val();
            for b in 1..8 {
                if self.gbits[g].val().get_bit(b) {
                    self.glz[g].next = self.gbase[g].val() + self.k_in8[b].val();
                }
            }
            if self.gbits[g].val().any() {
                self.svec.next = self.svec.val() | self.k_sbit[g / 4].val();
                self.slz[g / 4].next = self.glz[g].val();
            }
        }
        for s in 0..LZ_SUPER {
            self.slz2[s].clock.next = self.clock.val();
            self.slz2[s].d.next = self.slz[s].val();
        }
        self.svec2.d.next = self.svec.val();
        self.stop2.d.next = self.stop1.q.val();
        self.mag2.d.next = self.mag1.q.val();
        self.v2.d.next = self.v1.q.val() & !self.reset.val();
        self.neg2.d.next = self.neg1.q.val();
        self.nan2.d.next = self.nan1.q.val();
        self.inf2.d.next = self.inf1.q.val();
        self.ninf2.d.next = self.ninf1.q.val();
        self.fmt2.d.next = self.fmt1.q.val();

        // ---- stage 3: the top nonzero group's count; the biased scale of the leading one
        self.lz.next = 0.into();
        for s in 0..LZ_SUPER {
            if self.svec2.q.val().get_bit(s) & !(self.svec2.q.val() & self.k_sabove[s].val()).any() {
                self.lz.next = self.lz.val() | self.slz2[s].q.val();
            }
        }
        self.lz3.d.next = self.lz.val();
        self.sb3.d.next = self.stop2.q.val() - bit_cast::<16, 8>(self.lz.val());
        self.mag3.d.next = self.mag2.q.val();
        self.zero3.d.next = !self.svec2.q.val().any();
        self.v3.d.next = self.v2.q.val() & !self.reset.val();
        self.neg3.d.next = self.neg2.q.val();
        self.nan3.d.next = self.nan2.q.val();
        self.inf3.d.next = self.inf2.q.val();
        self.ninf3.d.next = self.ninf2.q.val();
        self.fmt3.d.next = self.fmt2.q.val();

        // ---- stage 4: normalize into the frame; each format's right shift and regime, from
        // comparisons of the scale with constants (side by side, not in series)
        self.norm.next = self.mag3.q.val() << bit_cast::<NORM_W, 8>(self.lz3.q.val());
        self.src.next = self.norm.val().get_bits::<FRAME>(self.k_under.val().index());
        self.unused_norm.next = self.norm.val();
        self.smask.next = self.k_under_mask.val() >> bit_cast::<NORM_W, 8>(self.lz3.q.val());
        self.sparts.next = 0.into();
        for p in 0..STICKY_PARTS {
            if (self.mag3.q.val() & self.smask.val() & self.k_part[p].val()).any() {
                self.sparts.next = self.sparts.val() | self.k_pbit[p].val();
            }
        }
        self.st4.d.next = self.sparts.val();
        self.sb_lo.next = self.sb3.q.val().get_bits::<6>(0);
        self.kq.next = self.sb3.q.val().get_bits::<6>(1);
        // Every shift below is the format's right shift plus its guard bit's place.
        self.gsh.next = self.k0_6.val();
        self.kpos4.d.next = false;
        self.pw4.d.next = self.k0_6.val();
        self.ebase4.d.next = self.k0_16.val();
        self.ovf4.d.next = false;
        for f in 0..N_FLOATS {
            if self.fmt3.q.val() == self.f_id[f].val() {
                self.gsh.next = self.f_g6[f].val();
                if self.sb3.q.val() < self.f_emin[f].val() {
                    // Subnormal: shift by emin − scale, at most the frame.
                    self.gsh.next = self.f_emin6[f].val() - self.sb_lo.val();
                    if self.sb3.q.val() < self.f_big[f].val() {
                        self.gsh.next = self.f_max_sh[f].val();
                    }
                } else {
                    self.ebase4.d.next = self.sb3.q.val() - self.f_emin[f].val();
                }
                self.ovf4.d.next = self.sb3.q.val() > self.f_max[f].val();
            }
        }
        if self.fmt3.q.val() == self.k_int32.val() {
            // On overflow the shift is don't-care (stage 7 saturates).
            self.ovf4.d.next = self.sb3.q.val() >= self.k_int_b.val();
            self.gsh.next = self.k_int_b6.val() - self.sb_lo.val();
            if self.sb3.q.val() < self.k_int_big.val() {
                self.gsh.next = self.k_int_max_sh.val();
            }
        }
        if self.fmt3.q.val() == self.k_posit.val() {
            // scale = 2k + x (es = 1); |k| beyond POSIT_K_MAX saturates either way.
            // Exponent bit x where the hidden bit was, fraction below it.
            self.src.next = self.norm.val().get_bits::<FRAME>(self.k_under.val().index())
                & !(self.k1_f.val() << self.k_top_f.val());
            if self.sb3.q.val().get_bit(0) {
                self.src.next = self.src.val() | (self.k1_f.val() << self.k_top_f.val());
            }
            // Regime: k + 1 ones and a zero (shift k + 2, prefix k + 1 ones), or −k zeros and
            // a one (shift 1 − k, the one −k bits down).
            if self.sb3.q.val() < self.k_sb_lo.val() {
                self.gsh.next = self.k_p_sh_lo.val();
                self.pw4.d.next = self.k_kmax6.val();
            } else if self.sb3.q.val() >= self.k_sb_hi.val() {
                self.gsh.next = self.k_p_sh_hi.val();
                self.pw4.d.next = self.k_kmax6_1.val();
                self.kpos4.d.next = true;
            } else if self.sb3.q.val() >= self.k_sb0.val() {
                self.gsh.next = self.kq.val() + self.k_p_sh_pos.val();
                self.pw4.d.next = self.kq.val() + self.k1_6.val();
                self.kpos4.d.next = true;
            } else {
                self.gsh.next = self.k_p_sh_neg.val() - self.kq.val();
                self.pw4.d.next = self.k0_6.val() - self.kq.val();
            }
        }
        self.src4.d.next = self.src.val();
        self.gsh4.d.next = self.gsh.val();
        self.v4.d.next = self.v3.q.val() & !self.reset.val();
        self.neg4.d.next = self.neg3.q.val();
        self.zero4.d.next = self.zero3.q.val();
        self.nan4.d.next = self.nan3.q.val();
        self.inf4.d.next = self.inf3.q.val();
        self.ninf4.d.next = self.ninf3.q.val();
        self.fmt4.d.next = self.fmt3.q.val();

        // ---- stage 5: shift within the frame; kept bits, guard, sticky, round to nearest even
        self.prefix.next = self.k0_f.val();
        if self.fmt4.q.val() == self.k_posit.val() {
            if self.kpos4.q.val() {
                self.prefix.next = !(!self.k0_f.val() >> self.pw4.q.val());
            } else {
                self.prefix.next = (self.k1_f.val() << self.k_top_f.val()) >> self.pw4.q.val();
            }
        }
        // The frame shifted right until the format's guard bit is bit 0: the kept field lies
        // above it (at most the format's bits remain), the bits shifted out are sticky. The
        // posit's regime prefix (zero for other formats) fills the field from the top; its bits
        // at and under the guard bit count too.
        self.e.next = self.src4.q.val() >> self.gsh4.q.val();
        self.qp.next = self.prefix.val() >> self.k_p_qsh.val();
        self.q.next = (self.e.val() >> self.k1_f.val()) | self.qp.val();
        self.sticky.next = self.st4.q.val().any()
            | (self.src4.q.val() & !(!self.k0_f.val() << self.gsh4.q.val())).any()
            | (self.prefix.val() & self.k_p_smask.val()).any();
        self.inc5.d.next = (self.e.val().get_bit(0) | self.prefix.val().get_bit(self.k_p_guard.val().index()))
            & (self.sticky.val() | self.q.val().get_bit(0));
        self.q5.d.next = self.q.val();
        self.ebase5.d.next = self.ebase4.q.val();
        self.ovf5.d.next = self.ovf4.q.val();
        self.v5.d.next = self.v4.q.val() & !self.reset.val();
        self.neg5.d.next = self.neg4.q.val();
        self.zero5.d.next = self.zero4.q.val();
        self.nan5.d.next = self.nan4.q.val();
        self.inf5.d.next = self.inf4.q.val();
        self.ninf5.d.next = self.ninf4.q.val();
        self.fmt5.d.next = self.fmt4.q.val();

        // ---- stage 6: the rounded magnitude; floats with their biased exponent above it
        self.qi.next = bit_cast::<MAG, FRAME>(self.q5.q.val());
        if self.inc5.q.val() {
            self.qi.next = bit_cast::<MAG, FRAME>(self.q5.q.val()) + self.k1_m.val();
        }
        self.eb.next = self.k0_m.val();
        for f in 0..N_FLOATS {
            if self.fmt5.q.val() == self.f_id[f].val() {
                self.eb.next = bit_cast::<MAG, 16>(self.ebase5.q.val()) << self.f_man[f].val();
            }
        }
        self.mag6.d.next = self.eb.val() + self.qi.val();
        self.ovf6.d.next = self.ovf5.q.val();
        self.v6.d.next = self.v5.q.val() & !self.reset.val();
        self.neg6.d.next = self.neg5.q.val();
        self.zero6.d.next = self.zero5.q.val();
        self.nan6.d.next = self.nan5.q.val();
        self.inf6.d.next = self.inf5.q.val();
        self.ninf6.d.next = self.ninf5.q.val();
        self.fmt6.d.next = self.fmt5.q.val();

        // ---- stage 7: the code candidates, beside the comparisons that choose among them
        self.t_int.next = self.k_int_wrap.val() - self.mag6.q.val();
        self.t_posit.next = self.k_posit_wrap.val() - self.mag6.q.val();
        self.unused_t_int.next = self.t_int.val();
        self.unused_t_posit.next = self.t_posit.val();
        self.code7.d.next = bit_cast::<32, MAG>(self.mag6.q.val());
        self.tint7.d.next = bit_cast::<32, MAG>(self.t_int.val());
        self.tposit7.d.next = bit_cast::<32, MAG>(self.t_posit.val());
        self.big7.d.next = false;
        for f in 0..N_FLOATS {
            if self.fmt6.q.val() == self.f_id[f].val() {
                self.big7.d.next = self.ovf6.q.val() | (self.mag6.q.val() > self.f_max_finite[f].val());
            }
        }
        if self.fmt6.q.val() == self.k_int32.val() {
            self.big7.d.next = self.mag6.q.val() > self.k_int_max.val();
            if self.neg6.q.val() {
                self.big7.d.next = self.mag6.q.val() > self.k_int_min.val();
            }
        }
        if self.fmt6.q.val() == self.k_posit.val() {
            self.big7.d.next = self.mag6.q.val() > self.k_posit_max.val();
        }
        self.small7.d.next = self.mag6.q.val() == self.k0_m.val();
        self.ovf7.d.next = self.ovf6.q.val();
        self.v7.d.next = self.v6.q.val() & !self.reset.val();
        self.neg7.d.next = self.neg6.q.val();
        self.zero7.d.next = self.zero6.q.val();
        self.nan7.d.next = self.nan6.q.val();
        self.inf7.d.next = self.inf6.q.val();
        self.ninf7.d.next = self.ninf6.q.val();
        self.fmt7.d.next = self.fmt6.q.val();

        // ---- stage 8: the code, the overflow rule, specials
        self.res.d.next = 0.into();
        self.code.next = self.code7.q.val();
        for f in 0..N_FLOATS {
            if self.fmt7.q.val() == self.f_id[f].val() {
                if self.big7.q.val() {
                    self.code.next = self.f_inf[f].val();
                }
                self.res.d.next = self.code.val();
                if self.neg7.q.val() {
                    self.res.d.next = self.code.val() | self.f_sign[f].val();
                }
                if self.zero7.q.val() {
                    self.res.d.next = 0.into();
                }
                if self.inf7.q.val() {
                    self.res.d.next = self.f_inf[f].val();
                    if self.ninf7.q.val() {
                        self.res.d.next = self.f_inf[f].val() | self.f_sign[f].val();
                    }
                }
                if self.nan7.q.val() {
                    self.res.d.next = self.f_nan[f].val();
                }
            }
        }
        if self.fmt7.q.val() == self.k_int32.val() {
            if self.neg7.q.val() {
                self.res.d.next = self.tint7.q.val();
                if self.big7.q.val() {
                    self.res.d.next = self.k_int_min32.val();
                }
            } else {
                self.res.d.next = self.code7.q.val();
                if self.big7.q.val() {
                    self.res.d.next = self.k_int_max32.val();
                }
            }
            // Zero wins over the overflow flag (which a zero's don't-care scale may set); an
            // infinity wins over the finite part, whatever it is (zero, or overflowing with the
            // other sign): +Inf saturates to the maximum, −Inf to the minimum.
            if self.ovf7.q.val() {
                self.res.d.next = self.k_int_max32.val();
                if self.neg7.q.val() {
                    self.res.d.next = self.k_int_min32.val();
                }
            }
            if self.zero7.q.val() {
                self.res.d.next = 0.into();
            }
            if self.inf7.q.val() {
                self.res.d.next = self.k_int_max32.val();
                if self.ninf7.q.val() {
                    self.res.d.next = self.k_int_min32.val();
                }
            }
            if self.nan7.q.val() {
                self.res.d.next = 0.into();
            }
        }
        if self.fmt7.q.val() == self.k_posit.val() {
            // Never to zero, never to NaR: at least minpos, at most maxpos.
            if self.neg7.q.val() {
                self.res.d.next = self.tposit7.q.val();
                if self.small7.q.val() {
                    self.res.d.next = self.k_posit_nmin32.val();
                }
                if self.big7.q.val() {
                    self.res.d.next = self.k_posit_nmax32.val();
                }
            } else {
                self.res.d.next = self.code7.q.val();
                if self.small7.q.val() {
                    self.res.d.next = self.k_posit_min32.val();
                }
                if self.big7.q.val() {
                    self.res.d.next = self.k_posit_max32.val();
                }
            }
            if self.zero7.q.val() {
                self.res.d.next = 0.into();
            }
            if self.nan7.q.val() | self.inf7.q.val() {
                self.res.d.next = self.k_posit_nar.val();
            }
        }
        self.v8.d.next = self.v7.q.val() & !self.reset.val();
        self.out_valid.next = self.v8.q.val();
        self.result.next = self.res.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::config::LE8_FORMATS;

    #[test]
    #[should_panic(expected = "output unit widths do not match")]
    fn the_type_must_match_the_accumulator() {
        let _ = <crate::ou_type!(crate::pe::ACC)>::for_acc(Accumulator::for_formats(&LE8_FORMATS));
    }
}
