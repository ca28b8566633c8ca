//! The accelerator: the PE array with its buffers and controller ([`core`]), and the top that
//! puts it behind AXI ([`top`]).

pub mod core;
pub mod loader;
pub mod pe_slot;
pub mod result_walk;
#[cfg(test)]
mod testbench;
pub mod top;

pub use self::core::{Core4x4, Core8x8};
pub use pe_slot::{PeSlot, PE_MODULE};
pub use top::{accel_verilog, Npe4x4, Npe8x8};
