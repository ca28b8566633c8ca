//! The loader: walks the job's weight stripes and activation blocks and asks the read DMA for
//! them, one strided read ([`StridedRead`]) at a time.
//!
//! For each stripe: wait for its W-bank half to be free, read its weights (and, with
//! `SCALE_ADDR` set, its column scales), then read its activation blocks of up to R rows into
//! alternate A-bank halves as the compute engine frees them. The job's first activation block
//! comes before the first stripe's weights: the compute engine can then start on the stripe's
//! first tiles while its other tiles arrive, instead of waiting for the whole stripe (on
//! npe8x8's 256³ INT4 job that wait was 2,157 of the job's 68,498 cycles). Where the beats go is the operand
//! buffers' business: the loader only says which kind of load is running (`to_w`, `to_s`) and
//! when a new one starts (`route_w`, `route_s`, `route_a`).

use crate::axi::DmaCmd;
use crate::many;
use crate::spec::axi::{AxiResp, RESP_BITS};
use crate::spec::config::AXI_BEAT_BYTES;
use crate::spec::regs::ErrorCode;
use rust_hdl::prelude::*;

/// Loader states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Load {
    /// Nothing to load.
    Idle,
    /// Waiting for the compute engine to release the stripe's W-bank half, then sizing it.
    WStart,
    /// Reading the stripe's weights.
    W,
    /// Reading the stripe's column scales (when `SCALE_ADDR` ≠ 0).
    S,
    /// Reading the stripe's block scales (block-scaled jobs).
    Bs,
    /// Waiting for a free A half, then sizing the block.
    AStart,
    /// Reading the block's activations.
    A,
    /// Every stripe and block loaded (or the job aborted).
    Stop,
}

/// Strided-read phases.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Read {
    /// No read running.
    Idle,
    /// The command's fields are registered; its beats and step are worked out from them.
    Setup,
    /// Presenting a command to the read DMA.
    Issue,
    /// Waiting for the command's data to end.
    Wait,
}

/// One strided read: `rows` rows of `row_beats` beats, `stride` bytes apart, from `addr` — one
/// DMA command when the rows are contiguous (`stride` = `row_bytes`), else one per row. Ends
/// with `ok` (all data in), `fail` (a DMA error, `code` says which) or `quit` (aborted).
#[derive(LogicBlock)]
pub struct StridedRead {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start a read (wins over the end of the current one).
    pub go: Signal<In, Bit>,
    /// First row's byte address.
    pub addr: Signal<In, Bits<32>>,
    /// Rows to read.
    pub rows: Signal<In, Bits<16>>,
    /// Beats per row.
    pub row_beats: Signal<In, Bits<16>>,
    /// Bytes per row (`row_beats` beats).
    pub row_bytes: Signal<In, Bits<32>>,
    /// Bytes from one row to the next.
    pub stride: Signal<In, Bits<32>>,
    /// The job is being aborted: end after the command in flight.
    pub abort: Signal<In, Bit>,
    /// The read DMA's command port.
    pub dma: DmaCmd,
    /// Every command ended OKAY (one-cycle pulse).
    pub ok: Signal<Out, Bit>,
    /// A command ended in error (one-cycle pulse).
    pub fail: Signal<Out, Bit>,
    /// The error code, with `fail`.
    pub code: Signal<Out, Bits<4>>,
    /// Ended by `abort` (one-cycle pulse).
    pub quit: Signal<Out, Bit>,
    /// The byte address after the last row read.
    pub next_addr: Signal<Out, Bits<32>>,
    st: DFF<Read>,
    ptr: DFF<Bits<32>>,
    units: DFF<Bits<16>>,
    // `units` is not 0 after the command issued last: registered at the issue, so the end of a
    // command does not wait for a 16-bit compare (in front of the loader's next command, it
    // was npe4x4's slowest path in one placement).
    more: DFF<Bit>,
    beats: DFF<Bits<16>>,
    step: DFF<Bits<32>>,
    // The command as `go` gave it: the loader's selection logic in front of the multiply and
    // the comparison was npe4x4's critical path (17.4 ns).
    rows_q: DFF<Bits<16>>,
    row_beats_q: DFF<Bits<16>>,
    row_bytes_q: DFF<Bits<32>>,
    stride_q: DFF<Bits<32>>,
    prod: Signal<Local, Bits<32>>,
    k_okay: Constant<Bits<RESP_BITS>>,
    k1_16: Constant<Bits<16>>,
    k_beat_shift: Constant<Bits<32>>,
    // AXI SLVERR / DECERR + this offset = the read error codes.
    k_e_rd: Constant<Bits<4>>,
}

