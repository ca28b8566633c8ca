//! The `npe` binary on good and bad input: clear errors, non-zero exits, no panics.

use std::process::{Command, Output};

fn npe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_npe"))
        .args(args)
        .output()
        .expect("run npe")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Fails with a message containing `needle`, and without a panic.
fn fails_with(args: &[&str], needle: &str) {
    let o = npe(args);
    let t = text(&o);
    assert!(!o.status.success(), "{args:?} should fail:\n{t}");
    assert!(t.contains(needle), "{args:?}: expected '{needle}' in:\n{t}");
    assert!(!t.contains("panicked"), "{args:?} panicked:\n{t}");
}

#[test]
fn unknown_formats_are_named_with_the_known_ones() {
    fails_with(&["decode", "fp5", "1"], "unknown format 'fp5'; known formats: int2");
    fails_with(&["encode", "bogus", "1.0"], "unknown format 'bogus'");
    let dir = std::env::temp_dir();
    let f = dir.join(format!("npe-cli-ok-{}.txt", std::process::id()));
    std::fs::write(&f, "1 2").unwrap();
    let p = f.to_str().unwrap();
    fails_with(
        &[
            "dot",
            "--a-format",
            "int8",
            "--w-format",
            "int8",
            "--out",
            "fp64",
            "--a",
            p,
            "--w",
            p,
        ],
        "unknown output format 'fp64'",
    );
    let _ = std::fs::remove_file(&f);
}

#[test]
fn malformed_arguments() {
    fails_with(&["decode", "int8", "0xZZ"], "is not a code");
    fails_with(&["decode", "int8", "300"], "out of range");
    fails_with(&["encode", "fp4", "abc"], "invalid value 'abc'");
    fails_with(&["encode", "fp4"], "give values to encode");
    fails_with(&["demo", "--k", "0"], "--m, --n and --k must be at least 1");
    fails_with(&["demo", "--k", "70000"], "--k 70000 is too long");
    fails_with(&["demo", "--backpressure", "1.5"], "--backpressure must be in [0, 1)");
    fails_with(
        &["info", "--hw", "--preset", "npe3x3"],
        "unknown preset 'npe3x3'; presets: npe4x4, npe8x8",
    );
    fails_with(&["regs", "--preset", "nope"], "unknown preset");
    fails_with(&["frobnicate"], "unrecognized subcommand");
}

