//! The functional back end: the golden model behind the accelerator's register map, with no
//! simulator (it builds without Verilator).
//!
//! It is register-level, like the hardware: the same registers ([`npe_hdl::spec::regs`], same
//! access rules: unmapped or misaligned offsets answer DECERR, writes to read-only registers
//! SLVERR), the same job descriptor read from the job registers at START, the same checks with
//! the same error codes as the controller's Check state (a zero dimension, an operand format the
//! array does not multiply, an output format id past the table, a row longer than the
//! activation buffer: `BadJob`; an address or stride not on a 16-byte beat: `BadAddress`), and
//! the same memory layout: it reads A, W and the column scales out of its memory exactly as the
//! DMA does (every lane of every packed word, padding lanes included, each cut to its format's
//! width), computes C with the golden model (exact dot products, the 9-bit two's complement sum
//! of SCALE_EXP and the column's scale, one rounding) and writes C into its memory (whole beats
//! per row: values past N are written as 0).
//!
//! Block-scaled jobs (BLOCK.EN, on a configuration with [`NpeConfig::block_scales`]; elsewhere
//! `BadJob`): BLOCK is checked as the controller checks it (KIND 3, fewer packed words per block
//! than the hardware's floor or the kind's scale bits, a row that is not whole blocks: `BadJob`),
//! the block entries are read from BS_ADDR per column tile ([`Layout::block_scale_offset`]), and
//! each output is `Σ_j P_j · S_j` with `P_j` the exact partial sum of block `j` (its weights in the
//! data type its selector picks when FMT.W is a BitMoD type, [`Format::with_selector`]; without
//! BLOCK.EN that is the selector-0 type) and `S_j` its scale's exact value ([`golden::exact_mul`], [`golden::exact_sum`]: a NaN scale makes its column NaN),
//! scaled and rounded once as a plain job's. An E8M0 column with a non-NaN code outside
//! `BASE … BASE + 15` is NaN (the dequantization unit's shift does not reach it). BS_ADDR must
//! lie on a beat when BLOCK.EN is set (the controller ignores it otherwise). A BitMoD type as
//! FMT.A is `BadJob` (BitMoD's types are weights only).
//!
//! An access outside its memory ends the job with `ReadDecErr` / `WriteDecErr`, as the
//! simulator's memory answers.
//!
//! A job runs to completion at START: STATUS.BUSY is never seen set; STATUS.DONE, STATUS.ERROR
//! and IRQ.DONE are set as the hardware sets them when a job ends. Counters: DMA_RD and DMA_WR
//! count the bytes the hardware's DMA moves for the same job (same stripes, same bursts); the
//! cycle counters (CYCLES, BUSY, STALL) stay 0: the model has no clock. Device time
//! ([`Backend::now`]) is a virtual clock that only [`Backend::wait`] advances.

use std::time::Duration;

use npe_hdl::output::SCALE_BITS;
use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::config::{NpeConfig, AXI_BEAT_BYTES, OUT_VALUE_BYTES, WORDS_PER_BEAT};
use npe_hdl::spec::regs::{self, Access, ErrorCode, ID_MAGIC, REGISTERS, REGMAP_VERSION};
use npe_hdl::spec::{lanes, Format, OutputFormat};
use num_bigint::BigInt;

use super::pack::{unpack_word, OPERAND_BYTES};
use super::{field, reg, scaled, Backend, BlockScaleJob, BusError, BusOp, DeviceError, Layout, BLOCK_WORDS_MAX};
use crate::golden::{self, Exact, GoldenError};

/// Options of the functional back end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionalOptions {
    /// Bus address of the first byte of device memory.
    pub mem_base: u32,
    /// Device memory in bytes.
    pub mem_bytes: u32,
}

impl Default for FunctionalOptions {
    fn default() -> Self {
        FunctionalOptions {
            mem_base: 0,
            mem_bytes: 16 << 20,
        }
    }
}

