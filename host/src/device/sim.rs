//! The Verilator back end: the accelerator top Verilated in process, its AXI4 master port
//! served by the Rust memory model and its AXI4-Lite port driven by the Rust bus-functional
//! master. Every clock cycle steps the memory model, so DMA runs while registers are polled,
//! exactly as on a board.

use std::path::Path;
use std::time::{Duration, Instant};

use npe_hdl::spec::{AxiResp, NpeConfig};
use npe_sim::axi_lite::{AxiLiteError, AxiLiteMaster};
use npe_sim::axi_mem::{AxiMemConfig, AxiMemory, AxiSlave, BusFault, ErrorRange};
use npe_sim::{Port, Sim};

use super::{Backend, BusError, BusOp, DeviceError, DmaFault, SIM_MAX_BACKPRESSURE, SIM_MAX_LATENCY};
use crate::outfile::Staged;

/// How the simulated memory behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    /// Bus address of the first byte of device memory.
    pub mem_base: u32,
    /// Device memory in bytes.
    pub mem_bytes: u32,
    /// The clock the simulated cycles stand for: converts device time ([`Backend::now`],
    /// timeouts) to cycles.
    pub clock_hz: u64,
    /// Read latency (AR to first R beat) and write-response latency, in cycles; at most
    /// [`SIM_MAX_LATENCY`].
    pub latency: u32,
    /// Probability that the memory withholds ready/valid on a channel in a given cycle; at most
    /// [`SIM_MAX_BACKPRESSURE`].
    pub backpressure: f64,
    /// Write-response latency when it differs from `latency` (at most [`SIM_MAX_LATENCY`]).
    pub write_latency: Option<u32>,
    /// Read and write bursts the memory accepts before answering (AR/AW ready low beyond);
    /// `None`: 8 each.
    pub max_bursts: Option<(usize, usize)>,
    /// Per-channel withholding probabilities (AR, R, AW, W, B), each at most
    /// [`SIM_MAX_BACKPRESSURE`]; when given, they replace `backpressure`.
    pub channel_backpressure: Option<[f64; 5]>,
    /// Seed of that randomness.
    pub seed: u64,
    /// Probability that the register bus master withholds RREADY/BREADY in a cycle while a
    /// response is due (so the AXI4-Lite checker sees responses held); below 1.
    pub lite_withhold: f64,
    /// Address ranges `[start, end)` answered with SLVERR.
    pub slverr: Vec<(u32, u32)>,
    /// Address ranges answered with DECERR.
    pub decerr: Vec<(u32, u32)>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            mem_base: 0,
            mem_bytes: 16 << 20,
            clock_hz: 100_000_000,
            latency: 16,
            backpressure: 0.0,
            channel_backpressure: None,
            write_latency: None,
            max_bursts: None,
            seed: 1,
            lite_withhold: 0.25,
            slverr: Vec::new(),
            decerr: Vec::new(),
        }
    }
}

/// The Verilated accelerator with its memory.
pub struct SimBackend {
    sim: Sim,
    mem: AxiMemory,
    lite: AxiLiteMaster,
    irq: Port,
    name: &'static str,
    opts: SimOptions,
    /// The waveform being written, put in place by [`Backend::close`] (or on drop).
    trace: Option<Staged>,
}

/// Register polls are this many cycles apart.
const POLL_CYCLES: u64 = 256;

fn lite_error(op: BusOp, e: AxiLiteError) -> DeviceError {
    DeviceError::Bus(match e {
        AxiLiteError::SlvErr(addr) => BusError::SlvErr { op, addr },
        AxiLiteError::DecErr(addr) => BusError::DecErr { op, addr },
        AxiLiteError::Timeout { addr, .. } => BusError::Timeout { op, addr },
    })
}

/// The memory model's error ranges for SLVERR and DECERR ranges `[start, end)`.
fn error_ranges(slverr: &[(u32, u32)], decerr: &[(u32, u32)]) -> Vec<ErrorRange> {
    let range = |&(start, end): &(u32, u32), resp| ErrorRange {
        start: start.into(),
        end: end.into(),
        resp,
    };
    (slverr.iter().map(|r| range(r, AxiResp::SlvErr)))
        .chain(decerr.iter().map(|r| range(r, AxiResp::DecErr)))
        .collect()
}

fn transport(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Bus(BusError::Transport(e.to_string()))
}

