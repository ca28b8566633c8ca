//! The format table: the single source of truth for every number format npe knows.
//!
//! Widths, biases, special-value rules and the hardware format id of each operand format are
//! defined here once. The golden model (npe-host), the decoders (this crate), the simulator and
//! the docs all read this table; none of them restates a bias or a width.
//!
//! Every operand decodes into the *unified representation* `(zero, nar, inf, sign, exp, mant)`
//! with value `(-1)^sign × mant × 2^exp` (see [`Unified`]). The canonical form of each encoding is
//! documented on [`Encoding`]; hardware decoders and the golden model must produce it bit for bit.

use std::fmt;

/// What a float format does with its top exponent codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatSpecials {
    /// Every code is finite (OCP FP4 E2M1, FP6 E2M3/E3M2).
    None,
    /// Only `S.1…1.1…1` is NaN, no infinities (OCP FP8 E4M3 "fn").
    NanOnly,
    /// IEEE 754: the all-ones exponent holds ±Inf (mantissa 0) and NaN (FP8 E5M2, FP16, BF16, FP32).
    Ieee,
}

/// What encoding a finite value too large for the format gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Clamp to the largest finite value of the same sign.
    Saturate,
    /// Become NaN (FP8 E4M3 "fn", E8M0).
    ToNan,
    /// Become ±Inf (IEEE formats).
    ToInf,
}

/// How a format's codes map to values.
///
/// Canonical unified form per encoding (zeros: `zero = 1, sign = 0, exp = 0, mant = 0`;
/// NaN/NaR: `nar = 1`, other fields 0; ±Inf: `inf = 1`, `sign` kept, other fields 0):
/// - `Int`: `exp = 0`, `mant = |x|`, `sign = x < 0`.
/// - `Float`: normal `mant = 1.f` as an integer with `man_bits` fraction bits,
///   `exp = e − bias − man_bits`; subnormal `mant = f`, `exp = 1 − bias − man_bits`.
/// - `PowerOfTwo`: `mant = 1`, `exp = code − bias`; the all-ones code is NaN.
/// - `Posit`: `mant = 1.f` with the fraction left-aligned to [`Encoding::max_frac_bits`] bits,
///   `exp = scale − max_frac_bits` where `scale = k·2^es + e`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Two's complement integer.
    Int,
    /// Sign, biased exponent (with subnormals), mantissa.
    Float {
        /// Exponent field width.
        exp_bits: u32,
        /// Mantissa (fraction) field width.
        man_bits: u32,
        /// Exponent bias.
        bias: i32,
        /// Meaning of the top exponent codes.
        specials: FloatSpecials,
    },
    /// Unsigned power of two `2^(code − bias)`, all-ones = NaN (OCP E8M0 block scale).
    PowerOfTwo {
        /// Exponent bias.
        bias: i32,
    },
    /// Posit with `es` exponent bits (0…0 = 0, 10…0 = NaR, negatives by two's complement).
    Posit {
        /// Exponent field width.
        es: u32,
    },
}

impl Encoding {
    /// Fraction bits of the canonical mantissa for a `bits`-wide code: the hidden bit sits at
    /// this position. 0 for integers and power-of-two scales.
    pub const fn max_frac_bits(self, bits: u32) -> u32 {
        match self {
            Encoding::Int | Encoding::PowerOfTwo { .. } => 0,
            Encoding::Float { man_bits, .. } => man_bits,
            // sign + the shortest regime (2 bits) + es exponent bits; the rest is fraction.
            Encoding::Posit { es } => bits.saturating_sub(3 + es),
        }
    }
}

/// An operand format: what the multiplier's inputs can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// 2-bit two's complement integer.
    Int2,
    /// 4-bit two's complement integer.
    Int4,
    /// 8-bit two's complement integer.
    Int8,
    /// 16-bit two's complement integer.
    Int16,
    /// OCP FP4 E2M1.
    Fp4E2M1,
    /// OCP FP6 E2M3.
    Fp6E2M3,
    /// OCP FP6 E3M2.
    Fp6E3M2,
    /// OCP FP8 E4M3 ("fn": no Inf, one NaN per sign).
    Fp8E4M3,
    /// FP8 E5M2 (IEEE-like Inf/NaN).
    Fp8E5M2,
    /// OCP E8M0 power-of-two block scale.
    E8M0,
    /// Posit(4, 1).
    Posit4Es1,
    /// Posit(8, 0) (SoftPosit's posit8).
    Posit8Es0,
    /// Posit(16, 1) (SoftPosit's posit16).
    Posit16Es1,
}

/// One row of the format table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    /// The format this row describes.
    pub format: Format,
    /// Name used on the command line, in files and in docs.
    pub name: &'static str,
    /// Hardware format id: the value of a format-select field.
    pub id: u8,
    /// Code width in bits.
    pub bits: u32,
    /// How codes map to values.
    pub encoding: Encoding,
    /// What encoding from a too-large finite value gives.
    pub overflow: Overflow,
    /// One line for docs and `npe info`.
    pub description: &'static str,
}

