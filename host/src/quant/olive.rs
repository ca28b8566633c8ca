//! OliVe outlier-victim pair (OVP) quantizer: real tensors to `ovp-int4` / `ovp-flint4` codes
//! and scales (DESIGN §3.2; the algorithm follows the authors' quantizer, clevercool/
//! ANT-Quantization `olive_quantization`, re-implemented here).
//!
//! # What it does
//!
//! A tensor is a `rows × K` matrix; pairs are adjacent elements `(2k, 2k + 1)` along K (the last
//! axis: PyTorch `nn.Linear` weights `[out, in]`, activations `[tokens, in]`). For each normal
//! type (int4, flint4) and each scale group (a row for weights, [`Granularity::PerRow`]; the
//! whole tensor for activations, [`Granularity::PerTensor`]):
//!
//! 1. **Clipping search**: base range `b = max(|μ + 3σ|, |μ − 3σ|)` of the group (σ the sample
//!    standard deviation; the absolute maximum if that is 0); for every ratio `r` of
//!    [`OLIVE_CLIP_PERCENT`] the clip value `α = b·r/100` maps to the largest normal value
//!    (7 int4 units, 32 flint units): `scale = α / max_normal`, rounded to `f32` (it is stored
//!    as `f32`). The ratio with the least squared error of the whole pair encoding below wins;
//!    a tie keeps the smaller ratio.
//! 2. **Rounding**: each `x / scale` goes to the nearest value of the combined grid, normals ∪
//!    abfloat outliers (int4 units: 0 … 7 and 12, 16, 24, 32, 48, 64, 96; flint units: 0, 2, 4,
//!    6, 8, 12, 16, 32 and 48, 64, 96, 128, 192, 256, 384); **a tie goes to the smaller
//!    magnitude**; the sign is kept (a value rounded to 0 gets the +0 code, never `1000`).
//! 3. **Pairs**: a value rounded above the threshold (8 int4 units, 32 flint units) is an
//!    outlier. A pair with one outlier codes it as abfloat and its partner, the **victim**, as
//!    the marker `1000` (value 0, whatever it was). **When both are outliers the first (element
//!    2k) wins** and the second becomes the victim. Otherwise both are normal codes.
//! 4. **Normal type**: the one with the smaller total squared error over the tensor; **a tie
//!    picks int4** (the authors' order).
//!
//! # Codes
//!
//! Exactly 4 bits per value, two values per byte, no side table (layout:
//! [`npe_hdl::spec::formats::ovp`]): element 2k in bits 3:0, 2k + 1 in bits 7:4. int4 normals are
//! two's complement (−7 … 7, `1000` = −8 unused), flint4 normals sign-magnitude with magnitude
//! codes 0 … 7 → 0, 2, 4, 6, 8, 12, 16, 32, abfloat outliers sign-magnitude `s.ee.m` with value
//! `(1 + m/2)·2^(e + 5)` flint units (`2^(e + 3)` int4 units). The encoder never writes the
//! abfloat code `000` (32 flint / 8 int4 units, left out of the outlier grid as the authors do)
//! nor a pair of two markers (illegal; it decodes to two zeros).
//!
//! # Odd K
//!
//! A row of odd length K is padded with one zero element at its end (K + 1 codes; the pad is a
//! normal 0, or the victim of an outlier in element K − 1). The padded length is what the codes
//! hold; `k` records the original length, and errors and SQNR count the original elements only.

use anyhow::{bail, Result};

use super::{check_finite, Granularity, OLIVE_CLIP_PERCENT};
use crate::golden;
use npe_hdl::spec::formats::ovp::{FLINT_MAGS, MARKER};
use npe_hdl::spec::{Format, OvpNormal};

/// One entry of the combined grid: a magnitude in grid units and its 3-bit magnitude code.
#[derive(Clone, Copy, Debug)]
struct GridPoint {
    mag: f64,
    code: u8,
    outlier: bool,
}

/// The combined grid of a normal type, by increasing magnitude.
fn grid(normal: OvpNormal) -> Vec<GridPoint> {
    let mut g: Vec<GridPoint> = match normal {
        OvpNormal::Int4 => (0..=7).map(|q| (f64::from(q), q as u8)).collect::<Vec<_>>(),
        OvpNormal::Flint4 => FLINT_MAGS
            .iter()
            .enumerate()
            .map(|(c, &m)| (f64::from(m), c as u8))
            .collect(),
    }
    .into_iter()
    .map(|(mag, code)| GridPoint {
        mag,
        code,
        outlier: false,
    })
    .collect();
    // abfloat magnitude codes 1 … 7 (000, the threshold itself, is left out).
    for c in 1u8..8 {
        let (e, m) = (i32::from(c >> 1), f64::from(c & 1));
        g.push(GridPoint {
            mag: (1.0 + m / 2.0) * f64::from(e + normal.abfloat_bias()).exp2(),
            code: c,
            outlier: true,
        });
    }
    g
}

