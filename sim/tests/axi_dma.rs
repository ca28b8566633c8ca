//! The AXI4 DMAs (`axi_dma` top: read and write DMA on one port) against the AXI memory model:
//! data checked beat by beat and in memory, 4 KiB splits, latency and seeded backpressure,
//! error responses, throughput, and zero protocol violations throughout.

use npe_hdl::spec::AxiResp;
use npe_sim::axi_mem::{AxiMemConfig, AxiMemory, ErrorRange};
use npe_sim::{tops::axi_dma as t, Sim};

const BEAT: u64 = 16;

/// splitmix64, for test data and the producer's gaps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The bursts a command must become: at most 256 beats, never across a 4 KiB page.
fn split(addr: u64, beats: u64) -> Vec<(u64, u64)> {
    let (mut a, mut left, mut out) = (addr, beats, Vec::new());
    while left > 0 {
        let n = left.min(256 - (a % 4096) / BEAT);
        out.push((a, n));
        a += n * BEAT;
        left -= n;
    }
    out
}

/// What one read command delivered.
#[derive(Debug, Default)]
struct ReadOut {
    data: Vec<u8>,
    lasts: Vec<usize>,
    err: u64,
    cycles: u64,
}

/// What one write command reported.
#[derive(Debug, Default)]
struct WriteOut {
    err: u64,
    cycles: u64,
}

struct Bench {
    sim: Sim,
    mem: AxiMemory,
    rng: Rng,
}

impl Bench {
    fn new(cfg: AxiMemConfig) -> Bench {
        let seed = cfg.seed;
        let mut sim = Sim::new(t::TOP);
        let mut mem = AxiMemory::new(t::TOP, "m_axi_", cfg).unwrap();
        sim.set(t::RESET, 1);
        for _ in 0..3 {
            mem.step(&mut sim);
        }
        sim.set(t::RESET, 0);
        Bench {
            sim,
            mem,
            rng: Rng(seed ^ 0x5555),
        }
    }

    /// Fills the memory with random bytes.
    fn randomize(&mut self) {
        let n = self.mem.bytes().len();
        let b = self.rng.bytes(n);
        self.mem.bytes_mut().copy_from_slice(&b);
    }

    /// Runs `reads` one after the other on the read DMA and, at the same time, `writes` on the
    /// write DMA (the producer offers a beat with probability `src_p` per cycle and holds it
    /// until taken). Fails after `limit` cycles.
    fn run(
        &mut self,
        reads: &[(u64, u64)],
        writes: &[(u64, Vec<u8>)],
        src_p: f64,
        limit: u64,
    ) -> Result<(Vec<ReadOut>, Vec<WriteOut>), String> {
        let (mut rd_out, mut wr_out) = (Vec::<ReadOut>::new(), Vec::<WriteOut>::new());
        let (mut rd_busy, mut wr_busy) = (false, false);
        let (mut rd_start, mut wr_start) = (0, 0);
        let (mut sent, mut offered) = (0usize, false);
        let mut cycle = 0u64;
        let mut rd_done = 0;
        while rd_done < reads.len() || wr_out.len() < writes.len() {
            if cycle == limit {
                return Err(format!(
                    "no completion after {limit} cycles: {} of {} reads, {} of {} writes done",
                    rd_done,
                    reads.len(),
                    wr_out.len(),
                    writes.len()
                ));
            }
            // Command and data inputs for this cycle.
            let rd_offer = !rd_busy && rd_out.len() < reads.len();
            if rd_offer {
                let (a, b) = reads[rd_out.len()];
                self.sim.set(t::RD_CMD_ADDR, a);
                self.sim.set(t::RD_CMD_BEATS, b);
            }
            self.sim.set(t::RD_CMD_VALID, rd_offer.into());
            let wr_offer = !wr_busy && wr_out.len() < writes.len();
            if wr_offer {
                let (a, d) = &writes[wr_out.len()];
                self.sim.set(t::WR_CMD_ADDR, *a);
                self.sim.set(t::WR_CMD_BEATS, d.len() as u64 / BEAT);
            }
            self.sim.set(t::WR_CMD_VALID, wr_offer.into());
            if wr_busy {
                let d = &writes[wr_out.len()].1;
                if !offered && sent * 16 < d.len() {
                    offered = self.rng.chance(src_p);
                }
                if offered {
                    let words: Vec<u32> = d[sent * 16..sent * 16 + 16]
                        .chunks(4)
                        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    self.sim.set_wide(t::WR_DATA, &words);
                }
            }
            self.sim.set(t::WR_DATA_VALID, offered.into());

            let mut s = Sample::default();
            self.mem.step_with(&mut self.sim, |sim| s = Sample::take(sim));

            // Outputs registered at the previous edge, then this edge's handshakes.
            if s.rd_valid {
                let out = rd_out_mut(&mut rd_out, rd_busy)?;
                if s.rd_last {
                    out.lasts.push(out.data.len() / 16);
                }
                out.data.extend(&s.rd_data);
            }
            if s.rd_done {
                let out = rd_out_mut(&mut rd_out, rd_busy)?;
                out.err = s.rd_err;
                out.cycles = cycle - rd_start;
                rd_busy = false;
                rd_done += 1;
            }
            if s.wr_done {
                if !wr_busy {
                    return Err("write done while idle".into());
                }
                wr_out.push(WriteOut {
                    err: s.wr_err,
                    cycles: cycle - wr_start,
                });
                wr_busy = false;
            }
            if rd_offer && s.rd_cmd_ready {
                rd_out.push(ReadOut::default());
                rd_busy = true;
                rd_start = cycle;
            }
            if wr_offer && s.wr_cmd_ready {
                wr_busy = true;
                wr_start = cycle;
                sent = 0;
            }
            if offered && s.wr_data_ready {
                sent += 1;
                offered = false;
            }
            cycle += 1;
        }
        Ok((rd_out, wr_out))
    }

