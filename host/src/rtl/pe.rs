//! A Verilated PE, driven beat by beat, its accumulator read back as an exact value.
//!
//! Both PE tops have the same ports: `pe` (every format, [`npe_hdl::pe::Pe`]) and `pe_fixed8`
//! (the fixed-point PE of the ≤ 8-bit set, [`npe_hdl::pe::PeFixed8`]); they differ in the
//! accumulator, the latency and the formats they take.

use npe_hdl::pe::{ACC, FIXED_PE_LATENCY, PE_LATENCY};
use npe_hdl::spec::{Accumulator, Format};
use npe_sim::{Port, Sim, Top};
use num_bigint::BigInt;

use crate::golden::Exact;

/// Packs one code per lane into a 16-bit operand port (the device layout's packing,
/// [`crate::device::pack::pack_word`]).
pub use crate::device::pack::pack_word as pack;

/// What the PE holds: the exact accumulator and its sticky flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeState {
    /// The accumulator as a signed integer (value = `acc × 2^lsb`).
    pub acc: BigInt,
    /// NaN seen.
    pub nan: bool,
    /// +Inf seen.
    pub pinf: bool,
    /// −Inf seen.
    pub ninf: bool,
    /// Weight of `acc`'s bit 0 (`2^lsb`).
    pub lsb: i32,
}

impl PeState {
    /// The value the PE holds, in the golden model's terms (NaN for NaN or +Inf with −Inf).
    pub fn exact(&self) -> Exact {
        exact_value(&self.acc, self.lsb, self.nan, self.pinf, self.ninf)
    }
}

/// An accumulator `acc` whose bit 0 weighs 2^`lsb`, with its sticky flags, in the golden
/// model's terms (NaN for NaN or +Inf with −Inf).
pub fn exact_value(acc: &BigInt, lsb: i32, nan: bool, pinf: bool, ninf: bool) -> Exact {
    if nan || (pinf && ninf) {
        Exact::NaN
    } else if pinf || ninf {
        Exact::Inf { negative: ninf }
    } else {
        Exact::Finite {
            mant: acc.clone(),
            exp: lsb.into(),
        }
        .normalized()
    }
}

/// The ports of a PE top, looked up by name.
struct Ports {
    reset: Port,
    a_fmt: Port,
    w_fmt: Port,
    a: Port,
    w: Port,
    valid: Port,
    clear: Port,
    acc: Port,
    nan: Port,
    pinf: Port,
    ninf: Port,
}

impl Ports {
    fn of(top: Top) -> Ports {
        let p = |name: &str| {
            top.port(name)
                .unwrap_or_else(|| panic!("top {} has no port {name}: not a PE", top.name))
        };
        Ports {
            reset: p("reset"),
            a_fmt: p("a_fmt"),
            w_fmt: p("w_fmt"),
            a: p("a"),
            w: p("w"),
            valid: p("valid"),
            clear: p("clear"),
            acc: p("acc"),
            nan: p("nan"),
            pinf: p("pinf"),
            ninf: p("ninf"),
        }
    }
}

/// A Verilated PE.
pub struct Pe {
    sim: Sim,
    ports: Ports,
    acc: Accumulator,
    latency: usize,
}

impl Default for Pe {
    fn default() -> Self {
        Pe::new()
    }
}

impl Pe {
    /// The shared PE (every format) after reset.
    pub fn new() -> Pe {
        Pe::with_top(npe_sim::tops::pe::TOP, ACC, PE_LATENCY)
    }

    /// The fixed-point PE of the ≤ 8-bit set after reset.
    pub fn fixed8() -> Pe {
        Pe::with_top(npe_sim::tops::pe_fixed8::TOP, npe_hdl::emit::LE8_ACC, FIXED_PE_LATENCY)
    }

    /// The PE top `top`, whose accumulator is `acc` and whose beats reach it `latency` ticks
    /// later, after reset.
    pub fn with_top(top: Top, acc: Accumulator, latency: usize) -> Pe {
        let ports = Ports::of(top);
        assert_eq!(ports.acc.width, acc.width, "{}: accumulator width", top.name);
        let mut sim = Sim::new(top);
        sim.set(ports.reset, 1);
        for _ in 0..latency {
            sim.tick();
        }
        sim.set(ports.reset, 0);
        Pe {
            sim,
            ports,
            acc,
            latency,
        }
    }

    /// Clock ticks from a beat to its effect on the accumulator.
    pub fn latency(&self) -> usize {
        self.latency
    }

    /// The accumulator's geometry.
    pub fn accumulator(&self) -> Accumulator {
        self.acc
    }

    /// Presents one beat and ticks the clock once.
    pub fn beat(&mut self, a_fmt: Format, w_fmt: Format, a: u16, w: u16, valid: bool, clear: bool) {
        self.beat_ids(a_fmt.id(), w_fmt.id(), a, w, valid, clear);
    }

    /// [`Pe::beat`] with raw format ids (including ids no multiplier format has).
    pub fn beat_ids(&mut self, a_id: u8, w_id: u8, a: u16, w: u16, valid: bool, clear: bool) {
        let p = &self.ports;
        self.sim.set(p.a_fmt, a_id.into());
        self.sim.set(p.w_fmt, w_id.into());
        self.sim.set(p.a, a.into());
        self.sim.set(p.w, w.into());
        self.sim.set(p.valid, valid.into());
        self.sim.set(p.clear, clear.into());
        self.sim.tick();
    }

    /// Ticks with no beat.
    pub fn idle(&mut self) {
        self.sim.set(self.ports.valid, 0);
        self.sim.set(self.ports.clear, 0);
        self.sim.tick();
    }

    /// Lets every beat presented so far reach the accumulator.
    pub fn drain(&mut self) {
        for _ in 0..self.latency {
            self.idle();
        }
    }

    /// Clock cycles simulated.
    pub fn cycles(&self) -> u64 {
        self.sim.cycles()
    }

    /// The accumulator and flags as they are now.
    pub fn state(&self) -> PeState {
        let p = &self.ports;
        let words = if p.acc.width > 64 {
            self.sim.get_wide(p.acc)
        } else {
            let v = self.sim.get(p.acc);
            vec![v as u32, (v >> 32) as u32]
        };
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        // Sign-extend the two's complement accumulator to whole bytes.
        let top = self.acc.width as usize - 1;
        let negative = bytes[top / 8] >> (top % 8) & 1 == 1;
        for (i, b) in bytes.iter_mut().enumerate() {
            for bit in 0..8 {
                if i * 8 + bit > top {
                    if negative {
                        *b |= 1 << bit;
                    } else {
                        *b &= !(1 << bit);
                    }
                }
            }
        }
        PeState {
            acc: BigInt::from_signed_bytes_le(&bytes),
            nan: self.sim.get(p.nan) != 0,
            pinf: self.sim.get(p.pinf) != 0,
            ninf: self.sim.get(p.ninf) != 0,
            lsb: self.acc.lsb,
        }
    }
}
