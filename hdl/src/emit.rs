//! Verilog emission: rust-hdl's output made `verilator --lint-only -Wall` clean, with stable,
//! C++-friendly names.
//!
//! rust-hdl 0.46 emits text that Verilator flags, and names that are awkward outside Verilog.
//! [`emit_verilog`] repairs the output at the text level, with rewrites that keep the
//! Verilog semantics exactly; nothing is waived except DECLFILENAME for sub-modules (below):
//!
//! - `bit_cast::<W, _>(x)` is emitted as the mask `((x) & W'hff…)`, which Verilator flags as a
//!   width mismatch. When `x` is a declared signal or a part-select of one, the mask becomes
//!   the explicit resize it stands for: `{K'h0, x}` (zero-extension), `x` or `x[W-1:0]`.
//! - `y = 32'h0;` (an integer literal assigned whole) is re-sized to `y`'s width when the value
//!   fits. Literals inside expressions are left alone: their width can change the result, so
//!   blocks use `Constant` fields of the right width instead (see [`crate::decode`]).
//! - `Bits<1>` signals are declared as scalars, and a select of a scalar (`t[(p)+:(1)]`, which
//!   generic code produces when a width parameter is 1) is illegal Verilog: such signals are
//!   declared `[0:0]`.
//! - An FSM's enum states are declared (`localparam`) in every module holding the state,
//!   including the plain register module that never names them: unused ones are dropped.
//! - Hierarchical names use `$` (`fp4$code`, module `top$fp4`), which C++ mangles
//!   (`fp4__024code`): every `$` in an identifier becomes `__` (checked to be collision-free),
//!   and the top module gets the caller's name (`top` → `format_decode`, `top$fp4` →
//!   `format_decode__fp4`).
//! - One file holds the whole hierarchy, so only its first module can match the file name:
//!   DECLFILENAME is switched off after the top module, with a comment saying why. Write the
//!   text to `<name>.v`.
//!
//! What is not repaired must not be written: integer literals inside expressions (use a
//! `Constant<Bits<N>>`), `bit_cast` of an expression (cast a local), bit indices held in
//! constants narrower than 32 bits, unread bits of a signal. The lint test below holds the
//! decoder to zero warnings.

use crate::decode::FormatDecode;
use regex::{Captures, Regex};
use rust_hdl::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Name of the decoder top module in emitted Verilog (and of its file, `format_decode.v`).
pub const FORMAT_DECODE_TOP: &str = "format_decode";

/// The Verilog of the decoder top ([`FormatDecode`]), module `format_decode`.
pub fn format_decode_verilog() -> String {
    emit_verilog(&mut FormatDecode::new(), FORMAT_DECODE_TOP)
}

/// Name of the pipelined decoder top: [`FormatDecode::pipelined`] for every format, the form
/// the array's lane decoders build (one register stage). `format_decode` is combinational: the
/// RTL decode tests' reference, built into no top.
pub const FORMAT_DECODE_PIPED_TOP: &str = "format_decode_piped";

/// Name of the PE top module.
pub const PE_TOP: &str = "pe";

/// The Verilog of the PE ([`crate::pe::Pe`]), module `pe`.
pub fn pe_verilog() -> String {
    emit_verilog(&mut crate::pe::Pe::new(), PE_TOP)
}

/// Emits a top built with slots ([`crate::accel::slots`]): each module of `modules` (with its
/// sub-modules) is appended once, after the top's modules.
///
/// The modules are marked `no_inline_module` and `tracing_off` for Verilator: inlined and
/// traced, the 8×8 array became 139 MB of C++; waves show each instance's ports in its slot.
/// Their inputs other than the clock are marked `public_flat_rd`: Verilator then keeps each
/// instance's inputs as its own variables instead of reading the driving registers of the
/// parent, so one evaluation function serves every instance (npe8x8: 7 for its 64 PEs instead
/// of 128, whose code did not fit the instruction cache).
pub fn emit_with_modules<B: Block>(top: &mut B, name: &str, modules: &[(&str, String)]) -> String {
    let mut v = emit_verilog(top, name);
    for (module, text) in modules {
        let start = text.find(&format!("module {module}(")).expect("module line");
        let end = start + text[start..].find('\n').expect("module line");
        let body_end = end + text[end..].find("endmodule").expect("endmodule");
        v.push_str(&text[..=end]);
        v.push_str("    /*verilator no_inline_module*/\n");
        v.push_str("    /*verilator tracing_off*/\n");
        for line in text[end + 1..body_end].lines() {
            match line.strip_suffix(';') {
                Some(decl) if decl.trim_start().starts_with("input ") && !decl.ends_with(" clock") => {
                    v.push_str(decl);
                    v.push_str(" /*verilator public_flat_rd*/;\n");
                }
                _ => {
                    v.push_str(line);
                    v.push('\n');
                }
            }
        }
        v.push_str(&text[body_end..]);
    }
    v
}

