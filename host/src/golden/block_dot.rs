//! Exact block-scaled dot products (DESIGN §3.1.1): activations in an element format against one
//! row of a block-quantized weight tensor ([`BlockTensor`]: BitMoD, MXFP4, NVFP4, INT4 / FP4 per
//! group), rounded once.
//!
//! # The value computed
//!
//! Row `r` of the weights is cut into blocks of B columns (the last one short when B ∤ K, see
//! [`crate::quant::block`]). For each block `j` the **partial sum** `P_j = Σ a_i · w_i` over the
//! block's columns is exact, with `a_i` the decoded activation ([`decode_codes`]) and `w_i` the
//! weight code's value **in the scheme's grid units**:
//!
//! | scheme | `w_i` | block scale `S_j` (exact) |
//! |---|---|---|
//! | BitMoD 4 / 3 | the value of the code in the data type the block's selector picks ([`crate::quant::bitmod::value`], E2M1 units) | integer `q` (u8) × the row's `f32` scale |
//! | MXFP4 | FP4 E2M1 | E8M0 `2^(e − 127)`; code `0xFF` is NaN |
//! | NVFP4 | FP4 E2M1 | FP8 E4M3 (its NaN codes are NaN) × the tensor's `f32` scale |
//! | INT4 per group | INT4 (two's complement; `1000` = −8 is accepted though never written) | the block's `f32` |
//! | FP4 per group | FP4 E2M1 | the block's `f32` |
//!
//! The result is `Σ_j P_j · S_j`, exact ([`exact_block_dot`]), then rounded once to an output
//! format by [`round_to_output`] ([`block_dot`]). Every `f32` is converted exactly (an `f32` is a
//! dyadic rational, [`Exact::from_f64`] of its `f64` widening); nothing is rounded before the
//! output stage, so the result does not depend on the order of blocks or terms. Scale codes are
//! taken at their decoded value whatever it is: a negative E4M3 code (never written by the NVFP4
//! quantizer) is a negative scale.
//!
//! The activation vector is decoded whole before it is cut into blocks, so for a pair format
//! (OVP) a pair that straddles a block boundary (odd B) still decodes as a pair.
//!
//! # Specials
//!
//! - Within a block, NaN / Inf follow [`exact_dot`](super::exact_dot): a NaN or NaR activation
//!   (FP8 NaN, posit NaR) makes the partial sum NaN, Inf × 0 is NaN, Infs of one sign give that
//!   Inf, of both signs NaN.
//! - `P_j · S_j` follows [`exact_mul`]: NaN in either factor gives NaN (so **an E8M0 `0xFF` or an
//!   E4M3 NaN scale makes its block NaN, even when the block's partial sum is 0**), Inf × 0 is
//!   NaN, Inf × nonzero is Inf. A non-finite `f32` scale (never written by the quantizers) is
//!   taken at its value the same way.
//! - The block terms are summed by [`exact_sum`] (NaN wins; +Inf and −Inf together give NaN).
//!
//! # What is refused ([`BlockDotError`])
//!
//! An activation vector whose length is not K, a row out of range, a weight code too wide for the
//! scheme (3 bits BitMoD3, else 4), a BitMoD selector above 3, and metadata of the wrong length or
//! kind: scales (`rows × ⌈K/B⌉`, `u8` for BitMoD / MXFP4 / NVFP4, `f32` for the per-group
//! baselines), selectors and row scales (BitMoD only), the tensor scale (NVFP4 only), codes
//! (`rows × K`), B = 0. Activation codes too wide for their format, and an odd K for a pair
//! format, are the golden model's own errors ([`GoldenError`]).

use num_bigint::BigInt;
use num_traits::Zero;

use super::decode::{decode, decode_codes, unified_to_exact};
use super::dot::{accumulate, exact_sum};
use super::exact::Exact;
use super::round::round_to_output;
use super::GoldenError;
use crate::quant::bitmod;
use crate::quant::block::{blocks, BlockScales, BlockScheme, BlockTensor};
use npe_hdl::spec::{Format, OutputFormat, Unified};

