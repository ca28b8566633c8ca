//! The UART back end over a pty pair, with the board's side in software ([`peer`]) serving the
//! functional model: whole jobs bit-exact, and every fault the link can have.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use npe_hdl::spec::regs::{self, ID_MAGIC};
use npe_hdl::spec::uart::{Command, REQUEST_HEADER_BYTES};
use npe_hdl::spec::{Format, NpeConfig, OutputFormat};
use rand::{Rng, SeedableRng};
use serialport::TTYPort;

use super::peer::{pump, Framed, Framer, SoftBoard};
use super::*;
use crate::device::functional::{FunctionalBackend, FunctionalOptions};
use crate::device::{Counters, Device, GemmJob};

/// Replies the test's peer sends are changed by this.
type Tamper = super::peer::Tamper;
/// Bytes from the host are changed by this before the board's framer sees them (a damaged
/// request).
pub(crate) type Mangle = Box<dyn FnMut(&[u8]) -> Vec<u8> + Send>;

/// The per-reply timeout of the tests: short, so the fault tests are quick.
const REPLY_TIMEOUT: Duration = Duration::from_millis(100);

fn opts() -> UartOptions {
    UartOptions {
        reply_timeout: REPLY_TIMEOUT,
        ..UartOptions::default()
    }
}

/// A board on the far end of a pty, in its own thread, which [`Peer::finish`] turns into `R`
/// (the board itself, or what it saw).
pub(crate) struct Peer<R> {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<R>>,
    /// The host's end (its path).
    pub(crate) path: String,
    /// The host's end, until a test takes it.
    pub(crate) host_end: Option<TTYPort>,
}

impl<R: Send + 'static> Peer<R> {
    /// A board that `make` builds in the pump's thread (so it need not be `Send`: a Verilated
    /// model stays on the thread that made it) behind a new pty pair: `on_bytes` serves it the
    /// host's bytes (through `mangle`, when given), `finish` turns it into `R` when it stops.
    pub(crate) fn spawn<Bd>(
        make: impl FnOnce() -> Bd + Send + 'static,
        mut on_bytes: impl FnMut(&mut Bd, &[u8], Instant) -> Vec<u8> + Send + 'static,
        finish: impl FnOnce(Bd) -> R + Send + 'static,
        mut mangle: Option<Mangle>,
    ) -> Peer<R> {
        let (mut master, slave) = TTYPort::pair().expect("a pty pair");
        let path = slave.name().expect("the pty's name");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut board = make();
            pump(&mut master, &stop2, Duration::from_millis(1), |bytes, now| {
                let bytes = match mangle.as_mut() {
                    Some(m) if !bytes.is_empty() => m(bytes),
                    _ => bytes.to_vec(),
                };
                on_bytes(&mut board, &bytes, now)
            })
            .expect("the pump");
            finish(board)
        });
        Peer {
            stop,
            handle: Some(handle),
            path,
            host_end: Some(slave),
        }
    }

    /// The host's back end on the pty, with `opts`.
    pub(crate) fn host_with(&mut self, opts: &UartOptions) -> UartBackend {
        let port = self.host_end.take().expect("one host per peer");
        UartBackend::from_port(Box::new(port), &self.path, opts)
    }

    /// The host's back end on the pty, with the tests' short reply timeout.
    fn host(&mut self) -> UartBackend {
        self.host_with(&opts())
    }

    /// Stops the board and returns what `finish` made of it.
    pub(crate) fn finish(mut self) -> R {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().expect("the peer thread")
    }
}

impl Peer<SoftBoard<FunctionalBackend>> {
    /// The software board of `preset` (memory `mem_bytes`) behind a new pty pair.
    fn start(preset: &str, mem_bytes: u32, tamper: Option<Tamper>, mangle: Option<Mangle>) -> Self {
        let cfg = NpeConfig::preset(preset).unwrap();
        let model = FunctionalBackend::new(&cfg, &FunctionalOptions { mem_base: 0, mem_bytes }).unwrap();
        let mut board = SoftBoard::new(model, Duration::from_millis(10));
        board.tamper = tamper;
        Peer::spawn(move || board, SoftBoard::on_bytes, |b| b, mangle)
    }

