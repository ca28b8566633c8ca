//! The host runtime: one [`Device`] API over back ends: the Verilated accelerator
//! ([`sim::SimBackend`], feature `sim`) and the golden model behind the same register map
//! ([`functional::FunctionalBackend`]); and boards: a UART bridge ([`uart::UartBackend`]) and a
//! Linux FPGA SoC's UIO register window and DMA buffer ([`mmio::MmioBackend`]). A board can be
//! simulated too: [`sim_board::SimBoard`] (feature `sim`) is the Verilated board core behind a
//! serial line, for the UART back end to talk to over a pty.
//!
//! A job goes: check shapes and formats on the host (typed [`DeviceError`]s, before the device
//! is touched) → pack the operands ([`pack::Layout`]) → copy them into device memory → program
//! the job registers → START → poll STATUS until DONE (with a time limit, [`Device::timeout`])
//! → read C and the performance counters.

#[cfg(test)]
mod block_tests;
pub mod error;
pub mod functional;
pub mod job;
pub mod memory;
pub mod mmio;
pub mod pack;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "sim")]
pub mod sim_board;
pub mod uart;
mod words;

use std::time::{Duration, Instant};

use npe_hdl::spec::config::NpeConfig;
use npe_hdl::spec::regs::{self, ErrorCode, ID_MAGIC, REGMAP_VERSION};

pub use error::{dma_write, BusError, BusOp, DeviceError, DmaFault, FaultSite, MmioError, UartError};
pub use functional::FunctionalBackend;
use job::scaled;
pub use job::{BlockPlan, BlockScaleJob, BufferSizes, GemmJob, BLOCK_WORDS_MAX, BLOCK_WORDS_MIN};
pub use memory::{DeviceBuffer, DeviceMemory};
pub use pack::Layout;

/// Largest memory latency the simulator's memory model takes (`sim::SimOptions`), in cycles:
/// 10 µs at 100 MHz, far beyond any DRAM or interconnect (tens to a few hundred cycles). Beyond
/// it a job only takes longer: each burst waits out the latency.
pub const SIM_MAX_LATENCY: u32 = 1000;

/// Largest probability that the simulated memory withholds ready/valid on a channel in a cycle:
/// at 0.9 a beat takes ten cycles on average; closer to 1 a job's run time grows without bound
/// (1 / (1 − p)) while testing nothing more.
pub const SIM_MAX_BACKPRESSURE: f64 = 0.9;

/// What a back end must do: 32-bit register access, device-memory copies, and letting device
/// time pass.
pub trait Backend {
    /// Reads a 32-bit register at byte offset `offset`.
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError>;
    /// Writes a 32-bit register.
    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError>;
    /// Copies `bytes` into device memory at `addr`.
    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError>;
    /// Copies `len` bytes of device memory at `addr` out.
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError>;
    /// Bus address of the first byte of device memory (a board's memory need not start at 0).
    fn mem_base(&self) -> u32 {
        0
    }
    /// Bytes of device memory the accelerator may use, from [`Backend::mem_base`].
    fn mem_size(&self) -> u32;
    /// Device time since the back end was created: simulated time for a simulator, wall-clock
    /// time for hardware.
    fn now(&self) -> Duration;
    /// Lets `d` of device time pass.
    fn wait(&mut self, d: Duration) -> Result<(), DeviceError>;
    /// How long to wait between two reads of STATUS.
    fn poll_interval(&self) -> Duration;
    /// Waits until the interrupt is raised (IRQ.DONE while CTRL.IRQ_EN is set), `timeout` of
    /// device time passes, or the wall clock reaches `deadline`; `true` if it was raised. The
    /// wall-clock bound is there because device time need not advance with wall time (a
    /// simulator slowed down by its options, a stuck back end whose clock never moves). The
    /// default polls the IRQ and CTRL registers every [`Backend::poll_interval`]; a back end
    /// with an interrupt line overrides it.
    fn wait_irq(&mut self, timeout: Duration, deadline: Instant) -> Result<bool, DeviceError> {
        let t0 = self.now();
        loop {
            if regs::irq::DONE.get(self.read_reg(regs::IRQ.offset)?) == 1
                && regs::ctrl::IRQ_EN.get(self.read_reg(regs::CTRL.offset)?) == 1
            {
                return Ok(true);
            }
            if self.now().saturating_sub(t0) >= timeout || Instant::now() >= deadline {
                return Ok(false);
            }
            let poll = self.poll_interval();
            self.wait(poll)?;
        }
    }
    /// Clock cycles simulated so far, for a back end that simulates a clock (`None` otherwise).
    fn simulated_cycles(&self) -> Option<u64> {
        None
    }
    /// Bus-protocol violations the back end saw the hardware make (a simulator checks them).
    fn protocol_violations(&self) -> Vec<String> {
        Vec::new()
    }
    /// The DMA bursts the memory answered with an error since the last call, oldest first, for
    /// a back end that sees its memory bus (a simulator); a board without that view returns
    /// none, and a failed job then names the buffers it used instead of the address.
    fn take_dma_faults(&mut self) -> Vec<DmaFault> {
        Vec::new()
    }
    /// Short description for reports.
    fn describe(&self) -> String;
    /// Finishes what the back end writes besides the device (the simulator's waveform: it is
    /// put in place here). Call it once, when done with the device; the default has nothing
    /// to finish.
    fn close(&mut self) -> Result<(), DeviceError> {
        Ok(())
    }
}

