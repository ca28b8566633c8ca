//! The storer: writes each finished block of the output buffer to C, one row per write-DMA
//! command, while the other output half fills.
//!
//! A block in output half h is `rows` (≤ R) rows of `tiles` column tiles; a row of C is written
//! as ⌈cols · 4 / 16⌉ beats, four 32-bit output containers per beat. Beat p of a row holds
//! column group p mod (C/4) of tile p / (C/4): the storer names the row and tile it reads
//! (`r_row`, `r_tile`), when the read registers load (`r_load`) and the group of the beat in
//! them (`r_group`); the output stage supplies the beat.
//!
//! The output banks' reads are registered twice, in the block RAM and in a register beside it
//! (the DP16KD's clock-to-out and the route to the write DMA were npe8x8le8's slowest paths
//! into `wdma.wd`, −0.54 ns): the address runs one beat ahead of the beat offered, two when the
//! DMA takes it, and a stalled beat's address is read again.

use crate::axi::DmaCmd;
use crate::spec::axi::{AxiResp, RESP_BITS};
use crate::spec::config::{AXI_BEAT_BYTES, OUT_VALUE_BYTES};
use crate::spec::regs::ErrorCode;
use rust_hdl::prelude::*;

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

/// The storer (see the module docs).
#[derive(LogicBlock)]
pub struct Storer {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Start the job's stores at output half 0 (one-cycle pulse).
    pub start: Signal<In, Bit>,
    /// Forget the job (one-cycle pulse).
    pub stop: Signal<In, Bit>,
    /// The job is being aborted.
    pub abort: Signal<In, Bit>,
    /// Job M.
    pub m: Signal<In, Bits<32>>,
    /// Job N.
    pub n: Signal<In, Bits<32>>,
    /// Job C_ADDR.
    pub c_addr: Signal<In, Bits<32>>,
    /// Job C_STRIDE.
    pub c_stride: Signal<In, Bits<32>>,
    /// Output half 0 / 1 holds a finished block.
    pub ready0: Signal<In, Bit>,
    /// See `ready0`.
    pub ready1: Signal<In, Bit>,
    /// Row block of the block in half 0.
    pub m0_0: Signal<In, Bits<32>>,
    /// Row block of the block in half 1.
    pub m0_1: Signal<In, Bits<32>>,
    /// First column tile of the block in half 0.
    pub n0_0: Signal<In, Bits<32>>,
    /// First column tile of the block in half 1.
    pub n0_1: Signal<In, Bits<32>>,
    /// Column tiles of the block in half 0.
    pub tiles0: Signal<In, Bits<16>>,
    /// Column tiles of the block in half 1.
    pub tiles1: Signal<In, Bits<16>>,
    /// The write DMA's command port.
    pub dma: DmaCmd,
    /// A data beat is offered (its data is the output stage's beat for `r_*`).
    pub wr_data_valid: Signal<Out, Bit>,
    /// The write DMA takes it.
    pub wr_data_ready: Signal<In, Bit>,
    /// A DMA error: abort with `fail_code` (one-cycle pulse).
    pub fail: Signal<Out, Bit>,
    /// The error code, with `fail`.
    pub fail_code: Signal<Out, Bits<4>>,
    /// Output half `half` is stored and free again (one-cycle pulse).
    pub stored: Signal<Out, Bit>,
    /// The output half being stored.
    pub half: Signal<Out, Bit>,
    /// Nothing to do (Idle).
    pub idle: Signal<Out, Bit>,
    /// Output-buffer read: row of the block.
    pub r_row: Signal<Out, Bits<16>>,
    /// Output-buffer read: column tile.
    pub r_tile: Signal<Out, Bits<16>>,
    /// Output-buffer read: the read registers take the block RAMs' data (the beat offered
    /// moves on).
    pub r_load: Signal<Out, Bit>,
    /// Column group of the beat on `wr_data` (the one in the read registers).
    pub r_group: Signal<Out, Bits<16>>,
    sto: DFF<Store>,
    s_half: DFF<Bit>,
    s_rows: DFF<Bits<32>>,
    s_row: DFF<Bits<16>>,
    s_bpr: DFF<Bits<16>>,
    s_ptr: DFF<Bits<32>>,
    s_p: DFF<Bits<16>>,
    // The row's first beat's address was presented / its data is in the read registers.
    s_primed: DFF<Bit>,
    s_primed2: DFF<Bit>,
    // The block's geometry, computed two register stages ahead of the Wait state's use (the
    // half's select, two 32-bit subtractions, a compare and the rounding add in one cycle were
    // 16 of npe4x4's failing endpoints, −1.2 ns): stage 1 from the half's inputs, stage 2 the
    // clamps. `g_set1` / `g_set2`: the storer has waited one / two cycles on the same half and
    // job, so both stages hold that half's figures. A half's inputs are set at its claim, a
    // whole block's computation before its `ready`.
    g_mleft: DFF<Bits<32>>,
    g_cols: DFF<Bits<32>>,
    g_tcols: DFF<Bits<32>>,
    g_first: DFF<Bit>,
    g_ptr: DFF<Bits<32>>,
    g_rows: DFF<Bits<32>>,
    g_bpr: DFF<Bits<16>>,
    g_set1: DFF<Bit>,
    g_set2: DFF<Bit>,
    // "The row being stored is the block's last" (`s_row + 1 == s_rows`), registered: the
    // add and compare fed the block's end (`stored`, the half's flags, the job's done) at
    // −2.0 ns. `s_row` and `s_rows` change in Wait and WaitDone; Issue and Stream come between
    // a change and the next WaitDone.
    s_lastr: DFF<Bit>,
    s_cols: Signal<Local, Bits<32>>,
    s_m0: Signal<Local, Bits<32>>,
    s_n0: Signal<Local, Bits<32>>,
    s_tiles: Signal<Local, Bits<16>>,
    s_accept: Signal<Local, Bit>,
    // The beat whose address is presented: `s_p` + 0 (priming), + 1, + 2 (`s_p` taken).
    s_pa: Signal<Local, Bits<16>>,
    t_bpr: Signal<Local, Bits<32>>,
    // Beats per row fit 16 bits (buffer sizes): the upper bits are zero.
    unused_bpr: Signal<Local, Bits<32>>,
    k_okay: Constant<Bits<RESP_BITS>>,
    k0_32: Constant<Bits<32>>,
    k1_16: Constant<Bits<16>>,
    k2_16: Constant<Bits<16>>,
    k_vpb_m1: Constant<Bits<32>>,
    k_log_vpb: Constant<Bits<32>>,
    k_logr: Constant<Bits<32>>,
    k_logc: Constant<Bits<32>>,
    k_log_cbytes: Constant<Bits<32>>,
    k_rows: Constant<Bits<32>>,
    k_loggroups: Constant<Bits<16>>,
    k_groups_m1: Constant<Bits<16>>,
    // AXI SLVERR / DECERR + this offset = the write error codes.
    k_e_wr: Constant<Bits<4>>,
}

