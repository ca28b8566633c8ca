//! Tests of `UartBridge` against behavioural AXI4-Lite and memory models, with `spec::uart` as the reference.

use super::*;
use crate::accel::testbench::{cycle, rng, HasClock};
use crate::spec::board::CLKS_PER_BIT;
use crate::spec::uart::{crc8, Reply, Request, WORD_BYTES};
use std::collections::{BTreeSet, HashMap, VecDeque};

impl HasClock for UartBridge {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

/// Memory of the tests: small, so the end of its range is reachable.
const MEM_WORDS: u32 = 1024;

/// What the behavioural AXI4-Lite slave does at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    SlvErr,
    DecErr,
    /// Takes the request and never answers.
    NoResponse,
}

/// An AXI4-Lite slave: registers in a map, faults by address, random ready and response
/// delays; checks that the master holds its requests until they are taken.
#[derive(Default)]
struct AxiSlave {
    regs: HashMap<u32, u32>,
    faults: HashMap<u32, Fault>,
    writes: usize,
    reads: usize,
    aw: Option<u32>,
    w: Option<u32>,
    // Pending response: (cycles before it is presented, RESP, RDATA).
    b: Option<(u32, u64)>,
    ar: Option<u32>,
    r: Option<(u32, u64, u32)>,
    // Requests seen unaccepted last cycle (must be held).
    held_aw: Option<u32>,
    held_w: Option<u32>,
    held_ar: Option<u32>,
}

/// A word memory: random ready, reads answered 1 to 6 cycles later, in order.
struct Mem {
    words: Vec<u32>,
    writes: usize,
    reads: VecDeque<(u64, u32)>,
    held: Option<(bool, u32, u32)>,
    stall: u32,
}

/// The bench: the bridge, its slaves, the rx line it is driven with, the tx line decoded.
struct Bench {
    uut: UartBridge,
    clks: u32,
    line: VecDeque<bool>,
    axi: AxiSlave,
    mem: Mem,
    r: Box<dyn FnMut() -> u64>,
    t: u64,
    // Percent chance of a ready (AXI, memory) in a cycle.
    ready_pct: u64,
    // The tx decoder: start of the frame being sampled, bits so far.
    tx_start: Option<u64>,
    tx_bits: Vec<bool>,
    got: VecDeque<u8>,
    // Time each reply byte's start bit began.
    got_at: VecDeque<u64>,
}

impl Bench {
    fn new(clks: u32, seed: u64) -> Bench {
        let mut uut = UartBridge::new(clks, MEM_WORDS);
        uut.connect_all();
        let mut r = rng(seed);
        let words = (0..MEM_WORDS).map(|_| r() as u32).collect();
        let mut b = Bench {
            uut,
            clks,
            line: VecDeque::new(),
            axi: AxiSlave::default(),
            mem: Mem {
                words,
                writes: 0,
                reads: VecDeque::new(),
                held: None,
                stall: 0,
            },
            r: Box::new(r),
            t: 0,
            ready_pct: 50,
            tx_start: None,
            tx_bits: Vec::new(),
            got: VecDeque::new(),
            got_at: VecDeque::new(),
        };
        b.uut.reset.next = true;
        b.uut.rx.next = true;
        cycle(&mut b.uut);
        cycle(&mut b.uut);
        b.uut.reset.next = false;
        b
    }

    fn chance(&mut self, pct: u64) -> bool {
        (self.r)() % 100 < pct
    }

