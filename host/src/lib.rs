//! npe-host: the golden model of npe's number formats, the runtime ([`device`]: one API over a
//! simulated, a functional and, later, a board back end) and the `npe` CLI.
//!
//! Feature `sim` (on by default) adds the Verilator back end ([`device::sim`]) and the wrappers
//! of the Verilated hardware blocks ([`rtl`]); without it nothing here needs Verilator.

pub use npe_hdl::spec;

#[cfg(feature = "sim")]
pub mod campaign;
pub mod cli;
pub mod demo;
pub mod device;
pub mod fuzz;
pub mod golden;
pub mod model;
pub mod outfile;
pub mod quant;
pub mod report;
#[cfg(feature = "sim")]
pub mod rtl;
pub mod tensor;
