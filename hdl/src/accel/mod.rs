//! The accelerator: the PE array with its buffers and engines ([`core`], built from the blocks
//! of the block diagram, one file each), and the top that puts it behind AXI ([`top`]).

pub mod bank_ram;
pub mod core;
pub mod datapath;
pub mod job_check;
pub mod job_plan;
pub mod layout;
pub mod loader;
pub mod operand_buffers;
pub mod output_stage;
pub mod result_delay;
pub mod result_walk;
pub mod sequencer;
pub mod slots;
pub mod storer;
pub mod systolic_array;
#[cfg(test)]
pub(crate) mod testbench;
pub mod top;

pub use self::core::{config_error, Core};
pub use datapath::Datapath;
pub use top::{accel_verilog, Npe};
