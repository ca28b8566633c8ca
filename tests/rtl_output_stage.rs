//! The Verilated output stage (4 rows × 4 columns of the fixed-point datapath, two columns per
//! output unit, top `output_stage`) on its own: PEs finish as the array finishes them (a
//! column's rows on consecutive cycles, column c c cycles after column 0, tiles at least the
//! shortest tile period apart), the column scales come from a model
//! of the scale banks (read a cycle after their address), and the storer's side reads the
//! output banks back. Every container must be the golden rounding of its PE's sum under the
//! job's and its column's scale, in its (half, row, tile) place, for every output format;
//! each half reports ready once, after its last write.

use std::collections::HashMap;

use npe_hdl::accel::layout::BankLayout;
use npe_hdl::emit::OUTPUT_STAGE_CFG as CFG;
use npe_hdl::output::SCALE_BITS;
use npe_hdl::spec::OutputFormat;
use npe_host::golden::{round_to_output, Exact};
use npe_host::rtl::output::AccIn;
use npe_sim::{tops::output_stage::TOP, Port, Sim};
use num_bigint::BigInt;
use rand::{rngs::StdRng, Rng, SeedableRng};

const ROWS: usize = CFG.rows as usize;
const _: () = assert!(CFG.cols_per_output_unit > 1, "the test is of shared output units");
const COLS: usize = CFG.cols as usize;

fn port(name: &str) -> Port {
    TOP.port(name)
        .unwrap_or_else(|| panic!("output_stage has no port {name}"))
}

/// One PE's finished sum in a block: its place and its value.
struct Finished {
    tile: usize,
    row: usize,
    col: usize,
    x: AccIn,
}

/// A random accumulator of the datapath's width: magnitudes spread over every exponent, now
/// and then a special.
fn random_acc(rng: &mut StdRng, width: u32) -> AccIn {
    let bits = rng.gen_range(0..width - 1);
    let mag = rng.gen_range(0..=u64::MAX) >> (64 - bits.max(1));
    let acc = if rng.gen_bool(0.5) {
        -BigInt::from(mag)
    } else {
        BigInt::from(mag)
    };
    let special = rng.gen_range(0..16);
    AccIn {
        acc,
        nan: special == 0,
        pinf: special == 1 || special == 3,
        ninf: special == 2 || special == 3,
    }
}

/// The output stage with its ports looked up, and a model of the column-scale banks.
struct Stage {
    sim: Sim,
    layout: BankLayout,
    /// Column scale words by (column, bank address).
    scales: HashMap<(usize, u64), i16>,
}

impl Stage {
    fn new() -> Stage {
        let mut sim = Sim::new(TOP);
        sim.set(port("reset"), 1);
        sim.set(port("clear"), 1);
        sim.tick();
        sim.set(port("reset"), 0);
        sim.set(port("clear"), 0);
        sim.eval();
        Stage {
            sim,
            layout: BankLayout::of(&CFG).unwrap(),
            scales: HashMap::new(),
        }
    }

    /// The scale bank address of `tile` in stripe `sp`.
    fn scale_addr(&self, sp: u64, tile: usize) -> u64 {
        tile as u64 | sp << self.layout.s_sp_shift()
    }

    /// Feeds one block of `tiles` column tiles into output half `half` (stripe `sp`), the
    /// tiles `gap` cycles apart beyond the shortest tile period; returns how many ready pulses each half
    /// gave and checks the one of `half` came after the last result went in.
    fn run_block(&mut self, half: usize, sp: u64, tiles: usize, results: &[Finished], gap: &[usize]) -> [usize; 2] {
        let s = &mut self.sim;
        s.set(port(["last_tile0", "last_tile1"][half]), tiles as u64 - 1);
        s.set(port(["sp0", "sp1"][half]), sp);
        // The cycle each PE finishes: tile t's rows one per cycle, column c c cycles later.
        let period = CFG.min_tile_cycles() as usize;
        let mut at: HashMap<usize, Vec<&Finished>> = HashMap::new();
        let mut start = 0;
        for (t, g) in gap.iter().enumerate().take(tiles) {
            for x in results.iter().filter(|x| x.tile == t) {
                at.entry(start + x.row + x.col).or_default().push(x);
            }
            start += period + g;
        }
        let last = *at.keys().max().unwrap();
        let mut ready = [0; 2];
        let mut read_addr = [0u64; COLS];
        for cycle in 0..last + 40 {
            for r in 0..ROWS {
                for c in 0..COLS {
                    s.set(port(&format!("fin__{}", r * COLS + c)), 0);
                }
            }
            for f in at.get(&cycle).into_iter().flatten() {
                let (i, x) = (f.row * COLS + f.col, &f.x);
                let width = port("acc__0").width;
                let two = (&x.acc + (BigInt::from(1) << width)) % (BigInt::from(1) << width);
                s.set(port(&format!("fin__{i}")), 1);
                s.set(port(&format!("acc__{i}")), u64::try_from(&two).expect("≤ 64 bits"));
                s.set(port(&format!("nan__{i}")), x.nan.into());
                s.set(port(&format!("pinf__{i}")), x.pinf.into());
                s.set(port(&format!("ninf__{i}")), x.ninf.into());
            }
            s.eval();
            // The scale banks read the address of this cycle; the word is there the next one.
            for (c, a) in read_addr.iter_mut().enumerate() {
                *a = s.get(port(&format!("scale_addr__{c}")));
            }
            s.tick();
            for (c, a) in read_addr.iter().enumerate() {
                // An address no tile of the job uses reads a scale no result may show.
                let word = self.scales.get(&(c, *a)).copied().unwrap_or(0x55);
                s.set(port(&format!("scale__{c}")), u64::from(word as u16));
            }
            s.eval();
            for (h, name) in ["ready0", "ready1"].into_iter().enumerate() {
                if s.get(port(name)) == 1 {
                    ready[h] += 1;
                    if h == half {
                        assert!(
                            cycle >= last,
                            "half {h} ready at cycle {cycle}, before its last result ({last})"
                        );
                    }
                }
            }
        }
        ready
    }