impl SimBackend {
    /// Builds the simulation of `cfg`'s accelerator and resets it.
    pub fn new(cfg: &NpeConfig, opts: &SimOptions) -> Result<Self, DeviceError> {
        // The accelerator top of a preset is named after it.
        let top = npe_sim::tops::by_name(cfg.name)
            .ok_or_else(|| DeviceError::Backend(format!("no simulated top for {}", cfg.name)))?;
        for p in std::iter::once(opts.backpressure).chain(opts.channel_backpressure.into_iter().flatten()) {
            if !(0.0..=SIM_MAX_BACKPRESSURE).contains(&p) {
                return Err(DeviceError::Backend(format!(
                    "backpressure {p} is not in [0, {SIM_MAX_BACKPRESSURE}]"
                )));
            }
        }
        for l in std::iter::once(opts.latency).chain(opts.write_latency) {
            if l > SIM_MAX_LATENCY {
                return Err(DeviceError::Backend(format!(
                    "memory latency {l} cycles is above the model's bound of {SIM_MAX_LATENCY}"
                )));
            }
        }
        if opts.clock_hz == 0 {
            return Err(DeviceError::Backend("clock_hz must be at least 1".into()));
        }
        let mut mem_cfg = AxiMemConfig {
            base: opts.mem_base.into(),
            size: opts.mem_bytes as usize,
            read_latency: opts.latency,
            write_latency: opts.write_latency.unwrap_or(opts.latency),
            seed: opts.seed,
            errors: error_ranges(&opts.slverr, &opts.decerr),
            ..AxiMemConfig::default()
        }
        .with_backpressure(1.0 - opts.backpressure);
        if let Some((reads, writes)) = opts.max_bursts {
            mem_cfg.max_reads = reads;
            mem_cfg.max_writes = writes;
        }
        if let Some([ar, r, aw, w, b]) = opts.channel_backpressure {
            mem_cfg.ar_ready = 1.0 - ar;
            mem_cfg.r_valid = 1.0 - r;
            mem_cfg.aw_ready = 1.0 - aw;
            mem_cfg.w_ready = 1.0 - w;
            mem_cfg.b_valid = 1.0 - b;
        }
        let mut sim = Sim::new(top);
        let mem = AxiMemory::new(top, "m_axi_", mem_cfg).map_err(|e| DeviceError::Backend(e.to_string()))?;
        if !(0.0..1.0).contains(&opts.lite_withhold) {
            return Err(DeviceError::Backend(format!(
                "lite_withhold {} is not in [0, 1)",
                opts.lite_withhold
            )));
        }
        let mut lite = AxiLiteMaster::new(top, "s_axi_");
        lite.withhold = opts.lite_withhold;
        lite.seed(opts.seed);
        let port = |name: &str| {
            top.port(name)
                .ok_or_else(|| DeviceError::Backend(format!("{} has no port {name}", top.name)))
        };
        let (reset, irq) = (port("reset")?, port("irq")?);
        sim.set(reset, 1);
        for _ in 0..4 {
            sim.tick();
        }
        sim.set(reset, 0);
        sim.eval();
        Ok(SimBackend {
            sim,
            mem,
            lite,
            irq,
            name: cfg.name,
            opts: opts.clone(),
            trace: None,
        })
    }

    /// Writes an FST waveform from now on, to `path` once [`Backend::close`] is called (or the
    /// back end is dropped).
    ///
    /// `path` must be missing or a regular file (a symlink to one is written through), in a
    /// directory that exists. Verilator's FST writer unlinks the path it opens and a `.hier`
    /// beside it, and deletes that `.hier` when it closes; so it writes under a temporary name
    /// in a private directory ([`Staged`]), and the finished file is renamed onto `path`:
    /// nothing else at or beside `path` is touched.
    pub fn trace(&mut self, path: &Path) -> Result<(), DeviceError> {
        let staged = Staged::new("trace file", path).map_err(|e| DeviceError::Backend(e.to_string()))?;
        self.finish_trace()?;
        self.sim
            .trace(staged.path())
            .map_err(|e| DeviceError::Backend(format!("{}: {e}", path.display())))?;
        self.trace = Some(staged);
        Ok(())
    }

    /// Closes the waveform, if one is written, and renames it into place.
    fn finish_trace(&mut self) -> Result<(), DeviceError> {
        match self.trace.take() {
            Some(staged) => {
                self.sim.close_trace();
                staged.commit().map_err(|e| DeviceError::Backend(e.to_string()))
            }
            None => Ok(()),
        }
    }

