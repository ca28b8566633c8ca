//! Human-readable tables for the CLI and the demo.

use std::fmt::Write as _;

use crate::golden::{self, Encoding, FloatSpecials, Format, OutputFormat, Unified};

/// One-line rendering of a unified value.
pub fn unified(u: &Unified) -> String {
    if u.nar {
        "NaN/NaR".into()
    } else if u.inf {
        format!("{}inf", if u.sign { "-" } else { "+" })
    } else if u.zero {
        "zero".into()
    } else {
        format!("{}{} x 2^{}", if u.sign { "-" } else { "+" }, u.mant, u.exp)
    }
}

fn encoding(bits: u32, e: Encoding) -> String {
    match e {
        Encoding::Int => "two's complement".into(),
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials,
        } => {
            let sp = match specials {
                FloatSpecials::None => "no Inf/NaN",
                FloatSpecials::NanOnly => "NaN only",
                FloatSpecials::Ieee => "IEEE Inf/NaN",
            };
            format!("E{exp_bits}M{man_bits} bias {bias}, {sp}")
        }
        Encoding::PowerOfTwo { bias } => format!("2^(e-{bias}), 0xFF NaN"),
        Encoding::Posit { es } => format!("posit es={es}"),
        Encoding::Ovp { normal } => format!("OVP pairs, {normal:?} normals"),
        Encoding::Bitmod { special } => {
            let (neg, mant, exp) = npe_hdl::spec::formats::bitmod::special(bits, special);
            let v = f64::from(mant) * f64::from(exp).exp2();
            format!("BitMoD FP{bits}, -0 code = {}{v}", if neg { "-" } else { "+" })
        }
    }
}