    fn assert_clean(&self) {
        assert!(
            self.mem.violations().is_empty(),
            "{} protocol violations, first: {}",
            self.mem.violation_count(),
            self.mem.violations()[0]
        );
    }
}

/// The read command in flight gets the beats (a beat while idle is an error).
fn rd_out_mut(out: &mut [ReadOut], busy: bool) -> Result<&mut ReadOut, String> {
    match out.last_mut() {
        Some(o) if busy => Ok(o),
        _ => Err("read data or done while idle".into()),
    }
}

/// The top's outputs in one cycle.
#[derive(Default)]
struct Sample {
    rd_cmd_ready: bool,
    rd_valid: bool,
    rd_data: Vec<u8>,
    rd_last: bool,
    rd_done: bool,
    rd_err: u64,
    wr_cmd_ready: bool,
    wr_data_ready: bool,
    wr_done: bool,
    wr_err: u64,
}

impl Sample {
    fn take(sim: &mut Sim) -> Sample {
        Sample {
            rd_cmd_ready: sim.get(t::RD_CMD_READY) != 0,
            rd_valid: sim.get(t::RD_DATA_VALID) != 0,
            rd_data: sim.get_wide(t::RD_DATA).iter().flat_map(|w| w.to_le_bytes()).collect(),
            rd_last: sim.get(t::RD_DATA_LAST) != 0,
            rd_done: sim.get(t::RD_DONE) != 0,
            rd_err: sim.get(t::RD_ERR),
            wr_cmd_ready: sim.get(t::WR_CMD_READY) != 0,
            wr_data_ready: sim.get(t::WR_DATA_READY) != 0,
            wr_done: sim.get(t::WR_DONE) != 0,
            wr_err: sim.get(t::WR_ERR),
        }
    }
}

/// Every beat as in memory, `data_last` on the last one only, no error.
fn check_read(b: &Bench, (addr, beats): (u64, u64), out: &ReadOut) {
    let mut want = vec![0; (beats * BEAT) as usize];
    b.mem.read(addr, &mut want).unwrap();
    assert_eq!(out.err, AxiResp::Okay.code(), "read {addr:#x}+{beats}: err");
    assert_eq!(out.data.len(), want.len(), "read {addr:#x}+{beats}: beat count");
    if let Some(i) = (0..want.len()).find(|&i| out.data[i] != want[i]) {
        panic!("read {addr:#x}+{beats}: beat {} differs", i / 16);
    }
    assert_eq!(out.lasts, [beats as usize - 1], "read {addr:#x}+{beats}: data_last");
}

fn check_write(b: &Bench, (addr, data): &(u64, Vec<u8>), out: &WriteOut) {
    assert_eq!(out.err, AxiResp::Okay.code(), "write {addr:#x}: err");
    let mut got = vec![0; data.len()];
    b.mem.read(*addr, &mut got).unwrap();
    if let Some(i) = (0..got.len()).find(|&i| got[i] != data[i]) {
        panic!("write {addr:#x}+{}: beat {} differs in memory", data.len() / 16, i / 16);
    }
}

