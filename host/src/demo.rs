//! `npe demo`: the format table, then dot products multiplied and accumulated by the Verilated
//! PE, each checked bit for bit against the golden model.
//!
//! This grows into the GEMM demo once the array exists. The PE's exact accumulator is read back
//! and rounded once to FP32 by the golden model (the hardware output unit is not built yet).

use anyhow::{bail, Result};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::golden::{self, Format, OutputFormat};
use crate::report;
use crate::rtl::pe::{pack, Pe};
use npe_hdl::spec::{lanes, ACC_GUARD_BITS};

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
    let (lo, hi) = report::range(f);
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
    // The accumulator's guard bits make it exact for up to 2^ACC_GUARD_BITS products.
    let max_k = 1usize << ACC_GUARD_BITS;
    if k == 0 || k > max_k {
        bail!("--k must be between 1 and {max_k} (the exact accumulator's headroom)");
    }
    print!("{}", report::format_table());
    println!();
    let mut rng = StdRng::seed_from_u64(seed);
    let out = OutputFormat::Fp32;
    println!("dot products on the Verilated PE, K = {k} products each, seed {seed}, rounded once to {out}");
    println!(
        "  {:<22} {:>5} {:>7} {:>10} {:>15} {:>15} {:>15} {:>9}",
        "activation x weight", "lanes", "cycles", "MACs/cyc", "unquantized", "golden fp32", "PE fp32", "verdict"
    );
    let mut mismatches = 0usize;
    let mut pe = Pe::new();
    for (af, wf) in PAIRS {
        let n = lanes(af, wf) as usize;
        let a = sample_values(af, k, &mut rng);
        let w = sample_values(wf, k, &mut rng);
        let reference: f64 = a.iter().zip(&w).map(|(x, y)| x * y).sum();
        let qa: Vec<u32> = a.iter().map(|&x| golden::encode(af, x)).collect();
        let qw: Vec<u32> = w.iter().map(|&x| golden::encode(wf, x)).collect();
        let golden_code = golden::dot(af, &qa, wf, &qw, out)?;
        let start = pe.cycles();
        // Lane-packed beats; a short last beat is padded with zero codes.
        for (i, (ca, cw)) in qa.chunks(n).zip(qw.chunks(n)).enumerate() {
            let (mut ca, mut cw) = (ca.to_vec(), cw.to_vec());
            ca.resize(n, 0);
            cw.resize(n, 0);
            pe.beat(af, wf, pack(af, wf, &ca), pack(af, wf, &cw), true, i == 0);
        }
        pe.drain();
        let cycles = pe.cycles() - start;
        let exact = pe.state().exact();
        let hw_code = golden::round_to_output(out, &exact);
        let ok = exact == golden::exact_dot(af, &qa, wf, &qw)? && hw_code == golden_code;
        mismatches += usize::from(!ok);
        println!(
            "  {:<22} {:>5} {:>7} {:>10.3} {:>15.6e} {:>15.6e} {:>15.6e} {:>9}",
            format!("{af} x {wf}"),
            n,
            cycles,
            k as f64 / cycles as f64,
            reference,
            f32::from_bits(golden_code),
            f32::from_bits(hw_code),
            if ok { "match" } else { "MISMATCH" }
        );
    }
    println!();
    println!(
        "{} dot products, {mismatches} mismatches (exact accumulator compared with num-bigint, then the rounded result)",
        PAIRS.len()
    );
    println!(
        "cycles include the {}-cycle pipeline fill; MACs/cycle approaches the lane count as K grows",
        Pe::LATENCY
    );
    if mismatches > 0 {
        bail!("{mismatches} dot products differ between hardware and golden model");
    }
    Ok(())
}
