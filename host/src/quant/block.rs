//! Shared block plumbing of the block-scaled weight quantizers (DESIGN §3.1.1): BitMoD
//! ([`super::bitmod`]), MXFP4 ([`super::mxfp4`]), NVFP4 ([`super::nvfp4`]) and the per-group
//! baselines INT4 ([`super::int4g`]) and FP4 E2M1 ([`super::fp4g`]).
//!
//! # Blocks
//!
//! A weight tensor is a `rows × K` matrix (PyTorch `nn.Linear` stores `[out_channels, in]`, so a
//! row is an output channel). Each row is cut into blocks of `B` consecutive elements along K:
//! block `j` of a row holds columns `j·B … min((j + 1)·B, K) − 1`. **When K is not a multiple of
//! B the last block of every row is short** (`K mod B` elements); it gets its own scale (and
//! selector) computed from its elements only, exactly like a full block, and costs a full
//! block's metadata. Blocks never cross rows.
//!
//! # What a quantized tensor holds ([`BlockTensor`])
//!
//! - `codes`: one code per element, row-major `[rows, K]`, **one code per byte** (the code in the
//!   low 3 or 4 bits, the rest zero). This is a storage convenience: bits per weight
//!   ([`BlockTensor::bits_per_weight`]) count the code width, not the byte.
//! - `scales`: one block scale per block, `[rows, ceil(K / B)]`: an unsigned 8-bit integer
//!   (BitMoD), an E8M0 code (MXFP4), an FP8 E4M3 code (NVFP4) or an `f32` (INT4 / FP4 per group).
//! - `selectors`: BitMoD's 2-bit data-type selector per block (`[rows, ceil(K / B)]`), else empty.
//! - `row_scales`: BitMoD's per-channel `f32` scale (`[rows]`), else empty.
//! - `tensor_scale`: NVFP4's per-tensor `f32` scale.
//!
//! The dequantized value of element `(r, c)` in block `j` is `element(code) × scale(r, j)`,
//! where `scale(r, j)` is the block's full multiplier ([`BlockTensor::block_scale`]) — both
//! factors are decoded exactly and their product is exact in `f64` for every scheme (at most
//! 5 + 8 + 24 significant bits), so [`BlockTensor::dequantize`] equals the quantizer's output
//! bit for bit.

use std::ops::Range;

use anyhow::{bail, Result};

use crate::golden;
use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::Format;

/// A block-scaled weight quantization scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockScheme {
    /// BitMoD 4-bit: FP4 with one extra value, 4 data types, u8 × per-channel scale, B = 128.
    Bitmod4,
    /// BitMoD 3-bit: FP3 with one extra value, 4 data types, u8 × per-channel scale, B = 128.
    Bitmod3,
    /// OCP MXFP4: E2M1 elements, E8M0 block scale, B = 32.
    Mxfp4,
    /// NVFP4: E2M1 elements, FP8 E4M3 block scale, FP32 tensor scale, B = 16.
    Nvfp4,
    /// Symmetric INT4 (−7 … 7) per group, `f32` absmax scale, B = 128.
    Int4g,
    /// FP4 E2M1 per group, `f32` absmax scale, B = 128.
    Fp4g,
}

impl BlockScheme {
    /// Every scheme, in report order.
    pub const ALL: [BlockScheme; 6] = [
        BlockScheme::Bitmod4,
        BlockScheme::Bitmod3,
        BlockScheme::Mxfp4,
        BlockScheme::Nvfp4,
        BlockScheme::Int4g,
        BlockScheme::Fp4g,
    ];

