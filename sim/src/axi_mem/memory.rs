//! [`AxiMemory`]: an [`AxiSlave`] bound to the AXI master ports of a Verilated top.

use std::ops::{Deref, DerefMut};

use npe_hdl::spec::axi::RESP_BITS;

use super::{AddrBeat, AxiMemConfig, AxiMemError, AxiSlave, MasterSample};
use crate::{Port, Sim, Top};

/// One channel's ports.
#[derive(Clone, Copy, Debug)]
struct ReadPorts {
    araddr: Port,
    arlen: Port,
    arsize: Port,
    arburst: Port,
    arvalid: Port,
    arready: Port,
    rdata: Port,
    rresp: Port,
    rlast: Port,
    rvalid: Port,
    rready: Port,
}

#[derive(Clone, Copy, Debug)]
struct WritePorts {
    awaddr: Port,
    awlen: Port,
    awsize: Port,
    awburst: Port,
    awvalid: Port,
    awready: Port,
    wdata: Port,
    wstrb: Option<Port>,
    wlast: Port,
    wvalid: Port,
    wready: Port,
    bresp: Port,
    bvalid: Port,
    bready: Port,
}

/// An [`AxiSlave`] bound to the AXI master ports of a Verilated top. Derefs to the model for
/// memory access, counters and violations.
pub struct AxiMemory {
    slave: AxiSlave,
    rd: Option<ReadPorts>,
    wr: Option<WritePorts>,
}

impl Deref for AxiMemory {
    type Target = AxiSlave;
    fn deref(&self) -> &AxiSlave {
        &self.slave
    }
}

impl DerefMut for AxiMemory {
    fn deref_mut(&mut self) -> &mut AxiSlave {
        &mut self.slave
    }
}

impl AxiMemory {
    /// Binds a model to `top`'s ports `<prefix>araddr` … `<prefix>bready`. A master may have
    /// only the read or only the write channels (WSTRB is optional: all ones when missing);
    /// errors name a missing port or a width that does not fit.
    pub fn new(top: Top, prefix: &str, cfg: AxiMemConfig) -> Result<AxiMemory, AxiMemError> {
        let beat_bits = cfg.beat_bytes as u32 * 8;
        let slave = AxiSlave::new(cfg)?;
        let port = |name: &str, input: bool, width: Option<u32>| -> Result<Port, AxiMemError> {
            let full = format!("{prefix}{name}");
            let p = top
                .port(&full)
                .ok_or_else(|| AxiMemError(format!("top {} has no port {full}", top.name)))?;
            if p.input != input {
                let dir = if input { "an input" } else { "an output" };
                return Err(AxiMemError(format!("{full} must be {dir} of {}", top.name)));
            }
            match width {
                Some(w) if p.width != w => Err(AxiMemError(format!("{full} is {} bits, not {w}", p.width))),
                None if p.width > 64 => Err(AxiMemError(format!("{full} is wider than 64 bits"))),
                _ => Ok(p),
            }
        };
        let has = |name: &str| top.port(&format!("{prefix}{name}")).is_some();
        let rd = if has("araddr") {
            Some(ReadPorts {
                araddr: port("araddr", false, None)?,
                arlen: port("arlen", false, None)?,
                arsize: port("arsize", false, None)?,
                arburst: port("arburst", false, None)?,
                arvalid: port("arvalid", false, Some(1))?,
                arready: port("arready", true, Some(1))?,
                rdata: port("rdata", true, Some(beat_bits))?,
                rresp: port("rresp", true, Some(RESP_BITS as u32))?,
                rlast: port("rlast", true, Some(1))?,
                rvalid: port("rvalid", true, Some(1))?,
                rready: port("rready", false, Some(1))?,
            })
        } else {
            None
        };
        let wr = if has("awaddr") {
            Some(WritePorts {
                awaddr: port("awaddr", false, None)?,
                awlen: port("awlen", false, None)?,
                awsize: port("awsize", false, None)?,
                awburst: port("awburst", false, None)?,
                awvalid: port("awvalid", false, Some(1))?,
                awready: port("awready", true, Some(1))?,
                wdata: port("wdata", false, Some(beat_bits))?,
                wstrb: if has("wstrb") {
                    Some(port("wstrb", false, Some(beat_bits / 8))?)
                } else {
                    None
                },
                wlast: port("wlast", false, Some(1))?,
                wvalid: port("wvalid", false, Some(1))?,
                wready: port("wready", true, Some(1))?,
                bresp: port("bresp", true, Some(RESP_BITS as u32))?,
                bvalid: port("bvalid", true, Some(1))?,
                bready: port("bready", false, Some(1))?,
            })
        } else {
            None
        };
        if rd.is_none() && wr.is_none() {
            return Err(AxiMemError(format!(
                "top {} has neither {prefix}araddr nor {prefix}awaddr",
                top.name
            )));
        }
        Ok(AxiMemory { slave, rd, wr })
    }

