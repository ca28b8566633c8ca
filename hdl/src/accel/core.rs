//! The accelerator core: operand buffers, the R×C PE array with its output units (one per
//! column, or per group of S columns: [`NpeConfig::cols_per_output_unit`]), the output buffer,
//! and the controller that runs a job tile by tile. The DMA engines and the
//! register file sit beside it in [`super::top`].
//!
//! ```text
//!  read DMA ─► loader ─► A banks (one per row, 2 halves) ──skew──► a → PE row (systolic →)
//!                    ├─► W banks (one per column, 2 stripe halves) ─skew─► w ↓ PE column
//!                    └─► scale banks (one per column) ─────────────► output unit scale
//!  PE(r,c) finishes (last beat + PE latency) ─► column c picks row r's acc ─► output unit c/S
//!  output unit c/S ─► out bank c (2 halves) ─► storer ─► write DMA
//! ```
//!
//! **Data layout in device memory** (the host packs it): A is `M` rows of `kb = ⌈K / lanes⌉`
//! lane-packed 16-bit words, rows `A_STRIDE` bytes apart; W is stored transposed, one such row
//! per output column, `W_STRIDE` apart; C is `M` rows of 32-bit output containers, `C_STRIDE`
//! apart, each row padded to 16 bytes. A stride equal to the packed row length lets the loader
//! fetch a whole block or stripe with one DMA command.
//!
//! **Schedule.** Weights are loaded one *stripe* at a time (as many column tiles as half a W
//! bank and the output buffer hold), into alternate halves of the W banks, so the next stripe's
//! DMA overlaps this stripe's compute; with `SCALE_ADDR` set, each stripe's column scales follow
//! its weights into the scale banks. For each stripe, blocks of R rows of A stream through both
//! halves of the A buffer (DMA of block b+1 overlaps the compute of block b), each block is
//! multiplied against every column tile of the stripe (K beats per tile, or R·S when K is
//! shorter, so an output unit sees one row per cycle), and finished blocks are written
//! out from the other half of the output buffer while the next block computes.
//!
//! **Systolic timing.** Row r's A-bank reads and column c's W-bank reads are delayed r and c
//! cycles; activations then move right and weights down one PE per cycle, so PE(r,c) sees beat
//! k of its row and column together, `r + c` cycles after PE(0,0). The `last` flag travels with
//! the activations and, delayed by the PE latency, marks the one cycle in which PE(r,c)'s
//! accumulator holds its finished sum; PEs of a column finish on consecutive cycles, so each
//! column hands on one row per cycle, and an output unit shared by S columns takes them column
//! after column ([`OutputStage`]).
//!
//! **Blocks** (each in its own file, named as in the diagram): [`JobPlan`] latches, checks and
//! sizes the job; [`Loader`] asks the read DMA for weight stripes, scales and activation
//! blocks; [`OperandBuffers`] hold them; [`Sequencer`] streams the tiles through the
//! [`SystolicArray`] with the skew; [`OutputStage`] rounds the finished sums into the output
//! banks; [`Storer`] writes finished blocks to C. This file wires them and keeps the flags the
//! engines hand buffer halves over with (set by one engine, cleared by the next).

use crate::axi::{DmaCmd, ReadBeatIn, WriteBeat};
use crate::many;
use crate::regs::JobRegsIn;
use crate::spec::block_scale::BS_ENTRY_BITS;
use crate::spec::config::{NpeConfig, AXI_BEAT_BYTES, AXI_DATA_BITS, OUT_VALUE_BYTES};
use rust_hdl::prelude::*;

use super::datapath::Datapath;
use super::job_plan::JobPlan;
use super::layout::BankLayout;
use super::loader::Loader;
use super::operand_buffers::{OperandBuffers, SCALE_WORD_BITS};
use super::output_stage::OutputStage;
use super::sequencer::Sequencer;
use super::storer::Storer;
use super::systolic_array::SystolicArray;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;