    /// The name (`npe quantize --scheme`, the output file's `NAME.format`).
    pub fn name(self) -> &'static str {
        match self {
            BlockScheme::Bitmod4 => "bitmod4",
            BlockScheme::Bitmod3 => "bitmod3",
            BlockScheme::Mxfp4 => "mxfp4",
            BlockScheme::Nvfp4 => "nvfp4",
            BlockScheme::Int4g => "int4g",
            BlockScheme::Fp4g => "fp4g",
        }
    }

    /// The scheme named `name` (as [`BlockScheme::name`] spells it).
    pub fn from_name(name: &str) -> Option<BlockScheme> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The default block size B.
    pub fn default_block(self) -> usize {
        match self {
            BlockScheme::Mxfp4 => 32,
            BlockScheme::Nvfp4 => 16,
            _ => 128,
        }
    }

    /// How the device runs the scheme's weights, `(W format, block scale kind)`: BitMoD as the
    /// selector-0 type of its width with u8 scales (each block's selector picks its type),
    /// MXFP4 and NVFP4 as FP4 E2M1 with E8M0 and E4M3 scales; `None` for the per-group
    /// baselines, whose `f32` scales the hardware does not apply.
    pub fn device(self) -> Option<(Format, ScaleCode)> {
        match self {
            BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => {
                Format::bitmod(self.code_bits() as u32, 0).map(|f| (f, ScaleCode::U8))
            }
            BlockScheme::Mxfp4 => Some((Format::Fp4E2M1, ScaleCode::E8m0)),
            BlockScheme::Nvfp4 => Some((Format::Fp4E2M1, ScaleCode::E4m3)),
            BlockScheme::Int4g | BlockScheme::Fp4g => None,
        }
    }

    /// Whether B is fixed by the format (MXFP4, NVFP4) rather than a free choice.
    pub fn fixed_block(self) -> bool {
        matches!(self, BlockScheme::Mxfp4 | BlockScheme::Nvfp4)
    }

    /// Bits of one element code.
    pub fn code_bits(self) -> u64 {
        match self {
            BlockScheme::Bitmod3 => 3,
            _ => 4,
        }
    }

    /// Metadata bits per block: BitMoD 8 (integer scale) + 2 (selector); MXFP4 8 (E8M0); NVFP4 8
    /// (E4M3); the per-group baselines 32 (an `f32` scale).
    pub fn block_meta_bits(self) -> u64 {
        match self {
            BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => 10,
            BlockScheme::Mxfp4 | BlockScheme::Nvfp4 => 8,
            BlockScheme::Int4g | BlockScheme::Fp4g => 32,
        }
    }

    /// Metadata bits per row: BitMoD's `f32` per-channel scale, else 0.
    pub fn row_meta_bits(self) -> u64 {
        match self {
            BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => 32,
            _ => 0,
        }
    }

    /// Metadata bits per tensor: NVFP4's `f32` tensor scale, else 0.
    pub fn tensor_meta_bits(self) -> u64 {
        match self {
            BlockScheme::Nvfp4 => 32,
            _ => 0,
        }
    }

    /// A one-line description for reports.
    pub fn description(self) -> &'static str {
        match self {
            BlockScheme::Bitmod4 => "BitMoD FP4 (er/ea ±), u8 group scale × f32 channel scale",
            BlockScheme::Bitmod3 => "BitMoD FP3 (er/ea ±), u8 group scale × f32 channel scale",
            BlockScheme::Mxfp4 => "OCP MXFP4: E2M1, E8M0 block scale",
            BlockScheme::Nvfp4 => "NVFP4: E2M1, E4M3 block scale, f32 tensor scale",
            BlockScheme::Int4g => "INT4 (−7…7) per group, f32 absmax scale",
            BlockScheme::Fp4g => "FP4 E2M1 per group, f32 absmax scale",
        }
    }
}

/// Number of blocks of a row of length `k` (the last one short when `B ∤ k`).
pub fn n_blocks(k: usize, b: usize) -> usize {
    k.div_ceil(b.max(1))
}

/// The column ranges of the blocks of a row of length `k`, in order (the last one short when
/// `B ∤ k`).
pub fn blocks(k: usize, b: usize) -> impl Iterator<Item = Range<usize>> {
    let b = b.max(1);
    (0..n_blocks(k, b)).map(move |j| j * b..((j + 1) * b).min(k))
}

/// Rounds each `x / s` of a block to FP4 E2M1 (golden `encode`: nearest, ties to even,
/// saturating) and pushes its code and its value × `s`; a zero scale makes every code 0. The
/// element step of the FP4 schemes (MXFP4, NVFP4, FP4 per group).
pub fn push_fp4(g: &[f64], s: f64, codes: &mut Vec<u8>, values: &mut Vec<f64>) -> Result<()> {
    for &x in g {
        let c = if s == 0.0 {
            0
        } else {
            golden::encode(Format::Fp4E2M1, x / s)
        };
        codes.push(c as u8);
        values.push(golden::to_f64(Format::Fp4E2M1, c)? * s);
    }
    Ok(())
}

/// The largest absolute value of a slice (0 for an empty one).
pub fn absmax(x: &[f64]) -> f64 {
    x.iter().fold(0f64, |m, v| m.max(v.abs()))
}

/// The checks every block quantizer makes: a non-empty `rows × k` matrix of finite values and a
/// block size of at least 1.
pub fn check_input(data: &[f64], k: usize, b: usize) -> Result<usize> {
    if b == 0 {
        bail!("the block size must be at least 1");
    }
    if data.is_empty() || k == 0 {
        bail!("the tensor is empty; nothing to quantize");
    }
    if !data.len().is_multiple_of(k) {
        bail!("{} values do not make rows of K = {k}", data.len());
    }
    super::check_finite("tensor", data, k)?;
    Ok(data.len() / k)
}

/// An `f64` scale rounded to the `f32` it is stored as, refused when it does not fit.
pub fn f32_scale(what: &str, s: f64) -> Result<f32> {
    let f = s as f32;
    if !f.is_finite() {
        bail!("{what} {s:e} does not fit an f32 scale (the tensor's values are too large)");
    }
    Ok(f)
}

