//! AXI4 read DMA: a command (address, beats) becomes INCR bursts on AR, the R beats a stream.
//!
//! Timing (cycles are clock edges): a command accepted at edge `t` has its first AR valid after
//! edge `t + 1`; ARs follow back to back while the slave accepts them, without waiting for data.
//! Every R beat accepted at edge `e` is on `beat` after edge `e` (one register), `beat.last`
//! marks the command's last beat, and `cmd.done` pulses one cycle after the last beat with
//! `cmd.err`. After an error response no new AR is issued (the one already presented stays
//! until accepted, as AXI requires); the bursts already issued are drained, their beats still
//! appear on `beat`, and `done` pulses once the last of them arrived (without a `beat.last`
//! if the command was cut short). `abort` cuts a command short the same way (SOFT_RESET: the
//! bursts already issued are closed on the bus, never abandoned).

use super::issue::BurstIssue;
use super::{DmaCmdIn, ReadBeat, RESP_BITS, RESP_ERROR_BIT};
use crate::decode::{const_bits, const_index, BitIndex};
use rust_hdl::prelude::*;

/// The read DMA. Every output is a register or a constant.
#[derive(LogicBlock)]
pub struct AxiReadDma {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (abandons a command; the AXI slave must be reset with it).
    pub reset: Signal<In, Bit>,
    /// Cut the command short (level): no new burst, the issued ones drained, then `done`.
    pub abort: Signal<In, Bit>,
    /// The command port (16-byte beats; `err` holds until the next command).
    pub cmd: DmaCmdIn,
    /// The beats read, in order; `last` marks the command's last beat.
    pub beat: ReadBeat,
    /// ARADDR.
    pub m_axi_araddr: Signal<Out, Bits<32>>,
    /// ARLEN.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// ARSIZE (16-byte beats).
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// ARBURST (INCR).
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// ARVALID.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// ARREADY.
    pub m_axi_arready: Signal<In, Bit>,
    /// RDATA.
    pub m_axi_rdata: Signal<In, Bits<128>>,
    /// RRESP.
    pub m_axi_rresp: Signal<In, Bits<RESP_BITS>>,
    /// RLAST.
    pub m_axi_rlast: Signal<In, Bit>,
    /// RVALID.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// RREADY (high while busy).
    pub m_axi_rready: Signal<Out, Bit>,

    issue: BurstIssue,
    busy: DFF<Bit>,
    // Bursts issued whose last beat has not arrived (a command has at most 257 bursts).
    outstanding: DFF<Bits<10>>,
    rx_left: DFF<Bits<16>>,
    err_q: DFF<Bits<RESP_BITS>>,
    done_q: DFF<Bit>,
    dv_q: DFF<Bit>,
    d_q: DFF<Bits<128>>,
    dl_q: DFF<Bit>,
    accept: Signal<Local, Bit>,
    r_fire: Signal<Local, Bit>,
    r_err: Signal<Local, Bit>,
    burst_end: Signal<Local, Bit>,
    ar_fire: Signal<Local, Bit>,
    finish: Signal<Local, Bit>,
    one16: Constant<Bits<16>>,
    one10: Constant<Bits<10>>,
    size: Constant<Bits<3>>,
    burst: Constant<Bits<2>>,
    // The xRESP bit set for SLVERR and DECERR.
    err_bit: Constant<BitIndex>,
}

impl AxiReadDma {
    /// A read DMA.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            abort: Default::default(),
            cmd: Default::default(),
            beat: Default::default(),
            m_axi_araddr: Default::default(),
            m_axi_arlen: Default::default(),
            m_axi_arsize: Default::default(),
            m_axi_arburst: Default::default(),
            m_axi_arvalid: Default::default(),
            m_axi_arready: Default::default(),
            m_axi_rdata: Default::default(),
            m_axi_rresp: Default::default(),
            m_axi_rlast: Default::default(),
            m_axi_rvalid: Default::default(),
            m_axi_rready: Default::default(),
            issue: BurstIssue::new(),
            busy: Default::default(),
            outstanding: Default::default(),
            rx_left: Default::default(),
            err_q: Default::default(),
            done_q: Default::default(),
            dv_q: Default::default(),
            d_q: Default::default(),
            dl_q: Default::default(),
            accept: Default::default(),
            r_fire: Default::default(),
            r_err: Default::default(),
            burst_end: Default::default(),
            ar_fire: Default::default(),
            finish: Default::default(),
            one16: const_bits(1),
            one10: const_bits(1),
            size: const_bits(super::AXI_SIZE),
            burst: const_bits(super::AXI_BURST_INCR),
            err_bit: const_index(RESP_ERROR_BIT),
        }
    }
}

