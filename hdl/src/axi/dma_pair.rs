//! The `axi_dma` test top: [`AxiReadDma`] and [`AxiWriteDma`] side by side on one AXI4 port.
//!
//! The read DMA's command and data bundles become flat ports prefixed `rd_`, the write DMA's
//! `wr_` (a top's ports are what the simulator looks up by name); the AXI ports keep their
//! `m_axi_` names, since the read and write channels together are one AXI4 master port.

use super::{AxiReadDma, AxiWriteDma, RESP_BITS};
use rust_hdl::prelude::*;

/// Both DMAs with every port exposed.
#[derive(LogicBlock)]
pub struct AxiDmaPair {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset of both DMAs.
    pub reset: Signal<In, Bit>,
    /// `rd.cmd.valid`.
    pub rd_cmd_valid: Signal<In, Bit>,
    /// `rd.cmd.ready`.
    pub rd_cmd_ready: Signal<Out, Bit>,
    /// `rd.cmd.addr`.
    pub rd_cmd_addr: Signal<In, Bits<32>>,
    /// `rd.cmd.beats`.
    pub rd_cmd_beats: Signal<In, Bits<16>>,
    /// `rd.beat.valid`.
    pub rd_data_valid: Signal<Out, Bit>,
    /// `rd.beat.data`.
    pub rd_data: Signal<Out, Bits<128>>,
    /// `rd.beat.last`.
    pub rd_data_last: Signal<Out, Bit>,
    /// `rd.cmd.done`.
    pub rd_done: Signal<Out, Bit>,
    /// `rd.cmd.err`.
    pub rd_err: Signal<Out, Bits<RESP_BITS>>,
    /// `wr.cmd.valid`.
    pub wr_cmd_valid: Signal<In, Bit>,
    /// `wr.cmd.ready`.
    pub wr_cmd_ready: Signal<Out, Bit>,
    /// `wr.cmd.addr`.
    pub wr_cmd_addr: Signal<In, Bits<32>>,
    /// `wr.cmd.beats`.
    pub wr_cmd_beats: Signal<In, Bits<16>>,
    /// `wr.beat.valid`.
    pub wr_data_valid: Signal<In, Bit>,
    /// `wr.beat.ready`.
    pub wr_data_ready: Signal<Out, Bit>,
    /// `wr.beat.data`.
    pub wr_data: Signal<In, Bits<128>>,
    /// `wr.cmd.done`.
    pub wr_done: Signal<Out, Bit>,
    /// `wr.cmd.err`.
    pub wr_err: Signal<Out, Bits<RESP_BITS>>,
    /// `rd.m_axi_araddr`.
    pub m_axi_araddr: Signal<Out, Bits<32>>,
    /// `rd.m_axi_arlen`.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// `rd.m_axi_arsize`.
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// `rd.m_axi_arburst`.
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// `rd.m_axi_arvalid`.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// `rd.m_axi_arready`.
    pub m_axi_arready: Signal<In, Bit>,
    /// `rd.m_axi_rdata`.
    pub m_axi_rdata: Signal<In, Bits<128>>,
    /// `rd.m_axi_rresp`.
    pub m_axi_rresp: Signal<In, Bits<RESP_BITS>>,
    /// `rd.m_axi_rlast`.
    pub m_axi_rlast: Signal<In, Bit>,
    /// `rd.m_axi_rvalid`.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// `rd.m_axi_rready`.
    pub m_axi_rready: Signal<Out, Bit>,
    /// `wr.m_axi_awaddr`.
    pub m_axi_awaddr: Signal<Out, Bits<32>>,
    /// `wr.m_axi_awlen`.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// `wr.m_axi_awsize`.
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// `wr.m_axi_awburst`.
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// `wr.m_axi_awvalid`.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// `wr.m_axi_awready`.
    pub m_axi_awready: Signal<In, Bit>,
    /// `wr.m_axi_wdata`.
    pub m_axi_wdata: Signal<Out, Bits<128>>,
    /// `wr.m_axi_wstrb`.
    pub m_axi_wstrb: Signal<Out, Bits<16>>,
    /// `wr.m_axi_wlast`.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// `wr.m_axi_wvalid`.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// `wr.m_axi_wready`.
    pub m_axi_wready: Signal<In, Bit>,
    /// `wr.m_axi_bresp`.
    pub m_axi_bresp: Signal<In, Bits<RESP_BITS>>,
    /// `wr.m_axi_bvalid`.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// `wr.m_axi_bready`.
    pub m_axi_bready: Signal<Out, Bit>,
    rd: AxiReadDma,
    wr: AxiWriteDma,
}

