//! The accelerator top: the core behind an AXI4-Lite register file (control, status,
//! counters) and an AXI4 master port (burst DMA for operands and results).
//!
//! ```text
//!  s_axi_* ─► AxiLiteRegs ─ job registers, START ─► core ─ read commands ─► AxiReadDma  ─┐
//!               ▲  status, counters, irq ◄───────┘   └── write commands ─► AxiWriteDma ─┴► m_axi_*
//! ```
//!
//! SOFT_RESET resets the core and closes the DMA engines' bursts in flight: no new burst; the
//! read bursts issued are drained (their beats dropped), the write bursts whose address was
//! presented get their remaining beats with every strobe off. The core stays in reset and
//! STATUS.BUSY set until both engines are idle; nothing of the old job reaches the next.

use crate::axi::{AxiReadDma, AxiWriteDma, DmaCmd, WriteBeat};
use crate::regs::{AxiLiteRegs, JobRegs};
use crate::spec::axi::RESP_BITS;
use crate::spec::config::{NpeConfig, AXI_DATA_BITS};
use crate::spec::regs::REG_ADDR_BITS;
use rust_hdl::prelude::*;

use super::core::Core;
use super::datapath::{
    Datapath, BLOCK8_ACC, FIXED8_ACC, FIXED8_WORD, FIXED_OVP_ACC, FIXED_OVP_WORD, SHARED_ACC, SHARED_WORD,
};
use crate::emit::emit_with_modules;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;

/// The accelerator top (see the module docs), its core's PEs on `LW`-bit decoded words
/// into `ACC_W`-bit accumulators.
#[derive(LogicBlock)]
pub struct Npe<const LW: usize, const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// Interrupt: a job ended and CTRL.IRQ_EN is set.
    pub irq: Signal<Out, Bit>,
    /// AXI4-Lite slave: write address.
    pub s_axi_awaddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite slave.
    pub s_axi_awvalid: Signal<In, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_awready: Signal<Out, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite slave.
    pub s_axi_wstrb: Signal<In, Bits<4>>,
    /// AXI4-Lite slave.
    pub s_axi_wvalid: Signal<In, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_wready: Signal<Out, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_bresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4-Lite slave.
    pub s_axi_bvalid: Signal<Out, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_bready: Signal<In, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_araddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite slave.
    pub s_axi_arvalid: Signal<In, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_arready: Signal<Out, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_rdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite slave.
    pub s_axi_rresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4-Lite slave.
    pub s_axi_rvalid: Signal<Out, Bit>,
    /// AXI4-Lite slave.
    pub s_axi_rready: Signal<In, Bit>,
    /// AXI4 master: read address.
    pub m_axi_araddr: Signal<Out, Bits<32>>,
    /// AXI4 master.
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    /// AXI4 master.
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    /// AXI4 master.
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    /// AXI4 master.
    pub m_axi_arvalid: Signal<Out, Bit>,
    /// AXI4 master.
    pub m_axi_arready: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_rdata: Signal<In, Bits<BUS>>,
    /// AXI4 master.
    pub m_axi_rresp: Signal<In, Bits<RESP_BITS>>,
    /// AXI4 master.
    pub m_axi_rlast: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_rvalid: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_rready: Signal<Out, Bit>,
    /// AXI4 master: write address.
    pub m_axi_awaddr: Signal<Out, Bits<32>>,
    /// AXI4 master.
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    /// AXI4 master.
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    /// AXI4 master.
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    /// AXI4 master.
    pub m_axi_awvalid: Signal<Out, Bit>,
    /// AXI4 master.
    pub m_axi_awready: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_wdata: Signal<Out, Bits<BUS>>,
    /// AXI4 master.
    pub m_axi_wstrb: Signal<Out, Bits<16>>,
    /// AXI4 master.
    pub m_axi_wlast: Signal<Out, Bit>,
    /// AXI4 master.
    pub m_axi_wvalid: Signal<Out, Bit>,
    /// AXI4 master.
    pub m_axi_wready: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_bresp: Signal<In, Bits<RESP_BITS>>,
    /// AXI4 master.
    pub m_axi_bvalid: Signal<In, Bit>,
    /// AXI4 master.
    pub m_axi_bready: Signal<Out, Bit>,

    regs: AxiLiteRegs,
    core: Core<LW, ACC_W>,
    rdma: AxiReadDma,
    wdma: AxiWriteDma,
    // The core's reset, registered: a hard reset an edge late (the core leaves it after the
    // register file and the DMA engines, before any START can reach it), SOFT_RESET's pulse and
    // the draining that follows it in step, from their registers' inputs. A flip-flop drives the
    // reset's ~2.5 k loads, not a gate (the whole top's critical path in session 15), and none of
    // the core's logic depends on a top input, so the Verilated model re-evaluates only the AXI
    // ports' logic when the host sets an input, not every PE (`fpga/reports/accel.md`).
    core_rst: DFF<Bit>,
    // SOFT_RESET came and a DMA engine is still closing its bursts.
    draining: DFF<Bit>,
    // `draining` of the next cycle.
    drain_nx: Signal<Local, Bit>,
    // The DMA engines' abort (SOFT_RESET's pulse | draining), a register fed from the two
    // registers' inputs: the same signal, cycle for cycle, from one flip-flop instead of an OR
    // of the register file's pulse (npe4x4: 128 write-DMA skid registers' enables at −0.7 ns
    // behind it). One serves both engines: synthesis would merge a copy per engine.
    dma_abort: DFF<Bit>,
    quiet: Signal<Local, Bit>,
}