    fn board(preset: &str) -> Self {
        Peer::start(preset, MEM_BYTES, None, None)
    }

    fn tampered(tamper: Tamper) -> Self {
        Peer::start("npe4x4", MEM_BYTES, Some(tamper), None)
    }
}

impl<R> Drop for Peer<R> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The formats of the sample jobs the UART and MMIO back ends' tests run.
pub(crate) const SAMPLE_FORMATS: (Format, Format, OutputFormat) = (Format::Int8, Format::Fp4E2M1, OutputFormat::Fp32);

/// A job of odd sizes (partial tiles, K not a whole beat; K even for a pair format) with random
/// codes of `formats` (activations, weights, output) and random column scales.
pub(crate) fn sample_job(seed: u64, (a_fmt, w_fmt, out): (Format, Format, OutputFormat)) -> GemmJob {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let k = if a_fmt.is_paired() || w_fmt.is_paired() { 38 } else { 37 };
    let (m, n) = (7, 10);
    GemmJob {
        a_fmt,
        w_fmt,
        out,
        scale_exp: -2,
        col_scale_exp: (0..n).map(|_| rng.gen_range(-3..4)).collect(),
        m,
        n,
        k,
        a: (0..m * k).map(|_| rng.gen_range(0..1 << a_fmt.bits())).collect(),
        w: (0..k * n).map(|_| rng.gen_range(0..1 << w_fmt.bits())).collect(),
    }
}

/// Runs two sample jobs in [`SAMPLE_FORMATS`] on `dev` and on the functional back end: the same
/// C (and the golden model's) and the same counters.
pub(crate) fn gemms_match_the_functional_model<B: Backend>(dev: &mut Device<B>, cfg: NpeConfig) {
    gemms_in_formats_match_the_functional_model(dev, cfg, &[SAMPLE_FORMATS], false);
}

/// Runs two sample jobs per format triple of `formats` on `dev` and on the functional back end:
/// the same C (and the golden model's) and the same DMA counters. A `clocked` device (RTL)
/// counts the job's cycles, where the model's cycle counters stay 0: its BUSY count must be
/// positive and its STALL count within it; otherwise every counter must be the model's.
pub(crate) fn gemms_in_formats_match_the_functional_model<B: Backend>(
    dev: &mut Device<B>,
    cfg: NpeConfig,
    formats: &[(Format, Format, OutputFormat)],
    clocked: bool,
) {
    let mut reference = Device::connect(
        FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap(),
        cfg,
    )
    .unwrap();
    for &f in formats {
        for seed in 1..3 {
            let job = sample_job(seed, f);
            let run = dev.gemm(&job).unwrap();
            let want = reference.gemm(&job).unwrap();
            assert_eq!(run.c, want.c, "{f:?}, seed {seed}");
            assert_eq!(run.c, job.golden().unwrap(), "{f:?}, seed {seed}");
            let dma = |c: Counters| (c.dma_read, c.dma_written);
            assert_eq!(dma(run.counters), dma(want.counters), "{f:?}, seed {seed}");
            assert!(run.counters.dma_read > 0);
            if clocked {
                assert_eq!((want.counters.busy, want.counters.stall), (0, 0));
                assert!(run.counters.busy > 0 && run.counters.stall <= run.counters.busy);
            } else {
                assert_eq!(run.counters, want.counters, "{f:?}, seed {seed}");
            }
        }
    }
}

#[test]
fn a_gemm_over_the_link_is_bit_exact_with_the_functional_model() {
    let mut peer = Peer::board("npe4x4");
    let cfg = NpeConfig::preset("npe4x4").unwrap();
    let mut dev = Device::connect(peer.host(), cfg).unwrap();
    gemms_match_the_functional_model(&mut dev, cfg);
    assert!(dev
        .backend()
        .describe()
        .contains(&format!("{} at 1000000 baud", peer.path)));
    assert_eq!(dev.backend().mem_size(), MEM_BYTES);
    drop(dev);
    let board = peer.finish();
    // Copies of more than MAX_WORDS words went as several frames.
    assert!(board.requests.iter().all(|r| r.count as usize <= MAX_WORDS));
    assert!(board.requests.iter().any(|r| r.cmd == Command::MemWrite));
}

