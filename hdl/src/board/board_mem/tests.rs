//! Tests of `BoardMem`: AXI bursts, the bridge's word port, races between them, error responses.

use super::*;
use crate::accel::testbench::{cycle, rng, settle, HasClock};
use std::collections::VecDeque;

impl HasClock for BoardMem {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

const WORDS: usize = (MEM_BYTES / 4) as usize;
const OKAY: u64 = AxiResp::Okay.code();
const SLVERR: u64 = AxiResp::SlvErr.code();
const DECERR: u64 = AxiResp::DecErr.code();

/// A write burst as the master sends it.
#[derive(Clone, Debug)]
pub(crate) struct WBurst {
    pub addr: u32,
    pub size: u64,
    pub burst: u64,
    /// Per beat: the four lanes and WSTRB.
    pub beats: Vec<([u32; 4], u16)>,
    /// Beat that carries WLAST (normally the last).
    pub wlast_at: usize,
}

impl WBurst {
    /// A well-formed burst of `beats` (16-byte INCR, WLAST on the last beat).
    pub fn new(addr: u32, beats: Vec<([u32; 4], u16)>) -> Self {
        let wlast_at = beats.len() - 1;
        WBurst {
            addr,
            size: AXI_SIZE,
            burst: AXI_BURST_INCR,
            beats,
            wlast_at,
        }
    }

    fn ok_shape(&self) -> bool {
        self.size == AXI_SIZE && self.burst == AXI_BURST_INCR
    }

    /// The B response the memory must give.
    fn expected_resp(&self) -> u64 {
        let mut r = OKAY;
        for (i, (_, strb)) in self.beats.iter().enumerate() {
            let partial = (0..4).any(|l| !matches!((strb >> (4 * l)) & 0xf, 0 | 0xf));
            if !self.ok_shape() || partial || (i == self.wlast_at) != (i + 1 == self.beats.len()) {
                r |= SLVERR;
            }
            if beat_of(self.addr) + i as u64 >= MEM_BEATS as u64 {
                r |= DECERR;
            }
        }
        r
    }
}

/// A read burst.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RBurst {
    pub addr: u32,
    pub beats: usize,
    pub size: u64,
    pub burst: u64,
}

impl RBurst {
    pub fn new(addr: u32, beats: usize) -> Self {
        RBurst {
            addr,
            beats,
            size: AXI_SIZE,
            burst: AXI_BURST_INCR,
        }
    }
}

/// A bridge request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Word {
    Write(u32, u32),
    Read(u32),
}

fn beat_of(addr: u32) -> u64 {
    u64::from(addr >> 4)
}

/// Drives a [`BoardMem`] as the accelerator's DMA and the bridge would, with random
/// valid/ready timing, checks every handshake rule it can see, and keeps a model of the
/// memory with each word's history, so a read that raced a write must return the old or
/// the new word (never the block RAM's undefined read-during-write, which the RAM model
/// poisons).
pub(crate) struct Bench {
    pub m: BoardMem,
    next: Box<dyn FnMut() -> u64>,
    /// Chance (of 256) that a valid or ready is held back in a cycle.
    pub stall: u64,
    now: u64,
    /// (from cycle, value) per word, oldest first.
    history: Vec<Vec<(u64, u32)>>,
    aw_q: VecDeque<WBurst>,
    w_q: VecDeque<(WBurst, usize)>,
    b_q: VecDeque<u64>,
    ar_q: VecDeque<RBurst>,
    r_q: VecDeque<(RBurst, usize, u64)>,
    bridge_q: VecDeque<Word>,
    bridge_r: VecDeque<(u64, u32)>,
    aw_on: bool,
    w_on: bool,
    ar_on: bool,
    last_r: Option<(u128, u64, bool)>,
    last_b: Option<u64>,
    /// B responses seen, in order.
    pub b_seen: Vec<u64>,
    /// R beats seen: (beat address, data, resp, last).
    pub r_seen: Vec<(u64, u128, u64, bool)>,
    /// Bridge reads: (word address, data).
    pub words_read: Vec<(u32, u32)>,
    /// Cycles with an error pulse.
    pub errors: u64,
}

