//! A board in simulation: the Verilated board core (`board_core_sim`: npe-hdl's `BoardCore`, the
//! UART bridge, the accelerator and the board memory) clocked from Rust, its `rx` pin driven bit
//! by bit with the host's bytes and its `tx` pin decoded back into bytes ([`SerialLine`]).
//! [`SimBoard::on_bytes`] is the `board` of [`peer::pump`], so the real [`UartBackend`] talks
//! over a real pty pair to the real RTL:
//!
//! ```text
//!  UartBackend ─ pty ─ peer::pump ─ SimBoard::on_bytes ─ SerialLine ─ rx/tx ─ board_core_sim
//! ```
//!
//! **Time.** A simulated cycle costs far more than the board's 20 ns, so the board does not try
//! to keep up with the wall clock. Simulated time passes while the line carries bits (the host's
//! bytes go out back to back, as a UART sends them) and while a reply is due (the request
//! ended, or the host went silent inside one and the bridge's idle timeout must run); it stands
//! still while the board waits for the host. So the host's scheduling never shows on the line —
//! a request the pty delivers in pieces is one unbroken frame to the bridge — and a frame's
//! simulated cycles are the board's own (line, bridge and memory, no host). A job runs while
//! the host polls STATUS: each poll's frames are cycles for the accelerator too.
//!
//! Which replies are due is [`peer::Framer`]'s verdict on the host's bytes, the bridge's rules
//! in software: a whole request, or a bad or cut-short one once the host has been silent for
//! the framer's idle time (wall time the board spent waiting, its own simulation time taken
//! out). A reply is done when a whole frame has come out of `tx`.
//!
//! [`peer::pump`]: super::uart::peer::pump
//! [`peer::Framer`]: super::uart::peer::Framer
//! [`UartBackend`]: super::uart::UartBackend

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use npe_hdl::board::board_core::{BOARD_CORE_SIM_CFG, BOARD_CORE_SIM_CLKS_PER_BIT, BOARD_CORE_SIM_TOP};
use npe_hdl::spec::board::MEM_BYTES;
use npe_hdl::spec::uart::{Reply, Request, AXI_TIMEOUT_CYCLES, IDLE_TIMEOUT_BITS, REPLY_SYNC};
use npe_hdl::spec::NpeConfig;
use npe_sim::{Port, Sim, Top};

use super::uart::peer::{Framed, Framer};
use super::DeviceError;

/// Bits of a UART byte on the line: start, 8 data (LSB first), stop.
pub const BITS_PER_BYTE: u32 = 10;

/// A UART line into and out of a Verilated top: the `rx` input driven from a queue of bytes
/// (8N1, LSB first, `clks_per_bit` cycles a bit, back to back), the `tx` output decoded into
/// bytes (each bit sampled in its middle, as a receiver does).
pub struct SerialLine {
    clks_per_bit: u32,
    rx: Port,
    tx: Port,
    /// Bytes not yet on the line.
    queue: VecDeque<u8>,
    /// The byte on the line and the cycles of it sent so far.
    sending: Option<(u8, u32)>,
    /// The byte being received: cycles since its start bit's falling edge, bits so far.
    receiving: Option<(u32, u16)>,
    framing_errors: u64,
}

impl SerialLine {
    /// The line of `top`'s `rx` and `tx` ports at `clks_per_bit` (at least 2: a bit needs a
    /// middle to sample).
    pub fn new(top: Top, clks_per_bit: u32) -> Result<Self, DeviceError> {
        let port = |name: &str| {
            top.port(name)
                .ok_or_else(|| DeviceError::Backend(format!("{} has no port {name}", top.name)))
        };
        if clks_per_bit < 2 {
            return Err(DeviceError::Backend(format!(
                "{clks_per_bit} clock cycles per bit: a UART bit needs at least 2"
            )));
        }
        Ok(SerialLine {
            clks_per_bit,
            rx: port("rx")?,
            tx: port("tx")?,
            queue: VecDeque::new(),
            sending: None,
            receiving: None,
            framing_errors: 0,
        })
    }

    /// Clock cycles per bit.
    pub fn clks_per_bit(&self) -> u32 {
        self.clks_per_bit
    }

