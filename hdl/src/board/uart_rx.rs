//! UART receiver: 8 data bits, no parity, 1 stop bit, LSB first, idle high.
//!
//! The rx pin goes through a 2-flop synchronizer (it comes from another clock domain). A falling
//! edge on an idle line starts a byte; the start bit is checked again half a bit later (a
//! glitch shorter than that is no byte) and every later bit is sampled one bit time after the
//! previous one, so each sample falls mid-bit. A low stop bit drops the byte and pulses
//! `frame_err`; the receiver then waits for the line to go high (a break is one error, not a
//! stream of them).
//!
//! The idle timer counts whole bit times of high line with no byte in progress; `idle` is high
//! once it reached the `idle_bits` given at construction, until the next start bit. The bridge
//! ends a frame on it (`spec::uart::IDLE_TIMEOUT_BITS`).
//!
//! `clks_per_bit` is a run-time value baked in as a constant: the board and the tests build the
//! same block at different bit rates.

use crate::decode::const_bits;
use rust_hdl::prelude::*;

/// Receiver states. `Break` is the all-zero state: after power-up (flops at 0) or reset the
/// receiver waits for a high line before it looks for a start bit.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum RxState {
    /// Waiting for the line to go high.
    Break,
    /// Line high, waiting for a start bit; the idle timer runs.
    Idle,
    /// In the first half of the start bit.
    Start,
    /// Sampling the 8 data bits.
    Data,
    /// Waiting for the middle of the stop bit.
    Stop,
}

/// The receiver (see the module docs). Every output is a register.
#[derive(LogicBlock)]
pub struct UartRx {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// The rx pin (asynchronous).
    pub rx: Signal<In, Bit>,
    /// The last byte received; valid with `valid`, held until the next one.
    pub data: Signal<Out, Bits<8>>,
    /// A byte was received (one-cycle pulse).
    pub valid: Signal<Out, Bit>,
    /// A byte's stop bit was low: the byte is dropped (one-cycle pulse).
    pub frame_err: Signal<Out, Bit>,
    /// The line has been idle for at least `idle_bits` bit times.
    pub idle: Signal<Out, Bit>,

    s1: DFF<Bit>,
    s2: DFF<Bit>,
    state: DFF<RxState>,
    // Cycles into the current bit (or the idle bit being timed).
    cnt: DFF<Bits<16>>,
    nbit: DFF<Bits<3>>,
    sh: DFF<Bits<8>>,
    valid_q: DFF<Bit>,
    ferr_q: DFF<Bit>,
    idle_bits: DFF<Bits<16>>,
    idle_q: DFF<Bit>,
    bit_end: Signal<Local, Bit>,
    // Clocks per bit − 1, and half of it (the start bit's middle).
    k_last: Constant<Bits<16>>,
    k_half: Constant<Bits<16>>,
    k_idle: Constant<Bits<16>>,
    k_one16: Constant<Bits<16>>,
    k_one3: Constant<Bits<3>>,
    k_seven: Constant<Bits<3>>,
    k_msb: Constant<Bits<8>>,
    k_shift: Constant<Bits<8>>,
}

impl UartRx {
    /// A receiver at `clks_per_bit` clock cycles per bit (4 to 65535) whose `idle` rises after
    /// `idle_bits` bit times of idle line (1 to 65535).
    pub fn new(clks_per_bit: u32, idle_bits: u32) -> Self {
        assert!(
            (4..=0xFFFF).contains(&clks_per_bit),
            "clks_per_bit {clks_per_bit}: the receiver needs 4 to 65535 clocks per bit"
        );
        assert!(
            (1..=0xFFFF).contains(&idle_bits),
            "idle_bits {idle_bits} out of 1..=65535"
        );
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            frame_err: Default::default(),
            idle: Default::default(),
            s1: Default::default(),
            s2: Default::default(),
            state: Default::default(),
            cnt: Default::default(),
            nbit: Default::default(),
            sh: Default::default(),
            valid_q: Default::default(),
            ferr_q: Default::default(),
            idle_bits: Default::default(),
            idle_q: Default::default(),
            bit_end: Default::default(),
            k_last: const_bits(clks_per_bit as u64 - 1),
            k_half: const_bits(clks_per_bit as u64 / 2 - 1),
            k_idle: const_bits(idle_bits as u64),
            k_one16: const_bits(1),
            k_one3: const_bits(1),
            k_seven: const_bits(7),
            k_msb: const_bits(0x80),
            k_shift: const_bits(1),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s1, s2, state, cnt, nbit, sh, valid_q, ferr_q, idle_bits, idle_q);
        self.s1.d.next = self.rx.val();
        self.s2.d.next = self.s1.q.val();
        self.bit_end.next = self.cnt.q.val() == self.k_last.val();
        self.cnt.d.next = self.cnt.q.val() + self.k_one16.val();
        self.valid_q.d.next = false;
        self.ferr_q.d.next = false;
        // The idle timer runs only in Idle.
        self.idle_bits.d.next = 0.into();
        self.idle_q.d.next = false;

