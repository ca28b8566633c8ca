//! `npe model` end to end through the CLI on the functional back end, reduced to seconds (one
//! encoder layer, two sentences of at most 8 tokens, two formats), and on bad input: clear
//! errors, non-zero exits, no panics. Needs the model package `.ci/setup.sh` installs.

use std::path::{Path, PathBuf};

mod common;

use common::{fails_with, npe, s, scratch, text};
use npe_host::model;
use npe_host::tensor::{write_safetensors, Matrix};

fn model_dir() -> PathBuf {
    model::default_dir().expect("the model package (bash .ci/setup.sh installs it)")
}

/// A model folder in `d` with the real configs and tokenizer (copied: small) and the real
/// weights (linked: 90 MB).
fn fake_dir(d: &Path) -> PathBuf {
    let real = model_dir();
    let m = d.join("model");
    std::fs::create_dir_all(m.join("1_Pooling")).unwrap();
    for f in ["config.json", "tokenizer.json", "1_Pooling/config.json"] {
        std::fs::copy(real.join(f), m.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(real.join("model.safetensors"), m.join("model.safetensors")).unwrap();
    m
}

/// The reduced run: one encoder layer, two sentences of at most 8 tokens (about a second per
/// format on the functional back end).
const REDUCED: [&str; 9] = [
    "model",
    "--backend",
    "functional",
    "--layers",
    "1",
    "--max-sentences",
    "2",
    "--max-tokens",
    "8",
];

/// The reduced run: both formats run every linear layer through the device, the golden check
/// (forced with --check) finds no difference, and the JSON's numbers are what the shapes and
/// formats imply.
#[test]
fn reduced_run_end_to_end() {
    let d = scratch("reduced");
    let json = d.join("m.json");
    let mut args = REDUCED.to_vec();
    args.extend(["--formats", "int8,nvfp4", "--check", "--json", s(&json)]);
    let o = npe(&args);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("| int8 |") && t.contains("| nvfp4 |"), "{t}");
    assert!(
        t.contains("n/a (no clock)"),
        "the functional back end counts no cycles:\n{t}"
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["sentences"], 2);
    assert_eq!(v["tokens"], 16, "two sentences cut to 8 tokens");
    assert_eq!(v["encoder_layers"], 1);
    // One encoder layer: Q, K, V, attention out (384 × 384 each), FFN in and out (384 × 1536).
    let weights = 4 * 384 * 384 + 2 * 384 * 1536;
    assert_eq!(v["weights"], weights);
    let channels = 4 * 384 + 1536 + 384;
    let fmts = v["formats"].as_array().unwrap();
    assert_eq!(fmts.len(), 2);
    for f in fmts {
        let name = f["name"].as_str().unwrap();
        let layers = f["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 6, "{name}");
        let tot = &f["totals"];
        // Every result of every layer was compared, and none differed.
        let results: u64 = [384, 384, 384, 384, 1536, 384].iter().map(|n| 16 * n).sum();
        assert_eq!(tot["golden_checked"], results, "{name}");
        assert_eq!(tot["golden_mismatches"], 0, "{name}");
        assert_eq!(tot["macs"], 16 * weights, "{name}");
        assert_eq!(f["cycles"], serde_json::Value::Null, "{name}: no clock, no cycles");
        let bytes = f["weight_bytes"].as_u64().unwrap();
        let want = match name {
            // 8 bits per weight and an f32 scale per output channel.
            "int8" => (8 * weights + 32 * channels) / 8,
            // 4 bits per weight, an 8-bit E4M3 scale per 16, an f32 scale per tensor.
            "nvfp4" => (4 * weights + 8 * weights / 16 + 32 * 6) / 8,
            other => panic!("{other}"),
        };
        assert_eq!(bytes, want as u64, "{name}");
        for l in layers {
            let sq = l["sqnr_db"].as_f64().unwrap();
            // INT8 keeps ~40 dB per layer, NVFP4 ~20: both well above 10, neither exact.
            assert!(sq > 10.0 && sq < 60.0, "{name} {l}");
        }
        for c in f["embedding_cosine"].as_array().unwrap() {
            let c = c.as_f64().unwrap();
            assert!(c > 0.98 && c < 1.0, "{name}: embedding cosine {c}");
        }
    }
    // 8-bit weights keep the model closer to f32 than 4-bit ones: in the mean over the layers
    // (not in every layer: INT8 activations of the GELU output, whose tokens have outliers, lose
    // more than FP8 ones in ffn_out) and in every sentence's embedding.
    let mean = |f: &serde_json::Value| {
        let l = f["layers"].as_array().unwrap();
        l.iter().map(|x| x["sqnr_db"].as_f64().unwrap()).sum::<f64>() / l.len() as f64
    };
    assert!(
        mean(&fmts[0]) > mean(&fmts[1]) + 3.0,
        "{} {}",
        mean(&fmts[0]),
        mean(&fmts[1])
    );
    let cos = |f: &serde_json::Value, i: usize| f["embedding_cosine"][i].as_f64().unwrap();
    for i in 0..2 {
        assert!(cos(&fmts[0], i) > cos(&fmts[1], i), "sentence {i}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_model_files_are_clear_errors() {
    let d = scratch("bad");
    let json = d.join("m.json");
    let run = |dir: &Path, needle: &str| {
        let mut args = REDUCED.to_vec();
        args.extend(["--formats", "int8", "--json", s(&json), "--model", s(dir)]);
        fails_with(&args, needle);
    };
    // A weights file without the model's tensors.
    let m = fake_dir(&d.join("weights"));
    std::fs::remove_file(m.join("model.safetensors")).unwrap();
    let x = Matrix {
        rows: 2,
        cols: 2,
        data: vec![1.0; 4],
    };
    write_safetensors(&m.join("model.safetensors"), &[("some.other.weight", &x)]).unwrap();
    run(&m, "no tensor \"encoder.layer.0.attention.self.query.weight\"");
    // Not a safetensors file at all.
    std::fs::write(m.join("model.safetensors"), b"not safetensors").unwrap();
    run(&m, "not a safetensors file");
    // A tokenizer.json that does not parse, and one that is JSON but no tokenizer.
    let m = fake_dir(&d.join("tok"));
    std::fs::write(m.join("tokenizer.json"), b"{\"model\": [1, 2").unwrap();
    run(&m, "tokenizer.json: not a tokenizer.json the tokenizers crate reads");
    std::fs::write(m.join("tokenizer.json"), b"{\"hello\": 1}").unwrap();
    run(&m, "not a tokenizer.json");
    // A config of another architecture.
    let m = fake_dir(&d.join("cfg"));
    std::fs::write(
        m.join("config.json"),
        br#"{"model_type": "bert", "hidden_act": "relu"}"#,
    )
    .unwrap();
    run(&m, "only \"gelu\"");
    // Not a model folder.
    run(&d.join("nowhere"), "not a folder");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_options_are_clear_errors() {
    let d = scratch("opts");
    let json = d.join("m.json");
    let empty = d.join("empty.txt");
    std::fs::write(&empty, "# only a comment\n\n   \n").unwrap();
    // Each case gives the options it needs (clap refuses an option given twice).
    let with = |extra: &[&str], needle: &str| {
        let mut args = vec!["model", "--backend", "functional", "--json", s(&json)];
        args.extend_from_slice(extra);
        fails_with(&args, needle);
    };
    let small = ["--layers", "1", "--max-sentences", "1", "--max-tokens", "4"];
    let small_with = |extra: &[&str], needle: &str| {
        let mut args = small.to_vec();
        args.extend_from_slice(extra);
        with(&args, needle);
    };
    small_with(&["--formats", "int8", "--sentences", s(&empty)], "no sentences");
    small_with(&["--formats", "fp5"], "unknown model format 'fp5'");
    small_with(&["--formats", ""], "unknown model format ''");
    with(
        &["--formats", "int8", "--layers", "7"],
        "the model has 6 encoder layers",
    );
    with(
        &["--formats", "int8", "--layers", "0"],
        "the model has 6 encoder layers",
    );
    with(
        &["--formats", "int8", "--layers", "1", "--max-tokens", "2"],
        "at least 3 tokens",
    );
    with(&["--formats", "int8", "--max-sentences", "0"], "nothing to run");
    // --replot reads a report; a file that is not one is named.
    let plot = d.join("p");
    with(&["--replot", s(&empty), "--plot", s(&plot)], "not valid JSON");
    std::fs::write(&empty, "{\"sentences\": 3}").unwrap();
    with(&["--replot", s(&empty), "--plot", s(&plot)], "no \"formats\" list");
    with(&["--replot", s(&empty)], "--plot");
    // A preset without posit16 refuses it before any job runs.
    small_with(
        &["--formats", "posit16", "--preset", "npe8x8le8"],
        "posit16 is not a multiplier format of npe8x8le8",
    );
    assert!(!json.exists(), "no report from a failed run");
    let _ = std::fs::remove_dir_all(&d);
}

/// `--adaptive` on the reduced run: the mix stays within its budget, every layer gets one of
/// the candidates, and the comparison with the uniform formats is reported.
#[test]
fn adaptive_precision_keeps_its_budget() {
    let d = scratch("adaptive");
    let json = d.join("m.json");
    let mut args = REDUCED.to_vec();
    args.extend([
        "--formats",
        "int8,nvfp4,posit16",
        "--adaptive",
        "6",
        "--calib",
        "1",
        "--json",
        s(&json),
    ]);
    let o = npe(&args);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("not on npe4x4bs: posit16"), "{t}");
    assert!(t.contains("| 6 | "), "{t}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let a = &v["adaptive"];
    // 6 layers × 2 candidates measured.
    assert_eq!(a["sensitivities"].as_array().unwrap().len(), 12);
    let run = &a["runs"][0];
    let bits = run["bits_per_weight"].as_f64().unwrap();
    assert!(bits <= 6.0 && bits > 4.5, "{bits}");
    let assign = run["assignment"].as_array().unwrap();
    assert_eq!(assign.len(), 6);
    assert!(assign
        .iter()
        .all(|x| ["int8", "nvfp4"].contains(&x["format"].as_str().unwrap())));
    // Some layers in each: the budget buys INT8 for part of the model only.
    assert!(assign.iter().any(|x| x["format"] == "int8") && assign.iter().any(|x| x["format"] == "nvfp4"));
    // The mix is a run like the others, in the table and the JSON.
    let mixed = v["formats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "mixed ≤ 6")
        .unwrap();
    assert_eq!(mixed["bits_per_weight"].as_f64().unwrap(), bits);
    // Budgets below every mix are refused.
    let mut args = REDUCED.to_vec();
    args.extend(["--formats", "int8", "--adaptive", "4", "--json", s(&json)]);
    fails_with(&args, "below the smallest mix");
    let mut args = REDUCED.to_vec();
    args.extend(["--formats", "int8", "--adaptive", "0", "--json", s(&json)]);
    fails_with(&args, "a budget is a positive number");
    let _ = std::fs::remove_dir_all(&d);
}