/// What the block-scaled golden model refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockDotError {
    /// The activation vector's length is not the weights' K.
    #[error("{a} activations against weight rows of K = {k}")]
    KMismatch {
        /// Length of the activation vector (or of the activation matrix, for a GEMM).
        a: usize,
        /// The weights' row length.
        k: usize,
    },
    /// A weight row index beyond the tensor.
    #[error("row {row} is out of range: the weights have {rows} rows")]
    RowOutOfRange {
        /// The row asked for.
        row: usize,
        /// Rows of the tensor.
        rows: usize,
    },
    /// The block size is 0.
    #[error("the block size is 0")]
    ZeroBlock,
    /// A weight code with bits set above the scheme's code width.
    #[error("weight code {code:#x} at element {index} is out of range for {} ({} bits)", scheme.name(), scheme.code_bits())]
    CodeOutOfRange {
        /// The scheme.
        scheme: BlockScheme,
        /// Index of the code in [`BlockTensor::codes`].
        index: usize,
        /// The offending code.
        code: u8,
    },
    /// A BitMoD selector above 3.
    #[error("BitMoD selector {selector} of block {index} is out of range (0 … 3)")]
    SelectorOutOfRange {
        /// Index of the selector in [`BlockTensor::selectors`].
        index: usize,
        /// The offending selector.
        selector: u8,
    },
    /// A metadata array (codes, scales, selectors, row scales, the tensor scale) of the wrong
    /// length: `expected` is what the scheme and the shape ask for (0 where it has none).
    #[error("{}: {got} {what}, expected {expected}", scheme.name())]
    Metadata {
        /// The scheme.
        scheme: BlockScheme,
        /// Which array.
        what: &'static str,
        /// How many the tensor holds.
        got: usize,
        /// How many the scheme and the shape ask for.
        expected: usize,
    },
    /// Block scales of the wrong kind (`f32` where the scheme has 8-bit codes, or the reverse).
    #[error("{}: block scales of the wrong kind ({found})", scheme.name())]
    ScaleKind {
        /// The scheme.
        scheme: BlockScheme,
        /// The kind found: "u8" or "f32".
        found: &'static str,
    },
    /// An activation error from the golden model (a code too wide for its format, an odd K for
    /// a pair format).
    #[error(transparent)]
    Golden(#[from] GoldenError),
}

/// The exact product of two exact values: NaN in either gives NaN, Inf × 0 gives NaN, Inf ×
/// nonzero gives Inf with the xor of the signs, else the exact product (normalized; zero is
/// [`Exact::zero`]).
pub fn exact_mul(x: &Exact, y: &Exact) -> Exact {
    let neg = |e: &Exact| match e {
        Exact::Inf { negative } => *negative,
        Exact::Finite { mant, .. } => mant.sign() == num_bigint::Sign::Minus,
        Exact::NaN => false,
    };
    match (x, y) {
        (Exact::NaN, _) | (_, Exact::NaN) => Exact::NaN,
        (Exact::Inf { .. }, o) | (o, Exact::Inf { .. }) if o.is_zero() => Exact::NaN,
        (Exact::Inf { .. }, _) | (_, Exact::Inf { .. }) => Exact::Inf {
            negative: neg(x) ^ neg(y),
        },
        (Exact::Finite { mant: ma, exp: ea }, Exact::Finite { mant: mb, exp: eb }) => Exact::Finite {
            mant: ma * mb,
            exp: ea.saturating_add(*eb),
        }
        .normalized(),
    }
}

/// The exact value of an `f32` scale.
fn f32_exact(s: f32) -> Exact {
    Exact::from_f64(f64::from(s))
}

/// The unified form of a small dyadic `f64` (a BitMoD grid value: a multiple of 1/2 below 16).
fn dyadic_unified(v: f64) -> Unified {
    match Exact::from_f64(v).normalized() {
        Exact::Finite { mant, exp } if !mant.is_zero() => {
            let m = mant.magnitude().iter_u32_digits().next().unwrap_or(0);
            Unified {
                sign: mant.sign() == num_bigint::Sign::Minus,
                mant: m as u16,
                exp: exp as i8,
                ..Unified::default()
            }
        }
        _ => Unified::ZERO,
    }
}

