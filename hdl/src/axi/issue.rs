//! The address-channel half shared by both DMAs: splits a command into bursts and presents them
//! on AR or AW, one per cycle at most, from registers (payload stable until `ready`).
//!
//! Every output is a register: the parents derive the handshake (`valid & ready`) and the load
//! (`(!valid | ready) & enable & !rem_zero`) themselves, since a child output that depends on
//! the parent's same-cycle logic makes Verilator see a combinational loop (UNOPTFLAT).

use crate::decode::const_bits;
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
    /// Command byte address; the low 4 bits are ignored (16-byte beats).
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
    pub len: Signal<Out, Bits<8>>,
    /// No beats of the command are left to put into bursts.
    pub rem_zero: Signal<Out, Bit>,

    cur: DFF<Bits<32>>,
    rem: DFF<Bits<16>>,
    v: DFF<Bit>,
    a: DFF<Bits<32>>,
    l: DFF<Bits<8>>,
    off: Signal<Local, Bits<8>>,
    page_left: Signal<Local, Bits<16>>,
    blen: Signal<Local, Bits<16>>,
    blen_m1: Signal<Local, Bits<16>>,
    blen_bytes: Signal<Local, Bits<32>>,
    load: Signal<Local, Bit>,
    // AxLEN is the low byte of `blen_m1`; the high byte is always zero (blen ≤ 256).
    unused_len_hi: Signal<Local, Bit>,
    page_beats: Constant<Bits<16>>,
    one: Constant<Bits<16>>,
    four: Constant<Bits<32>>,
    align: Constant<Bits<32>>,
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
            blen_bytes: Default::default(),
            load: Default::default(),
            unused_len_hi: Default::default(),
            page_beats: const_bits(256),
            one: const_bits(1),
            four: const_bits(4),
            align: const_bits(0xffff_fff0),
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

        // Burst length: up to the page end (256 beats per 4 KiB page) or the command's end.
        self.off.next = self.cur.q.val().get_bits::<8>(4);
        self.page_left.next = self.page_beats.val() - bit_cast::<16, 8>(self.off.val());
        if self.rem.q.val() < self.page_left.val() {
            self.blen.next = self.rem.q.val();
        } else {
            self.blen.next = self.page_left.val();
        }
        self.blen_m1.next = self.blen.val() - self.one.val();
        self.unused_len_hi.next = self.blen_m1.val().get_bits::<8>(8).any();
        self.blen_bytes.next = bit_cast::<32, 16>(self.blen.val()) << self.four.val();

        // The request register loads when it is empty or being accepted.
        self.load.next = (!self.v.q.val() | self.ready.val()) & self.enable.val() & self.rem.q.val().any();
        if !self.v.q.val() | self.ready.val() {
            self.v.d.next = self.load.val();
        }
        if self.load.val() {
            self.a.d.next = self.cur.q.val();
            self.l.d.next = self.blen_m1.val().get_bits::<8>(0);
            self.cur.d.next = self.cur.q.val() + self.blen_bytes.val();
            self.rem.d.next = self.rem.q.val() - self.blen.val();
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