/// The nearest grid point to `|y|` (ties to the smaller magnitude).
fn nearest(g: &[GridPoint], a: f64) -> GridPoint {
    let mut best = g[0];
    for &p in &g[1..] {
        // Strictly closer only: a tie keeps the smaller magnitude found first.
        if (p.mag - a).abs() < (best.mag - a).abs() {
            best = p;
        } else if p.mag > a {
            break;
        }
    }
    best
}

/// A quantized value before pairing: its grid point and sign.
#[derive(Clone, Copy, Debug)]
struct Q {
    p: GridPoint,
    neg: bool,
}

impl Q {
    fn normal_code(self, normal: OvpNormal) -> u8 {
        if self.p.code == 0 {
            return 0;
        }
        match normal {
            OvpNormal::Int4 => {
                let q = i8::try_from(self.p.code).unwrap_or(0);
                (if self.neg { -q } else { q }) as u8 & 0xF
            }
            OvpNormal::Flint4 => self.p.code | if self.neg { 8 } else { 0 },
        }
    }

    fn outlier_code(self) -> u8 {
        self.p.code | if self.neg { 8 } else { 0 }
    }

    fn value(self) -> f64 {
        if self.neg {
            -self.p.mag
        } else {
            self.p.mag
        }
    }
}

/// Counts of one encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairStats {
    /// Elements (original K, pads excluded).
    pub elements: u64,
    /// Elements coded as abfloat outliers.
    pub outliers: u64,
    /// Elements coded as victims (the marker), pads excluded.
    pub victims: u64,
    /// Victims that would have been nonzero (a normal value or an outlier pruned to 0).
    pub nonzero_victims: u64,
    /// Pairs in which both elements were outliers (the second was pruned).
    pub double_outliers: u64,
}

impl PairStats {
    fn add(&mut self, o: PairStats) {
        self.elements += o.elements;
        self.outliers += o.outliers;
        self.victims += o.victims;
        self.nonzero_victims += o.nonzero_victims;
        self.double_outliers += o.double_outliers;
    }
}

/// Encodes one group's pairs at `scale`: pair bytes, dequantized values (original elements
/// only) and counts. `x` holds whole rows of length `k` each.
fn encode_rows(x: &[f64], k: usize, normal: OvpNormal, g: &[GridPoint], scale: f64) -> (Vec<u8>, Vec<f64>, PairStats) {
    let kp = k + k % 2;
    let rows = x.len() / k.max(1);
    let mut bytes = Vec::with_capacity(rows * kp / 2);
    let mut deq = Vec::with_capacity(x.len());
    let mut st = PairStats::default();
    for row in x.chunks(k.max(1)) {
        for j in (0..kp).step_by(2) {
            let q = |i: usize| -> Q {
                let v = row.get(i).copied().unwrap_or(0.0) / scale;
                Q {
                    p: nearest(g, v.abs()),
                    neg: v < 0.0,
                }
            };
            let (q0, q1) = (q(j), q(j + 1));
            let real1 = j + 1 < k;
            // Outliers are the abfloat grid points: exactly the values above the threshold.
            let (o0, o1) = (q0.p.outlier, q1.p.outlier);
            let (b, v0, v1) = if o0 {
                st.outliers += 1;
                if real1 {
                    st.victims += 1;
                    st.nonzero_victims += u64::from(q1.p.mag != 0.0);
                    st.double_outliers += u64::from(o1);
                }
                (q0.outlier_code() | MARKER << 4, q0.value(), 0.0)
            } else if o1 {
                st.outliers += 1;
                st.victims += 1;
                st.nonzero_victims += u64::from(q0.p.mag != 0.0);
                (MARKER | q1.outlier_code() << 4, 0.0, q1.value())
            } else {
                (
                    q0.normal_code(normal) | q1.normal_code(normal) << 4,
                    q0.value(),
                    q1.value(),
                )
            };
            bytes.push(b);
            deq.push(v0 * scale);
            if real1 {
                deq.push(v1 * scale);
            }
        }
    }
    st.elements = x.len() as u64;
    (bytes, deq, st)
}

/// The base range of the clipping search: `max(|μ ± 3σ|)`, else the absolute maximum.
fn base_range(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let sd = var.sqrt();
    let b = (mean + 3.0 * sd).abs().max((mean - 3.0 * sd).abs());
    if b > 0.0 {
        b
    } else {
        x.iter().fold(0f64, |m, v| m.max(v.abs()))
    }
}

