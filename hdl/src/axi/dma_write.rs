//! AXI4 write DMA: a command (address, beats) becomes INCR bursts on AW, the incoming data
//! stream the W beats, and `done` pulses once every B response came back.
//!
//! AW runs ahead of the data (several bursts outstanding). The W beats of a burst start once
//! its AW is presented (not necessarily accepted: an AXI master must not wait for AWREADY
//! before WVALID), so W never leads its address. The data input goes through a two-entry
//! skid buffer: `beat.ready` is a register, and a stalled W channel costs no bubble.
//!
//! Errors: the first SLVERR/DECERR response is reported in `cmd.err` with `cmd.done`, but the
//! command runs to its end (every beat is pulled from `beat` and written), so whatever feeds
//! the stream never hangs and the beat count upstream stays exact.
//!
//! `abort` (SOFT_RESET) closes the command on the bus instead: no new burst, no more beats taken
//! from the stream; the bursts whose AW was presented get their remaining W beats with every
//! strobe off (nothing is written) and their B responses are collected, then `done` pulses.

use super::issue::BurstIssue;
use super::{DmaCmdIn, WriteBeatIn, AXI_BURST_INCR, AXI_SIZE, PAGE_BEATS, RESP_BITS, RESP_ERROR_BIT};
use crate::decode::{const_bits, const_index, BitIndex};
use crate::spec::axi::PAGE_BEAT_BITS;
use rust_hdl::prelude::*;

/// The write DMA. Every output is a register, a constant, or logic of registers.
#[derive(LogicBlock)]
pub struct AxiWriteDma {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (abandons a command; the AXI slave must be reset with it).
    pub reset: Signal<In, Bit>,
    /// Cut the command short (level; see the module docs).
    pub abort: Signal<In, Bit>,
    /// The command port (16-byte beats; `done` once every beat is written and every B
    /// response received; `err` holds until the next command).
    pub cmd: DmaCmdIn,
    /// The beats to write; `ready` depends on registers only.
    pub beat: WriteBeatIn,
    /// AWADDR.
    pub m_axi_awaddr: Signal<Out, Bits<32>>,
    /// AWLEN.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AWSIZE (16-byte beats).
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AWBURST (INCR).
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AWVALID.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AWREADY.
    pub m_axi_awready: Signal<In, Bit>,
    /// WDATA.
    pub m_axi_wdata: Signal<Out, Bits<128>>,
    /// WSTRB (all bytes).
    pub m_axi_wstrb: Signal<Out, Bits<16>>,
    /// WLAST.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// WVALID.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// WREADY.
    pub m_axi_wready: Signal<In, Bit>,
    /// BRESP.
    pub m_axi_bresp: Signal<In, Bits<RESP_BITS>>,
    /// BVALID.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// BREADY (high while busy).
    pub m_axi_bready: Signal<Out, Bit>,

    issue: BurstIssue,
    busy: DFF<Bit>,
    // Beats still to pull from `data`.
    in_left: DFF<Bits<16>>,
    // Skid entry.
    sv: DFF<Bit>,
    sd: DFF<Bits<128>>,
    // W output register.
    wv: DFF<Bit>,
    wd: DFF<Bits<128>>,
    wl: DFF<Bit>,
    // The W register holds an abort's fill beat: strobes off.
    wz: DFF<Bit>,
    // W burst tracking: beats left in the open burst (0: none open), beats of the command not
    // yet in a W burst, beats from the next burst's start to its page's end. The last is a
    // register, not `PAGE_BEATS − offset` at each burst: that subtraction in series with the
    // comparison and `w_rem − blen` was npe8x8le8's slowest path (`w_rem ← w_off`, −0.14 ns at
    // seed 1).
    w_left: DFF<Bits<16>>,
    w_rem: DFF<Bits<16>>,
    w_page: DFF<Bits<16>>,
    // AWs presented whose W burst has not started; bursts awaiting their B (≤ 257 each).
    aw_ahead: DFF<Bits<10>>,
    b_pend: DFF<Bits<10>>,
    // `in_left`, `w_left` and `aw_ahead` are not zero, as registers beside them: the W load
    // (fanout: the 256 data flip-flops) no longer waits for three wide ORs (npe4x4's census:
    // 128 failing endpoints behind `w_left`).
    in_any: DFF<Bit>,
    w_open: DFF<Bit>,
    aw_any: DFF<Bit>,
    err_q: DFF<Bits<RESP_BITS>>,
    done_q: DFF<Bit>,
    accept: Signal<Local, Bit>,
    in_ready: Signal<Local, Bit>,
    in_fire: Signal<Local, Bit>,
    src_data: Signal<Local, Bits<128>>,
    load: Signal<Local, Bit>,
    open: Signal<Local, Bit>,
    // w_rem − w_page: one subtraction gives the comparison (its sign: the command ends inside
    // this page) and the remainder, as in the issue unit.
    diff: Signal<Local, Bits<17>>,
    short: Signal<Local, Bit>,
    blen: Signal<Local, Bits<16>>,
    b_fire: Signal<Local, Bit>,
    finish: Signal<Local, Bit>,
    aw_load: Signal<Local, Bit>,
    aw_fire: Signal<Local, Bit>,
    page_beats: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    one10: Constant<Bits<10>>,
    strb: Constant<Bits<16>>,
    size: Constant<Bits<3>>,
    burst: Constant<Bits<2>>,
    // The xRESP bit set for SLVERR and DECERR.
    err_bit: Constant<BitIndex>,
    top17: Constant<BitIndex>,
    beat_shift: Constant<BitIndex>,
}