/// Checks a tensor's shape and metadata against its scheme (codes are checked per row, when
/// used).
fn check_tensor(w: &BlockTensor) -> Result<(), BlockDotError> {
    let s = w.scheme;
    if w.block == 0 {
        return Err(BlockDotError::ZeroBlock);
    }
    let nb = w.rows * w.n_blocks();
    let meta = |what, got, expected| {
        if got == expected {
            Ok(())
        } else {
            Err(BlockDotError::Metadata {
                scheme: s,
                what,
                got,
                expected,
            })
        }
    };
    meta("codes", w.codes.len(), w.rows * w.k)?;
    let u8_scales = !matches!(s, BlockScheme::Int4g | BlockScheme::Fp4g);
    let n_scales = match (&w.scales, u8_scales) {
        (BlockScales::U8(v), true) => v.len(),
        (BlockScales::F32(v), false) => v.len(),
        (BlockScales::U8(_), false) => return Err(BlockDotError::ScaleKind { scheme: s, found: "u8" }),
        (BlockScales::F32(_), true) => {
            return Err(BlockDotError::ScaleKind {
                scheme: s,
                found: "f32",
            })
        }
    };
    meta("block scales", n_scales, nb)?;
    let bitmod = matches!(s, BlockScheme::Bitmod4 | BlockScheme::Bitmod3);
    meta("selectors", w.selectors.len(), if bitmod { nb } else { 0 })?;
    meta("row scales", w.row_scales.len(), if bitmod { w.rows } else { 0 })?;
    meta(
        "tensor scales",
        usize::from(w.tensor_scale.is_some()),
        usize::from(s == BlockScheme::Nvfp4),
    )?;
    if bitmod {
        if let Some((index, &selector)) = w.selectors.iter().enumerate().find(|(_, &v)| v > 3) {
            return Err(BlockDotError::SelectorOutOfRange { index, selector });
        }
    }
    Ok(())
}

/// The exact scale of block `j` of row `r` (the tensor was checked by [`check_tensor`]).
fn block_scale(w: &BlockTensor, r: usize, j: usize) -> Exact {
    let i = r * w.n_blocks() + j;
    match &w.scales {
        BlockScales::F32(v) => f32_exact(v[i]),
        BlockScales::U8(v) => {
            let code = u32::from(v[i]);
            let exact = |fmt| decode(fmt, code).map_or(Exact::NaN, unified_to_exact);
            match w.scheme {
                BlockScheme::Mxfp4 => exact(Format::E8M0),
                BlockScheme::Nvfp4 => exact_mul(&exact(Format::Fp8E4M3), &w.tensor_scale.map_or(Exact::NaN, f32_exact)),
                // BitMoD: the integer scale times the row's f32 scale.
                _ => exact_mul(
                    &Exact::Finite {
                        mant: BigInt::from(v[i]),
                        exp: 0,
                    },
                    &w.row_scales.get(r).copied().map_or(Exact::NaN, f32_exact),
                ),
            }
        }
    }
}

