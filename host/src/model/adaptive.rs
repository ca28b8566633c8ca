//! Layer-adaptive precision: each linear layer gets its own format, chosen by measured
//! sensitivity under a budget of bits per weight (metadata included).
//!
//! 1. **Sensitivity** ([`sensitivities`]): for every candidate format and every linear layer,
//!    the model runs with that one layer on the device in that format and every other layer in
//!    f32, on calibration sentences; the layer's error in that format is the mean squared
//!    distance of the sentence embeddings from the f32 model's (`‖ê − e‖²`, which is
//!    `2(1 − cos)` for unit vectors, computed from the differences so it keeps its precision
//!    when tiny). The device runs every job; nothing is estimated on the host.
//! 2. **Choice** ([`choose`]): errors of different layers are taken to add (independent noise
//!    reaching the embedding), so the mix minimizes their sum under the budget: every layer
//!    starts at its smallest candidate, then the upgrade with the largest error reduction per
//!    extra bit that still fits is applied, until none fits (greedy, on the measured table).
//! 3. The chosen mix is then run like a uniform format, on all sentences
//!    ([`super::evaluate_assignment`]), and compared with the uniform formats at or under the
//!    same budget: the additivity in step 2 is an assumption, the comparison measures it.

use std::collections::HashMap;

use anyhow::{bail, Result};

use super::formats::ModelFormat;
use super::forward::{forward, LinearId, Proj};
use super::linear_of;
use super::runner::{prepare, Assignment, DeviceExec};
use super::weights::Bert;
use crate::device::{Backend, Device};

/// One layer in one format: its size and its measured error.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The layer.
    pub id: LinearId,
    /// The format.
    pub format: ModelFormat,
    /// Bits of the layer's weights in that format, metadata included.
    pub bits: u64,
    /// Weights of the layer.
    pub weights: u64,
    /// Mean `‖ê − e‖²` of the calibration sentences' embeddings with only this layer quantized.
    pub err: f64,
}

/// Mean squared distance between two sets of embeddings.
fn mean_sq_dist(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let total: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
                .sum::<f64>()
        })
        .sum();
    total / a.len().max(1) as f64
}

/// Measures every (layer, candidate) on `dev` with the calibration sentences `ids`, against the
/// f32 embeddings `reference` of the same sentences. `progress` is told each format as it ends.
pub fn sensitivities<B: Backend>(
    model: &Bert,
    ids: &[Vec<u32>],
    reference: &[Vec<f32>],
    candidates: &[ModelFormat],
    dev: &mut Device<B>,
    mut progress: impl FnMut(ModelFormat),
) -> Result<Vec<Sensitivity>> {
    let mut out = Vec::new();
    for &f in candidates {
        for (l, layer) in model.layers.iter().enumerate() {
            for proj in Proj::ALL {
                let id = LinearId { layer: l, proj };
                let p = prepare(&f, id, linear_of(layer, proj))?;
                let (bits, weights) = (p.bits, (p.n * p.k) as u64);
                let one: Assignment = HashMap::from([(id, (f, p))]);
                // The device's results are checked by the full run of the chosen mix; these
                // runs only rank the candidates.
                let mut exec = DeviceExec::new(dev, &one, false);
                let o = forward(model, ids, &mut exec)?;
                out.push(Sensitivity {
                    id,
                    format: f,
                    bits,
                    weights,
                    err: mean_sq_dist(&o.embeddings, reference),
                });
            }
        }
        progress(f);
    }
    Ok(out)
}

/// The mix of least summed error whose weights take at most `budget` bits per weight (greedy,
/// see the module docs): the chosen format of every layer measured in `sens`.
pub fn choose(sens: &[Sensitivity], budget: f64) -> Result<HashMap<LinearId, ModelFormat>> {
    let mut by_layer: HashMap<LinearId, Vec<&Sensitivity>> = HashMap::new();
    for s in sens {
        by_layer.entry(s.id).or_default().push(s);
    }
    if by_layer.is_empty() {
        bail!("no sensitivities to choose from");
    }
    let weights: u64 = by_layer.values().map(|v| v[0].weights).sum();
    let limit = budget * weights as f64;
    // Start: each layer's smallest option (the lower error on a tie).
    let mut pick: HashMap<LinearId, &Sensitivity> = by_layer
        .iter()
        .map(|(id, v)| {
            let s = v
                .iter()
                .min_by(|a, b| a.bits.cmp(&b.bits).then(a.err.total_cmp(&b.err)))
                .expect("a layer has options");
            (*id, *s)
        })
        .collect();
    let mut total: f64 = pick.values().map(|s| s.bits as f64).sum();
    if total > limit {
        bail!(
            "a budget of {budget} bits per weight is below the smallest mix of the candidates ({:.3} bits per weight)",
            total / weights as f64
        );
    }
    loop {
        // The best upgrade that fits: largest error reduction per extra bit; one that costs no
        // extra bit and lowers the error comes first.
        let mut best: Option<(f64, LinearId, &Sensitivity)> = None;
        for (id, v) in &by_layer {
            let cur = pick[id];
            for &s in v {
                let (de, db) = (cur.err - s.err, s.bits as f64 - cur.bits as f64);
                if de <= 0.0 || total + db > limit {
                    continue;
                }
                let gain = if db <= 0.0 { f64::INFINITY } else { de / db };
                // Ties go to the earlier layer, so the choice does not depend on hash order.
                if best
                    .as_ref()
                    .is_none_or(|(g, bid, _)| gain > *g || (gain == *g && id < bid))
                {
                    best = Some((gain, *id, s));
                }
            }
        }
        let Some((_, id, s)) = best else { break };
        total += s.bits as f64 - pick[&id].bits as f64;
        pick.insert(id, s);
    }
    Ok(pick.into_iter().map(|(id, s)| (id, s.format)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::formats;

    fn s(layer: usize, f: &str, bits: u64, err: f64) -> Sensitivity {
        Sensitivity {
            id: LinearId {
                layer,
                proj: Proj::Query,
            },
            format: ModelFormat::from_name(f).unwrap(),
            bits,
            weights: 100,
            err,
        }
    }

    /// Two layers of 100 weights, 4 or 8 bits each: the budget buys the upgrade where it
    /// lowers the error most, and no more than the budget.
    #[test]
    fn the_budget_goes_where_the_error_is() {
        let t = [
            s(0, "int4g", 400, 1.0),
            s(0, "int8", 800, 0.1),
            s(1, "int4g", 400, 5.0),
            s(1, "int8", 800, 0.2),
        ];
        let name = |m: &HashMap<LinearId, ModelFormat>, l: usize| {
            m[&LinearId {
                layer: l,
                proj: Proj::Query,
            }]
                .name
        };
        let m = choose(&t, 4.0).unwrap();
        assert_eq!((name(&m, 0), name(&m, 1)), ("int4g", "int4g"));
        let m = choose(&t, 6.0).unwrap();
        assert_eq!((name(&m, 0), name(&m, 1)), ("int4g", "int8"));
        let m = choose(&t, 8.0).unwrap();
        assert_eq!((name(&m, 0), name(&m, 1)), ("int8", "int8"));
        let e = choose(&t, 3.0).unwrap_err().to_string();
        assert!(e.contains("below the smallest mix") && e.contains("4.000"), "{e}");
        // Of two upgrades of the same size, the one with less error.
        let t = [s(0, "int8", 800, 0.5), s(0, "fp8", 800, 0.3), s(0, "fp4", 400, 2.0)];
        assert_eq!(name(&choose(&t, 8.0).unwrap(), 0), "fp8");
        assert!(formats::ALL.len() > 2);
    }
}
