//! Device-memory layout of a GEMM job: lane-packed operand words, rows padded to whole AXI
//! beats (see [`npe_hdl::accel::core`] for what the hardware reads). The host packs with it and
//! the functional back end unpacks with it, so both follow one description.

use npe_hdl::spec::block_scale::{BS_ENTRY_BITS, SELECTOR_AT, SELECTOR_BITS};
use npe_hdl::spec::config::{AXI_BEAT_BYTES, OUT_VALUE_BYTES};
use npe_hdl::spec::{lanes, Format, OPERAND_BITS};

use super::DeviceError;

/// Bytes of one lane-packed operand word (one PE port).
pub const OPERAND_BYTES: usize = (OPERAND_BITS / 8) as usize;

/// Bytes of one AXI data beat: the alignment of every row.
const BEAT: usize = AXI_BEAT_BYTES as usize;

/// Bytes of a block's entry per column in BS_ADDR's layout.
const BS_ENTRY_BYTES: usize = BS_ENTRY_BITS / 8;

/// A block's entry in BS_ADDR's layout: its scale code and its BitMoD data-type selector (0 for
/// the other schemes).
pub fn block_entry(code: u8, sel: u8) -> u16 {
    u16::from(code) | u16::from(sel) << SELECTOR_AT
}

/// Bytes of one output container.
const OUT_BYTES: usize = OUT_VALUE_BYTES as usize;

/// Bits of one lane's slot in an operand word, for `lanes` lanes.
pub fn slot_bits(lanes: usize) -> usize {
    OPERAND_BITS as usize / lanes.max(1)
}

/// Packs one code per lane into an operand word: lane `l` at bit `l × slot`, where the slot
/// is `OPERAND_BITS / lanes` wide; `codes.len()` must equal the pair's lane count.
pub fn pack_word(a_fmt: Format, w_fmt: Format, codes: &[u32]) -> Result<u16, DeviceError> {
    let n = lanes(a_fmt, w_fmt) as usize;
    if codes.len() != n {
        return Err(DeviceError::Lanes {
            a_fmt,
            w_fmt,
            lanes: n,
            got: codes.len(),
        });
    }
    let slot = slot_bits(n);
    let mask = (1u32 << slot) - 1;
    Ok(codes
        .iter()
        .enumerate()
        .fold(0u16, |port, (l, &c)| port | ((c & mask) as u16) << (l * slot)))
}

/// The codes of an operand word, lane by lane, each cut to format `f`'s width (what the
/// decoder of a lane sees of a `f` code).
pub fn unpack_word(a_fmt: Format, w_fmt: Format, f: Format, word: u16) -> impl Iterator<Item = u32> {
    let n = lanes(a_fmt, w_fmt) as usize;
    let slot = slot_bits(n);
    let mask = (1u32 << f.bits().min(slot as u32)) - 1;
    (0..n).map(move |l| (u32::from(word) >> (l * slot)) & mask)
}

/// Sizes of one job's packed operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Elements per lane-packed operand word (1, 2 or 4).
    pub lanes: usize,
    /// Packed words per row of A / column of W: `⌈K / lanes⌉`.
    pub k_beats: usize,
    /// Bytes per packed row (whole AXI beats): A_STRIDE and W_STRIDE.
    pub row_bytes: usize,
    /// Bytes per output row (whole AXI beats): C_STRIDE.
    pub c_row_bytes: usize,
}

impl Layout {
    /// The layout of an `M×K · K×N` job in these formats.
    pub fn new(a_fmt: Format, w_fmt: Format, k: usize, n: usize) -> Layout {
        let lanes = lanes(a_fmt, w_fmt) as usize;
        let k_beats = k.div_ceil(lanes);
        Layout {
            lanes,
            k_beats,
            row_bytes: (k_beats * OPERAND_BYTES).div_ceil(BEAT) * BEAT,
            c_row_bytes: n.saturating_mul(OUT_BYTES).div_ceil(BEAT) * BEAT,
        }
    }

