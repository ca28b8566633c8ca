//! The output unit (one per array column): rounds an exact accumulator once to an output
//! format, after a power-of-two scale.
//!
//! Four pipeline stages, one accumulator per cycle:
//! 1. sign and magnitude of the two's complement accumulator;
//! 2. leading-zero count and normalization: the magnitude's top bit moves to bit 129 and its
//!    weight (the value's binary scale, with the scale applied) is kept biased by [`SCALE_BIAS`];
//! 3. one right shift into a 260-bit field per format: FP subnormals are denormalized, INT32
//!    puts 2^0 at a fixed bit, posits get their regime run in front of exponent and fraction;
//! 4. round to nearest even at that format's fixed position (guard bit and a sticky OR below
//!    it), then the format's overflow rule and special values.
//!
//! The rules are the golden model's ([`crate::spec::OutputFormat`]): FP32/BF16/FP16 overflow
//! to ±Inf, NaN is the positive quiet NaN, a negative value that rounds to zero is −0; INT32
//! saturates and maps NaN to 0; posit16 saturates to maxpos/minpos, never rounds to 0, and
//! NaN or Inf give NaR.

use crate::decode::{const_bits, const_index, BitIndex};
use crate::pe::{ACC, ACC_WIDTH};
use crate::spec::{Encoding, FloatSpecials, OutputFormat};
use rust_hdl::prelude::*;

/// Clock edges from `valid` to `out_valid`.
pub const OUTPUT_LATENCY: usize = 4;

/// 8-bit groups of the leading-zero count, and the accumulator width padded to whole groups.
const LZ_GROUPS: usize = ACC_WIDTH.div_ceil(8);
const LZ_PAD: usize = 8 * LZ_GROUPS;

/// Width of the scale input: the sum of two 8-bit two's complement scales (the job's
/// `SCALE_EXP` and a column's) always fits.
pub const SCALE_BITS: usize = 9;

/// Scales are held as `scale + SCALE_BIAS` so comparisons are unsigned.
pub const SCALE_BIAS: i64 = 1024;

/// Width of the shifted field.
const W: usize = 2 * ACC_WIDTH;
/// Largest useful right shift: beyond it every bit is below the guard bit anyway.
const MAX_SHIFT: u64 = ACC_WIDTH as u64 + 1;

/// Float output parameters: (exponent bits, mantissa bits, bias).
const fn float_params(f: OutputFormat) -> (u64, u64, i64) {
    match OUTPUT_FORMATS_ENC[f as usize] {
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials: FloatSpecials::Ieee,
        } => (exp_bits as u64, man_bits as u64, bias as i64),
        _ => panic!("not an IEEE float output format"),
    }
}

const OUTPUT_FORMATS_ENC: [Encoding; 5] = [
    crate::spec::formats::OUTPUT_FORMATS[0].encoding,
    crate::spec::formats::OUTPUT_FORMATS[1].encoding,
    crate::spec::formats::OUTPUT_FORMATS[2].encoding,
    crate::spec::formats::OUTPUT_FORMATS[3].encoding,
    crate::spec::formats::OUTPUT_FORMATS[4].encoding,
];

/// The float output formats in the order of the per-format constant vectors below.
const FLOATS: [OutputFormat; 3] = [OutputFormat::Fp32, OutputFormat::Bf16, OutputFormat::Fp16];