    /// Queues `bytes` to send after those already queued.
    pub fn send(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    /// Bytes are queued or on their way into `rx`.
    pub fn sending(&self) -> bool {
        self.sending.is_some() || !self.queue.is_empty()
    }

    /// A byte is coming out of `tx` (its start bit was seen, its stop bit not yet sampled).
    pub fn receiving(&self) -> bool {
        self.receiving.is_some()
    }

    /// Bytes from `tx` whose stop bit was low (dropped, as a UART drops them).
    pub fn framing_errors(&self) -> u64 {
        self.framing_errors
    }

    /// Drives idle `rx` and settles the top (before its first cycle, with reset held).
    pub fn idle(&self, sim: &mut Sim) {
        sim.set(self.rx, 1);
        sim.eval();
    }

    /// One clock cycle: drives `rx` with this cycle's bit, lets `tick` clock the top (it may
    /// serve other ports around [`Sim::tick`]), then samples `tx`. Returns the byte whose stop
    /// bit was sampled in this cycle.
    pub fn cycle(&mut self, sim: &mut Sim, tick: impl FnOnce(&mut Sim)) -> Option<u8> {
        let level = self.next_level();
        sim.set(self.rx, level.into());
        tick(sim);
        self.sample(sim.get(self.tx) != 0)
    }

    /// The sender: the level of `rx` in the coming cycle (high when idle).
    fn next_level(&mut self) -> bool {
        let cpb = self.clks_per_bit;
        if self.sending.is_none() {
            self.sending = self.queue.pop_front().map(|b| (b, 0));
        }
        let Some((b, t)) = self.sending else {
            return true;
        };
        self.sending = (t + 1 < BITS_PER_BYTE * cpb).then_some((b, t + 1));
        match t / cpb {
            0 => false,
            k @ 1..=8 => b >> (k - 1) & 1 == 1,
            _ => true,
        }
    }

    /// The receiver: `tx` as it is in the cycle just clocked.
    fn sample(&mut self, tx: bool) -> Option<u8> {
        let cpb = self.clks_per_bit;
        let (t, bits) = match self.receiving {
            None if !tx => (0, 0),
            None => return None,
            Some((t, bits)) => (t + 1, bits),
        };
        self.receiving = Some((t, bits));
        if t % cpb != cpb / 2 {
            return None;
        }
        match t / cpb {
            // A low pulse shorter than half a bit is a glitch, not a start bit.
            0 if tx => self.receiving = None,
            0 => {}
            k @ 1..=8 => self.receiving = Some((t, bits | u16::from(tx) << (k - 1))),
            _ => {
                self.receiving = None;
                if tx {
                    return Some(bits as u8);
                }
                self.framing_errors += 1;
            }
        }
        None
    }
}

/// What a [`SimBoard`] saw, for tests and measurements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardStats {
    /// Clock cycles simulated since reset.
    pub cycles: u64,
    /// Cycles in which `rx` carried a byte of the host's.
    pub rx_cycles: u64,
    /// Bytes from the host.
    pub bytes_in: u64,
    /// Bytes to the host.
    pub bytes_out: u64,
    /// Every well-formed request from the host (as the framer cut them, data included), in
    /// order.
    pub requests: Vec<Request>,
    /// Every reply the board sent that decoded (SYNC, length and CRC right), in order.
    pub replies: Vec<Reply>,
    /// Reply frames that did not decode, and bytes outside a frame.
    pub bad_replies: u64,
    /// Bytes from `tx` with a low stop bit.
    pub framing_errors: u64,
    /// Replies due that never came (the board stopped waiting for them).
    pub unanswered: u64,
    /// Cycles with DMA activity on the accelerator's AXI4 port.
    pub dma_cycles: u64,
    /// Cycles in which the board memory answered a DMA access with an error.
    pub mem_error_cycles: u64,
}

/// How long the host must be silent inside a request before the board lets the bridge's idle
/// timeout run (wall time spent waiting for the host, not simulating).
pub const HOST_IDLE: Duration = Duration::from_millis(20);

/// The Verilated board core behind a [`SerialLine`], for [`peer::pump`](super::uart::peer::pump)
/// (see the module docs).
pub struct SimBoard {
    sim: Sim,
    line: SerialLine,
    dma: Port,
    mem_error: Port,
    framer: Framer,
    /// Wall time spent inside [`SimBoard::on_bytes`]: taken out of the framer's clock, so the
    /// board's own slowness never looks like a silent host.
    lag: Duration,
    /// Replies due.
    due: usize,
    /// Cycles since the line last moved while a reply is due.
    quiet: u64,
    /// The reply coming out of `tx` so far.
    reply: Vec<u8>,
    stats: BoardStats,
}

