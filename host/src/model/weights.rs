//! A BERT encoder's configuration (`config.json`, `1_Pooling/config.json`) and weights
//! (`model.safetensors`), checked against each other as they load.
//!
//! What is read: the token, position and token-type embeddings with their layer norm, and per
//! encoder layer the query, key, value and attention-output projections, the attention layer
//! norm, the feed-forward layers and the output layer norm, all `f32`, under the names Hugging
//! Face's `BertModel` gives them (`encoder.layer.{i}.attention.self.query.weight`, …). The pooler
//! is not read: sentence-transformers' mean pooling does not use it. Every tensor is checked for
//! presence, dtype and shape before use, so a file of another model is refused with the name of
//! the first tensor that does not fit.

use std::path::Path;

use anyhow::{bail, Context, Result};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

use super::mat::Mat;

/// The encoder's hyper-parameters (Hugging Face `config.json`) and its pooling.
#[derive(Clone, Debug, PartialEq)]
pub struct BertConfig {
    /// Width of the hidden state (384 for MiniLM-L6).
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate: usize,
    /// Rows of the position-embedding table: the longest input.
    pub max_positions: usize,
    /// Rows of the token-embedding table.
    pub vocab: usize,
    /// Rows of the token-type table.
    pub type_vocab: usize,
    /// The layer norms' epsilon.
    pub eps: f32,
}

fn field(v: &Value, path: &Path, name: &str) -> Result<usize> {
    let x = v
        .get(name)
        .with_context(|| format!("{}: no \"{name}\"", path.display()))?;
    x.as_u64()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .with_context(|| format!("{}: \"{name}\" is {x}, not a positive whole number", path.display()))
}

impl BertConfig {
    /// Reads `config.json` (a BERT model with GELU activations and absolute positions) and the
    /// sentence-transformers pooling config (mean pooling is the one implemented).
    pub fn load(config: &Path, pooling: &Path) -> Result<BertConfig> {
        let v = read_json(config)?;
        if let Some(t) = v.get("model_type").and_then(Value::as_str) {
            if t != "bert" {
                bail!("{}: model_type \"{t}\": npe model runs BERT encoders", config.display());
            }
        }
        match v.get("hidden_act").and_then(Value::as_str) {
            Some("gelu") => {}
            other => bail!(
                "{}: hidden_act {other:?}: only \"gelu\" (the exact, erf-based GELU) is implemented",
                config.display()
            ),
        }
        if let Some(p) = v.get("position_embedding_type").and_then(Value::as_str) {
            if p != "absolute" {
                bail!(
                    "{}: position_embedding_type \"{p}\": only absolute positions are implemented",
                    config.display()
                );
            }
        }
        let eps = v
            .get("layer_norm_eps")
            .and_then(Value::as_f64)
            .filter(|e| *e > 0.0 && e.is_finite())
            .with_context(|| format!("{}: no positive \"layer_norm_eps\"", config.display()))?;
        let c = BertConfig {
            hidden: field(&v, config, "hidden_size")?,
            layers: field(&v, config, "num_hidden_layers")?,
            heads: field(&v, config, "num_attention_heads")?,
            intermediate: field(&v, config, "intermediate_size")?,
            max_positions: field(&v, config, "max_position_embeddings")?,
            vocab: field(&v, config, "vocab_size")?,
            type_vocab: field(&v, config, "type_vocab_size")?,
            eps: eps as f32,
        };
        if !c.hidden.is_multiple_of(c.heads) {
            bail!(
                "{}: hidden_size {} is not a multiple of num_attention_heads {}",
                config.display(),
                c.hidden,
                c.heads
            );
        }
        let p = read_json(pooling)?;
        let flag = |name: &str| p.get(name).and_then(Value::as_bool).unwrap_or(false);
        if !flag("pooling_mode_mean_tokens")
            || [
                "pooling_mode_cls_token",
                "pooling_mode_max_tokens",
                "pooling_mode_mean_sqrt_len_tokens",
            ]
            .iter()
            .any(|m| flag(m))
        {
            bail!(
                "{}: only mean pooling (pooling_mode_mean_tokens alone) is implemented",
                pooling.display()
            );
        }
        if let Some(d) = p.get("word_embedding_dimension").and_then(Value::as_u64) {
            if d as usize != c.hidden {
                bail!(
                    "{}: word_embedding_dimension {d}, but the model's hidden_size is {}",
                    pooling.display(),
                    c.hidden
                );
            }
        }
        Ok(c)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))
}

/// `x · Wᵀ + b`: `w` is `[out, in]` as PyTorch stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// The weights, `[out, in]`.
    pub w: Mat,
    /// The bias, `[out]`.
    pub b: Vec<f32>,
}

/// A layer norm's scale and shift.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// γ.
    pub gamma: Vec<f32>,
    /// β.
    pub beta: Vec<f32>,
}

