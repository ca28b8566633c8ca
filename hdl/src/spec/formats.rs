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
    /// OliVe outlier-victim pairs (ISCA 2023): 4-bit codes that decode two at a time, a pair
    /// being one byte (see [`OvpNormal`] and [`ovp`] for the layout and the canonical forms).
    Ovp {
        /// The normal type of the tensor.
        normal: OvpNormal,
    },
    /// A BitMoD data type (HPCA 2025): the FP4 E2M1 grid (4-bit rows) or the FP3 grid (3-bit
    /// rows) with the redundant −0 code repurposed as one special value (see [`bitmod`]).
    Bitmod {
        /// Which special value the −0 code holds.
        special: BitmodSpecial,
    },
}

/// The special value of a BitMoD data type, held by its −0 code (the selector order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitmodSpecial {
    /// Extra resolution, positive: +5 (FP4) / +1.5 (FP3) in E2M1 units.
    ErPos,
    /// Extra resolution, negative: −5 / −1.5.
    ErNeg,
    /// Extra asymmetry, positive: +8 / +3.
    EaPos,
    /// Extra asymmetry, negative: −8 / −3.
    EaNeg,
}

/// BitMoD's data types (DESIGN §3.1), shared by the golden model, the host quantizer's tests
/// and the docs. Values are in E2M1 units.
///
/// - FP4 rows (4 bits): OCP E2M1 codes `s.ee.m`, magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6, in
///   E2M1's canonical unified form ([`Encoding::Float`]); the −0 code `1000` is the special:
///   ±5 (er) or ±8 (ea).
/// - FP3 rows (3 bits): codes `s.ee` (bit 2 the sign; E2M0 with bias 2 and a subnormal zero),
///   magnitudes 0, 0.5, 1, 2 (`mant = 1`, `exp = e − 2`); the −0 code `100` is the special:
///   ±1.5 (er) or ±3 (ea).
/// - A special's canonical form is its odd mantissa: 5 = 5·2^0, 8 = 1·2^3, 1.5 = 3·2^−1,
///   3 = 3·2^0.
///
/// A block's 2-bit selector picks the data type: 0 er_pos, 1 er_neg, 2 ea_pos, 3 ea_neg
/// ([`BitmodSpecial`] order; [`Format::bitmod`]).
pub mod bitmod {
    use super::{BitmodSpecial, Unified};

    /// The special value as (negative, mant, exp) for a `bits` = 4 or 3 data type.
    pub const fn special(bits: u32, special: BitmodSpecial) -> (bool, u16, i8) {
        let neg = matches!(special, BitmodSpecial::ErNeg | BitmodSpecial::EaNeg);
        let er = matches!(special, BitmodSpecial::ErPos | BitmodSpecial::ErNeg);
        let (mant, exp) = match (bits, er) {
            (4, true) => (5, 0),
            (4, false) => (1, 3),
            (3, true) => (3, -1),
            (3, false) => (3, 0),
            _ => panic!("BitMoD data types have 3 or 4 bits"),
        };
        (neg, mant, exp)
    }

    /// The unified form of `code` in the `bits`-bit data type with special value `special`.
    pub const fn unified(bits: u32, special_value: BitmodSpecial, code: u8) -> Unified {
        let sign_bit = 1u8 << (bits - 1);
        let code = code & ((sign_bit << 1) - 1);
        let sign = code & sign_bit != 0;
        let mag = code & (sign_bit - 1);
        if code == sign_bit {
            let (neg, mant, exp) = special(bits, special_value);
            return Unified::finite(neg, mant, exp);
        }
        if mag == 0 {
            return Unified::ZERO;
        }
        if bits == 4 {
            // E2M1 (bias 1): subnormal 0.m = m × 2^-1, normal 1.m × 2^(e−1) = (2 + m) × 2^(e−2).
            let (e, m) = ((mag >> 1) as i8, (mag & 1) as u16);
            if e == 0 {
                Unified::finite(sign, m, -1)
            } else {
                Unified::finite(sign, 2 + m, e - 2)
            }
        } else {
            // E2M0 (bias 2): 2^(e−2).
            Unified::finite(sign, 1, mag as i8 - 2)
        }
    }
}

