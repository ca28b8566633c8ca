//! The host runtime: one [`Device`] API over back ends (the Verilated accelerator now; Linux
//! MMIO and the UART bridge implement the same [`Backend`] later).
//!
//! A job goes: check shapes and formats on the host (typed [`DeviceError`]s, before the device
//! is touched) → pack the operands ([`pack::Layout`]) → copy them into device memory → program
//! the job registers → START → poll STATUS until DONE (with a cycle/time limit) → read C and
//! the performance counters.

pub mod memory;
pub mod pack;
pub mod sim;

use npe_hdl::spec::config::NpeConfig;
use npe_hdl::spec::regs::{self, ErrorCode, ID_MAGIC, REGMAP_VERSION};
use npe_hdl::spec::{Format, OutputFormat};

use crate::golden::{self, Exact};
pub use memory::{DeviceBuffer, DeviceMemory};
pub use pack::Layout;

/// What a back end must do: 32-bit register access, device-memory copies, and letting time pass.
pub trait Backend {
    /// Reads a 32-bit register at byte offset `offset`.
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError>;
    /// Writes a 32-bit register.
    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError>;
    /// Copies `bytes` into device memory at `addr`.
    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError>;
    /// Copies `len` bytes of device memory at `addr` out.
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError>;
    /// Bytes of device memory the accelerator may use, from address 0.
    fn mem_size(&self) -> u32;
    /// Lets the device run for about `cycles` clock cycles.
    fn advance(&mut self, cycles: u64) -> Result<(), DeviceError>;
    /// Short description for reports.
    fn describe(&self) -> String;
}

/// Everything the runtime refuses or the device reports.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// A tensor does not have the size its shape says.
    #[error("{what}: expected {expected} elements, got {got}")]
    Shape {
        /// Which tensor.
        what: &'static str,
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// A dimension is zero or too large for the registers.
    #[error("bad dimension: {0}")]
    Dimension(String),
    /// A format the array does not multiply, or an output format it does not produce.
    #[error("unsupported format: {0}")]
    Format(String),
    /// K is longer than the activation buffer holds.
    #[error("K = {k} needs {beats} beats per row; the device holds at most {max}")]
    TooLong {
        /// The job's K.
        k: usize,
        /// Packed beats it needs.
        beats: usize,
        /// Beats a buffer half holds.
        max: u32,
    },
    /// A code has bits above its format's width.
    #[error("{what}[{index}] = {code:#x} is not a {format} code")]
    Code {
        /// Which tensor.
        what: &'static str,
        /// Element index.
        index: usize,
        /// The code.
        code: u32,
        /// Its format.
        format: Format,
    },
    /// Device memory is too small for the job.
    #[error("device memory: the job needs {need} bytes, {have} are available")]
    OutOfMemory {
        /// Bytes needed.
        need: u64,
        /// Bytes the back end has.
        have: u64,
    },
    /// An access outside device memory.
    #[error("address range {addr:#x}+{len} is outside device memory ({size} bytes)")]
    Address {
        /// Start.
        addr: u64,
        /// Length.
        len: usize,
        /// Memory size.
        size: u64,
    },
    /// An access past the end of a device buffer.
    #[error("bytes {offset}..{offset}+{len} are outside a {buffer}-byte device buffer")]
    BufferOverrun {
        /// Offset into the buffer.
        offset: usize,
        /// Length of the access.
        len: usize,
        /// The buffer's length.
        buffer: usize,
    },
    /// The ID register does not say npe.
    #[error("no npe at this back end: ID = {0:#010x}")]
    NotAnNpe(u32),
    /// The hardware was built from another configuration than the runtime expects.
    #[error(
        "configuration mismatch: device regmap v{device_version} hash {device_hash:#010x}, \
         runtime regmap v{host_version} hash {host_hash:#010x} ({preset})"
    )]
    ConfigMismatch {
        /// VERSION read from the device.
        device_version: u32,
        /// CONFIG_HASH read from the device.
        device_hash: u32,
        /// The runtime's register-map version.
        host_version: u32,
        /// The runtime's hash of the preset.
        host_hash: u32,
        /// The preset the runtime expected.
        preset: &'static str,
    },
    /// A register name not in the map.
    #[error("no register named {0}")]
    NoSuchRegister(String),
    /// The register bus answered with an error.
    #[error("register bus: {0}")]
    Bus(String),
    /// The job ended with an error code in STATUS.
    #[error("the device ended the job with error {0:?}")]
    Job(ErrorCode),
    /// The job did not finish in time (the device is left as it is; SOFT_RESET recovers it).
    #[error("the job did not finish within {cycles} cycles")]
    Timeout {
        /// The limit.
        cycles: u64,
    },
    /// The simulated bus saw the hardware break the AXI protocol.
    #[error("AXI protocol violations: {0:?}")]
    Protocol(Vec<String>),
}

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