/// Name of the bit-serial dequantization unit beside the ≤ 8-bit fixed-point PE
/// ([`crate::pe::Dequant8`]), measured by `npe synth` on its own (the `npe4x4bs` PEs have it).
pub const DEQUANT8_TOP: &str = "dequant8";

/// Name of BitMoD's bit-serial MAC ([`crate::pe::MacBitSerial`]), measured by `npe synth`
/// against `mac_fixed8`, not yet in an array.
pub const MAC_BITSERIAL_TOP: &str = "mac_bitserial";

/// Name of the block-scale decoder ([`crate::decode::ScaleDecode`]), measured by `npe synth` on
/// its own (the block-scaled array has one per column).
pub const SCALE_DECODE_TOP: &str = "scale_decode";

/// Name of the block-scaled fixed-point MAC of the ≤ 8-bit set ([`crate::pe::MacBlock8`]): the
/// MAC pipe with the dequantization unit, measured by `npe synth` on its own (the PE of
/// `npe4x4bs`).
pub const MAC_BLOCK8_TOP: &str = "mac_block8";

/// The block-scaled array the `array_block8` top is ([`crate::accel::Datapath::Block8`]), the
/// array of [`NpeConfig::BLOCK`](crate::spec::NpeConfig::BLOCK) on its own.
pub const BLOCK_ARRAY_CFG: crate::spec::NpeConfig = crate::spec::NpeConfig {
    name: "array_block8",
    ..crate::spec::NpeConfig::BLOCK
};

/// The Verilog of the systolic array of [`BLOCK_ARRAY_CFG`] (module `array_block8`) with its
/// PE and decoder modules appended, so the block-scaled array is verilated, tested against the
/// golden model (`tests/rtl_block_array.rs`), linted and measured apart from the whole top.
pub fn block_array_verilog() -> String {
    use crate::accel::datapath::{BLOCK8_ACC, FIXED8_WORD};
    use crate::accel::{systolic_array::SystolicArray, Datapath};
    let cfg = BLOCK_ARRAY_CFG;
    let dp = Datapath::of(&cfg).expect("a datapath");
    let [pe, dec, _] = dp.modules(&cfg);
    let mut array = SystolicArray::<FIXED8_WORD, BLOCK8_ACC>::new(&cfg, dp);
    emit_with_modules(&mut array, cfg.name, &[pe, dec])
}

/// Name of the stand-alone fixed-point PE top of the ≤ 8-bit set ([`crate::pe::PeFixed8`]).
pub const PE_FIXED8_TOP: &str = "pe_fixed8";

/// The Verilog of the fixed-point PE of the ≤ 8-bit set, module [`PE_FIXED8_TOP`].
pub fn pe_fixed8_verilog() -> String {
    emit_verilog(
        &mut crate::pe::PeFixed8::with_formats(&crate::spec::config::LE8_FORMATS),
        PE_FIXED8_TOP,
    )
}

/// Name of the output-unit top ([`crate::output::OutputUnit`]: the shared PE's accumulator).
pub const OUTPUT_UNIT_TOP: &str = crate::accel::Datapath::Shared.output_unit_module();

/// Name of the output-unit top for [`LE8_ACC`], the accumulator of the LE8 formats.
pub const OUTPUT_UNIT_LE8_TOP: &str = crate::accel::Datapath::Fixed8.output_unit_module();

/// The exact accumulator of [`LE8_FORMATS`](crate::spec::config::LE8_FORMATS) (lsb −18,
/// 53 bits), rounded by [`OUTPUT_UNIT_LE8_TOP`].
pub const LE8_ACC: crate::spec::Accumulator = crate::pe::FIXED8_POINT.acc;

