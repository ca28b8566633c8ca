//! Sign / biased exponent / mantissa decoder (FP4, FP6, FP8), subnormals and specials included.

use super::{assert_exp_fits, const_bit, const_bits, const_index, exp_const, BitIndex, EXP_BITS, MANT_BITS};
use crate::spec::{Encoding, FloatSpecials, FormatSpec};
use rust_hdl::prelude::*;

/// Decodes an `N`-bit float with `E` exponent and `M` mantissa bits (an [`Encoding::Float`] row).
///
/// Normal: `mant = (1 << M) | f`, `exp = e − bias − M`; subnormal: `mant = f`,
/// `exp = 1 − bias − M`. What the all-ones exponent means (nothing, NaN only, IEEE Inf/NaN) is
/// a pair of constants, so one block serves every row and synthesis drops the unused logic.
#[derive(LogicBlock)]
pub struct FloatDecode<const N: usize, const E: usize, const M: usize> {
    /// The code.
    pub code: Signal<In, Bits<N>>,
    /// ±0 (decoded as +0).
    pub zero: Signal<Out, Bit>,
    /// NaN.
    pub nar: Signal<Out, Bit>,
    /// ±Inf.
    pub inf: Signal<Out, Bit>,
    /// Sign of a nonzero number or infinity.
    pub sign: Signal<Out, Bit>,
    /// Exponent of `mant`'s LSB.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// Significand, hidden bit included.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    sign_pos: Constant<BitIndex>,
    exp_pos: Constant<BitIndex>,
    frac_pos: Constant<BitIndex>,
    // `−bias − M`: added to the exponent field of a normal number.
    normal_offset: Constant<Bits<EXP_BITS>>,
    // `1 − bias − M`: the exponent of every subnormal.
    subnormal_exp: Constant<Bits<EXP_BITS>>,
    hidden: Constant<Bits<MANT_BITS>>,
    exp_zero: Constant<Bits<EXP_BITS>>,
    mant_zero: Constant<Bits<MANT_BITS>>,
    // All-ones exponent: f = 0 is Inf and f ≠ 0 is NaN (IEEE).
    ieee: Constant<Bit>,
    // All-ones exponent and all-ones mantissa is NaN, nothing is Inf (OCP E4M3 "fn").
    nan_only: Constant<Bit>,
    e: Signal<Local, Bits<E>>,
    f: Signal<Local, Bits<M>>,
    e_wide: Signal<Local, Bits<EXP_BITS>>,
    f_wide: Signal<Local, Bits<MANT_BITS>>,
    is_zero: Signal<Local, Bit>,
    is_nar: Signal<Local, Bit>,
    is_inf: Signal<Local, Bit>,
}

impl<const N: usize, const E: usize, const M: usize> FloatDecode<N, E, M> {
    /// The decoder for `spec`, which must be a float row with these widths.
    pub fn new(spec: &FormatSpec) -> Self {
        let Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials,
        } = spec.encoding
        else {
            panic!("{} is not a float", spec.name);
        };
        assert_eq!(spec.bits as usize, N, "{}: width", spec.name);
        assert_eq!(exp_bits as usize, E, "{}: exponent width", spec.name);
        assert_eq!(man_bits as usize, M, "{}: mantissa width", spec.name);
        assert_eq!(1 + E + M, N, "{}: fields must fill the code", spec.name);
        assert!(E <= EXP_BITS && M < MANT_BITS, "{}: fields too wide", spec.name);
        let m = man_bits as i32;
        assert_exp_fits(1 - bias - m, "smallest exponent");
        assert_exp_fits((1 << exp_bits) - 1 - bias - m, "largest exponent");
        Self {
            code: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            sign_pos: const_index(N - 1),
            exp_pos: const_index(M),
            frac_pos: const_index(0),
            normal_offset: exp_const(-bias - m),
            subnormal_exp: exp_const(1 - bias - m),
            hidden: const_bits(1 << M),
            exp_zero: exp_const(0),
            mant_zero: const_bits(0),
            ieee: const_bit(specials == FloatSpecials::Ieee),
            nan_only: const_bit(specials == FloatSpecials::NanOnly),
            e: Default::default(),
            f: Default::default(),
            e_wide: Default::default(),
            f_wide: Default::default(),
            is_zero: Default::default(),
            is_nar: Default::default(),
            is_inf: Default::default(),
        }
    }
}

