//! The accelerator core: operand buffers, the R×C PE array with its per-column output units,
//! the output buffer, and the controller that runs a job tile by tile. The DMA engines and the
//! register file sit beside it in [`super::top`].
//!
//! ```text
//!  read DMA ─► loader ─► A banks (one per row, 2 halves) ──skew──► a → PE row (systolic →)
//!                    ├─► W banks (one per column, 2 stripe halves) ─skew─► w ↓ PE column
//!                    └─► scale banks (one per column) ─────────────► output unit scale
//!  PE(r,c) finishes (last beat + PE latency) ─► column c picks row r's acc ─► output unit c
//!  output unit c ─► out bank c (2 halves) ─► storer ─► write DMA
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
//! multiplied against every column tile of the stripe (K beats per tile, or R when K is
//! shorter, so a column's output unit sees one row per cycle), and finished blocks are written
//! out from the other half of the output buffer while the next block computes.
//!
//! **Systolic timing.** Row r's A-bank reads and column c's W-bank reads are delayed r and c
//! cycles; activations then move right and weights down one PE per cycle, so PE(r,c) sees beat
//! k of its row and column together, `r + c` cycles after PE(0,0). The `last` flag travels with
//! the activations and, delayed by the PE latency, marks the one cycle in which PE(r,c)'s
//! accumulator holds its finished sum; PEs of a column finish on consecutive cycles, so each
//! column's output unit takes one row per cycle.

use crate::decode::format_decode::FMT_BITS;
use crate::output::{OutputUnit, SCALE_BITS};
use crate::pe::{ACC_WIDTH, PE_LATENCY};
use crate::spec::config::{NpeConfig, AXI_DATA_BITS};
use crate::spec::{regs::ErrorCode, Format};
use rust_hdl::prelude::*;

use super::loader::Loader;
use super::pe_slot::PeSlot;
use super::result_walk::ResultWalk;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;

/// RAM words (16 bytes, 8 operand words) per A-bank half: `k_beats_max / 8`, as address bits.
pub const A_HALF_BITS: usize = 7;
/// Address bits of an A bank (two halves).
pub const A_ADDR_BITS: usize = A_HALF_BITS + 1;
/// Address bits of a W bank (16-byte words).
pub const W_ADDR_BITS: usize = 10;
/// Address bits of an output bank: half, row (≤ 8), column tile (≤ 32).
pub const O_ADDR_BITS: usize = 9;
/// Address bits of a column-scale bank: stripe number mod 4, tile of the stripe (≤ 32). Four
/// stripes, not two: with double-buffered W banks the loader may fetch stripe s + 2's scales
/// while stripe s's last results are still being rounded.
pub const S_ADDR_BITS: usize = 7;
/// Column-scale bank address: offset of the stripe number.
const S_SP_SHIFT: u64 = 5;
/// Output-bank address: row field offset.
const O_ROW_SHIFT: u64 = 5;
/// Output-bank address: half bit.
const O_HALF_SHIFT: u64 = 8;

const _: () = assert!(
    PE_LATENCY == 6,
    "the array's finish delay line is written for a PE latency of 6"
);
const _: () = assert!(AXI_DATA_BITS == 128);

/// The sizes every preset shares (the address widths above are derived from them).
pub const fn buffers_fit(cfg: &NpeConfig) -> bool {
    cfg.k_beats_max / 8 == 1 << A_HALF_BITS
        && cfg.w_bank_words / 8 == 1 << W_ADDR_BITS
        && cfg.out_tiles <= 1 << O_ROW_SHIFT
        && cfg.out_tiles <= 1 << S_SP_SHIFT
        && cfg.cols <= 8
        && cfg.rows <= 1 << (O_HALF_SHIFT - O_ROW_SHIFT)
        && cfg.cols.is_multiple_of(4)
}

/// A 16-bit mask with bit `id` set for every format `pick` accepts.
fn id_mask(pick: impl Fn(Format) -> bool) -> u64 {
    Format::ALL
        .into_iter()
        .filter(|&f| pick(f))
        .fold(0u64, |m, f| m | 1 << f.id())
}

/// `n` registers.
fn dffs<T: Synth>(n: usize) -> Vec<DFF<T>> {
    (0..n).map(|_| DFF::default()).collect()
}

/// Controller states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Main {
    /// Waiting for START.
    Idle,
    /// Validating the job registers.
    Check,
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

/// Compute-engine states.
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

/// Storer states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Store {
    /// Nothing to store.
    Idle,
    /// Waiting for a finished block in the output buffer.
    Wait,
    /// Issuing a row's write command.
    Issue,
    /// Streaming the row's beats to the write DMA.
    Stream,
    /// Waiting for the write response.
    WaitDone,
}

