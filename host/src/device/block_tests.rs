//! Block-scaled jobs end to end on the functional back end: the host's checks, the packing of
//! the block scales, the BLOCK / BS_ADDR registers, and C compared with the golden block model
//! ([`golden::block_gemm`]) on the same codes and scales.

use std::time::Duration;

use rand::{rngs::StdRng, Rng, SeedableRng};

use super::functional::{FunctionalBackend, FunctionalOptions};
use super::*;
use crate::golden::{self, Exact};
use crate::quant::block::{BlockScales, BlockScheme, BlockTensor};
use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::config::BLOCK_FORMATS;
use npe_hdl::spec::{Format, OutputFormat};

/// `base` with block scales and BitMoD's data types: what the functional back end emulates of
/// a block-scaled build.
fn with_blocks(base: NpeConfig) -> NpeConfig {
    NpeConfig {
        block_scales: true,
        format_set: &BLOCK_FORMATS,
        ..base
    }
}

fn device(cfg: NpeConfig) -> Device<FunctionalBackend> {
    let f = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
    Device::connect(f, cfg).unwrap()
}

/// One block-scaled GEMM, held the way the golden model takes it (weights one row per output
/// column), with what the device job and the golden tensor are built from.
#[derive(Clone, Debug)]
struct Case {
    a_fmt: Format,
    out: OutputFormat,
    m: usize,
    n: usize,
    k: usize,
    kind: ScaleCode,
    block: usize,
    base: u32,
    /// `m × k` activation codes.
    a: Vec<u32>,
    /// The weights' format: FP4 E2M1, or a BitMoD type (naming its width).
    w_fmt: Format,
    /// `n × k` weight codes (row = output column).
    w: Vec<u8>,
    /// `n × ⌈k / block⌉` scale codes.
    scales: Vec<u8>,
    /// BitMoD only: `n × ⌈k / block⌉` data-type selectors.
    sels: Vec<u8>,
    scale_exp: i8,
    col_scale_exp: Vec<i8>,
}

impl Case {
    /// Random operands: activations without NaN codes, FP4 weights, scale codes from `scale`.
    #[allow(clippy::too_many_arguments)]
    fn random(
        rng: &mut StdRng,
        a_fmt: Format,
        out: OutputFormat,
        (m, n, k): (usize, usize, usize),
        kind: ScaleCode,
        block: usize,
        base: u32,
        mut scale: impl FnMut(&mut StdRng) -> u8,
    ) -> Case {
        let a = (0..m * k)
            .map(|_| loop {
                let c = rng.gen_range(0..1u32 << a_fmt.bits());
                if !golden::decode(a_fmt, c).unwrap().nar {
                    break c;
                }
            })
            .collect();
        let nblk = k.div_ceil(block);
        Case {
            a_fmt,
            out,
            m,
            n,
            k,
            kind,
            block,
            base,
            a,
            w_fmt: Format::Fp4E2M1,
            w: (0..n * k).map(|_| rng.gen_range(0..16u8)).collect(),
            scales: (0..n * nblk).map(|_| scale(rng)).collect(),
            sels: Vec::new(),
            scale_exp: 0,
            col_scale_exp: Vec::new(),
        }
    }

    /// Random BitMoD weights of `bits` (3 or 4) with random u8 scales and selectors.
    fn bitmod(rng: &mut StdRng, a_fmt: Format, out: OutputFormat, shape: (usize, usize, usize), bits: u32) -> Case {
        let mut c = Case::random(rng, a_fmt, out, shape, ScaleCode::U8, 128, 0, |r| r.gen());
        c.w_fmt = Format::bitmod(bits, 0).unwrap();
        c.w = c.w.iter().map(|_| rng.gen_range(0..1u8 << bits)).collect();
        c.sels = c.scales.iter().map(|_| rng.gen_range(0..4)).collect();
        c
    }

    fn nblk(&self) -> usize {
        self.k.div_ceil(self.block)
    }

    fn job(&self) -> GemmJob {
        GemmJob {
            a_fmt: self.a_fmt,
            w_fmt: self.w_fmt,
            out: self.out,
            scale_exp: self.scale_exp,
            col_scale_exp: self.col_scale_exp.clone(),
            m: self.m,
            n: self.n,
            k: self.k,
            a: self.a.clone(),
            // W[k][n], row-major: column n of W is row n of the golden tensor.
            w: (0..self.k * self.n)
                .map(|i| u32::from(self.w[i % self.n * self.k + i / self.n]))
                .collect(),
        }
    }

