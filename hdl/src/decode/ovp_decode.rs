//! OliVe outlier-victim pair decoder: one pair byte (two 4-bit lanes) into two unified values.
//!
//! The pair layout is [`crate::spec::formats::ovp`]: lane 0 (element 2k) in bits 3:0, lane 1
//! (element 2k + 1) in bits 7:4. A nibble equal to the marker `1000` is the victim (zero); its
//! partner, if it is not the marker too, is an abfloat outlier; with no marker both are normals
//! of the tensor's normal type (`flint` = 0: int4, two's complement; 1: flint4,
//! sign-magnitude). Two markers (never written by the host encoder) decode to two zeros. Purely
//! combinational: a 4-lane word holds two pairs, (0, 1) and (2, 3), decoded by two of these at
//! full lane rate.
//!
//! Outputs per lane ([`OvpLane`]) are the canonical unified form of the golden model
//! (`golden::decode_pair`): int4 normals `mant = |q|` (≤ 7), `exp = 0`; flint4 normals and
//! outliers `mant ∈ {2, 3}` (1.f, one fraction bit) with `exp` 0 … 4 (flint normals), 2 … 5
//! (int4-type outliers, `2^(e+3)` int4 units) or 4 … 7 (flint-type outliers, `2^(e+5)` flint
//! units); `nar` and `inf` are always 0 (no ports).
//!
//! # Where it runs
//!
//! The fixed-point edge decoder ([`super::FixedDecode`]) of the preset `npe4x4ovp` uses two
//! [`OvpLane`]s for lanes 2–3 (lanes 0–1 look pairs up in its table). What a lane must carry,
//! measured from the format table by `lane_requirements` below:
//! - **Fixed-point datapath**: the narrow lanes (2–3) of npe8x8le8 hold `±mag × 2^-1` in
//!   5 bits (FP4 0.5 … 6, INT4 … 8); ovp-int4 (1 … 96) needs 8 bits there, ovp-flint4
//!   (2 … 384) 10 bits with FP4 beside it, above the 9-bit LUT multipliers
//!   (`FIXED_NARROW_MAX_BITS`). OliVe's preset therefore leaves FP4 out
//!   (`OLIVE_FORMATS`): its narrow lanes hold 2^0 … 2^8 in 9 bits. The wide lanes (0–1, 18 bits,
//!   2^-9 … 2^8) hold every OVP value.
//! - **Shared datapath** (not built with pairs): the 4-bit lanes carry exponents −4 … 4
//!   (posit4); OVP needs 0 … 5 (ovp-int4) or 0 … 7 (ovp-flint4), so lanes 2–3's alignment
//!   shifter would grow from 16 to 22 positions (output 24 → 30 bits); lanes 0–1, the narrow
//!   sum and the accumulator would stay.

use super::{const_bits, const_index, BitIndex, EXP_BITS, MANT_BITS};
use rust_hdl::prelude::*;

/// Decodes one nibble of a pair, given its role (victim, outlier or normal).
#[derive(LogicBlock)]
pub struct OvpLane {
    /// The 4-bit code.
    pub code: Signal<In, Bits<4>>,
    /// The normal type: 0 int4, 1 flint4.
    pub flint: Signal<In, Bit>,
    /// The code is the outlier of its pair (its partner is the marker, it is not).
    pub outlier: Signal<In, Bit>,
    /// The code is a victim (it is the marker).
    pub victim: Signal<In, Bit>,
    /// The value is 0 (OVP has no NaN or Inf: the unified `nar` and `inf` are 0, no ports).
    pub zero: Signal<Out, Bit>,
    /// Sign (0 for zero).
    pub sign: Signal<Out, Bit>,
    /// Exponent of `mant`'s LSB.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// Significand.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    one4: Constant<Bits<4>>,
    i0: Constant<BitIndex>,
    i1: Constant<BitIndex>,
    i3: Constant<BitIndex>,
    c3: Constant<Bits<3>>,
    c5: Constant<Bits<3>>,
    c7: Constant<Bits<3>>,
    exp0: Constant<Bits<EXP_BITS>>,
    exp1: Constant<Bits<EXP_BITS>>,
    off_int: Constant<Bits<EXP_BITS>>,
    off_flint: Constant<Bits<EXP_BITS>>,
    mant0: Constant<Bits<MANT_BITS>>,
    mant2: Constant<Bits<MANT_BITS>>,
    mant3: Constant<Bits<MANT_BITS>>,
    neg: Signal<Local, Bits<4>>,
    mag: Signal<Local, Bits<4>>,
    c: Signal<Local, Bits<3>>,
    e: Signal<Local, Bits<2>>,
    c_hi: Signal<Local, Bits<2>>,
    e_wide: Signal<Local, Bits<EXP_BITS>>,
    c_hi_wide: Signal<Local, Bits<EXP_BITS>>,
}