impl Storer {
    /// The storer of an array with `rows` × `cols` PEs (powers of two, `cols` a multiple of the
    /// values per beat).
    pub fn new(rows: u32, cols: u32) -> Self {
        let vpb = AXI_BEAT_BYTES / OUT_VALUE_BYTES;
        assert!(rows.is_power_of_two() && cols.is_power_of_two() && cols.is_multiple_of(vpb));
        let groups = cols / vpb;
        let log = |x: u32| x.trailing_zeros() as u64;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            stop: Default::default(),
            abort: Default::default(),
            m: Default::default(),
            n: Default::default(),
            c_addr: Default::default(),
            c_stride: Default::default(),
            ready0: Default::default(),
            ready1: Default::default(),
            m0_0: Default::default(),
            m0_1: Default::default(),
            n0_0: Default::default(),
            n0_1: Default::default(),
            tiles0: Default::default(),
            tiles1: Default::default(),
            dma: Default::default(),
            wr_data_valid: Default::default(),
            wr_data_ready: Default::default(),
            fail: Default::default(),
            fail_code: Default::default(),
            stored: Default::default(),
            half: Default::default(),
            idle: Default::default(),
            r_row: Default::default(),
            r_tile: Default::default(),
            r_load: Default::default(),
            r_group: Default::default(),
            sto: Default::default(),
            s_half: Default::default(),
            s_rows: Default::default(),
            s_row: Default::default(),
            s_bpr: Default::default(),
            s_ptr: Default::default(),
            s_p: Default::default(),
            s_primed: Default::default(),
            s_primed2: Default::default(),
            g_mleft: Default::default(),
            g_cols: Default::default(),
            g_tcols: Default::default(),
            g_first: Default::default(),
            g_ptr: Default::default(),
            g_rows: Default::default(),
            g_bpr: Default::default(),
            g_set1: Default::default(),
            g_set2: Default::default(),
            s_lastr: Default::default(),
            s_cols: Default::default(),
            s_m0: Default::default(),
            s_n0: Default::default(),
            s_tiles: Default::default(),
            s_accept: Default::default(),
            s_pa: Default::default(),
            t_bpr: Default::default(),
            unused_bpr: Default::default(),
            k_okay: Constant::new(AxiResp::Okay.code().into()),
            k0_32: Constant::new(0.into()),
            k1_16: Constant::new(1.into()),
            k2_16: Constant::new(2.into()),
            k_vpb_m1: Constant::new(((vpb - 1) as u64).into()),
            k_log_vpb: Constant::new(log(vpb).into()),
            k_logr: Constant::new(log(rows).into()),
            k_logc: Constant::new(log(cols).into()),
            k_log_cbytes: Constant::new((log(cols) + log(OUT_VALUE_BYTES)).into()),
            k_rows: Constant::new((rows as u64).into()),
            k_loggroups: Constant::new(log(groups).into()),
            k_groups_m1: Constant::new(((groups - 1) as u64).into()),
            k_e_wr: Constant::new((ErrorCode::WriteSlvErr as u64 - AxiResp::SlvErr.code()).into()),
        }
    }
}