/// Why the core cannot be built for `cfg`, if it cannot.
pub fn config_error(cfg: &NpeConfig) -> Option<String> {
    let vpb = AXI_BEAT_BYTES / OUT_VALUE_BYTES;
    if !cfg.rows.is_power_of_two() || !cfg.cols.is_power_of_two() {
        return Some(format!("{}: rows and cols must be powers of two", cfg.name));
    }
    if !cfg.cols.is_multiple_of(vpb) {
        return Some(format!(
            "{}: cols must be a multiple of {vpb} (output values per beat)",
            cfg.name
        ));
    }
    let share = cfg.cols_per_output_unit;
    if share == 0 || !cfg.cols.is_multiple_of(share) {
        return Some(format!("{}: columns per output unit must divide cols", cfg.name));
    }
    if share > 1 && cfg.rows < 4 {
        return Some(format!(
            "{}: output units are shared only with 4 or more rows",
            cfg.name
        ));
    }
    if cfg.cols as usize * SCALE_WORD_BITS > BUS {
        return Some(format!("{}: a column tile's scales must fit one beat", cfg.name));
    }
    match Datapath::of(cfg) {
        Err(e) => return Some(format!("{}: {e}", cfg.name)),
        Ok(dp) if dp.block_scaled() && cfg.cols as usize * BS_ENTRY_BITS > BUS => {
            return Some(format!("{}: a block's scale entries must fit one beat", cfg.name))
        }
        Ok(_) => {}
    }
    BankLayout::of(cfg).err().map(|e| format!("{}: {e}", cfg.name))
}

/// The accelerator core for the array and buffers of an [`NpeConfig`] (see the module docs),
/// its PEs on `LW`-bit decoded words into `ACC_W`-bit accumulators (the widths of the
/// preset's [`Datapath`]).
#[derive(LogicBlock)]
pub struct Core<const LW: usize, const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (also the register file's SOFT_RESET).
    pub reset: Signal<In, Bit>,
    /// Start the job in the job registers (one-cycle pulse).
    pub start: Signal<In, Bit>,
    /// The job registers, as the register file holds them (latched by the job plan at START).
    pub job: JobRegsIn,
    /// A job is running.
    pub busy: Signal<Out, Bit>,
    /// The job ended (one-cycle pulse).
    pub job_done: Signal<Out, Bit>,
    /// Why it ended ([`crate::spec::regs::ErrorCode`]), with `job_done`.
    pub job_error: Signal<Out, Bits<4>>,
    /// The array waited for operands or output space this cycle.
    pub stall: Signal<Out, Bit>,
    /// The read DMA's command port (the loader's).
    pub rd_cmd: DmaCmd,
    /// The read DMA's beats (into the operand buffers).
    pub rd_data: ReadBeatIn,
    /// The write DMA's command port (the storer's).
    pub wr_cmd: DmaCmd,
    /// The beats to write (the storer's handshake, the output stage's data).
    pub wr_data: WriteBeat,

    plan: JobPlan,
    ld: Loader,
    bufs: OperandBuffers,
    seq: Sequencer,
    array: SystolicArray<LW, ACC_W>,
    out: OutputStage<ACC_W>,
    st: Storer,
    walk_clear: Signal<Local, Bit>,
    // A half holds a loaded block (loader sets, sequencer clears).
    a_full0: DFF<Bit>,
    a_full1: DFF<Bit>,
    // A W-bank half holds a loaded stripe (half = stripe number's bit 0).
    w_full0: DFF<Bit>,
    w_full1: DFF<Bit>,
    // Tiles of the running (or last) weight load that are in their W banks, and its stripe:
    // the sequencer starts a stripe's tiles as they arrive when no scales follow the weights
    // (`w_early`).
    wt_in: DFF<Bits<16>>,
    wt_step: DFF<Bit>,
    wt_sp: DFF<Bits<2>>,
    w_early: Signal<Local, Bit>,
    k1_16: Constant<Bits<16>>,
    // An output half belongs to a block not yet stored (sequencer sets, storer clears).
    o_claim0: DFF<Bit>,
    o_claim1: DFF<Bit>,
    // An output half holds a finished block (output stage sets, storer clears).
    o_ready0: DFF<Bit>,
    o_ready1: DFF<Bit>,
    // The block in each output half: last of the job, row block, first tile, tiles, stripe.
    o_last0: DFF<Bit>,
    o_last1: DFF<Bit>,
    // A claim one cycle ago, and its half: `o_last` is written then, from the sequencer's
    // registered compares (the combinational ones were npe4x4's critical path at 84.2 MHz).
    // Nothing reads `o_last` before the block is stored, many cycles later.
    claimed: DFF<Bit>,
    claimed_half: DFF<Bit>,
    o_m0_0: DFF<Bits<32>>,
    o_m0_1: DFF<Bits<32>>,
    o_n0_0: DFF<Bits<32>>,
    o_n0_1: DFF<Bits<32>>,
    o_tiles0: DFF<Bits<16>>,
    o_tiles1: DFF<Bits<16>>,
    // Each half's last column tile (tiles − 1), for the output stage's walks.
    o_ltile0: DFF<Bits<16>>,
    o_ltile1: DFF<Bits<16>>,
    o_sp0: DFF<Bits<2>>,
    o_sp1: DFF<Bits<2>>,
    // The PEs' overrun flags: a block shorter than its scale's bits, which the job plan's
    // checks rule out (the array's own test watches them).
    unused_overrun: Vec<Signal<Local, Bit>>,
    // The job scales weight blocks; else the entries are E8M0's 2^0 (selector 0).
    bs_on: Vec<Signal<Local, Bit>>,
    k_e8_one: Vec<Constant<Bits<BS_ENTRY_BITS>>>,
    _rows: usize,
    _cols: usize,
    // Block-scaled arrays: 1 and the shape, else 0.
    _b1: usize,
    _brows: usize,
    _bcols: usize,
    _bpes: usize,
}