/// The job registers latched at START.
struct Job {
    m: u32,
    n: u32,
    k: u32,
    fmt: u32,
    a_addr: u32,
    w_addr: u32,
    c_addr: u32,
    scale_addr: u32,
    a_stride: u32,
    w_stride: u32,
    c_stride: u32,
    block: u32,
    bs_addr: u32,
}

/// BLOCK of a block-scaled job, as the controller's Check state accepts it.
#[derive(Clone, Copy)]
struct BlockRegs {
    kind: ScaleCode,
    /// Packed words per block.
    words: usize,
    /// BLOCK.BASE.
    base: u8,
}

/// The golden model behind the register map.
pub struct FunctionalBackend {
    cfg: NpeConfig,
    opts: FunctionalOptions,
    mem: Vec<u8>,
    /// Register values by index in [`REGISTERS`] (for RW / W1C registers).
    regs: Vec<u32>,
    done: bool,
    error: u32,
    dma_read: u64,
    dma_written: u64,
    /// `_HI` halves latched by reading `_LO`.
    latched_hi: Vec<u32>,
    now: Duration,
}

/// Bits of a register a write may change: every non-pulse field, or the whole word if it has
/// no fields (read-only registers: none).
fn writable_mask(r: &regs::Register) -> u32 {
    match r.access {
        Access::Ro => 0,
        _ if r.fields.is_empty() => u32::MAX,
        _ => r.fields.iter().filter(|f| !f.pulse).fold(0, |m, f| m | f.mask()),
    }
}

fn index_of(offset: u32) -> Option<usize> {
    REGISTERS.iter().position(|r| r.offset == offset)
}

impl FunctionalBackend {
    /// A device of configuration `cfg` after reset, with zeroed memory.
    pub fn new(cfg: &NpeConfig, opts: &FunctionalOptions) -> Result<Self, DeviceError> {
        if u64::from(opts.mem_base) + u64::from(opts.mem_bytes) > 1 << 32 {
            return Err(DeviceError::Backend(format!(
                "memory {:#x}+{:#x} does not fit 32-bit addresses",
                opts.mem_base, opts.mem_bytes
            )));
        }
        Ok(FunctionalBackend {
            cfg: *cfg,
            opts: opts.clone(),
            mem: vec![0; opts.mem_bytes as usize],
            regs: REGISTERS.iter().map(|r| r.reset).collect(),
            done: false,
            error: 0,
            dma_read: 0,
            dma_written: 0,
            latched_hi: vec![0; REGISTERS.len()],
            now: Duration::ZERO,
        })
    }

    fn value(&self, name: &str) -> Result<u32, DeviceError> {
        let r = reg(name)?;
        let i = index_of(r.offset).ok_or_else(|| DeviceError::NoSuchRegister(name.into()))?;
        Ok(self.regs[i])
    }

    /// The offset in `mem` of `addr..addr + len`, if all of it is memory.
    fn span(&self, addr: u64, len: u64) -> Option<usize> {
        let base = u64::from(self.opts.mem_base);
        let end = addr.checked_add(len)?;
        (addr >= base && end <= base + self.mem.len() as u64).then(|| (addr - base) as usize)
    }

    /// A DMA read of `beats` beats at `addr` (DECERR outside memory).
    fn dma_read(&mut self, addr: u64, beats: u64) -> Result<&[u8], ErrorCode> {
        let len = beats * u64::from(AXI_BEAT_BYTES);
        let at = self.span(addr, len).ok_or(ErrorCode::ReadDecErr)?;
        self.dma_read += len;
        Ok(&self.mem[at..at + len as usize])
    }