/// The output-unit tops and the accumulator each one rounds.
pub const OUTPUT_UNIT_TOPS: [(&str, crate::spec::Accumulator); 2] =
    [(OUTPUT_UNIT_TOP, crate::pe::ACC), (OUTPUT_UNIT_LE8_TOP, LE8_ACC)];

/// The Verilog of an output-unit top of [`OUTPUT_UNIT_TOPS`], module `name`.
pub fn output_unit_verilog(name: &str) -> String {
    crate::accel::Datapath::ALL
        .into_iter()
        .find(|d| d.output_unit_module() == name)
        .unwrap_or_else(|| panic!("no output-unit top named {name}"))
        .output_unit_verilog()
}

/// Name of the DMA test top ([`crate::axi::AxiDmaPair`]).
pub const AXI_DMA_TOP: &str = "axi_dma";

/// The Verilog of both AXI4 DMAs on one port ([`crate::axi::AxiDmaPair`]), module `axi_dma`.
pub fn axi_dma_verilog() -> String {
    emit_verilog(&mut crate::axi::AxiDmaPair::new(), AXI_DMA_TOP)
}

/// Name of the output stage's test top ([`crate::accel::output_stage::OutputStage`]).
pub const OUTPUT_STAGE_TOP: &str = "output_stage";

/// The array the output-stage top serves: 4 rows × 4 columns (one beat of output values), two
/// columns per output unit, of the fixed-point datapath, the buffers of [`NpeConfig::LE8`](crate::spec::NpeConfig::LE8).
pub const OUTPUT_STAGE_CFG: crate::spec::NpeConfig = crate::spec::NpeConfig {
    name: OUTPUT_STAGE_TOP,
    rows: 4,
    cols: 4,
    ..crate::spec::NpeConfig::LE8
};

/// The Verilog of the output stage of [`OUTPUT_STAGE_CFG`], module [`OUTPUT_STAGE_TOP`], with
/// its output unit's module appended.
pub fn output_stage_verilog() -> String {
    use crate::accel::{datapath::FIXED8_ACC, layout::BankLayout, output_stage::OutputStage, Datapath};
    let cfg = OUTPUT_STAGE_CFG;
    let dp = Datapath::of(&cfg).expect("a datapath");
    let layout = BankLayout::of(&cfg).expect("a layout");
    let ou = dp.output_unit_module();
    let (r, c, s) = (cfg.rows as usize, cfg.cols as usize, cfg.cols_per_output_unit as usize);
    let mut stage = OutputStage::<FIXED8_ACC>::new(r, c, s, &layout, ou);
    emit_with_modules(&mut stage, OUTPUT_STAGE_TOP, &[(ou, dp.output_unit_verilog())])
}

/// Name of the UART bridge top ([`crate::board::UartBridge`]).
pub const UART_BRIDGE_TOP: &str = "uart_bridge";

/// The Verilog of the UART bridge at the board's bit rate in front of the board's memory
/// ([`crate::spec::board`]), module [`UART_BRIDGE_TOP`].
pub fn uart_bridge_verilog() -> String {
    use crate::spec::board::{CLKS_PER_BIT, MEM_BYTES, MEM_WORD_BYTES};
    let mut bridge = crate::board::UartBridge::new(CLKS_PER_BIT, MEM_BYTES / MEM_WORD_BYTES);
    emit_verilog(&mut bridge, UART_BRIDGE_TOP)
}

/// Name of the board memory's top ([`crate::board::board_mem::BoardMem`]).
pub const BOARD_MEM_TOP: &str = "board_mem";

/// The Verilog of the board memory, module [`BOARD_MEM_TOP`].
pub fn board_mem_verilog() -> String {
    emit_verilog(&mut crate::board::board_mem::BoardMem::new(), BOARD_MEM_TOP)
}

