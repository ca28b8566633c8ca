//! A floorplan for a whole top on the LFE5U-85F: the systolic array's DSP slices and the
//! buffers' block RAMs pinned in the array's shape (nextpnr `BEL` attributes on the netlist)
//! before nextpnr places the rest around them.
//!
//! Why: left to itself, nextpnr's placer filled the first two DSP rows of the part and the
//! block-RAM row between them with npe8x8le8's 64 DSP slices and 144 block RAMs, and router1
//! stalled in that corner for hours (router2's congestion map: the DSP rows y = 10, 34 and the
//! block-RAM row y = 22). The floorplan lays the array out as its dataflow runs:
//!
//! - PE rows go up the part from the bottom DSP row (y = 58, then 34, then 10), spread evenly
//!   over as few DSP rows as hold them, the middle DSP row the lightest (npe8x8le8: 3, 2, 3
//!   rows; see `band_sizes`); in a DSP row, PE(r, c) takes the slice after PE(r − 1, c), so a
//!   column's PEs sit side by side and a PE row's neighbours a few slices apart.
//! - Each column's weight banks and weight decoders go in the two block-RAM rows below the
//!   array (y = 70 and 82), under their column; each PE row's activation banks and decoders in
//!   the block-RAM row beside its DSP row (y = 46, or y = 22 for the top DSP row), from the left
//!   edge where activations enter; each column's output and scale banks in row y = 22, above the
//!   last PE row.
//!
//! Cells are found by the names rust-hdl and Yosys give them (`pes__K` … `pair.alu`, `pair.m0`,
//! `pair.m1`; `wbank__C`, `wdec__C`, `abank__R`, `adec__R`, `obank__C`, `sbank__C`); a top
//! without them, or whose array or banks do not fit the plan, is an error, not a half plan.
//! Block RAMs of other blocks are left to the placer.

