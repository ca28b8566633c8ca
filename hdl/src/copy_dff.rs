//! A register that synthesis keeps apart from identical ones: a fan-out copy.
//!
//! Yosys merges flip-flops with the same input, clock and initial value (`opt_merge`), across
//! the whole flattened top. Copies made on purpose, so that one register does not drive the
//! whole chip, are merged back: npe4x4's column decoders each registered their one-hot format
//! selects, and the merged registers of one decoder drove all four (its slowest path, −1.9 ns at
//! 100 MHz, ran from column 0's select register into column 2's decoder). `CopyDff` is rust-hdl's
//! `DFF` with the `keep` attribute on its process, which Yosys copies to the flip-flop and
//! `opt_merge` respects; simulation sees a plain register.

use rust_hdl::prelude::*;

/// `q` follows `d` one clock later, like `DFF`; never merged with an identical register.
#[derive(Clone, Debug, LogicBlock)]
pub struct CopyDff<T: Synth> {
    /// Input.
    pub d: Signal<In, T>,
    /// Output.
    pub q: Signal<Out, T>,
    /// Clock.
    pub clock: Signal<In, Clock>,
}

impl<T: Synth> Default for CopyDff<T> {
    fn default() -> Self {
        Self {
            d: Signal::default(),
            q: Signal::default(),
            clock: Signal::default(),
        }
    }
}

impl<T: Synth> Logic for CopyDff<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.d.val()
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
initial begin
   q = {:x};
end

// A fan-out copy: Yosys must not merge it with an identical register (`keep`).
(* keep *) always @(posedge clock) begin
   q <= d;
end
",
            T::default().verilog()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, HasClock};

    impl<T: Synth> HasClock for CopyDff<T> {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    #[test]
    fn a_copy_is_a_register_with_the_keep_attribute() {
        let mut r = CopyDff::<Bits<4>>::default();
        r.connect_all();
        r.d.next = bits(9);
        assert_eq!(r.q.val().to_u64(), 0);
        cycle(&mut r);
        assert_eq!(r.q.val().to_u64(), 9);
        let Verilog::Custom(text) = r.hdl() else {
            panic!("custom Verilog expected")
        };
        assert!(text.contains("(* keep *) always @(posedge clock)"), "{text}");
    }
}