impl Default for StridedRead {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            go: Default::default(),
            addr: Default::default(),
            rows: Default::default(),
            row_beats: Default::default(),
            row_bytes: Default::default(),
            stride: Default::default(),
            abort: Default::default(),
            dma: Default::default(),
            ok: Default::default(),
            fail: Default::default(),
            code: Default::default(),
            quit: Default::default(),
            next_addr: Default::default(),
            st: Default::default(),
            ptr: Default::default(),
            units: Default::default(),
            more: Default::default(),
            beats: Default::default(),
            step: Default::default(),
            rows_q: Default::default(),
            row_beats_q: Default::default(),
            row_bytes_q: Default::default(),
            stride_q: Default::default(),
            prod: Default::default(),
            k_okay: Constant::new(AxiResp::Okay.code().into()),
            k1_16: Constant::new(1.into()),
            k_beat_shift: Constant::new((AXI_BEAT_BYTES.trailing_zeros() as u64).into()),
            k_e_rd: Constant::new((ErrorCode::ReadSlvErr as u64 - AxiResp::SlvErr.code()).into()),
        }
    }
}

impl Logic for StridedRead {
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            st,
            ptr,
            units,
            more,
            beats,
            step,
            rows_q,
            row_beats_q,
            row_bytes_q,
            stride_q
        );
        self.dma.valid.next = false;
        self.dma.addr.next = self.ptr.q.val();
        self.dma.beats.next = self.beats.q.val();
        self.ok.next = false;
        self.fail.next = false;
        self.quit.next = false;
        self.code.next = bit_cast::<4, RESP_BITS>(self.dma.err.val()) + self.k_e_rd.val();
        self.next_addr.next = self.ptr.q.val();
        self.prod.next = self.rows_q.q.val() * self.row_beats_q.q.val();
        match self.st.q.val() {
            Read::Setup => {
                // Contiguous rows: one command for all of them.
                if self.stride_q.q.val() == self.row_bytes_q.q.val() {
                    self.units.d.next = 1.into();
                    self.beats.d.next = bit_cast::<16, 32>(self.prod.val());
                    self.step.d.next = self.prod.val() << self.k_beat_shift.val();
                } else {
                    self.units.d.next = self.rows_q.q.val();
                    self.beats.d.next = self.row_beats_q.q.val();
                    self.step.d.next = self.stride_q.q.val();
                }
                self.st.d.next = Read::Issue;
            }
            Read::Issue => {
                self.dma.valid.next = true;
                if self.dma.ready.val() {
                    self.ptr.d.next = self.ptr.q.val() + self.step.q.val();
                    self.units.d.next = self.units.q.val() - self.k1_16.val();
                    self.more.d.next = self.units.q.val() != self.k1_16.val();
                    self.st.d.next = Read::Wait;
                }
            }
            Read::Wait => {
                if self.dma.done.val() {
                    self.st.d.next = Read::Idle;
                    if self.dma.err.val() != self.k_okay.val() {
                        self.fail.next = true;
                    } else if self.abort.val() {
                        self.quit.next = true;
                    } else if self.more.q.val() {
                        self.st.d.next = Read::Issue;
                    } else {
                        self.ok.next = true;
                    }
                }
            }
            _ => {}
        }
        if self.go.val() {
            self.ptr.d.next = self.addr.val();
            self.rows_q.d.next = self.rows.val();
            self.row_beats_q.d.next = self.row_beats.val();
            self.row_bytes_q.d.next = self.row_bytes.val();
            self.stride_q.d.next = self.stride.val();
            self.st.d.next = Read::Setup;
        }
        if self.reset.val() {
            self.st.d.next = Read::Idle;
        }
    }
}

