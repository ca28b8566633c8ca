//! Property tests (proptest) of what reads untrusted input or must be exact: the `.npy` and
//! `.safetensors` readers, the golden decoders and encoders, and the register name/value parser
//! of `npe regs`. They run in `cargo test` (a few hundred cases each) and in `npe campaign`
//! (`--fuzz-cases`, 10,000 by default), which reports the number of cases.
//!
//! Properties:
//! - readers: arbitrary bytes, and valid files with random bytes overwritten, cut short or
//!   extended, never panic, and every error names the file; valid files read back exactly.
//! - golden: every code of every format decodes; a finite decoded value encodes back to a code
//!   of the same value; encoding is idempotent on its own results and monotonic in its input.
//! - register parser: arbitrary items never panic; `NAME=VALUE` for every register, in any
//!   case, decimal or hex, parses back to that register and value; an unknown name or a bad
//!   value is an error naming the item.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use crate::golden::{self, Format};
use crate::tensor::{self, Matrix};

/// One property's run.
#[derive(Clone, Debug)]
pub struct PropertyRun {
    /// The property.
    pub name: &'static str,
    /// Cases run.
    pub cases: u32,
    /// Files the readers accepted (readers' properties only): how deep the cases reached.
    pub accepted: u64,
    /// The minimal failing input and why, if the property failed.
    pub failure: Option<String>,
}

fn runner(cases: u32, seed: u64) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// Files the readers accepted in the property running now.
static ACCEPTED: AtomicU64 = AtomicU64::new(0);

/// An error must name the file.
fn names(path: &Path, r: anyhow::Result<Matrix>) -> Result<Option<Matrix>, TestCaseError> {
    match r {
        Ok(m) => {
            ACCEPTED.fetch_add(1, Ordering::Relaxed);
            Ok(Some(m))
        }
        Err(e) => {
            let text = format!("{e}");
            prop_assert!(
                text.contains(&path.display().to_string()),
                "error does not name the file: {text}"
            );
            Ok(None)
        }
    }
}

/// A small matrix of values exact in f32.
fn matrix() -> impl Strategy<Value = Matrix> {
    (1usize..6, 1usize..6).prop_flat_map(|(rows, cols)| {
        vec(
            (-1_000_000i32..1_000_000).prop_map(|x| f64::from(x) / 64.0),
            rows * cols,
        )
        .prop_map(move |data| Matrix { rows, cols, data })
    })
}

/// A valid file of `kind` with `edits` (offset, byte) overwritten and then cut to `cut` bytes
/// (or extended with `cut - len` zero bytes).
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(at, b) in edits {
        if !bytes.is_empty() {
            let n = bytes.len();
            bytes[at % n] = b;
        }
    }
    bytes.resize(cut, 0);
    bytes
}

type Property = fn(u32, u64) -> Result<(), String>;

/// Every property, by name.
pub const PROPERTIES: &[(&str, Property)] = &[
    ("npy reader: arbitrary bytes", npy_arbitrary),
    ("npy reader: mutated valid files", npy_mutated),
    ("npy reader: generated headers", npy_headers),
    ("safetensors reader: arbitrary bytes", st_arbitrary),
    ("safetensors reader: mutated valid files", st_mutated),
    ("golden: decode every code, encode back", golden_round_trip),
    ("golden: encode idempotent and monotonic", golden_encode),
    ("register parser: arbitrary items", regs_arbitrary),
    ("register parser: NAME=VALUE round trip", regs_round_trip),
];

fn report<T: std::fmt::Debug>(r: Result<(), proptest::test_runner::TestError<T>>) -> Result<(), String> {
    r.map_err(|e| e.to_string())
}

fn npy_arbitrary(cases: u32, seed: u64) -> Result<(), String> {
    let path = Path::new("fuzz/case.npy");
    // Half the time the bytes start with the .npy magic, to get past the first check.
    let bytes = (any::<bool>(), vec(any::<u8>(), 0..600)).prop_map(|(magic, mut b)| {
        if magic {
            let mut m = b"\x93NUMPY\x01\x00".to_vec();
            m.append(&mut b);
            m
        } else {
            b
        }
    });
    report(runner(cases, seed).run(&bytes, |b| {
        names(path, tensor::parse_matrix(path, &b, None)).map(|_| ())
    }))
}

