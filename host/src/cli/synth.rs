//! `npe synth`: Yosys and nextpnr over the chosen hardware tops, tables and reports.

use super::*;

/// `npe synth`: synthesizes the chosen tops, prints a table and writes `report.json`. Accelerator
/// tops (the presets) go through the whole-top flow with a per-block breakdown
/// (`npe_fpga::synth_accel`) and are written to `accel.json`.
pub(super) fn synth(tops: &[String], pnr: Option<npe_fpga::Pnr>, out: &Path, md: Option<&Path>) -> Result<()> {
    let all = npe_hdl::emit::synth_tops();
    for t in tops {
        if !all.iter().any(|(n, _)| n == t) {
            let names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
            bail!("unknown top '{t}'; tops: {}", names.join(", "));
        }
    }
    let is_accel = |n: &str| npe_hdl::spec::NpeConfig::PRESETS.iter().any(|c| c.name == n);
    if pnr.is_some_and(|p| p.floorplan) && (tops.is_empty() || tops.iter().any(|t| !is_accel(t))) {
        bail!("--floorplan lays out an accelerator's array: choose only presets with --top");
    }
    let tools = npe_fpga::Tools::detect(pnr.is_some())?;
    let (mut reports, mut accels) = (Vec::new(), Vec::new());
    for (name, verilog) in all
        .iter()
        .filter(|(n, _)| tops.is_empty() || tops.iter().any(|t| t == n))
    {
        eprintln!("synthesizing {name} ...");
        if is_accel(name) {
            accels.push(npe_fpga::synth_accel(&tools, name, verilog, &out.join(name), pnr)?);
        } else {
            reports.push(npe_fpga::synth_ecp5(
                &tools,
                name,
                verilog,
                &out.join(name),
                pnr.is_some(),
            )?);
        }
    }
    let ratios = report::synth_ratios(&reports).unwrap_or_default();
    let table = if reports.is_empty() {
        String::new()
    } else {
        report::synth_table(&reports) + &ratios
    };
    let accel_text: Vec<String> = accels.iter().map(report::accel_table).collect();
    print!("{table}");
    for t in &accel_text {
        print!("\n{t}");
    }
    let path = out.join("report.json");
    fs::write(&path, serde_json::to_string_pretty(&reports)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());
    if !accels.is_empty() {
        let path = out.join("accel.json");
        fs::write(&path, serde_json::to_string_pretty(&accels)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if let Some(md) = md {
        // The regenerating command comes first, so the report says how to remake itself.
        let mut text = format!(
            "Regenerate with `cargo run --release --bin npe -- synth{}{} --report {}`.\n\n# Synthesis report\n\n",
            tops.iter().map(|t| format!(" --top {t}")).collect::<String>(),
            match pnr {
                None => String::new(),
                Some(p) => format!(
                    " --pnr{}{}{}",
                    match p.router {
                        npe_fpga::Router::Router1 => "",
                        npe_fpga::Router::Router2 => " --router router2",
                    },
                    if p.seed == 1 {
                        String::new()
                    } else {
                        format!(" --seed {}", p.seed)
                    },
                    if p.floorplan { " --floorplan" } else { "" }
                ),
            },
            md.display(),
        );
        if !reports.is_empty() {
            text += &format!("```text\n{table}```\n\n{}", report::SYNTH_METHOD);
        }
        for (r, t) in accels.iter().zip(&accel_text) {
            text += &format!("\n## {} (whole top)\n\n```text\n{t}```\n", r.top);
        }
        if !accels.is_empty() {
            text += &format!("\n{}", report::ACCEL_METHOD);
        }
        // Hand-written notes of the previous report survive regeneration.
        if let Some(notes) = fs::read_to_string(md).ok().as_deref().and_then(report::kept_notes) {
            text += &format!("\n{notes}");
        }
        fs::write(md, text).with_context(|| format!("cannot write {}", md.display()))?;
        println!("wrote {}", md.display());
    }
    Ok(())
}
