//! The AXI4 burst DMA masters that move operands and results between device memory and the
//! on-chip buffers.
//!
//! One AXI4 port, [`AXI_DATA_BITS`](crate::spec::config::AXI_DATA_BITS) = 128-bit data
//! (16-byte beats), 32-bit addresses, a single ID (the ID signals are not ports: tied to 0).
//! [`AxiReadDma`] and [`AxiWriteDma`] each take a command (16-byte aligned address, beat count),
//! split it into INCR bursts of at most 256 beats that never cross a 4 KiB page, and keep
//! several bursts outstanding so memory latency is hidden. [`AxiDmaPair`] exposes both as one
//! top (`axi_dma`) for simulation against npe-sim's AXI memory model.
//!
//! A 4 KiB page holds exactly 256 beats of 16 bytes, so the burst split is one comparison: a
//! burst is `min(beats left, 256 - page offset in beats)` long, and every burst after the first
//! starts on a page boundary.

pub mod dma_pair;
pub mod dma_read;
pub mod dma_write;
mod issue;

pub use dma_pair::AxiDmaPair;
pub use dma_read::AxiReadDma;
pub use dma_write::AxiWriteDma;

/// Beats per AXI4 burst at most (AxLEN is 8 bits), and beats per 4 KiB page.
pub const MAX_BURST_BEATS: u32 = 256;

/// AxSIZE of every burst: log2 of the 16-byte beat.
pub const AXI_SIZE: u64 = 4;

/// AxBURST of every burst: INCR.
pub const AXI_BURST_INCR: u64 = 1;

/// xRESP codes.
pub mod resp {
    /// Normal access success.
    pub const OKAY: u64 = 0;
    /// Exclusive access success (never requested here; treated as OKAY).
    pub const EXOKAY: u64 = 1;
    /// Slave error.
    pub const SLVERR: u64 = 2;
    /// Decode error (no slave at the address).
    pub const DECERR: u64 = 3;
}
