//! AXI facts the register file, the DMA engines and the bus models share.

/// Width of an AXI xRESP signal (RRESP, BRESP) in bits.
pub const RESP_BITS: usize = 2;

/// An AXI response code (RRESP / BRESP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AxiResp {
    /// Normal access success.
    Okay = 0,
    /// Exclusive access success (never requested by npe; treated as OKAY).
    ExOkay = 1,
    /// Slave error: the slave was reached but failed the access.
    SlvErr = 2,
    /// Decode error: no slave (or no register) at the address.
    DecErr = 3,
}

impl AxiResp {
    /// Every code, by value.
    pub const ALL: [AxiResp; 4] = [AxiResp::Okay, AxiResp::ExOkay, AxiResp::SlvErr, AxiResp::DecErr];

    /// The code as it travels on the bus.
    pub const fn code(self) -> u64 {
        self as u64
    }

    /// The response a code on the bus stands for (bits beyond [`RESP_BITS`] are an error).
    pub const fn from_code(code: u64) -> Option<AxiResp> {
        match code {
            0 => Some(AxiResp::Okay),
            1 => Some(AxiResp::ExOkay),
            2 => Some(AxiResp::SlvErr),
            3 => Some(AxiResp::DecErr),
            _ => None,
        }
    }

    /// SLVERR or DECERR (the bit hardware tests: bit 1 of the code).
    pub const fn is_error(self) -> bool {
        matches!(self, AxiResp::SlvErr | AxiResp::DecErr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fit() {
        for r in AxiResp::ALL {
            assert_eq!(AxiResp::from_code(r.code()), Some(r));
            assert!(r.code() < 1 << RESP_BITS);
            assert_eq!(r.is_error(), r.code() & 2 != 0, "{r:?}: the error bit");
        }
        assert_eq!(AxiResp::from_code(4), None);
    }
}
