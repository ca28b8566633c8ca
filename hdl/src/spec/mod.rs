//! The spec: facts about the hardware defined once, read by every other crate.

pub mod axi;
pub mod block_scale;
pub mod board;
pub mod config;
pub mod datapath;
pub mod formats;
pub mod regs;
pub mod terms;
pub mod uart;

pub use axi::AxiResp;
pub use config::NpeConfig;
pub use datapath::{
    lanes, product_span, Accumulator, FixedLane, FixedPoint, Span, ACC_GUARD_BITS, FIXED_NARROW_MAX_BITS,
    FIXED_WIDE_MAX_BITS, OPERAND_BITS,
};
pub use formats::{
    BitmodSpecial, Encoding, FloatSpecials, Format, FormatSpec, OutputFormat, OutputFormatSpec, Overflow, OvpNormal,
    Unified,
};
