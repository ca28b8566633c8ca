//! BitMoD weight quantizer (HPCA 2025, DESIGN §3.1): per group of B = 128 consecutive elements
//! of a row, the least-squared-error choice among four FP4 (or FP3) data types, each the plain
//! grid with its redundant −0 code repurposed as one special value; a two-level scale (an
//! unsigned 8-bit integer per group × an `f32` per output channel) and a 2-bit selector per group.
//!
//! The algorithm follows the authors' quantizer (abdelfattah-lab/BitMoD-HPCA-25,
//! `bitmod_quant/quant_utils/quant_weight.py`: `quant_datatype`, `search_datatype`),
//! re-implemented; the two-level scale is the form their RTL consumes, not their quantizer's
//! (which keeps an FP16 group scale).
//!
//! # Data types and codes (values in E2M1 units; the authors' code uses doubled units)
//!
//! | selector | dtype | FP4 special (code `1000`) | FP3 special (code `100`) |
//! |---|---|---|---|
//! | 0 | er_pos (extra resolution) | +5 | +1.5 |
//! | 1 | er_neg | −5 | −1.5 |
//! | 2 | ea_pos (extra asymmetry) | +8 | +3 |
//! | 3 | ea_neg | −8 | −3 |
//!
//! FP4 codes are OCP E2M1 `s.ee.m` (bit 3 the sign): magnitudes `000 … 111` → 0, 0.5, 1, 1.5,
//! 2, 3, 4, 6; `1000` (−0) is the special. FP3 codes are `s.mm` (bit 2 the sign; 2 exponent
//! bits, no mantissa, so E2M0 with a subnormal zero): magnitudes `00 … 11` → 0, 0.5, 1, 2;
//! `100` (−0) is the special. The +0 code (all zero) is the only zero.
//!
//! # Per group
//!
//! For each dtype `d` in the order er_pos, er_neg, ea_pos, ea_neg, `qmax(d)` is its largest
//! magnitude (FP4: 6 for er, 8 for ea; FP3: 2 for er, 3 for ea) and the authors' scale is
//! `absmax(group) / qmax(d)`. Here that scale is `q · S`: `S` the row's `f32` scale, `q` an
//! integer 0 … 255, tried at both `floor` and `ceil` of `absmax / (qmax(d) · S)` (clamped to
//! 0 … 255; an all-zero group tries only 0, and `q = 0` makes the whole group 0). Each element
//! `y = x / (q·S)` goes to the nearest value of the dtype's grid; **a tie goes to the lower
//! value** (towards −∞, as the authors' `x <= mid` thresholds do: 4.5 → 4 but −2.5 → −3 and
//! −0.25 → −0.5); beyond the grid it saturates (so `ea_pos` clamps a group's large negative
//! values to −6). The (dtype, q) of least squared error wins; **a tie keeps the earlier dtype**
//! (the authors' order, strict `<`), **then the smaller q** (our choice: they have no integer
//! scale). An all-zero group therefore gets selector 0, q = 0, codes 0.
//!
//! # Per row
//!
//! `S = f32(max over the row's groups of absmax / (qmax_er · 255))` so the er dtypes of the
//! largest group use q ≈ 255 (`S` is at least the smallest positive `f32`; an all-zero row
//! gets `S = 1`). Dequantized: `value(selector, code) × q × S`, exact in `f64`.

use anyhow::{bail, Result};

use super::block::{absmax, blocks, check_input, f32_scale, n_blocks, BlockScales, BlockScheme, BlockTensor};

/// The data types in selector order.
pub const DTYPES: [&str; 4] = ["er_pos", "er_neg", "ea_pos", "ea_neg"];

/// The E2M1 magnitudes of codes `000 … 111`.
const FP4_MAGS: [f64; 8] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0];
/// The FP3 magnitudes of codes `00 … 11`.
const FP3_MAGS: [f64; 4] = [0.0, 0.5, 1.0, 2.0];

/// The special value (the −0 code) of data type `sel` at `bits` = 4 or 3.
pub fn special(bits: u32, sel: u8) -> Result<f64> {
    let (er, ea) = match bits {
        4 => (5.0, 8.0),
        3 => (1.5, 3.0),
        _ => bail!("BitMoD has 3- and 4-bit data types, not {bits}"),
    };
    Ok(match sel {
        0 => er,
        1 => -er,
        2 => ea,
        3 => -ea,
        _ => bail!("BitMoD selector {sel} is out of range (0 … 3)"),
    })
}