use crate::{io, FpgaError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// X of the 52 block-RAM sites of each block-RAM row (`X{x}/Y{y}/EBR{i mod 4}`), read off
/// nextpnr-ecp5's placement of a netlist that fills every site of the LFE5U-85F.
const EBR_X: [u32; 52] = [
    4, 6, 8, 10, 13, 15, 17, 19, 22, 24, 26, 28, 31, 33, 35, 37, 40, 42, 44, 46, 49, 51, 53, 55, 58, 60, 62, 64, 69,
    71, 73, 75, 78, 80, 82, 84, 87, 89, 91, 93, 96, 98, 100, 102, 105, 107, 109, 111, 114, 116, 118, 120,
];
/// X of the 26 ALU54B sites of each DSP row, read off the same way: the slice at index `i` is
/// `ALU54_3` (even `i`) or `ALU54_7` (odd), its multipliers `MULT18_0`/`_1` (or `_4`/`_5`)
/// three and two columns to its left.
const ALU_X: [u32; 26] = [
    7, 11, 16, 20, 25, 29, 34, 38, 43, 47, 52, 56, 61, 65, 72, 76, 81, 85, 90, 94, 99, 103, 108, 112, 117, 121,
];
/// The DSP rows, bottom first (the order PE rows fill them).
const DSP_Y: [u32; 3] = [58, 34, 10];
/// The block-RAM rows under the array (weights).
const W_EBR_Y: [u32; 2] = [70, 82];
/// The block-RAM row beside DSP row `DSP_Y[i]` (activations of its PE rows).
const A_EBR_Y: [u32; 3] = [46, 46, 22];
/// The block-RAM row above the last PE row (outputs).
const OUT_EBR_Y: u32 = 22;

fn ebr(y: u32, i: usize) -> String {
    format!("X{}/Y{y}/EBR{}", EBR_X[i], i % 4)
}

/// The ALU54B site and its two multipliers' sites (port `MA`, port `MB`) of slice `i` of DSP
/// row `y`.
fn dsp(y: u32, i: usize) -> [String; 3] {
    let x = ALU_X[i];
    let (alu, m) = if i.is_multiple_of(2) { (3, 0) } else { (7, 4) };
    [
        format!("X{x}/Y{y}/ALU54_{alu}"),
        format!("X{}/Y{y}/MULT18_{m}", x - 3),
        format!("X{}/Y{y}/MULT18_{}", x - 2, m + 1),
    ]
}

/// The cell → site map of the floorplan (see the module docs) for a `rows` × `cols` array
/// whose flat netlist has the DSP and block-RAM cells `cells` (name, cell type).
pub fn plan<'a>(
    cells: impl IntoIterator<Item = (&'a str, &'a str)>,
    rows: usize,
    cols: usize,
) -> Result<BTreeMap<String, String>, FpgaError> {
    // Cells by block instance: "wbank__3" → its (name, type)s, sorted by name.
    let mut by_block: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (n, ty) in cells {
        for part in n.split('.') {
            if let Some((block, idx)) = part.split_once("__") {
                if idx.parse::<usize>().is_ok() {
                    if matches!(block, "pes" | "wbank" | "wdec" | "abank" | "adec" | "obank" | "sbank") {
                        by_block
                            .entry(part.to_string())
                            .or_default()
                            .push((n.to_string(), ty.to_string()));
                    }
                    break;
                }
            }
        }
    }
    for v in by_block.values_mut() {
        v.sort();
    }
    let cells = |block: &str| -> Vec<String> {
        by_block
            .get(block)
            .into_iter()
            .flatten()
            .map(|(n, _)| n.clone())
            .collect()
    };
    let mut bel = BTreeMap::new();

    // DSP slices: each DSP row's PE rows (`band_sizes`) spread evenly over its 26 slices. A PE's
    // slice is its ALU54B and the two multipliers on its `MA`/`MB` ports (the fixed-point PE),
    // or its one or two multipliers alone (the shared PE's wide lanes) on the slice's
    // multiplier sites.
    let bands = band_sizes(rows);
    let per = bands.iter().copied().max().unwrap_or(0);
    if per * cols > ALU_X.len() {
        return Err(FpgaError::Floorplan(format!(
            "{per} PE rows of {cols} do not fit a DSP row's {} slices",
            ALU_X.len()
        )));
    }
    // (DSP row, index in it, PE rows in it) of each PE row, bottom up.
    let pe_rows: Vec<(usize, usize, usize)> = bands
        .iter()
        .enumerate()
        .flat_map(|(band, &n)| (0..n).map(move |j| (band, j, n)))
        .collect();
    for (r, &(band, j, in_band)) in pe_rows.iter().enumerate() {
        for c in 0..cols {
            let slot = (c * in_band + j) * ALU_X.len() / (cols * in_band);
            let pe = by_block
                .get(&format!("pes__{}", r * cols + c))
                .cloned()
                .unwrap_or_default();
            let find = |suffix: &str| pe.iter().find(|(n, _)| n.ends_with(suffix)).map(|(n, _)| n.clone());
            let [alu, ma, mb] = dsp(DSP_Y[band], slot);
            let mults: Vec<String> = pe
                .iter()
                .filter(|(_, ty)| ty == "MULT18X18D")
                .map(|(n, _)| n.clone())
                .collect();
            match (find(".pair.alu"), find(".pair.m0"), find(".pair.m1")) {
                (Some(a), Some(m0), Some(m1)) => {
                    bel.insert(a, alu);
                    bel.insert(m0, ma);
                    bel.insert(m1, mb);
                }
                _ if (1..=2).contains(&mults.len()) && !pe.iter().any(|(_, ty)| ty == "ALU54B") => {
                    for (m, site) in mults.into_iter().zip([ma, mb]) {
                        bel.insert(m, site);
                    }
                }
                _ => {
                    return Err(FpgaError::Floorplan(format!(
                        "PE({r},{c}) has neither a DSP pair (`…pair.alu`, `…pair.m0`, `…pair.m1`) nor one or two multipliers"
                    )))
                }
            }
        }
    }

    // Weights: column c's banks and decoders alternate between the two rows under the array,
    // from the first site of the column's share of each row.
    let share = EBR_X.len() / cols;
    for c in 0..cols {
        let mut w = cells(&format!("wbank__{c}"));
        w.extend(cells(&format!("wdec__{c}")));
        if w.len() > W_EBR_Y.len() * share {
            return Err(FpgaError::Floorplan(format!(
                "column {c}'s {} weight block RAMs exceed {share} sites a row",
                w.len()
            )));
        }
        for (i, n) in w.into_iter().enumerate() {
            bel.insert(n, ebr(W_EBR_Y[i % 2], c * EBR_X.len() / cols + i / 2));
        }
    }
    // Activations: each PE row's banks and decoders, from the left of its DSP row's block-RAM
    // row (rows sharing a block-RAM row follow one another).
    let mut next = BTreeMap::<u32, usize>::new();
    for (r, &(band, _, _)) in pe_rows.iter().enumerate() {
        let y = A_EBR_Y[band];
        let mut a = cells(&format!("abank__{r}"));
        a.extend(cells(&format!("adec__{r}")));
        let at = next.entry(y).or_insert(0);
        for n in a {
            if *at == EBR_X.len() {
                return Err(FpgaError::Floorplan(format!(
                    "activation block RAMs overflow block-RAM row y = {y}"
                )));
            }
            bel.insert(n, ebr(y, *at));
            *at += 1;
        }
    }
    // Outputs: column c's banks in the output row, in column order after the activations there.
    let first = next.get(&OUT_EBR_Y).copied().unwrap_or(0);
    let mut o: Vec<String> = Vec::new();
    for c in 0..cols {
        o.extend(cells(&format!("obank__{c}")));
        o.extend(cells(&format!("sbank__{c}")));
    }
    if first + o.len() > EBR_X.len() {
        return Err(FpgaError::Floorplan(format!(
            "output block RAMs overflow block-RAM row y = {OUT_EBR_Y}"
        )));
    }
    let spread = (EBR_X.len() - first) / o.len().max(1);
    for (i, n) in o.into_iter().enumerate() {
        bel.insert(n, ebr(OUT_EBR_Y, first + i * spread.max(1)));
    }
    Ok(bel)
}

