//! OCP MXFP4 weight quantizer (OCP Microscaling Formats v1.0): blocks of B = 32 consecutive
//! elements of a row, FP4 E2M1 elements, one E8M0 shared scale per block.
//!
//! Per block (§6.3 of the spec, as the reference `microxcaling` library does it):
//! - shared exponent `e = floor(log2(max|x|)) − emax_elem`, `emax_elem = 2` for E2M1 (its
//!   largest value 6 = 1.5·2²), clamped to E8M0's range −127 … 127; the scale code is `e + 127`
//!   (`0xFF`, NaN, is never written). **An all-zero block** has no `log2`: it gets code 0
//!   (`2^-127`), as the reference's `max + FP32_MIN_NORMAL·(max == 0)` ends up after clamping;
//!   its elements are 0 either way.
//! - elements `x / 2^e` rounded to E2M1 by the golden model ([`crate::golden::encode`]: round
//!   to nearest, **ties to even** mantissa, e.g. 2.5 → 2 and 5 → 4, as ml_dtypes) **with
//!   saturation** to ±6 (a block's largest element can reach 7.99… · 2^e). A value rounding to
//!   zero keeps its sign (the −0 code `1000`; it decodes to 0).
//!
//! K not a multiple of 32: the last block is short (see [`super::block`]).

use anyhow::Result;

use super::block::{absmax, blocks, check_input, n_blocks, push_fp4, BlockScales, BlockScheme, BlockTensor};
use crate::golden;
use npe_hdl::spec::Format;

/// MXFP4's block size.
pub const BLOCK: usize = 32;
/// The largest exponent of an E2M1 element (6 = 1.5 · 2²).
pub const EMAX_ELEM: i32 = 2;

/// `floor(log2(a))` of a positive finite `a` (exact, from the bits; subnormals give −1023 or
/// less, far below E8M0's range).
fn floor_log2(a: f64) -> i32 {
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32;
    if e == 0 {
        // Subnormal: below 2^-1022.
        -1023 - a.to_bits().leading_zeros() as i32 + 12
    } else {
        e - 1023
    }
}

/// The E8M0 code of a block's shared scale (see the module documentation).
pub fn scale_code(block: &[f64]) -> u8 {
    let a = absmax(block);
    if a == 0.0 {
        return 0;
    }
    let e = (floor_log2(a) - EMAX_ELEM).clamp(-127, 127);
    (e + 127) as u8
}

