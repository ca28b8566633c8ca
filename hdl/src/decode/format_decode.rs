//! The decoder top: every operand format of the table behind a format-select.

use super::{
    const_bit, const_bits, exp_const, row, E8m0Decode, FloatDecode, IntDecode, PositDecode, EXP_BITS, MANT_BITS,
};
use crate::copy_dff::CopyDff;
use crate::spec::formats::FORMATS;
use crate::spec::{Encoding, Format};
use rust_hdl::prelude::*;

/// Width of the format-select input: holds every hardware id of the table.
pub const FMT_BITS: usize = 5;
/// Every value of a format-select field: the width of a mask with one bit per format id.
pub const FMT_IDS: usize = 1 << FMT_BITS;
/// Width of the code input: the widest format of the table.
pub const CODE_BITS: usize = 16;

const fn widest_and_largest_id() -> (u32, u8) {
    let (mut bits, mut id, mut i) = (0, 0, 0);
    while i < FORMATS.len() {
        if FORMATS[i].bits > bits {
            bits = FORMATS[i].bits;
        }
        if FORMATS[i].id > id {
            id = FORMATS[i].id;
        }
        i += 1;
    }
    (bits, id)
}
// The port widths follow the table: fail the build if a new row outgrows them.
const _: () = assert!(widest_and_largest_id().0 as usize == CODE_BITS);
const _: () = assert!((widest_and_largest_id().1 as usize) < (1 << FMT_BITS));

const fn width(f: Format) -> usize {
    row(f).bits as usize
}

const fn float_widths(f: Format) -> (usize, usize) {
    match row(f).encoding {
        Encoding::Float { exp_bits, man_bits, .. } => (exp_bits as usize, man_bits as usize),
        _ => panic!("not a float row"),
    }
}

const fn posit_exp_window(f: Format) -> usize {
    match row(f).encoding {
        Encoding::Posit { es: 0 } => 1,
        Encoding::Posit { es } => es as usize,
        _ => panic!("not a posit row"),
    }
}

// Code widths of the formats, from the table (they size the code slices below).
const INT2: usize = width(Format::Int2);
const INT4: usize = width(Format::Int4);
const INT8: usize = width(Format::Int8);
const INT16: usize = width(Format::Int16);
const FP4: usize = width(Format::Fp4E2M1);
const FP6E2M3: usize = width(Format::Fp6E2M3);
const FP6E3M2: usize = width(Format::Fp6E3M2);
const FP8E4M3: usize = width(Format::Fp8E4M3);
const FP8E5M2: usize = width(Format::Fp8E5M2);
const E8M0: usize = width(Format::E8M0);
const POSIT4: usize = width(Format::Posit4Es1);
const POSIT8: usize = width(Format::Posit8Es0);
const POSIT16: usize = width(Format::Posit16Es1);

macro_rules! float_decode {
    ($f:expr) => {
        FloatDecode<{ width($f) }, { float_widths($f).0 }, { float_widths($f).1 }>
    };
}

macro_rules! posit_decode {
    ($f:expr) => {
        PositDecode<
            { width($f) },
            { width($f) - 1 },
            { width($f) - 2 },
            { width($f) - 3 },
            { posit_exp_window($f) },
        >
    };
}

/// FP4 E2M1 decoder, widths from the table.
pub type Fp4Decode = float_decode!(Format::Fp4E2M1);
/// FP6 E2M3 decoder, widths from the table.
pub type Fp6E2M3Decode = float_decode!(Format::Fp6E2M3);
/// FP6 E3M2 decoder, widths from the table.
pub type Fp6E3M2Decode = float_decode!(Format::Fp6E3M2);
/// FP8 E4M3 decoder, widths from the table.
pub type Fp8E4M3Decode = float_decode!(Format::Fp8E4M3);
/// FP8 E5M2 decoder, widths from the table.
pub type Fp8E5M2Decode = float_decode!(Format::Fp8E5M2);
/// Posit(4, 1) decoder, widths from the table.
pub type Posit4Decode = posit_decode!(Format::Posit4Es1);
/// Posit(8, 0) decoder, widths from the table.
pub type Posit8Decode = posit_decode!(Format::Posit8Es0);
/// Posit(16, 1) decoder, widths from the table.
pub type Posit16Decode = posit_decode!(Format::Posit16Es1);