/// The unified values of the weight codes of row `r` (grid units, see the module docs).
fn weight_row(w: &BlockTensor, r: usize) -> Result<Vec<Unified>, BlockDotError> {
    let s = w.scheme;
    let bits = s.code_bits() as u32;
    // The BitMoD data types' values, by selector and code.
    let bitmod_table: Vec<Vec<Unified>> = match s {
        BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => (0..4u8)
            .map(|sel| {
                (0..1u8 << bits)
                    .map(|c| bitmod::value(bits, sel, c).map_or(Unified::ZERO, dyadic_unified))
                    .collect()
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(w.k);
    for (j, cols) in blocks(w.k, w.block).enumerate() {
        for c in cols {
            let index = r * w.k + c;
            let code = w.codes[index];
            if u32::from(code) >> bits != 0 {
                return Err(BlockDotError::CodeOutOfRange { scheme: s, index, code });
            }
            out.push(match s {
                BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => {
                    let sel = w.selectors[r * w.n_blocks() + j];
                    bitmod_table[usize::from(sel)][usize::from(code)]
                }
                BlockScheme::Int4g => decode(Format::Int4, u32::from(code))?,
                BlockScheme::Mxfp4 | BlockScheme::Nvfp4 | BlockScheme::Fp4g => {
                    decode(Format::Fp4E2M1, u32::from(code))?
                }
            });
        }
    }
    Ok(out)
}

/// The exact partial sum `Σ a_i · w_i` of one block (the rules of [`exact_dot`](super::exact_dot)).
fn partial_sum(a: &[Unified], w: &[Unified]) -> Result<Exact, GoldenError> {
    // The accumulator window from the block's own nonzero finite products.
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    for (x, y) in a.iter().zip(w) {
        if !(x.zero || y.zero || x.nar || y.nar || x.inf || y.inf) {
            let e = i32::from(x.exp) + i32::from(y.exp);
            let m = u32::from(x.mant) * u32::from(y.mant);
            lo = lo.min(e);
            hi = hi.max(e + (u32::BITS - m.leading_zeros()) as i32);
        }
    }
    if lo > hi {
        (lo, hi) = (0, 0);
    }
    let guard = usize::BITS - a.len().leading_zeros();
    let width = (hi - lo) as u32 + guard + 1;
    accumulate(width, lo, a.iter().zip(w).map(|(&x, &y)| Ok((x, y))))
}

/// The exact block terms `P_j · S_j` of decoded activations `ua` (length K) against a decoded
/// weight row `uw` with its block scales.
fn block_terms(ua: &[Unified], uw: &[Unified], scales: &[Exact], w: &BlockTensor) -> Result<Vec<Exact>, GoldenError> {
    blocks(w.k, w.block)
        .zip(scales)
        .map(|(cols, s)| Ok(exact_mul(&partial_sum(&ua[cols.clone()], &uw[cols])?, s)))
        .collect()
}

/// The exact scales of the blocks of row `r`.
fn row_scales(w: &BlockTensor, r: usize) -> Vec<Exact> {
    (0..w.n_blocks()).map(|j| block_scale(w, r, j)).collect()
}

/// The exact block-scaled dot product of activation codes `a` (format `a_fmt`, length K) with row
/// `row` of `w`: `Σ_j (Σ_{i ∈ block j} a_i · w_i) · S_j` with no rounding anywhere (see the module
/// documentation for the element values, the scales and the specials). The result is normalized
/// (see [`Exact::normalized`]).
///
/// Errors (checked in this order): [`BlockDotError::RowOutOfRange`], the tensor's metadata
/// ([`BlockDotError::ZeroBlock`], [`BlockDotError::Metadata`], [`BlockDotError::ScaleKind`],
/// [`BlockDotError::SelectorOutOfRange`]), [`BlockDotError::KMismatch`], the activations'
/// [`BlockDotError::Golden`], the row's [`BlockDotError::CodeOutOfRange`].
pub fn exact_block_dot(a_fmt: Format, a: &[u32], w: &BlockTensor, row: usize) -> Result<Exact, BlockDotError> {
    if row >= w.rows {
        return Err(BlockDotError::RowOutOfRange { row, rows: w.rows });
    }
    check_tensor(w)?;
    if a.len() != w.k {
        return Err(BlockDotError::KMismatch { a: a.len(), k: w.k });
    }
    let ua = decode_codes(a_fmt, a)?;
    let uw = weight_row(w, row)?;
    Ok(exact_sum(&block_terms(&ua, &uw, &row_scales(w, row), w)?))
}

/// [`exact_block_dot`] rounded once to `out` by [`round_to_output`] (so for posit16 any NaN or
/// Inf gives NaR; for FP32 / BF16 / FP16 NaN is the canonical quiet NaN).
pub fn block_dot(
    a_fmt: Format,
    a: &[u32],
    w: &BlockTensor,
    row: usize,
    out: OutputFormat,
) -> Result<u32, BlockDotError> {
    Ok(round_to_output(out, &exact_block_dot(a_fmt, a, w, row)?))
}

/// The block-scaled GEMM `C = A · Wᵀ`: `a` is `m × K` activation codes, row-major (`m` =
/// `a.len() / K`), `w` is `rows × K`; `C` is `m × rows`, row-major, each element
/// [`block_dot`] of a row of A with a row of W (rounded once to `out`).
///
/// Errors: as [`exact_block_dot`]; [`BlockDotError::KMismatch`] (with `a` the whole length) when
/// `a.len()` is not a multiple of K (an empty `a` gives an empty C).
pub fn block_gemm(a_fmt: Format, a: &[u32], w: &BlockTensor, out: OutputFormat) -> Result<Vec<u32>, BlockDotError> {
    check_tensor(w)?;
    if w.k == 0 || !a.len().is_multiple_of(w.k) {
        if a.is_empty() {
            return Ok(Vec::new());
        }
        return Err(BlockDotError::KMismatch { a: a.len(), k: w.k });
    }
    let m = a.len() / w.k;
    let ua: Vec<Vec<Unified>> = a
        .chunks(w.k)
        .map(|r| decode_codes(a_fmt, r))
        .collect::<Result<_, _>>()?;
    let mut c = vec![0; m * w.rows];
    for n in 0..w.rows {
        // Each weight row is checked and decoded once.
        let uw = weight_row(w, n)?;
        let scales = row_scales(w, n);
        for (i, ui) in ua.iter().enumerate() {
            let terms = block_terms(ui, &uw, &scales, w)?;
            c[i * w.rows + n] = round_to_output(out, &exact_sum(&terms));
        }
    }
    Ok(c)
}

#[cfg(test)]
#[path = "block_dot_tests.rs"]
mod tests;