/// Every hardware top as `(module name, Verilog)`: what `npe emit` writes and npe-sim verilates.
pub fn all_tops() -> Vec<(&'static str, String)> {
    use crate::spec::NpeConfig;
    let mut tops = vec![
        (FORMAT_DECODE_TOP, format_decode_verilog()),
        (PE_TOP, pe_verilog()),
        (PE_FIXED8_TOP, pe_fixed8_verilog()),
        (AXI_DMA_TOP, axi_dma_verilog()),
        (OUTPUT_STAGE_TOP, output_stage_verilog()),
        (BLOCK_ARRAY_CFG.name, block_array_verilog()),
        (UART_BRIDGE_TOP, uart_bridge_verilog()),
        (
            crate::board::board_core::BOARD_CORE_SIM_TOP,
            crate::board::board_core::board_core_sim_verilog(),
        ),
    ];
    for (name, _) in OUTPUT_UNIT_TOPS {
        tops.push((name, output_unit_verilog(name)));
    }
    for cfg in NpeConfig::PRESETS {
        tops.push((cfg.name, crate::accel::accel_verilog(&cfg)));
    }
    tops
}

/// What `npe synth` can synthesize: every hardware top, the modules an array is built from
/// (the MAC pipe of each PE, the edge decoder of each row and column, of every datapath: see
/// [`crate::accel::Datapath`]) and the area baselines ([`crate::baseline`]), which are measured
/// but never simulated.
pub fn synth_tops() -> Vec<(&'static str, String)> {
    use crate::accel::Datapath;
    use crate::spec::NpeConfig;
    let mut tops = all_tops();
    for dp in Datapath::ALL {
        // The datapath's modules as a preset of its own format set builds them (the
        // block-scaled datapath's PE is `mac_block8`, MAC_BLOCK8_TOP).
        let cfg = NpeConfig::PRESETS
            .into_iter()
            .chain([BLOCK_ARRAY_CFG])
            .find(|c| Datapath::of(c) == Ok(dp))
            .expect("every datapath has a preset");
        for (name, text) in dp.modules(&cfg) {
            if !tops.iter().any(|(n, _)| *n == name) {
                tops.push((name, text));
            }
        }
    }
    tops.push((
        DEQUANT8_TOP,
        emit_verilog(&mut crate::pe::Dequant8::default(), DEQUANT8_TOP),
    ));
    tops.push((
        MAC_BITSERIAL_TOP,
        emit_verilog(&mut crate::pe::MacBitSerial::default(), MAC_BITSERIAL_TOP),
    ));
    tops.push((
        FORMAT_DECODE_PIPED_TOP,
        emit_verilog(
            &mut FormatDecode::pipelined(&crate::spec::Format::ALL),
            FORMAT_DECODE_PIPED_TOP,
        ),
    ));
    tops.push((
        SCALE_DECODE_TOP,
        emit_verilog(&mut crate::decode::ScaleDecode::default(), SCALE_DECODE_TOP),
    ));
    tops.push(("mac16", emit_verilog(&mut crate::baseline::Mac16::default(), "mac16")));
    tops.extend(crate::baseline::single_format_tops());
    // The board's memory. The board core (bridge, accelerator, memory) is a whole preset: `npe
    // bitstream` measures it in the board top, its own test lints it, and its simulated variant
    // (`board_core_sim`, a short UART bit time) is one of `all_tops`.
    tops.push((BOARD_MEM_TOP, board_mem_verilog()));
    tops
}

/// Emits `top` as Verilog with top module `name`, lint-clean as described in the module docs.
///
/// Panics if rust-hdl's own checks (open inputs, logic loops, writes to inputs) fail: that is a
/// bug in the block, not something to emit.
pub fn emit_verilog<B: Block>(top: &mut B, name: &str) -> String {
    fix_verilog(&raw_verilog(top), name)
}

/// rust-hdl's unmodified output for `top` (top module `top`), for comparison and debugging.
pub fn raw_verilog<B: Block>(top: &mut B) -> String {
    top.connect_all();
    if let Err(e) = check_all(top) {
        panic!("rust-hdl check failed: {e:?}");
    }
    generate_verilog_unchecked(top)
}

/// A module of the emitted text, or text between modules (black-box cores and the like).
enum Item {
    Module { name: String, lines: Vec<String> },
    Text(String),
}

