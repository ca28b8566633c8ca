//! UART transmitter: 8 data bits, no parity, 1 stop bit, LSB first, idle high.
//!
//! A byte is taken when `valid` and `ready` are both high. Each byte lasts exactly ten bit
//! times (`10 × clks_per_bit` cycles); `ready` is low during them but for their last cycle, so
//! a byte offered back to back starts right after the stop bit, with no gap.
//!
//! The frame is held inverted in a shift register that shifts in zeros: the all-zero state is
//! the idle line, so the pin is high from power-up, before any reset.

use crate::decode::{const_bits, const_index, BitIndex};
use rust_hdl::prelude::*;

/// The transmitter (see the module docs). `ready` is a register, `tx` a register inverted.
#[derive(LogicBlock)]
pub struct UartTx {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high (abandons a byte in flight).
    pub reset: Signal<In, Bit>,
    /// The byte to send.
    pub data: Signal<In, Bits<8>>,
    /// `data` is offered.
    pub valid: Signal<In, Bit>,
    /// A byte offered now is taken.
    pub ready: Signal<Out, Bit>,
    /// The tx pin.
    pub tx: Signal<Out, Bit>,

    // The frame (start, data, stop), inverted, bit 0 on the pin.
    txn: DFF<Bits<10>>,
    cnt: DFF<Bits<16>>,
    nbit: DFF<Bits<4>>,
    busy: DFF<Bit>,
    // `ready`, a cycle ahead: a combinational `ready` read by the bridge, whose `valid` this
    // block reads, makes Verilator see a loop (UNOPTFLAT).
    ready_q: DFF<Bit>,
    inv: Signal<Local, Bits<8>>,
    bit_end: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    inv10: Signal<Local, Bits<10>>,
    k_last: Constant<Bits<16>>,
    k_last_m1: Constant<Bits<16>>,
    k_one16: Constant<Bits<16>>,
    k_one4: Constant<Bits<4>>,
    k_nine: Constant<Bits<4>>,
    k_shift: Constant<Bits<10>>,
    // The inverted start bit.
    k_start: Constant<Bits<10>>,
    k_bit0: Constant<BitIndex>,
}

impl UartTx {
    /// A transmitter at `clks_per_bit` clock cycles per bit (2 to 65535).
    pub fn new(clks_per_bit: u32) -> Self {
        assert!(
            (2..=0xFFFF).contains(&clks_per_bit),
            "clks_per_bit {clks_per_bit} out of 2..=65535"
        );
        Self {
            clock: Default::default(),
            reset: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            ready: Default::default(),
            tx: Default::default(),
            txn: Default::default(),
            cnt: Default::default(),
            nbit: Default::default(),
            busy: Default::default(),
            ready_q: Default::default(),
            inv: Default::default(),
            bit_end: Default::default(),
            take: Default::default(),
            inv10: Default::default(),
            k_last: const_bits(clks_per_bit as u64 - 1),
            k_last_m1: const_bits(clks_per_bit as u64 - 2),
            k_one16: const_bits(1),
            k_one4: const_bits(1),
            k_nine: const_bits(9),
            k_shift: const_bits(1),
            k_start: const_bits(1),
            k_bit0: const_index(0),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, txn, cnt, nbit, busy, ready_q);
        self.inv.next = !self.data.val();
        self.inv10.next = bit_cast::<10, 8>(self.inv.val());

        self.bit_end.next = self.cnt.q.val() == self.k_last.val();
        self.take.next = self.ready_q.q.val() & self.valid.val();
        // Ready from the stop bit's last cycle on, so the next start bit follows it directly.
        self.ready_q.d.next = !self.busy.q.val()
            | ((self.nbit.q.val() == self.k_nine.val())
                & (self.bit_end.val() | (self.cnt.q.val() == self.k_last_m1.val())));
        if self.busy.q.val() {
            self.cnt.d.next = self.cnt.q.val() + self.k_one16.val();
            if self.bit_end.val() {
                self.cnt.d.next = 0.into();
                self.txn.d.next = self.txn.q.val() >> self.k_shift.val();
                self.nbit.d.next = self.nbit.q.val() + self.k_one4.val();
                if self.nbit.q.val() == self.k_nine.val() {
                    self.busy.d.next = false;
                }
            }
        }
        if self.take.val() {
            self.ready_q.d.next = false;
            self.busy.d.next = true;
            self.cnt.d.next = 0.into();
            self.nbit.d.next = 0.into();
            // Inverted: start bit 1, data inverted, stop bit 0.
            self.txn.d.next = (self.inv10.val() << self.k_shift.val()) | self.k_start.val();
        }

        if self.reset.val() {
            self.busy.d.next = false;
            self.ready_q.d.next = true;
            self.txn.d.next = 0.into();
        }

        self.ready.next = self.ready_q.q.val();
        self.tx.next = !self.txn.q.val().get_bit(self.k_bit0.val().index());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng, HasClock};