impl Bench {
    pub fn new(seed: u64, stall: u64) -> Self {
        let mut m = BoardMem::new();
        m.connect_all();
        let mut b = Bench {
            m,
            next: Box::new(rng(seed)),
            stall,
            now: 0,
            history: vec![vec![(0, 0)]; WORDS],
            aw_q: VecDeque::new(),
            w_q: VecDeque::new(),
            b_q: VecDeque::new(),
            ar_q: VecDeque::new(),
            r_q: VecDeque::new(),
            bridge_q: VecDeque::new(),
            bridge_r: VecDeque::new(),
            aw_on: false,
            w_on: false,
            ar_on: false,
            last_r: None,
            last_b: None,
            b_seen: Vec::new(),
            r_seen: Vec::new(),
            words_read: Vec::new(),
            errors: 0,
        };
        b.m.reset.next = true;
        cycle(&mut b.m);
        b.m.reset.next = false;
        b
    }

    fn go(&mut self) -> bool {
        (self.next)() % 256 >= self.stall
    }

    pub fn write(&mut self, b: WBurst) {
        self.aw_q.push_back(b);
    }

    pub fn read(&mut self, r: RBurst) {
        self.ar_q.push_back(r);
    }

    pub fn word(&mut self, w: Word) {
        self.bridge_q.push_back(w);
    }

    fn idle(&self) -> bool {
        self.aw_q.is_empty()
            && self.w_q.is_empty()
            && self.b_q.is_empty()
            && self.ar_q.is_empty()
            && self.r_q.is_empty()
            && self.bridge_q.is_empty()
            && self.bridge_r.is_empty()
    }

    /// Whether `v` is a value word `w` held at some time in `[from, to]`.
    fn held(&self, w: usize, v: u32, from: u64, to: u64) -> bool {
        let h = &self.history[w];
        h.iter()
            .enumerate()
            .any(|(i, &(start, x))| x == v && start <= to && h.get(i + 1).is_none_or(|&(end, _)| end > from))
    }

    /// The word's value now.
    pub fn model(&self, w: usize) -> u32 {
        self.history[w].last().unwrap().1
    }

    /// Runs until every queued transfer is done (panics after `max` cycles).
    pub fn run(&mut self, max: u64) {
        let start = self.now;
        while !self.idle() {
            assert!(self.now - start < max, "not done after {max} cycles");
            self.step();
        }
    }