impl<const LW: usize, const ACC_W: usize> Core<LW, ACC_W> {
    /// The core for `cfg`. Panics with [`config_error`]'s reason if `cfg` cannot be built.
    pub fn new(cfg: &NpeConfig) -> Self {
        if let Some(e) = config_error(cfg) {
            panic!("{e}");
        }
        let layout = BankLayout::of(cfg).expect("checked above");
        let dp = Datapath::of(cfg).expect("checked above");
        let (r, c) = (cfg.rows as usize, cfg.cols as usize);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            job: Default::default(),
            busy: Default::default(),
            job_done: Default::default(),
            job_error: Default::default(),
            stall: Default::default(),
            rd_cmd: Default::default(),
            rd_data: Default::default(),
            wr_cmd: Default::default(),
            wr_data: Default::default(),
            plan: JobPlan::new(cfg),
            ld: Loader::new(cfg.rows, cfg.cols, dp.block_scaled()),
            bufs: OperandBuffers::new(r, c, &layout, dp.block_scaled()),
            seq: Sequencer::new(r, c, &layout, dp.block_scaled()),
            array: SystolicArray::new(cfg, dp),
            out: OutputStage::new(
                r,
                c,
                cfg.cols_per_output_unit as usize,
                &layout,
                dp.output_unit_module(),
            ),
            st: Storer::new(cfg.rows, cfg.cols),
            walk_clear: Default::default(),
            a_full0: Default::default(),
            a_full1: Default::default(),
            w_full0: Default::default(),
            w_full1: Default::default(),
            wt_in: Default::default(),
            wt_step: Default::default(),
            wt_sp: Default::default(),
            w_early: Default::default(),
            k1_16: Constant::new(1.into()),
            o_claim0: Default::default(),
            o_claim1: Default::default(),
            o_ready0: Default::default(),
            o_ready1: Default::default(),
            o_last0: Default::default(),
            o_last1: Default::default(),
            claimed: Default::default(),
            claimed_half: Default::default(),
            o_m0_0: Default::default(),
            o_m0_1: Default::default(),
            o_n0_0: Default::default(),
            o_n0_1: Default::default(),
            o_tiles0: Default::default(),
            o_tiles1: Default::default(),
            o_ltile0: Default::default(),
            o_ltile1: Default::default(),
            o_sp0: Default::default(),
            o_sp1: Default::default(),
            bs_on: (0..usize::from(dp.block_scaled()))
                .map(|_| Default::default())
                .collect(),
            k_e8_one: (0..usize::from(dp.block_scaled()))
                .map(|_| Constant::new(super::job_plan::E8M0_ONE.into()))
                .collect(),
            unused_overrun: many(if dp.block_scaled() { r * c } else { 0 }),
            _rows: r,
            _cols: c,
            _b1: usize::from(dp.block_scaled()),
            _brows: if dp.block_scaled() { r } else { 0 },
            _bcols: if dp.block_scaled() { c } else { 0 },
            _bpes: if dp.block_scaled() { r * c } else { 0 },
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for Core<LW, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            a_full0,
            a_full1,
            w_full0,
            w_full1,
            wt_in,
            wt_step,
            wt_sp,
            o_claim0,
            o_claim1,
            o_ready0,
            o_ready1,
            o_last0,
            o_last1,
            claimed,
            claimed_half,
            o_m0_0,
            o_m0_1,
            o_n0_0,
            o_n0_1,
            o_tiles0,
            o_tiles1,
            o_ltile0,
            o_ltile1,
            o_sp0,
            o_sp1
        );
        self.plan.clock.next = self.clock.val();
        self.ld.clock.next = self.clock.val();
        self.bufs.clock.next = self.clock.val();
        self.seq.clock.next = self.clock.val();
        self.array.clock.next = self.clock.val();
        self.out.clock.next = self.clock.val();
        self.st.clock.next = self.clock.val();
        self.plan.reset.next = self.reset.val();
        self.ld.reset.next = self.reset.val();
        self.seq.reset.next = self.reset.val();
        self.array.reset.next = self.reset.val();
        self.out.reset.next = self.reset.val();
        self.st.reset.next = self.reset.val();

