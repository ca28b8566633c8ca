//! Two unsigned `W`×`W` products summed (or subtracted) inside one ECP5 DSP slice: two
//! MULT18X18D feeding the ALU54B beside them, whose output register holds the result.
//!
//! Why: a MULT18X18D whose 36 product bits all leave the DSP slice costs routing the 85F does
//! not have when 128 of them are used (npe8x8le8 never routed; a synthetic top of 128 such
//! multipliers and nothing else does not route either, `fpga/experiments/dsp_routing/`).
//! Summed in the ALU54B, the products travel on the slice's own wires and one sum leaves it;
//! the same synthetic top then routes (npe8x8le8 itself routes since session 25, with the DSP
//! slices and block RAMs pinned by `npe synth --floorplan`: `fpga/reports/accel.md`).
//!
//! The ALU54B's op code (its `OP0`–`OP10` pins, driven every cycle): `OP[1:0]` selects the
//! ALU's first operand (`01` the product on `MA`, `11` zero), `OP[3:2]` its second (`01` the
//! product on `MB`, `11` zero), `OP[6:4]` its third (`000` zero), `OP[10:7]` the operation
//! (`0100` first + second + third, `0101` first − second + third). This is the encoding of
//! Lattice's simulation model of the ECP3 ALU54A, whose pins and parameters the ECP5 ALU54B
//! keeps; Lattice's own tools emit the same codes for ECP5 (LSE: `OP = 0b0100_011_0101` for
//! `MA + MB + C`; a Clarity add/subtract block toggles `OP7`). It is not checked on a board.
//!
//! Every register of the slice is used, as in Lattice's pipelined multiply-add: the operands in
//! the multipliers' input registers, the products in their pipeline registers, the op code in
//! the ALU's two op-code registers (beside the operands and the products), the sum in the ALU's
//! output register ([`DSP_PAIR_LATENCY`] = 3). nextpnr-ecp5 times the route into the input
//! registers but nothing of the ALU54B (its timing class is "ignore"): the paths inside the
//! slice are register to register, and the sum's untimed path starts at the output register:
//! a route and, in the fixed-point PE, one LUT level (the ones' complement) to a register.
//!
//! Synthesis (`SYNTHESIS`, which Yosys defines) instantiates the three primitives; simulation
//! (Verilator, and the Rust model below) sees the same registers in plain Verilog.

use rust_hdl::prelude::*;

/// Clock ticks from the operands to their sum: input, pipeline and output registers.
pub const DSP_PAIR_LATENCY: usize = 3;

/// The operands and op of one beat, held by the Rust model between its registers.
#[derive(Clone, Copy, Default)]
struct Beat {
    x: u64,
    y: u64,
    use0: bool,
    use1: bool,
    sub: bool,
}

/// `r` = `use0·a0·b0 ± use1·a1·b1` (`−` when `sub`), `R` bits two's complement, of the
/// operands presented [`DSP_PAIR_LATENCY`] clock edges ago.
#[derive(LogicBlock, Default)]
pub struct DspPairSum<const W: usize, const R: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// First product's multiplicand.
    pub a0: Signal<In, Bits<W>>,
    /// First product's multiplier.
    pub b0: Signal<In, Bits<W>>,
    /// Second product's multiplicand.
    pub a1: Signal<In, Bits<W>>,
    /// Second product's multiplier.
    pub b1: Signal<In, Bits<W>>,
    /// The first product counts (else the ALU takes zero in its place).
    pub use0: Signal<In, Bit>,
    /// The second product counts.
    pub use1: Signal<In, Bit>,
    /// Subtract the second product instead of adding it.
    pub sub: Signal<In, Bit>,
    /// The registered result.
    pub r: Signal<Out, Bits<R>>,
    // The Rust model's input and pipeline registers (in Verilog, registers of the block): the
    // operands (`x`, `y` the operand pairs packed) and then the products.
    _in: Beat,
    _pipe: Beat,
}

/// The op code's pins as Verilog expressions, `OP0` first (see the module docs).
fn op_pins() -> [&'static str; 11] {
    [
        "1'b1", "~use0", "1'b1", "~use1", "1'b0", "1'b0", "1'b0", "sub", "1'b0", "1'b1", "1'b0",
    ]
}