/// One quantized tensor: codes, scales and what the encoding did.
#[derive(Clone, Debug, PartialEq)]
pub struct OvpTensor {
    /// The normal type chosen.
    pub normal: OvpNormal,
    /// Rows (output channels, or tokens).
    pub rows: usize,
    /// The original K (elements per row).
    pub k: usize,
    /// Pair bytes, row-major `rows × ⌈K/2⌉` (K padded to even, see the module docs).
    pub codes: Vec<u8>,
    /// One scale per row ([`Granularity::PerRow`]) or one ([`Granularity::PerTensor`]), each an
    /// `f32` value: element value = scale × decoded grid value.
    pub scales: Vec<f32>,
    /// Counts of the encoding.
    pub stats: PairStats,
    /// Squared error of the dequantized tensor.
    pub sse: f64,
}

impl OvpTensor {
    /// The table format of the codes.
    pub fn format(&self) -> Format {
        match self.normal {
            OvpNormal::Int4 => Format::OvpInt4,
            OvpNormal::Flint4 => Format::OvpFlint4,
        }
    }

    /// K rounded up to even: the codes per row.
    pub fn k_padded(&self) -> usize {
        self.k + self.k % 2
    }

    /// The 4-bit codes, one per element, row-major `rows × k_padded` (what the golden dot and
    /// the device's lane packing take).
    pub fn element_codes(&self) -> Vec<u32> {
        self.codes
            .iter()
            .flat_map(|&b| [u32::from(b & 0xF), u32::from(b >> 4)])
            .collect()
    }

    /// The dequantized tensor (`rows × k`), decoded by the golden model from the codes and
    /// scales alone.
    pub fn dequantize(&self) -> Result<Vec<f64>> {
        let f = self.format();
        let per_row = self.k_padded() / 2;
        let mut out = Vec::with_capacity(self.rows * self.k);
        for (r, row) in self.codes.chunks(per_row.max(1)).enumerate() {
            let s = f64::from(if self.scales.len() == 1 {
                self.scales[0]
            } else {
                self.scales[r]
            });
            let vals: Vec<f64> = row
                .iter()
                .map(|&b| golden::decode_pair(f, u32::from(b)))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .map(|u| golden::unified_f64(u) * s)
                .collect();
            out.extend_from_slice(&vals[..self.k]);
        }
        Ok(out)
    }
}

/// Quantizes `rows × k` values with a given normal type (see the module docs).
pub fn quantize_with(x: &[f64], k: usize, gran: Granularity, normal: OvpNormal) -> Result<OvpTensor> {
    if k == 0 || x.is_empty() || !x.len().is_multiple_of(k) {
        bail!("cannot quantize {} values as rows of K = {k}", x.len());
    }
    check_finite("input", x, k)?;
    let rows = x.len() / k;
    let g = grid(normal);
    let groups: Vec<&[f64]> = match gran {
        Granularity::PerRow => x.chunks(k).collect(),
        Granularity::PerTensor => vec![x],
    };
    let mut t = OvpTensor {
        normal,
        rows,
        k,
        codes: Vec::with_capacity(rows * (k + 1) / 2),
        scales: Vec::with_capacity(groups.len()),
        stats: PairStats::default(),
        sse: 0.0,
    };
    let max_normal = f64::from(normal.max_normal());
    for grp in groups {
        let base = base_range(grp);
        let mut best: Option<(f64, f32)> = None;
        if base > 0.0 {
            for r in OLIVE_CLIP_PERCENT.step_by(2) {
                let s = (base * f64::from(r) / 100.0 / max_normal) as f32;
                if !(s.is_finite() && s > 0.0) {
                    continue;
                }
                let (_, deq, _) = encode_rows(grp, k, normal, &g, f64::from(s));
                let e = super::sse(grp, &deq);
                if best.is_none_or(|(b, _)| e < b) {
                    best = Some((e, s));
                }
            }
        }
        // An all-zero group (or one whose range underflows f32) codes as zeros with scale 1.
        let s = best.map_or(1.0, |(_, s)| s);
        let (bytes, deq, st) = encode_rows(grp, k, normal, &g, f64::from(s));
        t.sse += super::sse(grp, &deq);
        t.codes.extend(bytes);
        t.scales.push(s);
        t.stats.add(st);
    }
    Ok(t)
}