impl AxiWriteDma {
    /// A write DMA.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            abort: Default::default(),
            cmd: Default::default(),
            beat: Default::default(),
            m_axi_awaddr: Default::default(),
            m_axi_awlen: Default::default(),
            m_axi_awsize: Default::default(),
            m_axi_awburst: Default::default(),
            m_axi_awvalid: Default::default(),
            m_axi_awready: Default::default(),
            m_axi_wdata: Default::default(),
            m_axi_wstrb: Default::default(),
            m_axi_wlast: Default::default(),
            m_axi_wvalid: Default::default(),
            m_axi_wready: Default::default(),
            m_axi_bresp: Default::default(),
            m_axi_bvalid: Default::default(),
            m_axi_bready: Default::default(),
            issue: BurstIssue::new(),
            busy: Default::default(),
            in_any: Default::default(),
            w_open: Default::default(),
            aw_any: Default::default(),
            in_left: Default::default(),
            sv: Default::default(),
            sd: Default::default(),
            wv: Default::default(),
            wd: Default::default(),
            wl: Default::default(),
            wz: Default::default(),
            w_left: Default::default(),
            w_rem: Default::default(),
            w_page: Default::default(),
            aw_ahead: Default::default(),
            b_pend: Default::default(),
            err_q: Default::default(),
            done_q: Default::default(),
            accept: Default::default(),
            in_ready: Default::default(),
            in_fire: Default::default(),
            src_data: Default::default(),
            load: Default::default(),
            open: Default::default(),
            diff: Default::default(),
            short: Default::default(),
            blen: Default::default(),
            b_fire: Default::default(),
            finish: Default::default(),
            aw_load: Default::default(),
            aw_fire: Default::default(),
            page_beats: const_bits(PAGE_BEATS as u64),
            one16: const_bits(1),
            one10: const_bits(1),
            strb: const_bits(0xffff),
            size: const_bits(AXI_SIZE),
            burst: const_bits(AXI_BURST_INCR),
            err_bit: const_index(RESP_ERROR_BIT),
            top17: const_index(16),
            beat_shift: const_index(AXI_SIZE as usize),
        }
    }
}