    /// The computed value of a read-only register, or `None` for a stored one.
    fn computed(&mut self, r: &regs::Register, i: usize) -> Option<u32> {
        let counter = |v: u64| (v as u32, (v >> 32) as u32);
        let pair = match r.name {
            "ID" => return Some(ID_MAGIC),
            "VERSION" => return Some(REGMAP_VERSION),
            "CONFIG_HASH" => return Some(self.cfg.hash()),
            "CAPABILITY" => return Some(self.cfg.capability()),
            "FORMATS" => return Some(self.cfg.formats()),
            "STATUS" => {
                let s = reg("STATUS").ok()?;
                let mut v = field(s, "ERROR").ok()?.set(0, self.error);
                if self.done {
                    v = field(s, "DONE").ok()?.set(v, 1);
                }
                return Some(v);
            }
            "DMA_RD_LO" | "DMA_RD_HI" => counter(self.dma_read),
            "DMA_WR_LO" | "DMA_WR_HI" => counter(self.dma_written),
            // No clock: the cycle counters stay 0.
            "CYCLES_LO" | "CYCLES_HI" | "BUSY_LO" | "BUSY_HI" | "STALL_LO" | "STALL_HI" => (0, 0),
            _ => return None,
        };
        // Reading _LO latches _HI, so a pair reads atomically.
        if r.name.ends_with("_LO") {
            if let Some(hi) = index_of(r.offset + 4) {
                self.latched_hi[hi] = pair.1;
            }
            Some(pair.0)
        } else {
            Some(self.latched_hi[i])
        }
    }

    /// Runs the job in the job registers to its end; the error code it ends with.
    fn run(&mut self) -> Result<(), ErrorCode> {
        let job = Job {
            m: self.value("M").map_err(|_| ErrorCode::BadJob)?,
            n: self.value("N").map_err(|_| ErrorCode::BadJob)?,
            k: self.value("K").map_err(|_| ErrorCode::BadJob)?,
            fmt: self.value("FMT").map_err(|_| ErrorCode::BadJob)?,
            a_addr: self.value("A_ADDR").map_err(|_| ErrorCode::BadJob)?,
            w_addr: self.value("W_ADDR").map_err(|_| ErrorCode::BadJob)?,
            c_addr: self.value("C_ADDR").map_err(|_| ErrorCode::BadJob)?,
            scale_addr: self.value("SCALE_ADDR").map_err(|_| ErrorCode::BadJob)?,
            a_stride: self.value("A_STRIDE").map_err(|_| ErrorCode::BadJob)?,
            w_stride: self.value("W_STRIDE").map_err(|_| ErrorCode::BadJob)?,
            c_stride: self.value("C_STRIDE").map_err(|_| ErrorCode::BadJob)?,
            block: self.value("BLOCK").map_err(|_| ErrorCode::BadJob)?,
            bs_addr: self.value("BS_ADDR").map_err(|_| ErrorCode::BadJob)?,
        };
        let fmt = reg("FMT").map_err(|_| ErrorCode::BadJob)?;
        let get = |name: &str| field(fmt, name).map(|f| f.get(job.fmt)).map_err(|_| ErrorCode::BadJob);
        let (a_id, w_id, out_id, scale_exp) = (get("A")?, get("W")?, get("OUT")?, get("SCALE_EXP")?);
        // The controller's Check state.
        let operand = |id: u32| {
            u8::try_from(id)
                .ok()
                .and_then(Format::from_id)
                .filter(|f| self.cfg.formats() & (1 << f.id()) != 0)
        };
        let out = OutputFormat::ALL.into_iter().find(|o| u32::from(o.spec().id) == out_id);
        // BitMoD's data types are weights only.
        let (Some(a_fmt), Some(w_fmt), Some(out)) = (operand(a_id).filter(|f| !f.is_bitmod()), operand(w_id), out)
        else {
            return Err(ErrorCode::BadJob);
        };
        if job.m == 0 || job.n == 0 || job.k == 0 {
            return Err(ErrorCode::BadJob);
        }
        let block = self.block_regs(job.block)?;
        let beat = AXI_BEAT_BYTES;
        if [
            job.a_addr,
            job.w_addr,
            job.c_addr,
            job.a_stride,
            job.w_stride,
            job.c_stride,
            job.scale_addr,
            // BS_ADDR only counts with BLOCK.EN.
            if block.is_some() { job.bs_addr } else { 0 },
        ]
        .iter()
        .any(|v| v % beat != 0)
        {
            return Err(ErrorCode::BadAddress);
        }
        let lanes = lanes(a_fmt, w_fmt) as usize;
        let kb = (job.k as usize).div_ceil(lanes);
        if kb > self.cfg.k_beats_max as usize || block.is_some_and(|b| !kb.is_multiple_of(b.words)) {
            return Err(ErrorCode::BadJob);
        }
        self.compute(&job, (a_fmt, w_fmt, out), scale_exp, kb, block)
    }

