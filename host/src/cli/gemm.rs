//! `npe gemm`: a GEMM from tensor files (plain formats; OliVe pairs or BitMoD / MXFP4 / NVFP4
//! block-scaled weights quantized on the fly or read from `npe quantize`'s file) on a device, C written to a
//! file.

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
    use crate::quant::block::BlockScheme;
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
    // Block-scaled weights take their own path: codes `npe quantize` wrote, or floats
    // quantized here.
    let stored_block = stored.as_ref().and_then(|(_, f)| BlockScheme::from_name(f));
    if stored_block.is_some() || matches!(w_fmt, GemmFormat::Block(_)) {
        let t = match (&stored, stored_block, w_fmt) {
            (Some((name, _)), Some(held), _) if !device_scheme(held) => bail!(
                "{} holds {name} as {} codes: the device applies BitMoD, MXFP4 and NVFP4 block \
                 scales only (the per-group baselines' f32 scales are not in the hardware)",
                w_path.display(),
                held.name()
            ),
            (Some((name, _)), Some(held), want) if want != GemmFormat::Block(held) => bail!(
                "--w-format {}, but {} holds {name} as {} codes: give --w-format {}",
                match want {
                    GemmFormat::Table(f) => f.name().to_string(),
                    GemmFormat::Olive => "olive".to_string(),
                    GemmFormat::Block(b) => b.name().to_string(),
                },
                w_path.display(),
                held.name(),
                held.name()
            ),
            (Some((name, _)), Some(_), _) => crate::quant::block_cmd::read_block(w_path, name)?,
            (Some((name, f)), None, _) => bail!(
                "{} holds {name} as {f} codes; block-scaled weights come as floats or as codes of \
                 `npe quantize --scheme bitmod4|bitmod3|mxfp4|nvfp4`",
                w_path.display()
            ),
            (None, _, GemmFormat::Block(scheme)) => {
                let w = tensor::read_operand(w_path, w_tensor, "--w-tensor")?;
                // The scheme's rows are W's columns (blocks run along K).
                let rows: Vec<f64> = (0..w.cols)
                    .flat_map(|c| (0..w.rows).map(move |r| (r, c)))
                    .map(|(r, c)| w.data[r * w.cols + c])
                    .collect();
                crate::quant::block::quantize(scheme, &rows, w.rows, scheme.default_block())?
            }
            (None, _, _) => unreachable!("a block scheme was given or stored"),
        };
        return block_gemm((&a, a_path, a_fmt), &t, out_fmt, out, check, nan, sim);
    }
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
            "{} holds {name} as {f} codes, which npe gemm does not read",
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
    let table = |what: &str, f: GemmFormat| match f {
        GemmFormat::Table(f) => Ok(f),
        GemmFormat::Olive => unreachable!("olive operands are pair codes"),
        GemmFormat::Block(b) => Err(anyhow::anyhow!("{what} {}: block schemes are weight formats", b.name())),
    };
    let (a_fmt, a_codes) = match &a_ovp {
        Some(op) => (op.format, op.codes.clone()),
        None => {
            let f = table("--a-format", a_fmt)?;
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
            let f = table("--w-format", w_fmt)?;
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
    write_c(out, &run, (m, n), out_fmt, scale)?;
    println!(
        "C[{m}x{n}] = A[{m}x{k}] ({a_fmt}) x W[{k}x{n}] ({w_fmt}) -> {out_fmt} on {}: {}; wrote {}",
        device,
        cycle_text(&run, job.macs(), true),
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
        compare(&job.golden()?, &run.c)?;
    }
    Ok(())
}

/// The block schemes whose scales the device applies
/// ([`crate::quant::block::BlockScheme::device`]).
pub(super) fn device_scheme(s: crate::quant::block::BlockScheme) -> bool {
    s.device().is_some()
}

/// `npe gemm` with block-scaled weights `t` (`[N, K]`): A quantized to its table format, W's
/// codes, block scales and (BitMoD) selectors run by [`Device::block_gemm`] (BitMoD's
/// per-channel and NVFP4's tensor scale applied by the host to the results); `--check`
/// compares with the golden model's block GEMM.
fn block_gemm(
    (a, a_path, a_fmt): (&tensor::Matrix, &Path, GemmFormat),
    t: &crate::quant::block::BlockTensor,
    out_fmt: OutputFormat,
    out: &Path,
    check: bool,
    nan: NanPolicy,
    sim: &SimArgs,
) -> Result<()> {
    use crate::device::BlockScaleJob;
    use npe_hdl::spec::block_scale::ScaleCode;
    let (w_fmt, w_codes, block) = BlockScaleJob::of_tensor(t)?;
    let kind_name = match block.kind {
        ScaleCode::U8 => "u8",
        ScaleCode::E8m0 => "E8M0",
        ScaleCode::E4m3 => "FP8 E4M3",
    };
    let a_fmt = match a_fmt {
        GemmFormat::Table(f) if !f.is_paired() => f,
        _ => bail!("block-scaled weights take activations of a plain format (--a-format int8, fp8e4m3, ...)"),
    };
    let (m, n, k) = (a.rows, t.rows, t.k);
    if a.cols != k {
        bail!(
            "shapes do not chain: A is {}x{}, W is {k}x{n} (A's columns must equal W's rows)",
            a.rows,
            a.cols
        );
    }
    let a_codes = quantize(&format!("--a {}", a_path.display()), &a.data, Some(k), a_fmt, nan)?;
    let job = GemmJob {
        a_fmt,
        w_fmt,
        out: out_fmt,
        scale_exp: 0,
        col_scale_exp: Vec::new(),
        m,
        n,
        k,
        a: a_codes,
        w: w_codes,
    };
    block.plan(&job, &sim.preset)?;
    let (run, device) = sim.with_device(|dev| Ok((dev.block_gemm(&job, &block)?, dev.backend().describe())))?;
    // What the host applies: NVFP4's tensor scale, BitMoD's per-channel scales.
    let ts = f64::from(t.tensor_scale.unwrap_or(1.0));
    let host_scale = |col: usize| ts * t.row_scales.get(col).map_or(1.0, |&s| f64::from(s));
    write_c(out, &run, (m, n), out_fmt, host_scale)?;
    println!(
        "C[{m}x{n}] = A[{m}x{k}] ({a_fmt}) x W[{k}x{n}] ({}: {} codes{}, {} scales per block of {}) -> {out_fmt} on {device}: {}; wrote {}",
        t.scheme.name(),
        if w_fmt.is_bitmod() { format!("{}-bit BitMoD", w_fmt.bits()) } else { w_fmt.to_string() },
        if w_fmt.is_bitmod() { " and a data-type selector" } else { "" },
        kind_name,
        t.block,
        cycle_text(&run, job.macs(), false),
        out.display()
    );
    if let Some(ts) = t.tensor_scale {
        println!("W: NVFP4 tensor scale {ts:e} applied by the host to the results");
    }
    if !t.row_scales.is_empty() {
        println!(
            "W: {} per-channel scales applied by the host to the results",
            t.row_scales.len()
        );
    }
    if check {
        // The device's results before the host's tensor and per-channel scales.
        let unscaled = crate::quant::block::BlockTensor {
            tensor_scale: t.tensor_scale.map(|_| 1.0),
            row_scales: vec![1.0; t.row_scales.len()],
            ..t.clone()
        };
        compare(&golden::block_gemm(a_fmt, &job.a, &unscaled, out_fmt)?, &run.c)?;
    }
    Ok(())
}

/// Writes the device's C (`m × n` codes of `out_fmt`) to `out` as values, column `c` times the
/// host's `scale(c)`.
fn write_c(
    out: &Path,
    run: &crate::device::GemmRun,
    (m, n): (usize, usize),
    out_fmt: OutputFormat,
    scale: impl Fn(usize) -> f64,
) -> Result<()> {
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
    tensor::write_npy(out, &c, out_fmt == OutputFormat::Int32)
}

/// A run's cycles and MACs per cycle (and with `peak` its share of the peak), or "no cycle
/// count" from a back end that counts none.
fn cycle_text(run: &crate::device::GemmRun, macs: u64, peak: bool) -> String {
    if run.counters.busy == 0 {
        return "no cycle count".to_string();
    }
    let mut t = format!(
        "{} cycles, {:.2} MACs/cycle",
        run.counters.busy,
        macs as f64 / run.counters.busy as f64
    );
    if peak {
        t += &format!(", {:.1}% of peak", 100.0 * run.utilization(macs));
    }
    t
}

/// `--check`: the device's result codes against the golden model's, counted and printed; any
/// difference is an error.
fn compare(golden: &[u32], device: &[u32]) -> Result<()> {
    let mismatches = golden.iter().zip(device).filter(|(x, y)| x != y).count();
    println!("golden model: {mismatches} mismatches in {} results", golden.len());
    if mismatches > 0 {
        bail!("{mismatches} results differ from the golden model");
    }
    Ok(())
}
