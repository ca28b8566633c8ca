//! The sequencer (compute engine): for each stripe, for each block of R rows, claims an output
//! half and streams the block's tiles through the array, `period` cycles per tile (K beats, or
//! R·S when K is shorter, so an output unit shared by S columns sees one row per cycle).
//! A stripe's tiles need not wait for the whole stripe: when no scales follow its weights
//! (`w_early`), tile t starts once the core counts t + 1 of its tiles in the W banks.
//!
//! It also skews the bank reads: row r's A-bank read and column c's W-bank read happen r and c
//! cycles after the beat's, so PE(r,c) sees beat k of its row and column together. The word
//! offset and the beat's flags (bit 0 valid, 1 first, 2 last) follow the read by two cycles:
//! the bank's registered read, then the buffers' register of its data.

use crate::many;
use crate::spec::block_scale::{blocks_per_line, BS_ENTRY_BITS};
use crate::spec::config::{AXI_DATA_BITS, WORDS_PER_BEAT};
use crate::spec::OPERAND_BITS;
use rust_hdl::prelude::*;

use super::bank_ram::BANK_ADDR_BITS;
use super::layout::BankLayout;

/// Bits of an operand word's offset in a bus beat.
pub const OFF_BITS: usize = AXI_DATA_BITS.trailing_zeros() as usize;
const _: () = assert!(BANK_ADDR_BITS == 16, "the block-scale address is a 16-bit sum");

/// Sequencer states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Comp {
    /// Nothing to compute.
    Idle,
    /// Waiting for the block's operands and a free output half.
    Wait,
    /// Streaming beats of the block's tiles into the array.
    Beat,
    /// Sizing the next stripe.
    Stripe,
    /// Every block computed.
    Stop,
}

