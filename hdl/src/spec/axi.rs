//! AXI facts the register file, the DMA engines, the core and the bus models share: bus width,
//! beat size, burst and page limits, response codes.

/// Width of an AXI xRESP signal (RRESP, BRESP) in bits.
pub const RESP_BITS: usize = 2;

/// The bit of an xRESP code that is set for SLVERR and DECERR (see [`AxiResp::is_error`]).
pub const RESP_ERROR_BIT: usize = 1;

/// An AXI response code (RRESP / BRESP); the default is OKAY.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum AxiResp {
    /// Normal access success.
    #[default]
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

    /// SLVERR or DECERR (the bit hardware tests: [`RESP_ERROR_BIT`] of the code).
    pub const fn is_error(self) -> bool {
        matches!(self, AxiResp::SlvErr | AxiResp::DecErr)
    }
}

/// Width of the AXI4 DMA data bus in bits.
pub const AXI_DATA_BITS: u32 = 128;

/// Bytes per AXI4 data beat.
pub const AXI_BEAT_BYTES: u32 = AXI_DATA_BITS / 8;

/// Beats per AXI4 INCR burst at most (AxLEN is 8 bits: beats − 1).
pub const MAX_BURST_BEATS: u32 = 256;

/// A burst must not cross a boundary of this many bytes (AXI4's 4 KiB rule).
pub const PAGE_BYTES: u32 = 4096;

/// Beats per 4 KiB page.
pub const PAGE_BEATS: u32 = PAGE_BYTES / AXI_BEAT_BYTES;

/// Bits of a beat's index within a page (the address bits above the beat's bytes).
pub const PAGE_BEAT_BITS: usize = PAGE_BEATS.trailing_zeros() as usize;

/// AxSIZE of every burst: log2 of the beat's bytes.
pub const AXI_SIZE: u64 = AXI_BEAT_BYTES.trailing_zeros() as u64;

/// AxBURST of every burst: INCR.
pub const AXI_BURST_INCR: u64 = 1;

/// Bits of AxLEN.
pub const AXI_LEN_BITS: usize = 8;

// The burst split takes min(beats left, beats left in the page): a page may not hold more
// beats than one burst carries.
const _: () = assert!(PAGE_BEATS <= MAX_BURST_BEATS && MAX_BURST_BEATS == 1 << AXI_LEN_BITS);
const _: () = assert!(AXI_BEAT_BYTES.is_power_of_two() && PAGE_BEATS.is_power_of_two());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fit() {
        for r in AxiResp::ALL {
            assert_eq!(AxiResp::from_code(r.code()), Some(r));
            assert!(r.code() < 1 << RESP_BITS);
            assert_eq!(
                r.is_error(),
                r.code() >> RESP_ERROR_BIT & 1 == 1,
                "{r:?}: the error bit"
            );
        }
        assert_eq!(AxiResp::from_code(4), None);
    }
}