        match self.state.q.val() {
            RxState::Break => {
                self.cnt.d.next = 0.into();
                if self.s2.q.val() {
                    self.state.d.next = RxState::Idle;
                }
            }
            RxState::Idle => {
                // `cnt` times the idle bits here; it starts from 0 in the start bit.
                self.idle_bits.d.next = self.idle_bits.q.val();
                if self.bit_end.val() {
                    self.cnt.d.next = 0.into();
                    if self.idle_bits.q.val() != self.k_idle.val() {
                        self.idle_bits.d.next = self.idle_bits.q.val() + self.k_one16.val();
                    }
                }
                self.idle_q.d.next = self.idle_bits.q.val() == self.k_idle.val();
                if !self.s2.q.val() {
                    self.state.d.next = RxState::Start;
                    self.cnt.d.next = 0.into();
                    self.idle_bits.d.next = 0.into();
                    self.idle_q.d.next = false;
                }
            }
            RxState::Start => {
                if self.cnt.q.val() == self.k_half.val() {
                    self.cnt.d.next = 0.into();
                    self.nbit.d.next = 0.into();
                    // Still low mid-bit: a start bit; high again: a glitch.
                    if self.s2.q.val() {
                        self.state.d.next = RxState::Idle;
                    } else {
                        self.state.d.next = RxState::Data;
                    }
                }
            }
            RxState::Data => {
                if self.bit_end.val() {
                    self.cnt.d.next = 0.into();
                    self.nbit.d.next = self.nbit.q.val() + self.k_one3.val();
                    // LSB first: shift right, the new bit enters at the top.
                    if self.s2.q.val() {
                        self.sh.d.next = (self.sh.q.val() >> self.k_shift.val()) | self.k_msb.val();
                    } else {
                        self.sh.d.next = self.sh.q.val() >> self.k_shift.val();
                    }
                    if self.nbit.q.val() == self.k_seven.val() {
                        self.state.d.next = RxState::Stop;
                    }
                }
            }
            RxState::Stop => {
                if self.bit_end.val() {
                    self.cnt.d.next = 0.into();
                    if self.s2.q.val() {
                        self.valid_q.d.next = true;
                        self.state.d.next = RxState::Idle;
                    } else {
                        self.ferr_q.d.next = true;
                        self.state.d.next = RxState::Break;
                    }
                }
            }
        }

        if self.reset.val() {
            // The synchronizer reads "high" so a reset does not look like a start bit.
            self.s1.d.next = true;
            self.s2.d.next = true;
            self.state.d.next = RxState::Break;
            self.cnt.d.next = 0.into();
            self.valid_q.d.next = false;
            self.ferr_q.d.next = false;
            self.idle_bits.d.next = 0.into();
            self.idle_q.d.next = false;
        }