/// Command lengths of the brief at addresses that cross 4 KiB pages.
const SHAPES: [(u64, u64); 5] = [(0x0ff0, 1), (0x1fa0, 7), (0x2f00, 256), (0x4ff0, 257), (0x7c40, 1000)];

#[test]
fn reads_split_at_pages_and_match_memory() {
    let mut b = Bench::new(AxiMemConfig {
        read_latency: 5,
        ..Default::default()
    });
    b.randomize();
    let (outs, _) = b.run(&SHAPES, &[], 1.0, 20_000).unwrap();
    for (cmd, out) in SHAPES.iter().zip(&outs) {
        check_read(&b, *cmd, out);
    }
    let bursts: usize = SHAPES.iter().map(|&(a, n)| split(a, n).len()).sum();
    assert_eq!(b.mem.stats().read_bursts, bursts as u64);
    b.assert_clean();
}

#[test]
fn writes_split_at_pages_and_land_in_memory() {
    let mut b = Bench::new(AxiMemConfig {
        write_latency: 5,
        ..Default::default()
    });
    let writes: Vec<(u64, Vec<u8>)> = SHAPES
        .iter()
        .map(|&(a, n)| (a + 0x40000, b.rng.bytes((n * BEAT) as usize)))
        .collect();
    let (_, outs) = b.run(&[], &writes, 1.0, 20_000).unwrap();
    for (cmd, out) in writes.iter().zip(&outs) {
        check_write(&b, cmd, out);
    }
    let bursts: usize = SHAPES.iter().map(|&(a, n)| split(a, n).len()).sum();
    assert_eq!(b.mem.stats().write_bursts, bursts as u64);
    // Nothing written outside the commands.
    let total: u64 = SHAPES.iter().map(|s| s.1).sum();
    assert_eq!(b.mem.stats().write_beats, total);
    b.assert_clean();
}

#[test]
fn concurrent_reads_and_writes_under_random_backpressure() {
    let mut cycles = 0;
    for seed in 0..24u64 {
        let p = [0.3, 0.5, 0.8, 1.0][seed as usize % 4];
        let cfg = AxiMemConfig {
            seed,
            read_latency: (seed * 30 / 23) as u32,
            write_latency: ((23 - seed) * 30 / 23) as u32,
            max_reads: 1 + seed as usize % 8,
            max_writes: 1 + (seed as usize / 3) % 8,
            ..AxiMemConfig::default().with_backpressure(p)
        };
        let mut b = Bench::new(cfg);
        b.randomize();
        let cmd = |b: &mut Bench, base: u64| {
            let beats = match b.rng.below(4) {
                0 => 1 + b.rng.below(8),
                1 => 250 + b.rng.below(10),
                _ => 1 + b.rng.below(1100),
            };
            (base + b.rng.below(0x30000 / BEAT) * BEAT, beats)
        };
        let reads: Vec<_> = (0..3).map(|_| cmd(&mut b, 0)).collect();
        let writes: Vec<(u64, Vec<u8>)> = (0..3)
            .map(|i| {
                // Disjoint from the reads and from each other.
                let (a, n) = cmd(&mut b, 0x40000 + i * 0x40000);
                (a, b.rng.bytes((n * BEAT) as usize))
            })
            .collect();
        let src_p = [1.0, 0.7, 0.4][seed as usize % 3];
        let (ro, wo) = b.run(&reads, &writes, src_p, 200_000).unwrap();
        for (c, o) in reads.iter().zip(&ro) {
            check_read(&b, *c, o);
        }
        for (c, o) in writes.iter().zip(&wo) {
            check_write(&b, c, o);
        }
        b.assert_clean();
        assert!(b.mem.idle());
        cycles += b.sim.cycles();
    }
    println!("24 seeds, {cycles} cycles");
}

