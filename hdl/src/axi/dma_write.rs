//! The write DMA: a command becomes AW bursts; data beats are pulled from a stream into W.

use super::{AXI_INCR, AXI_SIZE, BUS};
use rust_hdl::prelude::*;

/// AXI4 write DMA master (see the module docs of [`super`]).
#[derive(LogicBlock)]
pub struct AxiWriteDma {
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
    /// Beats to write (≥ 1).
    pub cmd_beats: Signal<In, Bits<16>>,
    /// A data beat is offered.
    pub data_valid: Signal<In, Bit>,
    /// The DMA takes it.
    pub data_ready: Signal<Out, Bit>,
    /// Its data.
    pub data: Signal<In, Bits<BUS>>,
    /// The command ended: every write response is back (one cycle).
    pub done: Signal<Out, Bit>,
    /// First error response of the command, valid with `done`.
    pub err: Signal<Out, Bits<2>>,
    /// AXI4 AW.
    pub m_axi_awaddr: Signal<Out, Bits<32>>,
    /// AXI4 AW.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AXI4 AW.
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AXI4 AW.
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AXI4 AW.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AXI4 AW.
    pub m_axi_awready: Signal<In, Bit>,
    /// AXI4 W.
    pub m_axi_wdata: Signal<Out, Bits<BUS>>,
    /// AXI4 W (full beats only).
    pub m_axi_wstrb: Signal<Out, Bits<16>>,
    /// AXI4 W.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// AXI4 W.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// AXI4 W.
    pub m_axi_wready: Signal<In, Bit>,
    /// AXI4 B.
    pub m_axi_bresp: Signal<In, Bits<2>>,
    /// AXI4 B.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// AXI4 B.
    pub m_axi_bready: Signal<Out, Bit>,

    busy: DFF<Bit>,
    done_q: DFF<Bit>,
    err_q: DFF<Bits<2>>,
    // AW side
    aw_addr: DFF<Bits<32>>,
    aw_left: DFF<Bits<16>>,
    aw_count: DFF<Bits<16>>,
    // W side: walks the same burst sequence as AW, one burst behind at most
    w_addr: DFF<Bits<32>>,
    w_left: DFF<Bits<16>>,
    w_count: DFF<Bits<16>>,
    w_cur: DFF<Bits<16>>,
    b_count: DFF<Bits<16>>,
    aw_burst: Signal<Local, Bits<16>>,
    w_burst: Signal<Local, Bits<16>>,
    aw_m1: Signal<Local, Bits<16>>,
    aw_page: Signal<Local, Bits<16>>,
    w_page: Signal<Local, Bits<16>>,
    w_beat: Signal<Local, Bit>,
    // AxLEN is 8 bits: bursts are at most 256 beats, so burst − 1 fits.
    unused_len: Signal<Local, Bits<16>>,
    k0_16: Constant<Bits<16>>,
    k1_16: Constant<Bits<16>>,
    k4_32: Constant<Bits<32>>,
    k256: Constant<Bits<16>>,
    k0_2: Constant<Bits<2>>,
    k_size: Constant<Bits<3>>,
    k_incr: Constant<Bits<2>>,
    k_strb: Constant<Bits<16>>,
}

impl Default for AxiWriteDma {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            cmd_valid: Default::default(),
            cmd_ready: Default::default(),
            cmd_addr: Default::default(),
            cmd_beats: Default::default(),
            data_valid: Default::default(),
            data_ready: Default::default(),
            data: Default::default(),
            done: Default::default(),
            err: Default::default(),
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
            busy: Default::default(),
            done_q: Default::default(),
            err_q: Default::default(),
            aw_addr: Default::default(),
            aw_left: Default::default(),
            aw_count: Default::default(),
            w_addr: Default::default(),
            w_left: Default::default(),
            w_count: Default::default(),
            w_cur: Default::default(),
            b_count: Default::default(),
            aw_burst: Default::default(),
            w_burst: Default::default(),
            aw_m1: Default::default(),
            aw_page: Default::default(),
            w_page: Default::default(),
            w_beat: Default::default(),
            unused_len: Default::default(),
            k0_16: Constant::new(0.into()),
            k1_16: Constant::new(1.into()),
            k4_32: Constant::new(4.into()),
            k256: Constant::new(256.into()),
            k0_2: Constant::new(0.into()),
            k_size: Constant::new(AXI_SIZE.into()),
            k_incr: Constant::new(AXI_INCR.into()),
            k_strb: Constant::new(0xFFFF.into()),
        }
    }
}

