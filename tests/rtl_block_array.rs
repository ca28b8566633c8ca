//! The Verilated block-scaled array (`array_block8`: 4×4 fixed-point PEs, each with a bit-serial
//! dequantization unit; the edge decoders and the block-scale decoders at the column edges) on
//! its own, against the golden model's exact block-scaled dot products.
//!
//! The test plays the sequencer: row r's beat k of a tile enters r cycles after the tile's beat
//! k, column c's weight word c cycles after it, the block-end flag with each block's last beat
//! and the column's scale entry with the block's weight words: the scale code counts with the
//! block's last word only (garbage on every other beat), a BitMoD selector with every word.
//! Tiles follow each other with no gap. Every PE's `fin` must come once per tile, with the tile's
//! exact sum of scaled blocks in `acc` (bit 0 weighing the fixed-point accumulator's LSB times
//! the window's lowest scale exponent) or `nan`.

use std::collections::HashMap;

use npe_hdl::emit::BLOCK_ARRAY_CFG as CFG;
use npe_hdl::pe::BLOCK8_ACCUMULATOR;
use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::{lanes, Format};
use npe_host::device::pack::{block_entry, pack_word};
use npe_host::golden::{exact_block_dot, Exact};
use npe_host::quant::block::{BlockScales, BlockScheme, BlockTensor};
use npe_sim::{tops::array_block8::TOP, Port, Sim};
use num_bigint::BigInt;
use rand::{rngs::StdRng, Rng, SeedableRng};

const ROWS: usize = CFG.rows as usize;
const COLS: usize = CFG.cols as usize;

fn port(name: &str) -> Port {
    TOP.port(name)
        .unwrap_or_else(|| panic!("array_block8 has no port {name}"))
}

/// One tile: R activation rows and a C-row block-quantized weight tensor.
struct Tile {
    a: Vec<Vec<u32>>,
    w: BlockTensor,
}

/// A job's shape and scale kind.
struct Job {
    a_fmt: Format,
    scheme: BlockScheme,
    /// Elements per block.
    block: usize,
    blocks: usize,
    /// E8M0's window base code.
    base: u8,
}

impl Job {
    /// The job's W format (BitMoD: the type of the width, the selector picks) and scale kind.
    fn device(&self) -> (Format, ScaleCode) {
        self.scheme
            .device()
            .unwrap_or_else(|| panic!("{:?} has no device scales", self.scheme))
    }

    fn kind(&self) -> ScaleCode {
        self.device().1
    }

    fn w_fmt(&self) -> Format {
        self.device().0
    }

    fn bitmod(&self) -> bool {
        self.w_fmt().is_bitmod()
    }

    fn k(&self) -> usize {
        self.block * self.blocks
    }

    /// The power of two of `acc`'s bit 0.
    fn acc_lsb(&self) -> i64 {
        i64::from(BLOCK8_ACCUMULATOR.lsb + self.kind().window_lo(self.base))
    }

    /// A random scale code: E4M3 any (NaNs now and then), E8M0 mostly in the window, now and
    /// then outside it or NaN.
    fn scale(&self, rng: &mut StdRng) -> u8 {
        match self.kind() {
            ScaleCode::U8 => [0, 1, 255, rng.gen(), rng.gen()][rng.gen_range(0..5)],
            ScaleCode::E8m0 => match rng.gen_range(0..20) {
                0 => 0xff,
                1 => self.base.wrapping_sub(1),
                2 => self.base + 16,
                _ => self.base + rng.gen_range(0..16),
            },
            _ => {
                if rng.gen_range(0..40) == 0 {
                    0x7f
                } else {
                    rng.gen_range(0..0x7f)
                }
            }
        }
    }

    fn tile(&self, rng: &mut StdRng) -> Tile {
        let k = self.k();
        let code_max = 1u32 << self.a_fmt.bits();
        let a = (0..ROWS)
            .map(|_| {
                // Now and then a row of one repeated code (zeros, the largest magnitude).
                if rng.gen_range(0..8) == 0 {
                    vec![rng.gen_range(0..code_max); k]
                } else {
                    (0..k).map(|_| rng.gen_range(0..code_max)).collect()
                }
            })
            .collect();
        let w = BlockTensor {
            scheme: self.scheme,
            rows: COLS,
            k,
            block: self.block,
            codes: (0..COLS * k)
                .map(|_| rng.gen_range(0..1 << self.w_fmt().bits()))
                .collect(),
            scales: BlockScales::U8((0..COLS * self.blocks).map(|_| self.scale(rng)).collect()),
            selectors: if self.bitmod() {
                (0..COLS * self.blocks).map(|_| rng.gen_range(0..4)).collect()
            } else {
                Vec::new()
            },
            // BitMoD's per-channel scale is the host's.
            row_scales: if self.bitmod() { vec![1.0; COLS] } else { Vec::new() },
            tensor_scale: (self.scheme == BlockScheme::Nvfp4).then_some(1.0),
            values: vec![0.0; COLS * k],
        };
        Tile { a, w }
    }
}

