//! Where words live in the core's buffer banks, derived from an [`NpeConfig`]'s buffer sizes.
//!
//! - A bank (one per row): two halves of `k_beats_max / 8` beats; address = half · 2^a + beat.
//! - W bank (one per column): `w_bank_words / 8` beats in two stripe halves; address =
//!   half · (beats / 2) + tile · kbq + beat.
//! - Output bank (one per column): address = half · 2^(t + r) + row · 2^t + tile, with
//!   2^t ≥ `out_tiles` and 2^r = R.
//! - Scale bank (one per column): address = (stripe mod 4) · 2^t + tile. Four stripes, not two:
//!   with double-buffered W banks the loader may fetch stripe s + 2's scales while stripe s's
//!   last results are still being rounded.
//! - Block-scale bank (block-scaled arrays, one for all columns): address = half · 256 +
//!   tile · (lines per tile) + block / b; a line holds b = `blocks_per_line(C)` blocks' C
//!   entries (BS_ADDR's layout in memory).

use crate::spec::config::{NpeConfig, WORDS_PER_BEAT};

use super::bank_ram::BANK_ADDR_BITS;

/// Address bits of the block-scale bank: 512 lines of 16 bytes, two halves of 256 (a
/// 128-bit-wide bank is four DP16KD at any depth up to 512). The job plan keeps a stripe's
/// block scales within a half.
pub const BS_BANK_BITS: usize = 9;

/// Stripe numbers the scale banks tell apart.
pub const SCALE_STRIPES: u32 = 4;

/// Address fields of the buffer banks (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankLayout {
    /// Address bits of an A-bank half.
    pub a_half_bits: usize,
    /// Address bits of a W bank.
    pub w_bits: usize,
    /// Bits of the tile field in output- and scale-bank addresses.
    pub tile_bits: usize,
    /// Bits of the row field in output-bank addresses.
    pub row_bits: usize,
}

/// ⌈log2 x⌉ for x ≥ 1.
const fn clog2(x: u32) -> usize {
    (u32::BITS - (x - 1).leading_zeros()) as usize
}

impl BankLayout {
    /// The layout for `cfg`, or why its buffer sizes do not make one.
    pub fn of(cfg: &NpeConfig) -> Result<BankLayout, String> {
        let a_beats = cfg.k_beats_max / WORDS_PER_BEAT;
        let w_beats = cfg.w_bank_words / WORDS_PER_BEAT;
        if !a_beats.is_power_of_two() || !cfg.k_beats_max.is_multiple_of(WORDS_PER_BEAT) {
            return Err(format!(
                "k_beats_max {} is not a power-of-two number of beats",
                cfg.k_beats_max
            ));
        }
        if !w_beats.is_power_of_two() || w_beats < 2 || !cfg.w_bank_words.is_multiple_of(WORDS_PER_BEAT) {
            return Err(format!(
                "w_bank_words {} is not a power-of-two number of beats",
                cfg.w_bank_words
            ));
        }
        if cfg.out_tiles == 0 {
            return Err("out_tiles is 0".into());
        }
        let l = BankLayout {
            a_half_bits: clog2(a_beats),
            w_bits: clog2(w_beats),
            tile_bits: clog2(cfg.out_tiles),
            row_bits: clog2(cfg.rows),
        };
        let widest = l.a_bits().max(l.w_bits).max(l.o_bits()).max(l.s_bits());
        if widest > BANK_ADDR_BITS {
            return Err(format!(
                "a bank needs {widest} address bits, more than {BANK_ADDR_BITS}"
            ));
        }
        Ok(l)
    }

    /// Address bits of an A bank.
    pub fn a_bits(&self) -> usize {
        self.a_half_bits + 1
    }

    /// Address of the second A half.
    pub fn a_half(&self) -> u64 {
        1 << self.a_half_bits
    }

    /// Address of the second W half (half the bank).
    pub fn w_half(&self) -> u64 {
        1 << (self.w_bits - 1)
    }

    /// Shift of the row field in an output-bank address.
    pub fn o_row_shift(&self) -> u64 {
        self.tile_bits as u64
    }

    /// Bit of the half in an output-bank address.
    pub fn o_half_bit(&self) -> u64 {
        (self.tile_bits + self.row_bits) as u64
    }

    /// Address bits of an output bank.
    pub fn o_bits(&self) -> usize {
        self.tile_bits + self.row_bits + 1
    }

    /// Shift of the stripe field in a scale-bank address.
    pub fn s_sp_shift(&self) -> u64 {
        self.tile_bits as u64
    }

    /// Address bits of a scale bank.
    pub fn s_bits(&self) -> usize {
        self.tile_bits + clog2(SCALE_STRIPES)
    }

    /// Address bits of the block-scale bank (block-scaled arrays): [`BS_BANK_BITS`], two
    /// stripe halves.
    pub fn bs_bits(&self) -> usize {
        BS_BANK_BITS
    }

    /// Address of the block-scale bank's second half.
    pub fn bs_half(&self) -> u64 {
        Self::bs_half_lines()
    }

    /// Lines of a half of the block-scale bank.
    pub const fn bs_half_lines() -> u64 {
        1 << (BS_BANK_BITS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_keep_their_bank_sizes() {
        for cfg in NpeConfig::PRESETS {
            let l = BankLayout::of(&cfg).unwrap();
            assert_eq!(1 << l.a_half_bits, cfg.k_beats_max / WORDS_PER_BEAT);
            assert_eq!(1 << l.w_bits, cfg.w_bank_words / WORDS_PER_BEAT);
            assert!(1 << l.tile_bits >= cfg.out_tiles && 1 << l.row_bits >= cfg.rows);
        }
        let l = BankLayout::of(&NpeConfig::DEMO).unwrap();
        // 1024 beats per A half-bank is 128 lines; 8192 W words 1024 lines; 32 tiles × 8 rows.
        assert_eq!((l.a_bits(), l.w_bits, l.o_bits(), l.s_bits()), (8, 10, 9, 7));
        assert_eq!(
            (l.a_half(), l.w_half(), l.o_half_bit(), l.s_sp_shift()),
            (128, 512, 8, 5)
        );
    }

    #[test]
    fn odd_buffer_sizes_are_refused() {
        let bad = |f: fn(&mut NpeConfig)| {
            let mut c = NpeConfig::TEST;
            f(&mut c);
            BankLayout::of(&c).is_err()
        };
        assert!(bad(|c| c.k_beats_max = 1000));
        assert!(bad(|c| c.w_bank_words = 8));
        assert!(bad(|c| c.out_tiles = 0));
        assert!(bad(|c| c.k_beats_max = 1 << 20));
        assert!(!bad(|c| c.out_tiles = 5));
    }
}
