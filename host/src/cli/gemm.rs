//! `npe gemm`: a GEMM from tensor files (plain formats, OliVe pairs quantized on the fly or read
//! from `npe quantize`'s file) on a device, C written to a file.

use super::*;

/// `npe gemm`: reads, quantizes, runs on the simulated device, writes C.
pub(super) fn gemm(
    (a_path, a_tensor, a_fmt): (&Path, Option<&str>, GemmFormat),
    (w_path, w_tensor, w_fmt): (&Path, Option<&str>, GemmFormat),
    out_fmt: OutputFormat,
    out: &Path,
    check: bool,
    nan: NanPolicy,
    sim: &SimArgs,
) -> Result<()> {
    use crate::quant::operand::OvpOperand;
    // Every option and path is checked before the inputs are read and the device runs: a bad
    // output path found after a long simulation would lose the run.
    sim.check()?;
    let mut outputs = vec![("--out", out)];
    outputs.extend(sim.outputs());
    outfile::check_outputs(&outputs, &[("--a", a_path), ("--w", w_path)])?;
    let a = tensor::read_operand(a_path, a_tensor, "--a-tensor")?;
    // W: pair codes `npe quantize` wrote, or real values.
    let stored = match w_tensor {
        Some(name) => crate::quant::cmd::stored_format(w_path, name)?.map(|f| (name, f)),
        None => None,
    };
    let w_codes = match stored {
        None => None,
        Some((name, f)) if Format::from_name(&f).is_some_and(|f| f.is_paired()) => {
            let t = crate::quant::cmd::read_ovp(w_path, name)?;
            match w_fmt {
                GemmFormat::Table(f) if f != t.format() => {
                    bail!(
                        "--w-format {f}, but {} holds {name} in {}",
                        w_path.display(),
                        t.format()
                    )
                }
                _ => Some(t),
            }
        }
        Some((name, f)) => bail!(
            "{} holds {name} as {f} codes with block scales; npe gemm does not run block-scaled \
             weights yet (no preset has the dequantization unit): give the float weights",
            w_path.display()
        ),
    };
    let w = match w_codes {
        Some(_) => None,
        None => Some(tensor::read_operand(w_path, w_tensor, "--w-tensor")?),
    };
    let (w_rows, w_cols) = match (&w_codes, &w) {
        (Some(t), _) => (t.k, t.rows),
        (None, Some(w)) => (w.rows, w.cols),
        (None, None) => unreachable!("W is codes or values"),
    };
    if a.cols != w_rows {
        bail!(
            "shapes do not chain: A is {}x{}, W is {w_rows}x{w_cols} (A's columns must equal W's rows)",
            a.rows,
            a.cols
        );
    }
    let (m, n, k) = (a.rows, w_cols, a.cols);
    // Each side's format, codes (K padded to even when a pair format meets an odd K) and scale.
    let a_ovp = match a_fmt.ovp() {
        Some(normal) => Some(OvpOperand::activations(&a, normal)?),
        None => None,
    };
    let w_ovp = match (&w_codes, &w, w_fmt.ovp()) {
        (Some(t), _, _) => Some(OvpOperand::weights_of(t)),
        (None, Some(w), Some(normal)) => Some(OvpOperand::weights(w, normal)?),
        _ => None,
    };
    let kp = if a_ovp.is_some() || w_ovp.is_some() {
        k + k % 2
    } else {
        k
    };
    let table = |f: GemmFormat| match f {
        GemmFormat::Table(f) => f,
        GemmFormat::Olive => unreachable!("olive operands are pair codes"),
    };
    let (a_fmt, a_codes) = match &a_ovp {
        Some(op) => (op.format, op.codes.clone()),
        None => {
            let f = table(a_fmt);
            let q = quantize(&format!("--a {}", a_path.display()), &a.data, Some(k), f, nan)?;
            let zero = golden::encode(f, 0.0);
            // A zero code closes each row when K was padded.
            let rows = q.chunks(k).flat_map(|r| r.iter().copied().chain((k..kp).map(|_| zero)));
            (f, rows.collect())
        }
    };
    let (w_fmt, w_codes) = match (&w_ovp, &w) {
        (Some(op), _) => (op.format, op.codes.clone()),
        (None, None) => unreachable!("W is codes or values"),
        (None, Some(w)) => {
            let f = table(w_fmt);
            let mut q = quantize(&format!("--w {}", w_path.display()), &w.data, Some(n), f, nan)?;
            // A row of zero codes closes W when K was padded.
            q.extend((k * n..kp * n).map(|_| golden::encode(f, 0.0)));
            (f, q)
        }
    };
    let job = GemmJob {
        a_fmt,
        w_fmt,
        out: out_fmt,
        scale_exp: 0,
        col_scale_exp: Vec::new(),
        m,
        n,
        k: kp,
        a: a_codes,
        w: w_codes,
    };
    job.validate(&sim.preset)?;
    let (run, device) = sim.with_device(|dev| Ok((dev.gemm(&job)?, dev.backend().describe())))?;
    // The pair operands' scales, applied by the host (see `quant::operand`).
    let scale = |c: usize| a_ovp.as_ref().map_or(1.0, |op| op.scale(0)) * w_ovp.as_ref().map_or(1.0, |op| op.scale(c));
    let c = tensor::Matrix {
        rows: m,
        cols: n,
        data: run
            .c
            .iter()
            .enumerate()
            .map(|(i, &code)| golden::output_to_f64(out_fmt, code) * scale(i % n))
            .collect(),
    };
    tensor::write_npy(out, &c, out_fmt == OutputFormat::Int32)?;
    println!(
        "C[{m}x{n}] = A[{m}x{k}] ({a_fmt}) x W[{k}x{n}] ({w_fmt}) -> {out_fmt} on {}: {}; wrote {}",
        device,
        if run.counters.busy == 0 {
            "no cycle count".to_string()
        } else {
            format!(
                "{} cycles, {:.2} MACs/cycle, {:.1}% of peak",
                run.counters.busy,
                job.macs() as f64 / run.counters.busy as f64,
                100.0 * run.utilization(job.macs())
            )
        },
        out.display()
    );
    for (what, op) in [("A", &a_ovp), ("W", &w_ovp)] {
        if let Some(op) = op {
            println!(
                "{what}: {} codes, K {}{}, {} scale(s) applied by the host to the results{}",
                op.format,
                op.k,
                if op.k > k { " (padded with a zero)" } else { "" },
                op.scales.len(),
                if op.outliers > 0 {
                    format!(", {} outliers", op.outliers)
                } else {
                    String::new()
                }
            );
        }
    }
    if check {
        let g = job.golden()?;
        let mismatches = g.iter().zip(&run.c).filter(|(x, y)| x != y).count();
        println!("golden model: {mismatches} mismatches in {} results", g.len());
        if mismatches > 0 {
            bail!("{mismatches} results differ from the golden model");
        }
    }
    Ok(())
}
