//! `npe demo`: GEMMs in several format pairs on a device (the simulated accelerator: Verilated
//! array, AXI DMA against the Rust memory model; or the functional back end), each checked bit
//! for bit against the golden model.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::device::{Backend, BlockScaleJob, BufferSizes, Device, GemmJob, GemmRun};
use crate::golden::{self, Format, OutputFormat};
use crate::quant::block::BlockScheme;
use crate::report;
use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::NpeConfig;

/// Format pairs the demo runs: (activation, weight, output).
pub const PAIRS: [(Format, Format, OutputFormat); 8] = [
    (Format::Fp4E2M1, Format::Fp4E2M1, OutputFormat::Fp32),
    (Format::Int4, Format::Int4, OutputFormat::Int32),
    (Format::Int8, Format::Fp4E2M1, OutputFormat::Bf16),
    (Format::Fp8E4M3, Format::Fp8E4M3, OutputFormat::Fp32),
    (Format::Posit8Es0, Format::Posit8Es0, OutputFormat::Posit16Es1),
    (Format::Int16, Format::Int16, OutputFormat::Int32),
    (Format::Posit16Es1, Format::Posit16Es1, OutputFormat::Fp32),
    (Format::OvpInt4, Format::OvpFlint4, OutputFormat::Fp32),
];

/// Random real numbers spread over a format's dynamic range (log-uniform magnitude, random sign).
pub fn sample_values(f: Format, n: usize, rng: &mut impl Rng) -> Vec<f64> {
    let (lo, hi) = report::range(f);
    let (l, h) = (lo.log2(), hi.log2());
    (0..n)
        .map(|_| {
            let mag = (l + rng.gen::<f64>() * (h - l)).exp2();
            if rng.gen() {
                mag
            } else {
                -mag
            }
        })
        .collect()
}

