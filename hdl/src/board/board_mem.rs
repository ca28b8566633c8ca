//! The board's memory: [`MEM_BYTES`] of block RAM at bus address 0, the memory the
//! accelerator's DMA reads operands from and writes results to on the board, and that the host
//! fills and reads through the UART bridge.
//!
//! ```text
//!  s_axi_* (AXI4 slave, the accelerator's m_axi_*) ─┬─► write port ─┐
//!                                                   └─► read port  ─┤ 4 lanes × 32 bits
//!  mem_* (the bridge's word port) ──────────────────┴─► either one ─┘ (BankRam, 8192 words each)
//! ```
//!
//! **Lanes.** A 16-byte beat is four 32-bit lanes side by side, each its own RAM, so the
//! bridge writes one word without a read-modify-write. The accelerator's write DMA strobes
//! whole beats (every strobe on, or every strobe off for an aborted burst's fill beats:
//! `axi::dma_write`), so strobes are honoured per 32-bit lane: a lane is written when its four
//! strobes are on. A strobe pattern that covers part of a lane is not supported: the lane is
//! not written and the burst's B response is SLVERR.
//!
//! **Bursts.** INCR bursts of 16-byte beats (AxSIZE 4) up to 256 beats, one read and one
//! write burst at a time (the next AR/AW is taken when the previous burst has issued its last
//! beat / got its B response). Any other AxSIZE or AxBURST: nothing is written, read data is
//! zero, and the response is SLVERR. The beat count comes from AWLEN; a WLAST that disagrees
//! with it makes the response SLVERR. Addresses: the low 4 bits are ignored (the DMA aligns);
//! a beat at or beyond [`MEM_BYTES`] is not written / reads zero, and its response is DECERR
//! (R: that beat's RRESP; B: the burst's, SLVERR and DECERR ORed, i.e. DECERR if any).
//!
//! **Reads.** The RAMs' reads are registered, so an R beat is issued one cycle before it
//! reaches a two-entry output queue; a beat is issued only when the queue will have room, so
//! RREADY low never loses data and RREADY high gives a beat every cycle.
//!
//! **Arbiter: fixed priority to the bridge.** The bridge's request is registered, and executed
//! in the next cycle on the port it needs (write or read) whatever the AXI side does; that
//! cycle the AXI side's W beat (for a bridge write, or for a bridge read of the beat being
//! written) or R issue waits. Why: the bridge is slow and rare (a word per 40 UART bit times,
//! 2000 clock cycles at 1 Mbaud), so the DMA loses at most one cycle per bridge word, and the
//! bridge never waits: `mem_ready` is constant, and its read data comes exactly two cycles
//! after its request. Round robin would buy nothing at that ratio.
//!
//! **Read during write.** Like the accelerator's banks ([`BankRam`]), a read of the word being
//! written in the same cycle is undefined in the block RAM; the arbiter never issues one: an AXI
//! read waits a cycle for a write of its beat (AXI's or the bridge's) and an AXI write waits
//! for a bridge read of its beat.

use crate::accel::bank_ram::{BankRam, BANK_ADDR_BITS};
use crate::decode::{const_bit, const_bits};
use crate::spec::axi::{AxiResp, AXI_BURST_INCR, AXI_SIZE, RESP_BITS};
use crate::spec::board::{MEM_BYTES, MEM_WORD_ADDR_BITS};
use crate::spec::config::{AXI_BEAT_BYTES, AXI_DATA_BITS};
use rust_hdl::prelude::*;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;

/// Beats (16-byte lines) of the memory.
pub const MEM_BEATS: u32 = MEM_BYTES / AXI_BEAT_BYTES;

/// Address bits of one lane's RAM.
pub const LANE_ADDR_BITS: usize = MEM_BEATS.trailing_zeros() as usize;

/// Width of a beat address (a 32-bit byte address without its 4 offset bits).
const BEAT_ADDR_BITS: usize = 32 - AXI_BEAT_BYTES.trailing_zeros() as usize;

/// Bits of a word address that pick the beat (the other two pick the lane).
const WORD_BEAT_BITS: usize = MEM_WORD_ADDR_BITS - 2;

const _: () = assert!(MEM_BEATS.is_power_of_two() && LANE_ADDR_BITS <= BANK_ADDR_BITS);
const _: () = assert!(AXI_DATA_BITS == 4 * 32 && WORD_BEAT_BITS == LANE_ADDR_BITS);