/// The loader (see the module docs).
#[derive(LogicBlock)]
pub struct Loader {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start the job's loads (one-cycle pulse).
    pub start: Signal<In, Bit>,
    /// Forget the job (one-cycle pulse at its end).
    pub stop: Signal<In, Bit>,
    /// The job is being aborted.
    pub abort: Signal<In, Bit>,
    /// Job M.
    pub m: Signal<In, Bits<32>>,
    /// Job N.
    pub n: Signal<In, Bits<32>>,
    /// Job A_ADDR.
    pub a_addr: Signal<In, Bits<32>>,
    /// Job W_ADDR.
    pub w_addr: Signal<In, Bits<32>>,
    /// Job A_STRIDE.
    pub a_stride: Signal<In, Bits<32>>,
    /// Job W_STRIDE.
    pub w_stride: Signal<In, Bits<32>>,
    /// Job SCALE_ADDR.
    pub scale_addr: Signal<In, Bits<32>>,
    /// Column scales are loaded (`SCALE_ADDR` ≠ 0).
    pub scale_on: Signal<In, Bit>,
    /// Beats (16-byte words) per operand row.
    pub kbq: Signal<In, Bits<16>>,
    /// Bytes per packed operand row.
    pub kbq_bytes: Signal<In, Bits<32>>,
    /// Row blocks of M.
    pub mblocks: Signal<In, Bits<32>>,
    /// Column tiles of N.
    pub ntiles: Signal<In, Bits<32>>,
    /// Column tiles per stripe.
    pub stripe_tiles: Signal<In, Bits<16>>,
    /// A-bank half 0 / 1 holds a block not yet computed.
    pub a_full0: Signal<In, Bit>,
    /// See `a_full0`.
    pub a_full1: Signal<In, Bit>,
    /// W-bank half 0 / 1 holds a stripe not yet computed.
    pub w_full0: Signal<In, Bit>,
    /// See `w_full0`.
    pub w_full1: Signal<In, Bit>,
    /// The read DMA's command port.
    pub dma: DmaCmd,
    /// A DMA error: abort the job with `fail_code` (one-cycle pulse).
    pub fail: Signal<Out, Bit>,
    /// The error code, with `fail`.
    pub fail_code: Signal<Out, Bits<4>>,
    /// The stripe (and its scales) are in: W half `sp` bit 0 is full (one-cycle pulse).
    pub w_loaded: Signal<Out, Bit>,
    /// A block is in: A half `half` is full (one-cycle pulse).
    pub a_loaded: Signal<Out, Bit>,
    /// Stripe number (mod 4) being loaded.
    pub sp: Signal<Out, Bits<2>>,
    /// A half being loaded.
    pub half: Signal<Out, Bit>,
    /// Weights are being read.
    pub to_w: Signal<Out, Bit>,
    /// Scales are being read.
    pub to_s: Signal<Out, Bit>,
    /// A weight load starts: restart the routing counters (one-cycle pulse).
    pub route_w: Signal<Out, Bit>,
    /// A scale load starts (one-cycle pulse).
    pub route_s: Signal<Out, Bit>,
    /// An activation load starts (one-cycle pulse).
    pub route_a: Signal<Out, Bit>,
    /// Nothing left to do (Idle or Stop).
    pub quiet: Signal<Out, Bit>,
    /// Block-scaled arrays only (one entry, else none): the job scales weight blocks.
    pub block_on: Vec<Signal<In, Bit>>,
    /// Block-scaled only (one entry): job BS_ADDR.
    pub bs_addr: Vec<Signal<In, Bits<32>>>,
    /// Block-scaled only (one entry): block-scale beats per column tile (below 2^16).
    pub bs_tile: Vec<Signal<In, Bits<32>>>,
    /// Block-scaled only (one entry): block scales are being read.
    pub to_bs: Vec<Signal<Out, Bit>>,
    /// Block-scaled only (one entry): a block-scale load starts (one-cycle pulse).
    pub route_bs: Vec<Signal<Out, Bit>>,
    ld: DFF<Load>,
    n0t: DFF<Bits<32>>,
    st: DFF<Bits<16>>,
    block: DFF<Bits<32>>,
    // Whether the block being read is the stripe's last, and the stripe the job's: registered
    // while the read runs (their operands do not change in state A, and a read takes more than
    // two cycles), so the end of a block is not an adder and a comparison in front of the state
    // (npe4x4 at 77.4 MHz: `block + 1 == mblocks`, then `n0t + st >= ntiles`, 12.9 ns).
    blk_last: DFF<Bit>,
    sp_last: DFF<Bit>,
    // An A block's rows, `min(M − block·R, R)`, registered: the shift, subtraction, compare and
    // select in front of the strided read's `rows_q` were npe8x8le8's slowest path (−0.65 ns
    // from `block`). AStart issues the read from its second cycle on, when `a_rows` is the
    // block's (`block` changes on the way into AStart).
    a_rows: DFF<Bits<16>>,
    a_wait: DFF<Bit>,
    // The job's first activation block is read before the first stripe's weights (`a_first`),
    // so the compute engine can start on a stripe's first tiles while the rest arrive; then
    // the stripe's block 0 is in when its weights are (`a_pre`), and with one row block
    // (`a_pre_last`) so are all of the stripe's blocks.
    a_first: DFF<Bit>,
    a_pre: DFF<Bit>,
    a_pre_last: DFF<Bit>,
    half_q: DFF<Bit>,
    aptr: DFF<Bits<32>>,
    wptr: DFF<Bits<32>>,
    sp_q: DFF<Bits<2>>,
    to_w_q: DFF<Bit>,
    to_s_q: DFF<Bit>,
    // Block-scaled only: where the next stripe's block scales start (the tiles' runs follow
    // each other in memory), and the load's flag.
    bsptr: Vec<DFF<Bits<32>>>,
    to_bs_q: Vec<DFF<Bit>>,
    // A stripe's weights (and column scales) are in; with block scales these follow first.
    w_in: Signal<Local, Bit>,
    bs_on: Signal<Local, Bit>,
    _b1: usize,
    rd: StridedRead,
    cnt: Signal<Local, Bits<32>>,
    rows: Signal<Local, Bits<32>>,
    rows_r: Signal<Local, Bits<32>>,
    // At most R: the upper 16 bits are zero.
    unused_rows: Signal<Local, Bits<32>>,
    left: Signal<Local, Bits<32>>,
    tleft: Signal<Local, Bits<32>>,
    // Counts are below 2^16 by construction (buffer sizes), the upper bits are zero.
    unused_cnt: Signal<Local, Bits<32>>,
    k1_2: Constant<Bits<2>>,
    k1_32: Constant<Bits<32>>,
    k_beat: Constant<Bits<16>>,
    k_beat_bytes: Constant<Bits<32>>,
    k_beat_shift: Constant<Bits<32>>,
    k_logr: Constant<Bits<32>>,
    k_logc: Constant<Bits<32>>,
    k_rows: Constant<Bits<32>>,
}

