//! GEMM operands in outlier-victim pairs: real matrices quantized by the OliVe quantizer
//! ([`super::olive`]), or the codes `npe quantize --scheme olive` wrote, laid out as a
//! [`crate::device::GemmJob`] takes them, with the scales the host applies to the result.
//!
//! The device multiplies codes in grid units (int4 or flint units) and takes only power-of-two
//! scales, while OliVe's scales are any `f32`: the job runs on the codes, and the host multiplies
//! each result by the activations' scale (one per tensor) and its column's weight scale (one per
//! output channel) after the device has rounded it to the output format.
//!
//! Pairs run along K: along A's rows, down W's columns. An odd K is padded with one zero element
//! at its end (the quantizer's rule, [`super::olive`]); the other operand is padded to match.

use anyhow::{bail, Result};

use super::olive::{self, OvpTensor};
use super::Granularity;
use crate::tensor::Matrix;
use npe_hdl::spec::{Format, OvpNormal};

/// One operand in pair codes.
#[derive(Clone, Debug, PartialEq)]
pub struct OvpOperand {
    /// `ovp-int4` or `ovp-flint4`.
    pub format: Format,
    /// The 4-bit codes in the job's layout: A `m × k` row-major, W `k × n` row-major, `k` even.
    pub codes: Vec<u32>,
    /// K (even: the padded length when the input's K was odd).
    pub k: usize,
    /// Per-tensor scale (A) or one scale per column of W.
    pub scales: Vec<f64>,
    /// Elements the quantizer coded as outliers (0 for codes read from a file).
    pub outliers: u64,
}

impl OvpOperand {
    /// Activations `m × K`: one scale for the tensor; `normal` `None` picks the type of least
    /// squared error.
    pub fn activations(a: &Matrix, normal: Option<OvpNormal>) -> Result<OvpOperand> {
        let t = quantize(a, Granularity::PerTensor, normal)?;
        Ok(OvpOperand {
            format: t.format(),
            codes: t.element_codes(),
            k: t.k_padded(),
            scales: t.scales.iter().map(|&s| f64::from(s)).collect(),
            outliers: t.stats.outliers,
        })
    }

    /// Weights `K × n`: one scale per column (output channel); quantized as the `n × K`
    /// matrix of its columns, pairs along K.
    pub fn weights(w: &Matrix, normal: Option<OvpNormal>) -> Result<OvpOperand> {
        let wt = Matrix {
            rows: w.cols,
            cols: w.rows,
            data: (0..w.rows * w.cols)
                .map(|i| w.data[(i % w.rows) * w.cols + i / w.rows])
                .collect(),
        };
        let t = quantize(&wt, Granularity::PerRow, normal)?;
        let mut op = Self::weights_of(&t);
        op.outliers = t.stats.outliers;
        Ok(op)
    }

    /// Weights from a quantized tensor of `npe quantize` (rows = output channels, pairs along
    /// K): transposed into `K × rows`.
    pub fn weights_of(t: &OvpTensor) -> OvpOperand {
        let (n, k) = (t.rows, t.k_padded());
        let codes = t.element_codes();
        OvpOperand {
            format: t.format(),
            codes: (0..k * n).map(|i| codes[(i % n) * k + i / n]).collect(),
            k,
            scales: t.scales.iter().map(|&s| f64::from(s)).collect(),
            outliers: 0,
        }
    }

    /// The scale of column `c` (the one scale of a per-tensor operand).
    pub fn scale(&self, c: usize) -> f64 {
        if self.scales.len() == 1 {
            self.scales[0]
        } else {
            self.scales[c]
        }
    }
}

fn quantize(x: &Matrix, gran: Granularity, normal: Option<OvpNormal>) -> Result<OvpTensor> {
    if x.rows == 0 || x.cols == 0 {
        bail!("an empty {}x{} matrix has nothing to quantize", x.rows, x.cols);
    }
    match normal {
        Some(n) => olive::quantize_with(&x.data, x.cols, gran, n),
        None => olive::quantize(&x.data, x.cols, gran),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden;

    fn dequantized_a(op: &OvpOperand, m: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for r in 0..m {
            let row = &op.codes[r * op.k..(r + 1) * op.k];
            let u = golden::decode_codes(op.format, row).unwrap();
            out.extend(u.into_iter().map(|u| golden::unified_f64(u) * op.scale(0)));
        }
        out
    }

    /// W's columns quantize exactly as the rows of its transpose do (pairs down the columns,
    /// per-column scales), and an odd K is padded with a zero row.
    #[test]
    fn weights_pair_down_their_columns_and_odd_k_pads() {
        let (k, n) = (41, 3);
        let w = Matrix {
            rows: k,
            cols: n,
            data: (0..k * n)
                .map(|i| ((i * 7 % 11) as f64 - 5.0) * if i == 4 { 40.0 } else { 1.0 })
                .collect(),
        };
        let op = OvpOperand::weights(&w, Some(OvpNormal::Int4)).unwrap();
        assert_eq!((op.k, op.codes.len(), op.scales.len()), (42, 42 * n, n));
        for c in 0..n {
            let col: Vec<f64> = (0..k).map(|r| w.data[r * n + c]).collect();
            let t = olive::quantize_with(&col, k, Granularity::PerRow, OvpNormal::Int4).unwrap();
            let want = t.element_codes();
            let got: Vec<u32> = (0..op.k).map(|r| op.codes[r * n + c]).collect();
            assert_eq!(got, want, "column {c}");
            assert_eq!(op.scale(c), f64::from(t.scales[0]));
        }
        // Element 4 (row 1, column 1) is 40 × larger than the rest of its column: an outlier.
        assert!(op.outliers >= 1);
    }

    /// Activations keep their row layout and one scale; dequantized they are close to the input.
    #[test]
    fn activations_keep_rows_and_one_scale() {
        let a = Matrix {
            rows: 2,
            cols: 4,
            data: vec![0.5, -1.0, 2.0, 30.0, 0.0, 1.5, -2.5, 1.0],
        };
        let op = OvpOperand::activations(&a, None).unwrap();
        assert_eq!((op.k, op.codes.len(), op.scales.len()), (4, 8, 1));
        let back = dequantized_a(&op, 2);
        let err: f64 = back.iter().zip(&a.data).map(|(x, y)| (x - y).powi(2)).sum();
        let norm: f64 = a.data.iter().map(|x| x * x).sum();
        assert!(err < 0.05 * norm, "{back:?}");
        assert!(OvpOperand::activations(
            &Matrix {
                rows: 0,
                cols: 0,
                data: vec![]
            },
            None
        )
        .is_err());
    }
}