    /// Clock cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.sim.cycles()
    }

    /// AXI protocol violations the memory model (AXI4, the DMAs) and the register bus master
    /// (AXI4-Lite, the register file) saw.
    pub fn violations(&self) -> Vec<String> {
        (self.mem.violations().iter().map(|v| v.to_string()))
            .chain(self.lite.violations().iter().cloned())
            .collect()
    }

    /// The memory model (its counters, what is in flight, the violations it saw).
    pub fn memory(&self) -> &AxiSlave {
        &self.mem
    }

    /// The error bursts the memory accepted since the last call, and the cycle their first
    /// completed ([`AxiSlave::take_faults`]).
    pub fn take_bus_faults(&mut self) -> (Vec<BusFault>, Option<u64>) {
        self.mem.take_faults()
    }

    /// Replaces the address ranges answered with SLVERR and DECERR (for bursts accepted from
    /// now on).
    pub fn set_error_ranges(&mut self, slverr: &[(u32, u32)], decerr: &[(u32, u32)]) {
        self.mem.set_errors(error_ranges(slverr, decerr));
        self.opts.slverr = slverr.to_vec();
        self.opts.decerr = decerr.to_vec();
    }

    /// Lets the device run for `cycles` clock cycles (the memory model serving the DMA).
    pub fn advance(&mut self, cycles: u64) -> Result<(), DeviceError> {
        for _ in 0..cycles {
            self.mem.step(&mut self.sim);
        }
        self.check_protocol()
    }

    fn check_protocol(&self) -> Result<(), DeviceError> {
        if self.mem.violation_count() + self.lite.violation_count() > 0 {
            return Err(DeviceError::Protocol(self.violations()));
        }
        Ok(())
    }

    /// Cycles of `d` at the nominal clock, rounded up.
    fn cycles_of(&self, d: Duration) -> u64 {
        let c = d.as_nanos() * u128::from(self.opts.clock_hz);
        u64::try_from(c.div_ceil(1_000_000_000)).unwrap_or(u64::MAX)
    }

    fn check_range(&self, addr: u32, len: usize) -> Result<(), DeviceError> {
        let (base, size) = (u64::from(self.opts.mem_base), u64::from(self.opts.mem_bytes));
        if u64::from(addr) < base || u64::from(addr) + len as u64 > base + size {
            return Err(DeviceError::Address {
                addr: addr.into(),
                len,
                size,
            });
        }
        Ok(())
    }
}

impl Backend for SimBackend {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        let mem = &mut self.mem;
        let v = self
            .lite
            .read(&mut self.sim, offset, &mut |s: &mut Sim| mem.step(s))
            .map_err(|e| lite_error(BusOp::RegRead, e));
        self.check_protocol()?;
        v
    }

    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        let mem = &mut self.mem;
        let r = self
            .lite
            .write(&mut self.sim, offset, value, 0xF, &mut |s: &mut Sim| mem.step(s))
            .map_err(|e| lite_error(BusOp::RegWrite, e));
        self.check_protocol()?;
        r
    }

    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        self.check_range(addr, bytes.len())?;
        self.mem.write(addr.into(), bytes).map_err(transport)
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        self.check_range(addr, len)?;
        let mut buf = vec![0; len];
        self.mem.read(addr.into(), &mut buf).map_err(transport)?;
        Ok(buf)
    }

    fn mem_base(&self) -> u32 {
        self.opts.mem_base
    }

    fn mem_size(&self) -> u32 {
        self.opts.mem_bytes
    }

    fn now(&self) -> Duration {
        let ns = u128::from(self.sim.cycles()) * 1_000_000_000 / u128::from(self.opts.clock_hz);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        let cycles = self.cycles_of(d);
        self.advance(cycles)
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_nanos(POLL_CYCLES * 1_000_000_000 / self.opts.clock_hz).max(Duration::from_nanos(1))
    }

    /// Watches the `irq` output cycle by cycle: no register traffic while waiting.
    fn wait_irq(&mut self, timeout: Duration, deadline: Instant) -> Result<bool, DeviceError> {
        let limit = self.cycles_of(timeout);
        for i in 0..limit {
            if self.sim.get(self.irq) != 0 {
                return self.check_protocol().map(|()| true);
            }
            // Reading the clock every cycle would cost more than the cycle.
            if i % 4096 == 0 && Instant::now() >= deadline {
                break;
            }
            self.mem.step(&mut self.sim);
        }
        self.check_protocol()?;
        Ok(self.sim.get(self.irq) != 0)
    }

    fn simulated_cycles(&self) -> Option<u64> {
        Some(self.sim.cycles())
    }

    fn protocol_violations(&self) -> Vec<String> {
        self.violations()
    }

    fn take_dma_faults(&mut self) -> Vec<DmaFault> {
        let (faults, _) = self.mem.take_faults();
        faults
            .into_iter()
            .map(|f| DmaFault {
                write: f.write,
                addr: f.addr as u32,
                bytes: (f.beats * self.mem.config().beat_bytes as u64) as u32,
                resp: f.resp,
            })
            .collect()
    }

    fn close(&mut self) -> Result<(), DeviceError> {
        self.finish_trace()
    }

    fn describe(&self) -> String {
        format!(
            "Verilator ({}, memory latency {} cycles, backpressure {:.0}%)",
            self.name,
            self.opts.latency,
            100.0 * self.opts.backpressure
        )
    }
}

/// A waveform the caller did not [`Backend::close`] is still put in place: it is most wanted
/// after a run that failed.
impl Drop for SimBackend {
    fn drop(&mut self) {
        let _ = self.finish_trace();
    }
}