impl Logic for AxiWriteDma {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, busy, done_q, err_q, aw_addr, aw_left, aw_count, w_addr, w_left, w_count, w_cur, b_count
        );
        // Burst lengths: at most 256 beats, never across a 4 KiB boundary.
        self.aw_page.next = self.k256.val() - bit_cast::<16, 8>(self.aw_addr.q.val().get_bits::<8>(4));
        self.aw_burst.next = self.aw_left.q.val();
        if self.aw_left.q.val() > self.aw_page.val() {
            self.aw_burst.next = self.aw_page.val();
        }
        self.w_page.next = self.k256.val() - bit_cast::<16, 8>(self.w_addr.q.val().get_bits::<8>(4));
        self.w_burst.next = self.w_left.q.val();
        if self.w_left.q.val() > self.w_page.val() {
            self.w_burst.next = self.w_page.val();
        }
        self.aw_m1.next = self.aw_burst.val() - self.k1_16.val();
        self.unused_len.next = self.aw_m1.val();

        self.cmd_ready.next = !self.busy.q.val();
        self.done.next = self.done_q.q.val();
        self.err.next = self.err_q.q.val();
        self.done_q.d.next = false;

        // AW
        self.m_axi_awaddr.next = self.aw_addr.q.val();
        self.m_axi_awlen.next = bit_cast::<8, 16>(self.aw_m1.val());
        self.m_axi_awsize.next = self.k_size.val();
        self.m_axi_awburst.next = self.k_incr.val();
        self.m_axi_awvalid.next = self.busy.q.val() & (self.aw_left.q.val() != self.k0_16.val());
        if self.busy.q.val() & (self.aw_left.q.val() != self.k0_16.val()) & self.m_axi_awready.val() {
            self.aw_addr.d.next = self.aw_addr.q.val() + (bit_cast::<32, 16>(self.aw_burst.val()) << self.k4_32.val());
            self.aw_left.d.next = self.aw_left.q.val() - self.aw_burst.val();
            self.aw_count.d.next = self.aw_count.q.val() + self.k1_16.val();
        }

        // W: start the next burst once its AW has gone out, then pass beats through.
        self.m_axi_wdata.next = self.data.val();
        self.m_axi_wstrb.next = self.k_strb.val();
        self.m_axi_wlast.next = self.w_cur.q.val() == self.k1_16.val();
        self.m_axi_wvalid.next = (self.w_cur.q.val() != self.k0_16.val()) & self.data_valid.val();
        self.data_ready.next = (self.w_cur.q.val() != self.k0_16.val()) & self.m_axi_wready.val();
        self.w_beat.next = (self.w_cur.q.val() != self.k0_16.val()) & self.data_valid.val() & self.m_axi_wready.val();
        if self.w_beat.val() {
            self.w_cur.d.next = self.w_cur.q.val() - self.k1_16.val();
        }
        if self.busy.q.val()
            & (self.w_cur.q.val() == self.k0_16.val())
            & (self.w_left.q.val() != self.k0_16.val())
            & (self.w_count.q.val() != self.aw_count.q.val())
        {
            self.w_cur.d.next = self.w_burst.val();
            self.w_addr.d.next = self.w_addr.q.val() + (bit_cast::<32, 16>(self.w_burst.val()) << self.k4_32.val());
            self.w_left.d.next = self.w_left.q.val() - self.w_burst.val();
            self.w_count.d.next = self.w_count.q.val() + self.k1_16.val();
        }

        // B
        self.m_axi_bready.next = self.busy.q.val();
        if self.busy.q.val() & self.m_axi_bvalid.val() {
            self.b_count.d.next = self.b_count.q.val() + self.k1_16.val();
            if (self.m_axi_bresp.val() != self.k0_2.val()) & (self.err_q.q.val() == self.k0_2.val()) {
                self.err_q.d.next = self.m_axi_bresp.val();
            }
        }
        if self.busy.q.val()
            & (self.aw_left.q.val() == self.k0_16.val())
            & (self.w_left.q.val() == self.k0_16.val())
            & (self.w_cur.q.val() == self.k0_16.val())
            & (self.b_count.q.val() == self.aw_count.q.val())
        {
            self.busy.d.next = false;
            self.done_q.d.next = true;
        }

        if !self.busy.q.val() & self.cmd_valid.val() {
            self.busy.d.next = true;
            self.aw_addr.d.next = self.cmd_addr.val();
            self.aw_left.d.next = self.cmd_beats.val();
            self.w_addr.d.next = self.cmd_addr.val();
            self.w_left.d.next = self.cmd_beats.val();
            self.aw_count.d.next = 0.into();
            self.w_count.d.next = 0.into();
            self.w_cur.d.next = 0.into();
            self.b_count.d.next = 0.into();
            self.err_q.d.next = 0.into();
        }
        if self.reset.val() {
            self.busy.d.next = false;
            self.done_q.d.next = false;
            self.w_cur.d.next = 0.into();
        }
    }
}
