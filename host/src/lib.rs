//! npe-host: the golden model, quantizers, runtime and CLI of npe.

pub use npe_hdl::spec;

pub mod cli;
pub mod demo;
pub mod device;
pub mod golden;
pub mod report;
pub mod rtl;
pub mod tensor;