impl Loader {
    /// The loader of an array with `rows` × `cols` PEs (powers of two).
    pub fn new(rows: u32, cols: u32, block: bool) -> Self {
        assert!(rows.is_power_of_two() && cols.is_power_of_two(), "array shape");
        let b1 = usize::from(block);
        Self {
            block_on: many(b1),
            bs_addr: many(b1),
            bs_tile: many(b1),
            to_bs: many(b1),
            route_bs: many(b1),
            bsptr: many(b1),
            to_bs_q: many(b1),
            w_in: Default::default(),
            bs_on: Default::default(),
            _b1: b1,
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            stop: Default::default(),
            abort: Default::default(),
            m: Default::default(),
            n: Default::default(),
            a_addr: Default::default(),
            w_addr: Default::default(),
            a_stride: Default::default(),
            w_stride: Default::default(),
            scale_addr: Default::default(),
            scale_on: Default::default(),
            kbq: Default::default(),
            kbq_bytes: Default::default(),
            mblocks: Default::default(),
            ntiles: Default::default(),
            stripe_tiles: Default::default(),
            a_full0: Default::default(),
            a_full1: Default::default(),
            w_full0: Default::default(),
            w_full1: Default::default(),
            dma: Default::default(),
            fail: Default::default(),
            fail_code: Default::default(),
            w_loaded: Default::default(),
            a_loaded: Default::default(),
            sp: Default::default(),
            half: Default::default(),
            to_w: Default::default(),
            to_s: Default::default(),
            route_w: Default::default(),
            route_s: Default::default(),
            route_a: Default::default(),
            quiet: Default::default(),
            ld: Default::default(),
            n0t: Default::default(),
            st: Default::default(),
            block: Default::default(),
            blk_last: Default::default(),
            a_rows: Default::default(),
            a_wait: Default::default(),
            sp_last: Default::default(),
            a_first: Default::default(),
            a_pre: Default::default(),
            a_pre_last: Default::default(),
            half_q: Default::default(),
            aptr: Default::default(),
            wptr: Default::default(),
            sp_q: Default::default(),
            to_w_q: Default::default(),
            to_s_q: Default::default(),
            rd: Default::default(),
            cnt: Default::default(),
            rows: Default::default(),
            rows_r: Default::default(),
            unused_rows: Default::default(),
            left: Default::default(),
            tleft: Default::default(),
            unused_cnt: Default::default(),
            k1_2: Constant::new(1.into()),
            k1_32: Constant::new(1.into()),
            k_beat: Constant::new(1.into()),
            k_beat_bytes: Constant::new((AXI_BEAT_BYTES as u64).into()),
            k_beat_shift: Constant::new((AXI_BEAT_BYTES.trailing_zeros() as u64).into()),
            k_logr: Constant::new((rows.trailing_zeros() as u64).into()),
            k_logc: Constant::new((cols.trailing_zeros() as u64).into()),
            k_rows: Constant::new((rows as u64).into()),
        }
    }
}

