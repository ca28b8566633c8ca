//! Power-of-two scale decoder (OCP E8M0): `mant = 1`, `exp = code − bias`, all-ones = NaN.

use super::{assert_exp_fits, const_bit, const_bits, exp_const, EXP_BITS, MANT_BITS};
use crate::spec::{Encoding, FormatSpec};
use rust_hdl::prelude::*;

/// Decodes an E8M0 block scale (an [`Encoding::PowerOfTwo`] row).
///
/// The code is as wide as the unified exponent, so `exp` is the code plus `−bias` modulo
/// 2^8; the table's bias 127 keeps every finite code in range (checked by the constructor).
#[derive(LogicBlock)]
pub struct E8m0Decode {
    /// The code.
    pub code: Signal<In, Bits<EXP_BITS>>,
    /// Always 0 (E8M0 has no zero).
    pub zero: Signal<Out, Bit>,
    /// NaN (the all-ones code).
    pub nar: Signal<Out, Bit>,
    /// Always 0.
    pub inf: Signal<Out, Bit>,
    /// Always 0.
    pub sign: Signal<Out, Bit>,
    /// `code − bias`.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// 1.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    offset: Constant<Bits<EXP_BITS>>,
    mant_one: Constant<Bits<MANT_BITS>>,
    exp_zero: Constant<Bits<EXP_BITS>>,
    mant_zero: Constant<Bits<MANT_BITS>>,
    no: Constant<Bit>,
}

impl E8m0Decode {
    /// The decoder for `spec`, which must be a power-of-two row as wide as the unified exponent.
    pub fn new(spec: &FormatSpec) -> Self {
        let Encoding::PowerOfTwo { bias } = spec.encoding else {
            panic!("{} is not a power-of-two scale", spec.name);
        };
        assert_eq!(spec.bits as usize, EXP_BITS, "{}: width", spec.name);
        // Finite codes are 0 ..= 2^bits − 2; both ends must fit the signed exp field.
        assert_exp_fits(-bias, "smallest exponent");
        assert_exp_fits((1 << spec.bits) - 2 - bias, "largest exponent");
        Self {
            code: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            offset: exp_const(-bias),
            mant_one: const_bits(1),
            exp_zero: exp_const(0),
            mant_zero: const_bits(0),
            no: const_bit(false),
        }
    }
}

impl Logic for E8m0Decode {
    #[hdl_gen]
    fn update(&mut self) {
        self.zero.next = self.no.val();
        self.inf.next = self.no.val();
        self.sign.next = self.no.val();
        self.nar.next = self.code.val().all();
        if self.code.val().all() {
            self.exp.next = self.exp_zero.val();
            self.mant.next = self.mant_zero.val();
        } else {
            self.exp.next = self.code.val() + self.offset.val();
            self.mant.next = self.mant_one.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{nar, settle, val};
    use super::*;
    use crate::spec::{Format, Unified};

    fn decode(code: u64) -> Unified {
        let mut b = E8m0Decode::new(Format::E8M0.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    #[test]
    fn known_codes() {
        assert_eq!(decode(0x00), val(false, -127, 1));
        assert_eq!(decode(0x7F), val(false, 0, 1));
        assert_eq!(decode(0x80), val(false, 1, 1));
        assert_eq!(decode(0xFE), val(false, 127, 1));
        assert_eq!(decode(0xFF), nar());
    }
}
