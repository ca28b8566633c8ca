//! A GEMM job as the host describes it ([`GemmJob`]): its checks (before any device is touched),
//! the device memory it needs ([`BufferSizes`]) and its golden result.

use npe_hdl::spec::block_scale::{ScaleCode, SELECTOR_BITS};
use npe_hdl::spec::config::NpeConfig;
use npe_hdl::spec::regs::block;
use npe_hdl::spec::{Format, OutputFormat};

use super::pack::block_entry;
use super::{memory, DeviceError, Layout};
use crate::golden::{self, Exact};
use crate::quant::block::{blocks, BlockScales, BlockTensor};

/// One GEMM: `C[m][n] = 2^(scale_exp + col_scale_exp[n]) · Σ_k A[m][k] · W[k][n]`, rounded once
/// to `out`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmJob {
    /// Activation format.
    pub a_fmt: Format,
    /// Weight format.
    pub w_fmt: Format,
    /// Output format.
    pub out: OutputFormat,
    /// Power-of-two output scale.
    pub scale_exp: i8,
    /// Per-column power-of-two scales (per-channel weight scales), `n` of them; empty: none.
    pub col_scale_exp: Vec<i8>,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of W and C.
    pub n: usize,
    /// The dot-product length.
    pub k: usize,
    /// A, row-major `m × k` codes.
    pub a: Vec<u32>,
    /// W, row-major `k × n` codes.
    pub w: Vec<u32>,
}

/// Bytes of device memory a job's operands and result take (what to [`Device::alloc`] for
/// [`Device::run_gemm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferSizes {
    /// Packed A.
    pub a: usize,
    /// Packed W (transposed).
    pub w: usize,
    /// C.
    pub c: usize,
    /// Packed per-column scales; 0 when the job has none.
    pub scales: usize,
    /// Packed block scales ([`BlockScaleJob`]); 0 when the job has none.
    pub block_scales: usize,
}

impl BufferSizes {
    /// The sizes for a job of shape `m × n × k` in formats `a_fmt × w_fmt` on `cfg`, before its
    /// operands exist (to refuse a job too large for device memory before generating or reading
    /// gigabytes of operands): checks the dimensions and K's length as [`GemmJob::validate`]
    /// does.
    pub fn of_shape(
        cfg: &NpeConfig,
        (a_fmt, w_fmt): (Format, Format),
        (m, n, k): (usize, usize, usize),
        col_scales: bool,
    ) -> Result<BufferSizes, DeviceError> {
        check_dims(m, n, k)?;
        let layout = Layout::new(a_fmt, w_fmt, k, n);
        if layout.k_beats > cfg.k_beats_max as usize {
            return Err(DeviceError::TooLong {
                k,
                beats: layout.k_beats,
                max: cfg.k_beats_max,
            });
        }
        BufferSizes::of_layout(&layout, cfg, (m, n), col_scales)
    }

    fn of_layout(
        layout: &Layout,
        cfg: &NpeConfig,
        (m, n): (usize, usize),
        col_scales: bool,
    ) -> Result<BufferSizes, DeviceError> {
        Ok(BufferSizes {
            a: layout.rows_len(m),
            w: layout.rows_len(n),
            c: layout.c_len(m),
            scales: if col_scales {
                Layout::col_scales_len(n, cfg.cols as usize)?
            } else {
                0
            },
            block_scales: 0,
        })
    }

    /// The buffers' lengths, in allocation order (A, W, C, then the column scales and the block
    /// scales, each if any).
    pub fn lens(&self) -> Vec<usize> {
        let mut lens = vec![self.a, self.w, self.c];
        for extra in [self.scales, self.block_scales] {
            if extra > 0 {
                lens.push(extra);
            }
        }
        lens
    }

    /// Device memory the job takes: every buffer in whole 4 KiB pages, as the allocator hands
    /// them out.
    pub fn device_bytes(&self) -> u64 {
        self.lens().into_iter().map(memory::pages).sum()
    }

