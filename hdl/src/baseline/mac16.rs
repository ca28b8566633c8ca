//! A plain INT16 × INT16 multiply-accumulate into a 48-bit register: the cheapest MAC a
//! 16-bit datapath can have, and the "plain 16×16 MAC" row of the PE area report.

use rust_hdl::prelude::*;

/// Accumulator width of the baseline: 32-bit products plus 16 guard bits, like the PE's guard.
pub const MAC16_ACC_BITS: usize = 48;

/// `acc += a × w` on `valid`; `clear` restarts (clear + valid loads just this product).
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
    pbits: Signal<Local, Bits<32>>,
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
        dff_setup!(self, clock, sum);
        self.prod.next = self.a.val() * self.w.val();
        self.pbits.next = unsigned_cast::<32>(self.prod.val());
        self.zext.next = bit_cast::<MAC16_ACC_BITS, 32>(self.pbits.val());
        if self.pbits.val().get_bit(31) {
            self.wide.next = self.zext.val() | self.high_ones.val();
        } else {
            self.wide.next = self.zext.val();
        }
        if self.valid.val() {
            if self.clear.val() {
                self.sum.d.next = self.wide.val();
            } else {
                self.sum.d.next = self.sum.q.val() + self.wide.val();
            }
        } else if self.clear.val() {
            self.sum.d.next = self.zero.val();
        }
        if self.reset.val() {
            self.sum.d.next = self.zero.val();
        }
        self.acc.next = self.sum.q.val();
    }
}
