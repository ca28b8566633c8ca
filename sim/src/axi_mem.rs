//! A Rust AXI4 slave memory for a Verilated master: configurable latency, seeded random
//! backpressure on all five channels, error responses on address ranges, and a protocol
//! checker that records every rule the master breaks.
//!
//! Timing: [`AxiMemory::step`] drives the slave's outputs for the cycle from its own state only
//! (no combinational path from the master's outputs), evaluates, samples the master, records
//! the handshakes (valid && ready) and ticks the clock. Reads and writes are independent.

use std::collections::VecDeque;

use crate::{Port, Sim, Top};

/// Bytes per data beat (128-bit bus).
pub const BEAT_BYTES: usize = 16;

/// One burst of the channels.
const CHANNELS: [&str; 5] = ["AR", "R", "AW", "W", "B"];

/// How the memory behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct AxiMemConfig {
    /// Memory size in bytes (addresses at or above it answer DECERR).
    pub size: usize,
    /// Cycles from an accepted AR to its first R beat.
    pub read_latency: u32,
    /// Cycles from a burst's last W beat to its B response.
    pub write_latency: u32,
    /// Seed of the backpressure.
    pub seed: u64,
    /// Per channel (AR, R, AW, W, B): probability that ready (AR, AW, W) or valid (R, B) is
    /// withheld in a cycle.
    pub stall: [f64; 5],
    /// Address ranges `[start, end)` and whether they answer DECERR (else SLVERR).
    pub errors: Vec<(u32, u32, bool)>,
    /// Bursts accepted but not finished, per direction.
    pub max_outstanding: usize,
}

impl Default for AxiMemConfig {
    fn default() -> Self {
        AxiMemConfig {
            size: 1 << 20,
            read_latency: 8,
            write_latency: 8,
            seed: 1,
            stall: [0.0; 5],
            errors: Vec::new(),
            max_outstanding: 8,
        }
    }
}

impl AxiMemConfig {
    /// The same stall probability on every channel.
    pub fn set_backpressure(&mut self, p: f64) {
        self.stall = [p; 5];
    }

    /// Answers bursts touching `[start, end)` with DECERR (`decerr`) or SLVERR.
    pub fn add_error(&mut self, start: u32, end: u32, decerr: bool) {
        self.errors.push((start, end, decerr));
    }
}

#[derive(Clone, Copy, Debug)]
struct Burst {
    addr: u64,
    beats: u32,
    done: u32,
    at: u64,
    resp: u64,
}

/// The master's ports this memory serves.
struct Ports {
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
    awaddr: Port,
    awlen: Port,
    awsize: Port,
    awburst: Port,
    awvalid: Port,
    awready: Port,
    wdata: Port,
    wstrb: Port,
    wlast: Port,
    wvalid: Port,
    wready: Port,
    bresp: Port,
    bvalid: Port,
    bready: Port,
}

/// The memory model (see the module docs).
pub struct AxiMemory {
    cfg: AxiMemConfig,
    mem: Vec<u8>,
    p: Ports,
    rng: u64,
    cycle: u64,
    reads: VecDeque<Burst>,
    writes: VecDeque<Burst>,
    responses: VecDeque<Burst>,
    // What the slave drives this cycle.
    arready: bool,
    rvalid: bool,
    awready: bool,
    wready: bool,
    bvalid: bool,
    // The master's valid + payload last cycle, when it was not accepted (must hold).
    pending: [Option<Vec<u64>>; 5],
    violations: Vec<String>,
    /// Data beats read.
    pub beats_read: u64,
    /// Data beats written.
    pub beats_written: u64,
    /// Bursts accepted (reads, writes).
    pub bursts: (u64, u64),
}

impl AxiMemory {
    /// A memory serving the AXI4 master ports of `top` named `<prefix>araddr` etc.
    ///
    /// Panics if the top lacks one of them (a build error, not an input error).
    pub fn new(top: Top, prefix: &str, cfg: AxiMemConfig) -> AxiMemory {
        let port = |n: &str| {
            top.port(&format!("{prefix}{n}"))
                .unwrap_or_else(|| panic!("{} has no port {prefix}{n}", top.name))
        };
        let p = Ports {
            araddr: port("araddr"),
            arlen: port("arlen"),
            arsize: port("arsize"),
            arburst: port("arburst"),
            arvalid: port("arvalid"),
            arready: port("arready"),
            rdata: port("rdata"),
            rresp: port("rresp"),
            rlast: port("rlast"),
            rvalid: port("rvalid"),
            rready: port("rready"),
            awaddr: port("awaddr"),
            awlen: port("awlen"),
            awsize: port("awsize"),
            awburst: port("awburst"),
            awvalid: port("awvalid"),
            awready: port("awready"),
            wdata: port("wdata"),
            wstrb: port("wstrb"),
            wlast: port("wlast"),
            wvalid: port("wvalid"),
            wready: port("wready"),
            bresp: port("bresp"),
            bvalid: port("bvalid"),
            bready: port("bready"),
        };
        assert_eq!(p.rdata.width as usize, BEAT_BYTES * 8, "data bus width");
        AxiMemory {
            mem: vec![0; cfg.size],
            rng: cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            cfg,
            p,
            cycle: 0,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            responses: VecDeque::new(),
            arready: false,
            rvalid: false,
            awready: false,
            wready: false,
            bvalid: false,
            pending: Default::default(),
            violations: Vec::new(),
            beats_read: 0,
            beats_written: 0,
            bursts: (0, 0),
        }
    }