/// Decodes a code of any operand format into the unified representation.
///
/// `fmt` is the format's hardware id ([`Format::id`]); `code` is right-aligned and bits above
/// the format's width are ignored. An id the table does not define gives all outputs 0.
/// One decoder instance per format; the outputs select one of them.
///
/// Combinational as built by [`FormatDecode::new`] / [`FormatDecode::with_formats`]; built by
/// [`FormatDecode::pipelined`] it has one register stage (outputs one clock after the code):
/// the posit decoders split inside (see [`PositDecode`]), the others decode the registered
/// code, and the select uses the registered id.
#[derive(LogicBlock)]
pub struct FormatDecode {
    /// Clock (used when pipelined).
    pub clock: Signal<In, Clock>,
    /// Hardware format id.
    pub fmt: Signal<In, Bits<FMT_BITS>>,
    /// The code, right-aligned.
    pub code: Signal<In, Bits<CODE_BITS>>,
    /// The value is zero.
    pub zero: Signal<Out, Bit>,
    /// NaN / NaR.
    pub nar: Signal<Out, Bit>,
    /// ±Inf.
    pub inf: Signal<Out, Bit>,
    /// Sign (1 = negative).
    pub sign: Signal<Out, Bit>,
    /// Exponent of `mant`'s LSB, two's complement.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// Significand, hidden bit included.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    int2: IntDecode<INT2>,
    int4: IntDecode<INT4>,
    int8: IntDecode<INT8>,
    int16: IntDecode<INT16>,
    fp4: Fp4Decode,
    fp6e2m3: Fp6E2M3Decode,
    fp6e3m2: Fp6E3M2Decode,
    fp8e4m3: Fp8E4M3Decode,
    fp8e5m2: Fp8E5M2Decode,
    e8m0: E8m0Decode,
    posit4: Posit4Decode,
    posit8: Posit8Decode,
    posit16: Posit16Decode,
    exp_zero: Constant<Bits<EXP_BITS>>,
    mant_zero: Constant<Bits<MANT_BITS>>,
    no: Constant<Bit>,
    piped: Constant<Bit>,
    r_code: DFF<Bits<CODE_BITS>>,
    // Per format of [`Format::ALL`] (in its order): its id, whether this decoder has it, and
    // `sel[i]`: the id is format i's. The outputs OR together the selected decoder's results
    // (at most one select is set), registered as one-hot bits when pipelined: a priority chain
    // on the registered id (thirteen compares deep) was the edge decoders' slowest path. Every
    // decoder keeps its own select registers ([`CopyDff`]): merged, one decoder's drove every
    // decoder of the same operand across the chip.
    ids: Vec<Constant<Bits<FMT_BITS>>>,
    ens: Vec<Constant<Bit>>,
    sel: Vec<Signal<Local, Bit>>,
    r_sel: Vec<CopyDff<Bit>>,
    // The code and selects the non-posit decoders and the outputs see (registered when
    // pipelined).
    b_code: Signal<Local, Bits<CODE_BITS>>,
    b_sel: Vec<Signal<Local, Bit>>,
}

/// Formats of [`Format::ALL`]: one select each.
const FORMATS_N: usize = Format::ALL.len();

fn id(f: Format) -> Constant<Bits<FMT_BITS>> {
    const_bits(f.id() as u64)
}

impl FormatDecode {
    /// The decoder for every format of the table.
    pub fn new() -> Self {
        Self::with_formats(&Format::ALL)
    }

    /// A decoder for `formats` only: the others decode like unknown ids (all outputs 0), and
    /// since their select is a constant 0, synthesis removes their logic. PE lanes that only
    /// ever see narrow formats use this.
    pub fn with_formats(formats: &[Format]) -> Self {
        Self::build(formats, false)
    }

    /// [`FormatDecode::with_formats`] with one register stage (see the type's docs).
    pub fn pipelined(formats: &[Format]) -> Self {
        Self::build(formats, true)
    }

