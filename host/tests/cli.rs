//! The `npe` binary on good and bad input: clear errors, non-zero exits, no panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
mod common;

use common::{fails_with, npe, s, scratch, text};

use npe_host::tensor::{write_npy, Matrix};

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
    fails_with(&["demo", "--backpressure", "1.5"], "--backpressure 1.5 is out of range");
    // A wrong preset is refused with the list of every preset.
    let names: Vec<&str> = npe_hdl::spec::NpeConfig::PRESETS.iter().map(|c| c.name).collect();
    let presets = format!("[possible values: {}]", names.join(", "));
    fails_with(&["info", "--hw", "--preset", "npe3x3"], "invalid value 'npe3x3'");
    fails_with(&["info", "--hw", "--preset", "npe3x3"], &presets);
    fails_with(&["regs", "--preset", "nope"], "invalid value 'nope'");
    fails_with(&["frobnicate"], "unrecognized subcommand");
    // nextpnr's seed is a positive 32-bit int: refused before any tool runs.
    fails_with(
        &["synth", "--top", "npe4x4", "--pnr", "--seed", "0"],
        "0 is not in 1..=2147483647",
    );
    fails_with(
        &["synth", "--pnr", "--seed", "2147483648"],
        "invalid value '2147483648'",
    );
    // A floorplan is for a whole accelerator top, placed: refused before any tool runs.
    fails_with(&["synth", "--top", "npe8x8le8", "--floorplan"], "--pnr");
    fails_with(
        &["synth", "--top", "pe", "--pnr", "--floorplan"],
        "--floorplan lays out an accelerator's array",
    );
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
        "back ends: sim, functional, uart:PORT[,BAUD]",
    );
    fails_with(
        &["demo", "--backend", "functional", "--trace", "/tmp/x.fst"],
        "--trace writes the simulator's waveform: it needs --backend sim",
    );
    let json = std::env::temp_dir().join(format!("npe-cli-bench-{}.json", std::process::id()));
    fails_with(
        &[
            "bench",
            "--backend",
            "functional",
            "--size",
            "8",
            "--json",
            json.to_str().unwrap(),
        ],
        "bench measures clock cycles",
    );
    assert!(!json.exists());
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
    assert!(
        t.contains("block-scaled schemes: none (CAPABILITY.BLOCK_SCALES = 0)"),
        "{t}"
    );
    let o = npe(&["info", "--hw", "--backend", "functional", "--preset", "npe4x4bs"]);
    let t = text(&o);
    assert!(
        o.status.success()
            && t.contains("bitmod4-ea-neg")
            && t.contains("block-scaled schemes: bitmod4, bitmod3, mxfp4, nvfp4 (CAPABILITY.BLOCK_SCALES = 1); host only (`npe quantize`): int4g, fp4g"),
        "{t}"
    );
    let o = npe(&["demo", "--backend", "functional", "--m", "5", "--n", "9", "--k", "21"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("7 GEMMs, 315 results, 0 mismatches"), "{t}");
    assert!(t.contains("the back end counts no cycles"), "{t}");
    // With block scales: BitMoD, MXFP4 and NVFP4 rows, on the Verilated preset.
    let o = npe(&["demo", "--preset", "npe4x4bs", "--m", "5", "--n", "9", "--k", "200"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("8 GEMMs, 360 results, 0 mismatches"), "{t}");
    for row in [
        "int8 x bitmod4 (B = 128)",
        "int8 x mxfp4 (B = 32)",
        "int8 x nvfp4 (B = 16)",
    ] {
        assert!(t.contains(row), "{row}: {t}");
    }
}

#[test]
fn gemm_on_the_functional_back_end() {
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

/// `npe gemm --check` on `(back end, preset)` with A and W files and their formats, C to `c`,
/// plus `extra` options.
fn gemm_check(
    (backend, preset): (&str, &str),
    (a, a_fmt): (&Path, &str),
    (w, w_fmt): (&Path, &str),
    c: &Path,
    extra: &[&str],
) -> Output {
    let mut v = vec![
        "gemm",
        "--backend",
        backend,
        "--preset",
        preset,
        "--a",
        s(a),
        "--w",
        s(w),
        "--a-format",
        a_fmt,
        "--w-format",
        w_fmt,
        "--out",
        s(c),
        "--check",
    ];
    v.extend_from_slice(extra);
    npe(&v)
}

/// A 2x3 A and a 3x2 W as .npy files in `d`; A's element [1, 1] is `a11`.
fn operands(d: &Path, a11: f64) -> (PathBuf, PathBuf) {
    let (a, w) = (d.join("a.npy"), d.join("w.npy"));
    let m = |rows, cols, data| Matrix { rows, cols, data };
    write_npy(&a, &m(2, 3, vec![1.0, 2.0, 3.0, 4.0, a11, 6.0]), false).unwrap();
    write_npy(&w, &m(3, 2, vec![1.0; 6]), false).unwrap();
    (a, w)
}

/// `npe gemm` on the functional back end with int8 operands, plus `extra` options.
fn gemm_args<'a>(a: &'a str, w: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "gemm",
        "--backend",
        "functional",
        "--a",
        a,
        "--w",
        w,
        "--a-format",
        "int8",
        "--w-format",
        "int8",
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

/// Issue 12, item 1: `--trace` never replaces what is not a regular file: device nodes,
/// symlinks to them and directories are refused before anything runs, and are left as they
/// were. (These checks come before the back end is built, so they hold without the simulator.)
#[test]
fn trace_refuses_what_is_not_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    let d = scratch("trace-kinds");
    let link = d.join("null-link.fst");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    for cmd in [
        &["regs", "--backend", "sim"][..],
        &["demo"],
        &["info", "--hw"],
        &["bench"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--trace", "/dev/null"]);
        fails_with(&args, "--trace /dev/null: is a character device, not a regular file");
        let mut args = cmd.to_vec();
        args.extend(["--trace", s(&link)]);
        fails_with(&args, "is a character device");
        let mut args = cmd.to_vec();
        args.extend(["--trace", s(&d)]);
        fails_with(&args, "is a directory");
    }
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    fails_with(
        &["regs", "--trace", s(&d.join("missing/t.fst"))],
        "does not exist (npe does not create it",
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 12, item 1 on the simulator: the trace replaces a regular file, and a `PATH.hier`
/// beside it (which Verilator's FST writer would delete) is left alone.
#[cfg(feature = "sim")]
#[test]
fn trace_replaces_only_its_own_file() {
    let d = scratch("trace-sim");
    let t = d.join("t.fst");
    std::fs::write(&t, b"old").unwrap();
    let hier = d.join("t.fst.hier");
    std::fs::write(&hier, b"mine").unwrap();
    let o = npe(&["regs", "--backend", "sim", "--preset", "npe4x4", "--trace", s(&t), "ID"]);
    assert!(o.status.success(), "{}", text(&o));
    let fst = std::fs::read(&t).unwrap();
    assert!(fst.len() > 100 && fst != b"old", "a waveform was written");
    assert_eq!(std::fs::read(&hier).unwrap(), b"mine");
    let names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 12, item 2: an output that is an input (same path, another spelling, a symlink, a
/// hard link) or another output is refused, and the input is left as it was.
#[test]
fn outputs_never_overwrite_inputs() {
    let d = scratch("same");
    let (a, w) = operands(&d, 5.0);
    let before = std::fs::read(&a).unwrap();
    let soft = d.join("soft.npy");
    std::os::unix::fs::symlink(&a, &soft).unwrap();
    let hard = d.join("hard.npy");
    std::fs::hard_link(&w, &hard).unwrap();
    let dotted = d.join(".").join("a.npy");
    for (out, input) in [(&a, "--a"), (&dotted, "--a"), (&soft, "--a"), (&hard, "--w")] {
        fails_with(
            &gemm_args(s(&a), s(&w), s(out), &[]),
            &format!("is the same file as {input}"),
        );
    }
    assert_eq!(std::fs::read(&a).unwrap(), before);
    let c = d.join("c.npy");
    let c2 = d.join("./c.npy");
    let mut args = gemm_args(s(&a), s(&w), s(&c), &["--trace", s(&c2)]);
    args[2] = "sim"; // --trace needs the simulator; the paths are checked before it is built
    fails_with(&args, "--trace");
    fails_with(&args, "is the same file as --out");
    fails_with(&["bench", "--json", s(&c), "--trace", s(&c)], "--trace");
    assert!(!c.exists(), "nothing was written");
    let o = npe(&gemm_args(s(&a), s(&w), s(&c), &[]));
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 12, item 3: every simulation option is bounded (the bound is in `--help`), and a
/// shape too large for device memory is refused before its operands are generated.
#[test]
fn simulation_options_are_bounded() {
    fails_with(
        &["demo", "--latency", "4294967295"],
        "--latency 4294967295 is out of range: the memory model takes 0 to 1000 cycles",
    );
    fails_with(&["regs", "--latency", "1001"], "--latency 1001 is out of range");
    fails_with(&["demo", "--backpressure", "0.95"], "it must be in [0, 0.9]");
    fails_with(&["demo", "--backpressure", "NaN"], "--backpressure NaN is out of range");
    let help = text(&npe(&["demo", "--help"]));
    assert!(help.contains("0 to 1000") && help.contains("0 to 0.9"), "{help}");
    // Before: the demo tried to allocate 6.4 GB of operands and aborted.
    fails_with(
        &[
            "demo",
            "--backend",
            "functional",
            "--m",
            "100000000",
            "--n",
            "8",
            "--k",
            "8",
        ],
        "--m 100000000 --n 8 --k 8: fp4 x fp4 does not fit the device: device memory: the job (A",
    );
}

/// Issue 12, item 4: NaN is refused for formats without a NaN code, naming the element, unless
/// `--nan zero` asks for the old encoding.
#[test]
fn nan_is_refused_unless_asked_for() {
    fails_with(&["encode", "fp4", "1", "nan"], "value 2 = NaN, and fp4 has no NaN code");
    fails_with(
        &["encode", "int8", "--", "-nan"],
        "value 1 = -NaN, and int8 has no NaN code",
    );
    fails_with(&["encode", "fp6e3m2", "nan"], "pass --nan zero");
    let o = npe(&["encode", "--nan", "zero", "fp4", "nan"]);
    assert!(
        o.status.success() && text(&o).contains("NaN -> fp4 0x0008 = 0"),
        "{}",
        text(&o)
    );
    let o = npe(&["encode", "fp8e4m3", "nan"]);
    assert!(o.status.success() && text(&o).contains("0x007f"), "{}", text(&o));
    assert!(text(&npe(&["encode", "--help"])).contains("--nan <CHOICE>"));

    let d = scratch("nan");
    let (a, w) = operands(&d, f64::NAN);
    let c = d.join("c.npy");
    fails_with(
        &gemm_args(s(&a), s(&w), s(&c), &[]),
        &format!(
            "--a {}: element [1, 1] (index 4) = NaN, and int8 has no NaN code",
            s(&a)
        ),
    );
    let o = npe(&gemm_args(s(&a), s(&w), s(&c), &["--nan", "zero"]));
    assert!(o.status.success(), "{}", text(&o));
    let v = d.join("v.txt");
    std::fs::write(&v, "1 nan").unwrap();
    let one = d.join("one.txt");
    std::fs::write(&one, "1 1").unwrap();
    fails_with(
        &[
            "dot",
            "--a-format",
            "fp4",
            "--w-format",
            "int8",
            "--a",
            s(&v),
            "--w",
            s(&one),
        ],
        &format!("--a {}: value 2 = NaN, and fp4 has no NaN code", s(&v)),
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Issue 12, item 5: what used to be ignored, or named the wrong thing, is a clear error.
#[test]
fn inconsistencies_are_clear_errors() {
    let d = scratch("incons");
    let (a, w) = operands(&d, 5.0);
    let (pa, pw) = (s(&a).to_string(), s(&w).to_string());
    let c = d.join("c.npy");
    fails_with(
        &[
            "dot",
            "--a-format",
            "e8m0",
            "--w-format",
            "int8",
            "--a",
            &pa,
            "--w",
            &pa,
        ],
        "unsupported format: --a-format e8m0 is not a multiplier operand format",
    );
    fails_with(
        &gemm_args(&pa, &pw, s(&c), &["--a-tensor", "x"]),
        "a .npy file holds one unnamed array; --a-tensor x only applies to .safetensors files",
    );
    fails_with(
        &["info", "--trace", s(&d.join("t.fst"))],
        "`info` only connects to the device with --hw",
    );
    let good = std::fs::read(&w).unwrap();
    let bad = d.join("bad.npy");
    std::fs::write(&bad, [&good[..], b"extra"].concat()).unwrap();
    fails_with(&gemm_args(&pa, s(&bad), s(&c), &[]), "5 bytes after the array's data");
    std::fs::write(&bad, &good[..good.len() - 3]).unwrap();
    fails_with(
        &gemm_args(&pa, s(&bad), s(&c), &[]),
        &format!(
            "{}: truncated: shape [3, 2] of 4-byte elements needs {} bytes",
            s(&bad),
            good.len()
        ),
    );
    fails_with(
        &["regs", "--backend", "functional", "SCRATCH=0x1ffffffff"],
        "'0x1ffffffff' is wider than 32 bits",
    );
    fails_with(&["bench", "--size", "0"], "--size must be at least 1");
    fails_with(&["bench", "--size", "70000"], "--size 70000 is too long");
    let o = npe(&["bench", "--size", "0"]);
    assert!(!text(&o).contains("--m") && !text(&o).contains("--k"), "{}", text(&o));
    // A directory the user names must exist, for every output.
    let missing = d.join("missing");
    fails_with(
        &["bench", "--json", s(&missing.join("b.json"))],
        "does not exist (npe does not create it",
    );
    fails_with(
        &gemm_args(&pa, &pw, s(&missing.join("c.npy")), &[]),
        "does not exist (npe does not create it",
    );
    assert!(!missing.exists(), "bench did not create the directory");
    // Write errors name the path (a file-size limit stands in for a full disk).
    let o = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_npe"))
        .args(gemm_args(&pa, &pw, s(&c), &[]))
        .output()
        .unwrap();
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains(&format!("cannot write {}: File too large", s(&c))), "{t}");
    // The memory error describes the whole job.
    fails_with(
        &[
            "demo",
            "--backend",
            "functional",
            "--m",
            "3000",
            "--n",
            "3000",
            "--k",
            "8",
        ],
        "the job (A 48000 B, W 48000 B, C 36000000 B, each in whole 4 KiB pages) needs 36102144 bytes",
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// `npe campaign`: bad options are clear errors; a short run writes a report whose first line
/// is the command that regenerates it; a replayed case prints it; a register typo is caught
/// before any write.
#[cfg(feature = "sim")]
#[test]
fn campaign_options_and_report() {
    fails_with(&["campaign", "--replay", "reset"], "expected KIND:SEED");
    fails_with(&["campaign", "--replay", "boot:1"], "unknown kind 'boot'");
    fails_with(&["campaign", "--replay", "fault:0xzz"], "is not a 64-bit seed");
    fails_with(&["campaign", "--max-cycles", "0"], "--max-cycles must be at least 1");
    fails_with(&["campaign", "--preset", "npe9x9"], "invalid value 'npe9x9'");
    fails_with(
        &[
            "campaign",
            "--preset",
            "npe4x4",
            "--preset",
            "npe8x8le8",
            "--replay",
            "fault:1",
        ],
        "exactly one --preset",
    );
    let d = scratch("campaign");
    let report = d.join("r.md");
    let o = npe(&[
        "campaign",
        "--preset",
        "npe8x8le8",
        "--jobs",
        "3",
        "--faults",
        "2",
        "--resets",
        "2",
        "--fuzz-cases",
        "5",
        "--report",
        s(&report),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let md = std::fs::read_to_string(&report).unwrap();
    let first = md.lines().next().unwrap();
    assert!(
        first.contains("campaign --preset npe8x8le8 --jobs 3 --faults 2 --resets 2 --seed 1 --fuzz-cases 5"),
        "{first}"
    );
    assert!(md.contains("| 7. SLVERR/DECERR on a random beat | 2 | 2 | 0 |"), "{md}");
    let o = npe(&["campaign", "--preset", "npe8x8le8", "--replay", "random:0x1234"]);
    assert!(o.status.success() && text(&o).contains("passed"), "{}", text(&o));
    fails_with(&["regs", "SCRATCH=1", "NOPE"], "NOPE: no register named 'NOPE'");
}

/// Issue 13, item 4: `npe gemm` with outlier-victim pair operands, quantized on the fly
/// (`olive`) or read from `npe quantize`'s file, on the OliVe preset; an odd K is padded; the
/// scales are applied by the host; bad pair files and presets without a pair decoder are
/// clear errors.
#[test]
fn gemm_with_outlier_victim_pairs() {
    use npe_host::golden;
    use npe_host::quant::operand::OvpOperand;
    let d = scratch("ovp");
    let m = |rows, cols, data| Matrix { rows, cols, data };
    // K = 5 (odd); A's [0, 2] and W's [3, 1] are outliers.
    let a_m = m(
        3,
        5,
        (0..15)
            .map(|i| ((i * 5 % 7) as f64 - 3.0) * if i == 2 { 30.0 } else { 0.5 })
            .collect(),
    );
    let w_m = m(
        5,
        4,
        (0..20)
            .map(|i| ((i * 3 % 11) as f64 - 5.0) * if i == 13 { -20.0 } else { 0.25 })
            .collect(),
    );
    let wt_m = m(4, 5, (0..20).map(|i| w_m.data[(i % 5) * 4 + i / 5]).collect());
    let (a, w, wt, c) = (d.join("a.npy"), d.join("w.npy"), d.join("wt.npy"), d.join("c.npy"));
    write_npy(&a, &a_m, false).unwrap();
    write_npy(&w, &w_m, false).unwrap();
    write_npy(&wt, &wt_m, false).unwrap();
    let gemm = |a_fmt: &str, w: &Path, w_fmt: &str, preset: &str, extra: &[&str]| {
        gemm_check(("functional", preset), (&a, a_fmt), (w, w_fmt), &c, extra)
    };
    let o = gemm("olive", &w, "olive", "npe4x4ovp", &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("golden model: 0 mismatches in 12 results") && t.contains("padded with a zero"),
        "{t}"
    );
    // The file holds (dequantized A) x (dequantized W), the scales applied by the host.
    let (qa, qw) = (
        OvpOperand::activations(&a_m, None).unwrap(),
        OvpOperand::weights(&w_m, None).unwrap(),
    );
    let value = |op: &OvpOperand, i: usize, c: usize| {
        let pair = &op.codes[i - i % 2..i - i % 2 + 2];
        golden::unified_f64(golden::decode_codes(op.format, pair).unwrap()[i % 2]) * op.scale(c)
    };
    let got = npe_host::tensor::read_matrix(&c, None).unwrap();
    for r in 0..3 {
        for col in 0..4 {
            let want: f64 = (0..6)
                .map(|k| value(&qa, r * 6 + k, 0) * value(&qw, k * 4 + col, col))
                .sum();
            let g = got.data[r * 4 + col];
            assert!(
                (g - want).abs() <= 1e-6 * want.abs().max(1e-3),
                "[{r}, {col}]: {g} vs {want}"
            );
        }
    }
    // From `npe quantize`'s file (W stored [N, K]), beside INT8 activations.
    let wq = d.join("wq.safetensors");
    let o = npe(&[
        "quantize",
        "--scheme",
        "olive",
        "--w",
        s(&wt),
        "--normal",
        "int4",
        "--out",
        s(&wq),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = gemm("int8", &wq, "olive", "npe4x4ovp", &["--w-tensor", "wt"]);
    let t = text(&o);
    assert!(o.status.success() && t.contains("0 mismatches in 12 results"), "{t}");
    for (w_fmt, preset, needle) in [
        ("ovp-flint4", "npe4x4ovp", "holds wt in ovp-int4"),
        ("olive", "npe8x8le8", "no pair decoder: run it on npe4x4ovp"),
    ] {
        let o = gemm("int8", &wq, w_fmt, preset, &["--w-tensor", "wt"]);
        let t = text(&o);
        assert!(
            !o.status.success() && t.contains(needle) && !t.contains("panicked"),
            "{t}"
        );
    }
    // A file whose codes do not match its K.
    let bad = d.join("bad.safetensors");
    let views = [(
        "wt.codes".to_string(),
        safetensors::tensor::TensorView::new(safetensors::Dtype::U8, vec![4, 2], &[0u8; 8]).unwrap(),
    )];
    let meta: std::collections::HashMap<String, String> =
        [("wt.format".into(), "ovp-int4".into()), ("wt.k".into(), "5".into())].into();
    std::fs::write(&bad, safetensors::serialize(views, &Some(meta)).unwrap()).unwrap();
    let o = gemm("int8", &bad, "olive", "npe4x4ovp", &["--w-tensor", "wt"]);
    let t = text(&o);
    assert!(
        !o.status.success() && t.contains("no wt.scale") && !t.contains("panicked"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(d);
}

/// Issue 14: `npe gemm` with MXFP4 / NVFP4 weights, quantized on the fly or read from `npe
/// quantize`'s file, on the block-scaled preset: the device applies the block scales (exact
/// against the golden model's block GEMM), the host NVFP4's tensor scale; the results are A times
/// the dequantized weights; every misuse is a clear error.
#[test]
fn gemm_with_block_scaled_weights() {
    use npe_host::quant::block::{quantize, BlockScheme};
    let d = scratch("block");
    // K = 70: two MXFP4 blocks and a short one; A's integers are exact in INT8.
    let (m, k, n) = (3, 70, 5);
    let a_m = Matrix {
        rows: m,
        cols: k,
        data: (0..m * k).map(|i| ((i * 7 % 23) as f64) - 11.0).collect(),
    };
    let mut w_m = Matrix {
        rows: k,
        cols: n,
        data: (0..k * n)
            .map(|i| ((i * 13 % 29) as f64 - 14.0) * 0.01 * (1 + i % 3) as f64)
            .collect(),
    };
    // Column 1's first block is zero: MXFP4 gives it the smallest scale code, outside the
    // device's window, which a zero block does not need.
    for kk in 0..32 {
        w_m.data[kk * n + 1] = 0.0;
    }
    // W as PyTorch stores it ([N, K]), for `npe quantize` and the reference.
    let wt: Vec<f64> = (0..n * k).map(|i| w_m.data[(i % k) * n + i / k]).collect();
    let wt_m = Matrix {
        rows: n,
        cols: k,
        data: wt.clone(),
    };
    let (a, w, wtp, c) = (d.join("a.npy"), d.join("w.npy"), d.join("wt.npy"), d.join("c.npy"));
    write_npy(&a, &a_m, false).unwrap();
    write_npy(&w, &w_m, false).unwrap();
    write_npy(&wtp, &wt_m, false).unwrap();
    let gemm = |w: &Path, w_fmt: &str, a_fmt: &str, preset: &str, backend: &str, extra: &[&str]| {
        gemm_check((backend, preset), (&a, a_fmt), (w, w_fmt), &c, extra)
    };
    // C = A x W dequantized (FP32 results: within FP32 rounding), W as the CLI read it: the
    // .npy holds f32, and BitMoD's u8 group scales, unlike MXFP4's powers of two, follow its
    // last bits.
    let wt32: Vec<f64> = wt.iter().map(|&x| f64::from(x as f32)).collect();
    let c_is_a_times_dequantized_w = |scheme: BlockScheme, b: usize| {
        let wq = quantize(scheme, &wt32, k, b).unwrap().dequantize().unwrap();
        let got = npe_host::tensor::read_matrix(&c, None).unwrap();
        for r in 0..m {
            for col in 0..n {
                let want: f64 = (0..k).map(|kk| a_m.data[r * k + kk] * wq[col * k + kk]).sum();
                let g = got.data[r * n + col];
                assert!(
                    (g - want).abs() <= 1e-6 * want.abs().max(1e-3),
                    "{scheme:?} [{r}, {col}]: {g} vs {want}"
                );
            }
        }
    };
    for (scheme, b) in [(BlockScheme::Mxfp4, 32), (BlockScheme::Nvfp4, 16)] {
        let o = gemm(&w, scheme.name(), "int8", "npe4x4bs", "functional", &[]);
        let t = text(&o);
        assert!(
            o.status.success() && t.contains("golden model: 0 mismatches in 15 results"),
            "{t}"
        );
        assert!(t.contains(&format!("per block of {b}")), "{t}");
        c_is_a_times_dequantized_w(scheme, b);
    }
    // The same from `npe quantize`'s file, on the Verilated preset.
    let wb = d.join("wb.safetensors");
    let o = npe(&["quantize", "--scheme", "mxfp4", "--w", s(&wtp), "--out", s(&wb)]);
    assert!(o.status.success(), "{}", text(&o));
    let fly = {
        let o = gemm(&w, "mxfp4", "fp8e4m3", "npe4x4bs", "functional", &[]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read(&c).unwrap()
    };
    let o = gemm(&wb, "mxfp4", "fp8e4m3", "npe4x4bs", "sim", &["--w-tensor", "wt"]);
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("0 mismatches in 15 results") && t.contains("cycles"),
        "{t}"
    );
    assert_eq!(std::fs::read(&c).unwrap(), fly, "file and on-the-fly MXFP4 differ");
    // BitMoD from `npe quantize`'s file on the Verilated preset (selectors, u8 scales; the
    // per-channel scales on the host), and 3-bit BitMoD on the fly.
    let wbm = d.join("wbm.safetensors");
    let o = npe(&["quantize", "--scheme", "bitmod4", "--w", s(&wtp), "--out", s(&wbm)]);
    assert!(o.status.success(), "{}", text(&o));
    let o = gemm(&wbm, "bitmod4", "int8", "npe4x4bs", "sim", &["--w-tensor", "wt"]);
    let t = text(&o);
    assert!(
        o.status.success()
            && t.contains("0 mismatches in 15 results")
            && t.contains("data-type selector")
            && t.contains("5 per-channel scales"),
        "{t}"
    );
    let o = gemm(&w, "bitmod3", "fp8e4m3", "npe4x4bs", "functional", &[]);
    let t = text(&o);
    assert!(o.status.success() && t.contains("0 mismatches in 15 results"), "{t}");
    c_is_a_times_dequantized_w(BlockScheme::Bitmod3, 128);
    // Misuse.
    let wg = d.join("wg.safetensors");
    let o = npe(&["quantize", "--scheme", "fp4g", "--w", s(&wtp), "--out", s(&wg)]);
    assert!(o.status.success(), "{}", text(&o));
    // Nonzero blocks whose scales span more than the device's window of 16 exponents.
    let wide = d.join("wide.npy");
    let mut wide_m = Matrix {
        rows: k,
        cols: n,
        data: w_m.data.clone(),
    };
    for kk in 0..32 {
        wide_m.data[kk * n] *= 1e-6;
    }
    write_npy(&wide, &wide_m, false).unwrap();
    for (w, w_fmt, a_fmt, preset, extra, needle) in [
        (&w, "mxfp4", "int8", "npe4x4", &[][..], "no block scales"),
        (&w, "nvfp4", "mxfp4", "npe4x4bs", &[][..], "plain format"),
        (&w, "nvfp4", "olive", "npe4x4bs", &[][..], "plain format"),
        (
            &wb,
            "fp4",
            "int8",
            "npe4x4bs",
            &["--w-tensor", "wt"][..],
            "give --w-format mxfp4",
        ),
        (
            &wb,
            "nvfp4",
            "int8",
            "npe4x4bs",
            &["--w-tensor", "wt"][..],
            "give --w-format mxfp4",
        ),
        (
            &wbm,
            "fp4",
            "int8",
            "npe4x4bs",
            &["--w-tensor", "wt"][..],
            "give --w-format bitmod4",
        ),
        (
            &wg,
            "int8",
            "int8",
            "npe4x4bs",
            &["--w-tensor", "wt"][..],
            "BitMoD, MXFP4 and NVFP4 block scales only",
        ),
        (&w, "bitmod4", "bitmod4", "npe4x4bs", &[][..], "plain format"),
        (&wide, "mxfp4", "int8", "npe4x4bs", &[][..], "16 exponents per job"),
    ] {
        let o = gemm(w, w_fmt, a_fmt, preset, "functional", extra);
        let t = text(&o);
        assert!(
            !o.status.success() && t.contains(needle) && !t.contains("panicked"),
            "{w_fmt} {a_fmt} {preset}: {t}"
        );
    }
    let _ = std::fs::remove_dir_all(d);
}