    fn step(&mut self) {
        let n = self.now;
        // ---- drive
        if !self.aw_on && !self.aw_q.is_empty() && self.go() {
            self.aw_on = true;
            // The W beats may go once AW is presented (as the DMA does).
            self.w_q.push_back((self.aw_q[0].clone(), 0));
        }
        let m = &mut self.m;
        m.s_axi_awvalid.next = self.aw_on;
        if let Some(b) = self.aw_q.front() {
            m.s_axi_awaddr.next = bits(u64::from(b.addr));
            m.s_axi_awlen.next = bits(b.beats.len() as u64 - 1);
            m.s_axi_awsize.next = bits(b.size);
            m.s_axi_awburst.next = bits(b.burst);
        }
        let gw = self.go();
        let m = &mut self.m;
        if !self.w_on && !self.w_q.is_empty() && gw {
            self.w_on = true;
        }
        m.s_axi_wvalid.next = self.w_on;
        if let Some((b, i)) = self.w_q.front() {
            let (d, s) = b.beats[*i];
            let word = d.iter().rev().fold(0u128, |acc, &x| (acc << 32) | u128::from(x));
            m.s_axi_wdata.next = word.to_bits();
            m.s_axi_wstrb.next = bits(u64::from(s));
            m.s_axi_wlast.next = *i == b.wlast_at;
        }
        let gb = self.go();
        let gar = self.go();
        let gr = self.go();
        let gm = self.go();
        let m = &mut self.m;
        m.s_axi_bready.next = gb;
        if !self.ar_on && !self.ar_q.is_empty() && gar {
            self.ar_on = true;
        }
        m.s_axi_arvalid.next = self.ar_on;
        if let Some(r) = self.ar_q.front() {
            m.s_axi_araddr.next = bits(u64::from(r.addr));
            m.s_axi_arlen.next = bits(r.beats as u64 - 1);
            m.s_axi_arsize.next = bits(r.size);
            m.s_axi_arburst.next = bits(r.burst);
        }
        m.s_axi_rready.next = gr;
        let op = self.bridge_q.front().copied().filter(|_| gm);
        m.mem_valid.next = op.is_some();
        match op {
            Some(Word::Write(a, v)) => {
                m.mem_write.next = true;
                m.mem_addr.next = bits(u64::from(a));
                m.mem_wdata.next = bits(u64::from(v));
            }
            Some(Word::Read(a)) => {
                m.mem_write.next = false;
                m.mem_addr.next = bits(u64::from(a));
            }
            None => {}
        }
        settle(m);

        // ---- observe (before the edge)
        assert!(m.mem_ready.val(), "the bridge's port never waits");
        if m.error.val() {
            self.errors += 1;
        }
        if let Some(v) = self.last_b {
            assert!(m.s_axi_bvalid.val(), "BVALID dropped before BREADY");
            assert_eq!(m.s_axi_bresp.val().to_u64(), v, "BRESP changed while waiting");
        }
        if let Some((d, r, l)) = self.last_r {
            assert!(m.s_axi_rvalid.val(), "RVALID dropped before RREADY");
            assert_eq!(
                (
                    m.s_axi_rdata.val().to_u128(),
                    m.s_axi_rresp.val().to_u64(),
                    m.s_axi_rlast.val()
                ),
                (d, r, l),
                "R changed while waiting"
            );
        }
        let aw_fire = m.s_axi_awvalid.val() & m.s_axi_awready.val();
        let w_fire = m.s_axi_wvalid.val() & m.s_axi_wready.val();
        let b_fire = m.s_axi_bvalid.val() & m.s_axi_bready.val();
        let ar_fire = m.s_axi_arvalid.val() & m.s_axi_arready.val();
        let r_fire = m.s_axi_rvalid.val() & m.s_axi_rready.val();
        self.last_b = (m.s_axi_bvalid.val() && !b_fire).then(|| m.s_axi_bresp.val().to_u64());
        self.last_r = (m.s_axi_rvalid.val() && !r_fire).then(|| {
            (
                m.s_axi_rdata.val().to_u128(),
                m.s_axi_rresp.val().to_u64(),
                m.s_axi_rlast.val(),
            )
        });
        let rvalid = m.mem_rvalid.val();
        let rdata = m.mem_rdata.val().to_u64() as u32;
        let bresp = m.s_axi_bresp.val().to_u64();
        let (rd, rr, rl) = (
            m.s_axi_rdata.val().to_u128(),
            m.s_axi_rresp.val().to_u64(),
            m.s_axi_rlast.val(),
        );

        if aw_fire {
            let b = self.aw_q.pop_front().unwrap();
            self.b_q.push_back(b.expected_resp());
            self.aw_on = false;
        }
        if w_fire {
            let (b, i) = self.w_q.front_mut().expect("WREADY without a burst");
            let (d, s) = b.beats[*i];
            let beat = beat_of(b.addr) + *i as u64;
            if b.ok_shape() && beat < MEM_BEATS as u64 {
                for (l, &x) in d.iter().enumerate() {
                    if (s >> (4 * l)) & 0xf == 0xf {
                        self.history[beat as usize * 4 + l].push((n + 1, x));
                    }
                }
            }
            *i += 1;
            if *i == b.beats.len() {
                self.w_q.pop_front();
            }
            self.w_on = false;
        }
        if b_fire {
            let want = self.b_q.pop_front().expect("BVALID without a burst");
            assert_eq!(bresp, want, "BRESP");
            self.b_seen.push(bresp);
        }
        if ar_fire {
            let r = self.ar_q.pop_front().unwrap();
            self.r_q.push_back((r, 0, n));
            self.ar_on = false;
        }
        if r_fire {
            let (r, i, since) = self.r_q.front_mut().expect("RVALID without a burst");
            let beat = beat_of(r.addr) + *i as u64;
            let last = *i + 1 == r.beats;
            let want = if beat >= MEM_BEATS as u64 {
                DECERR
            } else if r.size != AXI_SIZE || r.burst != AXI_BURST_INCR {
                SLVERR
            } else {
                OKAY
            };
            assert_eq!((rr, rl), (want, last), "RRESP, RLAST of beat {i} at {:#x}", r.addr);
            let (r_addr, since) = (r.addr, *since);
            *i += 1;
            if last {
                self.r_q.pop_front();
            }
            for l in 0..4 {
                let v = (rd >> (32 * l)) as u32;
                if want == OKAY {
                    let w = beat as usize * 4 + l;
                    assert!(
                        self.held(w, v, since, n),
                        "AXI read of word {w:#x} (burst at {r_addr:#x}) gave {v:#x}, which it never held \
                         in cycles {since}..={n}: {:?}",
                        self.history[w]
                    );
                } else {
                    assert_eq!(v, 0, "an error beat's data is zero");
                }
            }
            self.r_seen.push((beat, rd, rr, rl));
        }
        if let Some(op) = op {
            self.bridge_q.pop_front();
            match op {
                Word::Write(a, v) => self.history[a as usize].push((n + 2, v)),
                Word::Read(a) => self.bridge_r.push_back((n, a)),
            }
        }
        match self.bridge_r.front() {
            Some(&(t, a)) if t + 2 == n => {
                assert!(rvalid, "bridge read taken at {t}: no data at {n}");
                assert!(
                    self.held(a as usize, rdata, t, n),
                    "bridge read of word {a:#x} gave {rdata:#x}, which it never held in cycles {t}..={n}: {:?}",
                    self.history[a as usize]
                );
                self.words_read.push((a, rdata));
                self.bridge_r.pop_front();
            }
            _ => assert!(!rvalid, "bridge read data without a read at {n}"),
        }
        cycle(&mut self.m);
        self.now += 1;
    }
}

