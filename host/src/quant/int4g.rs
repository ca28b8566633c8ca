//! INT4 per-group baseline: symmetric INT4 (−7 … 7) per block of B consecutive elements of a
//! row (B = 128 by default, BitMoD's group size), one `f32` scale per block.
//!
//! The scale is the block's absolute maximum over 7 (`f32(absmax / 7)`, as the BitMoD authors'
//! `quant_int` baseline; no clipping search), an all-zero block gets scale 1; elements
//! `x / scale` are rounded to nearest, **ties to even** (`torch.round`'s rule), and clamped to
//! ±7. Codes are 4-bit two's complement (the `int4` format; `1000` = −8 is never written).
//! Dequantized: `code × scale`, exact.

use anyhow::Result;

use super::block::{absmax, blocks, check_input, f32_scale, n_blocks, BlockScales, BlockScheme, BlockTensor};

/// Quantizes a `rows × k` matrix to INT4 per group of `b`.
pub fn quantize(data: &[f64], k: usize, b: usize) -> Result<BlockTensor> {
    let rows = check_input(data, k, b)?;
    let mut codes = Vec::with_capacity(rows * k);
    let mut scales = Vec::with_capacity(rows * n_blocks(k, b));
    let mut values = Vec::with_capacity(rows * k);
    for row in data.chunks(k) {
        for cols in blocks(k, b) {
            let g = &row[cols];
            let a = absmax(g);
            let s = if a == 0.0 {
                1.0
            } else {
                f32_scale("INT4 group scale", a / 7.0)?.max(f32::from_bits(1))
            };
            scales.push(s);
            let s = f64::from(s);
            for &x in g {
                let q = (x / s).round_ties_even().clamp(-7.0, 7.0);
                codes.push((q as i8 as u8) & 0xF);
                values.push(q * s);
            }
        }
    }
    Ok(BlockTensor {
        scheme: BlockScheme::Int4g,
        rows,
        k,
        block: b,
        codes,
        scales: BlockScales::F32(scales),
        selectors: Vec::new(),
        row_scales: Vec::new(),
        tensor_scale: None,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_groups() {
        // Block 0: max 7 → scale 1; 3.5 → 4 and −2.5 → −2 (ties to even). Block 1: all zero →
        // scale 1. Block 2 (short, K = 10): max 14 → scale 2; 1 → 0.5 → 0 (tie, even).
        let x = [7.0, 3.5, -2.5, 0.0, 0.0, 0.0, 0.0, 0.0, -14.0, 1.0];
        let t = quantize(&x, 10, 4).unwrap();
        assert_eq!(t.scales, BlockScales::F32(vec![1.0, 1.0, 2.0]));
        assert_eq!(t.codes, vec![7, 4, 0xE, 0, 0, 0, 0, 0, 0x9, 0]);
        assert_eq!(t.values, vec![7.0, 4.0, -2.0, 0.0, 0.0, 0.0, 0.0, 0.0, -14.0, 0.0]);
        assert_eq!(t.dequantize().unwrap(), t.values);
        // One huge outlier: everything else rounds to 0.
        let t = quantize(&[700.0, 49.0, -51.0, 3.0], 4, 4).unwrap();
        assert_eq!(t.values, vec![700.0, 0.0, -100.0, 0.0]);
    }
}