impl Logic for Storer {
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sto, s_half, s_rows, s_row, s_bpr, s_ptr, s_p, s_primed, s_primed2, g_mleft, g_cols, g_tcols,
            g_first, g_ptr, g_rows, g_bpr, g_set1, g_set2, s_lastr
        );
        self.s_lastr.d.next = (self.s_row.q.val() + self.k1_16.val()) == bit_cast::<16, 32>(self.s_rows.q.val());
        self.s_m0.next = self.m0_0.val();
        self.s_n0.next = self.n0_0.val();
        self.s_tiles.next = self.tiles0.val();
        if self.s_half.q.val() {
            self.s_m0.next = self.m0_1.val();
            self.s_n0.next = self.n0_1.val();
            self.s_tiles.next = self.tiles1.val();
        }
        // Stage 1.
        self.g_mleft.d.next = self.m.val() - (self.s_m0.val() << self.k_logr.val());
        self.g_cols.d.next = self.n.val() - (self.s_n0.val() << self.k_logc.val());
        self.g_tcols.d.next = bit_cast::<32, 16>(self.s_tiles.val()) << self.k_logc.val();
        self.g_first.d.next = self.s_m0.val() == self.k0_32.val();
        self.g_ptr.d.next = self.c_addr.val() + (self.s_n0.val() << self.k_log_cbytes.val());
        // Stage 2: rows (at most R), columns (at most the block's tiles'), beats per row.
        self.g_rows.d.next = self.g_mleft.q.val();
        if self.g_mleft.q.val() > self.k_rows.val() {
            self.g_rows.d.next = self.k_rows.val();
        }
        self.s_cols.next = self.g_cols.q.val();
        if self.g_cols.q.val() > self.g_tcols.q.val() {
            self.s_cols.next = self.g_tcols.q.val();
        }
        self.t_bpr.next = (self.s_cols.val() + self.k_vpb_m1.val()) >> self.k_log_vpb.val();
        self.unused_bpr.next = self.t_bpr.val();
        self.g_bpr.d.next = bit_cast::<16, 32>(self.t_bpr.val());
        self.g_set1.d.next = (self.sto.q.val() == Store::Wait) & !self.start.val();
        self.g_set2.d.next = self.g_set1.q.val() & (self.sto.q.val() == Store::Wait) & !self.start.val();
        self.s_accept.next = false;
        self.r_load.next = false;
        self.wr_data_valid.next = false;
        self.dma.valid.next = false;
        self.dma.addr.next = self.s_ptr.q.val();
        self.dma.beats.next = self.s_bpr.q.val();
        self.fail.next = false;
        self.fail_code.next = bit_cast::<4, RESP_BITS>(self.dma.err.val()) + self.k_e_wr.val();
        self.stored.next = false;
        self.half.next = self.s_half.q.val();
        self.idle.next = self.sto.q.val() == Store::Idle;
        if self.start.val() {
            self.sto.d.next = Store::Wait;
            self.s_half.d.next = false;
        }
        if self.stop.val() {
            self.sto.d.next = Store::Idle;
        }
        match self.sto.q.val() {
            Store::Wait => {
                if self.abort.val() {
                    self.sto.d.next = Store::Idle;
                } else if self.g_set2.q.val()
                    & ((!self.s_half.q.val() & self.ready0.val()) | (self.s_half.q.val() & self.ready1.val()))
                {
                    self.s_rows.d.next = self.g_rows.q.val();
                    self.s_row.d.next = 0.into();
                    self.s_bpr.d.next = self.g_bpr.q.val();
                    // Row pointer: C + m0·C_STRIDE + n0·4 bytes (first block of a stripe;
                    // later blocks continue where the previous one ended).
                    if self.g_first.q.val() {
                        self.s_ptr.d.next = self.g_ptr.q.val();
                    }
                    self.sto.d.next = Store::Issue;
                }
            }
            Store::Issue => {
                self.dma.valid.next = true;
                if self.dma.ready.val() {
                    self.s_p.d.next = 0.into();
                    self.s_primed.d.next = false;
                    self.s_primed2.d.next = false;
                    self.sto.d.next = Store::Stream;
                }
            }
            Store::Stream => {
                // The first cycle presents the row's first beat's address, the second loads
                // its data into the read registers; the third offers it.
                self.wr_data_valid.next = self.s_primed2.q.val();
                self.s_primed.d.next = true;
                self.s_primed2.d.next = self.s_primed.q.val();
                self.s_accept.next = self.s_primed2.q.val() & self.wr_data_ready.val();
                self.r_load.next = (self.s_primed.q.val() & !self.s_primed2.q.val()) | self.s_accept.val();
                if self.s_accept.val() {
                    self.s_p.d.next = self.s_p.q.val() + self.k1_16.val();
                    if self.s_p.q.val() == (self.s_bpr.q.val() - self.k1_16.val()) {
                        self.sto.d.next = Store::WaitDone;
                    }
                }
            }
            Store::WaitDone => {
                if self.dma.done.val() {
                    self.s_ptr.d.next = self.s_ptr.q.val() + self.c_stride.val();
                    self.s_row.d.next = self.s_row.q.val() + self.k1_16.val();
                    if self.dma.err.val() != self.k_okay.val() {
                        self.fail.next = true;
                        self.sto.d.next = Store::Idle;
                    } else if self.abort.val() {
                        self.sto.d.next = Store::Idle;
                    } else if self.s_lastr.q.val() {
                        // Block stored. Only a stripe's last block can have fewer than R rows,
                        // so the pointer now addresses the next block's first row.
                        self.stored.next = true;
                        self.s_half.d.next = !self.s_half.q.val();
                        self.sto.d.next = Store::Wait;
                    } else {
                        self.sto.d.next = Store::Issue;
                    }
                }
            }
            _ => {}
        }
        // Past the row's last beat the address names a beat no one takes (a harmless read).
        // Both sums come from `s_p` alone, so the DMA's take only selects (an adder behind it
        // held npe4x4's output banks' read address at −0.40 ns).
        self.s_pa.next = self.s_p.q.val();
        if self.s_primed.q.val() {
            self.s_pa.next = self.s_p.q.val() + self.k1_16.val();
        }
        if self.s_accept.val() {
            self.s_pa.next = self.s_p.q.val() + self.k2_16.val();
        }
        self.r_row.next = self.s_row.q.val();
        self.r_tile.next = self.s_pa.val() >> self.k_loggroups.val();
        self.r_group.next = self.s_p.q.val() & self.k_groups_m1.val();
        if self.reset.val() {
            self.sto.d.next = Store::Idle;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, settle};

    /// Stores two blocks of a job on a 4-row array `cols` wide (M = 6, N = 3 tiles, C at
    /// 0x2000, rows 128 bytes apart) from output halves 0 and 1: block 0 has 3 tiles, block 1
    /// (rows 4, 5) too. The DMA takes a beat every `every` cycles and ends a command 2 cycles
    /// after its last beat with `resp`. Returns the commands, the (row, tile, group) of every
    /// beat taken, the halves stored and the fail code.
    #[allow(clippy::type_complexity)]
    fn run(
        cols: usize,
        every: usize,
        resp: AxiResp,
    ) -> (Vec<(u64, u64)>, Vec<(u64, u64, u64)>, Vec<bool>, Option<u64>) {
        let mut s = Storer::new(4, cols as u32);
        s.connect_all();
        s.m.next = bits(6);
        s.n.next = bits(3 * cols as u64);
        s.c_addr.next = bits(0x2000);
        s.c_stride.next = bits(128);
        s.m0_0.next = bits(0);
        s.m0_1.next = bits(1);
        s.n0_0.next = bits(0);
        s.n0_1.next = bits(0);
        s.tiles0.next = bits(3);
        s.tiles1.next = bits(3);
        s.ready0.next = true;
        s.ready1.next = true;
        s.reset.next = true;
        cycle(&mut s);
        s.reset.next = false;
        s.start.next = true;
        cycle(&mut s);
        s.start.next = false;
        let (mut cmds, mut beats, mut stored, mut fail) = (Vec::new(), Vec::new(), Vec::new(), None);
        let (mut left, mut done_at) = (0u64, None);
        // The output stage's reads: the (row, tile) addressed in the previous cycle (the block
        // RAMs' data), and the one in the read registers (the beat offered now).
        let (mut ram, mut held) = ((0, 0), (0, 0));
        for t in 0..800usize {
            s.dma.ready.next = done_at.is_none() && left == 0;
            s.wr_data_ready.next = t % every == 0;
            s.dma.done.next = done_at == Some(t);
            s.dma.err.next = bits(if done_at == Some(t) { resp } else { AxiResp::Okay }.code());
            settle(&mut s);
            if s.dma.valid.val() && s.dma.ready.val() {
                cmds.push((s.dma.addr.val().to_u64(), s.dma.beats.val().to_u64()));
                left = s.dma.beats.val().to_u64();
            }
            if s.wr_data_valid.val() && s.wr_data_ready.val() {
                beats.push((held.0, held.1, s.r_group.val().to_u64()));
                left -= 1;
                if left == 0 {
                    done_at = Some(t + 2);
                }
            }
            if s.dma.done.val() {
                done_at = None;
            }
            if s.stored.val() {
                stored.push(s.half.val());
                if s.half.val() {
                    s.ready1.next = false;
                } else {
                    s.ready0.next = false;
                }
            }
            if s.fail.val() {
                fail = Some(s.fail_code.val().to_u64());
            }
            if s.r_load.val() {
                held = ram;
            }
            ram = (s.r_row.val().to_u64(), s.r_tile.val().to_u64());
            cycle(&mut s);
            if s.idle.val() || stored.len() == 2 {
                break;
            }
        }
        (cmds, beats, stored, fail)
    }

    /// Every beat of every row in order, whether the DMA takes each beat at once or stalls.
    #[test]
    fn blocks_are_written_row_by_row_from_alternate_halves() {
        for (cols, every) in [(4, 1), (4, 2), (8, 1), (8, 3)] {
            let (cmds, beats, stored, fail) = run(cols, every, AxiResp::Okay);
            let what = format!("{cols} columns, a beat every {every} cycles");
            assert_eq!(fail, None, "{what}");
            assert_eq!(stored, [false, true], "{what}");
            // Six rows of C, 128 bytes apart: 3 tiles × `cols` × 4 bytes, 16 bytes a beat.
            let bpr = 3 * cols as u64 / 4;
            let want: Vec<(u64, u64)> = (0..6).map(|r| (0x2000 + 128 * r, bpr)).collect();
            assert_eq!(cmds, want, "{what}");
            // Beat p of row r: tile p / groups, group p mod groups (four columns a group).
            let groups = cols as u64 / 4;
            let per_block: Vec<(u64, u64, u64)> = (0..4)
                .flat_map(|r| (0..bpr).map(move |p| (r, p / groups, p % groups)))
                .collect();
            let n = per_block.len();
            assert_eq!(beats[..n], per_block[..], "{what}");
            assert_eq!(beats[n..], per_block[..2 * bpr as usize], "{what}");
        }
    }

    #[test]
    fn a_write_error_ends_the_stores_with_its_code() {
        for (resp, code) in [
            (AxiResp::SlvErr, ErrorCode::WriteSlvErr),
            (AxiResp::DecErr, ErrorCode::WriteDecErr),
        ] {
            let (cmds, _, stored, fail) = run(4, 2, resp);
            assert_eq!(fail, Some(code as u64));
            assert_eq!(cmds.len(), 1);
            assert!(stored.is_empty());
        }
    }
}