/// A back end chosen at run time (the CLI's `--backend`).
impl Backend for Box<dyn Backend> {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        (**self).read_reg(offset)
    }
    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        (**self).write_reg(offset, value)
    }
    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        (**self).write_mem(addr, bytes)
    }
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        (**self).read_mem(addr, len)
    }
    fn mem_base(&self) -> u32 {
        (**self).mem_base()
    }
    fn mem_size(&self) -> u32 {
        (**self).mem_size()
    }
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        (**self).wait(d)
    }
    fn poll_interval(&self) -> Duration {
        (**self).poll_interval()
    }
    fn wait_irq(&mut self, timeout: Duration, deadline: Instant) -> Result<bool, DeviceError> {
        (**self).wait_irq(timeout, deadline)
    }
    fn simulated_cycles(&self) -> Option<u64> {
        (**self).simulated_cycles()
    }
    fn protocol_violations(&self) -> Vec<String> {
        (**self).protocol_violations()
    }
    fn take_dma_faults(&mut self) -> Vec<DmaFault> {
        (**self).take_dma_faults()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn close(&mut self) -> Result<(), DeviceError> {
        (**self).close()
    }
}

/// Performance counters of one job, read from the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Cycles the job was busy (START to DONE).
    pub busy: u64,
    /// Busy cycles in which the array waited for operands or output space.
    pub stall: u64,
    /// Bytes the DMA read.
    pub dma_read: u64,
    /// Bytes the DMA wrote.
    pub dma_written: u64,
}

/// A finished GEMM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmRun {
    /// C, row-major output codes.
    pub c: Vec<u32>,
    /// The device's counters for the job.
    pub counters: Counters,
    /// Peak multiply-accumulates per cycle for the job's formats.
    pub peak_macs_per_cycle: u32,
}

impl GemmRun {
    /// Useful MACs / (peak MACs per cycle × busy cycles); not finite when the back end counts
    /// no cycles (the functional back end: `counters.busy` is 0).
    pub fn utilization(&self, macs: u64) -> f64 {
        macs as f64 / (self.peak_macs_per_cycle as f64 * self.counters.busy as f64)
    }
}

/// Capabilities read from the device's registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Register-map version.
    pub version: u32,
    /// Configuration hash.
    pub config_hash: u32,
    /// PE rows.
    pub rows: u32,
    /// PE columns.
    pub cols: u32,
    /// Accumulator bits.
    pub acc_bits: u32,
    /// Operand-format bit mask.
    pub formats: u32,
}

/// An npe on some back end.
pub struct Device<B: Backend> {
    backend: B,
    cfg: NpeConfig,
    mem: DeviceMemory,
    /// Device time a job may take before [`DeviceError::Timeout`].
    pub timeout: Duration,
    /// Wall-clock time a job may take before [`DeviceError::WallTimeout`], whatever device
    /// time has passed.
    pub wall_timeout: Duration,
}