impl AxiDmaPair {
    /// The pair.
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rd_cmd_valid: Default::default(),
            rd_cmd_ready: Default::default(),
            rd_cmd_addr: Default::default(),
            rd_cmd_beats: Default::default(),
            rd_data_valid: Default::default(),
            rd_data: Default::default(),
            rd_data_last: Default::default(),
            rd_done: Default::default(),
            rd_err: Default::default(),
            wr_cmd_valid: Default::default(),
            wr_cmd_ready: Default::default(),
            wr_cmd_addr: Default::default(),
            wr_cmd_beats: Default::default(),
            wr_data_valid: Default::default(),
            wr_data_ready: Default::default(),
            wr_data: Default::default(),
            wr_done: Default::default(),
            wr_err: Default::default(),
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
            rd: AxiReadDma::new(),
            wr: AxiWriteDma::new(),
        }
    }
}

impl Default for AxiDmaPair {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for AxiDmaPair {
    #[hdl_gen]
    fn update(&mut self) {
        self.rd.clock.next = self.clock.val();
        self.wr.clock.next = self.clock.val();
        self.rd.reset.next = self.reset.val();
        self.wr.reset.next = self.reset.val();
        // The accelerator's SOFT_RESET path; its test runs through the accelerator top.
        self.rd.abort.next = false;
        self.wr.abort.next = false;
        self.rd.cmd.valid.next = self.rd_cmd_valid.val();
        self.rd_cmd_ready.next = self.rd.cmd.ready.val();
        self.rd.cmd.addr.next = self.rd_cmd_addr.val();
        self.rd.cmd.beats.next = self.rd_cmd_beats.val();
        self.rd_data_valid.next = self.rd.beat.valid.val();
        self.rd_data.next = self.rd.beat.data.val();
        self.rd_data_last.next = self.rd.beat.last.val();
        self.rd_done.next = self.rd.cmd.done.val();
        self.rd_err.next = self.rd.cmd.err.val();
        self.wr.cmd.valid.next = self.wr_cmd_valid.val();
        self.wr_cmd_ready.next = self.wr.cmd.ready.val();
        self.wr.cmd.addr.next = self.wr_cmd_addr.val();
        self.wr.cmd.beats.next = self.wr_cmd_beats.val();
        self.wr.beat.valid.next = self.wr_data_valid.val();
        self.wr_data_ready.next = self.wr.beat.ready.val();
        self.wr.beat.data.next = self.wr_data.val();
        self.wr_done.next = self.wr.cmd.done.val();
        self.wr_err.next = self.wr.cmd.err.val();
        self.m_axi_araddr.next = self.rd.m_axi_araddr.val();
        self.m_axi_arlen.next = self.rd.m_axi_arlen.val();
        self.m_axi_arsize.next = self.rd.m_axi_arsize.val();
        self.m_axi_arburst.next = self.rd.m_axi_arburst.val();
        self.m_axi_arvalid.next = self.rd.m_axi_arvalid.val();
        self.rd.m_axi_arready.next = self.m_axi_arready.val();
        self.rd.m_axi_rdata.next = self.m_axi_rdata.val();
        self.rd.m_axi_rresp.next = self.m_axi_rresp.val();
        self.rd.m_axi_rlast.next = self.m_axi_rlast.val();
        self.rd.m_axi_rvalid.next = self.m_axi_rvalid.val();
        self.m_axi_rready.next = self.rd.m_axi_rready.val();
        self.m_axi_awaddr.next = self.wr.m_axi_awaddr.val();
        self.m_axi_awlen.next = self.wr.m_axi_awlen.val();
        self.m_axi_awsize.next = self.wr.m_axi_awsize.val();
        self.m_axi_awburst.next = self.wr.m_axi_awburst.val();
        self.m_axi_awvalid.next = self.wr.m_axi_awvalid.val();
        self.wr.m_axi_awready.next = self.m_axi_awready.val();
        self.m_axi_wdata.next = self.wr.m_axi_wdata.val();
        self.m_axi_wstrb.next = self.wr.m_axi_wstrb.val();
        self.m_axi_wlast.next = self.wr.m_axi_wlast.val();
        self.m_axi_wvalid.next = self.wr.m_axi_wvalid.val();
        self.wr.m_axi_wready.next = self.m_axi_wready.val();
        self.wr.m_axi_bresp.next = self.m_axi_bresp.val();
        self.wr.m_axi_bvalid.next = self.m_axi_bvalid.val();
        self.m_axi_bready.next = self.wr.m_axi_bready.val();
    }
}