        // ---- job plan
        self.plan.start.next = self.start.val();
        JobRegsIn::link(&mut self.job, &mut self.plan.job);
        self.plan.ld_fail.next = self.ld.fail.val();
        self.plan.ld_code.next = self.ld.fail_code.val();
        self.plan.st_fail.next = self.st.fail.val();
        self.plan.st_code.next = self.st.fail_code.val();
        self.plan.stored.next = self.st.stored.val();
        self.plan.stored_last.next = self.o_last0.q.val();
        if self.st.half.val() {
            self.plan.stored_last.next = self.o_last1.q.val();
        }
        self.plan.ld_quiet.next = self.ld.quiet.val();
        self.plan.st_idle.next = self.st.idle.val();
        self.plan.rd_idle.next = self.rd_cmd.ready.val();
        self.plan.wr_idle.next = self.wr_cmd.ready.val();
        self.busy.next = self.plan.busy.val();
        self.job_done.next = self.plan.job_done.val();
        self.job_error.next = self.plan.job_error.val();
        self.walk_clear.next = self.plan.run_start.val() | self.reset.val();
        if self.plan.run_start.val() {
            self.a_full0.d.next = false;
            self.a_full1.d.next = false;
            self.w_full0.d.next = false;
            self.w_full1.d.next = false;
            self.wt_in.d.next = 0.into();
            self.o_claim0.d.next = false;
            self.o_claim1.d.next = false;
            self.o_ready0.d.next = false;
            self.o_ready1.d.next = false;
        }