#[test]
fn unaligned_copies_read_modify_write_their_edge_words_in_frames_of_max_words() {
    let mut peer = Peer::board("npe4x4");
    let mut host = peer.host();
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 + 3) as u8).collect();
    // Bytes around the copy that must survive it.
    host.write_mem(0x1000, &[0xEE; 4]).unwrap();
    host.write_mem(0x1000 + 2000, &[0xDD; 8]).unwrap();
    host.write_mem(0x1003, &data).unwrap();
    assert_eq!(host.read_mem(0x1003, 2000).unwrap(), data);
    assert_eq!(host.read_mem(0x1000, 3).unwrap(), [0xEE; 3]);
    assert_eq!(host.read_mem(0x1003 + 2000, 5).unwrap(), [0xDD; 5]);
    assert_eq!(host.read_mem(0x1001, 0).unwrap(), Vec::<u8>::new());
    // Outside the board's memory: refused before anything is sent.
    assert!(matches!(
        host.write_mem(MEM_BYTES - 2, &[1, 2, 3]),
        Err(DeviceError::Address { .. })
    ));
    drop(host);
    let mut board = peer.finish();
    let reqs: Vec<(Command, u32, u16)> = board.requests.iter().map(|r| (r.cmd, r.addr, r.count)).collect();
    // The 2000-byte write at 0x1003 covers 501 words from 0x1000: both edge words are read,
    // then 256 + 245 words written.
    let copy = &reqs[2..6];
    assert_eq!(
        copy,
        [
            (Command::MemRead, 0x1000, 1),
            (Command::MemRead, 0x1000 + 500 * 4, 1),
            (Command::MemWrite, 0x1000, 256),
            (Command::MemWrite, 0x1000 + 256 * 4, 245),
        ]
    );
    let mut want = vec![0xEE; 3];
    want.extend(&data);
    want.extend([0xDD; 5]);
    assert_eq!(board.model.read_mem(0x1000, want.len()).unwrap(), want);
}

/// Replies pass through `f`, which gets the request's number (from 0) and the reply.
fn tamper(mut f: impl FnMut(usize, Reply) -> Vec<u8> + Send + 'static) -> Tamper {
    let mut n = 0;
    Box::new(move |_req, reply| {
        n += 1;
        f(n - 1, reply)
    })
}

fn bad_crc(reply: Reply) -> Vec<u8> {
    let mut b = reply.encode();
    *b.last_mut().unwrap() ^= 0x5A;
    b
}

#[test]
fn a_damaged_reply_is_retried_then_reported() {
    // Once: the second attempt succeeds.
    let mut peer = Peer::tampered(tamper(|n, r| if n == 0 { bad_crc(r) } else { r.encode() }));
    let mut host = peer.host();
    assert_eq!(host.read_reg(regs::ID.offset).unwrap(), ID_MAGIC);
    drop(host);
    assert_eq!(peer.finish().requests.len(), 2);

    // Always: four attempts (three retries), then the decoder's error, typed.
    let mut peer = Peer::tampered(tamper(|_, r| bad_crc(r)));
    let mut host = peer.host();
    let e = host.read_reg(regs::ID.offset).unwrap_err();
    match &e {
        DeviceError::Uart(UartError::BadReply {
            port,
            op: BusOp::RegRead,
            addr: 0,
            attempts: 4,
            reason: ReplyError::BadCrc { .. },
        }) => assert_eq!(port, &peer.path),
        e => panic!("{e:?}"),
    }
    assert!(e.to_string().contains("does not match its bytes"), "{e}");
    drop(host);
    assert_eq!(peer.finish().requests.len(), 4);
}

