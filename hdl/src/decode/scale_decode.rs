//! Block-scale decoder: a block's 8-bit scale code of one [`ScaleCode`] kind into the
//! dequantization unit's form ([`crate::pe::Dequant`]: `q`, bits to take, sign, NaN, shift),
//! combinational. The fields come from the format table's rows ([`ScaleCode::serial`]); the
//! shift is the exponent above the window's lowest one: E4M3's lowest exponent (every E4M3
//! code fits one window), or for E8M0 the job's `base` code, with codes outside
//! `base … base + 15` flagged.

use super::{const_bits, const_index, BitIndex};
use crate::pe::DEQUANT_LEN_BITS;
use crate::spec::block_scale::{ScaleCode, SCALE_KIND_BITS, SCALE_Q_BITS, SCALE_SHIFT_BITS};
use crate::spec::{Encoding, Format};
use rust_hdl::prelude::*;

/// Width of a scale code.
pub const SCALE_CODE_BITS: usize = 8;

/// The block-scale decoder (see the module docs).
#[derive(LogicBlock)]
pub struct ScaleDecode {
    /// The codes' kind ([`ScaleCode::id`]); an unknown id decodes as NaN.
    pub kind: Signal<In, Bits<SCALE_KIND_BITS>>,
    /// The scale code.
    pub code: Signal<In, Bits<SCALE_CODE_BITS>>,
    /// E8M0 only: the code of the window's lowest exponent.
    pub base: Signal<In, Bits<SCALE_CODE_BITS>>,
    /// The integer scale.
    pub q: Signal<Out, Bits<SCALE_Q_BITS>>,
    /// Bits of `q` to take.
    pub len: Signal<Out, Bits<DEQUANT_LEN_BITS>>,
    /// Negative scale.
    pub neg: Signal<Out, Bit>,
    /// NaN scale.
    pub nan: Signal<Out, Bit>,
    /// Places up from the window's lowest exponent.
    pub shift: Signal<Out, Bits<SCALE_SHIFT_BITS>>,
    /// An E8M0 code outside the window (its `shift` is meaningless).
    pub outside: Signal<Out, Bit>,
    e4_e: Signal<Local, Bits<SCALE_CODE_BITS>>,
    e8_d: Signal<Local, Bits<SCALE_CODE_BITS>>,
    e4_d: Signal<Local, Bits<SCALE_SHIFT_BITS>>,
    id_u8: Constant<Bits<SCALE_KIND_BITS>>,
    id_e8: Constant<Bits<SCALE_KIND_BITS>>,
    id_e4: Constant<Bits<SCALE_KIND_BITS>>,
    len_u8: Constant<Bits<DEQUANT_LEN_BITS>>,
    len_e8: Constant<Bits<DEQUANT_LEN_BITS>>,
    len_e4: Constant<Bits<DEQUANT_LEN_BITS>>,
    e4_man: Constant<Bits<SCALE_CODE_BITS>>,
    e4_man_mask: Constant<Bits<SCALE_CODE_BITS>>,
    e4_exp_mask: Constant<Bits<SCALE_CODE_BITS>>,
    e4_hidden: Constant<Bits<SCALE_CODE_BITS>>,
    e4_nan: Constant<Bits<SCALE_CODE_BITS>>,
    e4_sign: Constant<BitIndex>,
    e8_nan: Constant<Bits<SCALE_CODE_BITS>>,
    e8_span: Constant<Bits<SCALE_CODE_BITS>>,
    one8: Constant<Bits<SCALE_CODE_BITS>>,
    zero8: Constant<Bits<SCALE_CODE_BITS>>,
    zero_shift: Constant<Bits<SCALE_SHIFT_BITS>>,
    one_shift: Constant<Bits<SCALE_SHIFT_BITS>>,
}

