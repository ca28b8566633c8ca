//! FP4 E2M1 per-group baseline: OCP E2M1 elements per block of B consecutive elements of a row
//! (B = 128 by default, BitMoD's group size), one `f32` scale per block.
//!
//! The scale is the block's absolute maximum over 6, E2M1's largest value (`f32(absmax / 6)`,
//! as the BitMoD authors' `fp4` baseline; absmax, not a least-MSE search), an all-zero block
//! gets scale 1; elements `x / scale` are rounded to E2M1 by the golden model (nearest, **ties
//! to even**, saturating at ±6; a negative value rounding to 0 keeps the −0 code). Dequantized:
//! `E2M1 × scale`, exact.

use anyhow::Result;

use super::block::{absmax, blocks, check_input, f32_scale, n_blocks, push_fp4, BlockScales, BlockScheme, BlockTensor};

/// Quantizes a `rows × k` matrix to FP4 E2M1 per group of `b`.
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
                f32_scale("FP4 group scale", a / 6.0)?.max(f32::from_bits(1))
            };
            scales.push(s);
            let s = f64::from(s);
            push_fp4(g, s, &mut codes, &mut values)?;
        }
    }
    Ok(BlockTensor {
        scheme: BlockScheme::Fp4g,
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
        // Block 0: max 6 → scale 1; 2.5 → 2, −5 → −4 (ties to even), 0.3 → 0.5. Block 1: all
        // zero → scale 1. Block 2 (short, K = 10): max 12 → scale 2; 1.5 → 0.75 → 1 → 2.
        let x = [6.0, 2.5, -5.0, 0.3, 0.0, 0.0, 0.0, 0.0, -12.0, 1.5];
        let t = quantize(&x, 10, 4).unwrap();
        assert_eq!(t.scales, BlockScales::F32(vec![1.0, 1.0, 2.0]));
        assert_eq!(
            t.codes,
            vec![0b0111, 0b0100, 0b1110, 0b0001, 0, 0, 0, 0, 0b1111, 0b0010]
        );
        assert_eq!(t.values, vec![6.0, 2.0, -4.0, 0.5, 0.0, 0.0, 0.0, 0.0, -12.0, 2.0]);
        assert_eq!(t.dequantize().unwrap(), t.values);
        // One huge outlier: 600 → scale 100; 20 → 0.2 → 0, −30 → −0.3 → −0.5.
        let t = quantize(&[600.0, 20.0, -30.0, 0.0], 4, 4).unwrap();
        assert_eq!(t.values, vec![600.0, 0.0, -50.0, 0.0]);
    }
}
