//! The output stage: column readout, the output units (one per group of S columns,
//! [`NpeConfig::cols_per_output_unit`]), the output banks and the order results take through
//! them ([`ResultWalk`]).
//!
//! PEs of a column finish on consecutive cycles, so column c's readout takes the one finished
//! PE of the column each cycle and registers it twice with its scale (the job's, plus the
//! column's when column scales are on; the column scale is registered as it leaves its bank,
//! which is why the result waits a second cycle). Column 0's results walk (half, tile, row);
//! column c is the same walk c cycles later, so the scale bank's address is delayed per column.
//!
//! Sharing: the first column of a group feeds its unit directly; column j of the group waits
//! j·(R − 1) cycles in a [`ResultDelay`], so the unit takes the group's R·S results of a tile
//! on R·S consecutive cycles, column by column. That needs a tile to last R·S cycles, which the
//! job plan's tile period guarantees. The units' results then walk (half, tile, column, row);
//! unit u is unit 0's walk u·S cycles later, so its bank address and column are delayed per
//! unit, and the unit writes the bank of the column. The last unit's last write of a block makes
//! the half ready to store; the storer then reads a beat of four columns at a time, each bank's
//! read registered in the block RAM and again beside it (see [`super::storer`]).
//!
//! The output units are slots ([`super::slots`]), so the stage runs as Verilog only: tested
//! through the Verilated accelerator (`tests/accel_gemm.rs`).
//!
//! [`NpeConfig::cols_per_output_unit`]: crate::spec::NpeConfig::cols_per_output_unit

use crate::many;
use crate::output::SCALE_BITS;
use crate::spec::config::{AXI_BEAT_BYTES, AXI_DATA_BITS, OUT_VALUE_BYTES};
use rust_hdl::prelude::*;

use super::bank_ram::{BankRam, BANK_ADDR_BITS};
use super::layout::BankLayout;
use super::operand_buffers::SCALE_WORD_BITS;
use super::result_delay::ResultDelay;
use super::result_walk::ResultWalk;
use super::slots::OutputUnitSlot;

/// AXI data width as a type-level width.
const BUS: usize = AXI_DATA_BITS as usize;
/// Output container width as a type-level width.
const VALUE: usize = (OUT_VALUE_BYTES * 8) as usize;
/// Output values per bus beat.
const VPB: usize = (AXI_BEAT_BYTES / OUT_VALUE_BYTES) as usize;

/// A container zero-extended to the bus width: a block of its own, because rust-hdl cannot
/// translate a `bit_cast` of an expression that uses a loop variable.
#[derive(LogicBlock, Default)]
pub struct Widen {
    /// The container.
    pub value: Signal<In, Bits<VALUE>>,
    /// Zero-extended.
    pub wide: Signal<Out, Bits<BUS>>,
}

impl Logic for Widen {
    #[hdl_gen]
    fn update(&mut self) {
        self.wide.next = bit_cast::<BUS, VALUE>(self.value.val());
    }
}

