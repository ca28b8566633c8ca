//! Single-format PEs: the shared PE's code ([`GenericPe`]) built for one operand format, so
//! the decoders, lanes, windows and accumulator shrink to what that format needs. The area
//! report sets the shared PE against the sum of these.

use crate::pe::{GenericPe, PeGeometry};
use crate::spec::Format;

/// Declares the geometry, the type and the Verilog emitter of one single-format PE.
macro_rules! single_format_pe {
    ($geom:ident, $ty:ident, $format:expr, $doc:literal) => {
        #[doc = concat!("Geometry of the ", $doc, "-only PE.")]
        pub const $geom: PeGeometry = PeGeometry::for_formats(&[$format]);
        #[doc = concat!("The shared PE's code for ", $doc, " operands only.")]
        pub type $ty = GenericPe<
            { $geom.acc_width },
            { $geom.window },
            { $geom.lane0.width },
            { $geom.lane1.width },
            { $geom.lane23.width },
        >;
    };
}

single_format_pe!(INT8_ONLY, Int8Pe, Format::Int8, "INT8");
single_format_pe!(FP4_ONLY, Fp4Pe, Format::Fp4E2M1, "FP4 (E2M1)");
single_format_pe!(POSIT16_ONLY, Posit16Pe, Format::Posit16Es1, "Posit(16,1)");

/// Top-module names and Verilog of the single-format PEs, for `npe synth`.
pub fn single_format_tops() -> Vec<(&'static str, String)> {
    use crate::emit::emit_verilog;
    vec![
        (
            "pe_int8",
            emit_verilog(&mut Int8Pe::with_formats(&[Format::Int8]), "pe_int8"),
        ),
        (
            "pe_fp4",
            emit_verilog(&mut Fp4Pe::with_formats(&[Format::Fp4E2M1]), "pe_fp4"),
        ),
        (
            "pe_posit16",
            emit_verilog(&mut Posit16Pe::with_formats(&[Format::Posit16Es1]), "pe_posit16"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::SHARED;

    #[test]
    fn single_format_pes_are_narrower_than_the_shared_one() {
        for g in [INT8_ONLY, FP4_ONLY] {
            assert!(g.acc_width < SHARED.acc_width);
            assert!(g.window < SHARED.window);
        }
        // Posit16's products set the shared accumulator's range.
        assert_eq!(POSIT16_ONLY.acc, SHARED.acc);
        // Integers need no window below the LSB (beyond the one spare bit) and one lane slot
        // of 8 bits: lanes 2–3 carry nothing.
        assert_eq!(INT8_ONLY.below, 1);
        assert_eq!(INT8_ONLY.lane23.width, 1);
        // Posit16 uses lane 0 only.
        assert_eq!((POSIT16_ONLY.lane1.width, POSIT16_ONLY.lane23.width), (1, 1));
    }
}
