//! Measurements of the board over its UART (`fpga/reports/uart_bridge.md`), as ignored tests
//! that print markdown; they assert correctness only, never a time:
//!
//! ```sh
//! cargo test --release -p npe-host --lib sim_board::bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - `bridge_frames`: cycles per frame of the Verilated `uart_bridge` (the board's bridge at the
//!   board's [`CLKS_PER_BIT`]) with the board memory's word port modelled in Rust (it answers a
//!   read exactly two cycles after the request and never stalls, as `BoardMem` does), and of
//!   the simulated board core ([`SimBoard`], at its own clocks per bit) for comparison.
//! - `gemm_over_the_line`: a 64×64×64 INT8 job from the UART back end over a pty to the
//!   simulated board: bytes and frames on the line, the job's cycles; the cycles of 64³ and 256³
//!   jobs on the Verilated accelerators with a memory like the board's.
//! - `host_time_per_job`: the runtime's own time per job (validation, packing, unpacking,
//!   allocation) with every back-end call timed and taken out, and the UART back end's framing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use npe_hdl::spec::board::{CLKS_PER_BIT, CLOCK_HZ, MEM_BYTES, UART_BAUD};
use npe_hdl::spec::uart::{Command, Reply, Request, Status, MAX_WORDS, REPLY_HEADER_BYTES, TRAILER_BYTES, WORD_BYTES};
use npe_hdl::spec::{Format, NpeConfig, OutputFormat};
use rand::{Rng, SeedableRng};

use super::tests::{connect, sim_peer};
use super::*;
use crate::device::functional::{FunctionalBackend, FunctionalOptions};
use crate::device::sim::{SimBackend, SimOptions};
use crate::device::{Backend, BufferSizes, Device, DmaFault, GemmJob};

/// The Verilated `uart_bridge` top with the board memory's word port modelled in Rust.
struct BridgeTop {
    sim: Sim,
    line: SerialLine,
    mem: Vec<u32>,
    /// Read data due on the word port: one entry per cycle, the oldest answered.
    reads: VecDeque<Option<u32>>,
    ports: [Port; 7],
}

impl BridgeTop {
    fn new() -> BridgeTop {
        let top = npe_sim::tops::uart_bridge::TOP;
        let p = |n: &str| top.port(n).unwrap_or_else(|| panic!("uart_bridge has no port {n}"));
        let ports = [
            "reset",
            "mem_valid",
            "mem_write",
            "mem_addr",
            "mem_wdata",
            "mem_rvalid",
            "mem_rdata",
        ]
        .map(p);
        let mut sim = Sim::new(top);
        let line = SerialLine::new(top, CLKS_PER_BIT).unwrap();
        line.idle(&mut sim);
        sim.set(p("mem_ready"), 1);
        sim.set(ports[0], 1);
        for _ in 0..4 {
            sim.tick();
        }
        sim.set(ports[0], 0);
        BridgeTop {
            sim,
            line,
            mem: vec![0; (MEM_BYTES / 4) as usize],
            reads: VecDeque::new(),
            ports,
        }
    }

