//! The f32 reference of `npe model` (plain Rust, `npe_host::model`) against PyTorch: token ids
//! and sentence embeddings of all-MiniLM-L6-v2 that `host/tests/model/make_reference.py` computed
//! with transformers / sentence-transformers on the same weights and committed
//! (`reference.json`, `reference.npy`). Needs the model package that `.ci/setup.sh` installs.

use std::path::Path;

use npe_host::model::{self, Setup};

fn here() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model"))
}

#[test]
fn f32_reference_matches_pytorch() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(here().join("reference.json")).unwrap()).unwrap();
    let sentences: Vec<String> = meta["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    // The committed sentences are the file's (the script read the same file).
    assert_eq!(sentences, model::parse_sentences(model::DEFAULT_SENTENCES));
    assert!(sentences.len() >= 20);
    let want_ids: Vec<Vec<u32>> = meta["token_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    let want = npe_host::tensor::read_matrix(&here().join("reference.npy"), None).unwrap();
    assert_eq!((want.rows, want.cols), (sentences.len(), 384));

    let dir = model::default_dir().expect("the model package (bash .ci/setup.sh installs it)");
    let setup = Setup::load(&dir, sentences, None, None).unwrap();
    assert_eq!(setup.ids, want_ids, "token ids differ from transformers' tokenizers");
    let out = model::reference(&setup).unwrap();
    // The bound on |Rust − PyTorch| per component: PyTorch's float32 embeddings differ from the
    // same model in float64 by up to `noise` (measured by the script: 1.75e-7 here), the rounding
    // noise of a float32 evaluation. Ours keeps float32 values with float64 sums, so it is at
    // most about that far from the float64 model too, and two such evaluations differ by at
    // most about twice it; 4× leaves room for summation order and libm differences, and is
    // still ~10⁻⁵ of a typical component (|x| ~ 0.05) — a wrong epsilon, GELU form or pooling
    // moves components by 10⁻³ or more.
    let noise = meta["f32_vs_f64_max_abs"].as_f64().unwrap();
    assert!(
        noise > 0.0 && noise < 1e-6,
        "the recorded float32 noise {noise:e} is not a float32 noise"
    );
    let bound = 4.0 * noise;
    for (i, e) in out.embeddings.iter().enumerate() {
        let w: Vec<f32> = want.data[i * 384..(i + 1) * 384].iter().map(|&x| x as f32).collect();
        let cos = model::metrics::cosine(e, &w);
        let max_abs = e
            .iter()
            .zip(&w)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        eprintln!("sentence {i}: cosine {cos:.9}, max |diff| {max_abs:.3e}");
        assert!(cos >= 0.9999, "sentence {i}: cosine {cos} to PyTorch's embedding");
        assert!(max_abs <= bound, "sentence {i}: max |diff| {max_abs:e} > {bound:e}");
    }
}