    /// BLOCK as the controller's Check state reads it: `None` for a plain job; `BadJob` when
    /// EN is set on a device without block scales, or with KIND 3, or with fewer packed words
    /// per block than the kind allows ([`BlockScaleJob::min_words`]).
    fn block_regs(&self, word: u32) -> Result<Option<BlockRegs>, ErrorCode> {
        use regs::block::{BASE, BEATS_LOG2, EN, KIND};
        if EN.get(word) == 0 {
            return Ok(None);
        }
        let words = 1usize << BEATS_LOG2.get(word);
        match ScaleCode::ALL.get(KIND.get(word) as usize) {
            Some(&kind)
                if self.cfg.block_scales && (BlockScaleJob::min_words(kind)..=BLOCK_WORDS_MAX).contains(&words) =>
            {
                Ok(Some(BlockRegs {
                    kind,
                    words,
                    base: BASE.get(word) as u8,
                }))
            }
            _ => Err(ErrorCode::BadJob),
        }
    }

    /// The controller's schedule: weight stripes, each read (W, then its scales, then every row
    /// of A), multiplied and written out.
    fn compute(
        &mut self,
        job: &Job,
        (a_fmt, w_fmt, out): (Format, Format, OutputFormat),
        scale_exp: u32,
        kb: usize,
        block: Option<BlockRegs>,
    ) -> Result<(), ErrorCode> {
        let cols = u64::from(self.cfg.cols);
        let lanes = lanes(a_fmt, w_fmt) as usize;
        let (m, n) = (u64::from(job.m), u64::from(job.n));
        let kbq = kb.div_ceil(WORDS_PER_BEAT as usize) as u64;
        // As many column tiles per stripe as half a W bank and the output buffer hold.
        let w_half_words = u64::from(self.cfg.w_bank_words) / (2 * u64::from(WORDS_PER_BEAT));
        let stripe_tiles = (w_half_words / kbq).min(u64::from(self.cfg.out_tiles)).max(1);
        let ntiles = n.div_ceil(cols);
        let values_per_beat = u64::from(AXI_BEAT_BYTES / OUT_VALUE_BYTES);
        let row_codes = |bytes: &[u8], f: Format| -> Vec<u32> {
            bytes
                .chunks_exact(OPERAND_BYTES)
                .take(kb)
                .flat_map(|w| unpack_word(a_fmt, w_fmt, f, u16::from_le_bytes([w[0], w[1]])))
                .collect()
        };
        let mut n0t = 0;
        while n0t < ntiles {
            let tiles = stripe_tiles.min(ntiles - n0t);
            let n0 = n0t * cols;
            let ncols = (n - n0).min(stripe_tiles * cols);
            let mut w_cols = Vec::with_capacity(ncols as usize);
            for c in 0..ncols {
                let addr = u64::from(job.w_addr) + (n0 + c) * u64::from(job.w_stride);
                w_cols.push(row_codes(self.dma_read(addr, kbq)?, w_fmt));
            }
            let mut col_scales = vec![0u32; ncols as usize];
            if job.scale_addr != 0 {
                let addr = u64::from(job.scale_addr) + n0t * u64::from(AXI_BEAT_BYTES);
                let bytes = self.dma_read(addr, tiles)?;
                // One beat per tile; column c of a tile is the operand word at byte 2c.
                let cols = cols as usize;
                for (c, s) in col_scales.iter_mut().enumerate() {
                    let at = c / cols * AXI_BEAT_BYTES as usize + c % cols * OPERAND_BYTES;
                    *s = u32::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
                }
            }
            // Block scales: each tile's run, the stripe's tiles in one read.
            let mut block_scales = Vec::new();
            if let Some(b) = block {
                let (nblk, cols) = (kb / b.words, cols as usize);
                let run = Layout::block_scales_run_len(nblk, cols).map_err(|_| ErrorCode::BadJob)?;
                let addr = u64::from(job.bs_addr) + n0t * run as u64;
                let bytes = self.dma_read(addr, tiles * (run / AXI_BEAT_BYTES as usize) as u64)?;
                for c in 0..ncols as usize {
                    let run = &bytes[c / cols * run..];
                    let (codes, sels): (Vec<u8>, Vec<u8>) = (0..nblk)
                        .map(|j| Layout::block_entry_at(run, Layout::block_scale_offset(j, c % cols, cols)))
                        .unzip();
                    block_scales.push((column_block_scales(b, &codes), sels));
                }
            }
            let mut a_rows = Vec::with_capacity(m as usize);
            for r in 0..m {
                let addr = u64::from(job.a_addr) + r * u64::from(job.a_stride);
                a_rows.push(row_codes(self.dma_read(addr, kbq)?, a_fmt));
            }
            let beats = ncols.div_ceil(values_per_beat);
            let row_len = (beats * u64::from(AXI_BEAT_BYTES)) as usize;
            for (r, a) in a_rows.iter().enumerate() {
                let mut row = vec![0u8; row_len];
                for (c, w) in w_cols.iter().enumerate() {
                    // Without block scales a BitMoD W format is its selector-0 type.
                    let exact = match block {
                        None => golden::exact_dot(a_fmt, a, w_fmt.with_selector(0), w),
                        Some(b) => {
                            let (scales, sels) = &block_scales[c];
                            block_dot((a_fmt, a), (w_fmt, w), b.words * lanes, scales, sels)
                        }
                    };
                    let code = exact
                        .map(|e| golden::round_to_output(out, &scaled(e, scale(scale_exp, col_scales[c]))))
                        .map_err(|_| ErrorCode::BadJob)?;
                    let at = c * OUT_VALUE_BYTES as usize;
                    row[at..at + OUT_VALUE_BYTES as usize].copy_from_slice(&code.to_le_bytes());
                }
                let addr = u64::from(job.c_addr) + r as u64 * u64::from(job.c_stride) + n0 * OUT_VALUE_BYTES as u64;
                let at = self.span(addr, row_len as u64).ok_or(ErrorCode::WriteDecErr)?;
                self.mem[at..at + row_len].copy_from_slice(&row);
                self.dma_written += row_len as u64;
            }
            n0t += tiles;
        }
        Ok(())
    }
}

