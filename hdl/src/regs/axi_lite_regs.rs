//! The AXI4-Lite slave register file, written from the register map of [`crate::spec::regs`].
//!
//! Every register of the table is served by one of five [`Backing`]s, chosen from the table
//! alone: writable registers (RW, WO, W1C) are a `Vec` of storage flops in table order, the
//! 64-bit counters are the `_LO`/`_HI` pairs, STATUS reflects the core, and every other
//! read-only register is a constant. Offsets, reset values, write / W1C / pulse masks and
//! the read-only set are constants computed from the table, and decode is a loop over them, so
//! a register added to the table is decoded, stored and answered without an edit here. What
//! only this block knows is named once, by the table's typed constants: which input each
//! counter counts, how STATUS is assembled, where START / SOFT_RESET / IRQ come from, and the
//! [`JobRegs`] bundle.
//!
//! One transaction at a time: AW and W are taken together, the response is held until
//! accepted. Unmapped or misaligned offsets answer DECERR, writes to read-only registers SLVERR
//! (and change nothing). Reading a counter's `_LO` latches its `_HI`.
//!
//! rust-hdl indexes a `Vec` of blocks only with a loop variable (any other index expression is
//! pasted into the Verilog as text): a named register is reached with a one-pass loop over its
//! index, `for s in S_CTRL..(S_CTRL + 1)`, the index being a constant computed from the table.

use super::job::JobRegs;
use crate::many;
use crate::spec::axi::{AxiResp, RESP_BITS};
use crate::spec::config::{NpeConfig, AXI_BEAT_BYTES};
use crate::spec::regs::{self, ctrl, irq, status, Access, Field, Register, REGISTERS, REG_ADDR_BITS, REG_BYTES};
use rust_hdl::prelude::*;

/// How the register file serves a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// A storage flop (RW, WO and W1C registers).
    Stored,
    /// A constant: the table's reset value, or the configuration's value ([`constant_value`]).
    Constant,
    /// STATUS: busy, done and error of the core.
    Status,
    /// The low word of a 64-bit counter; reading it latches the high word.
    CounterLo,
    /// The high word of a 64-bit counter, as latched by the last read of the low word.
    CounterHi,
}

/// The backing of register `r`, from its access, name and offset.
pub const fn backing(r: &Register) -> Backing {
    if !matches!(r.access, Access::Ro) {
        Backing::Stored
    } else if r.is_counter_lo() {
        Backing::CounterLo
    } else if r.is_counter_hi() {
        Backing::CounterHi
    } else if r.offset == regs::STATUS.offset {
        Backing::Status
    } else {
        Backing::Constant
    }
}

/// The value of a [`Backing::Constant`] register in a device built from `cfg`: the
/// configuration's hash, capability and formats, the table's reset value for the others.
pub fn constant_value(r: &Register, cfg: &NpeConfig) -> u32 {
    if *r == regs::CONFIG_HASH {
        cfg.hash()
    } else if *r == regs::CAPABILITY {
        cfg.capability()
    } else if *r == regs::FORMATS {
        cfg.formats()
    } else {
        r.reset
    }
}

/// Registers with backing `b`.
const fn count(b: Backing) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < REGISTERS.len() {
        if backing(&REGISTERS[i]) as u8 == b as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Position of `r` among the registers with its backing, in table order.
const fn index_of(r: &Register) -> usize {
    let b = backing(r);
    let mut n = 0;
    let mut i = 0;
    while i < REGISTERS.len() {
        if REGISTERS[i].offset == r.offset {
            return n;
        }
        if backing(&REGISTERS[i]) as u8 == b as u8 {
            n += 1;
        }
        i += 1;
    }
    panic!("register not in the table")
}

/// Index of stored register `r` (a compile error if it is not stored).
const fn stored(r: &Register) -> usize {
    assert!(matches!(backing(r), Backing::Stored));
    index_of(r)
}

/// Index of the counter whose low word is `r` (a compile error if it is none).
const fn counter(r: &Register) -> usize {
    assert!(matches!(backing(r), Backing::CounterLo));
    index_of(r)
}

/// Pulse fields of the whole table.
const fn count_pulses() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < REGISTERS.len() {
        let mut j = 0;
        while j < REGISTERS[i].fields.len() {
            if REGISTERS[i].fields[j].pulse {
                n += 1;
            }
            j += 1;
        }
        i += 1;
    }
    n
}