/// The sequencer (see the module docs).
#[derive(LogicBlock)]
pub struct Sequencer {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start the job's first stripe (one-cycle pulse).
    pub start: Signal<In, Bit>,
    /// Forget the job (one-cycle pulse).
    pub stop: Signal<In, Bit>,
    /// The job is being aborted.
    pub abort: Signal<In, Bit>,
    /// The job runs (a wait counts as a stall).
    pub running: Signal<In, Bit>,
    /// Operand words per row.
    pub kb: Signal<In, Bits<32>>,
    /// Beats per operand row.
    pub kbq: Signal<In, Bits<16>>,
    /// Cycles per tile.
    pub period: Signal<In, Bits<16>>,
    /// Row blocks of M.
    pub mblocks: Signal<In, Bits<32>>,
    /// Column tiles of N.
    pub ntiles: Signal<In, Bits<32>>,
    /// Column tiles per stripe.
    pub stripe_tiles: Signal<In, Bits<16>>,
    /// A half 0 / 1 holds a loaded block.
    pub a_full0: Signal<In, Bit>,
    /// See `a_full0`.
    pub a_full1: Signal<In, Bit>,
    /// W half 0 / 1 holds a loaded stripe.
    pub w_full0: Signal<In, Bit>,
    /// See `w_full0`.
    pub w_full1: Signal<In, Bit>,
    /// A stripe's tiles may be computed while its weights still arrive (no column or block
    /// scales follow them): `wt_in` counts the tiles already in.
    pub w_early: Signal<In, Bit>,
    /// Tiles of the weight load in progress (or of the last one) that are in their W banks ...
    pub wt_in: Signal<In, Bits<16>>,
    /// ... and that load's stripe number (mod 4).
    pub wt_sp: Signal<In, Bits<2>>,
    /// Output half 0 / 1 is taken by a block not yet stored.
    pub o_claim0: Signal<In, Bit>,
    /// See `o_claim0`.
    pub o_claim1: Signal<In, Bit>,
    /// The array waited for operands or output space this cycle.
    pub stall: Signal<Out, Bit>,
    /// A block starts: output half `half` is now its (one-cycle pulse) ...
    pub claim: Signal<Out, Bit>,
    /// ... its row block,
    pub claim_m0: Signal<Out, Bits<32>>,
    /// ... its first column tile,
    pub claim_n0: Signal<Out, Bits<32>>,
    /// ... its tiles,
    pub claim_tiles: Signal<Out, Bits<16>>,
    /// ... its stripe number (mod 4),
    pub claim_sp: Signal<Out, Bits<2>>,
    /// ... and whether it is the job's last block: valid the cycle *after* `claim` (it comes
    /// from the registered compares `c_lastb`, `c_lasts`, whose inputs are those of the claim).
    pub claim_last: Signal<Out, Bit>,
    /// A half `half` is computed and free (one-cycle pulse).
    pub a_free: Signal<Out, Bit>,
    /// W half `w_half` is computed and free (one-cycle pulse).
    pub w_free: Signal<Out, Bit>,
    /// The block's A / output half.
    pub half: Signal<Out, Bit>,
    /// The stripe's W-bank half (stripe number's bit 0).
    pub w_half: Signal<Out, Bit>,
    /// Row r's A-bank read address.
    pub a_raddr: Vec<Signal<Out, Bits<BANK_ADDR_BITS>>>,
    /// Row r's word offset in the beat read (with the bank's data).
    pub a_off: Vec<Signal<Out, Bits<OFF_BITS>>>,
    /// Row r's beat flags (with the bank's data).
    pub a_flags: Vec<Signal<Out, Bits<3>>>,
    /// Column c's W-bank read address.
    pub w_raddr: Vec<Signal<Out, Bits<BANK_ADDR_BITS>>>,
    /// Column c's word offset (with the bank's data).
    pub w_off: Vec<Signal<Out, Bits<OFF_BITS>>>,
    /// Block-scaled arrays only (one entry, else none): BLOCK.BEATS_LOG2.
    pub b_log: Vec<Signal<In, Bits<16>>>,
    /// Block-scaled only (one entry): block-scale bank lines per column tile.
    pub bs_tile: Vec<Signal<In, Bits<16>>>,
    /// Block-scaled only (one per row): the beat ends a weight block (with the bank's data).
    pub a_bend: Vec<Signal<Out, Bit>>,
    /// Block-scaled only (one entry): the block-scale bank's read address, at column 0's time.
    pub bs_raddr: Vec<Signal<Out, Bits<BANK_ADDR_BITS>>>,
    /// Block-scaled only (one entry): bit offset of the block's codes in the line (with the
    /// bank's data).
    pub bs_off: Vec<Signal<Out, Bits<OFF_BITS>>>,
    cp: DFF<Comp>,
    c_n0t: DFF<Bits<32>>,
    c_st: DFF<Bits<16>>,
    // `period − 1`, `kb − 1` (job constants) and `c_st − 2` (set in Stripe, compared at a
    // tile's end, a Wait and at least a cycle later), registered: each subtraction before its
    // compare was npe4x4's critical path (`period`: 13.0 ns into `c_sp`).
    period_m1: DFF<Bits<16>>,
    kb_m1: DFF<Bits<32>>,
    c_st_m2: DFF<Bits<16>>,
    c_block: DFF<Bits<32>>,
    c_half: DFF<Bit>,
    c_t: DFF<Bits<16>>,
    c_k: DFF<Bits<16>>,
    c_tbase: DFF<Bits<16>>,
    c_sp: DFF<Bits<2>>,
    // "This row block is the stripe's last" and "this stripe is the job's last", registered:
    // their 32-bit add and compares fed the state update at a block's end (npe4x4 at 79.1 MHz).
    // Both inputs settle in the Stripe and Wait states, cycles before a Beat state ends a block.
    c_lastb: DFF<Bit>,
    c_lasts: DFF<Bit>,
    // "Tile `c_t` is in" for the early start, registered (`wt_in > c_t` behind the state
    // update was npe4x4's worst path, −1.5 ns): `e_cur` compares against this cycle's `c_t`,
    // `e_nxt` against `c_t + 1`, and `c_bumped` says `c_t` has just stepped, so which of the
    // two holds for the `c_t` now. `wt_in` only grows within a load and a new load is for
    // another stripe, so a count a cycle old can only say "not yet" a cycle longer.
    e_cur: DFF<Bit>,
    e_nxt: DFF<Bit>,
    c_bumped: DFF<Bit>,
    // `c_k == period − 1` (the tile's last beat), registered: kept equal to the compare by
    // every update of `c_k` (`period_m2` for the step from `c_k`). The compare fed the block's
    // end and its 32-bit sums (`claim_n0`, −0.7 ns).
    k_end: DFF<Bit>,
    // `c_k == 0`, registered the same way.
    k_zero: DFF<Bit>,
    // `c_t == c_st − 1` (the block's last tile), registered the same way: set in Wait, where
    // `c_t` restarts, and at each tile's end from the `c_t` before the step. The compare fed the
    // block's end (`c_block`, `c_half`, the bank flags: 40 endpoints, −0.78 ns in `b72511b`).
    t_end: DFF<Bit>,
    period_m2: DFF<Bits<16>>,
    w_avail: Signal<Local, Bit>,
    // Tile `c_t` of the stripe is in its W banks (the whole stripe, or its tiles so far).
    t_ready: Signal<Local, Bit>,
    c_left: Signal<Local, Bits<32>>,
    beat_valid: Signal<Local, Bit>,
    beat_first: Signal<Local, Bit>,
    beat_last: Signal<Local, Bit>,
    beat_aaddr: Signal<Local, Bits<16>>,
    beat_waddr: Signal<Local, Bits<16>>,
    beat_off: Signal<Local, Bits<16>>,
    beat_flags: Signal<Local, Bits<3>>,
    // The word offset is below the beat width: the upper bits are zero.
    unused_off: Signal<Local, Bits<16>>,
    ad_addr: Vec<DFF<Bits<BANK_ADDR_BITS>>>,
    ad_off: Vec<DFF<Bits<OFF_BITS>>>,
    ad_flags: Vec<DFF<Bits<3>>>,
    as_off: Vec<DFF<Bits<OFF_BITS>>>,
    as_flags: Vec<DFF<Bits<3>>>,
    // And one more: the buffers register a bank's read data beside the RAM before they pick
    // the word (npe4x4 at 79.9 MHz: a W bank's DP16KD → 4.7 ns of routing → the word select).
    at_off: Vec<DFF<Bits<OFF_BITS>>>,
    at_flags: Vec<DFF<Bits<3>>>,
    wd_addr: Vec<DFF<Bits<BANK_ADDR_BITS>>>,
    wd_off: Vec<DFF<Bits<OFF_BITS>>>,
    ws_off: Vec<DFF<Bits<OFF_BITS>>>,
    wt_off: Vec<DFF<Bits<OFF_BITS>>>,
    // Block-scaled only: the stripe's block-scale lines of the tile (`c_bsbase`), the beat's
    // block end, its skew and read-latency stages (like the flags'), and the block-scale read
    // at column 0's time with its offset's stages (like the W reads').
    c_bsbase: Vec<DFF<Bits<16>>>,
    beat_bend: Vec<Signal<Local, Bit>>,
    beat_blk: Vec<Signal<Local, Bits<16>>>,
    beat_boff: Vec<Signal<Local, Bits<16>>>,
    // The codes' offset is below the line's 128 bits: the upper bits are zero.
    unused_boff: Vec<Signal<Local, Bits<16>>>,
    bd: Vec<DFF<Bit>>,
    bs2: Vec<DFF<Bit>>,
    bt: Vec<DFF<Bit>>,
    bsd_addr: Vec<DFF<Bits<BANK_ADDR_BITS>>>,
    bsd_off: Vec<DFF<Bits<OFF_BITS>>>,
    bss_off: Vec<DFF<Bits<OFF_BITS>>>,
    bst_off: Vec<DFF<Bits<OFF_BITS>>>,
    k_bshalf: Vec<Constant<Bits<16>>>,
    // Blocks per block-scale line ([`blocks_per_line`]) as a shift and a mask, and a block's
    // entries (C · BS_ENTRY_BITS bits) as a shift.
    k_bpl_log: Vec<Constant<Bits<16>>>,
    k_bpl_m1: Vec<Constant<Bits<16>>>,
    k_codes_log: Vec<Constant<Bits<16>>>,
    _brows: usize,
    _b1: usize,
    _rows: usize,
    _cols: usize,
    k0_16: Constant<Bits<16>>,
    k1_2: Constant<Bits<2>>,
    k1_3: Constant<Bits<3>>,
    k2_3: Constant<Bits<3>>,
    k4_3: Constant<Bits<3>>,
    k1_16: Constant<Bits<16>>,
    k2_16: Constant<Bits<16>>,
    k1_32: Constant<Bits<32>>,
    k_wpb_log: Constant<Bits<16>>,
    k_wpb_m1: Constant<Bits<16>>,
    k_word_log: Constant<Bits<16>>,
    k_ahalf: Constant<Bits<16>>,
    k_whalf: Constant<Bits<16>>,
}