/// The normal (non-outlier) type of an outlier-victim-pair tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OvpNormal {
    /// Symmetric int4 (two's complement, −7 … 7; `1000` = −8 is the marker).
    Int4,
    /// flint4 (sign-magnitude; magnitudes 0, 2, 4, 6, 8, 12, 16, 32; `1000` = −0 is the marker).
    Flint4,
}

/// The OliVe outlier-victim pair (OVP) layout, shared by the golden model, the host quantizer
/// and the pair decoder. Values are in *grid units*: int4 units for [`OvpNormal::Int4`] (normals
/// −7 … 7, threshold 8), flint units for [`OvpNormal::Flint4`] (the authors' units, threshold 32).
///
/// A pair is one byte: element `2k` (the first, lane 0 or 2) in bits 3:0, element `2k + 1`
/// (lane 1 or 3) in bits 7:4 — the order [`Format`] codes take in a lane-packed operand word.
/// - Neither nibble is the marker `1000`: both are normal codes.
/// - Exactly one nibble is the marker: it is the victim (value 0) and the other nibble is an
///   **abfloat** outlier `s.ee.m` (sign-magnitude), `±(1 + m/2)·2^(e + 5)` flint units
///   (`2^(e + 3)` int4 units): 48 … 384 flint units, 12 … 96 int4 units. Magnitude code `000`
///   (32 flint / 8 int4 units) is decoded by the same formula but never produced by the encoder
///   (the authors leave it out of the outlier grid).
/// - Both nibbles are the marker (not a legal pair; the encoder never writes it): both decode to 0.
///
/// Canonical unified forms (the decoders' output): int4 normals as [`Encoding::Int`]; flint
/// normals and abfloat outliers with `mant = 1.f` on one fraction bit (2 or 3); zeros and victims
/// as the canonical zero. See [`ovp::normal_unified`] and [`ovp::outlier_unified`].
pub mod ovp {
    use super::{OvpNormal, Unified};

    /// The marker code of a victim: `1000` (int4 −8 / flint −0, unused by both normal types).
    pub const MARKER: u8 = 0b1000;
    /// flint4 magnitudes by 3-bit magnitude code, in flint units.
    pub const FLINT_MAGS: [u32; 8] = [0, 2, 4, 6, 8, 12, 16, 32];
    /// Exponent bias of abfloat in flint units: magnitude `(1 + m/2)·2^(e + 5)`.
    pub const ABFLOAT_BIAS_FLINT: i32 = 5;
    /// Exponent bias of abfloat in int4 units (flint units / 4).
    pub const ABFLOAT_BIAS_INT4: i32 = 3;

    impl OvpNormal {
        /// The abfloat exponent bias in this normal type's units.
        pub const fn abfloat_bias(self) -> i32 {
            match self {
                OvpNormal::Int4 => ABFLOAT_BIAS_INT4,
                OvpNormal::Flint4 => ABFLOAT_BIAS_FLINT,
            }
        }

        /// The largest normal magnitude (7 int4 units, 32 flint units).
        pub const fn max_normal(self) -> u32 {
            match self {
                OvpNormal::Int4 => 7,
                OvpNormal::Flint4 => 32,
            }
        }

        /// The outlier threshold: values above it are outliers (8 int4 units, 32 flint units).
        pub const fn threshold(self) -> u32 {
            match self {
                OvpNormal::Int4 => 8,
                OvpNormal::Flint4 => 32,
            }
        }

        /// Bits of the widest canonical `mant` (int4 normals: 7 → 3 bits; else 1.f → 2 bits).
        pub const fn mant_bits(self) -> u32 {
            match self {
                OvpNormal::Int4 => 3,
                OvpNormal::Flint4 => 2,
            }
        }
    }

    const ZERO: Unified = Unified::ZERO;