impl Default for AxiReadDma {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for AxiReadDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, outstanding, rx_left, err_q, done_q, dv_q, d_q, dl_q);
        self.issue.clock.next = self.clock.val();
        self.issue.reset.next = self.reset.val();

        self.accept.next = !self.busy.q.val() & self.cmd.valid.val();
        self.r_fire.next = self.busy.q.val() & self.m_axi_rvalid.val();
        // RRESP's error bit set: SLVERR or DECERR (EXOKAY counts as OKAY).
        self.r_err.next = self.r_fire.val() & self.m_axi_rresp.val().get_bit(self.err_bit.val().index());
        self.burst_end.next = self.r_fire.val() & self.m_axi_rlast.val();

        self.issue.start.next = self.accept.val();
        self.issue.start_addr.next = self.cmd.addr.val();
        self.issue.start_beats.next = self.cmd.beats.val();
        // Only while busy: an aborted command leaves its remainder in the issue unit.
        self.issue.enable.next = self.busy.q.val() & !self.err_q.q.val().any() & !self.r_err.val() & !self.abort.val();
        self.issue.ready.next = self.m_axi_arready.val();

        self.ar_fire.next = self.issue.valid.val() & self.m_axi_arready.val();
        if self.ar_fire.val() & !self.burst_end.val() {
            self.outstanding.d.next = self.outstanding.q.val() + self.one10.val();
        }
        if !self.ar_fire.val() & self.burst_end.val() {
            self.outstanding.d.next = self.outstanding.q.val() - self.one10.val();
        }

        self.dv_q.d.next = self.r_fire.val();
        self.dl_q.d.next = self.r_fire.val() & (self.rx_left.q.val() == self.one16.val());
        if self.r_fire.val() {
            self.d_q.d.next = self.m_axi_rdata.val();
            self.rx_left.d.next = self.rx_left.q.val() - self.one16.val();
        }
        if self.r_err.val() & !self.err_q.q.val().any() {
            self.err_q.d.next = self.m_axi_rresp.val();
        }

        // Complete: nothing presented, nothing more to issue (or stopped), every burst drained.
        self.finish.next = self.busy.q.val()
            & !self.issue.valid.val()
            & (self.issue.rem_zero.val() | self.err_q.q.val().any() | self.abort.val())
            & !self.outstanding.q.val().any();
        self.done_q.d.next = self.finish.val();
        if self.finish.val() {
            self.busy.d.next = false;
        }

        if self.accept.val() {
            self.busy.d.next = true;
            self.rx_left.d.next = self.cmd.beats.val();
            self.err_q.d.next = 0.into();
            self.outstanding.d.next = 0.into();
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.outstanding.d.next = 0.into();
            self.err_q.d.next = 0.into();
            self.done_q.d.next = false;
            self.dv_q.d.next = false;
            self.dl_q.d.next = false;
        }

        self.cmd.ready.next = !self.busy.q.val();
        self.beat.valid.next = self.dv_q.q.val();
        self.beat.data.next = self.d_q.q.val();
        self.beat.last.next = self.dl_q.q.val();
        self.cmd.done.next = self.done_q.q.val();
        self.cmd.err.next = self.err_q.q.val();
        self.m_axi_araddr.next = self.issue.addr.val();
        self.m_axi_arlen.next = self.issue.len.val();
        self.m_axi_arsize.next = self.size.val();
        self.m_axi_arburst.next = self.burst.val();
        self.m_axi_arvalid.next = self.issue.valid.val();
        self.m_axi_rready.next = self.busy.q.val();
    }
}