impl Sequencer {
    /// The sequencer of a `rows` × `cols` array with bank layout `layout`.
    pub fn new(rows: usize, cols: usize, layout: &BankLayout, block: bool) -> Self {
        let log = |x: u32| x.trailing_zeros() as u64;
        let (b1, brows) = if block { (1, rows) } else { (0, 0) };
        let bpl = blocks_per_line(cols) as u32;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            stop: Default::default(),
            abort: Default::default(),
            running: Default::default(),
            kb: Default::default(),
            kbq: Default::default(),
            period: Default::default(),
            mblocks: Default::default(),
            ntiles: Default::default(),
            stripe_tiles: Default::default(),
            a_full0: Default::default(),
            a_full1: Default::default(),
            w_full0: Default::default(),
            w_full1: Default::default(),
            w_early: Default::default(),
            wt_in: Default::default(),
            wt_sp: Default::default(),
            o_claim0: Default::default(),
            o_claim1: Default::default(),
            stall: Default::default(),
            claim: Default::default(),
            claim_m0: Default::default(),
            claim_n0: Default::default(),
            claim_tiles: Default::default(),
            claim_sp: Default::default(),
            claim_last: Default::default(),
            a_free: Default::default(),
            w_free: Default::default(),
            half: Default::default(),
            w_half: Default::default(),
            a_raddr: many(rows),
            a_off: many(rows),
            a_flags: many(rows),
            w_raddr: many(cols),
            w_off: many(cols),
            cp: Default::default(),
            c_n0t: Default::default(),
            c_st: Default::default(),
            period_m1: Default::default(),
            kb_m1: Default::default(),
            c_st_m2: Default::default(),
            c_block: Default::default(),
            c_half: Default::default(),
            c_t: Default::default(),
            c_k: Default::default(),
            c_tbase: Default::default(),
            c_sp: Default::default(),
            c_lastb: Default::default(),
            c_lasts: Default::default(),
            e_cur: Default::default(),
            e_nxt: Default::default(),
            c_bumped: Default::default(),
            k_end: Default::default(),
            t_end: Default::default(),
            k_zero: Default::default(),
            period_m2: Default::default(),
            w_avail: Default::default(),
            t_ready: Default::default(),
            c_left: Default::default(),
            beat_valid: Default::default(),
            beat_first: Default::default(),
            beat_last: Default::default(),
            beat_aaddr: Default::default(),
            beat_waddr: Default::default(),
            beat_off: Default::default(),
            beat_flags: Default::default(),
            unused_off: Default::default(),
            ad_addr: many(rows),
            ad_off: many(rows),
            ad_flags: many(rows),
            as_off: many(rows),
            as_flags: many(rows),
            at_off: many(rows),
            at_flags: many(rows),
            wd_addr: many(cols),
            wd_off: many(cols),
            ws_off: many(cols),
            wt_off: many(cols),
            b_log: many(b1),
            bs_tile: many(b1),
            a_bend: many(brows),
            bs_raddr: many(b1),
            bs_off: many(b1),
            c_bsbase: many(b1),
            beat_bend: many(b1),
            beat_blk: many(b1),
            beat_boff: many(b1),
            unused_boff: many(b1),
            bd: many(brows),
            bs2: many(brows),
            bt: many(brows),
            bsd_addr: many(b1),
            bsd_off: many(b1),
            bss_off: many(b1),
            bst_off: many(b1),
            k_bshalf: (0..b1).map(|_| Constant::new(layout.bs_half().into())).collect(),
            k_bpl_log: (0..b1).map(|_| Constant::new(log(bpl).into())).collect(),
            k_bpl_m1: (0..b1).map(|_| Constant::new(u64::from(bpl - 1).into())).collect(),
            k_codes_log: (0..b1)
                .map(|_| Constant::new(log((BS_ENTRY_BITS * cols) as u32).into()))
                .collect(),
            _brows: brows,
            _b1: b1,
            _rows: rows,
            _cols: cols,
            k0_16: Constant::new(0.into()),
            k1_2: Constant::new(1.into()),
            k1_3: Constant::new(1.into()),
            k2_3: Constant::new(2.into()),
            k4_3: Constant::new(4.into()),
            k1_16: Constant::new(1.into()),
            k2_16: Constant::new(2.into()),
            k1_32: Constant::new(1.into()),
            k_wpb_log: Constant::new(log(WORDS_PER_BEAT).into()),
            k_wpb_m1: Constant::new(((WORDS_PER_BEAT - 1) as u64).into()),
            k_word_log: Constant::new(log(OPERAND_BITS).into()),
            k_ahalf: Constant::new(layout.a_half().into()),
            k_whalf: Constant::new(layout.w_half().into()),
        }
    }
}