/// The default [`Device::wall_timeout`]: far above the longest job the CLI can run on the
/// simulator (a 256³ job is well under a minute), far below "hangs for hours".
pub const DEFAULT_WALL_TIMEOUT: Duration = Duration::from_secs(600);

/// Caller-allocated device buffers of one job, for [`Device::run_gemm`] (sizes:
/// [`GemmJob::buffer_sizes`]).
#[derive(Clone, Copy, Debug)]
pub struct GemmBuffers<'a> {
    /// Receives packed A.
    pub a: &'a DeviceBuffer,
    /// Receives packed, transposed W.
    pub w: &'a DeviceBuffer,
    /// Receives C.
    pub c: &'a DeviceBuffer,
    /// Receives the packed column scales; needed when the job has them.
    pub scales: Option<&'a DeviceBuffer>,
}

impl<B: Backend> Device<B> {
    /// Connects: checks ID, register-map version and configuration hash against `cfg`.
    pub fn connect(mut backend: B, cfg: NpeConfig) -> Result<Self, DeviceError> {
        let id = backend.read_reg(regs::ID.offset)?;
        if id != ID_MAGIC {
            return Err(DeviceError::NotAnNpe(id));
        }
        let version = backend.read_reg(regs::VERSION.offset)?;
        let hash = backend.read_reg(regs::CONFIG_HASH.offset)?;
        if version != REGMAP_VERSION || hash != cfg.hash() {
            return Err(DeviceError::ConfigMismatch {
                device_version: version,
                device_hash: hash,
                host_version: REGMAP_VERSION,
                host_hash: cfg.hash(),
                preset: cfg.name,
            });
        }
        let mem = DeviceMemory::new(backend.mem_base(), backend.mem_size());
        Ok(Device {
            backend,
            cfg,
            mem,
            timeout: Duration::from_millis(500),
            wall_timeout: DEFAULT_WALL_TIMEOUT,
        })
    }

    /// The configuration this device was checked against.
    pub fn config(&self) -> &NpeConfig {
        &self.cfg
    }