    /// The unified form of a normal 4-bit code (the marker decodes to zero, as a victim).
    pub const fn normal_unified(normal: OvpNormal, code: u8) -> Unified {
        let code = code & 0xF;
        if code == MARKER {
            return ZERO;
        }
        match normal {
            OvpNormal::Int4 => {
                let sign = code & 8 != 0;
                let mag = if sign { 16 - code as u16 } else { code as u16 };
                if mag == 0 {
                    ZERO
                } else {
                    Unified::finite(sign, mag, 0)
                }
            }
            OvpNormal::Flint4 => {
                let mag = FLINT_MAGS[(code & 7) as usize];
                if mag == 0 {
                    return ZERO;
                }
                // mag = mant × 2^exp with mant ∈ {2, 3}.
                let tz = mag.trailing_zeros();
                let (mant, exp) = if (mag >> tz) == 3 { (3, tz) } else { (2, tz - 1) };
                Unified::finite(code & 8 != 0, mant, exp as i8)
            }
        }
    }

    /// The unified form of an abfloat outlier code `s.ee.m`: `mant = 2 + m`,
    /// `exp = e + bias − 1`.
    pub const fn outlier_unified(normal: OvpNormal, code: u8) -> Unified {
        let e = ((code >> 1) & 3) as i32;
        let m = (code & 1) as u16;
        Unified::finite(code & 8 != 0, 2 + m, (e + normal.abfloat_bias() - 1) as i8)
    }

    /// Decodes a pair byte (first element in bits 3:0) into its two unified values.
    pub const fn decode_pair(normal: OvpNormal, byte: u8) -> [Unified; 2] {
        let (lo, hi) = (byte & 0xF, byte >> 4);
        match (lo == MARKER, hi == MARKER) {
            (false, false) => [normal_unified(normal, lo), normal_unified(normal, hi)],
            (false, true) => [outlier_unified(normal, lo), ZERO],
            (true, false) => [ZERO, outlier_unified(normal, hi)],
            (true, true) => [ZERO, ZERO],
        }
    }
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
            // flint normals and abfloat outliers are 1.f with one fraction bit.
            Encoding::Ovp { .. } => 1,
            // The specials are the widest mantissas: 5 = 1.01b × 2^2 (FP4), 3 = 1.1b × 2^1 (FP3).
            Encoding::Bitmod { .. } => bits - 2,
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
    /// OliVe outlier-victim pairs, int4 normal type.
    OvpInt4,
    /// OliVe outlier-victim pairs, flint4 normal type.
    OvpFlint4,
    /// BitMoD FP4 with +5 (selector 0).
    Bitmod4ErPos,
    /// BitMoD FP4 with −5 (selector 1).
    Bitmod4ErNeg,
    /// BitMoD FP4 with +8 (selector 2).
    Bitmod4EaPos,
    /// BitMoD FP4 with −8 (selector 3).
    Bitmod4EaNeg,
    /// BitMoD FP3 with +1.5 (selector 0).
    Bitmod3ErPos,
    /// BitMoD FP3 with −1.5 (selector 1).
    Bitmod3ErNeg,
    /// BitMoD FP3 with +3 (selector 2).
    Bitmod3EaPos,
    /// BitMoD FP3 with −3 (selector 3).
    Bitmod3EaNeg,
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
pub const FORMATS: [FormatSpec; 23] = [
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
    FormatSpec { format: Format::OvpInt4, name: "ovp-int4", id: 13, bits: 4, encoding: Encoding::Ovp { normal: OvpNormal::Int4 }, overflow: Overflow::Saturate, description: "OliVe outlier-victim pairs, int4 normals (-7..7), abfloat outliers 12..96, byte pairs" },
    FormatSpec { format: Format::OvpFlint4, name: "ovp-flint4", id: 14, bits: 4, encoding: Encoding::Ovp { normal: OvpNormal::Flint4 }, overflow: Overflow::Saturate, description: "OliVe outlier-victim pairs, flint4 normals (2..32), abfloat outliers 48..384, byte pairs" },
    FormatSpec { format: Format::Bitmod4ErPos, name: "bitmod4-er-pos", id: 15, bits: 4, encoding: Encoding::Bitmod { special: BitmodSpecial::ErPos }, overflow: Overflow::Saturate, description: "BitMoD FP4 E2M1, -0 code = +5 (extra resolution)" },
    FormatSpec { format: Format::Bitmod4ErNeg, name: "bitmod4-er-neg", id: 16, bits: 4, encoding: Encoding::Bitmod { special: BitmodSpecial::ErNeg }, overflow: Overflow::Saturate, description: "BitMoD FP4 E2M1, -0 code = -5 (extra resolution)" },
    FormatSpec { format: Format::Bitmod4EaPos, name: "bitmod4-ea-pos", id: 17, bits: 4, encoding: Encoding::Bitmod { special: BitmodSpecial::EaPos }, overflow: Overflow::Saturate, description: "BitMoD FP4 E2M1, -0 code = +8 (extra asymmetry)" },
    FormatSpec { format: Format::Bitmod4EaNeg, name: "bitmod4-ea-neg", id: 18, bits: 4, encoding: Encoding::Bitmod { special: BitmodSpecial::EaNeg }, overflow: Overflow::Saturate, description: "BitMoD FP4 E2M1, -0 code = -8 (extra asymmetry)" },
    FormatSpec { format: Format::Bitmod3ErPos, name: "bitmod3-er-pos", id: 19, bits: 3, encoding: Encoding::Bitmod { special: BitmodSpecial::ErPos }, overflow: Overflow::Saturate, description: "BitMoD FP3 (0, 0.5, 1, 2), -0 code = +1.5 (extra resolution)" },
    FormatSpec { format: Format::Bitmod3ErNeg, name: "bitmod3-er-neg", id: 20, bits: 3, encoding: Encoding::Bitmod { special: BitmodSpecial::ErNeg }, overflow: Overflow::Saturate, description: "BitMoD FP3 (0, 0.5, 1, 2), -0 code = -1.5 (extra resolution)" },
    FormatSpec { format: Format::Bitmod3EaPos, name: "bitmod3-ea-pos", id: 21, bits: 3, encoding: Encoding::Bitmod { special: BitmodSpecial::EaPos }, overflow: Overflow::Saturate, description: "BitMoD FP3 (0, 0.5, 1, 2), -0 code = +3 (extra asymmetry)" },
    FormatSpec { format: Format::Bitmod3EaNeg, name: "bitmod3-ea-neg", id: 22, bits: 3, encoding: Encoding::Bitmod { special: BitmodSpecial::EaNeg }, overflow: Overflow::Saturate, description: "BitMoD FP3 (0, 0.5, 1, 2), -0 code = -3 (extra asymmetry)" },
];

impl Format {
    /// Every element-wise operand format, in hardware-id order: the formats an all-format
    /// preset's decoders handle. The pair formats ([`Format::PAIRED`]) are not in it: they need
    /// a pair decoder, which only the OliVe preset's fixed-point decoder has. Nor are BitMoD's
    /// data types ([`Format::BITMOD`]): a block's selector picks one, beside the dequantization
    /// unit, which no preset builds yet.
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

