//! The golden model: bit-exact decode, exact arithmetic and rounding for every npe format.
//!
//! This is the judge the RTL and the simulator are tested against, so it is written for
//! obviousness rather than speed: every operand decodes (without rounding) into the unified
//! representation of [`npe_hdl::spec`], products and dot products are computed exactly
//! ([`Exact`], arbitrary precision), and a result is rounded exactly once, by [`round_exact`].
//! Widths, biases and special-value rules come from the format table
//! ([`npe_hdl::spec::formats`]); nothing here restates them.
//!
//! Rounding follows the independent references: ml_dtypes for FP4/FP6/FP8/E8M0 and SoftPosit
//! for posits (see [`round_exact`] for the exact rules and where they were checked).

mod block_dot;
mod decode;
mod dot;
mod exact;
mod round;

#[cfg(test)]
mod ovp_tests;
#[cfg(test)]
mod tests;

pub use npe_hdl::spec::{Encoding, FloatSpecials, Format, OutputFormat, Overflow, OvpNormal, Unified};

pub use block_dot::{block_dot, block_gemm, exact_block_dot, exact_mul, BlockDotError};
pub use decode::{decode, decode_codes, decode_pair, output_to_f64, to_f64, unified_f64, unified_to_exact};
pub use dot::{dot, exact_dot, exact_product, exact_sum};
pub use exact::Exact;
pub use round::{encode, encode_all, encode_checked, has_nan, round_exact, round_to_output, NanPolicy};

/// What the golden model refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GoldenError {
    /// A code has bits set above the format's width.
    #[error("code {code:#x} is out of range for {format} ({} bits)", format.bits())]
    CodeOutOfRange {
        /// The format the code was given for.
        format: Format,
        /// The offending code.
        code: u32,
    },
    /// The two vectors of a dot product differ in length.
    #[error("dot product of vectors of different lengths: {a} activations, {w} weights")]
    LengthMismatch {
        /// Length of the activation vector.
        a: usize,
        /// Length of the weight vector.
        w: usize,
    },
    /// A code of a pair format (OVP) given alone: its value depends on its partner.
    #[error(
        "{format} is an outlier-victim pair format: its codes decode and encode two at a time \
         (one byte per pair: golden::decode_pair; `npe quantize --scheme olive` encodes), not one by one"
    )]
    Paired {
        /// The pair format.
        format: Format,
    },
    /// Encoding one value of a BitMoD data type: the BitMoD quantizer picks the data type per
    /// block and encodes with its own tie rule.
    #[error(
        "{format} is a BitMoD data type: `npe quantize --scheme bitmod4|bitmod3` picks it per block and \
         encodes, not one value at a time"
    )]
    BlockTyped {
        /// The BitMoD data type.
        format: Format,
    },
    /// [`decode_pair`] of a format that is not a pair format.
    #[error("{format} is not an outlier-victim pair format: its codes decode one by one")]
    NotPaired {
        /// The format given.
        format: Format,
    },
    /// A vector of a pair format with an odd number of codes.
    #[error("{len} codes of {format}: a pair format needs an even number (pad K to even with a zero)")]
    OddPairs {
        /// The pair format.
        format: Format,
        /// The vector's length.
        len: usize,
    },
    /// A NaN to encode in a format that has no NaN code (INT, FP4, FP6), under
    /// [`NanPolicy::Refuse`].
    #[error(
        "element {index} is NaN ({}); {format} has no NaN code",
        if f64::from_bits(*bits).is_sign_negative() { "-NaN" } else { "NaN" }
    )]
    NanInput {
        /// The format it was to be encoded in.
        format: Format,
        /// Index of the element in the values given.
        index: usize,
        /// The NaN's bits (its sign and payload), since a NaN does not compare equal to itself.
        bits: u64,
    },
}