/// How many PE rows each DSP row takes, bottom first: as few DSP rows as hold `rows` (at most
/// `rows / 3` rounded up to a row), the rows spread evenly over them, and the extra rows of an
/// uneven split go to the outer DSP rows first. The middle DSP row (y = 34) is where nextpnr
/// gathers the controller, register file and DMA: in npe8x8le8's router2 congestion map at
/// `1a91bba` (seed 3, 3/3/2 rows), the overuse that stayed peaked at x = 66–85, y = 27–37,
/// among them, and router1 stalled a few hundred arcs short.
fn band_sizes(rows: usize) -> Vec<usize> {
    let per = rows.div_ceil(DSP_Y.len()).max(1);
    let n = rows.div_ceil(per);
    // Outer DSP rows first (bottom, top), then the inner ones.
    let rank = |b: usize| match b {
        0 => 0,
        b if b + 1 == n => 1,
        b => b + 1,
    };
    (0..n).map(|b| rows / n + usize::from(rank(b) < rows % n)).collect()
}

/// Pins the cells of the floorplan in a flat Yosys JSON netlist (`netlist`, its top module
/// marked `top`): returns the netlist with `BEL` attributes and the number of cells pinned.
pub fn pin(netlist: &str, rows: usize, cols: usize) -> Result<(String, usize), FpgaError> {
    let parse = |e: serde_json::Error| FpgaError::Parse {
        what: "netlist JSON".into(),
        detail: e.to_string(),
    };
    let mut json: Value = serde_json::from_str(netlist).map_err(parse)?;
    let top = json["modules"]
        .as_object_mut()
        .and_then(|m| m.values_mut().find(|m| m["attributes"].get("top").is_some()))
        .ok_or_else(|| FpgaError::Floorplan("the netlist has no top module".into()))?;
    let cells = top["cells"]
        .as_object_mut()
        .ok_or_else(|| FpgaError::Floorplan("the top module has no cells".into()))?;
    let placed: Vec<(&str, &str)> = cells
        .iter()
        .filter_map(|(n, c)| match c["type"].as_str() {
            Some(ty @ ("DP16KD" | "ALU54B" | "MULT18X18D")) => Some((n.as_str(), ty)),
            _ => None,
        })
        .collect();
    let bel = plan(placed, rows, cols)?;
    for (cell, site) in &bel {
        cells[cell]["attributes"]["BEL"] = Value::String(site.clone());
    }
    Ok((serde_json::to_string(&json).map_err(parse)?, bel.len()))
}