macro_rules! accel_core {
    ($name:ident, $r:tt, $c:tt, $logr:tt, $logc:tt, $groups:tt, $loggroups:tt, [$($g:tt),*]) => {
        /// The accelerator core for one array shape (see the module docs).
        #[derive(LogicBlock)]
        pub struct $name {
            /// Clock.
            pub clock: Signal<In, Clock>,
            /// Synchronous reset (also the register file's SOFT_RESET).
            pub reset: Signal<In, Bit>,
            /// Start the job in the job registers (one-cycle pulse).
            pub start: Signal<In, Bit>,
            /// Job register M.
            pub m: Signal<In, Bits<32>>,
            /// Job register N.
            pub n: Signal<In, Bits<32>>,
            /// Job register K.
            pub k: Signal<In, Bits<32>>,
            /// Job register FMT.
            pub fmt: Signal<In, Bits<32>>,
            /// Job register A_ADDR.
            pub a_addr: Signal<In, Bits<32>>,
            /// Job register W_ADDR.
            pub w_addr: Signal<In, Bits<32>>,
            /// Job register C_ADDR.
            pub c_addr: Signal<In, Bits<32>>,
            /// Job register A_STRIDE.
            pub a_stride: Signal<In, Bits<32>>,
            /// Job register W_STRIDE.
            pub w_stride: Signal<In, Bits<32>>,
            /// Job register C_STRIDE.
            pub c_stride: Signal<In, Bits<32>>,
            /// Job register SCALE_ADDR (0: no column scales).
            pub scale_addr: Signal<In, Bits<32>>,
            /// A job is running.
            pub busy: Signal<Out, Bit>,
            /// The job ended (one-cycle pulse).
            pub job_done: Signal<Out, Bit>,
            /// Why it ended ([`ErrorCode`]), with `job_done`.
            pub job_error: Signal<Out, Bits<4>>,
            /// The array waited for operands or output space this cycle.
            pub stall: Signal<Out, Bit>,
            /// Read DMA command.
            pub rd_cmd_valid: Signal<Out, Bit>,
            /// Read DMA accepts a command (it is idle).
            pub rd_cmd_ready: Signal<In, Bit>,
            /// Read command byte address.
            pub rd_cmd_addr: Signal<Out, Bits<32>>,
            /// Read command beats.
            pub rd_cmd_beats: Signal<Out, Bits<16>>,
            /// A read data beat.
            pub rd_data_valid: Signal<In, Bit>,
            /// Read data.
            pub rd_data: Signal<In, Bits<BUS>>,
            /// The read command ended.
            pub rd_done: Signal<In, Bit>,
            /// Its AXI response (0 OKAY, 2 SLVERR, 3 DECERR).
            pub rd_err: Signal<In, Bits<2>>,
            /// Write DMA command.
            pub wr_cmd_valid: Signal<Out, Bit>,
            /// Write DMA accepts a command (it is idle).
            pub wr_cmd_ready: Signal<In, Bit>,
            /// Write command byte address.
            pub wr_cmd_addr: Signal<Out, Bits<32>>,
            /// Write command beats.
            pub wr_cmd_beats: Signal<Out, Bits<16>>,
            /// A write data beat is offered.
            pub wr_data_valid: Signal<Out, Bit>,
            /// The write DMA takes it.
            pub wr_data_ready: Signal<In, Bit>,
            /// Write data.
            pub wr_data: Signal<Out, Bits<BUS>>,
            /// The write command ended.
            pub wr_done: Signal<In, Bit>,
            /// Its AXI response.
            pub wr_err: Signal<In, Bits<2>>,

            // ---- job, latched at START
            main: DFF<Main>,
            j_m: DFF<Bits<32>>,
            j_n: DFF<Bits<32>>,
            j_k: DFF<Bits<32>>,
            j_fmt: DFF<Bits<32>>,
            j_a_addr: DFF<Bits<32>>,
            j_w_addr: DFF<Bits<32>>,
            j_c_addr: DFF<Bits<32>>,
            j_a_stride: DFF<Bits<32>>,
            j_w_stride: DFF<Bits<32>>,
            j_c_stride: DFF<Bits<32>>,
            j_scale_addr: DFF<Bits<32>>,
            err: DFF<Bits<4>>,
            abort: DFF<Bit>,
            done_q: DFF<Bit>,
            a_fmt: Signal<Local, Bits<FMT_BITS>>,
            w_fmt: Signal<Local, Bits<FMT_BITS>>,
            out_fmt: Signal<Local, Bits<3>>,
            scale_exp: Signal<Local, Bits<8>>,
            scale_on: Signal<Local, Bit>,
            // The job's scale and each column's, sign-extended to the output unit's width.
            scale_job: Signal<Local, Bits<SCALE_BITS>>,
            scale_col: Vec<Signal<Local, Bits<SCALE_BITS>>>,
            unused_scale: Vec<Signal<Local, Bits<16>>>,
            unused_fmt: Signal<Local, Bits<32>>,
            // derived
            kb: DFF<Bits<32>>,
            kbq: DFF<Bits<16>>,
            kbq_bytes: DFF<Bits<32>>,
            period: DFF<Bits<16>>,
            mblocks: DFF<Bits<32>>,
            ntiles: DFF<Bits<32>>,
            stripe_tiles: DFF<Bits<16>>,
            plan_words: DFF<Bits<16>>,
            l4: Signal<Local, Bit>,
            l2: Signal<Local, Bit>,
            fmt_ok: Signal<Local, Bit>,
            misaligned: Signal<Local, Bit>,
            t_kbq: Signal<Local, Bits<32>>,
            t_bpr: Signal<Local, Bits<32>>,
            // Upper bits that are zero by construction (counts and addresses below their widths).
            unused_bpr: Signal<Local, Bits<32>>,
            unused_raddr: Signal<Local, Bits<16>>,
            unused_aaddr: Signal<Local, Bits<16>>,
            unused_waddr: Signal<Local, Bits<16>>,
            unused_off: Signal<Local, Bits<16>>,
            unused_oaddr: Signal<Local, Bits<16>>,
            // The last column passes no flags on.
            unused_last: Vec<Signal<Local, Bit>>,
            // sync flags between engines
            a_full0: DFF<Bit>,
            a_full1: DFF<Bit>,
            // a W-bank half holds a loaded stripe (half = stripe number's bit 0)
            w_full0: DFF<Bit>,
            w_full1: DFF<Bit>,
            o_claim0: DFF<Bit>,
            o_claim1: DFF<Bit>,
            o_ready0: DFF<Bit>,
            o_ready1: DFF<Bit>,
            o_last0: DFF<Bit>,
            o_last1: DFF<Bit>,
            o_m0_0: DFF<Bits<32>>,
            o_m0_1: DFF<Bits<32>>,
            o_n0_0: DFF<Bits<32>>,
            o_n0_1: DFF<Bits<32>>,
            o_tiles0: DFF<Bits<16>>,
            o_tiles1: DFF<Bits<16>>,
            // stripe number (mod 4) of the block in each output half (selects its column scales)
            o_sp0: DFF<Bits<2>>,
            o_sp1: DFF<Bits<2>>,

            // ---- loader
            ld: Loader,
            ld_start: Signal<Local, Bit>,
            ld_stop: Signal<Local, Bit>,
            // routing of incoming beats
            r_j: DFF<Bits<16>>,
            r_idx: DFF<Bits<8>>,
            r_tbase: DFF<Bits<16>>,
            r_addr: Signal<Local, Bits<16>>,
            r_s: DFF<Bits<S_ADDR_BITS>>,
            abank: Vec<RAM<Bits<BUS>, A_ADDR_BITS>>,
            wbank: Vec<RAM<Bits<BUS>, W_ADDR_BITS>>,
            idx: Vec<Constant<Bits<8>>>,
            // Column scales: one bank per column, entry (stripe parity, tile of the stripe); a
            // DMA beat carries one column tile's scales, 16 bits per column (sign-extended
            // 8-bit values: the low SCALE_BITS are used, the rest is sign).
            sbank: Vec<RAM<Bits<16>, S_ADDR_BITS>>,
            sbyte: Vec<Constant<Bits<7>>>,
            // read side: (half, row, tile) of the result column 0's output unit takes next,
            // the bank address delayed one cycle per column
            i_walk: ResultWalk,
            // the input side needs the tile and half, not the row or the end of a half
            unused_iwalk: Signal<Local, Bits<16>>,
            unused_iend: Signal<Local, Bit>,
            s_addr0: Signal<Local, Bits<S_ADDR_BITS>>,
            s_waddr: Signal<Local, Bits<S_ADDR_BITS>>,
            sad: Vec<DFF<Bits<S_ADDR_BITS>>>,

            // ---- compute engine
            cp: DFF<Comp>,
            c_n0t: DFF<Bits<32>>,
            c_st: DFF<Bits<16>>,
            c_block: DFF<Bits<32>>,
            c_half: DFF<Bit>,
            c_t: DFF<Bits<16>>,
            c_k: DFF<Bits<16>>,
            c_tbase: DFF<Bits<16>>,
            c_sp: DFF<Bits<2>>,
            w_avail: Signal<Local, Bit>,
            c_left: Signal<Local, Bits<32>>,
            beat_valid: Signal<Local, Bit>,
            beat_first: Signal<Local, Bit>,
            beat_last: Signal<Local, Bit>,
            beat_aaddr: Signal<Local, Bits<16>>,
            beat_waddr: Signal<Local, Bits<16>>,
            beat_off: Signal<Local, Bits<16>>,
            // skew: control per row (A address, select, flags) and per column (W address, select)
            ad_addr: Vec<DFF<Bits<A_ADDR_BITS>>>,
            ad_off: Vec<DFF<Bits<7>>>,
            ad_flags: Vec<DFF<Bits<3>>>,
            as_off: Vec<DFF<Bits<7>>>,
            as_flags: Vec<DFF<Bits<3>>>,
            wd_addr: Vec<DFF<Bits<W_ADDR_BITS>>>,
            wd_off: Vec<DFF<Bits<7>>>,
            ws_off: Vec<DFF<Bits<7>>>,
            // systolic registers
            areg: Vec<DFF<Bits<16>>>,
            freg: Vec<DFF<Bits<3>>>,
            wreg: Vec<DFF<Bits<16>>>,
            lastd: Vec<DFF<Bit>>,
            finc: Vec<DFF<Bit>>,
            fin: Vec<Signal<Local, Bit>>,
            pes: Vec<PeSlot>,

            // ---- column readout and output units
            colacc: Vec<DFF<Bits<ACC_WIDTH>>>,
            colv: Vec<DFF<Bit>>,
            colnan: Vec<DFF<Bit>>,
            colpinf: Vec<DFF<Bit>>,
            colninf: Vec<DFF<Bit>>,
            selacc: Vec<Signal<Local, Bits<ACC_WIDTH>>>,
            selv: Vec<Signal<Local, Bit>>,
            selnan: Vec<Signal<Local, Bit>>,
            selpinf: Vec<Signal<Local, Bit>>,
            selninf: Vec<Signal<Local, Bit>>,
            ou: Vec<OutputUnit>,
            // output-buffer write side: address counter at column 0, delayed per column
            o_walk: ResultWalk,
            walk_clear: Signal<Local, Bit>,
            o_addr0: Signal<Local, Bits<16>>,
            oad: Vec<DFF<Bits<O_ADDR_BITS>>>,
            oend: Vec<DFF<Bit>>,
            obank: Vec<RAM<Bits<32>, O_ADDR_BITS>>,

            // ---- storer
            sto: DFF<Store>,
            s_half: DFF<Bit>,
            s_rows: DFF<Bits<32>>,
            s_row: DFF<Bits<16>>,
            s_bpr: DFF<Bits<16>>,
            s_ptr: DFF<Bits<32>>,
            s_p: DFF<Bits<16>>,
            s_primed: DFF<Bit>,
            s_last: DFF<Bit>,
            s_cols: Signal<Local, Bits<32>>,
            s_m0: Signal<Local, Bits<32>>,
            s_n0: Signal<Local, Bits<32>>,
            s_tiles: Signal<Local, Bits<16>>,
            s_accept: Signal<Local, Bit>,
            s_pn: Signal<Local, Bits<16>>,
            s_raddr: Signal<Local, Bits<16>>,
            s_group: Signal<Local, Bits<16>>,

            // ---- constants
            k0_16: Constant<Bits<16>>,
            k1_16: Constant<Bits<16>>,
            k3_16: Constant<Bits<16>>,
            k4_16: Constant<Bits<16>>,
            k7_16: Constant<Bits<16>>,
            k0_32: Constant<Bits<32>>,
            k1_32: Constant<Bits<32>>,
            k2_32: Constant<Bits<32>>,
            k3_32: Constant<Bits<32>>,
            k4_32: Constant<Bits<32>>,
            k7_32: Constant<Bits<32>>,
            k15_32: Constant<Bits<32>>,
            k_rows_m1: Constant<Bits<32>>,
            k_cols_m1: Constant<Bits<32>>,
            k_rows: Constant<Bits<32>>,
            k_rows16: Constant<Bits<16>>,
            k0_2: Constant<Bits<2>>,
            k1_2: Constant<Bits<2>>,
            k1_3: Constant<Bits<3>>,
            k2_3: Constant<Bits<3>>,
            k32_128: Constant<Bits<BUS>>,
            k64_128: Constant<Bits<BUS>>,
            k96_128: Constant<Bits<BUS>>,
            k_logr: Constant<Bits<32>>,
            k_logc: Constant<Bits<32>>,
            k_logc2: Constant<Bits<32>>,
            k_loggroups: Constant<Bits<16>>,
            k_groups_m1: Constant<Bits<16>>,
            k_kbmax: Constant<Bits<32>>,
            k_wwords: Constant<Bits<16>>,
            k_whalf: Constant<Bits<16>>,
            k_otiles: Constant<Bits<16>>,
            k_ahalf: Constant<Bits<16>>,
            k_ohalf: Constant<Bits<16>>,
            k_sp: Constant<Bits<S_ADDR_BITS>>,
            k1_s: Constant<Bits<S_ADDR_BITS>>,
            k_sext9: Constant<Bits<SCALE_BITS>>,
            k4_3: Constant<Bits<3>>,
            beat_flags: Signal<Local, Bits<3>>,
            k_orow_shift: Constant<Bits<16>>,
            k_nout: Constant<Bits<3>>,
            k_slot4: Constant<Bits<16>>,
            k_slot16: Constant<Bits<16>>,
            k_mac_ok: Constant<Bits<16>>,
            k_e_bad_job: Constant<Bits<4>>,
            k_e_bad_addr: Constant<Bits<4>>,
            k_e_wr: Constant<Bits<4>>,
        }

        impl $name {
            /// Rows and columns of this core.
            pub const SHAPE: (u32, u32) = ($r, $c);

            /// The core for `cfg`, whose shape must be [`Self::SHAPE`].
            pub fn new(cfg: &NpeConfig) -> Self {
                assert_eq!((cfg.rows, cfg.cols), Self::SHAPE, "core shape");
                assert!(buffers_fit(cfg), "buffer sizes of {} differ from the core's", cfg.name);
                assert_eq!(1u32 << $logr, $r);
                assert_eq!(1u32 << $logc, $c);
                assert_eq!(1u32 << $loggroups, $groups);
                assert_eq!($groups * 4, $c);
                let (r, c): (usize, usize) = ($r, $c);
                Self {
                    clock: Default::default(),
                    reset: Default::default(),
                    start: Default::default(),
                    m: Default::default(),
                    n: Default::default(),
                    k: Default::default(),
                    fmt: Default::default(),
                    a_addr: Default::default(),
                    w_addr: Default::default(),
                    c_addr: Default::default(),
                    a_stride: Default::default(),
                    w_stride: Default::default(),
                    c_stride: Default::default(),
                    scale_addr: Default::default(),
                    busy: Default::default(),
                    job_done: Default::default(),
                    job_error: Default::default(),
                    stall: Default::default(),
                    rd_cmd_valid: Default::default(),
                    rd_cmd_ready: Default::default(),
                    rd_cmd_addr: Default::default(),
                    rd_cmd_beats: Default::default(),
                    rd_data_valid: Default::default(),
                    rd_data: Default::default(),
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
                    main: Default::default(),
                    j_m: Default::default(),
                    j_n: Default::default(),
                    j_k: Default::default(),
                    j_fmt: Default::default(),
                    j_a_addr: Default::default(),
                    j_w_addr: Default::default(),
                    j_c_addr: Default::default(),
                    j_a_stride: Default::default(),
                    j_w_stride: Default::default(),
                    j_c_stride: Default::default(),
                    j_scale_addr: Default::default(),
                    err: Default::default(),
                    abort: Default::default(),
                    done_q: Default::default(),
                    a_fmt: Default::default(),
                    w_fmt: Default::default(),
                    out_fmt: Default::default(),
                    scale_exp: Default::default(),
                    scale_on: Default::default(),
                    scale_job: Default::default(),
                    scale_col: (0..c).map(|_| Default::default()).collect(),
                    unused_scale: (0..c).map(|_| Default::default()).collect(),
                    unused_fmt: Default::default(),
                    kb: Default::default(),
                    kbq: Default::default(),
                    kbq_bytes: Default::default(),
                    period: Default::default(),
                    mblocks: Default::default(),
                    ntiles: Default::default(),
                    stripe_tiles: Default::default(),
                    plan_words: Default::default(),
                    l4: Default::default(),
                    l2: Default::default(),
                    fmt_ok: Default::default(),
                    misaligned: Default::default(),
                    t_kbq: Default::default(),
                    t_bpr: Default::default(),
                    unused_bpr: Default::default(),
                    unused_raddr: Default::default(),
                    unused_aaddr: Default::default(),
                    unused_waddr: Default::default(),
                    unused_off: Default::default(),
                    unused_oaddr: Default::default(),
                    unused_last: (0..r).map(|_| Default::default()).collect(),
                    a_full0: Default::default(),
                    a_full1: Default::default(),
                    w_full0: Default::default(),
                    w_full1: Default::default(),
                    o_claim0: Default::default(),
                    o_claim1: Default::default(),
                    o_ready0: Default::default(),
                    o_ready1: Default::default(),
                    o_last0: Default::default(),
                    o_last1: Default::default(),
                    o_m0_0: Default::default(),
                    o_m0_1: Default::default(),
                    o_n0_0: Default::default(),
                    o_n0_1: Default::default(),
                    o_tiles0: Default::default(),
                    o_tiles1: Default::default(),
                    o_sp0: Default::default(),
                    o_sp1: Default::default(),
                    ld: Loader::new($r, $c),
                    ld_start: Default::default(),
                    ld_stop: Default::default(),
                    r_j: Default::default(),
                    r_idx: Default::default(),
                    r_tbase: Default::default(),
                    r_addr: Default::default(),
                    abank: (0..r).map(|_| RAM::default()).collect(),
                    wbank: (0..c).map(|_| RAM::default()).collect(),
                    r_s: Default::default(),
                    sbank: (0..c).map(|_| RAM::default()).collect(),
                    sbyte: (0..c).map(|i| Constant::new(((16 * i) as u64).into())).collect(),
                    i_walk: ResultWalk::new(r),
                    unused_iwalk: Default::default(),
                    unused_iend: Default::default(),
                    s_addr0: Default::default(),
                    s_waddr: Default::default(),
                    sad: dffs(c - 1),
                    idx: (0..r.max(c)).map(|i| Constant::new((i as u64).into())).collect(),
                    cp: Default::default(),
                    c_n0t: Default::default(),
                    c_st: Default::default(),
                    c_block: Default::default(),
                    c_half: Default::default(),
                    c_t: Default::default(),
                    c_k: Default::default(),
                    c_tbase: Default::default(),
                    c_sp: Default::default(),
                    w_avail: Default::default(),
                    c_left: Default::default(),
                    beat_valid: Default::default(),
                    beat_first: Default::default(),
                    beat_last: Default::default(),
                    beat_aaddr: Default::default(),
                    beat_waddr: Default::default(),
                    beat_off: Default::default(),
                    ad_addr: dffs(r),
                    ad_off: dffs(r),
                    ad_flags: dffs(r),
                    as_off: dffs(r),
                    as_flags: dffs(r),
                    wd_addr: dffs(c),
                    wd_off: dffs(c),
                    ws_off: dffs(c),
                    areg: dffs(r * c),
                    freg: dffs(r * c),
                    wreg: dffs(r * c),
                    lastd: dffs(r * PE_LATENCY),
                    finc: dffs(r * (c - 1)),
                    fin: (0..r * c).map(|_| Default::default()).collect(),
                    pes: (0..r * c).map(|_| PeSlot::default()).collect(),
                    colacc: dffs(c),
                    colv: dffs(c),
                    colnan: dffs(c),
                    colpinf: dffs(c),
                    colninf: dffs(c),
                    selacc: (0..c).map(|_| Default::default()).collect(),
                    selv: (0..c).map(|_| Default::default()).collect(),
                    selnan: (0..c).map(|_| Default::default()).collect(),
                    selpinf: (0..c).map(|_| Default::default()).collect(),
                    selninf: (0..c).map(|_| Default::default()).collect(),
                    ou: (0..c).map(|_| OutputUnit::default()).collect(),
                    o_walk: ResultWalk::new(r),
                    walk_clear: Default::default(),
                    o_addr0: Default::default(),
                    oad: dffs(c - 1),
                    oend: dffs(c - 1),
                    obank: (0..c).map(|_| RAM::default()).collect(),
                    sto: Default::default(),
                    s_half: Default::default(),
                    s_rows: Default::default(),
                    s_row: Default::default(),
                    s_bpr: Default::default(),
                    s_ptr: Default::default(),
                    s_p: Default::default(),
                    s_primed: Default::default(),
                    s_last: Default::default(),
                    s_cols: Default::default(),
                    s_m0: Default::default(),
                    s_n0: Default::default(),
                    s_tiles: Default::default(),
                    s_accept: Default::default(),
                    s_pn: Default::default(),
                    s_raddr: Default::default(),
                    s_group: Default::default(),
                    k0_16: Constant::new(0.into()),
                    k1_16: Constant::new(1.into()),
                    k3_16: Constant::new(3.into()),
                    k4_16: Constant::new(4.into()),
                    k7_16: Constant::new(7.into()),
                    k0_32: Constant::new(0.into()),
                    k1_32: Constant::new(1.into()),
                    k2_32: Constant::new(2.into()),
                    k3_32: Constant::new(3.into()),
                    k4_32: Constant::new(4.into()),
                    k7_32: Constant::new(7.into()),
                    k15_32: Constant::new(15.into()),
                    k_rows_m1: Constant::new(($r - 1).into()),
                    k_cols_m1: Constant::new(($c - 1).into()),
                    k_rows: Constant::new(($r).into()),
                    k_rows16: Constant::new(($r).into()),
                    k0_2: Constant::new(0.into()),
                    k1_2: Constant::new(1.into()),
                    k1_3: Constant::new(1.into()),
                    k2_3: Constant::new(2.into()),
                    k32_128: Constant::new(32.into()),
                    k64_128: Constant::new(64.into()),
                    k96_128: Constant::new(96.into()),
                    k_logr: Constant::new(($logr).into()),
                    k_logc: Constant::new(($logc).into()),
                    k_logc2: Constant::new(($logc + 2).into()),
                    k_loggroups: Constant::new(($loggroups).into()),
                    k_groups_m1: Constant::new(($groups - 1).into()),
                    k_kbmax: Constant::new((cfg.k_beats_max as u64).into()),
                    // A stripe fills one half of a W bank; the other half takes the next stripe.
                    k_wwords: Constant::new(((cfg.w_bank_words / 16) as u64).into()),
                    k_whalf: Constant::new(((cfg.w_bank_words / 16) as u64).into()),
                    k_otiles: Constant::new((cfg.out_tiles as u64).into()),
                    k_ahalf: Constant::new((1u64 << A_HALF_BITS).into()),
                    k_ohalf: Constant::new((1u64 << O_HALF_SHIFT).into()),
                    k_sp: Constant::new(S_SP_SHIFT.into()),
                    k1_s: Constant::new(1u64.into()),
                    k_sext9: Constant::new((1u64 << 8).into()),
                    k4_3: Constant::new(4.into()),
                    beat_flags: Default::default(),
                    k_orow_shift: Constant::new(O_ROW_SHIFT.into()),
                    k_nout: Constant::new((crate::spec::OutputFormat::ALL.len() as u64).into()),
                    k_slot4: Constant::new(id_mask(|f| f.is_mac_operand() && f.slot_bits() <= 4).into()),
                    k_slot16: Constant::new(id_mask(|f| f.is_mac_operand() && f.slot_bits() == 16).into()),
                    k_mac_ok: Constant::new(id_mask(|f| f.is_mac_operand()).into()),
                    k_e_bad_job: Constant::new((ErrorCode::BadJob as u64).into()),
                    k_e_bad_addr: Constant::new((ErrorCode::BadAddress as u64).into()),
                    // AXI SLVERR (2) / DECERR (3) + offset = the write error codes.
                    k_e_wr: Constant::new((ErrorCode::WriteSlvErr as u64 - 2).into()),
                }
            }
        }

        impl Logic for $name {
            // rust-hdl translates `match` arms with nested `if`s, not match guards.
            #[allow(clippy::collapsible_match)]
            #[hdl_gen]
            fn update(&mut self) {
                dff_setup!(
                    self, clock, main, j_m, j_n, j_k, j_fmt, j_a_addr, j_w_addr, j_c_addr, j_a_stride, j_w_stride,
                    j_c_stride, j_scale_addr, err, abort, done_q, kb, kbq, kbq_bytes, period, mblocks, ntiles, stripe_tiles,
                    plan_words, a_full0, a_full1, w_full0, w_full1, o_claim0, o_claim1, o_ready0, o_ready1, o_last0, o_last1,
                    o_m0_0, o_m0_1, o_n0_0, o_n0_1, o_tiles0, o_tiles1, o_sp0, o_sp1, r_j, r_idx, r_tbase, r_s, cp,
                    c_n0t, c_st, c_block, c_half, c_t, c_k, c_tbase, c_sp, sto, s_half, s_rows, s_row, s_bpr, s_ptr, s_p, s_primed, s_last
                );
                for i in 0..$r {
                    self.ad_addr[i].clock.next = self.clock.val();
                    self.ad_addr[i].d.next = self.ad_addr[i].q.val();
                    self.ad_off[i].clock.next = self.clock.val();
                    self.ad_off[i].d.next = self.ad_off[i].q.val();
                    self.ad_flags[i].clock.next = self.clock.val();
                    self.ad_flags[i].d.next = self.ad_flags[i].q.val();
                    self.as_off[i].clock.next = self.clock.val();
                    self.as_flags[i].clock.next = self.clock.val();
                    self.abank[i].read_clock.next = self.clock.val();
                    self.abank[i].write_clock.next = self.clock.val();
                }
                for i in 0..$c {
                    self.wd_addr[i].clock.next = self.clock.val();
                    self.wd_addr[i].d.next = self.wd_addr[i].q.val();
                    self.wd_off[i].clock.next = self.clock.val();
                    self.wd_off[i].d.next = self.wd_off[i].q.val();
                    self.ws_off[i].clock.next = self.clock.val();
                    self.wbank[i].read_clock.next = self.clock.val();
                    self.wbank[i].write_clock.next = self.clock.val();
                    self.sbank[i].read_clock.next = self.clock.val();
                    self.sbank[i].write_clock.next = self.clock.val();
                    self.obank[i].read_clock.next = self.clock.val();
                    self.obank[i].write_clock.next = self.clock.val();
                    self.colacc[i].clock.next = self.clock.val();
                    self.colv[i].clock.next = self.clock.val();
                    self.colnan[i].clock.next = self.clock.val();
                    self.colpinf[i].clock.next = self.clock.val();
                    self.colninf[i].clock.next = self.clock.val();
                    self.ou[i].clock.next = self.clock.val();
                    self.ou[i].reset.next = self.reset.val();
                }
                for i in 0..($r * $c) {
                    self.areg[i].clock.next = self.clock.val();
                    self.freg[i].clock.next = self.clock.val();
                    self.wreg[i].clock.next = self.clock.val();
                    self.pes[i].clock.next = self.clock.val();
                    self.pes[i].reset.next = self.reset.val();
                }
                for i in 0..($r * 6) {
                    self.lastd[i].clock.next = self.clock.val();
                }
                self.i_walk.clock.next = self.clock.val();
                self.o_walk.clock.next = self.clock.val();
                for i in 0..($c - 1) {
                    self.sad[i].clock.next = self.clock.val();
                    self.oad[i].clock.next = self.clock.val();
                    self.oend[i].clock.next = self.clock.val();
                }
                for i in 0..($r * ($c - 1)) {
                    self.finc[i].clock.next = self.clock.val();
                }

                // ---- job fields
                self.a_fmt.next = self.j_fmt.q.val().get_bits::<FMT_BITS>(0);
                self.w_fmt.next = self.j_fmt.q.val().get_bits::<FMT_BITS>(4);
                self.out_fmt.next = self.j_fmt.q.val().get_bits::<3>(8);
                self.scale_exp.next = self.j_fmt.q.val().get_bits::<8>(16);
                self.scale_on.next = self.j_scale_addr.q.val() != self.k0_32.val();
                self.scale_job.next = bit_cast::<SCALE_BITS, 8>(self.scale_exp.val());
                if self.scale_exp.val().get_bit(7) {
                    self.scale_job.next = bit_cast::<SCALE_BITS, 8>(self.scale_exp.val()) | self.k_sext9.val();
                }
                // FMT bits 11 and 15:12, 31:24 are not fields.
                self.unused_fmt.next = self.j_fmt.q.val();
                self.l4.next = self.k_slot4.val().get_bit(self.a_fmt.val().index())
                    & self.k_slot4.val().get_bit(self.w_fmt.val().index());
                self.l2.next = !self.k_slot16.val().get_bit(self.a_fmt.val().index())
                    & !self.k_slot16.val().get_bit(self.w_fmt.val().index());
                self.fmt_ok.next = self.k_mac_ok.val().get_bit(self.a_fmt.val().index())
                    & self.k_mac_ok.val().get_bit(self.w_fmt.val().index())
                    & (self.out_fmt.val() < self.k_nout.val());
                self.misaligned.next = ((self.j_a_addr.q.val()
                    | self.j_w_addr.q.val()
                    | self.j_c_addr.q.val()
                    | self.j_a_stride.q.val()
                    | self.j_w_stride.q.val()
                    | self.j_c_stride.q.val()
                    | self.j_scale_addr.q.val())
                    & self.k15_32.val())
                    != self.k0_32.val();
                self.t_kbq.next = (self.kb.q.val() + self.k7_32.val()) >> self.k3_32.val();

                // ---- defaults
                self.busy.next = self.main.q.val() != Main::Idle;
                self.walk_clear.next = false;
                self.job_done.next = false;
                self.job_error.next = self.err.q.val();
                self.stall.next = false;
                self.ld_start.next = false;
                self.ld_stop.next = false;
                self.wr_cmd_valid.next = false;
                self.wr_cmd_addr.next = self.s_ptr.q.val();
                self.wr_cmd_beats.next = self.s_bpr.q.val();

                // ---- controller
                match self.main.q.val() {
                    Main::Idle => {
                        if self.start.val() {
                            self.j_m.d.next = self.m.val();
                            self.j_n.d.next = self.n.val();
                            self.j_k.d.next = self.k.val();
                            self.j_fmt.d.next = self.fmt.val();
                            self.j_a_addr.d.next = self.a_addr.val();
                            self.j_w_addr.d.next = self.w_addr.val();
                            self.j_c_addr.d.next = self.c_addr.val();
                            self.j_a_stride.d.next = self.a_stride.val();
                            self.j_w_stride.d.next = self.w_stride.val();
                            self.j_c_stride.d.next = self.c_stride.val();
                            self.j_scale_addr.d.next = self.scale_addr.val();
                            self.err.d.next = 0.into();
                            self.abort.d.next = false;
                            self.main.d.next = Main::Check;
                        }
                    }
                    Main::Check => {
                        if (self.j_m.q.val() == self.k0_32.val())
                            | (self.j_n.q.val() == self.k0_32.val())
                            | (self.j_k.q.val() == self.k0_32.val())
                            | !self.fmt_ok.val()
                        {
                            self.err.d.next = self.k_e_bad_job.val();
                            self.main.d.next = Main::Finish;
                        } else if self.misaligned.val() {
                            self.err.d.next = self.k_e_bad_addr.val();
                            self.main.d.next = Main::Finish;
                        } else {
                            if self.l4.val() {
                                self.kb.d.next = (self.j_k.q.val() + self.k3_32.val()) >> self.k2_32.val();
                            } else if self.l2.val() {
                                self.kb.d.next = (self.j_k.q.val() + self.k1_32.val()) >> self.k1_32.val();
                            } else {
                                self.kb.d.next = self.j_k.q.val();
                            }
                            self.mblocks.d.next = (self.j_m.q.val() + self.k_rows_m1.val()) >> self.k_logr.val();
                            self.ntiles.d.next = (self.j_n.q.val() + self.k_cols_m1.val()) >> self.k_logc.val();
                            self.main.d.next = Main::Derive;
                        }
                    }
                    Main::Derive => {
                        if self.kb.q.val() > self.k_kbmax.val() {
                            self.err.d.next = self.k_e_bad_job.val();
                            self.main.d.next = Main::Finish;
                        } else {
                            self.kbq.d.next = bit_cast::<16, 32>(self.t_kbq.val());
                            self.kbq_bytes.d.next = self.t_kbq.val() << self.k4_32.val();
                            if self.kb.q.val() > self.k_rows.val() {
                                self.period.d.next = bit_cast::<16, 32>(self.kb.q.val());
                            } else {
                                self.period.d.next = self.k_rows16.val();
                            }
                            self.stripe_tiles.d.next = 0.into();
                            self.plan_words.d.next = 0.into();
                            self.main.d.next = Main::Plan;
                        }
                    }
                    Main::Plan => {
                        // As many column tiles as the W banks and the output buffer hold.
                        if ((self.plan_words.q.val() + self.kbq.q.val()) <= self.k_wwords.val())
                            & (self.stripe_tiles.q.val() < self.k_otiles.val())
                        {
                            self.plan_words.d.next = self.plan_words.q.val() + self.kbq.q.val();
                            self.stripe_tiles.d.next = self.stripe_tiles.q.val() + self.k1_16.val();
                        } else {
                            self.main.d.next = Main::Run;
                            self.ld_start.next = true;
                            self.cp.d.next = Comp::Stripe;
                            self.c_n0t.d.next = 0.into();
                            self.c_half.d.next = false;
                            self.sto.d.next = Store::Wait;
                            self.s_half.d.next = false;
                            self.walk_clear.next = true;
                            self.c_sp.d.next = 0.into();
                            self.a_full0.d.next = false;
                            self.a_full1.d.next = false;
                            self.w_full0.d.next = false;
                            self.w_full1.d.next = false;
                            self.o_claim0.d.next = false;
                            self.o_claim1.d.next = false;
                            self.o_ready0.d.next = false;
                            self.o_ready1.d.next = false;
                            self.done_q.d.next = false;
                        }
                    }
                    Main::Run => {
                        if self.done_q.q.val() {
                            self.main.d.next = Main::Finish;
                        } else if self.abort.q.val() {
                            self.main.d.next = Main::Drain;
                        }
                    }
                    Main::Drain => {
                        if self.ld.quiet.val()
                            & (self.sto.q.val() == Store::Idle)
                            & self.rd_cmd_ready.val()
                            & self.wr_cmd_ready.val()
                        {
                            self.main.d.next = Main::Finish;
                        }
                    }
                    Main::Finish => {
                        self.job_done.next = true;
                        self.ld_stop.next = true;
                        self.cp.d.next = Comp::Idle;
                        self.sto.d.next = Store::Idle;
                        self.main.d.next = Main::Idle;
                    }
                    _ => {
                        self.main.d.next = Main::Idle;
                    }
                }

                // ---- loader
                self.ld.clock.next = self.clock.val();
                self.ld.reset.next = self.reset.val();
                self.ld.start.next = self.ld_start.val();
                self.ld.stop.next = self.ld_stop.val();
                self.ld.abort.next = self.abort.q.val();
                self.ld.m.next = self.j_m.q.val();
                self.ld.n.next = self.j_n.q.val();
                self.ld.a_addr.next = self.j_a_addr.q.val();
                self.ld.w_addr.next = self.j_w_addr.q.val();
                self.ld.a_stride.next = self.j_a_stride.q.val();
                self.ld.w_stride.next = self.j_w_stride.q.val();
                self.ld.scale_addr.next = self.j_scale_addr.q.val();
                self.ld.scale_on.next = self.scale_on.val();
                self.ld.kbq.next = self.kbq.q.val();
                self.ld.kbq_bytes.next = self.kbq_bytes.q.val();
                self.ld.mblocks.next = self.mblocks.q.val();
                self.ld.ntiles.next = self.ntiles.q.val();
                self.ld.stripe_tiles.next = self.stripe_tiles.q.val();
                self.ld.a_full0.next = self.a_full0.q.val();
                self.ld.a_full1.next = self.a_full1.q.val();
                self.ld.w_full0.next = self.w_full0.q.val();
                self.ld.w_full1.next = self.w_full1.q.val();
                self.ld.rd_cmd_ready.next = self.rd_cmd_ready.val();
                self.ld.rd_done.next = self.rd_done.val();
                self.ld.rd_err.next = self.rd_err.val();
                self.rd_cmd_valid.next = self.ld.rd_cmd_valid.val();
                self.rd_cmd_addr.next = self.ld.rd_cmd_addr.val();
                self.rd_cmd_beats.next = self.ld.rd_cmd_beats.val();
                if self.ld.fail.val() {
                    self.err.d.next = self.ld.fail_code.val();
                    self.abort.d.next = true;
                }
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
                if self.ld.route_w.val() {
                    self.r_j.d.next = 0.into();
                    self.r_idx.d.next = 0.into();
                    self.r_tbase.d.next = 0.into();
                }
                if self.ld.route_s.val() {
                    self.r_s.d.next = 0.into();
                }
                if self.ld.route_a.val() {
                    self.r_j.d.next = 0.into();
                    self.r_idx.d.next = 0.into();
                }

                // ---- loader: route incoming beats (W: column-major within the stripe; A: row by row)
                self.r_addr.next = self.r_tbase.q.val() + self.r_j.q.val();
                if self.ld.sp.val().get_bit(0) {
                    self.r_addr.next = (self.r_tbase.q.val() + self.r_j.q.val()) | self.k_whalf.val();
                }
                if !self.ld.to_w.val() {
                    self.r_addr.next = self.r_j.q.val();
                    if self.ld.half.val() {
                        self.r_addr.next = self.r_j.q.val() | self.k_ahalf.val();
                    }
                }
                for i in 0..$r {
                    self.abank[i].write_address.next = bit_cast::<A_ADDR_BITS, 16>(self.r_addr.val());
                    self.abank[i].write_data.next = self.rd_data.val();
                    self.abank[i].write_enable.next =
                        self.rd_data_valid.val()
                            & !self.ld.to_w.val()
                            & !self.ld.to_s.val()
                            & (self.r_idx.q.val() == self.idx[i].val());
                }
                for i in 0..$c {
                    self.wbank[i].write_address.next = bit_cast::<W_ADDR_BITS, 16>(self.r_addr.val());
                    self.wbank[i].write_data.next = self.rd_data.val();
                    self.wbank[i].write_enable.next =
                        self.rd_data_valid.val() & self.ld.to_w.val() & (self.r_idx.q.val() == self.idx[i].val());
                }
                self.s_waddr.next = self.r_s.q.val() | (bit_cast::<S_ADDR_BITS, 2>(self.ld.sp.val()) << self.k_sp.val());
                for i in 0..$c {
                    self.sbank[i].write_address.next = self.s_waddr.val();
                    self.sbank[i].write_data.next = self.rd_data.val().get_bits::<16>(self.sbyte[i].val().index());
                    self.sbank[i].write_enable.next = self.rd_data_valid.val() & self.ld.to_s.val();
                }
                if self.rd_data_valid.val() & self.ld.to_s.val() {
                    self.r_s.d.next = self.r_s.q.val() + self.k1_s.val();
                }
                if self.rd_data_valid.val() {
                    if self.r_j.q.val() == (self.kbq.q.val() - self.k1_16.val()) {
                        self.r_j.d.next = 0.into();
                        if self.ld.to_w.val() & (bit_cast::<32, 8>(self.r_idx.q.val()) == self.k_cols_m1.val()) {
                            self.r_idx.d.next = 0.into();
                            self.r_tbase.d.next = self.r_tbase.q.val() + self.kbq.q.val();
                        } else {
                            self.r_idx.d.next = self.r_idx.q.val() + bit_cast::<8, 16>(self.k1_16.val());
                        }
                    } else {
                        self.r_j.d.next = self.r_j.q.val() + self.k1_16.val();
                    }
                }

                // ---- compute engine
                self.c_left.next = self.ntiles.q.val() - self.c_n0t.q.val();
                self.beat_valid.next = false;
                self.beat_first.next = false;
                self.beat_last.next = false;
                self.beat_aaddr.next = self.c_k.q.val() >> self.k3_16.val();
                if self.c_half.q.val() {
                    self.beat_aaddr.next = (self.c_k.q.val() >> self.k3_16.val()) | self.k_ahalf.val();
                }
                self.beat_waddr.next = self.c_tbase.q.val() + (self.c_k.q.val() >> self.k3_16.val());
                if self.c_sp.q.val().get_bit(0) {
                    self.beat_waddr.next =
                        (self.c_tbase.q.val() + (self.c_k.q.val() >> self.k3_16.val())) | self.k_whalf.val();
                }
                self.w_avail.next = (!self.c_sp.q.val().get_bit(0) & self.w_full0.q.val())
                    | (self.c_sp.q.val().get_bit(0) & self.w_full1.q.val());
                self.beat_off.next = (self.c_k.q.val() & self.k7_16.val()) << self.k4_16.val();
                match self.cp.q.val() {
                    Comp::Stripe => {
                        if self.c_left.val() < bit_cast::<32, 16>(self.stripe_tiles.q.val()) {
                            self.c_st.d.next = bit_cast::<16, 32>(self.c_left.val());
                        } else {
                            self.c_st.d.next = self.stripe_tiles.q.val();
                        }
                        self.c_block.d.next = 0.into();
                        self.cp.d.next = Comp::Wait;
                    }
                    Comp::Wait => {
                        if self.abort.q.val() {
                            self.cp.d.next = Comp::Stop;
                        } else if !self.c_half.q.val()
                            & self.w_avail.val()
                            & self.a_full0.q.val()
                            & !self.o_claim0.q.val()
                        {
                            self.o_claim0.d.next = true;
                            self.o_m0_0.d.next = self.c_block.q.val();
                            self.o_n0_0.d.next = self.c_n0t.q.val();
                            self.o_tiles0.d.next = self.c_st.q.val();
                            self.o_sp0.d.next = self.c_sp.q.val();
                            self.o_last0.d.next = ((self.c_block.q.val() + self.k1_32.val()) == self.mblocks.q.val())
                                & (self.c_left.val() <= bit_cast::<32, 16>(self.c_st.q.val()));
                            self.cp.d.next = Comp::Beat;
                        } else if self.c_half.q.val()
                            & self.w_avail.val()
                            & self.a_full1.q.val()
                            & !self.o_claim1.q.val()
                        {
                            self.o_claim1.d.next = true;
                            self.o_m0_1.d.next = self.c_block.q.val();
                            self.o_n0_1.d.next = self.c_n0t.q.val();
                            self.o_tiles1.d.next = self.c_st.q.val();
                            self.o_sp1.d.next = self.c_sp.q.val();
                            self.o_last1.d.next = ((self.c_block.q.val() + self.k1_32.val()) == self.mblocks.q.val())
                                & (self.c_left.val() <= bit_cast::<32, 16>(self.c_st.q.val()));
                            self.cp.d.next = Comp::Beat;
                        } else {
                            self.stall.next = self.main.q.val() == Main::Run;
                        }
                        self.c_t.d.next = 0.into();
                        self.c_k.d.next = 0.into();
                        self.c_tbase.d.next = 0.into();
                    }
                    Comp::Beat => {
                        self.beat_valid.next = bit_cast::<32, 16>(self.c_k.q.val()) < self.kb.q.val();
                        self.beat_first.next = self.c_k.q.val() == self.k0_16.val();
                        self.beat_last.next =
                            bit_cast::<32, 16>(self.c_k.q.val()) == (self.kb.q.val() - self.k1_32.val());
                        self.c_k.d.next = self.c_k.q.val() + self.k1_16.val();
                        if self.c_k.q.val() == (self.period.q.val() - self.k1_16.val()) {
                            self.c_k.d.next = 0.into();
                            self.c_t.d.next = self.c_t.q.val() + self.k1_16.val();
                            self.c_tbase.d.next = self.c_tbase.q.val() + self.kbq.q.val();
                            if self.c_t.q.val() == (self.c_st.q.val() - self.k1_16.val()) {
                                // Block done: its A half is free again.
                                if self.c_half.q.val() {
                                    self.a_full1.d.next = false;
                                } else {
                                    self.a_full0.d.next = false;
                                }
                                self.c_half.d.next = !self.c_half.q.val();
                                self.c_block.d.next = self.c_block.q.val() + self.k1_32.val();
                                self.cp.d.next = Comp::Wait;
                                if (self.c_block.q.val() + self.k1_32.val()) == self.mblocks.q.val() {
                                    // Stripe done: the loader may overwrite its W-bank half.
                                    if self.c_sp.q.val().get_bit(0) {
                                        self.w_full1.d.next = false;
                                    } else {
                                        self.w_full0.d.next = false;
                                    }
                                    self.c_sp.d.next = self.c_sp.q.val() + self.k1_2.val();
                                    self.c_n0t.d.next = self.c_n0t.q.val() + bit_cast::<32, 16>(self.c_st.q.val());
                                    if self.c_left.val() <= bit_cast::<32, 16>(self.c_st.q.val()) {
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

                // ---- skew: row r reads its A bank r cycles late, column c its W bank c cycles late
                self.ad_addr[0].d.next = bit_cast::<A_ADDR_BITS, 16>(self.beat_aaddr.val());
                self.ad_off[0].d.next = bit_cast::<7, 16>(self.beat_off.val());
                // Flags: bit 0 valid, 1 first (clear), 2 last.
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
                for i in 1..$r {
                    self.ad_addr[i].d.next = self.ad_addr[i - 1].q.val();
                    self.ad_off[i].d.next = self.ad_off[i - 1].q.val();
                    self.ad_flags[i].d.next = self.ad_flags[i - 1].q.val();
                }
                self.wd_addr[0].d.next = bit_cast::<W_ADDR_BITS, 16>(self.beat_waddr.val());
                self.wd_off[0].d.next = bit_cast::<7, 16>(self.beat_off.val());
                for i in 1..$c {
                    self.wd_addr[i].d.next = self.wd_addr[i - 1].q.val();
                    self.wd_off[i].d.next = self.wd_off[i - 1].q.val();
                }
                for i in 0..$r {
                    self.abank[i].read_address.next = self.ad_addr[i].q.val();
                    self.as_off[i].d.next = self.ad_off[i].q.val();
                    self.as_flags[i].d.next = self.ad_flags[i].q.val();
                    if self.reset.val() {
                        self.as_flags[i].d.next = 0.into();
                    }
                    // Row r's first PE: the word of the bank's 16-byte line, and the beat's flags.
                    self.areg[i * $c].d.next =
                        self.abank[i].read_data.val().get_bits::<16>(self.as_off[i].q.val().index());
                    self.freg[i * $c].d.next = self.as_flags[i].q.val();
                }
                for i in 0..$c {
                    self.wbank[i].read_address.next = self.wd_addr[i].q.val();
                    self.ws_off[i].d.next = self.wd_off[i].q.val();
                    self.wreg[i].d.next = self.wbank[i].read_data.val().get_bits::<16>(self.ws_off[i].q.val().index());
                }

                // ---- systolic array: activations and flags move right, weights down
                for r in 0..$r {
                    for c in 1..$c {
                        self.areg[r * $c + c].d.next = self.areg[r * $c + c - 1].q.val();
                        self.freg[r * $c + c].d.next = self.freg[r * $c + c - 1].q.val();
                    }
                }
                for r in 1..$r {
                    for c in 0..$c {
                        self.wreg[r * $c + c].d.next = self.wreg[r * $c + c - $c].q.val();
                    }
                }
                for i in 0..($r * $c) {
                    self.pes[i].a_fmt.next = self.a_fmt.val();
                    self.pes[i].w_fmt.next = self.w_fmt.val();
                    self.pes[i].a.next = self.areg[i].q.val();
                    self.pes[i].w.next = self.wreg[i].q.val();
                    self.pes[i].valid.next = self.freg[i].q.val().get_bit(0);
                    self.pes[i].clear.next = self.freg[i].q.val().get_bit(1);
                }
                // PE(r,c) holds its finished sum PE_LATENCY cycles after its last beat.
                for r in 0..$r {
                    self.lastd[r * 6].d.next = self.freg[r * $c].q.val().get_bit(2);
                    for j in 1..6 {
                        self.lastd[r * 6 + j].d.next = self.lastd[r * 6 + j - 1].q.val();
                    }
                    self.fin[r * $c].next = self.lastd[r * 6 + 5].q.val();
                    for c in 1..$c {
                        self.finc[r * ($c - 1) + c - 1].d.next = self.fin[r * $c + c - 1].val();
                        self.fin[r * $c + c].next = self.finc[r * ($c - 1) + c - 1].q.val();
                    }
                }
                if self.reset.val() {
                    for i in 0..($r * 6) {
                        self.lastd[i].d.next = false;
                    }
                    for i in 0..($r * ($c - 1)) {
                        self.finc[i].d.next = false;
                    }
                }

                // ---- column readout: one finished PE per column per cycle
                for c in 0..$c {
                    self.selacc[c].next = 0.into();
                    self.selv[c].next = false;
                    self.selnan[c].next = false;
                    self.selpinf[c].next = false;
                    self.selninf[c].next = false;
                    for r in 0..$r {
                        if self.fin[r * $c + c].val() {
                            self.selacc[c].next = self.pes[r * $c + c].acc.val();
                            self.selv[c].next = true;
                            self.selnan[c].next = self.pes[r * $c + c].nan.val();
                            self.selpinf[c].next = self.pes[r * $c + c].pinf.val();
                            self.selninf[c].next = self.pes[r * $c + c].ninf.val();
                        }
                    }
                    self.colacc[c].d.next = self.selacc[c].val();
                    self.colv[c].d.next = self.selv[c].val() & !self.reset.val();
                    self.colnan[c].d.next = self.selnan[c].val();
                    self.colpinf[c].d.next = self.selpinf[c].val();
                    self.colninf[c].d.next = self.selninf[c].val();
                    self.ou[c].valid.next = self.colv[c].q.val();
                    self.ou[c].acc.next = self.colacc[c].q.val();
                    self.ou[c].nan.next = self.colnan[c].q.val();
                    self.ou[c].pinf.next = self.colpinf[c].q.val();
                    self.ou[c].ninf.next = self.colninf[c].q.val();
                    self.ou[c].out_fmt.next = self.out_fmt.val();
                    self.scale_col[c].next = self.sbank[c].read_data.val().get_bits::<SCALE_BITS>(0);
                    self.unused_scale[c].next = self.sbank[c].read_data.val();
                    self.ou[c].scale_exp.next = self.scale_job.val();
                    if self.scale_on.val() {
                        self.ou[c].scale_exp.next = self.scale_job.val() + self.scale_col[c].val();
                    }
                }

                // ---- column scales: the bank address of the result column 0 picks this cycle
                // (its data arrives with the result at the output unit), delayed per column.
                self.i_walk.step.next = self.selv[0].val();
                self.i_walk.tiles0.next = self.o_tiles0.q.val();
                self.i_walk.tiles1.next = self.o_tiles1.q.val();
                self.unused_iwalk.next = self.i_walk.row.val() | self.i_walk.tile.val();
                self.unused_iend.next = self.i_walk.half_done.val();
                self.s_addr0.next = bit_cast::<S_ADDR_BITS, 16>(self.i_walk.tile.val())
                    | (bit_cast::<S_ADDR_BITS, 2>(self.o_sp0.q.val()) << self.k_sp.val());
                if self.i_walk.half.val() {
                    self.s_addr0.next = bit_cast::<S_ADDR_BITS, 16>(self.i_walk.tile.val())
                        | (bit_cast::<S_ADDR_BITS, 2>(self.o_sp1.q.val()) << self.k_sp.val());
                }
                self.sbank[0].read_address.next = self.s_addr0.val();
                self.sad[0].d.next = self.s_addr0.val();
                for c in 1..$c {
                    self.sbank[c].read_address.next = self.sad[c - 1].q.val();
                }
                for c in 2..$c {
                    self.sad[c - 1].d.next = self.sad[c - 2].q.val();
                }

                // ---- output buffer: column 0's results advance (row, tile, half); column c
                // writes the same address c cycles later.
                self.o_walk.step.next = self.ou[0].out_valid.val();
                self.o_walk.tiles0.next = self.o_tiles0.q.val();
                self.o_walk.tiles1.next = self.o_tiles1.q.val();
                self.o_addr0.next = (self.o_walk.row.val() << self.k_orow_shift.val()) | self.o_walk.tile.val();
                if self.o_walk.half.val() {
                    self.o_addr0.next = (self.o_walk.row.val() << self.k_orow_shift.val())
                        | self.o_walk.tile.val()
                        | self.k_ohalf.val();
                }
                self.oad[0].d.next = bit_cast::<O_ADDR_BITS, 16>(self.o_addr0.val());
                self.oend[0].d.next = self.o_walk.half_done.val();
                for c in 1..($c - 1) {
                    self.oad[c].d.next = self.oad[c - 1].q.val();
                    self.oend[c].d.next = self.oend[c - 1].q.val();
                }
                self.obank[0].write_address.next = bit_cast::<O_ADDR_BITS, 16>(self.o_addr0.val());
                for c in 1..$c {
                    self.obank[c].write_address.next = self.oad[c - 1].q.val();
                }
                for c in 0..$c {
                    self.obank[c].write_data.next = self.ou[c].result.val();
                    self.obank[c].write_enable.next = self.ou[c].out_valid.val();
                }
                // The last column's last write of a block makes the block ready to store.
                if self.ou[$c - 1].out_valid.val() & self.oend[$c - 2].q.val() {
                    if self.oad[$c - 2].q.val().get_bit(8) {
                        self.o_ready1.d.next = true;
                    } else {
                        self.o_ready0.d.next = true;
                    }
                }

                // ---- storer
                self.s_m0.next = self.o_m0_0.q.val();
                self.s_n0.next = self.o_n0_0.q.val();
                self.s_tiles.next = self.o_tiles0.q.val();
                if self.s_half.q.val() {
                    self.s_m0.next = self.o_m0_1.q.val();
                    self.s_n0.next = self.o_n0_1.q.val();
                    self.s_tiles.next = self.o_tiles1.q.val();
                }
                self.s_cols.next = self.j_n.q.val() - (self.s_n0.val() << self.k_logc.val());
                if self.s_cols.val() > (bit_cast::<32, 16>(self.s_tiles.val()) << self.k_logc.val()) {
                    self.s_cols.next = bit_cast::<32, 16>(self.s_tiles.val()) << self.k_logc.val();
                }
                self.t_bpr.next = (self.s_cols.val() + self.k3_32.val()) >> self.k2_32.val();
                self.s_accept.next = false;
                self.wr_data_valid.next = false;
                match self.sto.q.val() {
                    Store::Wait => {
                        if self.abort.q.val() {
                            self.sto.d.next = Store::Idle;
                        } else if (!self.s_half.q.val() & self.o_ready0.q.val())
                            | (self.s_half.q.val() & self.o_ready1.q.val())
                        {
                            self.s_rows.d.next = self.j_m.q.val() - (self.s_m0.val() << self.k_logr.val());
                            if (self.j_m.q.val() - (self.s_m0.val() << self.k_logr.val())) > self.k_rows.val() {
                                self.s_rows.d.next = self.k_rows.val();
                            }
                            self.s_row.d.next = 0.into();
                            self.s_bpr.d.next = bit_cast::<16, 32>(self.t_bpr.val());
                            // Row pointer: C + m0·C_STRIDE + n0·4 bytes (first block of a stripe;
                            // later blocks continue where the previous one ended).
                            if self.s_m0.val() == self.k0_32.val() {
                                self.s_ptr.d.next =
                                    self.j_c_addr.q.val() + (self.s_n0.val() << self.k_logc2.val());
                            }
                            self.sto.d.next = Store::Issue;
                        }
                    }
                    Store::Issue => {
                        self.wr_cmd_valid.next = true;
                        if self.wr_cmd_ready.val() {
                            self.s_p.d.next = 0.into();
                            self.s_primed.d.next = false;
                            self.sto.d.next = Store::Stream;
                        }
                    }
                    Store::Stream => {
                        self.wr_data_valid.next = self.s_primed.q.val();
                        self.s_primed.d.next = true;
                        self.s_accept.next = self.s_primed.q.val() & self.wr_data_ready.val();
                        if self.s_accept.val() {
                            self.s_p.d.next = self.s_p.q.val() + self.k1_16.val();
                            if self.s_p.q.val() == (self.s_bpr.q.val() - self.k1_16.val()) {
                                self.sto.d.next = Store::WaitDone;
                            }
                        }
                    }
                    Store::WaitDone => {
                        if self.wr_done.val() {
                            self.s_ptr.d.next = self.s_ptr.q.val() + self.j_c_stride.q.val();
                            self.s_row.d.next = self.s_row.q.val() + self.k1_16.val();
                            if self.wr_err.val() != self.k0_2.val() {
                                self.err.d.next = bit_cast::<4, 2>(self.wr_err.val()) + self.k_e_wr.val();
                                self.abort.d.next = true;
                                self.sto.d.next = Store::Idle;
                            } else if self.abort.q.val() {
                                self.sto.d.next = Store::Idle;
                            } else if (self.s_row.q.val() + self.k1_16.val()) == bit_cast::<16, 32>(self.s_rows.q.val()) {
                                // Block stored: both output-buffer flags of its half are free.
                                if self.s_half.q.val() {
                                    self.o_ready1.d.next = false;
                                    self.o_claim1.d.next = false;
                                    self.done_q.d.next = self.o_last1.q.val();
                                } else {
                                    self.o_ready0.d.next = false;
                                    self.o_claim0.d.next = false;
                                    self.done_q.d.next = self.o_last0.q.val();
                                }
                                // Only a stripe's last block can have fewer than R rows, so the pointer
                                // now addresses the next block's first row.
                                self.s_half.d.next = !self.s_half.q.val();
                                self.sto.d.next = Store::Wait;
                            } else {
                                self.sto.d.next = Store::Issue;
                            }
                        }
                    }
                    _ => {}
                }
                self.s_pn.next = self.s_p.q.val();
                if self.s_accept.val() {
                    self.s_pn.next = self.s_p.q.val() + self.k1_16.val();
                }
                // Beat p of a row: column group p mod (C/4) of tile p / (C/4).
                self.s_raddr.next = (self.s_row.q.val() << self.k_orow_shift.val()) | (self.s_pn.val() >> self.k_loggroups.val());
                if self.s_half.q.val() {
                    self.s_raddr.next = self.s_raddr.val() | self.k_ohalf.val();
                }
                self.s_group.next = self.s_p.q.val() & self.k_groups_m1.val();
                for c in 0..$c {
                    self.obank[c].read_address.next = bit_cast::<O_ADDR_BITS, 16>(self.s_raddr.val());
                }
                self.wr_data.next = 0.into();
                $(
                    if self.s_group.val() == bit_cast::<16, 8>(self.idx[$g].val()) {
                        self.wr_data.next = (bit_cast::<BUS, 32>(self.obank[$g * 4 + 3].read_data.val())
                            << self.k96_128.val())
                            | (bit_cast::<BUS, 32>(self.obank[$g * 4 + 2].read_data.val())
                                << self.k64_128.val())
                            | (bit_cast::<BUS, 32>(self.obank[$g * 4 + 1].read_data.val())
                                << self.k32_128.val())
                            | bit_cast::<BUS, 32>(self.obank[$g * 4].read_data.val());
                    }
                )*

                self.unused_bpr.next = self.t_bpr.val();
                self.unused_raddr.next = self.r_addr.val();
                self.unused_aaddr.next = self.beat_aaddr.val();
                self.unused_waddr.next = self.beat_waddr.val();
                self.unused_off.next = self.beat_off.val();
                self.unused_oaddr.next = self.o_addr0.val();
                for r in 0..$r {
                    self.unused_last[r].next = self.freg[r * $c + $c - 1].q.val().get_bit(2);
                }

                if self.reset.val() {
                    self.main.d.next = Main::Idle;
                    self.cp.d.next = Comp::Idle;
                    self.sto.d.next = Store::Idle;
                    self.err.d.next = 0.into();
                    self.abort.d.next = false;
                    self.walk_clear.next = true;
                }
                self.i_walk.clear.next = self.walk_clear.val();
                self.o_walk.clear.next = self.walk_clear.val();
            }
        }
    };
}

accel_core!(Core4x4, 4, 4, 2, 2, 1, 0, [0]);
accel_core!(Core8x8, 8, 8, 3, 3, 2, 1, [0, 1]);
