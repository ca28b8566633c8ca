//! The address-channel half shared by both DMAs: splits a command into bursts and presents them
//! on AR or AW, one per cycle at most, from registers (payload stable until `ready`).
//!
//! Every output is a register: the parents derive the handshake (`valid & ready`) and the load
//! (`(!valid | ready) & enable & !rem_zero`) themselves, since a child output that depends on
//! the parent's same-cycle logic makes Verilator see a combinational loop (UNOPTFLAT).

use crate::decode::{const_bits, const_index, BitIndex};
use crate::spec::axi::{AXI_BEAT_BYTES, AXI_LEN_BITS, PAGE_BEATS, PAGE_BEAT_BITS, PAGE_BYTES};
use rust_hdl::prelude::*;

/// Burst issue unit: loads a command with `start`, then presents bursts while `enable` is high.
///
/// The request register loads a new burst exactly when `(!valid | ready) & enable & !rem_zero`.
#[derive(LogicBlock)]
pub struct BurstIssue {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: drops the request and forgets the command.
    pub reset: Signal<In, Bit>,
    /// Load a new command (only while nothing is left to issue).
    pub start: Signal<In, Bit>,
    /// Command byte address; the bits below the beat size are ignored.
    pub start_addr: Signal<In, Bits<32>>,
    /// Command length in beats.
    pub start_beats: Signal<In, Bits<16>>,
    /// Further bursts may be issued (a burst already presented stays until accepted).
    pub enable: Signal<In, Bit>,
    /// AxREADY.
    pub ready: Signal<In, Bit>,
    /// AxVALID.
    pub valid: Signal<Out, Bit>,
    /// AxADDR.
    pub addr: Signal<Out, Bits<32>>,
    /// AxLEN (beats − 1).
    pub len: Signal<Out, Bits<AXI_LEN_BITS>>,
    /// No beats of the command are left to put into bursts.
    pub rem_zero: Signal<Out, Bit>,

    cur: DFF<Bits<32>>,
    rem: DFF<Bits<16>>,
    v: DFF<Bit>,
    a: DFF<Bits<32>>,
    l: DFF<Bits<AXI_LEN_BITS>>,
    off: Signal<Local, Bits<PAGE_BEAT_BITS>>,
    page_left: Signal<Local, Bits<16>>,
    blen: Signal<Local, Bits<16>>,
    blen_m1: Signal<Local, Bits<16>>,
    // rem − page_left: its sign says the command ends inside this page.
    diff: Signal<Local, Bits<17>>,
    short: Signal<Local, Bit>,
    // The next burst's address, both ways: the next page's start, or further into this page.
    page_next: Signal<Local, Bits<32>>,
    noff: Signal<Local, Bits<PAGE_BEAT_BITS>>,
    in_page: Signal<Local, Bits<32>>,
    load: Signal<Local, Bit>,
    // AxLEN is the low byte of `blen_m1`; the high byte is always zero (blen ≤ 256).
    unused_len_hi: Signal<Local, Bit>,
    beat_shift: Constant<Bits<32>>,
    page_beats: Constant<Bits<16>>,
    one: Constant<Bits<16>>,
    len_bits: Constant<Bits<32>>,
    align: Constant<Bits<32>>,
    page_mask: Constant<Bits<32>>,
    one32: Constant<Bits<32>>,
    top17: Constant<BitIndex>,
}

impl BurstIssue {
    /// A burst issue unit.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            start_addr: Default::default(),
            start_beats: Default::default(),
            enable: Default::default(),
            ready: Default::default(),
            valid: Default::default(),
            addr: Default::default(),
            len: Default::default(),
            rem_zero: Default::default(),
            cur: Default::default(),
            rem: Default::default(),
            v: Default::default(),
            a: Default::default(),
            l: Default::default(),
            off: Default::default(),
            page_left: Default::default(),
            blen: Default::default(),
            blen_m1: Default::default(),
            diff: Default::default(),
            short: Default::default(),
            page_next: Default::default(),
            noff: Default::default(),
            in_page: Default::default(),
            load: Default::default(),
            unused_len_hi: Default::default(),
            page_beats: const_bits(PAGE_BEATS as u64),
            one: const_bits(1),
            len_bits: const_bits(AXI_LEN_BITS as u64),
            align: const_bits(!(AXI_BEAT_BYTES as u64 - 1) & 0xffff_ffff),
            beat_shift: const_bits(AXI_BEAT_BYTES.trailing_zeros() as u64),
            page_mask: const_bits(PAGE_BYTES as u64 - 1),
            one32: const_bits(1),
            top17: const_index(16),
        }
    }
}

impl Default for BurstIssue {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for BurstIssue {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, cur, rem, v, a, l);

        // Burst length: up to the page end (PAGE_BEATS beats per 4 KiB page) or the command's end.
        self.off.next = self
            .cur
            .q
            .val()
            .get_bits::<PAGE_BEAT_BITS>(self.beat_shift.val().index());
        self.page_left.next = self.page_beats.val() - bit_cast::<16, PAGE_BEAT_BITS>(self.off.val());
        // One subtraction gives the comparison and the remainder; the next address is chosen
        // between two sums that do not wait for the burst length (the 32-bit add after the
        // comparison was the DMA's critical path).
        self.diff.next = bit_cast::<17, 16>(self.rem.q.val()) - bit_cast::<17, 16>(self.page_left.val());
        self.short.next = self.diff.val().get_bit(self.top17.val().index());
        if self.short.val() {
            self.blen.next = self.rem.q.val();
        } else {
            self.blen.next = self.page_left.val();
        }
        self.page_next.next = (self.cur.q.val() | self.page_mask.val()) + self.one32.val();
        // Only a short burst stays in its page, and its length is `rem`: the offset after it
        // does not wait for the comparison (behind it, three carry chains in series were the
        // write DMA's path: `cur ← cur`, −0.01 ns in npe4x4's run at `06c4617`).
        self.noff.next = self.off.val() + self.rem.q.val().get_bits::<PAGE_BEAT_BITS>(0);
        self.in_page.next = (self.cur.q.val() & !self.page_mask.val())
            | (bit_cast::<32, PAGE_BEAT_BITS>(self.noff.val()) << self.beat_shift.val());
        self.blen_m1.next = self.blen.val() - self.one.val();
        self.unused_len_hi.next = self
            .blen_m1
            .val()
            .get_bits::<AXI_LEN_BITS>(self.len_bits.val().index())
            .any();