impl Default for OvpLane {
    fn default() -> Self {
        use crate::spec::OvpNormal;
        let exp = |x: i32| const_bits::<EXP_BITS>(x as u64);
        Self {
            code: Default::default(),
            flint: Default::default(),
            outlier: Default::default(),
            victim: Default::default(),
            zero: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            one4: const_bits(1),
            i0: const_index(0),
            i1: const_index(1),
            i3: const_index(3),
            c3: const_bits(3),
            c5: const_bits(5),
            c7: const_bits(7),
            exp0: exp(0),
            exp1: exp(1),
            // abfloat `exp = e + bias − 1`, biases from the spec.
            off_int: exp(OvpNormal::Int4.abfloat_bias() - 1),
            off_flint: exp(OvpNormal::Flint4.abfloat_bias() - 1),
            mant0: const_bits(0),
            mant2: const_bits(2),
            mant3: const_bits(3),
            neg: Default::default(),
            mag: Default::default(),
            c: Default::default(),
            e: Default::default(),
            c_hi: Default::default(),
            e_wide: Default::default(),
            c_hi_wide: Default::default(),
        }
    }
}

impl Logic for OvpLane {
    #[hdl_gen]
    fn update(&mut self) {
        self.neg.next = !self.code.val() + self.one4.val();
        if self.code.val().get_bit(self.i3.val().index()) {
            self.mag.next = self.neg.val();
        } else {
            self.mag.next = self.code.val();
        }
        self.c.next = self.code.val().get_bits::<3>(self.i0.val().index());
        self.e.next = self.code.val().get_bits::<2>(self.i1.val().index());
        self.c_hi.next = self.c.val().get_bits::<2>(self.i1.val().index());
        self.e_wide.next = bit_cast::<EXP_BITS, 2>(self.e.val());
        self.c_hi_wide.next = bit_cast::<EXP_BITS, 2>(self.c_hi.val());
        // Defaults: the canonical zero.
        self.zero.next = true;
        self.sign.next = false;
        self.exp.next = self.exp0.val();
        self.mant.next = self.mant0.val();
        if self.victim.val() {
            // The marker: zero (the defaults).
        } else if self.outlier.val() {
            // abfloat s.ee.m: mant = 2 + m, exp = e + bias − 1.
            self.zero.next = false;
            self.sign.next = self.code.val().get_bit(self.i3.val().index());
            if self.flint.val() {
                self.exp.next = self.e_wide.val() + self.off_flint.val();
            } else {
                self.exp.next = self.e_wide.val() + self.off_int.val();
            }
            if self.code.val().get_bit(self.i0.val().index()) {
                self.mant.next = self.mant3.val();
            } else {
                self.mant.next = self.mant2.val();
            }
        } else if !self.flint.val() {
            // int4 normal, two's complement.
            if self.code.val().any() {
                self.zero.next = false;
                self.sign.next = self.code.val().get_bit(self.i3.val().index());
                self.mant.next = bit_cast::<MANT_BITS, 4>(self.mag.val());
            }
        } else if self.c.val().any() {
            // flint4 normal, sign-magnitude: magnitude codes 1 … 7 are 2, 4, 6, 8, 12, 16, 32
            // = 2·2^0, 2·2^1, 3·2^1, 2·2^2, 3·2^2, 2·2^3, 2·2^4: exp = c >> 1 (+1 for c = 7),
            // mant = 3 for c = 3, 5, else 2.
            self.zero.next = false;
            self.sign.next = self.code.val().get_bit(self.i3.val().index());
            if self.c.val() == self.c7.val() {
                self.exp.next = self.c_hi_wide.val() + self.exp1.val();
            } else {
                self.exp.next = self.c_hi_wide.val();
            }
            if (self.c.val() == self.c3.val()) | (self.c.val() == self.c5.val()) {
                self.mant.next = self.mant3.val();
            } else {
                self.mant.next = self.mant2.val();
            }
        }
    }
}