fn npy_mutated(cases: u32, seed: u64) -> Result<(), String> {
    let path = Path::new("fuzz/case.npy");
    let s = (
        matrix(),
        any::<bool>(),
        vec((any::<usize>(), any::<u8>()), 0..4),
        0usize..400,
    );
    report(runner(cases, seed).run(&s, |(m, wide, edits, cut)| {
        let good = tensor::npy_bytes(&m, wide).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = names(path, tensor::parse_matrix(path, &good, None))?;
        prop_assert_eq!(back.as_ref(), Some(&m), "a valid file must read back");
        let cut = if cut % 2 == 0 { good.len() } else { cut };
        names(path, tensor::parse_matrix(path, &mutate(good, &edits, cut), None))?;
        Ok(())
    }))
}

/// `.npy` files from a header grammar: any of many dtypes (some unsupported, some malformed),
/// either order, shapes of 0 to 3 dimensions with dimensions up to 2^40, and a data part of a
/// random length, right or not.
fn npy_headers(cases: u32, seed: u64) -> Result<(), String> {
    let path = Path::new("fuzz/case.npy");
    let descr = prop_oneof![
        Just("<f4"),
        Just("<f8"),
        Just(">f4"),
        Just("<i1"),
        Just("<i2"),
        Just("<i4"),
        Just("<i8"),
        Just("|u1"),
        Just("<u2"),
        Just("<u8"),
        Just("<f2"),
        Just("|b1"),
        Just("<c8"),
        Just("<U3"),
        Just("|O"),
        Just("<f"),
        Just("zz"),
    ];
    let dimension = prop_oneof![8 => 0u64..6, 1 => Just(1u64 << 31), 1 => Just(1u64 << 40)];
    let s = (
        descr,
        any::<bool>(),
        vec(dimension, 0..4),
        proptest::bool::weighted(0.8),
        0usize..200,
        any::<u8>(),
    );
    report(
        runner(cases, seed).run(&s, |(descr, fortran, shape, exact, extra, version)| {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let shape_text = match dims.len() {
                1 => format!("({},)", dims[0]),
                _ => format!("({})", dims.join(", ")),
            };
            let header = format!(
                "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_text}, }}",
                if fortran { "True" } else { "False" }
            );
            let mut bytes = b"\x93NUMPY".to_vec();
            let v1 = version % 3 != 0;
            let mut h = header.into_bytes();
            let pre = if v1 { 10 } else { 12 };
            while (pre + h.len() + 1) % 64 != 0 {
                h.push(b' ');
            }
            h.push(b'\n');
            if v1 {
                bytes.extend_from_slice(&[1, 0]);
                bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&[2, 0]);
                bytes.extend_from_slice(&(h.len() as u32).to_le_bytes());
            }
            bytes.extend_from_slice(&h);
            // The right data length when it is small, else a random one.
            let size: u64 = descr
                .trim_start_matches(['<', '>', '|'])
                .get(1..)
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let need = shape
                .iter()
                .try_fold(size, |n, &d| n.checked_mul(d))
                .filter(|&n| n < 4096);
            let len = match (exact, need) {
                (true, Some(n)) => n as usize,
                _ => extra,
            };
            bytes.resize(bytes.len() + len, 0x3f);
            names(path, tensor::parse_matrix(path, &bytes, None)).map(|_| ())
        }),
    )
}

