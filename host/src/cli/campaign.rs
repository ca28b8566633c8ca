//! `npe campaign`: the reliability campaign and the property tests, with a markdown report.

use super::*;

/// The numbers of `npe campaign`.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
pub(super) struct CampaignArgs {
    pub(super) presets: Vec<NpeConfig>,
    pub(super) jobs: usize,
    pub(super) faults: usize,
    pub(super) resets: usize,
    pub(super) seed: u64,
    pub(super) fuzz_cases: u32,
    pub(super) max_cycles: u64,
}

/// `npe campaign` without the simulator.
#[cfg(not(feature = "sim"))]
pub(super) fn campaign_cmd(_: CampaignArgs, _: Option<&Path>, _: Option<&str>) -> Result<()> {
    bail!("`npe campaign` runs the Verilated accelerator: build npe with the `sim` feature")
}

/// `npe campaign`: items 6–8 of the reliability campaign on the simulator, the property tests
/// (item 10), a markdown report; fails if any case failed.
#[cfg(feature = "sim")]
pub(super) fn campaign_cmd(a: CampaignArgs, report: Option<&Path>, replay: Option<&str>) -> Result<()> {
    use crate::campaign::{self, Kind};
    if a.max_cycles == 0 {
        bail!("--max-cycles must be at least 1");
    }
    if let Some(r) = replay {
        let (kind, seed) = r
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("--replay {r}: expected KIND:SEED, e.g. reset:0x1234"))?;
        let kind = Kind::from_name(kind)
            .ok_or_else(|| anyhow::anyhow!("--replay {r}: unknown kind '{kind}' (random, fault or reset)"))?;
        let seed = match seed.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => seed.parse(),
        }
        .map_err(|_| anyhow::anyhow!("--replay {r}: '{seed}' is not a 64-bit seed"))?;
        let [preset] = a.presets[..] else {
            bail!("--replay reruns a case of one preset: give exactly one --preset");
        };
        let c = campaign::run_case(&preset, kind, seed, a.max_cycles, &campaign::ALL_STATES, None);
        println!("{} {} {seed:#018x}: {} [{}]", preset.name, kind.name(), c.what, c.label);
        for f in &c.failures {
            println!("  FAILED {}: {f:?}", f.class());
        }
        if !c.failures.is_empty() {
            bail!("the case failed");
        }
        println!("  passed ({} cycles)", c.cycles);
        return Ok(());
    }
    if let Some(p) = report {
        outfile::check_outputs(&[("--report", p)], &[])?;
    }
    let mut campaigns = Vec::new();
    let mut failed = 0;
    for &preset in &a.presets {
        let opts = campaign::CampaignOptions {
            preset,
            seed: a.seed,
            random: a.jobs,
            faults: a.faults,
            resets: a.resets,
            max_cycles: a.max_cycles,
            reset_aims: campaign::ALL_STATES.to_vec(),
        };
        let bar = indicatif::ProgressBar::new((a.jobs + a.faults + a.resets) as u64);
        bar.set_message(preset.name);
        let c = campaign::run(&opts, |r, _, _| {
            bar.inc(1);
            if !r.failures.is_empty() {
                failed += 1;
                bar.println(format!(
                    "FAILED {} {} {:#018x}: {} — {:?}",
                    preset.name,
                    r.kind.name(),
                    r.seed,
                    r.what,
                    r.failures
                ));
            }
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        bar.finish_and_clear();
        eprintln!(
            "{}: {} cases in {:.0} s",
            preset.name,
            c.cases.len(),
            c.elapsed.as_secs_f64()
        );
        campaigns.push(c);
    }
    let t0 = std::time::Instant::now();
    let fuzz = crate::fuzz::run_all(a.fuzz_cases, a.seed);
    eprintln!("properties: {:.0} s", t0.elapsed().as_secs_f64());
    let mut command = String::from("cargo run --release --bin npe -- campaign");
    for p in &a.presets {
        command += &format!(" --preset {}", p.name);
    }
    command += &format!(
        " --jobs {} --faults {} --resets {} --seed {} --fuzz-cases {} --max-cycles {}",
        a.jobs, a.faults, a.resets, a.seed, a.fuzz_cases, a.max_cycles
    );
    if let Some(p) = report {
        command += &format!(" --report {}", p.display());
    }
    let text = campaign::report(&campaigns, &command, &crate::fuzz::report_section(&fuzz));
    match report {
        Some(p) => {
            fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
            println!("wrote {}", p.display());
        }
        None => print!("{text}"),
    }
    let fuzz_failed = fuzz.iter().filter(|f| f.failure.is_some()).count();
    if failed > 0 || fuzz_failed > 0 {
        bail!("{failed} campaign case(s) and {fuzz_failed} property test(s) failed (see the report)");
    }
    Ok(())
}