        // ---- loader
        self.ld.start.next = self.plan.run_start.val();
        self.ld.stop.next = self.plan.finish.val();
        self.ld.abort.next = self.plan.abort.val();
        self.ld.m.next = self.plan.j_m.val();
        self.ld.n.next = self.plan.j_n.val();
        self.ld.a_addr.next = self.plan.j_a_addr.val();
        self.ld.w_addr.next = self.plan.j_w_addr.val();
        self.ld.a_stride.next = self.plan.j_a_stride.val();
        self.ld.w_stride.next = self.plan.j_w_stride.val();
        self.ld.scale_addr.next = self.plan.j_scale_addr.val();
        self.ld.scale_on.next = self.plan.scale_on.val();
        self.ld.kbq.next = self.plan.kbq.val();
        self.ld.kbq_bytes.next = self.plan.kbq_bytes.val();
        self.ld.mblocks.next = self.plan.mblocks.val();
        self.ld.ntiles.next = self.plan.ntiles.val();
        self.ld.stripe_tiles.next = self.plan.stripe_tiles.val();
        self.ld.a_full0.next = self.a_full0.q.val();
        self.ld.a_full1.next = self.a_full1.q.val();
        self.ld.w_full0.next = self.w_full0.q.val();
        self.ld.w_full1.next = self.w_full1.q.val();
        DmaCmd::link(&mut self.rd_cmd, &mut self.ld.dma);
        if self.ld.a_loaded.val() {
            if self.ld.half.val() {
                self.a_full1.d.next = true;
            } else {
                self.a_full0.d.next = true;
            }
        }
        if self.ld.w_loaded.val() {
            if self.ld.sp.val().get_bit(0) {
                self.w_full1.d.next = true;
            } else {
                self.w_full0.d.next = true;
            }
        }

        // A tile in counts a cycle after the buffers say so (`wt_step`: their row-end compares
        // fed the count's 16-bit increment, −1.5 ns). A new load's route pulse wins over a step
        // of the last one's that is still on its way.
        self.wt_step.d.next = self.bufs.w_tile.val();
        if self.wt_step.q.val() & !self.plan.run_start.val() {
            self.wt_in.d.next = self.wt_in.q.val() + self.k1_16.val();
        }
        if self.ld.route_w.val() {
            self.wt_in.d.next = 0.into();
            self.wt_sp.d.next = self.ld.sp.val();
        }

        // ---- operand buffers
        ReadBeatIn::link(&mut self.rd_data, &mut self.bufs.rd);
        self.bufs.to_w.next = self.ld.to_w.val();
        self.bufs.to_s.next = self.ld.to_s.val();
        self.bufs.route_w.next = self.ld.route_w.val();
        self.bufs.route_s.next = self.ld.route_s.val();
        self.bufs.route_a.next = self.ld.route_a.val();
        self.bufs.ld_sp.next = self.ld.sp.val();
        self.bufs.ld_half.next = self.ld.half.val();
        self.bufs.kbq.next = self.plan.kbq.val();

