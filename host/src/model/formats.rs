//! The formats `npe model` runs the linear layers in, and how each turns real weights and
//! activations into device operands: through npe's quantizers ([`crate::quant`]: BitMoD, MXFP4,
//! NVFP4, INT4 / FP4 per group, OliVe) and the golden model's `encode` for the element formats,
//! with the scale rules below. Nothing here rounds a value itself.
//!
//! | row | weights | activations | preset |
//! |---|---|---|---|
//! | `int8` | INT8, one scale per output channel | INT8 per token | `--preset` (npe8x8) |
//! | `int4g` | INT4 per group of 128 (`quant::int4g`) | INT8 per token | `--preset` |
//! | `fp4` | FP4 E2M1, one scale per output channel | FP8 E4M3 per token | `--preset` |
//! | `fp4g` | FP4 E2M1 per group of 128 (`quant::fp4g`) | FP8 E4M3 per token | `--preset` |
//! | `fp8` | FP8 E4M3, one scale per output channel | FP8 E4M3 per token | `--preset` |
//! | `posit8` | Posit(8,0), one power-of-two scale per output channel | Posit(8,0) per token | `--preset` |
//! | `posit16` | Posit(16,1), likewise | Posit(16,1) per token | `--preset` |
//! | `bitmod4`, `bitmod3` | BitMoD (`quant::bitmod`) | INT8 per token | npe4x4bs |
//! | `mxfp4`, `nvfp4` | MXFP4, NVFP4 (`quant::mxfp4`, `quant::nvfp4`) | FP8 E4M3 per token | npe4x4bs |
//! | `olive` | OliVe OVP pairs, one scale per output channel (`quant::olive`) | INT8 per token | npe4x4ovp |
//!
//! Scales ([`row_scale`]): INT and FP formats map a row's largest magnitude to the format's
//! largest finite value (the rule of `quant::int4g` / `quant::fp4g`, and of PyTorch's
//! symmetric per-channel quantizers), as an `f32`. Posits have tapered precision (most
//! fraction bits near ±1), so they scale a row's RMS to 1, by a power of two. Activations get
//! one scale per token (row of `[tokens, in]`), weights one per output channel; the device
//! multiplies codes and the host multiplies each result by its token's and channel's scales.
//! BitMoD, MXFP4 and NVFP4 block scales are applied by the device (`Device::block_gemm`);
//! their per-channel / per-tensor `f32` scales and the INT4 / FP4 per-group `f32` scales by
//! the host (the hardware has no `f32` scale: those run one job per group).

use anyhow::{bail, Result};

use crate::golden;
use crate::quant::block::BlockScheme;
use crate::report;
use npe_hdl::spec::{Encoding, Format, NpeConfig};

/// How a row quantizes the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightScheme {
    /// Element codes of a table format, one scale per output channel ([`row_scale`]), applied
    /// by the host.
    Channel(Format),
    /// A block scheme with `f32` group scales the hardware does not apply (`int4g`, `fp4g`):
    /// one device job per group, the host scales and adds the groups.
    HostBlock(BlockScheme),
    /// A block scheme whose block scales the device applies (BitMoD, MXFP4, NVFP4).
    DeviceBlock(BlockScheme),
    /// OliVe outlier-victim pairs (normal type of least error per tensor), one `f32` scale per
    /// output channel, applied by the host.
    Olive,
}

/// One row of `npe model`'s table: a weight scheme and an activation format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelFormat {
    /// The name (`--formats`).
    pub name: &'static str,
    /// The weights.
    pub weights: WeightScheme,
    /// The activations' format (one scale per token).
    pub act: Format,
}

