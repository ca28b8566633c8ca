//! The output unit and the widths derived from the accumulator it rounds.
//!
//! [`output_unit`] is the block (its nine stages are described there); [`geometry`] sizes it
//! for an accumulator.

pub mod geometry;
pub mod output_unit;

pub use geometry::{OuGeometry, FRAME, SCALE_BIAS, SCALE_BITS};
pub use output_unit::{GenericOutputUnit, OutputUnit, OUTPUT_LATENCY};
