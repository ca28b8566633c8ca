//! Host quantizers: real tensors to codes of npe's formats plus scales, one module per scheme.
//!
//! - [`olive`]: OliVe outlier-victim pairs (ISCA 2023), formats `ovp-int4` / `ovp-flint4`;
//!   [`operand`] lays them out as GEMM operands.
//! - Block-scaled weights (DESIGN §3.1.1), sharing the block plumbing of [`block`]:
//!   [`bitmod`] (BitMoD FP4 / FP3, HPCA 2025), [`mxfp4`] (OCP MXFP4), [`nvfp4`] (NVFP4) and the
//!   per-group baselines [`int4g`] (INT4) and [`fp4g`] (FP4 E2M1); [`block_cmd`] is their
//!   `npe quantize` path.
//!
//! Shared here: the scale granularity, input checks, error measures (MSE, SQNR) and the plain
//! INT4 baseline the schemes are compared with.

pub mod bitmod;
pub mod block;
pub mod block_cmd;
pub mod cmd;
pub mod fp4g;
pub mod int4g;
pub mod mxfp4;
pub mod nvfp4;
pub mod olive;
pub mod operand;

use anyhow::{bail, Result};

/// How many scales a tensor gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One scale per row (weights stored `[out_channels, K]`: per output channel).
    PerRow,
    /// One scale for the whole tensor (activations).
    PerTensor,
}

/// Refuses NaN and ±Inf, naming the first such element `[row, col]` of a `cols`-wide matrix.
pub fn check_finite(what: &str, data: &[f64], cols: usize) -> Result<()> {
    if let Some((i, x)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        let cols = cols.max(1);
        bail!(
            "{what}: element [{}, {}] is {x}; a quantizer needs finite values",
            i / cols,
            i % cols
        );
    }
    Ok(())
}

/// Sum of squared differences.
pub fn sse(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// Signal-to-quantization-noise ratio in dB: `10 log10(Σx² / Σ(x − x̂)²)` (∞ for an exact
/// quantization, NaN for an all-zero signal quantized exactly).
pub fn sqnr_db(x: &[f64], xq: &[f64]) -> f64 {
    let signal: f64 = x.iter().map(|a| a * a).sum();
    10.0 * (signal / sse(x, xq)).log10()
}

/// The clipping ratios searched, in percent of the base range (the authors' PTQ scripts search
/// 75 % … 248 % of the 3σ range in steps of 2 %).
pub const OLIVE_CLIP_PERCENT: std::ops::Range<u32> = 75..250;

/// Plain symmetric INT4 (−7 … 7, round to nearest even, saturating), one scale per
/// [`Granularity`] group, the scale chosen by least squared error over clipping ratios of
/// 30 % … 100 % of the group's absolute maximum (step 1 %). Returns the dequantized values.
pub fn int4_baseline(data: &[f64], cols: usize, gran: Granularity) -> Vec<f64> {
    let groups: Vec<&[f64]> = match gran {
        Granularity::PerRow => data.chunks(cols.max(1)).collect(),
        Granularity::PerTensor => vec![data],
    };
    let mut out = Vec::with_capacity(data.len());
    for g in groups {
        let amax = g.iter().fold(0f64, |m, x| m.max(x.abs()));
        if amax == 0.0 {
            out.extend(std::iter::repeat_n(0.0, g.len()));
            continue;
        }
        let q = |x: f64, s: f64| (x / s).round_ties_even().clamp(-7.0, 7.0) * s;
        let mut best = (f64::INFINITY, 1.0);
        for p in 30..=100 {
            let s = f64::from((amax * f64::from(p) / 100.0 / 7.0) as f32);
            let e: f64 = g.iter().map(|&x| (x - q(x, s)).powi(2)).sum();
            if e < best.0 {
                best = (e, s);
            }
        }
        out.extend(g.iter().map(|&x| q(x, best.1)));
    }
    out
}