fn random_beats(next: &mut impl FnMut() -> u64, n: usize, strobes: bool) -> Vec<([u32; 4], u16)> {
    (0..n)
        .map(|_| {
            let d = [next() as u32, next() as u32, next() as u32, next() as u32];
            // The DMA's strobes: all on, or all off (an aborted burst's fill beats); per
            // lane, as a narrower master could.
            let s = if !strobes {
                0xffff
            } else {
                match next() % 4 {
                    0 => 0,
                    1 => (0..4)
                        .filter(|_| next().is_multiple_of(2))
                        .fold(0u16, |a, l| a | (0xf << (4 * l))),
                    _ => 0xffff,
                }
            };
            (d, s)
        })
        .collect()
}

/// Bursts written with random lengths, addresses, strobes and backpressure read back
/// exactly (the model follows the strobes), read and write bursts running at once.
#[test]
fn axi_bursts_write_then_read_back() {
    let mut next = rng(7);
    let mut tb = Bench::new(11, 96);
    let mut bursts = Vec::new();
    for k in 0..12u32 {
        let len = match k {
            0 => 256,
            1 => 1,
            _ => 1 + (next() % 40) as usize,
        };
        // Disjoint 4 KiB pages, so reads of one burst and writes of another may overlap.
        let addr = k * 4096 + ((next() % 16) as u32) * 16;
        let len = len.min(256 - ((addr % 4096) / 16) as usize);
        tb.write(WBurst::new(addr, random_beats(&mut next, len, true)));
        bursts.push((addr, len));
    }
    tb.run(40_000);
    assert_eq!(tb.b_seen, vec![OKAY; 12]);
    for &(addr, len) in &bursts {
        tb.read(RBurst::new(addr, len));
    }
    // More writes to other pages while those reads run.
    for k in 12..16u32 {
        tb.write(WBurst::new(k * 4096, random_beats(&mut next, 64, false)));
    }
    tb.run(40_000);
    let beats: usize = bursts.iter().map(|b| b.1).sum();
    assert_eq!(tb.r_seen.len(), beats);
    assert_eq!(tb.errors, 0);
    // The strobed-off lanes kept their zeros, the rest holds the data (checked beat by
    // beat above); some lanes were strobed off.
    let zero_lanes = tb
        .r_seen
        .iter()
        .flat_map(|r| (0..4).map(move |l| (r.1 >> (32 * l)) as u32))
        .filter(|&v| v == 0)
        .count();
    assert!(zero_lanes > 20, "{zero_lanes}");
}