/// A MULT18X18D with its input and pipeline registers, its operands zero-extended to 18 bits.
/// Only the pins the slice uses are connected: a constant on the others (`C`, the spare clocks,
/// enables and resets) left nextpnr with a ground net it could not route.
fn mult(k: usize, w: usize) -> String {
    let mut ports = Vec::new();
    for i in 0..18 {
        let (a, b) = if i < w {
            (format!("a{k}[{i}]"), format!("b{k}[{i}]"))
        } else {
            ("1'b0".to_string(), "1'b0".to_string())
        };
        ports.push(format!(".A{i}({a}), .B{i}({b})"));
    }
    for i in 0..36 {
        ports.push(format!(".P{i}(p{k}[{i}])"));
    }
    for i in 0..18 {
        ports.push(format!(".ROA{i}(ro{k}[{i}]), .ROB{i}(ro{k}[{}])", i + 18));
    }
    format!(
        "MULT18X18D #(
    .REG_INPUTA_CLK(\"CLK0\"), .REG_INPUTA_CE(\"CE0\"), .REG_INPUTA_RST(\"RST0\"),
    .REG_INPUTB_CLK(\"CLK0\"), .REG_INPUTB_CE(\"CE0\"), .REG_INPUTB_RST(\"RST0\"),
    .REG_PIPELINE_CLK(\"CLK0\"), .REG_PIPELINE_CE(\"CE0\"), .REG_PIPELINE_RST(\"RST0\"),
    .REG_OUTPUT_CLK(\"NONE\"), .GSR(\"DISABLED\"), .RESETMODE(\"SYNC\")
) m{k} (
    {},
    .SIGNEDA(1'b0), .SIGNEDB(1'b0), .SOURCEA(1'b0), .SOURCEB(1'b0), .SIGNEDP(sp{k}),
    .CLK0(clock), .CE0(1'b1), .RST0(1'b0)
);",
        ports.join(",\n    ")
    )
}

/// The ALU54B: `MA` from the first multiplier, `MB` from the second; the op code's two
/// registers (`OP[6:0]`, `OP7`) and both output registers on CLK0; `OP[10:8]` is constant and
/// needs none. `A` and `B` take the multipliers' operand outputs, as nextpnr's packer demands;
/// `C` stays unconnected: the op code never selects it.
fn alu() -> String {
    let mut ports = Vec::new();
    for i in 0..36 {
        ports.push(format!(
            ".A{i}(ro0[{i}]), .B{i}(ro1[{i}]), .MA{i}(p0[{i}]), .MB{i}(p1[{i}])"
        ));
    }
    for i in 0..54 {
        ports.push(format!(".R{i}(r_w[{i}])"));
    }
    for (i, e) in op_pins().iter().enumerate() {
        ports.push(format!(".OP{i}({e})"));
    }
    format!(
        "ALU54B #(
    .REG_OPCODEIN_0_CLK(\"CLK0\"), .REG_OPCODEIN_0_CE(\"CE0\"), .REG_OPCODEIN_0_RST(\"RST0\"),
    .REG_OPCODEIN_1_CLK(\"CLK0\"), .REG_OPCODEIN_1_CE(\"CE0\"), .REG_OPCODEIN_1_RST(\"RST0\"),
    .REG_OPCODEOP0_0_CLK(\"CLK0\"), .REG_OPCODEOP0_0_CE(\"CE0\"), .REG_OPCODEOP0_0_RST(\"RST0\"),
    .REG_OPCODEOP0_1_CLK(\"CLK0\"), .REG_OPCODEOP0_1_CE(\"CE0\"), .REG_OPCODEOP0_1_RST(\"RST0\"),
    .REG_OUTPUT0_CLK(\"CLK0\"), .REG_OUTPUT0_CE(\"CE0\"), .REG_OUTPUT0_RST(\"RST0\"),
    .REG_OUTPUT1_CLK(\"CLK0\"), .REG_OUTPUT1_CE(\"CE0\"), .REG_OUTPUT1_RST(\"RST0\"),
    .GSR(\"DISABLED\"), .RESETMODE(\"SYNC\")
) alu (
    {},
    .SIGNEDIA(sp0), .SIGNEDIB(sp1), .CLK0(clock), .CE0(1'b1), .RST0(1'b0)
);",
        ports.join(",\n    ")
    )
}

impl<const W: usize, const R: usize> Logic for DspPairSum<W, R> {
    fn update(&mut self) {
        assert!(W <= 18 && 2 * W < R && R <= 54, "DspPairSum<{W}, {R}>");
        if self.clock.pos_edge() {
            // Output register from the products, pipeline register from the operands, input
            // register from the ports.
            let p = self._pipe;
            let x = if p.use0 { p.x as i128 } else { 0 };
            let y = if p.use1 { p.y as i128 } else { 0 };
            let v = if p.sub { x - y } else { x + y };
            self.r.next = bits((v & ((1i128 << R) - 1)) as u64);
            let i = self._in;
            let (m, s) = ((1u64 << W) - 1, W as u32);
            self._pipe = Beat {
                x: (i.x & m) * (i.x >> s),
                y: (i.y & m) * (i.y >> s),
                ..i
            };
            self._in = Beat {
                x: self.a0.val().to_u64() | self.b0.val().to_u64() << s,
                y: self.a1.val().to_u64() | self.b1.val().to_u64() << s,
                use0: self.use0.val(),
                use1: self.use1.val(),
                sub: self.sub.val(),
            };
        }
    }

    fn connect(&mut self) {
        self.r.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
`ifdef SYNTHESIS
wire [35:0] p0;
wire [35:0] p1;
wire [35:0] ro0;
wire [35:0] ro1;
wire sp0;
wire sp1;
wire [53:0] r_w;
{m0}
{m1}
{alu}
always @(*) r = r_w[{rmsb}:0];
`else
// The same registers: operands and op, products and op, the sum.
reg [{wmsb}:0] a0q;
reg [{wmsb}:0] b0q;
reg [{wmsb}:0] a1q;
reg [{wmsb}:0] b1q;
reg [2:0] opq;
reg [{pmsb}:0] p0q;
reg [{pmsb}:0] p1q;
reg [2:0] opp;
wire [{rmsb}:0] x0 = opp[0] ? {{{pad}'h0, p0q}} : {r}'h0;
wire [{rmsb}:0] x1 = opp[1] ? {{{pad}'h0, p1q}} : {r}'h0;
always @(posedge clock) begin
   a0q <= a0;
   b0q <= b0;
   a1q <= a1;
   b1q <= b1;
   opq <= {{sub, use1, use0}};
   p0q <= {{{w}'h0, a0q}} * {{{w}'h0, b0q}};
   p1q <= {{{w}'h0, a1q}} * {{{w}'h0, b1q}};
   opp <= opq;
   r <= opp[2] ? x0 - x1 : x0 + x1;
end
`endif
",
            m0 = mult(0, W),
            m1 = mult(1, W),
            alu = alu(),
            rmsb = R - 1,
            wmsb = W - 1,
            pmsb = 2 * W - 1,
            pad = R - 2 * W,
            w = W,
            r = R,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng, HasClock};

    impl<const W: usize, const R: usize> HasClock for DspPairSum<W, R> {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// Random operands, both products on and off, add and subtract: the result
    /// [`DSP_PAIR_LATENCY`] edges later is the signed sum, extremes included.
    #[test]
    fn the_sum_follows_the_operands_by_one_cycle() {
        let mut m = DspPairSum::<18, 39>::default();
        m.connect_all();
        let mut rnd = rng(0x5EED_0D5B);
        let top = (1u64 << 18) - 1;
        let mut sent = Vec::new();
        for t in 0..400 {
            let ops: [u64; 4] = if t < 4 {
                [top, top, if t % 2 == 0 { top } else { 0 }, top]
            } else {
                [rnd() & top, rnd() & top, rnd() & top, rnd() & top]
            };
            let (u0, u1, sub) = (t % 5 != 1, t % 7 != 2, (t / 2) % 2 == 1);
            m.a0.next = bits(ops[0]);
            m.b0.next = bits(ops[1]);
            m.a1.next = bits(ops[2]);
            m.b1.next = bits(ops[3]);
            m.use0.next = u0;
            m.use1.next = u1;
            m.sub.next = sub;
            cycle(&mut m);
            let x = if u0 { (ops[0] * ops[1]) as i128 } else { 0 };
            let y = if u1 { (ops[2] * ops[3]) as i128 } else { 0 };
            sent.push(if sub { x - y } else { x + y });
            if t + 1 >= DSP_PAIR_LATENCY {
                let got = m.r.val().to_u64() as i128;
                let got = if got >> 38 & 1 == 1 { got - (1 << 39) } else { got };
                assert_eq!(got, sent[t + 1 - DSP_PAIR_LATENCY], "cycle {t}");
            }
        }
    }

    /// The synthesis branch instantiates two MULT18X18D and an ALU54B with the op code of the
    /// module docs; the simulation branch none of them.
    #[test]
    fn verilog_instantiates_the_slice_for_synthesis_only() {
        let Verilog::Custom(text) = DspPairSum::<18, 39>::default().hdl() else {
            panic!("custom Verilog expected")
        };
        let (synth, sim) = text.split_once("`else").expect("two branches");
        assert_eq!(synth.matches("MULT18X18D #(").count(), 2, "{synth}");
        assert_eq!(synth.matches("ALU54B #(").count(), 1, "{synth}");
        for pin in [
            ".OP0(1'b1)",
            ".OP1(~use0)",
            ".OP2(1'b1)",
            ".OP3(~use1)",
            ".OP4(1'b0)",
            ".OP6(1'b0)",
            ".OP7(sub)",
            ".OP8(1'b0)",
            ".OP9(1'b1)",
            ".OP10(1'b0)",
            ".MA35(p0[35])",
            ".MB0(p1[0])",
            "REG_OUTPUT1_CLK(\"CLK0\")",
            "REG_OPCODEIN_1_CLK(\"CLK0\")",
            "REG_OPCODEOP0_1_CLK(\"CLK0\")",
            "REG_PIPELINE_CLK(\"CLK0\")",
        ] {
            assert!(synth.contains(pin), "{pin}");
        }
        assert!(!sim.contains("MULT18X18D") && !sim.contains("ALU54B"), "{sim}");
    }
}
