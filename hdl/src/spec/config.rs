//! The hardware configuration: one [`NpeConfig`] value describes an accelerator build (array
//! shape, bus width, buffer sizes). The RTL, the register map's capability values, the
//! configuration hash and the host runtime's limits all follow from it.

use super::{regs::REGMAP_VERSION, Accumulator, FixedPoint, Format, OutputFormat, OPERAND_BITS};

pub use super::axi::{AXI_BEAT_BYTES, AXI_DATA_BITS};

/// The multiplier formats of the 8-bit presets: every operand format of at most 8 bits whose
/// values are exact 18-bit fixed point (E5M2, with its infinities and 2^-16 … 2^15 range, and
/// posit4, which would widen the 4-bit lanes from 5 to 9 bits, are left out).
pub const LE8_FORMATS: [Format; 8] = [
    Format::Int2,
    Format::Int4,
    Format::Int8,
    Format::Fp4E2M1,
    Format::Fp6E2M3,
    Format::Fp6E3M2,
    Format::Fp8E4M3,
    Format::Posit8Es0,
];

/// The multiplier formats of the block-scaled presets: the ≤ 8-bit set and BitMoD's data types
/// (a block's selector picks one; their values lie within the set's fixed point, so the
/// datapath is the ≤ 8-bit set's).
pub const BLOCK_FORMATS: [Format; LE8_FORMATS.len() + Format::BITMOD.len()] = {
    let mut out = [Format::Int2; LE8_FORMATS.len() + Format::BITMOD.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = if i < LE8_FORMATS.len() {
            LE8_FORMATS[i]
        } else {
            Format::BITMOD[i - LE8_FORMATS.len()]
        };
        i += 1;
    }
    out
};

/// The multiplier formats of the OliVe presets: both outlier-victim pair formats (W4A4), and
/// INT8 / FP8 E4M3 activations beside OVP weights, with INT4. Every value is exact fixed point:
/// the 4-bit lanes hold 2^0 … 2^8 (flint4's outliers reach 384) in 9 bits, which FP4 (2^-1)
/// would widen to 10, beyond the LUT multipliers.
pub const OLIVE_FORMATS: [Format; 5] = [
    Format::Int4,
    Format::Int8,
    Format::Fp8E4M3,
    Format::OvpInt4,
    Format::OvpFlint4,
];

/// Operand words (one PE port's 16 bits) per AXI data beat.
pub const WORDS_PER_BEAT: u32 = AXI_DATA_BITS / OPERAND_BITS;

/// Bytes of one output value in device memory: every output format is held in a 32-bit
/// container (16-bit formats in its low half), so output rows are plain `u32` arrays.
pub const OUT_VALUE_BYTES: u32 = 4;

/// One accelerator build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NpeConfig {
    /// Preset name (used in module names and reports).
    pub name: &'static str,
    /// PE rows (rows of A / C per tile).
    pub rows: u32,
    /// PE columns (columns of W / C per tile).
    pub cols: u32,
    /// The formats the PEs multiply (the accumulator and the PE's datapath follow from them).
    pub format_set: &'static [Format],
    /// Operand words per activation bank half: the longest K, in beats (`K / lanes`).
    pub k_beats_max: u32,
    /// Operand words per weight bank: how many K-beats × column tiles one weight stripe holds.
    pub w_bank_words: u32,
    /// Column tiles one output buffer half holds (the widest weight stripe, in tiles).
    pub out_tiles: u32,
    /// Columns that share one output unit (S, dividing `cols`): the unit takes the group's
    /// columns one after the other, so a tile lasts at least R·S cycles (`rows` × this).
    pub cols_per_output_unit: u32,
    /// The PEs scale each weight block's partial sum by the block's scale (a bit-serial
    /// dequantization unit beside every fixed-point MAC pipe: MXFP4, NVFP4, BitMoD's groups).
    pub block_scales: bool,
}

impl NpeConfig {
    /// The 4×4 array the tests run.
    pub const TEST: NpeConfig = NpeConfig {
        name: "npe4x4",
        rows: 4,
        cols: 4,
        format_set: &Format::ALL,
        k_beats_max: 1024,
        w_bank_words: 8192,
        out_tiles: 32,
        cols_per_output_unit: 2,
        block_scales: false,
    };

    /// The 8×8 array of the demo.
    pub const DEMO: NpeConfig = NpeConfig {
        name: "npe8x8",
        rows: 8,
        cols: 8,
        format_set: &Format::ALL,
        k_beats_max: 1024,
        w_bank_words: 8192,
        out_tiles: 32,
        cols_per_output_unit: 2,
        block_scales: false,
    };

    /// The 8×8 array of the ≤ 8-bit formats ([`LE8_FORMATS`]): the preset that fits an ECP5
    /// at this size (its PEs are fixed-point integer MACs).
    pub const LE8: NpeConfig = NpeConfig {
        name: "npe8x8le8",
        rows: 8,
        cols: 8,
        format_set: &LE8_FORMATS,
        k_beats_max: 1024,
        w_bank_words: 8192,
        out_tiles: 32,
        cols_per_output_unit: 2,
        block_scales: false,
    };

    /// The 4×4 array of OliVe's formats ([`OLIVE_FORMATS`]): the fixed-point PE with the pair
    /// decoders at the array's edge. 4×4 because its PEs' 9×9-bit LUT products make an 8×8
    /// need about 105 k LUT4-eq, 125 % of an LFE5U-85F (`fpga/reports/synth.md`, notes).
    pub const OLIVE: NpeConfig = NpeConfig {
        name: "npe4x4ovp",
        rows: 4,
        cols: 4,
        format_set: &OLIVE_FORMATS,
        // One unit per column: the preset is at 44 % of the part, and it keeps the unshared
        // output stage built and tested.
        cols_per_output_unit: 1,
        ..NpeConfig::LE8
    };