/// Applies the repairs of the module docs to rust-hdl output whose root module is `top`.
pub fn fix_verilog(raw: &str, name: &str) -> String {
    let mut items = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in raw.lines() {
        let line = line.trim_end().to_string();
        if let Some((m, lines)) = &mut current {
            let end = line.starts_with("endmodule");
            lines.push(line);
            if end {
                items.push(Item::Module {
                    name: std::mem::take(m),
                    lines: std::mem::take(lines),
                });
                current = None;
            }
        } else if let Some(c) = patterns().module_start.captures(&line) {
            current = Some((c[1].to_string(), vec![line]));
        } else {
            items.push(Item::Text(line));
        }
    }
    assert!(current.is_none(), "unterminated module in rust-hdl output");

    let modules: BTreeMap<String, String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Module { name: m, .. } => Some((m.clone(), module_name(m, name))),
            Item::Text(_) => None,
        })
        .collect();
    assert!(modules.contains_key("top"), "no root module `top` in rust-hdl output");

    let mut out = format!("// {name}: generated by npe-hdl from rust-hdl blocks. Do not edit.\n");
    let (mut first, mut waived) = (true, false);
    for item in items {
        match item {
            Item::Text(t) => {
                if !(t.is_empty() && out.ends_with("\n\n")) {
                    out.push_str(&t);
                    out.push('\n');
                }
            }
            Item::Module { name: m, lines } => {
                if first {
                    // rust-hdl sorts modules by path, so the root comes first; the file name
                    // and the simulator's port parser rely on it.
                    assert_eq!(m, "top", "the root module must come first");
                } else if !waived {
                    waived = true;
                    out.push_str(
                        "// The sub-modules share the top's file (the simulator build and the FPGA\n\
                         // scripts read one file per top), so their names cannot match the file name.\n\
                         /* verilator lint_off DECLFILENAME */\n",
                    );
                }
                first = false;
                for line in fix_module(&lines, &modules) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
    }
    rename_dollars(&out)
}

/// `top` → `name`, `top$a$b` → `name__a__b`.
fn module_name(m: &str, name: &str) -> String {
    match m.strip_prefix("top") {
        Some("") => name.to_string(),
        Some(rest) if rest.starts_with('$') => format!("{name}{}", rest.replace('$', "__")),
        _ => m.replace('$', "__"),
    }
}

const IDENT: &str = r"[A-Za-z_][\w$]*";

/// The line and expression shapes of rust-hdl's output that the repairs look for.
struct Patterns {
    module_start: Regex,
    decl: Regex,
    param: Regex,
    enum_param: Regex,
    selected: Regex,
    cast: Regex,
    assign_literal: Regex,
    module_line: Regex,
    instance: Regex,
    ident: Regex,
}

/// Compiled once: a big design has a module per block instance.
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(&p.replace("IDENT", IDENT)).unwrap();
        Patterns {
            module_start: re(r"^module (IDENT)\(.*\);$"),
            // `reg  [7:0] x;`, `output reg  x;`: prefix, msb, name.
            decl: re(r"^(\s*(?:input wire|output reg|output wire|inout wire|reg|wire)\s+(?:signed\s+)?)(?:\[(\d+):0\]\s+)?(IDENT);$"),
            param: re(r"^\s*localparam\s+(?:signed\s+)?(IDENT)\s*=\s*(\d+)'[hb][0-9a-fA-F]+;$"),
            // `localparam Comp$Idle = 0;`: an enum state.
            enum_param: re(r"^\s*localparam (IDENT) = \d+;$"),
            selected: re(r"(IDENT)\["),
            // `((x) & 8'hff)`, `((x[(p)+:(4)]) & 8'hff)`: name, select, offset, select width,
            // cast width, mask.
            cast: re(r"\(\((IDENT)(\[\(([^()\]]*)\)\+:\((\d+)\)\])?\) & (\d+)'h([0-9a-f]+)\)"),
            assign_literal: re(r"^(\s*)(IDENT) = (\d+)'([hb])([0-9a-f]+);$"),
            module_line: re(r"^(module |endmodule // )(IDENT)(.*)$"),
            instance: re(r"^(\s*)(IDENT) (IDENT)\($"),
            ident: re(IDENT),
        }
    })
}

