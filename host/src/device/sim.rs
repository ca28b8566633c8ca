//! The Verilator back end: the accelerator top Verilated in process, its AXI4 master port
//! served by the Rust memory model and its AXI4-Lite port driven by the Rust bus-functional
//! master. Every clock cycle steps the memory model, so DMA runs while registers are polled,
//! exactly as on a board.

use std::path::Path;

use npe_hdl::spec::NpeConfig;
use npe_sim::axi_lite::AxiLiteMaster;
use npe_sim::axi_mem::{AxiMemConfig, AxiMemory, ErrorRange, Resp};
use npe_sim::{Sim, Top};

use super::{Backend, DeviceError};

/// How the simulated memory behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOptions {
    /// Device memory in bytes.
    pub mem_bytes: u32,
    /// Read latency (AR to first R beat) and write-response latency, in cycles.
    pub latency: u32,
    /// Probability that the memory withholds ready/valid on a channel in a given cycle.
    pub backpressure: f64,
    /// Seed of that randomness.
    pub seed: u64,
    /// Address ranges `[start, end)` answered with SLVERR.
    pub slverr: Vec<(u32, u32)>,
    /// Address ranges answered with DECERR.
    pub decerr: Vec<(u32, u32)>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            mem_bytes: 16 << 20,
            latency: 16,
            backpressure: 0.0,
            seed: 1,
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
    name: &'static str,
    opts: SimOptions,
}

/// The Verilated top of a preset.
fn top_of(cfg: &NpeConfig) -> Option<Top> {
    match cfg.name {
        "npe4x4" => Some(npe_sim::tops::npe4x4::TOP),
        "npe8x8" => Some(npe_sim::tops::npe8x8::TOP),
        _ => None,
    }
}

impl SimBackend {
    /// Builds the simulation of `cfg`'s accelerator and resets it.
    pub fn new(cfg: &NpeConfig, opts: &SimOptions) -> Result<Self, DeviceError> {
        let top = top_of(cfg).ok_or_else(|| DeviceError::Dimension(format!("no simulated top for {}", cfg.name)))?;
        if !(0.0..1.0).contains(&opts.backpressure) {
            return Err(DeviceError::Bus(format!(
                "backpressure {} is not in [0, 1)",
                opts.backpressure
            )));
        }
        let range = |&(start, end): &(u32, u32), resp| ErrorRange {
            start: start.into(),
            end: end.into(),
            resp,
        };
        let mem_cfg = AxiMemConfig {
            size: opts.mem_bytes as usize,
            read_latency: opts.latency,
            write_latency: opts.latency,
            seed: opts.seed,
            errors: (opts.slverr.iter().map(|r| range(r, Resp::SlvErr)))
                .chain(opts.decerr.iter().map(|r| range(r, Resp::DecErr)))
                .collect(),
            ..AxiMemConfig::default()
        }
        .with_backpressure(1.0 - opts.backpressure);
        let mut sim = Sim::new(top);
        let mem = AxiMemory::new(top, "m_axi_", mem_cfg).map_err(|e| DeviceError::Bus(e.to_string()))?;
        let lite = AxiLiteMaster::new(top, "s_axi_");
        let reset = top.port("reset").expect("reset port");
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
            name: cfg.name,
            opts: opts.clone(),
        })
    }

    /// Writes an FST waveform from now on.
    pub fn trace(&mut self, path: &Path) -> Result<(), DeviceError> {
        self.sim.trace(path).map_err(|e| DeviceError::Bus(e.to_string()))
    }

    /// Clock cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.sim.cycles()
    }

    /// AXI protocol violations the memory model saw.
    pub fn violations(&self) -> Vec<String> {
        self.mem.violations().iter().map(|v| v.to_string()).collect()
    }

    fn check_range(&self, addr: u32, len: usize) -> Result<(), DeviceError> {
        if u64::from(addr) + len as u64 > u64::from(self.opts.mem_bytes) {
            return Err(DeviceError::Address {
                addr: addr.into(),
                len,
                size: self.opts.mem_bytes.into(),
            });
        }
        Ok(())
    }
}

impl Backend for SimBackend {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        let mem = &mut self.mem;
        self.lite
            .read(&mut self.sim, offset, &mut |s: &mut Sim| mem.step(s))
            .map_err(|e| DeviceError::Bus(e.to_string()))
    }

    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        let mem = &mut self.mem;
        self.lite
            .write(&mut self.sim, offset, value, 0xF, &mut |s: &mut Sim| mem.step(s))
            .map_err(|e| DeviceError::Bus(e.to_string()))
    }

    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        self.check_range(addr, bytes.len())?;
        self.mem
            .write(addr.into(), bytes)
            .map_err(|e| DeviceError::Bus(e.to_string()))
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        self.check_range(addr, len)?;
        let mut buf = vec![0; len];
        self.mem
            .read(addr.into(), &mut buf)
            .map_err(|e| DeviceError::Bus(e.to_string()))?;
        Ok(buf)
    }

    fn mem_size(&self) -> u32 {
        self.opts.mem_bytes
    }

    fn advance(&mut self, cycles: u64) -> Result<(), DeviceError> {
        for _ in 0..cycles {
            self.mem.step(&mut self.sim);
        }
        if self.mem.violation_count() > 0 {
            return Err(DeviceError::Protocol(self.violations()));
        }
        Ok(())
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