        // ---- sequencer
        self.seq.start.next = self.plan.run_start.val();
        self.seq.stop.next = self.plan.finish.val();
        self.seq.abort.next = self.plan.abort.val();
        self.seq.running.next = self.plan.running.val();
        self.seq.kb.next = self.plan.kb.val();
        self.seq.kbq.next = self.plan.kbq.val();
        self.seq.period.next = self.plan.period.val();
        self.seq.mblocks.next = self.plan.mblocks.val();
        self.seq.ntiles.next = self.plan.ntiles.val();
        self.seq.stripe_tiles.next = self.plan.stripe_tiles.val();
        self.seq.a_full0.next = self.a_full0.q.val();
        self.seq.a_full1.next = self.a_full1.q.val();
        self.seq.w_full0.next = self.w_full0.q.val();
        self.seq.w_full1.next = self.w_full1.q.val();
        // (Set in full before it is read: Verilog runs these statements in order.)
        self.w_early.next = !self.plan.scale_on.val();
        for i in 0..self._b1 {
            if self.plan.block_on[i].val() {
                // The stripe's block scales follow its weights.
                self.w_early.next = false;
            }
        }
        self.seq.w_early.next = self.w_early.val();
        self.seq.wt_in.next = self.wt_in.q.val();
        self.seq.wt_sp.next = self.wt_sp.q.val();
        self.seq.o_claim0.next = self.o_claim0.q.val();
        self.seq.o_claim1.next = self.o_claim1.q.val();
        self.stall.next = self.seq.stall.val();
        if self.seq.claim.val() {
            if self.seq.half.val() {
                self.o_claim1.d.next = true;
                self.o_m0_1.d.next = self.seq.claim_m0.val();
                self.o_n0_1.d.next = self.seq.claim_n0.val();
                self.o_tiles1.d.next = self.seq.claim_tiles.val();
                self.o_ltile1.d.next = self.seq.claim_tiles.val() - self.k1_16.val();
                self.o_sp1.d.next = self.seq.claim_sp.val();
            } else {
                self.o_claim0.d.next = true;
                self.o_m0_0.d.next = self.seq.claim_m0.val();
                self.o_n0_0.d.next = self.seq.claim_n0.val();
                self.o_tiles0.d.next = self.seq.claim_tiles.val();
                self.o_ltile0.d.next = self.seq.claim_tiles.val() - self.k1_16.val();
                self.o_sp0.d.next = self.seq.claim_sp.val();
            }
        }
        self.claimed.d.next = self.seq.claim.val();
        self.claimed_half.d.next = self.seq.half.val();
        if self.claimed.q.val() {
            if self.claimed_half.q.val() {
                self.o_last1.d.next = self.seq.claim_last.val();
            } else {
                self.o_last0.d.next = self.seq.claim_last.val();
            }
        }
        if self.seq.a_free.val() {
            if self.seq.half.val() {
                self.a_full1.d.next = false;
            } else {
                self.a_full0.d.next = false;
            }
        }
        if self.seq.w_free.val() {
            if self.seq.w_half.val() {
                self.w_full1.d.next = false;
            } else {
                self.w_full0.d.next = false;
            }
        }
        for i in 0..self._rows {
            self.bufs.a_raddr[i].next = self.seq.a_raddr[i].val();
            self.bufs.a_off[i].next = self.seq.a_off[i].val();
            self.array.a_in[i].next = self.bufs.a_word[i].val();
            self.array.flags_in[i].next = self.seq.a_flags[i].val();
        }
        for i in 0..self._cols {
            self.bufs.w_raddr[i].next = self.seq.w_raddr[i].val();
            self.bufs.w_off[i].next = self.seq.w_off[i].val();
            self.array.w_in[i].next = self.bufs.w_word[i].val();
        }

        // ---- block scales: loader → bank, sequencer → bank and row flags → array
        for i in 0..self._b1 {
            self.bs_on[i].next = self.plan.block_on[i].val();
            self.ld.block_on[i].next = self.plan.block_on[i].val();
            self.ld.bs_addr[i].next = self.plan.j_bs_addr[i].val();
            self.ld.bs_tile[i].next = self.plan.bs_tile[i].val();
            self.bufs.to_bs[i].next = self.ld.to_bs[i].val();
            self.bufs.route_bs[i].next = self.ld.route_bs[i].val();
            self.seq.b_log[i].next = self.plan.block_log[i].val();
            self.seq.bs_tile[i].next = self.plan.bs_tile[i].val().get_bits::<16>(0);
            self.bufs.bs_raddr[i].next = self.seq.bs_raddr[i].val();
            self.bufs.bs_off[i].next = self.seq.bs_off[i].val();
            self.array.s_kind[i].next = self.plan.block_kind[i].val();
            self.array.s_base[i].next = self.plan.block_base[i].val();
        }
        for r in 0..self._brows {
            self.array.bend_in[r].next = self.seq.a_bend[r].val();
        }
        for i in 0..self._b1 {
            for c in 0..self._bcols {
                self.array.s_in[c].next = self.k_e8_one[i].val();
                if self.bs_on[i].val() {
                    self.array.s_in[c].next = self.bufs.bs_code[c].val();
                }
            }
        }
        for i in 0..self._bpes {
            self.unused_overrun[i].next = self.array.overrun[i].val();
        }

