//! npe-hdl: the hardware of npe.
//!
//! [`spec`] holds the facts every layer shares (format table, later the configuration and the
//! register map). The rust-hdl blocks live beside it, one module per block of the diagram, and
//! [`emit`] turns them into lint-clean Verilog.

pub mod accel;
pub mod axi;
pub mod baseline;
pub mod board;
pub mod copy_dff;
pub mod decode;
pub mod emit;
pub mod output;
pub mod pe;
pub mod ports;
pub mod regs;
pub mod spec;

/// `n` default-built items: a block's vector of signals, registers or sub-blocks, one per row,
/// column or lane.
pub fn many<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}
