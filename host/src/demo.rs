//! `npe demo`: the format table, then dot products whose operands are decoded by the Verilated
//! hardware decoder, each checked against the golden model.
//!
//! This grows into the GEMM demo once the PE and the array exist; for now the hardware in the loop
//! is the format decoder, and the multiply-accumulate of its outputs is the golden model's exact one.

use anyhow::{bail, Result};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::golden::{self, Format, OutputFormat};
use crate::report;
use crate::rtl::Decoder;

/// Operand format pairs the demo runs (activation, weight).
const PAIRS: [(Format, Format); 8] = [
    (Format::Int8, Format::Int8),
    (Format::Int8, Format::Fp4E2M1),
    (Format::Fp4E2M1, Format::Fp4E2M1),
    (Format::Fp8E4M3, Format::Fp8E4M3),
    (Format::Fp8E5M2, Format::Fp6E3M2),
    (Format::Posit8Es0, Format::Posit4Es1),
    (Format::Posit16Es1, Format::Posit16Es1),
    (Format::Int16, Format::Int16),
];

/// Random real numbers spread over a format's dynamic range (log-uniform magnitude, random sign).
pub fn sample_values(f: Format, n: usize, rng: &mut impl Rng) -> Vec<f64> {
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
    let (l, h) = (lo.log2(), hi.log2());
    (0..n)
        .map(|_| {
            let mag = (l + rng.gen::<f64>() * (h - l)).exp2();
            if rng.gen() {
                mag
            } else {
                -mag
            }
        })
        .collect()
}

/// Runs the demo and prints its report; fails if any hardware result differs from the golden model.
pub fn run(k: usize, seed: u64) -> Result<()> {
    if k == 0 {
        bail!("--k must be at least 1");
    }
    print!("{}", report::format_table());
    println!();
    let mut hw = Decoder::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let out = OutputFormat::Fp32;
    println!("dot products, K = {k}, seed {seed}, output {out}: operands decoded by the Verilated format_decode");
    println!(
        "  {:<22} {:>16} {:>16} {:>16} {:>10}",
        "activation x weight", "unquantized f64", "golden fp32", "rtl-decoded fp32", "verdict"
    );
    let mut mismatches = 0usize;
    let mut decoded = 0usize;
    for (af, wf) in PAIRS {
        let a = sample_values(af, k, &mut rng);
        let w = sample_values(wf, k, &mut rng);
        let reference: f64 = a.iter().zip(&w).map(|(x, y)| x * y).sum();
        let qa: Vec<u32> = a.iter().map(|&x| golden::encode(af, x)).collect();
        let qw: Vec<u32> = w.iter().map(|&x| golden::encode(wf, x)).collect();
        let golden_code = golden::dot(af, &qa, wf, &qw, out)?;
        let mut products = Vec::with_capacity(k);
        let mut operand_mismatch = 0usize;
        for (&ca, &cw) in qa.iter().zip(&qw) {
            let (ua, uw) = (hw.decode(af, ca), hw.decode(wf, cw));
            operand_mismatch += usize::from(ua != golden::decode(af, ca)?) + usize::from(uw != golden::decode(wf, cw)?);
            products.push(golden::exact_product(ua, uw));
        }
        decoded += 2 * k;
        let hw_code = golden::round_to_output(out, &golden::exact_sum(&products));
        let ok = hw_code == golden_code && operand_mismatch == 0;
        mismatches += usize::from(!ok);
        println!(
            "  {:<22} {:>16.6e} {:>16.6e} {:>16.6e} {:>10}",
            format!("{af} x {wf}"),
            reference,
            f32::from_bits(golden_code),
            f32::from_bits(hw_code),
            if ok { "match" } else { "MISMATCH" }
        );
    }
    println!();
    println!(
        "{} operand codes decoded in hardware, {} dot products, {mismatches} mismatches",
        decoded,
        PAIRS.len()
    );
    if mismatches > 0 {
        bail!("{mismatches} dot products differ between hardware and golden model");
    }
    Ok(())
}
