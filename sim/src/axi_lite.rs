//! A Rust AXI4-Lite master (bus-functional model) for a Verilated slave: single reads and
//! writes with a cycle limit, while the caller's per-cycle logic (for example the AXI4 memory
//! model on the same top) keeps running.

use npe_hdl::spec::AxiResp;

use crate::{Port, Sim, Top};

/// What a register access can end in besides OKAY.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AxiLiteError {
    /// SLVERR response.
    #[error("SLVERR at register offset {0:#x}")]
    SlvErr(u32),
    /// DECERR response.
    #[error("DECERR at register offset {0:#x}")]
    DecErr(u32),
    /// No response within the limit.
    #[error("no response at register offset {addr:#x} within {cycles} cycles")]
    Timeout {
        /// The offset.
        addr: u32,
        /// The limit.
        cycles: u64,
    },
}

struct Ports {
    awaddr: Port,
    awvalid: Port,
    awready: Port,
    wdata: Port,
    wstrb: Port,
    wvalid: Port,
    wready: Port,
    bresp: Port,
    bvalid: Port,
    bready: Port,
    araddr: Port,
    arvalid: Port,
    arready: Port,
    rdata: Port,
    rresp: Port,
    rvalid: Port,
    rready: Port,
}

/// The bus-functional master.
pub struct AxiLiteMaster {
    p: Ports,
    /// Cycles an access may take before [`AxiLiteError::Timeout`].
    pub timeout: u64,
}

/// The outcome of response `code` to an access at `addr` (a code wider than RRESP/BRESP
/// cannot come from a 2-bit port; it would count as DECERR).
fn resp(code: u64, addr: u32) -> Result<(), AxiLiteError> {
    match AxiResp::from_code(code) {
        Some(AxiResp::Okay | AxiResp::ExOkay) => Ok(()),
        Some(AxiResp::SlvErr) => Err(AxiLiteError::SlvErr(addr)),
        Some(AxiResp::DecErr) | None => Err(AxiLiteError::DecErr(addr)),
    }
}

impl AxiLiteMaster {
    /// A master for the AXI4-Lite slave ports of `top` named `<prefix>awaddr` etc.
    pub fn new(top: Top, prefix: &str) -> AxiLiteMaster {
        let port = |n: &str| {
            top.port(&format!("{prefix}{n}"))
                .unwrap_or_else(|| panic!("{} has no port {prefix}{n}", top.name))
        };
        AxiLiteMaster {
            p: Ports {
                awaddr: port("awaddr"),
                awvalid: port("awvalid"),
                awready: port("awready"),
                wdata: port("wdata"),
                wstrb: port("wstrb"),
                wvalid: port("wvalid"),
                wready: port("wready"),
                bresp: port("bresp"),
                bvalid: port("bvalid"),
                bready: port("bready"),
                araddr: port("araddr"),
                arvalid: port("arvalid"),
                arready: port("arready"),
                rdata: port("rdata"),
                rresp: port("rresp"),
                rvalid: port("rvalid"),
                rready: port("rready"),
            },
            timeout: 10_000,
        }
    }

    /// Reads the register at `addr`; `cycle` advances the clock by one (and runs whatever else
    /// must run every cycle).
    pub fn read(&mut self, sim: &mut Sim, addr: u32, cycle: &mut dyn FnMut(&mut Sim)) -> Result<u32, AxiLiteError> {
        let p = &self.p;
        sim.set(p.araddr, addr.into());
        sim.set(p.arvalid, 1);
        sim.set(p.rready, 1);
        let mut result = None;
        for _ in 0..self.timeout {
            sim.eval();
            let ar = sim.get(p.arvalid) == 1 && sim.get(p.arready) == 1;
            if sim.get(p.rvalid) == 1 {
                result = Some((sim.get(p.rdata) as u32, sim.get(p.rresp)));
            }
            cycle(sim);
            if ar {
                sim.set(p.arvalid, 0);
            }
            if let Some((data, code)) = result {
                sim.set(p.rready, 0);
                return resp(code, addr).map(|()| data);
            }
        }
        sim.set(p.arvalid, 0);
        sim.set(p.rready, 0);
        Err(AxiLiteError::Timeout {
            addr,
            cycles: self.timeout,
        })
    }

