//! An AXI4 slave memory model in Rust, with a protocol checker, for any Verilated top whose
//! master ports are named `<prefix>araddr`, `<prefix>rdata`, … (npe's DMAs use `m_axi_`).
//!
//! Three blocks, one file each: [`AxiSlave`] (`slave.rs`) is the model itself, independent of
//! Verilator: each cycle [`AxiSlave::drive`] decides the slave's outputs from its registered
//! state only (so they never depend on the master's outputs of the same cycle), and
//! [`AxiSlave::observe`] takes the master's outputs of that cycle, records the handshakes
//! (`valid && ready`), has its [`ProtocolChecker`] (`checker.rs`) check the protocol and
//! advances one cycle. [`AxiMemory`] (`memory.rs`) binds it to a [`Sim`](crate::Sim)'s ports:
//! [`AxiMemory::step`] = drive the slave inputs, `eval`, sample, observe, `tick`. This file
//! holds what they exchange: one cycle of each side's outputs.
//!
//! Behaviour: memory is `size` bytes at `base`; one ID, so reads are answered in order, and
//! writes complete in order. Read and write channels are independent. A read burst accepted
//! at edge `c` may present its first beat after edge `c + read_latency` (latency 0: the next
//! cycle); a write burst's B may be presented `write_latency` cycles after its last W beat was
//! accepted. Random backpressure (seeded) holds AR/AW/W ready low and inserts gaps before R/B
//! valid; a valid the model raised stays up, payload unchanged, until the master's ready.
//! Bursts touching an error range, or leaving the memory, get that range's response (outside
//! the memory: DECERR) on every beat / their B; their writes are dropped and their read data
//! is zero. W beats may arrive before their AW (they are buffered), but the checker flags any
//! beyond `w_early_beats` that precede every presented AW.

mod checker;
mod memory;
mod slave;

use npe_hdl::spec::AxiResp;

pub use checker::{ProtocolChecker, Violation};
pub use memory::AxiMemory;
pub use slave::{AxiMemConfig, AxiMemError, AxiSlave, AxiStats, BusFault, ErrorRange};

/// An AXI channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Read address.
    Ar,
    /// Read data.
    R,
    /// Write address.
    Aw,
    /// Write data.
    W,
    /// Write response.
    B,
}

/// The slave's outputs for one cycle (what [`AxiSlave::drive`] decided).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlaveDrive {
    /// ARREADY.
    pub arready: bool,
    /// RVALID.
    pub rvalid: bool,
    /// RDATA, little-endian bytes (`beat_bytes` of them; zero when not valid).
    pub rdata: Vec<u8>,
    /// RRESP.
    pub rresp: AxiResp,
    /// RLAST.
    pub rlast: bool,
    /// AWREADY.
    pub awready: bool,
    /// WREADY.
    pub wready: bool,
    /// BVALID.
    pub bvalid: bool,
    /// BRESP.
    pub bresp: AxiResp,
}

/// An address-channel payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddrBeat {
    /// AxADDR.
    pub addr: u64,
    /// AxLEN (beats − 1).
    pub len: u64,
    /// AxSIZE (log2 bytes per beat).
    pub size: u64,
    /// AxBURST (1 = INCR).
    pub burst: u64,
}

/// The master's outputs in one cycle, sampled after the slave's outputs were applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterSample {
    /// ARVALID.
    pub arvalid: bool,
    /// AR payload.
    pub ar: AddrBeat,
    /// RREADY.
    pub rready: bool,
    /// AWVALID.
    pub awvalid: bool,
    /// AW payload.
    pub aw: AddrBeat,
    /// WVALID.
    pub wvalid: bool,
    /// WDATA, little-endian bytes.
    pub wdata: Vec<u8>,
    /// WSTRB, bit `i` for byte `i`.
    pub wstrb: u64,
    /// WLAST.
    pub wlast: bool,
    /// BREADY.
    pub bready: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-burst read request of `len + 1` 16-byte beats at `addr`, with RREADY.
    pub(super) fn ar(addr: u64, len: u64) -> MasterSample {
        MasterSample {
            arvalid: true,
            ar: AddrBeat {
                addr,
                len,
                size: 4,
                burst: 1,
            },
            rready: true,
            ..MasterSample::default()
        }
    }
}