/// What PE(r,c) must show for `tile`: `Some(acc)` in units of the job's LSB, or `None` for NaN.
fn want(job: &Job, tile: &Tile, r: usize, c: usize) -> Option<BigInt> {
    let BlockScales::U8(scales) = &tile.w.scales else {
        unreachable!()
    };
    // An E8M0 code outside the window cannot be placed: the array makes the tile NaN.
    if job.kind() == ScaleCode::E8m0
        && scales[c * job.blocks..(c + 1) * job.blocks]
            .iter()
            .any(|&s| s != 0xff && !(job.base..=job.base + 15).contains(&s))
    {
        return None;
    }
    match exact_block_dot(job.a_fmt, &tile.a[r], &tile.w, c).expect("golden") {
        Exact::Finite { mant, exp } => {
            let shift = exp - job.acc_lsb();
            assert!(shift >= 0, "a value below the accumulator's LSB");
            Some(mant << shift as usize)
        }
        Exact::NaN => None,
        Exact::Inf { .. } => panic!("the ≤ 8-bit set has no infinities"),
    }
}

/// Two's complement `v` in `width` bits as 32-bit words, LSB first.
fn words_to_int(words: &[u32], width: usize) -> BigInt {
    let mut v = BigInt::from(0);
    for (i, w) in words.iter().enumerate() {
        v += BigInt::from(*w) << (32 * i);
    }
    v &= (BigInt::from(1) << width) - 1;
    if v.bit(width as u64 - 1) {
        v -= BigInt::from(1) << width;
    }
    v
}

/// Inputs of one cycle, by port name.
type Inputs = HashMap<usize, Vec<(String, u64)>>;

/// Runs `tiles` back to back; returns the mismatches (after checking every PE finished once per
/// tile and no PE overran).
fn run(job: &Job, tiles: &[Tile], rng: &mut StdRng) -> usize {
    let w_fmt = job.w_fmt();
    let nl = lanes(job.a_fmt, w_fmt) as usize;
    let bb = job.block / nl;
    assert!(
        job.block.is_multiple_of(nl) && bb >= job.kind().q_bits(),
        "blocks the unit keeps up with"
    );
    let kb = job.k() / nl;
    let mut at: Inputs = HashMap::new();
    let mut put = |t: usize, name: String, v: u64| at.entry(t).or_default().push((name, v));
    for (ti, tile) in tiles.iter().enumerate() {
        let start = ti * kb;
        let BlockScales::U8(scales) = &tile.w.scales else {
            unreachable!()
        };
        for k in 0..kb {
            let bend = (k + 1) % bb == 0 || k + 1 == kb;
            let flags = 1 | u64::from(k == 0) << 1 | u64::from(k + 1 == kb) << 2;
            for r in 0..ROWS {
                let word = pack_word(job.a_fmt, w_fmt, &tile.a[r][k * nl..(k + 1) * nl]).unwrap();
                put(start + k + r, format!("a_in__{r}"), u64::from(word));
                put(start + k + r, format!("flags_in__{r}"), flags);
                put(start + k + r, format!("bend_in__{r}"), u64::from(bend));
            }
            for c in 0..COLS {
                let codes: Vec<u32> = tile.w.codes[c * job.k() + k * nl..c * job.k() + (k + 1) * nl]
                    .iter()
                    .map(|&x| u32::from(x))
                    .collect();
                let word = pack_word(job.a_fmt, w_fmt, &codes).unwrap();
                put(start + k + c, format!("w_in__{c}"), u64::from(word));
                // The scale counts only with the block's last word, a BitMoD selector with
                // every word (else it is garbage).
                let j = c * job.blocks + k / bb;
                let code = if bend { scales[j] } else { rng.gen() };
                let sel = if job.bitmod() { tile.w.selectors[j] } else { rng.gen() };
                put(start + k + c, format!("s_in__{c}"), u64::from(block_entry(code, sel)));
            }
        }
    }
    let end = *at.keys().max().unwrap() + 60;
    let mut s = Sim::new(TOP);
    s.set(port("a_fmt"), u64::from(job.a_fmt.id()));
    s.set(port("w_fmt"), u64::from(w_fmt.id()));
    s.set(port("s_kind__0"), u64::from(job.kind().id()));
    s.set(port("s_base__0"), u64::from(job.base));
    s.set(port("reset"), 1);
    s.tick();
    s.set(port("reset"), 0);
    let width = port("acc__0").width as usize;
    assert_eq!(width, BLOCK8_ACCUMULATOR.width as usize);
    let mut got: Vec<Vec<Option<BigInt>>> = vec![Vec::new(); ROWS * COLS];
    for t in 0..end {
        // Ports not driven this cycle are zero (no beat).
        for r in 0..ROWS {
            for name in ["a_in", "flags_in", "bend_in"] {
                s.set(port(&format!("{name}__{r}")), 0);
            }
        }
        for c in 0..COLS {
            s.set(port(&format!("w_in__{c}")), 0);
            s.set(port(&format!("s_in__{c}")), u64::from(rng.gen::<u16>()));
        }
        for (name, v) in at.get(&t).into_iter().flatten() {
            s.set(port(name), *v);
        }
        s.tick();
        for (i, g) in got.iter_mut().enumerate() {
            assert_eq!(s.get(port(&format!("overrun__{i}"))), 0, "PE {i} overran");
            if s.get(port(&format!("fin__{i}"))) == 1 {
                g.push(if s.get(port(&format!("nan__{i}"))) == 1 {
                    None
                } else {
                    Some(words_to_int(&s.get_wide(port(&format!("acc__{i}"))), width))
                });
            }
        }
    }
    let mut bad = 0;
    for r in 0..ROWS {
        for c in 0..COLS {
            let g = &got[r * COLS + c];
            assert_eq!(g.len(), tiles.len(), "PE({r},{c}) finishes once per tile");
            for (ti, (g, tile)) in g.iter().zip(tiles).enumerate() {
                let w = want(job, tile, r, c);
                if *g != w {
                    if bad < 5 {
                        eprintln!("tile {ti} PE({r},{c}): got {g:?}, want {w:?}");
                    }
                    bad += 1;
                }
            }
        }
    }
    bad
}

