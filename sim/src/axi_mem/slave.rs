//! The AXI4 slave memory model: memory, in-order read and write channels, latency, seeded
//! backpressure and error ranges (see the [module docs](super)); its [`ProtocolChecker`]
//! watches the master.

use std::collections::VecDeque;
use std::fmt;

use npe_hdl::spec::axi::{AxiResp, MAX_BURST_BEATS};

use super::checker::{burst_beats, ProtocolChecker, Violation};
use super::{MasterSample, SlaveDrive};

/// An address range `[start, end)` whose bursts fail with `resp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRange {
    /// First byte address.
    pub start: u64,
    /// One past the last byte address.
    pub end: u64,
    /// The response of every burst touching the range.
    pub resp: AxiResp,
}

/// A burst the model answered with an error (recorded when it was accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusFault {
    /// Cycle of the AR/AW handshake.
    pub cycle: u64,
    /// A write burst (AW), else a read burst (AR).
    pub write: bool,
    /// The burst's address.
    pub addr: u64,
    /// Its beats.
    pub beats: u64,
    /// The response every beat / its B got.
    pub resp: AxiResp,
}

/// Error bursts kept for [`AxiSlave::take_faults`]; beyond this only counted in [`AxiStats`].
const MAX_KEPT_FAULTS: usize = 256;

/// Configuration of an [`AxiSlave`].
#[derive(Clone, Debug, PartialEq)]
pub struct AxiMemConfig {
    /// Address of the first byte.
    pub base: u64,
    /// Memory size in bytes.
    pub size: usize,
    /// Bytes per data beat (a power of two; the top's data ports must be this wide).
    pub beat_bytes: usize,
    /// Cycles from the AR handshake's edge to the first R beat's earliest edge, beyond one.
    pub read_latency: u32,
    /// Cycles from the last W beat's edge to the B response's earliest edge, beyond one.
    pub write_latency: u32,
    /// Seed of the backpressure generator.
    pub seed: u64,
    /// Probability (0, 1] that ARREADY is high in a cycle.
    pub ar_ready: f64,
    /// Probability (0, 1] that a due R beat is presented in a cycle.
    pub r_valid: f64,
    /// Probability (0, 1] that AWREADY is high in a cycle.
    pub aw_ready: f64,
    /// Probability (0, 1] that WREADY is high in a cycle.
    pub w_ready: f64,
    /// Probability (0, 1] that a due B response is presented in a cycle.
    pub b_valid: f64,
    /// Address ranges answered with an error.
    pub errors: Vec<ErrorRange>,
    /// Read bursts accepted and not fully answered, at most (ARREADY low beyond).
    pub max_reads: usize,
    /// Write bursts accepted whose B has not been accepted, at most (AWREADY low beyond).
    pub max_writes: usize,
    /// W beats the checker tolerates ahead of every presented AW (AXI allows W first; npe's
    /// write DMA never does it, so the default is 0).
    pub w_early_beats: u64,
}

impl Default for AxiMemConfig {
    /// 1 MiB at 0, 16-byte beats, no latency, no backpressure, no errors, 8 bursts each way.
    fn default() -> Self {
        AxiMemConfig {
            base: 0,
            size: 1 << 20,
            beat_bytes: 16,
            read_latency: 0,
            write_latency: 0,
            seed: 0,
            ar_ready: 1.0,
            r_valid: 1.0,
            aw_ready: 1.0,
            w_ready: 1.0,
            b_valid: 1.0,
            errors: Vec::new(),
            max_reads: 8,
            max_writes: 8,
            w_early_beats: 0,
        }
    }
}

impl AxiMemConfig {
    /// The same configuration with every ready/valid probability set to `p`.
    pub fn with_backpressure(mut self, p: f64) -> Self {
        self.ar_ready = p;
        self.r_valid = p;
        self.aw_ready = p;
        self.w_ready = p;
        self.b_valid = p;
        self
    }
}

/// A configuration or port-binding problem, or a host access outside the memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxiMemError(pub String);

