//! The UART back end: a board without a CPU (the ULX3S), reached through its UART-to-AXI4-Lite
//! bridge over a serial port, speaking the protocol of [`npe_hdl::spec::uart`]
//! (the README's protocol tables) with the spec's encoder, decoder and CRC.
//!
//! Every request waits for its reply for a bounded time ([`UartOptions::reply_timeout`] plus the
//! line time of both frames at the baud rate); nothing here waits longer than
//! `(retries + 1) ×` that. A request is sent again, at most [`UartOptions::retries`] times, when
//! the bridge says it arrived damaged (BAD_CRC, TRUNCATED: not performed) or when its reply is
//! lost or damaged on the way back, unless it is a register write that sets a pulse field
//! (START, SOFT_RESET): sending that again could run the action twice, so a lost reply to it is
//! [`UartError::Unconfirmed`]. Each attempt has its own SEQ and a reply with another SEQ is
//! dropped as stale. The bridge's AXI statuses become the bus errors the other back ends give
//! ([`BusError`]); its protocol statuses and every link failure are [`UartError`]s naming the
//! port.
//!
//! [`peer`] is the board's side in software (a request framer, a board that serves requests on
//! any [`Backend`], and a pump that moves bytes between a port and a callback), for tests over
//! a pty pair without hardware.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use npe_hdl::spec::board::{MEM_BYTES, UART_BAUD};
use npe_hdl::spec::regs;
use npe_hdl::spec::uart::{
    Reply, ReplyError, Request, Status, MAX_WORDS, REPLY_HEADER_BYTES, REPLY_SYNC, TRAILER_BYTES, WORD_BYTES,
};
use serialport::SerialPort;

use super::words::{self, WordBus};
use super::{Backend, BusError, BusOp, DeviceError, UartError};

/// Lowest baud rate the back end takes: below it a full memory frame takes seconds.
pub const MIN_BAUD: u32 = 1200;

/// Highest baud rate the back end takes (FT2232H-class adapters reach 12 Mbaud).
pub const MAX_BAUD: u32 = 12_000_000;

/// How the back end talks to the bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UartOptions {
    /// Bits per second ([`MIN_BAUD`] to [`MAX_BAUD`]); the board's is [`UART_BAUD`].
    pub baud: u32,
    /// How long to wait for a reply beyond the time its bytes and the request's take on the
    /// line: the adapter's latency (USB serial adapters buffer up to 16 ms) and the bridge's.
    pub reply_timeout: Duration,
    /// Times a request is sent again after a damaged request or reply (see the module docs).
    pub retries: u32,
}

impl Default for UartOptions {
    fn default() -> Self {
        UartOptions {
            baud: UART_BAUD,
            reply_timeout: Duration::from_millis(200),
            retries: 3,
        }
    }
}

/// Time `bytes` take on the line at `baud` (10 bit times a byte: start, 8 data, stop).
fn line_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_nanos((bytes as u64 * 10).saturating_mul(1_000_000_000) / u64::from(baud.max(1)))
}

/// An npe on a board, through its UART bridge.
pub struct UartBackend {
    port: Box<dyn SerialPort>,
    name: String,
    opts: UartOptions,
    seq: u8,
    /// Bytes read but not yet taken as a reply.
    rx: Vec<u8>,
    t0: Instant,
}

/// How one attempt at a request ended, when it did not end with the request's answer.
enum Failure {
    /// The bridge says the request arrived damaged (BAD_CRC, TRUNCATED): not performed.
    Damaged(Status),
    /// The bridge refused the request (BAD_CMD, BAD_COUNT, BAD_ADDR).
    Refused(Status),
    /// The register access behind the bridge failed (AXI_SLVERR, AXI_DECERR, AXI_TIMEOUT).
    Bus(BusError),
    /// The reply was damaged or cut short.
    BadReply(ReplyError),
    /// Not one byte of a reply.
    Silence(Duration),
    /// Replies, none with the request's SEQ: the last one's.
    Stale(u8, Duration),
}

