//! Running the `npe` binary from the CLI tests.

use std::path::{Path, PathBuf};
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

// Each test crate compiles this module on its own, and not every one uses the helpers below.

/// A fresh scratch directory for one test (`name` unique among the tests).
#[allow(dead_code)]
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npe-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A path as a command-line argument.
#[allow(dead_code)]
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