/// Quantizes a `rows × k` matrix to MXFP4 (B = 32).
pub fn quantize(data: &[f64], k: usize) -> Result<BlockTensor> {
    let rows = check_input(data, k, BLOCK)?;
    let mut codes = Vec::with_capacity(rows * k);
    let mut scales = Vec::with_capacity(rows * n_blocks(k, BLOCK));
    let mut values = Vec::with_capacity(rows * k);
    for row in data.chunks(k) {
        for cols in blocks(k, BLOCK) {
            let g = &row[cols];
            let sc = scale_code(g);
            let s = golden::to_f64(Format::E8M0, u32::from(sc))?;
            scales.push(sc);
            push_fp4(g, s, &mut codes, &mut values)?;
        }
    }
    Ok(BlockTensor {
        scheme: BlockScheme::Mxfp4,
        rows,
        k,
        block: BLOCK,
        codes,
        scales: BlockScales::U8(scales),
        selectors: Vec::new(),
        row_scales: Vec::new(),
        tensor_scale: None,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(head: &[f64]) -> Vec<f64> {
        let mut b = head.to_vec();
        b.resize(BLOCK, 0.0);
        b
    }

    #[test]
    fn floor_log2_is_exact() {
        assert_eq!(floor_log2(1.0), 0);
        assert_eq!(floor_log2(6.0), 2);
        assert_eq!(floor_log2(8.0), 3);
        assert_eq!(floor_log2(8.0 - 1e-15), 2);
        assert_eq!(floor_log2(0.75), -1);
        assert_eq!(floor_log2(f64::from_bits(1)), -1074);
        assert_eq!(floor_log2(f64::MIN_POSITIVE), -1022);
    }

    #[test]
    fn shared_exponent_and_rounding() {
        // max 6 → e = 2 − 2 = 0, scale 1 (code 127): E2M1 values exact, ties to even.
        let x = block(&[6.0, 2.5, -5.0, 0.25, 0.75, -0.1]);
        let t = quantize(&x, BLOCK).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![127]));
        assert_eq!(&t.values[..6], &[6.0, 2.0, -4.0, 0.0, 1.0, -0.0]);
        assert_eq!(&t.codes[..6], &[0b0111, 0b0100, 0b1110, 0b0000, 0b0010, 0b1000]);
        // max 7.5 → e = 0, 7.5 saturates to 6; max 8 → e = 1, scale 2: 8 → 4 exactly.
        let t = quantize(&block(&[7.5, 1.0]), BLOCK).unwrap();
        assert_eq!(
            (t.scales.clone(), &t.values[..2]),
            (BlockScales::U8(vec![127]), &[6.0, 1.0][..])
        );
        let t = quantize(&block(&[8.0, 1.0, 0.5]), BLOCK).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![128]));
        assert_eq!(&t.values[..3], &[8.0, 1.0, 0.0]); // 0.5/2 = 0.25: tie → 0 (even)
                                                      // max 0.1 → floor(log2) = −4, e = −6: 0.1·64 = 6.4 → 6 → 0.09375.
        let t = quantize(&block(&[0.1]), BLOCK).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![121]));
        assert_eq!(t.values[0], 6.0 / 64.0);
        assert_eq!(t.dequantize().unwrap(), t.values);
    }

    #[test]
    fn one_huge_outlier() {
        // max 96 → floor(log2) = 6, e = 4, scale 16: 96 → 6; 1/16 and 3/16 → 0; −2/16 = −0.125
        // → −0 (code 1000, value 0).
        let t = quantize(&block(&[96.0, 1.0, -2.0, 3.0]), BLOCK).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![131]));
        assert_eq!(&t.codes[..4], &[0b0111, 0, 0b1000, 0]);
        assert_eq!(&t.values[..4], &[96.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn e8m0_extremes_and_zero_blocks() {
        // Tiny: floor(log2(2^-140)) − 2 = −142 → clamped to −127 (code 0); 2^-140 / 2^-127 =
        // 2^-13 rounds to 0.
        let t = quantize(&block(&[2f64.powi(-140)]), BLOCK).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![0]));
        assert_eq!(t.values[0], 0.0);
        // 2^-125 · 1.5: e = −127 exactly, element 1.5·4 = 6.
        let t = quantize(&block(&[1.5 * 2f64.powi(-125)]), BLOCK).unwrap();
        assert_eq!((t.scales.clone(), t.codes[0]), (BlockScales::U8(vec![0]), 0b0111));
        assert_eq!(t.values[0], 1.5 * 2f64.powi(-125));
        // Largest f32: floor(log2) = 127, e = 125 (code 252), element 1.99… · 4 → 6 (saturated).
        let t = quantize(&block(&[f64::from(f32::MAX)]), BLOCK).unwrap();
        assert_eq!((t.scales.clone(), t.codes[0]), (BlockScales::U8(vec![252]), 0b0111));
        assert_eq!(t.values[0], 6.0 * 2f64.powi(125));
        // Beyond E8M0 (an f64 input): e clamped to 127 (code 254, never 0xFF), saturated.
        let t = quantize(&block(&[-2f64.powi(200)]), BLOCK).unwrap();
        assert_eq!((t.scales.clone(), t.codes[0]), (BlockScales::U8(vec![254]), 0b1111));
        assert_eq!(t.values[0], -6.0 * 2f64.powi(127));
        // All zero: code 0, codes 0.
        let t = quantize(&[0.0; 32], BLOCK).unwrap();
        assert_eq!(
            (t.scales, t.codes, t.values),
            (BlockScales::U8(vec![0]), vec![0; 32], vec![0.0; 32])
        );
    }

    #[test]
    fn short_last_block_has_its_own_scale() {
        // K = 40: block 0 (32 elements, max 6 → code 127), block 1 (8 elements, max 0.75 → e =
        // −1 − 2 = −3, code 124; 0.75·8 = 6).
        let mut x = block(&[6.0]);
        x.extend([0.75, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, -0.1]);
        let t = quantize(&x, 40).unwrap();
        assert_eq!(t.scales, BlockScales::U8(vec![127, 124]));
        assert_eq!(&t.values[32..34], &[0.75, 0.5]);
        assert_eq!(t.values[39], -0.125); // −0.8 → −1 (nearest), × 1/8
        assert_eq!(t.codes.len(), 40);
        assert_eq!(t.dequantize().unwrap(), t.values);
    }
}
