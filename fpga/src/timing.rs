//! Where the clock goes: the slack of every register endpoint of a routed design, from the SDF
//! that nextpnr writes (`--sdf`), grouped by register family.
//!
//! nextpnr's log names one critical path per run; the whole top fails at hundreds of endpoints,
//! and which one is worst changes with the seed. This census is a plain static timing analysis
//! over the SDF's arcs (nextpnr's own delays: the cells' IOPATHs, every routed INTERCONNECT,
//! the setup checks), longest path only, one clock: each register endpoint's arrival against the
//! period, and the register its worst path starts from. Registers are named by their flat
//! netlist name without Yosys' bit suffix; a *family* also drops instance numbers (`wreg__2` →
//! `wreg__*`), so the 16 PEs' accumulators are one row.

use std::collections::{BTreeMap, HashMap};

use crate::FpgaError;

/// One register input checked against the clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// The register (flat netlist name, bit suffix dropped).
    pub register: String,
    /// Period minus arrival minus setup, picoseconds (negative: fails).
    pub slack_ps: f64,
    /// The register its worst path starts from.
    pub start: String,
}

/// The endpoints of one register family.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FamilySlack {
    /// The family: register name with instance numbers replaced by `*`.
    pub family: String,
    /// Endpoints (register input bits) in the family.
    pub endpoints: usize,
    /// How many fail the period.
    pub failing: usize,
    /// The worst slack, picoseconds.
    pub worst_ps: f64,
    /// The family of the register the worst path starts from.
    pub worst_start: String,
}

/// The endpoint census of a routed design.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Census {
    /// The period checked against, picoseconds.
    pub period_ps: f64,
    /// Register endpoints checked.
    pub endpoints: usize,
    /// How many fail the period.
    pub failing: usize,
    /// By register family, most failing first.
    pub families: Vec<FamilySlack>,
}

/// The census of the SDF `sdf` against `period_ps`.
pub fn census(sdf: &str, period_ps: f64) -> Result<Census, FpgaError> {
    let e = endpoints(sdf, period_ps)?;
    Ok(Census {
        period_ps,
        endpoints: e.len(),
        failing: e.iter().filter(|x| x.slack_ps < 0.0).count(),
        families: families(&e),
    })
}

fn parse_err(detail: String) -> FpgaError {
    FpgaError::Parse {
        what: "SDF".into(),
        detail,
    }
}

/// The largest value of the `(min:typ:max)` triples in `s` (rise and fall), picoseconds.
fn max_delay(s: &str) -> Result<f64, FpgaError> {
    let mut worst: Option<f64> = None;
    for triple in s.split('(').skip(1) {
        let body = triple.split(')').next().unwrap_or("");
        for v in body.split(':') {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let x: f64 = v.parse().map_err(|_| parse_err(format!("delay value {v:?}")))?;
            worst = Some(worst.map_or(x, |w: f64| w.max(x)));
        }
    }
    worst.ok_or_else(|| parse_err(format!("no delay in {s:?}")))
}

/// The first two whitespace-separated words after the keyword, and the rest of the line.
fn two_words(rest: &str) -> Option<(&str, &str, &str)> {
    let rest = rest.trim_start();
    let (a, rest) = rest.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let (b, rest) = rest.split_once(char::is_whitespace)?;
    Some((a, b, rest))
}

/// A SETUPHOLD check's port: `(posedge M)` → `M`.
fn check_port(s: &str) -> &str {
    s.trim_matches(|c| c == '(' || c == ')')
        .rsplit(' ')
        .next()
        .unwrap_or("")
}

/// The register a cell instance belongs to: Yosys names a register's flip-flops
/// `<name>_TRELLIS_FF_Q_<n>` and a block RAM or multiplier `<name>_DP16KD…`, `<name>_MULT18X18D…`.
pub fn register_name(instance: &str) -> String {
    let plain = instance.replace('\\', "");
    let cut = ["_TRELLIS_FF_Q", "_DP16KD", "_MULT18X18D"]
        .iter()
        .filter_map(|m| plain.find(m))
        .min()
        .unwrap_or(plain.len());
    plain[..cut].to_string()
}

