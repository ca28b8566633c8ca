//! The Verilated PE against the golden model: every code pair of every ≤ 8-bit format pair,
//! random 16-bit pairs, long accumulations with specials, and MACs per cycle.

use npe_hdl::spec::config::LE8_FORMATS;
use npe_hdl::spec::{lanes, Format};
use npe_host::golden::{exact_dot, Exact};
use npe_host::rtl::pe::{pack, Pe};

use rand::{rngs::StdRng, Rng, SeedableRng};

/// `pack` for the lane counts these tests always give right.
fn packed(a: Format, w: Format, codes: &[u32]) -> u16 {
    pack(a, w, codes).expect("one code per lane")
}

/// Multiplier operand formats (E8M0 is a scale).
fn mac_formats() -> Vec<Format> {
    Format::ALL.into_iter().filter(|f| f.is_mac_operand()).collect()
}

/// One beat's lane codes, for checking.
struct Beat {
    a: Vec<u32>,
    w: Vec<u32>,
}

/// Streams beats through the PE with `clear` on each, so the accumulator holds exactly one beat's
/// sum `LATENCY` ticks later; compares each with the golden exact dot product of its lanes.
/// Returns (beats, mismatches, first messages).
fn stream(pe: &mut Pe, af: Format, wf: Format, beats: &[Beat], first: &mut Vec<String>) -> usize {
    let mut mismatches = 0;
    let check = |pe: &Pe, b: &Beat, first: &mut Vec<String>| -> usize {
        let want = exact_dot(af, &b.a, wf, &b.w).unwrap();
        let got = pe.state().exact();
        if got != want {
            if first.len() < 20 {
                first.push(format!(
                    "{af} x {wf} a={:x?} w={:x?}: golden {want:?}, pe {got:?}",
                    b.a, b.w
                ));
            }
            1
        } else {
            0
        }
    };
    // Beat t's sum is in the accumulator after tick t + LATENCY - 1 (ticks count from 0).
    let lat = pe.latency();
    for t in 0..beats.len() + lat - 1 {
        match beats.get(t) {
            Some(b) => pe.beat(af, wf, packed(af, wf, &b.a), packed(af, wf, &b.w), true, true),
            None => pe.idle(),
        }
        if t + 1 >= lat {
            mismatches += check(pe, &beats[t + 1 - lat], first);
        }
    }
    mismatches
}

/// Every code pair of every pair of `formats`, lanes full, each beat checked alone; returns
/// (code pairs, mismatches, first messages).
fn every_code_pair(pe: &mut Pe, formats: &[Format]) -> (usize, usize, Vec<String>) {
    let (mut pairs, mut mismatches) = (0usize, 0usize);
    let mut first = Vec::new();
    for &af in formats {
        for &wf in formats {
            let n = lanes(af, wf) as usize;
            // All code pairs in order, n per beat.
            let all: Vec<(u32, u32)> = (0..af.code_count())
                .flat_map(|a| (0..wf.code_count()).map(move |w| (a, w)))
                .collect();
            let beats: Vec<Beat> = all
                .chunks(n)
                .map(|c| {
                    let mut b = Beat {
                        a: c.iter().map(|p| p.0).collect(),
                        w: c.iter().map(|p| p.1).collect(),
                    };
                    // A short last beat is padded with zero codes (0 is zero in every format).
                    b.a.resize(n, 0);
                    b.w.resize(n, 0);
                    b
                })
                .collect();
            pairs += all.len();
            mismatches += stream(pe, af, wf, &beats, &mut first);
        }
    }
    eprintln!(
        "{pairs} code pairs over {} format pairs, {mismatches} mismatches",
        formats.len() * formats.len()
    );
    (pairs, mismatches, first)
}

#[test]
fn every_code_pair_of_every_narrow_format_pair() {
    let narrow: Vec<Format> = mac_formats().into_iter().filter(|f| f.bits() <= 8).collect();
    let (pairs, mismatches, first) = every_code_pair(&mut Pe::new(), &narrow);
    assert_eq!(mismatches, 0, "{}", first.join("\n"));
    assert!(pairs > 1_400_000);
}