/// The board memory (see the module docs).
#[derive(LogicBlock)]
pub struct BoardMem {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high: ends the bursts in flight (the contents stay).
    pub reset: Signal<In, Bit>,
    /// AXI4 slave: read address (byte address; the low 4 bits are ignored).
    pub s_axi_araddr: Signal<In, Bits<32>>,
    /// AXI4 slave: ARLEN (beats − 1).
    pub s_axi_arlen: Signal<In, Bits<8>>,
    /// AXI4 slave: ARSIZE (4: 16-byte beats; anything else gets SLVERR).
    pub s_axi_arsize: Signal<In, Bits<3>>,
    /// AXI4 slave: ARBURST (INCR; anything else gets SLVERR).
    pub s_axi_arburst: Signal<In, Bits<2>>,
    /// AXI4 slave.
    pub s_axi_arvalid: Signal<In, Bit>,
    /// AXI4 slave: high while no read burst is being issued (a register).
    pub s_axi_arready: Signal<Out, Bit>,
    /// AXI4 slave: read data (a register).
    pub s_axi_rdata: Signal<Out, Bits<BUS>>,
    /// AXI4 slave: OKAY, SLVERR or DECERR, per beat.
    pub s_axi_rresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4 slave.
    pub s_axi_rlast: Signal<Out, Bit>,
    /// AXI4 slave.
    pub s_axi_rvalid: Signal<Out, Bit>,
    /// AXI4 slave.
    pub s_axi_rready: Signal<In, Bit>,
    /// AXI4 slave: write address (byte address; the low 4 bits are ignored).
    pub s_axi_awaddr: Signal<In, Bits<32>>,
    /// AXI4 slave: AWLEN (beats − 1): the burst's length.
    pub s_axi_awlen: Signal<In, Bits<8>>,
    /// AXI4 slave: AWSIZE (4: 16-byte beats; anything else gets SLVERR).
    pub s_axi_awsize: Signal<In, Bits<3>>,
    /// AXI4 slave: AWBURST (INCR; anything else gets SLVERR).
    pub s_axi_awburst: Signal<In, Bits<2>>,
    /// AXI4 slave.
    pub s_axi_awvalid: Signal<In, Bit>,
    /// AXI4 slave: high while no write burst is open or waiting for its B (a register).
    pub s_axi_awready: Signal<Out, Bit>,
    /// AXI4 slave: write data.
    pub s_axi_wdata: Signal<In, Bits<BUS>>,
    /// AXI4 slave: write strobes, honoured per 32-bit lane (module docs).
    pub s_axi_wstrb: Signal<In, Bits<16>>,
    /// AXI4 slave: WLAST (checked against AWLEN).
    pub s_axi_wlast: Signal<In, Bit>,
    /// AXI4 slave.
    pub s_axi_wvalid: Signal<In, Bit>,
    /// AXI4 slave: depends on registers only.
    pub s_axi_wready: Signal<Out, Bit>,
    /// AXI4 slave: the burst's response.
    pub s_axi_bresp: Signal<Out, Bits<RESP_BITS>>,
    /// AXI4 slave.
    pub s_axi_bvalid: Signal<Out, Bit>,
    /// AXI4 slave.
    pub s_axi_bready: Signal<In, Bit>,
    /// Bridge word port: a request this cycle.
    pub mem_valid: Signal<In, Bit>,
    /// Bridge word port: write (1) or read (0).
    pub mem_write: Signal<In, Bit>,
    /// Bridge word port: word address (byte address / 4).
    pub mem_addr: Signal<In, Bits<MEM_WORD_ADDR_BITS>>,
    /// Bridge word port: write data.
    pub mem_wdata: Signal<In, Bits<32>>,
    /// Bridge word port: the request is taken (always: the bridge has priority).
    pub mem_ready: Signal<Out, Bit>,
    /// Bridge word port: read data valid, two cycles after the read was taken.
    pub mem_rvalid: Signal<Out, Bit>,
    /// Bridge word port: read data.
    pub mem_rdata: Signal<Out, Bits<32>>,
    /// An error response (SLVERR or DECERR) was handed over on B or R the cycle before (a
    /// register: no path from the ready inputs).
    pub error: Signal<Out, Bit>,

    lane0: BankRam<Bits<32>>,
    lane1: BankRam<Bits<32>>,
    lane2: BankRam<Bits<32>>,
    lane3: BankRam<Bits<32>>,

