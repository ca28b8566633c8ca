//! The whole accelerator (Verilated npe4x4, and one GEMM on npe8x8: registers, controller,
//! array, output units, AXI DMA) driven through the host runtime against the Rust AXI memory
//! model, every result compared with the golden model; and the functional back end held to
//! the simulator: same C, same errors, same DMA counters.

use std::time::Duration;

use npe_hdl::spec::config::AXI_BEAT_BYTES;
use npe_hdl::spec::regs::{self, ErrorCode};
use npe_hdl::spec::{Format, NpeConfig, OutputFormat};
use npe_host::demo::random_job;
use npe_host::device::functional::{FunctionalBackend, FunctionalOptions};
use npe_host::device::memory::DeviceMemory;
use npe_host::device::sim::{SimBackend, SimOptions};
use npe_host::device::{Backend, BusError, BusOp, Device, DeviceError, FaultSite, GemmBuffers, GemmJob};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CFG: NpeConfig = NpeConfig::TEST;

/// `cycles` clock cycles of the simulator's nominal clock, as device time.
fn cycles(n: u64) -> Duration {
    Duration::from_nanos(n * 1_000_000_000 / SimOptions::default().clock_hz)
}

/// A register field's value `v` in an otherwise zero word.
fn field_word(reg: &str, field: &str, v: u32) -> u32 {
    regs::register(reg).unwrap().field(field).unwrap().set(0, v)
}

fn functional(cfg: NpeConfig) -> Device<FunctionalBackend> {
    Device::connect(
        FunctionalBackend::new(&cfg, &FunctionalOptions::default()).unwrap(),
        cfg,
    )
    .unwrap()
}

fn device(opts: &SimOptions) -> Device<SimBackend> {
    Device::connect(SimBackend::new(&CFG, opts).unwrap(), CFG).unwrap()
}

/// Runs `job`, compares every result with the golden model, checks the bus stayed clean.
fn check(dev: &mut Device<SimBackend>, job: &GemmJob, what: &str) -> u64 {
    let run = dev.gemm(job).unwrap_or_else(|e| panic!("{what}: {e}"));
    let golden = job.golden().unwrap();
    let bad: Vec<usize> = (0..golden.len()).filter(|&i| run.c[i] != golden[i]).collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} results differ; first at (m, n) = ({}, {}): hw {:#x}, golden {:#x}",
        bad.len(),
        golden.len(),
        bad[0] / job.n,
        bad[0] % job.n,
        run.c[bad[0]],
        golden[bad[0]]
    );
    assert!(
        dev.backend().violations().is_empty(),
        "{what}: {:?}",
        dev.backend().violations()
    );
    run.counters.busy
}

fn mac_formats() -> Vec<Format> {
    Format::ALL.into_iter().filter(|f| f.is_mac_operand()).collect()
}

#[test]
fn registers_identify_the_device() {
    let mut dev = device(&SimOptions::default());
    let info = dev.info().unwrap();
    assert_eq!((info.rows, info.cols), (CFG.rows, CFG.cols));
    assert_eq!(info.acc_bits, CFG.accumulator().width);
    assert_eq!(info.formats, CFG.formats());
    dev.write("SCRATCH", 0xDEAD_BEEF).unwrap();
    assert_eq!(dev.read("SCRATCH").unwrap(), 0xDEAD_BEEF);
    // Read-only: SLVERR and unchanged; unmapped: DECERR.
    let id = regs::register("ID").unwrap().offset;
    assert_eq!(
        dev.write("ID", 0).unwrap_err(),
        DeviceError::Bus(BusError::SlvErr {
            op: BusOp::RegWrite,
            addr: id
        })
    );
    assert_eq!(dev.read("ID").unwrap(), npe_hdl::spec::regs::ID_MAGIC);
    // Past the last register.
    let unmapped = regs::REGISTERS.last().unwrap().offset + 4;
    assert_eq!(
        dev.backend().read_reg(unmapped).unwrap_err(),
        DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegRead,
            addr: unmapped
        })
    );
    assert!(matches!(dev.read("NOPE"), Err(DeviceError::NoSuchRegister(_))));
    // A runtime built for another preset refuses the device.
    let b = SimBackend::new(&CFG, &SimOptions::default()).unwrap();
    assert!(matches!(
        Device::connect(b, NpeConfig::DEMO),
        Err(DeviceError::ConfigMismatch { .. })
    ));
}

#[test]
fn every_format_pair_small_gemm() {
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(7);
    let mut results = 0;
    for a in mac_formats() {
        for w in mac_formats() {
            let out = OutputFormat::ALL[rng.gen_range(0..OutputFormat::ALL.len())];
            let shape = (rng.gen_range(1..7), rng.gen_range(1..9), rng.gen_range(1..40));
            let job = random_job((a, w, out), shape, &mut rng);
            check(&mut dev, &job, &format!("{a} x {w} -> {out} {shape:?}"));
            results += shape.0 * shape.1;
        }
    }
    eprintln!(
        "every format pair: {} pairs, {results} results, 0 mismatches",
        mac_formats().len().pow(2)
    );
}

#[test]
fn odd_shapes_latency_and_backpressure() {
    let shapes = [
        (1, 1, 1),
        (1, 7, 13),
        (5, 3, 2),
        (17, 9, 31),
        (13, 37, 40),
        (4, 4, 4),
        (9, 1, 100),
    ];
    let pairs = [
        (Format::Int8, Format::Int4, OutputFormat::Int32),
        (Format::Fp8E5M2, Format::Fp6E2M3, OutputFormat::Fp16),
        (Format::Posit16Es1, Format::Int16, OutputFormat::Posit16Es1),
    ];
    let mut rng = StdRng::seed_from_u64(11);
    for (seed, (latency, bp)) in [(0u32, 0.0), (1, 0.0), (30, 0.0), (5, 0.3), (12, 0.5)]
        .into_iter()
        .enumerate()
    {
        let mut dev = device(&SimOptions {
            latency,
            backpressure: bp,
            seed: seed as u64 + 3,
            ..SimOptions::default()
        });
        for &shape in &shapes {
            for pair in pairs {
                let job = random_job(pair, shape, &mut rng);
                check(&mut dev, &job, &format!("{pair:?} {shape:?} latency {latency} bp {bp}"));
            }
        }
    }
}