const M32: usize = float_params(OutputFormat::Fp32).1 as usize;
const MB16: usize = float_params(OutputFormat::Bf16).1 as usize;
const M16: usize = float_params(OutputFormat::Fp16).1 as usize;
/// Bit positions in the 260-bit field: the kept bits start at `W − kept`, the guard bit is
/// the one below, and the sticky OR covers every bit under that.
const Q32: usize = W - (M32 + 1);
const QB16: usize = W - (MB16 + 1);
const Q16: usize = W - (M16 + 1);
const QINT: usize = W - INT_KEPT;
const QPOS: usize = W - POS_KEPT;
/// Kept widths (hidden bit included) and sticky widths (every bit under the guard bit).
const K32: usize = M32 + 1;
const KB16: usize = MB16 + 1;
const K16: usize = M16 + 1;
const S32: usize = Q32 - 1;
const SB16: usize = QB16 - 1;
const S16: usize = Q16 - 1;
const SINT: usize = QINT - 1;
const SPOS: usize = QPOS - 1;
/// INT32: 2^0 sits at bit QINT after a shift of 32 − scale.
const INT_SCALE: i64 = INT_BITS as i64;
/// Widths of the integer and posit outputs, from the output-format table.
const INT_BITS: usize = crate::spec::formats::OUTPUT_FORMATS[OutputFormat::Int32 as usize].bits as usize;
const POSIT_BITS: usize = crate::spec::formats::OUTPUT_FORMATS[OutputFormat::Posit16Es1 as usize].bits as usize;
/// Kept bits: INT32's magnitude plus one (a magnitude of 2^31 is still a valid negative
/// value), posit16's code without its sign.
const INT_KEPT: usize = INT_BITS + 1;
const POS_KEPT: usize = POSIT_BITS - 1;

/// Biased scale below which a float format is subnormal (its `emin`).
fn emin_b(f: OutputFormat) -> u64 {
    (1 - float_params(f).2 + SCALE_BIAS) as u64
}

/// Biased largest scale that cannot overflow before rounding.
fn max_b(f: OutputFormat) -> u64 {
    let (e, _, bias) = float_params(f);
    (((1i64 << e) - 1) - bias + SCALE_BIAS) as u64
}

/// The ±Inf magnitude code.
fn inf_code(f: OutputFormat) -> u64 {
    let (e, m, _) = float_params(f);
    ((1u64 << e) - 1) << m
}