/// The pair decoder: a pair byte and the normal type in, two [`OvpLane`]s' unified values out.
#[derive(LogicBlock)]
pub struct OvpDecode {
    /// The pair byte: lane 0 in bits 3:0, lane 1 in bits 7:4.
    pub pair: Signal<In, Bits<8>>,
    /// The normal type: 0 int4, 1 flint4.
    pub flint: Signal<In, Bit>,
    /// Lane 0 is zero (`nar` and `inf` are always 0 for OVP and have no ports).
    pub zero0: Signal<Out, Bit>,
    /// Lane 0's sign.
    pub sign0: Signal<Out, Bit>,
    /// Lane 0's exponent.
    pub exp0: Signal<Out, Bits<EXP_BITS>>,
    /// Lane 0's significand.
    pub mant0: Signal<Out, Bits<MANT_BITS>>,
    /// Lane 1 is zero.
    pub zero1: Signal<Out, Bit>,
    /// Lane 1's sign.
    pub sign1: Signal<Out, Bit>,
    /// Lane 1's exponent.
    pub exp1: Signal<Out, Bits<EXP_BITS>>,
    /// Lane 1's significand.
    pub mant1: Signal<Out, Bits<MANT_BITS>>,
    /// Lane 0's decoder (its outputs are the lane's whole unified value).
    pub lane0: OvpLane,
    /// Lane 1's decoder.
    pub lane1: OvpLane,
    marker: Constant<Bits<4>>,
    i0: Constant<BitIndex>,
    i4: Constant<BitIndex>,
    mark0: Signal<Local, Bit>,
    mark1: Signal<Local, Bit>,
}

impl Default for OvpDecode {
    fn default() -> Self {
        Self::new()
    }
}

impl OvpDecode {
    /// A pair decoder.
    pub fn new() -> Self {
        Self {
            pair: Default::default(),
            flint: Default::default(),
            zero0: Default::default(),
            sign0: Default::default(),
            exp0: Default::default(),
            mant0: Default::default(),
            zero1: Default::default(),
            sign1: Default::default(),
            exp1: Default::default(),
            mant1: Default::default(),
            lane0: Default::default(),
            lane1: Default::default(),
            marker: const_bits(u64::from(crate::spec::formats::ovp::MARKER)),
            i0: const_index(0),
            i4: const_index(4),
            mark0: Default::default(),
            mark1: Default::default(),
        }
    }
}