/// Position of pulse field `f` of `r` among the table's pulse fields.
const fn pulse(r: &Register, f: &Field) -> usize {
    assert!(f.pulse);
    let mut n = 0;
    let mut i = 0;
    while i < REGISTERS.len() {
        let mut j = 0;
        while j < REGISTERS[i].fields.len() {
            let g = &REGISTERS[i].fields[j];
            if REGISTERS[i].offset == r.offset && g.offset == f.offset {
                return n;
            }
            if g.pulse {
                n += 1;
            }
            j += 1;
        }
        i += 1;
    }
    panic!("pulse field not in the table")
}

const NREG: usize = REGISTERS.len();
const NSTORE: usize = count(Backing::Stored);
const NCONST: usize = count(Backing::Constant);
const NCOUNT: usize = count(Backing::CounterLo);
const NPULSE: usize = count_pulses();
/// Byte strobes of a register word.
const NSTRB: usize = REG_BYTES as usize;

const S_CTRL: usize = stored(&regs::CTRL);
const S_IRQ: usize = stored(&regs::IRQ);
const S_M: usize = stored(&regs::M);
const S_N: usize = stored(&regs::N);
const S_K: usize = stored(&regs::K);
const S_FMT: usize = stored(&regs::FMT);
const S_A_ADDR: usize = stored(&regs::A_ADDR);
const S_W_ADDR: usize = stored(&regs::W_ADDR);
const S_C_ADDR: usize = stored(&regs::C_ADDR);
const S_SCALE_ADDR: usize = stored(&regs::SCALE_ADDR);
const S_A_STRIDE: usize = stored(&regs::A_STRIDE);
const S_W_STRIDE: usize = stored(&regs::W_STRIDE);
const S_C_STRIDE: usize = stored(&regs::C_STRIDE);
const S_BLOCK: usize = stored(&regs::BLOCK);
const S_BS_ADDR: usize = stored(&regs::BS_ADDR);
const C_CYCLES: usize = counter(&regs::CYCLES_LO);
const C_BUSY: usize = counter(&regs::BUSY_LO);
const C_STALL: usize = counter(&regs::STALL_LO);
const C_DMA_RD: usize = counter(&regs::DMA_RD_LO);
const C_DMA_WR: usize = counter(&regs::DMA_WR_LO);
const P_START: usize = pulse(&regs::CTRL, &ctrl::START);
const P_SOFT_RESET: usize = pulse(&regs::CTRL, &ctrl::SOFT_RESET);

/// Width of STATUS.ERROR (and of the core's error code).
pub const ERROR_BITS: usize = status::ERROR.width as usize;

fn k8(v: u32) -> Constant<Bits<REG_ADDR_BITS>> {
    Constant::new(u64::from(v).into())
}

fn k32(v: u32) -> Constant<Bits<32>> {
    Constant::new(u64::from(v).into())
}

fn resp(r: AxiResp) -> Constant<Bits<RESP_BITS>> {
    Constant::new(r.code().into())
}

/// The registers with backing `b`, in table order.
fn with(b: Backing) -> impl Iterator<Item = &'static Register> {
    REGISTERS.iter().filter(move |r| backing(r) == b)
}