fn st_arbitrary(cases: u32, seed: u64) -> Result<(), String> {
    let path = Path::new("fuzz/case.safetensors");
    // Half the time: a plausible header length and a JSON-ish header.
    let bytes = (any::<bool>(), vec(any::<u8>(), 0..400), "[ -~]{0,80}").prop_map(|(hdr, b, json)| {
        if hdr {
            let mut v = (json.len() as u64).to_le_bytes().to_vec();
            v.extend_from_slice(json.as_bytes());
            v.extend_from_slice(&b);
            v
        } else {
            b
        }
    });
    report(
        runner(cases, seed).run(&(bytes, proptest::option::of("[a-z]{1,3}")), |(b, name)| {
            names(path, tensor::parse_matrix(path, &b, name.as_deref())).map(|_| ())
        }),
    )
}

fn st_mutated(cases: u32, seed: u64) -> Result<(), String> {
    let path = Path::new("fuzz/case.safetensors");
    let s = (matrix(), vec((any::<usize>(), any::<u8>()), 0..4), 0usize..400);
    report(runner(cases, seed).run(&s, |(m, edits, cut)| {
        let good = tensor::safetensors_bytes(&[("x", &m)]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = names(path, tensor::parse_matrix(path, &good, Some("x")))?;
        prop_assert_eq!(back.as_ref(), Some(&m), "a valid file must read back");
        let cut = if cut % 2 == 0 { good.len() } else { cut };
        let bad = mutate(good, &edits, cut);
        names(path, tensor::parse_matrix(path, &bad, Some("x")))?;
        names(path, tensor::parse_matrix(path, &bad, None))?;
        Ok(())
    }))
}

fn format() -> impl Strategy<Value = Format> {
    (0..Format::ALL.len()).prop_map(|i| Format::ALL[i])
}

/// Two values are the same number (NaN equals NaN; +0 equals −0).
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn golden_round_trip(cases: u32, seed: u64) -> Result<(), String> {
    let s = (format(), any::<u32>());
    report(runner(cases, seed).run(&s, |(f, raw)| {
        let code = raw & ((1u32 << f.bits()) - 1);
        let u = golden::decode(f, code).map_err(|e| TestCaseError::fail(format!("{f} {code:#x}: {e}")))?;
        let x = golden::to_f64(f, code).map_err(|e| TestCaseError::fail(format!("{f} {code:#x}: {e}")))?;
        let _ = u;
        // A code wider than the format is refused.
        prop_assert!(
            golden::decode(f, raw | (1 << f.bits())).is_err(),
            "{f}: a wide code decoded"
        );
        if x.is_finite() {
            let back = golden::encode(f, x);
            let y = golden::to_f64(f, back).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(same(x, y), "{f} {code:#x} = {x} encodes to {back:#x} = {y}");
        }
        Ok(())
    }))
}

fn golden_encode(cases: u32, seed: u64) -> Result<(), String> {
    // Values spread over many binades, both signs, with exact small integers mixed in.
    let value = prop_oneof![
        (-200i32..200).prop_map(f64::from),
        (any::<bool>(), -40i32..40, 0.0f64..1.0).prop_map(|(neg, e, m)| {
            let v = (1.0 + m) * 2f64.powi(e);
            if neg {
                -v
            } else {
                v
            }
        }),
    ];
    let s = (format(), value.clone(), value);
    report(runner(cases, seed).run(&s, |(f, a, b)| {
        let (ca, cb) = (golden::encode(f, a), golden::encode(f, b));
        prop_assert!(
            ca >> f.bits() == 0,
            "{f}: encode({a}) = {ca:#x} is wider than the format"
        );
        let va = golden::to_f64(f, ca).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let vb = golden::to_f64(f, cb).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if va.is_finite() {
            let again = golden::encode(f, va);
            let v2 = golden::to_f64(f, again).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(same(va, v2), "{f}: encode({a}) = {va}, encode({va}) = {v2}");
        }
        if !va.is_nan() && !vb.is_nan() && a <= b {
            prop_assert!(va <= vb, "{f}: {a} <= {b} but encode gives {va} > {vb}");
        }
        Ok(())
    }))
}

fn regs_arbitrary(cases: u32, seed: u64) -> Result<(), String> {
    let item = prop_oneof![
        "\\PC{0,24}",
        "[A-Za-z_]{1,12}(=[0-9a-fxX_ +-]{0,12})?",
        "[A-Z_]{1,12}=0x[0-9a-fA-F]{0,10}",
    ];
    report(runner(cases, seed).run(&vec(item, 0..4), |items| {
        if let Err(e) = crate::cli::parse_reg_items(&items) {
            let text = e.to_string();
            prop_assert!(
                items.iter().any(|i| text.starts_with(&format!("{i}:"))),
                "error does not name an item: {text}"
            );
        }
        Ok(())
    }))
}

fn regs_round_trip(cases: u32, seed: u64) -> Result<(), String> {
    use npe_hdl::spec::regs::REGISTERS;
    let s = (0..REGISTERS.len(), any::<u32>(), 0u8..4, any::<bool>());
    report(runner(cases, seed).run(&s, |(i, v, style, lower)| {
        let r = &REGISTERS[i];
        let name = if lower {
            r.name.to_lowercase()
        } else {
            r.name.to_string()
        };
        let value = match style {
            0 => v.to_string(),
            1 => format!("{v:#x}"),
            2 => format!("0X{v:X}"),
            _ => format!(" {v} "),
        };
        let items = vec![format!("{name}={value}"), name.clone()];
        let parsed = crate::cli::parse_reg_items(&items).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.len(), 2);
        prop_assert_eq!((parsed[0].0.name, parsed[0].1), (r.name, Some(v)));
        prop_assert_eq!((parsed[1].0.name, parsed[1].1), (r.name, None));
        // One digit too many for 32 bits, and an unknown name, are errors naming the item.
        let wide = format!("{name}=0x1{v:08x}");
        let e = crate::cli::parse_reg_items(std::slice::from_ref(&wide)).unwrap_err();
        prop_assert!(e.to_string().starts_with(&wide), "{e}");
        let bad = format!("{name}X=1");
        let e = crate::cli::parse_reg_items(std::slice::from_ref(&bad)).unwrap_err();
        prop_assert!(e.to_string().starts_with(&bad), "{e}");
        Ok(())
    }))
}