    /// The container of (`half`, `row`, `tile`) in column `col`, read as the storer reads it.
    fn read(&mut self, half: usize, row: usize, tile: usize, col: usize) -> u32 {
        let s = &mut self.sim;
        s.set(port("rd_half"), half as u64);
        s.set(port("rd_row"), row as u64);
        s.set(port("rd_tile"), tile as u64);
        s.tick();
        // The bank's data, into its read register.
        s.set(port("rd_load"), 1);
        s.tick();
        s.set(port("rd_load"), 0);
        s.set(port("rd_group"), (col / 4) as u64);
        s.eval();
        s.get_wide(port("beat"))[col % 4]
    }
}

#[test]
fn results_are_rounded_scaled_and_stored_in_place() {
    let mut rng = StdRng::seed_from_u64(5);
    let acc = npe_hdl::pe::FIXED8_POINT.acc;
    let mut stage = Stage::new();
    let mut checked = 0;
    // Every output format three times, the scale switch and stripes varying.
    let formats = OutputFormat::ALL.len();
    for (n, out) in (0..3 * formats).map(|n| (n, OutputFormat::ALL[n % formats])) {
        let sim = &mut stage.sim;
        sim.set(port("out_fmt"), out.spec().id.into());
        let job_scale: i16 = rng.gen_range(-6..=6);
        sim.set(port("scale_job"), u64::from(job_scale as u16) & ((1 << SCALE_BITS) - 1));
        let scale_on = n % 3 != 2;
        sim.set(port("scale_on"), scale_on.into());
        // Two blocks, one per output half, of other tile counts and stripes.
        let blocks = [
            (0usize, rng.gen_range(1..5usize), (n % 4) as u64),
            (1, rng.gen_range(1..5), ((n + 1) % 4) as u64),
        ];
        let mut stored = Vec::new();
        for &(half, tiles, sp) in &blocks {
            let mut results = Vec::new();
            for tile in 0..tiles {
                for row in 0..ROWS {
                    for col in 0..COLS {
                        let x = random_acc(&mut rng, acc.width);
                        results.push(Finished { tile, row, col, x });
                    }
                }
                for col in 0..COLS {
                    let a = stage.scale_addr(sp, tile);
                    stage.scales.insert((col, a), rng.gen_range(-12..=12));
                }
            }
            let gap: Vec<usize> = (0..tiles).map(|_| rng.gen_range(0..4)).collect();
            let ready = stage.run_block(half, sp, tiles, &results, &gap);
            let mut want = [0; 2];
            want[half] = 1;
            assert_eq!(ready, want, "{out}: ready pulses of a block in half {half}");
            stored.push((half, sp, results));
        }
        // Both halves hold their blocks (the second did not overwrite the first).
        for (half, sp, results) in &stored {
            for x in results {
                let col_scale = if scale_on {
                    stage.scales[&(x.col, stage.scale_addr(*sp, x.tile))]
                } else {
                    0
                };
                let e = match x.x.exact(acc) {
                    Exact::Finite { mant, exp } => Exact::Finite {
                        mant,
                        exp: exp + i64::from(job_scale + col_scale),
                    },
                    other => other,
                };
                let want = round_to_output(out, &e);
                let got = stage.read(*half, x.row, x.tile, x.col);
                assert_eq!(
                    got,
                    want,
                    "{out}: half {half} tile {} row {} col {}: {:?} scaled 2^{}",
                    x.tile,
                    x.row,
                    x.col,
                    x.x,
                    job_scale + col_scale
                );
                checked += 1;
            }
        }
    }
    eprintln!("output stage: {checked} results in place, 0 mismatches");
}
