//! `npe quantize`: quantizes a tensor (or every weight matrix of a `.safetensors` file) with a
//! scheme, writes the codes and scales, and reports the SQNR against a plain INT4 baseline.
//! The block-scaled schemes (BitMoD, MXFP4, NVFP4, INT4 / FP4 per group) run in
//! [`super::block_cmd`], which reuses this file's input reading and report writing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use super::olive::{self, OvpTensor};
use super::{check_finite, int4_baseline, sqnr_db, Granularity};
use crate::{outfile, tensor};
use npe_hdl::spec::OvpNormal;

/// A quantization scheme.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// OliVe outlier-victim pairs (4 bits per value; formats ovp-int4 / ovp-flint4).
    Olive,
    /// BitMoD 4-bit: FP4 + one special value, 4 data types per group of 128, u8 group scale ×
    /// f32 channel scale.
    Bitmod4,
    /// BitMoD 3-bit: FP3 + one special value, likewise.
    Bitmod3,
    /// OCP MXFP4: E2M1, E8M0 scale per block of 32.
    Mxfp4,
    /// NVFP4: E2M1, FP8 E4M3 scale per block of 16, f32 tensor scale.
    Nvfp4,
    /// INT4 (−7 … 7) per group of 128, f32 absmax scale.
    Int4g,
    /// FP4 E2M1 per group of 128, f32 absmax scale.
    Fp4g,
    /// Every block scheme above, compared in one report (no --out).
    BlockAll,
}

impl Scheme {
    /// The block scheme, if this is one (not `olive`, not `block-all`).
    pub fn block(self) -> Option<super::block::BlockScheme> {
        use super::block::BlockScheme as B;
        Some(match self {
            Scheme::Bitmod4 => B::Bitmod4,
            Scheme::Bitmod3 => B::Bitmod3,
            Scheme::Mxfp4 => B::Mxfp4,
            Scheme::Nvfp4 => B::Nvfp4,
            Scheme::Int4g => B::Int4g,
            Scheme::Fp4g => B::Fp4g,
            Scheme::Olive | Scheme::BlockAll => return None,
        })
    }
}

/// The normal type of an OVP tensor, or the search.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalChoice {
    /// The one of least squared error (a tie picks int4).
    Auto,
    /// int4 normals.
    Int4,
    /// flint4 normals.
    Flint4,
}

/// The options of `npe quantize`.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// The scheme.
    #[arg(long, value_enum)]
    pub scheme: Scheme,
    /// The tensor(s): .npy (one 1-D or 2-D array) or .safetensors. Layout [rows, K]: weights as
    /// PyTorch stores them ([out, in]), activations [tokens, in]; pairs run along K.
    #[arg(long)]
    pub w: PathBuf,
    /// The tensor of a .safetensors file (not needed when it holds one).
    #[arg(long, conflicts_with = "all")]
    pub tensor: Option<String>,
    /// Every 2-D floating-point tensor of a .safetensors file (a report per tensor and overall).
    #[arg(long)]
    pub all: bool,
    /// With --all: only the tensors whose name starts with this (e.g. `encoder.layer.`).
    #[arg(long, requires = "all")]
    pub prefix: Option<String>,
    /// Block size B of bitmod4 / bitmod3 / int4g / fp4g (default 128); mxfp4 (32) and nvfp4
    /// (16) are fixed.
    #[arg(long)]
    pub block: Option<usize>,
    /// Activations: one scale per tensor (default: weights, one scale per row = output channel).
    #[arg(long)]
    pub activation: bool,
    /// The OVP normal type.
    #[arg(long, value_enum, default_value_t = NormalChoice::Auto)]
    pub normal: NormalChoice,
    /// Where to write the codes and scales (.safetensors): per tensor NAME, `NAME.codes` (U8
    /// pair bytes, [rows, ceil(K/2)]) and `NAME.scale` (F32, [rows] or [1]); the metadata holds
    /// `NAME.format` and `NAME.k`. Block schemes: see `quant::block_cmd` (one code per byte,
    /// [rows, K]; scales [rows, ceil(K/B)]; metadata also `NAME.block`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the report as a markdown table to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// One quantized tensor and its measures.
