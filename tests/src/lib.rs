//! Shared helpers for npe's cross-crate tests.
//!
//! [`load_decode`], [`load_encode`] and [`load_output`] read the independent reference vectors in
//! `tests/vectors/` (written by `tests/vectors/gen_vectors.py`; the file format is described in
//! `tests/vectors/README.md`). [`RefValue`] is the exact value type they hold, with just enough
//! rational arithmetic (product, normalisation, conversion from `f64`) for the tests to compute
//! expected results without going through the golden model.

use std::fmt;
use std::path::{Path, PathBuf};

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

/// An exact reference value: NaN (or a posit NaR), a signed infinity, or `mant × 2^exp`.
///
/// There is one zero (no sign). Values built by this module are normalised: `mant` odd, or
/// `mant == 0` with `exp == 0`; [`RefValue::normalized`] brings any value to that form, so two
/// normalised values are equal exactly when `==` says so.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefValue {
    /// NaN / NaR.
    NaN,
    /// ±Infinity.
    Inf {
        /// `true` for −∞.
        negative: bool,
    },
    /// `mant × 2^exp`.
    Finite {
        /// Signed integer significand.
        mant: BigInt,
        /// Power-of-two exponent of `mant`'s LSB.
        exp: i64,
    },
}

impl RefValue {
    /// `mant × 2^exp`, normalised.
    pub fn finite(mant: impl Into<BigInt>, exp: i64) -> RefValue {
        normalize(mant.into(), exp)
    }

    /// The zero.
    pub fn zero() -> RefValue {
        RefValue::Finite {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    /// The same value in normal form (odd mantissa, or `0 × 2^0`).
    pub fn normalized(&self) -> RefValue {
        match self {
            RefValue::Finite { mant, exp } => normalize(mant.clone(), *exp),
            other => other.clone(),
        }
    }

    /// True for NaN.
    pub fn is_nan(&self) -> bool {
        matches!(self, RefValue::NaN)
    }

    /// True for a finite zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, RefValue::Finite { mant, .. } if mant.is_zero())
    }

    /// True for a value below zero (finite or −∞).
    pub fn is_negative(&self) -> bool {
        match self {
            RefValue::NaN => false,
            RefValue::Inf { negative } => *negative,
            RefValue::Finite { mant, .. } => mant.is_negative(),
        }
    }

    /// The exact product, with IEEE rules for the specials: NaN if either factor is NaN or for
    /// ∞ × 0, ±∞ (sign = xor of the signs) for ∞ × nonzero. The result is normalised.
    pub fn mul(&self, other: &RefValue) -> RefValue {
        match (self, other) {
            (RefValue::NaN, _) | (_, RefValue::NaN) => RefValue::NaN,
            (RefValue::Inf { .. }, v) | (v, RefValue::Inf { .. }) if v.is_zero() => RefValue::NaN,
            (RefValue::Inf { .. }, _) | (_, RefValue::Inf { .. }) => RefValue::Inf {
                negative: self.is_negative() != other.is_negative(),
            },
            (RefValue::Finite { mant: ma, exp: ea }, RefValue::Finite { mant: mb, exp: eb }) => {
                normalize(ma * mb, ea + eb)
            }
        }
    }

    /// The exact value of an `f64` (both zeros give the one zero).
    pub fn from_f64(x: f64) -> RefValue {
        if x.is_nan() {
            return RefValue::NaN;
        }
        if x.is_infinite() {
            return RefValue::Inf { negative: x < 0.0 };
        }
        let bits = x.to_bits();
        let negative = bits >> 63 == 1;
        let e = ((bits >> 52) & 0x7ff) as i64;
        let f = bits & ((1u64 << 52) - 1);
        let (m, exp) = if e == 0 {
            (f, -1074)
        } else {
            (f | (1u64 << 52), e - 1075)
        };
        let m = BigInt::from(m);
        normalize(if negative { -m } else { m }, exp)
    }

    /// Parses the file notation: `nan`, `inf`, `-inf`, or `<signed integer>p<signed integer>`.
    pub fn parse(s: &str) -> Result<RefValue, String> {
        match s {
            "nan" => return Ok(RefValue::NaN),
            "inf" | "+inf" => return Ok(RefValue::Inf { negative: false }),
            "-inf" => return Ok(RefValue::Inf { negative: true }),
            _ => {}
        }
        let (m, e) = s
            .split_once('p')
            .ok_or_else(|| format!("value `{s}` is not nan, inf, -inf or <mantissa>p<exponent>"))?;
        let mant: BigInt = m.parse().map_err(|err| format!("bad mantissa `{m}` in `{s}`: {err}"))?;
        let exp: i64 = e.parse().map_err(|err| format!("bad exponent `{e}` in `{s}`: {err}"))?;
        Ok(normalize(mant, exp))
    }
}

fn normalize(mant: BigInt, exp: i64) -> RefValue {
    if mant.is_zero() {
        return RefValue::zero();
    }
    let tz = mant.trailing_zeros().unwrap_or(0);
    RefValue::Finite {
        mant: mant >> tz,
        exp: exp + tz as i64,
    }
}

impl fmt::Display for RefValue {
    /// The file notation (`3p-1`, `nan`, `-inf`), followed for finite values by an approximate
    /// decimal in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefValue::NaN => f.write_str("nan"),
            RefValue::Inf { negative: false } => f.write_str("inf"),
            RefValue::Inf { negative: true } => f.write_str("-inf"),
            RefValue::Finite { mant, exp } => {
                let approx = mant.to_string().parse::<f64>().unwrap_or(f64::NAN) * 2f64.powi(*exp as i32);
                write!(f, "{mant}p{exp} (≈{approx:e})")
            }
        }
    }
}