    /// Bytes of `rows` packed rows (A: M rows; W: N columns).
    pub fn rows_len(&self, rows: usize) -> usize {
        rows.saturating_mul(self.row_bytes)
    }

    /// Bytes of C for `m` rows.
    pub fn c_len(&self, m: usize) -> usize {
        m.saturating_mul(self.c_row_bytes)
    }

    /// Packs `rows` vectors of K codes, where `code(r, k)` is element k of vector r, into rows of
    /// lane-packed little-endian operand words; K is padded with zero codes (value 0 in every
    /// multiplier format).
    pub fn pack_rows(
        &self,
        a_fmt: Format,
        w_fmt: Format,
        rows: usize,
        k: usize,
        code: impl Fn(usize, usize) -> u32,
    ) -> Result<Vec<u8>, DeviceError> {
        let mut out = vec![0u8; self.rows_len(rows)];
        let mut lane_codes = vec![0u32; self.lanes];
        for r in 0..rows {
            for j in 0..self.k_beats {
                for (l, c) in lane_codes.iter_mut().enumerate() {
                    let kk = j * self.lanes + l;
                    *c = if kk < k { code(r, kk) } else { 0 };
                }
                let word = pack_word(a_fmt, w_fmt, &lane_codes)?;
                let at = r * self.row_bytes + OPERAND_BYTES * j;
                let dst = out.get_mut(at..at + OPERAND_BYTES).ok_or(DeviceError::ShortBuffer {
                    what: "packed rows",
                    need: at + OPERAND_BYTES,
                    have: self.rows_len(rows),
                })?;
                dst.copy_from_slice(&word.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// Bytes of packed column scales for `n` columns on an array `cols` wide: one beat per tile.
    pub fn col_scales_len(n: usize, cols: usize) -> Result<usize, DeviceError> {
        if cols == 0 || cols > BEAT / OPERAND_BYTES {
            return Err(DeviceError::Dimension(format!(
                "{cols} columns per tile: a scale beat holds 1..={}",
                BEAT / OPERAND_BYTES
            )));
        }
        Ok(n.div_ceil(cols) * BEAT)
    }

    /// Packs per-column scales as the hardware reads them (`SCALE_ADDR`): one beat per tile of
    /// `cols` columns, column `c` of a tile as a little-endian sign-extended 16-bit word at byte
    /// `2c`. Empty in, empty out; `cols` of 0 or more than a beat holds is an error.
    pub fn pack_col_scales(scales: &[i8], cols: usize) -> Result<Vec<u8>, DeviceError> {
        let mut out = vec![0u8; Self::col_scales_len(scales.len(), cols)?];
        for (n, &s) in scales.iter().enumerate() {
            let at = n / cols * BEAT + n % cols * OPERAND_BYTES;
            out[at..at + OPERAND_BYTES].copy_from_slice(&i16::from(s).to_le_bytes());
        }
        Ok(out)
    }

    /// Checks that `cols` columns' entries per tile divide a beat, as the block-scale layout
    /// needs.
    fn check_block_cols(cols: usize) -> Result<(), DeviceError> {
        if cols == 0 || !BEAT.is_multiple_of(cols * BS_ENTRY_BYTES) {
            return Err(DeviceError::Dimension(format!(
                "{cols} columns per tile: block scales need a number that divides {}",
                BEAT / BS_ENTRY_BYTES
            )));
        }
        Ok(())
    }

    /// Bytes of one column tile's run of block scales (BS_ADDR): `⌈nblk × cols × 2 / 16⌉`
    /// beats of 16-bit entries.
    pub fn block_scales_run_len(nblk: usize, cols: usize) -> Result<usize, DeviceError> {
        Self::check_block_cols(cols)?;
        nblk.checked_mul(cols * BS_ENTRY_BYTES)
            .map(|b| b.div_ceil(BEAT) * BEAT)
            .ok_or_else(|| DeviceError::Dimension(format!("{nblk} blocks per column: too many")))
    }

    /// Bytes of packed block scales for `n` columns of `nblk` blocks on an array `cols` wide:
    /// one run ([`Layout::block_scales_run_len`]) per column tile.
    pub fn block_scales_len(n: usize, nblk: usize, cols: usize) -> Result<usize, DeviceError> {
        let run = Self::block_scales_run_len(nblk, cols)?;
        n.div_ceil(cols)
            .checked_mul(run)
            .ok_or_else(|| DeviceError::Dimension(format!("{n} columns of {nblk} blocks: too many")))
    }

    /// Where the entry of block `j` of column `c` of a tile lies, in bytes from the start of the
    /// tile's run: entry `(j mod b) × cols + c` of beat `⌊j / b⌋` with `b = 8 / cols` blocks
    /// per beat, which is entry `j × cols + c` since a beat holds whole blocks of the tile
    /// (`cols` divides 8). The host packs and the functional back end unpacks with it.
    pub fn block_scale_offset(j: usize, c: usize, cols: usize) -> usize {
        (j * cols + c) * BS_ENTRY_BYTES
    }

    /// Packs block entries as the hardware reads them (BS_ADDR): `entries` is `[n][nblk]`
    /// row-major (one row per output column; [`block_entry`] makes one), laid out per column
    /// tile in tile order, each tile a run of whole beats ([`Layout::block_scale_offset`]),
    /// little-endian; columns past `n` in the last tile are zero. A count other than
    /// `n × nblk` is [`DeviceError::Shape`]; `cols` whose entries do not divide a beat is
    /// [`DeviceError::Dimension`].
    pub fn pack_block_scales(entries: &[u16], n: usize, nblk: usize, cols: usize) -> Result<Vec<u8>, DeviceError> {
        let run = Self::block_scales_run_len(nblk, cols)?;
        let expected = n
            .checked_mul(nblk)
            .ok_or_else(|| DeviceError::Dimension(format!("{n} columns of {nblk} blocks: too many")))?;
        if entries.len() != expected {
            return Err(DeviceError::Shape {
                what: "block scales",
                expected,
                got: entries.len(),
            });
        }
        let mut out = vec![0u8; Self::block_scales_len(n, nblk, cols)?];
        // `max(1)`: with no blocks there is nothing to place (and chunks refuses 0).
        for (col, row) in entries.chunks(nblk.max(1)).enumerate() {
            let tile = col / cols * run;
            for (j, &e) in row.iter().enumerate() {
                let at = tile + Self::block_scale_offset(j, col % cols, cols);
                out[at..at + BS_ENTRY_BYTES].copy_from_slice(&e.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// The entry of a block at `at` in a run: its scale code and selector.
    pub fn block_entry_at(run: &[u8], at: usize) -> (u8, u8) {
        let e = u16::from_le_bytes([run[at], run[at + 1]]);
        (
            (e & 0xFF) as u8,
            (e >> SELECTOR_AT) as u8 & ((1 << SELECTOR_BITS) - 1) as u8,
        )
    }

    /// Reads an `m×n` result matrix (row-major codes) out of `bytes`, laid out as C is; bytes
    /// too short for it are [`DeviceError::ShortBuffer`].
    pub fn unpack_c(&self, bytes: &[u8], m: usize, n: usize) -> Result<Vec<u32>, DeviceError> {
        if m == 0 || n == 0 {
            return Ok(Vec::new());
        }
        // The last row needs only its n values; earlier rows are c_row_bytes apart.
        (m - 1)
            .checked_mul(self.c_row_bytes)
            .and_then(|x| x.checked_add(n.checked_mul(OUT_BYTES)?))
            .filter(|&need| need <= bytes.len())
            .ok_or(DeviceError::ShortBuffer {
                what: "C",
                need: m.saturating_mul(self.c_row_bytes),
                have: bytes.len(),
            })?;
        let mut out = Vec::with_capacity(m * n);
        for r in 0..m {
            for c in 0..n {
                let at = r * self.c_row_bytes + c * OUT_BYTES;
                let mut v = [0u8; 4];
                v[..OUT_BYTES].copy_from_slice(&bytes[at..at + OUT_BYTES]);
                out.push(u32::from_le_bytes(v));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_bit_rows_pack_four_lanes_per_word() {
        let l = Layout::new(Format::Int4, Format::Fp4E2M1, 9, 5);
        assert_eq!((l.lanes, l.k_beats, l.row_bytes, l.c_row_bytes), (4, 3, 16, 32));
        let bytes = l
            .pack_rows(Format::Int4, Format::Fp4E2M1, 2, 9, |r, k| ((r * 9 + k) % 16) as u32)
            .unwrap();
        assert_eq!(bytes.len(), 32);
        // Row 0: codes 0..9 → words 0x3210, 0x7654, 0x0008 (padding lanes are zero).
        assert_eq!(&bytes[..6], &[0x10, 0x32, 0x54, 0x76, 0x08, 0x00]);
        // Row 1 starts at 16: codes 9..18 mod 16 = 9,a,b,c | d,e,f,0 | 1.
        assert_eq!(&bytes[16..22], &[0xa9, 0xcb, 0xed, 0x0f, 0x01, 0x00]);
        let back: Vec<u32> = unpack_word(Format::Int4, Format::Fp4E2M1, Format::Int4, 0x7654).collect();
        assert_eq!(back, vec![4, 5, 6, 7]);
    }

    #[test]
    fn sixteen_bit_rows_and_c_unpack() {
        let l = Layout::new(Format::Int16, Format::Int8, 8, 3);
        assert_eq!((l.lanes, l.k_beats, l.row_bytes, l.c_row_bytes), (1, 8, 16, 16));
        let mut c = vec![0u8; 2 * l.c_row_bytes];
        c[16..20].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(l.unpack_c(&c, 2, 3).unwrap(), vec![0, 0, 0, 7, 0, 0]);
    }

    #[test]
    fn column_scales_pack_one_tile_per_beat() {
        let b = Layout::pack_col_scales(&[1, -2, 3, -128, 127], 4).unwrap();
        assert_eq!(b.len(), 32);
        assert_eq!(&b[..8], &[1, 0, 0xfe, 0xff, 3, 0, 0x80, 0xff]);
        assert_eq!(&b[16..18], &[127, 0]);
        assert!(Layout::pack_col_scales(&[], 4).unwrap().is_empty());
    }

    /// Entry of block `j` of column `c` in the tests: code `0x10 c + j + 1` (a byte that names
    /// its place) and selector `(c + j) mod 4`.
    fn entry(c: usize, j: usize) -> u16 {
        block_entry((0x10 * c + j + 1) as u8, ((c + j) % 4) as u8)
    }

    fn entries(n: usize, nblk: usize) -> Vec<u16> {
        (0..n).flat_map(|c| (0..nblk).map(move |j| entry(c, j))).collect()
    }

    fn le(es: &[u16]) -> Vec<u8> {
        es.iter().flat_map(|e| e.to_le_bytes()).collect()
    }

    #[test]
    fn block_scales_four_columns_two_blocks_per_beat() {
        // 5 columns of 3 blocks on 4 columns: 2 tiles, each a run of ⌈3·4·2/16⌉ = 2 beats.
        let b = Layout::pack_block_scales(&entries(5, 3), 5, 3, 4).unwrap();
        assert_eq!(Layout::block_scales_len(5, 3, 4), Ok(64));
        let e = entry;
        let mut want = Vec::new();
        // Tile 0: blocks 0, 1 as columns 0..4, then block 2 and nothing.
        want.extend(le(&[
            e(0, 0),
            e(1, 0),
            e(2, 0),
            e(3, 0),
            e(0, 1),
            e(1, 1),
            e(2, 1),
            e(3, 1),
        ]));
        want.extend(le(&[e(0, 2), e(1, 2), e(2, 2), e(3, 2), 0, 0, 0, 0]));
        // Tile 1 holds column 4 only: columns 5..8 are zero.
        want.extend(le(&[e(4, 0), 0, 0, 0, e(4, 1), 0, 0, 0]));
        want.extend(le(&[e(4, 2), 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(b, want);
        // The entry's parts read back.
        assert_eq!(
            Layout::block_entry_at(&b, Layout::block_scale_offset(1, 2, 4)),
            (0x22, 3)
        );
    }

    #[test]
    fn block_scales_eight_columns_one_block_per_beat() {
        // 3 columns of 2 blocks on 8 columns: 1 tile, a run of ⌈2·8·2/16⌉ = 2 beats.
        let b = Layout::pack_block_scales(&entries(3, 2), 3, 2, 8).unwrap();
        let e = entry;
        let mut want = le(&[e(0, 0), e(1, 0), e(2, 0), 0, 0, 0, 0, 0]);
        want.extend(le(&[e(0, 1), e(1, 1), e(2, 1), 0, 0, 0, 0, 0]));
        assert_eq!(b, want);
    }

    #[test]
    fn block_scale_offsets_follow_the_register_description() {
        // Entry (j mod (8 / COLS)) × COLS + c of beat ⌊j / (8 / COLS)⌋, as BS_ADDR says.
        for cols in [1, 2, 4, 8] {
            let per = BEAT / BS_ENTRY_BYTES / cols;
            for j in 0..40 {
                for c in 0..cols {
                    let want = j / per * BEAT + (j % per * cols + c) * BS_ENTRY_BYTES;
                    assert_eq!(Layout::block_scale_offset(j, c, cols), want, "cols {cols} j {j} c {c}");
                }
            }
        }
    }

    #[test]
    fn block_scales_bad_input_is_a_typed_error() {
        assert_eq!(
            Layout::pack_block_scales(&[1, 2, 3], 2, 2, 4),
            Err(DeviceError::Shape {
                what: "block scales",
                expected: 4,
                got: 3
            })
        );
        for cols in [0, 3, 16] {
            assert!(matches!(
                Layout::pack_block_scales(&[1], 1, 1, cols),
                Err(DeviceError::Dimension(_))
            ));
        }
        assert!(matches!(
            Layout::block_scales_len(usize::MAX, 2, 4),
            Err(DeviceError::Dimension(_))
        ));
        assert!(Layout::pack_block_scales(&[], 0, 3, 8).unwrap().is_empty());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        // Zero columns per tile, or more than a beat holds.
        assert!(matches!(
            Layout::pack_col_scales(&[1], 0),
            Err(DeviceError::Dimension(_))
        ));
        assert!(matches!(
            Layout::pack_col_scales(&[1], 9),
            Err(DeviceError::Dimension(_))
        ));
        // C bytes shorter than the shape asks for.
        let l = Layout::new(Format::Int8, Format::Int8, 8, 3);
        assert!(matches!(
            l.unpack_c(&[0; 16], 2, 3),
            Err(DeviceError::ShortBuffer { what: "C", .. })
        ));
        assert!(matches!(
            l.unpack_c(&[0; 8], 1, 3),
            Err(DeviceError::ShortBuffer { .. })
        ));
        assert!(l.unpack_c(&[], 0, 3).unwrap().is_empty());
        // The wrong number of lane codes.
        assert!(matches!(
            pack_word(Format::Int4, Format::Int4, &[1, 2]),
            Err(DeviceError::Lanes { lanes: 4, got: 2, .. })
        ));
    }
}