/// One encoder layer.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderLayer {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    /// Attention output projection.
    pub attn_out: Linear,
    /// Layer norm after attention (with its residual).
    pub attn_norm: LayerNorm,
    /// Feed-forward in (hidden → intermediate).
    pub ffn_in: Linear,
    /// Feed-forward out (intermediate → hidden).
    pub ffn_out: Linear,
    /// Layer norm after the feed-forward (with its residual).
    pub out_norm: LayerNorm,
}

/// A BERT encoder's weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Bert {
    /// Its configuration.
    pub config: BertConfig,
    /// Token embeddings `[vocab, hidden]`.
    pub word: Mat,
    /// Position embeddings `[max_positions, hidden]`.
    pub position: Mat,
    /// Token-type embeddings `[type_vocab, hidden]`.
    pub token_type: Mat,
    /// The embeddings' layer norm.
    pub emb_norm: LayerNorm,
    /// The encoder layers loaded (the first `layers` of the model).
    pub layers: Vec<EncoderLayer>,
}

/// The tensors of a safetensors file, looked up with checks that name the file and tensor.
struct Tensors<'a> {
    path: &'a Path,
    st: SafeTensors<'a>,
}

impl Tensors<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self.st.tensor(name).map_err(|_| {
            anyhow::anyhow!(
                "{}: no tensor \"{name}\" (expected a BERT model's weights as Hugging Face's \
                 BertModel names them, e.g. all-MiniLM-L6-v2's model.safetensors)",
                self.path.display()
            )
        })?;
        if t.shape() != shape {
            bail!(
                "{}: tensor \"{name}\" has shape {:?}, the config says {shape:?}",
                self.path.display(),
                t.shape()
            );
        }
        if t.dtype() != Dtype::F32 {
            bail!(
                "{}: tensor \"{name}\" is {:?}; npe model reads F32 weights",
                self.path.display(),
                t.dtype()
            );
        }
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!("{}: tensor \"{name}\" element {i} is {}", self.path.display(), v[i]);
        }
        Ok(v)
    }

    fn mat(&self, name: &str, rows: usize, cols: usize) -> Result<Mat> {
        Ok(Mat {
            rows,
            cols,
            data: self.get(name, &[rows, cols])?,
        })
    }

    fn linear(&self, prefix: &str, out: usize, inp: usize) -> Result<Linear> {
        Ok(Linear {
            w: self.mat(&format!("{prefix}.weight"), out, inp)?,
            b: self.get(&format!("{prefix}.bias"), &[out])?,
        })
    }

    fn norm(&self, prefix: &str, n: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            gamma: self.get(&format!("{prefix}.weight"), &[n])?,
            beta: self.get(&format!("{prefix}.bias"), &[n])?,
        })
    }
}

impl Bert {
    /// Loads the embeddings and the first `layers` encoder layers (all of them when `None`)
    /// from `weights` (a `.safetensors` file) for `config`.
    pub fn load(weights: &Path, config: BertConfig, layers: Option<usize>) -> Result<Bert> {
        let n_layers = layers.unwrap_or(config.layers);
        if n_layers == 0 || n_layers > config.layers {
            bail!(
                "--layers {n_layers}: the model has {} encoder layers (give 1 to {})",
                config.layers,
                config.layers
            );
        }
        let bytes = std::fs::read(weights).with_context(|| format!("cannot read {}", weights.display()))?;
        let st = SafeTensors::deserialize(&bytes)
            .with_context(|| format!("{}: not a safetensors file", weights.display()))?;
        let t = Tensors { path: weights, st };
        let (h, f) = (config.hidden, config.intermediate);
        let mut enc = Vec::with_capacity(n_layers);
        for i in 0..n_layers {
            let p = format!("encoder.layer.{i}");
            enc.push(EncoderLayer {
                query: t.linear(&format!("{p}.attention.self.query"), h, h)?,
                key: t.linear(&format!("{p}.attention.self.key"), h, h)?,
                value: t.linear(&format!("{p}.attention.self.value"), h, h)?,
                attn_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                ffn_in: t.linear(&format!("{p}.intermediate.dense"), f, h)?,
                ffn_out: t.linear(&format!("{p}.output.dense"), h, f)?,
                out_norm: t.norm(&format!("{p}.output.LayerNorm"), h)?,
            });
        }
        Ok(Bert {
            word: t.mat("embeddings.word_embeddings.weight", config.vocab, h)?,
            position: t.mat("embeddings.position_embeddings.weight", config.max_positions, h)?,
            token_type: t.mat("embeddings.token_type_embeddings.weight", config.type_vocab, h)?,
            emb_norm: t.norm("embeddings.LayerNorm", h)?,
            layers: enc,
            config,
        })
    }
}