/// A problem in a vector file: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for VectorError {}

/// The folder holding the vector files (`tests/vectors`).
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Parses the lines of a vector file: blank lines and `#` comments are skipped, every other line
/// must be exactly two whitespace-separated fields, handed to `field` with its line number.
pub fn parse_lines<T>(
    file: &Path,
    text: &str,
    mut field: impl FnMut(&str, &str) -> Result<T, String>,
) -> Result<Vec<T>, VectorError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| VectorError {
            file: file.to_path_buf(),
            line: i + 1,
            message,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 2 {
            return Err(err(format!("expected 2 fields, found {}: `{line}`", fields.len())));
        }
        out.push(field(fields[0], fields[1]).map_err(err)?);
    }
    if out.is_empty() {
        return Err(VectorError {
            file: file.to_path_buf(),
            line: 0,
            message: "no vectors in file".into(),
        });
    }
    Ok(out)
}

fn hex_u32(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 16).map_err(|e| format!("bad code `{s}` (hex u32 expected): {e}"))
}

fn hex_u64(s: &str) -> Result<u64, String> {
    if s.len() != 16 {
        return Err(format!("bad f64 bits `{s}`: 16 hex digits expected"));
    }
    u64::from_str_radix(s, 16).map_err(|e| format!("bad f64 bits `{s}`: {e}"))
}

fn read(file: &Path) -> Result<String, VectorError> {
    std::fs::read_to_string(file).map_err(|e| VectorError {
        file: file.to_path_buf(),
        line: 0,
        message: format!("cannot read ({e}); run `python3 tests/vectors/gen_vectors.py`"),
    })
}

fn load_pairs(file: &Path) -> Result<Vec<(u64, u32)>, VectorError> {
    parse_lines(file, &read(file)?, |x, c| Ok((hex_u64(x)?, hex_u32(c)?)))
}

/// `decode_<fmt_name>.txt`: every code with its exact value, in file order.
pub fn try_load_decode(fmt_name: &str) -> Result<Vec<(u32, RefValue)>, VectorError> {
    let file = vectors_dir().join(format!("decode_{fmt_name}.txt"));
    parse_lines(&file, &read(&file)?, |c, v| Ok((hex_u32(c)?, RefValue::parse(v)?)))
}

/// `encode_<fmt_name>.txt`: `(f64 bits, expected code)` pairs.
pub fn try_load_encode(fmt_name: &str) -> Result<Vec<(u64, u32)>, VectorError> {
    load_pairs(&vectors_dir().join(format!("encode_{fmt_name}.txt")))
}

/// `output_<out_name>.txt`: `(f64 bits, expected output code)` pairs.
pub fn try_load_output(out_name: &str) -> Result<Vec<(u64, u32)>, VectorError> {
    load_pairs(&vectors_dir().join(format!("output_{out_name}.txt")))
}

/// [`try_load_decode`], panicking with the file and line on any problem.
pub fn load_decode(fmt_name: &str) -> Vec<(u32, RefValue)> {
    try_load_decode(fmt_name).unwrap_or_else(|e| panic!("{e}"))
}

/// [`try_load_encode`], panicking with the file and line on any problem.
pub fn load_encode(fmt_name: &str) -> Vec<(u64, u32)> {
    try_load_encode(fmt_name).unwrap_or_else(|e| panic!("{e}"))
}

/// [`try_load_output`], panicking with the file and line on any problem.
pub fn load_output(out_name: &str) -> Vec<(u64, u32)> {
    try_load_output(out_name).unwrap_or_else(|e| panic!("{e}"))
}

/// Counts checks and mismatches for one part of a test, keeping the first few messages.
#[derive(Debug)]
pub struct Tally {
    /// What is being checked (printed in the summary).
    pub what: String,
    /// Checks made.
    pub checked: u64,
    /// Checks failed.
    pub mismatches: u64,
    /// The first [`Tally::KEEP`] failure messages.
    pub examples: Vec<String>,
}

impl Tally {
    /// How many failure messages are kept.
    pub const KEEP: usize = 25;