    /// What [`DeviceError::OutOfMemory`] says needs the memory: the job and its buffers.
    pub fn describe(&self) -> String {
        let mut s = format!("the job (A {} B, W {} B, C {} B", self.a, self.w, self.c);
        if self.scales > 0 {
            s += &format!(", column scales {} B", self.scales);
        }
        if self.block_scales > 0 {
            s += &format!(", block scales {} B", self.block_scales);
        }
        s + ", each in whole 4 KiB pages)"
    }

    /// [`DeviceError::OutOfMemory`] for the whole job if it needs more than `free` bytes.
    pub fn check_fits(&self, free: u64) -> Result<(), DeviceError> {
        let need = self.device_bytes();
        if need > free {
            return Err(DeviceError::OutOfMemory {
                what: self.describe(),
                need,
                have: free,
            });
        }
        Ok(())
    }
}

/// Refuses a zero dimension or one too large for the job registers.
fn check_dims(m: usize, n: usize, k: usize) -> Result<(), DeviceError> {
    for (what, d) in [("M", m), ("N", n), ("K", k)] {
        if d == 0 || d > u32::MAX as usize / 16 {
            return Err(DeviceError::Dimension(format!("{what} = {d} (must be 1..2^28)")));
        }
    }
    Ok(())
}

impl GemmJob {
    /// Checks what needs no device: dimensions, tensor sizes and codes, the column-scale count.
    pub fn check(&self) -> Result<(), DeviceError> {
        check_dims(self.m, self.n, self.k)?;
        for (what, v, rows, cols, f) in [
            ("A", &self.a, self.m, self.k, self.a_fmt),
            ("W", &self.w, self.k, self.n, self.w_fmt),
        ] {
            let expected = rows
                .checked_mul(cols)
                .ok_or_else(|| DeviceError::Dimension(format!("{what} has {rows} x {cols} elements: too many")))?;
            if v.len() != expected {
                return Err(DeviceError::Shape {
                    what,
                    expected,
                    got: v.len(),
                });
            }
            if let Some((index, &code)) = v.iter().enumerate().find(|(_, &c)| c >> f.bits() != 0) {
                return Err(DeviceError::Code {
                    what,
                    index,
                    code,
                    format: f,
                });
            }
        }
        if let Some(f) = [self.a_fmt, self.w_fmt].into_iter().find(|f| f.is_paired()) {
            if !self.k.is_multiple_of(2) {
                return Err(DeviceError::Dimension(format!(
                    "K = {} is odd, and {f} codes come in pairs along K: pad K to an even length \
                     (the quantizer pads with a zero code)",
                    self.k
                )));
            }
        }
        if !self.col_scale_exp.is_empty() && self.col_scale_exp.len() != self.n {
            return Err(DeviceError::Shape {
                what: "column scales",
                expected: self.n,
                got: self.col_scale_exp.len(),
            });
        }
        Ok(())
    }

