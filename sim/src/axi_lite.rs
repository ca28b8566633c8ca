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

/// The checks of one response channel (R or B) over one access, a cycle at a time.
#[derive(Clone, Debug, Default)]
struct ResponseCheck {
    /// The payload presented and not taken in the previous cycle.
    held: Option<(u64, u64)>,
}

impl ResponseCheck {
    /// One cycle of channel `ch` ("R" or "B"): `requested` says the request's handshakes all
    /// completed in earlier cycles; `valid` and `payload` are the slave's, `ready` the master's.
    /// Returns what the slave did wrong.
    fn cycle(&mut self, ch: &str, requested: bool, valid: bool, ready: bool, payload: (u64, u64)) -> Vec<String> {
        let mut v = Vec::new();
        if valid && !requested {
            v.push(format!("{ch}VALID before the request's handshake"));
        }
        if let Some(h) = self.held {
            if !valid {
                v.push(format!("{ch}VALID dropped before {ch}READY"));
            } else if h != payload {
                v.push(format!("{ch} payload changed before {ch}READY: {h:x?} -> {payload:x?}"));
            }
        }
        self.held = (valid && !ready).then_some(payload);
        v
    }
}

/// Before an access begins: a response already presented answers nothing (a response without
/// a request, or a second response to the previous access).
fn pending_responses(rvalid: bool, bvalid: bool) -> Vec<String> {
    let mut v = Vec::new();
    if rvalid {
        v.push("RVALID with no read outstanding".to_string());
    }
    if bvalid {
        v.push("BVALID with no write outstanding".to_string());
    }
    v
}

/// The bus-functional master, with a checker of the slave's side of the protocol: no R or B
/// without an accepted request (the handshake must complete before the response is raised), no
/// response left pending between accesses (one response per request), RVALID/BVALID held with
/// their payload until the master's ready. To exercise the last rule the master withholds
/// RREADY/BREADY at random ([`AxiLiteMaster::withhold`]).
pub struct AxiLiteMaster {
    p: Ports,
    /// Cycles an access may take before [`AxiLiteError::Timeout`].
    pub timeout: u64,
    /// Probability that the master withholds RREADY/BREADY in a cycle while a response is due
    /// (below 1; 0: always ready).
    pub withhold: f64,
    rng: u64,
    cycle: u64,
    violations: Vec<String>,
    violation_count: u64,
}