#[test]
fn long_k_and_several_weight_stripes() {
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(5);
    // K = 1024 16-bit beats fills an A half; 128 words per column leave room for 8 column
    // tiles per weight stripe, so N = 70 needs three stripes.
    let job = random_job(
        (Format::Int16, Format::Posit16Es1, OutputFormat::Fp32),
        (6, 70, 1024),
        &mut rng,
    );
    check(&mut dev, &job, "posit16 K=1024 N=70");
    let job = random_job(
        (Format::Fp4E2M1, Format::Int4, OutputFormat::Int32),
        (5, 9, 4096),
        &mut rng,
    );
    check(&mut dev, &job, "4-bit K=4096");
    // Cancellation over a long K: the exact accumulator must return exactly 0 + the last term.
    let k = 2000;
    let mut a = vec![0u32; k];
    let mut w = vec![0u32; k];
    for i in 0..k {
        let x = if i % 2 == 0 { 96.0 } else { -96.0 };
        a[i] = npe_host::golden::encode(Format::Fp8E4M3, x);
        w[i] = npe_host::golden::encode(Format::Fp8E4M3, 1.5 + i as f64 % 7.0 * 0.0);
    }
    a[k - 1] = npe_host::golden::encode(Format::Fp8E4M3, 0.015625);
    let job = GemmJob {
        a_fmt: Format::Fp8E4M3,
        w_fmt: Format::Fp8E4M3,
        out: OutputFormat::Fp32,
        scale_exp: 3,
        col_scale_exp: Vec::new(),
        m: 1,
        n: 1,
        k,
        a,
        w,
    };
    check(&mut dev, &job, "cancellation");
}

#[test]
fn output_scale_and_every_output_format() {
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(9);
    for out in OutputFormat::ALL {
        for scale in [-20i8, -1, 0, 5, 40] {
            let mut job = random_job((Format::Fp8E4M3, Format::Int8, out), (3, 5, 17), &mut rng);
            job.scale_exp = scale;
            check(&mut dev, &job, &format!("{out} scale {scale}"));
        }
    }
}

#[test]
fn per_column_scales_across_stripes_and_partial_tiles() {
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(11);
    // 16-bit K = 1024 fills 128 W-bank words per column tile: stripes of 4 tiles (half a bank),
    // so N = 67 (17 tiles, the last one partial) runs five stripes — both W halves and every
    // scale-bank slot, one twice — and M = 9 three row blocks.
    let mut job = random_job(
        (Format::Int16, Format::Posit16Es1, OutputFormat::Fp32),
        (9, 67, 1024),
        &mut rng,
    );
    job.scale_exp = -3;
    job.col_scale_exp = (0..67).map(|_| rng.gen_range(-40..=40)).collect();
    check(&mut dev, &job, "column scales, 5 stripes");
    // The ends of the summed scale's range, and a job without column scales after one with.
    let mut job = random_job((Format::Fp8E4M3, Format::Int8, OutputFormat::Bf16), (5, 9, 7), &mut rng);
    for (base, cols) in [(-128i8, [-128i8, 127, 0]), (127, [127, -128, 1])] {
        job.scale_exp = base;
        job.col_scale_exp = (0..9).map(|n| cols[n % 3]).collect();
        check(&mut dev, &job, &format!("column scales at the range ends, base {base}"));
    }
    job.col_scale_exp.clear();
    check(&mut dev, &job, "no column scales after a job with them");
    job.col_scale_exp = vec![0; 8];
    assert!(matches!(
        dev.gemm(&job),
        Err(DeviceError::Shape {
            what: "column scales",
            ..
        })
    ));
}

#[test]
fn bus_errors_end_the_job_and_the_device_recovers() {
    // Where the runtime puts A, W and C: the allocator's first three buffers in a fresh memory.
    let mut rng = StdRng::seed_from_u64(1);
    let job = random_job((Format::Int8, Format::Int8, OutputFormat::Int32), (4, 4, 16), &mut rng);
    let sizes = job.buffer_sizes(&CFG).unwrap();
    let mem_bytes = SimOptions::default().mem_bytes;
    let mut mem = DeviceMemory::new(0, mem_bytes);
    let (a, _w, c) = (
        mem.alloc(sizes.a).unwrap(),
        mem.alloc(sizes.w).unwrap(),
        mem.alloc(sizes.c).unwrap(),
    );
    // SLVERR on A's first beat, then DECERR from C on.
    let mut dev = device(&SimOptions {
        slverr: vec![(a.addr(), a.addr() + AXI_BEAT_BYTES)],
        ..SimOptions::default()
    });
    // The error names the failing burst's address and the buffer it is in.
    let e = dev.gemm(&job).unwrap_err();
    assert!(
        matches!(
            e,
            DeviceError::DmaFault {
                code: ErrorCode::ReadSlvErr,
                site: FaultSite::Burst { addr, buffer: "A", .. }
            } if addr == a.addr()
        ),
        "{e}"
    );
    assert!(e.to_string().contains(&format!("{:#x} (buffer A)", a.addr())), "{e}");

    let mut dev = device(&SimOptions {
        decerr: vec![(c.addr(), mem_bytes)],
        ..SimOptions::default()
    });
    match dev.gemm(&job).unwrap_err() {
        DeviceError::DmaFault {
            code: ErrorCode::WriteDecErr,
            site: FaultSite::Burst { addr, buffer: "C", .. },
        } => assert!((c.addr()..c.addr() + sizes.c as u32).contains(&addr), "{addr:#x}"),
        e => panic!("{e}"),
    }
    assert!(dev.backend().violations().is_empty());
    // Registers written by hand: a zero dimension and a misaligned address.
    dev.write("M", 0).unwrap();
    assert_eq!(dev.start_and_wait().unwrap_err(), DeviceError::Job(ErrorCode::BadJob));
    dev.write("M", 4).unwrap();
    dev.write("A_ADDR", AXI_BEAT_BYTES / 2).unwrap();
    assert_eq!(
        dev.start_and_wait().unwrap_err(),
        DeviceError::Job(ErrorCode::BadAddress)
    );
    // Memory without the error range: the same device object is fine again.
    let mut dev = device(&SimOptions::default());
    check(&mut dev, &job, "after errors");
}