/// The output unit.
#[derive(LogicBlock)]
pub struct OutputUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (clears the valid pipeline).
    pub reset: Signal<In, Bit>,
    /// An accumulator is presented.
    pub valid: Signal<In, Bit>,
    /// The accumulator, two's complement, bit 0 weighing 2^ACC.lsb.
    pub acc: Signal<In, Bits<ACC_WIDTH>>,
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

    // stage 1
    v1: DFF<Bit>,
    neg1: DFF<Bit>,
    mag1: DFF<Bits<ACC_WIDTH>>,
    nan1: DFF<Bit>,
    inf1: DFF<Bit>,
    ninf1: DFF<Bit>,
    fmt1: DFF<Bits<3>>,
    scale1: DFF<Bits<16>>,
    scale_x: Signal<Local, Bits<16>>,
    // stage 2
    v2: DFF<Bit>,
    neg2: DFF<Bit>,
    norm2: DFF<Bits<ACC_WIDTH>>,
    sb2: DFF<Bits<16>>,
    zero2: DFF<Bit>,
    nan2: DFF<Bit>,
    inf2: DFF<Bit>,
    ninf2: DFF<Bit>,
    fmt2: DFF<Bits<3>>,
    lz: Signal<Local, Bits<16>>,
    // Leading-zero count in two levels (a flat 130-way priority chain was this unit's
    // critical path): per 8-bit group a flag and a count, then the top nonzero group.
    mag_pad: Signal<Local, Bits<LZ_PAD>>,
    gbits: Vec<Signal<Local, Bits<8>>>,
    gany: Vec<Signal<Local, Bit>>,
    glz: Vec<Signal<Local, Bits<16>>>,
    goff: Vec<Constant<Bits<8>>>,
    gbase: Vec<Constant<Bits<16>>>,
    k_in8: Vec<Constant<Bits<16>>>,
    // stage 3
    v3: DFF<Bit>,
    neg3: DFF<Bit>,
    ext3: DFF<Bits<W>>,
    ebase3: DFF<Bits<32>>,
    ovf3: DFF<Bit>,
    zero3: DFF<Bit>,
    nan3: DFF<Bit>,
    inf3: DFF<Bit>,
    ninf3: DFF<Bit>,
    fmt3: DFF<Bits<3>>,
    rsh: Signal<Local, Bits<16>>,
    src: Signal<Local, Bits<W>>,
    prefix: Signal<Local, Bits<W>>,
    kb: Signal<Local, Bits<16>>,
    rsh_w: Signal<Local, Bits<W>>,
    t16: Signal<Local, Bits<16>>,
    t64: Signal<Local, Bits<64>>,
    // Two's complement of a ≤ 32-bit magnitude: the high half is not part of the code.
    unused_t64: Signal<Local, Bits<64>>,
    pre_w: Signal<Local, Bits<W>>,
    // stage 4
    res: DFF<Bits<32>>,
    v4: DFF<Bit>,
    inc: Signal<Local, Bit>,
    q: Signal<Local, Bits<64>>,
    mag: Signal<Local, Bits<64>>,
    // Per float format (FLOATS order).
    f_emin: Vec<Constant<Bits<16>>>,
    f_max: Vec<Constant<Bits<16>>>,
    f_max_finite: Vec<Constant<Bits<64>>>,
    f_inf: Vec<Constant<Bits<32>>>,
    f_nan: Vec<Constant<Bits<32>>>,
    f_sign: Vec<Constant<Bits<32>>>,
    k_q32: Constant<BitIndex>,
    k_qb16: Constant<BitIndex>,
    k_q16: Constant<BitIndex>,
    k_qint: Constant<BitIndex>,
    k_qpos: Constant<BitIndex>,
    k_g32: Constant<BitIndex>,
    k_gb16: Constant<BitIndex>,
    k_g16: Constant<BitIndex>,
    k_gint: Constant<BitIndex>,
    k_gpos: Constant<BitIndex>,
    k_sign_bit: Constant<BitIndex>,
    k1_acc: Constant<Bits<ACC_WIDTH>>,
    k_fp32: Constant<Bits<3>>,
    k_bf16: Constant<Bits<3>>,
    k_fp16: Constant<Bits<3>>,
    k_int32: Constant<Bits<3>>,
    k_posit: Constant<Bits<3>>,
    k_scale_top: Constant<Bits<16>>,
    k_max_shift: Constant<Bits<16>>,
    k_int_b: Constant<Bits<16>>,
    k_k0: Constant<Bits<16>>,
    k_kmin: Constant<Bits<16>>,
    k_kmax: Constant<Bits<16>>,
    k_k1: Constant<Bits<16>>,
    k_k510: Constant<Bits<16>>,
    k_k511: Constant<Bits<16>>,
    k_k513: Constant<Bits<16>>,
    k0_16: Constant<Bits<16>>,
    k_sext_16: Constant<Bits<16>>,
    k_scale_sign: Constant<BitIndex>,
    k0_w: Constant<Bits<W>>,
    k1_w: Constant<Bits<W>>,
    k_top_w: Constant<Bits<W>>,
    k_acc_w: Constant<Bits<W>>,
    k1_64: Constant<Bits<64>>,
    k0_64: Constant<Bits<64>>,
    k_man_64: Vec<Constant<Bits<64>>>,
    k_int_max: Constant<Bits<64>>,
    k_int_min: Constant<Bits<64>>,
    k_2p32: Constant<Bits<64>>,
    k_posit_max: Constant<Bits<64>>,
    k_posit_nar: Constant<Bits<32>>,
    k_2p16: Constant<Bits<64>>,
}