/// Smallest and largest positive finite values of an operand format (read off its codes);
/// the table and the demo's operand sampler both use it.
pub fn range(f: Format) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = 0f64;
    if f.is_paired() {
        for byte in 0..=0xFF {
            for u in golden::decode_pair(f, byte).into_iter().flatten() {
                let v = golden::unified_f64(u);
                if v.is_finite() && v > 0.0 {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        return (lo, hi);
    }
    for code in 0..f.code_count() {
        if let Ok(v) = golden::to_f64(f, code) {
            if v.is_finite() && v > 0.0 {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    (lo, hi)
}

/// Width of the name column: the longest operand format name (both tables line up).
fn name_width() -> usize {
    Format::TABLE.iter().map(|f| f.name().len()).max().unwrap_or(0)
}

/// The operand format table.
pub fn format_table() -> String {
    let w = name_width();
    let mut s = String::new();
    writeln!(s, "operand formats").unwrap();
    writeln!(
        s,
        "  {:<w$} {:>2} {:>4}  {:<32} {:>12} {:>12}  overflow",
        "name", "id", "bits", "encoding", "min > 0", "max"
    )
    .unwrap();
    for f in Format::TABLE {
        let spec = f.spec();
        let (lo, hi) = range(f);
        writeln!(
            s,
            "  {:<w$} {:>2} {:>4}  {:<32} {:>12.6e} {:>12.6e}  {:?}",
            spec.name,
            spec.id,
            spec.bits,
            encoding(spec.bits, spec.encoding),
            lo,
            hi,
            spec.overflow
        )
        .unwrap();
    }
    s
}

/// The output format table.
pub fn output_format_table() -> String {
    let w = name_width();
    let mut s = String::new();
    writeln!(s, "output formats (exact accumulator rounded once, to nearest even)").unwrap();
    for f in OutputFormat::ALL {
        let spec = f.spec();
        writeln!(
            s,
            "  {:<w$} {:>2} {:>4}  {:<32} {:?}",
            spec.name,
            spec.id,
            spec.bits,
            encoding(spec.bits, spec.encoding),
            spec.overflow
        )
        .unwrap();
    }
    s
}

/// Synthesis results as a table (one row per top).
pub fn synth_table(reports: &[npe_fpga::SynthReport]) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "{:<16} {:>7} {:>7} {:>7} {:>5} {:>5} {:>10}",
        "top", "LUT4", "FF", "CCU2C", "DSP", "BRAM", "Fmax MHz"
    )
    .unwrap();
    for r in reports {
        let fmax = r.fmax_mhz.map_or("-".to_string(), |f| format!("{f:.1}"));
        let u = &r.util;
        writeln!(
            s,
            "{:<16} {:>7} {:>7} {:>7} {:>5} {:>5} {:>10}",
            r.top, u.lut4, u.ff, u.ccu2c, u.dsp, u.bram, fmax
        )
        .unwrap();
    }
    if let Some(r) = reports.first() {
        writeln!(s, "({}; ECP5 LFE5U-85F CABGA381)", r.yosys).unwrap();
    }
    s
}

/// The single-format PEs the shared PE is compared with (`npe_hdl::baseline::single_format`).
pub const SINGLE_FORMAT_TOPS: [&str; 3] = ["pe_int8", "pe_fp4", "pe_posit16"];

/// The headline ratios, when `reports` holds the shared PE and every single-format PE: the
/// shared PE against the sum of the single-format ones (what one datapath saves over three),
/// and against the project's targets (≤ 2 k LUT4, ≥ 100 MHz).
pub fn synth_ratios(reports: &[npe_fpga::SynthReport]) -> Option<String> {
    let find = |top: &str| reports.iter().find(|r| r.top == top);
    let pe = find("pe")?;
    let singles = SINGLE_FORMAT_TOPS.iter().map(|t| find(t)).collect::<Option<Vec<_>>>()?;
    let sum = |f: fn(&npe_fpga::Utilization) -> u64| singles.iter().map(|r| f(&r.util)).sum::<u64>();
    let (lut, ff, ccu) = (sum(|u| u.lut4), sum(|u| u.ff), sum(|u| u.ccu2c));
    let mut s = String::new();
    writeln!(
        s,
        "shared pe / (pe_int8 + pe_fp4 + pe_posit16): LUT4 {} / {lut} = {:.2}, FF {} / {ff} = {:.2}, CCU2C {} / {ccu} = {:.2}",
        pe.util.lut4,
        pe.util.lut4 as f64 / lut as f64,
        pe.util.ff,
        pe.util.ff as f64 / ff as f64,
        pe.util.ccu2c,
        pe.util.ccu2c as f64 / ccu as f64,
    )
    .unwrap();
    write!(
        s,
        "shared pe vs target (2000 LUT4, 100 MHz): LUT4 {:.2}x",
        pe.util.lut4 as f64 / 2000.0
    )
    .unwrap();
    if let Some(f) = pe.fmax_mhz {
        write!(s, ", Fmax {:.2}x", f / 100.0).unwrap();
    }
    writeln!(s).unwrap();
    Some(s)
}

/// How `npe synth` measures, for its markdown report.
pub const SYNTH_METHOD: &str =
    "Method: `synth_ecp5` on the top itself for cells; Fmax from nextpnr-ecp5 (LFE5U-85F, CABGA381,
100 MHz target, seed 1) on a wrapper that registers every input and output (see `fpga/src/lib.rs`),
as in `shared/research/area-anchors.md`. `pe` is the shared PE as one block: every operand format,
4/2/1 lanes, lane mode and two pipelined lane decoders, then the MAC pipe (lanes 0-1 multiply on
MULT18X18D, lanes 2-3 in LUTs, per-lane alignment, the exact accumulator). In the array the
decoders sit at the edge, so each PE is `pe_mac` (the MAC pipe alone) and each row and column has
one `lane_decode`. `format_decode` is the combinational decoder of every format that the RTL
decode tests run; the array uses the pipelined one inside `lane_decode`. `output_unit` rounds one
column's accumulator; `output_unit_le8` is the same unit (`GenericOutputUnit`) built for the 53-bit
accumulator of the formats of at most 8 bits; `axi_dma` is the read and write DMA pair. `mac16` is a plain INT16 MAC (48-bit
accumulator), which Yosys maps to one MULT18X18D. `pe_int8`, `pe_fp4` and `pe_posit16` are the
shared PE's code (`GenericPe`) built for one operand format each: decoders, lanes, alignment windows
and accumulator shrink to that format, and Yosys removes the rest. `pe_le8` is the same code built
for every multiplier format of at most 8 bits, `pe_mac_le8` and `pe_mac_le4` the MAC pipes alone for
the formats of at most 8 and 4 bits (`PeGeometry::for_formats`, the format-set direction).
";

/// LUT4-equivalents of a cell count: LUT4 + 2 × CCU2C (a carry cell holds two LUT4s' worth of
/// logic), the unit of the budget in DESIGN.md §4.1.
pub fn lut4_eq(u: &npe_fpga::Utilization) -> u64 {
    u.lut4 + 2 * u.ccu2c
}

/// One line of the area budget of DESIGN.md §4.1 (all-format 4×4 column): the blocks of the
/// breakdown it covers and its LUT4-equivalents (for the PEs, per PE).
pub struct BudgetLine {
    /// The budget line's name.
    pub name: &'static str,
    /// Breakdown blocks it covers.
    pub blocks: &'static [&'static str],
    /// LUT4-equivalents allowed.
    pub lut4_eq: u64,
    /// Whether `lut4_eq` is per PE (scaled by the PE count).
    pub per_pe: bool,
}

/// The all-format budget of DESIGN.md §4.1 (80 % of the LFE5U-85F). The PEs' decoders count
/// with the PEs: the budget's "edge decoders" line is for decoders moved out of the PEs.
pub const BUDGET: [BudgetLine; 4] = {
    use npe_fpga::accel::*;
    [
        BudgetLine {
            name: "PEs (incl. their decoders)",
            blocks: &[PE_DECODERS, PE_REST],
            lut4_eq: 3000,
            per_pe: true,
        },
        BudgetLine {
            name: "output units",
            blocks: &[OUTPUT_UNITS],
            lut4_eq: 6000,
            per_pe: false,
        },
        BudgetLine {
            name: "controller, skew, buffers' logic",
            blocks: &[BUFFERS, CONTROLLER, TOP_GLUE],
            lut4_eq: 6000,
            per_pe: false,
        },
        BudgetLine {
            name: "AXI-Lite registers + DMA",
            blocks: &[REGISTERS, DMA],
            lut4_eq: 3000,
            per_pe: false,
        },
    ]
};

/// The whole-top figures and the per-block breakdown of one accelerator top.
pub fn accel_table(r: &npe_fpga::AccelReport) -> String {
    let mut s = String::new();
    let u = &r.util;
    let total_eq = lut4_eq(u).max(1);
    writeln!(
        s,
        "{}: LUT4 {}, CCU2C {}, FF {}, DP16KD {}, MULT18X18D {}, ALU54B {}; LUT4-eq (LUT4 + 2 x CCU2C) {}",
        r.top,
        u.lut4,
        u.ccu2c,
        u.ff,
        u.bram,
        u.dsp,
        u.alu,
        lut4_eq(u)
    )
    .unwrap();
    if let Some(p) = &r.placed {
        writeln!(
            s,
            "placed netlist (the top synthesized flat, wrapper included): LUT4 {}, CCU2C {}, FF {}; LUT4-eq {}",
            p.lut4,
            p.ccu2c,
            p.ff,
            lut4_eq(p)
        )
        .unwrap();
    }
    if !r.device.is_empty() {
        let parts: Vec<String> = ["TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "MULT18X18D", "ALU54B"]
            .iter()
            .filter_map(|n| r.device_use(n))
            .map(|d| format!("{} {}/{} ({:.0} %)", d.resource, d.used, d.available, d.percent()))
            .collect();
        writeln!(s, "nextpnr, LFE5U-85F CABGA381, wrapper included: {}", parts.join(", ")).unwrap();
    }
    match (&r.fmax_mhz, &r.pnr_error, &r.nextpnr) {
        (_, Some(e), _) => writeln!(s, "place and route: {e}").unwrap(),
        (Some(f), None, _) => writeln!(s, "Fmax (whole top in its register wrapper): {f:.1} MHz").unwrap(),
        (None, None, Some(_)) => writeln!(s, "Fmax: not reported by nextpnr").unwrap(),
        (None, None, None) => writeln!(s, "(no place and route: run with --pnr)").unwrap(),
    }
    write!(s, "Yosys {:.0} s", r.synth_seconds).unwrap();
    if let Some(p) = r.pnr_seconds {
        write!(s, ", nextpnr {p:.0} s").unwrap();
        if let Some(run) = r.pnr {
            write!(s, " ({}, seed {})", run.router.name(), run.seed).unwrap();
        }
        if let Some(n) = r.pinned_cells {
            write!(s, ", floorplan: {n} DSP and block-RAM cells pinned").unwrap();
        }
    }
    write!(s, " (wall time)").unwrap();
    if r.reused_synthesis || r.reused_pnr {
        // The times are the earlier runs' (a reused place and route may not have recorded one).
        let reused: Vec<&str> = [(r.reused_synthesis, "synthesis"), (r.reused_pnr, "place and route")]
            .into_iter()
            .filter_map(|(on, what)| on.then_some(what))
            .collect();
        write!(
            s,
            "; reused from earlier runs on the same inputs: {}",
            reused.join(", ")
        )
        .unwrap();
    }
    writeln!(s, "\n").unwrap();
    writeln!(
        s,
        "{:<38} {:>5} {:>7} {:>6} {:>6} {:>6} {:>4} {:>9} {:>6}",
        "block", "inst", "LUT4", "CCU2C", "FF", "DP16KD", "DSP", "LUT4/inst", "share"
    )
    .unwrap();
    for b in &r.blocks {
        let v = &b.util;
        writeln!(
            s,
            "{:<38} {:>5} {:>7} {:>6} {:>6} {:>6} {:>4} {:>9} {:>5.1}%",
            b.block,
            b.instances,
            v.lut4,
            v.ccu2c,
            v.ff,
            v.bram,
            v.dsp,
            v.lut4 / b.instances.max(1),
            100.0 * lut4_eq(v) as f64 / total_eq as f64
        )
        .unwrap();
    }
    // The budget lines of DESIGN.md §4.1 against what was measured.
    let pes = r
        .blocks
        .iter()
        .find(|b| b.block == npe_fpga::accel::PE_REST)
        .map_or(0, |b| b.instances);
    writeln!(
        s,
        "\n{:<34} {:>9} {:>9} {:>6}",
        "budget line (DESIGN.md 4.1)", "LUT4-eq", "budget", "ratio"
    )
    .unwrap();
    let (mut got_all, mut budget_all) = (0, 0);
    for line in &BUDGET {
        let got: u64 = r
            .blocks
            .iter()
            .filter(|b| line.blocks.contains(&b.block.as_str()))
            .map(|b| lut4_eq(&b.util))
            .sum();
        let budget = if line.per_pe { line.lut4_eq * pes } else { line.lut4_eq };
        got_all += got;
        budget_all += budget;
        writeln!(
            s,
            "{:<34} {:>9} {:>9} {:>5.2}x",
            line.name,
            got,
            budget,
            got as f64 / budget.max(1) as f64
        )
        .unwrap();
    }
    writeln!(
        s,
        "{:<34} {:>9} {:>9} {:>5.2}x",
        "total",
        got_all,
        budget_all,
        got_all as f64 / budget_all.max(1) as f64
    )
    .unwrap();
    if let Some(t) = &r.timing {
        s.push_str(&census_table(t));
    }
    s
}

/// Families shown in a census table (the rest are summed on one line).
const CENSUS_ROWS: usize = 12;

/// The endpoint census of a routed top: how many register inputs miss the clock, by family.
pub fn census_table(t: &npe_fpga::timing::Census) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "\nregister endpoints failing {:.0} MHz (from nextpnr's routed delays): {} of {}",
        1e6 / t.period_ps,
        t.failing,
        t.endpoints
    )
    .unwrap();
    let failing: Vec<_> = t.families.iter().filter(|f| f.failing > 0).collect();
    if failing.is_empty() {
        return s;
    }
    writeln!(
        s,
        "{:>7} {:>7} {:>8}  {:<44} worst path starts at",
        "failing", "of", "worst ns", "register family"
    )
    .unwrap();
    for f in failing.iter().take(CENSUS_ROWS) {
        writeln!(
            s,
            "{:>7} {:>7} {:>8.2}  {:<44} {}",
            f.failing,
            f.endpoints,
            f.worst_ps / 1000.0,
            f.family,
            f.worst_start
        )
        .unwrap();
    }
    if failing.len() > CENSUS_ROWS {
        let rest: usize = failing[CENSUS_ROWS..].iter().map(|f| f.failing).sum();
        writeln!(s, "{rest:>7} in {} more families", failing.len() - CENSUS_ROWS).unwrap();
    }
    s
}