#[test]
fn host_rejects_bad_jobs_before_touching_the_device() {
    let mut dev = device(&SimOptions::default());
    let free = dev.free_bytes();
    let mut rng = StdRng::seed_from_u64(2);
    let good = random_job((Format::Int8, Format::Fp4E2M1, OutputFormat::Fp32), (3, 4, 5), &mut rng);
    let cycles = dev.backend().cycles();
    let mut bad = good.clone();
    bad.a.pop();
    assert!(matches!(dev.gemm(&bad), Err(DeviceError::Shape { what: "A", .. })));
    let mut bad = good.clone();
    bad.w_fmt = Format::E8M0;
    assert!(matches!(dev.gemm(&bad), Err(DeviceError::Format(_))));
    let mut bad = good.clone();
    bad.a[3] = 0x1FF;
    assert!(matches!(
        dev.gemm(&bad),
        Err(DeviceError::Code {
            what: "A",
            index: 3,
            ..
        })
    ));
    let mut bad = good.clone();
    bad.m = 0;
    bad.a.clear();
    assert!(matches!(dev.gemm(&bad), Err(DeviceError::Dimension(_))));
    // One 16-bit element per beat: one more than the activation buffer holds.
    let too_long = CFG.k_beats_max as usize + 1;
    let bad = random_job(
        (Format::Int16, Format::Int16, OutputFormat::Int32),
        (1, 1, too_long),
        &mut rng,
    );
    assert!(matches!(dev.gemm(&bad), Err(DeviceError::TooLong { .. })));
    let big = random_job((Format::Int16, Format::Int16, OutputFormat::Int32), (1, 1, 1), &mut rng);
    let mut huge = big.clone();
    huge.m = 600_000;
    huge.k = 1;
    huge.a = vec![0; 600_000];
    assert!(matches!(dev.gemm(&huge), Err(DeviceError::OutOfMemory { .. })));
    assert_eq!(dev.free_bytes(), free, "a refused job frees what it allocated");
    let buf = dev.alloc(100).unwrap();
    assert!(matches!(
        dev.write_buffer(&buf, 96, &[0; 8]),
        Err(DeviceError::BufferOverrun { .. })
    ));
    dev.free(buf);
    assert_eq!(dev.backend().cycles(), cycles, "nothing above may reach the device");
    check(&mut dev, &good, "after rejected jobs");
}

#[test]
fn a_job_that_does_not_finish_times_out_and_soft_reset_recovers() {
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(3);
    let job = random_job(
        (Format::Int16, Format::Int16, OutputFormat::Int32),
        (16, 16, 256),
        &mut rng,
    );
    dev.timeout = cycles(500);
    assert_eq!(dev.gemm(&job).unwrap_err(), DeviceError::Timeout { after: cycles(500) });
    // Let the bus settle, then reset the controller.
    dev.backend().advance(20_000).unwrap();
    dev.write("CTRL", field_word("CTRL", "SOFT_RESET", 1)).unwrap();
    dev.timeout = cycles(10_000_000);
    check(&mut dev, &job, "after soft reset");
}

#[test]
fn mac_rate_scales_with_operand_width() {
    // Same element count, three operand widths: 4-bit beats carry 4 MACs per PE, 8-bit 2, 16-bit 1.
    let mut dev = device(&SimOptions::default());
    let mut rng = StdRng::seed_from_u64(4);
    let shape = (16, 32, 512);
    let mut rate = Vec::new();
    for pair in [
        (Format::Int4, Format::Int4, OutputFormat::Int32),
        (Format::Int8, Format::Int8, OutputFormat::Int32),
        (Format::Int16, Format::Int16, OutputFormat::Int32),
    ] {
        let job = random_job(pair, shape, &mut rng);
        let busy = check(&mut dev, &job, &format!("{pair:?}"));
        rate.push(job.macs() as f64 / busy as f64);
    }
    eprintln!(
        "MACs/cycle on a {}x{} array, {shape:?}: 4-bit {:.2}, 8-bit {:.2}, 16-bit {:.2}",
        CFG.rows, CFG.cols, rate[0], rate[1], rate[2]
    );
    assert!(rate[0] > 1.6 * rate[1] && rate[1] > 1.6 * rate[2], "{rate:?}");
}

#[test]
fn waves_of_a_gemm_can_be_written() {
    let path = std::env::temp_dir().join(format!("npe-accel-{}.fst", std::process::id()));
    let mut b = SimBackend::new(&CFG, &SimOptions::default()).unwrap();
    b.trace(&path).unwrap();
    let mut dev = Device::connect(b, CFG).unwrap();
    let mut rng = StdRng::seed_from_u64(8);
    let job = random_job((Format::Int8, Format::Int8, OutputFormat::Int32), (5, 6, 7), &mut rng);
    check(&mut dev, &job, "traced");
    drop(dev);
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&path);
    assert!(len > 10_000, "FST file of {len} bytes");
}

#[test]
fn a_gemm_on_the_demo_preset() {
    // npe8x8: two row blocks, a partial column tile, column scales, 8-bit lanes.
    let cfg = NpeConfig::DEMO;
    let mut dev = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    assert_eq!(dev.info().unwrap().rows, cfg.rows);
    let mut rng = StdRng::seed_from_u64(21);
    let shape = (cfg.rows as usize + 3, 2 * cfg.cols as usize + 5, 70);
    let mut job = random_job((Format::Fp8E4M3, Format::Int8, OutputFormat::Bf16), shape, &mut rng);
    job.col_scale_exp = (0..shape.1).map(|_| rng.gen_range(-8..=8)).collect();
    check(&mut dev, &job, "npe8x8");
    // The functional model of the same preset agrees, counters included.
    let sim = dev.gemm(&job).unwrap();
    let fun = functional(cfg).gemm(&job).unwrap();
    assert_eq!(fun.c, sim.c);
    assert_eq!(
        (fun.counters.dma_read, fun.counters.dma_written),
        (sim.counters.dma_read, sim.counters.dma_written)
    );
}