/// What came over the line within an attempt's deadline.
enum Got {
    /// A whole frame (not yet decoded).
    Frame(Vec<u8>),
    /// Part of a frame.
    Cut(ReplyError),
    /// Nothing that starts a reply.
    Silence,
}

fn open_error(port: &str, e: serialport::Error) -> UartError {
    use serialport::ErrorKind as K;
    let port = port.to_string();
    match e.kind() {
        K::NoDevice => UartError::PortBusy {
            port,
            detail: e.description,
        },
        K::Io(std::io::ErrorKind::NotFound) => UartError::PortMissing { port },
        K::Io(std::io::ErrorKind::PermissionDenied) => UartError::PortPermission { port },
        _ => UartError::PortOpen {
            port,
            detail: e.description,
        },
    }
}

impl UartBackend {
    /// Opens the serial port at `path` (exclusively: a port another program holds is
    /// [`UartError::PortBusy`]) with `opts`. Nothing is sent until the first access.
    pub fn open(path: &str, opts: &UartOptions) -> Result<Self, DeviceError> {
        check_baud(opts.baud).map_err(DeviceError::Backend)?;
        if !std::path::Path::new(path).exists() {
            return Err(UartError::PortMissing { port: path.into() }.into());
        }
        let port = serialport::new(path, opts.baud)
            .timeout(opts.reply_timeout)
            .open()
            .map_err(|e| open_error(path, e))?;
        Ok(Self::from_port(port, path, opts))
    }

    /// The back end over a port already open (a pty in tests); `name` names it in messages.
    pub fn from_port(port: Box<dyn SerialPort>, name: &str, opts: &UartOptions) -> Self {
        UartBackend {
            port,
            name: name.to_string(),
            opts: opts.clone(),
            seq: 0,
            rx: Vec::new(),
            t0: Instant::now(),
        }
    }

    /// The port's name.
    pub fn port_name(&self) -> &str {
        &self.name
    }

    /// The options in use.
    pub fn options(&self) -> &UartOptions {
        &self.opts
    }

    fn io_error(&self, e: impl std::fmt::Display) -> DeviceError {
        UartError::Io {
            port: self.name.clone(),
            detail: e.to_string(),
        }
        .into()
    }