    /// The back end.
    pub fn backend(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Reads a register by name.
    pub fn read(&mut self, name: &str) -> Result<u32, DeviceError> {
        let r = reg(name)?;
        self.backend.read_reg(r.offset)
    }

    /// Writes a register by name.
    pub fn write(&mut self, name: &str, value: u32) -> Result<(), DeviceError> {
        let r = reg(name)?;
        self.backend.write_reg(r.offset, value)
    }

    /// Reads a field of a register (`("STATUS", "ERROR")`).
    pub fn field(&mut self, name: &str, field_name: &str) -> Result<u32, DeviceError> {
        let f = field(reg(name)?, field_name)?;
        Ok(f.get(self.read(name)?))
    }

    fn read64(&mut self, lo: regs::Register, hi: regs::Register) -> Result<u64, DeviceError> {
        let l = self.backend.read_reg(lo.offset)?;
        let h = self.backend.read_reg(hi.offset)?;
        Ok(u64::from(h) << 32 | u64::from(l))
    }

    /// The capabilities the hardware reports.
    pub fn info(&mut self) -> Result<DeviceInfo, DeviceError> {
        Ok(DeviceInfo {
            version: self.backend.read_reg(regs::VERSION.offset)?,
            config_hash: self.backend.read_reg(regs::CONFIG_HASH.offset)?,
            rows: regs::capability::ROWS.get(self.backend.read_reg(regs::CAPABILITY.offset)?),
            cols: regs::capability::COLS.get(self.backend.read_reg(regs::CAPABILITY.offset)?),
            acc_bits: regs::capability::ACC_BITS.get(self.backend.read_reg(regs::CAPABILITY.offset)?),
            formats: self.backend.read_reg(regs::FORMATS.offset)?,
        })
    }

    /// The job counters as they are now (they count from reset).
    pub fn counters(&mut self) -> Result<Counters, DeviceError> {
        Ok(Counters {
            busy: self.read64(regs::BUSY_LO, regs::BUSY_HI)?,
            stall: self.read64(regs::STALL_LO, regs::STALL_HI)?,
            dma_read: self.read64(regs::DMA_RD_LO, regs::DMA_RD_HI)?,
            dma_written: self.read64(regs::DMA_WR_LO, regs::DMA_WR_HI)?,
        })
    }

    /// A page-aligned buffer of `len` bytes in device memory.
    pub fn alloc(&mut self, len: usize) -> Result<DeviceBuffer, DeviceError> {
        self.mem.alloc(len)
    }

    /// Returns a buffer's memory.
    pub fn free(&mut self, buf: DeviceBuffer) {
        self.mem.free(buf)
    }

    /// Bytes of device memory not allocated.
    pub fn free_bytes(&self) -> u64 {
        self.mem.free_bytes()
    }

    /// Copies `bytes` into `buf` at `offset`.
    pub fn write_buffer(&mut self, buf: &DeviceBuffer, offset: usize, bytes: &[u8]) -> Result<(), DeviceError> {
        let addr = buf.span(offset, bytes.len())?;
        self.backend.write_mem(addr, bytes)
    }

    /// Copies `len` bytes of `buf` from `offset` out.
    pub fn read_buffer(&mut self, buf: &DeviceBuffer, offset: usize, len: usize) -> Result<Vec<u8>, DeviceError> {
        let addr = buf.span(offset, len)?;
        self.backend.read_mem(addr, len)
    }

    /// Allocates buffers of the given sizes, runs `f` on them and frees them however `f`
    /// returns (and frees the ones already allocated if one allocation fails).
    fn with_buffers<R>(
        &mut self,
        lens: &[usize],
        f: impl FnOnce(&mut Self, &[DeviceBuffer]) -> Result<R, DeviceError>,
    ) -> Result<R, DeviceError> {
        let mut bufs = Vec::with_capacity(lens.len());
        let mut result = Ok(());
        for &len in lens {
            match self.mem.alloc(len) {
                Ok(b) => bufs.push(b),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let out = result.and_then(|()| f(self, &bufs));
        for b in bufs {
            self.mem.free(b);
        }
        out
    }

    /// Runs a GEMM: validates, allocates device buffers, runs it with [`Device::run_gemm`]
    /// and frees the buffers.
    pub fn gemm(&mut self, job: &GemmJob) -> Result<GemmRun, DeviceError> {
        let sizes = job.buffer_sizes(&self.cfg)?;
        // Refused as a whole, so the error says what the job needs, not what the buffer that
        // happened to fail needs.
        sizes.check_fits(self.free_bytes())?;
        self.with_buffers(&sizes.lens(), |dev, bufs| {
            dev.run_gemm(
                job,
                &GemmBuffers {
                    a: &bufs[0],
                    w: &bufs[1],
                    c: &bufs[2],
                    scales: bufs.get(3),
                },
            )
        })
    }

    /// Runs a block-scaled GEMM ([`BlockScaleJob`]): validates (a device without block scales is
    /// refused with [`DeviceError::NoBlockScales`] before it is touched), allocates device
    /// buffers, runs it with [`Device::run_block_gemm`] and frees the buffers.
    pub fn block_gemm(&mut self, job: &GemmJob, block: &BlockScaleJob) -> Result<GemmRun, DeviceError> {
        let plan = self.check_block(job, block)?;
        plan.sizes.check_fits(self.free_bytes())?;
        self.with_buffers(&plan.sizes.lens(), |dev, bufs| {
            let gemm = GemmBuffers {
                a: &bufs[0],
                w: &bufs[1],
                c: &bufs[2],
                scales: (plan.sizes.scales > 0).then(|| &bufs[3]),
            };
            // The block scales come last (BufferSizes::lens).
            dev.run_block_gemm(job, block, &gemm, &bufs[bufs.len() - 1])
        })
    }

    /// Whether the device's PEs scale weight blocks (CAPABILITY.BLOCK_SCALES).
    pub fn has_block_scales(&mut self) -> Result<bool, DeviceError> {
        let cap = self.backend.read_reg(regs::CAPABILITY.offset)?;
        Ok(regs::capability::BLOCK_SCALES.get(cap) == 1)
    }

    /// [`BlockScaleJob::plan`] on this device's configuration, then CAPABILITY.BLOCK_SCALES read
    /// from the device (a read only: nothing is written before both agree).
    fn check_block(&mut self, job: &GemmJob, block: &BlockScaleJob) -> Result<BlockPlan, DeviceError> {
        let plan = block.plan(job, &self.cfg)?;
        if !self.has_block_scales()? {
            return Err(DeviceError::NoBlockScales { preset: self.cfg.name });
        }
        Ok(plan)
    }

    /// What [`Device::run_gemm`] does before START: validates, packs A, W and the column
    /// scales into `bufs` and programs the job registers (a caller that starts the job itself,
    /// e.g. to reset it midway). Returns the layout and the scales' address (0: none).
    pub fn program_gemm(&mut self, job: &GemmJob, bufs: &GemmBuffers) -> Result<(Layout, u32), DeviceError> {
        let p = self.program(job, None, bufs)?;
        Ok((p.layout, p.s_addr))
    }

    /// Validates, packs A, W, the column scales and the block scales (when `block` is given,
    /// into its buffer; K padded to whole blocks) and programs every job register: a plain job
    /// writes BLOCK and BS_ADDR as 0, so no earlier job's block scaling is left enabled.
    fn program(
        &mut self,
        job: &GemmJob,
        block: Option<(&BlockScaleJob, &DeviceBuffer)>,
        bufs: &GemmBuffers,
    ) -> Result<Programmed, DeviceError> {
        let (layout, k, block_part) = match block {
            None if job.w_fmt.is_bitmod() => {
                return Err(DeviceError::Format(format!(
                    "{} weights need block scales and selectors (Device::block_gemm)",
                    job.w_fmt
                )))
            }
            None => (job.validate(&self.cfg)?, job.k, None),
            Some((b, buf)) => {
                let plan = self.check_block(job, b)?;
                let bytes = Layout::pack_block_scales(&b.entries(), job.n, plan.blocks, self.cfg.cols as usize)?;
                (plan.layout, plan.k, Some((plan.block_reg, buf, bytes)))
            }
        };
        // K past job.k is packed as zero codes (the block padding).
        let a_bytes = layout.pack_rows(job.a_fmt, job.w_fmt, job.m, job.k, |r, k| job.a[r * job.k + k])?;
        let w_bytes = layout.pack_rows(job.a_fmt, job.w_fmt, job.n, job.k, |c, k| job.w[k * job.n + c])?;
        let c_len = layout.c_len(job.m);
        // Check every span before anything reaches the device.
        bufs.a.span(0, a_bytes.len())?;
        bufs.w.span(0, w_bytes.len())?;
        bufs.c.span(0, c_len)?;
        if let Some((_, buf, bytes)) = &block_part {
            buf.span(0, bytes.len())?;
        }
        let s_addr = if job.col_scale_exp.is_empty() {
            0
        } else {
            let s_bytes = Layout::pack_col_scales(&job.col_scale_exp, self.cfg.cols as usize)?;
            let s = bufs.scales.ok_or(DeviceError::BufferOverrun {
                offset: 0,
                len: s_bytes.len(),
                buffer: 0,
            })?;
            self.write_buffer(s, 0, &s_bytes)?;
            s.addr()
        };
        self.write_buffer(bufs.a, 0, &a_bytes)?;
        self.write_buffer(bufs.w, 0, &w_bytes)?;
        let (block_reg, bs_addr) = match &block_part {
            Some((reg, buf, bytes)) => {
                self.write_buffer(buf, 0, bytes)?;
                (*reg, buf.addr())
            }
            None => (0, 0),
        };
        let mut fmt_word = regs::fmt::A.set(0, job.a_fmt.id().into());
        fmt_word = regs::fmt::W.set(fmt_word, job.w_fmt.id().into());
        fmt_word = regs::fmt::OUT.set(fmt_word, job.out.spec().id.into());
        fmt_word = regs::fmt::SCALE_EXP.set(fmt_word, job.scale_exp as u8 as u32);
        // Faults of earlier jobs are not this job's.
        self.backend.take_dma_faults();
        for (r, v) in [
            (regs::M, job.m as u32),
            (regs::N, job.n as u32),
            (regs::K, k as u32),
            (regs::FMT, fmt_word),
            (regs::A_ADDR, bufs.a.addr()),
            (regs::W_ADDR, bufs.w.addr()),
            (regs::C_ADDR, bufs.c.addr()),
            (regs::SCALE_ADDR, s_addr),
            (regs::A_STRIDE, layout.row_bytes as u32),
            (regs::W_STRIDE, layout.row_bytes as u32),
            (regs::C_STRIDE, layout.c_row_bytes as u32),
            (regs::BLOCK, block_reg),
            (regs::BS_ADDR, bs_addr),
        ] {
            self.backend.write_reg(r.offset, v)?;
        }
        Ok(Programmed {
            layout,
            s_addr,
            bs_addr,
        })
    }

    /// Runs a GEMM in buffers the caller allocated ([`Device::alloc`], sizes from
    /// [`GemmJob::buffer_sizes`]): [`Device::program_gemm`], START, wait, and C read back from
    /// `bufs.c`. A buffer too small is [`DeviceError::BufferOverrun`] before the device is
    /// started.
    pub fn run_gemm(&mut self, job: &GemmJob, bufs: &GemmBuffers) -> Result<GemmRun, DeviceError> {
        self.run(job, None, bufs)
    }

    /// Runs a block-scaled GEMM in buffers the caller allocated (sizes from
    /// [`BlockScaleJob::plan`]: `plan.sizes`, whose `block_scales` is `block_buf`'s): as
    /// [`Device::run_gemm`], with the block scales packed into `block_buf`. A device without
    /// block scales is [`DeviceError::NoBlockScales`] before anything is written to it.
    pub fn run_block_gemm(
        &mut self,
        job: &GemmJob,
        block: &BlockScaleJob,
        bufs: &GemmBuffers,
        block_buf: &DeviceBuffer,
    ) -> Result<GemmRun, DeviceError> {
        self.run(job, Some((block, block_buf)), bufs)
    }

    /// [`Device::program`], START, wait, and C read back.
    fn run(
        &mut self,
        job: &GemmJob,
        block: Option<(&BlockScaleJob, &DeviceBuffer)>,
        bufs: &GemmBuffers,
    ) -> Result<GemmRun, DeviceError> {
        let before = self.counters()?;
        let p = self.program(job, block, bufs)?;
        let c_len = p.layout.c_len(job.m);
        match self.start_and_wait() {
            Err(DeviceError::Job(code)) if dma_write(code).is_some() => {
                return Err(self.dma_fault(code, bufs, &p, block.map(|b| b.1)));
            }
            r => r?,
        }
        let c_bytes = self.read_buffer(bufs.c, 0, c_len)?;
        let after = self.counters()?;
        Ok(GemmRun {
            c: p.layout.unpack_c(&c_bytes, job.m, job.n)?,
            counters: Counters {
                busy: after.busy.wrapping_sub(before.busy),
                stall: after.stall.wrapping_sub(before.stall),
                dma_read: after.dma_read.wrapping_sub(before.dma_read),
                dma_written: after.dma_written.wrapping_sub(before.dma_written),
            },
            peak_macs_per_cycle: self.cfg.peak_macs_per_cycle(p.layout.lanes as u32),
        })
    }

    /// The [`DeviceError::DmaFault`] for a job that ended with DMA error `code`.
    fn dma_fault(
        &mut self,
        code: ErrorCode,
        bufs: &GemmBuffers,
        p: &Programmed,
        block_buf: Option<&DeviceBuffer>,
    ) -> DeviceError {
        let write = dma_write(code) == Some(true);
        let mut named = vec![("C", bufs.c)];
        if !write {
            named = vec![("A", bufs.a), ("W", bufs.w)];
            if let Some(s) = bufs.scales.filter(|_| p.s_addr != 0) {
                named.push(("scales", s));
            }
            if let Some(b) = block_buf.filter(|_| p.bs_addr != 0) {
                named.push(("block scales", b));
            }
        }
        let fault = self.backend.take_dma_faults().into_iter().find(|f| f.write == write);
        let site = match fault {
            Some(f) => FaultSite::Burst {
                addr: f.addr,
                bytes: f.bytes,
                buffer: named
                    .iter()
                    .find(|(_, b)| {
                        (u64::from(b.addr())..u64::from(b.addr()) + b.len() as u64).contains(&u64::from(f.addr))
                    })
                    .map_or("?", |(n, _)| n),
            },
            None => FaultSite::Buffers(named.iter().map(|(n, b)| (*n, b.addr())).collect()),
        };
        DeviceError::DmaFault { code, site }
    }

    /// START, then polls STATUS until DONE, waiting [`Backend::poll_interval`] between reads,
    /// for at most [`Device::timeout`] of device time and [`Device::wall_timeout`] of wall-clock
    /// time; the job's error code becomes [`DeviceError::Job`].
    pub fn start_and_wait(&mut self) -> Result<(), DeviceError> {
        self.start()?;
        let (t0, wall0) = (self.backend.now(), Instant::now());
        loop {
            if let Some(result) = self.job_status()? {
                return result;
            }
            let device = self.backend.now().saturating_sub(t0);
            if device >= self.timeout {
                return Err(DeviceError::Timeout { after: self.timeout });
            }
            if wall0.elapsed() >= self.wall_timeout {
                return Err(DeviceError::WallTimeout {
                    after: self.wall_timeout,
                    device,
                });
            }
            let poll = self.backend.poll_interval();
            self.backend.wait(poll)?;
        }
    }

    /// START with the interrupt enabled, then [`Backend::wait_irq`] (at most
    /// [`Device::timeout`] of device time and [`Device::wall_timeout`] of wall-clock time);
    /// clears IRQ.DONE before and after the job.
    pub fn start_and_wait_irq(&mut self) -> Result<(), DeviceError> {
        let (ctrl, irq) = (regs::CTRL, regs::IRQ);
        let irq_done = regs::irq::DONE.set(0, 1);
        let irq_en = regs::ctrl::IRQ_EN.set(0, 1);
        self.backend.write_reg(irq.offset, irq_done)?;
        self.backend.write_reg(ctrl.offset, irq_en)?;
        self.start()?;
        let (t0, wall0) = (self.backend.now(), Instant::now());
        if !self.backend.wait_irq(self.timeout, wall0 + self.wall_timeout)? {
            let device = self.backend.now().saturating_sub(t0);
            if device < self.timeout && wall0.elapsed() >= self.wall_timeout {
                return Err(DeviceError::WallTimeout {
                    after: self.wall_timeout,
                    device,
                });
            }
            return Err(DeviceError::Timeout { after: self.timeout });
        }
        self.backend.write_reg(irq.offset, irq_done)?;
        self.backend.write_reg(ctrl.offset, 0)?;
        match self.job_status()? {
            Some(result) => result,
            None => Err(DeviceError::Timeout { after: self.timeout }),
        }
    }

    /// Writes CTRL.START, keeping CTRL's other bits.
    fn start(&mut self) -> Result<(), DeviceError> {
        let keep = self.backend.read_reg(regs::CTRL.offset)?;
        self.backend
            .write_reg(regs::CTRL.offset, regs::ctrl::START.set(keep, 1))
    }

    /// `None` while the job runs; the job's result once STATUS.DONE is set.
    fn job_status(&mut self) -> Result<Option<Result<(), DeviceError>>, DeviceError> {
        let s = self.backend.read_reg(regs::STATUS.offset)?;
        if regs::status::DONE.get(s) == 0 {
            return Ok(None);
        }
        Ok(Some(match regs::status::ERROR.get(s) {
            0 => Ok(()),
            e => Err(ErrorCode::from_u32(e).map_or(DeviceError::UnknownJobError(e), DeviceError::Job)),
        }))
    }
}

/// What [`Device::program`] set up: the operands' layout and the scales' addresses (0: none).
struct Programmed {
    layout: Layout,
    s_addr: u32,
    bs_addr: u32,
}

/// A register of the map by name.
pub(crate) fn reg(name: &str) -> Result<&'static regs::Register, DeviceError> {
    regs::register(name).ok_or_else(|| DeviceError::NoSuchRegister(name.to_string()))
}

/// A field of a register by name.
pub(crate) fn field(r: &regs::Register, name: &str) -> Result<&'static regs::Field, DeviceError> {
    r.field(name)
        .ok_or_else(|| DeviceError::NoSuchRegister(format!("{}.{name}", r.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::functional::FunctionalOptions;
    use npe_hdl::spec::{Format, OutputFormat};

    /// A back end whose device time never advances and whose job never ends: a stuck board, or
    /// a simulator slowed to a crawl. Only the wall clock can end a wait on it.
    struct Stuck(FunctionalBackend);

    impl Backend for Stuck {
        fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
            match offset {
                o if o == regs::STATUS.offset || o == regs::IRQ.offset => Ok(0),
                o => self.0.read_reg(o),
            }
        }
        fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
            // START is swallowed: the job never runs.
            if offset == regs::CTRL.offset {
                return Ok(());
            }
            self.0.write_reg(offset, value)
        }
        fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
            self.0.write_mem(addr, bytes)
        }
        fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
            self.0.read_mem(addr, len)
        }
        fn mem_size(&self) -> u32 {
            self.0.mem_size()
        }
        fn now(&self) -> Duration {
            Duration::ZERO
        }
        fn wait(&mut self, _: Duration) -> Result<(), DeviceError> {
            Ok(())
        }
        fn poll_interval(&self) -> Duration {
            Duration::from_micros(1)
        }
        fn describe(&self) -> String {
            "stuck".into()
        }
    }