/// Pins the flat netlist `<stem>.json` in `dir` ([`pin`]) into `<stem>.fp.json`, the file
/// nextpnr then reads; returns that file's name and the number of cells pinned.
pub fn pin_file(dir: &Path, stem: &str, rows: usize, cols: usize) -> Result<(String, usize), FpgaError> {
    let path = dir.join(format!("{stem}.json"));
    let netlist = fs::read_to_string(&path).map_err(io(&path))?;
    let (pinned, cells) = pin(&netlist, rows, cols)?;
    let fp = format!("{stem}.fp.json");
    fs::write(dir.join(&fp), pinned).map_err(io(dir))?;
    Ok((fp, cells))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The names of npe8x8le8's pinned cells, as Yosys gives them.
    fn le8_names() -> Vec<String> {
        let mut v = Vec::new();
        for k in 0..64 {
            for p in ["alu", "m0", "m1"] {
                v.push(format!("dut.core.array.pes__{k}.u_mac_fixed8.pair.{p}"));
            }
        }
        v.extend(banks(8));
        v
    }

    /// The block RAMs of an `n`-row, `n`-column fixed-point preset's buffers and edge decoders.
    fn banks(n: usize) -> Vec<String> {
        let mut v = Vec::new();
        for i in 0..n {
            for b in 0..8 {
                v.push(format!("dut.core.bufs.wbank__{i}.mem.0.{b}"));
            }
            for b in 0..4 {
                v.push(format!("dut.core.bufs.abank__{i}.mem.0.{b}"));
            }
            for blk in ["adec", "wdec"] {
                for rom in 0..2 {
                    v.push(format!("dut.core.array.{blk}__{i}.u_fixed_decode8.rom{rom}.mem.0.0"));
                }
            }
            v.push(format!("dut.core.bufs.sbank__{i}.mem.0.0"));
            v.push(format!("dut.core.out.obank__{i}.mem.0.0"));
        }
        v
    }

    /// Each name with its cell type, as `pin` passes them.
    fn typed(names: &[String]) -> impl Iterator<Item = (&str, &str)> {
        names.iter().map(|n| {
            let ty = if n.ends_with(".alu") {
                "ALU54B"
            } else if n.contains("pes__") {
                "MULT18X18D"
            } else {
                "DP16KD"
            };
            (n.as_str(), ty)
        })
    }

    #[test]
    fn every_cell_of_the_8x8_gets_its_own_site() {
        let names = le8_names();
        let bel = plan(typed(&names), 8, 8).unwrap();
        assert_eq!(bel.len(), names.len());
        let sites: BTreeSet<&String> = bel.values().collect();
        assert_eq!(sites.len(), bel.len(), "a site taken twice");
        // The weight block RAMs sit under the array, none in the row between the first two
        // DSP rows (where nextpnr's own placement stalled the router).
        for (n, s) in &bel {
            if n.contains("wbank") || n.contains("wdec") {
                assert!(s.contains("/Y70/") || s.contains("/Y82/"), "{n} at {s}");
            }
        }
        // PE(0,0) on the bottom DSP row, PE(7,7) on the top one; a slice's multipliers beside it.
        assert_eq!(bel["dut.core.array.pes__0.u_mac_fixed8.pair.alu"], "X7/Y58/ALU54_3");
        assert_eq!(bel["dut.core.array.pes__0.u_mac_fixed8.pair.m0"], "X4/Y58/MULT18_0");
        assert_eq!(bel["dut.core.array.pes__0.u_mac_fixed8.pair.m1"], "X5/Y58/MULT18_1");
        assert!(bel["dut.core.array.pes__63.u_mac_fixed8.pair.alu"].contains("/Y10/"));
        // Three PE rows on the outer DSP rows, two on the middle one: PE(3,0) and PE(4,7) on
        // y = 34, PE(5,0) on the top row with its activations in the output row.
        assert!(bel["dut.core.array.pes__24.u_mac_fixed8.pair.alu"].contains("/Y34/"));
        assert!(bel["dut.core.array.pes__39.u_mac_fixed8.pair.alu"].contains("/Y34/"));
        assert!(bel["dut.core.array.pes__40.u_mac_fixed8.pair.alu"].contains("/Y10/"));
        assert!(bel["dut.core.bufs.abank__5.mem.0.0"].contains("/Y22/"));
        // Column 7's weights right of column 0's.
        let x = |s: &str| s[1..s.find('/').unwrap()].parse::<u32>().unwrap();
        assert!(x(&bel["dut.core.bufs.wbank__7.mem.0.0"]) > x(&bel["dut.core.bufs.wbank__0.mem.0.7"]));
    }

    #[test]
    fn pe_rows_spread_over_the_dsp_rows_the_middle_one_lightest() {
        assert_eq!(band_sizes(8), [3, 2, 3]);
        assert_eq!(band_sizes(4), [2, 2]);
        assert_eq!(band_sizes(7), [3, 2, 2]);
        assert_eq!(band_sizes(9), [3, 3, 3]);
        assert_eq!(band_sizes(2), [1, 1]);
        assert_eq!(band_sizes(1), [1]);
    }

    #[test]
    fn a_top_without_its_array_cells_or_too_wide_is_refused() {
        let names = le8_names();
        let without: Vec<String> = names.iter().filter(|n| !n.contains("pes__5.")).cloned().collect();
        let e = plan(typed(&without), 8, 8).unwrap_err().to_string();
        assert!(e.contains("PE(0,5)"), "{e}");
        let e = plan(typed(&names), 4, 16).unwrap_err().to_string();
        assert!(e.contains("do not fit"), "{e}");
        assert!(pin("{}", 8, 8).is_err());
        assert!(pin("not json", 8, 8).is_err());
    }

    #[test]
    fn a_pe_of_two_multipliers_takes_a_slices_multiplier_sites() {
        // npe4x4's shared PE: lanes 0 and 1 each one MULT18X18D, no ALU54B.
        let mut names: Vec<String> = (0..16)
            .flat_map(|k| (0..2).map(move |d| format!("dut.core.array.pes__{k}.u_pe.mul.dsp{d}.dsp")))
            .collect();
        names.extend(banks(4).into_iter().filter(|n| !n.contains("dec__")));
        let bel = plan(typed(&names), 4, 4).unwrap();
        assert_eq!(bel.len(), names.len());
        assert_eq!(bel["dut.core.array.pes__0.u_pe.mul.dsp0.dsp"], "X4/Y58/MULT18_0");
        assert_eq!(bel["dut.core.array.pes__0.u_pe.mul.dsp1.dsp"], "X5/Y58/MULT18_1");
        // Two PE rows to a DSP row: PE(2,0) starts the second.
        assert!(bel["dut.core.array.pes__8.u_pe.mul.dsp0.dsp"].contains("/Y34/"));
    }

    #[test]
    fn pinning_sets_the_bel_attribute() {
        let mut cells = serde_json::Map::new();
        let names = le8_names();
        for (n, ty) in typed(&names) {
            cells.insert(n.into(), serde_json::json!({"type": ty, "attributes": {}}));
        }
        cells.insert("some.lut".into(), serde_json::json!({"type": "LUT4", "attributes": {}}));
        let netlist = serde_json::json!({"modules": {"t": {"attributes": {"top": "1"}, "cells": cells}}});
        let (text, n) = pin(&netlist.to_string(), 8, 8).unwrap();
        assert_eq!(n, le8_names().len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["modules"]["t"]["cells"]["dut.core.array.pes__0.u_mac_fixed8.pair.alu"]["attributes"]["BEL"],
            "X7/Y58/ALU54_3"
        );
    }
}