#[test]
fn a_truncated_reply_is_retried_within_the_bound_then_reported() {
    let mut peer = Peer::tampered(tamper(|_, r| {
        let b = r.encode();
        b[..b.len() - 3].to_vec()
    }));
    let mut host = peer.host();
    let t0 = Instant::now();
    let e = host.read_reg(regs::STATUS.offset).unwrap_err();
    let took = t0.elapsed();
    assert!(
        matches!(
            e,
            DeviceError::Uart(UartError::BadReply {
                attempts: 4,
                reason: ReplyError::Truncated { have: 7, need: 10 },
                ..
            })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("reply truncated: 7 bytes of 10"), "{e}");
    // Four attempts, each waiting out its deadline for the missing bytes.
    assert!(took >= 4 * REPLY_TIMEOUT, "{took:?}");
    assert!(took < 4 * REPLY_TIMEOUT + Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_silent_board_is_a_timeout_naming_the_port_within_a_bounded_time() {
    let mut peer = Peer::tampered(tamper(|_, _| Vec::new()));
    let mut host = peer.host();
    let t0 = Instant::now();
    let e = host.read_reg(regs::ID.offset).unwrap_err();
    let took = t0.elapsed();
    let per_attempt = REPLY_TIMEOUT + line_time(10 + 10, UART_BAUD);
    assert_eq!(
        e,
        DeviceError::Uart(UartError::Timeout {
            port: peer.path.clone(),
            op: BusOp::RegRead,
            addr: 0,
            waited: per_attempt,
            attempts: 4,
            baud: UART_BAUD,
        })
    );
    let t = e.to_string();
    assert!(
        t.contains(&format!("no reply from {}", peer.path)) && t.contains("within 100.2"),
        "{t}"
    );
    assert!(
        took >= 4 * per_attempt && took < 4 * per_attempt + Duration::from_secs(2),
        "{took:?}"
    );
    // Device::connect reports it the same way: it reads ID first.
    let cfg = NpeConfig::preset("npe4x4").unwrap();
    assert!(matches!(
        Device::connect(host, cfg),
        Err(DeviceError::Uart(UartError::Timeout { .. }))
    ));
}

#[test]
fn replies_with_another_seq_are_dropped_and_reported_when_no_other_comes() {
    // A stale reply first (an earlier request's), then the right one: taken.
    let mut peer = Peer::tampered(tamper(|_, r| {
        let mut stale = r.clone();
        stale.seq = r.seq.wrapping_sub(1);
        stale.data = vec![0xBAD];
        let mut b = stale.encode();
        b.extend(r.encode());
        b
    }));
    let mut host = peer.host();
    assert_eq!(host.read_reg(regs::ID.offset).unwrap(), ID_MAGIC);
    drop(host);
    drop(peer);

    // Only wrong ones: WrongSeq after one deadline (resending would not help).
    let mut peer = Peer::tampered(tamper(|_, mut r| {
        r.seq ^= 0x80;
        r.encode()
    }));
    let mut host = peer.host();
    let t0 = Instant::now();
    let e = host.read_reg(regs::ID.offset).unwrap_err();
    assert!(
        matches!(
            e,
            DeviceError::Uart(UartError::WrongSeq {
                expected: 0,
                got: 0x80,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("carried SEQ 128, the request's was 0"), "{e}");
    assert!(t0.elapsed() < REPLY_TIMEOUT + Duration::from_secs(1));
    drop(host);
    assert_eq!(peer.finish().requests.len(), 1);
}

#[test]
fn bridge_statuses_are_typed_errors() {
    // A board with less memory than the host expects: BAD_ADDR, not retried.
    let mut peer = Peer::start("npe4x4", 64 * 1024, None, None);
    let mut host = peer.host();
    let e = host.write_mem(0x1_0000, &[1, 2, 3, 4]).unwrap_err();
    assert_eq!(
        e,
        DeviceError::Uart(UartError::Status {
            port: peer.path.clone(),
            op: BusOp::MemWrite,
            addr: 0x1_0000,
            status: Status::BadAddr,
            attempts: 1,
        })
    );
    assert!(
        e.to_string().contains("status 0x04 BAD_ADDR (address misaligned"),
        "{e}"
    );
    // AXI errors behind the bridge are the bus errors every back end gives.
    assert_eq!(
        host.write_reg(regs::ID.offset, 0),
        Err(DeviceError::Bus(BusError::SlvErr {
            op: BusOp::RegWrite,
            addr: 0
        }))
    );
    assert_eq!(
        host.read_reg(0xFC),
        Err(DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegRead,
            addr: 0xFC
        }))
    );
    // The link still works after each.
    host.write_reg(regs::SCRATCH.offset, 0x1234_5678).unwrap();
    assert_eq!(host.read_reg(regs::SCRATCH.offset).unwrap(), 0x1234_5678);
}

#[test]
fn a_request_damaged_on_the_line_is_sent_again() {
    // The first request loses a bit (BAD_CRC), the second its tail (TRUNCATED after the idle
    // time): the bridge performs neither, the host sends each again.
    let mut n = 0;
    let mangle: Mangle = Box::new(move |b: &[u8]| {
        let mut b = b.to_vec();
        // Whole REG_WRITE frames only (a frame the pty delivered in pieces passes as it is).
        if b.len() == REQUEST_HEADER_BYTES + 4 + TRAILER_BYTES {
            n += 1;
            match n {
                1 => b[9] ^= 0x01,
                2 => b.truncate(b.len() - 2),
                _ => {}
            }
        }
        b
    });
    let mut peer = Peer::start("npe4x4", MEM_BYTES, None, Some(mangle));
    let mut host = peer.host();
    host.write_reg(regs::SCRATCH.offset, 0xCAFE).unwrap();
    host.write_reg(regs::SCRATCH.offset, 0xF00D).unwrap();
    assert_eq!(host.read_reg(regs::SCRATCH.offset).unwrap(), 0xF00D);
    drop(host);
    let board = peer.finish();
    let writes: Vec<u32> = board
        .requests
        .iter()
        .filter(|r| r.cmd == Command::RegWrite)
        .map(|r| r.data[0])
        .collect();
    assert_eq!(writes, [0xCAFE, 0xF00D], "each write performed once");
}

#[test]
fn a_start_whose_reply_is_lost_is_not_sent_twice() {
    // Replies to CTRL writes are lost.
    let ctrl = regs::CTRL.offset;
    let t: Tamper = Box::new(move |req, reply| match req {
        Some(r) if r.cmd == Command::RegWrite && r.addr == ctrl => Vec::new(),
        _ => reply.encode(),
    });
    let mut peer = Peer::tampered(t);
    let mut host = peer.host();
    let start = regs::ctrl::START.set(0, 1);
    let e = host.write_reg(ctrl, start).unwrap_err();
    assert!(
        matches!(&e, DeviceError::Uart(UartError::Unconfirmed { value, .. }) if *value == start),
        "{e:?}"
    );
    assert!(e.to_string().contains("not resent"), "{e}");
    // A write without a pulse field is resent as usual.
    let e = host.write_reg(ctrl, regs::ctrl::IRQ_EN.set(0, 1)).unwrap_err();
    assert!(
        matches!(e, DeviceError::Uart(UartError::Timeout { attempts: 4, .. })),
        "{e:?}"
    );
    drop(host);
    let ctrl_writes = peer.finish().requests.iter().filter(|r| r.addr == ctrl).count();
    assert_eq!(ctrl_writes, 1 + 4);
}

#[test]
fn a_board_of_another_configuration_is_refused_with_both_hashes() {
    let mut peer = Peer::board("npe4x4bs");
    let host_cfg = NpeConfig::preset("npe4x4").unwrap();
    let board_cfg = NpeConfig::preset("npe4x4bs").unwrap();
    let e = Device::connect(peer.host(), host_cfg).err().expect("a mismatch");
    let t = e.to_string();
    assert!(
        t.contains(&format!("{:#010x}", host_cfg.hash())) && t.contains(&format!("{:#010x}", board_cfg.hash())),
        "{t}"
    );
    assert!(matches!(e, DeviceError::ConfigMismatch { device_hash, .. } if device_hash == board_cfg.hash()));
}

#[test]
fn opening_a_port_that_is_missing_or_busy_says_so() {
    let e = UartBackend::open("/dev/ttyUSB-npe-missing", &opts()).err().unwrap();
    assert_eq!(
        e,
        DeviceError::Uart(UartError::PortMissing {
            port: "/dev/ttyUSB-npe-missing".into()
        })
    );
    assert!(
        e.to_string()
            .contains("serial port /dev/ttyUSB-npe-missing does not exist"),
        "{e}"
    );
    // A real port opened by path, then again while it is held.
    let mut peer = Peer::board("npe4x4");
    let path = peer.path.clone();
    // Kept open: a pty's master reads EIO (the peer stops) once no slave is open.
    let _pair_end = peer.host_end.take();
    let mut host = UartBackend::open(&path, &opts()).unwrap();
    assert_eq!(host.read_reg(regs::ID.offset).unwrap(), ID_MAGIC);
    let e = UartBackend::open(&path, &opts()).err().unwrap();
    assert!(
        matches!(&e, DeviceError::Uart(UartError::PortBusy { port, .. }) if *port == path),
        "{e:?}"
    );
    assert!(e.to_string().contains("is busy"), "{e}");
    let bad_baud = UartOptions { baud: 0, ..opts() };
    assert!(matches!(
        UartBackend::open(&path, &bad_baud),
        Err(DeviceError::Backend(m)) if m.contains("baud rate 0 is out of range")
    ));
}

#[test]
fn the_framer_cuts_frames_as_the_bridge_does() {
    let t0 = Instant::now();
    let idle = Duration::from_millis(10);
    let later = t0 + idle;
    let mut f = Framer::new(idle, MEM_BYTES);
    let req = Request::mem_write(9, 0x40, &[1, 2, 3]);
    // Noise before SYNC is dropped; a frame in two pieces is one request.
    let mut bytes = vec![0x00, 0x13];
    bytes.extend(req.encode());
    let (a, b) = bytes.split_at(7);
    assert_eq!(f.push(a, t0), []);
    assert_eq!(f.push(b, t0), [Framed::Request(req.clone())]);
    let refused = |status, seq| {
        Framed::Refused(Reply {
            status,
            seq,
            data: Vec::new(),
        })
    };
    // Cut short: TRUNCATED once the line is idle, with the SEQ when it came.
    let enc = req.encode();
    assert_eq!(f.push(&enc[..5], t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::Truncated, 9)]);
    assert_eq!(f.push(&enc[..2], t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::Truncated, 0)]);
    // Bad CMD, COUNT, ADDR: the rest is dropped until the line is idle.
    let mut bad = Request::reg_read(4, 8).encode();
    bad[1] = 0x09;
    assert_eq!(f.push(&bad, t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::BadCmd, 4)]);
    let mut many = Request::mem_read(5, 0, 1);
    many.count = MAX_WORDS as u16 + 1;
    assert_eq!(f.push(&many.encode(), t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::BadCount, 5)]);
    assert_eq!(f.push(&Request::reg_read(6, 2).encode(), t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::BadAddr, 6)]);
    assert_eq!(f.push(&Request::mem_read(7, MEM_BYTES - 4, 2).encode(), t0), []);
    assert_eq!(f.push(&[], later), [refused(Status::BadAddr, 7)]);
    // A wrong CRC.
    let mut enc = Request::reg_write(8, 0x20, 5).encode();
    enc[9] ^= 0x40;
    assert_eq!(f.push(&enc, t0), [refused(Status::BadCrc, 8)]);
    // A hand-built request whose DATA disagrees with COUNT is refused, not served.
    let cfg = NpeConfig::preset("npe4x4").unwrap();
    let mut model = FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap();
    let mut odd = Request::reg_write(3, regs::SCRATCH.offset, 1);
    odd.data.clear();
    assert_eq!(super::peer::serve(&mut model, &odd).status, Status::BadCount);
    let ok = super::peer::serve(&mut model, &Request::reg_read(4, regs::ID.offset));
    assert_eq!((ok.status, ok.seq, ok.data), (Status::Ok, 4, vec![ID_MAGIC]));
}