impl<const LW: usize, const ACC_W: usize> Npe<LW, ACC_W> {
    /// The top for `cfg` (array shape and buffer sizes from `cfg`).
    pub fn new(cfg: &NpeConfig) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            irq: Default::default(),
            s_axi_awaddr: Default::default(),
            s_axi_awvalid: Default::default(),
            s_axi_awready: Default::default(),
            s_axi_wdata: Default::default(),
            s_axi_wstrb: Default::default(),
            s_axi_wvalid: Default::default(),
            s_axi_wready: Default::default(),
            s_axi_bresp: Default::default(),
            s_axi_bvalid: Default::default(),
            s_axi_bready: Default::default(),
            s_axi_araddr: Default::default(),
            s_axi_arvalid: Default::default(),
            s_axi_arready: Default::default(),
            s_axi_rdata: Default::default(),
            s_axi_rresp: Default::default(),
            s_axi_rvalid: Default::default(),
            s_axi_rready: Default::default(),
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
            regs: AxiLiteRegs::new(cfg),
            core: Core::new(cfg),
            rdma: Default::default(),
            wdma: Default::default(),
            core_rst: Default::default(),
            draining: Default::default(),
            drain_nx: Default::default(),
            dma_abort: Default::default(),
            quiet: Default::default(),
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for Npe<LW, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.regs.clock.next = self.clock.val();
        self.core.clock.next = self.clock.val();
        self.rdma.clock.next = self.clock.val();
        self.wdma.clock.next = self.clock.val();
        dff_setup!(self, clock, core_rst, draining, dma_abort);
        self.regs.reset.next = self.reset.val();
        self.rdma.reset.next = self.reset.val();
        self.wdma.reset.next = self.reset.val();
        self.rdma.abort.next = self.dma_abort.q.val();
        self.wdma.abort.next = self.dma_abort.q.val();
        self.quiet.next = self.rdma.cmd.ready.val() & self.wdma.cmd.ready.val();
        self.drain_nx.next = self.draining.q.val() & !self.quiet.val();
        if self.regs.soft_reset.val() {
            self.drain_nx.next = true;
        }
        if self.reset.val() {
            self.drain_nx.next = false;
        }
        self.draining.d.next = self.drain_nx.val();
        self.dma_abort.d.next = self.regs.soft_reset_next.val() | self.drain_nx.val();
        // = (hard reset an edge ago) | soft_reset | draining, each as it is this cycle.
        self.core_rst.d.next = self.reset.val() | self.regs.soft_reset_next.val() | self.drain_nx.val();
        self.core.reset.next = self.core_rst.q.val();
        self.irq.next = self.regs.irq.val();

        // AXI4-Lite ↔ register file
        self.regs.s_axi_awaddr.next = self.s_axi_awaddr.val();
        self.regs.s_axi_awvalid.next = self.s_axi_awvalid.val();
        self.s_axi_awready.next = self.regs.s_axi_awready.val();
        self.regs.s_axi_wdata.next = self.s_axi_wdata.val();
        self.regs.s_axi_wstrb.next = self.s_axi_wstrb.val();
        self.regs.s_axi_wvalid.next = self.s_axi_wvalid.val();
        self.s_axi_wready.next = self.regs.s_axi_wready.val();
        self.s_axi_bresp.next = self.regs.s_axi_bresp.val();
        self.s_axi_bvalid.next = self.regs.s_axi_bvalid.val();
        self.regs.s_axi_bready.next = self.s_axi_bready.val();
        self.regs.s_axi_araddr.next = self.s_axi_araddr.val();
        self.regs.s_axi_arvalid.next = self.s_axi_arvalid.val();
        self.s_axi_arready.next = self.regs.s_axi_arready.val();
        self.s_axi_rdata.next = self.regs.s_axi_rdata.val();
        self.s_axi_rresp.next = self.regs.s_axi_rresp.val();
        self.s_axi_rvalid.next = self.regs.s_axi_rvalid.val();
        self.regs.s_axi_rready.next = self.s_axi_rready.val();