impl Logic for Loader {
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, ld, n0t, st, block, blk_last, sp_last, a_first, a_pre, a_pre_last, half_q, aptr, wptr, sp_q,
            to_w_q, to_s_q, a_rows, a_wait
        );
        self.rd.clock.next = self.clock.val();
        self.rd.reset.next = self.reset.val();
        self.rd.abort.next = self.abort.val();
        DmaCmd::link(&mut self.dma, &mut self.rd.dma);
        self.fail.next = self.rd.fail.val();
        self.fail_code.next = self.rd.code.val();
        // Operand rows by default; the scale load reads one beat per column tile.
        self.rd.go.next = false;
        self.rd.addr.next = self.aptr.q.val();
        self.rd.rows.next = 0.into();
        self.rd.row_beats.next = self.kbq.val();
        self.rd.row_bytes.next = self.kbq_bytes.val();
        self.rd.stride.next = self.a_stride.val();

        self.sp.next = self.sp_q.q.val();
        self.half.next = self.half_q.q.val();
        self.to_w.next = self.to_w_q.q.val();
        self.to_s.next = self.to_s_q.q.val();
        self.quiet.next = (self.ld.q.val() == Load::Idle) | (self.ld.q.val() == Load::Stop);
        self.route_w.next = false;
        self.route_s.next = false;
        self.w_in.next = false;
        self.bs_on.next = false;
        self.route_a.next = false;
        self.w_loaded.next = false;
        self.a_loaded.next = false;

        self.left.next = self.n.val() - (self.n0t.q.val() << self.k_logc.val());
        self.rows.next = self.m.val() - (self.block.q.val() << self.k_logr.val());
        self.tleft.next = self.ntiles.val() - self.n0t.q.val();
        self.blk_last.d.next = (self.block.q.val() + self.k1_32.val()) == self.mblocks.val();
        self.sp_last.d.next = (self.n0t.q.val() + bit_cast::<32, 16>(self.st.q.val())) >= self.ntiles.val();
        self.cnt.next = self.left.val();
        self.unused_cnt.next = self.cnt.val();
        self.rows_r.next = self.rows.val();
        if self.rows.val() > self.k_rows.val() {
            self.rows_r.next = self.k_rows.val();
        }
        self.a_rows.d.next = bit_cast::<16, 32>(self.rows_r.val());
        self.unused_rows.next = self.rows_r.val();
        self.a_wait.d.next = false;

        if self.start.val() {
            self.ld.d.next = Load::AStart;
            self.a_first.d.next = true;
            self.a_pre.d.next = false;
            self.block.d.next = 0.into();
            self.aptr.d.next = self.a_addr.val();
            self.n0t.d.next = 0.into();
            self.half_q.d.next = false;
            self.wptr.d.next = self.w_addr.val();
            self.sp_q.d.next = 0.into();
        }
        if self.stop.val() {
            self.ld.d.next = Load::Idle;
        }
        match self.ld.q.val() {
            Load::WStart => {
                if self.abort.val() {
                    self.ld.d.next = Load::Stop;
                } else if (!self.sp_q.q.val().get_bit(0) & !self.w_full0.val())
                    | (self.sp_q.q.val().get_bit(0) & !self.w_full1.val())
                {
                    // Tiles and columns in this stripe: min(stripe, what is left of N).
                    if self.tleft.val() < bit_cast::<32, 16>(self.stripe_tiles.val()) {
                        self.st.d.next = bit_cast::<16, 32>(self.tleft.val());
                    } else {
                        self.st.d.next = self.stripe_tiles.val();
                    }
                    if self.left.val() > (bit_cast::<32, 16>(self.stripe_tiles.val()) << self.k_logc.val()) {
                        self.cnt.next = bit_cast::<32, 16>(self.stripe_tiles.val()) << self.k_logc.val();
                    }
                    // One weight row per output column.
                    self.rd.go.next = true;
                    self.rd.addr.next = self.wptr.q.val();
                    self.rd.rows.next = bit_cast::<16, 32>(self.cnt.val());
                    self.rd.stride.next = self.w_stride.val();
                    self.to_w_q.d.next = true;
                    self.route_w.next = true;
                    self.ld.d.next = Load::W;
                }
            }
            Load::W => {
                if self.rd.ok.val() {
                    self.wptr.d.next = self.rd.next_addr.val();
                    if self.scale_on.val() {
                        // The stripe's column scales: one beat per column tile.
                        self.rd.go.next = true;
                        self.rd.addr.next = self.scale_addr.val() + (self.n0t.q.val() << self.k_beat_shift.val());
                        self.rd.rows.next = self.st.q.val();
                        self.rd.row_beats.next = self.k_beat.val();
                        self.rd.row_bytes.next = self.k_beat_bytes.val();
                        self.rd.stride.next = self.k_beat_bytes.val();
                        self.to_w_q.d.next = false;
                        self.to_s_q.d.next = true;
                        self.route_s.next = true;
                        self.ld.d.next = Load::S;
                    } else {
                        self.w_in.next = true;
                    }
                }
            }
            Load::S => {
                if self.rd.ok.val() | self.rd.fail.val() | self.rd.quit.val() {
                    self.to_s_q.d.next = false;
                }
                if self.rd.ok.val() {
                    self.w_in.next = true;
                }
            }
            Load::Bs => {
                if self.rd.ok.val() {
                    self.w_loaded.next = true;
                }
            }
            Load::AStart => {
                self.a_wait.d.next = true;
                if self.abort.val() {
                    self.ld.d.next = Load::Stop;
                } else if self.a_wait.q.val()
                    & ((!self.half_q.q.val() & !self.a_full0.val()) | (self.half_q.q.val() & !self.a_full1.val()))
                {
                    self.rd.go.next = true;
                    self.rd.rows.next = self.a_rows.q.val();
                    self.to_w_q.d.next = false;
                    self.route_a.next = true;
                    self.ld.d.next = Load::A;
                }
            }
            Load::A => {
                if self.rd.ok.val() {
                    self.aptr.d.next = self.rd.next_addr.val();
                    self.a_loaded.next = true;
                    self.half_q.d.next = !self.half_q.q.val();
                    self.block.d.next = self.block.q.val() + self.k1_32.val();
                    if self.a_first.q.val() {
                        // The first stripe's weights now; its other blocks after them.
                        self.a_first.d.next = false;
                        self.a_pre.d.next = true;
                        self.a_pre_last.d.next = self.blk_last.q.val();
                        self.ld.d.next = Load::WStart;
                    } else if self.blk_last.q.val() {
                        self.sp_q.d.next = self.sp_q.q.val() + self.k1_2.val();
                        self.n0t.d.next = self.n0t.q.val() + bit_cast::<32, 16>(self.st.q.val());
                        if self.sp_last.q.val() {
                            self.ld.d.next = Load::Stop;
                        } else {
                            self.ld.d.next = Load::WStart;
                        }
                    } else {
                        self.ld.d.next = Load::AStart;
                    }
                }
            }
            _ => {}
        }
        // The stripe's block scales: one run of `bs_tile` beats per column tile, contiguous.
        for i in 0..self._b1 {
            self.bs_on.next = self.block_on[i].val();
            self.bsptr[i].clock.next = self.clock.val();
            self.to_bs_q[i].clock.next = self.clock.val();
            self.bsptr[i].d.next = self.bsptr[i].q.val();
            self.to_bs_q[i].d.next = self.to_bs_q[i].q.val();
            self.to_bs[i].next = self.to_bs_q[i].q.val();
            self.route_bs[i].next = false;
            if self.start.val() {
                self.bsptr[i].d.next = self.bs_addr[i].val();
            }
            if self.w_in.val() & self.block_on[i].val() {
                self.rd.go.next = true;
                self.rd.addr.next = self.bsptr[i].q.val();
                self.rd.rows.next = self.st.q.val();
                self.rd.row_beats.next = self.bs_tile[i].val().get_bits::<16>(0);
                self.rd.row_bytes.next = self.bs_tile[i].val() << self.k_beat_shift.val();
                self.rd.stride.next = self.bs_tile[i].val() << self.k_beat_shift.val();
                self.to_w_q.d.next = false;
                self.to_s_q.d.next = false;
                self.to_bs_q[i].d.next = true;
                self.route_bs[i].next = true;
                self.ld.d.next = Load::Bs;
            }
            if (self.ld.q.val() == Load::Bs) & (self.rd.ok.val() | self.rd.fail.val() | self.rd.quit.val()) {
                self.to_bs_q[i].d.next = false;
            }
            if (self.ld.q.val() == Load::Bs) & self.rd.ok.val() {
                self.bsptr[i].d.next = self.rd.next_addr.val();
            }
            if self.reset.val() {
                self.to_bs_q[i].d.next = false;
            }
        }
        if self.w_in.val() & !self.bs_on.val() {
            self.w_loaded.next = true;
        }
        // A read that failed or was aborted ends the loads.
        if ((self.ld.q.val() == Load::W)
            | (self.ld.q.val() == Load::S)
            | (self.ld.q.val() == Load::Bs)
            | (self.ld.q.val() == Load::A))
            & (self.rd.fail.val() | self.rd.quit.val())
        {
            self.ld.d.next = Load::Stop;
        }
        // The stripe (and its scales) are in: its A blocks follow (after block 0 if that came
        // first, and none if it was the only one).
        if self.w_loaded.val() {
            self.a_pre.d.next = false;
            if !self.a_pre.q.val() {
                self.block.d.next = 0.into();
                self.aptr.d.next = self.a_addr.val();
                self.ld.d.next = Load::AStart;
            } else if !self.a_pre_last.q.val() {
                self.ld.d.next = Load::AStart;
            } else {
                self.sp_q.d.next = self.sp_q.q.val() + self.k1_2.val();
                self.n0t.d.next = self.n0t.q.val() + bit_cast::<32, 16>(self.st.q.val());
                if self.sp_last.q.val() {
                    self.ld.d.next = Load::Stop;
                } else {
                    self.ld.d.next = Load::WStart;
                }
            }
        }
        // A reset or a new job ends any load's routing: a scale load cut short by SOFT_RESET
        // left `to_s` set, and the next job's first block (activations) went nowhere.
        if self.reset.val() | self.start.val() {
            self.to_w_q.d.next = false;
            self.to_s_q.d.next = false;
        }
        if self.reset.val() {
            self.ld.d.next = Load::Idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, settle};

    /// A job for a 4×4 loader: M = 10 (3 blocks), N = 12 (3 tiles, stripes of 2), K of 3 beats.
    fn job(l: &mut Loader, w_stride: u64, scale_addr: u64) {
        l.m.next = bits(10);
        l.n.next = bits(12);
        l.a_addr.next = bits(0x1000);
        l.w_addr.next = bits(0x8000);
        l.a_stride.next = bits(48);
        l.w_stride.next = bits(w_stride);
        l.scale_addr.next = bits(scale_addr);
        l.scale_on.next = scale_addr != 0;
        l.kbq.next = bits(3);
        l.kbq_bytes.next = bits(48);
        l.mblocks.next = bits(3);
        l.ntiles.next = bits(3);
        l.stripe_tiles.next = bits(2);
    }

    /// Runs the loader against a read DMA that takes a command at once and ends it 3 cycles
    /// later with `resp(i)` for the i-th command, and a compute engine that frees every half
    /// it is given 2 cycles later. Returns the commands `(addr, beats)` and the last fail code.
    fn run(l: &mut Loader, resp: impl Fn(usize) -> AxiResp) -> (Vec<(u64, u64)>, Option<u64>, usize) {
        l.connect_all();
        l.reset.next = true;
        cycle(l);
        l.reset.next = false;
        l.start.next = true;
        cycle(l);
        l.start.next = false;
        let (mut cmds, mut fail, mut w_loads) = (Vec::new(), None, 0);
        let mut busy_until: Option<usize> = None;
        let (mut a_full, mut w_full) = ([0usize; 2], [0usize; 2]);
        for t in 0..2000 {
            // Halves are freed 2 cycles after they fill.
            l.a_full0.next = a_full[0] != 0 && a_full[0] + 2 > t;
            l.a_full1.next = a_full[1] != 0 && a_full[1] + 2 > t;
            l.w_full0.next = w_full[0] != 0 && w_full[0] + 2 > t;
            l.w_full1.next = w_full[1] != 0 && w_full[1] + 2 > t;
            l.dma.ready.next = busy_until.is_none();
            l.dma.done.next = busy_until == Some(t);
            l.dma.err.next = bits(
                if busy_until == Some(t) {
                    resp(cmds.len() - 1)
                } else {
                    AxiResp::Okay
                }
                .code(),
            );
            settle(l);
            if l.dma.valid.val() && l.dma.ready.val() {
                cmds.push((l.dma.addr.val().to_u64(), l.dma.beats.val().to_u64()));
                busy_until = Some(t + 3);
            }
            if l.dma.done.val() {
                busy_until = None;
            }
            if l.fail.val() {
                fail = Some(l.fail_code.val().to_u64());
                l.abort.next = true;
            }
            if l.a_loaded.val() {
                a_full[l.half.val() as usize] = t;
            }
            if l.w_loaded.val() {
                w_full[l.sp.val().get_bit(0) as usize] = t;
                w_loads += 1;
            }
            cycle(l);
            if l.ld.q.val() == Load::Stop {
                break;
            }
        }
        assert!(l.quiet.val(), "the loader did not finish");
        (cmds, fail, w_loads)
    }

    #[test]
    fn contiguous_rows_take_one_command_per_stripe_and_block() {
        let mut l = Loader::new(4, 4, false);
        job(&mut l, 48, 0);
        let (cmds, fail, w_loads) = run(&mut l, |_| AxiResp::Okay);
        assert_eq!(fail, None);
        assert_eq!(w_loads, 2);
        let stripe0 = (0x8000, 8 * 3); // 8 columns × 3 beats
        let stripe1 = (0x8000 + 8 * 48, 4 * 3); // the last 4 columns
        let blocks = [(0x1000, 4 * 3), (0x1000 + 4 * 48, 4 * 3), (0x1000 + 8 * 48, 2 * 3)];
        // The job's first block comes before the first stripe's weights.
        let want: Vec<(u64, u64)> = [
            vec![blocks[0], stripe0],
            blocks[1..].to_vec(),
            vec![stripe1],
            blocks.to_vec(),
        ]
        .concat();
        assert_eq!(cmds, want);
    }

    #[test]
    fn one_row_block_goes_before_the_weights_once() {
        let mut l = Loader::new(4, 4, false);
        job(&mut l, 48, 0);
        l.m.next = bits(3);
        l.mblocks.next = bits(1);
        let (cmds, fail, w_loads) = run(&mut l, |_| AxiResp::Okay);
        assert_eq!(fail, None);
        assert_eq!(w_loads, 2);
        let block = (0x1000, 3 * 3);
        assert_eq!(
            cmds,
            [block, (0x8000, 8 * 3), (0x8000 + 8 * 48, 4 * 3), block],
            "block 0, stripe 0, then stripe 1 and its block"
        );
    }

    #[test]
    fn strided_rows_take_one_command_each_and_scales_follow_the_weights() {
        let mut l = Loader::new(4, 4, false);
        job(&mut l, 64, 0x4000);
        let (cmds, _, _) = run(&mut l, |_| AxiResp::Okay);
        // Block 0, then stripe 0: 8 weight rows 64 bytes apart, then its 2 tiles' scales.
        assert_eq!(cmds[0], (0x1000, 4 * 3));
        let w0: Vec<(u64, u64)> = (0..8).map(|i| (0x8000 + 64 * i, 3)).collect();
        assert_eq!(cmds[1..9], w0[..]);
        assert_eq!(cmds[9], (0x4000, 2));
        // Stripe 1 continues at the next weight row; its scales start at tile 2.
        let s1 = cmds.iter().position(|&c| c == (0x8000 + 64 * 8, 3)).expect("stripe 1");
        assert_eq!(cmds[s1 + 4], (0x4000 + 2 * 16, 1));
        assert_eq!(cmds.len(), 8 + 1 + 3 + 4 + 1 + 3);
    }

    #[test]
    fn a_reset_during_a_scale_load_leaves_no_routing_behind() {
        let mut l = Loader::new(4, 4, false);
        job(&mut l, 48, 0x4000);
        l.connect_all();
        l.start.next = true;
        cycle(&mut l);
        l.start.next = false;
        // Every command is taken at once and ends 3 cycles later, until the scale load runs.
        let mut busy_until = None;
        for t in 0..200 {
            l.dma.ready.next = busy_until.is_none();
            l.dma.done.next = busy_until == Some(t);
            l.a_full0.next = false;
            l.a_full1.next = false;
            settle(&mut l);
            if l.to_s.val() {
                break;
            }
            if l.dma.valid.val() && l.dma.ready.val() {
                busy_until = Some(t + 3);
            }
            if l.dma.done.val() {
                busy_until = None;
            }
            cycle(&mut l);
        }
        assert!(l.to_s.val(), "the scale load runs");
        l.dma.done.next = false;
        l.reset.next = true;
        cycle(&mut l);
        l.reset.next = false;
        settle(&mut l);
        assert!(!l.to_s.val() && !l.to_w.val(), "beats after a reset go to the A banks");
    }

    #[test]
    fn a_dma_error_stops_the_loads_with_its_code() {
        for (resp, code) in [
            (AxiResp::SlvErr, ErrorCode::ReadSlvErr),
            (AxiResp::DecErr, ErrorCode::ReadDecErr),
        ] {
            let mut l = Loader::new(4, 4, false);
            job(&mut l, 48, 0);
            // The second command (stripe 0's weights, after block 0) fails.
            let (cmds, fail, _) = run(&mut l, |i| if i == 1 { resp } else { AxiResp::Okay });
            assert_eq!(fail, Some(code as u64));
            assert_eq!(cmds.len(), 2, "no command after the failed one");
        }
    }
}