/// Width repairs inside one module, and its module names.
fn fix_module(lines: &[String], modules: &BTreeMap<String, String>) -> Vec<String> {
    let p = patterns();
    let mut widths = BTreeMap::new();
    let mut scalars = BTreeSet::new();
    for line in lines {
        if let Some(c) = p.decl.captures(line) {
            let w = c.get(2).map_or(1, |hi| hi.as_str().parse::<usize>().unwrap() + 1);
            widths.insert(c[3].to_string(), w);
            if c.get(2).is_none() {
                scalars.insert(c[3].to_string());
            }
        } else if let Some(c) = p.param.captures(line) {
            widths.insert(c[1].to_string(), c[2].parse().unwrap());
        }
    }
    let indexed_scalars: BTreeSet<String> = lines
        .iter()
        .filter(|l| !p.decl.is_match(l))
        .flat_map(|l| p.selected.captures_iter(l).map(|c| c[1].to_string()))
        .filter(|n| scalars.contains(n))
        .collect();

    // rust-hdl declares an enum's states in every module that holds one, including the plain
    // register module of an FSM's state, which never names them.
    let used_idents: BTreeSet<&str> = lines
        .iter()
        .filter(|l| !p.enum_param.is_match(l))
        .flat_map(|l| p.ident.find_iter(l).map(|m| m.as_str()))
        .collect();

    lines
        .iter()
        .filter(|line| match p.enum_param.captures(line) {
            Some(c) => used_idents.contains(&c[1]),
            None => true,
        })
        .map(|line| {
            if let Some(c) = p.decl.captures(line) {
                if indexed_scalars.contains(&c[3]) {
                    return format!("{}[0:0] {};", &c[1], &c[3]);
                }
                return line.clone();
            }
            if let Some(c) = p.module_line.captures(line) {
                if let Some(new) = modules.get(&c[2]) {
                    return format!("{}{}{}", &c[1], new, &c[3]);
                }
            }
            if let Some(c) = p.instance.captures(line) {
                if let Some(new) = modules.get(&c[2]) {
                    return format!("{}{} {}(", &c[1], new, &c[3]);
                }
            }
            let line = p
                .cast
                .replace_all(line, |c: &Captures| resize_cast(c, &widths))
                .into_owned();
            if let Some(c) = p.assign_literal.captures(&line) {
                if let Some(lit) = resize_literal(&c, &widths) {
                    return format!("{}{} = {};", &c[1], &c[2], lit);
                }
            }
            line
        })
        .collect()
}

/// `((x) & W'hff…)` → the resize of `x` to `W` bits it stands for, when `x`'s width is known.
fn resize_cast(c: &Captures, widths: &BTreeMap<String, usize>) -> String {
    let target: usize = c[5].parse().unwrap();
    if c[6] != all_ones_hex(target) {
        return c[0].to_string();
    }
    let (name, source) = match (c.get(2), c.get(4)) {
        (Some(_), Some(w)) => (&c[1], w.as_str().parse::<usize>().unwrap()),
        _ => match widths.get(&c[1]) {
            Some(&w) => (&c[1], w),
            None => return c[0].to_string(),
        },
    };
    let operand = c.get(2).map_or(name.to_string(), |s| format!("{name}{}", s.as_str()));
    if source == target {
        operand
    } else if source < target {
        format!("{{{}'h0, {operand}}}", target - source)
    } else if let Some(offset) = c.get(3) {
        format!("{name}[({})+:({target})]", offset.as_str())
    } else {
        format!("{name}[{}:0]", target - 1)
    }
}

/// `W` ones in rust-hdl's lower-case hex (no leading zeros).
fn all_ones_hex(width: usize) -> String {
    let top = match width % 4 {
        0 => String::new(),
        r => format!("{:x}", (1u32 << r) - 1),
    };
    top + &"f".repeat(width / 4)
}

/// The literal of an assignment `y = N'hv;` at `y`'s width, if that differs and `v` fits.
fn resize_literal(c: &Captures, widths: &BTreeMap<String, usize>) -> Option<String> {
    let width = *widths.get(&c[2])?;
    let bits: usize = c[3].parse().ok()?;
    let radix = if &c[4] == "h" { 16 } else { 2 };
    let value = u128::from_str_radix(&c[5], radix).ok()?;
    let fits = width >= 128 || value >> width == 0;
    (bits != width && fits).then(|| format!("{width}'h{value:x}"))
}

