//! The encoder's forward pass in plain Rust, from token ids to L2-normalized sentence embeddings
//! (what sentence-transformers' all-MiniLM-L6-v2 pipeline computes: BERT, mean pooling,
//! normalization).
//!
//! Every linear layer goes through a [`LinearExec`]: [`Reference`] computes it in `f32` on the
//! host (the f32 reference), the quantized runner ([`super::runner`]) on a device. Everything
//! else — embeddings, attention scores and their softmax, `P · V`, layer norms, GELU, pooling —
//! is the host's, in `f32` values with `f64` sums, for the reference and the quantized runs
//! alike, so the two differ only in the linear layers.
//!
//! Sentences are not padded: the tokens of all sentences form one `[T, hidden]` matrix for the
//! linear layers (one device job per layer for the whole batch: they act on each token alone),
//! and attention runs over each sentence's own tokens.

use std::fmt;

use anyhow::{bail, Result};

use super::mat::{dot, linear, Mat};
use super::weights::{Bert, LayerNorm, Linear};

/// The linear layers of an encoder layer, in the order the forward pass runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proj {
    /// Attention query.
    Query,
    /// Attention key.
    Key,
    /// Attention value.
    Value,
    /// Attention output.
    AttnOut,
    /// Feed-forward in.
    FfnIn,
    /// Feed-forward out.
    FfnOut,
}

impl Proj {
    /// Every projection, in run order.
    pub const ALL: [Proj; 6] = [
        Proj::Query,
        Proj::Key,
        Proj::Value,
        Proj::AttnOut,
        Proj::FfnIn,
        Proj::FfnOut,
    ];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Proj::Query => "query",
            Proj::Key => "key",
            Proj::Value => "value",
            Proj::AttnOut => "attn_out",
            Proj::FfnIn => "ffn_in",
            Proj::FfnOut => "ffn_out",
        }
    }
}

/// One linear layer of the model: encoder layer and projection (ordered as the forward pass
/// runs them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinearId {
    /// Encoder layer, from 0.
    pub layer: usize,
    /// Which projection.
    pub proj: Proj,
}

impl fmt::Display for LinearId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}.{}", self.layer, self.proj.name())
    }
}

/// Computes the model's linear layers.
pub trait LinearExec {
    /// `x · Wᵀ + b` for layer `id` (`x` `[T, in]`, `lin.w` `[out, in]`): `[T, out]`.
    fn linear(&mut self, id: LinearId, x: &Mat, lin: &Linear) -> Result<Mat>;
}

/// The f32 reference: every linear layer on the host ([`linear`]).
pub struct Reference;

impl LinearExec for Reference {
    fn linear(&mut self, _: LinearId, x: &Mat, lin: &Linear) -> Result<Mat> {
        Ok(linear(x, &lin.w, &lin.b))
    }
}

/// What a forward pass produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// One L2-normalized embedding per sentence.
    pub embeddings: Vec<Vec<f32>>,
    /// Every linear layer's output (bias included), in run order.
    pub linear_outputs: Vec<(LinearId, Mat)>,
}

/// Runs the encoder on the sentences' token ids (`[CLS] … [SEP]` each).
pub fn forward(model: &Bert, ids: &[Vec<u32>], exec: &mut dyn LinearExec) -> Result<Output> {
    let c = &model.config;
    if ids.is_empty() {
        bail!("no sentences");
    }
    for (s, seq) in ids.iter().enumerate() {
        if seq.is_empty() {
            bail!("sentence {} has no tokens", s + 1);
        }
        if seq.len() > c.max_positions {
            bail!(
                "sentence {} has {} tokens; the model takes at most {}",
                s + 1,
                seq.len(),
                c.max_positions
            );
        }
        if let Some(&t) = seq.iter().find(|&&t| t as usize >= c.vocab) {
            bail!(
                "sentence {}: token id {t} is beyond the model's vocabulary of {} (is tokenizer.json this model's?)",
                s + 1,
                c.vocab
            );
        }
    }
    let spans: Vec<(usize, usize)> = ids
        .iter()
        .scan(0, |o, seq| {
            let span = (*o, seq.len());
            *o += seq.len();
            Some(span)
        })
        .collect();
    let mut x = embed(model, ids);
    let mut outs = Vec::with_capacity(model.layers.len() * Proj::ALL.len());
    for (l, layer) in model.layers.iter().enumerate() {
        let mut run = |proj: Proj, x: &Mat, lin: &Linear| -> Result<Mat> {
            let id = LinearId { layer: l, proj };
            let y = exec.linear(id, x, lin)?;
            if (y.rows, y.cols) != (x.rows, lin.w.rows) {
                bail!(
                    "{id}: the linear layer returned {}x{}, not {}x{}",
                    y.rows,
                    y.cols,
                    x.rows,
                    lin.w.rows
                );
            }
            outs.push((id, y.clone()));
            Ok(y)
        };
        let q = run(Proj::Query, &x, &layer.query)?;
        let k = run(Proj::Key, &x, &layer.key)?;
        let v = run(Proj::Value, &x, &layer.value)?;
        let ctx = attention(&q, &k, &v, &spans, c.heads);
        let mut a = run(Proj::AttnOut, &ctx, &layer.attn_out)?;
        add_assign(&mut a, &x);
        layer_norm(&mut a, &layer.attn_norm, c.eps);
        let mut h = run(Proj::FfnIn, &a, &layer.ffn_in)?;
        h.data.iter_mut().for_each(|v| *v = gelu(*v));
        let mut o = run(Proj::FfnOut, &h, &layer.ffn_out)?;
        add_assign(&mut o, &a);
        layer_norm(&mut o, &layer.out_norm, c.eps);
        x = o;
    }
    let embeddings = spans.iter().map(|&(o, n)| mean_pool_normalized(&x, o, n)).collect();
    Ok(Output {
        embeddings,
        linear_outputs: outs,
    })
}

