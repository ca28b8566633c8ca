//! Host-side wrappers of the Verilated hardware blocks (npe-sim), speaking golden-model types.

pub mod decoder;
pub mod output;
pub mod pe;

pub use decoder::Decoder;
pub use pe::{Pe, PeState};
