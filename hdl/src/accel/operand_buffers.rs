//! The operand buffers: one A bank per row, one W bank and one scale bank per column (layouts
//! in [`super::layout`]), the routing of incoming read-DMA beats into them, and the operand
//! words the skewed reads return.
//!
//! Routing: an A block arrives row by row (`kbq` beats per row, row i into bank i); a W stripe
//! column by column within each tile (column c's `kbq` beats into bank c, then the next tile
//! `kbq` beats further on); a stripe's scales one beat per tile, 16 bits per column.
//!
//! An A or W bank's write (address, data, enable) is registered beside the bank and lands a
//! cycle after its beat: one write bus drove every bank across the chip, a shared address mux
//! and the read DMA's data register behind it (npe4x4: `wbank ← r_j` −0.39 ns and `← rdma.dv_q`
//! −0.71 ns; npe8x8le8: `abank`/`wbank ← r_wb`, 8 endpoints). A load's last write still lands
//! before anyone reads it: its bank counts as full a cycle after the read DMA's `done`, which
//! itself comes a cycle after the last beat.

use crate::axi::ReadBeatIn;
use crate::copy_dff::CopyDff;
use crate::many;
use crate::spec::block_scale::BS_ENTRY_BITS;
use crate::spec::config::AXI_DATA_BITS;
use crate::spec::OPERAND_BITS;
use rust_hdl::prelude::*;

use super::bank_ram::{BankRam, BANK_ADDR_BITS};
use super::layout::BankLayout;
use super::sequencer::OFF_BITS;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;
/// Operand word width as a type-level width.
const WORD: usize = OPERAND_BITS as usize;
/// Bits per column scale in a scale beat (sign-extended 8-bit values).
pub const SCALE_WORD_BITS: usize = 16;