        // ---- systolic array → output stage
        self.array.a_fmt.next = self.plan.a_fmt.val();
        self.array.w_fmt.next = self.plan.w_fmt.val();
        for i in 0..(self._rows * self._cols) {
            self.out.fin[i].next = self.array.fin[i].val();
            self.out.acc[i].next = self.array.acc[i].val();
            self.out.nan[i].next = self.array.nan[i].val();
            self.out.pinf[i].next = self.array.pinf[i].val();
            self.out.ninf[i].next = self.array.ninf[i].val();
        }
        self.out.clear.next = self.walk_clear.val();
        self.out.out_fmt.next = self.plan.out_fmt.val();
        self.out.scale_job.next = self.plan.scale_job.val();
        self.out.scale_on.next = self.plan.scale_on.val();
        for i in 0..self._cols {
            self.bufs.s_raddr[i].next = self.out.scale_addr[i].val();
            self.out.scale[i].next = self.bufs.scale[i].val();
        }
        self.out.last_tile0.next = self.o_ltile0.q.val();
        self.out.last_tile1.next = self.o_ltile1.q.val();
        self.out.sp0.next = self.o_sp0.q.val();
        self.out.sp1.next = self.o_sp1.q.val();
        if self.out.ready0.val() {
            self.o_ready0.d.next = true;
        }
        if self.out.ready1.val() {
            self.o_ready1.d.next = true;
        }

        // ---- storer
        self.st.start.next = self.plan.run_start.val();
        self.st.stop.next = self.plan.finish.val();
        self.st.abort.next = self.plan.abort.val();
        self.st.m.next = self.plan.j_m.val();
        self.st.n.next = self.plan.j_n.val();
        self.st.c_addr.next = self.plan.j_c_addr.val();
        self.st.c_stride.next = self.plan.j_c_stride.val();
        self.st.ready0.next = self.o_ready0.q.val();
        self.st.ready1.next = self.o_ready1.q.val();
        self.st.m0_0.next = self.o_m0_0.q.val();
        self.st.m0_1.next = self.o_m0_1.q.val();
        self.st.n0_0.next = self.o_n0_0.q.val();
        self.st.n0_1.next = self.o_n0_1.q.val();
        self.st.tiles0.next = self.o_tiles0.q.val();
        self.st.tiles1.next = self.o_tiles1.q.val();
        DmaCmd::link(&mut self.wr_cmd, &mut self.st.dma);
        self.st.wr_data_ready.next = self.wr_data.ready.val();
        self.wr_data.valid.next = self.st.wr_data_valid.val();
        self.out.rd_half.next = self.st.half.val();
        self.out.rd_row.next = self.st.r_row.val();
        self.out.rd_tile.next = self.st.r_tile.val();
        self.out.rd_load.next = self.st.r_load.val();
        self.out.rd_group.next = self.st.r_group.val();
        self.wr_data.data.next = self.out.beat.val();
        // Block stored: both flags of its output half are free.
        if self.st.stored.val() {
            if self.st.half.val() {
                self.o_ready1.d.next = false;
                self.o_claim1.d.next = false;
            } else {
                self.o_ready0.d.next = false;
                self.o_claim0.d.next = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_and_odd_shapes_are_refused() {
        for cfg in NpeConfig::PRESETS {
            assert_eq!(config_error(&cfg), None, "{}", cfg.name);
        }
        let with = |rows, cols| NpeConfig {
            rows,
            cols,
            cols_per_output_unit: 1,
            ..NpeConfig::TEST
        };
        assert!(config_error(&with(3, 4)).is_some(), "rows not a power of two");
        assert!(
            config_error(&with(4, 2)).is_some(),
            "fewer columns than values per beat"
        );
        assert!(config_error(&with(4, 16)).is_some(), "a tile's scales exceed a beat");
        assert_eq!(config_error(&with(2, 8)), None);
        let shared = |rows, share| NpeConfig {
            rows,
            cols_per_output_unit: share,
            ..NpeConfig::TEST
        };
        assert_eq!(config_error(&shared(4, 4)), None, "one unit for the four columns");
        assert!(config_error(&shared(4, 3)).is_some(), "3 does not divide 4 columns");
        assert!(config_error(&shared(4, 0)).is_some());
        assert!(config_error(&shared(2, 2)).is_some(), "two rows: a delay of one cycle");
    }
}
