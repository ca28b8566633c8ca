//! TEMPORARY stand-in for the output unit (being written on branch output-unit): passes the
//! accumulator's low 32 bits through one register, so the array's data movement can be tested.
use crate::pe::ACC_WIDTH;
use rust_hdl::prelude::*;

/// Clock edges from `valid` to `out_valid`.
pub const OUTPUT_LATENCY: usize = 1;

/// Stand-in output unit.
#[derive(LogicBlock, Default)]
pub struct OutputUnit {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Reset.
    pub reset: Signal<In, Bit>,
    /// Input valid.
    pub valid: Signal<In, Bit>,
    /// Accumulator.
    pub acc: Signal<In, Bits<ACC_WIDTH>>,
    /// NaN.
    pub nan: Signal<In, Bit>,
    /// +Inf.
    pub pinf: Signal<In, Bit>,
    /// -Inf.
    pub ninf: Signal<In, Bit>,
    /// Output format.
    pub out_fmt: Signal<In, Bits<3>>,
    /// Scale.
    pub scale_exp: Signal<In, Bits<8>>,
    /// Output valid.
    pub out_valid: Signal<Out, Bit>,
    /// Result.
    pub result: Signal<Out, Bits<32>>,
    v: DFF<Bit>,
    r: DFF<Bits<32>>,
    unused_acc: Signal<Local, Bits<ACC_WIDTH>>,
    unused_f: Signal<Local, Bit>,
    unused_fmt: Signal<Local, Bits<3>>,
    unused_s: Signal<Local, Bits<8>>,
}

impl Logic for OutputUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, v, r);
        self.v.d.next = self.valid.val() & !self.reset.val();
        self.r.d.next = self.acc.val().get_bits::<32>(0);
        self.unused_acc.next = self.acc.val();
        self.unused_f.next = self.nan.val() | self.pinf.val() | self.ninf.val();
        self.unused_fmt.next = self.out_fmt.val();
        self.unused_s.next = self.scale_exp.val();
        self.out_valid.next = self.v.q.val();
        self.result.next = self.r.q.val();
    }
}
