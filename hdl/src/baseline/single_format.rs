//! Single-format PEs: the shared PE's code ([`GenericPe`]) built for one operand format, so
//! the decoders, lanes, windows and accumulator shrink to what that format needs. The area
//! report sets the shared PE against the sum of these. One format-set PE ([`Narrow8Pe`], every
//! ≤ 8-bit format) measures what a preset without the 16-bit formats saves per PE.

use crate::pe::{GenericMac, GenericPe, PeGeometry};
use crate::spec::Format;

/// Declares the geometry, the type and the Verilog emitter of one single-format PE.
macro_rules! single_format_pe {
    ($geom:ident, $ty:ident, $format:expr, $doc:literal) => {
        #[doc = concat!("Geometry of the ", $doc, "-only PE.")]
        pub const $geom: PeGeometry = PeGeometry::for_formats(&[$format]);
        #[doc = concat!("The shared PE's code for ", $doc, " operands only.")]
        pub type $ty = crate::pe_type!(GenericPe, $geom);
    };
}

single_format_pe!(INT8_ONLY, Int8Pe, Format::Int8, "INT8");
single_format_pe!(FP4_ONLY, Fp4Pe, Format::Fp4E2M1, "FP4 (E2M1)");
single_format_pe!(POSIT16_ONLY, Posit16Pe, Format::Posit16Es1, "Posit(16,1)");

/// The multiplier formats whose lane slot is at most `slot` bits, padded to the table's length
/// by repeating the first such format (a const fn returns a fixed-size array; a repeat changes
/// no geometry).
const fn narrow_formats(slot: u32) -> [Format; Format::ALL.len()] {
    let mut out = [Format::ALL[0]; Format::ALL.len()];
    let mut n = 0;
    let mut i = 0;
    while i < Format::ALL.len() {
        let f = Format::ALL[i];
        if f.is_mac_operand() && f.slot_bits() <= slot {
            out[n] = f;
            n += 1;
        }
        i += 1;
    }
    assert!(n > 0);
    let first = out[0];
    while n < out.len() {
        out[n] = first;
        n += 1;
    }
    out
}

/// The multiplier formats whose lane slot is at most 8 bits (INT2/4/8, FP4, FP6, FP8, posit4,
/// posit8): the format set of an LLM preset.
pub const NARROW8_FORMATS: [Format; Format::ALL.len()] = narrow_formats(8);
/// The multiplier formats whose lane slot is 4 bits (INT2/4, FP4, posit4): a W4A4 format set.
pub const NARROW4_FORMATS: [Format; Format::ALL.len()] = narrow_formats(4);

/// Geometry of the ≤ 8-bit format-set PE.
pub const NARROW8: PeGeometry = PeGeometry::for_formats(&NARROW8_FORMATS);
/// The shared PE's code for every ≤ 8-bit multiplier format ([`NARROW8_FORMATS`]): a PE of the
/// "presets by format set" direction.
pub type Narrow8Pe = crate::pe_type!(GenericPe, NARROW8);
/// The MAC pipe alone of [`Narrow8Pe`] (what each PE of an array of that set is).
pub type Narrow8Mac = crate::pe_type!(GenericMac, NARROW8);
/// Geometry of the 4-bit format-set PE.
pub const NARROW4: PeGeometry = PeGeometry::for_formats(&NARROW4_FORMATS);
/// The MAC pipe of a PE for the 4-bit formats only ([`NARROW4_FORMATS`]).
pub type Narrow4Mac = crate::pe_type!(GenericMac, NARROW4);

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
        (
            "pe_le8",
            emit_verilog(&mut Narrow8Pe::with_formats(&NARROW8_FORMATS), "pe_le8"),
        ),
        ("pe_mac_le8", emit_verilog(&mut Narrow8Mac::new(&NARROW8), "pe_mac_le8")),
        ("pe_mac_le4", emit_verilog(&mut Narrow4Mac::new(&NARROW4), "pe_mac_le4")),
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

    #[test]
    fn narrow8_pe_is_every_narrow_format_and_nothing_wider() {
        for f in Format::ALL {
            let narrow = f.is_mac_operand() && f.slot_bits() <= 8;
            assert_eq!(NARROW8_FORMATS.contains(&f), narrow, "{f:?}");
        }
        // Without the 16-bit formats the accumulator and window shrink; lanes 1–3 stay in use.
        let (n, s) = (NARROW8, SHARED);
        assert!(n.acc_width < s.acc_width);
        assert!(n.window < s.window);
        assert!(n.lane1.width > 1 && n.lane23.width > 1);
        assert_eq!(n.lane1.width, s.lane1.width);
    }
}
