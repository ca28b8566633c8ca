//! npe-sim: Verilated npe hardware driven from Rust.