struct Row {
    name: String,
    rows: usize,
    k: usize,
    t: OvpTensor,
    sqnr_ovp: f64,
    sqnr_int4_tensor: f64,
    sqnr_int4_row: f64,
    signal: f64,
    noise_ovp: f64,
    noise_int4_tensor: f64,
    noise_int4_row: f64,
}

/// Runs `npe quantize`.
pub fn run(args: &QuantizeArgs) -> Result<()> {
    if args.scheme != Scheme::Olive {
        return super::block_cmd::run(args);
    }
    if args.block.is_some() {
        bail!("--block is for the block schemes; olive pairs adjacent elements");
    }
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(o) = &args.out {
        if o.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            bail!("--out {}: the codes are written as .safetensors", o.display());
        }
        outputs.push(("--out", o));
    }
    if let Some(r) = &args.report {
        outputs.push(("--report", r));
    }
    outfile::check_outputs(&outputs, &[("--w", &args.w)])?;
    let gran = if args.activation {
        Granularity::PerTensor
    } else {
        Granularity::PerRow
    };
    let inputs = read_inputs(args)?;
    let mut rows = Vec::new();
    for (name, m) in inputs {
        check_finite(&format!("{} tensor {name}", args.w.display()), &m.data, m.cols)?;
        let t = match args.normal {
            NormalChoice::Auto => olive::quantize(&m.data, m.cols, gran)?,
            NormalChoice::Int4 => olive::quantize_with(&m.data, m.cols, gran, OvpNormal::Int4)?,
            NormalChoice::Flint4 => olive::quantize_with(&m.data, m.cols, gran, OvpNormal::Flint4)?,
        };
        let deq = t.dequantize()?;
        let i4t = int4_baseline(&m.data, m.cols, Granularity::PerTensor);
        let i4r = int4_baseline(&m.data, m.cols, gran);
        rows.push(Row {
            rows: m.rows,
            k: m.cols,
            sqnr_ovp: sqnr_db(&m.data, &deq),
            sqnr_int4_tensor: sqnr_db(&m.data, &i4t),
            sqnr_int4_row: sqnr_db(&m.data, &i4r),
            signal: m.data.iter().map(|x| x * x).sum(),
            noise_ovp: super::sse(&m.data, &deq),
            noise_int4_tensor: super::sse(&m.data, &i4t),
            noise_int4_row: super::sse(&m.data, &i4r),
            name,
            t,
        });
    }
    let report = report(args, gran, &rows);
    print!("{report}");
    if let Some(o) = &args.out {
        write_codes(o, &rows)?;
        println!("wrote {}", o.display());
    }
    if let Some(r) = &args.report {
        write_report(r, &report)?;
    }
    Ok(())
}

/// Writes a report whose first line says how to regenerate it (this process's arguments).
pub(super) fn write_report(r: &Path, report: &str) -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let md = format!(
        "Regenerate: `cargo run --release -p npe-host --no-default-features --bin npe -- {}`\n\n{report}",
        argv.join(" ")
    );
    outfile::write("--report", r, md.as_bytes())?;
    println!("wrote {}", r.display());
    Ok(())
}