const fn float(exp_bits: u32, man_bits: u32, bias: i32, specials: FloatSpecials) -> Encoding {
    Encoding::Float {
        exp_bits,
        man_bits,
        bias,
        specials,
    }
}

/// The operand format table, ordered by hardware id.
#[rustfmt::skip]
pub const FORMATS: [FormatSpec; 13] = [
    FormatSpec { format: Format::Int2, name: "int2", id: 0, bits: 2, encoding: Encoding::Int, overflow: Overflow::Saturate, description: "2-bit two's complement" },
    FormatSpec { format: Format::Int4, name: "int4", id: 1, bits: 4, encoding: Encoding::Int, overflow: Overflow::Saturate, description: "4-bit two's complement" },
    FormatSpec { format: Format::Int8, name: "int8", id: 2, bits: 8, encoding: Encoding::Int, overflow: Overflow::Saturate, description: "8-bit two's complement" },
    FormatSpec { format: Format::Int16, name: "int16", id: 3, bits: 16, encoding: Encoding::Int, overflow: Overflow::Saturate, description: "16-bit two's complement" },
    FormatSpec { format: Format::Fp4E2M1, name: "fp4", id: 4, bits: 4, encoding: float(2, 1, 1, FloatSpecials::None), overflow: Overflow::Saturate, description: "OCP FP4 E2M1, subnormals, no Inf/NaN" },
    FormatSpec { format: Format::Fp6E2M3, name: "fp6e2m3", id: 5, bits: 6, encoding: float(2, 3, 1, FloatSpecials::None), overflow: Overflow::Saturate, description: "OCP FP6 E2M3, subnormals, no Inf/NaN" },
    FormatSpec { format: Format::Fp6E3M2, name: "fp6e3m2", id: 6, bits: 6, encoding: float(3, 2, 3, FloatSpecials::None), overflow: Overflow::Saturate, description: "OCP FP6 E3M2, subnormals, no Inf/NaN" },
    FormatSpec { format: Format::Fp8E4M3, name: "fp8e4m3", id: 7, bits: 8, encoding: float(4, 3, 7, FloatSpecials::NanOnly), overflow: Overflow::ToNan, description: "OCP FP8 E4M3fn, max 448, S.1111.111 = NaN, no Inf" },
    FormatSpec { format: Format::Fp8E5M2, name: "fp8e5m2", id: 8, bits: 8, encoding: float(5, 2, 15, FloatSpecials::Ieee), overflow: Overflow::ToInf, description: "FP8 E5M2, IEEE-like Inf/NaN" },
    FormatSpec { format: Format::E8M0, name: "e8m0", id: 9, bits: 8, encoding: Encoding::PowerOfTwo { bias: 127 }, overflow: Overflow::ToNan, description: "OCP E8M0 scale 2^(e-127), 0xFF = NaN" },
    FormatSpec { format: Format::Posit4Es1, name: "posit4", id: 10, bits: 4, encoding: Encoding::Posit { es: 1 }, overflow: Overflow::Saturate, description: "Posit(4,1)" },
    FormatSpec { format: Format::Posit8Es0, name: "posit8", id: 11, bits: 8, encoding: Encoding::Posit { es: 0 }, overflow: Overflow::Saturate, description: "Posit(8,0) (SoftPosit posit8)" },
    FormatSpec { format: Format::Posit16Es1, name: "posit16", id: 12, bits: 16, encoding: Encoding::Posit { es: 1 }, overflow: Overflow::Saturate, description: "Posit(16,1) (SoftPosit posit16)" },
];

impl Format {
    /// Every operand format, in hardware-id order.
    pub const ALL: [Format; 13] = [
        Format::Int2,
        Format::Int4,
        Format::Int8,
        Format::Int16,
        Format::Fp4E2M1,
        Format::Fp6E2M3,
        Format::Fp6E3M2,
        Format::Fp8E4M3,
        Format::Fp8E5M2,
        Format::E8M0,
        Format::Posit4Es1,
        Format::Posit8Es0,
        Format::Posit16Es1,
    ];

    /// This format's row of [`FORMATS`].
    pub const fn spec(self) -> &'static FormatSpec {
        // FORMATS is ordered like the enum; the unit test below holds it to that.
        &FORMATS[self as usize]
    }

    /// Short name (`"fp4"`, `"posit16"`, ...).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Code width in bits.
    pub const fn bits(self) -> u32 {
        self.spec().bits
    }

    /// Hardware format id.
    pub const fn id(self) -> u8 {
        self.spec().id
    }

    /// Number of codes, `2^bits`.
    pub fn code_count(self) -> u32 {
        1 << self.bits()
    }

    /// Looks a format up by its table name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Format> {
        FORMATS
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(|s| s.format)
    }

    /// Looks a format up by its hardware id.
    pub fn from_id(id: u8) -> Option<Format> {
        FORMATS.get(id as usize).map(|s| s.format)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An output format: what the output unit rounds an exact accumulator to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputFormat {
    /// IEEE binary32, round to nearest even, overflow to ±Inf.
    Fp32,
    /// bfloat16, round to nearest even, overflow to ±Inf.
    Bf16,
    /// IEEE binary16, round to nearest even, overflow to ±Inf.
    Fp16,
    /// 32-bit two's complement, round to nearest even, saturating.
    Int32,
    /// Posit(16, 1), round to nearest even, never to 0 or NaR.
    Posit16Es1,
}

/// One row of the output format table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputFormatSpec {
    /// The format this row describes.
    pub format: OutputFormat,
    /// Name used on the command line, in files and in docs.
    pub name: &'static str,
    /// Hardware output-format id.
    pub id: u8,
    /// Code width in bits.
    pub bits: u32,
    /// How codes map to values.
    pub encoding: Encoding,
    /// What rounding a too-large value gives.
    pub overflow: Overflow,
}