impl Logic for OvpDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.mark0.next = self.pair.val().get_bits::<4>(self.i0.val().index()) == self.marker.val();
        self.mark1.next = self.pair.val().get_bits::<4>(self.i4.val().index()) == self.marker.val();
        self.lane0.code.next = self.pair.val().get_bits::<4>(self.i0.val().index());
        self.lane1.code.next = self.pair.val().get_bits::<4>(self.i4.val().index());
        self.lane0.flint.next = self.flint.val();
        self.lane1.flint.next = self.flint.val();
        self.lane0.victim.next = self.mark0.val();
        self.lane1.victim.next = self.mark1.val();
        self.lane0.outlier.next = self.mark1.val() & !self.mark0.val();
        self.lane1.outlier.next = self.mark0.val() & !self.mark1.val();
        self.zero0.next = self.lane0.zero.val();
        self.sign0.next = self.lane0.sign.val();
        self.exp0.next = self.lane0.exp.val();
        self.mant0.next = self.lane0.mant.val();
        self.zero1.next = self.lane1.zero.val();
        self.sign1.next = self.lane1.sign.val();
        self.exp1.next = self.lane1.exp.val();
        self.mant1.next = self.lane1.mant.val();
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::settle;
    use super::*;
    use crate::spec::formats::ovp;
    use crate::spec::{Format, OvpNormal};

    #[test]
    fn every_pair_byte_of_both_normal_types_matches_the_reference_decode() {
        let mut d = OvpDecode::new();
        let mut checked = 0;
        for normal in [OvpNormal::Int4, OvpNormal::Flint4] {
            for byte in 0..=0xFFu8 {
                d.pair.next = bits(u64::from(byte));
                d.flint.next = normal == OvpNormal::Flint4;
                settle(&mut d);
                let lane = |l: &OvpLane| crate::spec::Unified {
                    zero: l.zero.val(),
                    nar: false,
                    inf: false,
                    sign: l.sign.val(),
                    exp: l.exp.val().to_u32() as u8 as i8,
                    mant: l.mant.val().to_u32() as u16,
                };
                let got = [lane(&d.lane0), lane(&d.lane1)];
                assert_eq!(got, ovp::decode_pair(normal, byte), "{normal:?} {byte:#04x}");
                // The top's ports carry the same values.
                let ports = [
                    (
                        d.zero0.val(),
                        d.sign0.val(),
                        d.exp0.val().to_u32(),
                        d.mant0.val().to_u32(),
                    ),
                    (
                        d.zero1.val(),
                        d.sign1.val(),
                        d.exp1.val().to_u32(),
                        d.mant1.val().to_u32(),
                    ),
                ];
                for (u, p) in got.iter().zip(ports) {
                    assert_eq!((u.zero, u.sign, u.exp as u8 as u32, u32::from(u.mant)), p);
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 512);
    }

    #[test]
    fn emitted_verilog_is_lint_clean() {
        use std::process::Command;
        let v = crate::emit::emit_verilog(&mut OvpDecode::new(), "ovp_decode");
        let dir = std::env::temp_dir().join(format!("npe-ovp-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ovp_decode.v");
        std::fs::write(&file, &v).unwrap();
        let out = Command::new("verilator")
            .args(["--lint-only", "-Wall", "--top-module", "ovp_decode"])
            .arg(&file)
            .output()
            .expect("the lint test needs Verilator on PATH");
        let _ = std::fs::remove_dir_all(&dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("%Warning"),
            "verilator -Wall:\n{stderr}"
        );
    }

    #[test]
    fn lane_requirements() {
        use crate::pe::lane_range;
        use crate::spec::config::LE8_FORMATS;
        use crate::spec::{FixedLane, FixedPoint};
        // Shared datapath, 4-bit lanes: (exp lo, exp hi, mant bits).
        assert_eq!(lane_range(&Format::ALL, 4), Some((-4, 4, 4)));
        assert_eq!(lane_range(&[Format::OvpInt4], 4), Some((0, 5, 3)));
        assert_eq!(lane_range(&[Format::OvpFlint4], 4), Some((0, 7, 2)));
        let mut with_ovp = Format::ALL.to_vec();
        with_ovp.extend(Format::PAIRED);
        assert_eq!(lane_range(&with_ovp, 4), Some((-4, 7, 4)));
        // The shared PE's geometry with the pair formats added (what the integration changes).
        let shared = crate::pe::PeGeometry::for_formats(&Format::ALL);
        let wider = crate::pe::PeGeometry::for_formats(&with_ovp);
        // Lanes 0 and 1 (posit16 / posit8 ranges) already hold OVP; lanes 2–3's shifter grows
        // from 16 to 22 positions (24 → 30 bits, signed window 25 → 31); the narrow sum and the
        // accumulator stay as they are.
        assert_eq!((wider.lane0, wider.lane1), (shared.lane0, shared.lane1));
        assert_eq!(
            (shared.lane23.max_shift, shared.lane23.width, shared.signed23),
            (16, 24, 25)
        );
        assert_eq!(
            (wider.lane23.max_shift, wider.lane23.width, wider.signed23),
            (22, 30, 31)
        );
        assert_eq!(wider.lane23.offset, shared.lane23.offset);
        assert_eq!((wider.narrow, wider.acc_width), (shared.narrow, shared.acc_width));
        // Fixed-point datapath: the narrow lanes of the ≤ 8-bit set, and with each OVP format.
        let le8 = FixedPoint::for_formats(&LE8_FORMATS).unwrap();
        assert_eq!(le8.narrow, FixedLane { lsb: -1, bits: 5 });
        let mut le8_int = LE8_FORMATS.to_vec();
        le8_int.push(Format::OvpInt4);
        assert_eq!(
            FixedPoint::for_formats(&le8_int).unwrap().narrow,
            FixedLane { lsb: -1, bits: 8 }
        );
        let mut le8_flint = LE8_FORMATS.to_vec();
        le8_flint.push(Format::OvpFlint4);
        // 2^-1 … 2^8: 10 bits, beyond the 9-bit narrow multipliers, so no fixed-point datapath.
        assert_eq!(FixedPoint::for_formats(&le8_flint), None);
        assert_eq!(Format::OvpFlint4.value_span(), crate::spec::Span { lsb: 1, msb: 8 });
    }
}