impl Default for AxiWriteDma {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for AxiWriteDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, busy, in_left, sv, sd, wv, wd, wl, wz, w_left, w_rem, w_page, aw_ahead, b_pend, err_q, done_q,
            in_any, w_open, aw_any
        );
        self.issue.clock.next = self.clock.val();
        self.issue.reset.next = self.reset.val();

        self.accept.next = !self.busy.q.val() & self.cmd.valid.val();
        self.issue.start.next = self.accept.val();
        self.issue.start_addr.next = self.cmd.addr.val();
        self.issue.start_beats.next = self.cmd.beats.val();
        // Only while busy: an aborted command leaves its remainder in the issue unit.
        self.issue.enable.next = self.busy.q.val() & !self.abort.val();
        self.issue.ready.next = self.m_axi_awready.val();

        // Input side: take a beat while the skid entry is free and the command wants more.
        self.in_ready.next = self.busy.q.val() & !self.sv.q.val() & self.in_any.q.val() & !self.abort.val();
        self.in_fire.next = self.in_ready.val() & self.beat.valid.val();
        if self.in_fire.val() {
            self.in_left.d.next = self.in_left.q.val() - self.one16.val();
            self.in_any.d.next = self.in_left.q.val() != self.one16.val();
        }
        if self.sv.q.val() {
            self.src_data.next = self.sd.q.val();
        } else {
            self.src_data.next = self.beat.data.val();
        }

        // W register loads when it is free, a beat is there (under abort: a fill beat always is),
        // and its burst's AW was presented.
        self.open.next = self.w_open.q.val();
        self.load.next = (!self.wv.q.val() | self.m_axi_wready.val())
            & (self.sv.q.val() | self.in_fire.val() | (self.busy.q.val() & self.abort.val()))
            & (self.open.val() | self.aw_any.q.val());
        self.diff.next = bit_cast::<17, 16>(self.w_rem.q.val()) - bit_cast::<17, 16>(self.w_page.q.val());
        self.short.next = self.diff.val().get_bit(self.top17.val().index());
        if self.short.val() {
            self.blen.next = self.w_rem.q.val();
        } else {
            self.blen.next = self.w_page.q.val();
        }
        if self.load.val() {
            self.wv.d.next = true;
            self.wd.d.next = self.src_data.val();
            self.wz.d.next = self.abort.val();
            if self.open.val() {
                self.wl.d.next = self.w_left.q.val() == self.one16.val();
                self.w_left.d.next = self.w_left.q.val() - self.one16.val();
                self.w_open.d.next = self.w_left.q.val() != self.one16.val();
            } else {
                self.wl.d.next = self.blen.val() == self.one16.val();
                self.w_left.d.next = self.blen.val() - self.one16.val();
                self.w_open.d.next = self.blen.val() != self.one16.val();
                if self.short.val() {
                    self.w_rem.d.next = 0.into();
                } else {
                    self.w_rem.d.next = self.diff.val().get_bits::<16>(0);
                }
                self.w_page.d.next = self.page_beats.val();
            }
        } else if self.m_axi_wready.val() {
            self.wv.d.next = false;
        }
        // Skid entry: fills when a beat arrives that the W register cannot take.
        if self.sv.q.val() {
            if self.load.val() {
                self.sv.d.next = false;
            }
        } else if self.in_fire.val() & !self.load.val() {
            self.sv.d.next = true;
            self.sd.d.next = self.beat.data.val();
        }

        // A burst's AW presented: +1; its first W beat loaded: −1.
        self.aw_load.next =
            (!self.issue.valid.val() | self.m_axi_awready.val()) & !self.issue.rem_zero.val() & self.issue.enable.val();
        if self.aw_load.val() & !(self.load.val() & !self.open.val()) {
            self.aw_ahead.d.next = self.aw_ahead.q.val() + self.one10.val();
            self.aw_any.d.next = true;
        }
        if !self.aw_load.val() & (self.load.val() & !self.open.val()) {
            self.aw_ahead.d.next = self.aw_ahead.q.val() - self.one10.val();
            self.aw_any.d.next = self.aw_ahead.q.val() != self.one10.val();
        }

        // B responses.
        self.aw_fire.next = self.issue.valid.val() & self.m_axi_awready.val();
        self.b_fire.next = self.busy.q.val() & self.m_axi_bvalid.val();
        if self.aw_fire.val() & !self.b_fire.val() {
            self.b_pend.d.next = self.b_pend.q.val() + self.one10.val();
        }
        if !self.aw_fire.val() & self.b_fire.val() {
            self.b_pend.d.next = self.b_pend.q.val() - self.one10.val();
        }
        if self.b_fire.val() & self.m_axi_bresp.val().get_bit(self.err_bit.val().index()) & !self.err_q.q.val().any() {
            self.err_q.d.next = self.m_axi_bresp.val();
        }

        // Complete: every burst presented and accepted, every beat sent, every B back.
        self.finish.next = self.busy.q.val()
            & !self.issue.valid.val()
            & ((self.issue.rem_zero.val() & !self.in_any.q.val() & !self.sv.q.val()) | self.abort.val())
            & !self.wv.q.val()
            & !self.open.val()
            & !self.aw_any.q.val()
            & !self.b_pend.q.val().any();
        self.done_q.d.next = self.finish.val();
        if self.finish.val() {
            self.busy.d.next = false;
            // An aborted command may leave a beat it no longer wants in the skid entry.
            self.sv.d.next = false;
        }

        if self.accept.val() {
            self.busy.d.next = true;
            self.in_left.d.next = self.cmd.beats.val();
            self.in_any.d.next = self.cmd.beats.val().any();
            self.w_rem.d.next = self.cmd.beats.val();
            self.w_page.d.next = self.page_beats.val()
                - bit_cast::<16, PAGE_BEAT_BITS>(
                    self.cmd
                        .addr
                        .val()
                        .get_bits::<PAGE_BEAT_BITS>(self.beat_shift.val().index()),
                );
            self.w_left.d.next = 0.into();
            self.w_open.d.next = false;
            self.aw_ahead.d.next = 0.into();
            self.aw_any.d.next = false;
            self.b_pend.d.next = 0.into();
            self.err_q.d.next = 0.into();
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.in_left.d.next = 0.into();
            self.in_any.d.next = false;
            self.sv.d.next = false;
            self.wv.d.next = false;
            self.w_left.d.next = 0.into();
            self.w_open.d.next = false;
            self.aw_ahead.d.next = 0.into();
            self.aw_any.d.next = false;
            self.b_pend.d.next = 0.into();
            self.err_q.d.next = 0.into();
            self.done_q.d.next = false;
        }

        self.cmd.ready.next = !self.busy.q.val();
        self.beat.ready.next = self.in_ready.val();
        self.cmd.done.next = self.done_q.q.val();
        self.cmd.err.next = self.err_q.q.val();
        self.m_axi_awaddr.next = self.issue.addr.val();
        self.m_axi_awlen.next = self.issue.len.val();
        self.m_axi_awsize.next = self.size.val();
        self.m_axi_awburst.next = self.burst.val();
        self.m_axi_awvalid.next = self.issue.valid.val();
        self.m_axi_wdata.next = self.wd.q.val();
        self.m_axi_wstrb.next = self.strb.val();
        if self.wz.q.val() {
            self.m_axi_wstrb.next = 0.into();
        }
        self.m_axi_wlast.next = self.wl.q.val();
        self.m_axi_wvalid.next = self.wv.q.val();
        self.m_axi_bready.next = self.busy.q.val();
    }
}
