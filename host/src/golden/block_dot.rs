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
mod tests {
    use num_traits::Signed;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;
    use crate::golden::{exact_dot, output_to_f64};
    use crate::quant::block::{n_blocks, quantize};

    // -----------------------------------------------------------------------------------------
    // An independent reference: exact rationals (BigInt numerator / positive denominator) and
    // values written from the format definitions, not from the golden model's decoders.

    #[derive(Clone, Debug)]
    struct Q {
        n: BigInt,
        d: BigInt,
    }

    impl Q {
        fn int(n: i64) -> Q {
            Q {
                n: BigInt::from(n),
                d: BigInt::from(1),
            }
        }
        /// `n · 2^e`.
        fn dyadic(n: i64, e: i32) -> Q {
            let one = BigInt::from(1);
            if e >= 0 {
                Q {
                    n: BigInt::from(n) << e as usize,
                    d: one,
                }
            } else {
                Q {
                    n: BigInt::from(n),
                    d: one << (-e) as usize,
                }
            }
        }
        fn reduce(self) -> Q {
            let (mut x, mut y) = (self.n.abs(), self.d.clone());
            while !y.is_zero() {
                let r = &x % &y;
                x = y;
                y = r;
            }
            if x.is_zero() {
                return Q::int(0);
            }
            Q {
                n: self.n / &x,
                d: self.d / &x,
            }
        }
        fn add(&self, o: &Q) -> Q {
            Q {
                n: &self.n * &o.d + &o.n * &self.d,
                d: &self.d * &o.d,
            }
            .reduce()
        }
        fn mul(&self, o: &Q) -> Q {
            Q {
                n: &self.n * &o.n,
                d: &self.d * &o.d,
            }
            .reduce()
        }
        fn same(&self, o: &Q) -> bool {
            &self.n * &o.d == &o.n * &self.d
        }
    }

    /// The rational of a finite `Exact` (None for NaN / Inf).
    fn q_of(x: &Exact) -> Option<Q> {
        match x {
            Exact::Finite { mant, exp } => Some(if *exp >= 0 {
                Q {
                    n: mant << *exp as usize,
                    d: BigInt::from(1),
                }
            } else {
                Q {
                    n: mant.clone(),
                    d: BigInt::from(1) << (-*exp) as usize,
                }
            }),
            _ => None,
        }
    }

    /// FP8 E4M3 (OCP "fn"): bias 7, 3 mantissa bits, S.1111.111 NaN, no Inf.
    fn ref_e4m3(code: u32) -> Option<Q> {
        let (s, e, m) = ((code >> 7) & 1, (code >> 3) & 0xF, code & 7);
        if e == 15 && m == 7 {
            return None;
        }
        let sign = if s == 1 { -1 } else { 1 };
        Some(if e == 0 {
            Q::dyadic(sign * i64::from(m), -9)
        } else {
            Q::dyadic(sign * i64::from(8 + m), e as i32 - 10)
        })
    }

    /// An activation's value (None for NaN).
    fn ref_act(fmt: Format, code: u32) -> Option<Q> {
        match fmt {
            Format::Int8 => Some(Q::int(i64::from(code as u8 as i8))),
            Format::Int16 => Some(Q::int(i64::from(code as u16 as i16))),
            Format::Fp8E4M3 => ref_e4m3(code),
            _ => unreachable!("the reference covers INT8, INT16 and FP8 E4M3"),
        }
    }

    /// E2M1 magnitudes in halves.
    const E2M1_HALVES: [i64; 8] = [0, 1, 2, 3, 4, 6, 8, 12];