    /// Reads what the port has into `rx`; `false` once `deadline` has passed with nothing.
    fn fill(&mut self, deadline: Instant) -> Result<bool, DeviceError> {
        let mut buf = [0u8; 4096];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.port.set_timeout(deadline - now).map_err(|e| self.io_error(e))?;
            match self.port.read(&mut buf) {
                Ok(0) => {
                    // Nothing although the port said readable (a hung-up line): do not spin.
                    std::thread::sleep(
                        Duration::from_millis(1).min(deadline.saturating_duration_since(Instant::now())),
                    );
                }
                Ok(n) => {
                    self.rx.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Ok(false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    /// The next frame that starts with the reply SYNC, read within `deadline` (bytes before a
    /// SYNC are dropped, as the bridge drops bytes between requests).
    fn read_frame(&mut self, deadline: Instant) -> Result<Got, DeviceError> {
        loop {
            if let Some(p) = self.rx.iter().position(|&b| b == REPLY_SYNC) {
                self.rx.drain(..p);
                break;
            }
            self.rx.clear();
            if !self.fill(deadline)? {
                return Ok(Got::Silence);
            }
        }
        while self.rx.len() < REPLY_HEADER_BYTES {
            if !self.fill(deadline)? {
                let (have, need) = (self.rx.len(), REPLY_HEADER_BYTES + TRAILER_BYTES);
                return Ok(Got::Cut(ReplyError::Truncated { have, need }));
            }
        }
        let need = Reply::frame_len(&self.rx).unwrap_or(REPLY_HEADER_BYTES + TRAILER_BYTES);
        let count = u16::from_le_bytes([self.rx[3], self.rx[4]]);
        if count as usize > MAX_WORDS {
            // Not waited out: no reply is that long. Drop the SYNC so the next read resyncs.
            self.rx.drain(..1);
            return Ok(Got::Cut(ReplyError::CountMismatch {
                count,
                len: REPLY_HEADER_BYTES,
            }));
        }
        while self.rx.len() < need {
            if !self.fill(deadline)? {
                return Ok(Got::Cut(ReplyError::Truncated {
                    have: self.rx.len(),
                    need,
                }));
            }
        }
        Ok(Got::Frame(self.rx.drain(..need).collect()))
    }

    /// Sends the request `build(seq)` and returns its reply's data, sending it again on a
    /// damaged request or reply (at most `retries` times; a reply lost to a request that is not
    /// `resendable` is [`UartError::Unconfirmed`] at once). `value` is a register write's value,
    /// for the messages.
    fn transact(
        &mut self,
        op: BusOp,
        addr: u32,
        value: Option<u32>,
        build: impl Fn(u8) -> Request,
    ) -> Result<Vec<u32>, DeviceError> {
        let resendable = match (op, value) {
            (BusOp::RegWrite, Some(v)) => regs::register_at(addr).is_none_or(|r| v & r.pulse_mask() == 0),
            _ => true,
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let seq = self.seq;
            self.seq = self.seq.wrapping_add(1);
            let req = build(seq);
            let failure = match self.attempt(op, addr, &req, resendable)? {
                Ok(data) => return Ok(data),
                Err(f) => f,
            };
            let port = self.name.clone();
            let again = attempts <= self.opts.retries;
            match failure {
                // The bridge did not perform a damaged request: sending it again is safe.
                Failure::Damaged(_) if again => continue,
                Failure::BadReply(_) | Failure::Silence(_) if again && resendable => continue,
                Failure::Bus(e) => return Err(e.into()),
                Failure::Damaged(status) | Failure::Refused(status) => {
                    return Err(UartError::Status {
                        port,
                        op,
                        addr,
                        status,
                        attempts,
                    }
                    .into())
                }
                Failure::BadReply(reason) if resendable => {
                    return Err(UartError::BadReply {
                        port,
                        op,
                        addr,
                        attempts,
                        reason,
                    }
                    .into())
                }
                Failure::Silence(waited) if resendable => {
                    return Err(UartError::Timeout {
                        port,
                        op,
                        addr,
                        waited,
                        attempts,
                        baud: self.opts.baud,
                    }
                    .into())
                }
                Failure::BadReply(reason) => {
                    return Err(UartError::Unconfirmed {
                        port,
                        op,
                        addr,
                        value: value.unwrap_or(0),
                        reason: reason.to_string(),
                    }
                    .into())
                }
                Failure::Silence(waited) => {
                    return Err(UartError::Unconfirmed {
                        port,
                        op,
                        addr,
                        value: value.unwrap_or(0),
                        reason: format!("no reply within {waited:?}"),
                    }
                    .into())
                }
                Failure::Stale(got, waited) => {
                    return Err(UartError::WrongSeq {
                        port,
                        op,
                        addr,
                        expected: seq,
                        got,
                        waited,
                    }
                    .into())
                }
            }
        }
    }

    /// One request and its reply: the reply's data, or a [`Failure`] to retry or report; an
    /// error only when the port itself failed.
    fn attempt(
        &mut self,
        op: BusOp,
        addr: u32,
        req: &Request,
        resendable: bool,
    ) -> Result<Result<Vec<u32>, Failure>, DeviceError> {
        let bytes = req.encode();
        // Stale bytes (a late reply to an earlier request) would only be skipped later.
        self.rx.clear();
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(|e| self.io_error(e))?;
        let reply_len = REPLY_HEADER_BYTES + WORD_BYTES * req.reply_words() + TRAILER_BYTES;
        let waited = self.opts.reply_timeout + line_time(bytes.len() + reply_len, self.opts.baud);
        // The write is bounded by the port's timeout, the reply by the deadline.
        self.port.set_timeout(waited).map_err(|e| self.io_error(e))?;
        // No flush: tcdrain has no timeout, and write() already hands the bytes to the driver.
        self.port.write_all(&bytes).map_err(|e| self.io_error(e))?;
        let deadline = Instant::now() + waited;
        let mut stale = None;
        loop {
            let frame = match self.read_frame(deadline)? {
                Got::Frame(f) => f,
                Got::Cut(e) => return Ok(Err(Failure::BadReply(e))),
                Got::Silence => {
                    return Ok(Err(match stale {
                        Some(s) => Failure::Stale(s, waited),
                        None => Failure::Silence(waited),
                    }))
                }
            };
            let reply = match Reply::decode(&frame) {
                Ok(r) => r,
                Err(e) => return Ok(Err(Failure::BadReply(e))),
            };
            let damaged = matches!(reply.status, Status::BadCrc | Status::Truncated);
            // A damaged request may have lost its SEQ too (TRUNCATED before it says 0); but a
            // write that must not run twice is only resent on its own SEQ.
            if reply.seq != req.seq && !(damaged && resendable) {
                stale = Some(reply.seq);
                continue;
            }
            let bus = |e: BusError| Ok(Err(Failure::Bus(e)));
            return match reply.status {
                Status::Ok if reply.data.len() == req.reply_words() => Ok(Ok(reply.data)),
                Status::Ok => Ok(Err(Failure::BadReply(ReplyError::CountMismatch {
                    count: reply.data.len() as u16,
                    len: frame.len(),
                }))),
                Status::BadCrc | Status::Truncated => Ok(Err(Failure::Damaged(reply.status))),
                Status::AxiSlvErr => bus(BusError::SlvErr { op, addr }),
                Status::AxiDecErr => bus(BusError::DecErr { op, addr }),
                Status::AxiTimeout => bus(BusError::Timeout { op, addr }),
                status @ (Status::BadCmd | Status::BadCount | Status::BadAddr) => Ok(Err(Failure::Refused(status))),
            };
        }
    }

    /// Checks that `addr..addr + len` lies in the board's memory.
    fn check_range(&self, addr: u32, len: usize) -> Result<(), DeviceError> {
        if u64::from(addr) + len as u64 > u64::from(MEM_BYTES) {
            return Err(DeviceError::Address {
                addr: addr.into(),
                len,
                size: MEM_BYTES.into(),
            });
        }
        Ok(())
    }
}

/// Checks a baud rate: the message says what is wrong.
pub fn check_baud(baud: u32) -> Result<(), String> {
    if !(MIN_BAUD..=MAX_BAUD).contains(&baud) {
        return Err(format!(
            "baud rate {baud} is out of range: {MIN_BAUD} to {MAX_BAUD} (the board runs at {UART_BAUD})"
        ));
    }
    Ok(())
}

impl WordBus for UartBackend {
    fn read_words(&mut self, addr: u32, n: usize) -> Result<Vec<u32>, DeviceError> {
        let mut out = Vec::with_capacity(n);
        for (i, chunk) in (0..n).collect::<Vec<_>>().chunks(MAX_WORDS).enumerate() {
            let a = addr + (i * MAX_WORDS * WORD_BYTES) as u32;
            let count = chunk.len() as u16;
            out.extend(self.transact(BusOp::MemRead, a, None, |seq| Request::mem_read(seq, a, count))?);
        }
        Ok(out)
    }

    fn write_words(&mut self, addr: u32, words: &[u32]) -> Result<(), DeviceError> {
        for (i, chunk) in words.chunks(MAX_WORDS).enumerate() {
            let a = addr + (i * MAX_WORDS * WORD_BYTES) as u32;
            self.transact(BusOp::MemWrite, a, None, |seq| Request::mem_write(seq, a, chunk))?;
        }
        Ok(())
    }
}

impl Backend for UartBackend {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        let data = self.transact(BusOp::RegRead, offset, None, |seq| Request::reg_read(seq, offset))?;
        // transact checked the reply's length against the request's.
        Ok(data[0])
    }

    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        self.transact(BusOp::RegWrite, offset, Some(value), |seq| {
            Request::reg_write(seq, offset, value)
        })?;
        Ok(())
    }

    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        self.check_range(addr, bytes.len())?;
        words::write_bytes(self, addr, bytes)
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        self.check_range(addr, len)?;
        words::read_bytes(self, addr, len)
    }

    fn mem_size(&self) -> u32 {
        MEM_BYTES
    }

    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        std::thread::sleep(d);
        Ok(())
    }

