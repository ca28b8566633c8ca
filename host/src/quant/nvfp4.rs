//! NVFP4 weight quantizer: blocks of B = 16 consecutive elements of a row, FP4 E2M1 elements,
//! one FP8 E4M3 block scale, and one FP32 scale for the whole tensor.
//!
//! - **Tensor scale** `T = f32(amax(tensor) / (448 · 6))`: the largest block then needs the
//!   largest E4M3 value (448) for its largest element to reach E2M1's 6 (the recipe NVIDIA
//!   documents for its TensorRT Model Optimizer / Transformer Engine: global encode scale
//!   `448·6 / amax`, here stored as its inverse, the decode scale). An all-zero tensor gets
//!   `T = 1`; a positive `T` below the `f32` range becomes the smallest positive `f32`.
//! - **Block scale**: `amax(block) / (6 · T)`, capped at 448 (it can exceed 448 by the `f32`
//!   rounding of `T`), rounded to E4M3 by the golden model (nearest, ties to even). A block
//!   whose scale rounds to 0 (amax below 2^-10 · 6 · T) has scale code 0 and all its elements 0.
//! - **Elements**: `x / (E4M3 · T)` rounded to E2M1 (nearest, ties to even, saturating at ±6).
//!
//! Dequantized: `E2M1 × E4M3 × T`, exact in `f64`. K not a multiple of 16: the last block is
//! short (see [`super::block`]).

use anyhow::Result;

use super::block::{absmax, blocks, check_input, f32_scale, n_blocks, push_fp4, BlockScales, BlockScheme, BlockTensor};
use crate::golden;
use npe_hdl::spec::Format;

/// NVFP4's block size.
pub const BLOCK: usize = 16;
/// The largest FP8 E4M3 value.
pub const E4M3_MAX: f64 = 448.0;
/// The largest FP4 E2M1 value.
pub const E2M1_MAX: f64 = 6.0;

/// The per-tensor scale of `data` (see the module documentation).
pub fn tensor_scale(data: &[f64]) -> Result<f32> {
    let a = absmax(data);
    if a == 0.0 {
        return Ok(1.0);
    }
    Ok(f32_scale("NVFP4 tensor scale", a / (E4M3_MAX * E2M1_MAX))?.max(f32::from_bits(1)))
}

/// Quantizes a `rows × k` matrix to NVFP4 (B = 16).
pub fn quantize(data: &[f64], k: usize) -> Result<BlockTensor> {
    let rows = check_input(data, k, BLOCK)?;
    let ts = tensor_scale(data)?;
    let t = f64::from(ts);
    let mut codes = Vec::with_capacity(rows * k);
    let mut scales = Vec::with_capacity(rows * n_blocks(k, BLOCK));
    let mut values = Vec::with_capacity(rows * k);
    for row in data.chunks(k) {
        for cols in blocks(k, BLOCK) {
            let g = &row[cols];
            let want = (absmax(g) / (E2M1_MAX * t)).min(E4M3_MAX);
            let sc = golden::encode(Format::Fp8E4M3, want);
            let s = golden::to_f64(Format::Fp8E4M3, sc)? * t;
            scales.push(sc as u8);
            push_fp4(g, s, &mut codes, &mut values)?;
        }
    }
    Ok(BlockTensor {
        scheme: BlockScheme::Nvfp4,
        rows,
        k,
        block: BLOCK,
        codes,
        scales: BlockScales::U8(scales),
        selectors: Vec::new(),
        row_scales: Vec::new(),
        tensor_scale: Some(ts),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_block_and_element_scales() {
        // amax 2688 → T = 1. Block 0: max 2688 → 448 (0x7E), 2688/448 = 6, 1000/448 = 2.23 → 2.
        // Block 1: max 6 → 1.0 (0x38), exact E2M1. Block 2: max 6.5 → 1.0833 → E4M3 1.125
        // (0x39); 6.5/1.125 = 5.78 → 6 → 6.75. Block 3 (short, K = 52): max 2^-20 → 0: zeros.
        let mut x = vec![0.0; 52];
        x[0] = 2688.0;
        x[1] = -1000.0;
        x[16] = 6.0;
        x[17] = -0.5;
        x[18] = 2.5;
        x[32] = 6.5;
        x[33] = 1.0;
        x[48] = 2f64.powi(-20);
        let t = quantize(&x, 52).unwrap();
        assert_eq!(t.tensor_scale, Some(1.0));
        assert_eq!(t.scales, BlockScales::U8(vec![0x7E, 0x38, 0x39, 0x00]));
        assert_eq!(&t.values[..2], &[2688.0, -896.0]);
        assert_eq!(&t.values[16..19], &[6.0, -0.5, 2.0]); // 2.5: tie → 2 (even)
        assert_eq!(&t.codes[16..19], &[0b0111, 0b1001, 0b0100]);
        assert_eq!(&t.values[32..34], &[6.75, 1.125]); // 1/1.125 = 0.89 → 1
        assert_eq!(t.values[48], 0.0);
        assert_eq!(t.codes[48], 0);
        assert_eq!(t.dequantize().unwrap(), t.values);
    }

    #[test]
    fn tensor_scale_choice() {
        assert_eq!(tensor_scale(&[0.0, 0.0]).unwrap(), 1.0);
        assert_eq!(tensor_scale(&[-5376.0, 1.0]).unwrap(), 2.0);
        assert_eq!(tensor_scale(&[1e-300]).unwrap(), f32::from_bits(1));
        assert!(tensor_scale(&[1e300]).is_err());
        // amax 1: T = f32(1/2688); the block needs 448 (capped if f32 rounding asks more).
        let t = quantize(&[1.0, 0.5], 2).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![0x7E]));
        assert_eq!(t.values[0], 6.0 * 448.0 * f64::from((1.0f64 / 2688.0) as f32));
        // An all-zero tensor: T = 1, scale code 0, codes 0.
        let t = quantize(&[0.0; 20], 20).unwrap();
        assert_eq!((t.tensor_scale, t.scales), (Some(1.0), BlockScales::U8(vec![0, 0])));
    }
}
