//! Device-memory layout of a GEMM job: lane-packed operand rows, 16-byte aligned (see
//! [`npe_hdl::accel::core`] for what the hardware reads).

use npe_hdl::spec::config::{AXI_BEAT_BYTES, OUT_VALUE_BYTES};
use npe_hdl::spec::{lanes, Format};

use crate::rtl::pe::pack;

/// Sizes of one job's packed operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Elements per lane-packed 16-bit word (1, 2 or 4).
    pub lanes: usize,
    /// Packed words per row of A / column of W: `⌈K / lanes⌉`.
    pub k_beats: usize,
    /// Bytes per packed row (16-byte aligned): A_STRIDE and W_STRIDE.
    pub row_bytes: usize,
    /// Bytes per output row (16-byte aligned): C_STRIDE.
    pub c_row_bytes: usize,
}

impl Layout {
    /// The layout of an `M×K · K×N` job in these formats.
    pub fn new(a_fmt: Format, w_fmt: Format, k: usize, n: usize) -> Layout {
        let lanes = lanes(a_fmt, w_fmt) as usize;
        let k_beats = k.div_ceil(lanes);
        let beat = AXI_BEAT_BYTES as usize;
        Layout {
            lanes,
            k_beats,
            row_bytes: (k_beats * 2).div_ceil(beat) * beat,
            c_row_bytes: (n * OUT_VALUE_BYTES as usize).div_ceil(beat) * beat,
        }
    }

    /// Packs `rows` vectors of K codes, where `code(r, k)` is element k of vector r, into rows of
    /// lane-packed little-endian 16-bit words; K is padded with zero codes (value 0 in every
    /// multiplier format).
    pub fn pack_rows(
        &self,
        a_fmt: Format,
        w_fmt: Format,
        rows: usize,
        k: usize,
        code: impl Fn(usize, usize) -> u32,
    ) -> Vec<u8> {
        let mut out = vec![0u8; rows * self.row_bytes];
        let mut lane_codes = vec![0u32; self.lanes];
        for r in 0..rows {
            for j in 0..self.k_beats {
                for (l, c) in lane_codes.iter_mut().enumerate() {
                    let kk = j * self.lanes + l;
                    *c = if kk < k { code(r, kk) } else { 0 };
                }
                let word = pack(a_fmt, w_fmt, &lane_codes);
                let at = r * self.row_bytes + 2 * j;
                out[at..at + 2].copy_from_slice(&word.to_le_bytes());
            }
        }
        out
    }

    /// Packs per-column scales as the hardware reads them (`SCALE_ADDR`): 16 bytes per tile of
    /// `cols` columns, column `c` of a tile as a little-endian sign-extended 16-bit word at byte
    /// `2c`. Empty in, empty out.
    pub fn pack_col_scales(&self, scales: &[i8], cols: usize) -> Vec<u8> {
        let mut out = vec![0u8; scales.len().div_ceil(cols) * 16];
        for (n, &s) in scales.iter().enumerate() {
            let at = n / cols * 16 + n % cols * 2;
            out[at..at + 2].copy_from_slice(&i16::from(s).to_le_bytes());
        }
        out
    }

    /// Reads an `m×n` result matrix (row-major codes) out of `bytes`, laid out as C is.
    pub fn unpack_c(&self, bytes: &[u8], m: usize, n: usize) -> Vec<u32> {
        let v = OUT_VALUE_BYTES as usize;
        (0..m)
            .flat_map(|r| (0..n).map(move |c| (r, c)))
            .map(|(r, c)| {
                let at = r * self.c_row_bytes + c * v;
                u32::from_le_bytes(bytes[at..at + v].try_into().expect("4 bytes"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_bit_rows_pack_four_lanes_per_word() {
        let l = Layout::new(Format::Int4, Format::Fp4E2M1, 9, 5);
        assert_eq!((l.lanes, l.k_beats, l.row_bytes, l.c_row_bytes), (4, 3, 16, 32));
        let bytes = l.pack_rows(Format::Int4, Format::Fp4E2M1, 2, 9, |r, k| ((r * 9 + k) % 16) as u32);
        assert_eq!(bytes.len(), 32);
        // Row 0: codes 0..9 → words 0x3210, 0x7654, 0x0008 (padding lanes are zero).
        assert_eq!(&bytes[..6], &[0x10, 0x32, 0x54, 0x76, 0x08, 0x00]);
        // Row 1 starts at 16: codes 9..18 mod 16 = 9,a,b,c | d,e,f,0 | 1.
        assert_eq!(&bytes[16..22], &[0xa9, 0xcb, 0xed, 0x0f, 0x01, 0x00]);
    }

    #[test]
    fn sixteen_bit_rows_and_c_unpack() {
        let l = Layout::new(Format::Int16, Format::Int8, 8, 3);
        assert_eq!((l.lanes, l.k_beats, l.row_bytes, l.c_row_bytes), (1, 8, 16, 16));
        let mut c = vec![0u8; 2 * l.c_row_bytes];
        c[16..20].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(l.unpack_c(&c, 2, 3), vec![0, 0, 0, 7, 0, 0]);
    }

    #[test]
    fn column_scales_pack_one_tile_per_beat() {
        let l = Layout::new(Format::Int8, Format::Int8, 8, 5);
        let b = l.pack_col_scales(&[1, -2, 3, -128, 127], 4);
        assert_eq!(b.len(), 32);
        assert_eq!(&b[..8], &[1, 0, 0xfe, 0xff, 3, 0, 0x80, 0xff]);
        assert_eq!(&b[16..18], &[127, 0]);
        assert!(l.pack_col_scales(&[], 4).is_empty());
    }
}