        // The request register loads when it is empty or being accepted.
        self.load.next = (!self.v.q.val() | self.ready.val()) & self.enable.val() & self.rem.q.val().any();
        if !self.v.q.val() | self.ready.val() {
            self.v.d.next = self.load.val();
        }
        if self.load.val() {
            self.a.d.next = self.cur.q.val();
            self.l.d.next = self.blen_m1.val().get_bits::<AXI_LEN_BITS>(0);
            if self.short.val() {
                self.cur.d.next = self.in_page.val();
                self.rem.d.next = 0.into();
            } else {
                self.cur.d.next = self.page_next.val();
                self.rem.d.next = self.diff.val().get_bits::<16>(0);
            }
        }
        if self.start.val() {
            self.cur.d.next = self.start_addr.val() & self.align.val();
            self.rem.d.next = self.start_beats.val();
        }
        if self.reset.val() {
            self.v.d.next = false;
            self.rem.d.next = 0.into();
        }

        self.valid.next = self.v.q.val();
        self.addr.next = self.a.q.val();
        self.len.next = self.l.q.val();
        self.rem_zero.next = !self.rem.q.val().any();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, settle};
    use crate::spec::axi::PAGE_BYTES;

    /// Issues a command of `beats` beats at `addr` with AxREADY as `ready(t)`; returns the
    /// bursts as (address, beats).
    fn bursts(addr: u64, beats: u64, ready: impl Fn(usize) -> bool) -> Vec<(u64, u64)> {
        let mut b = BurstIssue::new();
        b.connect_all();
        b.reset.next = true;
        cycle(&mut b);
        b.reset.next = false;
        b.start.next = true;
        b.start_addr.next = bits(addr);
        b.start_beats.next = bits(beats);
        cycle(&mut b);
        b.start.next = false;
        b.enable.next = true;
        let mut out = Vec::new();
        for t in 0..2000 {
            b.ready.next = ready(t);
            settle(&mut b);
            if b.valid.val() && b.ready.val() {
                out.push((b.addr.val().to_u64(), b.len.val().to_u64() + 1));
            }
            cycle(&mut b);
            if b.rem_zero.val() && !b.valid.val() {
                break;
            }
        }
        out
    }

    #[test]
    fn bursts_stop_at_4k_pages_and_256_beats() {
        let beat = AXI_BEAT_BYTES as u64;
        // Two beats before a page end, then full pages, then the rest.
        let got = bursts(0x1000 - 2 * beat, 300 + 256, |_| true);
        assert_eq!(got, [(0x0FE0, 2), (0x1000, 256), (0x2000, 256), (0x3000, 42)]);
        for (a, n) in &got {
            assert_eq!(
                a / PAGE_BYTES as u64,
                (a + n * beat - 1) / PAGE_BYTES as u64,
                "burst at {a:#x} crosses a page"
            );
        }
        // The low address bits are ignored (beat-aligned).
        assert_eq!(bursts(0x2007, 3, |_| true), [(0x2000, 3)]);
    }

    /// Against a plain model of the split: bursts end at page ends or at the command's end,
    /// for starts across a page (including its first and last beat) and lengths around it.
    #[test]
    fn bursts_match_the_page_split_of_a_model() {
        let beat = AXI_BEAT_BYTES as u64;
        let page = PAGE_BYTES as u64;
        for start in [0x3000, 0x3010, 0x3800, 0x3FF0, 0x3FE0] {
            for beats in [1, 2, 5, 127, 255, 256, 257, 300, 511, 512, 513] {
                let mut want = Vec::new();
                let (mut a, mut left) = (start, beats);
                while left > 0 {
                    let n = left.min((page - a % page) / beat);
                    want.push((a, n));
                    a += n * beat;
                    left -= n;
                }
                assert_eq!(bursts(start, beats, |_| true), want, "{beats} beats at {start:#x}");
            }
        }
    }

    #[test]
    fn a_burst_waits_for_ready_with_a_stable_payload() {
        let got = bursts(0x0, 3 * 256, |t| t % 3 == 2);
        assert_eq!(got, [(0x0, 256), (0x1000, 256), (0x2000, 256)]);
    }

    #[test]
    fn no_bursts_without_enable() {
        let mut b = BurstIssue::new();
        b.connect_all();
        b.start.next = true;
        b.start_addr.next = bits(0x100);
        b.start_beats.next = bits(4);
        cycle(&mut b);
        b.start.next = false;
        b.ready.next = true;
        for _ in 0..5 {
            cycle(&mut b);
            assert!(!b.valid.val());
        }
        assert!(!b.rem_zero.val());
        b.enable.next = true;
        cycle(&mut b);
        assert!(b.valid.val());
        assert_eq!((b.addr.val().to_u64(), b.len.val().to_u64()), (0x100, 3));
    }
}