/// At full speed (no backpressure) the memory takes a W beat and gives an R beat every
/// cycle: a 256-beat write and read overlap and finish in a little over 256 cycles.
#[test]
fn full_speed_bursts() {
    let mut next = rng(3);
    let mut tb = Bench::new(5, 0);
    tb.write(WBurst::new(0x1000, random_beats(&mut next, 256, false)));
    tb.read(RBurst::new(0x8000, 256));
    let t0 = tb.now;
    tb.run(1000);
    assert!(tb.now - t0 < 256 + 8, "{} cycles", tb.now - t0);
}

/// The bridge's words and AXI bursts at once, on the same beats: every read returns a value
/// its word held while the read ran (never the RAM's undefined read-during-write); then a
/// word written on one port reads back on the other.
#[test]
fn bridge_words_interleaved_with_axi_bursts() {
    let mut next = rng(21);
    let mut tb = Bench::new(22, 64);
    // Everything within the first 32 beats (128 words): collisions are frequent.
    for _ in 0..60 {
        let beat = (next() % 16) as u32;
        let len = 1 + (next() % 16) as usize;
        tb.write(WBurst::new(beat * 16, random_beats(&mut next, len, false)));
        tb.read(RBurst::new(((next() % 24) as u32) * 16, 1 + (next() % 8) as usize));
    }
    for _ in 0..600 {
        let a = (next() % 128) as u32;
        tb.word(if next().is_multiple_of(2) {
            Word::Write(a, next() as u32)
        } else {
            Word::Read(a)
        });
    }
    tb.run(40_000);
    assert!(tb.words_read.len() > 200 && tb.r_seen.len() > 50);

    // Words on the bridge, read by AXI; beats by AXI, read by the bridge.
    let mut tb = Bench::new(23, 32);
    let words: Vec<(u32, u32)> = (0..64).map(|i| (1000 + i * 3, next() as u32)).collect();
    for &(a, v) in &words {
        tb.word(Word::Write(a, v));
    }
    let beats = random_beats(&mut next, 16, false);
    tb.write(WBurst::new(0x1_0000, beats.clone()));
    tb.run(10_000);
    tb.read(RBurst::new((1000 * 4) & !15, 64 * 3 / 4 + 2));
    for i in 0..64u32 {
        tb.word(Word::Read(0x1_0000 / 4 + i));
    }
    tb.run(10_000);
    for &(a, v) in &words {
        let beat = u64::from(a / 4);
        let r = tb.r_seen.iter().find(|r| r.0 == beat).expect("beat read");
        assert_eq!((r.1 >> (32 * (a % 4))) as u32, v, "word {a:#x}");
    }
    for (i, &(a, v)) in tb.words_read.iter().enumerate() {
        assert_eq!(a, 0x1_0000 / 4 + i as u32);
        assert_eq!(v, beats[i / 4].0[i % 4]);
        assert_eq!(v, tb.model(a as usize));
    }
}