    // The bridge's request, executed the cycle after it was taken.
    bq_v: DFF<Bit>,
    bq_write: DFF<Bit>,
    bq_beat: DFF<Bits<BANK_ADDR_BITS>>,
    bq_lane: DFF<Bits<2>>,
    bq_wdata: DFF<Bits<32>>,
    // A bridge read was executed last cycle: its lane.
    br_q: DFF<Bit>,
    br_lane: DFF<Bits<2>>,

    // Write burst: open, next beat's address, beats left after this one, unsupported, response
    // so far; then the B response.
    w_active: DFF<Bit>,
    w_beat: DFF<Bits<BEAT_ADDR_BITS>>,
    w_left: DFF<Bits<8>>,
    w_bad: DFF<Bit>,
    w_resp: DFF<Bits<RESP_BITS>>,
    bv: DFF<Bit>,
    b_resp: DFF<Bits<RESP_BITS>>,

    // Read burst: being issued, next beat's address, beats left after it, unsupported.
    r_active: DFF<Bit>,
    r_beat: DFF<Bits<BEAT_ADDR_BITS>>,
    r_left: DFF<Bits<8>>,
    r_bad: DFF<Bit>,
    // An R beat was issued last cycle (its data is at the RAMs' outputs now).
    rd_q: DFF<Bit>,
    rd_resp: DFF<Bits<RESP_BITS>>,
    rd_last: DFF<Bit>,
    // The R queue: entry 0 is on the bus.
    f0v: DFF<Bit>,
    f0d: DFF<Bits<BUS>>,
    f0r: DFF<Bits<RESP_BITS>>,
    f0l: DFF<Bit>,
    f1v: DFF<Bit>,
    f1d: DFF<Bits<BUS>>,
    f1r: DFF<Bits<RESP_BITS>>,
    f1l: DFF<Bit>,
    err_q: DFF<Bit>,

    mem_beat: Signal<Local, Bits<WORD_BEAT_BITS>>,
    w_addr: Signal<Local, Bits<BANK_ADDR_BITS>>,
    r_addr: Signal<Local, Bits<BANK_ADDR_BITS>>,
    bridge_w: Signal<Local, Bit>,
    bridge_r: Signal<Local, Bit>,
    wready: Signal<Local, Bit>,
    w_fire: Signal<Local, Bit>,
    w_in: Signal<Local, Bit>,
    w_last: Signal<Local, Bit>,
    s0: Signal<Local, Bits<4>>,
    s1: Signal<Local, Bits<4>>,
    s2: Signal<Local, Bits<4>>,
    s3: Signal<Local, Bits<4>>,
    partial: Signal<Local, Bit>,
    w_beat_resp: Signal<Local, Bits<RESP_BITS>>,
    axi_we: Signal<Local, Bit>,
    r_in: Signal<Local, Bit>,
    room: Signal<Local, Bit>,
    r_coll: Signal<Local, Bit>,
    r_issue: Signal<Local, Bit>,
    pop: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
    ram_word: Signal<Local, Bits<BUS>>,
    in_word: Signal<Local, Bits<BUS>>,
    // The ignored offset bits of AxADDR (the first beat of an unaligned burst is the aligned
    // beat, as AXI defines it; the DMA aligns anyway). Verilator's lint skips `unused*`.
    unused_ar_lo: Signal<Local, Bits<4>>,
    unused_aw_lo: Signal<Local, Bits<4>>,

    k_mem_beats: Constant<Bits<BEAT_ADDR_BITS>>,
    k_one_beat: Constant<Bits<BEAT_ADDR_BITS>>,
    k_one8: Constant<Bits<8>>,
    k_size: Constant<Bits<3>>,
    k_incr: Constant<Bits<2>>,
    k_slverr: Constant<Bits<RESP_BITS>>,
    k_decerr: Constant<Bits<RESP_BITS>>,
    k_full: Constant<Bits<4>>,
    k_lane1: Constant<Bits<2>>,
    k_lane2: Constant<Bits<2>>,
    k_lane3: Constant<Bits<2>>,
    k_sh32: Constant<Bits<8>>,
    k_sh64: Constant<Bits<8>>,
    k_sh96: Constant<Bits<8>>,
    k_true: Constant<Bit>,
}