#[test]
fn nvfp4_and_mxfp4_blocks_are_exact_at_full_rate() {
    let mut rng = StdRng::seed_from_u64(14);
    let jobs = [
        // NVFP4: B = 16 elements, INT8 and FP8 activations (two lanes: 8 beats per block) and
        // INT4 ones (four lanes: 4 beats, the E4M3 unit's 4 bits at full rate).
        Job {
            a_fmt: Format::Int8,
            scheme: BlockScheme::Nvfp4,
            block: 16,
            blocks: 3,
            base: 0,
        },
        Job {
            a_fmt: Format::Fp8E4M3,
            scheme: BlockScheme::Nvfp4,
            block: 16,
            blocks: 2,
            base: 0,
        },
        Job {
            a_fmt: Format::Int4,
            scheme: BlockScheme::Nvfp4,
            block: 16,
            blocks: 4,
            base: 0,
        },
        // MXFP4: B = 32, and 2-element blocks (one beat each, E8M0 takes one bit).
        Job {
            a_fmt: Format::Int8,
            scheme: BlockScheme::Mxfp4,
            block: 32,
            blocks: 2,
            base: 120,
        },
        Job {
            a_fmt: Format::Fp8E4M3,
            scheme: BlockScheme::Mxfp4,
            block: 2,
            blocks: 5,
            base: 3,
        },
    ];
    let mut bad = 0;
    for job in &jobs {
        let tiles: Vec<Tile> = (0..6).map(|_| job.tile(&mut rng)).collect();
        bad += run(job, &tiles, &mut rng);
    }
    assert_eq!(bad, 0, "mismatches");
}

/// BitMoD: each block's selector picks its data type (the −0 code its special value) on every
/// word of the block, u8 scales 0, 1, 255 and random, both widths, two lanes (INT8, FP8: 8 and
/// 64 beats per block) and four (INT4, FP4: 8 and 32), blocks back to back at full rate.
#[test]
fn bitmod_blocks_are_exact_at_full_rate() {
    let mut rng = StdRng::seed_from_u64(15);
    let job = |a_fmt, scheme, block, blocks| Job {
        a_fmt,
        scheme,
        block,
        blocks,
        base: 0,
    };
    let jobs = [
        job(Format::Int8, BlockScheme::Bitmod4, 16, 3),
        job(Format::Int4, BlockScheme::Bitmod4, 32, 2),
        job(Format::Fp8E4M3, BlockScheme::Bitmod3, 16, 3),
        job(Format::Fp4E2M1, BlockScheme::Bitmod3, 32, 2),
        job(Format::Int8, BlockScheme::Bitmod4, 128, 1),
        job(Format::Fp4E2M1, BlockScheme::Bitmod4, 128, 1),
    ];
    let mut bad = 0;
    for job in &jobs {
        let tiles: Vec<Tile> = (0..6).map(|_| job.tile(&mut rng)).collect();
        bad += run(job, &tiles, &mut rng);
    }
    assert_eq!(bad, 0, "mismatches");
}