/// Every `$` inside an identifier becomes `__`, refusing to merge two distinct names.
fn rename_dollars(text: &str) -> String {
    let ident = &patterns().ident;
    let names: BTreeSet<&str> = ident.find_iter(text).map(|m| m.as_str()).collect();
    let mut renamed = BTreeMap::new();
    for n in names.iter().filter(|n| n.contains('$')) {
        let new = n.replace('$', "__");
        assert!(
            !names.contains(new.as_str()),
            "renaming {n} to {new} would merge it with an existing name"
        );
        if let Some(other) = renamed.insert(new.clone(), *n) {
            panic!("{other} and {n} would both be renamed to {new}");
        }
    }
    ident
        .replace_all(text, |c: &Captures| c[0].replace('$', "__"))
        .into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    /// Each synthesis top once (a report row per top), the block-scaled PE among them.
    #[test]
    fn synthesis_tops_are_named_once() {
        let tops = synth_tops();
        let mut names: Vec<&str> = tops.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&MAC_BLOCK8_TOP));
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a top is listed twice");
    }

    /// Runs `verilator --lint-only -Wall` on `text` saved as `<top>.v`; returns its messages.
    pub(crate) fn verilator_lint(text: &str, top: &str, tag: &str) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("npe-hdl-lint-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file: PathBuf = dir.join(format!("{top}.v"));
        std::fs::write(&file, text).unwrap();
        let out = Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", top])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `verilator` ({e}): the lint test needs Verilator (>= 5.006) on \
                     PATH, e.g. `apt-get install verilator`"
                )
            });
        let _ = std::fs::remove_dir_all(&dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let messages: Vec<String> = stderr
            .lines()
            .filter(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
            .map(str::to_string)
            .collect();
        assert!(
            out.status.success() || !messages.is_empty(),
            "verilator failed without a message:\n{stderr}"
        );
        messages
    }

    #[test]
    fn every_top_is_lint_clean() {
        for (top, v) in synth_tops() {
            let messages = verilator_lint(&v, top, top);
            assert!(
                messages.is_empty(),
                "{top}: verilator -Wall: {} messages\n{}",
                messages.len(),
                messages.join("\n")
            );
        }
    }

    #[test]
    fn a_config_with_other_buffer_sizes_is_lint_clean() {
        // Buffer sizes are parameters: smaller banks, narrower addresses, same lint result.
        let cfg = crate::spec::NpeConfig {
            name: "npe_small",
            k_beats_max: 256,
            w_bank_words: 2048,
            out_tiles: 8,
            ..crate::spec::NpeConfig::TEST
        };
        assert_eq!(crate::accel::config_error(&cfg), None);
        let v = crate::accel::accel_verilog(&cfg);
        // A: 2 × 256 / 8 beats; W: 2048 / 8 beats; out: 2 halves × 4 rows × 8 tiles.
        for bank in [
            "reg [127:0] mem [0:63];",
            "reg [127:0] mem [0:255];",
            "reg [31:0] mem [0:63];",
        ] {
            assert!(v.contains(bank), "no `{bank}`");
        }
        let messages = verilator_lint(&v, cfg.name, cfg.name);
        assert!(messages.is_empty(), "{}", messages.join("\n"));
    }

    #[test]
    fn an_output_unit_for_an_accumulator_narrower_than_the_frame_is_lint_clean() {
        // INT4 × INT4 sums: a 24-bit accumulator, zero-extended to the frame and a bit.
        const ACC: crate::spec::Accumulator = crate::spec::Accumulator::for_formats(&[crate::spec::Format::Int4]);
        const _: () = assert!((ACC.width as usize) <= crate::output::FRAME);
        let v = emit_verilog(&mut <crate::ou_type!(ACC)>::for_acc(ACC), "output_unit_int4");
        let messages = verilator_lint(&v, "output_unit_int4", "output_unit_int4");
        assert!(messages.is_empty(), "{}", messages.join("\n"));
    }

    #[test]
    fn raw_rust_hdl_output_is_not_lint_clean() {
        // What the repairs are for (the count is in the report; this only keeps it honest).
        let raw = raw_verilog(&mut FormatDecode::new());
        let messages = verilator_lint(&raw, "top", "raw");
        println!("raw rust-hdl output: {} verilator -Wall messages", messages.len());
        assert!(!messages.is_empty());
    }

    #[test]
    fn format_decode_ports() {
        let v = format_decode_verilog();
        let start = v.find("module format_decode(").expect("top module first");
        assert!(!v[..start].contains("module "), "the top module must come first");
        let body = &v[start..start + v[start..].find("endmodule").unwrap()];
        // The clock is there for the pipelined build; this combinational one does not use it.
        assert!(body.starts_with("module format_decode(clock,fmt,code,zero,nar,inf,sign,exp,mant);"));
        for port in [
            "input wire  [4:0] fmt;",
            "input wire  [15:0] code;",
            "output reg  zero;",
            "output reg  nar;",
            "output reg  inf;",
            "output reg  sign;",
            "output reg  [7:0] exp;",
            "output reg  [15:0] mant;",
        ] {
            assert!(body.contains(port), "missing `{port}`");
        }
        assert!(!v.contains('$'), "identifiers with `$` left");
    }

    #[test]
    fn casts_become_resizes() {
        let raw = "module top(a);\n\
                   reg  [2:0] e;\n\
                   reg  [15:0] w;\n\
                   reg  [7:0] n;\n\
                   always @(*) begin\n\
                   n = ((e) & 8'hff);\n\
                   n = ((w) & 8'hff);\n\
                   w = ((w) & 16'hffff);\n\
                   n = ((w[(p)+:(12)]) & 8'hff);\n\
                   n = ((e) & 8'h7f);\n\
                   n = ((e) & 5'h1f);\n\
                   end\n\
                   endmodule // top\n";
        let v = fix_verilog(raw, "t");
        assert!(v.contains("n = {5'h0, e};"), "{v}");
        assert!(v.contains("n = w[7:0];"), "{v}");
        assert!(v.contains("w = w;"), "{v}");
        assert!(v.contains("n = w[(p)+:(8)];"), "{v}");
        assert!(v.contains("n = ((e) & 8'h7f);"), "a mask that is no cast stays: {v}");
        assert!(v.contains("n = {2'h0, e};"), "{v}");
        assert!(v.contains("module t(a);") && v.contains("endmodule // t"), "{v}");
    }

    #[test]
    fn whole_literals_take_the_target_width() {
        let raw = "module top(a);\n\
                   reg  [7:0] n;\n\
                   reg  b;\n\
                   always @(*) begin\n\
                   n = 32'h5;\n\
                   b = 32'h1;\n\
                   n = 32'h100;\n\
                   n = 32'h1 + n;\n\
                   end\n\
                   endmodule // top\n";
        let v = fix_verilog(raw, "t");
        assert!(v.contains("n = 8'h5;") && v.contains("b = 1'h1;"), "{v}");
        assert!(v.contains("n = 32'h100;"), "a literal that does not fit stays: {v}");
        assert!(v.contains("n = 32'h1 + n;"), "literals in expressions stay: {v}");
    }

    #[test]
    fn selected_scalars_become_vectors() {
        let raw = "module top(a);\n\
                   input wire  a;\n\
                   reg  t;\n\
                   reg  u;\n\
                   always @(*) begin\n\
                   t = a;\n\
                   u = t[(p)+:(1)];\n\
                   end\n\
                   endmodule // top\n";
        let v = fix_verilog(raw, "t");
        assert!(v.contains("reg  [0:0] t;") && v.contains("reg  u;"), "{v}");
    }

    #[test]
    fn dollars_are_renamed_and_submodules_waived() {
        let raw = "module top(a);\n\
                   wire  fp4$code;\n\
                   top$fp4 fp4(\n\
                   .code(fp4$code)\n\
                   );\n\
                   endmodule // top\n\
                   \n\
                   module top$fp4(code);\n\
                   input wire  code;\n\
                   endmodule // top$fp4\n";
        let v = fix_verilog(raw, "dec");
        assert!(v.contains("wire  fp4__code;"), "{v}");
        assert!(v.contains("dec__fp4 fp4("), "{v}");
        assert!(v.contains("module dec__fp4(code);"), "{v}");
        let waiver = v.find("lint_off DECLFILENAME").unwrap();
        assert!(waiver > v.find("endmodule // dec\n").unwrap());
        assert!(waiver < v.find("module dec__fp4").unwrap());
    }

    #[test]
    #[should_panic(expected = "would merge")]
    fn renaming_never_merges_names() {
        fix_verilog("module top(a);\nreg  a$b;\nreg  a__b;\nendmodule // top\n", "t");
    }
}