    fn block_job(&self) -> BlockScaleJob {
        BlockScaleJob {
            kind: self.kind,
            block: self.block,
            base: self.base,
            codes: self.scales.clone(),
            selectors: self.sels.clone(),
        }
    }

    /// What the contract says C is: the golden block GEMM on the same codes and scales (u8
    /// scales as the per-group FP4 baseline's `f32` scales, NVFP4 with tensor scale 1.0; the
    /// power-of-two output scales folded into E8M0 codes), with E8M0 columns whose non-NaN codes
    /// leave the window `base … base + 15` NaN.
    fn expected(&self) -> Vec<u32> {
        let nblk = self.nblk();
        let shift = |n: usize| i32::from(self.scale_exp) + self.col_scale_exp.get(n).map_or(0, |&s| i32::from(s));
        if self.kind != ScaleCode::E8m0 {
            assert!((0..self.n).all(|n| shift(n) == 0), "only E8M0 cases fold output scales");
        }
        let codes: Vec<u8> = self
            .scales
            .iter()
            .enumerate()
            .map(|(i, &c)| match shift(i / nblk) {
                0 => c,
                s => {
                    let shifted = i32::from(c) + s;
                    assert!(c != 0xFF && (0..0xFF).contains(&shifted), "a shifted code stays finite");
                    shifted as u8
                }
            })
            .collect();
        let (scheme, scales, tensor_scale) = match self.kind {
            ScaleCode::U8 if self.w_fmt.is_bitmod() => (
                if self.w_fmt.bits() == 4 {
                    BlockScheme::Bitmod4
                } else {
                    BlockScheme::Bitmod3
                },
                BlockScales::U8(codes),
                None,
            ),
            ScaleCode::U8 => (
                BlockScheme::Fp4g,
                BlockScales::F32(codes.iter().map(|&c| f32::from(c)).collect()),
                None,
            ),
            ScaleCode::E8m0 => (BlockScheme::Mxfp4, BlockScales::U8(codes), None),
            ScaleCode::E4m3 => (BlockScheme::Nvfp4, BlockScales::U8(codes), Some(1.0)),
        };
        let t = BlockTensor {
            scheme,
            rows: self.n,
            k: self.k,
            block: self.block,
            codes: self.w.clone(),
            scales,
            selectors: self.sels.clone(),
            // BitMoD's per-channel scale is the host's: 1 here.
            row_scales: if self.w_fmt.is_bitmod() {
                vec![1.0; self.n]
            } else {
                Vec::new()
            },
            tensor_scale,
            values: Vec::new(),
        };
        let mut c = golden::block_gemm(self.a_fmt, &self.a, &t, self.out).unwrap();
        if self.kind == ScaleCode::E8m0 {
            let window = self.base..=self.base + 15;
            for n in 0..self.n {
                let col = &self.scales[n * nblk..(n + 1) * nblk];
                if col.iter().any(|&s| s != 0xFF && !window.contains(&u32::from(s))) {
                    for m in 0..self.m {
                        c[m * self.n + n] = golden::round_to_output(self.out, &Exact::NaN);
                    }
                }
            }
        }
        c
    }

    /// Runs the case on `dev` and compares every output with [`Case::expected`].
    fn check(&self, dev: &mut Device<FunctionalBackend>) -> GemmRun {
        let run = dev.block_gemm(&self.job(), &self.block_job()).unwrap();
        let want = self.expected();
        for (i, (got, want)) in run.c.iter().zip(&want).enumerate() {
            assert_eq!(
                got,
                want,
                "C[{}][{}] of {:?} x {:?}, {:?} scales, B = {}, m {} n {} k {}, {:?}",
                i / self.n,
                i % self.n,
                self.a_fmt,
                self.w_fmt,
                self.kind,
                self.block,
                self.m,
                self.n,
                self.k,
                self.out
            );
        }
        assert_eq!(run.c.len(), want.len());
        run
    }

