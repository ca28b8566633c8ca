//! The order in which results leave the array: `R` rows per column, the columns that share an
//! output unit, the column tiles of one output half, then the other half. The output stage walks
//! it twice: where column 0 hands a result on (to pick its column scale; one column) and where
//! the first output unit delivers one (to address the output bank; the unit's columns).

use rust_hdl::prelude::*;

/// A (half, tile, column, row) counter over the results of the two output halves.
#[derive(LogicBlock)]
pub struct ResultWalk {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Restart at half 0, row 0, tile 0 (wins over `step`).
    pub clear: Signal<In, Bit>,
    /// One result passes: advance.
    pub step: Signal<In, Bit>,
    /// The last column tile of the block in half 0 (its tiles − 1, registered by the caller:
    /// subtracted here, it was npe4x4's `o_walk.tile ← tiles0` family, −0.19 ns at seed 3).
    pub last0: Signal<In, Bits<16>>,
    /// The last column tile of the block in half 1.
    pub last1: Signal<In, Bits<16>>,
    /// The current half.
    pub half: Signal<Out, Bit>,
    /// The current row of the tile.
    pub row: Signal<Out, Bits<16>>,
    /// The current column of the unit's group.
    pub col: Signal<Out, Bits<16>>,
    /// The current tile of the half.
    pub tile: Signal<Out, Bits<16>>,
    /// This step finishes a half.
    pub half_done: Signal<Out, Bit>,
    h: DFF<Bit>,
    r: DFF<Bits<16>>,
    c: DFF<Bits<16>>,
    t: DFF<Bits<16>>,
    last_row: Constant<Bits<16>>,
    last_col: Constant<Bits<16>>,
    one: Constant<Bits<16>>,
}

impl ResultWalk {
    /// The walk of an array with `rows` rows, `cols` columns per walk (per output unit).
    pub fn new(rows: usize, cols: usize) -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            step: Default::default(),
            last0: Default::default(),
            last1: Default::default(),
            half: Default::default(),
            row: Default::default(),
            col: Default::default(),
            tile: Default::default(),
            half_done: Default::default(),
            h: Default::default(),
            r: Default::default(),
            c: Default::default(),
            t: Default::default(),
            last_row: Constant::new(((rows - 1) as u64).into()),
            last_col: Constant::new(((cols - 1) as u64).into()),
            one: Constant::new(1u64.into()),
        }
    }
}

impl Logic for ResultWalk {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, h, r, c, t);
        self.half_done.next = false;
        if self.step.val() {
            self.r.d.next = self.r.q.val() + self.one.val();
            if self.r.q.val() == self.last_row.val() {
                self.r.d.next = 0.into();
                self.c.d.next = self.c.q.val() + self.one.val();
                if self.c.q.val() == self.last_col.val() {
                    self.c.d.next = 0.into();
                    self.t.d.next = self.t.q.val() + self.one.val();
                    if (!self.h.q.val() & (self.t.q.val() == self.last0.val()))
                        | (self.h.q.val() & (self.t.q.val() == self.last1.val()))
                    {
                        self.t.d.next = 0.into();
                        self.h.d.next = !self.h.q.val();
                        self.half_done.next = true;
                    }
                }
            }
        }
        if self.clear.val() {
            self.h.d.next = false;
            self.r.d.next = 0.into();
            self.c.d.next = 0.into();
            self.t.d.next = 0.into();
        }
        self.half.next = self.h.q.val();
        self.row.next = self.r.q.val();
        self.col.next = self.c.q.val();
        self.tile.next = self.t.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::cycle;

    /// Steps a walk of `rows` rows and `cols` columns `n` times with 2 tiles in half 0 and 3 in
    /// half 1; returns (half, tile, col, row, half_done) before each step.
    fn walk(rows: usize, cols: usize, n: usize) -> Vec<(bool, u64, u64, u64, bool)> {
        let mut w = ResultWalk::new(rows, cols);
        w.connect_all();
        w.clear.next = true;
        cycle(&mut w);
        w.clear.next = false;
        w.last0.next = bits(1);
        w.last1.next = bits(2);
        w.step.next = true;
        let mut seen = Vec::new();
        for _ in 0..n {
            crate::accel::testbench::settle(&mut w);
            seen.push((
                w.half.val(),
                w.tile.val().to_u64(),
                w.col.val().to_u64(),
                w.row.val().to_u64(),
                w.half_done.val(),
            ));
            cycle(&mut w);
        }
        seen
    }

    #[test]
    fn rows_then_columns_then_tiles_then_the_other_half() {
        for cols in [1, 2, 4] {
            let s = walk(4, cols, 4 * cols * 5 + 1);
            let mut want = Vec::new();
            for (half, tiles) in [(false, 2), (true, 3)] {
                for t in 0..tiles {
                    for c in 0..cols as u64 {
                        for r in 0..4 {
                            want.push((half, t, c, r, r == 3 && c == cols as u64 - 1 && t == tiles - 1));
                        }
                    }
                }
            }
            // After both halves, the walk is back at half 0, tile 0, column 0, row 0.
            want.push((false, 0, 0, 0, false));
            assert_eq!(s, want, "{cols} columns per walk");
        }
    }

    #[test]
    fn clear_wins_over_step_and_no_step_holds() {
        let mut w = ResultWalk::new(2, 1);
        w.connect_all();
        w.last0.next = bits(3);
        w.last1.next = bits(3);
        w.clear.next = true;
        cycle(&mut w);
        w.clear.next = false;
        w.step.next = true;
        for _ in 0..3 {
            cycle(&mut w);
        }
        assert_eq!((w.row.val().to_u64(), w.tile.val().to_u64()), (1, 1));
        w.step.next = false;
        cycle(&mut w);
        assert_eq!((w.row.val().to_u64(), w.tile.val().to_u64()), (1, 1));
        w.step.next = true;
        w.clear.next = true;
        cycle(&mut w);
        assert_eq!(
            (w.half.val(), w.row.val().to_u64(), w.tile.val().to_u64()),
            (false, 0, 0)
        );
    }
}