/// A register's family: `dut.` dropped, every `__<digits>` and `[<digits>]` made `*`.
pub fn family(register: &str) -> String {
    let r = register.strip_prefix("dut.").unwrap_or(register);
    let mut out = String::with_capacity(r.len());
    let b = r.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &r[i..];
        let digits_after = |skip: usize| rest[skip..].bytes().take_while(u8::is_ascii_digit).count();
        if rest.starts_with("__") && digits_after(2) > 0 {
            out.push_str("__*");
            i += 2 + digits_after(2);
        } else if rest.starts_with('[') && digits_after(1) > 0 && rest[1 + digits_after(1)..].starts_with(']') {
            out.push_str("[*]");
            i += 2 + digits_after(1);
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every register endpoint of the SDF with its slack against `period_ps`, worst first.
pub fn endpoints(sdf: &str, period_ps: f64) -> Result<Vec<Endpoint>, FpgaError> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut id = |s: String, names: &mut Vec<String>| -> u32 {
        *ids.entry(s).or_insert_with_key(|k| {
            names.push(k.clone());
            (names.len() - 1) as u32
        })
    };
    // Arcs between nodes ("instance/pin"), launches (clock → output) and checks (data pin, setup).
    let mut arcs: Vec<(u32, u32, f64)> = Vec::new();
    let mut iopaths: Vec<(String, String, String, f64)> = Vec::new();
    let mut clocks: HashMap<String, Vec<String>> = HashMap::new();
    let mut checks: Vec<(String, String, f64)> = Vec::new();
    let mut instance = String::new();
    for line in sdf.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("(INSTANCE") {
            instance = rest.trim().trim_end_matches(')').trim().to_string();
        } else if let Some(rest) = t.strip_prefix("(INTERCONNECT") {
            let (a, b, d) = two_words(rest).ok_or_else(|| parse_err(format!("INTERCONNECT line {t:?}")))?;
            let d = max_delay(d)?;
            let (a, b) = (id(a.to_string(), &mut names), id(b.to_string(), &mut names));
            arcs.push((a, b, d));
        } else if let Some(rest) = t.strip_prefix("(IOPATH") {
            let (a, b, d) = two_words(rest).ok_or_else(|| parse_err(format!("IOPATH line {t:?}")))?;
            iopaths.push((instance.clone(), a.to_string(), b.to_string(), max_delay(d)?));
        } else if let Some(rest) = t.strip_prefix("(SETUPHOLD") {
            // (SETUPHOLD (posedge D) (posedge CLK) (setup) (hold))
            let parts: Vec<&str> = rest.split(')').collect();
            if parts.len() < 3 {
                return Err(parse_err(format!("SETUPHOLD line {t:?}")));
            }
            let data = check_port(parts[0]).to_string();
            let clk = check_port(parts[1]).to_string();
            let setup = max_delay(&format!("{})", parts[2]))?;
            clocks.entry(instance.clone()).or_default().push(clk);
            checks.push((instance.clone(), data, setup));
        }
    }
    let mut launch: Vec<(u32, f64)> = Vec::new();
    for (inst, a, b, d) in iopaths {
        let is_clock = a == "CLK" || clocks.get(&inst).is_some_and(|c| c.contains(&a));
        let out = id(format!("{inst}/{b}"), &mut names);
        if is_clock {
            launch.push((out, d));
        } else {
            let inp = id(format!("{inst}/{a}"), &mut names);
            arcs.push((inp, out, d));
        }
    }
    let n = names.len();
    // Longest arrival by Kahn's order over the combinational arcs.
    let mut fanout: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut indeg = vec![0u32; n];
    for &(a, b, d) in &arcs {
        fanout[a as usize].push((b, d));
        indeg[b as usize] += 1;
    }
    let mut arrival = vec![f64::NEG_INFINITY; n];
    let mut pred = vec![u32::MAX; n];
    for &(o, d) in &launch {
        arrival[o as usize] = arrival[o as usize].max(d);
    }
    let mut queue: Vec<u32> = (0..n as u32).filter(|&v| indeg[v as usize] == 0).collect();
    let mut seen = 0usize;
    while let Some(v) = queue.pop() {
        seen += 1;
        let av = arrival[v as usize];
        for &(w, d) in &fanout[v as usize] {
            let w = w as usize;
            if av + d > arrival[w] {
                arrival[w] = av + d;
                pred[w] = v;
            }
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push(w as u32);
            }
        }
    }
    if seen != n {
        return Err(parse_err(format!("{} nodes on combinational loops", n - seen)));
    }
    let start_of = |mut v: u32| -> String {
        while pred[v as usize] != u32::MAX {
            v = pred[v as usize];
        }
        let name = &names[v as usize];
        register_name(name.rsplit_once('/').map_or(name.as_str(), |(i, _)| i))
    };
    // A data pin has a check per edge (posedge and negedge M): one endpoint, the larger setup.
    let mut pins: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (inst, data, setup) in checks {
        let s = pins.entry((inst, data)).or_insert(setup);
        *s = s.max(setup);
    }
    let mut out = Vec::new();
    for ((inst, data), setup) in pins {
        let Some(&v) = ids.get(&format!("{inst}/{data}")) else {
            continue;
        };
        let a = arrival[v as usize];
        if a.is_finite() {
            out.push(Endpoint {
                register: register_name(&inst),
                slack_ps: period_ps - a - setup,
                start: start_of(v),
            });
        }
    }
    out.sort_by(|x, y| x.slack_ps.total_cmp(&y.slack_ps));
    Ok(out)
}