    /// Writes `data` under byte strobe `strb` to the register at `addr`.
    pub fn write(
        &mut self,
        sim: &mut Sim,
        addr: u32,
        data: u32,
        strb: u8,
        cycle: &mut dyn FnMut(&mut Sim),
    ) -> Result<(), AxiLiteError> {
        let p = &self.p;
        sim.set(p.awaddr, addr.into());
        sim.set(p.wdata, data.into());
        sim.set(p.wstrb, strb.into());
        sim.set(p.awvalid, 1);
        sim.set(p.wvalid, 1);
        sim.set(p.bready, 1);
        let mut result = None;
        for _ in 0..self.timeout {
            sim.eval();
            let aw = sim.get(p.awvalid) == 1 && sim.get(p.awready) == 1;
            let w = sim.get(p.wvalid) == 1 && sim.get(p.wready) == 1;
            if sim.get(p.bvalid) == 1 {
                result = Some(sim.get(p.bresp));
            }
            cycle(sim);
            if aw {
                sim.set(p.awvalid, 0);
            }
            if w {
                sim.set(p.wvalid, 0);
            }
            if let Some(code) = result {
                sim.set(p.bready, 0);
                return resp(code, addr);
            }
        }
        sim.set(p.awvalid, 0);
        sim.set(p.wvalid, 0);
        sim.set(p.bready, 0);
        Err(AxiLiteError::Timeout {
            addr,
            cycles: self.timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use npe_hdl::spec::{regs, NpeConfig};

    /// The npe4x4 top after reset, with its register file as the slave.
    fn device() -> (Sim, AxiLiteMaster) {
        let top = crate::tops::npe4x4::TOP;
        let mut sim = Sim::new(top);
        let reset = top.port("reset").expect("reset port");
        sim.set(reset, 1);
        for _ in 0..4 {
            sim.tick();
        }
        sim.set(reset, 0);
        sim.eval();
        (sim, AxiLiteMaster::new(top, "s_axi_"))
    }

    fn offset(name: &str) -> u32 {
        regs::register(name).expect("register").offset
    }

    #[test]
    fn writes_read_back_and_strobes_select_bytes() {
        let (mut sim, mut m) = device();
        let mut tick = |s: &mut Sim| s.tick();
        let scratch = offset("SCRATCH");
        m.write(&mut sim, scratch, 0x1234_5678, 0xF, &mut tick).unwrap();
        assert_eq!(m.read(&mut sim, scratch, &mut tick).unwrap(), 0x1234_5678);
        // Only bytes 1 and 3 change.
        m.write(&mut sim, scratch, 0xAABB_CCDD, 0b1010, &mut tick).unwrap();
        assert_eq!(m.read(&mut sim, scratch, &mut tick).unwrap(), 0xAA34_CC78);
        // Back-to-back accesses to different registers keep their own values.
        m.write(&mut sim, offset("M"), 77, 0xF, &mut tick).unwrap();
        assert_eq!(m.read(&mut sim, offset("M"), &mut tick).unwrap(), 77);
        assert_eq!(m.read(&mut sim, scratch, &mut tick).unwrap(), 0xAA34_CC78);
    }

    #[test]
    fn read_only_registers_show_the_configuration() {
        let (mut sim, mut m) = device();
        let mut tick = |s: &mut Sim| s.tick();
        let cfg = NpeConfig::TEST;
        assert_eq!(
            m.read(&mut sim, offset("CAPABILITY"), &mut tick).unwrap(),
            cfg.capability()
        );
        assert_eq!(m.read(&mut sim, offset("CONFIG_HASH"), &mut tick).unwrap(), cfg.hash());
        // The cycle counter advances with the BFM's cycles.
        let c0 = m.read(&mut sim, offset("CYCLES_LO"), &mut tick).unwrap();
        let c1 = m.read(&mut sim, offset("CYCLES_LO"), &mut tick).unwrap();
        assert!(c1 > c0, "{c0} then {c1}");
    }

    #[test]
    fn a_slave_that_never_answers_times_out() {
        let (mut sim, mut m) = device();
        m.timeout = 0;
        let mut tick = |s: &mut Sim| s.tick();
        let scratch = offset("SCRATCH");
        assert_eq!(
            m.read(&mut sim, scratch, &mut tick),
            Err(AxiLiteError::Timeout {
                addr: scratch,
                cycles: 0
            })
        );
        assert!(matches!(
            m.write(&mut sim, scratch, 1, 0xF, &mut tick),
            Err(AxiLiteError::Timeout { .. })
        ));
        // The master dropped its requests: a later access works.
        m.timeout = 100;
        m.write(&mut sim, scratch, 5, 0xF, &mut tick).unwrap();
        assert_eq!(m.read(&mut sim, scratch, &mut tick).unwrap(), 5);
    }

    #[test]
    fn responses_map_to_errors() {
        assert_eq!(resp(AxiResp::Okay.code(), 4), Ok(()));
        assert_eq!(resp(AxiResp::ExOkay.code(), 4), Ok(()));
        assert_eq!(resp(AxiResp::SlvErr.code(), 8), Err(AxiLiteError::SlvErr(8)));
        assert_eq!(resp(AxiResp::DecErr.code(), 12), Err(AxiLiteError::DecErr(12)));
    }
}