/// The operand buffers (see the module docs).
#[derive(LogicBlock)]
pub struct OperandBuffers {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// The read DMA's beats.
    pub rd: ReadBeatIn,
    /// The beats are weights.
    pub to_w: Signal<In, Bit>,
    /// The beats are column scales.
    pub to_s: Signal<In, Bit>,
    /// A weight load starts (one-cycle pulse).
    pub route_w: Signal<In, Bit>,
    /// A scale load starts (one-cycle pulse).
    pub route_s: Signal<In, Bit>,
    /// An activation load starts (one-cycle pulse).
    pub route_a: Signal<In, Bit>,
    /// Stripe number (mod 4) being loaded.
    pub ld_sp: Signal<In, Bits<2>>,
    /// A half being loaded.
    pub ld_half: Signal<In, Bit>,
    /// Beats per operand row.
    pub kbq: Signal<In, Bits<16>>,
    /// Row r's A read address.
    pub a_raddr: Vec<Signal<In, Bits<BANK_ADDR_BITS>>>,
    /// Row r's word offset in the beat read two cycles ago.
    pub a_off: Vec<Signal<In, Bits<OFF_BITS>>>,
    /// Column c's W read address.
    pub w_raddr: Vec<Signal<In, Bits<BANK_ADDR_BITS>>>,
    /// Column c's word offset in the beat read two cycles ago.
    pub w_off: Vec<Signal<In, Bits<OFF_BITS>>>,
    /// Column c's scale read address.
    pub s_raddr: Vec<Signal<In, Bits<BANK_ADDR_BITS>>>,
    /// Row r's activation word.
    pub a_word: Vec<Signal<Out, Bits<WORD>>>,
    /// Column c's weight word.
    pub w_word: Vec<Signal<Out, Bits<WORD>>>,
    /// Column c's scale word.
    pub scale: Vec<Signal<Out, Bits<SCALE_WORD_BITS>>>,
    /// Block-scaled arrays only (one entry, else none): the beats are block scales.
    pub to_bs: Vec<Signal<In, Bit>>,
    /// Block-scaled only (one entry): a block-scale load starts (one-cycle pulse).
    pub route_bs: Vec<Signal<In, Bit>>,
    /// Block-scaled only (one entry): the block-scale read address, at column 0's time.
    pub bs_raddr: Vec<Signal<In, Bits<BANK_ADDR_BITS>>>,
    /// Block-scaled only (one entry): bit offset of the block's codes in the line read two
    /// cycles ago.
    pub bs_off: Vec<Signal<In, Bits<OFF_BITS>>>,
    /// Block-scaled only (one per column): column c's block entry (scale code and selector,
    /// [`BS_ENTRY_BITS`]), c cycles after column 0's (with the column's weight word).
    pub bs_code: Vec<Signal<Out, Bits<BS_ENTRY_BITS>>>,
    /// A weight tile's last beat is written this cycle (one-cycle pulse): the tile's words are
    /// in its W bank from the next cycle on.
    pub w_tile: Signal<Out, Bit>,
    // The route pulses, a cycle late: the loader's handshake logic and the buffers' counters sit
    // far apart on the chip (npe4x4's critical path, 14.4 ns). A load's first beat comes at
    // least three cycles after its pulse (the strided read's Setup and Issue, then the DMA).
    route_w_q: DFF<Bit>,
    route_s_q: DFF<Bit>,
    route_a_q: DFF<Bit>,
    r_j: DFF<Bits<16>>,
    // `kbq − 1`, registered: `kbq` is a job constant, and the subtraction before the row-end
    // compare was npe4x4's critical path (12.7 ns to `r_idx`).
    kbq_m1: DFF<Bits<16>>,
    // `kbq − 2`, and "`r_j` is the row's last beat" (`r_j = kbq − 1`) as a register: kept
    // from the counter's next value (`r_j + 1 = kbq − 1` is `r_j = kbq − 2`), so the row-end
    // decision in front of the stripe's tile counter and the bank selects waits for no compare
    // (npe4x4: −0.55 ns to `r_hit`).
    kbq_m2: DFF<Bits<16>>,
    r_jlast: DFF<Bit>,
    // A beat that is not / is the row's last; the W tile's last row (`r_idx` = cols − 1).
    step: Signal<Local, Bit>,
    row_end: Signal<Local, Bit>,
    tile_end: Signal<Local, Bit>,
    // The next W tile's base, `r_tbase + kbq`.
    tb_tile: Signal<Local, Bits<16>>,
    // `r_hit` moves to bank 0 / to the next bank.
    hit_first: Signal<Local, Bit>,
    hit_next: Signal<Local, Bit>,
    k2_16: Constant<Bits<16>>,
    r_idx: DFF<Bits<8>>,
    r_tbase: DFF<Bits<16>>,
    // The write counters' next values; beside them, two registers the bank ports read: the W
    // write address `r_tbase + r_j` and, per bank, "the beat is this bank's" (`r_idx` equal to
    // its index). Computed behind the counters, the adder and the compare were the slowest paths
    // into the block RAMs (npe4x4: 27 endpoints to −0.66 ns, 4 to −1.05 ns).
    j_nx: Signal<Local, Bits<16>>,
    idx_nx: Signal<Local, Bits<8>>,
    tb_nx: Signal<Local, Bits<16>>,
    r_wb: DFF<Bits<16>>,
    r_hit: Vec<DFF<Bit>>,
    r_s: DFF<Bits<16>>,
    r_addr: Signal<Local, Bits<16>>,
    s_waddr: Signal<Local, Bits<16>>,
    // The beat's last flag: the routing counts beats itself.
    unused_rd_last: Signal<Local, Bit>,
    abank: Vec<BankRam<Bits<BUS>>>,
    wbank: Vec<BankRam<Bits<BUS>>>,
    // Each A and W bank's read data, registered next to the RAM: the word select and the route
    // to the array come a cycle later (the DP16KD's 5.8 ns clock-to-out, then 4.7 ns of routing
    // and the select, was npe4x4's critical path).
    a_rq: Vec<DFF<Bits<BUS>>>,
    w_rq: Vec<DFF<Bits<BUS>>>,
    // Each A and W bank's write, registered beside it (see the module docs); the address and
    // data are [`CopyDff`]s, since as plain registers with one input they would be merged back
    // into one.
    a_wa: Vec<CopyDff<Bits<BANK_ADDR_BITS>>>,
    a_wd: Vec<CopyDff<Bits<BUS>>>,
    a_we: Vec<DFF<Bit>>,
    w_wa: Vec<CopyDff<Bits<BANK_ADDR_BITS>>>,
    w_wd: Vec<CopyDff<Bits<BUS>>>,
    w_we: Vec<DFF<Bit>>,
    sbank: Vec<BankRam<Bits<SCALE_WORD_BITS>>>,
    // Block-scaled only: the block-scale bank (lines of `blocks_per_line(C)` blocks' entries), its read data
    // registered beside it, the block's codes shifted down, and the skew that gives column c
    // its code c cycles late.
    bsbank: Vec<BankRam<Bits<BUS>>>,
    bs_rq: Vec<DFF<Bits<BUS>>>,
    bs_sel: Vec<Signal<Local, Bits<BUS>>>,
    bs_sk: Vec<DFF<Bits<BUS>>>,
    r_bs: Vec<DFF<Bits<16>>>,
    route_bs_q: Vec<DFF<Bit>>,
    to_bs_l: Signal<Local, Bit>,
    code_at: Vec<Constant<Bits<32>>>,
    // A skew stage's codes of the columns before its own are not read again.
    unused_sk: Vec<Signal<Local, Bits<BUS>>>,
    _b1: usize,
    _bcols: usize,
    _bsk: usize,
    sbyte: Vec<Constant<Bits<32>>>,
    _rows: usize,
    _cols: usize,
    _hits: usize,
    k1_16: Constant<Bits<16>>,
    k1_8: Constant<Bits<8>>,
    k_cols_m1: Constant<Bits<32>>,
    k_ahalf: Constant<Bits<16>>,
    k_whalf: Constant<Bits<16>>,
    k_sp: Constant<Bits<16>>,
    k_bshalf: Vec<Constant<Bits<16>>>,
}