    /// The 4×4 array of the ≤ 8-bit formats and BitMoD's data types with block-scaled weights
    /// (MXFP4, NVFP4, BitMoD's u8 group scales and selectors): the fixed-point PE with a
    /// bit-serial dequantization unit beside it.
    pub const BLOCK: NpeConfig = NpeConfig {
        name: "npe4x4bs",
        rows: 4,
        cols: 4,
        format_set: &BLOCK_FORMATS,
        block_scales: true,
        ..NpeConfig::LE8
    };

    /// Every preset.
    pub const PRESETS: [NpeConfig; 5] = [
        NpeConfig::TEST,
        NpeConfig::DEMO,
        NpeConfig::LE8,
        NpeConfig::OLIVE,
        NpeConfig::BLOCK,
    ];

    /// Looks a preset up by name.
    pub fn preset(name: &str) -> Option<NpeConfig> {
        Self::PRESETS.into_iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Output units: one per group of [`NpeConfig::cols_per_output_unit`] columns.
    pub const fn output_units(&self) -> u32 {
        self.cols / self.cols_per_output_unit
    }

    /// The fewest cycles a tile takes: R, so that a column's output unit takes one row per
    /// cycle, times the columns that share the unit.
    pub const fn min_tile_cycles(&self) -> u32 {
        self.rows * self.cols_per_output_unit
    }

    /// Peak multiply-accumulates per cycle for operands that give `lanes` lanes.
    pub const fn peak_macs_per_cycle(&self, lanes: u32) -> u32 {
        self.rows * self.cols * lanes
    }

    /// The accumulator every PE has.
    pub const fn accumulator(&self) -> Accumulator {
        Accumulator::for_formats(self.format_set)
    }

    /// The fixed-point datapath, when the format set allows one (see [`FixedPoint`]).
    pub const fn fixed_point(&self) -> Option<FixedPoint> {
        FixedPoint::for_formats(self.format_set)
    }

    /// The multiplier formats of the set.
    fn mac_formats(&self) -> impl Iterator<Item = Format> + '_ {
        self.format_set.iter().copied().filter(|f| f.is_mac_operand())
    }

    /// The CAPABILITY register's value (fields as in [`super::regs`]).
    pub fn capability(&self) -> u32 {
        let r = super::regs::register("CAPABILITY").expect("CAPABILITY is in the register map");
        let f = |n: &str| r.field(n).expect("CAPABILITY field");
        let mut v = f("ROWS").set(0, self.rows);
        v = f("COLS").set(v, self.cols);
        v = f("ACC_BITS").set(v, self.accumulator().width);
        f("BLOCK_SCALES").set(v, u32::from(self.block_scales))
    }

    /// The FORMATS register's value: bit `id` set for every operand format the PE multiplies.
    pub fn formats(&self) -> u32 {
        self.mac_formats().fold(0, |m, f| m | 1 << f.id())
    }

    /// Canonical text of everything a runtime must agree on with the hardware.
    pub fn describe(&self) -> String {
        let acc = self.accumulator();
        let fmts: Vec<String> = self.mac_formats().map(|f| format!("{}={}", f.name(), f.id())).collect();
        let outs: Vec<String> = OutputFormat::ALL
            .into_iter()
            .map(|f| format!("{}={}", f.name(), f.spec().id))
            .collect();
        format!(
            "npe regmap={REGMAP_VERSION} rows={} cols={} kbeats={} wbank={} outtiles={} blocks={} \
             axi={AXI_DATA_BITS} acc={}@{} formats={} outputs={}",
            self.rows,
            self.cols,
            self.k_beats_max,
            self.w_bank_words,
            self.out_tiles,
            u8::from(self.block_scales),
            acc.width,
            acc.lsb,
            fmts.join(","),
            outs.join(",")
        )
    }

    /// The CONFIG_HASH register's value: 32-bit FNV-1a of [`NpeConfig::describe`].
    pub fn hash(&self) -> u32 {
        self.describe()
            .bytes()
            .fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_and_hash_is_stable() {
        assert_ne!(NpeConfig::TEST.hash(), NpeConfig::DEMO.hash());
        // Same shape and buffers, other formats.
        assert_ne!(NpeConfig::DEMO.hash(), NpeConfig::LE8.hash());
        assert_eq!(NpeConfig::TEST.hash(), NpeConfig::TEST.hash());
        assert_eq!(NpeConfig::preset("NPE8X8"), Some(NpeConfig::DEMO));
        assert_eq!(NpeConfig::preset("nope"), None);
    }

    #[test]
    fn capability_fields_round_trip() {
        let r = super::super::regs::register("CAPABILITY").unwrap();
        let v = NpeConfig::DEMO.capability();
        assert_eq!(r.field("ROWS").unwrap().get(v), 8);
        assert_eq!(r.field("COLS").unwrap().get(v), 8);
        assert_eq!(r.field("ACC_BITS").unwrap().get(v), Accumulator::shared().width);
    }

    #[test]
    fn buffers_hold_a_256_cube_gemm_stripe() {
        // The demo's 256×256×256 16-bit GEMM: one weight stripe of all 32 column tiles.
        let c = NpeConfig::DEMO;
        assert!(256 <= c.k_beats_max && 256 * 32 <= c.w_bank_words && 256 / c.cols <= c.out_tiles);
        assert_eq!(WORDS_PER_BEAT, 8);
    }
}
