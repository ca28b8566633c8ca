//! Running the `npe` binary from the CLI tests.

use std::process::{Command, Output};

/// Runs `npe` with `args`.
pub fn npe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_npe"))
        .args(args)
        .output()
        .expect("run npe")
}

/// stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Fails with a message containing `needle`, and without a panic.
pub fn fails_with(args: &[&str], needle: &str) {
    let o = npe(args);
    let t = text(&o);
    assert!(!o.status.success(), "{args:?} should fail:\n{t}");
    assert!(t.contains(needle), "{args:?}: expected '{needle}' in:\n{t}");
    assert!(!t.contains("panicked"), "{args:?} panicked:\n{t}");
}
