//! The AXI4 protocol checker: watches one cycle of a master's outputs against the slave's
//! outputs of that cycle and records what the master did wrong.
//!
//! Rules checked: AR/AW/W valid held and payload unchanged until ready; every accepted burst
//! INCR, aligned to the beat, at most [`MAX_BURST_BEATS`] beats, of the bus's beat size and
//! inside one [`PAGE_BYTES`] page; no W beat beyond `w_early_beats` ahead of every presented AW;
//! WLAST on, and only on, each burst's last beat (W beats are matched to the accepted AWs in
//! order, as the memory model applies them).

use std::collections::VecDeque;
use std::fmt;

use npe_hdl::spec::axi::{AXI_BURST_INCR, MAX_BURST_BEATS, PAGE_BYTES};

use super::{AddrBeat, Channel, MasterSample, SlaveDrive};

/// A protocol violation by the master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Cycle (0-based, counted by the model) in which it was seen.
    pub cycle: u64,
    /// Channel.
    pub channel: Channel,
    /// What was wrong.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cycle {} {:?}: {}", self.cycle, self.channel, self.what)
    }
}

/// Violations kept in full; beyond this only counted.
const MAX_KEPT_VIOLATIONS: usize = 1000;

/// Beats of an accepted burst: AxLEN + 1 (AxLEN's bits only).
pub(super) fn burst_beats(a: &AddrBeat) -> u64 {
    (a.len & (MAX_BURST_BEATS as u64 - 1)) + 1
}

/// The protocol checker of one AXI4 port (see the module docs).
#[derive(Clone, Debug)]
pub struct ProtocolChecker {
    beat_bytes: u64,
    w_early_beats: u64,
    violations: Vec<Violation>,
    violation_count: u64,
    prev_ar: Option<AddrBeat>,
    prev_aw: Option<AddrBeat>,
    prev_w: Option<(Vec<u8>, u64, bool)>,
    aw_beats: u64,
    w_beats: u64,
    // Accepted AWs not yet given all their W beats: (beats, beats given).
    bursts: VecDeque<(u64, u64)>,
    // WLAST of the accepted W beats not yet matched to an AW.
    lasts: VecDeque<bool>,
}

impl ProtocolChecker {
    /// A checker for `beat_bytes`-byte beats that tolerates `w_early_beats` W beats ahead of
    /// every presented AW.
    pub fn new(beat_bytes: usize, w_early_beats: u64) -> ProtocolChecker {
        ProtocolChecker {
            beat_bytes: beat_bytes as u64,
            w_early_beats,
            violations: Vec::new(),
            violation_count: 0,
            prev_ar: None,
            prev_aw: None,
            prev_w: None,
            aw_beats: 0,
            w_beats: 0,
            bursts: VecDeque::new(),
            lasts: VecDeque::new(),
        }
    }

    /// Violations seen (the first 1000; [`Self::violation_count`] counts all).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Number of violations seen.
    pub fn violation_count(&self) -> u64 {
        self.violation_count
    }

    /// Forgets the history (the master was reset); recorded violations stay.
    pub fn reset(&mut self) {
        self.prev_ar = None;
        self.prev_aw = None;
        self.prev_w = None;
        self.aw_beats = 0;
        self.w_beats = 0;
        self.bursts.clear();
        self.lasts.clear();
    }

    fn violation(&mut self, cycle: u64, channel: Channel, what: String) {
        self.violation_count += 1;
        if self.violations.len() < MAX_KEPT_VIOLATIONS {
            self.violations.push(Violation { cycle, channel, what });
        }
    }

    /// Checks an accepted AR/AW payload.
    fn check_burst(&mut self, cycle: u64, ch: Channel, a: &AddrBeat) {
        let n = self.beat_bytes;
        let max_len = MAX_BURST_BEATS as u64 - 1;
        if a.len > max_len {
            self.violation(cycle, ch, format!("len {} > {max_len}", a.len));
        }
        if a.size != n.trailing_zeros() as u64 {
            self.violation(cycle, ch, format!("size {} is not {n} bytes", a.size));
        }
        if a.burst != AXI_BURST_INCR {
            self.violation(cycle, ch, format!("burst type {} is not INCR", a.burst));
        }
        if a.addr & (n - 1) != 0 {
            self.violation(cycle, ch, format!("address {:#x} is not aligned to {n} bytes", a.addr));
        }
        let (bytes, page) = ((a.len + 1) * n, PAGE_BYTES as u64);
        if (a.addr % page) + bytes > page {
            self.violation(
                cycle,
                ch,
                format!("burst at {:#x} of {} beats crosses a 4 KiB boundary", a.addr, a.len + 1),
            );
        }
    }