impl GemmJob {
    /// Checks everything the host can check before touching a device with `cfg`.
    pub fn validate(&self, cfg: &NpeConfig) -> Result<Layout, DeviceError> {
        for (what, d) in [("M", self.m), ("N", self.n), ("K", self.k)] {
            if d == 0 || d > u32::MAX as usize / 16 {
                return Err(DeviceError::Dimension(format!("{what} = {d} (must be 1..2^28)")));
            }
        }
        for f in [self.a_fmt, self.w_fmt] {
            if cfg.formats() & (1 << f.id()) == 0 {
                return Err(DeviceError::Format(format!("{f} is not a multiplier operand format")));
            }
        }
        for (what, v, rows, cols, f) in [
            ("A", &self.a, self.m, self.k, self.a_fmt),
            ("W", &self.w, self.k, self.n, self.w_fmt),
        ] {
            if v.len() != rows * cols {
                return Err(DeviceError::Shape {
                    what,
                    expected: rows * cols,
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
        if !self.col_scale_exp.is_empty() && self.col_scale_exp.len() != self.n {
            return Err(DeviceError::Shape {
                what: "column scales",
                expected: self.n,
                got: self.col_scale_exp.len(),
            });
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

    /// The golden model's C (row-major codes): exact dot products, scaled, rounded once.
    pub fn golden(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.m * self.n);
        let mut col = vec![0u32; self.k];
        let cols: Vec<Vec<u32>> = (0..self.n)
            .map(|n| {
                for (k, c) in col.iter_mut().enumerate() {
                    *c = self.w[k * self.n + n];
                }
                col.clone()
            })
            .collect();
        for m in 0..self.m {
            let row = &self.a[m * self.k..(m + 1) * self.k];
            for (n, c) in cols.iter().enumerate() {
                let e = golden::exact_dot(self.a_fmt, row, self.w_fmt, c).expect("validated codes");
                out.push(golden::round_to_output(self.out, &scaled(e, self.scale_of(n))));
            }
        }
        out
    }

    /// The power-of-two scale of column `n`.
    pub fn scale_of(&self, n: usize) -> i64 {
        i64::from(self.scale_exp) + self.col_scale_exp.get(n).map_or(0, |&s| i64::from(s))
    }

    /// Multiply-accumulates of the job.
    pub fn macs(&self) -> u64 {
        (self.m * self.n * self.k) as u64
    }
}

/// `x · 2^s`.
fn scaled(x: Exact, s: i64) -> Exact {
    match x {
        Exact::Finite { mant, exp } => Exact::Finite { mant, exp: exp + s },
        other => other,
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
    /// Useful MACs / (peak MACs per cycle × busy cycles).
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
    /// Cycles a job may take before [`DeviceError::Timeout`].
    pub timeout_cycles: u64,
}

impl<B: Backend> Device<B> {
    /// Connects: checks ID, register-map version and configuration hash against `cfg`.
    pub fn connect(mut backend: B, cfg: NpeConfig) -> Result<Self, DeviceError> {
        let id = backend.read_reg(reg("ID")?.offset)?;
        if id != ID_MAGIC {
            return Err(DeviceError::NotAnNpe(id));
        }
        let version = backend.read_reg(reg("VERSION")?.offset)?;
        let hash = backend.read_reg(reg("CONFIG_HASH")?.offset)?;
        if version != REGMAP_VERSION || hash != cfg.hash() {
            return Err(DeviceError::ConfigMismatch {
                device_version: version,
                device_hash: hash,
                host_version: REGMAP_VERSION,
                host_hash: cfg.hash(),
                preset: cfg.name,
            });
        }
        let mem = DeviceMemory::new(backend.mem_size());
        Ok(Device {
            backend,
            cfg,
            mem,
            timeout_cycles: 50_000_000,
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
    pub fn field(&mut self, name: &str, field: &str) -> Result<u32, DeviceError> {
        let f = reg(name)?
            .field(field)
            .ok_or_else(|| DeviceError::NoSuchRegister(format!("{name}.{field}")))?;
        Ok(f.get(self.read(name)?))
    }

    fn read64(&mut self, lo: &str, hi: &str) -> Result<u64, DeviceError> {
        let l = self.read(lo)?;
        let h = self.read(hi)?;
        Ok(u64::from(h) << 32 | u64::from(l))
    }

    /// The capabilities the hardware reports.
    pub fn info(&mut self) -> Result<DeviceInfo, DeviceError> {
        Ok(DeviceInfo {
            version: self.read("VERSION")?,
            config_hash: self.read("CONFIG_HASH")?,
            rows: self.field("CAPABILITY", "ROWS")?,
            cols: self.field("CAPABILITY", "COLS")?,
            acc_bits: self.field("CAPABILITY", "ACC_BITS")?,
            formats: self.read("FORMATS")?,
        })
    }

    fn counters(&mut self) -> Result<Counters, DeviceError> {
        Ok(Counters {
            busy: self.read64("BUSY_LO", "BUSY_HI")?,
            stall: self.read64("STALL_LO", "STALL_HI")?,
            dma_read: self.read64("DMA_RD_LO", "DMA_RD_HI")?,
            dma_written: self.read64("DMA_WR_LO", "DMA_WR_HI")?,
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

    /// Runs `f` with freshly allocated buffers of `lens` bytes, then frees them whatever `f`
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

    /// Runs a GEMM: validates, packs, copies into freshly allocated device buffers, programs,
    /// starts, waits, reads back and frees the buffers.
    pub fn gemm(&mut self, job: &GemmJob) -> Result<GemmRun, DeviceError> {
        let layout = job.validate(&self.cfg)?;
        let (a_bytes, w_bytes) = (
            layout.pack_rows(job.a_fmt, job.w_fmt, job.m, job.k, |r, k| job.a[r * job.k + k]),
            layout.pack_rows(job.a_fmt, job.w_fmt, job.n, job.k, |c, k| job.w[k * job.n + c]),
        );
        let s_bytes = layout.pack_col_scales(&job.col_scale_exp, self.cfg.cols as usize);
        let c_len = job.m * layout.c_row_bytes;
        let mut lens = vec![a_bytes.len(), w_bytes.len(), c_len];
        if !s_bytes.is_empty() {
            lens.push(s_bytes.len());
        }
        self.with_buffers(&lens, |dev, bufs| {
            let (a, w, c) = (&bufs[0], &bufs[1], &bufs[2]);
            dev.write_buffer(a, 0, &a_bytes)?;
            dev.write_buffer(w, 0, &w_bytes)?;
            let s_addr = match bufs.get(3) {
                Some(s) => {
                    dev.write_buffer(s, 0, &s_bytes)?;
                    s.addr()
                }
                None => 0,
            };
            dev.run_gemm(job, &layout, [a.addr(), w.addr(), s_addr], c)
        })
    }

    /// Programs and runs a GEMM whose operands are in device memory; reads C from `c`.
    fn run_gemm(
        &mut self,
        job: &GemmJob,
        layout: &Layout,
        [a_addr, w_addr, s_addr]: [u32; 3],
        c: &DeviceBuffer,
    ) -> Result<GemmRun, DeviceError> {
        let (c_addr, c_len) = (c.addr(), c.len());
        let busy0 = self.counters()?;
        let fmt = reg("FMT")?;
        let f = |n: &str| fmt.field(n).expect("FMT field");
        let mut fmt_word = f("A").set(0, job.a_fmt.id().into());
        fmt_word = f("W").set(fmt_word, job.w_fmt.id().into());
        fmt_word = f("OUT").set(fmt_word, job.out.spec().id.into());
        fmt_word = f("SCALE_EXP").set(fmt_word, job.scale_exp as u8 as u32);
        for (name, v) in [
            ("M", job.m as u32),
            ("N", job.n as u32),
            ("K", job.k as u32),
            ("FMT", fmt_word),
            ("A_ADDR", a_addr),
            ("W_ADDR", w_addr),
            ("C_ADDR", c_addr),
            ("SCALE_ADDR", s_addr),
            ("A_STRIDE", layout.row_bytes as u32),
            ("W_STRIDE", layout.row_bytes as u32),
            ("C_STRIDE", layout.c_row_bytes as u32),
        ] {
            self.write(name, v)?;
        }
        self.start_and_wait()?;
        let c_bytes = self.read_buffer(c, 0, c_len)?;
        let after = self.counters()?;
        Ok(GemmRun {
            c: layout.unpack_c(&c_bytes, job.m, job.n),
            counters: Counters {
                busy: after.busy - busy0.busy,
                stall: after.stall - busy0.stall,
                dma_read: after.dma_read - busy0.dma_read,
                dma_written: after.dma_written - busy0.dma_written,
            },
            peak_macs_per_cycle: self.cfg.peak_macs_per_cycle(layout.lanes as u32),
        })
    }

    /// START, then polls STATUS until DONE; the job's error code becomes [`DeviceError::Job`].
    pub fn start_and_wait(&mut self) -> Result<(), DeviceError> {
        let ctrl = reg("CTRL")?;
        let start = ctrl.field("START").expect("CTRL.START").set(0, 1);
        self.backend.write_reg(ctrl.offset, start)?;
        let status = reg("STATUS")?;
        let (done, error) = (
            status.field("DONE").expect("STATUS.DONE"),
            status.field("ERROR").expect("STATUS.ERROR"),
        );
        let poll = 256u64;
        let mut waited = 0u64;
        loop {
            let s = self.backend.read_reg(status.offset)?;
            if done.get(s) == 1 {
                return match error.get(s) {
                    0 => Ok(()),
                    e => Err(DeviceError::Job(ErrorCode::from_u32(e).unwrap_or(ErrorCode::BadJob))),
                };
            }
            if waited >= self.timeout_cycles {
                return Err(DeviceError::Timeout {
                    cycles: self.timeout_cycles,
                });
            }
            self.backend.advance(poll)?;
            waited += poll;
        }
    }
}

fn reg(name: &str) -> Result<&'static regs::Register, DeviceError> {
    regs::register(name).ok_or_else(|| DeviceError::NoSuchRegister(name.to_string()))
}
