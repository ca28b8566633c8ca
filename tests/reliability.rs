//! The reliability campaign's short version (issue 12, items 6–8; `npe campaign` runs the long
//! one and writes `host/reports/reliability.md`): random shapes, formats and AXI timing, bus
//! faults on random beats, and soft resets aimed at the states of the job plan, on the
//! Verilated npe8x8le8 and npe4x4. Every job is compared bit for bit with the golden model and
//! every cycle goes through the AXI4 and AXI4-Lite protocol checkers.

use std::time::Instant;

use npe_hdl::spec::NpeConfig;
use npe_host::campaign::{self, Campaign, CampaignOptions, Kind, ALL_STATES, STATES};

fn run(cfg: NpeConfig, (random, faults, resets): (usize, usize, usize), aims: &[usize]) -> Campaign {
    let t0 = Instant::now();
    let opts = CampaignOptions {
        random,
        faults,
        resets,
        reset_aims: aims.to_vec(),
        ..CampaignOptions::short(cfg)
    };
    let c = campaign::run(&opts, |_, _, _| {}).unwrap();
    for r in c.failed() {
        eprintln!(
            "FAILED {} {} {:#018x}: {} — {:?}",
            cfg.name,
            r.kind.name(),
            r.seed,
            r.what,
            r.failures
        );
    }
    for kind in Kind::ALL {
        eprintln!(
            "{} {}: {} cases, {:?}",
            cfg.name,
            kind.name(),
            c.of(kind).count(),
            c.by_label(kind)
        );
    }
    eprintln!("{}: {:.1} s", cfg.name, t0.elapsed().as_secs_f64());
    assert_eq!(c.cases.len(), random + faults + resets);
    c
}

fn assert_clean(c: &Campaign) {
    let failed = c.failed().count();
    assert_eq!(failed, 0, "{failed} of {} cases failed", c.cases.len());
    // Every fault kind was injected.
    let faults = c.by_label(Kind::Fault);
    for dir in ["read SlvErr", "read DecErr", "write SlvErr", "write DecErr"] {
        assert!(faults.keys().any(|l| l.starts_with(dir)), "no {dir} case: {faults:?}");
    }
}

#[test]
fn short_campaign_8_bit_preset() {
    let c = run(NpeConfig::LE8, (300, 100, 100), &ALL_STATES);
    assert_clean(&c);
    // The resets landed in every state they were aimed at but Check.
    let resets = c.by_label(Kind::Reset);
    for &i in ALL_STATES.iter().filter(|&&i| STATES[i] != "Check") {
        assert!(
            resets.contains_key(STATES[i]),
            "no reset landed in {}: {resets:?}",
            STATES[i]
        );
    }
    assert!(!resets.contains_key("Check"), "a reset landed in Check: {resets:?}");
}

#[test]
fn short_campaign_all_format_preset() {
    assert_clean(&run(NpeConfig::TEST, (100, 40, 40), &ALL_STATES));
}

/// Regression: SOFT_RESET while DMA bursts are in flight used to abandon them (the DMAs were
/// reset with the controller): a read burst's remaining R beats were never accepted, a write
/// burst whose AW was accepted never got its remaining W beats, an AW or W presented when the
/// reset landed was withdrawn before its ready, and the next job took the stale R beats as its
/// operands or completed the old write burst with its own W beats. Now the DMAs close every
/// burst first (`hdl/src/accel/top.rs`). The cases `npe campaign` found on npe8x8le8
/// (`--replay reset:SEED`), then more resets aimed at Run and Drain:
const RESET_BUG_SEEDS: [(u64, &str); 5] = [
    (
        0x3397_56cb_fdb1_55e6,
        "Run: a read burst left open; the next job's 5 results all wrong",
    ),
    (
        0x648f_60d7_aa81_5511,
        "Run: a write burst left open, still open after the next job",
    ),
    (
        0xab57_51ae_c658_bd5b,
        "Run: the next job's W beats complete the old burst (WLAST violations)",
    ),
    (
        0x77dc_825a_8921_c20a,
        "Run: WVALID withdrawn before WREADY at the reset",
    ),
    (
        0xe288_9369_d995_fef0,
        "Run: AWVALID withdrawn before AWREADY at the reset",
    ),
];

#[test]
fn soft_reset_with_bursts_in_flight() {
    let cfg = NpeConfig::LE8;
    let mut failed = Vec::new();
    for (seed, what) in RESET_BUG_SEEDS {
        let c = campaign::run_case(&cfg, Kind::Reset, seed, 2_000_000, &ALL_STATES, None);
        if !c.failures.is_empty() {
            eprintln!("{seed:#x} ({what}): {} {:?}", c.what, c.failures);
            failed.push(seed);
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed",
        failed.len(),
        RESET_BUG_SEEDS.len()
    );
    let c = run(cfg, (0, 0, 100), &[4, 5]);
    assert_eq!(c.failed().count(), 0, "resets aimed at Run and Drain failed");
}

/// A case is a function of its seed: rerunning it (`npe campaign --replay`) gives the same case
/// and the same cycle count.
#[test]
fn cases_replay_from_their_seed() {
    let cfg = NpeConfig::LE8;
    for kind in Kind::ALL {
        let seed = campaign::case_seed(5, kind, 3);
        let a = campaign::run_case(&cfg, kind, seed, 2_000_000, &ALL_STATES, None);
        let b = campaign::run_case(&cfg, kind, seed, 2_000_000, &ALL_STATES, None);
        assert_eq!(
            (&a.what, &a.label, a.cycles),
            (&b.what, &b.label, b.cycles),
            "{}",
            kind.name()
        );
        assert!(a.failures.is_empty(), "{:?}", a.failures);
    }
}