/// The register file.
#[derive(LogicBlock)]
pub struct AxiLiteRegs {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: every register back to its reset value.
    pub reset: Signal<In, Bit>,
    /// AXI4-Lite AW.
    pub s_axi_awaddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite AW.
    pub s_axi_awvalid: Signal<In, Bit>,
    /// AXI4-Lite AW.
    pub s_axi_awready: Signal<Out, Bit>,
    /// AXI4-Lite W.
    pub s_axi_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite W.
    pub s_axi_wstrb: Signal<In, Bits<NSTRB>>,
    /// AXI4-Lite W.
    pub s_axi_wvalid: Signal<In, Bit>,
    /// AXI4-Lite W.
    pub s_axi_wready: Signal<Out, Bit>,
    /// AXI4-Lite B.
    pub s_axi_bresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4-Lite B.
    pub s_axi_bvalid: Signal<Out, Bit>,
    /// AXI4-Lite B.
    pub s_axi_bready: Signal<In, Bit>,
    /// AXI4-Lite AR.
    pub s_axi_araddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite AR.
    pub s_axi_arvalid: Signal<In, Bit>,
    /// AXI4-Lite AR.
    pub s_axi_arready: Signal<Out, Bit>,
    /// AXI4-Lite R.
    pub s_axi_rdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite R.
    pub s_axi_rresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4-Lite R.
    pub s_axi_rvalid: Signal<Out, Bit>,
    /// AXI4-Lite R.
    pub s_axi_rready: Signal<In, Bit>,
    /// The job registers ([`crate::spec::regs::JOB_REGISTERS`]).
    pub job: JobRegs,
    /// CTRL.START was written with 1 (one cycle).
    pub start: Signal<Out, Bit>,
    /// CTRL.SOFT_RESET was written with 1 (one cycle).
    pub soft_reset: Signal<Out, Bit>,
    /// `soft_reset` of the next cycle (the pulse register's input), so a register outside can
    /// hold it in step with `soft_reset` instead of gating it.
    pub soft_reset_next: Signal<Out, Bit>,
    /// IRQ.DONE and CTRL.IRQ_EN.
    pub irq: Signal<Out, Bit>,
    /// STATUS.BUSY; counts BUSY cycles.
    pub busy: Signal<In, Bit>,
    /// SOFT_RESET is closing the DMA's bursts: STATUS.BUSY stays set (not counted in BUSY).
    pub draining: Signal<In, Bit>,
    /// A job ended (one cycle): sets STATUS.DONE and IRQ.DONE, latches `job_error`.
    pub job_done: Signal<In, Bit>,
    /// Why (ErrorCode), with `job_done`.
    pub job_error: Signal<In, Bits<ERROR_BITS>>,
    /// Count a STALL cycle.
    pub stall: Signal<In, Bit>,
    /// A DMA read beat moved.
    pub rd_beat: Signal<In, Bit>,
    /// A DMA write beat moved.
    pub wr_beat: Signal<In, Bit>,

    // Every register: offset and write response (SLVERR for the read-only set).
    k_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    k_wresp: Vec<Constant<Bits<RESP_BITS>>>,
    // Stored registers.
    store: Vec<DFF<Bits<32>>>,
    k_st_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    k_st_reset: Vec<Constant<Bits<32>>>,
    k_st_write: Vec<Constant<Bits<32>>>,
    k_st_w1c: Vec<Constant<Bits<32>>>,
    k_st_read: Vec<Constant<Bits<32>>>,
    // Constant registers.
    k_c_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    k_c_val: Vec<Constant<Bits<32>>>,
    // Counters: the running count, the latched high word.
    count: Vec<DFF<Bits<64>>>,
    count_hi: Vec<DFF<Bits<32>>>,
    k_lo_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    k_hi_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    // Pulse fields: register offset, bit, one-cycle flop.
    pulse: Vec<DFF<Bit>>,
    k_p_off: Vec<Constant<Bits<REG_ADDR_BITS>>>,
    k_p_bit: Vec<Constant<Bits<32>>>,
    // Byte lanes of a word, one per strobe bit.
    k_lane: Vec<Constant<Bits<32>>>,
    // STATUS.
    st_done: DFF<Bit>,
    st_err: DFF<Bits<ERROR_BITS>>,
    status: Signal<Local, Bits<32>>,
    k_status_off: Constant<Bits<REG_ADDR_BITS>>,
    k_busy: Constant<Bits<32>>,
    k_done: Constant<Bits<32>>,
    k_err: Constant<Bits<32>>,
    k_irq_en: Constant<Bits<32>>,
    k_irq_done: Constant<Bits<32>>,
    irq_pending: Signal<Local, Bit>,
    irq_enabled: Signal<Local, Bit>,
    k1_32: Constant<Bits<32>>,
    k1_64: Constant<Bits<64>>,
    k_beat: Constant<Bits<64>>,
    k_okay: Constant<Bits<RESP_BITS>>,
    k_decerr: Constant<Bits<RESP_BITS>>,
    // Bus.
    bvalid: DFF<Bit>,
    bresp: DFF<Bits<RESP_BITS>>,
    rvalid: DFF<Bit>,
    rresp: DFF<Bits<RESP_BITS>>,
    rdata: DFF<Bits<32>>,
    wmask: Signal<Local, Bits<32>>,
    wbits: Signal<Local, Bits<32>>,
    wr: Signal<Local, Bit>,
    rd: Signal<Local, Bit>,
    wresp: Signal<Local, Bits<RESP_BITS>>,
    rsel: Signal<Local, Bits<32>>,
    rerr: Signal<Local, Bits<RESP_BITS>>,
}