    /// The formats whose codes decode two at a time (OliVe outlier-victim pairs).
    pub const PAIRED: [Format; 2] = [Format::OvpInt4, Format::OvpFlint4];

    /// BitMoD's data types, FP4 then FP3, each in selector order: weight element formats of
    /// the block-scaled schemes (a block's selector picks one; as a job's W format each names
    /// its width only), in the block-scaled presets' sets.
    pub const BITMOD: [Format; 8] = [
        Format::Bitmod4ErPos,
        Format::Bitmod4ErNeg,
        Format::Bitmod4EaPos,
        Format::Bitmod4EaNeg,
        Format::Bitmod3ErPos,
        Format::Bitmod3ErNeg,
        Format::Bitmod3EaPos,
        Format::Bitmod3EaNeg,
    ];

    /// Every row of the format table, in hardware-id order ([`Format::ALL`], [`Format::PAIRED`],
    /// [`Format::BITMOD`]).
    pub const TABLE: [Format; 23] = {
        let mut out = [Format::Int2; 23];
        let mut i = 0;
        while i < Format::ALL.len() {
            out[i] = Format::ALL[i];
            i += 1;
        }
        while i < Format::ALL.len() + Format::PAIRED.len() {
            out[i] = Format::PAIRED[i - Format::ALL.len()];
            i += 1;
        }
        while i < out.len() {
            out[i] = Format::BITMOD[i - Format::ALL.len() - Format::PAIRED.len()];
            i += 1;
        }
        out
    };

