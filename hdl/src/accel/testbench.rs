//! Cycle-stepping helpers for the blocks' own tests in rust-hdl's simulator.

use rust_hdl::prelude::*;

/// A xorshift64 generator from `seed` (nonzero): the blocks' random tests draw from it, so a
/// failing case repeats.
pub fn rng(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Settles `uut`'s combinational logic (inputs set by the caller, clock unchanged).
pub fn settle<B: Block>(uut: &mut B) {
    assert!(simulate(uut, 1000), "the logic did not settle");
}

/// One clock cycle: clock low, settle, rising edge, settle. Outputs read afterwards show the
/// state after the edge; set the inputs of the next cycle before calling it again.
pub fn cycle<B: Block + HasClock>(uut: &mut B) {
    uut.clock_signal().next = Clock::from(false);
    settle(uut);
    uut.clock_signal().next = Clock::from(true);
    settle(uut);
}

/// A block with a clock input named `clock`.
pub trait HasClock {
    /// The clock input.
    fn clock_signal(&mut self) -> &mut Signal<In, Clock>;
}

/// Implements [`HasClock`] for blocks whose clock input is the field `clock`.
macro_rules! has_clock {
    ($($t:ty),*) => {
        $(impl $crate::accel::testbench::HasClock for $t {
            fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
        })*
    };
}

has_clock!(
    super::loader::Loader,
    super::result_walk::ResultWalk,
    super::storer::Storer,
    super::job_plan::JobPlan,
    super::sequencer::Sequencer,
    super::operand_buffers::OperandBuffers,
    crate::output::OutputUnit,
    crate::decode::FormatDecode,
    crate::decode::LaneDecode,
    crate::pe::MacFixed8,
    crate::axi::issue::BurstIssue,
    crate::baseline::Mac16
);

impl<const LW: usize, const ACC_W: usize> HasClock for super::systolic_array::SystolicArray<LW, ACC_W> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<const WB: usize, const NB: usize, const FW: usize> HasClock for crate::decode::FixedDecode<WB, NB, FW> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<const P: usize, const T: usize, const A: usize> HasClock for crate::pe::Dequant<P, T, A> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<
        const WB: usize,
        const NB: usize,
        const FW: usize,
        const PW: usize,
        const NPW: usize,
        const SW: usize,
        const ACC_W: usize,
        const P: usize,
        const T: usize,
        const A: usize,
    > HasClock for crate::pe::GenericBlockMac<WB, NB, FW, PW, NPW, SW, ACC_W, P, T, A>
{
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<const ACC_W: usize> HasClock for crate::pe::BitSerialMac<ACC_W> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<D: Synth + std::ops::Not<Output = D>> HasClock for super::bank_ram::BankRam<D> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

impl<const ACC_W: usize> HasClock for super::result_delay::ResultDelay<ACC_W> {
    fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
