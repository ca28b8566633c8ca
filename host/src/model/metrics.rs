//! How far a quantized run is from the f32 reference, and the report: a table per format, a
//! table per layer, and the same as JSON.
//!
//! Per linear layer: SQNR `10·log10(Σ y² / Σ (ŷ − y)²)` and cosine of the layer's whole output
//! `[tokens, out]` (bias included) in the quantized run (`ŷ`: errors of the earlier layers
//! included, as they reach this one) against the f32 reference's (`y`). Per sentence: cosine of
//! its embedding to the f32 reference's. Device counters as the back end reports them: a back
//! end without a clock (functional) counts no cycles, and the report says so instead of a
//! number.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::forward::LinearId;
use super::mat::Mat;
use super::runner::JobStats;

/// `10·log10(Σ y² / Σ (ŷ − y)²)` in dB (∞ when equal).
pub fn sqnr_db(reference: &[f32], x: &[f32]) -> f64 {
    let r: Vec<f64> = reference.iter().map(|&v| f64::from(v)).collect();
    let q: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    crate::quant::sqnr_db(&r, &q)
}

/// Cosine similarity `a·b / (|a| |b|)` (0 when either is all zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    ab / (aa.sqrt() * bb.sqrt())
}

/// One linear layer of a quantized run.
#[derive(Clone, Debug)]
pub struct LayerResult {
    /// The layer.
    pub id: LinearId,
    /// SQNR of its output against the reference's, dB.
    pub sqnr_db: f64,
    /// Cosine of its output to the reference's.
    pub cosine: f64,
    /// What the device did for it.
    pub stats: JobStats,
}

impl LayerResult {
    /// Compares a layer's output with the reference's.
    pub fn new(id: LinearId, reference: &Mat, out: &Mat, stats: JobStats) -> LayerResult {
        LayerResult {
            id,
            sqnr_db: sqnr_db(&reference.data, &out.data),
            cosine: cosine(&reference.data, &out.data),
            stats,
        }
    }
}

/// One run: a format, or a mix of formats by layer.
#[derive(Clone, Debug)]
pub struct FormatResult {
    /// The format's name (`--formats`), or the mix's.
    pub name: String,
    /// What the weights are.
    pub weights_text: String,
    /// What the activations are.
    pub act_text: String,
    /// The preset it ran on.
    pub preset: &'static str,
    /// The device (the back end's description).
    pub device: String,
    /// Whether every result was compared with the golden model.
    pub checked: bool,
    /// Bits of every weight matrix with its metadata.
    pub weight_bits: u64,
    /// Weights (elements of the weight matrices).
    pub weights: u64,
    /// Per layer, in run order.
    pub layers: Vec<LayerResult>,
    /// Per sentence: cosine of its embedding to the reference's.
    pub emb_cosine: Vec<f64>,
    /// Wall-clock seconds of the run (quantizing the weights included).
    pub seconds: f64,
}

impl FormatResult {
    /// The device counts of every layer.
    pub fn totals(&self) -> JobStats {
        let mut t = JobStats::default();
        for l in &self.layers {
            t.add(&l.stats);
        }
        t
    }

    /// Bits per weight, metadata included.
    pub fn bits_per_weight(&self) -> f64 {
        self.weight_bits as f64 / self.weights.max(1) as f64
    }

    /// MACs per busy cycle; `None` when the back end counted no cycles.
    pub fn macs_per_cycle(&self) -> Option<f64> {
        let t = self.totals();
        (t.busy > 0).then(|| t.macs as f64 / t.busy as f64)
    }

    fn golden_text(&self) -> String {
        let t = self.totals();
        if self.checked {
            format!("{} of {} differ", t.mismatches, t.checked)
        } else {
            "not compared".to_string()
        }
    }
}

/// What the runs were about.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The model folder.
    pub model: String,
    /// Sentences.
    pub sentences: usize,
    /// Tokens of all sentences.
    pub tokens: usize,
    /// Encoder layers run.
    pub layers: usize,
    /// The back end (`--backend`).
    pub backend: String,
    /// Whether that back end is the golden model itself (its check is then trivial).
    pub backend_is_golden: bool,
    /// Weights of the layers run, and their f32 size in bits.
    pub weights: u64,
    /// Seconds of the f32 reference run.
    pub reference_seconds: f64,
}

fn min_mean(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = v.clone().count().max(1) as f64;
    (v.clone().fold(f64::INFINITY, f64::min), v.sum::<f64>() / n)
}