/// `vectors` K-vectors of `k` (even) OVP codes of format `f` (a pair format): Gaussian values
/// with one in 50 scaled by 8 … 32 (outliers), quantized per vector by the OliVe quantizer
/// ([`crate::quant::olive`]). Returned vector-major (`vectors × k`).
pub fn ovp_sample(f: Format, vectors: usize, k: usize, rng: &mut impl Rng) -> Vec<u32> {
    let normal = f.ovp_normal().expect("a pair format");
    let x: Vec<f64> = (0..vectors * k)
        .map(|_| {
            // Irwin–Hall: the sum of 12 uniforms, less 6, is close to N(0, 1).
            let g = (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0;
            if rng.gen_range(0..50) == 0 {
                g * rng.gen_range(8.0..32.0)
            } else {
                g
            }
        })
        .collect();
    let t = crate::quant::olive::quantize_with(&x, k, crate::quant::Granularity::PerRow, normal)
        .expect("finite values in rows of K");
    t.element_codes()
}

/// A random GEMM job: operands sampled over each format's range and quantized by the golden
/// model; outlier-victim pair operands from [`ovp_sample`] (so K must be even for them).
pub fn random_job(
    (a_fmt, w_fmt, out): (Format, Format, OutputFormat),
    (m, n, k): (usize, usize, usize),
    rng: &mut impl Rng,
) -> GemmJob {
    let q = |f: Format, len: usize, rng: &mut _| -> Vec<u32> {
        sample_values(f, len, rng)
            .into_iter()
            .map(|x| golden::encode(f, x))
            .collect()
    };
    // Pair formats: pairs run along K, down W's columns.
    let ovp = |f: Format, vectors: usize, rng: &mut _| ovp_sample(f, vectors, k + k % 2, rng);
    let a = if a_fmt.is_paired() {
        ovp(a_fmt, m, rng)
            .chunks(k + k % 2)
            .flat_map(|r| r[..k].to_vec())
            .collect()
    } else {
        q(a_fmt, m * k, rng)
    };
    let w = if w_fmt.is_paired() {
        let cols = ovp(w_fmt, n, rng);
        (0..k * n).map(|i| cols[(i % n) * (k + k % 2) + i / n]).collect()
    } else {
        q(w_fmt, k * n, rng)
    };
    GemmJob {
        a_fmt,
        w_fmt,
        out,
        scale_exp: 0,
        col_scale_exp: Vec::new(),
        m,
        n,
        k,
        a,
        w,
    }
}

/// What `npe demo` (or `npe bench`) runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Hardware preset.
    pub preset: NpeConfig,
    /// GEMM shape M, N, K.
    pub shape: (usize, usize, usize),
    /// Operand seed.
    pub seed: u64,
    /// How messages name M, N and K: the options that set them (`demo`: `--m`, `--n`, `--k`;
    /// `bench`: `--size` for all three).
    pub shape_flags: [&'static str; 3],
}

impl DemoOptions {
    /// The shape as the options that set it (`--m 5 --n 9 --k 21`, or `--size 64`).
    fn shape_text(&self) -> String {
        let [fm, fn_, fk] = self.shape_flags;
        let (m, n, k) = self.shape;
        if fm == fn_ && fn_ == fk {
            format!("{fm} {m}")
        } else {
            format!("{fm} {m} {fn_} {n} {fk} {k}")
        }
    }
}

/// Refuses shapes the demo's format pairs cannot run (call it before building a device).
pub fn check_shape(opts: &DemoOptions) -> Result<()> {
    let (m, n, k) = opts.shape;
    let [fm, fn_, fk] = opts.shape_flags;
    if m == 0 || n == 0 || k == 0 {
        if fm == fn_ && fn_ == fk {
            bail!("{fm} must be at least 1");
        }
        bail!("{fm}, {fn_} and {fk} must be at least 1");
    }
    // 16-bit pairs take one element per beat: K is limited by the activation buffer's depth.
    let max_k = opts.preset.k_beats_max as usize;
    if k > max_k {
        bail!(
            "{fk} {k} is too long: 16-bit formats hold at most K = {max_k} on {}",
            opts.preset.name
        );
    }
    if k % 2 == 1 && opts.preset.format_set.iter().any(|f| f.is_paired()) {
        bail!(
            "{fk} {k} is odd: the outlier-victim pair formats of {} pair elements along K",
            opts.preset.name
        );
    }
    Ok(())
}

/// Refuses a shape whose jobs do not fit the device's free memory, before any operand is
/// generated: a shape too large for the device would otherwise first try to allocate its
/// operands on the host (gigabytes for `--m 100000000`) and abort.
fn check_memory<B: Backend>(
    dev: &Device<B>,
    opts: &DemoOptions,
    pairs: &[(Format, Format, OutputFormat)],
) -> Result<()> {
    for &(a, w, _) in pairs {
        BufferSizes::of_shape(&opts.preset, (a, w), opts.shape, false)
            .and_then(|s| s.check_fits(dev.free_bytes()))
            .with_context(|| format!("{}: {a} x {w} does not fit the device", opts.shape_text()))?;
    }
    Ok(())
}

/// `x / y` for a report, or "-" when the back end counts no cycles.
fn per_cycle(x: f64, cycles: u64, width: usize, digits: usize) -> String {
    if cycles == 0 {
        format!("{:>width$}", "-")
    } else {
        format!("{:>width$.digits$}", x / cycles as f64)
    }
}

/// The pairs of `pairs` whose formats `preset` was built for (an 8-bit preset has no 16-bit
/// formats); the others are printed as skipped.
fn built_pairs(preset: &NpeConfig, pairs: &[(Format, Format, OutputFormat)]) -> Vec<(Format, Format, OutputFormat)> {
    let built = |f: Format| preset.formats() & (1 << f.id()) != 0;
    let (pairs, skipped): (Vec<_>, Vec<_>) = pairs.iter().partition(|p| built(p.0) && built(p.1));
    for (a, w, _) in &skipped {
        println!("skipped {a} x {w}: not formats of {}", preset.name);
    }
    pairs
}

/// The block-scaled schemes of the demo on a preset with block scales.
const DEMO_BLOCKS: [BlockScheme; 3] = [BlockScheme::Bitmod4, BlockScheme::Mxfp4, BlockScheme::Nvfp4];

/// The block-scaled rows of `npe bench` on a preset with block scales: (activations, scheme),
/// each scheme at its default block size.
const BENCH_BLOCKS: [(Format, BlockScheme); 5] = [
    (Format::Int8, BlockScheme::Bitmod4),
    (Format::Fp4E2M1, BlockScheme::Bitmod3),
    (Format::Int8, BlockScheme::Mxfp4),
    (Format::Fp4E2M1, BlockScheme::Mxfp4),
    (Format::Int8, BlockScheme::Nvfp4),
];

/// `job` on `dev`, block-scaled when `block` is given.
fn run_job<B: Backend>(dev: &mut Device<B>, job: &GemmJob, block: Option<&BlockScaleJob>) -> Result<GemmRun> {
    Ok(match block {
        None => dev.gemm(job)?,
        Some(b) => dev.block_gemm(job, b)?,
    })
}

/// Runs the demo on `dev` and prints its report; fails if any result differs from the golden
/// model.
pub fn run<B: Backend>(dev: &mut Device<B>, opts: &DemoOptions) -> Result<()> {
    let (m, n, k) = opts.shape;
    check_shape(opts)?;
    check_memory(dev, opts, &PAIRS)?;
    print!("{}", report::format_table());
    println!();
    let info = dev.info()?;
    println!(
        "device: {} ({}x{} PEs, {}-bit exact accumulators, config hash {:#010x}) on {}",
        opts.preset.name,
        info.rows,
        info.cols,
        info.acc_bits,
        info.config_hash,
        dev.backend().describe()
    );
    println!(
        "GEMM C[{m}x{n}] = A[{m}x{k}] x W[{k}x{n}], seed {}, each checked against the golden model\n",
        opts.seed
    );

    let pairs = built_pairs(&opts.preset, &PAIRS);
    // On a preset with block scales, block-scaled weights too.
    let schemes: &[BlockScheme] = if opts.preset.block_scales { &DEMO_BLOCKS } else { &[] };
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let bar = ProgressBar::new((pairs.len() + schemes.len()) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("template"));
    let mut rows = Vec::new();
    let mut total_mismatches = 0usize;
    // One row: runs the job, checks it against `golden_c`.
    let mut row = |dev: &mut Device<B>,
                   label: String,
                   job: &GemmJob,
                   block: Option<&BlockScaleJob>,
                   golden_c: Vec<u32>|
     -> Result<()> {
        bar.set_message(label.clone());
        let t0 = Instant::now();
        let cycles0 = dev.backend().simulated_cycles();
        let run = run_job(dev, job, block)?;
        let sim_cycles = dev.backend().simulated_cycles().zip(cycles0).map(|(b, a)| b - a);
        let secs = t0.elapsed().as_secs_f64();
        let mismatches = run.c.iter().zip(&golden_c).filter(|(a, b)| a != b).count();
        total_mismatches += mismatches;
        rows.push((label, run, mismatches, sim_cycles.map(|c| c as f64 / secs), job.macs()));
        bar.inc(1);
        Ok(())
    };
    for pair in pairs {
        let job = random_job(pair, (m, n, k), &mut rng);
        let golden_c = job.golden()?;
        row(
            dev,
            format!("{} x {} -> {}", pair.0, pair.1, pair.2),
            &job,
            None,
            golden_c,
        )?;
    }
    for &scheme in schemes {
        // Weights drawn as floats and quantized by the scheme (rows = output columns), INT8
        // activations; the golden block GEMM judges the device's results (before the host's
        // per-channel and tensor scales).
        let w: Vec<f64> = (0..n * k)
            .map(|_| rng.gen_range(-1.0..1.0) * rng.gen_range(0.0..1.0f64).powi(3))
            .collect();
        let t = crate::quant::block::quantize(scheme, &w, k, scheme.default_block())?;
        let (w_fmt, w_codes, block) = BlockScaleJob::of_tensor(&t)?;
        let mut job = random_job((Format::Int8, w_fmt, OutputFormat::Fp32), (m, n, k), &mut rng);
        job.w = w_codes;
        let unscaled = crate::quant::block::BlockTensor {
            tensor_scale: t.tensor_scale.map(|_| 1.0),
            row_scales: vec![1.0; t.row_scales.len()],
            ..t
        };
        let golden_c = golden::block_gemm(job.a_fmt, &job.a, &unscaled, job.out)?;
        let label = format!("{} x {} (B = {}) -> {}", job.a_fmt, scheme.name(), block.block, job.out);
        row(dev, label, &job, Some(&block), golden_c)?;
    }
    bar.finish_and_clear();
    let violations = dev.backend().protocol_violations();

    println!(
        "  {:<32} {:>5} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9} {:>10}",
        "activation x weight -> output",
        "lanes",
        "cycles",
        "MACs/cyc",
        "peak",
        "util",
        "stall",
        "DMA KiB",
        "mismatches"
    );
    for (label, run, mm, _, macs) in &rows {
        let c = &run.counters;
        let peak = f64::from(run.peak_macs_per_cycle);
        println!(
            "  {:<32} {:>5} {:>9} {} {:>9} {}% {}% {:>9.0} {:>10}",
            label,
            run.peak_macs_per_cycle / (opts.preset.rows * opts.preset.cols),
            c.busy,
            per_cycle(*macs as f64, c.busy, 9, 2),
            run.peak_macs_per_cycle,
            per_cycle(100.0 * *macs as f64 / peak, c.busy, 6, 1),
            per_cycle(100.0 * c.stall as f64, c.busy, 6, 1),
            (c.dma_read + c.dma_written) as f64 / 1024.0,
            mm
        );
    }
    let rates: Vec<f64> = rows.iter().filter_map(|r| r.3).collect();
    let speed = if rates.is_empty() {
        "the back end counts no cycles".to_string()
    } else {
        let rate = rates.iter().sum::<f64>() / rates.len() as f64;
        format!("simulation ran at {:.0} k cycles/s", rate / 1000.0)
    };
    println!();
    println!(
        "{} GEMMs, {} results, {total_mismatches} mismatches; cycles = START to DONE (DMA included); \
         util = MACs / (peak x cycles); {speed}; AXI protocol violations: {}",
        rows.len(),
        rows.len() * m * n,
        violations.len()
    );
    if total_mismatches > 0 {
        bail!("{total_mismatches} results differ between the hardware and the golden model");
    }
    if !violations.is_empty() {
        bail!("AXI protocol violations: {violations:?}");
    }
    Ok(())
}

/// `npe bench`: array utilization on large GEMMs per operand width (DMA included) and the
/// simulator's speed, as a table and JSON; no golden check (the demo and tests do that). It
/// measures cycles, so it needs a back end that simulates a clock. `json` is written as an
/// output file ([`crate::outfile::write`]).
pub fn bench<B: Backend>(dev: &mut Device<B>, opts: &DemoOptions, json: &std::path::Path) -> Result<()> {
    let pairs = [
        (Format::Int4, Format::Int4, OutputFormat::Int32),
        (Format::Fp8E4M3, Format::Fp8E4M3, OutputFormat::Fp32),
        (Format::Posit16Es1, Format::Posit16Es1, OutputFormat::Fp32),
        (Format::OvpInt4, Format::OvpInt4, OutputFormat::Int32),
    ];
    let (m, n, k) = opts.shape;
    check_shape(opts)?;
    if dev.backend().simulated_cycles().is_none() {
        bail!(
            "bench measures clock cycles; {} counts none (use --backend sim)",
            dev.backend().describe()
        );
    }
    check_memory(dev, opts, &pairs)?;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut out = Vec::new();
    println!(
        "GEMM {m}x{n}x{k} on {} ({})",
        opts.preset.name,
        dev.backend().describe()
    );
    let pairs = built_pairs(&opts.preset, &pairs);
    println!(
        "  {:<34} {:>5} {:>9} {:>9} {:>7} {:>12}",
        "formats", "lanes", "cycles", "MACs/cyc", "util", "sim cyc/s"
    );
    // One row: runs `job` (block-scaled with `block`), prints and records it.
    let mut row = |dev: &mut Device<B>, label: String, job: &GemmJob, block: Option<&BlockScaleJob>| -> Result<()> {
        let (t0, c0) = (Instant::now(), dev.backend().simulated_cycles().unwrap_or(0));
        let run = run_job(dev, job, block)?;
        let c1 = dev.backend().simulated_cycles().unwrap_or(0);
        let rate = c1.saturating_sub(c0) as f64 / t0.elapsed().as_secs_f64();
        let lanes = run.peak_macs_per_cycle / (opts.preset.rows * opts.preset.cols);
        let util = run.utilization(job.macs());
        println!(
            "  {label:<34} {lanes:>5} {:>9} {:>9.2} {:>6.1}% {rate:>12.0}",
            run.counters.busy,
            job.macs() as f64 / run.counters.busy as f64,
            100.0 * util
        );
        out.push(serde_json::json!({
            "a": job.a_fmt.name(), "w": job.w_fmt.name(), "out": job.out.name(), "m": m, "n": n, "k": k,
            "block": block.map(|b| serde_json::json!({"kind": format!("{:?}", b.kind), "size": b.block})),
            "lanes": lanes, "cycles": run.counters.busy, "stall_cycles": run.counters.stall,
            "peak_macs_per_cycle": run.peak_macs_per_cycle, "utilization": util,
            "dma_read_bytes": run.counters.dma_read, "dma_write_bytes": run.counters.dma_written,
            "sim_cycles_per_second": rate,
        }));
        Ok(())
    };
    for pair in pairs {
        let job = random_job(pair, (m, n, k), &mut rng);
        row(dev, format!("{} x {} -> {}", pair.0, pair.1, pair.2), &job, None)?;
    }
    // Block-scaled weights, on a preset with block scales: each scheme at its block size.
    if opts.preset.block_scales {
        for (a_fmt, scheme) in BENCH_BLOCKS {
            let (w_fmt, kind) = scheme.device().expect("bench schemes run on the device");
            let size = scheme.default_block();
            let job = random_job((a_fmt, w_fmt, OutputFormat::Fp32), (m, n, k), &mut rng);
            let nblk = n * k.div_ceil(size);
            let block = BlockScaleJob {
                kind,
                block: size,
                base: 120,
                codes: (0..nblk)
                    .map(|_| match kind {
                        ScaleCode::U8 => rng.gen(),
                        ScaleCode::E8m0 => rng.gen_range(120..136),
                        ScaleCode::E4m3 => rng.gen_range(0..0x7F),
                    })
                    .collect(),
                selectors: if w_fmt.is_bitmod() {
                    (0..nblk).map(|_| rng.gen_range(0..4)).collect()
                } else {
                    Vec::new()
                },
            };
            row(
                dev,
                format!("{a_fmt} x {} (B = {size})", scheme.name()),
                &job,
                Some(&block),
            )?;
        }
    }
    crate::outfile::write("--json", json, serde_json::to_string_pretty(&out)?.as_bytes())?;
    println!("wrote {}", json.display());
    Ok(())
}
