//! The register file on AXI4-Lite (the hardware side of [`crate::spec::regs`]).

pub mod axi_lite_regs;

pub use axi_lite_regs::{writable_mask, AxiLiteRegs};