    /// Sets the weights of block `j` of column `n` to zero codes.
    fn zero_block(&mut self, n: usize, j: usize) {
        let end = ((j + 1) * self.block).min(self.k);
        self.w[n * self.k + j * self.block..n * self.k + end].fill(0);
    }

    fn set_scale(&mut self, n: usize, j: usize, code: u8) {
        let nblk = self.nblk();
        self.scales[n * nblk + j] = code;
    }

    /// BitMoD: block `j` of column `n` takes data type `sel`, its codes `codes` (repeated).
    fn set_block(&mut self, n: usize, j: usize, sel: u8, codes: &[u8]) {
        let nblk = self.nblk();
        self.sels[n * nblk + j] = sel;
        let end = ((j + 1) * self.block).min(self.k);
        for (i, w) in self.w[n * self.k + j * self.block..n * self.k + end]
            .iter_mut()
            .enumerate()
        {
            *w = codes[i % codes.len()];
        }
    }
}

const OUTS: [OutputFormat; 3] = [OutputFormat::Fp32, OutputFormat::Bf16, OutputFormat::Fp16];

#[test]
fn mxfp4_gemms_match_the_golden_model() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(1);
    // K = 75: three blocks of 32, the last padded; N = 11: a full tile of 8 and 3 columns.
    let (n, k, base) = (11, 75, 110);
    for a_fmt in [Format::Int8, Format::Fp8E4M3] {
        for (i, m) in [1, 3, 9].into_iter().enumerate() {
            let mut c = Case::random(&mut rng, a_fmt, OUTS[i], (m, n, k), ScaleCode::E8m0, 32, base, |r| {
                r.gen_range(base..=base + 15) as u8
            });
            c.zero_block(1, 0);
            // The window's ends; a NaN scale; a code one past the window (its column is NaN).
            c.set_scale(3, 0, base as u8);
            c.set_scale(3, 2, base as u8 + 15);
            c.set_scale(4, 1, 0xFF);
            c.set_scale(6, 2, base as u8 + 16);
            c.set_scale(9, 0, base as u8 - 1);
            let run = c.check(&mut dev);
            let want = c.expected();
            let nan = golden::round_to_output(c.out, &Exact::NaN);
            for col in [4, 6, 9] {
                assert!((0..m).all(|r| want[r * n + col] == nan), "column {col} is NaN");
            }
            assert!((0..m).all(|r| want[r * n] != nan));
            // DMA reads: W (11 columns × 6 beats), the block scales (2 tiles × ⌈3·8·2/16⌉
            // beats), A (m rows × 6 beats): one stripe.
            assert_eq!(run.counters.dma_read, (11 * 6 + 2 * 3 + m as u64 * 6) * 16);
        }
    }
}

#[test]
fn mxfp4_scales_at_both_ends_of_e8m0() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(2);
    // The smallest scale, 2^-127 (code 0), and the largest, 2^127 (code 254, next to NaN).
    for (base, extreme) in [(0u32, 0u8), (239, 254)] {
        for a_fmt in [Format::Int8, Format::Fp8E4M3] {
            let mut c = Case::random(
                &mut rng,
                a_fmt,
                OutputFormat::Fp32,
                (4, 10, 64),
                ScaleCode::E8m0,
                32,
                base,
                |r| r.gen_range(base..=base + 15) as u8,
            );
            for n in 0..10 {
                c.set_scale(n, n % 2, extreme);
            }
            c.set_scale(7, 1, 0xFF);
            c.zero_block(2, 1);
            c.check(&mut dev);
        }
    }
}

#[test]
fn nvfp4_gemms_match_the_golden_model() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(3);
    // K = 45: three blocks of 16, the last padded; N = 13.
    let (n, k) = (13, 45);
    for a_fmt in [Format::Int8, Format::Fp8E4M3] {
        for (i, m) in [1, 4, 10].into_iter().enumerate() {
            let mut c = Case::random(&mut rng, a_fmt, OUTS[i], (m, n, k), ScaleCode::E4m3, 16, 0, |r| {
                r.gen_range(0..0x7Fu8)
            });
            c.zero_block(0, 2);
            c.set_scale(1, 0, 0x00); // scale 0
            c.set_scale(2, 1, 0x7E); // 448, the largest
            c.set_scale(2, 2, 0x01); // 2^-9, the smallest
            c.set_scale(3, 1, 0x7F); // NaN
            c.set_scale(5, 0, 0xFF); // NaN
            c.set_scale(8, 2, 0xBC); // −1.5: a negative scale is taken at its value
            c.set_scale(9, 0, 0x80); // −0
            c.set_scale(10, 2, 0x00);
            c.zero_block(10, 2); // a zero block with a zero scale
            if a_fmt == Format::Fp8E4M3 && m > 1 {
                // A NaN activation makes its block's partial sum, so its row, NaN.
                c.a[(m - 1) * k + 20] = 0x7F;
            }
            c.check(&mut dev);
        }
    }
}