/// The tensors to quantize, by name (`.npy`: its file stem).
pub(super) fn read_inputs(args: &QuantizeArgs) -> Result<Vec<(String, tensor::Matrix)>> {
    let path = &args.w;
    let ext = path.extension().and_then(|e| e.to_str());
    if ext != Some("safetensors") {
        if args.all {
            bail!(
                "--all reads every tensor of a .safetensors file; {} is not one",
                path.display()
            );
        }
        let m = tensor::read_operand(path, args.tensor.as_deref(), "--tensor")?;
        let name = path
            .file_stem()
            .map_or("w".into(), |s| s.to_string_lossy().into_owned());
        return Ok(vec![(name, m)]);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let st = SafeTensors::deserialize(&bytes).with_context(|| format!("{}: not a safetensors file", path.display()))?;
    let is_float = |d: Dtype| matches!(d, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64);
    let mut names: Vec<String> = if args.all {
        st.tensors()
            .into_iter()
            .filter(|(_, t)| t.shape().len() == 2 && is_float(t.dtype()))
            .map(|(n, _)| n)
            .filter(|n| args.prefix.as_deref().is_none_or(|p| n.starts_with(p)))
            .collect()
    } else {
        let name = match &args.tensor {
            Some(n) => n.clone(),
            None if st.names().len() == 1 => st.names()[0].clone(),
            None => bail!(
                "{}: holds {} tensors, name one with --tensor (or quantize every matrix with --all)",
                path.display(),
                st.names().len()
            ),
        };
        let t = st.tensor(&name).map_err(|_| {
            let mut list: Vec<&String> = st.names();
            list.sort();
            let shown: Vec<&String> = list.iter().take(8).copied().collect();
            anyhow::anyhow!(
                "{}: no tensor named {name} (it holds {} tensors: {shown:?}{})",
                path.display(),
                list.len(),
                if list.len() > 8 { ", ..." } else { "" }
            )
        })?;
        if !is_float(t.dtype()) {
            bail!(
                "{}: tensor {name} has dtype {:?}; the quantizer takes floating-point tensors (F16, BF16, F32, F64)",
                path.display(),
                t.dtype()
            );
        }
        vec![name]
    };
    if names.is_empty() {
        match &args.prefix {
            Some(p) => bail!(
                "{}: holds no 2-D floating-point tensor whose name starts with {p}",
                path.display()
            ),
            None => bail!("{}: holds no 2-D floating-point tensor", path.display()),
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let m = tensor::read_safetensors(path, &bytes, Some(&n), "--tensor")?;
            Ok((n, m))
        })
        .collect()
}

fn pct(n: u64, d: u64) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

/// The report: one line per tensor and the overall figures (SQNR over all elements).
fn report(args: &QuantizeArgs, gran: Granularity, rows: &[Row]) -> String {
    let mut s = String::new();
    let g = match gran {
        Granularity::PerRow => "per output channel",
        Granularity::PerTensor => "per tensor",
    };
    writeln!(
        s,
        "OliVe OVP 4-bit ({g} scales) vs plain INT4 (symmetric, clipped), {}",
        args.w.display()
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(
        s,
        "| tensor | shape | normal | SQNR OVP (dB) | SQNR INT4 per tensor (dB) | SQNR INT4 {g} (dB) | outliers (%) | victims (%) | nonzero victims (%) | double-outlier pairs |"
    )
    .unwrap();
    writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    let (mut sig, mut n_ovp, mut n_i4, mut n_i4r) = (0.0, 0.0, 0.0, 0.0);
    let mut tot = olive::PairStats::default();
    let (mut n_int, mut n_flint) = (0, 0);
    for r in rows {
        let st = r.t.stats;
        writeln!(
            s,
            "| {} | {}x{} | {} | {:.2} | {:.2} | {:.2} | {:.3} | {:.3} | {:.3} | {} |",
            r.name,
            r.rows,
            r.k,
            r.t.format(),
            r.sqnr_ovp,
            r.sqnr_int4_tensor,
            r.sqnr_int4_row,
            pct(st.outliers, st.elements),
            pct(st.victims, st.elements),
            pct(st.nonzero_victims, st.elements),
            st.double_outliers
        )
        .unwrap();
        sig += r.signal;
        n_ovp += r.noise_ovp;
        n_i4 += r.noise_int4_tensor;
        n_i4r += r.noise_int4_row;
        tot.elements += st.elements;
        tot.outliers += st.outliers;
        tot.victims += st.victims;
        tot.nonzero_victims += st.nonzero_victims;
        tot.double_outliers += st.double_outliers;
        match r.t.normal {
            OvpNormal::Int4 => n_int += 1,
            OvpNormal::Flint4 => n_flint += 1,
        }
    }
    if rows.len() > 1 {
        writeln!(s).unwrap();
        writeln!(
            s,
            "overall ({} tensors, {} elements; {n_int} int4-normal, {n_flint} flint4-normal): SQNR OVP {:.2} dB, INT4 per tensor {:.2} dB, INT4 {g} {:.2} dB; outliers {:.3} %, victims {:.3} %, nonzero victims {:.3} %, double-outlier pairs {}",
            rows.len(),
            tot.elements,
            10.0 * (sig / n_ovp).log10(),
            10.0 * (sig / n_i4).log10(),
            10.0 * (sig / n_i4r).log10(),
            pct(tot.outliers, tot.elements),
            pct(tot.victims, tot.elements),
            pct(tot.nonzero_victims, tot.elements),
            tot.double_outliers
        )
        .unwrap();
    }
    s
}

/// Writes every tensor's codes and scales (see [`QuantizeArgs::out`]).
fn write_codes(path: &Path, rows: &[Row]) -> Result<()> {
    let scales: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| r.t.scales.iter().flat_map(|s| s.to_le_bytes()).collect())
        .collect();
    let mut views: Vec<(String, TensorView)> = Vec::new();
    let mut meta = HashMap::new();
    for (r, sc) in rows.iter().zip(&scales) {
        views.push((
            format!("{}.codes", r.name),
            TensorView::new(Dtype::U8, vec![r.rows, r.t.k_padded() / 2], &r.t.codes)?,
        ));
        views.push((
            format!("{}.scale", r.name),
            TensorView::new(Dtype::F32, vec![r.t.scales.len()], sc)?,
        ));
        meta.insert(format!("{}.format", r.name), r.t.format().name().to_string());
        meta.insert(format!("{}.k", r.name), r.k.to_string());
    }
    let bytes = safetensors::serialize(views, &Some(meta))?;
    outfile::write("--out", path, &bytes)?;
    Ok(())
}

/// The format or scheme `npe quantize` recorded for tensor `name` in `path` (its
/// `NAME.format` metadata), or `None` when `path` is not a `.safetensors` file holding one.
pub fn stored_format(path: &Path, name: &str) -> Result<Option<String>> {
    if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (_, meta) =
        SafeTensors::read_metadata(&bytes).with_context(|| format!("{}: not a safetensors file", path.display()))?;
    Ok(meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(&format!("{name}.format")).cloned()))
}