impl Default for ScaleDecode {
    fn default() -> Self {
        let Encoding::Float { exp_bits, man_bits, .. } = Format::Fp8E4M3.spec().encoding else {
            panic!("E4M3 is a float row")
        };
        assert_eq!(1 + exp_bits + man_bits, SCALE_CODE_BITS as u32);
        assert_eq!(Format::E8M0.bits(), SCALE_CODE_BITS as u32);
        // E4M3's shift, exp − lowest exp, is max(e, 1) − 1 (subnormals share e = 1's LSB).
        let (lo, hi) = ScaleCode::E4m3.exp_range();
        assert!(hi - lo < 1 << SCALE_SHIFT_BITS, "every E4M3 exponent in one window");
        assert!(
            exp_bits as usize <= SCALE_SHIFT_BITS,
            "an E4M3 exponent field is a shift"
        );
        let len = |k: ScaleCode| const_bits(k.q_bits() as u64);
        let id = |k: ScaleCode| const_bits(u64::from(k.id()));
        Self {
            kind: Default::default(),
            code: Default::default(),
            base: Default::default(),
            q: Default::default(),
            len: Default::default(),
            neg: Default::default(),
            nan: Default::default(),
            shift: Default::default(),
            outside: Default::default(),
            e4_e: Default::default(),
            e8_d: Default::default(),
            e4_d: Default::default(),
            id_u8: id(ScaleCode::U8),
            id_e8: id(ScaleCode::E8m0),
            id_e4: id(ScaleCode::E4m3),
            len_u8: len(ScaleCode::U8),
            len_e8: len(ScaleCode::E8m0),
            len_e4: len(ScaleCode::E4m3),
            e4_man: const_bits(man_bits.into()),
            e4_man_mask: const_bits((1 << man_bits) - 1),
            e4_exp_mask: const_bits((1 << exp_bits) - 1),
            e4_hidden: const_bits(1 << man_bits),
            e4_nan: const_bits((1 << (exp_bits + man_bits)) - 1),
            e4_sign: const_index((exp_bits + man_bits) as usize),
            e8_nan: const_bits((1 << SCALE_CODE_BITS) - 1),
            e8_span: const_bits((1 << SCALE_SHIFT_BITS) - 1),
            one8: const_bits(1),
            zero8: const_bits(0),
            zero_shift: const_bits(0),
            one_shift: const_bits(1),
        }
    }
}

impl Logic for ScaleDecode {
    #[hdl_gen]
    fn update(&mut self) {
        self.e4_e.next = (self.code.val() >> self.e4_man.val()) & self.e4_exp_mask.val();
        self.e8_d.next = self.code.val() - self.base.val();
        self.e4_d.next = self.e4_e.val().get_bits::<SCALE_SHIFT_BITS>(0) - self.one_shift.val();
        self.q.next = self.zero8.val();
        self.len.next = self.len_e8.val();
        self.neg.next = false;
        self.nan.next = true;
        self.shift.next = self.zero_shift.val();
        self.outside.next = false;
        if self.kind.val() == self.id_u8.val() {
            self.q.next = self.code.val();
            self.len.next = self.len_u8.val();
            self.nan.next = false;
        } else if self.kind.val() == self.id_e8.val() {
            self.q.next = self.one8.val();
            self.nan.next = self.code.val() == self.e8_nan.val();
            self.shift.next = self.e8_d.val().get_bits::<SCALE_SHIFT_BITS>(0);
            self.outside.next = (self.code.val() < self.base.val()) | (self.e8_d.val() > self.e8_span.val());
        } else if self.kind.val() == self.id_e4.val() {
            self.q.next = self.code.val() & self.e4_man_mask.val();
            self.shift.next = self.zero_shift.val();
            if self.e4_e.val() != self.zero8.val() {
                self.q.next = (self.code.val() & self.e4_man_mask.val()) | self.e4_hidden.val();
                self.shift.next = self.e4_d.val();
            }
            self.len.next = self.len_e4.val();
            self.neg.next = self.code.val().get_bit(self.e4_sign.val().index());
            self.nan.next = (self.code.val() & self.e4_nan.val()) == self.e4_nan.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::settle;

    /// Every code of every kind (E8M0 against several window bases) is the spec's
    /// [`ScaleCode::serial`] with the shift above the window's lowest exponent, and E8M0 codes
    /// outside the window are flagged.
    #[test]
    fn every_code_of_every_kind_is_the_specs_scale() {
        let mut d = ScaleDecode::default();
        d.connect_all();
        let mut outside = 0;
        for kind in ScaleCode::ALL {
            let bases: &[u8] = if kind == ScaleCode::E8m0 {
                &[0, 1, 100, 127, 240, 254]
            } else {
                &[0]
            };
            for &base in bases {
                for code in 0..=u8::MAX {
                    d.kind.next = bits(u64::from(kind.id()));
                    d.code.next = bits(u64::from(code));
                    d.base.next = bits(u64::from(base));
                    settle(&mut d);
                    let s = kind.serial(code);
                    let what = format!("{kind:?} code {code:#04x} base {base}");
                    assert_eq!(d.nan.val(), s.nan, "{what}");
                    assert_eq!(d.len.val().to_u64(), kind.q_bits() as u64, "{what}");
                    if s.nan {
                        continue;
                    }
                    assert_eq!(d.q.val().to_u64(), u64::from(s.q), "{what}");
                    assert_eq!(d.neg.val(), s.neg, "{what}");
                    let lo = kind.window_lo(base);
                    match ScaleCode::shift(s, lo) {
                        Some(sh) => {
                            assert!(!d.outside.val(), "{what}");
                            assert_eq!(d.shift.val().to_u64(), u64::from(sh), "{what}");
                        }
                        None => {
                            assert!(d.outside.val(), "{what}");
                            outside += 1;
                        }
                    }
                }
            }
        }
        assert!(outside > 1000, "windows were left on both sides: {outside}");
        // An unknown kind is NaN.
        d.kind.next = bits(3);
        settle(&mut d);
        assert!(d.nan.val());
    }
}