#[test]
fn u8_scales_match_the_golden_model() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(4);
    // u8 needs 8 packed words per block: 16 elements at 2 lanes. K = 37: three blocks.
    for a_fmt in [Format::Int8, Format::Fp8E4M3] {
        let mut c = Case::random(
            &mut rng,
            a_fmt,
            OutputFormat::Fp32,
            (5, 9, 37),
            ScaleCode::U8,
            16,
            0,
            |r| r.gen(),
        );
        c.set_scale(0, 0, 0);
        c.set_scale(1, 1, 255);
        c.set_scale(8, 2, 255);
        c.zero_block(4, 1);
        c.check(&mut dev);
    }
}

#[test]
fn four_columns_and_four_lanes() {
    // The 4×4 array: COLS = 4, four blocks' scales per beat.
    let mut dev = device(with_blocks(NpeConfig::TEST));
    let mut rng = StdRng::seed_from_u64(5);
    for a_fmt in [Format::Fp4E2M1, Format::Int8, Format::Fp8E4M3] {
        // FP4 × FP4 packs 4 lanes: MXFP4 blocks are 8 words, NVFP4 blocks 4 (the fewest).
        let mut c = Case::random(
            &mut rng,
            a_fmt,
            OutputFormat::Fp32,
            (6, 6, 70),
            ScaleCode::E8m0,
            32,
            120,
            |r| r.gen_range(120..=135),
        );
        c.set_scale(5, 2, 0xFF);
        c.check(&mut dev);
        let mut c = Case::random(
            &mut rng,
            a_fmt,
            OutputFormat::Bf16,
            (3, 7, 50),
            ScaleCode::E4m3,
            16,
            0,
            |r| r.gen_range(0..0x7F),
        );
        c.set_scale(6, 3, 0x7F);
        c.check(&mut dev);
    }
}

#[test]
fn job_and_column_scales_apply_to_the_block_sum() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(6);
    let mut c = Case::random(
        &mut rng,
        Format::Int8,
        OutputFormat::Fp32,
        (3, 11, 96),
        ScaleCode::E8m0,
        32,
        100,
        |r| r.gen_range(100..=115),
    );
    c.scale_exp = -3;
    c.col_scale_exp = (0..11).map(|_| rng.gen_range(-4..=4)).collect();
    c.check(&mut dev);
}

/// BitMoD on both widths: blocks of 128 at two lanes (INT8, FP8 activations: 64 words) and
/// four (FP4, INT4: 32 words), K not a multiple of the block, the adversarial groups of the
/// issue: an all-zero group, one huge outlier (the special) in a group of zeros, every special
/// value, every selector, scales 0, 1 and 255.
#[test]
fn bitmod_gemms_match_the_golden_model() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let mut rng = StdRng::seed_from_u64(8);
    let (m, n, k) = (3, 11, 300);
    for bits in [4u32, 3] {
        let special = 1u8 << (bits - 1);
        for (i, a_fmt) in [Format::Int8, Format::Fp8E4M3, Format::Fp4E2M1, Format::Int4]
            .into_iter()
            .enumerate()
        {
            let mut c = Case::bitmod(&mut rng, a_fmt, OUTS[i % 3], (m, n, k), bits);
            c.zero_block(0, 1);
            for sel in 0..4u8 {
                // Column 1 + sel: the special alone, then every code, under selector sel.
                c.set_block(1 + sel as usize, 0, sel, &[0, 0, special, 0]);
                let every: Vec<u8> = (0..1u8 << bits).collect();
                c.set_block(1 + sel as usize, 1, sel, &every);
                c.set_block(5 + sel as usize, 2, sel, &[special]);
            }
            c.set_scale(2, 0, 0);
            c.set_scale(3, 1, 1);
            c.set_scale(4, 2, 255);
            c.set_scale(9, 0, 255);
            c.check(&mut dev);
        }
    }
}

