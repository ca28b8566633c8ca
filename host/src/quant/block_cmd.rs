//! `npe quantize --scheme bitmod4|bitmod3|mxfp4|nvfp4|int4g|fp4g|block-all`: the block-scaled
//! weight quantizers behind the command (input reading and report writing are [`super::cmd`]'s).
//!
//! # Output file layout (`--out W.safetensors`)
//!
//! Per tensor NAME (`rows × K`, blocks of B along K, `nb = ceil(K / B)`):
//!
//! | tensor | dtype, shape | what |
//! |---|---|---|
//! | `NAME.codes` | U8 `[rows, K]` | one element code per byte, in the low 4 (FP3: 3) bits |
//! | `NAME.scale` | U8 `[rows, nb]` | bitmod: the unsigned integer group scale; mxfp4: E8M0 code; nvfp4: FP8 E4M3 code |
//! | `NAME.scale` | F32 `[rows, nb]` | int4g / fp4g: the group scale |
//! | `NAME.select` | U8 `[rows, nb]` | bitmod only: data type 0 … 3 = er_pos, er_neg, ea_pos, ea_neg |
//! | `NAME.row_scale` | F32 `[rows]` | bitmod only: the per-channel scale |
//! | `NAME.tensor_scale` | F32 `[1]` | nvfp4 only: the per-tensor scale |
//!
//! Metadata: `NAME.format` (the scheme name, e.g. `bitmod4`), `NAME.k` (K) and `NAME.block` (B).
//! Dequantized element = element value of its code × block multiplier, see
//! [`super::block::BlockTensor`]; [`read_block`] reads a tensor back.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use super::bitmod;
use super::block::{self, BlockScales, BlockScheme, BlockTensor};
use super::cmd::{read_inputs, write_report, NormalChoice, QuantizeArgs, Scheme};
use super::{check_finite, sse};
use crate::outfile;

/// One tensor quantized by one scheme: its measures (and the tensor itself when it is written).
struct Measure {
    noise: f64,
    bits: u64,
    /// BitMoD: blocks per selector.
    selectors: [u64; 4],
    /// BitMoD: the squared error with the authors' unquantized group scale.
    ref_noise: Option<f64>,
    tensor: Option<BlockTensor>,
}

/// One input tensor and its measures, one per scheme.
struct Row {
    name: String,
    rows: usize,
    k: usize,
    signal: f64,
    by_scheme: Vec<Measure>,
}

/// Runs `npe quantize` for a block scheme (or `block-all`).
pub fn run(args: &QuantizeArgs) -> Result<()> {
    let schemes: Vec<BlockScheme> = match args.scheme {
        Scheme::BlockAll => BlockScheme::ALL.to_vec(),
        s => vec![s.block().context("not a block scheme")?],
    };
    if args.activation {
        bail!("--activation: the block schemes quantize weights (blocks along K of each row)");
    }
    if args.normal != NormalChoice::Auto {
        bail!("--normal is the OliVe normal type; the block schemes choose their own");
    }
    if let Some(b) = args.block {
        if b == 0 {
            bail!("--block must be at least 1");
        }
        if let [s] = schemes[..] {
            if s.fixed_block() && b != s.default_block() {
                bail!(
                    "--block {b}: {} has a fixed block size of {}",
                    s.name(),
                    s.default_block()
                );
            }
        }
    }
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(o) = &args.out {
        if args.scheme == Scheme::BlockAll {
            bail!("--out: block-all only compares the schemes; quantize with one scheme to write codes");
        }
        if o.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            bail!("--out {}: the codes are written as .safetensors", o.display());
        }
        outputs.push(("--out", o));
    }
    if let Some(r) = &args.report {
        outputs.push(("--report", r));
    }
    outfile::check_outputs(&outputs, &[("--w", &args.w)])?;
    let keep = args.out.is_some();
    let mut rows = Vec::new();
    for (name, m) in read_inputs(args)? {
        let what = format!("{} tensor {name}", args.w.display());
        if m.data.is_empty() {
            bail!("{what} is empty ({} × {}); nothing to quantize", m.rows, m.cols);
        }
        check_finite(&what, &m.data, m.cols)?;
        let mut by_scheme = Vec::new();
        for &s in &schemes {
            let b = if s.fixed_block() {
                s.default_block()
            } else {
                args.block.unwrap_or(s.default_block())
            };
            let t = block::quantize(s, &m.data, m.cols, b).with_context(|| format!("{what}, {}", s.name()))?;
            let mut selectors = [0; 4];
            for &sel in &t.selectors {
                selectors[usize::from(sel & 3)] += 1;
            }
            let ref_noise = match s {
                BlockScheme::Bitmod4 | BlockScheme::Bitmod3 => {
                    let bits = s.code_bits() as u32;
                    Some(sse(&m.data, &bitmod::reference_values(bits, &m.data, m.cols, b)?))
                }
                _ => None,
            };
            by_scheme.push(Measure {
                ref_noise,
                noise: sse(&m.data, &t.values),
                bits: t.total_bits(),
                selectors,
                tensor: keep.then_some(t),
            });
        }
        rows.push(Row {
            rows: m.rows,
            k: m.cols,
            signal: m.data.iter().map(|x| x * x).sum(),
            by_scheme,
            name,
        });
    }
    let report = report(args, &schemes, &rows);
    print!("{report}");
    if let Some(o) = &args.out {
        let ts: Vec<(&str, &BlockTensor)> = rows
            .iter()
            .filter_map(|r| r.by_scheme[0].tensor.as_ref().map(|t| (r.name.as_str(), t)))
            .collect();
        write_block(o, &ts)?;
        println!("wrote {}", o.display());
    }
    if let Some(r) = &args.report {
        write_report(r, &report)?;
    }
    Ok(())
}

