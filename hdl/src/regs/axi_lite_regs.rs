//! The AXI4-Lite slave register file, served from the register map of [`crate::spec::regs`].
//!
//! Offsets, reset values, writable masks and field positions come from the table (as
//! constants built at construction); the register storage is listed here by name, and a test
//! walks the whole table through the Verilated block so a register the table has and this block
//! does not serve fails. One transaction at a time: AW and W are taken together, the response
//! is held until accepted. Unmapped or misaligned offsets answer DECERR, writes to read-only
//! registers SLVERR (and change nothing).

use crate::spec::config::{NpeConfig, AXI_BEAT_BYTES};
use crate::spec::regs::{self, Access};
use rust_hdl::prelude::*;

/// Offset of register `name` as an 8-bit constant.
fn off(name: &str) -> Constant<Bits<8>> {
    Constant::new(u64::from(reg(name).offset).into())
}

fn reg(name: &str) -> &'static regs::Register {
    regs::register(name).unwrap_or_else(|| panic!("register {name} is not in the map"))
}

/// Bits a write may change: every non-pulse field, or the whole word if it has no fields.
pub fn writable_mask(r: &regs::Register) -> u32 {
    if r.access == Access::Ro {
        0
    } else if r.fields.is_empty() {
        u32::MAX
    } else {
        r.fields.iter().filter(|f| !f.pulse).fold(0, |m, f| m | f.mask())
    }
}

fn mask(name: &str) -> Constant<Bits<32>> {
    Constant::new(u64::from(writable_mask(reg(name))).into())
}

fn field_bit(reg_name: &str, field: &str) -> Constant<Bits<32>> {
    let f = reg(reg_name)
        .field(field)
        .unwrap_or_else(|| panic!("{reg_name}.{field}"));
    Constant::new(u64::from(f.offset).into())
}