impl Logic for Sequencer {
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, cp, c_n0t, c_st, period_m1, kb_m1, c_st_m2, c_block, c_half, c_t, c_k, c_tbase, c_sp, c_lastb,
            c_lasts, e_cur, e_nxt, c_bumped, k_end, k_zero, t_end, period_m2
        );
        self.period_m1.d.next = self.period.val() - self.k1_16.val();
        self.period_m2.d.next = self.period.val() - self.k2_16.val();
        self.kb_m1.d.next = self.kb.val() - self.k1_32.val();
        self.c_st_m2.d.next = self.c_st.q.val() - self.k2_16.val();
        for i in 0..self._rows {
            self.ad_addr[i].clock.next = self.clock.val();
            self.ad_addr[i].d.next = self.ad_addr[i].q.val();
            self.ad_off[i].clock.next = self.clock.val();
            self.ad_off[i].d.next = self.ad_off[i].q.val();
            self.ad_flags[i].clock.next = self.clock.val();
            self.ad_flags[i].d.next = self.ad_flags[i].q.val();
            self.as_off[i].clock.next = self.clock.val();
            self.as_flags[i].clock.next = self.clock.val();
            self.at_off[i].clock.next = self.clock.val();
            self.at_flags[i].clock.next = self.clock.val();
        }
        for i in 0..self._cols {
            self.wd_addr[i].clock.next = self.clock.val();
            self.wd_addr[i].d.next = self.wd_addr[i].q.val();
            self.wd_off[i].clock.next = self.clock.val();
            self.wd_off[i].d.next = self.wd_off[i].q.val();
            self.ws_off[i].clock.next = self.clock.val();
            self.wt_off[i].clock.next = self.clock.val();
        }
        for i in 0..self._brows {
            self.bd[i].clock.next = self.clock.val();
            self.bs2[i].clock.next = self.clock.val();
            self.bt[i].clock.next = self.clock.val();
        }
        for i in 0..self._b1 {
            self.c_bsbase[i].clock.next = self.clock.val();
            self.c_bsbase[i].d.next = self.c_bsbase[i].q.val();
            self.bsd_addr[i].clock.next = self.clock.val();
            self.bsd_off[i].clock.next = self.clock.val();
            self.bss_off[i].clock.next = self.clock.val();
            self.bst_off[i].clock.next = self.clock.val();
        }
        self.stall.next = false;
        self.claim.next = false;
        self.claim_m0.next = self.c_block.q.val();
        self.claim_n0.next = self.c_n0t.q.val();
        self.claim_tiles.next = self.c_st.q.val();
        self.claim_sp.next = self.c_sp.q.val();
        self.a_free.next = false;
        self.w_free.next = false;
        self.half.next = self.c_half.q.val();
        self.w_half.next = self.c_sp.q.val().get_bit(0);

        self.c_left.next = self.ntiles.val() - self.c_n0t.q.val();
        self.claim_last.next = self.c_lastb.q.val() & self.c_lasts.q.val();
        self.c_lastb.d.next = (self.c_block.q.val() + self.k1_32.val()) == self.mblocks.val();
        self.c_lasts.d.next = self.c_left.val() <= bit_cast::<32, 16>(self.c_st.q.val());
        self.beat_valid.next = false;
        self.beat_first.next = false;
        self.beat_last.next = false;
        self.beat_aaddr.next = self.c_k.q.val() >> self.k_wpb_log.val();
        if self.c_half.q.val() {
            self.beat_aaddr.next = (self.c_k.q.val() >> self.k_wpb_log.val()) | self.k_ahalf.val();
        }
        self.beat_waddr.next = self.c_tbase.q.val() + (self.c_k.q.val() >> self.k_wpb_log.val());
        if self.c_sp.q.val().get_bit(0) {
            self.beat_waddr.next =
                (self.c_tbase.q.val() + (self.c_k.q.val() >> self.k_wpb_log.val())) | self.k_whalf.val();
        }
        self.w_avail.next =
            (!self.c_sp.q.val().get_bit(0) & self.w_full0.val()) | (self.c_sp.q.val().get_bit(0) & self.w_full1.val());
        self.e_cur.d.next =
            self.w_early.val() & (self.wt_sp.val() == self.c_sp.q.val()) & (self.wt_in.val() > self.c_t.q.val());
        self.e_nxt.d.next = self.w_early.val()
            & (self.wt_sp.val() == self.c_sp.q.val())
            & (self.wt_in.val() > (self.c_t.q.val() + self.k1_16.val()));
        self.c_bumped.d.next = false;
        self.t_ready.next = self.w_avail.val() | self.e_cur.q.val();
        if self.c_bumped.q.val() {
            self.t_ready.next = self.w_avail.val() | self.e_nxt.q.val();
        }
        self.beat_off.next = (self.c_k.q.val() & self.k_wpb_m1.val()) << self.k_word_log.val();
        self.unused_off.next = self.beat_off.val();
        if self.start.val() {
            self.cp.d.next = Comp::Stripe;
            self.c_n0t.d.next = 0.into();
            self.c_half.d.next = false;
            self.c_sp.d.next = 0.into();
        }
        if self.stop.val() {
            self.cp.d.next = Comp::Idle;
        }
        match self.cp.q.val() {
            Comp::Stripe => {
                if self.c_left.val() < bit_cast::<32, 16>(self.stripe_tiles.val()) {
                    self.c_st.d.next = bit_cast::<16, 32>(self.c_left.val());
                } else {
                    self.c_st.d.next = self.stripe_tiles.val();
                }
                self.c_block.d.next = 0.into();
                self.cp.d.next = Comp::Wait;
            }
            Comp::Wait => {
                if self.abort.val() {
                    self.cp.d.next = Comp::Stop;
                } else if (!self.c_half.q.val() & self.t_ready.val() & self.a_full0.val() & !self.o_claim0.val())
                    | (self.c_half.q.val() & self.t_ready.val() & self.a_full1.val() & !self.o_claim1.val())
                {
                    self.claim.next = true;
                    self.cp.d.next = Comp::Beat;
                } else {
                    self.stall.next = self.running.val();
                }
                self.c_t.d.next = 0.into();
                self.t_end.d.next = self.c_st.q.val() == self.k1_16.val();
                self.c_k.d.next = 0.into();
                self.k_end.d.next = self.period_m1.q.val() == self.k0_16.val();
                self.k_zero.d.next = true;
                self.c_tbase.d.next = 0.into();
                for i in 0..self._b1 {
                    self.c_bsbase[i].d.next = 0.into();
                }
            }
            Comp::Beat => {
                self.beat_valid.next = bit_cast::<32, 16>(self.c_k.q.val()) < self.kb.val();
                self.beat_first.next = self.k_zero.q.val();
                self.beat_last.next = bit_cast::<32, 16>(self.c_k.q.val()) == self.kb_m1.q.val();
                self.c_k.d.next = self.c_k.q.val() + self.k1_16.val();
                self.k_end.d.next = self.c_k.q.val() == self.period_m2.q.val();
                // (`c_k + 1` is never 0: `c_k` < `period` ≤ 0xFFFF.)
                self.k_zero.d.next = false;
                if self.k_zero.q.val() & !self.t_ready.val() {
                    // The tile's weights are still arriving: hold its first beat.
                    self.beat_valid.next = false;
                    self.beat_first.next = false;
                    self.beat_last.next = false;
                    self.c_k.d.next = self.c_k.q.val();
                    self.k_end.d.next = self.k_end.q.val();
                    self.k_zero.d.next = true;
                    self.stall.next = self.running.val();
                } else if self.k_end.q.val() {
                    self.c_k.d.next = 0.into();
                    self.k_end.d.next = self.period_m1.q.val() == self.k0_16.val();
                    self.k_zero.d.next = true;
                    self.c_t.d.next = self.c_t.q.val() + self.k1_16.val();
                    self.t_end.d.next = self.c_t.q.val() == self.c_st_m2.q.val();
                    self.c_bumped.d.next = true;
                    self.c_tbase.d.next = self.c_tbase.q.val() + self.kbq.val();
                    for i in 0..self._b1 {
                        self.c_bsbase[i].d.next = self.c_bsbase[i].q.val() + self.bs_tile[i].val();
                    }
                    if self.t_end.q.val() {
                        // Block done: its A half is free again.
                        self.a_free.next = true;
                        self.c_half.d.next = !self.c_half.q.val();
                        self.c_block.d.next = self.c_block.q.val() + self.k1_32.val();
                        self.cp.d.next = Comp::Wait;
                        if self.c_lastb.q.val() {
                            // Stripe done: the loader may overwrite its W-bank half.
                            self.w_free.next = true;
                            self.c_sp.d.next = self.c_sp.q.val() + self.k1_2.val();
                            self.c_n0t.d.next = self.c_n0t.q.val() + bit_cast::<32, 16>(self.c_st.q.val());
                            if self.c_lasts.q.val() {
                                self.cp.d.next = Comp::Stop;
                            } else {
                                self.cp.d.next = Comp::Stripe;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        if self.reset.val() {
            self.cp.d.next = Comp::Idle;
        }

        // ---- skew: row r reads its A bank r cycles late, column c its W bank c cycles late
        self.ad_addr[0].d.next = bit_cast::<BANK_ADDR_BITS, 16>(self.beat_aaddr.val());
        self.ad_off[0].d.next = self.beat_off.val().get_bits::<OFF_BITS>(0);
        self.beat_flags.next = 0.into();
        if self.beat_valid.val() {
            self.beat_flags.next = self.beat_flags.val() | self.k1_3.val();
        }
        if self.beat_first.val() {
            self.beat_flags.next = self.beat_flags.val() | self.k2_3.val();
        }
        if self.beat_last.val() {
            self.beat_flags.next = self.beat_flags.val() | self.k4_3.val();
        }
        self.ad_flags[0].d.next = self.beat_flags.val();
        for i in 1..self._rows {
            self.ad_addr[i].d.next = self.ad_addr[i - 1].q.val();
            self.ad_off[i].d.next = self.ad_off[i - 1].q.val();
            self.ad_flags[i].d.next = self.ad_flags[i - 1].q.val();
        }
        self.wd_addr[0].d.next = bit_cast::<BANK_ADDR_BITS, 16>(self.beat_waddr.val());
        self.wd_off[0].d.next = self.beat_off.val().get_bits::<OFF_BITS>(0);
        for i in 1..self._cols {
            self.wd_addr[i].d.next = self.wd_addr[i - 1].q.val();
            self.wd_off[i].d.next = self.wd_off[i - 1].q.val();
        }
        for i in 0..self._rows {
            self.a_raddr[i].next = self.ad_addr[i].q.val();
            self.as_off[i].d.next = self.ad_off[i].q.val();
            self.as_flags[i].d.next = self.ad_flags[i].q.val();
            self.at_off[i].d.next = self.as_off[i].q.val();
            self.at_flags[i].d.next = self.as_flags[i].q.val();
            if self.reset.val() {
                self.as_flags[i].d.next = 0.into();
                self.at_flags[i].d.next = 0.into();
            }
            self.a_off[i].next = self.at_off[i].q.val();
            self.a_flags[i].next = self.at_flags[i].q.val();
        }
        for i in 0..self._cols {
            self.w_raddr[i].next = self.wd_addr[i].q.val();
            self.ws_off[i].d.next = self.wd_off[i].q.val();
            self.wt_off[i].d.next = self.ws_off[i].q.val();
            self.w_off[i].next = self.wt_off[i].q.val();
        }

        // ---- block scales: a beat ends its block every 2^BEATS_LOG2 beats and at the tile's
        // end; the block's codes (all C columns') are read at column 0's time from the line of
        // its tile's run that holds them.
        for i in 0..self._b1 {
            self.beat_blk[i].next = self.c_k.q.val() >> self.b_log[i].val();
            self.beat_bend[i].next = self.beat_valid.val()
                & (self.beat_last.val()
                    | ((self.c_k.q.val() & ((self.k1_16.val() << self.b_log[i].val()) - self.k1_16.val()))
                        == ((self.k1_16.val() << self.b_log[i].val()) - self.k1_16.val())));
            // (Bank addresses are 16 bits wide.)
            self.bsd_addr[i].d.next = self.c_bsbase[i].q.val() + (self.beat_blk[i].val() >> self.k_bpl_log[i].val());
            if self.c_sp.q.val().get_bit(0) {
                self.bsd_addr[i].d.next = (self.c_bsbase[i].q.val()
                    + (self.beat_blk[i].val() >> self.k_bpl_log[i].val()))
                    | self.k_bshalf[i].val();
            }
            self.beat_boff[i].next = (self.beat_blk[i].val() & self.k_bpl_m1[i].val()) << self.k_codes_log[i].val();
            self.bsd_off[i].d.next = self.beat_boff[i].val().get_bits::<OFF_BITS>(0);
            self.unused_boff[i].next = self.beat_boff[i].val();
            self.bss_off[i].d.next = self.bsd_off[i].q.val();
            self.bst_off[i].d.next = self.bss_off[i].q.val();
            self.bs_raddr[i].next = self.bsd_addr[i].q.val();
            self.bs_off[i].next = self.bst_off[i].q.val();
            self.bd[0].d.next = self.beat_bend[i].val();
        }
        for i in 1..self._brows {
            self.bd[i].d.next = self.bd[i - 1].q.val();
        }
        for i in 0..self._brows {
            self.bs2[i].d.next = self.bd[i].q.val();
            self.bt[i].d.next = self.bs2[i].q.val();
            if self.reset.val() {
                self.bd[i].d.next = false;
                self.bs2[i].d.next = false;
                self.bt[i].d.next = false;
            }
            self.a_bend[i].next = self.bt[i].q.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, settle};
    use crate::spec::NpeConfig;

    /// One stripe of 2 tiles, 2 row blocks, kb = 10 words (2 beats), period 10, on a 4×4
    /// array whose operands are always there. Returns, per cycle, (row 0's A address, flags)
    /// and row 3's flags, and the claims (m0, half, last).
    #[allow(clippy::type_complexity)]
    fn run() -> (Vec<(u64, u64)>, Vec<u64>, Vec<(u64, bool, bool)>, Vec<u64>) {
        run_with(None)
    }

    /// As [`run`]; with `tiles = Some((early, at))` stripe 0's weights are not loaded as a
    /// whole: tile i is in from cycle `at[i]` on, and `early` is the `w_early` input.
    #[allow(clippy::type_complexity)]
    fn run_with(tiles: Option<(bool, &[usize])>) -> (Vec<(u64, u64)>, Vec<u64>, Vec<(u64, bool, bool)>, Vec<u64>) {
        let l = BankLayout::of(&NpeConfig::TEST).unwrap();
        let mut s = Sequencer::new(4, 4, &l, false);
        s.connect_all();
        s.reset.next = true;
        cycle(&mut s);
        s.reset.next = false;
        s.kb.next = bits(10);
        s.kbq.next = bits(2);
        s.period.next = bits(10);
        s.mblocks.next = bits(2);
        s.ntiles.next = bits(2);
        s.stripe_tiles.next = bits(32);
        s.a_full0.next = true;
        s.a_full1.next = true;
        s.w_full0.next = tiles.is_none();
        s.w_early.next = tiles.is_some_and(|(early, _)| early);
        s.wt_sp.next = bits(0);
        s.running.next = true;
        s.start.next = true;
        cycle(&mut s);
        s.start.next = false;
        let (mut row0, mut row3, mut claims, mut w3) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // A claim's row block and half, completed by `claim_last` a cycle later.
        let mut pending = None;
        for t in 0..60 {
            if let Some((_, at)) = tiles {
                s.wt_in.next = bits(at.iter().filter(|&&a| a <= t).count() as u64);
                settle(&mut s);
            }
            if let Some((m0, half)) = pending.take() {
                claims.push((m0, half, s.claim_last.val()));
            }
            if s.claim.val() {
                pending = Some((s.claim_m0.val().to_u64(), s.half.val()));
            }
            row0.push((s.a_raddr[0].val().to_u64(), s.a_flags[0].val().to_u64()));
            row3.push(s.a_flags[3].val().to_u64());
            w3.push(s.w_raddr[3].val().to_u64());
            cycle(&mut s);
        }
        (row0, row3, claims, w3)
    }

    #[test]
    fn blocks_claim_alternate_halves_and_tiles_stream_k_beats() {
        let (row0, row3, claims, _) = run();
        assert_eq!(claims, [(0, false, false), (1, true, true)]);
        // Row 0's flags: a tile is 10 valid words, the first with `first`, the last with `last`.
        let flags: Vec<u64> = row0.iter().map(|&(_, f)| f).collect();
        let start = flags.iter().position(|&f| f != 0).unwrap();
        let tile: Vec<u64> = (0..10)
            .map(|k| 1 | if k == 0 { 2 } else { 0 } | if k == 9 { 4 } else { 0 })
            .collect();
        assert_eq!(flags[start..start + 10], tile[..]);
        assert_eq!(
            flags[start + 10..start + 20],
            tile[..],
            "the second tile follows at once"
        );
        // Row 3 sees the same flags three cycles later.
        assert_eq!(row3[start + 3..start + 23], flags[start..start + 20]);
        // The A address (read two cycles before the flags): beat k / 8 of half 0, then half 1.
        let addrs: Vec<u64> = row0[start - 2..start + 8].iter().map(|&(a, _)| a).collect();
        assert_eq!(addrs, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        let half1 = row0
            .iter()
            .position(|&(a, _)| a == l_half())
            .expect("block 1 reads half 1");
        assert!(half1 >= start + 18, "block 1 follows block 0");
    }

    #[test]
    fn columns_read_their_w_beats_skewed_and_tile_by_tile() {
        let (_, _, _, w3) = run();
        // Column 3: tile 0 words at beats 0, 1, then tile 1 at kbq = 2, 3.
        let first = w3.iter().position(|&a| a == 1).unwrap();
        let second = w3.iter().position(|&a| a == 2).unwrap();
        assert_eq!(second - first, 2, "tile 1 starts one period after tile 0");
    }

    #[test]
    fn tiles_start_as_their_weights_arrive() {
        // Tile 0 is in at cycle 20, tile 1 at 45: each tile's first beat waits for it.
        let (row0, _, claims, _) = run_with(Some((true, &[20, 45])));
        let firsts: Vec<usize> = (0..row0.len()).filter(|&t| row0[t].1 & 2 != 0).collect();
        // The flags leave three registers after the beat, and the count is seen a cycle after
        // it rises (`e_cur` / `e_nxt`); tile 0 also passes the Wait state's claim, tile 1 is
        // held in the Beat state.
        assert_eq!(firsts[..2], [20 + 5, 45 + 4], "tile starts (block 0)");
        // Each tile's 10 beats are back to back once it starts; nothing runs between them.
        let valid: Vec<usize> = (0..row0.len()).filter(|&t| row0[t].1 & 1 != 0).collect();
        let want: Vec<usize> = (25..35).chain(49..59).collect();
        assert_eq!(valid, want);
        assert_eq!(claims, [(0, false, false), (1, true, true)]);
        // Without `w_early` the count is not looked at: the stripe never comes.
        let (row0, _, claims, _) = run_with(Some((false, &[0, 0])));
        assert!(claims.is_empty() && row0.iter().all(|&(_, f)| f == 0));
    }

    /// The registered compares (`k_end`, `k_zero`, `t_end`) equal the compares they stand for in every
    /// Beat cycle, for short and long periods, whole stripes and tiles that arrive late
    /// (the hold branch), over several blocks and stripes.
    #[test]
    fn registered_beat_compares_track_the_counter() {
        let l = BankLayout::of(&NpeConfig::TEST).unwrap();
        for (period, kb, early) in [(1u64, 1u64, false), (2, 2, true), (3, 2, false), (10, 10, true)] {
            let mut s = Sequencer::new(4, 4, &l, false);
            s.connect_all();
            s.reset.next = true;
            cycle(&mut s);
            s.reset.next = false;
            s.kb.next = bits(kb);
            s.kbq.next = bits(1);
            s.period.next = bits(period);
            s.mblocks.next = bits(3);
            s.ntiles.next = bits(5);
            s.stripe_tiles.next = bits(2);
            s.a_full0.next = true;
            s.a_full1.next = true;
            s.w_full0.next = !early;
            s.w_full1.next = true;
            s.w_early.next = early;
            s.running.next = true;
            s.start.next = true;
            cycle(&mut s);
            s.start.next = false;
            let mut beats = 0;
            for t in 0..600u64 {
                if early {
                    // Stripe 0's two tiles come in one by one, slowly; then its load ends.
                    s.wt_sp.next = bits(0);
                    s.wt_in.next = bits(t / 37);
                    s.w_full0.next = t / 37 >= 2;
                }
                settle(&mut s);
                if s.cp.q.val() == Comp::Beat {
                    beats += 1;
                    let k = s.c_k.q.val();
                    assert_eq!(s.k_end.q.val(), k == s.period_m1.q.val(), "period {period} cycle {t}");
                    assert_eq!(s.k_zero.q.val(), k.to_u64() == 0, "period {period} cycle {t}");
                    let last = s.c_t.q.val().to_u64() + 1 == s.c_st.q.val().to_u64();
                    assert_eq!(s.t_end.q.val(), last, "period {period} cycle {t}");
                }
                cycle(&mut s);
            }
            // Every tile of every block took its period (3 blocks × 5 tiles).
            assert!(beats >= 15 * period, "period {period}: {beats} Beat cycles");
        }
    }

    fn l_half() -> u64 {
        BankLayout::of(&NpeConfig::TEST).unwrap().a_half()
    }
}