    /// A weight code's value in grid units (the README / module tables, written out).
    fn ref_weight(scheme: BlockScheme, sel: u8, code: u8) -> Q {
        let signed = |neg: bool, halves: i64| Q::dyadic(if neg { -halves } else { halves }, -1);
        match scheme {
            BlockScheme::Mxfp4 | BlockScheme::Nvfp4 | BlockScheme::Fp4g => {
                signed(code & 8 != 0, E2M1_HALVES[usize::from(code & 7)])
            }
            BlockScheme::Int4g => Q::int(i64::from(((code << 4) as i8) >> 4)),
            BlockScheme::Bitmod4 if code == 8 => signed(false, [10, -10, 16, -16][usize::from(sel)]),
            BlockScheme::Bitmod4 => signed(code & 8 != 0, E2M1_HALVES[usize::from(code & 7)]),
            BlockScheme::Bitmod3 if code == 4 => signed(false, [3, -3, 6, -6][usize::from(sel)]),
            BlockScheme::Bitmod3 => signed(code & 4 != 0, [0, 1, 2, 4][usize::from(code & 3)]),
        }
    }

    /// An `f32` from its bits (finite only).
    fn ref_f32(x: f32) -> Q {
        let b = x.to_bits();
        let (s, e, f) = (b >> 31, (b >> 23) & 0xFF, b & 0x7F_FFFF);
        assert!(e != 0xFF, "the reference takes finite f32 scales");
        let sign = if s == 1 { -1 } else { 1 };
        if e == 0 {
            Q::dyadic(sign * i64::from(f), -149)
        } else {
            Q::dyadic(sign * i64::from((1 << 23) | f), e as i32 - 150)
        }
    }

    /// Block `j` of row `r`'s scale (None for NaN).
    fn ref_scale(w: &BlockTensor, r: usize, j: usize) -> Option<Q> {
        let i = r * n_blocks(w.k, w.block) + j;
        match (&w.scales, w.scheme) {
            (BlockScales::U8(v), BlockScheme::Mxfp4) => (v[i] != 0xFF).then(|| Q::dyadic(1, i32::from(v[i]) - 127)),
            (BlockScales::U8(v), BlockScheme::Nvfp4) => {
                ref_e4m3(u32::from(v[i])).map(|s| s.mul(&ref_f32(w.tensor_scale.unwrap())))
            }
            (BlockScales::U8(v), _) => Some(Q::int(i64::from(v[i])).mul(&ref_f32(w.row_scales[r]))),
            (BlockScales::F32(v), _) => Some(ref_f32(v[i])),
        }
    }

    /// The reference block-scaled dot product (None for NaN).
    fn ref_block_dot(a_fmt: Format, a: &[u32], w: &BlockTensor, r: usize) -> Option<Q> {
        let nb = n_blocks(w.k, w.block);
        let mut total = Q::int(0);
        for j in 0..nb {
            let cols = j * w.block..((j + 1) * w.block).min(w.k);
            let sel = w.selectors.get(r * nb + j).copied().unwrap_or(0);
            let mut p = Q::int(0);
            for c in cols {
                let x = ref_act(a_fmt, a[c])?;
                p = p.add(&x.mul(&ref_weight(w.scheme, sel, w.codes[r * w.k + c])));
            }
            total = total.add(&p.mul(&ref_scale(w, r, j)?));
        }
        Some(total)
    }

    // -----------------------------------------------------------------------------------------
    // Random inputs.

    /// Random activation codes; NaN codes (FP8 E4M3) are kept with probability 1/10 each.
    fn random_acts(rng: &mut StdRng, fmt: Format, n: usize) -> Vec<u32> {
        (0..n)
            .map(|_| loop {
                let c = rng.gen_range(0..1u32 << fmt.bits());
                if !decode(fmt, c).unwrap().nar || rng.gen_bool(0.1) {
                    break c;
                }
            })
            .collect()
    }

    /// A random finite `f32` of moderate range.
    fn random_f32(rng: &mut StdRng) -> f32 {
        let e = rng.gen_range(100u32..160);
        f32::from_bits(u32::from(rng.gen_bool(0.3)) << 31 | e << 23 | rng.gen_range(0..1u32 << 23))
    }

