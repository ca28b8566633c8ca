//! The golden model (npe-host) against the independent reference vectors in `tests/vectors/`.
//!
//! Every test walks its whole vector set, counts mismatches per format and prints a report
//! (`cargo test -p npe-tests --test golden_reference -- --nocapture` shows it on success too);
//! it fails at the end if any check failed, naming the first few failures of each format.

use std::collections::HashMap;
use std::thread;

use npe_host::golden::{
    decode, encode, exact_product, round_to_output, to_f64, unified_to_exact, Encoding, Exact, FloatSpecials, Format,
    OutputFormat, Unified,
};
use npe_tests::{finish, load_decode, load_encode, load_output, RefValue, Tally};
use num_bigint::BigInt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The golden model's exact value in the reference's normal form.
fn from_exact(e: &Exact) -> RefValue {
    match e {
        Exact::NaN => RefValue::NaN,
        Exact::Inf { negative } => RefValue::Inf { negative: *negative },
        Exact::Finite { mant, exp } => RefValue::finite(mant.clone(), *exp),
    }
}

/// The value the unified fields spell, read directly (without `unified_to_exact`).
fn from_unified(u: &Unified) -> RefValue {
    if u.nar {
        RefValue::NaN
    } else if u.inf {
        RefValue::Inf { negative: u.sign }
    } else if u.zero {
        RefValue::zero()
    } else {
        let m = BigInt::from(u.mant);
        RefValue::finite(if u.sign { -m } else { m }, u.exp as i64)
    }
}

fn exact_of_f64(x: f64) -> Exact {
    match RefValue::from_f64(x) {
        RefValue::NaN => Exact::NaN,
        RefValue::Inf { negative } => Exact::Inf { negative },
        RefValue::Finite { mant, exp } => Exact::Finite { mant, exp },
    }
}

fn show_f64(bits: u64) -> String {
    format!("{bits:016x} ({:e})", f64::from_bits(bits))
}

/// `decode_<fmt>.txt` as a code-indexed table, checked to be exhaustive and in code order.
fn reference_table(fmt: Format) -> Vec<RefValue> {
    let refs = load_decode(fmt.name());
    assert_eq!(
        refs.len() as u32,
        fmt.code_count(),
        "decode_{}.txt has {} lines, {} has {} codes",
        fmt.name(),
        refs.len(),
        fmt.name(),
        fmt.code_count()
    );
    refs.into_iter()
        .enumerate()
        .map(|(i, (code, v))| {
            assert_eq!(
                code as usize,
                i,
                "decode_{}.txt: codes out of order at code {code:#x}",
                fmt.name()
            );
            v
        })
        .collect()
}

/// Describes a code of `fmt` with its reference value, for messages.
fn show_code(table: &[RefValue], code: u32) -> String {
    match table.get(code as usize) {
        Some(v) => format!("{code:#x} = {v}"),
        None => format!("{code:#x} (out of range)"),
    }
}

#[test]
fn decode_matches_reference_for_every_code() {
    let mut tallies = Vec::new();
    for fmt in Format::ALL {
        let table = reference_table(fmt);
        let mut t = Tally::new(format!("decode {fmt}"));
        for (code, want) in table.iter().enumerate() {
            let code = code as u32;
            match decode(fmt, code) {
                Err(e) => t.fail_checked(format!("{fmt} code {code:#x}: expected {want}, decode failed: {e}")),
                Ok(u) => {
                    let fields = from_unified(&u);
                    t.check(fields == *want, || {
                        format!("{fmt} code {code:#x}: expected {want}, unified fields {u:?} = {fields}")
                    });
                    let flags_ok = u.nar == want.is_nan()
                        && u.inf == matches!(want, RefValue::Inf { .. })
                        && u.zero == want.is_zero();
                    t.check(flags_ok, || {
                        format!("{fmt} code {code:#x}: expected {want}, flags zero/nar/inf wrong in {u:?}")
                    });
                    let exact = from_exact(&unified_to_exact(u));
                    t.check(exact == *want, || {
                        format!("{fmt} code {code:#x}: expected {want}, unified_to_exact gives {exact}")
                    });
                }
            }
            match to_f64(fmt, code) {
                Err(e) => t.fail_checked(format!("{fmt} code {code:#x}: expected {want}, to_f64 failed: {e}")),
                Ok(x) => {
                    let got = RefValue::from_f64(x);
                    t.check(got == *want, || {
                        format!("{fmt} code {code:#x}: expected {want}, to_f64 gives {x:e}")
                    });
                }
            }
        }
        let beyond = fmt.code_count();
        t.check(decode(fmt, beyond).is_err(), || {
            format!("{fmt}: decode of out-of-range code {beyond:#x} should be an error")
        });
        println!("decode {fmt}: {} codes checked against decode_{fmt}.txt", table.len());
        tallies.push(t);
    }
    finish("decode", &tallies);
}