/// Every row, in report order.
pub const ALL: [ModelFormat; 12] = [
    ModelFormat {
        name: "int8",
        weights: WeightScheme::Channel(Format::Int8),
        act: Format::Int8,
    },
    ModelFormat {
        name: "int4g",
        weights: WeightScheme::HostBlock(BlockScheme::Int4g),
        act: Format::Int8,
    },
    ModelFormat {
        name: "fp4",
        weights: WeightScheme::Channel(Format::Fp4E2M1),
        act: Format::Fp8E4M3,
    },
    ModelFormat {
        name: "fp4g",
        weights: WeightScheme::HostBlock(BlockScheme::Fp4g),
        act: Format::Fp8E4M3,
    },
    ModelFormat {
        name: "fp8",
        weights: WeightScheme::Channel(Format::Fp8E4M3),
        act: Format::Fp8E4M3,
    },
    ModelFormat {
        name: "posit8",
        weights: WeightScheme::Channel(Format::Posit8Es0),
        act: Format::Posit8Es0,
    },
    ModelFormat {
        name: "posit16",
        weights: WeightScheme::Channel(Format::Posit16Es1),
        act: Format::Posit16Es1,
    },
    ModelFormat {
        name: "bitmod4",
        weights: WeightScheme::DeviceBlock(BlockScheme::Bitmod4),
        act: Format::Int8,
    },
    ModelFormat {
        name: "bitmod3",
        weights: WeightScheme::DeviceBlock(BlockScheme::Bitmod3),
        act: Format::Int8,
    },
    ModelFormat {
        name: "mxfp4",
        weights: WeightScheme::DeviceBlock(BlockScheme::Mxfp4),
        act: Format::Fp8E4M3,
    },
    ModelFormat {
        name: "nvfp4",
        weights: WeightScheme::DeviceBlock(BlockScheme::Nvfp4),
        act: Format::Fp8E4M3,
    },
    ModelFormat {
        name: "olive",
        weights: WeightScheme::Olive,
        act: Format::Int8,
    },
];