    /// A tensor of random codes and metadata (every selector, every scale code).
    fn random_tensor(rng: &mut StdRng, scheme: BlockScheme, rows: usize, k: usize, b: usize) -> BlockTensor {
        let nb = rows * n_blocks(k, b);
        let bitmod = matches!(scheme, BlockScheme::Bitmod4 | BlockScheme::Bitmod3);
        let codes = (0..rows * k)
            .map(|_| rng.gen_range(0..1u8 << scheme.code_bits()))
            .collect();
        let scales = match scheme {
            BlockScheme::Int4g | BlockScheme::Fp4g => BlockScales::F32((0..nb).map(|_| random_f32(rng)).collect()),
            // E8M0: NaN (0xFF) in about one block in 16.
            BlockScheme::Mxfp4 => BlockScales::U8(
                (0..nb)
                    .map(|_| {
                        if rng.gen_bool(1.0 / 16.0) {
                            0xFF
                        } else {
                            rng.gen_range(0..=254)
                        }
                    })
                    .collect(),
            ),
            _ => BlockScales::U8((0..nb).map(|_| rng.gen()).collect()),
        };
        BlockTensor {
            scheme,
            rows,
            k,
            block: b,
            codes,
            scales,
            selectors: if bitmod {
                (0..nb).map(|_| rng.gen_range(0..4)).collect()
            } else {
                vec![]
            },
            row_scales: if bitmod {
                (0..rows).map(|_| random_f32(rng)).collect()
            } else {
                vec![]
            },
            tensor_scale: (scheme == BlockScheme::Nvfp4).then(|| random_f32(rng)),
            values: vec![],
        }
    }

    /// Random weights with outliers, quantized by the scheme's own quantizer.
    fn quantized_tensor(rng: &mut StdRng, scheme: BlockScheme, rows: usize, k: usize, b: usize) -> BlockTensor {
        let data: Vec<f64> = (0..rows * k)
            .map(|i| {
                let x: f64 = rng.gen_range(-1.0..1.0);
                if i % 97 == 5 {
                    x * 50.0
                } else if i % 131 == 7 {
                    0.0
                } else {
                    x
                }
            })
            .collect();
        quantize(scheme, &data, k, b).unwrap()
    }

    const ACT_FORMATS: [Format; 3] = [Format::Int8, Format::Fp8E4M3, Format::Int16];

    /// Checks every row of `w` against the reference, and rounding against `block_dot`.
    fn check_against_reference(rng: &mut StdRng, w: &BlockTensor, what: &str) -> (usize, usize) {
        let (mut finite, mut nan) = (0, 0);
        for a_fmt in ACT_FORMATS {
            let a = random_acts(rng, a_fmt, w.k);
            for r in 0..w.rows {
                let got = exact_block_dot(a_fmt, &a, w, r).unwrap();
                match ref_block_dot(a_fmt, &a, w, r) {
                    Some(want) => {
                        let g = q_of(&got).unwrap_or_else(|| panic!("{what} {a_fmt} row {r}: {got:?}"));
                        assert!(g.same(&want), "{what} {a_fmt} row {r}: {got:?} vs {want:?}");
                        finite += 1;
                    }
                    None => {
                        assert_eq!(got, Exact::NaN, "{what} {a_fmt} row {r}");
                        nan += 1;
                    }
                }
                for out in OutputFormat::ALL {
                    assert_eq!(
                        block_dot(a_fmt, &a, w, r, out).unwrap(),
                        round_to_output(out, &got),
                        "{what} {a_fmt} row {r} {out:?}"
                    );
                }
            }
        }
        (finite, nan)
    }