    /// A new, empty tally.
    pub fn new(what: impl Into<String>) -> Tally {
        Tally {
            what: what.into(),
            checked: 0,
            mismatches: 0,
            examples: Vec::new(),
        }
    }

    /// Records one check; `msg` is only evaluated on failure.
    pub fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.fail(msg());
        }
    }

    /// Records one failed check (counted as checked too).
    pub fn fail_checked(&mut self, msg: String) {
        self.checked += 1;
        self.fail(msg);
    }

    fn fail(&mut self, msg: String) {
        self.mismatches += 1;
        if self.examples.len() < Self::KEEP {
            self.examples.push(msg);
        }
    }

    /// Adds another tally's counts and examples to this one.
    pub fn absorb(&mut self, other: Tally) {
        self.checked += other.checked;
        self.mismatches += other.mismatches;
        for e in other.examples {
            if self.examples.len() < Self::KEEP {
                self.examples.push(e);
            }
        }
    }

    /// One summary line, then the kept failure messages.
    pub fn report(&self) -> String {
        let mut s = format!(
            "{}: {} checked, {} mismatches",
            self.what, self.checked, self.mismatches
        );
        for e in &self.examples {
            s.push_str("\n    ");
            s.push_str(e);
        }
        if self.mismatches as usize > self.examples.len() {
            s.push_str(&format!(
                "\n    ... and {} more",
                self.mismatches as usize - self.examples.len()
            ));
        }
        s
    }
}

/// Prints every tally's report and panics with the total if any has mismatches.
pub fn finish(test: &str, tallies: &[Tally]) {
    let mut bad = 0;
    let mut checked = 0;
    for t in tallies {
        println!("{}", t.report());
        bad += t.mismatches;
        checked += t.checked;
    }
    println!("{test}: {checked} checks, {bad} mismatches");
    if bad > 0 {
        let failing: Vec<String> = tallies
            .iter()
            .filter(|t| t.mismatches > 0)
            .map(|t| format!("{} ({})", t.what, t.mismatches))
            .collect();
        panic!(
            "{test}: {bad} mismatches of {checked} checks in {}; see the report above",
            failing.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_values() {
        assert_eq!(RefValue::parse("3p-1").unwrap(), RefValue::finite(3, -1));
        assert_eq!(RefValue::parse("6p-2").unwrap(), RefValue::finite(3, -1));
        assert_eq!(RefValue::parse("-0p5").unwrap(), RefValue::zero());
        assert_eq!(RefValue::parse("nan").unwrap(), RefValue::NaN);
        assert_eq!(RefValue::parse("-inf").unwrap(), RefValue::Inf { negative: true });
        assert!(RefValue::parse("1.5").is_err());
        assert!(RefValue::parse("1px").is_err());
    }

    #[test]
    fn from_f64_is_exact() {
        assert_eq!(RefValue::from_f64(1.5), RefValue::finite(3, -1));
        assert_eq!(RefValue::from_f64(-0.0), RefValue::zero());
        assert_eq!(RefValue::from_f64(5e-324), RefValue::finite(1, -1074));
        assert_eq!(RefValue::from_f64(-448.0), RefValue::finite(-7, 6));
        assert_eq!(RefValue::from_f64(f64::NEG_INFINITY), RefValue::Inf { negative: true });
        assert!(RefValue::from_f64(f64::NAN).is_nan());
    }

    #[test]
    fn products_follow_ieee_special_rules() {
        let inf = RefValue::Inf { negative: false };
        let m2 = RefValue::finite(-1, 1);
        assert_eq!(inf.mul(&RefValue::zero()), RefValue::NaN);
        assert_eq!(RefValue::zero().mul(&inf), RefValue::NaN);
        assert_eq!(inf.mul(&m2), RefValue::Inf { negative: true });
        assert_eq!(m2.mul(&RefValue::NaN), RefValue::NaN);
        assert_eq!(m2.mul(&RefValue::finite(3, -1)), RefValue::finite(-3, 0));
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let file = Path::new("x.txt");
        let e = parse_lines(file, "# c\n\n0 1p0\n1 2 3\n", |a, b| Ok((a.to_string(), b.to_string()))).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().starts_with("x.txt:4: expected 2 fields"), "{e}");
        let e = parse_lines(file, "zz 1p0\n", |c, _| hex_u32(c)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.txt:1: bad code `zz` (hex u32 expected): invalid digit found in string"
        );
    }

    #[test]
    fn every_vector_file_parses() {
        let mut n = 0;
        for entry in std::fs::read_dir(vectors_dir()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".txt") else {
                continue;
            };
            if let Some(f) = stem.strip_prefix("decode_") {
                try_load_decode(f).unwrap();
            } else if let Some(f) = stem.strip_prefix("encode_") {
                try_load_encode(f).unwrap();
            } else if let Some(f) = stem.strip_prefix("output_") {
                try_load_output(f).unwrap();
            } else {
                continue;
            }
            n += 1;
        }
        assert!(n >= 13 * 2 + 4, "only {n} vector files found");
    }
}