/// The canonical unified form documented on `npe_hdl::spec::Encoding` (the hardware decoders
/// must produce it bit for bit, so the golden model must too).
#[test]
fn decode_gives_the_canonical_unified_form() {
    let mut tallies = Vec::new();
    for fmt in Format::ALL.into_iter().chain(Format::BITMOD) {
        let spec = fmt.spec();
        let mut t = Tally::new(format!("canonical {fmt}"));
        for code in 0..fmt.code_count() {
            let Ok(u) = decode(fmt, code) else {
                t.fail_checked(format!("{fmt} code {code:#x}: decode failed"));
                continue;
            };
            let special = u.zero || u.nar || u.inf;
            let ok = if u.zero || u.nar {
                u.exp == 0 && u.mant == 0 && !u.sign && (u.zero as u8 + u.nar as u8 + u.inf as u8) == 1
            } else if u.inf {
                u.exp == 0 && u.mant == 0
            } else {
                let m = u.mant as u32;
                match spec.encoding {
                    Encoding::Int => u.exp == 0 && m != 0,
                    Encoding::PowerOfTwo { bias } => m == 1 && u.exp as i32 == code as i32 - bias,
                    Encoding::Float { man_bits, bias, .. } => {
                        let sub_exp = 1 - bias - man_bits as i32;
                        if m >= 1 << man_bits {
                            m < 1 << (man_bits + 1)
                        } else {
                            m != 0 && u.exp as i32 == sub_exp
                        }
                    }
                    Encoding::Posit { .. } => {
                        let f = spec.encoding.max_frac_bits(spec.bits);
                        m >> f == 1
                    }
                    // Format::ALL has no pair format (their decode is tested in npe-host).
                    Encoding::Ovp { .. } => unreachable!("{fmt} is a pair format"),
                    // The −0 code's special with its odd mantissa; the grid as E2M1 (bias 1) or
                    // E2M0 (bias 2).
                    Encoding::Bitmod { .. } if code == 1 << (spec.bits - 1) => m % 2 == 1,
                    Encoding::Bitmod { .. } if spec.bits == 4 => (m == 2 || m == 3) || (m == 1 && u.exp == -1),
                    Encoding::Bitmod { .. } => m == 1,
                }
            };
            t.check(ok, || {
                format!(
                    "{fmt} code {code:#x}: not canonical ({}): {u:?}",
                    if special { "special" } else { "finite" }
                )
            });
        }
        tallies.push(t);
    }
    finish("canonical unified form", &tallies);
}

#[test]
fn encode_matches_reference() {
    let mut tallies = Vec::new();
    for fmt in Format::ALL {
        let table = reference_table(fmt);
        let vectors = load_encode(fmt.name());
        let mut t = Tally::new(format!("encode {fmt}"));
        for &(bits, want) in &vectors {
            let got = encode(fmt, f64::from_bits(bits));
            t.check(got == want, || {
                format!(
                    "{fmt} input {}: expected {}, got {}",
                    show_f64(bits),
                    show_code(&table, want),
                    show_code(&table, got)
                )
            });
        }
        println!("encode {fmt}: {} vectors from encode_{fmt}.txt", vectors.len());
        tallies.push(t);
    }
    finish("encode", &tallies);
}

/// True when `code` is a NaN (NaR) of the output format.
fn is_output_nan(out: OutputFormat, code: u32) -> bool {
    let spec = out.spec();
    match spec.encoding {
        Encoding::Float {
            exp_bits,
            man_bits,
            specials: FloatSpecials::Ieee,
            ..
        } => (code >> man_bits) & ((1 << exp_bits) - 1) == (1 << exp_bits) - 1 && code & ((1 << man_bits) - 1) != 0,
        Encoding::Posit { .. } => code == 1 << (spec.bits - 1),
        _ => false,
    }
}

/// Output rounding of exact values (from the `f64` inputs of `output_<fmt>.txt`).
///
/// Two rules of the file format (tests/vectors/README.md): an expected NaN code accepts any NaN
/// code of the format, and for the input −0.0 either zero code is accepted (`Exact` has one zero).
#[test]
fn output_rounding_matches_reference() {
    let mut tallies = Vec::new();
    for out in OutputFormat::ALL {
        let name = out.name();
        let vectors = load_output(name);
        let sign_bit = 1u32 << (out.spec().bits - 1);
        let mut t = Tally::new(format!("round_to_output {name}"));
        for &(bits, want) in &vectors {
            let x = f64::from_bits(bits);
            let got = round_to_output(out, &exact_of_f64(x));
            let ok = if is_output_nan(out, want) {
                is_output_nan(out, got)
            } else if x == 0.0 && x.is_sign_negative() {
                got == want || got == 0 || got == sign_bit
            } else {
                got == want
            };
            t.check(ok, || {
                format!("{name} input {}: expected {want:#x}, got {got:#x}", show_f64(bits))
            });
        }
        println!(
            "round_to_output {name}: {} vectors from output_{name}.txt",
            vectors.len()
        );
        tallies.push(t);
    }
    finish("output rounding", &tallies);
}

