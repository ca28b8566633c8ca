//! Sentences to token ids with the model's own `tokenizer.json` (Hugging Face `tokenizers`,
//! pure Rust: its Oniguruma and C++ features are off).
//!
//! As sentence-transformers does: special tokens added (`[CLS] … [SEP]` for BERT), no padding
//! (each sentence is its own sequence here, so nothing needs an attention mask), and truncation
//! to the model's `max_seq_length` (`sentence_bert_config.json`, when the folder has one).

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use tokenizers::{Tokenizer as HfTokenizer, TruncationParams};

/// A loaded tokenizer and the longest sequence it produces.
pub struct Tokenizer {
    inner: HfTokenizer,
    max_len: usize,
}

/// Fewest tokens a truncated sequence may keep: `[CLS]`, one token, `[SEP]`.
pub const MIN_TOKENS: usize = 3;

impl Tokenizer {
    /// Reads `tokenizer.json`; sequences are cut to `max_len` tokens (special tokens included).
    pub fn load(path: &Path, max_len: usize) -> Result<Tokenizer> {
        if max_len < MIN_TOKENS {
            bail!("a sequence must keep at least {MIN_TOKENS} tokens ([CLS], one token, [SEP]), not {max_len}");
        }
        let mut inner = HfTokenizer::from_file(path).map_err(|e| {
            anyhow!(
                "{}: not a tokenizer.json the tokenizers crate reads: {e}",
                path.display()
            )
        })?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..TruncationParams::default()
            }))
            .map_err(|e| anyhow!("{}: truncation to {max_len} tokens: {e}", path.display()))?;
        Ok(Tokenizer { inner, max_len })
    }

    /// The longest sequence, in tokens.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The token ids of each sentence, special tokens included; refuses an empty list.
    pub fn encode(&self, sentences: &[String]) -> Result<Vec<Vec<u32>>> {
        if sentences.is_empty() {
            bail!("no sentences to encode");
        }
        sentences
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let e = self
                    .inner
                    .encode(s.as_str(), true)
                    .map_err(|e| anyhow!("sentence {}: the tokenizer failed: {e}", i + 1))?;
                Ok(e.get_ids().to_vec())
            })
            .collect()
    }
}
