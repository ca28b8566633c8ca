//! A plain INT16 × INT16 multiply-accumulate into a 48-bit register: the cheapest MAC a
//! 16-bit datapath can have, and the "plain 16×16 MAC" row of the PE area report. The product
//! is registered before the add (the MULT18X18D's 3.9 ns and the 48-bit carry chain in one
//! cycle closed 93.6 MHz), so a beat is in `acc` two edges after it is presented.

use rust_hdl::prelude::*;

/// Accumulator width of the baseline: 32-bit products plus 16 guard bits, like the PE's guard.
pub const MAC16_ACC_BITS: usize = 48;

/// `acc += a × w` on `valid`; `clear` restarts (clear + valid loads just this product). Each
/// takes effect one cycle after it is presented, with its beat.
#[derive(LogicBlock)]
pub struct Mac16 {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Multiplicand.
    pub a: Signal<In, Signed<16>>,
    /// Multiplier.
    pub w: Signal<In, Signed<16>>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Restart the sum.
    pub clear: Signal<In, Bit>,
    /// The sum (two's complement).
    pub acc: Signal<Out, Bits<MAC16_ACC_BITS>>,
    prod: Signal<Local, Signed<32>>,
    pbits: DFF<Bits<32>>,
    valid1: DFF<Bit>,
    clear1: DFF<Bit>,
    zext: Signal<Local, Bits<MAC16_ACC_BITS>>,
    wide: Signal<Local, Bits<MAC16_ACC_BITS>>,
    sum: DFF<Bits<MAC16_ACC_BITS>>,
    zero: Constant<Bits<MAC16_ACC_BITS>>,
    // Sign extension by OR-ing ones above the product: rust-hdl's signed widening emits a bare
    // `$signed(x)` that Verilator flags as a width mismatch.
    high_ones: Constant<Bits<MAC16_ACC_BITS>>,
}

impl Default for Mac16 {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a: Default::default(),
            w: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            acc: Default::default(),
            prod: Default::default(),
            pbits: Default::default(),
            valid1: Default::default(),
            clear1: Default::default(),
            zext: Default::default(),
            wide: Default::default(),
            sum: Default::default(),
            zero: Constant::new(0.into()),
            high_ones: Constant::new((((1u64 << MAC16_ACC_BITS) - 1) ^ 0xFFFF_FFFF).into()),
        }
    }
}

impl Logic for Mac16 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sum, pbits, valid1, clear1);
        self.prod.next = self.a.val() * self.w.val();
        self.pbits.d.next = unsigned_cast::<32>(self.prod.val());
        self.valid1.d.next = self.valid.val();
        self.clear1.d.next = self.clear.val();
        if self.reset.val() {
            self.valid1.d.next = false;
            self.clear1.d.next = false;
        }
        self.zext.next = bit_cast::<MAC16_ACC_BITS, 32>(self.pbits.q.val());
        if self.pbits.q.val().get_bit(31) {
            self.wide.next = self.zext.val() | self.high_ones.val();
        } else {
            self.wide.next = self.zext.val();
        }
        if self.valid1.q.val() {
            if self.clear1.q.val() {
                self.sum.d.next = self.wide.val();
            } else {
                self.sum.d.next = self.sum.q.val() + self.wide.val();
            }
        } else if self.clear1.q.val() {
            self.sum.d.next = self.zero.val();
        }
        if self.reset.val() {
            self.sum.d.next = self.zero.val();
        }
        self.acc.next = self.sum.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};

    /// Random beats, bubbles and restarts: `acc` is the exact 48-bit sum of the products, two
    /// edges after each beat.
    #[test]
    fn sums_are_exact() {
        let mut m = Mac16::default();
        m.connect_all();
        m.reset.next = true;
        cycle(&mut m);
        cycle(&mut m);
        m.reset.next = false;
        let mut rnd = rng(0x2545_F491_4F6C_DD1D);
        let mask = (1i128 << MAC16_ACC_BITS) - 1;
        // The sum after each edge, and the beat presented before it.
        let mut want: Vec<i128> = vec![0, 0];
        let mut sum = 0i128;
        for i in 0..400 {
            let (a, w) = (rnd() as i16, rnd() as i16);
            let r = rnd() % 8;
            let (valid, clear) = (r != 0, r == 1 || i == 0);
            m.a.next = (a as i64).to_signed_bits();
            m.w.next = (w as i64).to_signed_bits();
            m.valid.next = valid;
            m.clear.next = clear;
            if clear {
                sum = 0;
            }
            if valid {
                sum += a as i128 * w as i128;
            }
            want.push(sum);
            cycle(&mut m);
            // The beat presented two edges ago.
            assert_eq!(m.acc.val().to_u64() as i128, want[want.len() - 2] & mask, "beat {i}");
        }
    }
}
