//! The Verilated PE, driven beat by beat, its accumulator read back as an exact value.

use npe_hdl::pe::{ACC, ACC_WIDTH, PE_LATENCY};
use npe_hdl::spec::Format;
use npe_sim::{tops::pe as p, Sim};
use num_bigint::BigInt;

use crate::golden::Exact;

/// Packs one code per lane into a 16-bit operand port (the device layout's packing,
/// [`crate::device::pack::pack_word`]).
pub use crate::device::pack::pack_word as pack;

/// What the PE holds: the exact accumulator and its sticky flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeState {
    /// The accumulator as a signed integer (value = `acc × 2^ACC.lsb`).
    pub acc: BigInt,
    /// NaN seen.
    pub nan: bool,
    /// +Inf seen.
    pub pinf: bool,
    /// −Inf seen.
    pub ninf: bool,
}

impl PeState {
    /// The value the PE holds, in the golden model's terms (NaN for NaN or +Inf with −Inf);
    /// bit 0 of `acc` weighs 2^ACC.lsb (the shared PE's accumulator).
    pub fn exact(&self) -> Exact {
        exact_value(&self.acc, ACC.lsb, self.nan, self.pinf, self.ninf)
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

/// The Verilated PE.
pub struct Pe {
    sim: Sim,
}

impl Default for Pe {
    fn default() -> Self {
        Pe::new()
    }
}

impl Pe {
    /// Clock ticks from a beat to its effect on the accumulator.
    pub const LATENCY: usize = PE_LATENCY;

    /// A PE after reset.
    pub fn new() -> Pe {
        let mut sim = Sim::new(p::TOP);
        sim.set(p::RESET, 1);
        for _ in 0..Self::LATENCY {
            sim.tick();
        }
        sim.set(p::RESET, 0);
        Pe { sim }
    }

    /// Presents one beat and ticks the clock once.
    pub fn beat(&mut self, a_fmt: Format, w_fmt: Format, a: u16, w: u16, valid: bool, clear: bool) {
        self.beat_ids(a_fmt.id(), w_fmt.id(), a, w, valid, clear);
    }

    /// [`Pe::beat`] with raw format ids (including ids no multiplier format has).
    pub fn beat_ids(&mut self, a_id: u8, w_id: u8, a: u16, w: u16, valid: bool, clear: bool) {
        self.sim.set(p::A_FMT, a_id.into());
        self.sim.set(p::W_FMT, w_id.into());
        self.sim.set(p::A, a.into());
        self.sim.set(p::W, w.into());
        self.sim.set(p::VALID, valid.into());
        self.sim.set(p::CLEAR, clear.into());
        self.sim.tick();
    }

    /// Ticks with no beat.
    pub fn idle(&mut self) {
        self.sim.set(p::VALID, 0);
        self.sim.set(p::CLEAR, 0);
        self.sim.tick();
    }

    /// Lets every beat presented so far reach the accumulator.
    pub fn drain(&mut self) {
        for _ in 0..Self::LATENCY {
            self.idle();
        }
    }

    /// Clock cycles simulated.
    pub fn cycles(&self) -> u64 {
        self.sim.cycles()
    }

    /// The accumulator and flags as they are now.
    pub fn state(&self) -> PeState {
        let words = self.sim.get_wide(p::ACC);
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        // Sign-extend the ACC_WIDTH-bit two's complement value to whole bytes.
        let top = ACC_WIDTH - 1;
        let negative = bytes[top / 8] >> (top % 8) & 1 == 1;
        for (i, b) in bytes.iter_mut().enumerate() {
            for bit in 0..8 {
                if i * 8 + bit > top && negative {
                    *b |= 1 << bit;
                }
            }
        }
        PeState {
            acc: BigInt::from_signed_bytes_le(&bytes),
            nan: self.sim.get(p::NAN) != 0,
            pinf: self.sim.get(p::PINF) != 0,
            ninf: self.sim.get(p::NINF) != 0,
        }
    }
}