#[test]
fn every_format_pair_of_the_8_bit_preset() {
    // npe8x8le8: the fixed-point datapath. Every pair of its formats (small shapes, a random
    // output format), then a job of two row blocks, several column tiles and column scales at
    // the longest K; the formats it was not built for are refused before the device is touched.
    let cfg = NpeConfig::LE8;
    let mut dev = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    assert_eq!(dev.info().unwrap().formats, cfg.formats());
    let mut rng = StdRng::seed_from_u64(41);
    let mut results = 0;
    for &a in cfg.format_set {
        for &w in cfg.format_set {
            let out = OutputFormat::ALL[rng.gen_range(0..OutputFormat::ALL.len())];
            let shape = (rng.gen_range(1..11), rng.gen_range(1..12), rng.gen_range(1..60));
            let job = random_job((a, w, out), shape, &mut rng);
            check(&mut dev, &job, &format!("npe8x8le8 {a} x {w} -> {out} {shape:?}"));
            results += shape.0 * shape.1;
        }
    }
    let lanes = lanes_of(Format::Fp4E2M1) as usize;
    let shape = (
        2 * cfg.rows as usize + 1,
        3 * cfg.cols as usize + 2,
        lanes * cfg.k_beats_max as usize,
    );
    let mut job = random_job((Format::Fp4E2M1, Format::Int4, OutputFormat::Fp32), shape, &mut rng);
    job.col_scale_exp = (0..shape.1).map(|_| rng.gen_range(-20..=20)).collect();
    check(&mut dev, &job, "npe8x8le8 long K");
    eprintln!(
        "npe8x8le8: {} pairs, {} results, 0 mismatches",
        cfg.format_set.len().pow(2),
        results + shape.0 * shape.1
    );
    let page = dev.alloc(1).unwrap().addr();
    for f in [Format::Int16, Format::Fp8E5M2, Format::Posit16Es1, Format::Posit4Es1] {
        let job = random_job((f, Format::Int8, OutputFormat::Int32), (2, 2, 2), &mut rng);
        assert!(
            matches!(dev.gemm(&job), Err(DeviceError::Format(_))),
            "the host refuses {f} on npe8x8le8"
        );
        // Past the host's check, the hardware refuses it too.
        let fmt = field_word("FMT", "A", f.id().into()) | field_word("FMT", "W", Format::Int8.id().into());
        let regs = job_regs((1, 1, 1), fmt, page);
        assert_eq!(
            hand_job(&mut dev, &regs),
            Err(DeviceError::Job(ErrorCode::BadJob)),
            "{f}"
        );
    }
}

#[test]
fn shared_output_units_at_the_shortest_tile_period() {
    // npe8x8le8 shares an output unit between two columns: a tile lasts at least 2R cycles and
    // the second column's results wait R − 1 cycles. Tiles back to back at that period (K of 1
    // to 17 beats), several row blocks and column tiles, column scales riding with the results.
    let cfg = NpeConfig::LE8;
    assert_eq!(cfg.cols_per_output_unit, 2);
    let mut dev = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    let mut rng = StdRng::seed_from_u64(43);
    let lanes = lanes_of(Format::Fp4E2M1) as usize;
    let min_beats = cfg.min_tile_cycles() as usize;
    for beats in [1, min_beats / 2, min_beats - 1, min_beats, min_beats + 1] {
        let shape = (2 * cfg.rows as usize + 3, 5 * cfg.cols as usize + 3, lanes * beats);
        let mut job = random_job((Format::Fp4E2M1, Format::Fp8E4M3, OutputFormat::Bf16), shape, &mut rng);
        job.col_scale_exp = (0..shape.1).map(|_| rng.gen_range(-6..=6)).collect();
        check(&mut dev, &job, &format!("npe8x8le8 K = {beats} beats"));
    }
}

#[test]
fn the_functional_back_end_gives_the_simulators_results() {
    let mut sim = device(&SimOptions::default());
    let mut fun = functional(CFG);
    let mut rng = StdRng::seed_from_u64(31);
    let formats: Vec<Format> = mac_formats();
    let mut jobs = Vec::new();
    for (i, &a) in formats.iter().enumerate() {
        let w = formats[(i * 5 + 3) % formats.len()];
        let out = OutputFormat::ALL[i % OutputFormat::ALL.len()];
        let shape = (rng.gen_range(1..10), rng.gen_range(1..13), rng.gen_range(1..50));
        let mut job = random_job((a, w, out), shape, &mut rng);
        job.scale_exp = rng.gen_range(-4..=4);
        if i % 2 == 0 {
            job.col_scale_exp = (0..shape.1).map(|_| rng.gen_range(-100..=100)).collect();
        }
        jobs.push(job);
    }
    // Several weight stripes with scales (16-bit K = k_beats_max fills the W banks fastest).
    let mut job = random_job(
        (Format::Int16, Format::Posit16Es1, OutputFormat::Fp32),
        (5, 6 * CFG.cols as usize + 1, CFG.k_beats_max as usize),
        &mut rng,
    );
    job.col_scale_exp = (0..job.n).map(|_| rng.gen_range(-128..=127)).collect();
    job.scale_exp = -128;
    jobs.push(job);
    for job in &jobs {
        let what = format!(
            "{} x {} -> {} ({}x{}x{})",
            job.a_fmt, job.w_fmt, job.out, job.m, job.n, job.k
        );
        let s = sim.gemm(job).unwrap_or_else(|e| panic!("sim {what}: {e}"));
        let f = fun.gemm(job).unwrap_or_else(|e| panic!("functional {what}: {e}"));
        assert_eq!(f.c, s.c, "{what}");
        assert_eq!(f.c, job.golden().unwrap(), "{what}");
        assert_eq!(
            (f.counters.dma_read, f.counters.dma_written),
            (s.counters.dma_read, s.counters.dma_written),
            "DMA bytes, {what}"
        );
        assert_eq!(f.counters.busy, 0);
        assert!(s.counters.busy > 0);
    }
}

