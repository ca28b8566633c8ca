//! The systolic array: R×C PE slots, the edge decoders (one per row for the activations, one
//! per column for the weights), the registers that move decoded activations (with the beat's
//! flags) right and decoded weights down one PE per cycle, and the finish flags. Which PE and
//! decoder the slots instantiate is the preset's [`Datapath`].
//!
//! Each operand word is registered twice where it enters (so the buffers' read data need not
//! cross the chip in the same cycle as the decode, nor in one cycle to the decoder), decoded once
//! on its way into the edge register of its row or column (the decoders have a register stage
//! of their own, [`crate::decode::DECODE_LATENCY`]; the row's flags wait out all four) and from
//! there into the first PE's systolic register, and the PEs are MAC pipes only: a systolic
//! register plays the stand-alone PE's input register (PE(r,c) sees a beat one cycle after the
//! stand-alone PE's MAC pipe would: the edge register). The lane mode (from the job's two
//! formats) is computed once and registered for the whole array.
//!
//! A block-scaled array's weight columns also take BitMoD's data types: each column's
//! [`BitmodLanes`] rewrites the codes for its decoder and gives the lanes of the −0 code the
//! special value of the type the block's selector (in the column's block entry) picks.
//!
//! The `last` flag travels with the activations; delayed by the MAC latency it marks the one
//! cycle in which PE(r,c)'s accumulator holds its finished sum. PEs of a column finish on
//! consecutive cycles (row r one cycle after row r − 1), which the output stage relies on.

use crate::decode::format_decode::{FMT_BITS, FMT_IDS};
use crate::decode::lane_mode::id_mask;
use crate::decode::scale_decode::SCALE_CODE_BITS;
use crate::decode::{BitIndex, BitmodLanes};
use crate::decode::{LaneMode, ScaleDecode, DECODE_LATENCY};
use crate::many;
use crate::pe::DEQUANT_LEN_BITS;
use crate::pe::{FIXED8, FIXED8_POINT};
use crate::spec::block_scale::{BS_ENTRY_BITS, SELECTOR_AT, SELECTOR_BITS};
use crate::spec::block_scale::{SCALE_KIND_BITS, SCALE_Q_BITS, SCALE_SHIFT_BITS};
use crate::spec::config::NpeConfig;
use crate::spec::Format;
use crate::spec::OPERAND_BITS;
use rust_hdl::prelude::*;

use super::datapath::Datapath;
use super::slots::{BlockPeSlot, DecodeSlot, PeSlot};
use crate::copy_dff::CopyDff;

/// Operand word width as a type-level width.
const WORD: usize = OPERAND_BITS as usize;

/// Clock edges from an operand word at an edge decoder's input to its decoded word at the input
/// of the first PE's systolic register: the decoder's stage ([`DECODE_LATENCY`]) and the two
/// edge registers.
pub const EDGE_LATENCY: usize = DECODE_LATENCY + 2;