/// Violations kept in full; beyond this only counted.
const MAX_KEPT_VIOLATIONS: usize = 1000;

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
            withhold: 0.0,
            rng: 0x853c_49e6_748f_ea9b,
            cycle: 0,
            violations: Vec::new(),
            violation_count: 0,
        }
    }

    /// Seeds the RREADY/BREADY withholding.
    pub fn seed(&mut self, seed: u64) {
        self.rng = seed ^ 0x853c_49e6_748f_ea9b;
    }

    /// Protocol violations the slave made (the first 1000; [`Self::violation_count`] counts
    /// all), with the master's cycle count.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// Number of protocol violations seen.
    pub fn violation_count(&self) -> u64 {
        self.violation_count
    }

    fn violation(&mut self, what: String) {
        self.violation_count += 1;
        if self.violations.len() < MAX_KEPT_VIOLATIONS {
            self.violations.push(format!("AXI4-Lite cycle {}: {what}", self.cycle));
        }
    }

    /// Ready this cycle (not withheld).
    fn ready(&mut self) -> bool {
        if self.withhold <= 0.0 {
            return true;
        }
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64) >= self.withhold * (1u64 << 53) as f64
    }

    /// Before an access: no response may be pending (the slave answered nothing unasked).
    fn idle_check(&mut self, sim: &mut Sim, addr: u32) {
        sim.eval();
        for v in pending_responses(sim.get(self.p.rvalid) == 1, sim.get(self.p.bvalid) == 1) {
            self.violation(format!("{v} (before the access at {addr:#x})"));
        }
    }

    /// Reads the register at `addr`; `cycle` advances the clock by one (and runs whatever else
    /// must run every cycle).
    pub fn read(&mut self, sim: &mut Sim, addr: u32, cycle: &mut dyn FnMut(&mut Sim)) -> Result<u32, AxiLiteError> {
        self.idle_check(sim, addr);
        let p = &self.p;
        let (arvalid, arready, rready, rvalid_p, rdata_p, rresp_p) =
            (p.arvalid, p.arready, p.rready, p.rvalid, p.rdata, p.rresp);
        sim.set(p.araddr, addr.into());
        sim.set(arvalid, 1);
        let mut accepted = false;
        let mut check = ResponseCheck::default();
        for _ in 0..self.timeout {
            let ready = self.ready();
            sim.set(rready, ready.into());
            sim.eval();
            let ar = sim.get(arvalid) == 1 && sim.get(arready) == 1;
            let rvalid = sim.get(rvalid_p) == 1;
            let got = (sim.get(rdata_p), sim.get(rresp_p));
            for v in check.cycle("R", accepted, rvalid, ready, got) {
                self.violation(format!("{v} (read at {addr:#x})"));
            }
            cycle(sim);
            self.cycle += 1;
            if ar {
                accepted = true;
                sim.set(arvalid, 0);
            }
            if rvalid && ready {
                sim.set(rready, 0);
                return resp(got.1, addr).map(|()| got.0 as u32);
            }
        }
        sim.set(arvalid, 0);
        sim.set(rready, 0);
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
        self.idle_check(sim, addr);
        let p = &self.p;
        let (awvalid, awready, wvalid, wready, bvalid_p, bresp_p, bready) =
            (p.awvalid, p.awready, p.wvalid, p.wready, p.bvalid, p.bresp, p.bready);
        sim.set(p.awaddr, addr.into());
        sim.set(p.wdata, data.into());
        sim.set(p.wstrb, strb.into());
        sim.set(awvalid, 1);
        sim.set(wvalid, 1);
        let (mut aw_done, mut w_done) = (false, false);
        let mut check = ResponseCheck::default();
        for _ in 0..self.timeout {
            let ready = self.ready();
            sim.set(bready, ready.into());
            sim.eval();
            let aw = sim.get(awvalid) == 1 && sim.get(awready) == 1;
            let w = sim.get(wvalid) == 1 && sim.get(wready) == 1;
            let bvalid = sim.get(bvalid_p) == 1;
            let code = sim.get(bresp_p);
            for v in check.cycle("B", aw_done && w_done, bvalid, ready, (0, code)) {
                self.violation(format!("{v} (write at {addr:#x})"));
            }
            cycle(sim);
            self.cycle += 1;
            if aw {
                aw_done = true;
                sim.set(awvalid, 0);
            }
            if w {
                w_done = true;
                sim.set(wvalid, 0);
            }
            if bvalid && ready {
                sim.set(bready, 0);
                return resp(code, addr);
            }
        }
        sim.set(awvalid, 0);
        sim.set(wvalid, 0);
        sim.set(bready, 0);
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

    /// Each rule of the AXI4-Lite checker flags a slave that breaks it, and only then.
    #[test]
    fn response_rules_are_checked() {
        // A response before the request's handshake.
        let mut c = ResponseCheck::default();
        assert_eq!(
            c.cycle("R", false, true, true, (1, 0)),
            ["RVALID before the request's handshake"]
        );
        // Held until ready with the same payload: fine; dropped or changed: flagged.
        let mut c = ResponseCheck::default();
        assert!(c.cycle("B", true, true, false, (0, 2)).is_empty());
        assert!(c.cycle("B", true, true, false, (0, 2)).is_empty());
        assert_eq!(
            c.cycle("B", true, false, true, (0, 2)),
            ["BVALID dropped before BREADY"]
        );
        let mut c = ResponseCheck::default();
        assert!(c.cycle("R", true, true, false, (5, 0)).is_empty());
        let v = c.cycle("R", true, true, true, (6, 0));
        assert_eq!(v.len(), 1);
        assert!(v[0].starts_with("R payload changed before RREADY"), "{v:?}");
        // Taken: the next cycle may drop it.
        assert!(c.cycle("R", true, false, true, (0, 0)).is_empty());
        // A response pending between accesses.
        assert_eq!(pending_responses(true, false), ["RVALID with no read outstanding"]);
        assert_eq!(pending_responses(false, true), ["BVALID with no write outstanding"]);
        assert!(pending_responses(false, false).is_empty());
    }

    /// With RREADY/BREADY withheld at random the register file holds its responses: reads and
    /// writes still work and the checker sees nothing.
    #[test]
    fn withheld_ready_keeps_the_register_file_clean() {
        let (mut sim, mut m) = device();
        m.withhold = 0.6;
        m.seed(9);
        let mut tick = |s: &mut Sim| s.tick();
        let scratch = offset("SCRATCH");
        for v in 0..50u32 {
            m.write(&mut sim, scratch, v * 7919, 0xF, &mut tick).unwrap();
            assert_eq!(m.read(&mut sim, scratch, &mut tick).unwrap(), v * 7919);
        }
        assert_eq!(m.violation_count(), 0, "{:?}", m.violations());
    }

    #[test]
    fn responses_map_to_errors() {
        assert_eq!(resp(AxiResp::Okay.code(), 4), Ok(()));
        assert_eq!(resp(AxiResp::ExOkay.code(), 4), Ok(()));
        assert_eq!(resp(AxiResp::SlvErr.code(), 8), Err(AxiLiteError::SlvErr(8)));
        assert_eq!(resp(AxiResp::DecErr.code(), 12), Err(AxiLiteError::DecErr(12)));
    }
}