/// Runs every property with `cases` cases, seeded by `seed`.
pub fn run_all(cases: u32, seed: u64) -> Vec<PropertyRun> {
    PROPERTIES
        .iter()
        .map(|&(name, f)| {
            ACCEPTED.store(0, Ordering::Relaxed);
            let failure = f(cases, seed).err();
            PropertyRun {
                name,
                cases,
                accepted: ACCEPTED.load(Ordering::Relaxed),
                failure,
            }
        })
        .collect()
}

/// The report's section on the property tests.
pub fn report_section(runs: &[PropertyRun]) -> String {
    let mut s = String::from("\n## 10. Property tests (proptest)\n\n");
    s.push_str(
        "`host/src/fuzz.rs`; the same properties run in `cargo test` with fewer cases. Passed = every case held \
         (no panic, errors name the file or the item, round trips exact). Files read = reads that \
         succeeded (for the readers; a mutated file's valid original counts too), how deep the cases got.\n\n\
         | property | cases | files read | result |\n|---|---:|---:|---|\n",
    );
    for r in runs {
        let result = match &r.failure {
            None => "passed".to_string(),
            Some(f) => format!("FAILED: {}", f.replace('|', "/").replace('\n', " ")),
        };
        let read = if r.name.contains("reader") {
            r.accepted.to_string()
        } else {
            "–".into()
        };
        s.push_str(&format!("| {} | {} | {read} | {result} |\n", r.name, r.cases));
    }
    let total: u64 = runs.iter().map(|r| u64::from(r.cases)).sum();
    s.push_str(&format!("\n{total} cases in all.\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property holds on 256 cases (the campaign runs 10,000), and the generated and
    /// mutated files get past the readers' first checks some of the time.
    #[test]
    fn properties_hold() {
        for r in run_all(256, 7) {
            assert!(r.failure.is_none(), "{}: {}", r.name, r.failure.unwrap());
            if r.name.contains("generated") || r.name.contains("mutated") {
                assert!(r.accepted > 0, "{}: no file read", r.name);
            }
        }
    }
}