/// How `npe synth` measures whole accelerator tops, for its markdown report.
pub const ACCEL_METHOD: &str =
    "Whole accelerator tops (the presets of `NpeConfig::PRESETS`, Verilog from `npe_hdl::emit`) go
through `npe_fpga::synth_accel`: one `synth_ecp5` run on the top in its register wrapper, with the breakdown's blocks marked `keep_hierarchy` (each block is flattened
and optimised inside, not across its ports); `stat` per module times the instance counts gives
the table above, whose sum is the whole top. With `--pnr`, a second `synth_ecp5` run synthesizes
the top in its wrapper flat, optimised across the blocks' ports as a bitstream build is (the
\"placed netlist\" line); nextpnr-ecp5 places and routes that netlist (LFE5U-85F, CABGA381, 100 MHz
target; router, seed and floorplan as the command on the first line says), so its counts include
the wrapper's registers. The endpoint census is a static
timing analysis of the SDF nextpnr writes (its routed delays): every register input's slack, by
register family (instance numbers made `*`), and the register its worst path starts from; its
worst endpoint is nextpnr's critical path. LUT4-eq = LUT4 + 2 x CCU2C, the unit of the DESIGN.md 4.1 budget.
";

/// The line after which a markdown report's hand-written notes start; `npe synth --report`
/// keeps everything from this line on when it rewrites the file.
pub const NOTES_MARKER: &str = "<!-- Notes below this line are hand-written; `npe synth --report` keeps them. -->";