    /// Queues `bytes` on the rx line, back to back.
    fn send(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.send_byte(b, true);
        }
    }

    /// Queues one frame; `stop` false makes a framing error.
    fn send_byte(&mut self, b: u8, stop: bool) {
        let bits = std::iter::once(false)
            .chain((0..8).map(|i| b >> i & 1 == 1))
            .chain([stop]);
        for bit in bits {
            self.line.extend(std::iter::repeat_n(bit, self.clks as usize));
        }
    }

    /// Queues `bits` bit times of idle line.
    fn idle(&mut self, bits: u32) {
        self.line.extend(std::iter::repeat_n(true, (bits * self.clks) as usize));
    }

    /// One clock cycle: drive the inputs, clock, then let the models see the handshakes.
    fn step(&mut self) {
        // ---- inputs for this edge (the bridge's outputs are registers: already final)
        let rx = self.line.pop_front().unwrap_or(true);
        let p = self.ready_pct;
        let awready = self.axi.aw.is_none() && self.axi.b.is_none() && self.chance(p);
        let wready = self.axi.w.is_none() && self.axi.b.is_none() && self.chance(p);
        let arready = self.axi.ar.is_none() && self.axi.r.is_none() && self.chance(p);
        let (bvalid, bresp) = match self.axi.b {
            Some((0, resp)) => (true, resp),
            _ => (false, 0),
        };
        let (rvalid, rresp, rdata) = match self.axi.r {
            Some((0, resp, data)) => (true, resp, data),
            _ => (false, 0, 0xBAD0_BAD0),
        };
        // A stall never longer than 24 cycles (the bridge needs a write taken within four
        // byte times).
        let mem_ready = self.mem.stall >= 24 || self.chance(p);
        let (mem_rvalid, mem_rdata) = match self.mem.reads.front() {
            Some(&(due, data)) if due <= self.t => (true, data),
            _ => (false, 0xBAD1_BAD1),
        };
        let u = &mut self.uut;
        u.rx.next = rx;
        u.m_axil_awready.next = awready;
        u.m_axil_wready.next = wready;
        u.m_axil_bvalid.next = bvalid;
        u.m_axil_bresp.next = bresp.into();
        u.m_axil_arready.next = arready;
        u.m_axil_rvalid.next = rvalid;
        u.m_axil_rresp.next = rresp.into();
        u.m_axil_rdata.next = (rdata as u64).into();
        u.mem_ready.next = mem_ready;
        u.mem_rvalid.next = mem_rvalid;
        u.mem_rdata.next = (mem_rdata as u64).into();

        // ---- what the bridge presents at this edge
        let awv = u.m_axil_awvalid.val();
        let awaddr = u.m_axil_awaddr.val().to_u32();
        let wv = u.m_axil_wvalid.val();
        let wdata = u.m_axil_wdata.val().to_u32();
        let arv = u.m_axil_arvalid.val();
        let araddr = u.m_axil_araddr.val().to_u32();
        assert!(u.m_axil_bready.val() && u.m_axil_rready.val());
        assert_eq!(u.m_axil_wstrb.val().to_u32(), 0xF);
        let mv = u.mem_valid.val();
        let mreq = (u.mem_write.val(), u.mem_addr.val().to_u32(), u.mem_wdata.val().to_u32());

        // AXI and the memory port: a request not taken is held, unchanged.
        if let Some(a) = self.axi.held_aw {
            assert!(awv && awaddr == a, "AW dropped or changed before it was taken");
        }
        if let Some(d) = self.axi.held_w {
            assert!(wv && wdata == d, "W dropped or changed before it was taken");
        }
        if let Some(a) = self.axi.held_ar {
            assert!(arv && araddr == a, "AR dropped or changed before it was taken");
        }
        if let Some((w, a, d)) = self.mem.held {
            assert!(
                mv && mreq.0 == w && mreq.1 == a && (!w || mreq.2 == d),
                "memory request dropped"
            );
        }
        self.axi.held_aw = (awv && !awready).then_some(awaddr);
        self.axi.held_w = (wv && !wready).then_some(wdata);
        self.axi.held_ar = (arv && !arready).then_some(araddr);
        self.mem.held = (mv && !mem_ready).then_some(mreq);

        cycle(&mut self.uut);
        self.t += 1;

        // ---- the slaves see the handshakes
        if bvalid {
            self.axi.b = None;
        } else if let Some((d, _)) = &mut self.axi.b {
            *d = d.saturating_sub(1);
        }
        if rvalid {
            self.axi.r = None;
        } else if let Some((d, _, _)) = &mut self.axi.r {
            *d = d.saturating_sub(1);
        }
        if awv && awready {
            assert!(awaddr & 3 == 0, "unaligned AWADDR {awaddr:#x}");
            self.axi.aw = Some(awaddr);
        }
        if wv && wready {
            self.axi.w = Some(wdata);
        }
        if let (Some(a), Some(d)) = (self.axi.aw, self.axi.w) {
            self.axi.aw = None;
            self.axi.w = None;
            let delay = ((self.r)() % 4) as u32;
            match self.axi.faults.get(&a) {
                None => {
                    self.axi.regs.insert(a, d);
                    self.axi.writes += 1;
                    self.axi.b = Some((delay, AxiResp::Okay.code()));
                }
                Some(Fault::SlvErr) => self.axi.b = Some((delay, AxiResp::SlvErr.code())),
                Some(Fault::DecErr) => self.axi.b = Some((delay, AxiResp::DecErr.code())),
                Some(Fault::NoResponse) => {}
            }
        }
        if arv && arready {
            assert!(araddr & 3 == 0, "unaligned ARADDR {araddr:#x}");
            self.axi.reads += 1;
            let delay = ((self.r)() % 4) as u32;
            let data = self.axi.regs.get(&araddr).copied().unwrap_or(0);
            match self.axi.faults.get(&araddr) {
                None => self.axi.r = Some((delay, AxiResp::Okay.code(), data)),
                Some(Fault::SlvErr) => self.axi.r = Some((delay, AxiResp::SlvErr.code(), 0xEEEE_EEEE)),
                Some(Fault::DecErr) => self.axi.r = Some((delay, AxiResp::DecErr.code(), 0xEEEE_EEEE)),
                Some(Fault::NoResponse) => {}
            }
        }
        if mem_rvalid {
            self.mem.reads.pop_front();
        }
        self.mem.stall = if mv && !mem_ready { self.mem.stall + 1 } else { 0 };
        if mv && mem_ready {
            let (w, a, d) = mreq;
            assert!(a < MEM_WORDS, "memory address {a:#x} beyond the memory");
            if w {
                self.mem.words[a as usize] = d;
                self.mem.writes += 1;
            } else {
                let last = self.mem.reads.back().map_or(0, |r| r.0);
                let due = (self.t + 1 + (self.r)() % 6).max(last + 1);
                self.mem.reads.push_back((due, self.mem.words[a as usize]));
            }
        }

        // ---- the tx line, sampled mid-bit
        let tx = self.uut.tx.val();
        let c = self.clks as u64;
        match self.tx_start {
            None => {
                if !tx {
                    self.tx_start = Some(self.t);
                    self.tx_bits.clear();
                }
            }
            Some(t0) => {
                let k = self.tx_bits.len() as u64;
                if self.t == t0 + c / 2 + k * c {
                    self.tx_bits.push(tx);
                    if self.tx_bits.len() == 10 {
                        assert!(!self.tx_bits[0], "tx start bit not low mid-bit");
                        assert!(self.tx_bits[9], "tx stop bit low");
                        let byte = (0..8).fold(0u8, |b, i| b | (self.tx_bits[1 + i] as u8) << i);
                        self.got.push_back(byte);
                        self.got_at.push_back(t0);
                        self.tx_start = None;
                    }
                }
            }
        }
    }

    /// Runs until a whole reply has arrived (at most `limit` cycles); returns it decoded
    /// and the cycle its first byte started.
    fn reply_within(&mut self, limit: u64) -> (Reply, u64) {
        let end = self.t + limit;
        loop {
            let bytes: Vec<u8> = self.got.iter().copied().collect();
            if let Some(n) = Reply::frame_len(&bytes) {
                if bytes.len() >= n {
                    let at = self.got_at[0];
                    self.got.drain(..n);
                    self.got_at.drain(..n);
                    let reply = Reply::decode(&bytes[..n]).unwrap_or_else(|e| panic!("bad reply {bytes:02x?}: {e}"));
                    return (reply, at);
                }
            }
            assert!(self.t < end, "no reply within {limit} cycles (got {bytes:02x?})");
            self.step();
        }
    }

    /// The reply to what was sent, within the time of the line queued plus the idle rule.
    fn reply(&mut self) -> Reply {
        let limit = self.line.len() as u64 + (IDLE_TIMEOUT_BITS as u64 + 1100 * 10) * self.clks as u64 + 10_000;
        self.reply_within(limit).0
    }

    /// Sends `req` and returns its reply; the reply echoes the SEQ.
    fn transact(&mut self, req: &Request) -> Reply {
        self.send(&req.encode());
        let reply = self.reply();
        assert_eq!(reply.seq, req.seq, "{req:?}");
        reply
    }

    /// No byte leaves for longer than the idle rule: exactly one reply per frame.
    fn assert_quiet(&mut self) {
        let n = (IDLE_TIMEOUT_BITS + 40) as u64 * self.clks as u64 + self.line.len() as u64;
        for _ in 0..n {
            self.step();
        }
        assert!(
            self.got.is_empty() && self.tx_start.is_none(),
            "an extra reply: {:02x?}",
            self.got
        );
    }
}