/// The output stage (see the module docs) for `ACC_W`-bit accumulators.
#[derive(LogicBlock)]
pub struct OutputStage<const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Restart both walks at half 0 (job start, reset).
    pub clear: Signal<In, Bit>,
    /// PE(r,c)'s accumulator holds its finished sum (index r·C + c).
    pub fin: Vec<Signal<In, Bit>>,
    /// PE accumulators.
    pub acc: Vec<Signal<In, Bits<ACC_W>>>,
    /// PE NaN flags.
    pub nan: Vec<Signal<In, Bit>>,
    /// PE +Inf flags.
    pub pinf: Vec<Signal<In, Bit>>,
    /// PE −Inf flags.
    pub ninf: Vec<Signal<In, Bit>>,
    /// Output format id.
    pub out_fmt: Signal<In, Bits<3>>,
    /// The job's scale.
    pub scale_job: Signal<In, Bits<SCALE_BITS>>,
    /// Column scales are on.
    pub scale_on: Signal<In, Bit>,
    /// Column c's scale word (read at `scale_addr[c]` the cycle before).
    pub scale: Vec<Signal<In, Bits<SCALE_WORD_BITS>>>,
    /// Column c's scale-bank read address.
    pub scale_addr: Vec<Signal<Out, Bits<BANK_ADDR_BITS>>>,
    /// The last column tile of the block in half 0 (its tiles − 1).
    pub last_tile0: Signal<In, Bits<16>>,
    /// The last column tile of the block in half 1.
    pub last_tile1: Signal<In, Bits<16>>,
    /// Stripe number (mod 4) of the block in half 0.
    pub sp0: Signal<In, Bits<2>>,
    /// Stripe number (mod 4) of the block in half 1.
    pub sp1: Signal<In, Bits<2>>,
    /// Half 0 is written: ready to store (one-cycle pulse).
    pub ready0: Signal<Out, Bit>,
    /// Half 1 is written (one-cycle pulse).
    pub ready1: Signal<Out, Bit>,
    /// Storer read: half.
    pub rd_half: Signal<In, Bit>,
    /// Storer read: row.
    pub rd_row: Signal<In, Bits<16>>,
    /// Storer read: tile.
    pub rd_tile: Signal<In, Bits<16>>,
    /// Storer read: the read registers take the banks' data (a cycle after its address).
    pub rd_load: Signal<In, Bit>,
    /// Storer read: column group of the beat (of the read registers' data).
    pub rd_group: Signal<In, Bits<16>>,
    /// The beat: four columns' containers of group `rd_group`, from the read registers.
    pub beat: Signal<Out, Bits<BUS>>,
    colacc: Vec<DFF<Bits<ACC_W>>>,
    colv: Vec<DFF<Bit>>,
    colnan: Vec<DFF<Bit>>,
    colpinf: Vec<DFF<Bit>>,
    colninf: Vec<DFF<Bit>>,
    // A second register on the way to the unit: the result waits a cycle for its column
    // scale, which is registered where it leaves the bank (the RAM's clock-to-out plus the
    // route across the chip take most of a 10 ns cycle on their own).
    holdacc: Vec<DFF<Bits<ACC_W>>>,
    holdv: Vec<DFF<Bit>>,
    holdnan: Vec<DFF<Bit>>,
    holdpinf: Vec<DFF<Bit>>,
    holdninf: Vec<DFF<Bit>>,
    scol: Vec<DFF<Bits<SCALE_BITS>>>,
    selacc: Vec<Signal<Local, Bits<ACC_W>>>,
    selv: Vec<Signal<Local, Bit>>,
    selnan: Vec<Signal<Local, Bit>>,
    selpinf: Vec<Signal<Local, Bit>>,
    selninf: Vec<Signal<Local, Bit>>,
    scale_col: Vec<Signal<Local, Bits<SCALE_BITS>>>,
    // The scale words' upper bits are sign: only SCALE_BITS are used.
    unused_scale: Vec<Signal<Local, Bits<SCALE_WORD_BITS>>>,
    // Column j ≥ 1 of unit u waits in `delay[u·(S − 1) + j − 1]`.
    delay: Vec<ResultDelay<ACC_W>>,
    // The column scale of the result unit u takes.
    uscol: Vec<Signal<Local, Bits<SCALE_BITS>>>,
    // Each unit's input, registered after the multiplexer that picks its column (npe4x4 at
    // 81.0 MHz: a delay line's valid → the multiplexer → 2.4 ns of routing → the unit's first
    // carry chain, 12.4 ns). The unit's results, and everything that follows them, come a
    // cycle later.
    in_v: Vec<DFF<Bit>>,
    in_acc: Vec<DFF<Bits<ACC_W>>>,
    in_nan: Vec<DFF<Bit>>,
    in_pinf: Vec<DFF<Bit>>,
    in_ninf: Vec<DFF<Bit>>,
    in_scale: Vec<DFF<Bits<SCALE_BITS>>>,
    ou: Vec<OutputUnitSlot<ACC_W>>,
    i_walk: ResultWalk,
    // The scale side needs the tile and half, not the row, column or the end of a half.
    unused_iwalk: Signal<Local, Bits<16>>,
    unused_iend: Signal<Local, Bit>,
    s_addr0: Signal<Local, Bits<16>>,
    sad: Vec<DFF<Bits<BANK_ADDR_BITS>>>,
    o_walk: ResultWalk,
    o_addr0: Signal<Local, Bits<16>>,
    // Unit 0's walk, delayed: stage k is k + 1 cycles late, unit u taps stage u·S − 1.
    oad: Vec<DFF<Bits<BANK_ADDR_BITS>>>,
    oend: Vec<DFF<Bit>>,
    ocol: Vec<DFF<Bits<16>>>,
    // Unit u's result: bank address, column of the group; the last unit's: last of its half.
    uaddr: Vec<Signal<Local, Bits<BANK_ADDR_BITS>>>,
    lend: Signal<Local, Bit>,
    ucol: Vec<Signal<Local, Bits<16>>>,
    jidx: Vec<Constant<Bits<16>>>,
    obank: Vec<BankRam<Bits<VALUE>>>,
    // Each bank's read data, registered beside it (see the module docs).
    o_rq: Vec<DFF<Bits<VALUE>>>,
    widen: Vec<Widen>,
    r_addr: Signal<Local, Bits<16>>,
    gidx: Vec<Constant<Bits<16>>>,
    vshift: Vec<Constant<Bits<32>>>,
    _rows: usize,
    _cols: usize,
    _groups: usize,
    _share: usize,
    _units: usize,
    _delays: usize,
    _chain: usize,
    // 1 when the chain has stages, else 0 (a loop bound: rust-hdl unrolls loops).
    _chain1: usize,
    // The last unit when it taps the chain (units ≥ 2), else an empty loop.
    _last1: usize,
    k_sp: Constant<Bits<16>>,
    k_orow: Constant<Bits<16>>,
    k_ohalf: Constant<Bits<16>>,
    k_ohalf_bit: Constant<Bits<32>>,
}