/// The hand-written notes of an existing report (from [`NOTES_MARKER`] on), if any.
pub fn kept_notes(old: &str) -> Option<&str> {
    old.find(NOTES_MARKER).map(|i| &old[i..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use npe_fpga::timing::{Census, FamilySlack};

    fn fam(family: &str, failing: usize, worst_ps: f64) -> FamilySlack {
        FamilySlack {
            family: family.into(),
            endpoints: 10 + failing,
            failing,
            worst_ps,
            worst_start: "start".into(),
        }
    }

    /// The census lists the failing families, most failing first, and sums the ones past its
    /// rows; passing families are left out.
    #[test]
    fn census_table_lists_failing_families() {
        let mut families: Vec<FamilySlack> = (0..CENSUS_ROWS + 2)
            .map(|i| fam(&format!("f{i}"), CENSUS_ROWS + 2 - i, -100.0 * i as f64))
            .collect();
        families.push(fam("ok", 0, 250.0));
        let t = Census {
            period_ps: 10_000.0,
            endpoints: 500,
            failing: families.iter().map(|f| f.failing).sum(),
            families,
        };
        let s = census_table(&t);
        assert!(
            s.contains("failing 100 MHz (from nextpnr's routed delays): 105 of 500"),
            "{s}"
        );
        assert!(s.contains("f0") && s.contains(&format!("f{}", CENSUS_ROWS - 1)), "{s}");
        assert!(!s.contains(&format!("f{} ", CENSUS_ROWS)) && !s.contains("ok"), "{s}");
        // The two families past the table: 2 + 1 endpoints.
        assert!(s.contains("      3 in 2 more families"), "{s}");
        assert!(s.contains("  -0.10  f1 "), "{s}");
    }
}