/// The register file.
#[derive(LogicBlock)]
pub struct AxiLiteRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: every register back to its reset value.
    pub reset: Signal<In, Bit>,
    /// AXI4-Lite AW.
    pub s_axi_awaddr: Signal<In, Bits<8>>,
    /// AXI4-Lite AW.
    pub s_axi_awvalid: Signal<In, Bit>,
    /// AXI4-Lite AW.
    pub s_axi_awready: Signal<Out, Bit>,
    /// AXI4-Lite W.
    pub s_axi_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite W.
    pub s_axi_wstrb: Signal<In, Bits<4>>,
    /// AXI4-Lite W.
    pub s_axi_wvalid: Signal<In, Bit>,
    /// AXI4-Lite W.
    pub s_axi_wready: Signal<Out, Bit>,
    /// AXI4-Lite B.
    pub s_axi_bresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite B.
    pub s_axi_bvalid: Signal<Out, Bit>,
    /// AXI4-Lite B.
    pub s_axi_bready: Signal<In, Bit>,
    /// AXI4-Lite AR.
    pub s_axi_araddr: Signal<In, Bits<8>>,
    /// AXI4-Lite AR.
    pub s_axi_arvalid: Signal<In, Bit>,
    /// AXI4-Lite AR.
    pub s_axi_arready: Signal<Out, Bit>,
    /// AXI4-Lite R.
    pub s_axi_rdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite R.
    pub s_axi_rresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite R.
    pub s_axi_rvalid: Signal<Out, Bit>,
    /// AXI4-Lite R.
    pub s_axi_rready: Signal<In, Bit>,
    /// Job register M.
    pub m: Signal<Out, Bits<32>>,
    /// Job register N.
    pub n: Signal<Out, Bits<32>>,
    /// Job register K.
    pub k: Signal<Out, Bits<32>>,
    /// Job register FMT.
    pub fmt: Signal<Out, Bits<32>>,
    /// Job register A_ADDR.
    pub a_addr: Signal<Out, Bits<32>>,
    /// Job register W_ADDR.
    pub w_addr: Signal<Out, Bits<32>>,
    /// Job register C_ADDR.
    pub c_addr: Signal<Out, Bits<32>>,
    /// Job register SCALE_ADDR.
    pub scale_addr: Signal<Out, Bits<32>>,
    /// Job register A_STRIDE.
    pub a_stride: Signal<Out, Bits<32>>,
    /// Job register W_STRIDE.
    pub w_stride: Signal<Out, Bits<32>>,
    /// Job register C_STRIDE.
    pub c_stride: Signal<Out, Bits<32>>,
    /// CTRL.START was written with 1 (one cycle).
    pub start: Signal<Out, Bit>,
    /// CTRL.SOFT_RESET was written with 1 (one cycle).
    pub soft_reset: Signal<Out, Bit>,
    /// IRQ.DONE and CTRL.IRQ_EN.
    pub irq: Signal<Out, Bit>,
    /// STATUS.BUSY; counts BUSY cycles.
    pub busy: Signal<In, Bit>,
    /// A job ended (one cycle): sets STATUS.DONE and IRQ.DONE, latches `job_error`.
    pub job_done: Signal<In, Bit>,
    /// Why (ErrorCode), with `job_done`.
    pub job_error: Signal<In, Bits<4>>,
    /// Count a STALL cycle.
    pub stall: Signal<In, Bit>,
    /// A DMA read beat moved.
    pub rd_beat: Signal<In, Bit>,
    /// A DMA write beat moved.
    pub wr_beat: Signal<In, Bit>,

    r_m: DFF<Bits<32>>,
    r_n: DFF<Bits<32>>,
    r_k: DFF<Bits<32>>,
    r_fmt: DFF<Bits<32>>,
    r_a_addr: DFF<Bits<32>>,
    r_w_addr: DFF<Bits<32>>,
    r_c_addr: DFF<Bits<32>>,
    r_scale_addr: DFF<Bits<32>>,
    r_a_stride: DFF<Bits<32>>,
    r_w_stride: DFF<Bits<32>>,
    r_c_stride: DFF<Bits<32>>,
    r_scratch: DFF<Bits<32>>,
    r_ctrl: DFF<Bits<32>>,
    r_irq: DFF<Bits<32>>,
    st_done: DFF<Bit>,
    st_err: DFF<Bits<4>>,
    start_q: DFF<Bit>,
    soft_q: DFF<Bit>,
    c_cycles: DFF<Bits<64>>,
    h_cycles: DFF<Bits<32>>,
    c_busy_c: DFF<Bits<64>>,
    h_busy_c: DFF<Bits<32>>,
    c_stall_c: DFF<Bits<64>>,
    h_stall_c: DFF<Bits<32>>,
    c_rd_c: DFF<Bits<64>>,
    h_rd_c: DFF<Bits<32>>,
    c_wr_c: DFF<Bits<64>>,
    h_wr_c: DFF<Bits<32>>,
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<2>>,
    rvalid: DFF<Bit>,
    rresp: DFF<Bits<2>>,
    rdata: DFF<Bits<32>>,
    wmask: Signal<Local, Bits<32>>,
    wbits: Signal<Local, Bits<32>>,
    k1_32: Constant<Bits<32>>,
    k8: Constant<Bits<32>>,
    k16: Constant<Bits<32>>,
    k24: Constant<Bits<32>>,
    wr: Signal<Local, Bit>,
    rd: Signal<Local, Bit>,
    wresp: Signal<Local, Bits<2>>,
    rsel: Signal<Local, Bits<32>>,
    rerr: Signal<Local, Bits<2>>,
    status: Signal<Local, Bits<32>>,
    k_id: Constant<Bits<32>>,
    k_version: Constant<Bits<32>>,
    k_hash: Constant<Bits<32>>,
    k_cap: Constant<Bits<32>>,
    k_formats: Constant<Bits<32>>,
    k_beat: Constant<Bits<64>>,
    k1_64: Constant<Bits<64>>,
    k3_8: Constant<Bits<8>>,
    k0_8: Constant<Bits<8>>,
    k_okay: Constant<Bits<2>>,
    k_slverr: Constant<Bits<2>>,
    k_decerr: Constant<Bits<2>>,
    k_ff: Constant<Bits<32>>,
    k_start: Constant<Bits<32>>,
    k_soft: Constant<Bits<32>>,
    k_busy: Constant<Bits<32>>,
    k_done: Constant<Bits<32>>,
    k_err: Constant<Bits<32>>,
    k_irq_en: Constant<Bits<32>>,
    k_irq_done: Constant<Bits<32>>,
    o_id: Constant<Bits<8>>,
    o_version: Constant<Bits<8>>,
    o_config_hash: Constant<Bits<8>>,
    o_capability: Constant<Bits<8>>,
    o_formats: Constant<Bits<8>>,
    o_ctrl: Constant<Bits<8>>,
    o_status: Constant<Bits<8>>,
    o_irq: Constant<Bits<8>>,
    o_m: Constant<Bits<8>>,
    o_n: Constant<Bits<8>>,
    o_k: Constant<Bits<8>>,
    o_fmt: Constant<Bits<8>>,
    o_a_addr: Constant<Bits<8>>,
    o_w_addr: Constant<Bits<8>>,
    o_c_addr: Constant<Bits<8>>,
    o_scale_addr: Constant<Bits<8>>,
    o_a_stride: Constant<Bits<8>>,
    o_w_stride: Constant<Bits<8>>,
    o_c_stride: Constant<Bits<8>>,
    o_scratch: Constant<Bits<8>>,
    o_cycles_lo: Constant<Bits<8>>,
    o_cycles_hi: Constant<Bits<8>>,
    o_busy_lo: Constant<Bits<8>>,
    o_busy_hi: Constant<Bits<8>>,
    o_stall_lo: Constant<Bits<8>>,
    o_stall_hi: Constant<Bits<8>>,
    o_dma_rd_lo: Constant<Bits<8>>,
    o_dma_rd_hi: Constant<Bits<8>>,
    o_dma_wr_lo: Constant<Bits<8>>,
    o_dma_wr_hi: Constant<Bits<8>>,
    m_m: Constant<Bits<32>>,
    m_n: Constant<Bits<32>>,
    m_k: Constant<Bits<32>>,
    m_fmt: Constant<Bits<32>>,
    m_a_addr: Constant<Bits<32>>,
    m_w_addr: Constant<Bits<32>>,
    m_c_addr: Constant<Bits<32>>,
    m_scale_addr: Constant<Bits<32>>,
    m_a_stride: Constant<Bits<32>>,
    m_w_stride: Constant<Bits<32>>,
    m_c_stride: Constant<Bits<32>>,
    m_scratch: Constant<Bits<32>>,
    m_ctrl: Constant<Bits<32>>,
}