/// Beats beyond the memory get DECERR (not written, zero data), the beats before them are
/// written; an unsupported size, a strobe covering part of a lane and a misplaced WLAST get
/// SLVERR; each error response pulses `error`.
#[test]
fn errors_outside_the_memory_and_for_unsupported_bursts() {
    let mut next = rng(31);
    let mut tb = Bench::new(32, 48);
    let end = MEM_BYTES;
    // Two beats in range, two beyond.
    let straddle = random_beats(&mut next, 4, false);
    tb.write(WBurst::new(end - 32, straddle.clone()));
    tb.write(WBurst::new(end + 0x1000, random_beats(&mut next, 3, false)));
    tb.write(WBurst::new(0xffff_fff0, random_beats(&mut next, 1, false)));
    let mut narrow = WBurst::new(0x200, random_beats(&mut next, 2, false));
    narrow.size = 2;
    tb.write(narrow);
    let mut partial = random_beats(&mut next, 2, false);
    partial[1].1 = 0xfff0 | 0x3;
    tb.write(WBurst::new(0x300, partial.clone()));
    let mut early = WBurst::new(0x400, random_beats(&mut next, 3, false));
    early.wlast_at = 1;
    tb.write(early);
    tb.run(10_000);
    assert_eq!(tb.b_seen, vec![DECERR, DECERR, DECERR, SLVERR, SLVERR, SLVERR]);
    // The unsupported bursts wrote nothing, the partial one its full lanes only.
    assert!((0x200 / 4..0x200 / 4 + 8).all(|w| tb.model(w) == 0));
    assert_eq!(tb.model(0x300 / 4 + 4), 0, "lane 0 of beat 1: partly strobed");
    for (w, l) in [(0, 0), (5, 1), (7, 3)] {
        assert_eq!(tb.model(0x300 / 4 + w), partial[w / 4].0[l], "word {w}");
    }
    tb.read(RBurst::new(end - 32, 4));
    tb.read(RBurst::new(end, 2));
    let mut wrap = RBurst::new(0x100, 2);
    wrap.burst = 2;
    tb.read(wrap);
    // The partly written beats read back as the model has them (checked in `step`).
    tb.read(RBurst::new(0x300, 2));
    tb.run(10_000);
    let resp: Vec<u64> = tb.r_seen.iter().map(|r| r.2).collect();
    assert_eq!(
        resp,
        [OKAY, OKAY, DECERR, DECERR, DECERR, DECERR, SLVERR, SLVERR, OKAY, OKAY]
    );
    for (i, r) in tb.r_seen[..2].iter().enumerate() {
        let want = straddle[i]
            .0
            .iter()
            .rev()
            .fold(0u128, |a, &x| (a << 32) | u128::from(x));
        assert_eq!(r.1, want);
    }
    assert_eq!(tb.errors, 6 + 6);
}

/// The memory's Verilog is lint-clean, its lanes are 32-bit RAMs of the memory's depth
/// (block RAM for Yosys), and the bridge's port is as the protocol notes name it.
#[test]
fn verilog_is_lint_clean_with_four_lanes() {
    let v = crate::emit::board_mem_verilog();
    let top = crate::emit::BOARD_MEM_TOP;
    let decl = format!("reg [31:0] mem [0:{}];", MEM_BEATS - 1);
    assert_eq!(v.matches(&decl).count(), 4, "four 32-bit lanes");
    let ports = crate::ports::parse_ports(&v, top).unwrap();
    for (name, input, width) in [
        ("mem_valid", true, 1),
        ("mem_write", true, 1),
        ("mem_addr", true, MEM_WORD_ADDR_BITS as u32),
        ("mem_wdata", true, 32),
        ("mem_ready", false, 1),
        ("mem_rvalid", false, 1),
        ("mem_rdata", false, 32),
        ("s_axi_rdata", false, 128),
        ("s_axi_wstrb", true, 16),
    ] {
        let p = ports
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!((p.input, p.width), (input, width), "{name}");
    }
    let messages = crate::emit::tests::verilator_lint(&v, top, top);
    assert!(messages.is_empty(), "{}", messages.join("\n"));
}

/// Reset ends a burst midway: the memory takes new bursts afterwards and keeps its contents.
#[test]
fn reset_keeps_the_contents() {
    let mut next = rng(41);
    let mut tb = Bench::new(42, 0);
    let beats = random_beats(&mut next, 8, false);
    tb.write(WBurst::new(0x2000, beats.clone()));
    tb.run(1000);
    tb.m.reset.next = true;
    cycle(&mut tb.m);
    tb.m.reset.next = false;
    tb.read(RBurst::new(0x2000, 8));
    tb.run(1000);
    for (i, r) in tb.r_seen.iter().enumerate() {
        assert_eq!(
            r.1,
            beats[i].0.iter().rev().fold(0u128, |a, &x| (a << 32) | u128::from(x))
        );
    }
}