/// Bad BitMoD input is a typed error before the device is touched: selectors of the wrong
/// count or out of range, a scale kind other than u8, selectors for other weights, BitMoD
/// weights without block scales, a BitMoD type as the activations' format.
#[test]
fn bitmod_bad_input_is_refused_before_the_device_is_touched() {
    let cfg = with_blocks(NpeConfig::LE8);
    let mut dev = recorder(cfg, false);
    let mut rng = StdRng::seed_from_u64(9);
    let c = Case::bitmod(&mut rng, Format::Int8, OutputFormat::Fp32, (2, 3, 130), 4);
    let writes = dev.backend().writes;
    let (job, bj) = (c.job(), c.block_job());
    let mut short = bj.clone();
    short.selectors.pop();
    assert!(matches!(
        dev.block_gemm(&job, &short),
        Err(DeviceError::Shape {
            what: "block selectors",
            ..
        })
    ));
    let mut wide = bj.clone();
    wide.selectors[1] = 4;
    let e = dev.block_gemm(&job, &wide).unwrap_err().to_string();
    assert!(e.contains("selector 4") && e.contains("0 … 3"), "{e}");
    let e8 = BlockScaleJob {
        kind: ScaleCode::E8m0,
        ..bj.clone()
    };
    assert!(matches!(dev.block_gemm(&job, &e8), Err(DeviceError::Format(e)) if e.contains("u8")));
    let fp4 = GemmJob {
        w_fmt: Format::Fp4E2M1,
        ..job.clone()
    };
    assert!(matches!(dev.block_gemm(&fp4, &bj), Err(DeviceError::Format(e)) if e.contains("BitMoD weights only")));
    assert!(matches!(dev.gemm(&job), Err(DeviceError::Format(e)) if e.contains("need block scales")));
    let act = GemmJob {
        a_fmt: Format::Bitmod4ErPos,
        a: job.a.iter().map(|&x| x & 0xF).collect(),
        ..job.clone()
    };
    assert!(matches!(dev.block_gemm(&act, &bj), Err(DeviceError::Format(e)) if e.contains("activations")));
    assert_eq!(dev.backend().writes, writes, "nothing reached the device");
    // The good job runs.
    let run = dev.block_gemm(&job, &bj).unwrap();
    assert_eq!(run.c, c.expected());
}

/// A back end that counts what is written to it, and can hide CAPABILITY.BLOCK_SCALES (a
/// device whose register says otherwise than the configuration it was connected with).
struct Recorder {
    inner: FunctionalBackend,
    writes: usize,
    hide_block_scales: bool,
}

impl Backend for Recorder {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        let v = self.inner.read_reg(offset)?;
        Ok(if self.hide_block_scales && offset == regs::CAPABILITY.offset {
            regs::capability::BLOCK_SCALES.set(v, 0)
        } else {
            v
        })
    }
    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        self.writes += 1;
        self.inner.write_reg(offset, value)
    }
    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        self.writes += 1;
        self.inner.write_mem(addr, bytes)
    }
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        self.inner.read_mem(addr, len)
    }
    fn mem_size(&self) -> u32 {
        self.inner.mem_size()
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        self.inner.wait(d)
    }
    fn poll_interval(&self) -> Duration {
        self.inner.poll_interval()
    }
    fn describe(&self) -> String {
        "recorder".into()
    }
}

fn recorder(cfg: NpeConfig, hide_block_scales: bool) -> Device<Recorder> {
    let inner = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
    Device::connect(
        Recorder {
            inner,
            writes: 0,
            hide_block_scales,
        },
        cfg,
    )
    .unwrap()
}

fn small_case(kind: ScaleCode, block: usize) -> Case {
    let mut rng = StdRng::seed_from_u64(7);
    Case::random(
        &mut rng,
        Format::Int8,
        OutputFormat::Fp32,
        (2, 3, 48),
        kind,
        block,
        120,
        |r| r.gen_range(120..=135),
    )
}

