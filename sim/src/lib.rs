//! npe-sim: npe's hardware, Verilated and driven from Rust.
//!
//! build.rs emits each hardware top's Verilog from npe-hdl, verilates it and generates a port
//! table per top (the modules in [`tops`]). A [`Sim`] owns one model instance: set inputs,
//! `eval`, `tick` the clock, read outputs, optionally write an FST trace.
//!
//! ```no_run
//! use npe_sim::{tops::format_decode as fd, Sim};
//! let mut sim = Sim::new(fd::TOP);
//! sim.set(fd::FMT, 4); // fp4
//! sim.set(fd::CODE, 0x7);
//! sim.eval();
//! assert_eq!(sim.get(fd::MANT), 3);
//! ```

pub mod axi_lite;
pub mod axi_mem;
mod ffi;

use std::path::Path;

use cxx::UniquePtr;

/// One port of a hardware top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    /// Position in the top's port list (the C++ model's port index).
    pub index: u32,
    /// Width in bits.
    pub width: u32,
    /// Input (driven from Rust) or output.
    pub input: bool,
    /// Verilog name.
    pub name: &'static str,
}

impl Port {
    /// Number of 32-bit words a value of this port takes.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32) as usize
    }

    fn mask(&self) -> u64 {
        if self.width >= 64 {
            u64::MAX
        } else {
            (1u64 << self.width) - 1
        }
    }
}

/// A hardware top that was verilated into this crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Top {
    /// Index in build.rs's list of tops.
    pub index: usize,
    /// Verilog module name.
    pub name: &'static str,
    /// Every port, in declaration order.
    pub ports: &'static [Port],
}

impl Top {
    /// Looks a port up by its Verilog name.
    pub fn port(&self, name: &str) -> Option<Port> {
        self.ports.iter().copied().find(|p| p.name == name)
    }
}

/// Generated port tables, one module per top.
pub mod tops {
    include!(concat!(env!("OUT_DIR"), "/tops.rs"));
}

/// Errors from the simulator.
#[derive(Debug)]
pub enum SimError {
    /// The trace file could not be opened.
    Trace(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Trace(m) => write!(f, "FST trace: {m}"),
        }
    }
}

impl std::error::Error for SimError {}

/// One Verilated instance of a hardware top.
pub struct Sim {
    model: UniquePtr<ffi::bridge::Model>,
    top: Top,
    cycles: u64,
}

impl Sim {
    /// Instantiates `top`. All inputs start at 0.
    pub fn new(top: Top) -> Sim {
        let model = ffi::bridge::new_model(top.name);
        // build.rs generates a constructor for every top it lists in `tops`, so this holds.
        assert!(!model.is_null(), "no Verilated model named {}", top.name);
        Sim { model, top, cycles: 0 }
    }

    /// The top this instance simulates.
    pub fn top(&self) -> Top {
        self.top
    }

    /// Drives an input port of up to 64 bits; bits above the port's width are dropped.
    pub fn set(&mut self, port: Port, value: u64) {
        debug_assert!(port.input && port.width <= 64, "{} is not a narrow input", port.name);
        self.model.pin_mut().set(port.index, value & port.mask());
    }

    /// Drives a wide (> 64-bit) input port from little-endian 32-bit words.
    pub fn set_wide(&mut self, port: Port, words: &[u32]) {
        debug_assert!(port.input && port.width > 64, "{} is not a wide input", port.name);
        self.model.pin_mut().set_wide(port.index, words);
    }

    /// Reads a port of up to 64 bits.
    pub fn get(&self, port: Port) -> u64 {
        debug_assert!(port.width <= 64, "{} is wide: use get_wide", port.name);
        self.model.get(port.index)
    }

    /// Reads a wide (> 64-bit) port as little-endian 32-bit words.
    pub fn get_wide(&self, port: Port) -> Vec<u32> {
        let mut w = vec![0; port.words()];
        self.model.get_wide(port.index, &mut w);
        w
    }

    /// Settles combinational logic after inputs changed.
    pub fn eval(&mut self) {
        self.model.pin_mut().eval();
    }

    /// One clock cycle (falling then rising edge of `clock`, if the top has one). The falling
    /// edge is not evaluated again when `eval` already settled the clock-low state with the
    /// present inputs; the result is the same.
    pub fn tick(&mut self) {
        self.model.pin_mut().tick();
        self.cycles += 1;
    }

    /// Clock cycles simulated so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Simulation time in half-cycles (the trace's time base).
    pub fn time(&self) -> u64 {
        self.model.time()
    }

    /// Starts writing an FST waveform to `path` (one sample per clock edge).
    pub fn trace(&mut self, path: &Path) -> Result<(), SimError> {
        let p = path
            .to_str()
            .ok_or_else(|| SimError::Trace(format!("path {} is not UTF-8", path.display())))?;
        self.model
            .pin_mut()
            .open_trace(p)
            .map_err(|e| SimError::Trace(e.what().to_string()))
    }

    /// Stops tracing and flushes the FST file.
    pub fn close_trace(&mut self) {
        self.model.pin_mut().close_trace();
    }
}
