//! A fixed delay for a column's results on their way to a shared output unit.
//!
//! When S columns share an output unit ([`NpeConfig::cols_per_output_unit`]), column j of the
//! group finishes its R results j cycles after the group's first column and must reach the unit
//! j·R cycles after it, once the columns before it are through: a delay of j·(R − 1) cycles, the
//! same for every result. The result (accumulator, flags, column scale) waits in a small RAM
//! written every cycle and read `delay − 1` words behind the write (distributed RAM on the ECP5:
//! 16 words of 4 bits per TRELLIS_DPR16X4), then in an output register; only the valid bit goes
//! through flip-flops, so that the reset clears it.
//!
//! [`NpeConfig::cols_per_output_unit`]: crate::spec::NpeConfig::cols_per_output_unit

use std::collections::VecDeque;

use crate::output::SCALE_BITS;
use rust_hdl::prelude::*;

/// One result as it waits: accumulator, NaN, +Inf, −Inf, column scale.
type Entry<const ACC_W: usize> = (Bits<ACC_W>, bool, bool, bool, Bits<SCALE_BITS>);

/// `delay` clock edges between a result entering and leaving (see the module docs).
#[derive(LogicBlock)]
pub struct ResultDelay<const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset (clears the valid bits in flight).
    pub reset: Signal<In, Bit>,
    /// A result enters.
    pub valid_in: Signal<In, Bit>,
    /// Its accumulator.
    pub acc_in: Signal<In, Bits<ACC_W>>,
    /// Its NaN flag.
    pub nan_in: Signal<In, Bit>,
    /// Its +Inf flag.
    pub pinf_in: Signal<In, Bit>,
    /// Its −Inf flag.
    pub ninf_in: Signal<In, Bit>,
    /// Its column scale.
    pub scale_in: Signal<In, Bits<SCALE_BITS>>,
    /// The result of `delay` cycles ago is here.
    pub valid_out: Signal<Out, Bit>,
    /// Its accumulator (don't-care without `valid_out`).
    pub acc_out: Signal<Out, Bits<ACC_W>>,
    /// Its NaN flag.
    pub nan_out: Signal<Out, Bit>,
    /// Its +Inf flag.
    pub pinf_out: Signal<Out, Bit>,
    /// Its −Inf flag.
    pub ninf_out: Signal<Out, Bit>,
    /// Its column scale.
    pub scale_out: Signal<Out, Bits<SCALE_BITS>>,
    _delay: usize,
    _line: VecDeque<(bool, Entry<ACC_W>)>,
}

impl<const ACC_W: usize> ResultDelay<ACC_W> {
    /// A delay of `delay` ≥ 2 cycles (one is a plain register, and the RAM's read would meet
    /// its write).
    pub fn new(delay: usize) -> Self {
        assert!(delay >= 2, "a result delay of {delay} cycles");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            valid_in: Default::default(),
            acc_in: Default::default(),
            nan_in: Default::default(),
            pinf_in: Default::default(),
            ninf_in: Default::default(),
            scale_in: Default::default(),
            valid_out: Default::default(),
            acc_out: Default::default(),
            nan_out: Default::default(),
            pinf_out: Default::default(),
            ninf_out: Default::default(),
            scale_out: Default::default(),
            _delay: delay,
            // The output register is the last of the `delay` stages.
            _line: (0..delay - 1).map(|_| Default::default()).collect(),
        }
    }

    /// RAM words: the delay rounded up to a power of two.
    fn depth(&self) -> usize {
        self._delay.next_power_of_two()
    }
}