/// The per-format table (markdown).
pub fn format_table(info: &RunInfo, results: &[FormatResult]) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "all-MiniLM-L6-v2 ({}): {} sentences, {} tokens, {} encoder layer(s); linear layers on {}, everything else on the host in f32",
        info.model, info.sentences, info.tokens, info.layers, info.backend
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(
        s,
        "| format | weights | activations | preset | bits/weight | weight bytes | layer SQNR dB min / mean | layer cosine min | embedding cosine min / mean | jobs | cycles | MACs/cycle | golden check | seconds |"
    )
    .unwrap();
    writeln!(s, "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|").unwrap();
    writeln!(
        s,
        "| f32 | f32 (the reference) | f32 | host | 32 | {} | ∞ | 1 | 1 / 1 | – | – | – | – | {:.1} |",
        info.weights * 4,
        info.reference_seconds
    )
    .unwrap();
    for r in results {
        let t = r.totals();
        let (smin, smean) = min_mean(r.layers.iter().map(|l| l.sqnr_db));
        let (cmin, _) = min_mean(r.layers.iter().map(|l| l.cosine));
        let (emin, emean) = min_mean(r.emb_cosine.iter().copied());
        let (cycles, mpc) = match r.macs_per_cycle() {
            Some(m) => (t.busy.to_string(), format!("{m:.2}")),
            None => ("n/a (no clock)".to_string(), "n/a".to_string()),
        };
        writeln!(
            s,
            "| {} | {} | {} | {} | {:.3} | {} | {:.2} / {:.2} | {:.5} | {:.5} / {:.5} | {} | {} | {} | {} | {:.1} |",
            r.name,
            r.weights_text,
            r.act_text,
            r.preset,
            r.bits_per_weight(),
            r.weight_bits.div_ceil(8),
            smin,
            smean,
            cmin,
            emin,
            emean,
            t.jobs,
            cycles,
            mpc,
            r.golden_text(),
            r.seconds
        )
        .unwrap();
    }
    writeln!(s).unwrap();
    writeln!(
        s,
        "Layer SQNR / cosine: each linear layer's output (bias included) in the quantized run against the f32 run's, errors of earlier layers included. \
         Weight bytes: every weight matrix of the layers run with its scales, selectors and other metadata (biases stay f32 on the host and are not counted)."
    )
    .unwrap();
    if results.iter().any(|r| r.macs_per_cycle().is_none()) {
        writeln!(
            s,
            "Cycles: the {} back end has no clock, so it counts none; run with --backend sim for cycle counts.",
            info.backend
        )
        .unwrap();
    }
    if info.backend_is_golden {
        writeln!(
            s,
            "Golden check: the functional back end is the golden model behind the register map, so comparing its results with the golden model is trivial; \
             it is done with --check (it doubles the run time) and by default on every other back end."
        )
        .unwrap();
    }
    s
}

/// SQNR per layer (rows) and format (columns), markdown.
pub fn layer_table(results: &[FormatResult]) -> String {
    let mut s = String::new();
    let Some(first) = results.first() else {
        return s;
    };
    write!(s, "| layer |").unwrap();
    for r in results {
        write!(s, " {} |", r.name).unwrap();
    }
    writeln!(s).unwrap();
    write!(s, "|---|").unwrap();
    for _ in results {
        write!(s, "---:|").unwrap();
    }
    writeln!(s).unwrap();
    for (i, l) in first.layers.iter().enumerate() {
        write!(s, "| {} |", l.id).unwrap();
        for r in results {
            match r.layers.get(i) {
                Some(x) => write!(s, " {:.2} |", x.sqnr_db).unwrap(),
                None => write!(s, " – |").unwrap(),
            }
        }
        writeln!(s).unwrap();
    }
    s
}

/// Non-finite numbers (an exact layer's ∞ SQNR) as strings: JSON has no ∞.
fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        json!(x.to_string())
    }
}

fn stats_json(t: &JobStats) -> Value {
    json!({
        "jobs": t.jobs,
        "macs": t.macs,
        "busy_cycles": t.busy,
        "stall_cycles": t.stall,
        "dma_bytes": t.dma_bytes,
        "golden_checked": t.checked,
        "golden_mismatches": t.mismatches,
    })
}

/// Everything, as JSON.
pub fn json(info: &RunInfo, results: &[FormatResult]) -> Value {
    json!({
        "model": info.model,
        "sentences": info.sentences,
        "tokens": info.tokens,
        "encoder_layers": info.layers,
        "backend": info.backend,
        "backend_is_golden_model": info.backend_is_golden,
        "weights": info.weights,
        "f32_weight_bytes": info.weights * 4,
        "reference_seconds": info.reference_seconds,
        "formats": results.iter().map(|r| {
            let t = r.totals();
            json!({
                "name": r.name,
                "weights": r.weights_text,
                "activations": r.act_text,
                "preset": r.preset,
                "device": r.device,
                "bits_per_weight": r.bits_per_weight(),
                "weight_bytes": r.weight_bits.div_ceil(8),
                "golden_checked": r.checked,
                "cycles": if t.busy > 0 { json!(t.busy) } else { Value::Null },
                "macs_per_cycle": r.macs_per_cycle().map_or(Value::Null, |m| json!(m)),
                "totals": stats_json(&t),
                "embedding_cosine": r.emb_cosine,
                "seconds": r.seconds,
                "layers": r.layers.iter().map(|l| json!({
                    "layer": l.id.layer,
                    "proj": l.id.proj.name(),
                    "sqnr_db": num(l.sqnr_db),
                    "cosine": num(l.cosine),
                    "device": stats_json(&l.stats),
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_by_hand() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 2.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-15);
        assert_eq!(cosine(&[0.0], &[1.0]), 0.0);
        // Σy² = 100, Σ(ŷ − y)² = 1 → 20 dB.
        assert!((sqnr_db(&[10.0], &[9.0]) - 20.0).abs() < 1e-12);
        assert_eq!(sqnr_db(&[1.0], &[1.0]), f64::INFINITY);
    }
}