/// The systolic array (see the module docs) of PEs on `LW`-bit decoded words into `ACC_W`-bit
/// accumulators. Per-PE vectors are indexed r·C + c.
#[derive(LogicBlock)]
pub struct SystolicArray<const LW: usize, const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Activation format id.
    pub a_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Weight format id.
    pub w_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Row r's activation word (into PE(r,0) next cycle).
    pub a_in: Vec<Signal<In, Bits<WORD>>>,
    /// Row r's beat flags: bit 0 valid, 1 first (clear), 2 last.
    pub flags_in: Vec<Signal<In, Bits<3>>>,
    /// Column c's weight word (into PE(0,c) next cycle).
    pub w_in: Vec<Signal<In, Bits<WORD>>>,
    /// Block-scaled datapath only (empty otherwise): row r's beat ends a weight block.
    pub bend_in: Vec<Signal<In, Bit>>,
    /// Block-scaled only: column c's entry (scale code and BitMoD selector,
    /// [`BS_ENTRY_BITS`]) of the block whose word `w_in` carries.
    pub s_in: Vec<Signal<In, Bits<BS_ENTRY_BITS>>>,
    /// Block-scaled only (one entry): the job's scale kind ([`crate::spec::block_scale::ScaleCode::id`]).
    pub s_kind: Vec<Signal<In, Bits<SCALE_KIND_BITS>>>,
    /// Block-scaled only (one entry): E8M0 scales, the code of the window's lowest exponent.
    pub s_base: Vec<Signal<In, Bits<SCALE_CODE_BITS>>>,
    /// PE(r,c)'s accumulator holds its finished sum.
    pub fin: Vec<Signal<Out, Bit>>,
    /// PE accumulators.
    pub acc: Vec<Signal<Out, Bits<ACC_W>>>,
    /// PE NaN flags.
    pub nan: Vec<Signal<Out, Bit>>,
    /// PE +Inf flags.
    pub pinf: Vec<Signal<Out, Bit>>,
    /// PE −Inf flags.
    pub ninf: Vec<Signal<Out, Bit>>,
    /// Block-scaled only: PE(r,c) saw a block too short to scale in time (sticky).
    pub overrun: Vec<Signal<Out, Bit>>,
    mode: LaneMode,
    ok: DFF<Bit>,
    lanes4: DFF<Bit>,
    lanes2: DFF<Bit>,
    adec: Vec<DecodeSlot<LW>>,
    wdec: Vec<DecodeSlot<LW>>,
    // The operand codes and flags are registered where they enter (the buffers' read data
    // crossed the chip to the decoders in one cycle: 26 ns in npe4x4's first place and route).
    ain: Vec<DFF<Bits<WORD>>>,
    win: Vec<DFF<Bits<WORD>>>,
    fin_q: Vec<DFF<Bits<3>>>,
    // And a second time before their decoders: the input registers sit by the buffers, the
    // decoders by the PEs (npe4x4 at 77.0 MHz: `win` → 4.7 ns of routing → the posit stage).
    ain2: Vec<DFF<Bits<WORD>>>,
    win2: Vec<DFF<Bits<WORD>>>,
    fin_q2: Vec<DFF<Bits<3>>>,
    // The decoded words are registered at the edge (`aedge`, `wedge`) before the first PE's
    // systolic register: behind the decoders' second stage, the route from each edge decoder to
    // its row's or column's first PE held npe4x4 under 100 MHz (8 endpoints to −0.55 ns). And
    // once before that, by the decoder (`aedge0`, `wedge0`): the lane packing gathers from the
    // four lane decoders, and its last LUTs sat by the edge register, a 3.5 ns route from the
    // decoders (`aedge ← d1.int4.sign`: 14 endpoints, −1.02 ns in `b72511b`'s run).
    aedge0: Vec<DFF<Bits<LW>>>,
    wedge0: Vec<DFF<Bits<LW>>>,
    aedge: Vec<DFF<Bits<LW>>>,
    wedge: Vec<DFF<Bits<LW>>>,
    // A row's flags wait out its decoder's register stage and the edge registers
    // ([`EDGE_LATENCY`] = 3).
    fdly: Vec<DFF<Bits<3>>>,
    fdly2: Vec<DFF<Bits<3>>>,
    fdly3: Vec<DFF<Bits<3>>>,
    areg: Vec<DFF<Bits<LW>>>,
    freg: Vec<DFF<Bits<3>>>,
    // The lane mode (ok, lanes4, lanes2) moves right with the activations, a copy per PE:
    // one register driving every PE's lane masks was a chip-wide net (npe4x4: 62.9 MHz).
    // The formats are job constants set long before the first beat, so the delay is free.
    // [`CopyDff`]s: as plain registers, each column's copies (same input) were merged into one.
    m_ok: Vec<CopyDff<Bit>>,
    m_l4: Vec<CopyDff<Bit>>,
    m_l2: Vec<CopyDff<Bit>>,
    // And a copy for each edge decoder (rows `a_`, columns `w_`): the one mode register drove
    // every decoder's lane-code select (npe4x4: −1.29 ns into posit8's first stage).
    a_l4: Vec<CopyDff<Bit>>,
    a_l2: Vec<CopyDff<Bit>>,
    w_l4: Vec<CopyDff<Bit>>,
    w_l2: Vec<CopyDff<Bit>>,
    // And the format ids: the decoders' table and select logic of one shared format register
    // was merged into one copy and routed to every decoder (npe8x8le8: −0.60 ns from the job
    // plan's FMT into row 5's table address, 3 ns of it one route across the array).
    a_fmtq: Vec<CopyDff<Bits<FMT_BITS>>>,
    w_fmtq: Vec<CopyDff<Bits<FMT_BITS>>>,
    wreg: Vec<DFF<Bits<LW>>>,
    lastd: Vec<DFF<Bit>>,
    finc: Vec<DFF<Bit>>,
    // The last column passes no flags on.
    unused_last: Vec<Signal<Local, Bit>>,
    pes: Vec<PeSlot<LW, ACC_W>>,
    // Block-scaled only. The block-end flag takes the path of the row's flags, the scale code
    // that of the column's weights; the code waits out the weight decoder's stage and the edge
    // registers in three more input registers (`sq3`–`sq5`), is decoded once at the column's edge
    // on its way into row 0's scale registers, and its fields move down with the decoded weights.
    bq: Vec<DFF<Bit>>,
    bq2: Vec<DFF<Bit>>,
    bdly: Vec<DFF<Bit>>,
    bdly2: Vec<DFF<Bit>>,
    bdly3: Vec<DFF<Bit>>,
    breg: Vec<DFF<Bit>>,
    sq: Vec<DFF<Bits<BS_ENTRY_BITS>>>,
    sq2: Vec<DFF<Bits<BS_ENTRY_BITS>>>,
    sq3: Vec<DFF<Bits<SCALE_CODE_BITS>>>,
    sq4: Vec<DFF<Bits<SCALE_CODE_BITS>>>,
    sq5: Vec<DFF<Bits<SCALE_CODE_BITS>>>,
    // BitMoD weights (block-scaled only): the job's W format is a 4-bit or a 3-bit BitMoD type
    // (registered, a job constant); each column's codes are rewritten for the decoder, which
    // then decodes FP4 E2M1, and its lanes of the −0 code take the special of the block's
    // selector (with the weight word in `sq2`).
    bm4: Vec<DFF<Bit>>,
    bm3: Vec<DFF<Bit>>,
    bml: Vec<BitmodLanes<LW>>,
    k_bm4: Vec<Constant<Bits<FMT_IDS>>>,
    k_bm3: Vec<Constant<Bits<FMT_IDS>>>,
    k_fp4: Vec<Constant<Bits<FMT_BITS>>>,
    k_sel_at: Vec<Constant<BitIndex>>,
    unused_entry: Vec<Signal<Local, Bits<BS_ENTRY_BITS>>>,
    sdec: Vec<ScaleDecode>,
    s_q: Vec<DFF<Bits<SCALE_Q_BITS>>>,
    s_len: Vec<DFF<Bits<DEQUANT_LEN_BITS>>>,
    s_neg: Vec<DFF<Bit>>,
    s_nan: Vec<DFF<Bit>>,
    s_sh: Vec<DFF<Bits<SCALE_SHIFT_BITS>>>,
    bpes: Vec<BlockPeSlot<LW, ACC_W>>,
    // PEs of the MAC-pipe kind (`pes`, finished by the `last` flag's delay line) and of the
    // block-scaled kind (`bpes`, which say when they are done): one of the two is R×C.
    _npe: usize,
    _nbpe: usize,
    _b1: usize,
    _brows: usize,
    _bcols: usize,
    _frows: usize,
    _rows: usize,
    _cols: usize,
    // The MAC pipe's latency.
    _lat: usize,
}