impl OperandBuffers {
    /// The buffers of a `rows` × `cols` array with bank layout `layout`.
    pub fn new(rows: usize, cols: usize, layout: &BankLayout, block: bool) -> Self {
        assert!(cols * SCALE_WORD_BITS <= BUS, "a tile's column scales fit one beat");
        assert!(!block || 8 * cols <= BUS, "a block's codes fit one line");
        let (b1, bcols) = if block { (1, cols) } else { (0, 0) };
        Self {
            clock: Default::default(),
            rd: Default::default(),
            unused_rd_last: Default::default(),
            to_w: Default::default(),
            to_s: Default::default(),
            route_w: Default::default(),
            route_s: Default::default(),
            route_a: Default::default(),
            ld_sp: Default::default(),
            ld_half: Default::default(),
            kbq: Default::default(),
            a_raddr: many(rows),
            a_off: many(rows),
            w_raddr: many(cols),
            w_off: many(cols),
            s_raddr: many(cols),
            a_word: many(rows),
            w_word: many(cols),
            scale: many(cols),
            route_w_q: Default::default(),
            route_s_q: Default::default(),
            route_a_q: Default::default(),
            r_j: Default::default(),
            kbq_m1: Default::default(),
            kbq_m2: Default::default(),
            r_jlast: Default::default(),
            step: Default::default(),
            row_end: Default::default(),
            tile_end: Default::default(),
            tb_tile: Default::default(),
            hit_first: Default::default(),
            hit_next: Default::default(),
            k2_16: Constant::new(2.into()),
            r_idx: Default::default(),
            r_tbase: Default::default(),
            j_nx: Default::default(),
            idx_nx: Default::default(),
            tb_nx: Default::default(),
            r_wb: Default::default(),
            r_hit: many(rows.max(cols)),
            r_s: Default::default(),
            r_addr: Default::default(),
            s_waddr: Default::default(),
            abank: (0..rows).map(|_| BankRam::new(layout.a_bits())).collect(),
            wbank: (0..cols).map(|_| BankRam::new(layout.w_bits)).collect(),
            a_rq: many(rows),
            w_rq: many(cols),
            a_wa: many(rows),
            a_wd: many(rows),
            a_we: many(rows),
            w_wa: many(cols),
            w_wd: many(cols),
            w_we: many(cols),
            sbank: (0..cols).map(|_| BankRam::new(layout.s_bits())).collect(),
            to_bs: many(b1),
            route_bs: many(b1),
            bs_raddr: many(b1),
            bs_off: many(b1),
            bs_code: many(bcols),
            w_tile: Default::default(),
            bsbank: (0..b1).map(|_| BankRam::new(layout.bs_bits())).collect(),
            bs_rq: many(b1),
            bs_sel: many(b1),
            bs_sk: many(bcols.saturating_sub(1)),
            r_bs: many(b1),
            route_bs_q: many(b1),
            to_bs_l: Default::default(),
            code_at: (1..bcols)
                .map(|c| Constant::new(((BS_ENTRY_BITS * c) as u64).into()))
                .collect(),
            unused_sk: many(bcols.saturating_sub(1)),
            _b1: b1,
            _bcols: bcols,
            _bsk: bcols.saturating_sub(1),
            sbyte: (0..cols)
                .map(|i| Constant::new(((SCALE_WORD_BITS * i) as u64).into()))
                .collect(),
            _rows: rows,
            _cols: cols,
            _hits: rows.max(cols),
            k1_16: Constant::new(1.into()),
            k1_8: Constant::new(1.into()),
            k_cols_m1: Constant::new(((cols - 1) as u64).into()),
            k_ahalf: Constant::new(layout.a_half().into()),
            k_whalf: Constant::new(layout.w_half().into()),
            k_sp: Constant::new(layout.s_sp_shift().into()),
            k_bshalf: (0..b1).map(|_| Constant::new(layout.bs_half().into())).collect(),
        }
    }
}