/// The fixed-point PE of the ≤ 8-bit set: every code pair of every pair of its formats.
#[test]
fn fixed_point_pe_every_code_pair_of_its_set() {
    let (pairs, mismatches, first) = every_code_pair(&mut Pe::fixed8(), &LE8_FORMATS);
    assert_eq!(mismatches, 0, "{}", first.join("\n"));
    // 8-bit formats: INT8, E4M3, posit8 (256 codes), FP6 ×2 (64), 4-bit ×2 (16), INT2 (4).
    let codes: usize = LE8_FORMATS.iter().map(|f| f.code_count() as usize).sum();
    assert_eq!(pairs, codes * codes);
}

/// The fixed-point PE: long random accumulations of its formats (cancellation, NaNs, clear)
/// against the golden dot product, and formats outside its set raise NaN and add nothing.
#[test]
fn fixed_point_pe_long_accumulations_and_foreign_formats() {
    let mut pe = Pe::fixed8();
    long_accumulations(&mut pe, &LE8_FORMATS, 40, 8);
    for foreign in [Format::Int16, Format::Fp8E5M2, Format::Posit4Es1, Format::E8M0] {
        pe.beat(Format::Int8, Format::Int8, 3, 5, true, true);
        pe.beat(foreign, Format::Int8, 0x11, 1, true, false);
        pe.drain();
        let s = pe.state();
        assert!(s.nan, "{foreign}");
        assert_eq!(
            s.acc,
            num_bigint::BigInt::from(15) << (-pe.accumulator().lsb) as usize,
            "{foreign}"
        );
    }
}