impl AxiLiteRegs {
    /// The register file of a device built from `cfg`.
    pub fn new(cfg: &NpeConfig) -> Self {
        let stored = || with(Backing::Stored);
        let pulses = || {
            REGISTERS
                .iter()
                .flat_map(|r| r.fields.iter().filter(|f| f.pulse).map(move |f| (r, f)))
        };
        let byte = u32::from(u8::MAX);
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
            job: Default::default(),
            start: Default::default(),
            soft_reset: Default::default(),
            soft_reset_next: Default::default(),
            irq: Default::default(),
            busy: Default::default(),
            draining: Default::default(),
            job_done: Default::default(),
            job_error: Default::default(),
            stall: Default::default(),
            rd_beat: Default::default(),
            wr_beat: Default::default(),
            k_off: REGISTERS.iter().map(|r| k8(r.offset)).collect(),
            k_wresp: REGISTERS
                .iter()
                .map(|r| {
                    resp(if r.access == Access::Ro {
                        AxiResp::SlvErr
                    } else {
                        AxiResp::Okay
                    })
                })
                .collect(),
            store: many(NSTORE),
            k_st_off: stored().map(|r| k8(r.offset)).collect(),
            k_st_reset: stored().map(|r| k32(r.reset)).collect(),
            k_st_write: stored().map(|r| k32(r.write_mask())).collect(),
            k_st_w1c: stored().map(|r| k32(r.w1c_mask())).collect(),
            k_st_read: stored().map(|r| k32(r.read_mask())).collect(),
            k_c_off: with(Backing::Constant).map(|r| k8(r.offset)).collect(),
            k_c_val: with(Backing::Constant).map(|r| k32(constant_value(r, cfg))).collect(),
            count: many(NCOUNT),
            count_hi: many(NCOUNT),
            k_lo_off: with(Backing::CounterLo).map(|r| k8(r.offset)).collect(),
            k_hi_off: with(Backing::CounterLo).map(|r| k8(r.offset + REG_BYTES)).collect(),
            pulse: many(NPULSE),
            k_p_off: pulses().map(|(r, _)| k8(r.offset)).collect(),
            k_p_bit: pulses().map(|(_, f)| k32(f.offset)).collect(),
            k_lane: (0..REG_BYTES).map(|b| k32(byte << (8 * b))).collect(),
            st_done: Default::default(),
            st_err: Default::default(),
            status: Default::default(),
            k_status_off: k8(regs::STATUS.offset),
            k_busy: k32(status::BUSY.offset),
            k_done: k32(status::DONE.offset),
            k_err: k32(status::ERROR.offset),
            k_irq_en: k32(ctrl::IRQ_EN.offset),
            k_irq_done: k32(irq::DONE.offset),
            irq_pending: Default::default(),
            irq_enabled: Default::default(),
            k1_32: Constant::new(1.into()),
            k1_64: Constant::new(1.into()),
            k_beat: Constant::new(u64::from(AXI_BEAT_BYTES).into()),
            k_okay: resp(AxiResp::Okay),
            k_decerr: resp(AxiResp::DecErr),
            bvalid: Default::default(),
            bresp: Default::default(),
            rvalid: Default::default(),
            rresp: Default::default(),
            rdata: Default::default(),
            wmask: Default::default(),
            wbits: Default::default(),
            wr: Default::default(),
            rd: Default::default(),
            wresp: Default::default(),
            rsel: Default::default(),
            rerr: Default::default(),
        }
    }
}