    /// Copies bytes into memory (host side, outside the bus).
    pub fn write_bytes(&mut self, addr: u64, bytes: &[u8]) {
        let a = addr as usize;
        self.mem[a..a + bytes.len()].copy_from_slice(bytes);
    }

    /// Copies bytes out of memory (host side).
    pub fn read_bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let a = addr as usize;
        self.mem[a..a + len].to_vec()
    }

    /// Every protocol rule the master broke so far.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// True when no burst is in flight on either direction.
    pub fn idle(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty() && self.responses.is_empty()
    }

    /// xorshift64*: uniform in [0, 1).
    fn coin(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn violation(&mut self, what: String) {
        if self.violations.len() < 100 {
            self.violations.push(format!("cycle {}: {what}", self.cycle));
        }
    }

    /// The response for a burst: an error range it touches, or beyond memory → DECERR.
    fn response(&self, addr: u64, beats: u32) -> u64 {
        let end = addr + u64::from(beats) * BEAT_BYTES as u64;
        if end > self.mem.len() as u64 {
            return 3;
        }
        for &(s, e, dec) in &self.cfg.errors {
            if addr < u64::from(e) && end > u64::from(s) {
                return if dec { 3 } else { 2 };
            }
        }
        0
    }

    /// Checks an address-channel payload at its handshake.
    fn check_burst(&mut self, ch: &str, addr: u64, len: u64, size: u64, burst: u64) {
        let bytes = (len + 1) * BEAT_BYTES as u64;
        if size != BEAT_BYTES.trailing_zeros() as u64 {
            self.violation(format!("{ch}: size {size} is not a full beat"));
        }
        if burst != 1 {
            self.violation(format!("{ch}: burst type {burst} is not INCR"));
        }
        if addr % BEAT_BYTES as u64 != 0 {
            self.violation(format!("{ch}: address {addr:#x} is not beat-aligned"));
        }
        if addr / 4096 != (addr + bytes - 1) / 4096 {
            self.violation(format!("{ch}: burst {addr:#x}+{bytes} crosses a 4 KiB boundary"));
        }
    }

    /// A valid that was not accepted must stay, with the same payload.
    fn check_hold(&mut self, ch: usize, valid: bool, payload: Vec<u64>, accepted: bool) {
        if let Some(prev) = self.pending[ch].take() {
            if !valid {
                self.violation(format!("{}: valid dropped before ready", CHANNELS[ch]));
            } else if prev != payload {
                self.violation(format!("{}: payload changed while waiting for ready", CHANNELS[ch]));
            }
        }
        if valid && !accepted {
            self.pending[ch] = Some(payload);
        }
    }

    /// One clock cycle with the memory attached (see the module docs).
    pub fn step(&mut self, sim: &mut Sim) {
        let stall = self.cfg.stall;
        // ---- drive
        self.arready = self.reads.len() < self.cfg.max_outstanding && !self.coin(stall[0]);
        let r_ready_burst = self.reads.front().copied().filter(|b| b.at <= self.cycle);
        self.rvalid = r_ready_burst.is_some() && !self.coin(stall[1]);
        self.awready = self.writes.len() < self.cfg.max_outstanding && !self.coin(stall[2]);
        self.wready = !self.writes.is_empty() && !self.coin(stall[3]);
        let b_front = self.responses.front().copied().filter(|b| b.at <= self.cycle);
        self.bvalid = b_front.is_some() && !self.coin(stall[4]);

        sim.set(self.p.arready, self.arready.into());
        sim.set(self.p.awready, self.awready.into());
        sim.set(self.p.wready, self.wready.into());
        sim.set(self.p.rvalid, self.rvalid.into());
        let mut words = [0u32; BEAT_BYTES / 4];
        let (mut rresp, mut rlast) = (0, false);
        if let Some(b) = r_ready_burst {
            if b.resp == 0 {
                let a = (b.addr + u64::from(b.done) * BEAT_BYTES as u64) as usize;
                for (i, w) in words.iter_mut().enumerate() {
                    *w = u32::from_le_bytes(self.mem[a + 4 * i..a + 4 * i + 4].try_into().expect("4 bytes"));
                }
            }
            rresp = b.resp;
            rlast = b.done + 1 == b.beats;
        }
        sim.set_wide(self.p.rdata, &words);
        sim.set(self.p.rresp, rresp);
        sim.set(self.p.rlast, rlast.into());
        sim.set(self.p.bvalid, self.bvalid.into());
        sim.set(self.p.bresp, b_front.map_or(0, |b| b.resp));
        sim.eval();

        // ---- sample and check the master
        let arvalid = sim.get(self.p.arvalid) == 1;
        let ar = vec![
            sim.get(self.p.araddr),
            sim.get(self.p.arlen),
            sim.get(self.p.arsize),
            sim.get(self.p.arburst),
        ];
        let ar_hs = arvalid && self.arready;
        self.check_hold(0, arvalid, ar.clone(), ar_hs);
        let r_hs = self.rvalid && sim.get(self.p.rready) == 1;
        let awvalid = sim.get(self.p.awvalid) == 1;
        let aw = vec![
            sim.get(self.p.awaddr),
            sim.get(self.p.awlen),
            sim.get(self.p.awsize),
            sim.get(self.p.awburst),
        ];
        let aw_hs = awvalid && self.awready;
        self.check_hold(2, awvalid, aw.clone(), aw_hs);
        let wvalid = sim.get(self.p.wvalid) == 1;
        let wdata = sim.get_wide(self.p.wdata);
        let wstrb = sim.get(self.p.wstrb);
        let wlast = sim.get(self.p.wlast) == 1;
        let w_hs = wvalid && self.wready;
        let mut wpay: Vec<u64> = wdata.iter().map(|&x| u64::from(x)).collect();
        wpay.extend([wstrb, wlast.into()]);
        self.check_hold(3, wvalid, wpay, w_hs);
        let b_hs = self.bvalid && sim.get(self.p.bready) == 1;

        // ---- handshakes
        if ar_hs {
            self.check_burst("AR", ar[0], ar[1], ar[2], ar[3]);
            let beats = ar[1] as u32 + 1;
            self.reads.push_back(Burst {
                addr: ar[0],
                beats,
                done: 0,
                at: self.cycle + 1 + u64::from(self.cfg.read_latency),
                resp: self.response(ar[0], beats),
            });
            self.bursts.0 += 1;
        }
        if r_hs {
            self.beats_read += 1;
            let b = self.reads.front_mut().expect("an R beat belongs to a burst");
            b.done += 1;
            if b.done == b.beats {
                self.reads.pop_front();
            }
        }
        if aw_hs {
            self.check_burst("AW", aw[0], aw[1], aw[2], aw[3]);
            let beats = aw[1] as u32 + 1;
            self.writes.push_back(Burst {
                addr: aw[0],
                beats,
                done: 0,
                at: 0,
                resp: self.response(aw[0], beats),
            });
            self.bursts.1 += 1;
        }
        if w_hs {
            self.beats_written += 1;
            let mut b = *self.writes.front().expect("wready only with a burst");
            let last = b.done + 1 == b.beats;
            if wlast != last {
                self.violation(format!("W: wlast = {wlast} on beat {} of {}", b.done + 1, b.beats));
            }
            if b.resp == 0 {
                let a = (b.addr + u64::from(b.done) * BEAT_BYTES as u64) as usize;
                for i in 0..BEAT_BYTES {
                    if wstrb >> i & 1 == 1 {
                        self.mem[a + i] = (wdata[i / 4] >> (8 * (i % 4))) as u8;
                    }
                }
            }
            b.done += 1;
            if last {
                self.writes.pop_front();
                b.at = self.cycle + 1 + u64::from(self.cfg.write_latency);
                self.responses.push_back(b);
            } else {
                *self.writes.front_mut().expect("burst") = b;
            }
        }
        if b_hs {
            self.responses.pop_front();
        }
        sim.tick();
        self.cycle += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_ranges_and_bounds() {
        let mut cfg = AxiMemConfig::default();
        cfg.add_error(0x1000, 0x2000, false);
        cfg.add_error(0x3000, 0x3010, true);
        let top = crate::tops::npe4x4::TOP;
        let m = AxiMemory::new(top, "m_axi_", cfg);
        assert_eq!(m.response(0x0, 256), 0);
        assert_eq!(m.response(0x0FF0, 2), 2);
        assert_eq!(m.response(0x2000, 4), 0);
        assert_eq!(m.response(0x2FF0, 2), 3);
        assert_eq!(m.response((1 << 20) - 16, 2), 3);
    }
}
