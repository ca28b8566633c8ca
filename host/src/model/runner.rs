//! The quantized linear layers, run on a device through the runtime's [`Device`] API: weights
//! quantized once per format ([`prepare`]), activations per call ([`formats::quantize_rows`]),
//! the product on the device ([`Device::gemm`], or [`Device::block_gemm`] for block-scaled
//! weights), the scales the hardware does not apply and the bias on the host.
//!
//! A layer becomes one job per (group of K, slice of K that fits the device, slice of tokens
//! that fits device memory); plain weights with one scale per channel need a single job when
//! K and the tokens fit. Every job's counters are summed per layer; with `check`, every job's
//! result codes are compared with the golden model's ([`GemmJob::golden`],
//! [`golden::block_gemm`]) before the host touches them.

use std::collections::HashMap;
use std::ops::Range;

use anyhow::{bail, Context, Result};

use super::formats::{quantize_rows, ModelFormat, WeightScheme};
use super::forward::{LinearExec, LinearId};
use super::mat::Mat;
use super::weights::Linear;
use crate::device::{Backend, BlockScaleJob, Device, DeviceError, GemmJob, GemmRun, Layout};
use crate::golden;
use crate::quant::block::{self, BlockScales, BlockScheme, BlockTensor};
use crate::quant::olive;
use crate::quant::operand::OvpOperand;
use crate::quant::Granularity;
use npe_hdl::spec::{Format, OutputFormat};

/// The device's output format: FP32, one rounding of the exact sum, before the host's scales.
const OUT: OutputFormat = OutputFormat::Fp32;

/// One layer's weights quantized for the device.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Output channels (N).
    pub n: usize,
    /// Input width (K).
    pub k: usize,
    /// Bits of the weights with every scale, selector and other metadata.
    pub bits: u64,
    /// The codes and scales.
    pub kind: PreparedKind,
}

/// The device operands of one layer's weights.
#[derive(Clone, Debug)]
pub enum PreparedKind {
    /// Element codes with `f32` scales the host applies, one per output channel and group of
    /// `block` along K (`block = K`: one per channel).
    HostScaled {
        /// The codes' format.
        fmt: Format,
        /// Group length along K.
        block: usize,
        /// Codes, `K × N` row-major (the job's W).
        codes: Vec<u32>,
        /// Scales, `[N, ⌈K / block⌉]`.
        scales: Vec<f64>,
    },
    /// Block-scaled weights the device scales ([`Device::block_gemm`]).
    DeviceBlock {
        /// The job's W format.
        w_fmt: Format,
        /// Codes, `K × N` row-major.
        codes: Vec<u32>,
        /// The block-scale part of the job.
        job: BlockScaleJob,
        /// The host's scale of each output channel (BitMoD's per-channel, NVFP4's tensor scale).
        host_scale: Vec<f64>,
        /// The tensor with those host scales set to 1: what the golden model computes the
        /// device's result from (boxed: the variant is large).
        unscaled: Box<BlockTensor>,
    },
    /// OliVe pairs, one `f32` scale per output channel applied by the host.
    Olive(OvpOperand),
}

