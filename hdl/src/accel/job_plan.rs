//! The job plan: latches the job registers at START with the job check's flags
//! ([`super::job_check`]), ends a bad job, derives the job's counts (beats per row, row blocks,
//! column tiles, tiles per weight stripe), starts the engines and reports the end of the job.
//!
//! It also holds the job's error code and abort flag: the loader and the storer report DMA
//! errors here (the storer's wins if both fail in one cycle), and every engine watches `abort`.

use super::job_check::{field_at, JobCheck};
use crate::decode::format_decode::FMT_BITS;
use crate::many;
use crate::output::SCALE_BITS;
use crate::regs::JobRegsIn;
use crate::spec::block_scale::{blocks_per_line, ScaleCode, BLOCK_WORDS_MIN};
use crate::spec::config::{NpeConfig, AXI_BEAT_BYTES, WORDS_PER_BEAT};
use crate::spec::{regs::ErrorCode, OPERAND_BITS};
use rust_hdl::prelude::*;

/// Job-plan states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Main {
    /// Waiting for START.
    Idle,
    /// Validating the job registers.
    Check,
    /// Waiting a cycle for `q_bad`, the checks on the beats per row (Check sets them).
    Vet,
    /// Deriving beats per tile and counts.
    Derive,
    /// Sizing the weight stripe.
    Plan,
    /// Engines running.
    Run,
    /// An error ended the job: waiting for the DMA engines to go idle.
    Drain,
    /// Reporting the end of the job.
    Finish,
}

/// E8M0's code of 1 (2^0): the scale of a plain job's blocks on a block-scaled array.
pub const E8M0_ONE: u64 = (-ScaleCode::E8m0.exp_range().0) as u64;

/// The job plan (see the module docs).
#[derive(LogicBlock)]
pub struct JobPlan {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start the job in the job registers (one-cycle pulse).
    pub start: Signal<In, Bit>,
    /// The job registers, latched at START.
    pub job: JobRegsIn,
    /// The loader hit a DMA error (one-cycle pulse) ...
    pub ld_fail: Signal<In, Bit>,
    /// ... with this code.
    pub ld_code: Signal<In, Bits<4>>,
    /// The storer hit a DMA error (one-cycle pulse) ...
    pub st_fail: Signal<In, Bit>,
    /// ... with this code.
    pub st_code: Signal<In, Bits<4>>,
    /// The storer finished a block (one-cycle pulse) ...
    pub stored: Signal<In, Bit>,
    /// ... and it was the job's last.
    pub stored_last: Signal<In, Bit>,
    /// The loader has nothing left to do.
    pub ld_quiet: Signal<In, Bit>,
    /// The storer is idle.
    pub st_idle: Signal<In, Bit>,
    /// The read DMA is idle.
    pub rd_idle: Signal<In, Bit>,
    /// The write DMA is idle.
    pub wr_idle: Signal<In, Bit>,
    /// A job is running.
    pub busy: Signal<Out, Bit>,
    /// The job ended (one-cycle pulse).
    pub job_done: Signal<Out, Bit>,
    /// Why it ended ([`ErrorCode`]), with `job_done`.
    pub job_error: Signal<Out, Bits<4>>,
    /// The engines run (state Run).
    pub running: Signal<Out, Bit>,
    /// Start the engines (one-cycle pulse).
    pub run_start: Signal<Out, Bit>,
    /// Stop the engines (one-cycle pulse).
    pub finish: Signal<Out, Bit>,
    /// Stop what you are doing: the job failed.
    pub abort: Signal<Out, Bit>,
    /// Latched M.
    pub j_m: Signal<Out, Bits<32>>,
    /// Latched N.
    pub j_n: Signal<Out, Bits<32>>,
    /// Latched A_ADDR.
    pub j_a_addr: Signal<Out, Bits<32>>,
    /// Latched W_ADDR.
    pub j_w_addr: Signal<Out, Bits<32>>,
    /// Latched C_ADDR.
    pub j_c_addr: Signal<Out, Bits<32>>,
    /// Latched A_STRIDE.
    pub j_a_stride: Signal<Out, Bits<32>>,
    /// Latched W_STRIDE.
    pub j_w_stride: Signal<Out, Bits<32>>,
    /// Latched C_STRIDE.
    pub j_c_stride: Signal<Out, Bits<32>>,
    /// Latched SCALE_ADDR.
    pub j_scale_addr: Signal<Out, Bits<32>>,
    /// Activation format id.
    pub a_fmt: Signal<Out, Bits<FMT_BITS>>,
    /// Weight format id.
    pub w_fmt: Signal<Out, Bits<FMT_BITS>>,
    /// Output format id.
    pub out_fmt: Signal<Out, Bits<3>>,
    /// The job's output scale, sign-extended.
    pub scale_job: Signal<Out, Bits<SCALE_BITS>>,
    /// Column scales are loaded.
    pub scale_on: Signal<Out, Bit>,
    /// Lane-packed operand words per row (K / lanes).
    pub kb: Signal<Out, Bits<32>>,
    /// Bus beats per operand row.
    pub kbq: Signal<Out, Bits<16>>,
    /// Bytes per operand row.
    pub kbq_bytes: Signal<Out, Bits<32>>,
    /// Cycles per tile: max(kb, R).
    pub period: Signal<Out, Bits<16>>,
    /// Row blocks of M.
    pub mblocks: Signal<Out, Bits<32>>,
    /// Column tiles of N.
    pub ntiles: Signal<Out, Bits<32>>,
    /// Column tiles per weight stripe.
    pub stripe_tiles: Signal<Out, Bits<16>>,
    /// Block-scaled arrays only (one entry, else none): BLOCK.EN.
    pub block_on: Vec<Signal<Out, Bit>>,
    /// Block-scaled only: BLOCK.KIND.
    pub block_kind: Vec<Signal<Out, Bits<2>>>,
    /// Block-scaled only: BLOCK.BASE.
    pub block_base: Vec<Signal<Out, Bits<8>>>,
    /// Block-scaled only: BLOCK.BEATS_LOG2.
    pub block_log: Vec<Signal<Out, Bits<16>>>,
    /// Block-scaled only: latched BS_ADDR.
    pub j_bs_addr: Vec<Signal<Out, Bits<32>>>,
    /// Block-scaled only: block-scale beats (bank lines) per column tile.
    pub bs_tile: Vec<Signal<Out, Bits<32>>>,

