//! npe-host: the golden model, quantizers, runtime and CLI of npe.

pub use npe_hdl::spec;

pub mod golden;