#[test]
fn a_device_without_block_scales_is_refused_before_it_is_touched() {
    let c = small_case(ScaleCode::E8m0, 32);
    let (job, bj) = (c.job(), c.block_job());
    // The configuration says so (no register is read), or the device's CAPABILITY does.
    for (cfg, hide) in [(NpeConfig::LE8, false), (with_blocks(NpeConfig::LE8), true)] {
        let mut dev = recorder(cfg, hide);
        let free = dev.free_bytes();
        let e = dev.block_gemm(&job, &bj).unwrap_err();
        assert_eq!(e, DeviceError::NoBlockScales { preset: cfg.name });
        assert!(e.to_string().contains("BLOCK_SCALES = 0"), "{e}");
        let sizes = job.buffer_sizes(&cfg).unwrap();
        let (a, w, cc, bs) = (
            dev.alloc(sizes.a).unwrap(),
            dev.alloc(sizes.w).unwrap(),
            dev.alloc(sizes.c).unwrap(),
            dev.alloc(4096).unwrap(),
        );
        let bufs = GemmBuffers {
            a: &a,
            w: &w,
            c: &cc,
            scales: None,
        };
        assert_eq!(
            dev.run_block_gemm(&job, &bj, &bufs, &bs).unwrap_err(),
            DeviceError::NoBlockScales { preset: cfg.name }
        );
        assert_eq!(dev.backend().writes, 0, "nothing was written to the device");
        for b in [a, w, cc, bs] {
            dev.free(b);
        }
        assert_eq!(dev.free_bytes(), free, "no buffer is left allocated");
        assert!(!dev.has_block_scales().unwrap());
    }
}

#[test]
fn bad_block_sizes_and_bases_are_typed_errors() {
    let cfg = with_blocks(NpeConfig::LE8);
    let mut dev = recorder(cfg, false);
    // INT8 × FP4: 2 lanes per word.
    for (kind, block, min_words) in [
        (ScaleCode::E8m0, 0, 4),   // no block
        (ScaleCode::E8m0, 15, 4),  // not whole words
        (ScaleCode::E8m0, 24, 4),  // 12 words: not a power of two
        (ScaleCode::E4m3, 4, 4),   // 2 words: below the hardware's floor
        (ScaleCode::E8m0, 6, 4),   // 3 words
        (ScaleCode::U8, 8, 8),     // 4 words: fewer than u8's 8 scale bits
        (ScaleCode::E4m3, 512, 4), // 256 words: more than BEATS_LOG2 holds
    ] {
        let mut c = small_case(kind, block.max(1));
        c.block = block;
        let e = dev.block_gemm(&c.job(), &c.block_job()).unwrap_err();
        assert_eq!(
            e,
            DeviceError::BlockSize {
                block,
                lanes: 2,
                kind,
                min_words,
                max_words: 128
            },
            "{kind:?} B = {block}"
        );
    }
    // The extremes that are allowed: u8 at 8 words, E4M3 at 4, 128 words.
    for (kind, block, log) in [
        (ScaleCode::U8, 16, 3),
        (ScaleCode::E4m3, 8, 2),
        (ScaleCode::E8m0, 256, 7),
    ] {
        assert_eq!(small_case(kind, block).block_job().beats_log2(2), Ok(log));
    }
    let mut c = small_case(ScaleCode::E8m0, 32);
    c.base = 256;
    assert_eq!(
        dev.block_gemm(&c.job(), &c.block_job()),
        Err(DeviceError::BlockBase { base: 256, bits: 8 })
    );
    // The output scale: SCALE_EXP + (BASE − 127) + a column's scale must fit 9 bits.
    let mut c = small_case(ScaleCode::E8m0, 32);
    c.base = 0;
    c.scale_exp = -120;
    c.col_scale_exp = vec![0, -10, 0];
    assert_eq!(
        dev.block_gemm(&c.job(), &c.block_job()),
        Err(DeviceError::BlockScaleRange { exp: -257, bits: 9 })
    );
    c.col_scale_exp = vec![0, -9, 0];
    assert!(c.block_job().plan(&c.job(), &cfg).is_ok());
    let mut bj = small_case(ScaleCode::E8m0, 32).block_job();
    bj.codes.pop();
    assert_eq!(
        dev.block_gemm(&c.job(), &bj),
        Err(DeviceError::Shape {
            what: "block scales",
            expected: 3 * 2,
            got: 5
        })
    );
    // K must fit the activation buffer (1024 words), padded or not.
    let mut c = small_case(ScaleCode::E8m0, 256);
    c.k = 2 * 1024 + 1;
    c.a = vec![0; c.m * c.k];
    c.w = vec![0; c.n * c.k];
    c.scales = vec![127; c.n * c.nblk()];
    assert!(matches!(
        dev.block_gemm(&c.job(), &c.block_job()),
        Err(DeviceError::TooLong {
            k: 2049,
            beats: 1025,
            ..
        })
    ));
    c.k = 2 * 1024;
    c.a = vec![0; c.m * c.k];
    c.w = vec![0; c.n * c.k];
    c.scales = vec![127; c.n * c.nblk()];
    let plan = c.block_job().plan(&c.job(), &cfg).unwrap();
    assert_eq!((plan.k, plan.blocks, plan.layout.k_beats), (2048, 8, 1024));
    assert_eq!(
        dev.backend().writes,
        0,
        "every refusal came before the device was touched"
    );
}