    main: DFF<Main>,
    q_m: DFF<Bits<32>>,
    q_n: DFF<Bits<32>>,
    q_k: DFF<Bits<32>>,
    q_fmt: DFF<Bits<32>>,
    q_a_addr: DFF<Bits<32>>,
    q_w_addr: DFF<Bits<32>>,
    q_c_addr: DFF<Bits<32>>,
    q_a_stride: DFF<Bits<32>>,
    q_w_stride: DFF<Bits<32>>,
    q_c_stride: DFF<Bits<32>>,
    q_scale_addr: DFF<Bits<32>>,
    q_block: DFF<Bits<32>>,
    q_bs_addr: DFF<Bits<32>>,
    // SCALE_ADDR ≠ 0, latched with it: the 32-bit comparison ahead of the loader's state logic
    // was on npe4x4's critical path.
    q_scale_on: DFF<Bit>,
    err: DFF<Bits<4>>,
    abort_q: DFF<Bit>,
    done_q: DFF<Bit>,
    // `run_start` from a register: the stripe sizing's adder and comparison ahead of it, then
    // the pulse's fan-out to every engine and the result walks' resets, was npe4x4's critical
    // path (13.4 ns). The engines start a cycle after Run is entered; Run waits for them.
    run_q: DFF<Bit>,
    q_kb: DFF<Bits<32>>,
    q_kbq: DFF<Bits<16>>,
    q_kbq_bytes: DFF<Bits<32>>,
    q_period: DFF<Bits<16>>,
    q_mblocks: DFF<Bits<32>>,
    q_ntiles: DFF<Bits<32>>,
    q_stripe_tiles: DFF<Bits<16>>,
    /// W words of half a bank the stripe planned so far leaves.
    room_words: DFF<Bits<16>>,
    // Block scales: lines per tile, and the lines of half the block-scale bank the stripe
    // planned so far leaves (a stripe's scales fit half of the bank).
    q_bs_tile: DFF<Bits<32>>,
    room_bs: DFF<Bits<32>>,
    _b1: usize,
    k_bpl_m1: Constant<Bits<32>>,
    k_bpl_log: Constant<Bits<32>>,
    k_bs_half: Constant<Bits<32>>,
    // The block scales' window: E4M3's lowest exponent, E8M0's bias (two's complement, 9 bits).
    k_win_e4: Constant<Bits<SCALE_BITS>>,
    k_bias_e8: Constant<Bits<SCALE_BITS>>,
    k_kind_e4: Constant<Bits<2>>,
    k_kind_e8: Constant<Bits<2>>,
    b_base9: Signal<Local, Bits<SCALE_BITS>>,
    // FMT.SCALE_EXP, sign-extended.
    scale_fmt: Signal<Local, Bits<SCALE_BITS>>,
    scale_exp: Signal<Local, Bits<8>>,
    // FMT bits outside its fields are not read.
    unused_fmt: Signal<Local, Bits<32>>,
    // The job registers' checks (see `job_check`), taken with START.
    check: JobCheck,
    q_zero: DFF<Bit>,
    q_mis: DFF<Bit>,
    q_l4: DFF<Bit>,
    q_l2: DFF<Bit>,
    q_fmt_ok: DFF<Bit>,
    q_b_bad: DFF<Bit>,
    // Too many beats per row, or a row not a whole number of blocks: registered, so Derive's
    // many loads are not gated by the compares (npe4x4 at 83.1 MHz: BLOCK → `b_ragged` →
    // Derive's enable of `q_period`, 12.0 ns).
    q_bad: DFF<Bit>,
    b_en: Signal<Local, Bit>,
    b_kind: Signal<Local, Bits<2>>,
    b_log: Signal<Local, Bits<3>>,
    // Some packed word of a row is in no whole block (checked in Derive).
    b_ragged: Signal<Local, Bit>,
    // BLOCK's kind, base and the bits outside its fields are not read yet: no core feeds block
    // scales to its array (the job plan only checks BLOCK).
    unused_block: Signal<Local, Bits<32>>,
    k_b_en: Constant<Bits<32>>,
    k_b_kind: Constant<Bits<32>>,
    k_b_log: Constant<Bits<32>>,
    k_b_base: Constant<Bits<32>>,
    // The device has block scales (`NpeConfig::block_scales`).
    k_b_cap: Constant<Bit>,
    k1_32: Constant<Bits<32>>,
    // Block-scaled only: BEATS_LOG2's mask as a 16-bit value, and E8M0's code of 2^0.
    k_log_mask: Vec<Constant<Bits<16>>>,
    k_e8_one: Vec<Constant<Bits<8>>>,
    t_kbq: Signal<Local, Bits<32>>,
    k0_32: Constant<Bits<32>>,
    k1_16: Constant<Bits<16>>,
    k_f_a: Constant<Bits<32>>,
    k_f_w: Constant<Bits<32>>,
    k_f_out: Constant<Bits<32>>,
    k_f_scale: Constant<Bits<32>>,
    k_sext: Constant<Bits<SCALE_BITS>>,
    k_l4_m1: Constant<Bits<32>>,
    k_l4_log: Constant<Bits<32>>,
    k_l2_m1: Constant<Bits<32>>,
    k_l2_log: Constant<Bits<32>>,
    k_wpb_m1: Constant<Bits<32>>,
    k_wpb_log: Constant<Bits<32>>,
    k_beat_log: Constant<Bits<32>>,
    k_rows_m1: Constant<Bits<32>>,
    k_cols_m1: Constant<Bits<32>>,
    k_logr: Constant<Bits<32>>,
    k_logc: Constant<Bits<32>>,
    // The shortest tile (`NpeConfig::min_tile_cycles`).
    k_min_period: Constant<Bits<32>>,
    k_min_period16: Constant<Bits<16>>,
    k_kbmax: Constant<Bits<32>>,
    k_wwords: Constant<Bits<16>>,
    k_otiles: Constant<Bits<16>>,
    k_e_bad_job: Constant<Bits<4>>,
    k_e_bad_addr: Constant<Bits<4>>,
}