/// Random beats of random 16-bit-and-mixed format pairs: `n` in the normal run, more with
/// `NPE_PE_RANDOM=10000000`.
#[test]
fn random_sixteen_bit_pairs() {
    let n: usize = std::env::var("NPE_PE_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let wide = [Format::Int16, Format::Posit16Es1];
    let all = mac_formats();
    let mut rng = StdRng::seed_from_u64(16);
    let mut pe = Pe::new();
    let mut first = Vec::new();
    let (mut done, mut mismatches) = (0, 0);
    while done < n {
        let af = if rng.gen() {
            wide[rng.gen_range(0..2)]
        } else {
            all[rng.gen_range(0..all.len())]
        };
        let wf = if af.bits() == 16 {
            all[rng.gen_range(0..all.len())]
        } else {
            wide[rng.gen_range(0..2)]
        };
        let beats: Vec<Beat> = (0..4096)
            .map(|_| Beat {
                a: vec![rng.gen_range(0..af.code_count())],
                w: vec![rng.gen_range(0..wf.code_count())],
            })
            .collect();
        done += beats.len();
        mismatches += stream(&mut pe, af, wf, &beats, &mut first);
    }
    eprintln!("{done} random 16-bit products, {mismatches} mismatches");
    assert_eq!(mismatches, 0, "{}", first.join("\n"));
}

#[test]
fn long_accumulations_with_cancellation_specials_and_clear() {
    let checked = long_accumulations(&mut Pe::new(), &mac_formats(), 60, 5);
    eprintln!("{checked} accumulations checked");
}

/// `rounds` dot products of random pairs of `formats`, K up to 3000, each checked against the
/// golden model after its last beat: every other round cancels (a beat repeats the previous
/// one's activations negated), one round in three keeps NaN/Inf codes; after each, a clear
/// without a beat must empty the accumulator. Returns the rounds checked.
fn long_accumulations(pe: &mut Pe, all: &[Format], rounds: usize, seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut checked = 0;
    for round in 0..rounds {
        let af = all[rng.gen_range(0..all.len())];
        let wf = all[rng.gen_range(0..all.len())];
        let n = lanes(af, wf) as usize;
        let k = rng.gen_range(1..3000);
        let (mut a, mut w) = (Vec::new(), Vec::new());
        for i in 0..k {
            let mut ca: Vec<u32> = (0..n).map(|_| rng.gen_range(0..af.code_count())).collect();
            let cw: Vec<u32> = (0..n).map(|_| rng.gen_range(0..wf.code_count())).collect();
            // Cancellation: every other beat repeats the previous one's activations negated
            // (two's complement codes negate exactly for ints and posits).
            if round % 2 == 0 && i % 2 == 1 && !af.spec().name.starts_with("fp") {
                ca = a[a.len() - n..]
                    .iter()
                    .map(|&c: &u32| (c.wrapping_neg()) & (af.code_count() - 1))
                    .collect();
            }
            // Specials are rare unless the round asks for them.
            if round % 3 != 0 {
                ca = ca.into_iter().map(|c| if is_special(af, c) { 0 } else { c }).collect();
            }
            let cw: Vec<u32> = cw
                .into_iter()
                .map(|c| if round % 3 != 0 && is_special(wf, c) { 0 } else { c })
                .collect();
            pe.beat(af, wf, packed(af, wf, &ca), packed(af, wf, &cw), true, i == 0);
            a.extend(ca);
            w.extend(cw);
        }
        pe.drain();
        let want = exact_dot(af, &a, wf, &w).unwrap();
        assert_eq!(pe.state().exact(), want, "round {round}: {af} x {wf}, K = {k}");
        checked += 1;
        // A clear without a beat empties the accumulator and the flags.
        pe.beat(af, wf, 0, 0, false, true);
        pe.drain();
        assert_eq!(pe.state().exact(), Exact::zero(), "clear");
    }
    checked
}

fn is_special(f: Format, code: u32) -> bool {
    let u = npe_host::golden::decode(f, code).unwrap();
    u.nar || u.inf
}

#[test]
fn non_multiplier_formats_raise_nan_and_add_nothing() {
    let mut pe = Pe::new();
    pe.beat(Format::Int8, Format::Int8, 3, 5, true, true);
    pe.beat(Format::E8M0, Format::Int8, 0x7F, 1, true, false);
    pe.beat_ids(Format::Int8.id(), 15, 1, 1, true, false);
    pe.drain();
    let s = pe.state();
    assert!(s.nan);
    // Only the int8 beat counted: lane 0 is 3 × 5, lane 1 is 0 × 0 (value 15 = 15 × 2^0).
    assert_eq!(s.acc, num_bigint::BigInt::from(15) << (-npe_hdl::pe::ACC.lsb) as usize);
}

#[test]
fn macs_per_cycle_follow_the_lane_count() {
    let mut rng = StdRng::seed_from_u64(9);
    for (af, wf) in [
        (Format::Fp4E2M1, Format::Fp4E2M1),
        (Format::Int4, Format::Posit4Es1),
        (Format::Int8, Format::Fp4E2M1),
        (Format::Fp8E4M3, Format::Fp8E4M3),
        (Format::Int16, Format::Int16),
        (Format::Posit16Es1, Format::Int8),
    ] {
        let n = lanes(af, wf) as usize;
        let k = 1000;
        let mut pe = Pe::new();
        let start = pe.cycles();
        let (mut a, mut w) = (Vec::new(), Vec::new());
        for i in 0..k {
            let ca: Vec<u32> = (0..n)
                .map(|_| rng.gen_range(0..af.code_count()))
                .filter(|&c| !is_special(af, c))
                .collect();
            let cw: Vec<u32> = (0..n)
                .map(|_| rng.gen_range(0..wf.code_count()))
                .filter(|&c| !is_special(wf, c))
                .collect();
            let (mut ca, mut cw) = (ca, cw);
            ca.resize(n, 0);
            cw.resize(n, 0);
            pe.beat(af, wf, packed(af, wf, &ca), packed(af, wf, &cw), true, i == 0);
            a.extend(ca);
            w.extend(cw);
        }
        pe.drain();
        let cycles = (pe.cycles() - start) as f64;
        let macs = (k * n) as f64;
        assert_eq!(pe.state().exact(), exact_dot(af, &a, wf, &w).unwrap(), "{af} x {wf}");
        let rate = macs / cycles;
        eprintln!("{af} x {wf}: {n} lanes, {macs} MACs in {cycles} cycles = {rate:.3} MACs/cycle");
        // One beat per cycle; only the pipeline fill is not overlapped.
        assert!(rate >= n as f64 * k as f64 / (k + pe.latency()) as f64 - 1e-9, "{rate}");
    }
}
