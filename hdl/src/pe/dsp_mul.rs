//! A registered 16×16 unsigned multiply that is one ECP5 MULT18X18D with its own registers.
//!
//! The operands are registered in the DSP block's input registers and the product in its
//! output register: two clock ticks ([`DSP_LATENCY`]), and no route into or out of the
//! multiplier array on a register-to-register path. Yosys' `synth_ecp5` maps a `*` to a
//! MULT18X18D without its registers (the flip-flops stay in the fabric), so a product then
//! paid the route from a fabric register into the DSP column, the multiplier and the route
//! back (npe4x4's most frequent failing family: 63 endpoints, −0.77 ns at 100 MHz). nextpnr
//! times a MULT18X18D whose A, B and output registers are enabled as a clocked cell
//! (`MULT18X18D_REGS_ALL`): setup at its inputs, clock-to-out at its outputs.
//!
//! Synthesis (`SYNTHESIS`, which Yosys defines) instantiates the primitive; simulation
//! (Verilator, and the Rust model below) sees the same registers in plain Verilog. Every
//! register loads every cycle, and all four clock enables are tied high: nextpnr writes no
//! output clock-enable select into the bitstream, so the output register's enable is whichever
//! the silicon defaults to, and an enable could not be given to it alone.

use rust_hdl::prelude::*;

/// Width of each operand.
pub const DSP_IN_BITS: usize = 16;
/// Width of the product.
pub const DSP_OUT_BITS: usize = 32;
/// Clock ticks from the operands to their product: input register, output register.
pub const DSP_LATENCY: usize = 2;

/// `p` = the product of the operands presented [`DSP_LATENCY`] clock edges ago.
#[derive(LogicBlock, Default)]
pub struct DspMul {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Multiplicand.
    pub a: Signal<In, Bits<DSP_IN_BITS>>,
    /// Multiplier.
    pub b: Signal<In, Bits<DSP_IN_BITS>>,
    /// The registered product.
    pub p: Signal<Out, Bits<DSP_OUT_BITS>>,
    // The input registers (the Rust model's state; in Verilog, registers of the block).
    _aq: u64,
    _bq: u64,
}

/// The MULT18X18D instance: A, B and output registers on CLK0, every enable high, never reset.
fn primitive() -> String {
    let mut ports = Vec::new();
    for i in 0..18 {
        let (a, b) = if i < DSP_IN_BITS {
            (format!("a[{i}]"), format!("b[{i}]"))
        } else {
            ("1'b0".to_string(), "1'b0".to_string())
        };
        ports.push(format!(".A{i}({a}), .B{i}({b}), .C{i}(1'b0)"));
    }
    for i in 0..36 {
        ports.push(format!(".P{i}(p_w[{i}])"));
    }
    format!(
        "MULT18X18D #(
    .REG_INPUTA_CLK(\"CLK0\"), .REG_INPUTA_CE(\"CE0\"), .REG_INPUTA_RST(\"RST0\"),
    .REG_INPUTB_CLK(\"CLK0\"), .REG_INPUTB_CE(\"CE0\"), .REG_INPUTB_RST(\"RST0\"),
    .REG_PIPELINE_CLK(\"NONE\"),
    .REG_OUTPUT_CLK(\"CLK0\"), .REG_OUTPUT_CE(\"CE0\"), .REG_OUTPUT_RST(\"RST0\"),
    .GSR(\"DISABLED\"), .RESETMODE(\"SYNC\")
) dsp (
    {},
    .SIGNEDA(1'b0), .SIGNEDB(1'b0), .SOURCEA(1'b0), .SOURCEB(1'b0),
    .CLK0(clock), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0),
    .CE0(1'b1), .CE1(1'b1), .CE2(1'b1), .CE3(1'b1),
    .RST0(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0)
);",
        ports.join(",\n    ")
    )
}

impl Logic for DspMul {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.p.next = bits(self._aq * self._bq);
            self._aq = self.a.val().to_u64();
            self._bq = self.b.val().to_u64();
        }
    }

    fn connect(&mut self) {
        self.p.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
`ifdef SYNTHESIS
// The product's top four bits are zero (16×16 unsigned); Verilator skips `unused*` names.
wire [35:0] p_w;
wire unused_p_hi = |p_w[35:{DSP_OUT_BITS}];
{prim}
always @(*) p = p_w[{msb}:0];
`else
reg [{imsb}:0] aq;
reg [{imsb}:0] bq;
always @(posedge clock) begin
   aq <= a;
   bq <= b;
   p <= {{{pad}'h0, aq}} * {{{pad}'h0, bq}};
end
`endif
",
            prim = primitive(),
            msb = DSP_OUT_BITS - 1,
            imsb = DSP_IN_BITS - 1,
            pad = DSP_OUT_BITS - DSP_IN_BITS,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, HasClock};

    impl HasClock for DspMul {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    #[test]
    fn the_product_follows_the_operands_by_the_latency() {
        let mut m = DspMul::default();
        m.connect_all();
        let ops = [(0xFFFFu64, 0xFFFFu64), (12345, 54321), (1, 0x8000), (0, 77), (3, 5)];
        for (t, &(a, b)) in ops.iter().enumerate() {
            m.a.next = bits(a);
            m.b.next = bits(b);
            cycle(&mut m);
            if t + 1 >= DSP_LATENCY {
                let (pa, pb) = ops[t + 1 - DSP_LATENCY];
                assert_eq!(m.p.val().to_u64(), pa * pb, "{pa} * {pb} at {t}");
            }
        }
    }

    #[test]
    fn verilog_instantiates_the_registered_primitive_for_synthesis_only() {
        let Verilog::Custom(text) = DspMul::default().hdl() else {
            panic!("custom Verilog expected")
        };
        let (synth, sim) = text.split_once("`else").expect("two branches");
        for reg in [
            "REG_INPUTA_CLK(\"CLK0\")",
            "REG_INPUTB_CLK(\"CLK0\")",
            "REG_OUTPUT_CLK(\"CLK0\")",
        ] {
            assert!(synth.contains(reg), "{reg}: {synth}");
        }
        assert!(synth.contains(".A15(a[15])") && synth.contains(".A16(1'b0)"), "{synth}");
        assert!(
            synth.contains(".P35(p_w[35])") && synth.contains(".CE0(1'b1)"),
            "{synth}"
        );
        assert!(!sim.contains("MULT18X18D") && sim.contains("aq <= a;"), "{sim}");
    }
}
