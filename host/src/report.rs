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

fn encoding(e: Encoding) -> String {
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
    }
}

/// Smallest and largest positive finite values of an operand format (read off its codes);
/// the table and the demo's operand sampler both use it.
pub fn range(f: Format) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = 0f64;
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

/// The operand format table.
pub fn format_table() -> String {
    let mut s = String::new();
    writeln!(s, "operand formats").unwrap();
    writeln!(
        s,
        "  {:<9} {:>2} {:>4}  {:<32} {:>12} {:>12}  overflow",
        "name", "id", "bits", "encoding", "min > 0", "max"
    )
    .unwrap();
    for f in Format::ALL {
        let spec = f.spec();
        let (lo, hi) = range(f);
        writeln!(
            s,
            "  {:<9} {:>2} {:>4}  {:<32} {:>12.6e} {:>12.6e}  {:?}",
            spec.name,
            spec.id,
            spec.bits,
            encoding(spec.encoding),
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
    let mut s = String::new();
    writeln!(s, "output formats (exact accumulator rounded once, to nearest even)").unwrap();
    for f in OutputFormat::ALL {
        let spec = f.spec();
        writeln!(
            s,
            "  {:<9} {:>2} {:>4}  {:<32} {:?}",
            spec.name,
            spec.id,
            spec.bits,
            encoding(spec.encoding),
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
as in `shared/research/area-anchors.md`. `pe` is the shared PE: every operand format, 4/2/1 lanes,
an exact accumulator as wide as the formats need, no DSP. `mac16` is a plain INT16 MAC (48-bit
accumulator), which Yosys maps to one MULT18X18D. `pe_int8`, `pe_fp4` and `pe_posit16` are the
shared PE's code (`GenericPe`) built for one operand format each: decoders, lanes, alignment windows
and accumulator shrink to that format, and Yosys removes the rest.
";