/// The job registers of an `m × n × k` job with FMT `fmt`, A, W and C one beat per row in the
/// page at `page` (4 and 8 beats apart), no column scales.
fn job_regs((m, n, k): (u32, u32, u32), fmt: u32, page: u32) -> Vec<(&'static str, u32)> {
    let beat = AXI_BEAT_BYTES;
    vec![
        ("M", m),
        ("N", n),
        ("K", k),
        ("FMT", fmt),
        ("A_ADDR", page),
        ("W_ADDR", page + 4 * beat),
        ("C_ADDR", page + 8 * beat),
        ("SCALE_ADDR", 0),
        ("A_STRIDE", beat),
        ("W_STRIDE", beat),
        ("C_STRIDE", beat),
    ]
}

/// Programs the job registers by hand, starts, and returns how the job ended.
fn hand_job<B: Backend>(dev: &mut Device<B>, regs: &[(&str, u32)]) -> Result<(), DeviceError> {
    for &(name, v) in regs {
        dev.write(name, v)?;
    }
    dev.start_and_wait()
}

#[test]
fn both_back_ends_reject_the_same_bad_jobs() {
    let mut sim = device(&SimOptions::default());
    let mut fun = functional(CFG);
    let page = sim.alloc(1).unwrap().addr();
    let _ = fun.alloc(1).unwrap();
    let beat = AXI_BEAT_BYTES;
    let fmt = |a: Format, w: Format, out: u32| {
        field_word("FMT", "A", a.id().into()) | field_word("FMT", "W", w.id().into()) | field_word("FMT", "OUT", out)
    };
    let int8 = fmt(Format::Int8, Format::Int8, 0);
    let good = job_regs((2, 3, 4), int8, page);
    let with = |changes: &[(&'static str, u32)]| -> Vec<(&'static str, u32)> {
        let mut v = good.clone();
        v.extend_from_slice(changes);
        v
    };
    let not_mac = Format::ALL.into_iter().find(|f| !f.is_mac_operand()).unwrap();
    let too_long = (CFG.k_beats_max + 1) * lanes_of(Format::Int8);
    // (what the case is, its job-register writes, the outcome both back ends must give)
    type Case<'a> = (&'a str, Vec<(&'a str, u32)>, Result<(), DeviceError>);
    let cases: Vec<Case> = vec![
        ("good", with(&[]), Ok(())),
        ("M = 0", with(&[("M", 0)]), Err(DeviceError::Job(ErrorCode::BadJob))),
        ("N = 0", with(&[("N", 0)]), Err(DeviceError::Job(ErrorCode::BadJob))),
        ("K = 0", with(&[("K", 0)]), Err(DeviceError::Job(ErrorCode::BadJob))),
        (
            "K too long",
            with(&[("K", too_long)]),
            Err(DeviceError::Job(ErrorCode::BadJob)),
        ),
        (
            "not a multiplier format",
            with(&[("FMT", fmt(not_mac, Format::Int8, 0))]),
            Err(DeviceError::Job(ErrorCode::BadJob)),
        ),
        (
            "output id past the table",
            with(&[("FMT", fmt(Format::Int8, Format::Int8, OutputFormat::ALL.len() as u32))]),
            Err(DeviceError::Job(ErrorCode::BadJob)),
        ),
        (
            "misaligned A",
            with(&[("A_ADDR", page + 4)]),
            Err(DeviceError::Job(ErrorCode::BadAddress)),
        ),
        (
            "misaligned C stride",
            with(&[("C_STRIDE", beat + 8)]),
            Err(DeviceError::Job(ErrorCode::BadAddress)),
        ),
        (
            "misaligned scales",
            with(&[("SCALE_ADDR", page + 2)]),
            Err(DeviceError::Job(ErrorCode::BadAddress)),
        ),
        ("good again", with(&[]), Ok(())),
    ];
    for (what, regs, want) in cases {
        assert_eq!(hand_job(&mut sim, &regs), want, "sim: {what}");
        assert_eq!(hand_job(&mut fun, &regs), want, "functional: {what}");
        for (name, field) in [("STATUS", "DONE"), ("IRQ", "DONE")] {
            assert_eq!(
                sim.field(name, field).unwrap(),
                fun.field(name, field).unwrap(),
                "{what}: {name}"
            );
        }
    }
    // Same registers read back the same (job registers, STATUS, IRQ, CTRL); clear IRQ on both.
    for dev_regs in ["M", "N", "K", "FMT", "A_ADDR", "C_STRIDE", "STATUS", "IRQ", "CTRL"] {
        assert_eq!(sim.read(dev_regs).unwrap(), fun.read(dev_regs).unwrap(), "{dev_regs}");
    }
    let irq_done = field_word("IRQ", "DONE", 1);
    sim.write("IRQ", irq_done).unwrap();
    fun.write("IRQ", irq_done).unwrap();
    assert_eq!(sim.read("IRQ").unwrap(), 0);
    assert_eq!(fun.read("IRQ").unwrap(), 0);
}

/// OVP codes for `vectors` K-vectors of length `k` (even), vector `v`'s element `i` at
/// `v * v_step + i * k_step`. Pairs are drawn as: one outlier (either element: its partner is
/// the marker), both markers (not a legal pair: both decode to 0), or two normals; a vector
/// of `all_outliers` has an outlier in every pair.
fn ovp_codes(
    (vectors, k): (usize, usize),
    (v_step, k_step): (usize, usize),
    all_outliers: impl Fn(usize) -> bool,
    rng: &mut StdRng,
) -> Vec<u32> {
    const MARKER: u32 = npe_hdl::spec::formats::ovp::MARKER as u32;
    let mut codes = vec![0; vectors * k];
    let normal = |rng: &mut StdRng| loop {
        let c = rng.gen_range(0..16);
        if c != MARKER {
            break c;
        }
    };
    for v in 0..vectors {
        for p in 0..k / 2 {
            let roll = if all_outliers(v) {
                rng.gen_range(0..2)
            } else {
                rng.gen_range(0..8)
            };
            let pair = match roll {
                0 => [normal(rng), MARKER],
                1 => [MARKER, normal(rng)],
                2 => [MARKER, MARKER],
                _ => [normal(rng), normal(rng)],
            };
            for (j, c) in pair.into_iter().enumerate() {
                codes[v * v_step + (2 * p + j) * k_step] = c;
            }
        }
    }
    codes
}

/// A random job of `fmts` whose pair-format operands hold [`ovp_codes`] (row 0 of A and the
/// last column of W outliers in every pair).
fn ovp_job(fmts: (Format, Format, OutputFormat), (m, n, k): (usize, usize, usize), rng: &mut StdRng) -> GemmJob {
    let plain = |f: Format| if f.is_paired() { Format::Int4 } else { f };
    let mut job = random_job((plain(fmts.0), plain(fmts.1), fmts.2), (m, n, k), rng);
    (job.a_fmt, job.w_fmt) = (fmts.0, fmts.1);
    if fmts.0.is_paired() {
        job.a = ovp_codes((m, k), (k, 1), |r| r == 0, rng);
    }
    if fmts.1.is_paired() {
        job.w = ovp_codes((n, k), (1, n), |c| c == n - 1, rng);
    }
    job
}

#[test]
fn outlier_victim_pairs_on_the_olive_preset() {
    // npe4x4ovp: the fixed-point datapath with the pair decoders at the array's edge. Every
    // pair of its formats (OVP × OVP in four lanes, OVP × INT8 / FP8 in two), with outliers,
    // victims and both-marker pairs at random places, a row of A and a column of W of outliers
    // only; then jobs at the longest K (the last beat of a K block) with row and column tiles
    // cut at their edges and column scales.
    let cfg = NpeConfig::OLIVE;
    let mut dev = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    assert_eq!(dev.info().unwrap().formats, cfg.formats());
    let mut rng = StdRng::seed_from_u64(43);
    let (mut jobs, mut results) = (0, 0);
    for &a in cfg.format_set {
        for &w in cfg.format_set {
            for _ in 0..2 {
                let out = OutputFormat::ALL[rng.gen_range(0..OutputFormat::ALL.len())];
                let shape = (rng.gen_range(1..11), rng.gen_range(1..12), 2 * rng.gen_range(1..30));
                let job = ovp_job((a, w, out), shape, &mut rng);
                check(&mut dev, &job, &format!("npe4x4ovp {a} x {w} -> {out} {shape:?}"));
                (jobs, results) = (jobs + 1, results + shape.0 * shape.1);
            }
        }
    }
    for (a, w) in [
        (Format::OvpInt4, Format::OvpFlint4),
        (Format::OvpFlint4, Format::OvpFlint4),
        (Format::Int8, Format::OvpInt4),
        (Format::Fp8E4M3, Format::OvpFlint4),
    ] {
        let k = npe_hdl::spec::lanes(a, w) as usize * cfg.k_beats_max as usize;
        let shape = (cfg.rows as usize + 1, 2 * cfg.cols as usize + 1, k);
        let mut job = ovp_job((a, w, OutputFormat::Fp32), shape, &mut rng);
        job.col_scale_exp = (0..shape.1).map(|_| rng.gen_range(-20..=20)).collect();
        check(&mut dev, &job, &format!("npe4x4ovp {a} x {w} long K"));
        (jobs, results) = (jobs + 1, results + shape.0 * shape.1);
    }
    eprintln!("npe4x4ovp: {jobs} jobs, {results} results, 0 mismatches");
    // An odd K cannot hold pairs: refused by the host; FP4 is not a format of the preset.
    let job = ovp_job(
        (Format::OvpInt4, Format::Int8, OutputFormat::Int32),
        (2, 2, 4),
        &mut rng,
    );
    let odd = GemmJob {
        k: 3,
        a: job.a[..6].to_vec(),
        w: job.w[..6].to_vec(),
        ..job
    };
    assert!(matches!(dev.gemm(&odd), Err(DeviceError::Dimension(e)) if e.contains("odd")));
    let fp4 = random_job(
        (Format::Fp4E2M1, Format::Int4, OutputFormat::Int32),
        (2, 2, 2),
        &mut rng,
    );
    assert!(matches!(dev.gemm(&fp4), Err(DeviceError::Format(_))));
}

fn lanes_of(f: Format) -> u32 {
    npe_hdl::spec::lanes(f, f)
}

#[test]
fn a_gemm_in_caller_buffers_at_a_memory_base_waiting_on_the_interrupt() {
    // Device memory that does not start at 0 (as a board's DDR window).
    let base = 0x4000_0000;
    let opts = SimOptions {
        mem_base: base,
        mem_bytes: 1 << 20,
        ..SimOptions::default()
    };
    let mut sim = Device::connect(SimBackend::new(&CFG, &opts).unwrap(), CFG).unwrap();
    let fopts = FunctionalOptions {
        mem_base: base,
        mem_bytes: 1 << 20,
    };
    let mut fun = Device::connect(FunctionalBackend::new(&CFG, &fopts).unwrap(), CFG).unwrap();
    let mut rng = StdRng::seed_from_u64(41);
    let mut job = random_job(
        (Format::Int4, Format::Fp4E2M1, OutputFormat::Fp16),
        (6, 7, 33),
        &mut rng,
    );
    job.col_scale_exp = (0..7).map(|_| rng.gen_range(-3..=3)).collect();
    let sizes = job.buffer_sizes(&CFG).unwrap();
    let mut results = Vec::new();
    for dev in [&mut sim as &mut dyn RunIn, &mut fun] {
        results.push(dev.run_in_own_buffers(&job, sizes, base));
    }
    assert_eq!(results[0], job.golden().unwrap());
    assert_eq!(results[1], results[0]);
    // The interrupt: the simulator watches its irq line, the functional model polls IRQ.
    sim.start_and_wait_irq().unwrap();
    fun.start_and_wait_irq().unwrap();
    assert_eq!(sim.read("IRQ").unwrap(), 0, "cleared after the job");
    // Buffers too small are refused before the device starts.
    let small = sim.alloc(16).unwrap();
    let big = sim.alloc(sizes.c).unwrap();
    let bufs = GemmBuffers {
        a: &small,
        w: &big,
        c: &big,
        scales: Some(&big),
    };
    assert!(matches!(
        sim.run_gemm(&job, &bufs),
        Err(DeviceError::BufferOverrun { .. })
    ));
}

/// A device that runs a job in buffers it allocates itself through the public API.
trait RunIn {
    fn run_in_own_buffers(&mut self, job: &GemmJob, sizes: npe_host::device::BufferSizes, base: u32) -> Vec<u32>;
}

impl<B: Backend> RunIn for Device<B> {
    fn run_in_own_buffers(&mut self, job: &GemmJob, sizes: npe_host::device::BufferSizes, base: u32) -> Vec<u32> {
        let a = self.alloc(sizes.a).unwrap();
        let w = self.alloc(sizes.w).unwrap();
        let c = self.alloc(sizes.c).unwrap();
        let s = self.alloc(sizes.scales).unwrap();
        assert_eq!(a.addr(), base, "the first buffer starts at the memory's base");
        let bufs = GemmBuffers {
            a: &a,
            w: &w,
            c: &c,
            scales: Some(&s),
        };
        let run = self.run_gemm(job, &bufs).unwrap();
        // C is in the caller's buffer after the run.
        let bytes = self.read_buffer(&c, 0, sizes.c).unwrap();
        let layout = job.validate(self.config()).unwrap();
        assert_eq!(layout.unpack_c(&bytes, job.m, job.n).unwrap(), run.c);
        for b in [a, w, c, s] {
            self.free(b);
        }
        run.c
    }
}

/// BitMoD's adversarial groups on the Verilated npe4x4bs, both widths, two and four lanes, K
/// not a multiple of the group (300 = 2 groups of 128 and a padded one): an all-zero group, a
/// group of zeros with one huge outlier (the −0 code's special value, the type's largest), every
/// code under every selector, scales 0, 1 and 255. Every result must equal the functional back
/// end's (held to the golden model by the host's tests), the specials must reach the results
/// (columns differ by selector), and a selector flipped must change them.
#[test]
fn bitmod_adversarial_groups_on_the_block_preset() {
    use npe_hdl::spec::block_scale::ScaleCode;
    use npe_host::device::BlockScaleJob;
    let cfg = NpeConfig::BLOCK;
    let mut sim = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    let mut fun = functional(cfg);
    let mut rng = StdRng::seed_from_u64(0xb17d);
    let (m, n, k, g): (usize, usize, usize, usize) = (3, 10, 300, 128);
    let nblk = k.div_ceil(g);
    for (a_fmt, w_fmt) in [
        (Format::Int8, Format::Bitmod4ErPos),
        (Format::Fp4E2M1, Format::Bitmod4ErPos),
        (Format::Fp8E4M3, Format::Bitmod3ErPos),
        (Format::Int4, Format::Bitmod3ErPos),
    ] {
        let bits = w_fmt.bits();
        let special = 1u32 << (bits - 1);
        // W[k][n]: column c's group j.
        let mut w = vec![0u32; k * n];
        let mut sels = vec![0u8; n * nblk];
        let mut codes = vec![0u8; n * nblk];
        for c in 0..n {
            for j in 0..nblk {
                let sel = ((c + j) % 4) as u8;
                sels[c * nblk + j] = sel;
                codes[c * nblk + j] = [0u8, 1, 255, 37][(c + 2 * j) % 4];
                for kk in j * g..((j + 1) * g).min(k) {
                    w[kk * n + c] = match c % 5 {
                        // An all-zero group.
                        0 => 0,
                        // One huge outlier in a group of zeros.
                        1 => u32::from(kk == j * g + 5) * special,
                        // Every code, in order.
                        2 => (kk as u32) % (1 << bits),
                        // The special everywhere.
                        3 => special,
                        _ => rng.gen_range(0..1 << bits),
                    };
                }
            }
        }
        let job = GemmJob {
            a_fmt,
            w_fmt,
            out: OutputFormat::Fp32,
            scale_exp: 0,
            col_scale_exp: Vec::new(),
            m,
            n,
            k,
            a: (0..m * k)
                .map(|_| loop {
                    let c = rng.gen_range(0..1u32 << a_fmt.bits());
                    if !npe_host::golden::decode(a_fmt, c).unwrap().nar {
                        break c;
                    }
                })
                .collect(),
            w,
        };
        let blk = BlockScaleJob {
            kind: ScaleCode::U8,
            block: g,
            base: 0,
            codes,
            selectors: sels,
        };
        let what = format!("{a_fmt} x {w_fmt}");
        let hw = sim.block_gemm(&job, &blk).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = fun.block_gemm(&job, &blk).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(hw.c, want.c, "{what}");
        assert!(sim.backend().violations().is_empty(), "{what}");
        // Column 3 (the special everywhere, selectors 3, 0, 1 by group) is not zero, and another
        // selector gives other results.
        assert!(
            (0..m).any(|r| hw.c[r * n + 3] != 0),
            "{what}: the specials reach the sums"
        );
        let mut flipped = blk.clone();
        flipped.selectors.iter_mut().for_each(|s| *s ^= 1);
        let other = sim.block_gemm(&job, &flipped).unwrap();
        assert_ne!(other.c, hw.c, "{what}: the selector picks the type");
        assert_eq!(other.c, fun.block_gemm(&job, &flipped).unwrap().c, "{what}: flipped");
    }
}

/// Block-scaled GEMMs on the Verilated npe4x4bs (the fixed-point PEs with their dequantization
/// units, the block-scale bank and its loads): NVFP4 (E4M3 scales), MXFP4 (E8M0, in and out of
/// the job's window, NaN), u8 scales, BitMoD (u8 scales and a data-type selector per block, 4-
/// and 3-bit); INT8, FP8, INT4 and FP4 activations; K not a multiple of the
/// block, N not a multiple of the columns, column scales. Every result must equal the functional
/// back end's (which the host's tests hold to the golden block-scaled model), and a plain job
/// on the same preset must equal the golden model.
#[test]
fn block_scaled_gemms_on_the_block_preset() {
    use npe_hdl::spec::block_scale::ScaleCode;
    use npe_host::device::BlockScaleJob;
    let cfg = NpeConfig::BLOCK;
    let mut sim = Device::connect(SimBackend::new(&cfg, &SimOptions::default()).unwrap(), cfg).unwrap();
    let mut fun = functional(cfg);
    let mut rng = StdRng::seed_from_u64(0xb10c);
    let (fp4, bm4, bm3) = (Format::Fp4E2M1, Format::Bitmod4ErPos, Format::Bitmod3ErPos);
    let cases = [
        (Format::Int8, fp4, ScaleCode::E4m3, 16, 0),
        (Format::Fp8E4M3, fp4, ScaleCode::E4m3, 16, 0),
        (Format::Int4, fp4, ScaleCode::E4m3, 16, 0),
        (Format::Int8, fp4, ScaleCode::E8m0, 32, 110),
        (Format::Fp8E4M3, fp4, ScaleCode::E8m0, 8, 120),
        (Format::Int8, fp4, ScaleCode::U8, 16, 0),
        // BitMoD: a selector per block picks its data type.
        (Format::Int8, bm4, ScaleCode::U8, 16, 0),
        (Format::Fp4E2M1, bm4, ScaleCode::U8, 128, 0),
        (Format::Fp8E4M3, bm3, ScaleCode::U8, 32, 0),
        (Format::Int4, bm3, ScaleCode::U8, 32, 0),
    ];
    let (mut total, mut distinct) = (0, std::collections::HashSet::new());
    for (i, &(a_fmt, w_fmt, kind, block, base)) in cases.iter().enumerate() {
        for round in 0..3 {
            let (m, n, k): (usize, usize, usize) = (rng.gen_range(1..10), rng.gen_range(1..12), rng.gen_range(1..100));
            let nblk = k.div_ceil(block);
            let code = |r: &mut StdRng| -> u8 {
                match kind {
                    ScaleCode::E8m0 => match r.gen_range(0..24) {
                        0 => 0xff,
                        1 => base as u8 + 16,
                        _ => base as u8 + r.gen_range(0..16),
                    },
                    ScaleCode::E4m3 => r.gen_range(0..=0x7f),
                    ScaleCode::U8 => r.gen(),
                }
            };
            let job = GemmJob {
                a_fmt,
                w_fmt,
                out: [OutputFormat::Fp32, OutputFormat::Bf16, OutputFormat::Int32][round],
                scale_exp: rng.gen_range(-3..3),
                col_scale_exp: if round == 1 {
                    (0..n).map(|_| rng.gen_range(-4..4)).collect()
                } else {
                    Vec::new()
                },
                m,
                n,
                k,
                a: (0..m * k).map(|_| rng.gen_range(0..1u32 << a_fmt.bits())).collect(),
                w: (0..k * n).map(|_| rng.gen_range(0..1 << w_fmt.bits())).collect(),
            };
            let blk = BlockScaleJob {
                kind,
                block,
                base,
                codes: (0..n * nblk).map(|_| code(&mut rng)).collect(),
                selectors: if w_fmt.is_bitmod() {
                    (0..n * nblk).map(|_| rng.gen_range(0..4)).collect()
                } else {
                    Vec::new()
                },
            };
            let what = format!("case {i} round {round}: {a_fmt} x {w_fmt} {kind:?} B={block} {m}x{n}x{k}");
            let hw = sim.block_gemm(&job, &blk).unwrap_or_else(|e| panic!("{what}: {e}"));
            let want = fun.block_gemm(&job, &blk).unwrap_or_else(|e| panic!("{what}: {e}"));
            let bad = (0..m * n).filter(|&j| hw.c[j] != want.c[j]).count();
            assert_eq!(bad, 0, "{what}: hw {:x?} want {:x?}", &hw.c, &want.c);
            assert!(sim.backend().violations().is_empty(), "{what}");
            // The device read its block scales: one run of 16-bit entries per column tile.
            let run_beats = (nblk * cfg.cols as usize * 2).div_ceil(AXI_BEAT_BYTES as usize);
            assert!(hw.counters.busy > 0 && hw.counters.dma_read >= (n.div_ceil(4) * run_beats * 16) as u64);
            total += m * n;
            distinct.extend(hw.c.iter().copied());
        }
    }
    // The results are values, not a few repeated codes (zeros, NaNs).
    assert!(
        distinct.len() > total / 2,
        "{} distinct results of {total}",
        distinct.len()
    );
    // A plain job on the block-scaled preset: every block scaled by 2^0.
    let mut rng = StdRng::seed_from_u64(7);
    let job = random_job(
        (Format::Int8, Format::Fp4E2M1, OutputFormat::Fp32),
        (9, 11, 77),
        &mut rng,
    );
    let run = sim.gemm(&job).unwrap();
    assert_eq!(run.c, job.golden().unwrap(), "plain job on npe4x4bs");
    // BitMoD's types are weights only: as FMT.A they are a bad job on both back ends.
    let page = sim.alloc(1).unwrap().addr();
    assert_eq!(fun.alloc(1).unwrap().addr(), page);
    let fmt =
        field_word("FMT", "A", Format::Bitmod4ErPos.id().into()) | field_word("FMT", "W", Format::Int8.id().into());
    let regs = job_regs((2, 3, 4), fmt, page);
    assert_eq!(
        hand_job(&mut sim, &regs),
        Err(DeviceError::Job(ErrorCode::BadJob)),
        "sim"
    );
    assert_eq!(
        hand_job(&mut fun, &regs),
        Err(DeviceError::Job(ErrorCode::BadJob)),
        "functional"
    );
}