    fn build(formats: &[Format], piped: bool) -> Self {
        fn posit<const N: usize, const NB: usize, const NR: usize, const NT: usize, const EW: usize>(
            f: Format,
            piped: bool,
        ) -> PositDecode<N, NB, NR, NT, EW> {
            if piped {
                PositDecode::pipelined(f.spec())
            } else {
                PositDecode::new(f.spec())
            }
        }
        let en = |f: Format| const_bit(formats.contains(&f));
        // One instance per row: adding a format to the table without a decoder here fails
        // to compile (the match is exhaustive).
        for f in Format::ALL {
            match f {
                Format::Int2
                | Format::Int4
                | Format::Int8
                | Format::Int16
                | Format::Fp4E2M1
                | Format::Fp6E2M3
                | Format::Fp6E3M2
                | Format::Fp8E4M3
                | Format::Fp8E5M2
                | Format::E8M0
                | Format::Posit4Es1
                | Format::Posit8Es0
                | Format::Posit16Es1 => {}
                // Pair formats decode two lanes at once (`OvpDecode`), not one code: they are
                // not in `Format::ALL`, and an id of theirs decodes like an unknown id here.
                Format::OvpInt4 | Format::OvpFlint4 => unreachable!("Format::ALL has no pair format"),
                // BitMoD's data types are weight elements of the block-scaled schemes, decoded
                // beside the dequantization unit (not built yet), not here: an id of theirs
                // decodes like an unknown id.
                Format::Bitmod4ErPos
                | Format::Bitmod4ErNeg
                | Format::Bitmod4EaPos
                | Format::Bitmod4EaNeg
                | Format::Bitmod3ErPos
                | Format::Bitmod3ErNeg
                | Format::Bitmod3EaPos
                | Format::Bitmod3EaNeg => unreachable!("Format::ALL has no BitMoD data type"),
            }
        }
        Self {
            clock: Default::default(),
            fmt: Default::default(),
            code: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            int2: IntDecode::new(Format::Int2.spec()),
            int4: IntDecode::new(Format::Int4.spec()),
            int8: IntDecode::new(Format::Int8.spec()),
            int16: IntDecode::new(Format::Int16.spec()),
            fp4: FloatDecode::new(Format::Fp4E2M1.spec()),
            fp6e2m3: FloatDecode::new(Format::Fp6E2M3.spec()),
            fp6e3m2: FloatDecode::new(Format::Fp6E3M2.spec()),
            fp8e4m3: FloatDecode::new(Format::Fp8E4M3.spec()),
            fp8e5m2: FloatDecode::new(Format::Fp8E5M2.spec()),
            e8m0: E8m0Decode::new(Format::E8M0.spec()),
            posit4: posit(Format::Posit4Es1, piped),
            posit8: posit(Format::Posit8Es0, piped),
            posit16: posit(Format::Posit16Es1, piped),
            exp_zero: exp_const(0),
            mant_zero: const_bits(0),
            no: const_bit(false),
            piped: const_bit(piped),
            r_code: Default::default(),
            ids: Format::ALL.iter().map(|&f| id(f)).collect(),
            ens: Format::ALL.iter().map(|&f| en(f)).collect(),
            sel: Format::ALL.iter().map(|_| Default::default()).collect(),
            r_sel: Format::ALL.iter().map(|_| Default::default()).collect(),
            b_code: Default::default(),
            b_sel: Format::ALL.iter().map(|_| Default::default()).collect(),
        }
    }
}