        self.data.next = self.sh.q.val();
        self.valid.next = self.valid_q.q.val();
        self.frame_err.next = self.ferr_q.q.val();
        self.idle.next = self.idle_q.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng, HasClock};

    impl HasClock for UartRx {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// What the receiver reported, cycle by cycle.
    #[derive(Default)]
    struct Seen {
        bytes: Vec<u8>,
        frame_errs: usize,
        // Cycles after which `idle` was first seen high (since the last byte or error).
        idle_at: Vec<u64>,
    }

    /// Drives the pin with `line` (one level per cycle), then `tail` cycles of high line.
    fn run(uut: &mut UartRx, line: &[bool], tail: usize) -> Seen {
        let mut seen = Seen::default();
        let mut idle_was = uut.idle.val();
        for (t, &level) in line.iter().chain(std::iter::repeat_n(&true, tail)).enumerate() {
            uut.rx.next = level;
            cycle(uut);
            if uut.valid.val() {
                seen.bytes.push(uut.data.val().to_u8());
            }
            if uut.frame_err.val() {
                seen.frame_errs += 1;
            }
            if uut.idle.val() && !idle_was {
                seen.idle_at.push(t as u64);
            }
            idle_was = uut.idle.val();
        }
        seen
    }

    /// Line levels of `byte` framed (start, 8 bits LSB first, `stop`), each bit lasting
    /// `bit_time` cycles (fractional: a transmitter at another baud), from phase `t0`.
    fn frame(byte: u8, stop: bool, bit_time: f64, t0: &mut f64, line: &mut Vec<bool>) {
        let bits = std::iter::once(false)
            .chain((0..8).map(|i| byte >> i & 1 == 1))
            .chain([stop]);
        for b in bits {
            *t0 += bit_time;
            while (line.len() as f64) < *t0 {
                line.push(b);
            }
        }
    }

    fn reset(uut: &mut UartRx) {
        uut.reset.next = true;
        uut.rx.next = true;
        cycle(uut);
        cycle(uut);
        uut.reset.next = false;
    }

    fn receives(clks: u32, bit_time: f64, gap_bits: f64, seed: u64) {
        let mut uut = UartRx::new(clks, 20);
        uut.connect_all();
        reset(&mut uut);
        let mut r = rng(seed);
        let bytes: Vec<u8> = (0..64)
            .map(|i| if i < 2 { [0x00, 0xFF][i] } else { r() as u8 })
            .collect();
        let (mut line, mut t) = (vec![true; 3 * clks as usize], 3.0 * clks as f64);
        for &b in &bytes {
            frame(b, true, bit_time, &mut t, &mut line);
            t += gap_bits * bit_time;
            while (line.len() as f64) < t {
                line.push(true);
            }
        }
        let seen = run(&mut uut, &line, 2 * clks as usize);
        assert_eq!(seen.bytes, bytes, "clks {clks}, bit time {bit_time}");
        assert_eq!(seen.frame_errs, 0);
    }

    #[test]
    fn receives_bytes_back_to_back_and_with_gaps() {
        receives(4, 4.0, 0.0, 1);
        receives(4, 4.0, 1.5, 2);
        receives(5, 5.0, 0.0, 3);
        receives(16, 16.0, 0.25, 4);
    }

    #[test]
    fn tolerates_a_baud_error_of_a_few_percent() {
        // Mid-bit sampling: ±4 % over 10 bits moves the last sample by 0.4 bit.
        receives(16, 16.0 * 1.04, 0.0, 5);
        receives(16, 16.0 * 0.96, 0.0, 6);
        receives(50, 50.0 * 1.04, 0.0, 7);
    }

    #[test]
    fn a_low_stop_bit_is_a_framing_error_and_the_byte_is_dropped() {
        let mut uut = UartRx::new(8, 20);
        uut.connect_all();
        reset(&mut uut);
        let (mut line, mut t) = (vec![true; 16], 16.0);
        frame(0x5A, true, 8.0, &mut t, &mut line);
        frame(0x33, false, 8.0, &mut t, &mut line);
        // The line stays low a while (a break): still one error.
        t += 40.0;
        while (line.len() as f64) < t {
            line.push(false);
        }
        t += 8.0;
        while (line.len() as f64) < t {
            line.push(true);
        }
        frame(0xC3, true, 8.0, &mut t, &mut line);
        let seen = run(&mut uut, &line, 16);
        assert_eq!(seen.bytes, [0x5A, 0xC3]);
        assert_eq!(seen.frame_errs, 1);
    }

    #[test]
    fn a_glitch_shorter_than_half_a_bit_is_no_byte() {
        let mut uut = UartRx::new(16, 20);
        uut.connect_all();
        reset(&mut uut);
        let mut line = vec![true; 20];
        line.extend([false; 5]);
        line.extend([true; 40]);
        let seen = run(&mut uut, &line, 0);
        assert!(seen.bytes.is_empty() && seen.frame_errs == 0);
    }

    #[test]
    fn idle_rises_after_idle_bits_of_high_line() {
        let (clks, idle_bits) = (6u32, 20u32);
        let mut uut = UartRx::new(clks, idle_bits);
        uut.connect_all();
        reset(&mut uut);
        // After reset, then after a byte: idle counts from the byte's stop-bit middle.
        let (mut line, mut t) = (Vec::new(), 0.0);
        line.extend(vec![true; 300]);
        t += 300.0;
        frame(0x81, true, clks as f64, &mut t, &mut line);
        let start = line.len() as u64;
        let seen = run(&mut uut, &line, 200);
        assert_eq!(seen.bytes, [0x81]);
        assert_eq!(seen.idle_at.len(), 2, "idle rose {:?}", seen.idle_at);
        // Synchronizer (2) + Break→Idle (1) + idle_bits bit times + the flag's register.
        let first = seen.idle_at[0];
        let want = (idle_bits * clks) as u64;
        assert!(
            (want..want + 5).contains(&first),
            "first idle at {first}, want ≈ {want}"
        );
        // The stop bit's middle is half a bit before the line's end.
        let second = seen.idle_at[1] - start;
        assert!(
            (want - (clks / 2) as u64..want + 5).contains(&second),
            "idle after the byte at +{second}, want ≈ {want}"
        );
        // ... and it falls at the next start bit.
        let mut line = vec![false; 3];
        line.extend([true; 3]);
        assert!(uut.idle.val());
        let _ = run(&mut uut, &line, 0);
        assert!(!uut.idle.val());
    }
}