/// The exact scales of one column's blocks: each code's value in its kind (u8: the integer;
/// E8M0 and E4M3 decoded by the golden model, NaN codes NaN), or NaN for every block when an
/// E8M0 code that is not NaN lies outside the window `BASE … BASE + 15` (the dequantization
/// unit's shift does not reach it, [`ScaleCode::shift`]).
fn column_block_scales(b: BlockRegs, codes: &[u8]) -> Vec<Exact> {
    let window_lo = b.kind.window_lo(b.base);
    let outside = b.kind == ScaleCode::E8m0
        && codes.iter().any(|&c| {
            let s = b.kind.serial(c);
            !s.nan && ScaleCode::shift(s, window_lo).is_none()
        });
    if outside {
        return vec![Exact::NaN; codes.len()];
    }
    let decoded = |f, c: u8| golden::decode(f, c.into()).map_or(Exact::NaN, golden::unified_to_exact);
    codes
        .iter()
        .map(|&c| match b.kind {
            ScaleCode::U8 => Exact::Finite {
                mant: BigInt::from(c),
                exp: 0,
            },
            ScaleCode::E8m0 => decoded(Format::E8M0, c),
            ScaleCode::E4m3 => decoded(Format::Fp8E4M3, c),
        })
        .collect()
}

/// `Σ_j P_j · S_j`: the exact partial sum of each block of `len` elements (its weights in the
/// data type its selector picks, [`Format::with_selector`]) times its scale, summed exactly
/// (NaN in any partial sum or scale gives NaN).
fn block_dot(
    (a_fmt, a): (Format, &[u32]),
    (w_fmt, w): (Format, &[u32]),
    len: usize,
    scales: &[Exact],
    sels: &[u8],
) -> Result<Exact, GoldenError> {
    let terms = a
        .chunks(len)
        .zip(w.chunks(len))
        .zip(scales.iter().zip(sels))
        .map(|((a, w), (s, &sel))| {
            Ok(golden::exact_mul(
                &golden::exact_dot(a_fmt, a, w_fmt.with_selector(sel), w)?,
                s,
            ))
        })
        .collect::<Result<Vec<_>, GoldenError>>()?;
    Ok(golden::exact_sum(&terms))
}