    /// The BitMoD data type of `bits` = 4 or 3 that selector `sel` (0 … 3) picks.
    pub const fn bitmod(bits: u32, sel: u8) -> Option<Format> {
        match (bits, sel) {
            (4, 0..=3) => Some(Format::BITMOD[sel as usize]),
            (3, 0..=3) => Some(Format::BITMOD[4 + sel as usize]),
            _ => None,
        }
    }

    /// The data type a block's selector `sel` picks for a job whose W format is `self`: for a
    /// BitMoD type, the BitMoD type of its width that `sel` (its low two bits) names (a BitMoD
    /// W format names its width only); any other format is itself.
    pub const fn with_selector(self, sel: u8) -> Format {
        match self.spec().encoding {
            Encoding::Bitmod { .. } => match Format::bitmod(self.bits(), sel & 3) {
                Some(f) => f,
                None => panic!("BitMoD types have 3 or 4 bits"),
            },
            _ => self,
        }
    }

    /// Whether this is one of BitMoD's data types ([`Format::BITMOD`]).
    pub const fn is_bitmod(self) -> bool {
        matches!(self.spec().encoding, Encoding::Bitmod { .. })
    }

    /// Whether codes of this format decode in pairs (one byte per pair).
    pub const fn is_paired(self) -> bool {
        matches!(self.spec().encoding, Encoding::Ovp { .. })
    }

    /// The OVP normal type, for a paired format.
    pub const fn ovp_normal(self) -> Option<OvpNormal> {
        match self.spec().encoding {
            Encoding::Ovp { normal } => Some(normal),
            _ => None,
        }
    }

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

impl Unified {
    /// The (positive) zero.
    pub const ZERO: Unified = Unified {
        zero: true,
        nar: false,
        inf: false,
        sign: false,
        exp: 0,
        mant: 0,
    };

    /// The finite nonzero value `(-1)^sign × mant × 2^exp`.
    pub const fn finite(sign: bool, mant: u16, exp: i8) -> Unified {
        Unified {
            zero: false,
            nar: false,
            inf: false,
            sign,
            exp,
            mant,
        }
    }
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
            assert_eq!(Format::TABLE[i], s.format);
            assert_eq!(Format::from_name(s.name), Some(s.format));
            assert_eq!(
                Format::ALL.contains(&s.format),
                !s.format.is_paired() && !Format::BITMOD.contains(&s.format),
                "{}",
                s.name
            );
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

    /// Every BitMoD code against the values DESIGN §3.1 lists (E2M1 units): the plain grid, and
    /// the special at the −0 code; the widest mantissa fits `max_frac_bits + 1` bits.
    #[test]
    fn bitmod_codes_are_the_designs_values() {
        let value = |u: Unified| {
            let v = f64::from(u.mant) * 2f64.powi(i32::from(u.exp));
            if u.zero {
                0.0
            } else if u.sign {
                -v
            } else {
                v
            }
        };
        let grids: [(u32, [f64; 4], &[f64]); 2] = [
            (4, [5.0, -5.0, 8.0, -8.0], &[0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]),
            (3, [1.5, -1.5, 3.0, -3.0], &[0.0, 0.5, 1.0, 2.0]),
        ];
        for (bits, specials, mags) in grids {
            for sel in 0..4u8 {
                let f = Format::bitmod(bits, sel).unwrap();
                let Encoding::Bitmod { special } = f.spec().encoding else {
                    panic!("{f}")
                };
                assert_eq!(f.bits(), bits);
                let half = 1u8 << (bits - 1);
                for code in 0..half << 1 {
                    let u = bitmod::unified(bits, special, code);
                    let want = if code == half {
                        specials[sel as usize]
                    } else if code > half {
                        -mags[usize::from(code - half)]
                    } else {
                        mags[usize::from(code)]
                    };
                    assert_eq!(value(u), want, "{f} {code:#x}");
                    assert_eq!(u.zero, want == 0.0, "{f} {code:#x}");
                    assert!(
                        u32::from(u.mant) < 1 << (f.spec().encoding.max_frac_bits(bits) + 1),
                        "{f} {code:#x}"
                    );
                }
            }
        }
        assert_eq!(Format::bitmod(4, 4), None);
        assert_eq!(Format::bitmod(2, 0), None);
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
        assert_eq!(Format::from_id(FORMATS.len() as u8), None);
        assert_eq!(OutputFormat::from_name("int8"), None);
    }
}