impl<const N: usize, const E: usize, const M: usize> Logic for FloatDecode<N, E, M> {
    #[hdl_gen]
    fn update(&mut self) {
        self.e.next = self.code.val().get_bits::<E>(self.exp_pos.val().index());
        self.f.next = self.code.val().get_bits::<M>(self.frac_pos.val().index());
        self.e_wide.next = bit_cast::<EXP_BITS, E>(self.e.val());
        self.f_wide.next = bit_cast::<MANT_BITS, M>(self.f.val());
        self.is_zero.next = !(self.e.val().any() | self.f.val().any());
        self.is_nar.next =
            self.e.val().all() & ((self.ieee.val() & self.f.val().any()) | (self.nan_only.val() & self.f.val().all()));
        self.is_inf.next = self.e.val().all() & self.ieee.val() & !self.f.val().any();
        self.zero.next = self.is_zero.val();
        self.nar.next = self.is_nar.val();
        self.inf.next = self.is_inf.val();
        // Canonical form: zero and NaN carry no sign; Inf keeps it.
        self.sign.next =
            self.code.val().get_bit(self.sign_pos.val().index()) & !(self.is_zero.val() | self.is_nar.val());
        if self.is_zero.val() | self.is_nar.val() | self.is_inf.val() {
            self.exp.next = self.exp_zero.val();
            self.mant.next = self.mant_zero.val();
        } else if !self.e.val().any() {
            self.exp.next = self.subnormal_exp.val();
            self.mant.next = self.f_wide.val();
        } else {
            self.exp.next = self.e_wide.val() + self.normal_offset.val();
            self.mant.next = self.f_wide.val() | self.hidden.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{inf, nar, settle, val, value, zero};
    use super::*;
    use crate::spec::{Format, Unified};

    fn decode<const N: usize, const E: usize, const M: usize>(f: Format, code: u64) -> Unified {
        let mut b = FloatDecode::<N, E, M>::new(f.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    #[test]
    fn fp4_e2m1() {
        let d = |c| decode::<4, 2, 1>(Format::Fp4E2M1, c);
        assert_eq!(d(0x0), zero());
        assert_eq!(d(0x8), zero()); // −0
        assert_eq!(d(0x1), val(false, -1, 1)); // subnormal 0.5
        assert_eq!(d(0x2), val(false, -1, 2)); // 1.0
        assert_eq!(d(0x7), val(false, 1, 3)); // 6
        assert_eq!(d(0xF), val(true, 1, 3)); // −6
        assert_eq!(d(0x9), val(true, -1, 1)); // −0.5
    }

    #[test]
    fn fp6() {
        // E2M3, bias 1: 0x01 = 1/8 subnormal, 0x1F = 7.5.
        assert_eq!(decode::<6, 2, 3>(Format::Fp6E2M3, 0x01), val(false, -3, 1));
        assert_eq!(decode::<6, 2, 3>(Format::Fp6E2M3, 0x1F), val(false, -1, 15));
        assert_eq!(decode::<6, 2, 3>(Format::Fp6E2M3, 0x3F), val(true, -1, 15));
        // E3M2, bias 3: 0x1F = 28, 0x21 = −1/16 (subnormal).
        assert_eq!(decode::<6, 3, 2>(Format::Fp6E3M2, 0x1F), val(false, 2, 7));
        assert_eq!(decode::<6, 3, 2>(Format::Fp6E3M2, 0x21), val(true, -4, 1));
        assert_eq!(decode::<6, 3, 2>(Format::Fp6E3M2, 0x20), zero());
    }

    #[test]
    fn fp8_e4m3() {
        let d = |c| decode::<8, 4, 3>(Format::Fp8E4M3, c);
        assert_eq!(d(0x7F), nar());
        assert_eq!(d(0xFF), nar());
        assert_eq!(d(0x7E), val(false, 5, 14)); // 448
        assert_eq!(d(0x78), val(false, 5, 8)); // 256: all-ones exponent is finite here
        assert_eq!(d(0x01), val(false, -9, 1)); // 2^-9
        assert_eq!(d(0xB8), val(true, -3, 8)); // −1
        assert_eq!(d(0x80), zero());
    }

    #[test]
    fn fp8_e5m2() {
        let d = |c| decode::<8, 5, 2>(Format::Fp8E5M2, c);
        assert_eq!(d(0x7C), inf(false));
        assert_eq!(d(0xFC), inf(true));
        assert_eq!(d(0x7D), nar());
        assert_eq!(d(0xFF), nar());
        assert_eq!(d(0x7B), val(false, 13, 7)); // 57344
        assert_eq!(d(0x03), val(false, -16, 3)); // subnormal 3·2^-16
        assert_eq!(d(0x84), val(true, -16, 4)); // −2^-14, smallest normal
    }

    #[test]
    fn positive_codes_increase() {
        // Independent of the field arithmetic: codes of a float are ordered like their values.
        let mut last = -1.0;
        for code in 0..0x7F {
            let u = decode::<8, 4, 3>(Format::Fp8E4M3, code);
            let v = value(&u).unwrap();
            assert!(v > last, "code {code:#x}");
            last = v;
        }
    }
}