impl<const LW: usize, const ACC_W: usize> SystolicArray<LW, ACC_W> {
    /// The array of `cfg` (its shape and format set), built from datapath `dp`'s modules.
    pub fn new(cfg: &NpeConfig, dp: Datapath) -> Self {
        let (rows, cols) = (cfg.rows as usize, cfg.cols as usize);
        assert!(rows >= 1 && cols >= 2, "array shape");
        let n = rows * cols;
        let lat = dp.mac_latency();
        let block = dp.block_scaled();
        // Sizes of the vectors only one kind of datapath has.
        let (bn, br, bc, bone) = if block { (n, rows, cols, 1) } else { (0, 0, 0, 0) };
        let (fnn, fr) = if block { (0, 0) } else { (n, rows) };
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            a_in: many(rows),
            flags_in: many(rows),
            w_in: many(cols),
            bend_in: many(br),
            s_in: many(bc),
            s_kind: many(bone),
            s_base: many(bone),
            overrun: many(bn),
            fin: many(n),
            acc: many(n),
            nan: many(n),
            pinf: many(n),
            ninf: many(n),
            mode: LaneMode::with_formats(cfg.format_set),
            ok: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            adec: (0..rows).map(|_| DecodeSlot::new(dp.decoder_module())).collect(),
            wdec: (0..cols).map(|_| DecodeSlot::new(dp.decoder_module())).collect(),
            ain: many(rows),
            win: many(cols),
            fin_q: many(rows),
            ain2: many(rows),
            win2: many(cols),
            fin_q2: many(rows),
            aedge0: many(rows),
            wedge0: many(cols),
            aedge: many(rows),
            wedge: many(cols),
            fdly: many(rows),
            fdly2: many(rows),
            fdly3: many(rows),
            areg: many(n),
            freg: many(n),
            m_ok: many(n),
            m_l4: many(n),
            m_l2: many(n),
            a_l4: many(rows),
            a_l2: many(rows),
            w_l4: many(cols),
            w_l2: many(cols),
            a_fmtq: many(rows),
            w_fmtq: many(cols),
            wreg: many(n),
            lastd: many(fr * lat),
            finc: many(fr * (cols - 1)),
            unused_last: many(rows),
            pes: (0..fnn).map(|_| PeSlot::new(dp.pe_module())).collect(),
            bq: many(br),
            bq2: many(br),
            bdly: many(br),
            bdly2: many(br),
            bdly3: many(br),
            breg: many(bn),
            sq: many(bc),
            sq2: many(bc),
            sq3: many(bc),
            sq4: many(bc),
            sq5: many(bc),
            bm4: many(bone),
            bm3: many(bone),
            bml: (0..bc).map(|_| BitmodLanes::new(FIXED8.word, FIXED8_POINT)).collect(),
            k_bm4: (0..bone).map(|_| id_mask(&Format::BITMOD, |f| f.bits() == 4)).collect(),
            k_bm3: (0..bone).map(|_| id_mask(&Format::BITMOD, |f| f.bits() == 3)).collect(),
            k_fp4: (0..bone)
                .map(|_| Constant::new((Format::Fp4E2M1.id() as u64).into()))
                .collect(),
            k_sel_at: (0..bone).map(|_| Constant::new((SELECTOR_AT as u64).into())).collect(),
            unused_entry: many(bc),
            sdec: (0..bc).map(|_| ScaleDecode::default()).collect(),
            s_q: many(bn),
            s_len: many(bn),
            s_neg: many(bn),
            s_nan: many(bn),
            s_sh: many(bn),
            bpes: (0..bn).map(|_| BlockPeSlot::new(dp.pe_module())).collect(),
            _npe: fnn,
            _nbpe: bn,
            _b1: bone,
            _brows: br,
            _bcols: bc,
            _frows: fr,
            _rows: rows,
            _cols: cols,
            _lat: lat,
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for SystolicArray<LW, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        // The shape and the PE latency enter the index arithmetic as one-value loops
        // (rust-hdl evaluates indices from loop variables only).
        for nc in self._cols..(self._cols + 1) {
            for lat in self._lat..(self._lat + 1) {
                for r in 0..self._rows {
                    for c in 0..self._cols {
                        self.areg[r * nc + c].clock.next = self.clock.val();
                        self.freg[r * nc + c].clock.next = self.clock.val();
                        self.m_ok[r * nc + c].clock.next = self.clock.val();
                        self.m_l4[r * nc + c].clock.next = self.clock.val();
                        self.m_l2[r * nc + c].clock.next = self.clock.val();
                        self.wreg[r * nc + c].clock.next = self.clock.val();
                    }
                    self.fdly[r].clock.next = self.clock.val();
                    self.fdly2[r].clock.next = self.clock.val();
                    self.fdly3[r].clock.next = self.clock.val();
                    self.aedge0[r].clock.next = self.clock.val();
                    self.aedge[r].clock.next = self.clock.val();
                    self.fin_q[r].clock.next = self.clock.val();
                    self.fin_q2[r].clock.next = self.clock.val();
                    self.ain[r].clock.next = self.clock.val();
                    self.ain2[r].clock.next = self.clock.val();
                    self.adec[r].clock.next = self.clock.val();
                }
                for r in 0..self._frows {
                    for c in 0..self._cols {
                        self.pes[r * nc + c].clock.next = self.clock.val();
                        self.pes[r * nc + c].reset.next = self.reset.val();
                    }
                    for j in 0..self._lat {
                        self.lastd[r * lat + j].clock.next = self.clock.val();
                    }
                    for c in 1..self._cols {
                        self.finc[r * (nc - 1) + c - 1].clock.next = self.clock.val();
                    }
                }
                for r in 0..self._brows {
                    for c in 0..self._cols {
                        self.bpes[r * nc + c].clock.next = self.clock.val();
                        self.bpes[r * nc + c].reset.next = self.reset.val();
                        self.breg[r * nc + c].clock.next = self.clock.val();
                        self.s_q[r * nc + c].clock.next = self.clock.val();
                        self.s_len[r * nc + c].clock.next = self.clock.val();
                        self.s_neg[r * nc + c].clock.next = self.clock.val();
                        self.s_nan[r * nc + c].clock.next = self.clock.val();
                        self.s_sh[r * nc + c].clock.next = self.clock.val();
                    }
                    self.bq[r].clock.next = self.clock.val();
                    self.bq2[r].clock.next = self.clock.val();
                    self.bdly[r].clock.next = self.clock.val();
                    self.bdly2[r].clock.next = self.clock.val();
                    self.bdly3[r].clock.next = self.clock.val();
                }
                for c in 0..self._bcols {
                    self.sq[c].clock.next = self.clock.val();
                    self.sq2[c].clock.next = self.clock.val();
                    self.sq3[c].clock.next = self.clock.val();
                    self.sq4[c].clock.next = self.clock.val();
                    self.sq5[c].clock.next = self.clock.val();
                    self.bml[c].clock.next = self.clock.val();
                }
                for i in 0..self._b1 {
                    self.bm4[i].clock.next = self.clock.val();
                    self.bm3[i].clock.next = self.clock.val();
                }

                // One lane mode for the array (the formats are job constants).
                self.ok.clock.next = self.clock.val();
                self.lanes4.clock.next = self.clock.val();
                self.lanes2.clock.next = self.clock.val();
                self.mode.a_fmt.next = self.a_fmt.val();
                self.mode.w_fmt.next = self.w_fmt.val();
                self.ok.d.next = self.mode.ok.val();
                self.lanes4.d.next = self.mode.lanes4.val();
                self.lanes2.d.next = self.mode.lanes2.val();

                // Operand words are decoded on their way into the first register of their row
                // or column.
                for r in 0..self._rows {
                    self.a_fmtq[r].clock.next = self.clock.val();
                    self.a_fmtq[r].d.next = self.a_fmt.val();
                    self.adec[r].fmt.next = self.a_fmtq[r].q.val();
                    self.ain[r].d.next = self.a_in[r].val();
                    self.ain2[r].d.next = self.ain[r].q.val();
                    self.adec[r].code.next = self.ain2[r].q.val();
                    self.a_l4[r].clock.next = self.clock.val();
                    self.a_l2[r].clock.next = self.clock.val();
                    self.a_l4[r].d.next = self.lanes4.q.val();
                    self.a_l2[r].d.next = self.lanes2.q.val();
                    self.adec[r].lanes4.next = self.a_l4[r].q.val();
                    self.adec[r].lanes2.next = self.a_l2[r].q.val();
                }
                for c in 0..self._cols {
                    self.win[c].clock.next = self.clock.val();
                    self.win[c].d.next = self.w_in[c].val();
                    self.win2[c].clock.next = self.clock.val();
                    self.win2[c].d.next = self.win[c].q.val();
                    self.wdec[c].clock.next = self.clock.val();
                    self.w_fmtq[c].clock.next = self.clock.val();
                    self.w_fmtq[c].d.next = self.w_fmt.val();
                    self.wdec[c].fmt.next = self.w_fmtq[c].q.val();
                    self.wdec[c].code.next = self.win2[c].q.val();
                    self.w_l4[c].clock.next = self.clock.val();
                    self.w_l2[c].clock.next = self.clock.val();
                    self.w_l4[c].d.next = self.lanes4.q.val();
                    self.w_l2[c].d.next = self.lanes2.q.val();
                    self.wdec[c].lanes4.next = self.w_l4[c].q.val();
                    self.wdec[c].lanes2.next = self.w_l2[c].q.val();
                }

                // Activations and flags move right, weights down.
                for r in 0..self._rows {
                    self.aedge0[r].d.next = self.adec[r].word.val();
                    self.aedge[r].d.next = self.aedge0[r].q.val();
                    self.areg[r * nc].d.next = self.aedge[r].q.val();
                    self.fin_q[r].d.next = self.flags_in[r].val();
                    self.fin_q2[r].d.next = self.fin_q[r].q.val();
                    self.fdly[r].d.next = self.fin_q2[r].q.val();
                    self.fdly2[r].d.next = self.fdly[r].q.val();
                    self.fdly3[r].d.next = self.fdly2[r].q.val();
                    self.freg[r * nc].d.next = self.fdly3[r].q.val();
                    self.m_ok[r * nc].d.next = self.ok.q.val();
                    self.m_l4[r * nc].d.next = self.lanes4.q.val();
                    self.m_l2[r * nc].d.next = self.lanes2.q.val();
                    for c in 1..self._cols {
                        self.areg[r * nc + c].d.next = self.areg[r * nc + c - 1].q.val();
                        self.freg[r * nc + c].d.next = self.freg[r * nc + c - 1].q.val();
                        self.m_ok[r * nc + c].d.next = self.m_ok[r * nc + c - 1].q.val();
                        self.m_l4[r * nc + c].d.next = self.m_l4[r * nc + c - 1].q.val();
                        self.m_l2[r * nc + c].d.next = self.m_l2[r * nc + c - 1].q.val();
                    }
                    self.unused_last[r].next = self.freg[r * nc + nc - 1].q.val().get_bit(2);
                    if self.reset.val() {
                        self.fin_q[r].d.next = 0.into();
                        self.fin_q2[r].d.next = 0.into();
                        self.fdly[r].d.next = 0.into();
                        self.fdly2[r].d.next = 0.into();
                        self.fdly3[r].d.next = 0.into();
                    }
                }
                for c in 0..self._cols {
                    self.wedge0[c].clock.next = self.clock.val();
                    self.wedge[c].clock.next = self.clock.val();
                    self.wedge0[c].d.next = self.wdec[c].word.val();
                    self.wedge[c].d.next = self.wedge0[c].q.val();
                    self.wreg[c].d.next = self.wedge[c].q.val();
                }
                // Block-scaled arrays: BitMoD weights around the column decoders.
                for i in 0..self._b1 {
                    self.bm4[i].d.next = self.k_bm4[i].val().get_bit(self.w_fmt.val().index());
                    self.bm3[i].d.next = self.k_bm3[i].val().get_bit(self.w_fmt.val().index());
                    for c in 0..self._bcols {
                        self.bml[c].code.next = self.win2[c].q.val();
                        self.bml[c].bm4.next = self.bm4[i].q.val();
                        self.bml[c].bm3.next = self.bm3[i].q.val();
                        self.bml[c].lanes4.next = self.w_l4[c].q.val();
                        self.bml[c].sel.next = self.sq2[c]
                            .q
                            .val()
                            .get_bits::<SELECTOR_BITS>(self.k_sel_at[i].val().index());
                        self.bml[c].word.next = self.wdec[c].word.val();
                        self.wdec[c].code.next = self.bml[c].fp4.val();
                        if self.bm4[i].q.val() | self.bm3[i].q.val() {
                            self.wdec[c].fmt.next = self.k_fp4[i].val();
                        }
                        self.wedge0[c].d.next = self.bml[c].out.val();
                    }
                }
                for r in 1..self._rows {
                    for c in 0..self._cols {
                        self.wreg[r * nc + c].d.next = self.wreg[r * nc + c - nc].q.val();
                    }
                }
                // The block-end flag moves right beside the row's flags; the scale's fields
                // move down beside the weights (decoded in the weight decoder's stage).
                for r in 0..self._brows {
                    self.bq[r].d.next = self.bend_in[r].val();
                    self.bq2[r].d.next = self.bq[r].q.val();
                    self.bdly[r].d.next = self.bq2[r].q.val();
                    self.bdly2[r].d.next = self.bdly[r].q.val();
                    self.bdly3[r].d.next = self.bdly2[r].q.val();
                    self.breg[r * nc].d.next = self.bdly3[r].q.val();
                    for c in 1..self._cols {
                        self.breg[r * nc + c].d.next = self.breg[r * nc + c - 1].q.val();
                    }
                    if self.reset.val() {
                        self.bq[r].d.next = false;
                        self.bq2[r].d.next = false;
                        self.bdly[r].d.next = false;
                        self.bdly2[r].d.next = false;
                        self.bdly3[r].d.next = false;
                    }
                }
                for c in 0..self._bcols {
                    self.sq[c].d.next = self.s_in[c].val();
                    self.sq2[c].d.next = self.sq[c].q.val();
                    self.sq3[c].d.next = self.sq2[c].q.val().get_bits::<SCALE_CODE_BITS>(0);
                    self.unused_entry[c].next = self.sq2[c].q.val();
                    self.sq4[c].d.next = self.sq3[c].q.val();
                    self.sq5[c].d.next = self.sq4[c].q.val();
                    self.sdec[c].code.next = self.sq5[c].q.val();
                    self.sdec[c].kind.next = self.s_kind[0].val();
                    self.sdec[c].base.next = self.s_base[0].val();
                    self.s_q[c].d.next = self.sdec[c].q.val();
                    self.s_len[c].d.next = self.sdec[c].len.val();
                    self.s_neg[c].d.next = self.sdec[c].neg.val();
                    // An E8M0 code outside the job's window cannot be placed: its tile is NaN
                    // (the runtime refuses such weights before a job).
                    self.s_nan[c].d.next = self.sdec[c].nan.val() | self.sdec[c].outside.val();
                    self.s_sh[c].d.next = self.sdec[c].shift.val();
                }
                for r in 1..self._brows {
                    for c in 0..self._cols {
                        self.s_q[r * nc + c].d.next = self.s_q[r * nc + c - nc].q.val();
                        self.s_len[r * nc + c].d.next = self.s_len[r * nc + c - nc].q.val();
                        self.s_neg[r * nc + c].d.next = self.s_neg[r * nc + c - nc].q.val();
                        self.s_nan[r * nc + c].d.next = self.s_nan[r * nc + c - nc].q.val();
                        self.s_sh[r * nc + c].d.next = self.s_sh[r * nc + c - nc].q.val();
                    }
                }
                for r in 0..self._brows {
                    for c in 0..self._cols {
                        self.bpes[r * nc + c].ok.next = self.m_ok[r * nc + c].q.val();
                        self.bpes[r * nc + c].lanes4.next = self.m_l4[r * nc + c].q.val();
                        self.bpes[r * nc + c].lanes2.next = self.m_l2[r * nc + c].q.val();
                        self.bpes[r * nc + c].a.next = self.areg[r * nc + c].q.val();
                        self.bpes[r * nc + c].w.next = self.wreg[r * nc + c].q.val();
                        self.bpes[r * nc + c].valid.next = self.freg[r * nc + c].q.val().get_bit(0);
                        self.bpes[r * nc + c].clear.next = self.freg[r * nc + c].q.val().get_bit(1);
                        self.bpes[r * nc + c].last.next = self.freg[r * nc + c].q.val().get_bit(2);
                        self.bpes[r * nc + c].bend.next = self.breg[r * nc + c].q.val();
                        self.bpes[r * nc + c].q.next = self.s_q[r * nc + c].q.val();
                        self.bpes[r * nc + c].len.next = self.s_len[r * nc + c].q.val();
                        self.bpes[r * nc + c].neg.next = self.s_neg[r * nc + c].q.val();
                        self.bpes[r * nc + c].snan.next = self.s_nan[r * nc + c].q.val();
                        self.bpes[r * nc + c].shift.next = self.s_sh[r * nc + c].q.val();
                        self.acc[r * nc + c].next = self.bpes[r * nc + c].acc.val();
                        self.nan[r * nc + c].next = self.bpes[r * nc + c].nan.val();
                        // The fixed-point set has no infinities.
                        self.pinf[r * nc + c].next = false;
                        self.ninf[r * nc + c].next = false;
                        self.fin[r * nc + c].next = self.bpes[r * nc + c].done.val();
                        self.overrun[r * nc + c].next = self.bpes[r * nc + c].overrun.val();
                    }
                }

                for r in 0..self._frows {
                    for c in 0..self._cols {
                        self.pes[r * nc + c].ok.next = self.m_ok[r * nc + c].q.val();
                        self.pes[r * nc + c].lanes4.next = self.m_l4[r * nc + c].q.val();
                        self.pes[r * nc + c].lanes2.next = self.m_l2[r * nc + c].q.val();
                        self.pes[r * nc + c].a.next = self.areg[r * nc + c].q.val();
                        self.pes[r * nc + c].w.next = self.wreg[r * nc + c].q.val();
                        self.pes[r * nc + c].valid.next = self.freg[r * nc + c].q.val().get_bit(0);
                        self.pes[r * nc + c].clear.next = self.freg[r * nc + c].q.val().get_bit(1);
                        self.acc[r * nc + c].next = self.pes[r * nc + c].acc.val();
                        self.nan[r * nc + c].next = self.pes[r * nc + c].nan.val();
                        self.pinf[r * nc + c].next = self.pes[r * nc + c].pinf.val();
                        self.ninf[r * nc + c].next = self.pes[r * nc + c].ninf.val();
                    }
                }

                // PE(r,c) holds its finished sum the MAC latency after its last beat.
                for r in 0..self._frows {
                    self.lastd[r * lat].d.next = self.freg[r * nc].q.val().get_bit(2);
                    for j in 1..self._lat {
                        self.lastd[r * lat + j].d.next = self.lastd[r * lat + j - 1].q.val();
                    }
                    self.fin[r * nc].next = self.lastd[r * lat + lat - 1].q.val();
                    for c in 1..self._cols {
                        self.finc[r * (nc - 1) + c - 1].d.next = self.fin[r * nc + c - 1].val();
                        self.fin[r * nc + c].next = self.finc[r * (nc - 1) + c - 1].q.val();
                    }
                    if self.reset.val() {
                        for j in 0..self._lat {
                            self.lastd[r * lat + j].d.next = false;
                        }
                        for c in 1..self._cols {
                            self.finc[r * (nc - 1) + c - 1].d.next = false;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::datapath::{SHARED_ACC, SHARED_WORD};
    use crate::accel::testbench::cycle;
    use crate::spec::Format;

    /// The decoders are slots (Verilog only): the test stands in for them with a register of
    /// the code (their one stage, [`DECODE_LATENCY`]), so each PE port shows which code reached
    /// it when (behind the edge register: [`EDGE_LATENCY`]). The decoding itself is tested on
    /// its own and through the Verilated tops.
    #[test]
    fn operands_meet_skewed_and_pes_finish_a_column_apart() {
        assert_eq!(DECODE_LATENCY, 1, "the stand-in is one register");
        let cfg = NpeConfig {
            rows: 3,
            cols: 4,
            ..NpeConfig::TEST
        };
        let (rows, cols) = (3, 4);
        let dp = Datapath::of(&cfg).unwrap();
        let mut a = SystolicArray::<SHARED_WORD, SHARED_ACC>::new(&cfg, dp);
        a.connect_all();
        a.a_fmt.next = bits(Format::Int16.id() as u64);
        a.w_fmt.next = bits(Format::Int16.id() as u64);
        a.reset.next = true;
        cycle(&mut a);
        a.reset.next = false;
        // Row r's one-beat tile enters at cycle r (the sequencer's skew), column c's weight
        // at cycle c: after the two input registers, the decoders' stage and the two edge registers,
        // PE(r,c) gets both at cycle r + c + 2 + EDGE_LATENCY.
        let mut seen = vec![None; rows * cols];
        let mut fin = vec![Vec::new(); rows * cols];
        for t in 0..30usize {
            for r in 0..rows {
                a.a_in[r].next = bits(if t == r { 0x100 + r as u64 } else { 0 });
                a.flags_in[r].next = bits(if t == r { 0b111 } else { 0 });
            }
            for c in 0..cols {
                a.w_in[c].next = bits(if t == c { 0x200 + c as u64 } else { 0 });
            }
            let acode: Vec<u64> = a.adec.iter().map(|d| d.code.val().to_u64()).collect();
            let wcode: Vec<u64> = a.wdec.iter().map(|d| d.code.val().to_u64()).collect();
            cycle(&mut a);
            for (d, code) in a.adec.iter_mut().zip(acode).chain(a.wdec.iter_mut().zip(wcode)) {
                d.word.next = bits(code);
            }
            for i in 0..rows * cols {
                if a.pes[i].valid.val() {
                    assert!(a.pes[i].clear.val(), "the first beat clears");
                    assert!(a.pes[i].ok.val() && !a.pes[i].lanes4.val() && !a.pes[i].lanes2.val());
                    seen[i] = Some((t, a.pes[i].a.val().to_u64(), a.pes[i].w.val().to_u64()));
                }
                if a.fin[i].val() {
                    fin[i].push(t);
                }
            }
        }
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                // Activation and weight of the same beat reach PE(r,c) together.
                let (t, av, wv) = seen[i].expect("PE saw its beat");
                assert_eq!((av, wv), (0x100 + r as u64, 0x200 + c as u64), "PE({r},{c})");
                assert_eq!(t, r + c + 2 + EDGE_LATENCY, "PE({r},{c}) beat cycle");
                // One finish flag, the MAC latency after its last (only) beat.
                assert_eq!(fin[i], [t + dp.mac_latency()], "PE({r},{c}) finish");
            }
        }
    }

    /// The block-scaled array: each beat's block-end flag and its column's decoded block scale
    /// reach PE(r,c) with the beat's operands; the finish flags are the PEs' own `done`.
    #[test]
    fn block_ends_and_decoded_scales_meet_their_beats() {
        use crate::accel::datapath::{BLOCK8_ACC, FIXED8_WORD};
        use crate::spec::block_scale::ScaleCode;
        let cfg = NpeConfig {
            rows: 3,
            cols: 4,
            ..crate::emit::BLOCK_ARRAY_CFG
        };
        let (rows, cols) = (3, 4);
        let dp = Datapath::of(&cfg).unwrap();
        assert!(dp.block_scaled());
        let mut a = SystolicArray::<FIXED8_WORD, BLOCK8_ACC>::new(&cfg, dp);
        assert!(a.pes.is_empty() && a.bpes.len() == rows * cols && a.lastd.is_empty());
        a.connect_all();
        a.a_fmt.next = bits(Format::Int8.id() as u64);
        a.w_fmt.next = bits(Format::Fp4E2M1.id() as u64);
        let kind = ScaleCode::E4m3;
        a.s_kind[0].next = bits(kind.id() as u64);
        a.s_base[0].next = bits(0);
        a.reset.next = true;
        cycle(&mut a);
        a.reset.next = false;
        // Two beats per row (at cycles r and r + 1), the first ending a block, the second the
        // tile; column c's two weight words carry scale codes 0x30 + c and 0x48 + c (E4M3:
        // 1.0 × 2^-1 …, and a NaN for the all-ones code in one column).
        let code = |beat: usize, c: usize| -> u8 {
            match (beat, c) {
                (1, 3) => 0x7f,
                (0, _) => 0x30 + c as u8,
                _ => 0x48 + c as u8,
            }
        };
        let mut seen = vec![Vec::new(); rows * cols];
        for t in 0..30usize {
            for r in 0..rows {
                let beat = t.wrapping_sub(r);
                a.a_in[r].next = bits(if beat < 2 { 0x100 + r as u64 } else { 0 });
                a.flags_in[r].next = bits(match beat {
                    0 => 0b011,
                    1 => 0b101,
                    _ => 0,
                });
                a.bend_in[r].next = beat < 2;
            }
            for c in 0..cols {
                let beat = t.wrapping_sub(c);
                a.w_in[c].next = bits(if beat < 2 { 0x200 + c as u64 } else { 0 });
                a.s_in[c].next = bits(if beat < 2 { u64::from(code(beat, c)) } else { 0 });
            }
            let acode: Vec<u64> = a.adec.iter().map(|d| d.code.val().to_u64()).collect();
            let wcode: Vec<u64> = a.wdec.iter().map(|d| d.code.val().to_u64()).collect();
            cycle(&mut a);
            for (d, code) in a.adec.iter_mut().zip(acode).chain(a.wdec.iter_mut().zip(wcode)) {
                d.word.next = bits(code);
            }
            for (p, seen) in a.bpes.iter().zip(seen.iter_mut()) {
                if p.valid.val() {
                    seen.push((
                        t,
                        p.bend.val(),
                        p.clear.val(),
                        p.last.val(),
                        p.q.val().to_u64(),
                        p.len.val().to_u64(),
                        p.snan.val(),
                        p.shift.val().to_u64(),
                        p.w.val().to_u64(),
                    ));
                }
            }
        }
        let window_lo = kind.window_lo(0);
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                let t0 = r + c + 2 + EDGE_LATENCY;
                let want: Vec<_> = (0..2)
                    .map(|beat| {
                        let sc = kind.serial(code(beat, c));
                        let shift = if sc.nan { None } else { ScaleCode::shift(sc, window_lo) };
                        (
                            t0 + beat,
                            true,
                            beat == 0,
                            beat == 1,
                            u64::from(sc.q),
                            kind.q_bits() as u64,
                            sc.nan,
                            shift,
                            0x200 + c as u64,
                        )
                    })
                    .collect();
                assert_eq!(seen[i].len(), 2, "PE({r},{c}) beats");
                for (got, w) in seen[i].iter().zip(&want) {
                    // A NaN scale's integer and shift are not looked at.
                    let scale_ok = w.6 || (got.4, Some(got.7)) == (w.4, w.7.map(u64::from));
                    assert!(
                        (got.0, got.1, got.2, got.3, got.5, got.6, got.8) == (w.0, w.1, w.2, w.3, w.5, w.6, w.8)
                            && scale_ok,
                        "PE({r},{c}): got {got:?}, want {w:?}"
                    );
                }
            }
        }
    }
}