impl JobPlan {
    /// The job plan of `cfg`'s array and buffers.
    pub fn new(cfg: &NpeConfig) -> Self {
        let b1 = usize::from(cfg.block_scales);
        let bpl = blocks_per_line(cfg.cols as usize) as u32;
        let nine = |v: i32| ((v as i64) & ((1 << SCALE_BITS) - 1)) as u64;
        // A stripe of one tile of the longest K fits a half of the block-scale bank.
        assert!(
            !cfg.block_scales
                || (cfg.k_beats_max / BLOCK_WORDS_MIN as u32).div_ceil(bpl) as u64
                    <= super::layout::BankLayout::bs_half_lines(),
            "block scales of the longest K fit the bank"
        );
        let log = |x: u32| x.trailing_zeros() as u64;
        // Lanes of a 16-bit operand word for 4-bit and 8-bit slots.
        let (l4, l2) = (OPERAND_BITS / 4, OPERAND_BITS / 8);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            job: Default::default(),
            ld_fail: Default::default(),
            ld_code: Default::default(),
            st_fail: Default::default(),
            st_code: Default::default(),
            stored: Default::default(),
            stored_last: Default::default(),
            ld_quiet: Default::default(),
            st_idle: Default::default(),
            rd_idle: Default::default(),
            wr_idle: Default::default(),
            busy: Default::default(),
            job_done: Default::default(),
            job_error: Default::default(),
            running: Default::default(),
            run_start: Default::default(),
            finish: Default::default(),
            abort: Default::default(),
            j_m: Default::default(),
            j_n: Default::default(),
            j_a_addr: Default::default(),
            j_w_addr: Default::default(),
            j_c_addr: Default::default(),
            j_a_stride: Default::default(),
            j_w_stride: Default::default(),
            j_c_stride: Default::default(),
            j_scale_addr: Default::default(),
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            out_fmt: Default::default(),
            scale_job: Default::default(),
            scale_on: Default::default(),
            kb: Default::default(),
            kbq: Default::default(),
            kbq_bytes: Default::default(),
            period: Default::default(),
            mblocks: Default::default(),
            ntiles: Default::default(),
            stripe_tiles: Default::default(),
            main: Default::default(),
            q_m: Default::default(),
            q_n: Default::default(),
            q_k: Default::default(),
            q_fmt: Default::default(),
            q_a_addr: Default::default(),
            q_w_addr: Default::default(),
            q_c_addr: Default::default(),
            q_a_stride: Default::default(),
            q_w_stride: Default::default(),
            q_c_stride: Default::default(),
            q_scale_addr: Default::default(),
            q_block: Default::default(),
            q_bs_addr: Default::default(),
            q_scale_on: Default::default(),
            err: Default::default(),
            abort_q: Default::default(),
            done_q: Default::default(),
            run_q: Default::default(),
            q_kb: Default::default(),
            q_kbq: Default::default(),
            q_kbq_bytes: Default::default(),
            q_period: Default::default(),
            q_mblocks: Default::default(),
            q_ntiles: Default::default(),
            q_stripe_tiles: Default::default(),
            room_words: Default::default(),
            scale_exp: Default::default(),
            unused_fmt: Default::default(),
            check: JobCheck::new(cfg),
            q_l4: Default::default(),
            q_l2: Default::default(),
            q_fmt_ok: Default::default(),
            q_b_bad: Default::default(),
            q_zero: Default::default(),
            q_mis: Default::default(),
            q_bad: Default::default(),
            b_en: Default::default(),
            b_kind: Default::default(),
            b_log: Default::default(),
            b_ragged: Default::default(),
            unused_block: Default::default(),
            k_b_en: Constant::new(field_at("BLOCK", "EN", 1).into()),
            k_b_kind: Constant::new(field_at("BLOCK", "KIND", 2).into()),
            k_b_log: Constant::new(field_at("BLOCK", "BEATS_LOG2", 3).into()),
            k_b_base: Constant::new(field_at("BLOCK", "BASE", 8).into()),
            k_b_cap: Constant::new(cfg.block_scales),
            k1_32: Constant::new(1u64.into()),
            block_on: many(b1),
            block_kind: many(b1),
            block_base: many(b1),
            block_log: many(b1),
            j_bs_addr: many(b1),
            bs_tile: many(b1),
            q_bs_tile: Default::default(),
            room_bs: Default::default(),
            _b1: b1,
            k_bpl_m1: Constant::new(u64::from(bpl - 1).into()),
            k_bpl_log: Constant::new(u64::from(bpl.trailing_zeros()).into()),
            k_bs_half: Constant::new(super::layout::BankLayout::bs_half_lines().into()),
            k_win_e4: Constant::new(nine(ScaleCode::E4m3.window_lo(0)).into()),
            k_bias_e8: Constant::new(nine(ScaleCode::E8m0.window_lo(0)).into()),
            k_kind_e4: Constant::new(u64::from(ScaleCode::E4m3.id()).into()),
            k_kind_e8: Constant::new(u64::from(ScaleCode::E8m0.id()).into()),
            b_base9: Default::default(),
            scale_fmt: Default::default(),
            k_log_mask: (0..b1).map(|_| Constant::new(7u64.into())).collect(),
            k_e8_one: (0..b1).map(|_| Constant::new(E8M0_ONE.into())).collect(),
            t_kbq: Default::default(),
            k0_32: Constant::new(0.into()),
            k1_16: Constant::new(1.into()),
            k_f_a: Constant::new(field_at("FMT", "A", FMT_BITS).into()),
            k_f_w: Constant::new(field_at("FMT", "W", FMT_BITS).into()),
            k_f_out: Constant::new(field_at("FMT", "OUT", 3).into()),
            k_f_scale: Constant::new(field_at("FMT", "SCALE_EXP", 8).into()),
            k_sext: Constant::new(((((1u64 << SCALE_BITS) - 1) >> 8) << 8).into()),
            k_l4_m1: Constant::new(((l4 - 1) as u64).into()),
            k_l4_log: Constant::new(log(l4).into()),
            k_l2_m1: Constant::new(((l2 - 1) as u64).into()),
            k_l2_log: Constant::new(log(l2).into()),
            k_wpb_m1: Constant::new(((WORDS_PER_BEAT - 1) as u64).into()),
            k_wpb_log: Constant::new(log(WORDS_PER_BEAT).into()),
            k_beat_log: Constant::new(log(AXI_BEAT_BYTES).into()),
            k_rows_m1: Constant::new(((cfg.rows - 1) as u64).into()),
            k_cols_m1: Constant::new(((cfg.cols - 1) as u64).into()),
            k_logr: Constant::new(log(cfg.rows).into()),
            k_logc: Constant::new(log(cfg.cols).into()),
            k_min_period: Constant::new((cfg.min_tile_cycles() as u64).into()),
            k_min_period16: Constant::new((cfg.min_tile_cycles() as u64).into()),
            k_kbmax: Constant::new((cfg.k_beats_max as u64).into()),
            // A stripe fills one half of a W bank; the other half takes the next stripe.
            k_wwords: Constant::new(((cfg.w_bank_words / WORDS_PER_BEAT / 2) as u64).into()),
            k_otiles: Constant::new((cfg.out_tiles as u64).into()),
            k_e_bad_job: Constant::new((ErrorCode::BadJob as u64).into()),
            k_e_bad_addr: Constant::new((ErrorCode::BadAddress as u64).into()),
        }
    }
}