    /// An address channel: valid held and payload stable until ready, the accepted burst legal.
    fn address(&mut self, cycle: u64, ch: Channel, valid: bool, ready: bool, a: &AddrBeat) {
        let prev = if ch == Channel::Ar { self.prev_ar } else { self.prev_aw };
        let name = if ch == Channel::Ar { "AR" } else { "AW" };
        if let Some(p) = prev {
            if !valid {
                self.violation(cycle, ch, format!("{name}VALID dropped before {name}READY"));
            } else if *a != p {
                self.violation(
                    cycle,
                    ch,
                    format!("{name} payload changed before {name}READY: {p:?} -> {a:?}"),
                );
            }
        }
        if valid && ready {
            self.check_burst(cycle, ch, a);
        }
        let held = (valid && !ready).then_some(*a);
        if ch == Channel::Ar {
            self.prev_ar = held;
        } else {
            self.prev_aw = held;
        }
    }

    /// Checks the master's outputs `m` of cycle `cycle`, against the slave's outputs `d` of
    /// the same cycle.
    pub fn observe(&mut self, cycle: u64, d: &SlaveDrive, m: &MasterSample) {
        self.address(cycle, Channel::Ar, m.arvalid, d.arready, &m.ar);
        self.address(cycle, Channel::Aw, m.awvalid, d.awready, &m.aw);
        if m.awvalid && d.awready {
            let beats = burst_beats(&m.aw);
            self.aw_beats += beats;
            self.bursts.push_back((beats, 0));
        }

        // W
        if let Some((data, strb, last)) = &self.prev_w {
            if !m.wvalid {
                self.violation(cycle, Channel::W, "WVALID dropped before WREADY".into());
            } else if (&m.wdata, m.wstrb, m.wlast) != (data, *strb, *last) {
                self.violation(cycle, Channel::W, "W payload changed before WREADY".into());
            }
        }
        if m.wvalid && d.wready {
            self.w_beats += 1;
            let pending = if m.awvalid && !d.awready { burst_beats(&m.aw) } else { 0 };
            if self.w_beats > self.aw_beats + pending + self.w_early_beats {
                self.violation(
                    cycle,
                    Channel::W,
                    format!(
                        "W beat {} precedes its AW ({} beats announced by AW, {pending} pending)",
                        self.w_beats, self.aw_beats
                    ),
                );
            }
            self.lasts.push_back(m.wlast);
        }
        self.prev_w = (m.wvalid && !d.wready).then(|| (m.wdata.clone(), m.wstrb, m.wlast));

        // WLAST: W beats meet their AWs in order.
        while let (Some(&(beats, got)), Some(&last)) = (self.bursts.front(), self.lasts.front()) {
            self.lasts.pop_front();
            if last != (got + 1 == beats) {
                self.violation(
                    cycle,
                    Channel::W,
                    format!("WLAST {last} on beat {} of a {beats}-beat burst", got + 1),
                );
            }
            if got + 1 == beats {
                self.bursts.pop_front();
            } else {
                self.bursts[0].1 = got + 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axi_mem::tests::ar;

    /// A slave that is always ready.
    fn ready() -> SlaveDrive {
        SlaveDrive {
            arready: true,
            awready: true,
            wready: true,
            ..SlaveDrive::default()
        }
    }

    /// `m` with `d` is flagged; returns the violation.
    fn flagged(c: &mut ProtocolChecker, d: &SlaveDrive, m: MasterSample, what: &str) -> Violation {
        let before = c.violation_count();
        c.observe(7, d, &m);
        assert!(c.violation_count() > before, "not flagged: {what}");
        let v = c.violations().last().unwrap().clone();
        println!("{what}: {v}");
        v
    }

    #[test]
    fn bad_bursts_are_flagged_once_each() {
        let mut c = ProtocolChecker::new(16, 0);
        let v = flagged(&mut c, &ready(), ar(0xff0, 1), "4 KiB crossing");
        assert_eq!((v.cycle, v.channel), (7, Channel::Ar));
        flagged(&mut c, &ready(), ar(0x8, 0), "unaligned");
        let mut m = ar(0, 0);
        m.ar.len = 256;
        // 257 beats of 16 bytes also cross the page: two violations.
        flagged(&mut c, &ready(), m, "len > 255");
        let mut m = ar(0, 0);
        m.ar.size = 3;
        flagged(&mut c, &ready(), m, "size");
        let mut m = ar(0, 0);
        m.ar.burst = 2;
        flagged(&mut c, &ready(), m, "WRAP burst");
        assert_eq!(c.violation_count(), 6);
        // A legal burst is not.
        c.observe(8, &ready(), &ar(0xfe0, 1));
        assert_eq!(c.violation_count(), 6);
    }

    #[test]
    fn valid_and_payload_hold_until_ready() {
        let busy = SlaveDrive::default();
        let mut c = ProtocolChecker::new(16, 0);
        c.observe(0, &busy, &ar(0x100, 0));
        flagged(&mut c, &busy, MasterSample::default(), "ARVALID dropped");
        c.observe(2, &busy, &ar(0x100, 0));
        flagged(&mut c, &busy, ar(0x200, 0), "AR payload changed");
        // Held until ready: fine.
        let mut c = ProtocolChecker::new(16, 0);
        c.observe(0, &busy, &ar(0x100, 0));
        c.observe(1, &ready(), &ar(0x100, 0));
        assert_eq!(c.violation_count(), 0);
    }

    /// AW and W: valid held and payload unchanged until ready, as for AR.
    #[test]
    fn aw_and_w_hold_until_ready() {
        let busy = SlaveDrive::default();
        let aw = |addr| MasterSample {
            awvalid: true,
            aw: AddrBeat {
                addr,
                len: 0,
                size: 4,
                burst: 1,
            },
            ..Default::default()
        };
        let mut c = ProtocolChecker::new(16, 0);
        c.observe(0, &busy, &aw(0x100));
        let v = flagged(&mut c, &busy, MasterSample::default(), "AWVALID dropped");
        assert_eq!(v.channel, Channel::Aw);
        c.observe(2, &busy, &aw(0x100));
        flagged(&mut c, &busy, aw(0x140), "AW payload changed");
        let w = |data: u8, strb, last| MasterSample {
            wvalid: true,
            wdata: vec![data; 16],
            wstrb: strb,
            wlast: last,
            ..Default::default()
        };
        let mut c = ProtocolChecker::new(16, 1);
        c.observe(0, &busy, &w(1, 0xffff, true));
        let v = flagged(&mut c, &busy, MasterSample::default(), "WVALID dropped");
        assert_eq!(
            (v.channel, v.what.as_str()),
            (Channel::W, "WVALID dropped before WREADY")
        );
        c.observe(2, &busy, &w(1, 0xffff, true));
        flagged(&mut c, &busy, w(2, 0xffff, true), "WDATA changed");
        c.observe(4, &busy, &w(1, 0xffff, true));
        flagged(&mut c, &busy, w(1, 0x00ff, true), "WSTRB changed");
        c.observe(6, &busy, &w(1, 0xffff, true));
        flagged(&mut c, &busy, w(1, 0xffff, false), "WLAST changed");
        // Held: no violation.
        let mut c = ProtocolChecker::new(16, 1);
        c.observe(0, &busy, &w(3, 0xffff, true));
        c.observe(1, &busy, &w(3, 0xffff, true));
        assert_eq!(c.violation_count(), 0);
    }

    #[test]
    fn w_beats_wait_for_their_aw_and_end_with_wlast() {
        let mut c = ProtocolChecker::new(16, 0);
        let beat = |last| MasterSample {
            wvalid: true,
            wdata: vec![1; 16],
            wstrb: 0xffff,
            wlast: last,
            ..Default::default()
        };
        flagged(&mut c, &ready(), beat(true), "W before AW");
        let mut m = beat(true);
        m.awvalid = true;
        m.aw = AddrBeat {
            addr: 0x40,
            len: 1,
            size: 4,
            burst: 1,
        };
        // This AW gets the early beat (WLAST on beat 1 of 2: flagged) and this beat.
        let v = flagged(&mut c, &ready(), m, "WLAST early");
        assert_eq!(v.what, "WLAST true on beat 1 of a 2-beat burst");
        // WLAST missing on a burst's last beat.
        let mut c = ProtocolChecker::new(16, 0);
        let mut m = beat(false);
        m.awvalid = true;
        m.aw = AddrBeat {
            addr: 0x80,
            len: 0,
            size: 4,
            burst: 1,
        };
        let v = flagged(&mut c, &ready(), m, "WLAST missing");
        assert_eq!(v.what, "WLAST false on beat 1 of a 1-beat burst");
        // A beat may come early when the checker is told to tolerate it.
        let mut c = ProtocolChecker::new(16, 1);
        c.observe(0, &ready(), &beat(true));
        assert_eq!(c.violation_count(), 0);
    }
}