impl SimBoard {
    /// The preset of the simulated board's accelerator (what the host connects with).
    pub const CONFIG: NpeConfig = BOARD_CORE_SIM_CFG;

    /// Clock cycles per UART bit of the simulated board.
    pub const CLKS_PER_BIT: u32 = BOARD_CORE_SIM_CLKS_PER_BIT;

    /// The board out of reset, its line idle; the framer takes the host as silent after
    /// `host_idle` without a byte inside a request ([`HOST_IDLE`] is a good value for a pty).
    pub fn new(host_idle: Duration) -> Result<Self, DeviceError> {
        let top = npe_sim::tops::by_name(BOARD_CORE_SIM_TOP)
            .ok_or_else(|| DeviceError::Backend(format!("no simulated top {BOARD_CORE_SIM_TOP}")))?;
        let port = |name: &str| {
            top.port(name)
                .ok_or_else(|| DeviceError::Backend(format!("{} has no port {name}", top.name)))
        };
        let (reset, dma, mem_error) = (port("reset")?, port("dma")?, port("mem_error")?);
        let mut sim = Sim::new(top);
        let line = SerialLine::new(top, Self::CLKS_PER_BIT)?;
        line.idle(&mut sim);
        sim.set(reset, 1);
        for _ in 0..4 {
            sim.tick();
        }
        sim.set(reset, 0);
        sim.eval();
        Ok(SimBoard {
            sim,
            line,
            dma,
            mem_error,
            framer: Framer::new(host_idle, MEM_BYTES),
            lag: Duration::ZERO,
            due: 0,
            quiet: 0,
            reply: Vec::new(),
            stats: BoardStats::default(),
        })
    }

    /// What the board saw so far.
    pub fn stats(&self) -> &BoardStats {
        &self.stats
    }

    /// Cycles the line may stand still while a reply is due before the board gives up on it:
    /// twice the longest the bridge may take to answer (its idle timeout, then a register
    /// access that times out).
    fn quiet_limit(&self) -> u64 {
        2 * (u64::from(IDLE_TIMEOUT_BITS) * u64::from(Self::CLKS_PER_BIT) + u64::from(AXI_TIMEOUT_CYCLES))
    }

    /// Takes the host's bytes that arrived at `now` (none: time passed) and returns the board's
    /// bytes: clocks the board until the line has sent them and every reply due has come out.
    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        let start = Instant::now();
        let framer_now = now.checked_sub(self.lag).unwrap_or(now);
        for f in self.framer.push(bytes, framer_now) {
            if let Framed::Request(r) = f {
                self.stats.requests.push(r);
            }
            self.due += 1;
            self.quiet = 0;
        }
        self.line.send(bytes);
        self.stats.bytes_in += bytes.len() as u64;
        let mut out = Vec::new();
        // A reply the framer did not foresee is still let out whole.
        while self.line.sending() || self.due > 0 || self.line.receiving() || !self.reply.is_empty() {
            let sending = self.line.sending();
            if let Some(b) = self.line.cycle(&mut self.sim, Sim::tick) {
                out.push(b);
                self.take_reply_byte(b);
            }
            self.stats.cycles += 1;
            self.stats.rx_cycles += u64::from(sending);
            self.stats.dma_cycles += self.sim.get(self.dma);
            self.stats.mem_error_cycles += self.sim.get(self.mem_error);
            if sending || self.line.receiving() {
                self.quiet = 0;
            } else {
                self.quiet += 1;
                if self.quiet > self.quiet_limit() {
                    self.stats.unanswered += self.due as u64;
                    self.due = 0;
                    if !self.reply.is_empty() {
                        self.stats.bad_replies += 1;
                        self.reply.clear();
                    }
                }
            }
        }
        self.stats.bytes_out += out.len() as u64;
        self.stats.framing_errors = self.line.framing_errors();
        self.lag += start.elapsed();
        out
    }

    /// A byte out of `tx`: part of a reply; a whole reply settles one that was due.
    fn take_reply_byte(&mut self, b: u8) {
        if self.reply.is_empty() && b != REPLY_SYNC {
            // The bridge sends nothing between replies.
            self.stats.bad_replies += 1;
            return;
        }
        self.reply.push(b);
        if Reply::frame_len(&self.reply) != Some(self.reply.len()) {
            return;
        }
        match Reply::decode(&std::mem::take(&mut self.reply)) {
            Ok(r) => self.stats.replies.push(r),
            Err(_) => self.stats.bad_replies += 1,
        }
        self.due = self.due.saturating_sub(1);
    }
}

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;
