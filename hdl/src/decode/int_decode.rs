//! Two's complement integer decoder: `exp = 0`, `mant = |x|`, `sign = x < 0`.

use super::{const_bit, const_bits, const_index, exp_const, BitIndex, EXP_BITS, MANT_BITS};
use crate::spec::{Encoding, FormatSpec};
use rust_hdl::prelude::*;

/// Decodes an `N`-bit two's complement integer (an [`Encoding::Int`] row of the table).
///
/// The most negative code decodes to `mant = 2^(N-1)`, which the unsigned `mant` holds exactly.
#[derive(LogicBlock)]
pub struct IntDecode<const N: usize> {
    /// The code.
    pub code: Signal<In, Bits<N>>,
    /// The code is 0.
    pub zero: Signal<Out, Bit>,
    /// Always 0 (integers have no NaN).
    pub nar: Signal<Out, Bit>,
    /// Always 0 (integers have no Inf).
    pub inf: Signal<Out, Bit>,
    /// The code is negative.
    pub sign: Signal<Out, Bit>,
    /// Always 0.
    pub exp: Signal<Out, Bits<EXP_BITS>>,
    /// The magnitude.
    pub mant: Signal<Out, Bits<MANT_BITS>>,
    one: Constant<Bits<N>>,
    sign_pos: Constant<BitIndex>,
    exp_zero: Constant<Bits<EXP_BITS>>,
    no: Constant<Bit>,
    neg: Signal<Local, Bits<N>>,
    mag: Signal<Local, Bits<N>>,
}

impl<const N: usize> IntDecode<N> {
    /// The decoder for `spec`, which must be an integer row `N` bits wide.
    pub fn new(spec: &FormatSpec) -> Self {
        assert_eq!(spec.encoding, Encoding::Int, "{} is not an integer", spec.name);
        assert_eq!(spec.bits as usize, N, "{}: width", spec.name);
        assert!(N <= MANT_BITS, "{}: |x| must fit mant", spec.name);
        Self {
            code: Default::default(),
            zero: Default::default(),
            nar: Default::default(),
            inf: Default::default(),
            sign: Default::default(),
            exp: Default::default(),
            mant: Default::default(),
            one: const_bits(1),
            sign_pos: const_index(N - 1),
            exp_zero: exp_const(0),
            no: const_bit(false),
            neg: Default::default(),
            mag: Default::default(),
        }
    }
}

impl<const N: usize> Logic for IntDecode<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.neg.next = !self.code.val() + self.one.val();
        self.sign.next = self.code.val().get_bit(self.sign_pos.val().index());
        if self.code.val().get_bit(self.sign_pos.val().index()) {
            self.mag.next = self.neg.val();
        } else {
            self.mag.next = self.code.val();
        }
        self.zero.next = !self.code.val().any();
        self.nar.next = self.no.val();
        self.inf.next = self.no.val();
        self.exp.next = self.exp_zero.val();
        self.mant.next = bit_cast::<MANT_BITS, N>(self.mag.val());
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{settle, val, zero};
    use super::*;
    use crate::spec::{Format, Unified};

    fn decode<const N: usize>(f: Format, code: u64) -> Unified {
        let mut b = IntDecode::<N>::new(f.spec());
        b.code.next = bits(code);
        settle(&mut b);
        crate::decode::unified_outputs!(b)
    }

    #[test]
    fn known_codes() {
        assert_eq!(decode::<2>(Format::Int2, 0b00), zero());
        assert_eq!(decode::<2>(Format::Int2, 0b01), val(false, 0, 1));
        assert_eq!(decode::<2>(Format::Int2, 0b10), val(true, 0, 2));
        assert_eq!(decode::<2>(Format::Int2, 0b11), val(true, 0, 1));
        assert_eq!(decode::<4>(Format::Int4, 0x7), val(false, 0, 7));
        assert_eq!(decode::<4>(Format::Int4, 0x8), val(true, 0, 8));
        assert_eq!(decode::<4>(Format::Int4, 0xF), val(true, 0, 1));
        assert_eq!(decode::<8>(Format::Int8, 0x00), zero());
        assert_eq!(decode::<8>(Format::Int8, 0x80), val(true, 0, 128));
        assert_eq!(decode::<8>(Format::Int8, 0x9C), val(true, 0, 100));
        assert_eq!(decode::<16>(Format::Int16, 0x8000), val(true, 0, 0x8000));
        assert_eq!(decode::<16>(Format::Int16, 0x7FFF), val(false, 0, 0x7FFF));
        assert_eq!(decode::<16>(Format::Int16, 0xFFFF), val(true, 0, 1));
    }

    #[test]
    fn every_int4_code_is_its_value() {
        for code in 0..16u64 {
            let u = decode::<4>(Format::Int4, code);
            let x = ((code as i64) << 60) >> 60;
            assert_eq!(
                u,
                if x == 0 {
                    zero()
                } else {
                    val(x < 0, 0, x.unsigned_abs() as u16)
                }
            );
        }
    }

    #[test]
    #[should_panic(expected = "width")]
    fn width_must_match_the_table() {
        IntDecode::<4>::new(Format::Int8.spec());
    }
}