fn db(signal: f64, noise: f64) -> f64 {
    10.0 * (signal / noise).log10()
}

/// The report: SQNR per tensor and scheme, overall SQNR (over all elements), bits per weight.
fn report(args: &QuantizeArgs, schemes: &[BlockScheme], rows: &[Row]) -> String {
    let mut s = String::new();
    let blk = |sc: BlockScheme| {
        if sc.fixed_block() {
            sc.default_block()
        } else {
            args.block.unwrap_or(sc.default_block())
        }
    };
    writeln!(s, "Block-scaled weight quantization, {}", args.w.display()).unwrap();
    writeln!(s).unwrap();
    let which = match (&args.tensor, args.all, &args.prefix) {
        (Some(t), _, _) => format!("tensor {t}"),
        (None, true, Some(p)) => format!("every 2-D floating-point tensor whose name starts with `{p}`"),
        (None, true, None) => "every 2-D floating-point tensor".into(),
        (None, false, _) => "the file's tensor".into(),
    };
    writeln!(
        s,
        "Tensors: {which} ({} here), as `[out, in]` rows × K; blocks of B along K (a short last block when B ∤ K). \
         SQNR = 10·log10(Σx² / Σ(x − x̂)²), x̂ the dequantized weights; bits per weight = (element codes at their width + \
         every block scale and selector + per-channel and per-tensor scales) / weights.",
        rows.len()
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(s, "| scheme | B | what |").unwrap();
    writeln!(s, "|---|---:|---|").unwrap();
    for &sc in schemes {
        writeln!(s, "| {} | {} | {} |", sc.name(), blk(sc), sc.description()).unwrap();
    }
    writeln!(s).unwrap();
    write!(s, "| tensor | shape |").unwrap();
    for sc in schemes {
        write!(s, " SQNR {} (dB) |", sc.name()).unwrap();
    }
    writeln!(s).unwrap();
    write!(s, "|---|---|").unwrap();
    for _ in schemes {
        write!(s, "---:|").unwrap();
    }
    writeln!(s).unwrap();
    let n = schemes.len();
    let (mut sig, mut noise, mut bits, mut sels) = (0.0, vec![0.0; n], vec![0u64; n], vec![[0u64; 4]; n]);
    let mut ref_noise = vec![None::<f64>; n];
    let mut elements = 0u64;
    for r in rows {
        write!(s, "| {} | {}x{} |", r.name, r.rows, r.k).unwrap();
        for (i, m) in r.by_scheme.iter().enumerate() {
            write!(s, " {:.2} |", db(r.signal, m.noise)).unwrap();
            noise[i] += m.noise;
            if let Some(e) = m.ref_noise {
                ref_noise[i] = Some(ref_noise[i].unwrap_or(0.0) + e);
            }
            bits[i] += m.bits;
            for (acc, c) in sels[i].iter_mut().zip(m.selectors) {
                *acc += c;
            }
        }
        writeln!(s).unwrap();
        sig += r.signal;
        elements += (r.rows * r.k) as u64;
    }
    writeln!(s).unwrap();
    writeln!(
        s,
        "Overall ({} tensors, {elements} weights; SQNR over all of them):",
        rows.len()
    )
    .unwrap();
    writeln!(s).unwrap();
    writeln!(
        s,
        "| scheme | SQNR (dB) | bits per weight incl. metadata | BitMoD blocks er_pos / er_neg / ea_pos / ea_neg |"
    )
    .unwrap();
    writeln!(s, "|---|---:|---:|---|").unwrap();
    let mut overall = HashMap::new();
    for (i, &sc) in schemes.iter().enumerate() {
        let q = db(sig, noise[i]);
        overall.insert(sc, q);
        let sel = if sels[i].iter().sum::<u64>() > 0 {
            let t: u64 = sels[i].iter().sum();
            sels[i]
                .iter()
                .map(|c| format!("{:.1} %", 100.0 * *c as f64 / t as f64))
                .collect::<Vec<_>>()
                .join(" / ")
        } else {
            "–".into()
        };
        writeln!(
            s,
            "| {} | {q:.2} | {:.4} | {sel} |",
            sc.name(),
            bits[i] as f64 / elements.max(1) as f64
        )
        .unwrap();
    }
    for (i, &sc) in schemes.iter().enumerate() {
        if let Some(e) = ref_noise[i] {
            writeln!(s).unwrap();
            writeln!(
                s,
                "{} with the authors' unquantized group scale (absmax / qmax in f64, not storable as u8 × f32; reference only): \
                 {:.2} dB; the stored two-level scale (q tried at floor and ceil) differs by {:+.2} dB.",
                sc.name(),
                db(sig, e),
                db(sig, noise[i]) - db(sig, e)
            )
            .unwrap();
        }
    }
    let order = [
        BlockScheme::Bitmod4,
        BlockScheme::Fp4g,
        BlockScheme::Mxfp4,
        BlockScheme::Int4g,
    ];
    if order.iter().all(|o| overall.contains_key(o)) {
        let v: Vec<f64> = order.iter().map(|o| overall[o]).collect();
        let holds = v.windows(2).all(|w| w[0] > w[1]);
        let idx: Vec<usize> = order
            .iter()
            .map(|o| schemes.iter().position(|x| x == o).unwrap_or(0))
            .collect();
        let per_tensor = rows
            .iter()
            .filter(|r| {
                idx.windows(2)
                    .all(|w| r.by_scheme[w[0]].noise < r.by_scheme[w[1]].noise)
            })
            .count();
        writeln!(s).unwrap();
        writeln!(
            s,
            "Predicted order (overall SQNR) bitmod4 > fp4g > mxfp4 > int4g: {} ({:.2} / {:.2} / {:.2} / {:.2} dB); \
             it holds in {per_tensor} of {} tensors.",
            if holds { "holds" } else { "does not hold" },
            v[0],
            v[1],
            v[2],
            v[3],
            rows.len()
        )
        .unwrap();
    }
    s
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes block-quantized tensors in the layout of the module documentation.
pub fn write_block(path: &Path, tensors: &[(&str, &BlockTensor)]) -> Result<()> {
    // (name, dtype, shape, bytes)
    let mut parts: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut meta = HashMap::new();
    for &(name, t) in tensors {
        let nb = t.n_blocks();
        parts.push((format!("{name}.codes"), Dtype::U8, vec![t.rows, t.k], t.codes.clone()));
        match &t.scales {
            BlockScales::U8(v) => parts.push((format!("{name}.scale"), Dtype::U8, vec![t.rows, nb], v.clone())),
            BlockScales::F32(v) => parts.push((format!("{name}.scale"), Dtype::F32, vec![t.rows, nb], f32_bytes(v))),
        }
        if !t.selectors.is_empty() {
            parts.push((
                format!("{name}.select"),
                Dtype::U8,
                vec![t.rows, nb],
                t.selectors.clone(),
            ));
        }
        if !t.row_scales.is_empty() {
            parts.push((
                format!("{name}.row_scale"),
                Dtype::F32,
                vec![t.rows],
                f32_bytes(&t.row_scales),
            ));
        }
        if let Some(ts) = t.tensor_scale {
            parts.push((format!("{name}.tensor_scale"), Dtype::F32, vec![1], f32_bytes(&[ts])));
        }
        meta.insert(format!("{name}.format"), t.scheme.name().to_string());
        meta.insert(format!("{name}.k"), t.k.to_string());
        meta.insert(format!("{name}.block"), t.block.to_string());
    }
    let views = parts
        .iter()
        .map(|(n, d, s, b)| Ok((n.clone(), TensorView::new(*d, s.clone(), b)?)))
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, &Some(meta))?;
    outfile::write("--out", path, &bytes)?;
    Ok(())
}

/// Reads tensor `name` written by [`write_block`] back; `values` are recomputed from the codes
/// and scales ([`BlockTensor::dequantize`]).
pub fn read_block(path: &Path, name: &str) -> Result<BlockTensor> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (_, meta) =
        SafeTensors::read_metadata(&bytes).with_context(|| format!("{}: not a safetensors file", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)?;
    let md = meta.metadata().clone().unwrap_or_default();
    let get = |key: &str| {
        md.get(&format!("{name}.{key}"))
            .with_context(|| format!("{}: no {name}.{key} in the metadata", path.display()))
    };
    let scheme = BlockScheme::from_name(get("format")?)
        .with_context(|| format!("{}: {name} is not a block-quantized tensor", path.display()))?;
    let k: usize = get("k")?.parse().context("bad K")?;
    let b: usize = get("block")?.parse().context("bad block size")?;
    let tensor = |suffix: &str, dtype: Dtype| -> Result<(Vec<usize>, Vec<u8>)> {
        let t = st
            .tensor(&format!("{name}.{suffix}"))
            .with_context(|| format!("{}: no {name}.{suffix}", path.display()))?;
        if t.dtype() != dtype {
            bail!(
                "{}: {name}.{suffix} is {:?}, expected {dtype:?}",
                path.display(),
                t.dtype()
            );
        }
        Ok((t.shape().to_vec(), t.data().to_vec()))
    };
    let f32s = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let (shape, codes) = tensor("codes", Dtype::U8)?;
    let rows = match shape[..] {
        [r, kk] if kk == k && k > 0 && b > 0 => r,
        _ => bail!(
            "{}: {name}.codes has shape {shape:?}; expected [rows, {k}]",
            path.display()
        ),
    };
    let nb = block::n_blocks(k, b);
    let check = |what: &str, s: &[usize], want: &[usize]| -> Result<()> {
        if s != want {
            bail!("{}: {name}.{what} has shape {s:?}; expected {want:?}", path.display());
        }
        Ok(())
    };
    let bitmod = matches!(scheme, BlockScheme::Bitmod4 | BlockScheme::Bitmod3);
    let scales = if matches!(scheme, BlockScheme::Int4g | BlockScheme::Fp4g) {
        let (s, v) = tensor("scale", Dtype::F32)?;
        check("scale", &s, &[rows, nb])?;
        BlockScales::F32(f32s(&v))
    } else {
        let (s, v) = tensor("scale", Dtype::U8)?;
        check("scale", &s, &[rows, nb])?;
        BlockScales::U8(v)
    };
    let (selectors, row_scales) = if bitmod {
        let (s, sel) = tensor("select", Dtype::U8)?;
        check("select", &s, &[rows, nb])?;
        let (s, rs) = tensor("row_scale", Dtype::F32)?;
        check("row_scale", &s, &[rows])?;
        (sel, f32s(&rs))
    } else {
        (Vec::new(), Vec::new())
    };
    let tensor_scale = if scheme == BlockScheme::Nvfp4 {
        let (s, v) = tensor("tensor_scale", Dtype::F32)?;
        check("tensor_scale", &s, &[1])?;
        Some(f32s(&v)[0])
    } else {
        None
    };
    let mut t = BlockTensor {
        scheme,
        rows,
        k,
        block: b,
        codes,
        scales,
        selectors,
        row_scales,
        tensor_scale,
        values: Vec::new(),
    };
    t.values = t
        .dequantize()
        .with_context(|| format!("{}: {name} holds invalid codes", path.display()))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Matrix;
    use std::path::PathBuf;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("npe-blockq-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn args(scheme: Scheme, w: &Path, tensor: Option<&str>, out: Option<PathBuf>) -> QuantizeArgs {
        QuantizeArgs {
            scheme,
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
                let x = ((i * 7919) % 1000) as f64 / 1024.0 - 0.5;
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
    fn every_scheme_round_trips_through_the_file() {
        let d = dir("rt");
        let w = d.join("w.safetensors");
        let m = matrix(5, 200); // K not a multiple of any B
        crate::tensor::write_safetensors(&w, &[("lin", &m), ("other", &matrix(2, 4))]).unwrap();
        // The values in the file are f32.
        let data: Vec<f64> = m.data.iter().map(|&x| f64::from(x as f32)).collect();
        for s in [
            Scheme::Bitmod4,
            Scheme::Bitmod3,
            Scheme::Mxfp4,
            Scheme::Nvfp4,
            Scheme::Int4g,
            Scheme::Fp4g,
        ] {
            let out = d.join(format!("{s:?}.safetensors"));
            run(&args(s, &w, Some("lin"), Some(out.clone()))).unwrap();
            let back = read_block(&out, "lin").unwrap();
            let bs = s.block().unwrap();
            let t = block::quantize(bs, &data, 200, bs.default_block()).unwrap();
            assert_eq!(back, t, "{s:?}");
            // The olive reader refuses it clearly.
            let e = super::super::cmd::read_ovp(&out, "lin").unwrap_err().to_string();
            assert!(e.contains("no OVP tensor"), "{e}");
        }
        // --block changes B of the free schemes.
        let out = d.join("b64.safetensors");
        let mut a = args(Scheme::Bitmod4, &w, Some("lin"), Some(out.clone()));
        a.block = Some(64);
        run(&a).unwrap();
        let back = read_block(&out, "lin").unwrap();
        assert_eq!((back.block, back.n_blocks()), (64, 4));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn block_all_reports_every_scheme() {
        let d = dir("all");
        let w = d.join("w.safetensors");
        crate::tensor::write_safetensors(
            &w,
            &[
                ("enc.a", &matrix(8, 256)),
                ("enc.b", &matrix(4, 384)),
                ("pool", &matrix(2, 4)),
            ],
        )
        .unwrap();
        let rep = d.join("r.md");
        let mut a = args(Scheme::BlockAll, &w, None, None);
        a.all = true;
        a.prefix = Some("enc.".into());
        a.report = Some(rep.clone());
        run(&a).unwrap();
        let md = std::fs::read_to_string(&rep).unwrap();
        assert!(md.starts_with("Regenerate: `cargo run"), "{md}");
        assert!(md.contains("| enc.a | 8x256 |") && md.contains("| enc.b | 4x384 |"));
        assert!(!md.contains("| pool |"));
        assert!(md.contains("Overall (2 tensors, 3584 weights"));
        assert!(md.contains("Predicted order"));
        assert!(md.contains("bitmod4 with the authors' unquantized group scale"));
        assert!(md.contains("whose name starts with `enc.` (2 here)"));
        for s in BlockScheme::ALL {
            assert!(md.contains(&format!("| {} |", s.name())), "{}", s.name());
        }
        // mxfp4: exactly 4.25 bits per weight.
        assert!(md.contains("| mxfp4 |") && md.contains("| 4.2500 |"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let d = dir("bad");
        let w = d.join("w.safetensors");
        crate::tensor::write_safetensors(&w, &[("a", &matrix(2, 4)), ("b", &matrix(2, 4))]).unwrap();
        let e = run(&args(Scheme::Bitmod4, &w, Some("nope"), None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no tensor named nope"), "{e}");
        let mut m = matrix(2, 4);
        m.data[6] = f64::INFINITY;
        let bad = d.join("inf.safetensors");
        crate::tensor::write_safetensors(&bad, &[("x", &m)]).unwrap();
        let e = run(&args(Scheme::Mxfp4, &bad, None, None)).unwrap_err().to_string();
        assert!(e.contains("[1, 2]") && e.contains("inf"), "{e}");
        let empty = d.join("e.safetensors");
        crate::tensor::write_safetensors(
            &empty,
            &[(
                "x",
                &Matrix {
                    rows: 0,
                    cols: 4,
                    data: vec![],
                },
            )],
        )
        .unwrap();
        let e = run(&args(Scheme::Nvfp4, &empty, None, None)).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let mut a = args(Scheme::Mxfp4, &w, Some("a"), None);
        a.block = Some(16);
        let e = run(&a).unwrap_err().to_string();
        assert!(e.contains("fixed block size of 32"), "{e}");
        let mut a = args(Scheme::Int4g, &w, Some("a"), None);
        a.activation = true;
        assert!(run(&a).unwrap_err().to_string().contains("weights"));
        let e = run(&args(Scheme::BlockAll, &w, Some("a"), Some(d.join("q.safetensors"))))
            .unwrap_err()
            .to_string();
        assert!(e.contains("block-all"), "{e}");
        let e = run(&args(Scheme::Fp4g, &w, Some("a"), Some(d.join("q.npy"))))
            .unwrap_err()
            .to_string();
        assert!(e.contains(".safetensors"), "{e}");
        let mut a = args(Scheme::Fp4g, &w, None, None);
        a.all = true;
        a.prefix = Some("zzz".into());
        let e = run(&a).unwrap_err().to_string();
        assert!(e.contains("starts with zzz"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
