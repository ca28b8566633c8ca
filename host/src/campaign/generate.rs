//! The campaign's random cases: job shapes and formats, memory timing, and their one-line
//! descriptions for the report.

use super::*;

/// MAC operand formats of `cfg`.
pub(super) fn operand_formats(cfg: &NpeConfig) -> Vec<Format> {
    cfg.format_set.iter().copied().filter(|f| f.is_mac_operand()).collect()
}

const PRIMES: [usize; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/// A dimension up to `max`: 1, a prime, or any value, a third of the time each.
fn dim(rng: &mut StdRng, max: usize) -> usize {
    match rng.gen_range(0..3) {
        0 => 1,
        1 => {
            let p: Vec<usize> = PRIMES.iter().copied().filter(|&p| p <= max).collect();
            p[rng.gen_range(0..p.len())]
        }
        _ => rng.gen_range(1..=max),
    }
}

/// A random job on `cfg` with dimensions up to `(m, n, k)`: random formats, output format,
/// output scale, and per-column scales a quarter of the time.
pub(super) fn gen_job(cfg: &NpeConfig, rng: &mut StdRng, (m, n, k): (usize, usize, usize)) -> GemmJob {
    let fmts = operand_formats(cfg);
    loop {
        let a = fmts[rng.gen_range(0..fmts.len())];
        let w = fmts[rng.gen_range(0..fmts.len())];
        let out = OutputFormat::ALL[rng.gen_range(0..OutputFormat::ALL.len())];
        let shape = (dim(rng, m), dim(rng, n), dim(rng, k));
        let mut job = random_job((a, w, out), shape, rng);
        if rng.gen_bool(0.3) {
            job.scale_exp = rng.gen_range(-6..=6);
        }
        if rng.gen_bool(0.25) {
            job.col_scale_exp = (0..job.n).map(|_| rng.gen_range(-4..=4)).collect();
        }
        if job.validate(cfg).is_ok() {
            return job;
        }
    }
}

/// Random memory timing: read and write latency each 0 (a quarter of the time) to 48 cycles,
/// each channel's withholding probability 0 (half the time) to 0.7, 1 to 8 read and write
/// bursts accepted ahead.
pub(super) fn gen_timing(rng: &mut StdRng, seed: u64) -> SimOptions {
    let mut latency = || if rng.gen_bool(0.25) { 0 } else { rng.gen_range(1..=48) };
    let (latency, write_latency) = (latency(), latency());
    let mut bp = [0.0; 5];
    for p in &mut bp {
        if rng.gen_bool(0.5) {
            *p = (rng.gen_range(0.0..0.7f64) * 100.0).round() / 100.0;
        }
    }
    SimOptions {
        mem_bytes: 1 << 20,
        latency,
        write_latency: Some(write_latency),
        max_bursts: Some((rng.gen_range(1..=8), rng.gen_range(1..=8))),
        channel_backpressure: Some(bp),
        seed,
        ..SimOptions::default()
    }
}

pub(super) fn describe_timing(o: &SimOptions) -> String {
    let bp = o.channel_backpressure.unwrap_or([o.backpressure; 5]);
    let (reads, writes) = o.max_bursts.unwrap_or((8, 8));
    format!(
        "latency R {} B {}, withheld AR/R/AW/W/B {:.2}/{:.2}/{:.2}/{:.2}/{:.2}, bursts ahead {reads}/{writes}",
        o.latency,
        o.write_latency.unwrap_or(o.latency),
        bp[0],
        bp[1],
        bp[2],
        bp[3],
        bp[4]
    )
}

pub(super) fn describe_job(j: &GemmJob) -> String {
    format!(
        "{}x{}x{} {} x {} -> {}{}{}",
        j.m,
        j.n,
        j.k,
        j.a_fmt,
        j.w_fmt,
        j.out,
        if j.scale_exp != 0 {
            format!(" scale 2^{}", j.scale_exp)
        } else {
            String::new()
        },
        if j.col_scale_exp.is_empty() { "" } else { " col-scales" }
    )
}
