//! The whole accelerator (Verilated npe4x4: registers, controller, array, output units, AXI
//! DMA) driven through the host runtime against the Rust AXI memory model, every result
//! compared with the golden model.

use npe_hdl::spec::regs::ErrorCode;
use npe_hdl::spec::{Format, NpeConfig, OutputFormat};
use npe_host::demo::random_job;
use npe_host::device::sim::{SimBackend, SimOptions};
use npe_host::device::{Backend, Device, DeviceError, GemmJob};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CFG: NpeConfig = NpeConfig::TEST;

fn device(opts: &SimOptions) -> Device<SimBackend> {
    Device::connect(SimBackend::new(&CFG, opts).unwrap(), CFG).unwrap()
}

/// Runs `job`, compares every result with the golden model, checks the bus stayed clean.
fn check(dev: &mut Device<SimBackend>, job: &GemmJob, what: &str) -> u64 {
    let run = dev.gemm(job).unwrap_or_else(|e| panic!("{what}: {e}"));
    let golden = job.golden();
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
    assert_eq!((info.rows, info.cols), (4, 4));
    assert_eq!(info.acc_bits, CFG.accumulator().width);
    assert_eq!(info.formats, CFG.formats());
    dev.write("SCRATCH", 0xDEAD_BEEF).unwrap();
    assert_eq!(dev.read("SCRATCH").unwrap(), 0xDEAD_BEEF);
    // Read-only: SLVERR and unchanged; unmapped: DECERR.
    let e = dev.write("ID", 0).unwrap_err();
    assert!(matches!(e, DeviceError::Bus(ref m) if m.contains("SLVERR")), "{e}");
    assert_eq!(dev.read("ID").unwrap(), npe_hdl::spec::regs::ID_MAGIC);
    let e = dev.backend().read_reg(0xFC).unwrap_err();
    assert!(matches!(e, DeviceError::Bus(ref m) if m.contains("DECERR")), "{e}");
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
    // The runtime allocates A, W and C one page each from 0x1000 (page 0 is reserved):
    // SLVERR on A's first beat, then DECERR from C on.
    let mut dev = device(&SimOptions {
        slverr: vec![(0x1000, 0x1010)],
        ..SimOptions::default()
    });
    let mut rng = StdRng::seed_from_u64(1);
    let job = random_job((Format::Int8, Format::Int8, OutputFormat::Int32), (4, 4, 16), &mut rng);
    assert_eq!(dev.gemm(&job).unwrap_err(), DeviceError::Job(ErrorCode::ReadSlvErr));

    let mut dev = device(&SimOptions {
        decerr: vec![(0x3000, 0x10_0000)],
        ..SimOptions::default()
    });
    assert_eq!(dev.gemm(&job).unwrap_err(), DeviceError::Job(ErrorCode::WriteDecErr));
    assert!(dev.backend().violations().is_empty());
    // Registers written by hand: a zero dimension and a misaligned address.
    dev.write("M", 0).unwrap();
    assert_eq!(dev.start_and_wait().unwrap_err(), DeviceError::Job(ErrorCode::BadJob));
    dev.write("M", 4).unwrap();
    dev.write("A_ADDR", 8).unwrap();
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
    let mut bad = random_job(
        (Format::Int16, Format::Int16, OutputFormat::Int32),
        (1, 1, 1025),
        &mut rng,
    );
    bad.k = 1025;
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
    dev.timeout_cycles = 500;
    assert_eq!(dev.gemm(&job).unwrap_err(), DeviceError::Timeout { cycles: 500 });
    // Let the bus settle, then reset the controller.
    dev.backend().advance(20_000).unwrap();
    dev.write("CTRL", 2).unwrap();
    dev.timeout_cycles = 10_000_000;
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
        "MACs/cycle on a 4x4 array, {shape:?}: 4-bit {:.2}, 8-bit {:.2}, 16-bit {:.2}",
        rate[0], rate[1], rate[2]
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