    fn poll_interval(&self) -> Duration {
        // A STATUS read is ~25 bytes on the line: polling faster only loads the link.
        Duration::from_millis(1)
    }

    fn describe(&self) -> String {
        format!("UART bridge on {} at {} baud", self.name, self.opts.baud)
    }
}

pub mod peer {
    //! The board's side of the protocol in software: [`Framer`] cuts requests out of a byte
    //! stream as the bridge does (SYNC hunt, COUNT and ADDR checks, CRC, the idle timeout),
    //! [`SoftBoard`] serves them on any [`Backend`] (the functional model in tests) and
    //! [`pump`] moves bytes between a port (one end of a pty pair) and a callback, so a test
    //! can put a software board, or a simulated one, behind a real serial port.

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use npe_hdl::spec::regs::REG_ADDR_BITS;
    use npe_hdl::spec::uart::{
        crc8, Command, Reply, Request, Status, MAX_WORDS, REQUEST_HEADER_BYTES, REQUEST_SYNC, TRAILER_BYTES, WORD_BYTES,
    };
    use serialport::SerialPort;

    use crate::device::{Backend, BusError, DeviceError};

    /// Moves bytes between `port` and `board` until `stop` is set or the other end of the line
    /// closes: whatever arrives is handed to `board` with the time, and what it returns is
    /// written back. `board` is also called with no bytes every `tick` of silence, so a board
    /// with a clock of its own (an idle timeout, a simulated top) moves on. Errors are the
    /// port's (a closed other end is not one).
    pub fn pump(
        port: &mut dyn SerialPort,
        stop: &AtomicBool,
        tick: Duration,
        mut board: impl FnMut(&[u8], Instant) -> Vec<u8>,
    ) -> std::io::Result<()> {
        let mut buf = [0u8; 4096];
        port.set_timeout(tick)?;
        while !stop.load(Ordering::Relaxed) {
            let n = match port.read(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) => 0,
                // A pty's master reads EIO once the other end is closed.
                Err(e) if e.raw_os_error() == Some(libc::EIO) || e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(())
                }
                Err(e) => return Err(e),
            };
            let out = board(&buf[..n], Instant::now());
            if !out.is_empty() {
                match port.write_all(&out) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EIO) || e.kind() == std::io::ErrorKind::BrokenPipe => {
                        return Ok(())
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// What the framer made of a frame: a request to serve, or the reply the bridge gives a
    /// bad frame without serving it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Framed {
        /// A whole, well-formed request.
        Request(Request),
        /// A bad frame's reply (BAD_CMD, BAD_COUNT, BAD_ADDR, BAD_CRC, TRUNCATED).
        Refused(Reply),
    }