impl Default for FormatDecode {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for FormatDecode {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r_code);
        self.posit4.clock.next = self.clock.val();
        self.posit8.clock.next = self.clock.val();
        self.posit16.clock.next = self.clock.val();
        self.r_code.d.next = self.code.val();
        if self.piped.val() {
            self.b_code.next = self.r_code.q.val();
        } else {
            self.b_code.next = self.code.val();
        }
        for i in 0..FORMATS_N {
            self.r_sel[i].clock.next = self.clock.val();
            self.sel[i].next = self.ens[i].val() & (self.fmt.val() == self.ids[i].val());
            self.r_sel[i].d.next = self.sel[i].val();
            if self.piped.val() {
                self.b_sel[i].next = self.r_sel[i].q.val();
            } else {
                self.b_sel[i].next = self.sel[i].val();
            }
        }
        // Posit decoders see the code itself: their register is inside.
        self.int2.code.next = self.b_code.val().get_bits::<INT2>(0);
        self.int4.code.next = self.b_code.val().get_bits::<INT4>(0);
        self.int8.code.next = self.b_code.val().get_bits::<INT8>(0);
        self.int16.code.next = self.b_code.val().get_bits::<INT16>(0);
        self.fp4.code.next = self.b_code.val().get_bits::<FP4>(0);
        self.fp6e2m3.code.next = self.b_code.val().get_bits::<FP6E2M3>(0);
        self.fp6e3m2.code.next = self.b_code.val().get_bits::<FP6E3M2>(0);
        self.fp8e4m3.code.next = self.b_code.val().get_bits::<FP8E4M3>(0);
        self.fp8e5m2.code.next = self.b_code.val().get_bits::<FP8E5M2>(0);
        self.e8m0.code.next = self.b_code.val().get_bits::<E8M0>(0);
        self.posit4.code.next = self.code.val().get_bits::<POSIT4>(0);
        self.posit8.code.next = self.code.val().get_bits::<POSIT8>(0);
        self.posit16.code.next = self.code.val().get_bits::<POSIT16>(0);
        // Unknown ids: all outputs 0.
        self.zero.next = self.no.val();
        self.nar.next = self.no.val();
        self.inf.next = self.no.val();
        self.sign.next = self.no.val();
        self.exp.next = self.exp_zero.val();
        self.mant.next = self.mant_zero.val();
        if self.b_sel[0].val() {
            self.zero.next = self.zero.val() | self.int2.zero.val();
            self.nar.next = self.nar.val() | self.int2.nar.val();
            self.inf.next = self.inf.val() | self.int2.inf.val();
            self.sign.next = self.sign.val() | self.int2.sign.val();
            self.exp.next = self.exp.val() | self.int2.exp.val();
            self.mant.next = self.mant.val() | self.int2.mant.val();
        }
        if self.b_sel[1].val() {
            self.zero.next = self.zero.val() | self.int4.zero.val();
            self.nar.next = self.nar.val() | self.int4.nar.val();
            self.inf.next = self.inf.val() | self.int4.inf.val();
            self.sign.next = self.sign.val() | self.int4.sign.val();
            self.exp.next = self.exp.val() | self.int4.exp.val();
            self.mant.next = self.mant.val() | self.int4.mant.val();
        }
        if self.b_sel[2].val() {
            self.zero.next = self.zero.val() | self.int8.zero.val();
            self.nar.next = self.nar.val() | self.int8.nar.val();
            self.inf.next = self.inf.val() | self.int8.inf.val();
            self.sign.next = self.sign.val() | self.int8.sign.val();
            self.exp.next = self.exp.val() | self.int8.exp.val();
            self.mant.next = self.mant.val() | self.int8.mant.val();
        }
        if self.b_sel[3].val() {
            self.zero.next = self.zero.val() | self.int16.zero.val();
            self.nar.next = self.nar.val() | self.int16.nar.val();
            self.inf.next = self.inf.val() | self.int16.inf.val();
            self.sign.next = self.sign.val() | self.int16.sign.val();
            self.exp.next = self.exp.val() | self.int16.exp.val();
            self.mant.next = self.mant.val() | self.int16.mant.val();
        }
        if self.b_sel[4].val() {
            self.zero.next = self.zero.val() | self.fp4.zero.val();
            self.nar.next = self.nar.val() | self.fp4.nar.val();
            self.inf.next = self.inf.val() | self.fp4.inf.val();
            self.sign.next = self.sign.val() | self.fp4.sign.val();
            self.exp.next = self.exp.val() | self.fp4.exp.val();
            self.mant.next = self.mant.val() | self.fp4.mant.val();
        }
        if self.b_sel[5].val() {
            self.zero.next = self.zero.val() | self.fp6e2m3.zero.val();
            self.nar.next = self.nar.val() | self.fp6e2m3.nar.val();
            self.inf.next = self.inf.val() | self.fp6e2m3.inf.val();
            self.sign.next = self.sign.val() | self.fp6e2m3.sign.val();
            self.exp.next = self.exp.val() | self.fp6e2m3.exp.val();
            self.mant.next = self.mant.val() | self.fp6e2m3.mant.val();
        }
        if self.b_sel[6].val() {
            self.zero.next = self.zero.val() | self.fp6e3m2.zero.val();
            self.nar.next = self.nar.val() | self.fp6e3m2.nar.val();
            self.inf.next = self.inf.val() | self.fp6e3m2.inf.val();
            self.sign.next = self.sign.val() | self.fp6e3m2.sign.val();
            self.exp.next = self.exp.val() | self.fp6e3m2.exp.val();
            self.mant.next = self.mant.val() | self.fp6e3m2.mant.val();
        }
        if self.b_sel[7].val() {
            self.zero.next = self.zero.val() | self.fp8e4m3.zero.val();
            self.nar.next = self.nar.val() | self.fp8e4m3.nar.val();
            self.inf.next = self.inf.val() | self.fp8e4m3.inf.val();
            self.sign.next = self.sign.val() | self.fp8e4m3.sign.val();
            self.exp.next = self.exp.val() | self.fp8e4m3.exp.val();
            self.mant.next = self.mant.val() | self.fp8e4m3.mant.val();
        }
        if self.b_sel[8].val() {
            self.zero.next = self.zero.val() | self.fp8e5m2.zero.val();
            self.nar.next = self.nar.val() | self.fp8e5m2.nar.val();
            self.inf.next = self.inf.val() | self.fp8e5m2.inf.val();
            self.sign.next = self.sign.val() | self.fp8e5m2.sign.val();
            self.exp.next = self.exp.val() | self.fp8e5m2.exp.val();
            self.mant.next = self.mant.val() | self.fp8e5m2.mant.val();
        }
        if self.b_sel[9].val() {
            self.zero.next = self.zero.val() | self.e8m0.zero.val();
            self.nar.next = self.nar.val() | self.e8m0.nar.val();
            self.inf.next = self.inf.val() | self.e8m0.inf.val();
            self.sign.next = self.sign.val() | self.e8m0.sign.val();
            self.exp.next = self.exp.val() | self.e8m0.exp.val();
            self.mant.next = self.mant.val() | self.e8m0.mant.val();
        }
        if self.b_sel[10].val() {
            self.zero.next = self.zero.val() | self.posit4.zero.val();
            self.nar.next = self.nar.val() | self.posit4.nar.val();
            self.inf.next = self.inf.val() | self.posit4.inf.val();
            self.sign.next = self.sign.val() | self.posit4.sign.val();
            self.exp.next = self.exp.val() | self.posit4.exp.val();
            self.mant.next = self.mant.val() | self.posit4.mant.val();
        }
        if self.b_sel[11].val() {
            self.zero.next = self.zero.val() | self.posit8.zero.val();
            self.nar.next = self.nar.val() | self.posit8.nar.val();
            self.inf.next = self.inf.val() | self.posit8.inf.val();
            self.sign.next = self.sign.val() | self.posit8.sign.val();
            self.exp.next = self.exp.val() | self.posit8.exp.val();
            self.mant.next = self.mant.val() | self.posit8.mant.val();
        }
        if self.b_sel[12].val() {
            self.zero.next = self.zero.val() | self.posit16.zero.val();
            self.nar.next = self.nar.val() | self.posit16.nar.val();
            self.inf.next = self.inf.val() | self.posit16.inf.val();
            self.sign.next = self.sign.val() | self.posit16.sign.val();
            self.exp.next = self.exp.val() | self.posit16.exp.val();
            self.mant.next = self.mant.val() | self.posit16.mant.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{inf, nar, settle, val};
    use super::*;
    use crate::spec::Unified;

    fn top(b: &mut FormatDecode, fmt: u64, code: u64) -> Unified {
        b.fmt.next = bits(fmt);
        b.code.next = bits(code);
        settle(b);
        crate::decode::unified_outputs!(b)
    }

    /// The format's decoder on its own, outside the top.
    fn alone(f: Format, code: u64) -> Unified {
        fn run<B: Block>(mut b: B, set: impl FnOnce(&mut B), get: impl FnOnce(&B) -> Unified) -> Unified {
            set(&mut b);
            settle(&mut b);
            get(&b)
        }
        macro_rules! alone {
            ($b:expr) => {
                run(
                    $b,
                    |b| b.code.next = bits(code),
                    |b| crate::decode::unified_outputs!(b),
                )
            };
        }
        let s = f.spec();
        match f {
            Format::Int2 => alone!(IntDecode::<INT2>::new(s)),
            Format::Int4 => alone!(IntDecode::<INT4>::new(s)),
            Format::Int8 => alone!(IntDecode::<INT8>::new(s)),
            Format::Int16 => alone!(IntDecode::<INT16>::new(s)),
            Format::Fp4E2M1 => alone!(Fp4Decode::new(s)),
            Format::Fp6E2M3 => alone!(Fp6E2M3Decode::new(s)),
            Format::Fp6E3M2 => alone!(Fp6E3M2Decode::new(s)),
            Format::Fp8E4M3 => alone!(Fp8E4M3Decode::new(s)),
            Format::Fp8E5M2 => alone!(Fp8E5M2Decode::new(s)),
            Format::E8M0 => alone!(E8m0Decode::new(s)),
            Format::Posit4Es1 => alone!(Posit4Decode::new(s)),
            Format::Posit8Es0 => alone!(Posit8Decode::new(s)),
            Format::Posit16Es1 => alone!(Posit16Decode::new(s)),
            Format::OvpInt4 | Format::OvpFlint4 => panic!("{f} decodes in pairs (OvpDecode)"),
            Format::Bitmod4ErPos
            | Format::Bitmod4ErNeg
            | Format::Bitmod4EaPos
            | Format::Bitmod4EaNeg
            | Format::Bitmod3ErPos
            | Format::Bitmod3ErNeg
            | Format::Bitmod3EaPos
            | Format::Bitmod3EaNeg => panic!("{f} has no stand-alone decoder"),
        }
    }

    #[test]
    fn known_codes_through_the_select() {
        let mut b = FormatDecode::new();
        let id = |f: Format| f.id() as u64;
        assert_eq!(top(&mut b, id(Format::Fp4E2M1), 0x7), val(false, 1, 3));
        assert_eq!(top(&mut b, id(Format::Posit8Es0), 0x40), val(false, -5, 32));
        assert_eq!(top(&mut b, id(Format::Posit16Es1), 0x7FFF), val(false, 16, 1 << 12));
        assert_eq!(top(&mut b, id(Format::Fp8E4M3), 0x7F), nar());
        assert_eq!(top(&mut b, id(Format::Fp8E5M2), 0xFC), inf(true));
        assert_eq!(top(&mut b, id(Format::Int16), 0x8000), val(true, 0, 0x8000));
        assert_eq!(top(&mut b, id(Format::E8M0), 0xFF), nar());
        // Bits above the format's width are ignored.
        assert_eq!(top(&mut b, id(Format::Fp4E2M1), 0xABC7), val(false, 1, 3));
        assert_eq!(top(&mut b, id(Format::Int8), 0xFF80), val(true, 0, 128));
    }

    /// Pipelined, the decoder gives what the combinational one gives, one clock later, with a
    /// new format and code every cycle (so the select follows the code it belongs to).
    #[test]
    fn pipelined_is_the_combinational_decoder_one_clock_later() {
        use crate::accel::testbench::cycle;
        let mut comb = FormatDecode::new();
        let mut piped = FormatDecode::pipelined(&Format::ALL);
        piped.connect_all();
        let stream: Vec<(u64, u64)> = Format::ALL
            .into_iter()
            .flat_map(|f| {
                let step = if f.bits() > 8 { 61 } else { 1 };
                (0..f.code_count() as u64)
                    .step_by(step)
                    .map(move |c| (f.id() as u64, c))
            })
            .chain([(15, 0x7FFF)])
            .collect();
        for &(fmt, code) in &stream {
            piped.fmt.next = bits(fmt);
            piped.code.next = bits(code);
            cycle(&mut piped);
            // After the edge the outputs are this beat's, and stay so while the inputs move on
            // to the next beat (here: something else entirely) until the next edge.
            piped.fmt.next = bits(fmt ^ 0x5);
            piped.code.next = bits(!code & 0xFFFF);
            settle(&mut piped);
            let want = top(&mut comb, fmt, code);
            assert_eq!(crate::decode::unified_outputs!(piped), want, "fmt {fmt} code {code:#x}");
        }
    }

    #[test]
    fn unknown_ids_give_all_zeros() {
        let mut b = FormatDecode::new();
        // The pair formats' ids are not decoded here (OvpDecode does): they count as unknown.
        for fmt in Format::ALL.len() as u64..1 << FMT_BITS {
            for code in [0x0000, 0x0001, 0x7FFF, 0x8000, 0xFFFF] {
                assert_eq!(top(&mut b, fmt, code), Unified::default(), "fmt {fmt}");
            }
        }
    }

    #[test]
    fn every_format_reaches_its_own_decoder() {
        let mut b = FormatDecode::new();
        for f in Format::ALL {
            // All codes of the narrow formats; a spread of the 16-bit ones (the exhaustive
            // check against the golden model runs on the Verilog, in tests/).
            let step = if f.bits() > 8 { 97 } else { 1 };
            for code in (0..f.code_count() as u64).step_by(step) {
                let garbage = 0x5A5A_u64 << f.bits() & 0xFFFF;
                assert_eq!(
                    top(&mut b, f.id() as u64, code | garbage),
                    alone(f, code),
                    "{f} {code:#x}"
                );
            }
        }
    }
}