/// Reads a tensor written by `npe quantize --scheme olive` back: codes, scales, format and K.
pub fn read_ovp(path: &Path, name: &str) -> Result<OvpTensor> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)?;
    let st = SafeTensors::deserialize(&bytes)?;
    let md = meta.metadata().clone().unwrap_or_default();
    let fmt = md
        .get(&format!("{name}.format"))
        .and_then(|f| npe_hdl::spec::Format::from_name(f))
        .and_then(|f| f.ovp_normal())
        .with_context(|| format!("{}: no OVP tensor {name}", path.display()))?;
    let k: usize = md
        .get(&format!("{name}.k"))
        .and_then(|k| k.parse().ok())
        .with_context(|| format!("{}: no K for {name}", path.display()))?;
    let codes = st
        .tensor(&format!("{name}.codes"))
        .with_context(|| format!("{}: no {name}.codes", path.display()))?;
    let scales = st
        .tensor(&format!("{name}.scale"))
        .with_context(|| format!("{}: no {name}.scale", path.display()))?;
    let rows = match codes.shape() {
        [rows, bytes] if codes.dtype() == Dtype::U8 && *bytes == k.div_ceil(2) && k > 0 => *rows,
        s => bail!(
            "{}: {name}.codes is {:?} {s:?}; expected U8 [rows, {}] (K = {k})",
            path.display(),
            codes.dtype(),
            k.div_ceil(2)
        ),
    };
    if scales.dtype() != Dtype::F32 || !(scales.shape() == [rows] || scales.shape() == [1]) {
        bail!(
            "{}: {name}.scale is {:?} {:?}; expected F32 [{rows}] or [1]",
            path.display(),
            scales.dtype(),
            scales.shape()
        );
    }
    let scale_values: Vec<f32> = scales
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(s) = scale_values.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        bail!(
            "{}: {name}.scale holds {s}; scales are finite and positive",
            path.display()
        );
    }
    Ok(OvpTensor {
        normal: fmt,
        rows,
        k,
        codes: codes.data().to_vec(),
        scales: scale_values,
        stats: olive::PairStats::default(),
        sse: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Matrix;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("npe-quant-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn args(w: &Path, tensor: Option<&str>, out: Option<PathBuf>) -> QuantizeArgs {
        QuantizeArgs {
            scheme: Scheme::Olive,
            w: w.to_path_buf(),
            tensor: tensor.map(String::from),
            all: false,
            prefix: None,
            block: None,
            activation: false,
            normal: NormalChoice::Auto,
            out,
            report: None,
        }
    }

    fn matrix(rows: usize, cols: usize) -> Matrix {
        let data = (0..rows * cols)
            .map(|i| {
                let x = ((i * 7919) % 1000) as f64 / 1000.0 - 0.5;
                // A few large values: outliers.
                if i % 97 == 0 {
                    x * 40.0
                } else {
                    x
                }
            })
            .collect();
        Matrix { rows, cols, data }
    }

    #[test]
    fn codes_and_scales_round_trip_through_the_file() {
        let d = dir("rt");
        let (w, out) = (d.join("w.safetensors"), d.join("q.safetensors"));
        let m = matrix(8, 33); // odd K
        crate::tensor::write_safetensors(&w, &[("lin", &m), ("other", &matrix(2, 4))]).unwrap();
        run(&args(&w, Some("lin"), Some(out.clone()))).unwrap();
        let back = read_ovp(&out, "lin").unwrap();
        // The file was written from f32 values: quantize the same f32-rounded data.
        let data: Vec<f64> = m.data.iter().map(|&x| f64::from(x as f32)).collect();
        let t = olive::quantize(&data, 33, Granularity::PerRow).unwrap();
        assert_eq!((back.normal, back.rows, back.k), (t.normal, 8, 33));
        assert_eq!(back.codes, t.codes);
        assert_eq!(back.scales, t.scales);
        assert_eq!(back.dequantize().unwrap(), t.dequantize().unwrap());
        assert!(t.stats.outliers > 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let d = dir("bad");
        let w = d.join("w.safetensors");
        crate::tensor::write_safetensors(&w, &[("a", &matrix(2, 4)), ("b", &matrix(2, 4))]).unwrap();
        let e = run(&args(&w, Some("nope"), None)).unwrap_err().to_string();
        assert!(e.contains("no tensor named nope"), "{e}");
        let e = run(&args(&w, None, None)).unwrap_err().to_string();
        assert!(e.contains("name one with --tensor"), "{e}");
        // NaN and Inf name the element.
        let mut m = matrix(2, 4);
        m.data[5] = f64::NAN;
        let nan = d.join("nan.safetensors");
        crate::tensor::write_safetensors(&nan, &[("x", &m)]).unwrap();
        let e = run(&args(&nan, None, None)).unwrap_err().to_string();
        assert!(e.contains("[1, 1]") && e.contains("NaN"), "{e}");
        m.data[5] = f64::INFINITY;
        crate::tensor::write_safetensors(&nan, &[("x", &m)]).unwrap();
        let e = run(&args(&nan, None, None)).unwrap_err().to_string();
        assert!(e.contains("inf"), "{e}");
        // An integer tensor is the wrong dtype.
        let ints = d.join("int.safetensors");
        let bytes = vec![0u8; 8 * 4];
        let view = TensorView::new(Dtype::I64, vec![2, 2], &bytes).unwrap();
        safetensors::serialize_to_file(vec![("ids", view)], &None, &ints).unwrap();
        let e = run(&args(&ints, Some("ids"), None)).unwrap_err().to_string();
        assert!(e.contains("dtype I64"), "{e}");
        let mut a = args(&ints, None, None);
        a.all = true;
        let e = run(&a).unwrap_err().to_string();
        assert!(e.contains("no 2-D floating-point tensor"), "{e}");
        // Output must be .safetensors; the input is never overwritten.
        let e = run(&args(&w, Some("a"), Some(d.join("q.npy"))))
            .unwrap_err()
            .to_string();
        assert!(e.contains(".safetensors"), "{e}");
        assert!(run(&args(&w, Some("a"), Some(w.clone()))).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