/// Quantizes one layer's weights (`lin.w`, `[N, K]`) for `f`.
pub fn prepare(f: &ModelFormat, id: LinearId, lin: &Linear) -> Result<Prepared> {
    let (n, k) = (lin.w.rows, lin.w.cols);
    let data = lin.w.to_f64();
    let what = format!("{id} weights");
    let transpose = |codes: &[u32]| -> Vec<u32> { (0..k * n).map(|i| codes[(i % n) * k + i / n]).collect() };
    let (bits, kind) = match f.weights {
        WeightScheme::Channel(fmt) => {
            let (codes, scales) = quantize_rows(&what, fmt, &data, k)?;
            let bits = (n * k) as u64 * u64::from(fmt.bits()) + n as u64 * 32;
            (
                bits,
                PreparedKind::HostScaled {
                    fmt,
                    block: k,
                    codes: transpose(&codes),
                    scales,
                },
            )
        }
        WeightScheme::HostBlock(s) => {
            let t = block::quantize(s, &data, k, s.default_block()).with_context(|| format!("{what}, {}", s.name()))?;
            let fmt = match s {
                BlockScheme::Int4g => Format::Int4,
                BlockScheme::Fp4g => Format::Fp4E2M1,
                other => bail!("{}: not a host-scaled block scheme", other.name()),
            };
            let BlockScales::F32(sc) = &t.scales else {
                bail!("{}: expected f32 group scales", s.name());
            };
            let codes: Vec<u32> = t.codes.iter().map(|&c| u32::from(c)).collect();
            (
                t.total_bits(),
                PreparedKind::HostScaled {
                    fmt,
                    block: t.block,
                    codes: transpose(&codes),
                    scales: sc.iter().map(|&s| f64::from(s)).collect(),
                },
            )
        }
        WeightScheme::DeviceBlock(s) => {
            let t = block::quantize(s, &data, k, s.default_block()).with_context(|| format!("{what}, {}", s.name()))?;
            let (w_fmt, codes, job) = BlockScaleJob::of_tensor(&t).with_context(|| format!("{what}, {}", s.name()))?;
            let ts = f64::from(t.tensor_scale.unwrap_or(1.0));
            let host_scale = (0..n)
                .map(|c| ts * t.row_scales.get(c).map_or(1.0, |&r| f64::from(r)))
                .collect();
            let unscaled = Box::new(BlockTensor {
                tensor_scale: t.tensor_scale.map(|_| 1.0),
                row_scales: vec![1.0; t.row_scales.len()],
                ..t.clone()
            });
            (
                t.total_bits(),
                PreparedKind::DeviceBlock {
                    w_fmt,
                    codes,
                    job,
                    host_scale,
                    unscaled,
                },
            )
        }
        WeightScheme::Olive => {
            crate::quant::check_finite(&what, &data, k)?;
            let t = olive::quantize(&data, k, Granularity::PerRow).with_context(|| what.clone())?;
            // 4 bits per element (a pair per byte, K padded to even) and an f32 scale per channel.
            let bits = (n * t.k_padded()) as u64 * 4 + n as u64 * 32;
            (bits, PreparedKind::Olive(OvpOperand::weights_of(&t)))
        }
    };
    Ok(Prepared { n, k, bits, kind })
}

/// What the device did for one layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobStats {
    /// Device jobs.
    pub jobs: u64,
    /// Useful multiply-accumulates (tokens × N × K; no padding).
    pub macs: u64,
    /// Busy cycles the device counted (0 from a back end without a clock).
    pub busy: u64,
    /// Stall cycles the device counted.
    pub stall: u64,
    /// Bytes the device's DMA read and wrote.
    pub dma_bytes: u64,
    /// Results compared with the golden model.
    pub checked: u64,
    /// Of those, results that differed.
    pub mismatches: u64,
}

impl JobStats {
    /// Adds another layer's or job's counts.
    pub fn add(&mut self, o: &JobStats) {
        self.jobs += o.jobs;
        self.macs += o.macs;
        self.busy += o.busy;
        self.stall += o.stall;
        self.dma_bytes += o.dma_bytes;
        self.checked += o.checked;
        self.mismatches += o.mismatches;
    }
}

/// The layers a run puts on the device: each with its format and quantized weights. A layer
/// that is not in it runs on the host in f32 ([`super::forward::Reference`]).
pub type Assignment = HashMap<LinearId, (ModelFormat, Prepared)>;

/// Runs the model's linear layers on `dev` ([`LinearExec`]), each in the format the
/// [`Assignment`] gives it.
pub struct DeviceExec<'a, B: Backend> {
    dev: &'a mut Device<B>,
    layers: &'a Assignment,
    check: bool,
    /// Tokens per job: lowered when a job does not fit device memory, kept for the next ones.
    rows_cap: usize,
    /// Per layer, in run order.
    pub stats: Vec<(LinearId, JobStats)>,
}

impl<'a, B: Backend> DeviceExec<'a, B> {
    /// An executor for the layers of `layers`; `check` compares every result with the golden
    /// model.
    pub fn new(dev: &'a mut Device<B>, layers: &'a Assignment, check: bool) -> Self {
        DeviceExec {
            dev,
            layers,
            check,
            rows_cap: usize::MAX,
            stats: Vec::new(),
        }
    }