#[test]
fn the_device_refuses_bad_block_registers() {
    // A device without block scales ends a job with BLOCK.EN set as a bad job.
    let c = small_case(ScaleCode::E4m3, 16);
    let mut plain = device(NpeConfig::LE8);
    plain.gemm(&c.job()).unwrap();
    let valid = c
        .block_job()
        .plan(&c.job(), &with_blocks(NpeConfig::LE8))
        .unwrap()
        .block_reg;
    plain.write("BLOCK", valid).unwrap();
    assert_eq!(plain.start_and_wait(), Err(DeviceError::Job(ErrorCode::BadJob)));

    // K = 48 at 2 lanes: 24 packed words, three blocks of 8.
    let mut dev = device(with_blocks(NpeConfig::LE8));
    c.check(&mut dev);
    assert_eq!(dev.read("BLOCK").unwrap(), valid);
    use regs::block::{BEATS_LOG2, EN, KIND};
    let with = |kind: u32, log: u32| BEATS_LOG2.set(KIND.set(EN.set(0, 1), kind), log);
    for (word, why) in [
        (with(3, 3), "KIND 3"),
        (with(2, 0), "1 word"),
        (with(2, 1), "2 words"),
        (with(0, 2), "u8 at 4 words"),
        (with(2, 4), "24 words are not whole blocks of 16"),
    ] {
        dev.write("BLOCK", word).unwrap();
        assert_eq!(dev.start_and_wait(), Err(DeviceError::Job(ErrorCode::BadJob)), "{why}");
    }
    // BS_ADDR off a beat.
    dev.write("BLOCK", valid).unwrap();
    let bs = dev.read("BS_ADDR").unwrap();
    dev.write("BS_ADDR", bs + 8).unwrap();
    assert_eq!(dev.start_and_wait(), Err(DeviceError::Job(ErrorCode::BadAddress)));
    // Without BLOCK.EN the controller does not look at BS_ADDR.
    dev.write("BLOCK", 0).unwrap();
    dev.start_and_wait().unwrap();
    dev.write("BLOCK", valid).unwrap();
    // The same registers with the scales in place run again.
    dev.write("BS_ADDR", bs).unwrap();
    dev.start_and_wait().unwrap();
    // 24 words as blocks of 4 and of 8 are both whole: BEATS_LOG2 2 runs too.
    dev.write("BLOCK", with(2, 2)).unwrap();
    dev.start_and_wait().unwrap();
}

#[test]
fn plain_jobs_clear_block_and_bs_addr() {
    let mut dev = device(with_blocks(NpeConfig::LE8));
    let c = small_case(ScaleCode::E8m0, 32);
    c.check(&mut dev);
    assert_ne!(dev.read("BLOCK").unwrap(), 0);
    assert_ne!(dev.read("BS_ADDR").unwrap(), 0);
    let job = c.job();
    let run = dev.gemm(&job).unwrap();
    assert_eq!(run.c, job.golden().unwrap());
    assert_eq!(dev.read("BLOCK").unwrap(), 0);
    assert_eq!(dev.read("BS_ADDR").unwrap(), 0);
}

