#!/usr/bin/env python3
"""Generate synthetic MAC-array tops for ECP5 DSP routing experiments.
usage: gen.py N W FILLER MODE > top.v
  N      number of elements (2 multiplies each)
  W      operand width (18 -> 36-bit products, 9 -> 18-bit products)
  FILLER number of filler units (0 = none)
  MODE   'infer'  : p = a*b inferred, product register in fabric
         'dspreg' : MULT18X18D instantiated, product register inside DSP (REG_OUTPUT_CLK=CLK0)
         'alu'    : each element's two MULT18X18D summed in an ALU54B (its output registered);
                    the op code is not simulated: the experiment measures routing only
"""
import sys
N, W, F, MODE = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
P = 2 * W
o = []
o.append(f"// generated: N={N} W={W} FILLER={F} MODE={MODE}")
o.append("module top(input clk, input [17:0] din, input ld, output [3:0] dout);")
# element 0 operands come from a 72-bit LFSR mixed with din
o.append("  reg [71:0] lfsr = 72'h1;")
o.append("  always @(posedge clk) lfsr <= {lfsr[70:0], lfsr[71]^lfsr[65]^lfsr[24]^lfsr[18]} ^ (ld ? {4{din}} : 72'd0);")
o.append(f"  wire [{N}-1:0] par;")
for i in range(N):
    o.append(f"  // ---- element {i}")
    o.append(f"  reg [{W-1}:0] a0_{i}, b0_{i}, a1_{i}, b1_{i};")
    if i == 0:
        src = [f"lfsr[{k*18+W-1}:{k*18}]" for k in range(4)]
    else:
        # shift chain from previous element, rotated by one so streams differ
        j = i - 1
        src = [f"{{b0_{j}[0], a0_{j}[{W-1}:1]}}", f"{{a1_{j}[0], b0_{j}[{W-1}:1]}}",
               f"{{b1_{j}[0], a1_{j}[{W-1}:1]}}", f"{{a0_{j}[0], b1_{j}[{W-1}:1]}}"]
    o.append(f"  always @(posedge clk) begin a0_{i} <= {src[0]}; b0_{i} <= {src[1]}; a1_{i} <= {src[2]}; b1_{i} <= {src[3]}; end")
    o.append(f"  wire [{P-1}:0] pr0_{i}, pr1_{i};")
    if MODE == "infer":
        o.append(f"  reg [{P-1}:0] q0_{i}, q1_{i};")
        o.append(f"  always @(posedge clk) begin q0_{i} <= a0_{i} * b0_{i}; q1_{i} <= a1_{i} * b1_{i}; end")
        o.append(f"  assign pr0_{i} = q0_{i}; assign pr1_{i} = q1_{i};")
    elif MODE == "alu":
        # two MULT18X18D (no DSP registers) feeding one ALU54B computing MA+MB(+C=0), ALU output registered
        o.append(f"  wire [35:0] mp0_{i}, mp1_{i}, ro0_{i}, ro1_{i}; wire sp0_{i}, sp1_{i}; wire [53:0] r_{i};")
        for k in (0, 1):
            a = f"a{k}_{i}"; b = f"b{k}_{i}"
            pins = []
            for bit in range(18):
                pins.append(f".A{bit}({a}[{bit}])" if bit < W else f".A{bit}(1'b0)")
            for bit in range(18):
                pins.append(f".B{bit}({b}[{bit}])" if bit < W else f".B{bit}(1'b0)")
            pins += [".SIGNEDA(1'b0)", ".SIGNEDB(1'b0)", ".SOURCEA(1'b0)", ".SOURCEB(1'b0)"]
            pins += [f".P{bit}(mp{k}_{i}[{bit}])" for bit in range(36)]
            pins += [f".ROA{bit}(ro{k}_{i}[{bit}])" for bit in range(18)]
            pins += [f".ROB{bit}(ro{k}_{i}[{bit+18}])" for bit in range(18)]
            pins += [f".SIGNEDP(sp{k}_{i})"]
            o.append(f"  MULT18X18D #(.GSR(\"DISABLED\")) m{k}_{i} (")
            o.append("    " + ", ".join(pins) + ");")
        op = [1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0]   # OP0..OP10, from prjtrellis ALU54B timing fuzzer (non-bypass: MA+MB+C)
        pins = [f".A{x}(ro0_{i}[{x}])" for x in range(36)] + [f".B{x}(ro1_{i}[{x}])" for x in range(36)]
        pins += [f".MA{x}(mp0_{i}[{x}])" for x in range(36)] + [f".MB{x}(mp1_{i}[{x}])" for x in range(36)]
        pins += [f".C{x}(1'b0)" for x in range(54)]
        pins += [f".R{x}(r_{i}[{x}])" for x in range(54)]
        pins += [f".SIGNEDIA(sp0_{i})", f".SIGNEDIB(sp1_{i})", ".CLK0(clk)", ".CE0(1'b1)", ".RST0(1'b0)"]
        pins += [f".OP{x}(1'b{op[x]})" for x in range(11)]
        o.append(f"  ALU54B #(.REG_OUTPUT0_CLK(\"CLK0\"), .REG_OUTPUT1_CLK(\"CLK0\"), .GSR(\"DISABLED\")) alu_{i} (")
        o.append("    " + ", ".join(pins) + ");")
    else:
        for k in (0, 1):
            a = f"a{k}_{i}"; b = f"b{k}_{i}"
            o.append(f"  wire [35:0] mp{k}_{i};")
            o.append(f"  MULT18X18D #(.REG_OUTPUT_CLK(\"CLK0\"), .REG_OUTPUT_CE(\"CE0\"), .REG_OUTPUT_RST(\"RST0\"), .GSR(\"DISABLED\")) m{k}_{i} (")
            pins = []
            for bit in range(18):
                pins.append(f".A{bit}({a}[{bit}])" if bit < W else f".A{bit}(1'b0)")
            for bit in range(18):
                pins.append(f".B{bit}({b}[{bit}])" if bit < W else f".B{bit}(1'b0)")
            pins += [".SIGNEDA(1'b0)", ".SIGNEDB(1'b0)", ".SOURCEA(1'b0)", ".SOURCEB(1'b0)",
                     ".CLK0(clk)", ".CE0(1'b1)", ".RST0(1'b0)"]
            pins += [f".P{bit}(mp{k}_{i}[{bit}])" for bit in range(36)]
            o.append("    " + ", ".join(pins) + ");")
            o.append(f"  assign pr{k}_{i} = mp{k}_{i}[{P-1}:0];")
    if MODE == "alu":
        o.append(f"  reg [44:0] acc_{i} = 0;")
        o.append(f"  always @(posedge clk) acc_{i} <= acc_{i} + r_{i}[{P}:0];")
    else:
        o.append(f"  reg [44:0] acc_{i} = 0;")
        o.append(f"  always @(posedge clk) acc_{i} <= acc_{i} + pr0_{i} + pr1_{i};")
    o.append(f"  reg par_r_{i}; always @(posedge clk) par_r_{i} <= ^acc_{i}; assign par[{i}] = par_r_{i};")
