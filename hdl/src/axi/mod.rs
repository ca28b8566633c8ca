//! AXI4 burst DMA masters: [`AxiReadDma`] fetches operands, [`AxiWriteDma`] stores results.
//!
//! Both split a command (start address, beat count) into INCR bursts of at most 256 beats that
//! never cross a 4 KiB boundary, keep several bursts in flight (the next address is issued
//! while data of the previous ones is still moving), hold every valid and its payload until
//! ready, and report the first error response of a command with its `done` pulse. After an
//! error a command still runs to its end (every burst issued and drained), so neither side of
//! the bus is ever left waiting.

pub mod dma_read;
pub mod dma_write;

pub use dma_read::AxiReadDma;
pub use dma_write::AxiWriteDma;

use crate::spec::config::AXI_DATA_BITS;

/// AXI data width as a type-level width.
pub const BUS: usize = AXI_DATA_BITS as usize;
/// AxSIZE of a full-width beat: log2 of its bytes.
pub const AXI_SIZE: u64 = (AXI_DATA_BITS / 8).trailing_zeros() as u64;
/// AxBURST INCR.
pub const AXI_INCR: u64 = 1;