#[test]
fn error_responses_end_the_command_and_the_next_one_works() {
    for (seed, resp) in [
        (1u64, AxiResp::SlvErr),
        (2, AxiResp::DecErr),
        (3, AxiResp::SlvErr),
        (4, AxiResp::DecErr),
    ] {
        let mut b = Bench::new(AxiMemConfig {
            seed,
            read_latency: 7,
            write_latency: 3,
            // One read burst at a time: the DMA sees the error before it could issue the next.
            max_reads: if seed == 1 { 1 } else { 8 },
            errors: vec![
                ErrorRange {
                    start: 0x3100,
                    end: 0x3110,
                    resp,
                },
                ErrorRange {
                    start: 0x43100,
                    end: 0x43110,
                    resp,
                },
            ],
            ..AxiMemConfig::default().with_backpressure(if seed > 2 { 0.6 } else { 1.0 })
        });
        b.randomize();
        let want = resp.code();
        // Reads: 1000 beats from 0x2000 touch the range in their second burst; then a good one.
        let reads = [(0x2000, 1000), (0x8000, 300)];
        let data: Vec<u8> = b.rng.bytes(1000 * 16);
        let writes = [(0x42000, data.clone()), (0x48000, data[..300 * 16].to_vec())];
        let before = b.mem.bytes().to_vec();
        let (ro, wo) = b.run(&reads, &writes, 1.0, 50_000).unwrap();
        assert_eq!(ro[0].err, want, "read err");
        assert!(ro[0].data.len() <= 1000 * 16);
        assert!(ro[0].lasts.is_empty() || ro[0].data.len() == 1000 * 16);
        // The bursts before the error carry the memory's data.
        assert_eq!(ro[0].data[..0x1000], before[0x2000..0x3000]);
        check_read(&b, reads[1], &ro[1]);
        if seed == 1 {
            // The second burst fails while the third AR is presented (it must stay until
            // accepted, so it completes); the fourth is never issued.
            assert_eq!(ro[0].data.len(), 768 * 16);
            assert!(ro[0].lasts.is_empty());
            assert_eq!(b.mem.stats().read_bursts, 3 + split(0x8000, 300).len() as u64);
        }
        assert_eq!(wo[0].err, want, "write err");
        // Every beat was written except the failing burst's (page 0x43000).
        assert_eq!(b.mem.bytes()[0x42000..0x43000], data[..0x1000]);
        assert_eq!(b.mem.bytes()[0x43000..0x44000], before[0x43000..0x44000]);
        assert_eq!(b.mem.bytes()[0x44000..0x42000 + 16000], data[0x2000..]);
        check_write(&b, &writes[1], &wo[1]);
        assert_eq!(b.mem.stats().write_beats, 1300);
        b.assert_clean();
    }
}

#[test]
fn reads_beyond_memory_are_decode_errors() {
    let mut b = Bench::new(AxiMemConfig {
        size: 0x10000,
        ..Default::default()
    });
    let (ro, wo) = b
        .run(&[(0xff00, 64), (0x100, 2)], &[(0xfff0, vec![7; 32])], 1.0, 5_000)
        .unwrap();
    assert_eq!(ro[0].err, AxiResp::DecErr.code());
    check_read(&b, (0x100, 2), &ro[1]);
    assert_eq!(wo[0].err, AxiResp::DecErr.code());
    b.assert_clean();
}

#[test]
fn long_commands_approach_one_beat_per_cycle() {
    let latency = 20;
    let mut b = Bench::new(AxiMemConfig {
        read_latency: latency,
        write_latency: latency,
        ..Default::default()
    });
    b.randomize();
    let n = 4096u64;
    let (ro, _) = b.run(&[(0x1000, n)], &[], 1.0, 10_000).unwrap();
    check_read(&b, (0x1000, n), &ro[0]);
    let bound = n as f64 * 1.05 + latency as f64;
    let ratio = ro[0].cycles as f64 / n as f64;
    println!(
        "read:  {n} beats in {} cycles (ratio {ratio:.4}, bound {bound})",
        ro[0].cycles
    );
    assert!((ro[0].cycles as f64) < bound);

    let data = b.rng.bytes((n * BEAT) as usize);
    let (_, wo) = b.run(&[], &[(0x80000, data.clone())], 1.0, 10_000).unwrap();
    check_write(&b, &(0x80000, data), &wo[0]);
    let ratio = wo[0].cycles as f64 / n as f64;
    println!(
        "write: {n} beats in {} cycles (ratio {ratio:.4}, bound {bound})",
        wo[0].cycles
    );
    assert!((wo[0].cycles as f64) < bound);
    b.assert_clean();
}

#[test]
fn binding_checks_the_ports() {
    assert!(AxiMemory::new(t::TOP, "s_axi_", AxiMemConfig::default()).is_err());
    let e = AxiMemory::new(
        t::TOP,
        "m_axi_",
        AxiMemConfig {
            beat_bytes: 8,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("rdata is 128 bits, not 64"), "{e}");
    assert!(AxiMemory::new(npe_sim::tops::pe::TOP, "m_axi_", AxiMemConfig::default()).is_err());
}