/// The block scales of a tensor, `[rows, n_blocks]` row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum BlockScales {
    /// 8-bit codes: BitMoD's unsigned integer, MXFP4's E8M0, NVFP4's FP8 E4M3.
    U8(Vec<u8>),
    /// `f32` scales (the per-group baselines).
    F32(Vec<f32>),
}

/// A block-quantized weight tensor (see the module documentation for the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct BlockTensor {
    /// The scheme.
    pub scheme: BlockScheme,
    /// Rows (output channels).
    pub rows: usize,
    /// Row length K.
    pub k: usize,
    /// Block size B.
    pub block: usize,
    /// One code per element, one per byte, `[rows, K]`.
    pub codes: Vec<u8>,
    /// One scale per block, `[rows, ceil(K / B)]`.
    pub scales: BlockScales,
    /// BitMoD's data-type selector per block (`[rows, ceil(K / B)]`); empty otherwise.
    pub selectors: Vec<u8>,
    /// BitMoD's per-channel scale (`[rows]`); empty otherwise.
    pub row_scales: Vec<f32>,
    /// NVFP4's per-tensor scale.
    pub tensor_scale: Option<f32>,
    /// The dequantized values the quantizer produced, `[rows, K]`.
    pub values: Vec<f64>,
}

impl BlockTensor {
    /// Blocks per row.
    pub fn n_blocks(&self) -> usize {
        n_blocks(self.k, self.block)
    }

    /// The full multiplier of block `j` of row `r`: BitMoD `q × row_scale`, MXFP4 `2^(e − 127)`,
    /// NVFP4 `E4M3 × tensor_scale`, the baselines the `f32` scale. Exact.
    pub fn block_scale(&self, r: usize, j: usize) -> Result<f64> {
        let i = r * self.n_blocks() + j;
        Ok(match (&self.scales, self.scheme) {
            (BlockScales::U8(s), BlockScheme::Bitmod4 | BlockScheme::Bitmod3) => {
                f64::from(s[i]) * f64::from(self.row_scales[r])
            }
            (BlockScales::U8(s), BlockScheme::Mxfp4) => golden::to_f64(Format::E8M0, u32::from(s[i]))?,
            (BlockScales::U8(s), BlockScheme::Nvfp4) => {
                golden::to_f64(Format::Fp8E4M3, u32::from(s[i]))? * f64::from(self.tensor_scale.unwrap_or(1.0))
            }
            (BlockScales::F32(s), BlockScheme::Int4g | BlockScheme::Fp4g) => f64::from(s[i]),
            _ => bail!("{}: scales of the wrong kind", self.scheme.name()),
        })
    }

    /// The value of `code` in block `j` of row `r`, in the scheme's element units.
    pub fn element(&self, r: usize, j: usize, code: u8) -> Result<f64> {
        let sel = || self.selectors[r * self.n_blocks() + j];
        Ok(match self.scheme {
            BlockScheme::Bitmod4 => super::bitmod::value(4, sel(), code)?,
            BlockScheme::Bitmod3 => super::bitmod::value(3, sel(), code)?,
            BlockScheme::Mxfp4 | BlockScheme::Nvfp4 | BlockScheme::Fp4g => {
                golden::to_f64(Format::Fp4E2M1, u32::from(code))?
            }
            BlockScheme::Int4g => golden::to_f64(Format::Int4, u32::from(code))?,
        })
    }

    /// The dequantized tensor computed from the codes and scales alone (`element × scale`).
    pub fn dequantize(&self) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(self.rows * self.k);
        for r in 0..self.rows {
            for (j, cols) in blocks(self.k, self.block).enumerate() {
                let s = self.block_scale(r, j)?;
                for c in cols {
                    out.push(self.element(r, j, self.codes[r * self.k + c])? * s);
                }
            }
        }
        Ok(out)
    }

    /// Total bits: codes at their width plus every scale and selector.
    pub fn total_bits(&self) -> u64 {
        let s = self.scheme;
        let (rows, k, nb) = (self.rows as u64, self.k as u64, self.n_blocks() as u64);
        rows * k * s.code_bits() + rows * nb * s.block_meta_bits() + rows * s.row_meta_bits() + s.tensor_meta_bits()
    }

    /// Bits per weight including all metadata ([`BlockTensor::total_bits`] / elements).
    pub fn bits_per_weight(&self) -> f64 {
        self.total_bits() as f64 / (self.rows * self.k).max(1) as f64
    }
}