impl Default for OutputUnit {
    fn default() -> Self {
        let ids = |f: OutputFormat| const_bits(f.spec().id as u64);
        let (_, m32, _) = float_params(OutputFormat::Fp32);
        let (_, mb, _) = float_params(OutputFormat::Bf16);
        let (_, m16, _) = float_params(OutputFormat::Fp16);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            out_fmt: Default::default(),
            scale_exp: Default::default(),
            out_valid: Default::default(),
            result: Default::default(),
            v1: Default::default(),
            neg1: Default::default(),
            mag1: Default::default(),
            nan1: Default::default(),
            inf1: Default::default(),
            ninf1: Default::default(),
            fmt1: Default::default(),
            scale1: Default::default(),
            scale_x: Default::default(),
            v2: Default::default(),
            neg2: Default::default(),
            norm2: Default::default(),
            sb2: Default::default(),
            zero2: Default::default(),
            nan2: Default::default(),
            inf2: Default::default(),
            ninf2: Default::default(),
            fmt2: Default::default(),
            lz: Default::default(),
            mag_pad: Default::default(),
            gbits: (0..LZ_GROUPS).map(|_| Default::default()).collect(),
            gany: (0..LZ_GROUPS).map(|_| Default::default()).collect(),
            glz: (0..LZ_GROUPS).map(|_| Default::default()).collect(),
            goff: (0..LZ_GROUPS).map(|g| const_bits((8 * g) as u64)).collect(),
            // Leading zeros above group g's top bit (mod 2^16: the top group reaches past the
            // accumulator, into zero padding, so its base is negative and its count makes up
            // for it).
            gbase: (0..LZ_GROUPS)
                .map(|g| const_bits(((ACC_WIDTH as i64 - 1 - (8 * g + 7) as i64) as u64) & 0xFFFF))
                .collect(),
            k_in8: (0..8).map(|b| const_bits(7 - b as u64)).collect(),
            v3: Default::default(),
            neg3: Default::default(),
            ext3: Default::default(),
            ebase3: Default::default(),
            ovf3: Default::default(),
            zero3: Default::default(),
            nan3: Default::default(),
            inf3: Default::default(),
            ninf3: Default::default(),
            fmt3: Default::default(),
            rsh: Default::default(),
            src: Default::default(),
            prefix: Default::default(),
            kb: Default::default(),
            rsh_w: Default::default(),
            t16: Default::default(),
            t64: Default::default(),
            unused_t64: Default::default(),
            pre_w: Default::default(),
            res: Default::default(),
            v4: Default::default(),
            inc: Default::default(),
            q: Default::default(),
            mag: Default::default(),
            f_emin: FLOATS.into_iter().map(|f| const_bits(emin_b(f))).collect(),
            f_max: FLOATS.into_iter().map(|f| const_bits(max_b(f))).collect(),
            f_max_finite: FLOATS.into_iter().map(|f| const_bits(inf_code(f) - 1)).collect(),
            f_inf: FLOATS.into_iter().map(|f| const_bits(inf_code(f))).collect(),
            f_nan: FLOATS
                .into_iter()
                .map(|f| const_bits(inf_code(f) | 1 << (float_params(f).1 - 1)))
                .collect(),
            f_sign: FLOATS
                .into_iter()
                .map(|f| const_bits(1 << (f.spec().bits - 1)))
                .collect(),
            k_q32: const_index(Q32),
            k_qb16: const_index(QB16),
            k_q16: const_index(Q16),
            k_qint: const_index(QINT),
            k_qpos: const_index(QPOS),
            k_g32: const_index(Q32 - 1),
            k_gb16: const_index(QB16 - 1),
            k_g16: const_index(Q16 - 1),
            k_gint: const_index(QINT - 1),
            k_gpos: const_index(QPOS - 1),
            k_sign_bit: const_index(ACC_WIDTH - 1),
            k1_acc: Constant::new(1.into()),
            k_fp32: ids(OutputFormat::Fp32),
            k_bf16: ids(OutputFormat::Bf16),
            k_fp16: ids(OutputFormat::Fp16),
            k_int32: ids(OutputFormat::Int32),
            k_posit: ids(OutputFormat::Posit16Es1),
            // Bit 129 of the normalized magnitude weighs 2^(ACC_WIDTH - 1 + ACC.lsb).
            k_scale_top: const_bits((ACC_WIDTH as i64 - 1 + ACC.lsb as i64 + SCALE_BIAS) as u64),
            k_max_shift: const_bits(MAX_SHIFT),
            // INT32: 2^0 lands at bit W − 1 − 32 when shifted right by 32 − scale.
            k_int_b: const_bits((INT_SCALE + SCALE_BIAS) as u64),
            k_k0: const_bits((SCALE_BIAS / 2) as u64),
            k_kmin: const_bits((SCALE_BIAS / 2 - 16) as u64),
            k_kmax: const_bits((SCALE_BIAS / 2 + 16) as u64),
            k_k1: const_bits(1),
            k_k510: const_bits((SCALE_BIAS / 2 - 2) as u64),
            k_k511: const_bits((SCALE_BIAS / 2 - 1) as u64),
            k_k513: const_bits((SCALE_BIAS / 2 + 1) as u64),
            k0_16: const_bits(0),
            k_sext_16: const_bits(0xFFFF ^ ((1 << SCALE_BITS) - 1)),
            k_scale_sign: const_index(SCALE_BITS - 1),
            k0_w: Constant::new(0.into()),
            k1_w: Constant::new(1.into()),
            k_top_w: Constant::new((W as u64 - 1).into()),
            k_acc_w: Constant::new((ACC_WIDTH as u64).into()),
            k1_64: const_bits(1),
            k0_64: const_bits(0),
            k_man_64: [m32, mb, m16].into_iter().map(const_bits).collect(),
            k_int_max: const_bits((1 << (INT_BITS - 1)) - 1),
            k_int_min: const_bits(1 << (INT_BITS - 1)),
            k_2p32: const_bits(1 << INT_BITS),
            k_posit_max: const_bits((1 << (POSIT_BITS - 1)) - 1),
            k_posit_nar: const_bits(0x8000),
            k_2p16: const_bits(1 << 16),
        }
    }
}