impl<const ACC_W: usize> Logic for ResultDelay<ACC_W> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let v = self.valid_in.val() & !self.reset.val();
            let e = (
                self.acc_in.val(),
                self.nan_in.val(),
                self.pinf_in.val(),
                self.ninf_in.val(),
                self.scale_in.val(),
            );
            self._line.push_back((v, e));
            let (v, (acc, nan, pinf, ninf, scale)) = self._line.pop_front().expect("the line holds delay - 1 results");
            self.valid_out.next = v & !self.reset.val();
            self.acc_out.next = acc;
            self.nan_out.next = nan;
            self.pinf_out.next = pinf;
            self.ninf_out.next = ninf;
            self.scale_out.next = scale;
            if self.reset.val() {
                for (v, _) in self._line.iter_mut() {
                    *v = false;
                }
            }
        }
    }

    fn connect(&mut self) {
        self.valid_out.connect();
        self.acc_out.connect();
        self.nan_out.connect();
        self.pinf_out.connect();
        self.ninf_out.connect();
        self.scale_out.connect();
    }

    fn hdl(&self) -> Verilog {
        let d = self._delay;
        let depth = self.depth();
        let abits = depth.trailing_zeros().max(1) as usize;
        let w = ACC_W + 3 + SCALE_BITS;
        // The valid bits of the results in the RAM: `delay − 1` flip-flops, then `valid_out`.
        let vshift = if d == 2 {
            "vp <= valid_in & ~reset;".to_string()
        } else {
            format!("vp <= {{vp[{}:0], valid_in & ~reset}};", d - 3)
        };
        Verilog::Custom(format!(
            "\
// Distributed RAM: a block RAM would be wasted on {depth} words.
(* ram_style = \"distributed\" *) reg [{wm}:0] mem [0:{last}];
reg [{am}:0] wp;
reg [{vm}:0] vp;
wire [{am}:0] rp = wp - {abits}'d{back};
wire [{wm}:0] rd = mem[rp];
always @(posedge clock) begin
   mem[wp] <= {{acc_in, nan_in, pinf_in, ninf_in, scale_in}};
   wp <= wp + {abits}'d1;
   {{acc_out, nan_out, pinf_out, ninf_out, scale_out}} <= rd;
   {vshift}
   valid_out <= vp[{vm}] & ~reset;
   if (reset) begin
      vp <= {vbits}'d0;
   end
end
",
            wm = w - 1,
            last = depth - 1,
            am = abits - 1,
            vm = d - 2,
            vbits = d - 1,
            back = d - 1,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};

    /// (valid, accumulator, NaN, +Inf, −Inf, scale) per cycle.
    type Seen = Vec<(bool, u64, bool, bool, bool, u64)>;

    /// Feeds random results (about half of the cycles valid) for `n` cycles with a reset at
    /// `reset_at`; returns what went in and what came out, cycle by cycle.
    fn run(delay: usize, n: usize, reset_at: Option<usize>) -> (Seen, Seen) {
        let mut d = ResultDelay::<53>::new(delay);
        d.connect_all();
        let mut next = rng(7 + delay as u64);
        let (mut ins, mut outs) = (Vec::new(), Vec::new());
        for t in 0..n {
            let x = next();
            let e = (
                x & 1 == 1,
                x >> 11,
                x & 2 != 0,
                x & 4 != 0,
                x & 8 != 0,
                (x >> 3) & 0x1ff,
            );
            d.reset.next = reset_at == Some(t);
            d.valid_in.next = e.0;
            d.acc_in.next = bits(e.1);
            d.nan_in.next = e.2;
            d.pinf_in.next = e.3;
            d.ninf_in.next = e.4;
            d.scale_in.next = bits(e.5);
            ins.push(e);
            cycle(&mut d);
            outs.push((
                d.valid_out.val(),
                d.acc_out.val().to_u64(),
                d.nan_out.val(),
                d.pinf_out.val(),
                d.ninf_out.val(),
                d.scale_out.val().to_u64(),
            ));
        }
        (ins, outs)
    }

    #[test]
    fn every_result_leaves_delay_cycles_later() {
        for delay in [2, 3, 7, 14, 21] {
            let (ins, outs) = run(delay, 200, None);
            for t in delay..200 {
                // `outs[t]` is read after the edge that ends cycle t.
                assert_eq!(outs[t], ins[t + 1 - delay], "delay {delay}, cycle {t}");
            }
            assert!(
                outs[..delay - 1].iter().all(|o| !o.0),
                "nothing valid before the first result"
            );
        }
    }

    #[test]
    fn reset_drops_the_results_in_flight() {
        let delay = 7;
        let (ins, outs) = run(delay, 60, Some(30));
        // Results that entered at cycles 24..=30 were in flight at the reset's edge.
        for (t, o) in outs.iter().enumerate().take(37).skip(30) {
            assert!(!o.0, "cycle {t}: a result survived the reset");
        }
        for t in 37..60 {
            assert_eq!(outs[t], ins[t + 1 - delay], "after the reset, cycle {t}");
        }
    }

    #[test]
    fn verilog_sizes_the_ram_by_the_delay() {
        let Verilog::Custom(text) = ResultDelay::<53>::new(7).hdl() else {
            panic!("custom Verilog expected")
        };
        assert!(text.contains("reg [64:0] mem [0:7];"), "{text}");
        assert!(text.contains("wp - 3'd6"), "{text}");
    }
}