/// Token + position + token-type (0) embeddings, layer-normalized: `[T, hidden]`.
fn embed(model: &Bert, ids: &[Vec<u32>]) -> Mat {
    let h = model.config.hidden;
    let total = ids.iter().map(Vec::len).sum();
    let mut x = Mat::zeros(total, h);
    let mut r = 0;
    for seq in ids {
        for (pos, &t) in seq.iter().enumerate() {
            let (w, p, ty) = (
                model.word.row(t as usize),
                model.position.row(pos),
                model.token_type.row(0),
            );
            for (i, o) in x.row_mut(r).iter_mut().enumerate() {
                *o = w[i] + p[i] + ty[i];
            }
            r += 1;
        }
    }
    layer_norm(&mut x, &model.emb_norm, model.config.eps);
    x
}

/// Multi-head self-attention of each sentence over its own tokens: `softmax(Q Kᵀ / √d) V` per
/// head, heads side by side in the columns: `[T, hidden]`.
fn attention(q: &Mat, k: &Mat, v: &Mat, spans: &[(usize, usize)], heads: usize) -> Mat {
    let d = q.cols / heads;
    let scale = 1.0 / (d as f64).sqrt();
    let mut ctx = Mat::zeros(q.rows, q.cols);
    let mut p = Vec::new();
    for &(o, n) in spans {
        for h in 0..heads {
            let cols = h * d..(h + 1) * d;
            for i in o..o + n {
                let qi = &q.row(i)[cols.clone()];
                p.clear();
                p.extend((o..o + n).map(|j| f64::from(dot(qi, &k.row(j)[cols.clone()])) * scale));
                let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                p.iter_mut().for_each(|s| *s = (*s - max).exp());
                let sum: f64 = p.iter().sum();
                let mut acc = vec![0f64; d];
                for (j, &pj) in (o..o + n).zip(&p) {
                    let w = pj / sum;
                    for (a, &vv) in acc.iter_mut().zip(&v.row(j)[cols.clone()]) {
                        *a += w * f64::from(vv);
                    }
                }
                for (c, a) in ctx.row_mut(i)[cols.clone()].iter_mut().zip(acc) {
                    *c = a as f32;
                }
            }
        }
    }
    ctx
}

fn add_assign(x: &mut Mat, y: &Mat) {
    for (a, b) in x.data.iter_mut().zip(&y.data) {
        *a += b;
    }
}

/// Layer norm of each row: `(x − μ) / √(σ² + ε) · γ + β`, σ² the biased variance (PyTorch's).
pub fn layer_norm(x: &mut Mat, n: &LayerNorm, eps: f32) {
    let cols = x.cols as f64;
    for r in 0..x.rows {
        let row = x.row_mut(r);
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / cols;
        let var = row.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / cols;
        let inv = 1.0 / (var + f64::from(eps)).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&n.gamma).zip(&n.beta) {
            *v = ((f64::from(*v) - mean) * inv * f64::from(*g) + f64::from(*b)) as f32;
        }
    }
}

/// The exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))` (BERT's `"gelu"`, not the tanh form).
pub fn gelu(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))) as f32
}

/// The mean of rows `o … o + n − 1`, divided by its L2 norm (at least 1e-12, as PyTorch's
/// `normalize`).
fn mean_pool_normalized(x: &Mat, o: usize, n: usize) -> Vec<f32> {
    let mut m = vec![0f64; x.cols];
    for r in o..o + n {
        for (a, &v) in m.iter_mut().zip(x.row(r)) {
            *a += f64::from(v);
        }
    }
    m.iter_mut().for_each(|a| *a /= n as f64);
    let norm = m.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
    m.iter().map(|a| (a / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_values() {
        // Φ(1) = 0.841344746…, Φ(−1) = 0.158655254…
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-7);
        assert!((gelu(-1.0) + 0.158_655_25).abs() < 1e-7);
        assert_eq!(gelu(0.0), 0.0);
    }

    #[test]
    fn layer_norm_by_hand() {
        let mut x = Mat {
            rows: 1,
            cols: 4,
            data: vec![1.0, 2.0, 3.0, 4.0],
        };
        let n = LayerNorm {
            gamma: vec![1.0, 1.0, 2.0, 1.0],
            beta: vec![0.0, 0.0, 0.0, 1.0],
        };
        layer_norm(&mut x, &n, 0.0);
        // μ = 2.5, σ² = 1.25.
        let s = 1.25f64.sqrt();
        let want = [-1.5 / s, -0.5 / s, 2.0 * 0.5 / s, 1.5 / s + 1.0];
        for (g, w) in x.data.iter().zip(want) {
            assert!((f64::from(*g) - w).abs() < 1e-6, "{g} {w}");
        }
    }

    /// One head, two tokens, equal keys: each token's context is the mean of the values.
    #[test]
    fn attention_with_equal_scores_averages_values() {
        let q = Mat {
            rows: 2,
            cols: 2,
            data: vec![1.0, 0.0, 0.0, 1.0],
        };
        let k = Mat {
            rows: 2,
            cols: 2,
            data: vec![1.0, 1.0, 1.0, 1.0],
        };
        let v = Mat {
            rows: 2,
            cols: 2,
            data: vec![2.0, 0.0, 4.0, 6.0],
        };
        let c = attention(&q, &k, &v, &[(0, 2)], 1);
        assert_eq!(c.data, vec![3.0, 3.0, 3.0, 3.0]);
        // Two one-token sentences attend only to themselves.
        let c = attention(&q, &k, &v, &[(0, 1), (1, 1)], 1);
        assert_eq!(c.data, v.data);
    }
}