# filler: independent units, each a 32-bit nonlinear state machine + 32-bit accumulator
if F:
    o.append(f"  wire [{F}-1:0] fpar;")
    for u in range(F):
        o.append(f"  reg [31:0] fs_{u} = 32'h{(0x9E3779B9 * (u + 1)) & 0xffffffff:08x}; reg [31:0] fa_{u} = 0; reg fp_{u};")
        # nonlinear mix: each bit = 4-input function of scattered bits -> ~1 LUT4 per bit
        o.append(f"  always @(posedge clk) begin")
        o.append(f"    fs_{u} <= ({{fs_{u}[30:0], fs_{u}[31]}} ^ ({{fs_{u}[26:0], fs_{u}[31:27]}} & {{fs_{u}[18:0], fs_{u}[31:19]}})) ^ ({{fs_{u}[6:0], fs_{u}[31:7]}} | {{32{{ld & din[{u % 18}]}}}});")
        o.append(f"    fa_{u} <= fa_{u} + (fs_{u} ^ {{fa_{u}[15:0], fa_{u}[31:16]}});")
        o.append(f"    fp_{u} <= ^fa_{u};")
        o.append(f"  end")
        o.append(f"  assign fpar[{u}] = fp_{u};")
    o.append("  reg fout; always @(posedge clk) fout <= ^fpar;")
else:
    o.append("  wire fout = 1'b0;")
# reduce element parities to 3 pins, registered in two stages
o.append("  reg [2:0] po;")
terms = [" ^ ".join(f"par[{k}]" for k in range(N) if k % 3 == j) or "1'b0" for j in range(3)]
o.append("  always @(posedge clk) begin " + " ".join(f"po[{j}] <= {terms[j]};" for j in range(3)) + " end")
o.append("  assign dout = {fout, po};")
o.append("endmodule")
print("\n".join(o))
