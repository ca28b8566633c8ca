//! The Verilated output unit, fed one accumulator per cycle.

use npe_hdl::output::OUTPUT_LATENCY;
use npe_hdl::pe::ACC_WIDTH;
use npe_hdl::spec::OutputFormat;
use npe_sim::{tops::output_unit as o, Sim};
use num_bigint::BigInt;

/// One accumulator to round: the PE's value and flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccIn {
    /// Two's complement accumulator (value × 2^ACC.lsb).
    pub acc: BigInt,
    /// Sticky NaN.
    pub nan: bool,
    /// Sticky +Inf.
    pub pinf: bool,
    /// Sticky −Inf.
    pub ninf: bool,
}

/// The Verilated output unit.
pub struct OutputUnit {
    sim: Sim,
}

impl Default for OutputUnit {
    fn default() -> Self {
        let mut sim = Sim::new(o::TOP);
        sim.set(o::RESET, 1);
        sim.tick();
        sim.set(o::RESET, 0);
        OutputUnit { sim }
    }
}

/// `acc` as the port's little-endian 32-bit words (two's complement, ACC_WIDTH bits).
fn words(acc: &BigInt) -> Vec<u32> {
    let n = ACC_WIDTH.div_ceil(32);
    let mut bytes = acc.to_signed_bytes_le();
    let fill = if acc.sign() == num_bigint::Sign::Minus { 0xFF } else { 0 };
    bytes.resize(4 * n, fill);
    bytes
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

impl OutputUnit {
    /// Rounds `inputs` back to back (one per cycle) to `out` with scale 2^`scale_exp`; returns
    /// the codes in order and checks one result came out per cycle.
    pub fn round_stream(&mut self, inputs: &[AccIn], out: OutputFormat, scale_exp: i8) -> Vec<u32> {
        let s = &mut self.sim;
        s.set(o::OUT_FMT, out.spec().id.into());
        s.set(
            o::SCALE_EXP,
            u64::from(scale_exp as i16 as u16) & ((1 << npe_hdl::output::SCALE_BITS) - 1),
        );
        let mut results = Vec::with_capacity(inputs.len());
        for i in 0..inputs.len() + OUTPUT_LATENCY {
            if let Some(x) = inputs.get(i) {
                s.set(o::VALID, 1);
                s.set_wide(o::ACC, &words(&x.acc));
                s.set(o::NAN, x.nan.into());
                s.set(o::PINF, x.pinf.into());
                s.set(o::NINF, x.ninf.into());
            } else {
                s.set(o::VALID, 0);
            }
            s.tick();
            s.eval();
            if s.get(o::OUT_VALID) == 1 {
                results.push(s.get(o::RESULT) as u32);
            }
        }
        assert_eq!(
            results.len(),
            inputs.len(),
            "one result per accumulator, {OUTPUT_LATENCY} cycles later"
        );
        results
    }
}
