//! The stand-alone fixed-point PE: lane mode and fixed-point lane decoders (one register
//! stage) → input register → fixed-point MAC pipe; the same path as [`super::GenericPe`] for a
//! format set with a [`FixedPoint`] datapath, and the same ports (the accumulator is narrower).
//! A beat presented before clock edge `t` is in `acc` after edge `t + FIXED_PE_LATENCY - 1`.

use super::fixed_mac::{FixedGeometry, GenericFixedMac, FIXED_MAC_LATENCY};
use crate::decode::format_decode::{CODE_BITS, FMT_BITS};
use crate::decode::{FixedDecode, LaneMode, DECODE_LATENCY};
use crate::spec::{FixedPoint, Format};
use rust_hdl::prelude::*;

/// Clock ticks from presenting a beat to seeing it in `acc`.
pub const FIXED_PE_LATENCY: usize = DECODE_LATENCY + 1 + FIXED_MAC_LATENCY;

/// The fixed-point PE (see the module docs), with the widths of its [`FixedGeometry`] as
/// parameters (those of [`GenericFixedMac`]).
#[derive(LogicBlock)]
pub struct GenericFixedPe<
    const WB: usize,
    const NB: usize,
    const FW: usize,
    const PW: usize,
    const NPW: usize,
    const SW: usize,
    const ACC_W: usize,
> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: empties the pipeline, zeroes the accumulator and flags.
    pub reset: Signal<In, Bit>,
    /// Activation format id.
    pub a_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Weight format id.
    pub w_fmt: Signal<In, Bits<FMT_BITS>>,
    /// Activation codes, lane-packed.
    pub a: Signal<In, Bits<CODE_BITS>>,
    /// Weight codes, lane-packed.
    pub w: Signal<In, Bits<CODE_BITS>>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Start a new dot product (with `valid`: the sum restarts at this beat).
    pub clear: Signal<In, Bit>,
    /// The exact sum, two's complement, bit 0 weighing `2^acc.lsb` of the set's accumulator.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky: a NaN/NaR operand or a format outside the set was seen.
    pub nan: Signal<Out, Bit>,
    /// Always low (the set has no infinities).
    pub pinf: Signal<Out, Bit>,
    /// Always low.
    pub ninf: Signal<Out, Bit>,
    mode: LaneMode,
    da: FixedDecode<WB, NB, FW>,
    dw: FixedDecode<WB, NB, FW>,
    ok_d: DFF<Bit>,
    l4_d: DFF<Bit>,
    l2_d: DFF<Bit>,
    valid_d: DFF<Bit>,
    clear_d: DFF<Bit>,
    a_q: DFF<Bits<FW>>,
    w_q: DFF<Bits<FW>>,
    ok_q: DFF<Bit>,
    l4_q: DFF<Bit>,
    l2_q: DFF<Bit>,
    valid_q: DFF<Bit>,
    clear_q: DFF<Bit>,
    mac: GenericFixedMac<WB, NB, FW, PW, NPW, SW, ACC_W>,
}

impl<
        const WB: usize,
        const NB: usize,
        const FW: usize,
        const PW: usize,
        const NPW: usize,
        const SW: usize,
        const ACC_W: usize,
    > GenericFixedPe<WB, NB, FW, PW, NPW, SW, ACC_W>
{
    /// The PE for `formats`; panics unless they have a fixed-point datapath whose geometry
    /// has the type's widths.
    pub fn with_formats(formats: &[Format]) -> Self {
        let fx = FixedPoint::for_formats(formats).expect("a fixed-point format set");
        assert_eq!(FixedGeometry::of(fx).widths(), (WB, NB, FW, PW, NPW, SW, ACC_W));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            a: Default::default(),
            w: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            mode: LaneMode::with_formats(formats),
            da: FixedDecode::new(formats, fx),
            dw: FixedDecode::new(formats, fx),
            ok_d: Default::default(),
            l4_d: Default::default(),
            l2_d: Default::default(),
            valid_d: Default::default(),
            clear_d: Default::default(),
            a_q: Default::default(),
            w_q: Default::default(),
            ok_q: Default::default(),
            l4_q: Default::default(),
            l2_q: Default::default(),
            valid_q: Default::default(),
            clear_q: Default::default(),
            mac: GenericFixedMac::for_fixed(fx),
        }
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
    > Logic for GenericFixedPe<WB, NB, FW, PW, NPW, SW, ACC_W>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ok_d, l4_d, l2_d, valid_d, clear_d, a_q, w_q, ok_q, l4_q, l2_q, valid_q, clear_q);
        self.da.clock.next = self.clock.val();
        self.dw.clock.next = self.clock.val();
        self.mac.clock.next = self.clock.val();
        self.mac.reset.next = self.reset.val();

        self.mode.a_fmt.next = self.a_fmt.val();
        self.mode.w_fmt.next = self.w_fmt.val();
        self.da.fmt.next = self.a_fmt.val();
        self.da.code.next = self.a.val();
        self.da.lanes4.next = self.mode.lanes4.val();
        self.da.lanes2.next = self.mode.lanes2.val();
        self.dw.fmt.next = self.w_fmt.val();
        self.dw.code.next = self.w.val();
        self.dw.lanes4.next = self.mode.lanes4.val();
        self.dw.lanes2.next = self.mode.lanes2.val();

        self.ok_d.d.next = self.mode.ok.val();
        self.l4_d.d.next = self.mode.lanes4.val();
        self.l2_d.d.next = self.mode.lanes2.val();
        self.valid_d.d.next = self.valid.val();
        self.clear_d.d.next = self.clear.val();
        self.a_q.d.next = self.da.word.val();
        self.w_q.d.next = self.dw.word.val();
        self.ok_q.d.next = self.ok_d.q.val();
        self.l4_q.d.next = self.l4_d.q.val();
        self.l2_q.d.next = self.l2_d.q.val();
        self.valid_q.d.next = self.valid_d.q.val();
        self.clear_q.d.next = self.clear_d.q.val();
        if self.reset.val() {
            self.valid_d.d.next = false;
            self.clear_d.d.next = false;
            self.valid_q.d.next = false;
            self.clear_q.d.next = false;
        }

        self.mac.a.next = self.a_q.q.val();
        self.mac.w.next = self.w_q.q.val();
        self.mac.ok.next = self.ok_q.q.val();
        self.mac.lanes4.next = self.l4_q.q.val();
        self.mac.lanes2.next = self.l2_q.q.val();
        self.mac.valid.next = self.valid_q.q.val();
        self.mac.clear.next = self.clear_q.q.val();
        self.acc.next = self.mac.acc.val();
        self.nan.next = self.mac.nan.val();
        self.pinf.next = self.mac.pinf.val();
        self.ninf.next = self.mac.ninf.val();
    }
}