    impl HasClock for UartTx {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// Sends `bytes`, offering each `gap(i)` cycles after the previous one was taken; returns
    /// the pin, one level per cycle, and the cycles at which each byte was taken.
    fn send(clks: u32, bytes: &[u8], mut gap: impl FnMut(usize) -> usize) -> (Vec<bool>, Vec<usize>) {
        let mut uut = UartTx::new(clks);
        uut.connect_all();
        // The pin is high before any reset (flops at zero).
        cycle(&mut uut);
        assert!(uut.tx.val() && uut.ready.val());
        uut.reset.next = true;
        cycle(&mut uut);
        uut.reset.next = false;
        let (mut line, mut taken) = (Vec::new(), Vec::new());
        let (mut i, mut wait) = (0, gap(0));
        while i < bytes.len() || line.len() < taken.last().map_or(0, |t| t + 10 * clks as usize + 3) {
            let offer = i < bytes.len() && wait == 0;
            uut.valid.next = offer;
            uut.data.next = (bytes.get(i).copied().unwrap_or(0) as u64).into();
            if offer && uut.ready.val() {
                taken.push(line.len());
                i += 1;
                wait = gap(i);
            } else {
                wait = wait.saturating_sub(1);
            }
            cycle(&mut uut);
            line.push(uut.tx.val());
            assert!(line.len() < 100_000, "stuck");
        }
        (line, taken)
    }

    /// Checks each byte's frame bit by bit on `line` from the cycle after it was taken.
    fn check_frames(clks: u32, bytes: &[u8], line: &[bool], taken: &[usize]) {
        assert_eq!(taken.len(), bytes.len());
        for (&b, &t) in bytes.iter().zip(taken) {
            let want = std::iter::once(false)
                .chain((0..8).map(|i| b >> i & 1 == 1))
                .chain([true]);
            for (k, level) in want.enumerate() {
                for c in 0..clks as usize {
                    assert_eq!(
                        line[t + k * clks as usize + c],
                        level,
                        "byte {b:#04x} bit {k} cycle {c}"
                    );
                }
            }
        }
        // High between frames and after the last.
        let end = *taken.last().unwrap() + 10 * clks as usize;
        assert!(line[end..].iter().all(|&l| l), "line low after the last frame");
        for (w, &t) in taken.windows(2).zip(taken) {
            for (c, &level) in line.iter().enumerate().take(w[1]).skip(t + 10 * clks as usize) {
                assert!(level, "line low at {c} between frames");
            }
        }
    }

    #[test]
    fn sends_frames_back_to_back_with_exact_bit_times() {
        for clks in [2, 4, 7] {
            let bytes = [0x00, 0xFF, 0xA5, 0x5A, 0x01, 0x80];
            let (line, taken) = send(clks, &bytes, |_| 0);
            check_frames(clks, &bytes, &line, &taken);
            // Back to back: each byte is taken the cycle the previous frame ends.
            for w in taken.windows(2) {
                assert_eq!(w[1] - w[0], 10 * clks as usize);
            }
        }
    }

    #[test]
    fn sends_random_bytes_with_random_gaps() {
        let mut r = rng(11);
        let bytes: Vec<u8> = (0..40).map(|_| r() as u8).collect();
        let mut g = rng(12);
        let (line, taken) = send(5, &bytes, |_| (g() % 30) as usize);
        check_frames(5, &bytes, &line, &taken);
    }
}