impl AxiLiteRegs {
    /// The register file of a device built from `cfg`.
    pub fn new(cfg: &NpeConfig) -> Self {
        let c32 = |v: u32| Constant::new(u64::from(v).into());
        Self {
            clock: Default::default(),
            reset: Default::default(),
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
            m: Default::default(),
            n: Default::default(),
            k: Default::default(),
            fmt: Default::default(),
            a_addr: Default::default(),
            w_addr: Default::default(),
            c_addr: Default::default(),
            scale_addr: Default::default(),
            a_stride: Default::default(),
            w_stride: Default::default(),
            c_stride: Default::default(),
            start: Default::default(),
            soft_reset: Default::default(),
            irq: Default::default(),
            busy: Default::default(),
            job_done: Default::default(),
            job_error: Default::default(),
            stall: Default::default(),
            rd_beat: Default::default(),
            wr_beat: Default::default(),
            r_m: Default::default(),
            r_n: Default::default(),
            r_k: Default::default(),
            r_fmt: Default::default(),
            r_a_addr: Default::default(),
            r_w_addr: Default::default(),
            r_c_addr: Default::default(),
            r_scale_addr: Default::default(),
            r_a_stride: Default::default(),
            r_w_stride: Default::default(),
            r_c_stride: Default::default(),
            r_scratch: Default::default(),
            r_ctrl: Default::default(),
            r_irq: Default::default(),
            st_done: Default::default(),
            st_err: Default::default(),
            start_q: Default::default(),
            soft_q: Default::default(),
            c_cycles: Default::default(),
            h_cycles: Default::default(),
            c_busy_c: Default::default(),
            h_busy_c: Default::default(),
            c_stall_c: Default::default(),
            h_stall_c: Default::default(),
            c_rd_c: Default::default(),
            h_rd_c: Default::default(),
            c_wr_c: Default::default(),
            h_wr_c: Default::default(),
            bvalid: Default::default(),
            bresp: Default::default(),
            rvalid: Default::default(),
            rresp: Default::default(),
            rdata: Default::default(),
            wmask: Default::default(),
            wbits: Default::default(),
            k1_32: Constant::new(1.into()),
            k8: Constant::new(8.into()),
            k16: Constant::new(16.into()),
            k24: Constant::new(24.into()),
            wr: Default::default(),
            rd: Default::default(),
            wresp: Default::default(),
            rsel: Default::default(),
            rerr: Default::default(),
            status: Default::default(),
            k_id: c32(reg("ID").reset),
            k_version: c32(reg("VERSION").reset),
            k_hash: c32(cfg.hash()),
            k_cap: c32(cfg.capability()),
            k_formats: c32(cfg.formats()),
            k_beat: Constant::new(u64::from(AXI_BEAT_BYTES).into()),
            k1_64: Constant::new(1.into()),
            k3_8: Constant::new(3.into()),
            k0_8: Constant::new(0.into()),
            k_okay: Constant::new(0.into()),
            k_slverr: Constant::new(2.into()),
            k_decerr: Constant::new(3.into()),
            k_ff: Constant::new(0xFF.into()),
            k_start: field_bit("CTRL", "START"),
            k_soft: field_bit("CTRL", "SOFT_RESET"),
            k_busy: field_bit("STATUS", "BUSY"),
            k_done: field_bit("STATUS", "DONE"),
            k_err: field_bit("STATUS", "ERROR"),
            k_irq_en: field_bit("CTRL", "IRQ_EN"),
            k_irq_done: field_bit("IRQ", "DONE"),
            o_id: off("ID"),
            o_version: off("VERSION"),
            o_config_hash: off("CONFIG_HASH"),
            o_capability: off("CAPABILITY"),
            o_formats: off("FORMATS"),
            o_ctrl: off("CTRL"),
            o_status: off("STATUS"),
            o_irq: off("IRQ"),
            o_m: off("M"),
            o_n: off("N"),
            o_k: off("K"),
            o_fmt: off("FMT"),
            o_a_addr: off("A_ADDR"),
            o_w_addr: off("W_ADDR"),
            o_c_addr: off("C_ADDR"),
            o_scale_addr: off("SCALE_ADDR"),
            o_a_stride: off("A_STRIDE"),
            o_w_stride: off("W_STRIDE"),
            o_c_stride: off("C_STRIDE"),
            o_scratch: off("SCRATCH"),
            o_cycles_lo: off("CYCLES_LO"),
            o_cycles_hi: off("CYCLES_HI"),
            o_busy_lo: off("BUSY_LO"),
            o_busy_hi: off("BUSY_HI"),
            o_stall_lo: off("STALL_LO"),
            o_stall_hi: off("STALL_HI"),
            o_dma_rd_lo: off("DMA_RD_LO"),
            o_dma_rd_hi: off("DMA_RD_HI"),
            o_dma_wr_lo: off("DMA_WR_LO"),
            o_dma_wr_hi: off("DMA_WR_HI"),
            m_m: mask("M"),
            m_n: mask("N"),
            m_k: mask("K"),
            m_fmt: mask("FMT"),
            m_a_addr: mask("A_ADDR"),
            m_w_addr: mask("W_ADDR"),
            m_c_addr: mask("C_ADDR"),
            m_scale_addr: mask("SCALE_ADDR"),
            m_a_stride: mask("A_STRIDE"),
            m_w_stride: mask("W_STRIDE"),
            m_c_stride: mask("C_STRIDE"),
            m_scratch: mask("SCRATCH"),
            m_ctrl: mask("CTRL"),
        }
    }
}

