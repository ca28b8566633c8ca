//! Baselines for area comparisons: plain blocks the shared PE is measured against, built with
//! the same tools (rust-hdl → Verilog → Yosys) so the ratio is fair.

pub mod mac16;
pub mod single_format;

pub use mac16::Mac16;
pub use single_format::{single_format_tops, Fp4Pe, Int8Pe, Narrow8Pe, Posit16Pe};
