//! The Verilated `format_decode` block.

use npe_sim::{tops::format_decode as fd, Sim};

use crate::golden::{Format, Unified};

/// The Verilated `format_decode` block.
pub struct Decoder {
    sim: Sim,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// Instantiates the decoder.
    pub fn new() -> Decoder {
        Decoder { sim: Sim::new(fd::TOP) }
    }

    /// Decodes one code of `format` in hardware (bits above the format's width are driven as given).
    pub fn decode(&mut self, format: Format, code: u32) -> Unified {
        self.decode_id(format.id(), code)
    }

    /// Decodes with a raw format id, including ids no format has (the decoder must output all zeros).
    pub fn decode_id(&mut self, id: u8, code: u32) -> Unified {
        self.sim.set(fd::FMT, id.into());
        self.sim.set(fd::CODE, code.into());
        self.sim.eval();
        Unified {
            zero: self.sim.get(fd::ZERO) != 0,
            nar: self.sim.get(fd::NAR) != 0,
            inf: self.sim.get(fd::INF) != 0,
            sign: self.sim.get(fd::SIGN) != 0,
            // The port is the two's complement exponent.
            exp: self.sim.get(fd::EXP) as u8 as i8,
            mant: self.sim.get(fd::MANT) as u16,
        }
    }
}