impl BoardMem {
    /// The memory, [`MEM_BYTES`] of it, contents zero in simulation (unspecified on the board:
    /// ECP5 block RAM starts at zero, but a reset does not clear it).
    pub fn new() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            s_axi_araddr: Default::default(),
            s_axi_arlen: Default::default(),
            s_axi_arsize: Default::default(),
            s_axi_arburst: Default::default(),
            s_axi_arvalid: Default::default(),
            s_axi_arready: Default::default(),
            s_axi_rdata: Default::default(),
            s_axi_rresp: Default::default(),
            s_axi_rlast: Default::default(),
            s_axi_rvalid: Default::default(),
            s_axi_rready: Default::default(),
            s_axi_awaddr: Default::default(),
            s_axi_awlen: Default::default(),
            s_axi_awsize: Default::default(),
            s_axi_awburst: Default::default(),
            s_axi_awvalid: Default::default(),
            s_axi_awready: Default::default(),
            s_axi_wdata: Default::default(),
            s_axi_wstrb: Default::default(),
            s_axi_wlast: Default::default(),
            s_axi_wvalid: Default::default(),
            s_axi_wready: Default::default(),
            s_axi_bresp: Default::default(),
            s_axi_bvalid: Default::default(),
            s_axi_bready: Default::default(),
            mem_valid: Default::default(),
            mem_write: Default::default(),
            mem_addr: Default::default(),
            mem_wdata: Default::default(),
            mem_ready: Default::default(),
            mem_rvalid: Default::default(),
            mem_rdata: Default::default(),
            error: Default::default(),
            lane0: BankRam::new(LANE_ADDR_BITS),
            lane1: BankRam::new(LANE_ADDR_BITS),
            lane2: BankRam::new(LANE_ADDR_BITS),
            lane3: BankRam::new(LANE_ADDR_BITS),
            bq_v: Default::default(),
            bq_write: Default::default(),
            bq_beat: Default::default(),
            bq_lane: Default::default(),
            bq_wdata: Default::default(),
            br_q: Default::default(),
            br_lane: Default::default(),
            w_active: Default::default(),
            w_beat: Default::default(),
            w_left: Default::default(),
            w_bad: Default::default(),
            w_resp: Default::default(),
            bv: Default::default(),
            b_resp: Default::default(),
            r_active: Default::default(),
            r_beat: Default::default(),
            r_left: Default::default(),
            r_bad: Default::default(),
            rd_q: Default::default(),
            rd_resp: Default::default(),
            rd_last: Default::default(),
            f0v: Default::default(),
            f0d: Default::default(),
            f0r: Default::default(),
            f0l: Default::default(),
            f1v: Default::default(),
            f1d: Default::default(),
            f1r: Default::default(),
            f1l: Default::default(),
            err_q: Default::default(),
            mem_beat: Default::default(),
            w_addr: Default::default(),
            r_addr: Default::default(),
            bridge_w: Default::default(),
            bridge_r: Default::default(),
            wready: Default::default(),
            w_fire: Default::default(),
            w_in: Default::default(),
            w_last: Default::default(),
            s0: Default::default(),
            s1: Default::default(),
            s2: Default::default(),
            s3: Default::default(),
            partial: Default::default(),
            w_beat_resp: Default::default(),
            axi_we: Default::default(),
            r_in: Default::default(),
            room: Default::default(),
            r_coll: Default::default(),
            r_issue: Default::default(),
            pop: Default::default(),
            push: Default::default(),
            ram_word: Default::default(),
            in_word: Default::default(),
            unused_ar_lo: Default::default(),
            unused_aw_lo: Default::default(),
            k_mem_beats: const_bits(MEM_BEATS as u64),
            k_one_beat: const_bits(1),
            k_one8: const_bits(1),
            k_size: const_bits(AXI_SIZE),
            k_incr: const_bits(AXI_BURST_INCR),
            k_slverr: const_bits(AxiResp::SlvErr.code()),
            k_decerr: const_bits(AxiResp::DecErr.code()),
            k_full: const_bits(0xf),
            k_lane1: const_bits(1),
            k_lane2: const_bits(2),
            k_lane3: const_bits(3),
            k_sh32: const_bits(32),
            k_sh64: const_bits(64),
            k_sh96: const_bits(96),
            k_true: const_bit(true),
        }
    }
}

impl Default for BoardMem {
    fn default() -> Self {
        Self::new()
    }
}