/// Quantizes a `rows × k` matrix with `scheme` and block size `b`.
pub fn quantize(scheme: BlockScheme, data: &[f64], k: usize, b: usize) -> Result<BlockTensor> {
    if scheme.fixed_block() && b != scheme.default_block() {
        bail!(
            "{} has a fixed block size of {}, not {b}",
            scheme.name(),
            scheme.default_block()
        );
    }
    match scheme {
        BlockScheme::Bitmod4 => super::bitmod::quantize(4, data, k, b),
        BlockScheme::Bitmod3 => super::bitmod::quantize(3, data, k, b),
        BlockScheme::Mxfp4 => super::mxfp4::quantize(data, k),
        BlockScheme::Nvfp4 => super::nvfp4::quantize(data, k),
        BlockScheme::Int4g => super::int4g::quantize(data, k, b),
        BlockScheme::Fp4g => super::fp4g::quantize(data, k, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cut_rows_and_the_last_is_short() {
        let b: Vec<_> = blocks(40, 16).collect();
        assert_eq!(b, vec![0..16, 16..32, 32..40]);
        assert_eq!(blocks(32, 16).collect::<Vec<_>>(), vec![0..16, 16..32]);
        assert_eq!(blocks(5, 128).collect::<Vec<_>>(), vec![0..5]);
        assert_eq!(n_blocks(129, 128), 2);
    }

    #[test]
    fn bits_per_weight_count_all_metadata() {
        let x: Vec<f64> = (0..2 * 256).map(|i| f64::from(i % 13) - 6.0).collect();
        // 2 × 256 BitMoD4, B = 128: 2048 code bits + 4 blocks × 10 + 2 rows × 32.
        let t = quantize(BlockScheme::Bitmod4, &x, 256, 128).unwrap();
        assert_eq!(t.total_bits(), 2048 + 40 + 64);
        assert_eq!(t.bits_per_weight(), 4.203125);
        let t = quantize(BlockScheme::Bitmod3, &x[..128], 128, 128).unwrap();
        assert_eq!(t.bits_per_weight(), (384.0 + 10.0 + 32.0) / 128.0);
        let t = quantize(BlockScheme::Mxfp4, &x[..64], 64, 32).unwrap();
        assert_eq!(t.bits_per_weight(), 4.25);
        // NVFP4 1 × 32: 128 code bits + 2 × 8 + the tensor's 32.
        let t = quantize(BlockScheme::Nvfp4, &x[..32], 32, 16).unwrap();
        assert_eq!(t.bits_per_weight(), 5.5);
        let t = quantize(BlockScheme::Int4g, &x[..128], 128, 128).unwrap();
        assert_eq!(t.bits_per_weight(), 4.25);
        // A short last block costs a full block's metadata: 1 × 130, B = 128 → 2 scales.
        let x130: Vec<f64> = (0..130).map(f64::from).collect();
        let t = quantize(BlockScheme::Fp4g, &x130, 130, 128).unwrap();
        assert_eq!(t.total_bits(), 520 + 64);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let e = quantize(BlockScheme::Mxfp4, &[1.0; 32], 32, 16)
            .unwrap_err()
            .to_string();
        assert!(e.contains("fixed block size of 32"), "{e}");
        for s in BlockScheme::ALL {
            let e = quantize(s, &[], 4, s.default_block()).unwrap_err().to_string();
            assert!(e.contains("empty"), "{e}");
            let e = quantize(s, &[1.0, f64::NAN], 2, s.default_block())
                .unwrap_err()
                .to_string();
            assert!(e.contains("[0, 1]") && e.contains("NaN"), "{e}");
        }
        let e = quantize(BlockScheme::Int4g, &[1.0; 4], 4, 0).unwrap_err().to_string();
        assert!(e.contains("block size"), "{e}");
        let e = quantize(BlockScheme::Int4g, &[1e300; 4], 4, 4).unwrap_err().to_string();
        assert!(e.contains("f32"), "{e}");
    }

    #[test]
    fn every_scheme_dequantizes_to_its_values_exactly() {
        // 3 rows of K = 300 (not a multiple of any B), with an outlier and an all-zero row.
        let mut x: Vec<f64> = (0..900).map(|i| ((i * 7919) % 1000) as f64 / 997.0 - 0.5).collect();
        x[17] = 40.0;
        x[600..900].iter_mut().for_each(|v| *v = 0.0);
        for s in BlockScheme::ALL {
            let t = quantize(s, &x, 300, s.default_block()).unwrap();
            assert_eq!(t.codes.len(), 900);
            assert_eq!(t.dequantize().unwrap(), t.values, "{}", s.name());
            assert!(t.values[600..].iter().all(|v| *v == 0.0));
            let sq = super::super::sqnr_db(&x, &t.values);
            assert!(sq > 5.0 && sq.is_finite(), "{} {sq}", s.name());
            assert!(t.codes.iter().all(|c| u64::from(*c) < 1 << s.code_bits()));
        }
    }
}