/// The endpoints grouped by register family, most failing endpoints first.
pub fn families(endpoints: &[Endpoint]) -> Vec<FamilySlack> {
    let mut by: BTreeMap<String, FamilySlack> = BTreeMap::new();
    // `endpoints` is worst first, so a family's first endpoint is its worst.
    for e in endpoints {
        let f = by.entry(family(&e.register)).or_insert_with_key(|k| FamilySlack {
            family: k.clone(),
            endpoints: 0,
            failing: 0,
            worst_ps: e.slack_ps,
            worst_start: family(&e.start),
        });
        f.endpoints += 1;
        if e.slack_ps < 0.0 {
            f.failing += 1;
        }
        if e.slack_ps < f.worst_ps {
            f.worst_ps = e.slack_ps;
            f.worst_start = family(&e.start);
        }
    }
    let mut v: Vec<FamilySlack> = by.into_values().collect();
    v.sort_by(|a, b| b.failing.cmp(&a.failing).then(a.worst_ps.total_cmp(&b.worst_ps)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two registers a and b; a → two LUTs → b's D, and a → b's second bit through one LUT.
    const SDF: &str = r#"(DELAYFILE
  (CELL
    (CELLTYPE "top")
    (INSTANCE )
    (DELAY
      (ABSOLUTE
        (INTERCONNECT dut.a_TRELLIS_FF_Q/Q l1/A (100:200:300) (100:200:300))
        (INTERCONNECT l1/F l2/B (0:0:1000) (0:0:900))
        (INTERCONNECT l2/F dut.u__3.b_TRELLIS_FF_Q_7/M (10:10:10) (10:10:10))
        (INTERCONNECT l1/F dut.u__3.b_TRELLIS_FF_Q_8/M (10:10:10) (10:10:10))
      )
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE dut.a_TRELLIS_FF_Q)
    (DELAY
      (ABSOLUTE
        (IOPATH CLK Q (400:450:500) (400:450:500))
      )
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l1)
    (DELAY
      (ABSOLUTE
        (IOPATH A F (200:218:236) (200:218:236))
      )
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_COMB")
    (INSTANCE l2)
    (DELAY
      (ABSOLUTE
        (IOPATH B F (200:218:236) (200:218:236))
      )
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE dut.u__3.b_TRELLIS_FF_Q_7)
    (TIMINGCHECK
      (SETUPHOLD (posedge M) (posedge CLK) (50:60:70) (0:0:0))
      (SETUPHOLD (negedge M) (posedge CLK) (50:60:65) (0:0:0))
    )
  )
  (CELL
    (CELLTYPE "TRELLIS_FF")
    (INSTANCE dut.u__3.b_TRELLIS_FF_Q_8)
    (TIMINGCHECK
      (SETUPHOLD (posedge M) (posedge CLK) (50:60:70) (0:0:0))
    )
  )
)
"#;

    #[test]
    fn longest_paths_and_slack() {
        let e = endpoints(SDF, 2000.0).unwrap();
        assert_eq!(e.len(), 2);
        // Worst: 500 + 300 + 236 + 1000 + 236 + 10 + setup 70 = 2352.
        assert_eq!(e[0].slack_ps, 2000.0 - 2352.0);
        assert_eq!(e[0].register, "dut.u__3.b");
        assert_eq!(e[0].start, "dut.a");
        // The short one: 500 + 300 + 236 + 10 + 70 = 1116.
        assert_eq!(e[1].slack_ps, 2000.0 - 1116.0);
        let f = families(&e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].family, "u__*.b");
        assert_eq!((f[0].endpoints, f[0].failing), (2, 1));
        assert_eq!(f[0].worst_start, "a");
    }

    #[test]
    fn names() {
        assert_eq!(
            register_name("dut.core.array.wreg__2.q_TRELLIS_FF_Q_44"),
            "dut.core.array.wreg__2.q"
        );
        assert_eq!(register_name("dut.x\\[3\\].m_MULT18X18D_P9"), "dut.x[3].m");
        assert_eq!(family("dut.core.pe__12.acc[3].q"), "core.pe__*.acc[*].q");
        assert_eq!(family("dut.core.a__b"), "core.a__b");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(endpoints("(INTERCONNECT a/b)", 1000.0).is_err());
        assert!(endpoints("(IOPATH A F (x:y:z) (1:1:1))", 1000.0).is_err());
    }
}