impl<const ACC_W: usize> OutputStage<ACC_W> {
    /// The output stage of a `rows` × `cols` array with bank layout `layout`, `share` columns
    /// per output unit, the units instances of module `ou_module` (see [`super::Datapath`]).
    pub fn new(rows: usize, cols: usize, share: usize, layout: &BankLayout, ou_module: &'static str) -> Self {
        assert!(cols >= 2 && cols.is_multiple_of(VPB), "columns come in groups of {VPB}");
        assert!(
            share >= 1 && cols.is_multiple_of(share),
            "{share} columns per output unit in {cols} columns"
        );
        assert!(
            share == 1 || rows >= 3,
            "a shared unit needs delays of at least 2 cycles"
        );
        let groups = cols / VPB;
        let units = cols / share;
        let chain = cols - share;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            clear: Default::default(),
            fin: many(rows * cols),
            acc: many(rows * cols),
            nan: many(rows * cols),
            pinf: many(rows * cols),
            ninf: many(rows * cols),
            out_fmt: Default::default(),
            scale_job: Default::default(),
            scale_on: Default::default(),
            scale: many(cols),
            scale_addr: many(cols),
            last_tile0: Default::default(),
            last_tile1: Default::default(),
            sp0: Default::default(),
            sp1: Default::default(),
            ready0: Default::default(),
            ready1: Default::default(),
            rd_half: Default::default(),
            rd_row: Default::default(),
            rd_tile: Default::default(),
            rd_load: Default::default(),
            rd_group: Default::default(),
            beat: Default::default(),
            colacc: many(cols),
            colv: many(cols),
            colnan: many(cols),
            colpinf: many(cols),
            colninf: many(cols),
            holdacc: many(cols),
            holdv: many(cols),
            holdnan: many(cols),
            holdpinf: many(cols),
            holdninf: many(cols),
            scol: many(cols),
            selacc: many(cols),
            selv: many(cols),
            selnan: many(cols),
            selpinf: many(cols),
            selninf: many(cols),
            scale_col: many(cols),
            unused_scale: many(cols),
            delay: (0..units)
                .flat_map(|_| (1..share).map(|j| ResultDelay::new(j * (rows - 1))))
                .collect(),
            uscol: many(units),
            in_v: many(units),
            in_acc: many(units),
            in_nan: many(units),
            in_pinf: many(units),
            in_ninf: many(units),
            in_scale: many(units),
            ou: (0..units).map(|_| OutputUnitSlot::new(ou_module)).collect(),
            i_walk: ResultWalk::new(rows, 1),
            unused_iwalk: Default::default(),
            unused_iend: Default::default(),
            s_addr0: Default::default(),
            sad: many(cols - 1),
            o_walk: ResultWalk::new(rows, share),
            o_addr0: Default::default(),
            oad: many(chain),
            oend: many(chain),
            ocol: many(chain),
            uaddr: many(units),
            lend: Default::default(),
            ucol: many(units),
            jidx: (0..share).map(|j| Constant::new((j as u64).into())).collect(),
            obank: (0..cols).map(|_| BankRam::new(layout.o_bits())).collect(),
            o_rq: many(cols),
            widen: (0..cols).map(|_| Widen::default()).collect(),
            r_addr: Default::default(),
            gidx: (0..groups).map(|g| Constant::new((g as u64).into())).collect(),
            vshift: (0..VPB).map(|j| Constant::new(((j * VALUE) as u64).into())).collect(),
            _rows: rows,
            _cols: cols,
            _groups: groups,
            _share: share,
            _units: units,
            _delays: units * (share - 1),
            _chain: chain,
            _chain1: chain.min(1),
            _last1: (units - 1).max(1),
            k_sp: Constant::new(layout.s_sp_shift().into()),
            k_orow: Constant::new(layout.o_row_shift().into()),
            k_ohalf: Constant::new((1u64 << layout.o_half_bit()).into()),
            k_ohalf_bit: Constant::new(layout.o_half_bit().into()),
        }
    }
}