    /// Checks everything the host can check before touching a device with `cfg`.
    pub fn validate(&self, cfg: &NpeConfig) -> Result<Layout, DeviceError> {
        self.check()?;
        if self.a_fmt.is_bitmod() {
            return Err(DeviceError::Format(format!(
                "{} is a BitMoD weight data type: activations cannot use it",
                self.a_fmt
            )));
        }
        for f in [self.a_fmt, self.w_fmt] {
            if f.is_paired() && cfg.formats() & (1 << f.id()) == 0 {
                let with: Vec<&str> = NpeConfig::PRESETS
                    .iter()
                    .filter(|c| c.format_set.contains(&f))
                    .map(|c| c.name)
                    .collect();
                return Err(DeviceError::Format(format!(
                    "{f} is an outlier-victim pair format and {} has no pair decoder: run it on {}",
                    cfg.name,
                    with.join(" or ")
                )));
            }
            if cfg.formats() & (1 << f.id()) == 0 {
                return Err(DeviceError::Format(format!(
                    "{f} is not a multiplier format of {} (its formats: {})",
                    cfg.name,
                    cfg.format_set
                        .iter()
                        .filter(|f| f.is_mac_operand())
                        .map(|f| f.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let layout = Layout::new(self.a_fmt, self.w_fmt, self.k, self.n);
        if layout.k_beats > cfg.k_beats_max as usize {
            return Err(DeviceError::TooLong {
                k: self.k,
                beats: layout.k_beats,
                max: cfg.k_beats_max,
            });
        }
        Ok(layout)
    }

    /// The device-memory sizes of the job's buffers on a device with `cfg`.
    pub fn buffer_sizes(&self, cfg: &NpeConfig) -> Result<BufferSizes, DeviceError> {
        let layout = self.validate(cfg)?;
        BufferSizes::of_layout(&layout, cfg, (self.m, self.n), !self.col_scale_exp.is_empty())
    }

    /// The golden model's C (row-major codes): exact dot products, scaled, rounded once. A job
    /// that fails [`GemmJob::check`] is refused with that error.
    pub fn golden(&self) -> Result<Vec<u32>, DeviceError> {
        self.check()?;
        let mut out = Vec::with_capacity(self.m * self.n);
        let cols: Vec<Vec<u32>> = (0..self.n)
            .map(|n| (0..self.k).map(|k| self.w[k * self.n + n]).collect())
            .collect();
        for row in self.a.chunks_exact(self.k) {
            for (n, c) in cols.iter().enumerate() {
                let e = golden::exact_dot(self.a_fmt, row, self.w_fmt, c)
                    .map_err(|e| DeviceError::Format(e.to_string()))?;
                out.push(golden::round_to_output(self.out, &scaled(e, self.scale_of(n))));
            }
        }
        Ok(out)
    }

    /// The power-of-two scale of column `n`.
    pub fn scale_of(&self, n: usize) -> i64 {
        i64::from(self.scale_exp) + self.col_scale_exp.get(n).map_or(0, |&s| i64::from(s))
    }

    /// Multiply-accumulates of the job.
    pub fn macs(&self) -> u64 {
        (self.m as u64) * (self.n as u64) * (self.k as u64)
    }
}

pub use npe_hdl::spec::block_scale::BLOCK_WORDS_MIN;

/// Most packed words a weight block may have: what BLOCK.BEATS_LOG2 holds (2^7).
pub const BLOCK_WORDS_MAX: usize = 1 << ((1 << block::BEATS_LOG2.width) - 1);

/// The block-scale part of a block-scaled job (registers BLOCK and BS_ADDR, DESIGN §3.1.1), run
/// beside a [`GemmJob`] by [`Device::block_gemm`](super::Device::block_gemm). Each output
/// column's K is cut into blocks of `block` elements; the exact partial sum of each block is
/// multiplied by the block's scale `S_j(n)` before it joins the column's sum:
/// `C[m][n] = 2^(scale_exp + col_scale_exp[n]) · Σ_j S_j(n) · Σ_{k ∈ block j} A[m][k] · W[k][n]`,
/// exact, rounded once to the job's output format. The host pads K with zero codes (in A and W)
/// to a whole number of blocks. A NaN scale code makes its column NaN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockScaleJob {
    /// How the scale codes are coded (BLOCK.KIND).
    pub kind: ScaleCode,
    /// Elements per block (B): the job's format pair's lanes times a power of two of packed
    /// words, at least [`BlockScaleJob::min_words`] and at most [`BLOCK_WORDS_MAX`] of them.
    pub block: usize,
    /// E8M0 only (BLOCK.BASE, 8 bits): the code of the lowest exponent of the device's window
    /// of 16; a column with a non-NaN code outside `base ..= base + 15` is NaN on the device
    /// ([`BlockScaleJob::e8m0_base`] picks one). The other kinds ignore it; it is written as given.
    pub base: u32,
    /// Scale codes, `[n][⌈k / block⌉]` row-major: one row of blocks per output column.
    pub codes: Vec<u8>,
    /// BitMoD weights only (else empty): each block's data-type selector (0 … 3, laid out as
    /// `codes`), which picks the BitMoD type of the W format's width for the block's codes
    /// ([`Format::with_selector`]).
    pub selectors: Vec<u8>,
}

/// What a block-scaled job becomes on a device ([`BlockScaleJob::plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockPlan {
    /// K padded with zero codes to whole blocks: the K register.
    pub k: usize,
    /// Blocks per column.
    pub blocks: usize,
    /// The layout of the padded operands.
    pub layout: Layout,
    /// The BLOCK register's value.
    pub block_reg: u32,
    /// The job's device buffers, block scales included.
    pub sizes: BufferSizes,
}

impl BlockScaleJob {
    /// Fewest packed words a block of scale `kind` may have: the hardware's floor, and the
    /// scale's bits (the dequantization unit takes one per word: u8 needs 8).
    pub fn min_words(kind: ScaleCode) -> usize {
        BLOCK_WORDS_MIN.max(kind.q_bits())
    }

    /// BLOCK.BEATS_LOG2 of a block of [`BlockScaleJob::block`] elements at `lanes` elements per
    /// packed word, or [`DeviceError::BlockSize`] when the block is not `lanes × 2^p` with
    /// `2^p` between [`BlockScaleJob::min_words`] and [`BLOCK_WORDS_MAX`].
    pub fn beats_log2(&self, lanes: usize) -> Result<u32, DeviceError> {
        let (min_words, max_words) = (Self::min_words(self.kind), BLOCK_WORDS_MAX);
        let words = (lanes > 0 && self.block.is_multiple_of(lanes)).then(|| self.block / lanes);
        match words {
            Some(w) if w.is_power_of_two() && (min_words..=max_words).contains(&w) => Ok(w.trailing_zeros()),
            _ => Err(DeviceError::BlockSize {
                block: self.block,
                lanes,
                kind: self.kind,
                min_words,
                max_words,
            }),
        }
    }

    /// Checks everything the host can check about `job` with these block scales before
    /// touching a device with `cfg` (that it has block scales, the job as
    /// [`GemmJob::validate`] does, the block size, BASE's width, K padded to whole blocks
    /// against the buffers and the registers, the scale count `n × ⌈k / block⌉`) and derives
    /// the padded job's layout, registers and buffers. E8M0 codes outside the base's window
    /// are not refused: the device makes their columns NaN. The job's scale plus the window's
    /// lowest exponent plus any column's scale must fit the output units' scale.
    pub fn plan(&self, job: &GemmJob, cfg: &NpeConfig) -> Result<BlockPlan, DeviceError> {
        if !cfg.block_scales {
            return Err(DeviceError::NoBlockScales { preset: cfg.name });
        }
        let lanes = job.validate(cfg)?.lanes;
        let beats_log2 = self.beats_log2(lanes)?;
        let base = u8::try_from(self.base).map_err(|_| DeviceError::BlockBase {
            base: self.base,
            bits: block::BASE.width,
        })?;
        // Zero codes pad K: +0 in every multiplier format, so the padded blocks add nothing.
        let blocks = job.k.div_ceil(self.block);
        let k = blocks.checked_mul(self.block).ok_or_else(|| {
            DeviceError::Dimension(format!("K = {} padded to blocks of {}: too long", job.k, self.block))
        })?;
        check_dims(job.m, job.n, k)?;
        let layout = Layout::new(job.a_fmt, job.w_fmt, k, job.n);
        if layout.k_beats > cfg.k_beats_max as usize {
            return Err(DeviceError::TooLong {
                k,
                beats: layout.k_beats,
                max: cfg.k_beats_max,
            });
        }
        // The output units add the job's scale, the window's lowest exponent and a column's
        // scale in SCALE_BITS-bit two's complement: the sum must not wrap.
        let window = self.kind.window_lo(base);
        let half = 1i32 << (npe_hdl::output::SCALE_BITS - 1);
        for &col in job.col_scale_exp.iter().chain([&0]) {
            let exp = i32::from(job.scale_exp) + window + i32::from(col);
            if !(-half..half).contains(&exp) {
                return Err(DeviceError::BlockScaleRange {
                    exp,
                    bits: npe_hdl::output::SCALE_BITS,
                });
            }
        }
        let expected = job.n * blocks;
        if self.codes.len() != expected {
            return Err(DeviceError::Shape {
                what: "block scales",
                expected,
                got: self.codes.len(),
            });
        }
        self.check_selectors(job.w_fmt, expected)?;
        let mut block_reg = block::EN.set(0, 1);
        block_reg = block::KIND.set(block_reg, self.kind.id().into());
        block_reg = block::BEATS_LOG2.set(block_reg, beats_log2);
        block_reg = block::BASE.set(block_reg, base.into());
        let mut sizes = BufferSizes::of_layout(&layout, cfg, (job.m, job.n), !job.col_scale_exp.is_empty())?;
        sizes.block_scales = Layout::block_scales_len(job.n, blocks, cfg.cols as usize)?;
        Ok(BlockPlan {
            k,
            blocks,
            layout,
            block_reg,
            sizes,
        })
    }

    /// BitMoD weights take u8 scales and one selector (0 … 3) per block; other weights none.
    fn check_selectors(&self, w_fmt: Format, expected: usize) -> Result<(), DeviceError> {
        if !w_fmt.is_bitmod() {
            if !self.selectors.is_empty() {
                return Err(DeviceError::Format(format!(
                    "block selectors are for BitMoD weights only, not {w_fmt}"
                )));
            }
            return Ok(());
        }
        if self.kind != ScaleCode::U8 {
            return Err(DeviceError::Format(format!(
                "{w_fmt} weights take u8 block scales, not {:?}",
                self.kind
            )));
        }
        if self.selectors.len() != expected {
            return Err(DeviceError::Shape {
                what: "block selectors",
                expected,
                got: self.selectors.len(),
            });
        }
        match self
            .selectors
            .iter()
            .position(|&s| usize::from(s) >= 1 << SELECTOR_BITS)
        {
            Some(i) => Err(DeviceError::Format(format!(
                "block selector {} (block {i}) is out of range: BitMoD selectors are 0 … 3",
                self.selectors[i]
            ))),
            None => Ok(()),
        }
    }

    /// The blocks' entries as BS_ADDR holds them ([`block_entry`]): code and selector.
    pub fn entries(&self) -> Vec<u16> {
        let sel = |i: usize| self.selectors.get(i).copied().unwrap_or(0);
        self.codes
            .iter()
            .enumerate()
            .map(|(i, &c)| block_entry(c, sel(i)))
            .collect()
    }

    /// BitMoD, MXFP4 or NVFP4 weights `t` (`[N, K]`, as `npe quantize` writes them) as the
    /// device runs them: the job's W format (BitMoD: the selector-0 type of the width; else FP4
    /// E2M1), W's codes `K × N` row-major for a [`GemmJob`], and the block-scale part (the
    /// per-channel `f32` scales of BitMoD and NVFP4's tensor scale stay with the caller). A
    /// block of zero weights adds zero whatever its scale (a NaN scale aside), and MXFP4 gives it
    /// the smallest code; so only the other blocks must fit one E8M0 window
    /// ([`DeviceError::BlockScaleSpan`] otherwise), and a zero block gets the window's base.
    /// The `f32`-scaled baselines are [`DeviceError::Format`].
    pub fn of_tensor(t: &BlockTensor) -> Result<(Format, Vec<u32>, BlockScaleJob), DeviceError> {
        let (w_fmt, kind, codes) = match (t.scheme.device(), &t.scales) {
            (Some((w_fmt, kind)), BlockScales::U8(c)) => (w_fmt, kind, c),
            _ => {
                return Err(DeviceError::Format(format!(
                    "{} weights: the device applies BitMoD, MXFP4 and NVFP4 block scales only (the \
                     per-group baselines' f32 scales are not in the hardware)",
                    t.scheme.name()
                )))
            }
        };
        let (n, k, nb) = (t.rows, t.k, t.n_blocks());
        for (what, expected, got) in [
            ("weight codes", n * k, t.codes.len()),
            ("block scales", n * nb, codes.len()),
        ] {
            if got != expected {
                return Err(DeviceError::Shape { what, expected, got });
            }
        }
        let w = (0..k * n).map(|i| u32::from(t.codes[i % n * k + i / n])).collect();
        let nan = |c: u8| kind.serial(c).nan;
        // FP4 E2M1: the three magnitude bits are zero for ±0.
        let zero_block = |i: usize| {
            blocks(k, t.block)
                .nth(i % nb)
                .is_some_and(|r| r.clone().all(|kk| t.codes[i / nb * k + kk] & 0x7 == 0))
        };
        let live = |i: &usize| !zero_block(*i) || nan(codes[*i]);
        let (base, codes) = match kind {
            ScaleCode::E8m0 => {
                let live_codes: Vec<u8> = (0..codes.len()).filter(live).map(|i| codes[i]).collect();
                let base = Self::e8m0_base(&live_codes);
                let top = live_codes
                    .iter()
                    .filter(|&&c| !nan(c))
                    .max()
                    .map_or(base, |&c| c.into());
                if top > base + 15 {
                    return Err(DeviceError::BlockScaleSpan {
                        lo: kind.window_lo(base as u8),
                        hi: kind.window_lo(top as u8),
                    });
                }
                let codes = (0..codes.len())
                    .map(|i| if live(&i) { codes[i] } else { base as u8 })
                    .collect();
                (base, codes)
            }
            _ => (0, codes.clone()),
        };
        Ok((
            w_fmt,
            w,
            BlockScaleJob {
                kind,
                block: t.block,
                base,
                codes,
                selectors: t.selectors.clone(),
            },
        ))
    }

    /// An E8M0 base whose window holds `codes` when they span at most 16 exponents: their
    /// smallest non-NaN code (0 when there is none).
    pub fn e8m0_base(codes: &[u8]) -> u32 {
        codes
            .iter()
            .filter(|&&c| !ScaleCode::E8m0.serial(c).nan)
            .min()
            .map_or(0, |&c| c.into())
    }
}

/// `x · 2^s`.
pub(crate) fn scaled(x: Exact, s: i64) -> Exact {
    match x {
        Exact::Finite { mant, exp } => Exact::Finite { mant, exp: exp + s },
        other => other,
    }
}

#[cfg(test)]
mod pair_format_tests {
    use super::*;

    #[test]
    fn presets_without_pair_decoders_refuse_pair_formats_and_say_which_has_one() {
        for cfg in NpeConfig::PRESETS {
            for f in Format::PAIRED {
                let job = GemmJob {
                    a_fmt: Format::Int4,
                    w_fmt: f,
                    out: OutputFormat::Fp32,
                    scale_exp: 0,
                    col_scale_exp: vec![],
                    m: 1,
                    n: 1,
                    k: 2,
                    a: vec![1, 2],
                    w: vec![0x8, 0x7],
                };
                if cfg.format_set.contains(&f) {
                    assert!(job.validate(&cfg).is_ok(), "{} {f}", cfg.name);
                    continue;
                }
                let e = job.validate(&cfg).unwrap_err().to_string();
                assert!(
                    e.contains("pair decoder") && e.contains(f.name()) && e.contains(NpeConfig::OLIVE.name),
                    "{e}"
                );
                // The golden model still computes it: 1 × 0 + 2 × 96.
                let g = job.golden().unwrap();
                let want = if f == Format::OvpInt4 { 2.0 * 96.0 } else { 2.0 * 384.0 };
                assert_eq!(crate::golden::output_to_f64(OutputFormat::Fp32, g[0]), want);
            }
        }
    }
}