    /// The model without its port binding.
    pub fn into_slave(self) -> AxiSlave {
        self.slave
    }

    /// One clock cycle: drive the slave inputs, `eval`, sample the master, `tick`.
    pub fn step(&mut self, sim: &mut Sim) {
        self.step_with(sim, |_| {});
    }

    /// [`Self::step`], calling `f` after `eval` and before `tick`: the place to sample other
    /// outputs of the top that depend combinationally on this cycle's inputs (handshakes of
    /// the test's own ports). Inputs of the top other than the AXI ones are set by the caller
    /// before the call.
    pub fn step_with(&mut self, sim: &mut Sim, f: impl FnOnce(&mut Sim)) {
        let d = self.slave.drive();
        if let Some(p) = self.rd {
            sim.set(p.arready, d.arready.into());
            sim.set(p.rvalid, d.rvalid.into());
            set_bytes(sim, p.rdata, &d.rdata);
            sim.set(p.rresp, d.rresp.code());
            sim.set(p.rlast, d.rlast.into());
        }
        if let Some(p) = self.wr {
            sim.set(p.awready, d.awready.into());
            sim.set(p.wready, d.wready.into());
            sim.set(p.bvalid, d.bvalid.into());
            sim.set(p.bresp, d.bresp.code());
        }
        sim.eval();
        let mut m = MasterSample::default();
        if let Some(p) = self.rd {
            m.arvalid = sim.get(p.arvalid) != 0;
            m.ar = AddrBeat {
                addr: sim.get(p.araddr),
                len: sim.get(p.arlen),
                size: sim.get(p.arsize),
                burst: sim.get(p.arburst),
            };
            m.rready = sim.get(p.rready) != 0;
        }
        if let Some(p) = self.wr {
            m.awvalid = sim.get(p.awvalid) != 0;
            m.aw = AddrBeat {
                addr: sim.get(p.awaddr),
                len: sim.get(p.awlen),
                size: sim.get(p.awsize),
                burst: sim.get(p.awburst),
            };
            m.wvalid = sim.get(p.wvalid) != 0;
            m.wdata = get_bytes(sim, p.wdata);
            m.wstrb = p.wstrb.map_or(u64::MAX, |s| sim.get(s));
            m.wlast = sim.get(p.wlast) != 0;
            m.bready = sim.get(p.bready) != 0;
        }
        self.slave.observe(&m);
        f(sim);
        sim.tick();
    }
}

/// Drives a data port from little-endian bytes.
fn set_bytes(sim: &mut Sim, port: Port, bytes: &[u8]) {
    if port.width > 64 {
        let words: Vec<u32> = bytes
            .chunks(4)
            .map(|c| c.iter().rev().fold(0u32, |w, &b| w << 8 | b as u32))
            .collect();
        sim.set_wide(port, &words);
    } else {
        sim.set(port, bytes.iter().rev().fold(0u64, |w, &b| w << 8 | b as u64));
    }
}

/// Reads a data port as little-endian bytes.
fn get_bytes(sim: &Sim, port: Port) -> Vec<u8> {
    let n = port.width.div_ceil(8) as usize;
    if port.width > 64 {
        sim.get_wide(port)
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .take(n)
            .collect()
    } else {
        sim.get(port).to_le_bytes().into_iter().take(n).collect()
    }
}
