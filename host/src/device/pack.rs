//! Device-memory layout of a GEMM job: lane-packed operand words, rows padded to whole AXI
//! beats (see [`npe_hdl::accel::core`] for what the hardware reads). The host packs with it and
//! the functional back end unpacks with it, so both follow one description.

use npe_hdl::spec::config::{AXI_BEAT_BYTES, OUT_VALUE_BYTES};
use npe_hdl::spec::{lanes, Format, OPERAND_BITS};

use super::DeviceError;

/// Bytes of one lane-packed operand word (one PE port).
pub const OPERAND_BYTES: usize = (OPERAND_BITS / 8) as usize;

/// Bytes of one AXI data beat: the alignment of every row.
const BEAT: usize = AXI_BEAT_BYTES as usize;

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
