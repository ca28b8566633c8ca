//! Baselines for area comparisons: plain blocks the shared PE is measured against, built with
//! the same tools (rust-hdl → Verilog → Yosys) so the ratio is fair.

pub mod mac16;

pub use mac16::Mac16;