impl Logic for JobPlan {
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            main,
            q_m,
            q_n,
            q_k,
            q_fmt,
            q_a_addr,
            q_w_addr,
            q_c_addr,
            q_a_stride,
            q_w_stride,
            q_c_stride,
            q_scale_addr,
            q_block,
            q_bs_addr,
            q_scale_on,
            err,
            abort_q,
            done_q,
            run_q,
            q_kb,
            q_kbq,
            q_kbq_bytes,
            q_period,
            q_mblocks,
            q_ntiles,
            q_stripe_tiles,
            room_words,
            q_bs_tile,
            room_bs,
            q_zero,
            q_mis,
            q_bad,
            q_l4,
            q_l2,
            q_fmt_ok,
            q_b_bad
        );
        self.j_m.next = self.q_m.q.val();
        self.j_n.next = self.q_n.q.val();
        self.j_a_addr.next = self.q_a_addr.q.val();
        self.j_w_addr.next = self.q_w_addr.q.val();
        self.j_c_addr.next = self.q_c_addr.q.val();
        self.j_a_stride.next = self.q_a_stride.q.val();
        self.j_w_stride.next = self.q_w_stride.q.val();
        self.j_c_stride.next = self.q_c_stride.q.val();
        self.j_scale_addr.next = self.q_scale_addr.q.val();
        self.kb.next = self.q_kb.q.val();
        self.kbq.next = self.q_kbq.q.val();
        self.kbq_bytes.next = self.q_kbq_bytes.q.val();
        self.period.next = self.q_period.q.val();
        self.mblocks.next = self.q_mblocks.q.val();
        self.ntiles.next = self.q_ntiles.q.val();
        self.stripe_tiles.next = self.q_stripe_tiles.q.val();
        self.abort.next = self.abort_q.q.val();

        // ---- job fields
        self.a_fmt.next = self.q_fmt.q.val().get_bits::<FMT_BITS>(self.k_f_a.val().index());
        self.w_fmt.next = self.q_fmt.q.val().get_bits::<FMT_BITS>(self.k_f_w.val().index());
        self.out_fmt.next = self.q_fmt.q.val().get_bits::<3>(self.k_f_out.val().index());
        self.scale_exp.next = self.q_fmt.q.val().get_bits::<8>(self.k_f_scale.val().index());
        self.scale_on.next = self.q_scale_on.q.val();
        self.scale_fmt.next = bit_cast::<SCALE_BITS, 8>(self.scale_exp.val());
        if self.scale_exp.val().get_bit(7) {
            self.scale_fmt.next = bit_cast::<SCALE_BITS, 8>(self.scale_exp.val()) | self.k_sext.val();
        }
        self.scale_job.next = self.scale_fmt.val();
        self.unused_fmt.next = self.q_fmt.q.val();
        // BLOCK.EN on a device without block scales ends the job in Check (the job check's
        // `b_bad`); gated by the capability, the block-scale logic is constant and gone from
        // such a device (npe8x8le8: 18 endpoints of the stripe sizing's `q_bs_tile` compare).
        self.b_en.next = self.q_block.q.val().get_bit(self.k_b_en.val().index()) & self.k_b_cap.val();
        self.b_kind.next = self.q_block.q.val().get_bits::<2>(self.k_b_kind.val().index());
        self.b_log.next = self.q_block.q.val().get_bits::<3>(self.k_b_log.val().index());
        self.unused_block.next = self.q_block.q.val();
        // A plain job on a block-scaled array: blocks of the longest length, each scaled by
        // E8M0's 2^0 (BASE 127, the core's codes), so the PEs' sums are the plain ones.
        for i in 0..self._b1 {
            self.block_on[i].next = self.b_en.val();
            self.block_kind[i].next = self.k_kind_e8.val();
            self.block_base[i].next = self.k_e8_one[i].val();
            self.block_log[i].next = self.k_log_mask[i].val();
            if self.b_en.val() {
                self.block_kind[i].next = self.b_kind.val();
                self.block_base[i].next = self.q_block.q.val().get_bits::<8>(self.k_b_base.val().index());
                self.block_log[i].next =
                    self.q_block.q.val().get_bits::<16>(self.k_b_log.val().index()) & self.k_log_mask[i].val();
            }
            self.j_bs_addr[i].next = self.q_bs_addr.q.val();
            self.bs_tile[i].next = self.q_bs_tile.q.val();
        }
        // The PEs' sums weigh the block scales' window's lowest exponent: E4M3's, or E8M0's
        // BASE minus its bias; the output scale adds it back.
        self.b_base9.next = bit_cast::<SCALE_BITS, 8>(self.q_block.q.val().get_bits::<8>(self.k_b_base.val().index()));
        if self.b_en.val() & (self.b_kind.val() == self.k_kind_e4.val()) {
            self.scale_job.next = self.scale_fmt.val() + self.k_win_e4.val();
        }
        if self.b_en.val() & (self.b_kind.val() == self.k_kind_e8.val()) {
            self.scale_job.next = self.scale_fmt.val() + self.b_base9.val() + self.k_bias_e8.val();
        }
        self.b_ragged.next = self.b_en.val()
            & ((self.q_kb.q.val() & ((self.k1_32.val() << bit_cast::<32, 3>(self.b_log.val())) - self.k1_32.val()))
                != self.k0_32.val());
        JobRegsIn::link(&mut self.job, &mut self.check.job);
        self.q_bad.d.next = (self.q_kb.q.val() > self.k_kbmax.val()) | self.b_ragged.val();
        self.t_kbq.next = (self.q_kb.q.val() + self.k_wpb_m1.val()) >> self.k_wpb_log.val();

        self.busy.next = self.main.q.val() != Main::Idle;
        self.running.next = self.main.q.val() == Main::Run;
        self.job_done.next = false;
        self.job_error.next = self.err.q.val();
        self.run_start.next = self.run_q.q.val();
        self.run_q.d.next = false;
        self.finish.next = false;

        match self.main.q.val() {
            Main::Idle => {
                if self.start.val() {
                    self.q_m.d.next = self.job.m.val();
                    self.q_n.d.next = self.job.n.val();
                    self.q_k.d.next = self.job.k.val();
                    self.q_fmt.d.next = self.job.fmt.val();
                    self.q_a_addr.d.next = self.job.a_addr.val();
                    self.q_w_addr.d.next = self.job.w_addr.val();
                    self.q_c_addr.d.next = self.job.c_addr.val();
                    self.q_a_stride.d.next = self.job.a_stride.val();
                    self.q_w_stride.d.next = self.job.w_stride.val();
                    self.q_c_stride.d.next = self.job.c_stride.val();
                    self.q_scale_addr.d.next = self.job.scale_addr.val();
                    self.q_scale_on.d.next = self.job.scale_addr.val() != self.k0_32.val();
                    self.q_block.d.next = self.job.block.val();
                    self.q_bs_addr.d.next = self.job.bs_addr.val();
                    self.q_zero.d.next = self.check.zero.val();
                    self.q_mis.d.next = self.check.misaligned.val();
                    self.q_l4.d.next = self.check.l4.val();
                    self.q_l2.d.next = self.check.l2.val();
                    self.q_fmt_ok.d.next = self.check.fmt_ok.val();
                    self.q_b_bad.d.next = self.check.b_bad.val();
                    self.err.d.next = 0.into();
                    self.abort_q.d.next = false;
                    self.main.d.next = Main::Check;
                }
            }
            Main::Check => {
                if self.q_zero.q.val() | !self.q_fmt_ok.q.val() | self.q_b_bad.q.val() {
                    self.err.d.next = self.k_e_bad_job.val();
                    self.main.d.next = Main::Finish;
                } else if self.q_mis.q.val() {
                    self.err.d.next = self.k_e_bad_addr.val();
                    self.main.d.next = Main::Finish;
                } else {
                    // Operand words per row: K over the lanes of the format pair.
                    if self.q_l4.q.val() {
                        self.q_kb.d.next = (self.q_k.q.val() + self.k_l4_m1.val()) >> self.k_l4_log.val();
                    } else if self.q_l2.q.val() {
                        self.q_kb.d.next = (self.q_k.q.val() + self.k_l2_m1.val()) >> self.k_l2_log.val();
                    } else {
                        self.q_kb.d.next = self.q_k.q.val();
                    }
                    self.q_mblocks.d.next = (self.q_m.q.val() + self.k_rows_m1.val()) >> self.k_logr.val();
                    self.q_ntiles.d.next = (self.q_n.q.val() + self.k_cols_m1.val()) >> self.k_logc.val();
                    self.main.d.next = Main::Vet;
                }
            }
            Main::Vet => {
                self.main.d.next = Main::Derive;
            }
            Main::Derive => {
                if self.q_bad.q.val() {
                    self.err.d.next = self.k_e_bad_job.val();
                    self.main.d.next = Main::Finish;
                } else {
                    self.q_kbq.d.next = bit_cast::<16, 32>(self.t_kbq.val());
                    self.q_kbq_bytes.d.next = self.t_kbq.val() << self.k_beat_log.val();
                    if self.q_kb.q.val() > self.k_min_period.val() {
                        self.q_period.d.next = bit_cast::<16, 32>(self.q_kb.q.val());
                    } else {
                        self.q_period.d.next = self.k_min_period16.val();
                    }
                    self.q_stripe_tiles.d.next = 0.into();
                    self.room_words.d.next = self.k_wwords.val();
                    self.room_bs.d.next = self.k_bs_half.val();
                    self.q_bs_tile.d.next = ((self.q_kb.q.val() >> bit_cast::<32, 3>(self.b_log.val()))
                        + self.k_bpl_m1.val())
                        >> self.k_bpl_log.val();
                    self.main.d.next = Main::Plan;
                }
            }
            Main::Plan => {
                // As many column tiles as half a W bank and the output buffer hold. The room left
                // is counted down, so each test is one compare of two registers (an add before
                // the compare was the top's critical path).
                if (self.q_kbq.q.val() <= self.room_words.q.val())
                    & (self.q_stripe_tiles.q.val() < self.k_otiles.val())
                    & (!self.b_en.val() | (self.q_bs_tile.q.val() <= self.room_bs.q.val()))
                {
                    self.room_words.d.next = self.room_words.q.val() - self.q_kbq.q.val();
                    self.room_bs.d.next = self.room_bs.q.val() - self.q_bs_tile.q.val();
                    self.q_stripe_tiles.d.next = self.q_stripe_tiles.q.val() + self.k1_16.val();
                } else {
                    self.main.d.next = Main::Run;
                    self.run_q.d.next = true;
                    self.done_q.d.next = false;
                }
            }
            Main::Run => {
                if self.done_q.q.val() {
                    self.main.d.next = Main::Finish;
                } else if self.abort_q.q.val() {
                    self.main.d.next = Main::Drain;
                }
            }
            Main::Drain => {
                if self.ld_quiet.val() & self.st_idle.val() & self.rd_idle.val() & self.wr_idle.val() {
                    self.main.d.next = Main::Finish;
                }
            }
            Main::Finish => {
                self.job_done.next = true;
                self.finish.next = true;
                self.main.d.next = Main::Idle;
            }
            _ => {
                self.main.d.next = Main::Idle;
            }
        }
        if self.ld_fail.val() {
            self.err.d.next = self.ld_code.val();
            self.abort_q.d.next = true;
        }
        if self.st_fail.val() {
            self.err.d.next = self.st_code.val();
            self.abort_q.d.next = true;
        }
        if self.stored.val() {
            self.done_q.d.next = self.stored_last.val();
        }
        if self.reset.val() {
            self.main.d.next = Main::Idle;
            self.err.d.next = 0.into();
            self.abort_q.d.next = false;
            self.run_q.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::cycle;
    use crate::spec::regs;
    use crate::spec::Format;

    /// Starts a job on the 4×4 test config and runs until the engines start or the job ends.
    /// Returns the plan and the cycles it took.
    fn plan(m: u64, n: u64, k: u64, fmt: u64, a_addr: u64) -> (JobPlan, usize) {
        plan_on(&NpeConfig::TEST, m, n, k, fmt, a_addr)
    }

    fn plan_on(cfg: &NpeConfig, m: u64, n: u64, k: u64, fmt: u64, a_addr: u64) -> (JobPlan, usize) {
        plan_blocks(cfg, m, n, k, fmt, a_addr, 0, 0)
    }

    /// [`plan_on`] with registers BLOCK and BS_ADDR.
    #[allow(clippy::too_many_arguments)]
    fn plan_blocks(
        cfg: &NpeConfig,
        m: u64,
        n: u64,
        k: u64,
        fmt: u64,
        a_addr: u64,
        block: u32,
        bs_addr: u64,
    ) -> (JobPlan, usize) {
        let mut p = JobPlan::new(cfg);
        p.connect_all();
        p.reset.next = true;
        cycle(&mut p);
        p.reset.next = false;
        p.job.m.next = bits(m);
        p.job.n.next = bits(n);
        p.job.k.next = bits(k);
        p.job.fmt.next = bits(fmt);
        p.job.a_addr.next = bits(a_addr);
        p.job.block.next = bits(u64::from(block));
        p.job.bs_addr.next = bits(bs_addr);
        p.start.next = true;
        cycle(&mut p);
        p.start.next = false;
        for t in 1..100 {
            if p.run_start.val() || p.job_done.val() {
                return (p, t);
            }
            cycle(&mut p);
        }
        panic!("the job neither started nor ended");
    }

    fn fmt(a: Format, w: Format) -> u64 {
        let r = regs::register("FMT").unwrap();
        let v = r.field("A").unwrap().set(0, a.id() as u32);
        r.field("W").unwrap().set(v, w.id() as u32) as u64
    }

    #[test]
    fn a_job_is_sized_from_its_formats_and_the_buffers() {
        // INT8 × INT8: 2 lanes, K = 100 → 50 words per row, 7 beats (112 bytes).
        let (p, _) = plan(10, 300, 100, fmt(Format::Int8, Format::Int8), 0);
        // The engines' start pulse comes from a register, the cycle after Run is entered.
        assert!(p.run_start.val() && p.busy.val() && p.running.val());
        assert_eq!(p.kb.val().to_u64(), 50);
        assert_eq!(p.kbq.val().to_u64(), 7);
        assert_eq!(p.kbq_bytes.val().to_u64(), 112);
        assert_eq!(p.period.val().to_u64(), 50);
        assert_eq!(p.mblocks.val().to_u64(), 3);
        assert_eq!(p.ntiles.val().to_u64(), 75);
        // Half a W bank: 512 beats / 7 = 73 tiles, but the output buffer holds 32.
        assert_eq!(p.stripe_tiles.val().to_u64(), NpeConfig::TEST.out_tiles as u64);
        // FP4: 4 lanes, K = 4 → 1 word, shorter than R·S: a tile takes R·S = 4 · 2 cycles.
        let (p, _) = plan(1, 1, 4, fmt(Format::Fp4E2M1, Format::Fp4E2M1), 0);
        assert_eq!((p.kb.val().to_u64(), p.period.val().to_u64()), (1, 8));
        // npe8x8le8: two columns per output unit, so a tile takes at least 8 · 2 cycles.
        let le8 = NpeConfig::LE8;
        assert_eq!(le8.cols_per_output_unit, 2);
        let fp4 = fmt(Format::Fp4E2M1, Format::Fp4E2M1);
        for (k, kb, period) in [(4, 1, 16), (64, 16, 16), (68, 17, 17)] {
            let (p, _) = plan_on(&le8, 8, 8, k, fp4, 0);
            assert_eq!((p.kb.val().to_u64(), p.period.val().to_u64()), (kb, period), "K {k}");
        }
        // 16-bit: K = 1000 words → 125 beats, four tiles per half W bank.
        let (p, _) = plan(1, 8, 1000, fmt(Format::Int16, Format::Int16), 0);
        assert_eq!((p.kbq.val().to_u64(), p.stripe_tiles.val().to_u64()), (125, 4));
    }

    #[test]
    fn bad_jobs_end_at_once_with_their_code() {
        let int8 = fmt(Format::Int8, Format::Int8);
        for (m, k, a_addr, code) in [
            (0, 8, 0, ErrorCode::BadJob),
            (4, 0, 0, ErrorCode::BadJob),
            (4, 8, 8, ErrorCode::BadAddress),
            // 2 lanes: K = 2 · (k_beats_max + 1) words does not fit an A half.
            (4, 2 * (NpeConfig::TEST.k_beats_max as u64 + 1), 0, ErrorCode::BadJob),
        ] {
            let (p, _) = plan(m, 8, k, int8, a_addr);
            assert!(p.job_done.val() && !p.run_start.val());
            assert_eq!(p.job_error.val().to_u64(), code as u64, "m {m} k {k} a {a_addr}");
        }
        // The format pair, checked from FMT as START takes it: a pair the preset does not
        // multiply (INT16 on the ≤ 8-bit preset) or an output format past the last.
        let out = regs::register("FMT").unwrap().field("OUT").unwrap();
        let bad_out = out.set(int8 as u32, (1 << out.width) - 1) as u64;
        for (cfg, fmt) in [
            (&NpeConfig::LE8, fmt(Format::Int16, Format::Int16)),
            (&NpeConfig::TEST, bad_out),
        ] {
            let (p, _) = plan_on(cfg, 4, 8, 8, fmt, 0);
            assert!(p.job_done.val() && !p.run_start.val(), "{} FMT {fmt:#x}", cfg.name);
            assert_eq!(
                p.job_error.val().to_u64(),
                ErrorCode::BadJob as u64,
                "{} FMT {fmt:#x}",
                cfg.name
            );
        }
    }

    /// BLOCK is checked before anything runs: block scales on a device without them, an
    /// unknown kind, blocks shorter than their scale's bits or than the 4-word floor, a row of
    /// packed words that is not whole blocks, and a misaligned BS_ADDR end the job at once.
    #[test]
    fn block_jobs_are_checked() {
        use crate::spec::block_scale::ScaleCode;
        use regs::block::{BEATS_LOG2, EN, KIND};
        let block = |kind: u32, log: u32| {
            let v = EN.set(0, 1);
            BEATS_LOG2.set(KIND.set(v, kind), log)
        };
        let e4 = u32::from(ScaleCode::E4m3.id());
        let u8k = u32::from(ScaleCode::U8.id());
        let e8 = u32::from(ScaleCode::E8m0.id());
        let blocks = NpeConfig {
            block_scales: true,
            ..NpeConfig::LE8
        };
        // INT8 × FP4: two lanes, K = 64 is 32 packed words.
        let f = fmt(Format::Int8, Format::Fp4E2M1);
        for (cfg, k, b, bs, want) in [
            (&NpeConfig::LE8, 64, block(e4, 2), 0, Some(ErrorCode::BadJob)),
            (&NpeConfig::LE8, 64, 0, 8, None),
            (&blocks, 64, block(e4, 2), 0, None),
            (&blocks, 64, block(e8, 2), 0, None),
            (&blocks, 64, block(u8k, 3), 0, None),
            (&blocks, 64, block(u8k, 2), 0, Some(ErrorCode::BadJob)),
            (&blocks, 64, block(e8, 1), 0, Some(ErrorCode::BadJob)),
            (&blocks, 64, block(3, 2), 0, Some(ErrorCode::BadJob)),
            (&blocks, 66, block(e4, 2), 0, Some(ErrorCode::BadJob)),
            (&blocks, 64, block(e4, 2), 8, Some(ErrorCode::BadAddress)),
            (&blocks, 64, block(e4, 2), 64, None),
        ] {
            let (p, _) = plan_blocks(cfg, 4, 8, k, f, 0, b, bs);
            let what = format!("{} k {k} block {b:#x} bs {bs}", cfg.name);
            match want {
                None => assert!(p.run_start.val(), "{what}: runs"),
                Some(code) => {
                    assert!(p.job_done.val() && !p.run_start.val(), "{what}: ends");
                    assert_eq!(p.job_error.val().to_u64(), code as u64, "{what}");
                }
            }
        }
    }
}