impl ModelFormat {
    /// The row named `name`.
    pub fn from_name(name: &str) -> Option<ModelFormat> {
        ALL.into_iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The preset the row runs on: BitMoD / MXFP4 / NVFP4 need block scales (npe4x4bs), OliVe
    /// pair decoders (npe4x4ovp); the others run on `plain` (`--preset`).
    pub fn preset(&self, plain: NpeConfig) -> NpeConfig {
        match self.weights {
            WeightScheme::DeviceBlock(_) => NpeConfig::BLOCK,
            WeightScheme::Olive => NpeConfig::OLIVE,
            WeightScheme::Channel(_) | WeightScheme::HostBlock(_) => plain,
        }
    }

    /// What the weights are, for the report.
    pub fn weight_text(&self) -> String {
        match self.weights {
            WeightScheme::Channel(f) if is_posit(f) => format!("{f}, per-channel power-of-two scale"),
            WeightScheme::Channel(f) => format!("{f}, per-channel f32 scale"),
            WeightScheme::HostBlock(s) | WeightScheme::DeviceBlock(s) => {
                format!("{} (B = {})", s.description(), s.default_block())
            }
            WeightScheme::Olive => "OliVe OVP pairs, per-channel f32 scale".to_string(),
        }
    }

    /// What the activations are, for the report.
    pub fn act_text(&self) -> String {
        let how = if is_posit(self.act) {
            "power-of-two scale"
        } else {
            "f32 scale"
        };
        format!("{} per token ({how})", self.act)
    }
}

/// The names of every row, for messages.
pub fn names() -> String {
    ALL.map(|f| f.name).join(", ")
}

/// Parses `--formats`: comma-separated row names, or `all`.
pub fn parse_list(s: &str) -> Result<Vec<ModelFormat>> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(ALL.to_vec());
    }
    let mut out: Vec<ModelFormat> = Vec::new();
    for name in s.split(',').map(str::trim) {
        let Some(f) = ModelFormat::from_name(name) else {
            bail!("unknown model format '{name}'; formats: {} (or all)", names());
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

fn is_posit(f: Format) -> bool {
    matches!(f.spec().encoding, Encoding::Posit { .. })
}

/// The scale of one row (a weight's output channel or a token's activations) for element
/// format `fmt`: values are coded as `x / scale`. INT and FP: `f32(absmax / largest finite
/// value)`; posits: `2^round(log2(RMS))`; an all-zero row: 1.
pub fn row_scale(fmt: Format, row: &[f64]) -> f64 {
    if is_posit(fmt) {
        let ms = row.iter().map(|x| x * x).sum::<f64>() / row.len().max(1) as f64;
        if ms == 0.0 {
            return 1.0;
        }
        return (0.5 * ms.log2()).round().exp2();
    }
    let amax = row.iter().fold(0f64, |m, x| m.max(x.abs()));
    if amax == 0.0 {
        return 1.0;
    }
    // The f32 that is stored; never 0 (the smallest subnormal at worst).
    f64::from(((amax / report::range(fmt).1) as f32).max(f32::from_bits(1)))
}

/// `rows × k` values coded in `fmt` with one [`row_scale`] per row: (codes row-major, scales).
/// Refuses NaN and ±Inf, naming the element.
pub fn quantize_rows(what: &str, fmt: Format, data: &[f64], k: usize) -> Result<(Vec<u32>, Vec<f64>)> {
    crate::quant::check_finite(what, data, k)?;
    let mut codes = Vec::with_capacity(data.len());
    let mut scales = Vec::with_capacity(data.len() / k.max(1));
    for row in data.chunks(k.max(1)) {
        let s = row_scale(fmt, row);
        scales.push(s);
        codes.extend(row.iter().map(|&x| golden::encode(fmt, x / s)));
    }
    Ok((codes, scales))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_follow_the_rules() {
        assert_eq!(
            row_scale(Format::Int8, &[0.5, -1.27, 0.0]),
            f64::from((1.27f64 / 127.0) as f32)
        );
        assert_eq!(row_scale(Format::Fp4E2M1, &[3.0, -1.0]), 0.5);
        assert_eq!(row_scale(Format::Fp8E4M3, &[448.0]), 1.0);
        // RMS of [0.03, −0.05] ≈ 0.0412 → 2^−5 (log2 ≈ −4.6).
        assert_eq!(row_scale(Format::Posit8Es0, &[0.03, -0.05]), 2f64.powi(-5));
        assert_eq!(row_scale(Format::Posit16Es1, &[0.0, 0.0]), 1.0);
        assert_eq!(row_scale(Format::Int8, &[0.0]), 1.0);
    }

    #[test]
    fn rows_code_with_their_own_scale_and_saturate_never() {
        let data = [1.27, -0.635, 0.0, 100.0, 50.0, -25.0];
        let (codes, scales) = quantize_rows("x", Format::Int8, &data, 3).unwrap();
        assert_eq!(scales.len(), 2);
        let back: Vec<f64> = codes
            .iter()
            .enumerate()
            .map(|(i, &c)| golden::to_f64(Format::Int8, c).unwrap() * scales[i / 3])
            .collect();
        // The largest magnitude of each row is coded as ±127 exactly.
        assert_eq!(golden::to_f64(Format::Int8, codes[0]).unwrap(), 127.0);
        assert_eq!(golden::to_f64(Format::Int8, codes[3]).unwrap(), 127.0);
        for (b, x) in back.iter().zip(data) {
            assert!((b - x).abs() <= scales[0].max(scales[1]) / 2.0 + 1e-12, "{b} {x}");
        }
        let e = quantize_rows("acts", Format::Int8, &[1.0, f64::NAN], 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("acts") && e.contains("[0, 1]"), "{e}");
    }

    #[test]
    fn format_lists_parse() {
        assert_eq!(parse_list("all").unwrap().len(), ALL.len());
        let l = parse_list("int8, NVFP4,int8").unwrap();
        assert_eq!(l.iter().map(|f| f.name).collect::<Vec<_>>(), ["int8", "nvfp4"]);
        let e = parse_list("int8,fp5").unwrap_err().to_string();
        assert!(e.contains("unknown model format 'fp5'") && e.contains("olive"), "{e}");
        assert_eq!(
            ModelFormat::from_name("olive").unwrap().preset(NpeConfig::DEMO).name,
            "npe4x4ovp"
        );
        assert_eq!(
            ModelFormat::from_name("mxfp4").unwrap().preset(NpeConfig::DEMO).name,
            "npe4x4bs"
        );
        assert_eq!(
            ModelFormat::from_name("posit16").unwrap().preset(NpeConfig::DEMO).name,
            "npe8x8"
        );
    }
}