        // register file ↔ core
        self.core.start.next = self.regs.start.val();
        JobRegs::join(&mut self.regs.job, &mut self.core.job);
        self.regs.busy.next = self.core.busy.val();
        self.regs.draining.next = self.draining.q.val();
        self.regs.job_done.next = self.core.job_done.val();
        self.regs.job_error.next = self.core.job_error.val();
        self.regs.stall.next = self.core.stall.val();
        self.regs.rd_beat.next = self.rdma.beat.valid.val();
        self.regs.wr_beat.next = self.core.wr_data.valid.val() & self.wdma.beat.ready.val();

        // core ↔ DMAs
        DmaCmd::join(&mut self.core.rd_cmd, &mut self.rdma.cmd);
        // A draining read's beats go nowhere.
        self.core.rd_data.valid.next = self.rdma.beat.valid.val() & !self.draining.q.val();
        self.core.rd_data.data.next = self.rdma.beat.data.val();
        self.core.rd_data.last.next = self.rdma.beat.last.val();
        DmaCmd::join(&mut self.core.wr_cmd, &mut self.wdma.cmd);
        WriteBeat::join(&mut self.core.wr_data, &mut self.wdma.beat);

        // read DMA ↔ AXI4 read channels
        self.m_axi_araddr.next = self.rdma.m_axi_araddr.val();
        self.m_axi_arlen.next = self.rdma.m_axi_arlen.val();
        self.m_axi_arsize.next = self.rdma.m_axi_arsize.val();
        self.m_axi_arburst.next = self.rdma.m_axi_arburst.val();
        self.m_axi_arvalid.next = self.rdma.m_axi_arvalid.val();
        self.rdma.m_axi_arready.next = self.m_axi_arready.val();
        self.rdma.m_axi_rdata.next = self.m_axi_rdata.val();
        self.rdma.m_axi_rresp.next = self.m_axi_rresp.val();
        self.rdma.m_axi_rlast.next = self.m_axi_rlast.val();
        self.rdma.m_axi_rvalid.next = self.m_axi_rvalid.val();
        self.m_axi_rready.next = self.rdma.m_axi_rready.val();

        // write DMA ↔ AXI4 write channels
        self.m_axi_awaddr.next = self.wdma.m_axi_awaddr.val();
        self.m_axi_awlen.next = self.wdma.m_axi_awlen.val();
        self.m_axi_awsize.next = self.wdma.m_axi_awsize.val();
        self.m_axi_awburst.next = self.wdma.m_axi_awburst.val();
        self.m_axi_awvalid.next = self.wdma.m_axi_awvalid.val();
        self.wdma.m_axi_awready.next = self.m_axi_awready.val();
        self.m_axi_wdata.next = self.wdma.m_axi_wdata.val();
        self.m_axi_wstrb.next = self.wdma.m_axi_wstrb.val();
        self.m_axi_wlast.next = self.wdma.m_axi_wlast.val();
        self.m_axi_wvalid.next = self.wdma.m_axi_wvalid.val();
        self.wdma.m_axi_wready.next = self.m_axi_wready.val();
        self.wdma.m_axi_bresp.next = self.m_axi_bresp.val();
        self.wdma.m_axi_bvalid.next = self.m_axi_bvalid.val();
        self.m_axi_bready.next = self.wdma.m_axi_bready.val();
    }
}

/// The Verilog of the accelerator for `cfg` (module name = the preset's name), with the
/// modules of its [`Datapath`] appended once. Panics with [`super::config_error`]'s reason if
/// `cfg` cannot be built.
pub fn accel_verilog(cfg: &NpeConfig) -> String {
    if let Some(e) = super::config_error(cfg) {
        panic!("{e}");
    }
    let dp = Datapath::of(cfg).expect("checked above");
    let modules = dp.modules(cfg);
    match dp {
        Datapath::Shared => emit_with_modules(&mut Npe::<SHARED_WORD, SHARED_ACC>::new(cfg), cfg.name, &modules),
        Datapath::Fixed8 => emit_with_modules(&mut Npe::<FIXED8_WORD, FIXED8_ACC>::new(cfg), cfg.name, &modules),
        Datapath::FixedOvp => {
            emit_with_modules(&mut Npe::<FIXED_OVP_WORD, FIXED_OVP_ACC>::new(cfg), cfg.name, &modules)
        }
        Datapath::Block8 => emit_with_modules(&mut Npe::<FIXED8_WORD, BLOCK8_ACC>::new(cfg), cfg.name, &modules),
    }
}
