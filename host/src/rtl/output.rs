//! A Verilated output unit, fed one accumulator per cycle.
//!
//! Every output-unit top ([`npe_hdl::emit::OUTPUT_UNIT_TOPS`]) has the same ports; they differ
//! in the accumulator they round, which [`OutputUnit::new`] takes beside the top.

use npe_hdl::output::OUTPUT_LATENCY;
use npe_hdl::spec::{Accumulator, OutputFormat};
use npe_sim::{Port, Sim, Top};
use num_bigint::BigInt;

use crate::golden::Exact;

/// One accumulator to round: the PE's value and flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccIn {
    /// Two's complement accumulator (value × 2^lsb of the unit's accumulator).
    pub acc: BigInt,
    /// Sticky NaN.
    pub nan: bool,
    /// Sticky +Inf.
    pub pinf: bool,
    /// Sticky −Inf.
    pub ninf: bool,
}

impl AccIn {
    /// The value held, for an accumulator whose bit 0 weighs 2^`acc.lsb`, in the golden
    /// model's terms (NaN for NaN or +Inf with −Inf).
    pub fn exact(&self, acc: Accumulator) -> Exact {
        crate::rtl::pe::exact_value(&self.acc, acc.lsb, self.nan, self.pinf, self.ninf)
    }
}

/// The ports of an output-unit top, looked up by name.
struct Ports {
    reset: Port,
    valid: Port,
    acc: Port,
    nan: Port,
    pinf: Port,
    ninf: Port,
    out_fmt: Port,
    scale_exp: Port,
    out_valid: Port,
    result: Port,
}

impl Ports {
    fn of(top: Top) -> Ports {
        let p = |name: &str| {
            top.port(name)
                .unwrap_or_else(|| panic!("top {} has no port {name}: not an output unit", top.name))
        };
        Ports {
            reset: p("reset"),
            valid: p("valid"),
            acc: p("acc"),
            nan: p("nan"),
            pinf: p("pinf"),
            ninf: p("ninf"),
            out_fmt: p("out_fmt"),
            scale_exp: p("scale_exp"),
            out_valid: p("out_valid"),
            result: p("result"),
        }
    }
}

/// A Verilated output unit.
pub struct OutputUnit {
    sim: Sim,
    ports: Ports,
    acc: Accumulator,
}

impl Default for OutputUnit {
    /// The unit of the shared PE's accumulator (top `output_unit`).
    fn default() -> Self {
        OutputUnit::new(npe_sim::tops::output_unit::TOP, npe_hdl::pe::ACC)
    }
}

impl OutputUnit {
    /// The output-unit `top` built for accumulator `acc`, after reset; panics if the top's
    /// accumulator port is not `acc.width` bits.
    pub fn new(top: Top, acc: Accumulator) -> OutputUnit {
        let ports = Ports::of(top);
        assert_eq!(
            ports.acc.width, acc.width,
            "top {}: accumulator port width against {acc:?}",
            top.name
        );
        let mut sim = Sim::new(top);
        sim.set(ports.reset, 1);
        sim.tick();
        sim.set(ports.reset, 0);
        OutputUnit { sim, ports, acc }
    }

    /// The accumulator the unit rounds.
    pub fn accumulator(&self) -> Accumulator {
        self.acc
    }

    /// `acc` as the port's little-endian 32-bit words (two's complement, the accumulator's
    /// width); panics if it does not fit.
    fn words(&self, acc: &BigInt) -> Vec<u32> {
        let w = self.acc.width as usize;
        let half = BigInt::from(1) << (w - 1);
        assert!(
            -&half <= *acc && *acc < half,
            "{acc} does not fit a {w}-bit accumulator"
        );
        let n = w.div_ceil(32);
        let mut bytes = acc.to_signed_bytes_le();
        let fill = if acc.sign() == num_bigint::Sign::Minus { 0xFF } else { 0 };
        bytes.resize(4 * n, fill);
        let mut words: Vec<u32> = bytes
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        // Only the port's bits: the sign extension above them is not part of the value.
        let top_bits = w - 32 * (n - 1);
        if top_bits < 32 {
            words[n - 1] &= (1u32 << top_bits) - 1;
        }
        words
    }

    /// Rounds `inputs` back to back (one per cycle) to `out` with scale 2^`scale_exp`; returns
    /// the codes in order and checks one result came out per cycle.
    pub fn round_stream(&mut self, inputs: &[AccIn], out: OutputFormat, scale_exp: i8) -> Vec<u32> {
        let words: Vec<Vec<u32>> = inputs.iter().map(|x| self.words(&x.acc)).collect();
        let (s, o) = (&mut self.sim, &self.ports);
        s.set(o.out_fmt, out.spec().id.into());
        s.set(
            o.scale_exp,
            u64::from(scale_exp as i16 as u16) & ((1 << npe_hdl::output::SCALE_BITS) - 1),
        );
        let mut results = Vec::with_capacity(inputs.len());
        // The inputs one per cycle, then idle cycles until the last result is out.
        let beats = inputs.iter().zip(&words).map(Some);
        for beat in beats.chain(std::iter::repeat_n(None, OUTPUT_LATENCY)) {
            if let Some((x, w)) = beat {
                s.set(o.valid, 1);
                if o.acc.width <= 64 {
                    s.set(o.acc, u64::from(w[0]) | u64::from(w.get(1).copied().unwrap_or(0)) << 32);
                } else {
                    s.set_wide(o.acc, w);
                }
                s.set(o.nan, x.nan.into());
                s.set(o.pinf, x.pinf.into());
                s.set(o.ninf, x.ninf.into());
            } else {
                s.set(o.valid, 0);
            }
            s.tick();
            s.eval();
            if s.get(o.out_valid) == 1 {
                results.push(s.get(o.result) as u32);
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