    /// Sends `req` and clocks until its reply's last stop bit has ended (a host that answers at
    /// once): the reply and the cycles from the request's first bit.
    fn exchange(&mut self, req: &Request) -> (Reply, u64) {
        let [_, valid, write, addr, wdata, rvalid, rdata] = self.ports;
        self.line.send(&req.encode());
        let len = REPLY_HEADER_BYTES + WORD_BYTES * req.reply_words() + TRAILER_BYTES;
        let (mut got, mut cycles) = (Vec::new(), 0u64);
        let limit = 20 * (len + req.encode().len()) as u64 * 10 * u64::from(CLKS_PER_BIT);
        while got.len() < len {
            let (mem, reads) = (&mut self.mem, &mut self.reads);
            got.extend(self.line.cycle(&mut self.sim, |s| {
                s.tick();
                // The request the bridge shows after this edge is taken at the next; a read's
                // word is shown two cycles after the request, for the edge after that.
                let a = s.get(addr) as usize;
                let read = match (s.get(valid) != 0, s.get(write) != 0) {
                    (true, true) => {
                        mem[a] = s.get(wdata) as u32;
                        None
                    }
                    (true, false) => Some(mem[a]),
                    _ => None,
                };
                reads.push_back(read);
                if reads.len() > 2 {
                    let due = reads.pop_front().flatten();
                    s.set(rvalid, u64::from(due.is_some()));
                    s.set(rdata, due.unwrap_or(0).into());
                }
            }));
            cycles += 1;
            assert!(cycles < limit, "no reply to {req:?}: {got:x?}");
        }
        // The rest of the last stop bit (sampled in its middle).
        let rest = CLKS_PER_BIT - CLKS_PER_BIT / 2 - 1;
        for _ in 0..rest {
            self.line.cycle(&mut self.sim, Sim::tick);
        }
        (
            Reply::decode(&got).expect("a well-formed reply"),
            cycles + u64::from(rest),
        )
    }
}

/// Sends `req` to a [`SimBoard`] directly (no pty) and returns its reply and the cycles from
/// the request's first bit to the end of the reply's last stop bit.
fn board_exchange(board: &mut SimBoard, req: &Request) -> (Reply, u64) {
    let before = board.stats().cycles;
    let bytes = board.on_bytes(&req.encode(), Instant::now());
    let rest = SimBoard::CLKS_PER_BIT - SimBoard::CLKS_PER_BIT / 2 - 1;
    let cycles = board.stats().cycles - before + u64::from(rest);
    (Reply::decode(&bytes).expect("a well-formed reply"), cycles)
}

/// Line bits of a request and its reply (10 a byte).
fn line_bits(req: &Request) -> u64 {
    let reply = REPLY_HEADER_BYTES + WORD_BYTES * req.reply_words() + TRAILER_BYTES;
    10 * (req.encode().len() + reply) as u64
}

/// Payload bytes per second of back-to-back 256-word MEM_WRITE and MEM_READ frames on the
/// Verilated `uart_bridge` at the board's clock and baud (the lower of the two).
fn payload_rate() -> f64 {
    let words = vec![0x5A5A_A5A5; MAX_WORDS];
    let mut bridge = BridgeTop::new();
    [
        Request::mem_write(1, 0, &words),
        Request::mem_read(2, 0, MAX_WORDS as u16),
    ]
    .iter()
    .map(|req| {
        let (reply, cycles) = bridge.exchange(req);
        assert_eq!(reply.status, Status::Ok);
        (MAX_WORDS * WORD_BYTES) as f64 / (cycles as f64 / f64::from(CLOCK_HZ))
    })
    .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore = "measurement (fpga/reports/uart_bridge.md)"]