impl Logic for AxiLiteRegs {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, st_done, st_err, bvalid, bresp, rvalid, rresp, rdata);
        for s in 0..NSTORE {
            self.store[s].clock.next = self.clock.val();
            self.store[s].d.next = self.store[s].q.val();
        }
        for c in 0..NCOUNT {
            self.count[c].clock.next = self.clock.val();
            self.count[c].d.next = self.count[c].q.val();
            self.count_hi[c].clock.next = self.clock.val();
            self.count_hi[c].d.next = self.count_hi[c].q.val();
        }
        for p in 0..NPULSE {
            self.pulse[p].clock.next = self.clock.val();
            self.pulse[p].d.next = false;
        }

        // The job bundle and the pulses.
        for s in S_M..(S_M + 1) {
            self.job.m.next = self.store[s].q.val();
        }
        for s in S_N..(S_N + 1) {
            self.job.n.next = self.store[s].q.val();
        }
        for s in S_K..(S_K + 1) {
            self.job.k.next = self.store[s].q.val();
        }
        for s in S_FMT..(S_FMT + 1) {
            self.job.fmt.next = self.store[s].q.val();
        }
        for s in S_A_ADDR..(S_A_ADDR + 1) {
            self.job.a_addr.next = self.store[s].q.val();
        }
        for s in S_W_ADDR..(S_W_ADDR + 1) {
            self.job.w_addr.next = self.store[s].q.val();
        }
        for s in S_C_ADDR..(S_C_ADDR + 1) {
            self.job.c_addr.next = self.store[s].q.val();
        }
        for s in S_SCALE_ADDR..(S_SCALE_ADDR + 1) {
            self.job.scale_addr.next = self.store[s].q.val();
        }
        for s in S_A_STRIDE..(S_A_STRIDE + 1) {
            self.job.a_stride.next = self.store[s].q.val();
        }
        for s in S_W_STRIDE..(S_W_STRIDE + 1) {
            self.job.w_stride.next = self.store[s].q.val();
        }
        for s in S_C_STRIDE..(S_C_STRIDE + 1) {
            self.job.c_stride.next = self.store[s].q.val();
        }
        for s in S_BLOCK..(S_BLOCK + 1) {
            self.job.block.next = self.store[s].q.val();
        }
        for s in S_BS_ADDR..(S_BS_ADDR + 1) {
            self.job.bs_addr.next = self.store[s].q.val();
        }
        for p in P_START..(P_START + 1) {
            self.start.next = self.pulse[p].q.val();
        }
        for p in P_SOFT_RESET..(P_SOFT_RESET + 1) {
            self.soft_reset.next = self.pulse[p].q.val();
        }
        for s in S_IRQ..(S_IRQ + 1) {
            self.irq_pending.next = self.store[s].q.val().get_bit(self.k_irq_done.val().index());
        }
        for s in S_CTRL..(S_CTRL + 1) {
            self.irq_enabled.next = self.store[s].q.val().get_bit(self.k_irq_en.val().index());
        }
        self.irq.next = self.irq_pending.val() & self.irq_enabled.val();

        // Counters.
        for c in C_CYCLES..(C_CYCLES + 1) {
            self.count[c].d.next = self.count[c].q.val() + self.k1_64.val();
        }
        for c in C_BUSY..(C_BUSY + 1) {
            if self.busy.val() {
                self.count[c].d.next = self.count[c].q.val() + self.k1_64.val();
            }
        }
        for c in C_STALL..(C_STALL + 1) {
            if self.stall.val() {
                self.count[c].d.next = self.count[c].q.val() + self.k1_64.val();
            }
        }
        for c in C_DMA_RD..(C_DMA_RD + 1) {
            if self.rd_beat.val() {
                self.count[c].d.next = self.count[c].q.val() + self.k_beat.val();
            }
        }
        for c in C_DMA_WR..(C_DMA_WR + 1) {
            if self.wr_beat.val() {
                self.count[c].d.next = self.count[c].q.val() + self.k_beat.val();
            }
        }

        // Job end (a register write in the same cycle wins: it is assigned below).
        if self.job_done.val() {
            self.st_done.d.next = true;
            self.st_err.d.next = self.job_error.val();
            for s in S_IRQ..(S_IRQ + 1) {
                self.store[s].d.next = self.store[s].q.val() | (self.k1_32.val() << self.k_irq_done.val());
            }
        }
        self.status.next = (bit_cast::<32, ERROR_BITS>(self.st_err.q.val()) << self.k_err.val())
            | (self.k1_32.val() << self.k_done.val());
        if !self.st_done.q.val() {
            self.status.next = bit_cast::<32, ERROR_BITS>(self.st_err.q.val()) << self.k_err.val();
        }
        if self.busy.val() | self.draining.val() {
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
        for b in 0..NSTRB {
            if self.s_axi_wstrb.val().get_bit(b) {
                self.wmask.next = self.wmask.val() | self.k_lane[b].val();
            }
        }
        self.wbits.next = self.s_axi_wdata.val() & self.wmask.val();
        self.wresp.next = self.k_decerr.val();
        for i in 0..NREG {
            if self.s_axi_awaddr.val() == self.k_off[i].val() {
                self.wresp.next = self.k_wresp[i].val();
            }
        }
        for s in 0..NSTORE {
            if self.wr.val() & (self.s_axi_awaddr.val() == self.k_st_off[s].val()) {
                self.store[s].d.next = ((self.store[s].q.val() & !(self.wmask.val() & self.k_st_write[s].val()))
                    | (self.wbits.val() & self.k_st_write[s].val()))
                    & !(self.wbits.val() & self.k_st_w1c[s].val());
            }
        }
        for p in 0..NPULSE {
            if self.wr.val() & (self.s_axi_awaddr.val() == self.k_p_off[p].val()) {
                self.pulse[p].d.next = self.wbits.val().get_bit(self.k_p_bit[p].val().index());
            }
        }
        // SOFT_RESET's pulse register's input (set here, cleared by a hard reset below).
        for p in P_SOFT_RESET..(P_SOFT_RESET + 1) {
            self.soft_reset_next.next = self.wr.val()
                & (self.s_axi_awaddr.val() == self.k_p_off[p].val())
                & self.wbits.val().get_bit(self.k_p_bit[p].val().index())
                & !self.reset.val();
        }
        // START clears the last job's DONE and ERROR.
        for p in P_START..(P_START + 1) {
            if self.wr.val()
                & (self.s_axi_awaddr.val() == self.k_p_off[p].val())
                & self.wbits.val().get_bit(self.k_p_bit[p].val().index())
            {
                self.st_done.d.next = false;
                self.st_err.d.next = 0.into();
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
        for i in 0..NREG {
            if self.s_axi_araddr.val() == self.k_off[i].val() {
                self.rerr.next = self.k_okay.val();
            }
        }
        for s in 0..NSTORE {
            if self.s_axi_araddr.val() == self.k_st_off[s].val() {
                self.rsel.next = self.store[s].q.val() & self.k_st_read[s].val();
            }
        }
        for c in 0..NCONST {
            if self.s_axi_araddr.val() == self.k_c_off[c].val() {
                self.rsel.next = self.k_c_val[c].val();
            }
        }
        for c in 0..NCOUNT {
            if self.s_axi_araddr.val() == self.k_lo_off[c].val() {
                self.rsel.next = self.count[c].q.val().get_bits::<32>(0);
            }
            if self.s_axi_araddr.val() == self.k_hi_off[c].val() {
                self.rsel.next = self.count_hi[c].q.val();
            }
        }
        if self.s_axi_araddr.val() == self.k_status_off.val() {
            self.rsel.next = self.status.val();
        }
        if self.rd.val() {
            self.rvalid.d.next = true;
            self.rdata.d.next = self.rsel.val();
            self.rresp.d.next = self.rerr.val();
            for c in 0..NCOUNT {
                if self.s_axi_araddr.val() == self.k_lo_off[c].val() {
                    self.count_hi[c].d.next = self.count[c].q.val().get_bits::<32>(32);
                }
            }
        }

        if self.reset.val() {
            for s in 0..NSTORE {
                self.store[s].d.next = self.k_st_reset[s].val();
            }
            for c in 0..NCOUNT {
                self.count[c].d.next = 0.into();
                self.count_hi[c].d.next = 0.into();
            }
            for p in 0..NPULSE {
                self.pulse[p].d.next = false;
            }
            self.st_done.d.next = false;
            self.st_err.d.next = 0.into();
            self.bvalid.d.next = false;
            self.rvalid.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_register_has_one_backing_and_the_named_ones_fit() {
        let n: usize = [
            Backing::Stored,
            Backing::Constant,
            Backing::Status,
            Backing::CounterLo,
            Backing::CounterHi,
        ]
        .into_iter()
        .map(count)
        .sum();
        assert_eq!(n, NREG);
        assert_eq!(count(Backing::Status), 1);
        assert_eq!(count(Backing::CounterLo), count(Backing::CounterHi));
        for r in REGISTERS {
            assert_eq!(backing(r) == Backing::Stored, r.access != Access::Ro, "{}", r.name);
            if backing(r) == Backing::CounterHi {
                let lo = regs::register_at(r.offset - REG_BYTES).unwrap();
                assert_eq!(backing(lo), Backing::CounterLo, "{}", r.name);
            }
        }
        // The named indices are the table positions of those registers among their kind.
        let pos = |b: Backing, want: &Register| with(b).position(|r| r == want).unwrap();
        assert_eq!(S_CTRL, pos(Backing::Stored, &regs::CTRL));
        assert_eq!(S_C_STRIDE, pos(Backing::Stored, &regs::C_STRIDE));
        assert_eq!(S_BLOCK, pos(Backing::Stored, &regs::BLOCK));
        assert_eq!(S_BS_ADDR, pos(Backing::Stored, &regs::BS_ADDR));
        assert_eq!(C_DMA_WR, pos(Backing::CounterLo, &regs::DMA_WR_LO));
        assert_eq!((P_START, P_SOFT_RESET, NPULSE), (0, 1, 2));
    }

    #[test]
    fn constants_come_from_the_table_and_the_configuration() {
        let cfg = NpeConfig::DEMO;
        assert_eq!(constant_value(&regs::ID, &cfg), regs::ID_MAGIC);
        assert_eq!(constant_value(&regs::VERSION, &cfg), regs::REGMAP_VERSION);
        assert_eq!(constant_value(&regs::CONFIG_HASH, &cfg), cfg.hash());
        assert_eq!(constant_value(&regs::CAPABILITY, &cfg), cfg.capability());
        assert_eq!(constant_value(&regs::FORMATS, &cfg), cfg.formats());
        let consts: Vec<&str> = with(Backing::Constant).map(|r| r.name).collect();
        assert_eq!(consts, ["ID", "VERSION", "CONFIG_HASH", "CAPABILITY", "FORMATS"]);
    }
}