impl Logic for OperandBuffers {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, route_w_q, route_s_q, route_a_q, r_j, kbq_m1, kbq_m2, r_jlast, r_idx, r_tbase, r_wb, r_s
        );
        self.j_nx.next = self.r_j.q.val();
        self.idx_nx.next = self.r_idx.q.val();
        self.tb_nx.next = self.r_tbase.q.val();
        self.kbq_m1.d.next = self.kbq.val() - self.k1_16.val();
        self.kbq_m2.d.next = self.kbq.val() - self.k2_16.val();
        self.route_w_q.d.next = self.route_w.val();
        self.route_s_q.d.next = self.route_s.val();
        self.route_a_q.d.next = self.route_a.val();
        self.unused_rd_last.next = self.rd.last.val();
        for i in 0..self._rows {
            self.abank[i].clock.next = self.clock.val();
        }
        for i in 0..self._cols {
            self.wbank[i].clock.next = self.clock.val();
            self.sbank[i].clock.next = self.clock.val();
        }
        if self.route_w_q.q.val() {
            self.j_nx.next = 0.into();
            self.idx_nx.next = 0.into();
            self.tb_nx.next = 0.into();
        }
        if self.route_s_q.q.val() {
            self.r_s.d.next = 0.into();
        }
        // Block scales: the stripe's run of lines, in order, into its half.
        self.to_bs_l.next = false;
        for i in 0..self._b1 {
            self.to_bs_l.next = self.to_bs[i].val();
            self.bsbank[i].clock.next = self.clock.val();
            self.bs_rq[i].clock.next = self.clock.val();
            self.r_bs[i].clock.next = self.clock.val();
            self.route_bs_q[i].clock.next = self.clock.val();
            self.route_bs_q[i].d.next = self.route_bs[i].val();
            self.r_bs[i].d.next = self.r_bs[i].q.val();
            if self.route_bs_q[i].q.val() {
                self.r_bs[i].d.next = 0.into();
            }
            self.bsbank[i].write_address.next = self.r_bs[i].q.val();
            if self.ld_sp.val().get_bit(0) {
                self.bsbank[i].write_address.next = self.r_bs[i].q.val() | self.k_bshalf[i].val();
            }
            self.bsbank[i].write_data.next = self.rd.data.val();
            self.bsbank[i].write_enable.next = self.rd.valid.val() & self.to_bs[i].val();
            if self.rd.valid.val() & self.to_bs[i].val() {
                self.r_bs[i].d.next = self.r_bs[i].q.val() + self.k1_16.val();
            }
            self.bsbank[i].read_address.next = self.bs_raddr[i].val();
            self.bs_rq[i].d.next = self.bsbank[i].read_data.val();
            self.bs_sel[i].next = self.bs_rq[i].q.val() >> self.bs_off[i].val();
        }
        // bs_sk[j] holds the block's codes j + 1 cycles late.
        for j in 0..self._bsk {
            self.bs_sk[j].clock.next = self.clock.val();
        }
        for j in 1..self._bsk {
            self.bs_sk[j].d.next = self.bs_sk[j - 1].q.val();
        }
        for j in 0..self._bsk {
            self.unused_sk[j].next = self.bs_sk[j].q.val();
        }
        for c in 1..self._bcols {
            self.bs_code[c].next = self.bs_sk[c - 1]
                .q
                .val()
                .get_bits::<BS_ENTRY_BITS>(self.code_at[c - 1].val().index());
        }
        for i in 0..self._b1 {
            self.bs_sk[0].d.next = self.bs_sel[i].val();
            self.bs_code[0].next = self.bs_sel[i].val().get_bits::<BS_ENTRY_BITS>(0);
        }
        if self.route_a_q.q.val() {
            self.j_nx.next = 0.into();
            self.idx_nx.next = 0.into();
        }

        // ---- write side: W column-major within the stripe, A row by row
        self.r_addr.next = self.r_wb.q.val();
        if self.ld_sp.val().get_bit(0) {
            self.r_addr.next = self.r_wb.q.val() | self.k_whalf.val();
        }
        if !self.to_w.val() {
            self.r_addr.next = self.r_j.q.val();
            if self.ld_half.val() {
                self.r_addr.next = self.r_j.q.val() | self.k_ahalf.val();
            }
        }
        for i in 0..self._rows {
            self.a_wa[i].clock.next = self.clock.val();
            self.a_wd[i].clock.next = self.clock.val();
            self.a_we[i].clock.next = self.clock.val();
            self.a_wa[i].d.next = self.r_addr.val();
            self.a_wd[i].d.next = self.rd.data.val();
            self.a_we[i].d.next =
                self.rd.valid.val() & !self.to_w.val() & !self.to_s.val() & !self.to_bs_l.val() & self.r_hit[i].q.val();
            self.abank[i].write_address.next = self.a_wa[i].q.val();
            self.abank[i].write_data.next = self.a_wd[i].q.val();
            self.abank[i].write_enable.next = self.a_we[i].q.val();
        }
        for i in 0..self._cols {
            self.w_wa[i].clock.next = self.clock.val();
            self.w_wd[i].clock.next = self.clock.val();
            self.w_we[i].clock.next = self.clock.val();
            self.w_wa[i].d.next = self.r_addr.val();
            self.w_wd[i].d.next = self.rd.data.val();
            self.w_we[i].d.next = self.rd.valid.val() & self.to_w.val() & self.r_hit[i].q.val();
            self.wbank[i].write_address.next = self.w_wa[i].q.val();
            self.wbank[i].write_data.next = self.w_wd[i].q.val();
            self.wbank[i].write_enable.next = self.w_we[i].q.val();
        }
        self.s_waddr.next = self.r_s.q.val() | (bit_cast::<16, 2>(self.ld_sp.val()) << self.k_sp.val());
        for i in 0..self._cols {
            self.sbank[i].write_address.next = self.s_waddr.val();
            self.sbank[i].write_data.next = self
                .rd
                .data
                .val()
                .get_bits::<SCALE_WORD_BITS>(self.sbyte[i].val().index());
            self.sbank[i].write_enable.next = self.rd.valid.val() & self.to_s.val();
        }
        if self.rd.valid.val() & self.to_s.val() {
            self.r_s.d.next = self.r_s.q.val() + self.k1_16.val();
        }
        self.w_tile.next = false;
        self.tile_end.next = self.to_w.val() & (bit_cast::<32, 8>(self.r_idx.q.val()) == self.k_cols_m1.val());
        self.tb_tile.next = self.r_tbase.q.val() + self.kbq.val();
        if self.rd.valid.val() {
            if self.r_jlast.q.val() {
                self.j_nx.next = 0.into();
                if self.tile_end.val() {
                    self.w_tile.next = true;
                    self.idx_nx.next = 0.into();
                    self.tb_nx.next = self.tb_tile.val();
                } else {
                    self.idx_nx.next = self.r_idx.q.val() + self.k1_8.val();
                }
            } else {
                self.j_nx.next = self.r_j.q.val() + self.k1_16.val();
            }
        }
        self.r_j.d.next = self.j_nx.val();
        self.r_idx.d.next = self.idx_nx.val();
        self.r_tbase.d.next = self.tb_nx.val();
        // The registers the bank ports read, each chosen by how the counters move, among
        // values computed from registers alone: behind the counters' next values, the beat's
        // valid (from the read DMA, across the chip) went through their muxes and then an adder
        // or a compare (npe4x4: 13 endpoints to −0.76 ns). A load's route pulse and its first
        // beat never meet (see `route_w_q`).
        self.step.next = self.rd.valid.val() & !self.r_jlast.q.val();
        self.row_end.next = self.rd.valid.val() & self.r_jlast.q.val();
        // `r_j` is the row's last beat: for the next `r_j` of 0, `r_j + 1`, or `r_j`.
        self.r_jlast.d.next = self.r_j.q.val() == self.kbq_m1.q.val();
        if self.route_w_q.q.val() | self.route_a_q.q.val() | self.row_end.val() {
            self.r_jlast.d.next = !self.kbq_m1.q.val().any();
        }
        if self.step.val() {
            self.r_jlast.d.next = self.r_j.q.val() == self.kbq_m2.q.val();
        }
        // `r_tbase + r_j`.
        self.r_wb.d.next = self.r_wb.q.val();
        if self.route_a_q.q.val() {
            self.r_wb.d.next = self.r_tbase.q.val();
        }
        if self.route_w_q.q.val() {
            self.r_wb.d.next = 0.into();
        }
        if self.step.val() {
            self.r_wb.d.next = self.r_wb.q.val() + self.k1_16.val();
        }
        if self.row_end.val() {
            self.r_wb.d.next = self.r_tbase.q.val();
            if self.tile_end.val() {
                self.r_wb.d.next = self.tb_tile.val();
            }
        }
        // One-hot `r_idx`: bank 0 after a route or a tile's end, the next bank after a row's
        // end (a block has at most `_hits` rows, so `r_idx` never wraps), else held.
        self.hit_first.next = self.route_w_q.q.val() | self.route_a_q.q.val();
        self.hit_next.next = false;
        if self.row_end.val() {
            self.hit_first.next = self.tile_end.val();
            self.hit_next.next = !self.tile_end.val();
        }
        for i in 0..self._hits {
            self.r_hit[i].clock.next = self.clock.val();
            self.r_hit[i].d.next = self.r_hit[i].q.val();
            if self.hit_first.val() | self.hit_next.val() {
                self.r_hit[i].d.next = false;
            }
        }
        if self.hit_first.val() {
            self.r_hit[0].d.next = true;
        }
        for i in 1..self._hits {
            if self.hit_next.val() {
                self.r_hit[i].d.next = self.r_hit[i - 1].q.val();
            }
        }

        // ---- read side: the bank's beat, registered beside the RAM, then the word the skew
        // asked for
        for i in 0..self._rows {
            self.abank[i].read_address.next = self.a_raddr[i].val();
            self.a_rq[i].clock.next = self.clock.val();
            self.a_rq[i].d.next = self.abank[i].read_data.val();
            self.a_word[i].next = self.a_rq[i].q.val().get_bits::<WORD>(self.a_off[i].val().index());
        }
        for i in 0..self._cols {
            self.wbank[i].read_address.next = self.w_raddr[i].val();
            self.w_rq[i].clock.next = self.clock.val();
            self.w_rq[i].d.next = self.wbank[i].read_data.val();
            self.w_word[i].next = self.w_rq[i].q.val().get_bits::<WORD>(self.w_off[i].val().index());
            self.sbank[i].read_address.next = self.s_raddr[i].val();
            self.scale[i].next = self.sbank[i].read_data.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, settle};
    use crate::spec::NpeConfig;

    /// A beat whose 16-bit word j is `tag * 16 + j`.
    fn beat(tag: u64) -> Bits<BUS> {
        let mut b = Bits::<BUS>::default();
        for j in 0..8 {
            b = b | (bit_cast::<BUS, 16>(bits::<16>(tag * 16 + j)) << (16 * j));
        }
        b
    }

    /// Sends one beat per cycle; returns the beats (0-based) on which `w_tile` pulsed.
    fn send(b: &mut OperandBuffers, tags: impl IntoIterator<Item = u64>) -> Vec<usize> {
        let mut tiles = Vec::new();
        for (i, t) in tags.into_iter().enumerate() {
            b.rd.valid.next = true;
            b.rd.data.next = beat(t);
            settle(b);
            if b.w_tile.val() {
                tiles.push(i);
            }
            cycle(b);
        }
        b.rd.valid.next = false;
        tiles
    }

    /// Reads (A row r or W column c) address `addr`, word `word` of the beat.
    fn read(b: &mut OperandBuffers, a: Option<usize>, w: Option<usize>, addr: u64, word: u64) -> u64 {
        for r in 0..4 {
            b.a_raddr[r].next = bits(addr);
            b.a_off[r].next = bits(16 * word);
            b.w_raddr[r].next = bits(addr);
            b.w_off[r].next = bits(16 * word);
        }
        // The bank's registered read, then the buffers' register of its data.
        cycle(b);
        cycle(b);
        match (a, w) {
            (Some(r), _) => b.a_word[r].val().to_u64(),
            (_, Some(c)) => b.w_word[c].val().to_u64(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn beats_are_routed_row_by_row_and_column_by_column() {
        let l = BankLayout::of(&NpeConfig::TEST).unwrap();
        let mut b = OperandBuffers::new(4, 4, &l, false);
        b.connect_all();
        b.kbq.next = bits(2);
        // An A block of 4 rows × 2 beats into half 1.
        b.ld_half.next = true;
        b.route_a.next = true;
        cycle(&mut b);
        b.route_a.next = false;
        cycle(&mut b); // the buffers see the pulse a cycle late
        assert_eq!(
            send(&mut b, 10..18),
            Vec::<usize>::new(),
            "activations end no weight tile"
        );
        // Row 2's second beat is tag 15, at half 1's address 1.
        assert_eq!(read(&mut b, Some(2), None, l.a_half() + 1, 3), 15 * 16 + 3);
        assert_eq!(read(&mut b, Some(0), None, l.a_half(), 0), 10 * 16);
        // A stripe of 2 tiles × 4 columns × 2 beats into W half 1 (stripe 1).
        b.to_w.next = true;
        b.ld_sp.next = bits(1);
        b.route_w.next = true;
        cycle(&mut b);
        b.route_w.next = false;
        cycle(&mut b); // the buffers see the pulse a cycle late
                       // Each tile's last beat (4 columns × 2 beats) says the tile is in.
        assert_eq!(send(&mut b, 20..36), vec![7, 15]);
        // Tile 1, column 3, beat 0 is the 15th beat (tag 34), at half + kbq.
        assert_eq!(read(&mut b, None, Some(3), l.w_half() + 2, 7), 34 * 16 + 7);
        assert_eq!(read(&mut b, None, Some(1), l.w_half() + 1, 0), 23 * 16);
        // The A half was not touched.
        assert_eq!(read(&mut b, Some(2), None, l.a_half() + 1, 3), 15 * 16 + 3);
    }

    #[test]
    fn a_scale_beat_fills_every_column() {
        let l = BankLayout::of(&NpeConfig::TEST).unwrap();
        let mut b = OperandBuffers::new(4, 4, &l, false);
        b.connect_all();
        b.to_s.next = true;
        b.ld_sp.next = bits(2);
        b.route_s.next = true;
        cycle(&mut b);
        b.route_s.next = false;
        cycle(&mut b); // the buffers see the pulse a cycle late
        assert_eq!(send(&mut b, [5, 6]), Vec::<usize>::new());
        // Stripe 2, tile 1: column c holds word c of the second beat.
        for c in 0..4 {
            b.s_raddr[c].next = bits((2 << l.s_sp_shift()) + 1);
        }
        cycle(&mut b);
        for c in 0..4 {
            assert_eq!(b.scale[c].val().to_u64(), 6 * 16 + c as u64);
        }
    }
}