/// The hardware's scale: SCALE_EXP sign-extended plus the column's scale word, as a
/// [`SCALE_BITS`]-bit two's complement sum.
fn scale(scale_exp: u32, col: u32) -> i64 {
    let bits = SCALE_BITS as u32;
    let mask = (1u32 << bits) - 1;
    let job = (scale_exp as u8 as i8 as i32 as u32) & mask;
    let sum = (job + (col & mask)) & mask;
    // Sign-extend from `bits`.
    i64::from(((sum << (32 - bits)) as i32) >> (32 - bits))
}

/// The golden value of an exact dot product (kept for the tests).
#[cfg(test)]
fn dot_code(a_fmt: Format, a: &[u32], w_fmt: Format, w: &[u32], out: OutputFormat, s: i64) -> u32 {
    let e: golden::Exact = golden::exact_dot(a_fmt, a, w_fmt, w).unwrap();
    golden::round_to_output(out, &scaled(e, s))
}

impl Backend for FunctionalBackend {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        let decerr = DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegRead,
            addr: offset,
        });
        let i = index_of(offset).ok_or(decerr)?;
        let r = &REGISTERS[i];
        if let Some(v) = self.computed(r, i) {
            return Ok(v);
        }
        Ok(match r.access {
            Access::Wo => 0,
            _ => self.regs[i],
        })
    }

    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        let i = index_of(offset).ok_or(DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegWrite,
            addr: offset,
        }))?;
        let r = &REGISTERS[i];
        match r.access {
            Access::Ro => {
                return Err(DeviceError::Bus(BusError::SlvErr {
                    op: BusOp::RegWrite,
                    addr: offset,
                }))
            }
            Access::W1c => self.regs[i] &= !value,
            Access::Rw | Access::Wo => {
                let mask = writable_mask(r);
                self.regs[i] = (self.regs[i] & !mask) | (value & mask);
            }
        }
        if r.name == "CTRL" && field(r, "START")?.get(value) == 1 {
            self.done = false;
            self.error = 0;
            let code = match self.run() {
                Ok(()) => 0,
                Err(e) => e as u32,
            };
            self.done = true;
            self.error = code;
            let irq = reg("IRQ")?;
            let j = index_of(irq.offset).ok_or_else(|| DeviceError::NoSuchRegister("IRQ".into()))?;
            self.regs[j] = field(irq, "DONE")?.set(self.regs[j], 1);
        }
        Ok(())
    }

    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        let at = self.span(addr.into(), bytes.len() as u64).ok_or(DeviceError::Address {
            addr: addr.into(),
            len: bytes.len(),
            size: self.mem.len() as u64,
        })?;
        self.mem[at..at + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        let at = self.span(addr.into(), len as u64).ok_or(DeviceError::Address {
            addr: addr.into(),
            len,
            size: self.mem.len() as u64,
        })?;
        Ok(self.mem[at..at + len].to_vec())
    }

    fn mem_base(&self) -> u32 {
        self.opts.mem_base
    }

    fn mem_size(&self) -> u32 {
        self.opts.mem_bytes
    }

    fn now(&self) -> Duration {
        self.now
    }

    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        self.now = self.now.saturating_add(d);
        Ok(())
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn describe(&self) -> String {
        format!(
            "functional model ({}, golden model behind the register map)",
            self.cfg.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{Device, GemmJob};

    fn device() -> Device<FunctionalBackend> {
        let cfg = NpeConfig::TEST;
        Device::connect(
            FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap(),
            cfg,
        )
        .unwrap()
    }

    #[test]
    fn scale_wraps_in_nine_bits_as_the_hardware_adds() {
        assert_eq!(scale(0xFD, 0), -3);
        assert_eq!(scale(0x80, 0xFF80), -256);
        assert_eq!(scale(0x7F, 0x7F), 254);
        assert_eq!(scale(5, 0xFFFE), 3);
    }

    #[test]
    fn identifies_as_the_hardware_does() {
        let mut dev = device();
        let i = dev.info().unwrap();
        let cfg = NpeConfig::TEST;
        assert_eq!((i.rows, i.cols, i.formats), (cfg.rows, cfg.cols, cfg.formats()));
        assert_eq!(i.config_hash, cfg.hash());
        dev.write("SCRATCH", 0x1234_5678).unwrap();
        assert_eq!(dev.read("SCRATCH").unwrap(), 0x1234_5678);
        // CTRL keeps IRQ_EN, drops the pulses.
        dev.write("CTRL", 0b110).unwrap();
        assert_eq!(dev.read("CTRL").unwrap(), 0b100);
        assert!(matches!(
            dev.write("ID", 0),
            Err(DeviceError::Bus(BusError::SlvErr {
                op: BusOp::RegWrite,
                ..
            }))
        ));
        assert!(matches!(
            dev.backend().read_reg(0xFC),
            Err(DeviceError::Bus(BusError::DecErr {
                op: BusOp::RegRead,
                addr: 0xFC
            }))
        ));
        assert!(matches!(
            dev.backend().read_reg(2),
            Err(DeviceError::Bus(BusError::DecErr { .. }))
        ));
    }

    #[test]
    fn a_gemm_matches_the_golden_model_and_raises_done() {
        let mut dev = device();
        let job = GemmJob {
            a_fmt: Format::Int8,
            w_fmt: Format::Int4,
            out: OutputFormat::Int32,
            scale_exp: 1,
            col_scale_exp: vec![0, -1, 2],
            m: 2,
            n: 3,
            k: 5,
            a: vec![1, 2, 3, 4, 5, 0xFF, 0xFE, 0, 1, 2],
            w: (0..15).map(|i| i % 16).collect(),
        };
        let run = dev.gemm(&job).unwrap();
        assert_eq!(run.c, job.golden().unwrap());
        // Row 0, column 0 by hand: 2 · (1·0 + 2·3 + 3·6 + 4·9 + 5·12) with W codes as int4.
        let col0: Vec<u32> = (0..5).map(|k| job.w[k * 3]).collect();
        let want = dot_code(Format::Int8, &job.a[..5], Format::Int4, &col0, OutputFormat::Int32, 1);
        assert_eq!(run.c[0], want);
        assert_eq!(dev.field("STATUS", "DONE").unwrap(), 1);
        assert_eq!(dev.field("IRQ", "DONE").unwrap(), 1);
        assert_eq!(run.counters.busy, 0, "no clock: cycle counters stay 0");
        // Read: W (3 columns x 1 beat), scales (1 tile), A (2 rows x 1 beat); written: 2 rows.
        let beat = u64::from(AXI_BEAT_BYTES);
        assert_eq!(run.counters.dma_read, (3 + 1 + 2) * beat);
        assert_eq!(run.counters.dma_written, 2 * beat);
    }

    #[test]
    fn the_interrupt_ends_a_wait() {
        let mut dev = device();
        let job = GemmJob {
            a_fmt: Format::Int8,
            w_fmt: Format::Int8,
            out: OutputFormat::Int32,
            scale_exp: 0,
            col_scale_exp: Vec::new(),
            m: 1,
            n: 1,
            k: 1,
            a: vec![3],
            w: vec![5],
        };
        dev.gemm(&job).unwrap();
        dev.start_and_wait_irq().unwrap();
        // Without IRQ_EN the line stays low: the default polling wait times out.
        let t0 = dev.backend().now();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        assert!(!dev.backend().wait_irq(Duration::from_micros(10), deadline).unwrap());
        assert!(dev.backend().now() >= t0 + Duration::from_micros(10));
    }
}