impl Logic for AxiLiteRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            r_m,
            r_n,
            r_k,
            r_fmt,
            r_a_addr,
            r_w_addr,
            r_c_addr,
            r_scale_addr,
            r_a_stride,
            r_w_stride,
            r_c_stride,
            r_scratch,
            r_ctrl,
            r_irq,
            st_done,
            st_err,
            start_q,
            soft_q,
            c_cycles,
            h_cycles,
            c_busy_c,
            h_busy_c,
            c_stall_c,
            h_stall_c,
            c_rd_c,
            h_rd_c,
            c_wr_c,
            h_wr_c,
            bvalid,
            bresp,
            rvalid,
            rresp,
            rdata
        );
        self.m.next = self.r_m.q.val();
        self.n.next = self.r_n.q.val();
        self.k.next = self.r_k.q.val();
        self.fmt.next = self.r_fmt.q.val();
        self.a_addr.next = self.r_a_addr.q.val();
        self.w_addr.next = self.r_w_addr.q.val();
        self.c_addr.next = self.r_c_addr.q.val();
        self.scale_addr.next = self.r_scale_addr.q.val();
        self.a_stride.next = self.r_a_stride.q.val();
        self.w_stride.next = self.r_w_stride.q.val();
        self.c_stride.next = self.r_c_stride.q.val();
        self.start.next = self.start_q.q.val();
        self.soft_reset.next = self.soft_q.q.val();
        self.start_q.d.next = false;
        self.soft_q.d.next = false;
        self.irq.next = self.r_irq.q.val().get_bit(self.k_irq_done.val().index())
            & self.r_ctrl.q.val().get_bit(self.k_irq_en.val().index());

        // Counters.
        self.c_cycles.d.next = self.c_cycles.q.val() + self.k1_64.val();
        if self.busy.val() {
            self.c_busy_c.d.next = self.c_busy_c.q.val() + self.k1_64.val();
        }
        if self.stall.val() {
            self.c_stall_c.d.next = self.c_stall_c.q.val() + self.k1_64.val();
        }
        if self.rd_beat.val() {
            self.c_rd_c.d.next = self.c_rd_c.q.val() + self.k_beat.val();
        }
        if self.wr_beat.val() {
            self.c_wr_c.d.next = self.c_wr_c.q.val() + self.k_beat.val();
        }
        // Job end.
        if self.job_done.val() {
            self.st_done.d.next = true;
            self.st_err.d.next = self.job_error.val();
            self.r_irq.d.next = self.r_irq.q.val() | (self.k1_32.val() << self.k_irq_done.val());
        }
        self.status.next =
            (bit_cast::<32, 4>(self.st_err.q.val()) << self.k_err.val()) | (self.k1_32.val() << self.k_done.val());
        if !self.st_done.q.val() {
            self.status.next = bit_cast::<32, 4>(self.st_err.q.val()) << self.k_err.val();
        }
        if self.busy.val() {
            self.status.next = self.status.val() | (self.k1_32.val() << self.k_busy.val());
        }

        // Writes: AW and W together, one response outstanding at most.
        self.wr.next = self.s_axi_awvalid.val() & self.s_axi_wvalid.val() & !self.bvalid.q.val();
        self.s_axi_awready.next = self.wr.val();
        self.s_axi_wready.next = self.wr.val();
        self.s_axi_bvalid.next = self.bvalid.q.val();
        self.s_axi_bresp.next = self.bresp.q.val();
        if self.bvalid.q.val() & self.s_axi_bready.val() {
            self.bvalid.d.next = false;
        }
        self.wmask.next = 0.into();
        if self.s_axi_wstrb.val().get_bit(0) {
            self.wmask.next = self.wmask.val() | self.k_ff.val();
        }
        if self.s_axi_wstrb.val().get_bit(1) {
            self.wmask.next = self.wmask.val() | (self.k_ff.val() << self.k8.val());
        }
        if self.s_axi_wstrb.val().get_bit(2) {
            self.wmask.next = self.wmask.val() | (self.k_ff.val() << self.k16.val());
        }
        if self.s_axi_wstrb.val().get_bit(3) {
            self.wmask.next = self.wmask.val() | (self.k_ff.val() << self.k24.val());
        }
        self.wbits.next = self.s_axi_wdata.val() & self.wmask.val();
        self.wresp.next = self.k_decerr.val();
        if (self.s_axi_awaddr.val() & self.k3_8.val()) == self.k0_8.val() {
            if self.s_axi_awaddr.val() == self.o_m.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_m.d.next = (self.r_m.q.val() & !(self.wmask.val() & self.m_m.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_m.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_n.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_n.d.next = (self.r_n.q.val() & !(self.wmask.val() & self.m_n.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_n.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_k.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_k.d.next = (self.r_k.q.val() & !(self.wmask.val() & self.m_k.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_k.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_fmt.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_fmt.d.next = (self.r_fmt.q.val() & !(self.wmask.val() & self.m_fmt.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_fmt.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_a_addr.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_a_addr.d.next = (self.r_a_addr.q.val() & !(self.wmask.val() & self.m_a_addr.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_a_addr.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_w_addr.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_w_addr.d.next = (self.r_w_addr.q.val() & !(self.wmask.val() & self.m_w_addr.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_w_addr.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_c_addr.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_c_addr.d.next = (self.r_c_addr.q.val() & !(self.wmask.val() & self.m_c_addr.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_c_addr.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_scale_addr.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_scale_addr.d.next = (self.r_scale_addr.q.val()
                        & !(self.wmask.val() & self.m_scale_addr.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_scale_addr.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_a_stride.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_a_stride.d.next = (self.r_a_stride.q.val() & !(self.wmask.val() & self.m_a_stride.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_a_stride.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_w_stride.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_w_stride.d.next = (self.r_w_stride.q.val() & !(self.wmask.val() & self.m_w_stride.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_w_stride.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_c_stride.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_c_stride.d.next = (self.r_c_stride.q.val() & !(self.wmask.val() & self.m_c_stride.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_c_stride.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_scratch.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_scratch.d.next = (self.r_scratch.q.val() & !(self.wmask.val() & self.m_scratch.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_scratch.val());
                }
            }
            if self.s_axi_awaddr.val() == self.o_ctrl.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_ctrl.d.next = (self.r_ctrl.q.val() & !(self.wmask.val() & self.m_ctrl.val()))
                        | (self.s_axi_wdata.val() & self.wmask.val() & self.m_ctrl.val());
                    self.start_q.d.next = self.wbits.val().get_bit(self.k_start.val().index());
                    self.soft_q.d.next = self.wbits.val().get_bit(self.k_soft.val().index());
                    if self.wbits.val().get_bit(self.k_start.val().index()) {
                        self.st_done.d.next = false;
                        self.st_err.d.next = 0.into();
                    }
                }
            }
            if self.s_axi_awaddr.val() == self.o_irq.val() {
                self.wresp.next = self.k_okay.val();
                if self.wr.val() {
                    self.r_irq.d.next = self.r_irq.q.val() & !(self.s_axi_wdata.val() & self.wmask.val());
                }
            }
            if (self.s_axi_awaddr.val() == self.o_id.val())
                | (self.s_axi_awaddr.val() == self.o_version.val())
                | (self.s_axi_awaddr.val() == self.o_config_hash.val())
                | (self.s_axi_awaddr.val() == self.o_capability.val())
                | (self.s_axi_awaddr.val() == self.o_formats.val())
                | (self.s_axi_awaddr.val() == self.o_status.val())
                | (self.s_axi_awaddr.val() == self.o_cycles_lo.val())
                | (self.s_axi_awaddr.val() == self.o_cycles_hi.val())
                | (self.s_axi_awaddr.val() == self.o_busy_lo.val())
                | (self.s_axi_awaddr.val() == self.o_busy_hi.val())
                | (self.s_axi_awaddr.val() == self.o_stall_lo.val())
                | (self.s_axi_awaddr.val() == self.o_stall_hi.val())
                | (self.s_axi_awaddr.val() == self.o_dma_rd_lo.val())
                | (self.s_axi_awaddr.val() == self.o_dma_rd_hi.val())
                | (self.s_axi_awaddr.val() == self.o_dma_wr_lo.val())
                | (self.s_axi_awaddr.val() == self.o_dma_wr_hi.val())
            {
                self.wresp.next = self.k_slverr.val();
            }
        }
        if self.wr.val() {
            self.bvalid.d.next = true;
            self.bresp.d.next = self.wresp.val();
        }

        // Reads: one outstanding, data held until accepted.
        self.rd.next = self.s_axi_arvalid.val() & !self.rvalid.q.val();
        self.s_axi_arready.next = !self.rvalid.q.val();
        self.s_axi_rvalid.next = self.rvalid.q.val();
        self.s_axi_rresp.next = self.rresp.q.val();
        self.s_axi_rdata.next = self.rdata.q.val();
        if self.rvalid.q.val() & self.s_axi_rready.val() {
            self.rvalid.d.next = false;
        }
        self.rsel.next = 0.into();
        self.rerr.next = self.k_decerr.val();
        if (self.s_axi_araddr.val() & self.k3_8.val()) == self.k0_8.val() {
            if self.s_axi_araddr.val() == self.o_id.val() {
                self.rsel.next = self.k_id.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_version.val() {
                self.rsel.next = self.k_version.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_config_hash.val() {
                self.rsel.next = self.k_hash.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_capability.val() {
                self.rsel.next = self.k_cap.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_formats.val() {
                self.rsel.next = self.k_formats.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_ctrl.val() {
                self.rsel.next = self.r_ctrl.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_status.val() {
                self.rsel.next = self.status.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_irq.val() {
                self.rsel.next = self.r_irq.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_m.val() {
                self.rsel.next = self.r_m.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_n.val() {
                self.rsel.next = self.r_n.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_k.val() {
                self.rsel.next = self.r_k.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_fmt.val() {
                self.rsel.next = self.r_fmt.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_a_addr.val() {
                self.rsel.next = self.r_a_addr.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_w_addr.val() {
                self.rsel.next = self.r_w_addr.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_c_addr.val() {
                self.rsel.next = self.r_c_addr.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_scale_addr.val() {
                self.rsel.next = self.r_scale_addr.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_a_stride.val() {
                self.rsel.next = self.r_a_stride.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_w_stride.val() {
                self.rsel.next = self.r_w_stride.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_c_stride.val() {
                self.rsel.next = self.r_c_stride.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_scratch.val() {
                self.rsel.next = self.r_scratch.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_cycles_lo.val() {
                self.rsel.next = self.c_cycles.q.val().get_bits::<32>(0);
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_cycles_hi.val() {
                self.rsel.next = self.h_cycles.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_busy_lo.val() {
                self.rsel.next = self.c_busy_c.q.val().get_bits::<32>(0);
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_busy_hi.val() {
                self.rsel.next = self.h_busy_c.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_stall_lo.val() {
                self.rsel.next = self.c_stall_c.q.val().get_bits::<32>(0);
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_stall_hi.val() {
                self.rsel.next = self.h_stall_c.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_dma_rd_lo.val() {
                self.rsel.next = self.c_rd_c.q.val().get_bits::<32>(0);
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_dma_rd_hi.val() {
                self.rsel.next = self.h_rd_c.q.val();
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_dma_wr_lo.val() {
                self.rsel.next = self.c_wr_c.q.val().get_bits::<32>(0);
                self.rerr.next = self.k_okay.val();
            }
            if self.s_axi_araddr.val() == self.o_dma_wr_hi.val() {
                self.rsel.next = self.h_wr_c.q.val();
                self.rerr.next = self.k_okay.val();
            }
        }
        if self.rd.val() {
            self.rvalid.d.next = true;
            self.rdata.d.next = self.rsel.val();
            self.rresp.d.next = self.rerr.val();
            if self.s_axi_araddr.val() == self.o_cycles_lo.val() {
                self.h_cycles.d.next = self.c_cycles.q.val().get_bits::<32>(32);
            }
            if self.s_axi_araddr.val() == self.o_busy_lo.val() {
                self.h_busy_c.d.next = self.c_busy_c.q.val().get_bits::<32>(32);
            }
            if self.s_axi_araddr.val() == self.o_stall_lo.val() {
                self.h_stall_c.d.next = self.c_stall_c.q.val().get_bits::<32>(32);
            }
            if self.s_axi_araddr.val() == self.o_dma_rd_lo.val() {
                self.h_rd_c.d.next = self.c_rd_c.q.val().get_bits::<32>(32);
            }
            if self.s_axi_araddr.val() == self.o_dma_wr_lo.val() {
                self.h_wr_c.d.next = self.c_wr_c.q.val().get_bits::<32>(32);
            }
        }

        if self.reset.val() {
            self.r_m.d.next = 0.into();
            self.r_n.d.next = 0.into();
            self.r_k.d.next = 0.into();
            self.r_fmt.d.next = 0.into();
            self.r_a_addr.d.next = 0.into();
            self.r_w_addr.d.next = 0.into();
            self.r_c_addr.d.next = 0.into();
            self.r_scale_addr.d.next = 0.into();
            self.r_a_stride.d.next = 0.into();
            self.r_w_stride.d.next = 0.into();
            self.r_c_stride.d.next = 0.into();
            self.r_scratch.d.next = 0.into();
            self.r_ctrl.d.next = 0.into();
            self.r_irq.d.next = 0.into();
            self.st_done.d.next = false;
            self.st_err.d.next = 0.into();
            self.start_q.d.next = false;
            self.soft_q.d.next = false;
            self.bvalid.d.next = false;
            self.rvalid.d.next = false;
            self.c_cycles.d.next = 0.into();
            self.h_cycles.d.next = 0.into();
            self.c_busy_c.d.next = 0.into();
            self.h_busy_c.d.next = 0.into();
            self.c_stall_c.d.next = 0.into();
            self.h_stall_c.d.next = 0.into();
            self.c_rd_c.d.next = 0.into();
            self.h_rd_c.d.next = 0.into();
            self.c_wr_c.d.next = 0.into();
            self.h_wr_c.d.next = 0.into();
        }
    }
}