/// The output format table, ordered by hardware id.
#[rustfmt::skip]
pub const OUTPUT_FORMATS: [OutputFormatSpec; 5] = [
    OutputFormatSpec { format: OutputFormat::Fp32, name: "fp32", id: 0, bits: 32, encoding: float(8, 23, 127, FloatSpecials::Ieee), overflow: Overflow::ToInf },
    OutputFormatSpec { format: OutputFormat::Bf16, name: "bf16", id: 1, bits: 16, encoding: float(8, 7, 127, FloatSpecials::Ieee), overflow: Overflow::ToInf },
    OutputFormatSpec { format: OutputFormat::Fp16, name: "fp16", id: 2, bits: 16, encoding: float(5, 10, 15, FloatSpecials::Ieee), overflow: Overflow::ToInf },
    OutputFormatSpec { format: OutputFormat::Int32, name: "int32", id: 3, bits: 32, encoding: Encoding::Int, overflow: Overflow::Saturate },
    OutputFormatSpec { format: OutputFormat::Posit16Es1, name: "posit16", id: 4, bits: 16, encoding: Encoding::Posit { es: 1 }, overflow: Overflow::Saturate },
];

impl OutputFormat {
    /// Every output format, in hardware-id order.
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::Fp32,
        OutputFormat::Bf16,
        OutputFormat::Fp16,
        OutputFormat::Int32,
        OutputFormat::Posit16Es1,
    ];

    /// This format's row of [`OUTPUT_FORMATS`].
    pub fn spec(self) -> &'static OutputFormatSpec {
        &OUTPUT_FORMATS[self as usize]
    }

    /// Short name (`"fp32"`, ...).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Looks an output format up by its table name (case-insensitive).
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        OUTPUT_FORMATS
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(|s| s.format)
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The unified representation every operand decodes into: value `(-1)^sign × mant × 2^exp`.
///
/// `mant` includes the hidden bit; decode never rounds. See [`Encoding`] for the canonical form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Unified {
    /// The value is zero.
    pub zero: bool,
    /// NaN (floats, E8M0) or NaR (posits).
    pub nar: bool,
    /// ±Infinity (IEEE-like formats only).
    pub inf: bool,
    /// Sign (1 = negative).
    pub sign: bool,
    /// Power-of-two exponent of `mant`'s LSB.
    pub exp: i8,
    /// Integer significand, hidden bit included.
    pub mant: u16,
}

/// Widths of the unified representation's fields in hardware.
pub mod unified_width {
    /// Bits of `exp` (two's complement).
    pub const EXP: usize = 8;
    /// Bits of `mant`.
    pub const MANT: usize = 16;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_in_id_and_enum_order() {
        for (i, s) in FORMATS.iter().enumerate() {
            assert_eq!(s.id as usize, i, "{}", s.name);
            assert_eq!(s.format as usize, i, "{}", s.name);
            assert_eq!(Format::ALL[i], s.format);
            assert_eq!(Format::from_name(s.name), Some(s.format));
        }
        for (i, s) in OUTPUT_FORMATS.iter().enumerate() {
            assert_eq!(s.id as usize, i, "{}", s.name);
            assert_eq!(s.format as usize, i, "{}", s.name);
            assert_eq!(OutputFormat::ALL[i], s.format);
        }
    }

    #[test]
    fn float_fields_fill_the_code() {
        for s in FORMATS {
            if let Encoding::Float { exp_bits, man_bits, .. } = s.encoding {
                assert_eq!(1 + exp_bits + man_bits, s.bits, "{}", s.name);
            }
        }
    }

    #[test]
    fn posit_fraction_widths() {
        assert_eq!(Format::Posit4Es1.spec().encoding.max_frac_bits(4), 0);
        assert_eq!(Format::Posit8Es0.spec().encoding.max_frac_bits(8), 5);
        assert_eq!(Format::Posit16Es1.spec().encoding.max_frac_bits(16), 12);
    }

    #[test]
    fn unknown_names_and_ids_are_none() {
        assert_eq!(Format::from_name("fp5"), None);
        assert_eq!(Format::from_id(13), None);
        assert_eq!(OutputFormat::from_name("int8"), None);
    }
}