    fn stuck() -> Device<Stuck> {
        let cfg = NpeConfig::preset("npe4x4").unwrap();
        let f = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
        let mut dev = Device::connect(Stuck(f), cfg).unwrap();
        dev.wall_timeout = Duration::from_millis(50);
        dev
    }

    #[test]
    fn waits_are_bounded_in_wall_time_when_device_time_stands_still() {
        let mut dev = stuck();
        let t0 = Instant::now();
        let e = dev.start_and_wait().unwrap_err();
        assert_eq!(
            e,
            DeviceError::WallTimeout {
                after: Duration::from_millis(50),
                device: Duration::ZERO
            }
        );
        assert!(e.to_string().contains("50ms of wall-clock time"), "{e}");
        let e = dev.start_and_wait_irq().unwrap_err();
        assert!(matches!(e, DeviceError::WallTimeout { .. }), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_job_too_large_for_memory_is_described_as_a_whole() {
        let cfg = NpeConfig::preset("npe4x4").unwrap();
        let opts = FunctionalOptions {
            mem_bytes: 64 * 1024,
            ..FunctionalOptions::default()
        };
        let mut dev = Device::connect(FunctionalBackend::new(&cfg, &opts).unwrap(), cfg).unwrap();
        // A and W fit on their own; C does not fit beside them.
        let (m, n, k) = (2000, 4, 8);
        let job = GemmJob {
            a_fmt: Format::Int8,
            w_fmt: Format::Int8,
            out: OutputFormat::Int32,
            scale_exp: 0,
            col_scale_exp: Vec::new(),
            m,
            n,
            k,
            a: vec![0; m * k],
            w: vec![0; k * n],
        };
        let sizes = job.buffer_sizes(&cfg).unwrap();
        let e = dev.gemm(&job).unwrap_err();
        assert_eq!(
            e,
            DeviceError::OutOfMemory {
                what: sizes.describe(),
                need: sizes.device_bytes(),
                have: dev.free_bytes()
            }
        );
        let t = e.to_string();
        assert!(t.starts_with("device memory: the job (A "), "{t}");
        assert!(t.contains(&format!("needs {} bytes", sizes.device_bytes())), "{t}");
        assert_eq!(
            BufferSizes::of_shape(&cfg, (Format::Int8, Format::Int8), (m, n, k), false),
            Ok(sizes)
        );
        assert!(matches!(
            BufferSizes::of_shape(&cfg, (Format::Int8, Format::Int8), (0, n, k), false),
            Err(DeviceError::Dimension(_))
        ));
    }
}
