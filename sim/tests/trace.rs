//! The bridge itself: ports by name, combinational eval, FST traces and their errors.

use npe_sim::{tops::format_decode as fd, Sim};

#[test]
fn ports_eval_and_trace() {
    let mut s = Sim::new(fd::TOP);
    assert_eq!(fd::TOP.port("mant"), Some(fd::MANT));
    assert_eq!(fd::TOP.port("nope"), None);
    let path = std::env::temp_dir().join(format!("npe-sim-trace-{}.fst", std::process::id()));
    s.trace(&path).unwrap();
    for code in 0..16u64 {
        s.set(fd::FMT, 4); // fp4 (id from the format table)
        s.set(fd::CODE, code);
        s.tick();
    }
    s.close_trace();
    assert_eq!(s.cycles(), 16);
    // fp4 0b0111 = 6 = 3 × 2^1; the last code driven, 0b1111, is -6.
    s.set(fd::CODE, 0x7);
    s.eval();
    assert_eq!((s.get(fd::MANT), s.get(fd::EXP), s.get(fd::SIGN)), (3, 1, 0));
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(bytes.len() > 100, "FST file too small: {} bytes", bytes.len());
}

#[test]
fn trace_to_an_unwritable_path_is_an_error() {
    let mut s = Sim::new(fd::TOP);
    let e = s.trace(std::path::Path::new("/nonexistent/dir/x.fst")).unwrap_err();
    assert!(e.to_string().contains("cannot open FST trace file"), "{e}");
}
