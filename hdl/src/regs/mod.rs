//! The register file on AXI4-Lite (the hardware side of [`crate::spec::regs`]).

pub mod axi_lite_regs;
pub mod job;

pub use axi_lite_regs::{backing, constant_value, AxiLiteRegs, Backing, ERROR_BITS};
pub use job::{JobRegs, JobRegsIn};
