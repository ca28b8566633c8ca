//! The spec: facts about the hardware defined once, read by every other crate.

pub mod formats;

pub use formats::{Encoding, FloatSpecials, Format, FormatSpec, OutputFormat, OutputFormatSpec, Overflow, Unified};