    /// Where the framer is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum State {
        /// Between frames: bytes other than SYNC are dropped.
        Hunt,
        /// Inside a frame (the bytes so far are in `buf`).
        Frame,
        /// Dropping a bad frame's bytes until the line is idle, then replying `status`.
        Discard(Status),
    }

    /// Cuts requests out of a byte stream as the bridge does.
    pub struct Framer {
        idle: Duration,
        mem_bytes: u32,
        state: State,
        buf: Vec<u8>,
        last: Option<Instant>,
    }

    impl Framer {
        /// A framer whose line goes idle after `idle` without a byte (the bridge's
        /// IDLE_TIMEOUT_BITS at its baud rate; longer for a pty's scheduling), for a board with
        /// `mem_bytes` of memory.
        pub fn new(idle: Duration, mem_bytes: u32) -> Self {
            Framer {
                idle,
                mem_bytes,
                state: State::Hunt,
                buf: Vec::new(),
                last: None,
            }
        }

        fn seq(&self) -> u8 {
            self.buf.get(2).copied().unwrap_or(0)
        }

        fn refuse(&mut self, status: Status) -> Framed {
            let seq = self.seq();
            self.state = State::Hunt;
            self.buf.clear();
            Framed::Refused(Reply {
                status,
                seq,
                data: Vec::new(),
            })
        }

        /// The header's verdict once it is whole: `None` if the frame goes on.
        fn check_header(&self) -> Option<Status> {
            let b = &self.buf;
            let cmd = Command::from_code(b[1])?;
            let addr = u32::from_le_bytes([b[3], b[4], b[5], b[6]]);
            let count = u16::from_le_bytes([b[7], b[8]]) as usize;
            if count == 0 || count > MAX_WORDS || (cmd.is_reg() && count != 1) {
                return Some(Status::BadCount);
            }
            let end = u64::from(addr) + (count * WORD_BYTES) as u64;
            let limit = if cmd.is_reg() {
                1u64 << REG_ADDR_BITS
            } else {
                u64::from(self.mem_bytes)
            };
            if !addr.is_multiple_of(WORD_BYTES as u32) || end > limit {
                return Some(Status::BadAddr);
            }
            None
        }

        /// Bytes of the frame in `buf` once its header is known.
        fn frame_len(&self) -> usize {
            let count = u16::from_le_bytes([self.buf[7], self.buf[8]]) as usize;
            let data = match Command::from_code(self.buf[1]) {
                Some(c) if c.is_write() => count * WORD_BYTES,
                _ => 0,
            };
            REQUEST_HEADER_BYTES + data + TRAILER_BYTES
        }

        /// Feeds `bytes` that arrived at `now` (none: time passed); returns the frames that
        /// ended, in order.
        pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<Framed> {
            let mut out = Vec::new();
            // The idle rule first: it ended whatever frame was open before these bytes.
            if let Some(last) = self.last {
                if now.duration_since(last) >= self.idle {
                    match self.state {
                        State::Hunt => {}
                        State::Frame => out.push(self.refuse(Status::Truncated)),
                        State::Discard(s) => out.push(self.refuse(s)),
                    }
                    self.last = None;
                }
            }
            for &b in bytes {
                self.last = Some(now);
                match self.state {
                    State::Hunt if b == REQUEST_SYNC => {
                        self.buf.clear();
                        self.buf.push(b);
                        self.state = State::Frame;
                    }
                    State::Hunt | State::Discard(_) => {
                        if let State::Discard(_) = self.state {
                            // Keep the SEQ (byte 2) for the reply.
                            if self.buf.len() < 3 {
                                self.buf.push(b);
                            }
                        }
                    }
                    State::Frame => {
                        self.buf.push(b);
                        let n = self.buf.len();
                        if n == 2 && Command::from_code(b).is_none() {
                            self.state = State::Discard(Status::BadCmd);
                        } else if n == REQUEST_HEADER_BYTES {
                            if let Some(s) = self.check_header() {
                                self.state = State::Discard(s);
                            }
                        } else if n > REQUEST_HEADER_BYTES && n == self.frame_len() {
                            out.push(self.finish());
                        }
                    }
                }
            }
            out
        }

        /// A whole frame in `buf`: the request, or BAD_CRC.
        fn finish(&mut self) -> Framed {
            let b = std::mem::take(&mut self.buf);
            self.state = State::Hunt;
            let n = b.len();
            if crc8(&b[1..n - 1]) != b[n - 1] {
                self.buf = b;
                return self.refuse(Status::BadCrc);
            }
            let cmd = Command::from_code(b[1]).unwrap_or(Command::RegRead);
            let data = b[REQUEST_HEADER_BYTES..n - 1]
                .chunks_exact(WORD_BYTES)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .collect();
            Framed::Request(Request {
                cmd,
                seq: b[2],
                addr: u32::from_le_bytes([b[3], b[4], b[5], b[6]]),
                count: u16::from_le_bytes([b[7], b[8]]),
                data,
            })
        }
    }

    /// Serves one request on `model` as the bridge serves it on the board: the reply (AXI
    /// errors of a register access as AXI_SLVERR / AXI_DECERR / AXI_TIMEOUT; a memory access
    /// the model refuses as BAD_ADDR; DATA that disagrees with COUNT as BAD_COUNT).
    pub fn serve(model: &mut dyn Backend, req: &Request) -> Reply {
        let want_data = if req.cmd.is_write() { req.count as usize } else { 0 };
        if req.data.len() != want_data || req.count == 0 || (req.cmd.is_reg() && req.count != 1) {
            return Reply {
                status: Status::BadCount,
                seq: req.seq,
                data: Vec::new(),
            };
        }
        let status_of = |e: DeviceError| match e {
            DeviceError::Bus(BusError::SlvErr { .. }) => Status::AxiSlvErr,
            DeviceError::Bus(BusError::DecErr { .. }) => Status::AxiDecErr,
            DeviceError::Bus(BusError::Timeout { .. }) => Status::AxiTimeout,
            _ => Status::BadAddr,
        };
        let result = match req.cmd {
            Command::RegRead => model.read_reg(req.addr).map(|v| vec![v]),
            Command::RegWrite => model.write_reg(req.addr, req.data[0]).map(|()| Vec::new()),
            Command::MemRead => model.read_mem(req.addr, req.count as usize * WORD_BYTES).map(|b| {
                b.chunks_exact(WORD_BYTES)
                    .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                    .collect()
            }),
            Command::MemWrite => {
                let bytes: Vec<u8> = req.data.iter().flat_map(|w| w.to_le_bytes()).collect();
                model.write_mem(req.addr, &bytes).map(|()| Vec::new())
            }
        };
        match result {
            Ok(data) => Reply {
                status: Status::Ok,
                seq: req.seq,
                data,
            },
            Err(e) => Reply {
                status: status_of(e),
                seq: req.seq,
                data: Vec::new(),
            },
        }
    }

    /// Changes a reply on its way out (a fault injected by a test): gets the request it answers
    /// (`None` for a bad frame's reply) and the reply, returns the bytes to send.
    pub type Tamper = Box<dyn FnMut(Option<&Request>, Reply) -> Vec<u8> + Send>;

    /// A board in software: the framer and a model behind it, for [`pump`].
    pub struct SoftBoard<B: Backend> {
        framer: Framer,
        /// The device behind the bridge.
        pub model: B,
        /// Every well-formed request served, in order.
        pub requests: Vec<Request>,
        /// Replies pass through this, when set.
        pub tamper: Option<Tamper>,
    }

    impl<B: Backend> SoftBoard<B> {
        /// A board serving `model` whose line goes idle after `idle`; its memory is the model's.
        pub fn new(model: B, idle: Duration) -> Self {
            let mem = model.mem_size();
            SoftBoard {
                framer: Framer::new(idle, mem),
                model,
                requests: Vec::new(),
                tamper: None,
            }
        }

        /// Takes bytes from the line, returns the bytes of the replies to send.
        pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
            let mut out = Vec::new();
            for f in self.framer.push(bytes, now) {
                let (req, reply) = match f {
                    Framed::Request(r) => {
                        let reply = serve(&mut self.model, &r);
                        self.requests.push(r.clone());
                        (Some(r), reply)
                    }
                    Framed::Refused(reply) => (None, reply),
                };
                match self.tamper.as_mut() {
                    Some(t) => out.extend(t(req.as_ref(), reply)),
                    None => out.extend(reply.encode()),
                }
            }
            out
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