    /// (1) Every scheme × {INT8, FP8 E4M3, INT16}, K not a multiple of B, against the
    /// independent rational reference: quantizer outputs and random codes / metadata.
    #[test]
    fn matches_the_rational_reference() {
        let mut rng = StdRng::seed_from_u64(14);
        let (mut finite, mut nan) = (0, 0);
        for scheme in BlockScheme::ALL {
            let bs: Vec<usize> = if scheme.fixed_block() {
                vec![scheme.default_block()]
            } else {
                vec![scheme.default_block(), 7]
            };
            for b in bs {
                let k = 300; // 300 = 2·128 + 44 = 9·32 + 12 = 18·16 + 12 = 42·7 + 6
                assert_ne!(k % b, 0);
                let w = quantized_tensor(&mut rng, scheme, 3, k, b);
                let (f, n) = check_against_reference(&mut rng, &w, &format!("{} B={b} quantized", scheme.name()));
                (finite, nan) = (finite + f, nan + n);
                let w = random_tensor(&mut rng, scheme, 4, k, b);
                let (f, n) = check_against_reference(&mut rng, &w, &format!("{} B={b} random", scheme.name()));
                (finite, nan) = (finite + f, nan + n);
            }
        }
        // Both kinds of result were exercised.
        assert!(finite > 100 && nan > 5, "{finite} finite, {nan} NaN");
    }

    /// An MXFP4 row from codes and E8M0 scale codes.
    fn mxfp4(codes: Vec<u8>, scales: Vec<u8>) -> BlockTensor {
        BlockTensor {
            scheme: BlockScheme::Mxfp4,
            rows: 1,
            k: codes.len(),
            block: 32,
            codes,
            scales: BlockScales::U8(scales),
            selectors: vec![],
            row_scales: vec![],
            tensor_scale: None,
            values: vec![],
        }
    }

    fn fin(mant: i64, exp: i64) -> Exact {
        Exact::Finite {
            mant: BigInt::from(mant),
            exp,
        }
    }