/// One format's reference values and golden decodes, side by side.
struct Operands {
    fmt: Format,
    refs: Vec<RefValue>,
    decoded: Vec<Option<Unified>>,
}

impl Operands {
    fn new(fmt: Format) -> Operands {
        Operands {
            fmt,
            refs: reference_table(fmt),
            decoded: (0..fmt.code_count()).map(|c| decode(fmt, c).ok()).collect(),
        }
    }
}

/// Checks `exact_product(decode(a), decode(b))` against the product of the reference values.
fn check_product(t: &mut Tally, fa: &Operands, a: u32, fb: &Operands, b: u32) {
    let want = fa.refs[a as usize].mul(&fb.refs[b as usize]);
    let (Some(ua), Some(ub)) = (fa.decoded[a as usize], fb.decoded[b as usize]) else {
        t.fail_checked(format!("{} {a:#x} × {} {b:#x}: decode failed", fa.fmt, fb.fmt));
        return;
    };
    let got = from_exact(&exact_product(ua, ub));
    t.check(got == want, || {
        format!(
            "{} {} × {} {}: expected {want}, got {got}",
            fa.fmt,
            show_code(&fa.refs, a),
            fb.fmt,
            show_code(&fb.refs, b)
        )
    });
}

/// Every code pair of every ordered pair of formats of at most 8 bits (≈ 2.1 M products).
#[test]
fn exact_products_match_reference_for_all_small_format_pairs() {
    let small: Vec<Operands> = Format::ALL
        .into_iter()
        .filter(|f| f.bits() <= 8)
        .map(Operands::new)
        .collect();
    let pairs: Vec<(usize, usize)> = (0..small.len())
        .flat_map(|i| (0..small.len()).map(move |j| (i, j)))
        .collect();
    let workers = thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    let mut results: Vec<(usize, usize, Tally)> = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (small, pairs) = (&small, &pairs);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for &(i, j) in pairs.iter().skip(w).step_by(workers) {
                        let (fa, fb) = (&small[i], &small[j]);
                        let mut t = Tally::new(format!("product {} × {}", fa.fmt, fb.fmt));
                        for a in 0..fa.fmt.code_count() {
                            for b in 0..fb.fmt.code_count() {
                                check_product(&mut t, fa, a, fb, b);
                            }
                        }
                        out.push((i, j, t));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    results.sort_by_key(|&(i, j, _)| (i, j));
    // One tally per left-hand format keeps the report short; failing pairs are named inside.
    let mut per_left: HashMap<usize, Tally> = HashMap::new();
    for (i, _, t) in results {
        let entry = per_left
            .entry(i)
            .or_insert_with(|| Tally::new(format!("products {} × (all ≤ 8-bit formats)", small[i].fmt)));
        if t.mismatches > 0 {
            println!("{}", t.report());
        }
        entry.absorb(t);
    }
    let mut tallies: Vec<(usize, Tally)> = per_left.into_iter().collect();
    tallies.sort_by_key(|(i, _)| *i);
    let tallies: Vec<Tally> = tallies.into_iter().map(|(_, t)| t).collect();
    finish("exact products (exhaustive, ≤ 8-bit pairs)", &tallies);
}

/// int16 and posit16 against every format, on random code pairs plus all specials and extremes.
#[test]
fn exact_products_match_reference_for_16_bit_formats_sampled() {
    let all: Vec<Operands> = Format::ALL.into_iter().map(Operands::new).collect();
    let mut rng = StdRng::seed_from_u64(0x6e70_655f_7631);
    let mut tallies = Vec::new();
    for wide in all.iter().filter(|o| o.fmt.bits() == 16) {
        let n = wide.fmt.code_count();
        // Codes of interest: zero, NaR/most negative, ±1, extremes.
        let edges = [0, 1, 2, n / 2 - 2, n / 2 - 1, n / 2, n / 2 + 1, n - 2, n - 1];
        for other in &all {
            let m = other.fmt.code_count();
            let mut t = Tally::new(format!("product {} × {} (sampled)", wide.fmt, other.fmt));
            for &a in &edges {
                for b in 0..m.min(256) {
                    check_product(&mut t, wide, a, other, b);
                    check_product(&mut t, other, b, wide, a);
                }
            }
            for _ in 0..20_000 {
                let (a, b) = (rng.gen_range(0..n), rng.gen_range(0..m));
                check_product(&mut t, wide, a, other, b);
            }
            tallies.push(t);
        }
    }
    finish("exact products (sampled, 16-bit formats)", &tallies);
}
