//! The lane mode of a format pair: how many SIMD lanes an operand word carries, and whether
//! both formats are multiplier formats at all.
//!
//! The wider operand decides (16-bit: 1 lane, 5–8-bit: 2, ≤ 4-bit: 4), so both operands of a
//! lane sit at the same slot of their words. One instance serves a whole array (the formats are
//! job constants) or one stand-alone PE.

use super::const_bits;
use super::format_decode::{FMT_BITS, FMT_IDS};
use crate::spec::Format;
use rust_hdl::prelude::*;

/// A mask with bit `id` set for every format of `formats` that `pick` accepts.
pub(crate) fn id_mask(formats: &[Format], pick: impl Fn(Format) -> bool) -> Constant<Bits<FMT_IDS>> {
    const_bits(
        formats
            .iter()
            .copied()
            .filter(|&f| pick(f))
            .fold(0u64, |m, f| m | 1 << f.id()),
    )
}

/// Lane mode of an activation/weight format pair (see the module docs).
#[derive(LogicBlock)]
pub struct LaneMode {
    /// Activation format id.
    pub a_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Weight format id.
    pub w_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Both are multiplier formats of the block's set.
    pub ok: Signal<Out, Bit>,
    /// Four lanes (both ≤ 4-bit); implies `ok`.
    pub lanes4: Signal<Out, Bit>,
    /// Two lanes (both ≤ 8-bit, not four lanes); implies `ok`.
    pub lanes2: Signal<Out, Bit>,
    slot4: Constant<Bits<FMT_IDS>>,
    slot16: Constant<Bits<FMT_IDS>>,
    mac_ok: Constant<Bits<FMT_IDS>>,
}

impl LaneMode {
    /// The lane mode for the multiplier formats of `formats` (any other id is not `ok`).
    pub fn with_formats(formats: &[Format]) -> Self {
        Self {
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            ok: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            slot4: id_mask(formats, |f| f.slot_bits() == 4),
            slot16: id_mask(formats, |f| f.slot_bits() == 16),
            mac_ok: id_mask(formats, Format::is_mac_operand),
        }
    }
}

impl Logic for LaneMode {
    #[hdl_gen]
    fn update(&mut self) {
        self.ok.next =
            self.mac_ok.val().get_bit(self.a_fmt.val().index()) & self.mac_ok.val().get_bit(self.w_fmt.val().index());
        self.lanes4.next = self.ok.val()
            & self.slot4.val().get_bit(self.a_fmt.val().index())
            & self.slot4.val().get_bit(self.w_fmt.val().index());
        self.lanes2.next = self.ok.val()
            & !(self.slot4.val().get_bit(self.a_fmt.val().index())
                & self.slot4.val().get_bit(self.w_fmt.val().index()))
            & !self.slot16.val().get_bit(self.a_fmt.val().index())
            & !self.slot16.val().get_bit(self.w_fmt.val().index());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::lanes;

    fn mode(m: &mut LaneMode, a: u8, w: u8) -> (bool, bool, bool) {
        m.a_fmt.next = bits(a as u64);
        m.w_fmt.next = bits(w as u64);
        super::super::test_util::settle(m);
        (m.ok.val(), m.lanes4.val(), m.lanes2.val())
    }

    /// Every id pair: `ok` exactly for two multiplier formats of the set, and the lane count
    /// of the spec's `lanes`.
    #[test]
    fn every_format_pair_gets_the_spec_lane_count() {
        let set = [Format::Int8, Format::Fp4E2M1, Format::Posit16Es1, Format::E8M0];
        let mut m = LaneMode::with_formats(&set);
        m.connect_all();
        for a in 0..16u8 {
            for w in 0..16u8 {
                let (ok, l4, l2) = mode(&mut m, a, w);
                let fa = Format::ALL.into_iter().find(|f| f.id() == a && set.contains(f));
                let fw = Format::ALL.into_iter().find(|f| f.id() == w && set.contains(f));
                match (fa, fw) {
                    (Some(fa), Some(fw)) if fa.is_mac_operand() && fw.is_mac_operand() => {
                        let n = lanes(fa, fw);
                        assert_eq!((ok, l4, l2), (true, n == 4, n == 2), "{fa:?} x {fw:?}");
                    }
                    _ => assert_eq!((ok, l4, l2), (false, false, false), "ids {a}, {w}"),
                }
            }
        }
    }
}