impl<const ACC_W: usize> Logic for OutputStage<ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        for c in 0..self._cols {
            self.colacc[c].clock.next = self.clock.val();
            self.colv[c].clock.next = self.clock.val();
            self.colnan[c].clock.next = self.clock.val();
            self.colpinf[c].clock.next = self.clock.val();
            self.colninf[c].clock.next = self.clock.val();
            self.holdacc[c].clock.next = self.clock.val();
            self.holdv[c].clock.next = self.clock.val();
            self.holdnan[c].clock.next = self.clock.val();
            self.holdpinf[c].clock.next = self.clock.val();
            self.holdninf[c].clock.next = self.clock.val();
            self.scol[c].clock.next = self.clock.val();
            self.obank[c].clock.next = self.clock.val();
            self.o_rq[c].clock.next = self.clock.val();
        }
        for u in 0..self._units {
            self.ou[u].clock.next = self.clock.val();
            self.ou[u].reset.next = self.reset.val();
        }
        for i in 0..self._delays {
            self.delay[i].clock.next = self.clock.val();
            self.delay[i].reset.next = self.reset.val();
        }
        for c in 0..(self._cols - 1) {
            self.sad[c].clock.next = self.clock.val();
        }
        for k in 0..self._chain {
            self.oad[k].clock.next = self.clock.val();
            self.oend[k].clock.next = self.clock.val();
            self.ocol[k].clock.next = self.clock.val();
        }
        self.i_walk.clock.next = self.clock.val();
        self.o_walk.clock.next = self.clock.val();
        self.i_walk.clear.next = self.clear.val();
        self.o_walk.clear.next = self.clear.val();

        // ---- column readout: one finished PE per column per cycle. The shape enters the
        // index arithmetic as a one-value loop (rust-hdl evaluates indices from loop variables).
        for nc in self._cols..(self._cols + 1) {
            for c in 0..self._cols {
                self.selacc[c].next = 0.into();
                self.selv[c].next = false;
                self.selnan[c].next = false;
                self.selpinf[c].next = false;
                self.selninf[c].next = false;
                // At most one PE of a column finishes per cycle: an OR of the finished ones
                // (an AND-OR per bit) instead of a priority chain of multiplexers.
                for r in 0..self._rows {
                    if self.fin[r * nc + c].val() {
                        self.selacc[c].next = self.selacc[c].val() | self.acc[r * nc + c].val();
                        self.selv[c].next = true;
                        self.selnan[c].next = self.selnan[c].val() | self.nan[r * nc + c].val();
                        self.selpinf[c].next = self.selpinf[c].val() | self.pinf[r * nc + c].val();
                        self.selninf[c].next = self.selninf[c].val() | self.ninf[r * nc + c].val();
                    }
                }
            }
        }
        for c in 0..self._cols {
            self.colacc[c].d.next = self.selacc[c].val();
            self.colv[c].d.next = self.selv[c].val() & !self.reset.val();
            self.colnan[c].d.next = self.selnan[c].val();
            self.colpinf[c].d.next = self.selpinf[c].val();
            self.colninf[c].d.next = self.selninf[c].val();
            self.holdacc[c].d.next = self.colacc[c].q.val();
            self.holdv[c].d.next = self.colv[c].q.val() & !self.reset.val();
            self.holdnan[c].d.next = self.colnan[c].q.val();
            self.holdpinf[c].d.next = self.colpinf[c].q.val();
            self.holdninf[c].d.next = self.colninf[c].q.val();
            self.scale_col[c].next = self.scale[c].val().get_bits::<SCALE_BITS>(0);
            self.unused_scale[c].next = self.scale[c].val();
            self.scol[c].d.next = 0.into();
            if self.scale_on.val() {
                self.scol[c].d.next = self.scale_col[c].val();
            }
        }

        // ---- output units: unit u takes its first column directly and column j of its group
        // from that column's delay; at most one of them holds a result in any cycle.
        for s in self._share..(self._share + 1) {
            for s1 in (self._share - 1)..self._share {
                for u in 0..self._units {
                    self.in_v[u].clock.next = self.clock.val();
                    self.in_acc[u].clock.next = self.clock.val();
                    self.in_nan[u].clock.next = self.clock.val();
                    self.in_pinf[u].clock.next = self.clock.val();
                    self.in_ninf[u].clock.next = self.clock.val();
                    self.in_scale[u].clock.next = self.clock.val();
                    self.in_v[u].d.next = self.holdv[u * s].q.val();
                    self.in_acc[u].d.next = self.holdacc[u * s].q.val();
                    self.in_nan[u].d.next = self.holdnan[u * s].q.val();
                    self.in_pinf[u].d.next = self.holdpinf[u * s].q.val();
                    self.in_ninf[u].d.next = self.holdninf[u * s].q.val();
                    self.uscol[u].next = self.scol[u * s].q.val();
                    for j in 1..self._share {
                        self.delay[u * s1 + j - 1].valid_in.next = self.holdv[u * s + j].q.val();
                        self.delay[u * s1 + j - 1].acc_in.next = self.holdacc[u * s + j].q.val();
                        self.delay[u * s1 + j - 1].nan_in.next = self.holdnan[u * s + j].q.val();
                        self.delay[u * s1 + j - 1].pinf_in.next = self.holdpinf[u * s + j].q.val();
                        self.delay[u * s1 + j - 1].ninf_in.next = self.holdninf[u * s + j].q.val();
                        self.delay[u * s1 + j - 1].scale_in.next = self.scol[u * s + j].q.val();
                        if self.delay[u * s1 + j - 1].valid_out.val() {
                            self.in_v[u].d.next = true;
                            self.in_acc[u].d.next = self.delay[u * s1 + j - 1].acc_out.val();
                            self.in_nan[u].d.next = self.delay[u * s1 + j - 1].nan_out.val();
                            self.in_pinf[u].d.next = self.delay[u * s1 + j - 1].pinf_out.val();
                            self.in_ninf[u].d.next = self.delay[u * s1 + j - 1].ninf_out.val();
                            self.uscol[u].next = self.delay[u * s1 + j - 1].scale_out.val();
                        }
                    }
                    self.in_scale[u].d.next = self.scale_job.val() + self.uscol[u].val();
                    if self.reset.val() {
                        self.in_v[u].d.next = false;
                    }
                    self.ou[u].valid.next = self.in_v[u].q.val();
                    self.ou[u].acc.next = self.in_acc[u].q.val();
                    self.ou[u].nan.next = self.in_nan[u].q.val();
                    self.ou[u].pinf.next = self.in_pinf[u].q.val();
                    self.ou[u].ninf.next = self.in_ninf[u].q.val();
                    self.ou[u].out_fmt.next = self.out_fmt.val();
                    self.ou[u].scale_exp.next = self.in_scale[u].q.val();
                }
            }
        }

        // ---- column scales: the bank address of the result column 0 picks this cycle (its
        // data is registered a cycle later, beside the result), delayed per column.
        self.i_walk.step.next = self.selv[0].val();
        self.i_walk.last0.next = self.last_tile0.val();
        self.i_walk.last1.next = self.last_tile1.val();
        self.unused_iwalk.next = self.i_walk.row.val() | self.i_walk.tile.val() | self.i_walk.col.val();
        self.unused_iend.next = self.i_walk.half_done.val();
        self.s_addr0.next = self.i_walk.tile.val() | (bit_cast::<16, 2>(self.sp0.val()) << self.k_sp.val());
        if self.i_walk.half.val() {
            self.s_addr0.next = self.i_walk.tile.val() | (bit_cast::<16, 2>(self.sp1.val()) << self.k_sp.val());
        }
        self.scale_addr[0].next = self.s_addr0.val();
        self.sad[0].d.next = self.s_addr0.val();
        for c in 1..self._cols {
            self.scale_addr[c].next = self.sad[c - 1].q.val();
        }
        for c in 2..self._cols {
            self.sad[c - 1].d.next = self.sad[c - 2].q.val();
        }

        // ---- output banks: unit 0's results advance (half, tile, column, row); unit u writes
        // the same address and column u·S cycles later, into the bank of that column.
        self.o_walk.step.next = self.ou[0].out_valid.val();
        self.o_walk.last0.next = self.last_tile0.val();
        self.o_walk.last1.next = self.last_tile1.val();
        self.o_addr0.next = (self.o_walk.row.val() << self.k_orow.val()) | self.o_walk.tile.val();
        if self.o_walk.half.val() {
            self.o_addr0.next =
                (self.o_walk.row.val() << self.k_orow.val()) | self.o_walk.tile.val() | self.k_ohalf.val();
        }
        self.uaddr[0].next = self.o_addr0.val();
        self.lend.next = self.o_walk.half_done.val();
        self.ucol[0].next = self.o_walk.col.val();
        for k in 0..self._chain1 {
            self.oad[k].d.next = self.o_addr0.val();
            self.oend[k].d.next = self.o_walk.half_done.val();
            self.ocol[k].d.next = self.o_walk.col.val();
        }
        for k in 1..self._chain {
            self.oad[k].d.next = self.oad[k - 1].q.val();
            self.oend[k].d.next = self.oend[k - 1].q.val();
            self.ocol[k].d.next = self.ocol[k - 1].q.val();
        }
        for s in self._share..(self._share + 1) {
            for u in 1..self._units {
                self.uaddr[u].next = self.oad[u * s - 1].q.val();
                self.ucol[u].next = self.ocol[u * s - 1].q.val();
            }
            for last in self._last1..self._units {
                self.lend.next = self.oend[last * s - 1].q.val();
            }
            for u in 0..self._units {
                for j in 0..self._share {
                    self.obank[u * s + j].write_address.next = self.uaddr[u].val();
                    self.obank[u * s + j].write_data.next = self.ou[u].result.val();
                    self.obank[u * s + j].write_enable.next =
                        self.ou[u].out_valid.val() & (self.ucol[u].val() == self.jidx[j].val());
                }
            }
        }
        // The last unit's last write of a block makes its half ready to store.
        self.ready0.next = false;
        self.ready1.next = false;
        for last in (self._units - 1)..self._units {
            if self.ou[last].out_valid.val() & self.lend.val() {
                if self.uaddr[last].val().get_bit(self.k_ohalf_bit.val().index()) {
                    self.ready1.next = true;
                } else {
                    self.ready0.next = true;
                }
            }
        }

        // ---- storer side: a beat holds VPB columns of one tile's row.
        self.r_addr.next = (self.rd_row.val() << self.k_orow.val()) | self.rd_tile.val();
        if self.rd_half.val() {
            self.r_addr.next = self.r_addr.val() | self.k_ohalf.val();
        }
        for c in 0..self._cols {
            self.obank[c].read_address.next = self.r_addr.val();
            self.o_rq[c].d.next = self.o_rq[c].q.val();
            if self.rd_load.val() {
                self.o_rq[c].d.next = self.obank[c].read_data.val();
            }
            self.widen[c].value.next = self.o_rq[c].q.val();
        }
        self.beat.next = 0.into();
        for vpb in VPB..(VPB + 1) {
            for g in 0..self._groups {
                if self.rd_group.val() == self.gidx[g].val() {
                    for j in 0..VPB {
                        self.beat.next = self.beat.val() | (self.widen[g * vpb + j].wide.val() << self.vshift[j].val());
                    }
                }
            }
        }
    }
}