fn ok(data: Vec<u32>, seq: u8) -> Reply {
    Reply {
        status: Status::Ok,
        seq,
        data,
    }
}

fn err(status: Status, seq: u8) -> Reply {
    Reply {
        status,
        seq,
        data: vec![],
    }
}

/// A request frame with any CMD byte and COUNT, `data` words, and a correct CRC.
fn raw_frame(cmd: u8, seq: u8, addr: u32, count: u16, data: &[u32]) -> Vec<u8> {
    let mut b = vec![REQUEST_SYNC, cmd, seq];
    b.extend_from_slice(&addr.to_le_bytes());
    b.extend_from_slice(&count.to_le_bytes());
    for w in data {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.push(crc8(&b[1..]));
    b
}

#[test]
fn register_writes_and_reads() {
    let mut b = Bench::new(4, 1);
    let mut r = rng(2);
    let mut want = HashMap::new();
    for i in 0..12u8 {
        let addr = ((r() % 64) * 4) as u32;
        let value = r() as u32;
        assert_eq!(b.transact(&Request::reg_write(i, addr, value)), ok(vec![], i));
        want.insert(addr, value);
        let read = *want.keys().nth((r() as usize) % want.len()).unwrap();
        assert_eq!(
            b.transact(&Request::reg_read(i ^ 0x80, read)),
            ok(vec![want[&read]], i ^ 0x80)
        );
    }
    assert_eq!(b.axi.regs, want);
    assert_eq!((b.axi.writes, b.axi.reads), (12, 12));
    // The last register of the space.
    assert_eq!(b.transact(&Request::reg_write(7, 0xFC, 0x1234_5678)), ok(vec![], 7));
    assert_eq!(b.transact(&Request::reg_read(8, 0xFC)), ok(vec![0x1234_5678], 8));
    assert_eq!(b.mem.writes + b.mem.reads.len(), 0);
    b.assert_quiet();
}

#[test]
fn memory_writes_then_reads_back_1_and_256_words() {
    let mut b = Bench::new(4, 3);
    let mut r = rng(4);
    // One word, then the 256 words at the very end of the memory.
    let one = [r() as u32];
    assert_eq!(b.transact(&Request::mem_write(1, 0x40, &one)), ok(vec![], 1));
    assert_eq!(b.mem.words[0x10], one[0]);
    assert_eq!(b.transact(&Request::mem_read(2, 0x40, 1)), ok(one.to_vec(), 2));
    let many: Vec<u32> = (0..MAX_WORDS).map(|_| r() as u32).collect();
    let base = (MEM_WORDS - MAX_WORDS as u32) * 4;
    let before = b.mem.words.clone();
    assert_eq!(b.transact(&Request::mem_write(3, base, &many)), ok(vec![], 3));
    assert_eq!(&b.mem.words[(base / 4) as usize..], &many[..]);
    assert_eq!(&b.mem.words[..(base / 4) as usize], &before[..(base / 4) as usize]);
    assert_eq!(b.mem.writes, 1 + MAX_WORDS);
    assert_eq!(
        b.transact(&Request::mem_read(4, base, MAX_WORDS as u16)),
        ok(many.clone(), 4)
    );
    // Reads of words never written return the memory's contents.
    let mid = 0x200;
    assert_eq!(
        b.transact(&Request::mem_read(5, mid * 4, 3)),
        ok(b.mem.words[mid as usize..mid as usize + 3].to_vec(), 5)
    );
    assert_eq!(b.axi.writes + b.axi.reads, 0);
    b.assert_quiet();
}

#[test]
fn a_memory_read_reply_leaves_without_gaps() {
    // Memory always ready: the read ahead keeps the transmitter busy, byte after byte.
    let mut b = Bench::new(4, 5);
    b.ready_pct = 100;
    b.send(&Request::mem_read(9, 0, 64).encode());
    let (reply, _) = b.reply_within(100_000);
    assert_eq!(reply.data.len(), 64);
    let mut b = Bench::new(4, 5);
    b.ready_pct = 100;
    b.send(&Request::mem_read(9, 0, 64).encode());
    let limit = b.t + b.line.len() as u64 + 100_000;
    while b.got.len() < 5 + 4 * 64 + 1 {
        b.step();
        assert!(b.t < limit);
    }
    let starts: Vec<u64> = b.got_at.iter().copied().collect();
    for w in starts.windows(2) {
        assert_eq!(w[1] - w[0], 10 * 4, "a gap in the reply");
    }
}

#[test]
fn every_status_code() {
    let mut b = Bench::new(4, 6);
    let mut seen = BTreeSet::new();
    let mut check = |b: &mut Bench, bytes: Vec<u8>, want: Reply| {
        b.send(&bytes);
        let got = b.reply();
        assert_eq!(got, want, "frame {bytes:02x?}");
        seen.insert(got.status.code());
        b.assert_quiet();
    };
    b.axi.faults.insert(0x20, Fault::SlvErr);
    b.axi.faults.insert(0x24, Fault::DecErr);
    b.axi.faults.insert(0x28, Fault::NoResponse);

    // BAD_CRC: the register is not written.
    let mut f = Request::reg_write(0x11, 0x10, 0xFEED_F00D).encode();
    *f.last_mut().unwrap() ^= 0x40;
    check(&mut b, f, err(Status::BadCrc, 0x11));
    let mut f = Request::reg_write(0x12, 0x10, 0xFEED_F00D).encode();
    f[9] ^= 1;
    check(&mut b, f, err(Status::BadCrc, 0x12));
    assert_eq!(b.axi.writes, 0);
    assert!(b.axi.regs.is_empty());
    // A MEM_READ with a bad CRC reads nothing.
    let mut f = Request::mem_read(0x13, 0, 4).encode();
    f[9] ^= 0x80;
    check(&mut b, f, err(Status::BadCrc, 0x13));
    assert!(b.mem.reads.is_empty());

    // BAD_CMD (with its payload skipped by the idle rule) and codes next to the valid ones.
    for (seq, cmd) in [(0x21, 0x00u8), (0x22, 0x05), (0x23, 0xA5)] {
        check(
            &mut b,
            raw_frame(cmd, seq, 0x10, 1, &[0xA5A5_A5A5]),
            err(Status::BadCmd, seq),
        );
    }

    // BAD_COUNT: 0, above MAX_WORDS, not 1 for a register.
    check(&mut b, raw_frame(0x02, 0x31, 0x10, 2, &[]), err(Status::BadCount, 0x31));
    check(&mut b, raw_frame(0x01, 0x32, 0x10, 0, &[]), err(Status::BadCount, 0x32));
    check(&mut b, raw_frame(0x04, 0x33, 0, 0, &[]), err(Status::BadCount, 0x33));
    let big: Vec<u32> = (0..=MAX_WORDS as u32).collect();
    check(
        &mut b,
        Request::mem_write(0x34, 0, &big).encode(),
        err(Status::BadCount, 0x34),
    );
    assert_eq!(b.mem.writes, 0, "a bad frame's words reached the memory");

    // BAD_ADDR: misaligned, beyond the register space, beyond the memory.
    check(
        &mut b,
        Request::reg_read(0x41, 0x12).encode(),
        err(Status::BadAddr, 0x41),
    );
    check(
        &mut b,
        Request::reg_write(0x42, 0x100, 5).encode(),
        err(Status::BadAddr, 0x42),
    );
    check(
        &mut b,
        Request::reg_read(0x43, 0x8000_0000).encode(),
        err(Status::BadAddr, 0x43),
    );
    check(
        &mut b,
        Request::mem_read(0x44, (MEM_WORDS - 1) * 4, 2).encode(),
        err(Status::BadAddr, 0x44),
    );
    check(
        &mut b,
        Request::mem_write(0x45, 0x101, &[1, 2]).encode(),
        err(Status::BadAddr, 0x45),
    );
    check(
        &mut b,
        Request::mem_read(0x46, 0xFFFF_FFFC, 1).encode(),
        err(Status::BadAddr, 0x46),
    );
    check(
        &mut b,
        Request::mem_write(0x47, MEM_WORDS * 4, &[1]).encode(),
        err(Status::BadAddr, 0x47),
    );
    assert_eq!(b.axi.writes + b.axi.reads + b.mem.writes, 0);
    // The last word of the memory is in range.
    check(
        &mut b,
        Request::mem_write(0x48, (MEM_WORDS - 1) * 4, &[7]).encode(),
        ok(vec![], 0x48),
    );

    // TRUNCATED: in the data, in the header (SEQ echoed), before SEQ (SEQ 0), at the CRC.
    let f = Request::reg_write(0x51, 0x30, 0x0BAD_CAFE).encode();
    check(&mut b, f[..11].to_vec(), err(Status::Truncated, 0x51));
    check(&mut b, f[..5].to_vec(), err(Status::Truncated, 0x51));
    check(&mut b, f[..2].to_vec(), err(Status::Truncated, 0));
    check(&mut b, f[..f.len() - 1].to_vec(), err(Status::Truncated, 0x51));
    assert!(!b.axi.regs.contains_key(&0x30));
    // A MEM_WRITE cut short: the words that arrived are written, the reply says TRUNCATED.
    let f = Request::mem_write(0x52, 0x80, &[10, 11, 12]).encode();
    check(&mut b, f[..9 + 8].to_vec(), err(Status::Truncated, 0x52));
    assert_eq!(&b.mem.words[0x20..0x22], &[10, 11]);

    // AXI_SLVERR, AXI_DECERR, AXI_TIMEOUT on writes and reads.
    for (addr, status) in [
        (0x20, Status::AxiSlvErr),
        (0x24, Status::AxiDecErr),
        (0x28, Status::AxiTimeout),
    ] {
        check(&mut b, Request::reg_write(0x61, addr, 1).encode(), err(status, 0x61));
        check(&mut b, Request::reg_read(0x62, addr).encode(), err(status, 0x62));
    }
    // ... and the bridge still works.
    check(&mut b, Request::reg_write(0x63, 0x2C, 99).encode(), ok(vec![], 0x63));
    check(&mut b, Request::reg_read(0x64, 0x2C).encode(), ok(vec![99], 0x64));

    let all: BTreeSet<u8> = Status::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(seen, all);
}

#[test]
fn errors_reply_after_the_idle_rule_and_timeouts_after_axi_timeout_cycles() {
    let mut b = Bench::new(4, 7);
    // A bad frame is answered once the line has been idle for IDLE_TIMEOUT_BITS.
    b.send(&raw_frame(0x09, 1, 0, 1, &[]));
    let sent = b.t + b.line.len() as u64;
    let (reply, at) = b.reply_within(100_000);
    assert_eq!(reply.status, Status::BadCmd);
    let idle = (IDLE_TIMEOUT_BITS * 4) as u64;
    assert!(
        at >= sent + idle && at < sent + idle + 40,
        "replied {} cycles after the frame",
        at - sent
    );
    // An unanswered register access is answered AXI_TIMEOUT_CYCLES after its request.
    b.axi.faults.insert(0, Fault::NoResponse);
    b.send(&Request::reg_read(2, 0).encode());
    let sent = b.t + b.line.len() as u64;
    let (reply, at) = b.reply_within(100_000);
    assert_eq!(reply.status, Status::AxiTimeout);
    let tmo = AXI_TIMEOUT_CYCLES as u64;
    assert!(
        at >= sent + tmo && at < sent + tmo + 40,
        "replied {} cycles after the frame",
        at - sent
    );
    // A fast OK reply comes within a few cycles.
    b.send(&Request::reg_read(3, 4).encode());
    let sent = b.t + b.line.len() as u64;
    let (reply, at) = b.reply_within(100_000);
    assert_eq!(reply.status, Status::Ok);
    assert!(at < sent + 40, "replied {} cycles after the frame", at - sent);
}

#[test]
fn a_framing_error_inside_a_frame_is_truncated() {
    let mut b = Bench::new(4, 8);
    // The byte after the frame would complete it were the lost byte not noticed (then
    // the CRC or the header would be wrong, not the length).
    let f = Request::reg_write(0x71, 0x40, 0x5555_AAAA).encode();
    b.send(&f[..10]);
    b.send_byte(f[10], false);
    b.send(&f[11..]);
    b.send(&[f[10]]);
    assert_eq!(b.reply(), err(Status::Truncated, 0x71));
    assert!(b.axi.regs.is_empty());
    b.assert_quiet();
    // Between frames, a framing error is ignored like any other noise.
    b.send_byte(0x00, false);
    b.idle(2);
    assert_eq!(b.transact(&Request::reg_write(0x72, 0x40, 3)), ok(vec![], 0x72));
    b.assert_quiet();
}

#[test]
fn back_to_back_frames_with_garbage_between() {
    let mut b = Bench::new(4, 9);
    let mut r = rng(10);
    let mut regs: HashMap<u32, u32> = HashMap::new();
    let mut mem = b.mem.words.clone();
    for i in 0..40u8 {
        // Garbage before some frames: anything but the request SYNC.
        if i % 3 == 1 {
            let garbage: Vec<u8> = (0..1 + r() % 6)
                .map(|_| r() as u8)
                .map(|x| if x == REQUEST_SYNC { 0x5A } else { x })
                .collect();
            b.send(&garbage);
        }
        let addr = (r() % 64 * 4) as u32;
        let req = match r() % 4 {
            0 => Request::reg_write(i, addr, r() as u32),
            1 => Request::reg_read(i, addr),
            2 => {
                let n = 1 + (r() % 8) as usize;
                let waddr = (r() % (MEM_WORDS as u64 - n as u64)) as u32;
                Request::mem_write(i, waddr * 4, &(0..n).map(|_| r() as u32).collect::<Vec<_>>())
            }
            _ => {
                let n = 1 + (r() % 8) as u16;
                let waddr = (r() % (MEM_WORDS as u64 - n as u64)) as u32;
                Request::mem_read(i, waddr * 4, n)
            }
        };
        // The reference model.
        let want = match req.cmd {
            Command::RegWrite => {
                regs.insert(req.addr, req.data[0]);
                vec![]
            }
            Command::RegRead => vec![regs.get(&req.addr).copied().unwrap_or(0)],
            Command::MemWrite => {
                let w = (req.addr / 4) as usize;
                mem[w..w + req.data.len()].copy_from_slice(&req.data);
                vec![]
            }
            Command::MemRead => {
                let w = (req.addr / 4) as usize;
                mem[w..w + req.count as usize].to_vec()
            }
        };
        // The next frame follows the reply with no idle time.
        assert_eq!(b.transact(&req), ok(want, i), "{req:?}");
    }
    assert_eq!(b.axi.regs, regs);
    assert_eq!(b.mem.words, mem);
    b.assert_quiet();
}

#[test]
fn runs_at_the_boards_baud_divisor() {
    // CLKS_PER_BIT (50): the rx samples mid-bit and the tx decoder checks each bit mid-bit.
    let mut b = Bench::new(CLKS_PER_BIT, 11);
    assert_eq!(b.transact(&Request::reg_write(1, 0x8, 0xC0FF_EE00)), ok(vec![], 1));
    assert_eq!(b.transact(&Request::reg_read(2, 0x8)), ok(vec![0xC0FF_EE00], 2));
    assert_eq!(b.transact(&Request::mem_write(3, 0x10, &[1, 2, 3])), ok(vec![], 3));
    assert_eq!(b.transact(&Request::mem_read(4, 0x10, 3)), ok(vec![1, 2, 3], 4));
    // A reply byte every 10 bit times exactly.
    b.send(&Request::mem_read(5, 0x10, 2).encode());
    let limit = b.t + b.line.len() as u64 + 50_000;
    while b.got.len() < 5 + 4 * 2 + 1 {
        b.step();
        assert!(b.t < limit);
    }
    let starts: Vec<u64> = b.got_at.iter().copied().collect();
    for w in starts.windows(2) {
        assert_eq!(w[1] - w[0], 10 * CLKS_PER_BIT as u64);
    }
}

#[test]
fn reply_bytes_are_the_spec_encoding() {
    // The bytes on the tx line are exactly `Reply::encode`'s (the CRC network matches the
    // spec's CRC on every byte value through the data words).
    let mut b = Bench::new(4, 12);
    let words: Vec<u32> = (0..64u32)
        .map(|i| (4 * i) | (4 * i + 1) << 8 | (4 * i + 2) << 16 | (4 * i + 3) << 24)
        .collect();
    assert_eq!(b.transact(&Request::mem_write(0xEE, 0, &words)), ok(vec![], 0xEE));
    b.send(&Request::mem_read(0xEF, 0, 64).encode());
    let limit = b.t + b.line.len() as u64 + 100_000;
    let n = REPLY_HEADER_BYTES + WORD_BYTES * 64 + 1;
    while b.got.len() < n {
        b.step();
        assert!(b.t < limit);
    }
    let got: Vec<u8> = b.got.iter().copied().collect();
    assert_eq!(
        got,
        Reply {
            status: Status::Ok,
            seq: 0xEF,
            data: words
        }
        .encode()
    );
}
