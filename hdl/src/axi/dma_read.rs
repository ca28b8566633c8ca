//! The read DMA: a command becomes AR bursts; R beats come out as a data stream.

use super::{AXI_INCR, AXI_SIZE, BUS};
use rust_hdl::prelude::*;

/// AXI4 read DMA master (see the module docs of [`super`]).
#[derive(LogicBlock)]
pub struct AxiReadDma {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// A command is offered.
    pub cmd_valid: Signal<In, Bit>,
    /// Idle: a command is taken.
    pub cmd_ready: Signal<Out, Bit>,
    /// Byte address (16-byte aligned).
    pub cmd_addr: Signal<In, Bits<32>>,
    /// Beats to read (≥ 1).
    pub cmd_beats: Signal<In, Bits<16>>,
    /// A data beat.
    pub data_valid: Signal<Out, Bit>,
    /// Its data.
    pub data: Signal<Out, Bits<BUS>>,
    /// The command's last beat.
    pub data_last: Signal<Out, Bit>,
    /// The command ended (one cycle).
    pub done: Signal<Out, Bit>,
    /// First error response of the command (0 OKAY, 2 SLVERR, 3 DECERR), valid with `done`.
    pub err: Signal<Out, Bits<2>>,
    /// AXI4 AR.
    pub m_axi_araddr: Signal<Out, Bits<32>>,
    /// AXI4 AR.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// AXI4 AR.
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// AXI4 AR.
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// AXI4 AR.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// AXI4 AR.
    pub m_axi_arready: Signal<In, Bit>,
    /// AXI4 R.
    pub m_axi_rdata: Signal<In, Bits<BUS>>,
    /// AXI4 R.
    pub m_axi_rresp: Signal<In, Bits<2>>,
    /// AXI4 R (the DMA counts beats itself).
    pub m_axi_rlast: Signal<In, Bit>,
    /// AXI4 R.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// AXI4 R.
    pub m_axi_rready: Signal<Out, Bit>,

    busy: DFF<Bit>,
    done_q: DFF<Bit>,
    err_q: DFF<Bits<2>>,
    ar_addr: DFF<Bits<32>>,
    ar_left: DFF<Bits<16>>,
    r_left: DFF<Bits<16>>,
    to_page: Signal<Local, Bits<16>>,
    burst: Signal<Local, Bits<16>>,
    beat: Signal<Local, Bit>,
    unused_last: Signal<Local, Bit>,
    burst_m1: Signal<Local, Bits<16>>,
    // AxLEN is 8 bits: bursts are at most 256 beats, so burst − 1 fits.
    unused_len: Signal<Local, Bits<16>>,
    k0_16: Constant<Bits<16>>,
    k1_16: Constant<Bits<16>>,
    k4_32: Constant<Bits<32>>,
    k256: Constant<Bits<16>>,
    k0_2: Constant<Bits<2>>,
    k_size: Constant<Bits<3>>,
    k_incr: Constant<Bits<2>>,
}

impl Default for AxiReadDma {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            cmd_valid: Default::default(),
            cmd_ready: Default::default(),
            cmd_addr: Default::default(),
            cmd_beats: Default::default(),
            data_valid: Default::default(),
            data: Default::default(),
            data_last: Default::default(),
            done: Default::default(),
            err: Default::default(),
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
            busy: Default::default(),
            done_q: Default::default(),
            err_q: Default::default(),
            ar_addr: Default::default(),
            ar_left: Default::default(),
            r_left: Default::default(),
            to_page: Default::default(),
            burst: Default::default(),
            beat: Default::default(),
            unused_last: Default::default(),
            burst_m1: Default::default(),
            unused_len: Default::default(),
            k0_16: Constant::new(0.into()),
            k1_16: Constant::new(1.into()),
            k4_32: Constant::new(4.into()),
            k256: Constant::new(256.into()),
            k0_2: Constant::new(0.into()),
            k_size: Constant::new(AXI_SIZE.into()),
            k_incr: Constant::new(AXI_INCR.into()),
        }
    }
}

impl Logic for AxiReadDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, busy, done_q, err_q, ar_addr, ar_left, r_left);
        // Beats to the next 4 KiB boundary, and the next burst's length.
        self.to_page.next = self.k256.val() - bit_cast::<16, 8>(self.ar_addr.q.val().get_bits::<8>(4));
        self.burst.next = self.ar_left.q.val();
        if self.ar_left.q.val() > self.to_page.val() {
            self.burst.next = self.to_page.val();
        }
        self.m_axi_araddr.next = self.ar_addr.q.val();
        self.burst_m1.next = self.burst.val() - self.k1_16.val();
        self.m_axi_arlen.next = bit_cast::<8, 16>(self.burst_m1.val());
        self.unused_len.next = self.burst_m1.val();
        self.m_axi_arsize.next = self.k_size.val();
        self.m_axi_arburst.next = self.k_incr.val();
        self.m_axi_arvalid.next = self.busy.q.val() & (self.ar_left.q.val() != self.k0_16.val());
        self.m_axi_rready.next = self.busy.q.val();
        self.cmd_ready.next = !self.busy.q.val();
        self.done.next = self.done_q.q.val();
        self.err.next = self.err_q.q.val();
        self.done_q.d.next = false;

        if self.busy.q.val() & (self.ar_left.q.val() != self.k0_16.val()) & self.m_axi_arready.val() {
            self.ar_addr.d.next = self.ar_addr.q.val() + (bit_cast::<32, 16>(self.burst.val()) << self.k4_32.val());
            self.ar_left.d.next = self.ar_left.q.val() - self.burst.val();
        }
        self.beat.next = self.busy.q.val() & self.m_axi_rvalid.val();
        self.data_valid.next = self.beat.val();
        self.data.next = self.m_axi_rdata.val();
        self.data_last.next = self.r_left.q.val() == self.k1_16.val();
        self.unused_last.next = self.m_axi_rlast.val();
        if self.beat.val() {
            self.r_left.d.next = self.r_left.q.val() - self.k1_16.val();
            if (self.m_axi_rresp.val() != self.k0_2.val()) & (self.err_q.q.val() == self.k0_2.val()) {
                self.err_q.d.next = self.m_axi_rresp.val();
            }
            if self.r_left.q.val() == self.k1_16.val() {
                self.busy.d.next = false;
                self.done_q.d.next = true;
            }
        }
        if !self.busy.q.val() & self.cmd_valid.val() {
            self.busy.d.next = true;
            self.ar_addr.d.next = self.cmd_addr.val();
            self.ar_left.d.next = self.cmd_beats.val();
            self.r_left.d.next = self.cmd_beats.val();
            self.err_q.d.next = 0.into();
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.done_q.d.next = false;
            self.ar_left.d.next = 0.into();
            self.r_left.d.next = 0.into();
        }
    }
}