impl fmt::Display for AxiMemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AXI memory: {}", self.0)
    }
}

impl std::error::Error for AxiMemError {}

/// Traffic counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AxiStats {
    /// R beats accepted by the master.
    pub read_beats: u64,
    /// W beats accepted by the model.
    pub write_beats: u64,
    /// AR handshakes.
    pub read_bursts: u64,
    /// AW handshakes.
    pub write_bursts: u64,
    /// Read bursts accepted that are answered with an error.
    pub read_errors: u64,
    /// Write bursts accepted that are answered with an error.
    pub write_errors: u64,
}

#[derive(Clone, Debug)]
struct ReadBurst {
    addr: u64,
    beats: u64,
    next: u64,
    due: u64,
    resp: AxiResp,
}

#[derive(Clone, Debug)]
struct WriteBurst {
    addr: u64,
    beats: u64,
    got: u64,
    resp: AxiResp,
}

#[derive(Clone, Debug)]
struct WBeat {
    data: Vec<u8>,
    strb: u64,
}

/// The AXI4 slave memory model with its protocol checker (see the module docs).
pub struct AxiSlave {
    cfg: AxiMemConfig,
    mem: Vec<u8>,
    rng: u64,
    cycle: u64,
    stats: AxiStats,
    checker: ProtocolChecker,
    reads: VecDeque<ReadBurst>,
    r_out: Option<(Vec<u8>, AxiResp, bool)>,
    writes: VecDeque<WriteBurst>,
    w_buf: VecDeque<WBeat>,
    b_due: VecDeque<(u64, AxiResp)>,
    b_out: Option<AxiResp>,
    drive: SlaveDrive,
    driven: bool,
    faults: Vec<BusFault>,
    first_error_response: Option<u64>,
}

impl AxiSlave {
    /// A model with memory zeroed; errors on an unusable configuration.
    pub fn new(cfg: AxiMemConfig) -> Result<AxiSlave, AxiMemError> {
        let bad = |m: String| Err(AxiMemError(m));
        if !cfg.beat_bytes.is_power_of_two() || cfg.beat_bytes > 64 {
            return bad(format!("beat_bytes {} is not a power of two up to 64", cfg.beat_bytes));
        }
        for (name, p) in [
            ("ar_ready", cfg.ar_ready),
            ("r_valid", cfg.r_valid),
            ("aw_ready", cfg.aw_ready),
            ("w_ready", cfg.w_ready),
            ("b_valid", cfg.b_valid),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return bad(format!("{name} = {p} is not a probability in (0, 1]"));
            }
        }
        if cfg.max_reads == 0 || cfg.max_writes == 0 {
            return bad("max_reads and max_writes must be at least 1".into());
        }
        if cfg.base.checked_add(cfg.size as u64).is_none() {
            return bad("base + size overflows".into());
        }
        Ok(AxiSlave {
            mem: vec![0; cfg.size],
            // splitmix64 state; the seed is mixed so that seeds 0, 1, 2 … differ at once.
            rng: cfg.seed ^ 0x9e37_79b9_7f4a_7c15,
            checker: ProtocolChecker::new(cfg.beat_bytes, cfg.w_early_beats),
            cfg,
            cycle: 0,
            stats: AxiStats::default(),
            reads: VecDeque::new(),
            r_out: None,
            writes: VecDeque::new(),
            w_buf: VecDeque::new(),
            b_due: VecDeque::new(),
            b_out: None,
            drive: SlaveDrive::default(),
            driven: false,
            faults: Vec::new(),
            first_error_response: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AxiMemConfig {
        &self.cfg
    }

    /// Replaces the error ranges (for bursts accepted from now on).
    pub fn set_errors(&mut self, errors: Vec<ErrorRange>) {
        self.cfg.errors = errors;
    }

    /// The error bursts accepted since the last call (the first 256), and the cycle in which
    /// the master accepted the last response of the first of them to complete (its RLAST beat
    /// or its B) since then, if any.
    pub fn take_faults(&mut self) -> (Vec<BusFault>, Option<u64>) {
        (std::mem::take(&mut self.faults), self.first_error_response.take())
    }

    /// Cycles observed so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// Traffic counters.
    pub fn stats(&self) -> AxiStats {
        self.stats
    }

    /// Protocol violations seen (the first 1000; [`Self::violation_count`] counts all).
    pub fn violations(&self) -> &[Violation] {
        self.checker.violations()
    }

    /// Number of protocol violations seen.
    pub fn violation_count(&self) -> u64 {
        self.checker.violation_count()
    }

    /// Read bursts accepted and not yet fully answered.
    pub fn outstanding_reads(&self) -> usize {
        self.reads.len()
    }

    /// Write bursts accepted whose B response has not been accepted.
    pub fn outstanding_writes(&self) -> usize {
        self.writes.len() + self.b_due.len() + usize::from(self.b_out.is_some())
    }

    /// Nothing in flight on any channel (buffered early W beats count as in flight).
    pub fn idle(&self) -> bool {
        self.reads.is_empty() && self.outstanding_writes() == 0 && self.w_buf.is_empty()
    }

    /// The whole memory (byte `i` at address `base + i`).
    pub fn bytes(&self) -> &[u8] {
        &self.mem
    }

    /// The whole memory, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.mem
    }

    fn offset(&self, addr: u64, len: usize) -> Result<usize, AxiMemError> {
        let end = addr.checked_add(len as u64);
        match end {
            Some(end) if addr >= self.cfg.base && end <= self.cfg.base + self.cfg.size as u64 => {
                Ok((addr - self.cfg.base) as usize)
            }
            _ => Err(AxiMemError(format!(
                "{len} bytes at {addr:#x} are outside the memory [{:#x}, {:#x})",
                self.cfg.base,
                self.cfg.base + self.cfg.size as u64
            ))),
        }
    }

    /// Copies memory at `addr` into `buf` (host side, no bus traffic).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), AxiMemError> {
        let o = self.offset(addr, buf.len())?;
        buf.copy_from_slice(&self.mem[o..o + buf.len()]);
        Ok(())
    }