impl Logic for OutputUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, v1, neg1, mag1, nan1, inf1, ninf1, fmt1, scale1, v2, neg2, norm2, sb2, zero2, nan2, inf2,
            ninf2, fmt2, v3, neg3, ext3, ebase3, ovf3, zero3, nan3, inf3, ninf3, fmt3, res, v4
        );

        // ---- stage 1: sign and magnitude; the scale sign-extended to 16 bits
        self.v1.d.next = self.valid.val() & !self.reset.val();
        self.neg1.d.next = self.acc.val().get_bit(self.k_sign_bit.val().index());
        self.mag1.d.next = self.acc.val();
        if self.acc.val().get_bit(self.k_sign_bit.val().index()) {
            self.mag1.d.next = !self.acc.val() + self.k1_acc.val();
        }
        self.nan1.d.next = self.nan.val() | (self.pinf.val() & self.ninf.val());
        self.inf1.d.next = self.pinf.val() | self.ninf.val();
        self.ninf1.d.next = self.ninf.val();
        self.fmt1.d.next = self.out_fmt.val();
        self.scale_x.next = bit_cast::<16, SCALE_BITS>(self.scale_exp.val());
        if self.scale_exp.val().get_bit(self.k_scale_sign.val().index()) {
            self.scale_x.next = bit_cast::<16, SCALE_BITS>(self.scale_exp.val()) | self.k_sext_16.val();
        }
        self.scale1.d.next = self.scale_x.val();

        // ---- stage 2: leading zeros, normalize, biased scale of bit 129
        self.mag_pad.next = bit_cast::<LZ_PAD, ACC_WIDTH>(self.mag1.q.val());
        for g in 0..LZ_GROUPS {
            self.gbits[g].next = self.mag_pad.val().get_bits::<8>(self.goff[g].val().index());
            self.gany[g].next = self.gbits[g].val().any();
            self.glz[g].next = self.gbase[g].val() + self.k_in8[0].val();
            for b in 1..8 {
                if self.gbits[g].val().get_bit(b) {
                    self.glz[g].next = self.gbase[g].val() + self.k_in8[b].val();
                }
            }
        }
        self.lz.next = self.k0_16.val();
        for g in 0..LZ_GROUPS {
            if self.gany[g].val() {
                self.lz.next = self.glz[g].val();
            }
        }
        self.norm2.d.next = self.mag1.q.val() << bit_cast::<ACC_WIDTH, 16>(self.lz.val());
        self.sb2.d.next = self.k_scale_top.val() - self.lz.val() + self.scale1.q.val();
        self.zero2.d.next = !self.mag1.q.val().any();
        self.v2.d.next = self.v1.q.val() & !self.reset.val();
        self.neg2.d.next = self.neg1.q.val();
        self.nan2.d.next = self.nan1.q.val();
        self.inf2.d.next = self.inf1.q.val();
        self.ninf2.d.next = self.ninf1.q.val();
        self.fmt2.d.next = self.fmt1.q.val();

        // ---- stage 3: one right shift into the 260-bit field, per format
        self.src.next = bit_cast::<W, ACC_WIDTH>(self.norm2.q.val()) << self.k_acc_w.val();
        self.prefix.next = self.k0_w.val();
        self.pre_w.next = self.k0_w.val();
        self.t16.next = self.k0_16.val();
        self.t64.next = self.k0_64.val();
        self.rsh.next = self.k0_16.val();
        self.kb.next = self.k0_16.val();
        self.ebase3.d.next = 0.into();
        self.ovf3.d.next = false;
        if self.fmt2.q.val() == self.k_fp32.val() {
            if self.sb2.q.val() < self.f_emin[0].val() {
                self.rsh.next = self.f_emin[0].val() - self.sb2.q.val();
            } else {
                self.t16.next = self.sb2.q.val() - self.f_emin[0].val();
                self.ebase3.d.next = bit_cast::<32, 16>(self.t16.val());
            }
            self.ovf3.d.next = self.sb2.q.val() > self.f_max[0].val();
        }
        if self.fmt2.q.val() == self.k_bf16.val() {
            if self.sb2.q.val() < self.f_emin[1].val() {
                self.rsh.next = self.f_emin[1].val() - self.sb2.q.val();
            } else {
                self.t16.next = self.sb2.q.val() - self.f_emin[1].val();
                self.ebase3.d.next = bit_cast::<32, 16>(self.t16.val());
            }
            self.ovf3.d.next = self.sb2.q.val() > self.f_max[1].val();
        }
        if self.fmt2.q.val() == self.k_fp16.val() {
            if self.sb2.q.val() < self.f_emin[2].val() {
                self.rsh.next = self.f_emin[2].val() - self.sb2.q.val();
            } else {
                self.t16.next = self.sb2.q.val() - self.f_emin[2].val();
                self.ebase3.d.next = bit_cast::<32, 16>(self.t16.val());
            }
            self.ovf3.d.next = self.sb2.q.val() > self.f_max[2].val();
        }
        if self.fmt2.q.val() == self.k_int32.val() {
            self.ovf3.d.next = self.sb2.q.val() >= self.k_int_b.val();
            self.rsh.next = self.k_int_b.val() - self.sb2.q.val();
        }
        if self.fmt2.q.val() == self.k_posit.val() {
            // scale = 2k + x (es = 1); |k| beyond 16 saturates either way.
            self.kb.next = self.sb2.q.val() >> self.k_k1.val();
            if self.kb.val() < self.k_kmin.val() {
                self.kb.next = self.k_kmin.val();
            }
            if self.kb.val() > self.k_kmax.val() {
                self.kb.next = self.k_kmax.val();
            }
            // Exponent bit x where the hidden bit was, fraction below it.
            self.src.next = (bit_cast::<W, ACC_WIDTH>(self.norm2.q.val()) << self.k_acc_w.val())
                & !(self.k1_w.val() << self.k_top_w.val());
            if self.sb2.q.val().get_bit(0) {
                self.src.next = self.src.val() | (self.k1_w.val() << self.k_top_w.val());
            }
            // Regime: k + 1 ones and a zero, or −k zeros and a one.
            if self.kb.val() >= self.k_k0.val() {
                self.rsh.next = self.kb.val() - self.k_k510.val();
                self.t16.next = self.kb.val() - self.k_k511.val();
                self.pre_w.next = bit_cast::<W, 16>(self.t16.val());
                self.prefix.next = !(!self.k0_w.val() >> self.pre_w.val());
            } else {
                self.rsh.next = self.k_k513.val() - self.kb.val();
                self.t16.next = self.k_k0.val() - self.kb.val();
                self.pre_w.next = bit_cast::<W, 16>(self.t16.val());
                self.prefix.next = (self.k1_w.val() << self.k_top_w.val()) >> self.pre_w.val();
            }
        }
        if self.rsh.val() > self.k_max_shift.val() {
            self.rsh.next = self.k_max_shift.val();
        }
        self.rsh_w.next = bit_cast::<W, 16>(self.rsh.val());
        self.ext3.d.next = (self.src.val() >> self.rsh_w.val()) | self.prefix.val();
        self.v3.d.next = self.v2.q.val() & !self.reset.val();
        self.neg3.d.next = self.neg2.q.val();
        self.zero3.d.next = self.zero2.q.val();
        self.nan3.d.next = self.nan2.q.val();
        self.inf3.d.next = self.inf2.q.val();
        self.ninf3.d.next = self.ninf2.q.val();
        self.fmt3.d.next = self.fmt2.q.val();

        // ---- stage 4: round to nearest even at the format's position, overflow, specials
        self.q.next = 0.into();
        self.inc.next = false;
        self.mag.next = 0.into();
        self.res.d.next = 0.into();
        if self.fmt3.q.val() == self.k_fp32.val() {
            self.q.next = bit_cast::<64, K32>(self.ext3.q.val().get_bits::<K32>(self.k_q32.val().index()));
            self.inc.next = self.ext3.q.val().get_bit(self.k_g32.val().index())
                & (self.ext3.q.val().get_bits::<S32>(0).any() | self.q.val().get_bit(0));
            self.mag.next = (bit_cast::<64, 32>(self.ebase3.q.val()) << self.k_man_64[0].val()) + self.q.val();
            if self.inc.val() {
                self.mag.next = self.mag.val() + self.k1_64.val();
            }
            if self.ovf3.q.val() | (self.mag.val() > self.f_max_finite[0].val()) {
                self.mag.next = bit_cast::<64, 32>(self.f_inf[0].val());
            }
            self.res.d.next = bit_cast::<32, 64>(self.mag.val());
            if self.neg3.q.val() {
                self.res.d.next = bit_cast::<32, 64>(self.mag.val()) | self.f_sign[0].val();
            }
            if self.zero3.q.val() {
                self.res.d.next = 0.into();
            }
            if self.inf3.q.val() {
                self.res.d.next = self.f_inf[0].val();
                if self.ninf3.q.val() {
                    self.res.d.next = self.f_inf[0].val() | self.f_sign[0].val();
                }
            }
            if self.nan3.q.val() {
                self.res.d.next = self.f_nan[0].val();
            }
        }
        if self.fmt3.q.val() == self.k_bf16.val() {
            self.q.next = bit_cast::<64, KB16>(self.ext3.q.val().get_bits::<KB16>(self.k_qb16.val().index()));
            self.inc.next = self.ext3.q.val().get_bit(self.k_gb16.val().index())
                & (self.ext3.q.val().get_bits::<SB16>(0).any() | self.q.val().get_bit(0));
            self.mag.next = (bit_cast::<64, 32>(self.ebase3.q.val()) << self.k_man_64[1].val()) + self.q.val();
            if self.inc.val() {
                self.mag.next = self.mag.val() + self.k1_64.val();
            }
            if self.ovf3.q.val() | (self.mag.val() > self.f_max_finite[1].val()) {
                self.mag.next = bit_cast::<64, 32>(self.f_inf[1].val());
            }
            self.res.d.next = bit_cast::<32, 64>(self.mag.val());
            if self.neg3.q.val() {
                self.res.d.next = bit_cast::<32, 64>(self.mag.val()) | self.f_sign[1].val();
            }
            if self.zero3.q.val() {
                self.res.d.next = 0.into();
            }
            if self.inf3.q.val() {
                self.res.d.next = self.f_inf[1].val();
                if self.ninf3.q.val() {
                    self.res.d.next = self.f_inf[1].val() | self.f_sign[1].val();
                }
            }
            if self.nan3.q.val() {
                self.res.d.next = self.f_nan[1].val();
            }
        }
        if self.fmt3.q.val() == self.k_fp16.val() {
            self.q.next = bit_cast::<64, K16>(self.ext3.q.val().get_bits::<K16>(self.k_q16.val().index()));
            self.inc.next = self.ext3.q.val().get_bit(self.k_g16.val().index())
                & (self.ext3.q.val().get_bits::<S16>(0).any() | self.q.val().get_bit(0));
            self.mag.next = (bit_cast::<64, 32>(self.ebase3.q.val()) << self.k_man_64[2].val()) + self.q.val();
            if self.inc.val() {
                self.mag.next = self.mag.val() + self.k1_64.val();
            }
            if self.ovf3.q.val() | (self.mag.val() > self.f_max_finite[2].val()) {
                self.mag.next = bit_cast::<64, 32>(self.f_inf[2].val());
            }
            self.res.d.next = bit_cast::<32, 64>(self.mag.val());
            if self.neg3.q.val() {
                self.res.d.next = bit_cast::<32, 64>(self.mag.val()) | self.f_sign[2].val();
            }
            if self.zero3.q.val() {
                self.res.d.next = 0.into();
            }
            if self.inf3.q.val() {
                self.res.d.next = self.f_inf[2].val();
                if self.ninf3.q.val() {
                    self.res.d.next = self.f_inf[2].val() | self.f_sign[2].val();
                }
            }
            if self.nan3.q.val() {
                self.res.d.next = self.f_nan[2].val();
            }
        }
        if self.fmt3.q.val() == self.k_int32.val() {
            self.q.next = bit_cast::<64, INT_KEPT>(self.ext3.q.val().get_bits::<INT_KEPT>(self.k_qint.val().index()));
            self.inc.next = self.ext3.q.val().get_bit(self.k_gint.val().index())
                & (self.ext3.q.val().get_bits::<SINT>(0).any() | self.q.val().get_bit(0));
            self.mag.next = self.q.val();
            if self.inc.val() {
                self.mag.next = self.q.val() + self.k1_64.val();
            }
            if self.neg3.q.val() {
                if self.mag.val() > self.k_int_min.val() {
                    self.mag.next = self.k_int_min.val();
                }
                self.t64.next = self.k_2p32.val() - self.mag.val();
                self.res.d.next = bit_cast::<32, 64>(self.t64.val());
            } else {
                if self.mag.val() > self.k_int_max.val() {
                    self.mag.next = self.k_int_max.val();
                }
                self.res.d.next = bit_cast::<32, 64>(self.mag.val());
            }
            if self.ovf3.q.val() | self.inf3.q.val() {
                self.res.d.next = bit_cast::<32, 64>(self.k_int_max.val());
                if (self.ovf3.q.val() & self.neg3.q.val()) | (self.inf3.q.val() & self.ninf3.q.val()) {
                    self.res.d.next = bit_cast::<32, 64>(self.k_int_min.val());
                }
            }
            if self.nan3.q.val() | self.zero3.q.val() {
                self.res.d.next = 0.into();
            }
        }
        if self.fmt3.q.val() == self.k_posit.val() {
            self.q.next = bit_cast::<64, POS_KEPT>(self.ext3.q.val().get_bits::<POS_KEPT>(self.k_qpos.val().index()));
            self.inc.next = self.ext3.q.val().get_bit(self.k_gpos.val().index())
                & (self.ext3.q.val().get_bits::<SPOS>(0).any() | self.q.val().get_bit(0));
            self.mag.next = self.q.val();
            if self.inc.val() {
                self.mag.next = self.q.val() + self.k1_64.val();
            }
            // Never to zero, never to NaR.
            if self.mag.val() == self.k0_64.val() {
                self.mag.next = self.k1_64.val();
            }
            if self.mag.val() > self.k_posit_max.val() {
                self.mag.next = self.k_posit_max.val();
            }
            self.res.d.next = bit_cast::<32, 64>(self.mag.val());
            if self.neg3.q.val() {
                self.t64.next = self.k_2p16.val() - self.mag.val();
                self.res.d.next = bit_cast::<32, 64>(self.t64.val());
            }
            if self.zero3.q.val() {
                self.res.d.next = 0.into();
            }
            if self.nan3.q.val() | self.inf3.q.val() {
                self.res.d.next = self.k_posit_nar.val();
            }
        }
        self.unused_t64.next = self.t64.val();
        self.v4.d.next = self.v3.q.val() & !self.reset.val();
        self.out_valid.next = self.v4.q.val();
        self.result.next = self.res.q.val();
    }
}