#[test]
fn the_e8m0_base_is_the_smallest_finite_code() {
    assert_eq!(BlockScaleJob::e8m0_base(&[130, 0xFF, 121, 127]), 121);
    assert_eq!(BlockScaleJob::e8m0_base(&[0xFF]), 0);
    assert_eq!(BlockScaleJob::e8m0_base(&[]), 0);
}

/// `of_tensor`: W transposed to `K × N`, the block scales as quantized, a zero block given the
/// window's base (MXFP4 codes it 0, far below the other blocks), a NaN scale kept even in a zero
/// block, nonzero blocks beyond one window and schemes without device scales refused.
#[test]
fn quantized_tensors_become_device_jobs() {
    use crate::quant::block::quantize;
    let (n, k) = (3, 70);
    // Row 1's first block (K 0 … 31) is zero.
    let data: Vec<f64> = (0..n * k)
        .map(|i| {
            if i / k == 1 && i % k < 32 {
                0.0
            } else {
                ((i * 13 % 29) as f64 - 14.0) * 0.1
            }
        })
        .collect();
    let t = quantize(BlockScheme::Mxfp4, &data, k, 32).unwrap();
    let BlockScales::U8(codes) = &t.scales else {
        panic!("MXFP4 has u8 scales")
    };
    assert_eq!(codes[3], 0, "MXFP4's code of a zero block");
    let (w_fmt, w, job) = BlockScaleJob::of_tensor(&t).unwrap();
    assert_eq!(w_fmt, Format::Fp4E2M1);
    assert_eq!(w.len(), k * n);
    for (i, &c) in w.iter().enumerate() {
        assert_eq!(c, u32::from(t.codes[i % n * k + i / n]), "W[{}][{}]", i / n, i % n);
    }
    assert_eq!((job.kind, job.block), (ScaleCode::E8m0, 32));
    let live: Vec<u8> = codes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 3)
        .map(|(_, &c)| c)
        .collect();
    assert_eq!(job.base, BlockScaleJob::e8m0_base(&live));
    for (i, (&got, &q)) in job.codes.iter().zip(codes).enumerate() {
        assert_eq!(
            u32::from(got),
            if i == 3 { job.base } else { u32::from(q) },
            "scale {i}"
        );
    }
    // A NaN scale stays, zero block or not.
    let mut nan = t.clone();
    if let BlockScales::U8(c) = &mut nan.scales {
        c[3] = 0xFF;
    }
    assert_eq!(BlockScaleJob::of_tensor(&nan).unwrap().2.codes[3], 0xFF);
    // A nonzero block 2^-20 below the others.
    let mut wide = data.clone();
    for x in &mut wide[..32] {
        *x *= 1e-6;
    }
    let t = quantize(BlockScheme::Mxfp4, &wide, k, 32).unwrap();
    assert!(matches!(BlockScaleJob::of_tensor(&t), Err(DeviceError::BlockScaleSpan { lo, hi }) if hi - lo > 15));
    // NVFP4's E4M3 scales are all in the window: kept as quantized.
    let t = quantize(BlockScheme::Nvfp4, &data, k, 16).unwrap();
    let (_, _, job) = BlockScaleJob::of_tensor(&t).unwrap();
    let BlockScales::U8(codes) = &t.scales else {
        panic!("NVFP4 has u8 scales")
    };
    assert_eq!((job.kind, &job.codes), (ScaleCode::E4m3, codes));
    // BitMoD: u8 scales and selectors as quantized, the W format names the width.
    for (scheme, bits) in [(BlockScheme::Bitmod4, 4), (BlockScheme::Bitmod3, 3)] {
        let t = quantize(scheme, &data, k, 128).unwrap();
        let (w_fmt, _, job) = BlockScaleJob::of_tensor(&t).unwrap();
        assert_eq!(w_fmt, Format::bitmod(bits, 0).unwrap());
        let BlockScales::U8(codes) = &t.scales else {
            panic!("BitMoD has u8 scales")
        };
        assert_eq!(
            (job.kind, &job.codes, &job.selectors),
            (ScaleCode::U8, codes, &t.selectors)
        );
    }
    // The f32-scaled baselines have no device scales.
    let t = quantize(BlockScheme::Fp4g, &data, k, 32).unwrap();
    assert!(matches!(BlockScaleJob::of_tensor(&t), Err(DeviceError::Format(_))));
}