impl Logic for BoardMem {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, bq_v, bq_write, bq_beat, bq_lane, bq_wdata, br_q, br_lane, w_active, w_beat, w_left, w_bad,
            w_resp, bv, b_resp, r_active, r_beat, r_left, r_bad, rd_q, rd_resp, rd_last, f0v, f0d, f0r, f0l, f1v, f1d,
            f1r, f1l, err_q
        );
        self.lane0.clock.next = self.clock.val();
        self.lane1.clock.next = self.clock.val();
        self.lane2.clock.next = self.clock.val();
        self.lane3.clock.next = self.clock.val();

        // ---- bridge: taken every cycle, executed the next one with priority
        self.mem_ready.next = self.k_true.val();
        self.mem_beat.next = self.mem_addr.val().get_bits::<WORD_BEAT_BITS>(2);
        self.bq_v.d.next = self.mem_valid.val();
        self.bq_write.d.next = self.mem_write.val();
        self.bq_beat.d.next = bit_cast::<BANK_ADDR_BITS, WORD_BEAT_BITS>(self.mem_beat.val());
        self.bq_lane.d.next = self.mem_addr.val().get_bits::<2>(0);
        self.bq_wdata.d.next = self.mem_wdata.val();
        self.bridge_w.next = self.bq_v.q.val() & self.bq_write.q.val();
        self.bridge_r.next = self.bq_v.q.val() & !self.bq_write.q.val();
        self.br_q.d.next = self.bridge_r.val();
        self.br_lane.d.next = self.bq_lane.q.val();
        self.mem_rvalid.next = self.br_q.q.val();
        self.mem_rdata.next = self.lane0.read_data.val();
        if self.br_lane.q.val() == self.k_lane1.val() {
            self.mem_rdata.next = self.lane1.read_data.val();
        }
        if self.br_lane.q.val() == self.k_lane2.val() {
            self.mem_rdata.next = self.lane2.read_data.val();
        }
        if self.br_lane.q.val() == self.k_lane3.val() {
            self.mem_rdata.next = self.lane3.read_data.val();
        }

        // ---- write channel
        self.w_addr.next = bit_cast::<BANK_ADDR_BITS, BEAT_ADDR_BITS>(self.w_beat.q.val());
        self.s_axi_awready.next = !self.w_active.q.val() & !self.bv.q.val();
        if self.s_axi_awvalid.val() & !self.w_active.q.val() & !self.bv.q.val() {
            self.w_active.d.next = true;
            self.w_beat.d.next = self.s_axi_awaddr.val().get_bits::<BEAT_ADDR_BITS>(4);
            self.w_left.d.next = self.s_axi_awlen.val();
            self.w_bad.d.next =
                (self.s_axi_awsize.val() != self.k_size.val()) | (self.s_axi_awburst.val() != self.k_incr.val());
            self.w_resp.d.next = 0.into();
        }
        // A bridge write takes the write port; a bridge read of this beat must not meet it.
        self.wready.next = self.w_active.q.val()
            & !self.bridge_w.val()
            & !(self.bridge_r.val() & (self.bq_beat.q.val() == self.w_addr.val()));
        self.s_axi_wready.next = self.wready.val();
        self.w_fire.next = self.wready.val() & self.s_axi_wvalid.val();
        self.w_in.next = self.w_beat.q.val() < self.k_mem_beats.val();
        self.w_last.next = !self.w_left.q.val().any();
        self.s0.next = self.s_axi_wstrb.val().get_bits::<4>(0);
        self.s1.next = self.s_axi_wstrb.val().get_bits::<4>(4);
        self.s2.next = self.s_axi_wstrb.val().get_bits::<4>(8);
        self.s3.next = self.s_axi_wstrb.val().get_bits::<4>(12);
        self.partial.next = (self.s0.val().any() & (self.s0.val() != self.k_full.val()))
            | (self.s1.val().any() & (self.s1.val() != self.k_full.val()))
            | (self.s2.val().any() & (self.s2.val() != self.k_full.val()))
            | (self.s3.val().any() & (self.s3.val() != self.k_full.val()));
        self.w_beat_resp.next = 0.into();
        if self.w_bad.q.val() | self.partial.val() | (self.s_axi_wlast.val() != self.w_last.val()) {
            self.w_beat_resp.next = self.k_slverr.val();
        }
        // DECERR (0b11) covers SLVERR's bit: an out-of-range beat is DECERR whatever else.
        if !self.w_in.val() {
            self.w_beat_resp.next = self.k_decerr.val();
        }
        self.axi_we.next = self.w_fire.val() & self.w_in.val() & !self.w_bad.q.val();
        if self.w_fire.val() {
            self.w_beat.d.next = self.w_beat.q.val() + self.k_one_beat.val();
            self.w_left.d.next = self.w_left.q.val() - self.k_one8.val();
            self.w_resp.d.next = self.w_resp.q.val() | self.w_beat_resp.val();
            if self.w_last.val() {
                self.w_active.d.next = false;
                self.bv.d.next = true;
                self.b_resp.d.next = self.w_resp.q.val() | self.w_beat_resp.val();
            }
        }
        if self.bv.q.val() & self.s_axi_bready.val() {
            self.bv.d.next = false;
        }
        self.s_axi_bvalid.next = self.bv.q.val();
        self.s_axi_bresp.next = self.b_resp.q.val();

        // ---- the write port: the bridge's word, or the AXI beat's full lanes
        self.lane0.write_data.next = self.s_axi_wdata.val().get_bits::<32>(0);
        self.lane1.write_data.next = self.s_axi_wdata.val().get_bits::<32>(32);
        self.lane2.write_data.next = self.s_axi_wdata.val().get_bits::<32>(64);
        self.lane3.write_data.next = self.s_axi_wdata.val().get_bits::<32>(96);
        self.lane0.write_address.next = self.w_addr.val();
        self.lane1.write_address.next = self.w_addr.val();
        self.lane2.write_address.next = self.w_addr.val();
        self.lane3.write_address.next = self.w_addr.val();
        self.lane0.write_enable.next = self.axi_we.val() & (self.s0.val() == self.k_full.val());
        self.lane1.write_enable.next = self.axi_we.val() & (self.s1.val() == self.k_full.val());
        self.lane2.write_enable.next = self.axi_we.val() & (self.s2.val() == self.k_full.val());
        self.lane3.write_enable.next = self.axi_we.val() & (self.s3.val() == self.k_full.val());
        if self.bridge_w.val() {
            self.lane0.write_data.next = self.bq_wdata.q.val();
            self.lane1.write_data.next = self.bq_wdata.q.val();
            self.lane2.write_data.next = self.bq_wdata.q.val();
            self.lane3.write_data.next = self.bq_wdata.q.val();
            self.lane0.write_address.next = self.bq_beat.q.val();
            self.lane1.write_address.next = self.bq_beat.q.val();
            self.lane2.write_address.next = self.bq_beat.q.val();
            self.lane3.write_address.next = self.bq_beat.q.val();
            self.lane0.write_enable.next = !self.bq_lane.q.val().any();
            self.lane1.write_enable.next = self.bq_lane.q.val() == self.k_lane1.val();
            self.lane2.write_enable.next = self.bq_lane.q.val() == self.k_lane2.val();
            self.lane3.write_enable.next = self.bq_lane.q.val() == self.k_lane3.val();
        }

        // ---- read channel
        self.r_addr.next = bit_cast::<BANK_ADDR_BITS, BEAT_ADDR_BITS>(self.r_beat.q.val());
        self.s_axi_arready.next = !self.r_active.q.val();
        self.r_in.next = self.r_beat.q.val() < self.k_mem_beats.val();
        self.pop.next = self.f0v.q.val() & self.s_axi_rready.val();
        // Room for the beat issued now when it lands next cycle (queue of two, one in flight).
        self.room.next = !self.f0v.q.val();
        if self.f0v.q.val() & self.f1v.q.val() {
            self.room.next = !self.rd_q.q.val() & self.pop.val();
        }
        if self.f0v.q.val() & !self.f1v.q.val() {
            self.room.next = !self.rd_q.q.val() | self.pop.val();
        }
        self.r_coll.next = (self.axi_we.val() & (self.w_addr.val() == self.r_addr.val()))
            | (self.bridge_w.val() & (self.bq_beat.q.val() == self.r_addr.val()));
        self.r_issue.next = self.r_active.q.val() & self.room.val() & !self.bridge_r.val() & !self.r_coll.val();
        self.rd_q.d.next = self.r_issue.val();
        if self.r_issue.val() {
            self.r_beat.d.next = self.r_beat.q.val() + self.k_one_beat.val();
            self.r_left.d.next = self.r_left.q.val() - self.k_one8.val();
            self.rd_last.d.next = !self.r_left.q.val().any();
            self.rd_resp.d.next = 0.into();
            if self.r_bad.q.val() {
                self.rd_resp.d.next = self.k_slverr.val();
            }
            if !self.r_in.val() {
                self.rd_resp.d.next = self.k_decerr.val();
            }
            if !self.r_left.q.val().any() {
                self.r_active.d.next = false;
            }
        }
        if self.s_axi_arvalid.val() & !self.r_active.q.val() {
            self.r_active.d.next = true;
            self.r_beat.d.next = self.s_axi_araddr.val().get_bits::<BEAT_ADDR_BITS>(4);
            self.r_left.d.next = self.s_axi_arlen.val();
            self.r_bad.d.next =
                (self.s_axi_arsize.val() != self.k_size.val()) | (self.s_axi_arburst.val() != self.k_incr.val());
        }
        // The read port: the bridge's word, or the AXI beat.
        self.lane0.read_address.next = self.r_addr.val();
        self.lane1.read_address.next = self.r_addr.val();
        self.lane2.read_address.next = self.r_addr.val();
        self.lane3.read_address.next = self.r_addr.val();
        if self.bridge_r.val() {
            self.lane0.read_address.next = self.bq_beat.q.val();
            self.lane1.read_address.next = self.bq_beat.q.val();
            self.lane2.read_address.next = self.bq_beat.q.val();
            self.lane3.read_address.next = self.bq_beat.q.val();
        }

        // ---- the R queue
        self.ram_word.next = (bit_cast::<BUS, 32>(self.lane3.read_data.val()) << self.k_sh96.val())
            | (bit_cast::<BUS, 32>(self.lane2.read_data.val()) << self.k_sh64.val())
            | (bit_cast::<BUS, 32>(self.lane1.read_data.val()) << self.k_sh32.val())
            | bit_cast::<BUS, 32>(self.lane0.read_data.val());
        self.in_word.next = self.ram_word.val();
        if self.rd_resp.q.val().any() {
            self.in_word.next = 0.into();
        }
        self.push.next = self.rd_q.q.val();
        if self.pop.val() {
            if self.f1v.q.val() {
                self.f0d.d.next = self.f1d.q.val();
                self.f0r.d.next = self.f1r.q.val();
                self.f0l.d.next = self.f1l.q.val();
                if self.push.val() {
                    self.f1d.d.next = self.in_word.val();
                    self.f1r.d.next = self.rd_resp.q.val();
                    self.f1l.d.next = self.rd_last.q.val();
                } else {
                    self.f1v.d.next = false;
                }
            } else if self.push.val() {
                self.f0d.d.next = self.in_word.val();
                self.f0r.d.next = self.rd_resp.q.val();
                self.f0l.d.next = self.rd_last.q.val();
            } else {
                self.f0v.d.next = false;
            }
        } else if self.push.val() {
            if self.f0v.q.val() {
                self.f1v.d.next = true;
                self.f1d.d.next = self.in_word.val();
                self.f1r.d.next = self.rd_resp.q.val();
                self.f1l.d.next = self.rd_last.q.val();
            } else {
                self.f0v.d.next = true;
                self.f0d.d.next = self.in_word.val();
                self.f0r.d.next = self.rd_resp.q.val();
                self.f0l.d.next = self.rd_last.q.val();
            }
        }
        self.s_axi_rvalid.next = self.f0v.q.val();
        self.s_axi_rdata.next = self.f0d.q.val();
        self.s_axi_rresp.next = self.f0r.q.val();
        self.s_axi_rlast.next = self.f0l.q.val();

        self.err_q.d.next = (self.bv.q.val() & self.s_axi_bready.val() & self.b_resp.q.val().any())
            | (self.pop.val() & self.f0r.q.val().any());
        self.error.next = self.err_q.q.val();
        self.unused_ar_lo.next = self.s_axi_araddr.val().get_bits::<4>(0);
        self.unused_aw_lo.next = self.s_axi_awaddr.val().get_bits::<4>(0);

        if self.reset.val() {
            self.bq_v.d.next = false;
            self.br_q.d.next = false;
            self.w_active.d.next = false;
            self.bv.d.next = false;
            self.r_active.d.next = false;
            self.rd_q.d.next = false;
            self.f0v.d.next = false;
            self.f1v.d.next = false;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