/// Quantizes with the normal type of least squared error (a tie picks int4).
pub fn quantize(x: &[f64], k: usize, gran: Granularity) -> Result<OvpTensor> {
    let int4 = quantize_with(x, k, gran, OvpNormal::Int4)?;
    let flint = quantize_with(x, k, gran, OvpNormal::Flint4)?;
    Ok(if flint.sse < int4.sse { flint } else { int4 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{int4_baseline, sqnr_db};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Student-t-like heavy tails: a normal divided by the root of a scaled chi-square (ν = 3).
    fn heavy_tailed(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut normal = move || {
            // Box–Muller.
            let (u, v): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen_range(0.0..1.0));
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        };
        (0..n)
            .map(|_| {
                let z = normal();
                let chi: f64 = (0..3).map(|_| normal().powi(2)).sum::<f64>() / 3.0;
                0.02 * z / chi.sqrt()
            })
            .collect()
    }

    #[test]
    fn codes_round_trip_through_the_golden_decode() {
        let x = heavy_tailed(64 * 96, 1);
        for normal in [OvpNormal::Int4, OvpNormal::Flint4] {
            for gran in [Granularity::PerRow, Granularity::PerTensor] {
                let t = quantize_with(&x, 96, gran, normal).unwrap();
                assert_eq!(t.codes.len(), 64 * 48);
                assert_eq!(t.scales.len(), if gran == Granularity::PerRow { 64 } else { 1 });
                let deq = t.dequantize().unwrap();
                // The error the encoder measured is the error of what the codes decode to (up to
                // the order of summation).
                let e = crate::quant::sse(&x, &deq);
                assert!((e - t.sse).abs() <= 1e-12 * e, "{normal:?} {gran:?}: {e} vs {}", t.sse);
                assert!(t.stats.outliers > 0, "heavy tails give outliers");
            }
        }
    }

    #[test]
    fn never_the_illegal_pair_nor_abfloat_000_and_victims_follow_outliers() {
        let x = heavy_tailed(32 * 64, 2);
        for normal in [OvpNormal::Int4, OvpNormal::Flint4] {
            let t = quantize_with(&x, 64, Granularity::PerRow, normal).unwrap();
            let (mut outliers, mut victims) = (0, 0);
            for &b in &t.codes {
                let (lo, hi) = (b & 0xF, b >> 4);
                assert!(!(lo == MARKER && hi == MARKER), "illegal pair {b:#04x}");
                if lo == MARKER || hi == MARKER {
                    let o = if lo == MARKER { hi } else { lo };
                    assert_ne!(o & 7, 0, "abfloat 000 written: {b:#04x}");
                    outliers += 1;
                    victims += 1;
                }
                if normal == OvpNormal::Int4 {
                    assert!(lo == MARKER || hi == MARKER || (lo != 8 && hi != 8));
                }
            }
            assert_eq!((t.stats.outliers, t.stats.victims), (outliers, victims));
        }
    }

    #[test]
    fn tie_rules() {
        let g = grid(OvpNormal::Int4);
        // Halfway between grid points goes to the smaller magnitude.
        assert_eq!(nearest(&g, 0.5).mag, 0.0);
        assert_eq!(nearest(&g, 6.5).mag, 6.0);
        assert_eq!(nearest(&g, 9.5).mag, 7.0); // 7 and 12: 9.5 is the midpoint
        assert_eq!(nearest(&g, 9.51).mag, 12.0);
        let gf = grid(OvpNormal::Flint4);
        assert_eq!(nearest(&gf, 40.0).mag, 32.0); // 32 and 48
        assert_eq!(nearest(&gf, 1000.0).mag, 384.0);
        // Outliers are exactly the grid points above the threshold.
        for (normal, g) in [(OvpNormal::Int4, &g), (OvpNormal::Flint4, &gf)] {
            for p in g.iter() {
                assert_eq!(p.outlier, p.mag > f64::from(normal.threshold()), "{normal:?} {p:?}");
            }
        }
        // Both elements outliers: the first wins, the second is the victim (scale 1: grid units).
        let (b, deq, st) = encode_rows(&[100.0, -90.0], 2, OvpNormal::Int4, &g, 1.0);
        assert_eq!(b, [0x07 | MARKER << 4]);
        assert_eq!(deq, [96.0, 0.0]);
        assert_eq!(
            (st.outliers, st.victims, st.nonzero_victims, st.double_outliers),
            (1, 1, 1, 1)
        );
        // Only the second is an outlier: the first is the victim, even when it was nonzero.
        let (b, deq, _) = encode_rows(&[3.0, -22.0], 2, OvpNormal::Int4, &g, 1.0);
        assert_eq!(b, [MARKER | 0xB << 4]); // -24 = 1.1b × 2^4: s=1, e=1, m=1
        assert_eq!(deq, [0.0, -24.0]);
        // -20 is halfway between the outliers 16 and 24: the smaller magnitude.
        let (_, deq, _) = encode_rows(&[3.0, -20.0], 2, OvpNormal::Int4, &g, 1.0);
        assert_eq!(deq, [0.0, -16.0]);
        // The same pair under flint4: -20 is a normal (16), 3 rounds to 2 (tie 3 between 2 and
        // 4 goes to the smaller magnitude).
        let (b, deq, _) = encode_rows(&[3.0, -20.0], 2, OvpNormal::Flint4, &gf, 1.0);
        assert_eq!(deq, [2.0, -16.0]);
        assert_eq!(b, [0x01 | 0xE << 4]);
        // A negative value that rounds to 0 gets +0, never the marker.
        let t = quantize_with(&[-1e-9, 1.0], 2, Granularity::PerTensor, OvpNormal::Flint4).unwrap();
        assert_eq!(t.codes[0] & 0xF, 0);
    }

    #[test]
    fn odd_k_is_padded_with_a_zero_that_can_be_a_victim() {
        // Row 0 ends in an outlier: its pad is the victim. Row 1 ends in a normal.
        let g = grid(OvpNormal::Int4);
        let x = [1.0, 2.0, 50.0, 1.0, 2.0, 1.0];
        let (codes, deq, st) = encode_rows(&x, 3, OvpNormal::Int4, &g, 1.0);
        assert_eq!(codes, [0x21, 0x05 | MARKER << 4, 0x21, 0x01]); // 48 = 1.1b × 2^5: e=2, m=1
        assert_eq!(deq, [1.0, 2.0, 48.0, 1.0, 2.0, 1.0]);
        assert_eq!(
            (st.elements, st.outliers, st.victims),
            (6, 1, 0),
            "pads are not counted as victims"
        );
        // Through the public quantizer: K = 3 gives two pair bytes per row.
        let t = quantize_with(&x, 3, Granularity::PerTensor, OvpNormal::Int4).unwrap();
        assert_eq!((t.k, t.k_padded(), t.codes.len()), (3, 4, 4));
        let deq = t.dequantize().unwrap();
        assert_eq!(deq.len(), 6);
        // The golden dot of the padded codes with a padded activation is the dot of the values.
        let codes = t.element_codes();
        let a = [1u32, 2, 3, 0]; // int4, padded with 0
        let got = golden::exact_dot(Format::Int4, &a, t.format(), &codes[..4]).unwrap();
        let want = (deq[0] + 2.0 * deq[1] + 3.0 * deq[2]) / f64::from(t.scales[0]);
        assert_eq!(
            golden::round_to_output(npe_hdl::spec::OutputFormat::Fp32, &got),
            (want as f32).to_bits()
        );
    }

    #[test]
    fn refuses_nan_inf_and_bad_shapes() {
        let e = quantize(&[1.0, f64::NAN, 0.0, 1.0], 2, Granularity::PerRow).unwrap_err();
        assert!(e.to_string().contains("[0, 1]"), "{e}");
        assert!(quantize(&[1.0, f64::INFINITY], 2, Granularity::PerRow).is_err());
        assert!(quantize(&[1.0, 2.0, 3.0], 2, Granularity::PerRow).is_err());
        assert!(quantize(&[], 2, Granularity::PerRow).is_err());
        // An all-zero row codes as zeros.
        let t = quantize(&[0.0; 8], 4, Granularity::PerRow).unwrap();
        assert!(t.codes.iter().all(|&b| b == 0));
    }

    #[test]
    fn beats_plain_int4_on_heavy_tailed_data() {
        let (rows, k) = (64, 256);
        let x = heavy_tailed(rows * k, 3);
        let t = quantize(&x, k, Granularity::PerRow).unwrap();
        let ovp = sqnr_db(&x, &t.dequantize().unwrap());
        let int4_tensor = sqnr_db(&x, &int4_baseline(&x, k, Granularity::PerTensor));
        let int4_row = sqnr_db(&x, &int4_baseline(&x, k, Granularity::PerRow));
        assert!(
            ovp > int4_tensor + 1.0,
            "OVP {ovp:.2} dB vs INT4 per tensor {int4_tensor:.2} dB"
        );
        assert!(ovp > int4_row, "OVP {ovp:.2} dB vs INT4 per row {int4_row:.2} dB");
        // Outliers are rare, and each has one victim.
        let rate = t.stats.outliers as f64 / t.stats.elements as f64;
        assert!(rate > 0.0 && rate < 0.1, "{rate}");
        assert_eq!(t.stats.victims, t.stats.outliers);
    }
}