    /// (2) The per-block scale matters: the unscaled row sums to 0, so any single scale applied
    /// to the whole row gives 0, but the block-scaled sum is 1·1 + (−1)·2 = −1.
    #[test]
    fn each_block_has_its_own_scale() {
        let mut codes = vec![0u8; 40];
        codes[0] = 0b0010; // +1 in block 0 (columns 0 … 31)
        codes[35] = 0b1010; // −1 in block 1 (columns 32 … 39, short)
        let w = mxfp4(codes.clone(), vec![127, 128]); // scales 1 and 2
        let a = vec![1u32; 40];
        let unscaled = exact_dot(
            Format::Int8,
            &a,
            Format::Fp4E2M1,
            &codes.iter().map(|&c| u32::from(c)).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(unscaled.is_zero());
        assert_eq!(exact_block_dot(Format::Int8, &a, &w, 0).unwrap(), fin(-1, 0));
        // And with scales 2^-3 and 2^4: 2^-3 − 2^4 = −127/8.
        let w = mxfp4(codes, vec![124, 131]);
        assert_eq!(exact_block_dot(Format::Int8, &a, &w, 0).unwrap(), fin(-127, -3));
        let c = block_dot(Format::Int8, &a, &w, 0, OutputFormat::Fp32).unwrap();
        assert_eq!(output_to_f64(OutputFormat::Fp32, c), -127.0 / 8.0);
    }

    /// (3) E8M0 extremes, a NaN scale, an all-zero block.
    #[test]
    fn e8m0_extremes_nan_and_zero_blocks() {
        // One block: INT16 32767 × E2M1 6 = 196602 = 98301 · 2.
        let mut codes = vec![0u8; 32];
        codes[3] = 0b0111;
        let mut a = vec![0u32; 32];
        a[3] = 0x7FFF;
        let exact = |scale: u8| exact_block_dot(Format::Int16, &a, &mxfp4(codes.clone(), vec![scale]), 0).unwrap();
        assert_eq!(exact(254), fin(98301, 128)); // × 2^127
        assert_eq!(exact(0), fin(98301, -126)); // × 2^-127
        assert_eq!(exact(127), fin(98301, 1));
        let round = |scale: u8| {
            let w = mxfp4(codes.clone(), vec![scale]);
            output_to_f64(
                OutputFormat::Fp32,
                block_dot(Format::Int16, &a, &w, 0, OutputFormat::Fp32).unwrap(),
            )
        };
        assert_eq!(round(254), f64::INFINITY); // 1.5·2^144 overflows FP32
        assert_eq!(round(0), 98301.0 * 2f64.powi(-126)); // exact in FP32 (17 bits, normal)
                                                         // NaN scale: the block is NaN, even when its partial sum is 0 (codes or activations 0).
        assert_eq!(exact(0xFF), Exact::NaN);
        assert!(round(0xFF).is_nan());
        let zero_block = mxfp4(vec![0; 32], vec![0xFF]);
        assert_eq!(exact_block_dot(Format::Int16, &a, &zero_block, 0).unwrap(), Exact::NaN);
        // Two blocks, the second all zero (codes) with the largest scale: it adds nothing; with
        // a NaN scale it makes the row NaN.
        let mut codes2 = codes.clone();
        codes2.extend([0u8; 5]);
        let mut a2 = a.clone();
        a2.extend([0x7FFF, 1, 2, 3, 0x8000]);
        let w = mxfp4(codes2.clone(), vec![127, 254]);
        assert_eq!(exact_block_dot(Format::Int16, &a2, &w, 0).unwrap(), fin(98301, 1));
        let w = mxfp4(codes2, vec![127, 0xFF]);
        assert_eq!(exact_block_dot(Format::Int16, &a2, &w, 0).unwrap(), Exact::NaN);
        // An all-zero activation block against nonzero weights adds nothing either.
        let mut codes3 = codes.clone();
        codes3.extend([0b0111u8; 5]);
        let mut a3 = a.clone();
        a3.extend([0u32; 5]);
        let w = mxfp4(codes3, vec![127, 254]);
        assert_eq!(exact_block_dot(Format::Int16, &a3, &w, 0).unwrap(), fin(98301, 1));
    }

    /// (3) BitMoD integer scales 0, 1 and 255, with the special values of the selectors.
    #[test]
    fn bitmod_integer_scales() {
        // K = 6, B = 2: blocks (q = 0, er_pos), (q = 1, ea_neg), (q = 255, ea_pos); S = 0.75.
        let w = BlockTensor {
            scheme: BlockScheme::Bitmod4,
            rows: 1,
            k: 6,
            block: 2,
            // block 0: 5, 6; block 1: −8, −0.5; block 2: 8, −3.
            codes: vec![0b1000, 0b0111, 0b1000, 0b1001, 0b1000, 0b1101],
            scales: BlockScales::U8(vec![0, 1, 255]),
            selectors: vec![0, 3, 2],
            row_scales: vec![0.75],
            tensor_scale: None,
            values: vec![],
        };
        let a = [3u32, 1, 2, 0xFE, 1, 1]; // INT8: 3, 1, 2, −2, 1, 1
                                          // block 0: 0; block 1: (−16 + 1) · 0.75 = −11.25; block 2: (8 − 3) · 255 · 0.75 = 956.25.
        let want = -11.25 + 956.25;
        let got = exact_block_dot(Format::Int8, &a, &w, 0).unwrap();
        assert_eq!(got, Exact::from_f64(want).normalized());
        assert_eq!(got.to_f64(), 945.0);
        // The first block alone, for each q: 0 → 0, 1 → 21 · 0.75, 255 → 21 · 255 · 0.75.
        for (q, want) in [(0u8, 0.0), (1, 15.75), (255, 4016.25)] {
            let mut w1 = w.clone();
            w1.k = 2;
            w1.block = 128;
            w1.codes.truncate(2);
            w1.scales = BlockScales::U8(vec![q]);
            w1.selectors.truncate(1);
            let got = exact_block_dot(Format::Int8, &a[..2], &w1, 0).unwrap();
            assert_eq!(got, Exact::from_f64(want).normalized(), "q = {q}");
        }
    }

    /// (4) The exact result equals `Σ a · value` over the quantizer's dequantized values, computed
    /// exactly; and, where every partial sum fits an `f64`, the plain `f64` sum too.
    #[test]
    fn agrees_with_the_dequantized_values() {
        let mut rng = StdRng::seed_from_u64(2);
        for scheme in BlockScheme::ALL {
            let w = quantized_tensor(&mut rng, scheme, 4, 200, scheme.default_block());
            for a_fmt in [Format::Int8, Format::Fp8E4M3, Format::Posit16Es1] {
                let a: Vec<u32> = random_acts(&mut rng, a_fmt, w.k)
                    .into_iter()
                    .map(|c| if decode(a_fmt, c).unwrap().nar { 0 } else { c })
                    .collect();
                for r in 0..w.rows {
                    let terms: Vec<Exact> = (0..w.k)
                        .map(|c| {
                            exact_mul(
                                &unified_to_exact(decode(a_fmt, a[c]).unwrap()),
                                &Exact::from_f64(w.values[r * w.k + c]),
                            )
                        })
                        .collect();
                    let got = exact_block_dot(a_fmt, &a, &w, r).unwrap();
                    assert_eq!(got, exact_sum(&terms), "{} {a_fmt} row {r}", scheme.name());
                    for out in OutputFormat::ALL {
                        assert_eq!(block_dot(a_fmt, &a, &w, r, out).unwrap(), round_to_output(out, &got));
                    }
                }
            }
        }
        // MXFP4 with values on a narrow grid (scales 2^-2 … 2^0) and INT8 activations: every
        // partial sum of the f64 loop is exact, so the f64 sum equals the exact result.
        let data: Vec<f64> = (0..2 * 70).map(|i| f64::from((i * 37) % 25) / 4.0 - 3.0).collect();
        let w = quantize(BlockScheme::Mxfp4, &data, 70, 32).unwrap();
        let a = random_acts(&mut rng, Format::Int8, 70);
        for r in 0..2 {
            let f: f64 = (0..70)
                .map(|c| f64::from(a[c] as u8 as i8) * w.values[r * 70 + c])
                .sum();
            assert_eq!(exact_block_dot(Format::Int8, &a, &w, r).unwrap().to_f64(), f);
            let c = block_dot(Format::Int8, &a, &w, r, OutputFormat::Fp32).unwrap();
            assert_eq!(output_to_f64(OutputFormat::Fp32, c), f);
        }
    }

    /// NaN / NaR activations and Infs propagate as in `exact_dot`.
    #[test]
    fn activation_specials_propagate() {
        let w = mxfp4(vec![0b0010; 40], vec![127, 127]);
        let mut a = vec![0u32; 40];
        a[39] = 0x8000; // posit16 NaR in the short block
        assert_eq!(exact_block_dot(Format::Posit16Es1, &a, &w, 0).unwrap(), Exact::NaN);
        let c = block_dot(Format::Posit16Es1, &a, &w, 0, OutputFormat::Posit16Es1).unwrap();
        assert_eq!(c, 0x8000);
        // FP8 E5M2: +Inf in block 0, −Inf in block 1 → NaN; +Inf alone → +Inf; Inf × 0 → NaN.
        let mut a = vec![0u32; 40];
        a[0] = 0x7C;
        assert_eq!(
            exact_block_dot(Format::Fp8E5M2, &a, &w, 0).unwrap(),
            Exact::Inf { negative: false }
        );
        a[33] = 0xFC;
        assert_eq!(exact_block_dot(Format::Fp8E5M2, &a, &w, 0).unwrap(), Exact::NaN);
        let z = mxfp4(vec![0; 40], vec![127, 127]);
        a[33] = 0;
        assert_eq!(exact_block_dot(Format::Fp8E5M2, &a, &z, 0).unwrap(), Exact::NaN);
        // A finite partial sum of 0 times an Inf f32 scale is NaN; times a finite scale, 0.
        assert_eq!(exact_mul(&Exact::zero(), &Exact::Inf { negative: true }), Exact::NaN);
        assert_eq!(exact_mul(&Exact::Inf { negative: false }, &fin(0, 5)), Exact::NaN);
        assert_eq!(exact_mul(&Exact::NaN, &fin(1, 0)), Exact::NaN);
        assert_eq!(
            exact_mul(&Exact::Inf { negative: true }, &Exact::Inf { negative: true }),
            Exact::Inf { negative: false }
        );
        assert_eq!(
            exact_mul(&fin(-3, 2), &Exact::Inf { negative: true }),
            Exact::Inf { negative: false }
        );
        assert_eq!(exact_mul(&fin(-3, 2), &fin(6, -1)), fin(-9, 2));
    }

    /// A pair format's pairs that straddle a block boundary (B = 3) decode as pairs: with unit
    /// scales the result is the plain `exact_dot`.
    #[test]
    fn pairs_straddling_blocks_decode_as_pairs() {
        let mut rng = StdRng::seed_from_u64(5);
        let w = BlockTensor {
            scales: BlockScales::F32(vec![1.0; 4]),
            ..random_tensor(&mut rng, BlockScheme::Int4g, 1, 12, 3)
        };
        let wc: Vec<u32> = w.codes.iter().map(|&c| u32::from(c)).collect();
        for _ in 0..20 {
            let a: Vec<u32> = (0..12).map(|_| rng.gen_range(0..16)).collect();
            assert_eq!(
                exact_block_dot(Format::OvpInt4, &a, &w, 0).unwrap(),
                exact_dot(Format::OvpInt4, &a, Format::Int4, &wc).unwrap()
            );
        }
    }

    /// The GEMM is `block_dot` per element, `C[i][n]` at `i · rows + n`.
    #[test]
    fn gemm_is_block_dot_per_element() {
        let mut rng = StdRng::seed_from_u64(3);
        for scheme in BlockScheme::ALL {
            let w = random_tensor(
                &mut rng,
                scheme,
                5,
                45,
                if scheme.fixed_block() {
                    scheme.default_block()
                } else {
                    10
                },
            );
            let a = random_acts(&mut rng, Format::Fp8E4M3, 3 * 45);
            let c = block_gemm(Format::Fp8E4M3, &a, &w, OutputFormat::Bf16).unwrap();
            assert_eq!(c.len(), 15);
            for i in 0..3 {
                for n in 0..5 {
                    let want = block_dot(Format::Fp8E4M3, &a[i * 45..(i + 1) * 45], &w, n, OutputFormat::Bf16).unwrap();
                    assert_eq!(c[i * 5 + n], want, "{} [{i}][{n}]", scheme.name());
                }
            }
        }
        let w = random_tensor(&mut rng, BlockScheme::Int4g, 2, 8, 4);
        assert_eq!(
            block_gemm(Format::Int8, &[], &w, OutputFormat::Fp32).unwrap(),
            Vec::<u32>::new()
        );
        assert_eq!(
            block_gemm(Format::Int8, &[0; 9], &w, OutputFormat::Fp32),
            Err(BlockDotError::KMismatch { a: 9, k: 8 })
        );
    }

    /// Every refusal is a typed error, not a panic.
    #[test]
    fn bad_inputs_are_refused() {
        let mut rng = StdRng::seed_from_u64(4);
        let w = random_tensor(&mut rng, BlockScheme::Bitmod3, 2, 10, 4);
        let a = vec![1u32; 10];
        let dot = |w: &BlockTensor, a: &[u32], r| exact_block_dot(Format::Int8, a, w, r);
        assert!(dot(&w, &a, 1).is_ok());
        assert_eq!(dot(&w, &a[..9], 0), Err(BlockDotError::KMismatch { a: 9, k: 10 }));
        assert_eq!(dot(&w, &a, 2), Err(BlockDotError::RowOutOfRange { row: 2, rows: 2 }));
        let mut bad = w.clone();
        bad.codes[13] = 8; // 4 bits in a 3-bit scheme
        assert_eq!(
            dot(&bad, &a, 1),
            Err(BlockDotError::CodeOutOfRange {
                scheme: BlockScheme::Bitmod3,
                index: 13,
                code: 8
            })
        );
        assert!(dot(&bad, &a, 0).is_ok()); // codes are checked per row used
        let mut bad = w.clone();
        bad.selectors[5] = 4;
        assert_eq!(
            dot(&bad, &a, 0),
            Err(BlockDotError::SelectorOutOfRange { index: 5, selector: 4 })
        );
        let meta = |what, got, expected| BlockDotError::Metadata {
            scheme: BlockScheme::Bitmod3,
            what,
            got,
            expected,
        };
        let mut bad = w.clone();
        bad.selectors.pop();
        assert_eq!(dot(&bad, &a, 0), Err(meta("selectors", 5, 6)));
        let mut bad = w.clone();
        bad.row_scales.push(1.0);
        assert_eq!(dot(&bad, &a, 0), Err(meta("row scales", 3, 2)));
        let mut bad = w.clone();
        bad.scales = BlockScales::U8(vec![1; 7]);
        assert_eq!(dot(&bad, &a, 0), Err(meta("block scales", 7, 6)));
        let mut bad = w.clone();
        bad.tensor_scale = Some(1.0);
        assert_eq!(dot(&bad, &a, 0), Err(meta("tensor scales", 1, 0)));
        let mut bad = w.clone();
        bad.codes.pop();
        assert_eq!(dot(&bad, &a, 0), Err(meta("codes", 19, 20)));
        let mut bad = w.clone();
        bad.scales = BlockScales::F32(vec![1.0; 6]);
        assert_eq!(
            dot(&bad, &a, 0),
            Err(BlockDotError::ScaleKind {
                scheme: BlockScheme::Bitmod3,
                found: "f32"
            })
        );
        let mut bad = w.clone();
        bad.block = 0;
        assert_eq!(dot(&bad, &a, 0), Err(BlockDotError::ZeroBlock));
        // NVFP4 without its tensor scale; int4g with u8 scales; extra selectors on MXFP4.
        let mut nv = random_tensor(&mut rng, BlockScheme::Nvfp4, 1, 16, 16);
        nv.tensor_scale = None;
        assert_eq!(
            exact_block_dot(Format::Int8, &[0; 16], &nv, 0),
            Err(BlockDotError::Metadata {
                scheme: BlockScheme::Nvfp4,
                what: "tensor scales",
                got: 0,
                expected: 1
            })
        );
        let mut ig = random_tensor(&mut rng, BlockScheme::Int4g, 1, 8, 4);
        ig.scales = BlockScales::U8(vec![1, 1]);
        assert_eq!(
            exact_block_dot(Format::Int8, &[0; 8], &ig, 0),
            Err(BlockDotError::ScaleKind {
                scheme: BlockScheme::Int4g,
                found: "u8"
            })
        );
        let mut mx = mxfp4(vec![0; 32], vec![127]);
        mx.selectors = vec![0];
        assert!(matches!(
            exact_block_dot(Format::Int8, &[0; 32], &mx, 0),
            Err(BlockDotError::Metadata { what: "selectors", .. })
        ));
        // Activation codes too wide for their format; an odd K for a pair format.
        let mx = mxfp4(vec![0; 32], vec![127]);
        let mut a = vec![0u32; 32];
        a[4] = 0x100;
        assert_eq!(
            exact_block_dot(Format::Int8, &a, &mx, 0),
            Err(BlockDotError::Golden(GoldenError::CodeOutOfRange {
                format: Format::Int8,
                code: 0x100
            }))
        );
        let mx = mxfp4(vec![0; 33], vec![127, 127]);
        assert!(matches!(
            exact_block_dot(Format::OvpInt4, &[0; 33], &mx, 0),
            Err(BlockDotError::Golden(GoldenError::OddPairs { .. }))
        ));
    }
}