    /// Copies `data` into memory at `addr` (host side, no bus traffic).
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), AxiMemError> {
        let o = self.offset(addr, data.len())?;
        self.mem[o..o + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// Forgets every burst in flight and the checker's history (call when the master is reset);
    /// memory, counters and recorded violations stay.
    pub fn reset(&mut self) {
        self.reads.clear();
        self.r_out = None;
        self.writes.clear();
        self.w_buf.clear();
        self.b_due.clear();
        self.b_out = None;
        self.driven = false;
        self.checker.reset();
    }

    fn chance(&mut self, p: f64) -> bool {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        p >= 1.0 || ((z >> 11) as f64) < p * (1u64 << 53) as f64
    }

    /// The response of a burst of `beats` beats at `addr`.
    fn burst_resp(&self, addr: u64, beats: u64) -> AxiResp {
        let len = beats * self.cfg.beat_bytes as u64;
        if self.offset(addr, len as usize).is_err() {
            return AxiResp::DecErr;
        }
        self.cfg
            .errors
            .iter()
            .find(|e| addr < e.end && e.start < addr + len)
            .map_or(AxiResp::Okay, |e| e.resp)
    }

    /// Decides this cycle's slave outputs from the model's state (call once per cycle, before
    /// [`Self::observe`]; a second call in the same cycle returns the same outputs).
    pub fn drive(&mut self) -> SlaveDrive {
        if self.driven {
            return self.drive.clone();
        }
        let n = self.cfg.beat_bytes;
        let mut d = SlaveDrive {
            rdata: vec![0; n],
            ..SlaveDrive::default()
        };
        let ar = self.chance(self.cfg.ar_ready);
        d.arready = ar && self.reads.len() < self.cfg.max_reads;
        if self.r_out.is_none() {
            let due = self.reads.front().is_some_and(|b| b.due <= self.cycle);
            if due && self.chance(self.cfg.r_valid) {
                let b = self.reads.front().expect("checked above");
                let mut data = vec![0; n];
                let addr = b.addr + b.next * n as u64;
                if b.resp == AxiResp::Okay {
                    // Okay bursts lie inside the memory (checked when accepted).
                    let o = (addr - self.cfg.base) as usize;
                    data.copy_from_slice(&self.mem[o..o + n]);
                }
                self.r_out = Some((data, b.resp, b.next + 1 == b.beats));
            }
        }
        if let Some((data, resp, last)) = &self.r_out {
            d.rvalid = true;
            d.rdata.clone_from(data);
            d.rresp = *resp;
            d.rlast = *last;
        }
        let aw = self.chance(self.cfg.aw_ready);
        d.awready = aw && self.outstanding_writes() < self.cfg.max_writes;
        // Early W beats are buffered up to a few bursts' worth.
        let w = self.chance(self.cfg.w_ready);
        d.wready = w && self.w_buf.len() < 4 * MAX_BURST_BEATS as usize;
        if self.b_out.is_none() {
            let due = self.b_due.front().is_some_and(|&(t, _)| t <= self.cycle);
            if due && self.chance(self.cfg.b_valid) {
                self.b_out = self.b_due.pop_front().map(|(_, r)| r);
            }
        }
        if let Some(r) = self.b_out {
            d.bvalid = true;
            d.bresp = r;
        }
        self.drive = d.clone();
        self.driven = true;
        d
    }

    /// Takes the master's outputs of this cycle (after the outputs of [`Self::drive`] were
    /// applied), records the handshakes, checks the protocol and ends the cycle.
    pub fn observe(&mut self, m: &MasterSample) {
        if !self.driven {
            // Observing without driving: the slave held everything low this cycle.
            self.drive = SlaveDrive::default();
        }
        let d = std::mem::take(&mut self.drive);
        self.driven = false;
        self.checker.observe(self.cycle, &d, m);
        let n = self.cfg.beat_bytes as u64;

        // AR
        if m.arvalid && d.arready {
            let beats = burst_beats(&m.ar);
            let addr = m.ar.addr & !(n - 1);
            let resp = self.burst_resp(addr, beats);
            if resp != AxiResp::Okay {
                self.stats.read_errors += 1;
                self.fault(false, addr, beats, resp);
            }
            self.stats.read_bursts += 1;
            self.reads.push_back(ReadBurst {
                addr,
                beats,
                next: 0,
                due: self.cycle + 1 + self.cfg.read_latency as u64,
                resp,
            });
        }

        let error_response = (d.rvalid && m.rready && d.rlast && d.rresp != AxiResp::Okay)
            || (d.bvalid && m.bready && d.bresp != AxiResp::Okay);
        if error_response && self.first_error_response.is_none() {
            self.first_error_response = Some(self.cycle);
        }

        // R
        if d.rvalid && m.rready {
            self.r_out = None;
            self.stats.read_beats += 1;
            if let Some(b) = self.reads.front_mut() {
                b.next += 1;
                if b.next == b.beats {
                    self.reads.pop_front();
                }
            }
        }

        // AW
        if m.awvalid && d.awready {
            let beats = burst_beats(&m.aw);
            let addr = m.aw.addr & !(n - 1);
            let resp = self.burst_resp(addr, beats);
            if resp != AxiResp::Okay {
                self.stats.write_errors += 1;
                self.fault(true, addr, beats, resp);
            }
            self.stats.write_bursts += 1;
            self.writes.push_back(WriteBurst {
                addr,
                beats,
                got: 0,
                resp,
            });
        }

        // W
        if m.wvalid && d.wready {
            self.stats.write_beats += 1;
            self.w_buf.push_back(WBeat {
                data: m.wdata.clone(),
                strb: m.wstrb,
            });
        }
        self.match_writes();

        // B
        if d.bvalid && m.bready {
            self.b_out = None;
        }

        self.cycle += 1;
    }

    fn fault(&mut self, write: bool, addr: u64, beats: u64, resp: AxiResp) {
        if self.faults.len() < MAX_KEPT_FAULTS {
            self.faults.push(BusFault {
                cycle: self.cycle,
                write,
                addr,
                beats,
                resp,
            });
        }
    }

    /// Applies buffered W beats to the accepted AWs, in order.
    fn match_writes(&mut self) {
        let n = self.cfg.beat_bytes;
        while let (Some(b), Some(_)) = (self.writes.front(), self.w_buf.front()) {
            let beat = self.w_buf.pop_front().expect("checked above");
            let (addr, resp) = (b.addr + b.got * n as u64, b.resp);
            if resp == AxiResp::Okay {
                let o = (addr - self.cfg.base) as usize;
                for (i, byte) in beat.data.iter().enumerate().take(n) {
                    if beat.strb >> i & 1 == 1 {
                        self.mem[o + i] = *byte;
                    }
                }
            }
            let b = self.writes.front_mut().expect("checked above");
            b.got += 1;
            if b.got == b.beats {
                self.writes.pop_front();
                self.b_due
                    .push_back((self.cycle + 1 + self.cfg.write_latency as u64, resp));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axi_mem::tests::ar;
    use crate::axi_mem::AddrBeat;

    fn slave(cfg: AxiMemConfig) -> AxiSlave {
        AxiSlave::new(cfg).unwrap()
    }

    #[test]
    fn bad_configs_are_errors() {
        assert!(AxiSlave::new(AxiMemConfig::default().with_backpressure(0.0)).is_err());
        assert!(AxiSlave::new(AxiMemConfig {
            beat_bytes: 12,
            ..Default::default()
        })
        .is_err());
        assert!(AxiSlave::new(AxiMemConfig {
            max_reads: 0,
            ..Default::default()
        })
        .is_err());
        let s = slave(AxiMemConfig::default());
        assert!(s.read(1 << 20, &mut [0; 1]).is_err());
        assert!(s.read(u64::MAX, &mut [0; 2]).is_err());
    }

    /// A 2-beat read with latency 3 answers in order with the memory's bytes and RLAST.
    #[test]
    fn read_burst_latency_and_data() {
        let mut s = slave(AxiMemConfig {
            read_latency: 3,
            ..Default::default()
        });
        let content: Vec<u8> = (0..32).collect();
        s.write(0x40, &content).unwrap();
        let d = s.drive();
        assert!(d.arready && !d.rvalid);
        s.observe(&ar(0x40, 1)); // accepted at cycle 0
        let mut beats = Vec::new();
        for cycle in 1..10 {
            let d = s.drive();
            if d.rvalid {
                beats.push((cycle, d.rdata.clone(), d.rlast, d.rresp));
            }
            s.observe(&MasterSample {
                rready: true,
                ..Default::default()
            });
        }
        assert_eq!(beats.len(), 2);
        assert_eq!(beats[0], (4, content[..16].to_vec(), false, AxiResp::Okay));
        assert_eq!(beats[1], (5, content[16..].to_vec(), true, AxiResp::Okay));
        assert!(s.violations().is_empty() && s.idle());
        assert_eq!(s.stats().read_beats, 2);
    }

    /// Writes land in memory under WSTRB; an error range drops the write and answers SLVERR.
    #[test]
    fn write_bursts_strobes_and_errors() {
        let mut s = slave(AxiMemConfig {
            errors: vec![ErrorRange {
                start: 0x1000,
                end: 0x1001,
                resp: AxiResp::SlvErr,
            }],
            ..Default::default()
        });
        let aw = |addr| AddrBeat {
            addr,
            len: 0,
            size: 4,
            burst: 1,
        };
        let mut bresps = Vec::new();
        for (addr, strb) in [(0x20u64, 0x00ffu64), (0x1000, 0xffff)] {
            s.drive();
            s.observe(&MasterSample {
                awvalid: true,
                aw: aw(addr),
                wvalid: true,
                wdata: vec![0xab; 16],
                wstrb: strb,
                wlast: true,
                bready: true,
                ..Default::default()
            });
            for _ in 0..3 {
                let d = s.drive();
                if d.bvalid {
                    bresps.push(d.bresp);
                }
                s.observe(&MasterSample {
                    bready: true,
                    ..Default::default()
                });
            }
        }
        assert_eq!(bresps, [AxiResp::Okay, AxiResp::SlvErr]);
        let mut buf = [0u8; 16];
        s.read(0x20, &mut buf).unwrap();
        assert_eq!(buf, [[0xab; 8], [0; 8]].concat()[..]);
        s.read(0x1000, &mut buf).unwrap();
        assert_eq!(buf, [0; 16]);
        assert!(s.violations().is_empty(), "{:?}", s.violations());
        assert_eq!(s.stats().write_errors, 1);
        // The error burst is recorded with its address, and its B as the first error response.
        let (faults, first) = s.take_faults();
        assert_eq!(faults.len(), 1);
        assert!(faults[0].write && faults[0].addr == 0x1000 && faults[0].resp == AxiResp::SlvErr);
        assert!(first.is_some_and(|c| c > faults[0].cycle), "{first:?}");
        assert_eq!(s.take_faults(), (Vec::new(), None));
    }

    /// The slave's checker sees the AR handshakes as the slave drove them, under backpressure
    /// (the checker's own tests cover every rule, W included).
    #[test]
    fn checker_flags_a_bad_master() {
        let mut s = slave(AxiMemConfig {
            ar_ready: 0.5,
            seed: 7,
            ..Default::default()
        });
        fn flagged(s: &mut AxiSlave, m: MasterSample, what: &str) {
            let before = s.violation_count();
            s.drive();
            s.observe(&m);
            assert!(s.violation_count() > before, "not flagged: {what}");
            let v = s.violations().last().unwrap().to_string();
            println!("{what}: {v}");
        }
        // Finds a cycle where ARREADY is `want` (the model decides before it observes).
        fn ready_cycle(s: &mut AxiSlave, want: bool) {
            while s.drive().arready != want {
                s.observe(&MasterSample::default());
            }
        }
        ready_cycle(&mut s, true);
        flagged(&mut s, ar(0xff0, 1), "4 KiB crossing");
        ready_cycle(&mut s, true);
        flagged(&mut s, ar(0x8, 0), "unaligned");
        ready_cycle(&mut s, true);
        let mut m = ar(0, 0);
        m.ar.len = 256;
        flagged(&mut s, m, "len > 255");
        ready_cycle(&mut s, true);
        let mut m = ar(0, 0);
        m.ar.size = 3;
        flagged(&mut s, m, "size");
        ready_cycle(&mut s, true);
        let mut m = ar(0, 0);
        m.ar.burst = 2;
        flagged(&mut s, m, "WRAP burst");
        // Valid dropped / payload changed while not ready.
        ready_cycle(&mut s, false);
        s.observe(&ar(0x100, 0));
        s.drive();
        flagged(&mut s, MasterSample::default(), "ARVALID dropped");
        ready_cycle(&mut s, false);
        s.observe(&ar(0x100, 0));
        s.drive();
        flagged(&mut s, ar(0x200, 0), "AR payload changed");
    }

    /// Same seed, same backpressure pattern; another seed, another.
    #[test]
    fn backpressure_is_seeded() {
        let pattern = |seed| {
            let mut s = slave(AxiMemConfig {
                seed,
                ..AxiMemConfig::default().with_backpressure(0.5)
            });
            (0..64)
                .map(|_| {
                    let d = s.drive();
                    s.observe(&MasterSample::default());
                    d.arready
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(pattern(3), pattern(3));
        assert_ne!(pattern(3), pattern(4));
        let ones = pattern(5).iter().filter(|&&b| b).count();
        assert!((16..48).contains(&ones), "{ones} of 64");
    }
}