fn bridge_frames() {
    let words: Vec<u32> = (0..MAX_WORDS as u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
    let frames = [
        ("MEM_WRITE, 256 words", Request::mem_write(1, 0x1000, &words)),
        ("MEM_READ, 256 words", Request::mem_read(2, 0x1000, MAX_WORDS as u16)),
        ("MEM_WRITE, 1 word", Request::mem_write(3, 0x2000, &[7])),
        ("MEM_READ, 1 word", Request::mem_read(4, 0x2000, 1)),
    ];
    let clk = f64::from(CLOCK_HZ);
    println!(
        "Verilated `uart_bridge` at {CLKS_PER_BIT} clocks per bit ({} MHz, {} baud), word port as \
         BoardMem's; cycles from a request's first bit to the end of its reply's last stop bit, \
         host answering at once:\n",
        CLOCK_HZ / 1_000_000,
        UART_BAUD
    );
    println!("| frame | line bits | cycles | of which not on the line | time | payload bytes/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut bridge = BridgeTop::new();
    let mut exact = Vec::new();
    for (name, req) in &frames {
        let (reply, cycles) = bridge.exchange(req);
        assert_eq!(reply.status, Status::Ok);
        if req.cmd == Command::MemRead {
            // What the writes before it left there.
            let want = if req.count == 1 { &[7][..] } else { &words[..] };
            assert_eq!(reply.data, want);
        }
        let line = line_bits(req) * u64::from(CLKS_PER_BIT);
        let payload = (req.count as usize * WORD_BYTES) as f64;
        println!(
            "| {name} | {} | {cycles} | {} | {:.1} µs | {:.0} |",
            line_bits(req),
            cycles as i64 - line as i64,
            cycles as f64 / clk * 1e6,
            payload / (cycles as f64 / clk)
        );
        exact.push(cycles);
    }

    let cpb = SimBoard::CLKS_PER_BIT;
    println!(
        "\nThe simulated board core (`board_core_sim`, {}, {cpb} clocks per bit), the same frames and \
         register accesses; \"scaled\" keeps the cycles not on the line and scales the line's to \
         {CLKS_PER_BIT} clocks per bit:\n",
        SimBoard::CONFIG.name
    );
    println!(
        "| frame | cycles at {cpb} clocks/bit | not on the line | scaled to {CLKS_PER_BIT} | `uart_bridge` measured |"
    );
    println!("|---|---:|---:|---:|---:|");
    let mut board = SimBoard::new(HOST_IDLE).unwrap();
    let regs = [
        (
            "REG_WRITE SCRATCH",
            Request::reg_write(5, npe_hdl::spec::regs::SCRATCH.offset, 1),
        ),
        (
            "REG_READ STATUS",
            Request::reg_read(6, npe_hdl::spec::regs::STATUS.offset),
        ),
    ];
    for (i, (name, req)) in frames.iter().chain(&regs).enumerate() {
        let (reply, cycles) = board_exchange(&mut board, req);
        assert_eq!(reply.status, Status::Ok);
        let other = cycles as i64 - (line_bits(req) * u64::from(cpb)) as i64;
        let scaled = (line_bits(req) * u64::from(CLKS_PER_BIT)) as i64 + other;
        let measured = exact.get(i).map_or("—".to_string(), |c| c.to_string());
        println!(
            "| {name} | {cycles} | {other} | {scaled} ({:.1} µs) | {measured} |",
            scaled as f64 / clk * 1e6
        );
    }
    assert_eq!(board.stats().bad_replies + board.stats().unanswered, 0);
}

/// A 64×64×64 job of random INT8 codes to FP32.
fn int8_job(size: usize, seed: u64) -> GemmJob {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    GemmJob {
        a_fmt: Format::Int8,
        w_fmt: Format::Int8,
        out: OutputFormat::Fp32,
        scale_exp: 0,
        col_scale_exp: Vec::new(),
        m: size,
        n: size,
        k: size,
        a: (0..size * size).map(|_| rng.gen_range(0..256)).collect(),
        w: (0..size * size).map(|_| rng.gen_range(0..256)).collect(),
    }
}

/// Busy cycles of a job on `cfg`'s Verilated accelerator, its memory like the board's (a
/// read answered two cycles after the request, one read and one write burst at a time).
fn busy_on_board_like_memory(cfg: &NpeConfig, job: &GemmJob) -> u64 {
    let opts = SimOptions {
        latency: 2,
        max_bursts: Some((1, 1)),
        lite_withhold: 0.0,
        ..SimOptions::default()
    };
    let mut dev = Device::connect(SimBackend::new(cfg, &opts).unwrap(), *cfg).unwrap();
    dev.timeout = Duration::from_secs(60);
    let run = dev.gemm(job).unwrap();
    assert_eq!(run.c, job.golden().unwrap());
    run.counters.busy
}

#[test]
#[ignore = "measurement (fpga/reports/uart_bridge.md)"]
fn gemm_over_the_line() {
    let job = int8_job(64, 7);
    let mut peer = sim_peer(None);
    let mut dev = connect(&mut peer);
    let t0 = Instant::now();
    let run = dev.gemm(&job).unwrap();
    let wall = t0.elapsed();
    assert_eq!(run.c, job.golden().unwrap());
    drop(dev);
    let stats = peer.finish();
    let cpb = u64::from(SimBoard::CLKS_PER_BIT);
    let frames = stats.replies.len();
    let tx_cycles = stats.bytes_out * 10 * cpb;
    let other = stats.cycles - stats.rx_cycles - tx_cycles;
    let line_s = (stats.bytes_in + stats.bytes_out) as f64 * 10.0 / f64::from(UART_BAUD);
    let clk = f64::from(CLOCK_HZ);
    println!(
        "64×64×64 INT8 × INT8 → FP32 from the UART back end over a pty to the simulated board \
         ({}, {cpb} clocks per bit; connect included):\n",
        SimBoard::CONFIG.name
    );
    println!("| | |\n|---|---:|");
    println!("| frames (requests with their replies) | {frames} |");
    println!("| bytes host → board | {} |", stats.bytes_in);
    println!("| bytes board → host | {} |", stats.bytes_out);
    println!("| simulated cycles | {} |", stats.cycles);
    println!("| of which the line (both ways) | {} |", stats.rx_cycles + tx_cycles);
    println!("| of which neither | {other} |");
    println!("| the job's BUSY cycles | {} |", run.counters.busy);
    println!(
        "| DMA bytes read / written | {} / {} |",
        run.counters.dma_read, run.counters.dma_written
    );
    println!(
        "| wall time of the simulation | {:.1} s ({:.0} k cycles/s) |",
        wall.as_secs_f64(),
        stats.cycles as f64 / wall.as_secs_f64() / 1e3
    );
    println!("\n| request | frames | words |\n|---|---:|---:|");
    for cmd in Command::ALL {
        let of: Vec<&Request> = stats.requests.iter().filter(|r| r.cmd == cmd).collect();
        let words: u64 = of.iter().map(|r| u64::from(r.count)).sum();
        println!("| {cmd:?} | {} | {words} |", of.len());
    }
    let polls = stats
        .requests
        .iter()
        .filter(|r| r.cmd == Command::RegRead && r.addr == npe_hdl::spec::regs::STATUS.offset)
        .count();
    println!("| (of the REG_READs: STATUS polls) | {polls} | |");
    println!(
        "\nAt {} MHz and {} baud: the line {:.1} ms, the cycles off the line {:.3} ms, the job's \
         BUSY cycles {:.3} ms.",
        CLOCK_HZ / 1_000_000,
        UART_BAUD,
        line_s * 1e3,
        other as f64 / clk * 1e3,
        run.counters.busy as f64 / clk * 1e3
    );

    let rate = payload_rate();
    println!(
        "\nBUSY cycles on the Verilated accelerators, memory like the board's (latency 2, one burst \
         each way); the operands' and result's line time at {rate:.0} payload bytes/s (256-word \
         frames on the Verilated `uart_bridge`):\n"
    );
    println!("| job | preset | BUSY cycles | at 50 MHz | operand + result bytes | board memory it needs | their line time | line / compute |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for size in [64, 256] {
        let job = int8_job(size, 11);
        for cfg in [NpeConfig::TEST, SimBoard::CONFIG] {
            let busy = busy_on_board_like_memory(&cfg, &job);
            let sizes = BufferSizes::of_shape(&cfg, (job.a_fmt, job.w_fmt), (size, size, size), false).unwrap();
            let bytes = sizes.a + sizes.w + sizes.c;
            let (compute, line) = (busy as f64 / clk, bytes as f64 / rate);
            println!(
                "| {size}³ | {} | {busy} | {:.2} ms | {bytes} | {} KiB of {} | {:.3} s | {:.0} |",
                cfg.name,
                compute * 1e3,
                sizes.device_bytes() / 1024,
                MEM_BYTES / 1024,
                line,
                line / compute
            );
        }
    }
}

/// A back end whose every call is timed: what the runtime spends outside it is the host's own.
struct Timed<B> {
    inner: B,
    inside: Duration,
}

impl<B: Backend> Timed<B> {
    fn time<T>(&mut self, f: impl FnOnce(&mut B) -> T) -> T {
        let t0 = Instant::now();
        let r = f(&mut self.inner);
        self.inside += t0.elapsed();
        r
    }
}

impl<B: Backend> Backend for Timed<B> {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        self.time(|b| b.read_reg(offset))
    }
    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        self.time(|b| b.write_reg(offset, value))
    }
    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        self.time(|b| b.write_mem(addr, bytes))
    }
    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        self.time(|b| b.read_mem(addr, len))
    }
    fn mem_base(&self) -> u32 {
        self.inner.mem_base()
    }
    fn mem_size(&self) -> u32 {
        self.inner.mem_size()
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        self.time(|b| b.wait(d))
    }
    fn poll_interval(&self) -> Duration {
        self.inner.poll_interval()
    }
    fn take_dma_faults(&mut self) -> Vec<DmaFault> {
        self.time(|b| b.take_dma_faults())
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[test]
#[ignore = "measurement (fpga/reports/uart_bridge.md)"]
fn host_time_per_job() {
    println!("The runtime's own time per job (`Device::gemm` minus the time inside the back end's calls; functional back end, npe4x4; best of 5):\n");
    let rate = payload_rate();
    println!("| job | operand + result bytes | host time | their line time at {rate:.0} B/s | host / line |");
    println!("|---|---:|---:|---:|---:|");
    let cfg = NpeConfig::TEST;
    for size in [64, 256] {
        let job = int8_job(size, 3);
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let fun = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
            let mut dev = Device::connect(
                Timed {
                    inner: fun,
                    inside: Duration::ZERO,
                },
                cfg,
            )
            .unwrap();
            let before = dev.backend().inside;
            let t0 = Instant::now();
            let run = dev.gemm(&job).unwrap();
            let total = t0.elapsed();
            assert_eq!(run.c.len(), size * size);
            best = best.min(total - (dev.backend().inside - before));
        }
        let sizes = BufferSizes::of_shape(&cfg, (job.a_fmt, job.w_fmt), (size, size, size), false).unwrap();
        let bytes = sizes.a + sizes.w + sizes.c;
        let line = bytes as f64 / rate;
        println!(
            "| {size}³ INT8 → FP32 | {bytes} | {:.2} ms | {:.3} s | {:.1e} |",
            best.as_secs_f64() * 1e3,
            line,
            best.as_secs_f64() / line
        );
    }

    // The UART back end's own work per frame: encoding a MEM_WRITE, decoding a MEM_READ's reply.
    let words: Vec<u32> = (0..MAX_WORDS as u32).collect();
    let reply = Reply {
        status: Status::Ok,
        seq: 1,
        data: words.clone(),
    }
    .encode();
    let n = 2000;
    let t0 = Instant::now();
    let mut sink = 0usize;
    for i in 0..n {
        sink += Request::mem_write(i as u8, 0, &words).encode().len();
    }
    let enc = t0.elapsed() / n;
    let t0 = Instant::now();
    for _ in 0..n {
        sink += Reply::decode(&reply).unwrap().data.len();
    }
    let dec = t0.elapsed() / n;
    assert!(sink > 0);
    println!(
        "\nUART framing per 256-word frame (1,024 payload bytes): encoding a MEM_WRITE {:.1} µs, decoding a MEM_READ reply {:.1} µs.",
        enc.as_secs_f64() * 1e6,
        dec.as_secs_f64() * 1e6
    );
}