#[test]
fn unreadable_and_malformed_files() {
    fails_with(
        &["encode", "fp4", "--file", "/nonexistent/values.txt"],
        "cannot read /nonexistent/values.txt",
    );
    let dir = std::env::temp_dir();
    let bad = dir.join(format!("npe-cli-bad-{}.txt", std::process::id()));
    std::fs::write(&bad, "1.0 2.0 x3").unwrap();
    let short = dir.join(format!("npe-cli-short-{}.txt", std::process::id()));
    std::fs::write(&short, "1.0").unwrap();
    let (b, s) = (bad.to_str().unwrap(), short.to_str().unwrap());
    fails_with(&["encode", "fp4", "--file", b], "value 3 ('x3') is not a number");
    fails_with(
        &["dot", "--a-format", "int8", "--w-format", "fp4", "--a", b, "--w", s],
        "is not a number",
    );
    fails_with(
        &["dot", "--a-format", "int8", "--w-format", "fp4", "--a", b, "--w", s],
        "is not a number",
    );
    fails_with(
        &[
            "dot",
            "--a-format",
            "int8",
            "--w-format",
            "fp4",
            "--a",
            s,
            "--w",
            "/nonexistent/w.txt",
        ],
        "cannot read",
    );
    let two = dir.join(format!("npe-cli-two-{}.txt", std::process::id()));
    std::fs::write(&two, "1.0 2.0").unwrap();
    fails_with(
        &[
            "dot",
            "--a-format",
            "int8",
            "--w-format",
            "fp4",
            "--a",
            s,
            "--w",
            two.to_str().unwrap(),
        ],
        "length mismatch",
    );
    let o = npe(&[
        "dot",
        "--a-format",
        "int8",
        "--w-format",
        "fp4",
        "--a",
        s,
        "--w",
        s,
        "--out",
        "int32",
    ]);
    assert!(
        o.status.success() && text(&o).contains("int32 = 0x00000001"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_file(&two);
    let _ = (std::fs::remove_file(&bad), std::fs::remove_file(&short));
}

#[test]
fn good_input_works() {
    let o = npe(&["encode", "fp4", "2.5", "-7", "1e9"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("2.5 -> fp4 0x0004 = 2"), "{t}"); // tie to even
    assert!(t.contains("-7 -> fp4 0x000f = -6"), "{t}"); // saturates
    #[cfg(feature = "sim")]
    {
        let o = npe(&["decode", "posit8", "0x40", "0x7f", "--rtl"]);
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(t.contains("posit8 0x0040: +32 x 2^-5 = 1"), "{t}");
        assert!(t.contains("rtl agrees"), "{t}");
        assert!(!t.contains("MISMATCH"), "{t}");
    }
    #[cfg(not(feature = "sim"))]
    fails_with(&["decode", "posit8", "0x40", "--rtl"], "no `sim` feature");
    let o = npe(&["info"]);
    assert!(o.status.success());
    assert!(text(&o).contains("posit16"));
}

#[test]
fn gemm_rejects_bad_tensors_before_simulating() {
    use npe_host::tensor::{write_npy, Matrix};
    let dir = std::env::temp_dir();
    let a = dir.join(format!("npe-cli-a-{}.npy", std::process::id()));
    let w = dir.join(format!("npe-cli-w-{}.npy", std::process::id()));
    let c = dir.join(format!("npe-cli-c-{}.npy", std::process::id()));
    let m = |rows, cols| Matrix {
        rows,
        cols,
        data: vec![1.0; rows * cols],
    };
    write_npy(&a, &m(2, 3), false).unwrap();
    write_npy(&w, &m(4, 2), false).unwrap();
    let (pa, pw, pc) = (a.to_str().unwrap(), w.to_str().unwrap(), c.to_str().unwrap());
    let args = |af: &'static str, wf: &'static str| {
        vec![
            "gemm",
            "--a",
            pa,
            "--w",
            pw,
            "--a-format",
            af,
            "--w-format",
            wf,
            "--out",
            pc,
        ]
    };
    fails_with(&args("int8", "fp4"), "shapes do not chain: A is 2x3, W is 4x2");
    write_npy(&w, &m(3, 2), false).unwrap();
    fails_with(&args("int8", "e8m0"), "unsupported format: e8m0");
    fails_with(
        &[
            "gemm",
            "--a",
            "/nonexistent/a.npy",
            "--w",
            pw,
            "--a-format",
            "int8",
            "--w-format",
            "int8",
            "--out",
            pc,
        ],
        "cannot read",
    );
    for f in [a, w] {
        let _ = std::fs::remove_file(f);
    }
}

#[test]
fn the_backend_flag() {
    fails_with(
        &["regs", "--backend", "verilog"],
        "invalid value 'verilog' for '--backend <BACKEND>'",
    );
    fails_with(
        &["info", "--hw", "--backend", "nope"],
        "[possible values: sim, functional]",
    );
    fails_with(
        &["demo", "--backend", "functional", "--trace", "/tmp/x.fst"],
        "--trace writes the simulator's waveform: it needs --backend sim",
    );
    fails_with(
        &["bench", "--backend", "functional", "--size", "8", "--json", "/dev/null"],
        "bench measures clock cycles",
    );
    #[cfg(not(feature = "sim"))]
    fails_with(&["regs", "--backend", "sim"], "built without its `sim` feature");

    // The functional back end answers like the device: registers, info, a demo.
    let o = npe(&[
        "regs",
        "--backend",
        "functional",
        "--preset",
        "npe4x4",
        "SCRATCH=0x5",
        "SCRATCH",
        "ID",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("SCRATCH = 0x00000005"), "{t}");
    assert!(t.contains("ID = 0x4e504501"), "{t}");
    let o = npe(&["info", "--hw", "--backend", "functional"]);
    let t = text(&o);
    assert!(o.status.success() && t.contains("array 8x8 PEs"), "{t}");
    let o = npe(&["demo", "--backend", "functional", "--m", "5", "--n", "9", "--k", "21"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("7 GEMMs, 315 results, 0 mismatches"), "{t}");
    assert!(t.contains("the back end counts no cycles"), "{t}");
}

#[test]
fn gemm_on_the_functional_back_end() {
    use npe_host::tensor::{write_npy, Matrix};
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let (a, w, c) = (
        dir.join(format!("npe-cli-fa-{id}.npy")),
        dir.join(format!("npe-cli-fw-{id}.npy")),
        dir.join(format!("npe-cli-fc-{id}.npy")),
    );
    let a_m = Matrix {
        rows: 2,
        cols: 3,
        data: vec![1.0, 2.0, 3.0, -1.0, 0.5, 4.0],
    };
    let w_m = Matrix {
        rows: 3,
        cols: 2,
        data: vec![1.0, 0.0, 2.0, 1.0, -1.0, 3.0],
    };
    write_npy(&a, &a_m, false).unwrap();
    write_npy(&w, &w_m, false).unwrap();
    let (pa, pw, pc) = (a.to_str().unwrap(), w.to_str().unwrap(), c.to_str().unwrap());
    let o = npe(&[
        "gemm",
        "--backend",
        "functional",
        "--a",
        pa,
        "--w",
        pw,
        "--a-format",
        "fp8e4m3",
        "--w-format",
        "int8",
        "--out",
        pc,
        "--check",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("golden model: 0 mismatches in 4 results"), "{t}");
    assert!(t.contains("no cycle count"), "{t}");
    let got = npe_host::tensor::read_matrix(&c, None).unwrap();
    // A·W by hand: [1+4-3, 2+9; -1+1-4, 0.5+12].
    assert_eq!(got.data, vec![2.0, 11.0, -4.0, 12.5]);
    for f in [a, w, c] {
        let _ = std::fs::remove_file(f);
    }
}
