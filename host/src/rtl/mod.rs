//! Host-side wrappers of the Verilated hardware blocks (npe-sim), speaking golden-model types.

pub mod decoder;

pub use decoder::Decoder;