    /// Longest K slice one job of `a_fmt × w_fmt` may have on this device (even, for pairs).
    fn k_max(&self, a_fmt: Format, w_fmt: Format) -> usize {
        let lanes = Layout::new(a_fmt, w_fmt, 1, 1).lanes;
        let k = self.dev.config().k_beats_max as usize * lanes;
        k - k % 2
    }

    /// Runs `make(rows)` on tiles of `m` rows of at most `rows_cap` rows, halving the cap when
    /// a job does not fit device memory; `run` runs a job and returns its result codes.
    fn tiles(
        &mut self,
        m: usize,
        mut run: impl FnMut(&mut Self, Range<usize>) -> Result<(), DeviceError>,
    ) -> Result<()> {
        let mut m0 = 0;
        while m0 < m {
            let rows = self.rows_cap.min(m - m0);
            match run(self, m0..m0 + rows) {
                Ok(()) => m0 += rows,
                Err(DeviceError::OutOfMemory { .. }) if rows > 1 => self.rows_cap = rows.div_ceil(2),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Counts a finished job (and compares it with `golden` when checking).
    fn count(&mut self, st: &mut JobStats, run: &GemmRun, macs: u64, golden: Option<Vec<u32>>) {
        st.jobs += 1;
        st.macs += macs;
        st.busy += run.counters.busy;
        st.stall += run.counters.stall;
        st.dma_bytes += run.counters.dma_read + run.counters.dma_written;
        if let Some(g) = golden {
            st.checked += g.len() as u64;
            st.mismatches += g.iter().zip(&run.c).filter(|(x, y)| x != y).count() as u64;
        }
    }

    /// `A[:, kr] · W[kr, :]` for A `m × ka` codes and W `· × n` codes (row-major), on the
    /// device in tiles of tokens: `m × n` values before any scale.
    fn gemm(
        &mut self,
        st: &mut JobStats,
        (a_fmt, a, ka): (Format, &[u32], usize),
        (w_fmt, w, n): (Format, &[u32], usize),
        m: usize,
        kr: Range<usize>,
    ) -> Result<Vec<f64>> {
        let kc = kr.len();
        let w_sub = w[kr.start * n..kr.end * n].to_vec();
        let mut out = vec![0f64; m * n];
        let check = self.check;
        self.tiles(m, |me, rows| {
            let a_sub: Vec<u32> = rows
                .clone()
                .flat_map(|r| a[r * ka + kr.start..r * ka + kr.end].iter().copied())
                .collect();
            let job = unscaled_job((a_fmt, a_sub), (w_fmt, w_sub.clone()), (rows.len(), n, kc));
            let run = me.dev.gemm(&job)?;
            let golden = if check { Some(job.golden()?) } else { None };
            me.count(st, &run, job.macs(), golden);
            store(&mut out[rows.start * n..], &run.c);
            Ok(())
        })?;
        Ok(out)
    }

    /// A block-scaled layer: `m × n` values with the device's block scales, before the host's.
    fn block_gemm(
        &mut self,
        st: &mut JobStats,
        (a_fmt, a, k): (Format, &[u32], usize),
        (w_fmt, w, n): (Format, &[u32], usize),
        bjob: &BlockScaleJob,
        unscaled: &BlockTensor,
        m: usize,
    ) -> Result<Vec<f64>> {
        let mut out = vec![0f64; m * n];
        let check = self.check;
        self.tiles(m, |me, rows| {
            let a_sub = a[rows.start * k..rows.end * k].to_vec();
            let job = unscaled_job((a_fmt, a_sub), (w_fmt, w.to_vec()), (rows.len(), n, k));
            let run = me.dev.block_gemm(&job, bjob)?;
            let golden = if check {
                Some(golden::block_gemm(a_fmt, &job.a, unscaled, OUT).map_err(|e| DeviceError::Format(e.to_string()))?)
            } else {
                None
            };
            me.count(st, &run, job.macs(), golden);
            store(&mut out[rows.start * n..], &run.c);
            Ok(())
        })?;
        Ok(out)
    }
}

/// A job of `m × k` activations and `k × n` weights with no device scales, in the output format
/// the layers read back ([`OUT`]).
fn unscaled_job(
    (a_fmt, a): (Format, Vec<u32>),
    (w_fmt, w): (Format, Vec<u32>),
    (m, n, k): (usize, usize, usize),
) -> GemmJob {
    GemmJob {
        a_fmt,
        w_fmt,
        out: OUT,
        scale_exp: 0,
        col_scale_exp: Vec::new(),
        m,
        n,
        k,
        a,
        w,
    }
}

/// Writes a job's results (codes of [`OUT`]) as values to the front of `out`.
fn store(out: &mut [f64], c: &[u32]) {
    for (o, &c) in out.iter_mut().zip(c) {
        *o = golden::output_to_f64(OUT, c);
    }
}

/// The K slices of `r` that fit a job of at most `k_max` elements.
fn slices(r: Range<usize>, k_max: usize) -> impl Iterator<Item = Range<usize>> {
    let k_max = k_max.max(1);
    (r.start..r.end).step_by(k_max).map(move |s| s..(s + k_max).min(r.end))
}

impl<B: Backend> LinearExec for DeviceExec<'_, B> {
    fn linear(&mut self, id: LinearId, x: &Mat, lin: &Linear) -> Result<Mat> {
        let Some((format, p)) = self.layers.get(&id) else {
            // Not on the device: the f32 reference's layer, no device counts.
            self.stats.push((id, JobStats::default()));
            return super::forward::Reference.linear(id, x, lin);
        };
        let (m, n, k) = (x.rows, p.n, p.k);
        if x.cols != k {
            bail!("{id}: input has {} columns, the weights {k}", x.cols);
        }
        let a_fmt = format.act;
        let (a, a_scales) = quantize_rows(&format!("{id} input"), a_fmt, &x.to_f64(), k)?;
        let mut st = JobStats::default();
        let mut y = vec![0f64; m * n];
        match &p.kind {
            PreparedKind::HostScaled {
                fmt,
                block,
                codes,
                scales,
            } => {
                let nb = block::n_blocks(k, *block);
                let k_max = self.k_max(a_fmt, *fmt);
                for (j, group) in block::blocks(k, *block).enumerate() {
                    for kr in slices(group, k_max) {
                        let part = self.gemm(&mut st, (a_fmt, &a, k), (*fmt, codes, n), m, kr)?;
                        for (i, v) in part.into_iter().enumerate() {
                            y[i] += v * scales[(i % n) * nb + j];
                        }
                    }
                }
            }
            PreparedKind::Olive(op) => {
                // Pairs need an even K: an odd K was padded by the quantizer; pad A to match.
                let a = if op.k > k {
                    let zero = golden::encode(a_fmt, 0.0);
                    a.chunks(k).flat_map(|r| r.iter().copied().chain([zero])).collect()
                } else {
                    a
                };
                let k_max = self.k_max(a_fmt, op.format);
                for kr in slices(0..op.k, k_max) {
                    let part = self.gemm(&mut st, (a_fmt, &a, op.k), (op.format, &op.codes, n), m, kr)?;
                    for (i, v) in part.into_iter().enumerate() {
                        y[i] += v * op.scale(i % n);
                    }
                }
            }
            PreparedKind::DeviceBlock {
                w_fmt,
                codes,
                job,
                host_scale,
                unscaled,
            } => {
                let part = self.block_gemm(&mut st, (a_fmt, &a, k), (*w_fmt, codes, n), job, unscaled, m)?;
                for (i, v) in part.into_iter().enumerate() {
                    y[i] = v * host_scale[i % n];
                }
            }
        }
        let mut out = Mat::zeros(m, n);
        for (i, (o, v)) in out.data.iter_mut().zip(y).enumerate() {
            let (r, c) = (i / n, i % n);
            *o = (v * a_scales[r] + f64::from(lin.b[c])) as f32;
            if !o.is_finite() {
                bail!(
                    "{id} ({}): output [{r}, {c}] is {o}: the device's result overflowed or was NaN",
                    format.name
                );
            }
        }
        self.stats.push((id, st));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::functional::{FunctionalBackend, FunctionalOptions};
    use crate::model::formats;
    use crate::model::forward::Proj;
    use npe_hdl::spec::NpeConfig;

    /// Every format's device path (codes, transposes, K groups and slices, block padding, the
    /// host's scales, the bias) against the same quantized operands multiplied on the host:
    /// they differ only by the device's FP32 rounding of each job's sums. K = 300 is not a
    /// multiple of 128, 32 or 16 (short groups, padded blocks); posit16 at K = 1100 takes two
    /// jobs (one lane: 1024 beats at most).
    #[test]
    fn device_layers_equal_their_dequantized_product() {
        for f in formats::ALL {
            same_as_host(f, 300, 1);
        }
        same_as_host(formats::ModelFormat::from_name("posit16").unwrap(), 1100, 2);
    }

    fn same_as_host(f: formats::ModelFormat, k: usize, jobs: u64) {
        let (m, n) = (5, 12);
        let val = |i: usize, s: f64| (((i * 7919) % 1009) as f64 / 1009.0 - 0.5) * s;
        let mut w: Vec<f32> = (0..n * k).map(|i| val(i, 0.2) as f32).collect();
        w[37] = 1.5;
        let lin = Linear {
            w: Mat {
                rows: n,
                cols: k,
                data: w,
            },
            b: (0..n).map(|i| i as f32 * 0.01).collect(),
        };
        let x = Mat {
            rows: m,
            cols: k,
            data: (0..m * k).map(|i| val(i * 31 + 5, 4.0) as f32).collect(),
        };
        let id = LinearId {
            layer: 0,
            proj: Proj::Query,
        };
        let data = lin.w.to_f64();
        let cfg = f.preset(NpeConfig::DEMO);
        let be = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
        let mut dev = Device::connect(be, cfg).unwrap();
        let one: Assignment = HashMap::from([(id, (f, prepare(&f, id, &lin).unwrap()))]);
        let mut exec = DeviceExec::new(&mut dev, &one, true);
        let y = exec.linear(id, &x, &lin).unwrap();
        let st = exec.stats[0].1;
        assert_eq!(st.mismatches, 0, "{}", f.name);
        assert_eq!(st.checked, st.jobs * (m * n) as u64, "{}", f.name);
        if !matches!(f.weights, WeightScheme::HostBlock(_)) {
            assert_eq!(st.jobs, jobs, "{}", f.name);
        }
        // The same operands, dequantized by the quantizers and multiplied here.
        let wq: Vec<f64> = match f.weights {
            WeightScheme::Channel(fmt) => {
                let (c, s) = quantize_rows("w", fmt, &data, k).unwrap();
                c.iter()
                    .enumerate()
                    .map(|(i, &c)| golden::to_f64(fmt, c).unwrap() * s[i / k])
                    .collect()
            }
            WeightScheme::HostBlock(s) | WeightScheme::DeviceBlock(s) => {
                block::quantize(s, &data, k, s.default_block()).unwrap().values
            }
            WeightScheme::Olive => olive::quantize(&data, k, Granularity::PerRow)
                .unwrap()
                .dequantize()
                .unwrap(),
        };
        let (ac, asc) = quantize_rows("x", f.act, &x.to_f64(), k).unwrap();
        let aq: Vec<f64> = ac
            .iter()
            .enumerate()
            .map(|(i, &c)| golden::to_f64(f.act, c).unwrap() * asc[i / k])
            .collect();
        for r in 0..m {
            for c in 0..n {
                let (mut dot, mut mag) = (0f64, 0f64);
                for kk in 0..k {
                    dot += aq[r * k + kk] * wq[c * k + kk];
                    mag += (aq[r * k + kk] * wq[c * k + kk]).abs();
                }
                let want = dot + f64::from(lin.b[c]);
                let got = f64::from(y.data[r * n + c]);
                assert!(
                    (got - want).abs() <= 1e-6 * mag + 1e-6 * want.abs() + 1e-7,
                    "{} [{r}, {c}]: device {got}, host {want}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn k_slices_cover_the_range() {
        assert_eq!(slices(0..10, 4).collect::<Vec<_>>(), vec![0..4, 4..8, 8..10]);
        assert_eq!(slices(128..256, 1024).collect::<Vec<_>>(), vec![128..256]);
    }
}