/// The value (E2M1 units) of `code` in data type `sel` of BitMoD `bits` = 4 or 3.
pub fn value(bits: u32, sel: u8, code: u8) -> Result<f64> {
    let mags: &[f64] = match bits {
        4 => &FP4_MAGS,
        3 => &FP3_MAGS,
        _ => bail!("BitMoD has 3- and 4-bit data types, not {bits}"),
    };
    if sel > 3 {
        bail!("BitMoD selector {sel} is out of range (0 … 3)");
    }
    let sign = 1u8 << (bits - 1);
    if code >= sign << 1 {
        bail!("code {code:#x} does not fit {bits} bits");
    }
    if code == sign {
        return special(bits, sel);
    }
    let m = mags[usize::from(code & (sign - 1))];
    Ok(if code & sign != 0 { -m } else { m })
}

/// The largest magnitude of data type `sel`.
fn qmax(bits: u32, sel: u8) -> f64 {
    special(bits, sel)
        .map_or(0.0, f64::abs)
        .max(if bits == 4 { 6.0 } else { 2.0 })
}

/// A dtype's grid: (value, code) by increasing value, and the midpoints between neighbours.
struct Grid {
    points: Vec<(f64, u8)>,
    mids: Vec<f64>,
}

impl Grid {
    fn new(bits: u32, sel: u8) -> Grid {
        let mut points: Vec<(f64, u8)> = (0..1u8 << bits)
            .filter_map(|c| value(bits, sel, c).ok().map(|v| (v, c)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        // −0 is the special now, so every value is distinct.
        points.dedup_by(|a, b| a.0 == b.0);
        let mids = points.windows(2).map(|w| (w[0].0 + w[1].0) / 2.0).collect();
        Grid { points, mids }
    }

    /// The grid point of `y`: the first `i` with `y <= mid[i]` (a tie to the lower value).
    fn round(&self, y: f64) -> (f64, u8) {
        let i = self.mids.partition_point(|&m| m < y);
        self.points[i]
    }
}

/// Rounds `y` (E2M1 units) to data type `sel` of BitMoD `bits`: (value, code).
pub fn round(bits: u32, sel: u8, y: f64) -> (f64, u8) {
    Grid::new(bits, sel).round(y)
}

/// Quantizes a `rows × k` matrix with BitMoD `bits` (4 or 3), block size `b` (128 in the paper).
pub fn quantize(bits: u32, data: &[f64], k: usize, b: usize) -> Result<BlockTensor> {
    if bits != 3 && bits != 4 {
        bail!("BitMoD has 3- and 4-bit data types, not {bits}");
    }
    let rows = check_input(data, k, b)?;
    let grids: Vec<Grid> = (0..4).map(|s| Grid::new(bits, s)).collect();
    let nb = n_blocks(k, b);
    let mut t = BlockTensor {
        scheme: if bits == 4 {
            BlockScheme::Bitmod4
        } else {
            BlockScheme::Bitmod3
        },
        rows,
        k,
        block: b,
        codes: vec![0; rows * k],
        scales: BlockScales::U8(Vec::new()),
        selectors: Vec::with_capacity(rows * nb),
        row_scales: Vec::with_capacity(rows),
        tensor_scale: None,
        values: vec![0.0; rows * k],
    };
    let mut qs = Vec::with_capacity(rows * nb);
    let qmax_er = qmax(bits, 0);
    let mut codes = Vec::new();
    for r in 0..rows {
        let row = &data[r * k..(r + 1) * k];
        let m = blocks(k, b).map(|c| absmax(&row[c])).fold(0.0, f64::max);
        let s = if m == 0.0 {
            1.0
        } else {
            f32_scale("BitMoD channel scale", m / (qmax_er * 255.0))?.max(f32::from_bits(1))
        };
        t.row_scales.push(s);
        let s = f64::from(s);
        for cols in blocks(k, b) {
            let g = &row[cols.clone()];
            let a = absmax(g);
            // (error, selector, q)
            let mut best: Option<(f64, u8, u8)> = None;
            for sel in 0..4u8 {
                let ratio = a / (qmax(bits, sel) * s);
                let lo = ratio.floor().clamp(0.0, 255.0) as u8;
                let hi = ratio.ceil().clamp(0.0, 255.0) as u8;
                for q in if lo == hi { vec![lo] } else { vec![lo, hi] } {
                    let e = group_error(&grids[usize::from(sel)], g, f64::from(q) * s);
                    if best.is_none_or(|(be, _, _)| e < be) {
                        best = Some((e, sel, q));
                    }
                }
            }
            let (_, sel, q) = best.unwrap_or((0.0, 0, 0));
            let scale = f64::from(q) * s;
            codes.clear();
            for (i, &x) in g.iter().enumerate() {
                let (v, c) = if q == 0 {
                    (0.0, 0)
                } else {
                    grids[usize::from(sel)].round(x / scale)
                };
                codes.push(c);
                t.values[r * k + cols.start + i] = v * scale;
            }
            t.codes[r * k + cols.start..r * k + cols.end].copy_from_slice(&codes);
            t.selectors.push(sel);
            qs.push(q);
        }
    }
    t.scales = BlockScales::U8(qs);
    Ok(t)
}

/// The authors' algorithm with their unquantized group scale (`absmax / qmax(d)`, here in
/// `f64`; they keep FP16): the dequantized values only, for comparison — this scale is not
/// storable in the u8 × `f32` form. Same rounding, selection order and ties as [`quantize`];
/// an all-zero group stays 0.
pub fn reference_values(bits: u32, data: &[f64], k: usize, b: usize) -> Result<Vec<f64>> {
    if bits != 3 && bits != 4 {
        bail!("BitMoD has 3- and 4-bit data types, not {bits}");
    }
    check_input(data, k, b)?;
    let grids: Vec<Grid> = (0..4).map(|s| Grid::new(bits, s)).collect();
    let mut out = Vec::with_capacity(data.len());
    for row in data.chunks(k) {
        for cols in blocks(k, b) {
            let g = &row[cols];
            let a = absmax(g);
            if a == 0.0 {
                out.extend(std::iter::repeat_n(0.0, g.len()));
                continue;
            }
            let mut best: Option<(f64, u8)> = None;
            for sel in 0..4u8 {
                let e = group_error(&grids[usize::from(sel)], g, a / qmax(bits, sel));
                if best.is_none_or(|(be, _)| e < be) {
                    best = Some((e, sel));
                }
            }
            let sel = best.map_or(0, |b| b.1);
            let scale = a / qmax(bits, sel);
            out.extend(g.iter().map(|&x| grids[usize::from(sel)].round(x / scale).0 * scale));
        }
    }
    Ok(out)
}

/// The squared error of a group at one dtype and scale (`scale = 0`: the group becomes 0).
fn group_error(grid: &Grid, g: &[f64], scale: f64) -> f64 {
    if scale == 0.0 {
        return g.iter().map(|x| x * x).sum();
    }
    g.iter()
        .map(|&x| {
            let d = x - grid.round(x / scale).0 * scale;
            d * d
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden;
    use npe_hdl::spec::Format;

    /// The format table's BitMoD rows (what the golden model decodes, and the hardware will)
    /// against this quantizer's own tables, every code of every selector; encoding one value
    /// of them is refused (the quantizer picks the data type per block).
    #[test]
    fn the_format_tables_rows_are_the_quantizers_data_types() {
        for bits in [4u32, 3] {
            for sel in 0..4u8 {
                let f = Format::bitmod(bits, sel).unwrap();
                for code in 0..1u8 << bits {
                    let u = golden::decode(f, code.into()).unwrap();
                    assert_eq!(golden::unified_f64(u), value(bits, sel, code).unwrap(), "{f} {code:#x}");
                }
                assert!(golden::decode(f, 1 << bits).is_err(), "{f}: a code too wide");
                assert!(matches!(
                    golden::encode_checked(f, 1.0, 0, golden::NanPolicy::Refuse),
                    Err(golden::GoldenError::BlockTyped { .. })
                ));
            }
        }
    }

    #[test]
    fn code_tables() {
        // FP4: the OCP E2M1 values except 1000, which is the special of each dtype.
        for sel in 0..4 {
            for c in 0..16u8 {
                let v = value(4, sel, c).unwrap();
                if c == 8 {
                    assert_eq!(v, [5.0, -5.0, 8.0, -8.0][usize::from(sel)]);
                } else {
                    assert_eq!(v, golden::to_f64(Format::Fp4E2M1, u32::from(c)).unwrap());
                }
            }
        }
        let fp3: Vec<f64> = (0..8).map(|c| value(3, 0, c).unwrap()).collect();
        assert_eq!(fp3, [0.0, 0.5, 1.0, 2.0, 1.5, -0.5, -1.0, -2.0]);
        assert_eq!(value(3, 1, 4).unwrap(), -1.5);
        assert_eq!(value(3, 2, 4).unwrap(), 3.0);
        assert_eq!(value(3, 3, 4).unwrap(), -3.0);
        assert!(value(3, 0, 8).is_err());
        assert!(value(4, 4, 0).is_err());
        // The grids match the authors' lists (halved): er_pos FP4 has 16 distinct values.
        assert_eq!(Grid::new(4, 0).points.len(), 16);
        assert_eq!(Grid::new(3, 3).points.len(), 8);
        assert_eq!(qmax(4, 0), 6.0);
        assert_eq!(qmax(4, 3), 8.0);
        assert_eq!(qmax(3, 1), 2.0);
        assert_eq!(qmax(3, 2), 3.0);
    }

    #[test]
    fn ties_go_to_the_lower_value() {
        assert_eq!(round(4, 0, 4.5), (4.0, 0b0110));
        assert_eq!(round(4, 0, 5.5), (5.0, 0b1000)); // er_pos: between 5 and 6
        assert_eq!(round(4, 0, -2.5), (-3.0, 0b1101));
        assert_eq!(round(4, 0, -0.25), (-0.5, 0b1001));
        assert_eq!(round(4, 0, 0.25), (0.0, 0));
        assert_eq!(round(4, 1, -5.5), (-6.0, 0b1111)); // er_neg: between −6 and −5
        assert_eq!(round(4, 2, 7.0), (6.0, 0b0111)); // ea_pos: between 6 and 8
        assert_eq!(round(4, 2, 7.01), (8.0, 0b1000));
        assert_eq!(round(4, 2, -100.0), (-6.0, 0b1111)); // saturates
        assert_eq!(round(3, 0, 1.25), (1.0, 0b010));
        assert_eq!(round(3, 0, 1.75), (1.5, 0b100));
        assert_eq!(round(3, 3, -2.5), (-3.0, 0b100));
        assert_eq!(round(3, 2, 2.5), (2.0, 0b011));
    }

    /// Row scale 2^-10 comes from a calibration block of absmax 6·255·2^-10 (FP4) or 2·255·2^-10
    /// (FP3); the second block's values are multiples of `q·2^-10`.
    fn u(x: f64) -> f64 {
        x / 1024.0
    }

    #[test]
    fn bitmod4_every_dtype_chosen_and_exact() {
        let c = 255.0;
        let x = [
            // row 0: er_pos (q = 255) | ea_pos at q = 100
            [6.0 * c, 5.0 * c, -c, 0.5 * c, 800.0, 600.0, -300.0, 50.0],
            // row 1: er_neg (q = 255) | ea_neg at q = 100
            [-6.0 * c, -5.0 * c, c, 0.0, -800.0, -600.0, 300.0, 50.0],
        ];
        let data: Vec<f64> = x.iter().flatten().map(|&v| u(v)).collect();
        let t = quantize(4, &data, 8, 4).unwrap();
        assert_eq!(t.row_scales, vec![u(1.0) as f32; 2]);
        assert_eq!(t.selectors, vec![0, 2, 1, 3]);
        assert_eq!(t.scales, BlockScales::U8(vec![255, 100, 255, 100]));
        assert_eq!(t.values, data); // every value is on its grid
        assert_eq!(
            t.codes,
            vec![
                0b0111, 0b1000, 0b1010, 0b0001, 0b1000, 0b0111, 0b1101, 0b0001, //
                0b1111, 0b1000, 0b0010, 0b0000, 0b1000, 0b1111, 0b0101, 0b0001
            ]
        );
        assert_eq!(t.dequantize().unwrap(), t.values);
    }

    #[test]
    fn bitmod3_every_dtype_chosen_and_exact() {
        let c = 255.0;
        let x = [
            [2.0 * c, 1.5 * c, -c, 0.5 * c, 300.0, 200.0, -100.0, 50.0],
            [-2.0 * c, -1.5 * c, c, 0.0, -300.0, -200.0, 100.0, 50.0],
        ];
        let data: Vec<f64> = x.iter().flatten().map(|&v| u(v)).collect();
        let t = quantize(3, &data, 8, 4).unwrap();
        assert_eq!(t.row_scales, vec![u(1.0) as f32; 2]);
        assert_eq!(t.selectors, vec![0, 2, 1, 3]);
        assert_eq!(t.scales, BlockScales::U8(vec![255, 100, 255, 100]));
        assert_eq!(t.values, data);
        assert_eq!(
            t.codes,
            vec![
                0b011, 0b100, 0b110, 0b001, 0b100, 0b011, 0b110, 0b001, //
                0b111, 0b100, 0b010, 0b000, 0b100, 0b111, 0b010, 0b001
            ]
        );
    }

    #[test]
    fn dtype_ties_keep_the_first_and_zero_groups() {
        // Block 1 = (0, 0, 0, 240·2^-10): er_pos (q = 40), er_neg (q = 40), ea_pos (q = 30)
        // are all exact; er_pos is first. Block 2 is all zero: selector 0, q = 0.
        let c = 255.0;
        let x = [6.0 * c, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 240.0, 0.0, 0.0, 0.0, 0.0];
        let data: Vec<f64> = x.iter().map(|&v| u(v)).collect();
        let t = quantize(4, &data, 12, 4).unwrap();
        assert_eq!(t.selectors, vec![0, 0, 0]);
        assert_eq!(t.scales, BlockScales::U8(vec![255, 40, 0]));
        assert_eq!(t.values, data);
        assert_eq!(t.codes[8..], [0, 0, 0, 0]);
        // An all-zero row: S = 1, q = 0.
        let t = quantize(4, &[0.0; 5], 5, 4).unwrap();
        assert_eq!(t.row_scales, vec![1.0]);
        assert_eq!(t.scales, BlockScales::U8(vec![0, 0]));
        assert_eq!((t.selectors, t.values), (vec![0, 0], vec![0.0; 5]));
    }

    #[test]
    fn one_huge_outlier() {
        // S = 1530 / (6·255) = 1. er_pos at q = 255: 1530 → 6, the rest → 0, error 6; er_neg
        // ties (6, later); ea_pos at q = 191 / 192 gives 1528 / 1536 (error 10 / 42).
        let t = quantize(4, &[1530.0, 1.0, -1.0, 2.0], 4, 4).unwrap();
        assert_eq!(t.row_scales, vec![1.0]);
        assert_eq!(
            (t.selectors.clone(), t.scales.clone()),
            (vec![0], BlockScales::U8(vec![255]))
        );
        assert_eq!(t.values, vec![1530.0, 0.0, 0.0, 0.0]);
        assert_eq!(t.codes, vec![0b0111, 0, 0, 0]);
        // Negated: er_neg's −5 and er_pos's +5 are both unused: er_pos still first.
        let t = quantize(4, &[-1530.0, 1.0, -1.0, 2.0], 4, 4).unwrap();
        assert_eq!(t.values, vec![-1530.0, 0.0, 0.0, 0.0]);
        assert_eq!(t.selectors, vec![0]);
    }

    #[test]
    fn reference_keeps_the_unquantized_scale() {
        // [7, 1, 0, 0]: er (scale 7/6) gives 1 → 7/6 (error 1/36); ea_pos (scale 7/8) gives
        // 1 → 7/8 (error 1/64): ea_pos.
        let v = reference_values(4, &[7.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 8, 4).unwrap();
        assert_eq!(v, vec![7.0, 0.875, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // FP3: [3, -1]: er (scale 1.5): −1/1.5 = −0.67 → −0.5 → −0.75 (error 1/16); ea_pos
        // (scale 1): exact.
        assert_eq!(reference_values(3, &[3.0, -1.0], 2, 4).unwrap(), vec![3.0, -1.0]);
    }

    #[test]
    fn short_last_block() {
        // K = 6, B = 4: block 1 holds two elements and gets its own q.
        let c = 255.0;
        let x = [6.0 * c, 0.0, 0.0, 0.0, 3.0 * 10.0, -10.0];
        let data: Vec<f64> = x.iter().map(|&v| u(v)).collect();
        let t = quantize(4, &data, 6, 4).unwrap();
        // er_pos at q = 5 is exact: 30 → 6, −10 → −2.
        assert_eq!(t.scales, BlockScales::U8(vec![255, 5]));
        assert_eq!(t.values, data);
        assert_eq!(t.codes[4..], [0b0111, 0b1100]);
    }
}
