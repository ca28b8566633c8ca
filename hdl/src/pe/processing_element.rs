//! The stand-alone PE: lane mode and lane decoders (one register stage) → input register →
//! MAC pipe.
//!
//! In the array the decoders sit at the edge, one per row and column, and the systolic
//! registers carry decoded words to the [`GenericMac`]s; this block is the same path for one
//! PE: the decoders work on the ports, the input register plays the systolic register, and the
//! MAC pipe follows. A beat presented before clock edge `t` is in `acc` after edge
//! `t + PE_LATENCY - 1`, i.e. readable after [`PE_LATENCY`] ticks.
//!
//! Lanes: the wider operand format decides (16-bit: 1 lane, 5–8-bit: 2, ≤ 4-bit: 4); lane `l`'s
//! code sits at bit `l × (16 / lanes)` of its port, right-aligned in its slot.
//! NaN/NaR operands, Inf × 0 and operand formats that are not multiplier formats (E8M0, unknown
//! ids) raise the sticky `nan` flag and add nothing; Inf products raise `pinf` / `ninf`.

use super::{GenericMac, PeGeometry, MAC_LATENCY, SHARED};
use crate::decode::format_decode::{CODE_BITS, FMT_BITS};
use crate::decode::{LaneDecode, LaneMode, DECODE_LATENCY, LANE_WORD_BITS};
use crate::spec::Format;
use rust_hdl::prelude::*;

/// Clock ticks from presenting a beat to seeing it in `acc`: the decoders' register stage,
/// the input register, then the MAC pipe.
pub const PE_LATENCY: usize = DECODE_LATENCY + 1 + MAC_LATENCY;
// The lane mode and the beat's flags wait out the decoders in one register stage (`*_d`).
const _: () = assert!(DECODE_LATENCY == 1);

/// The shared PE: every multiplier format of the table.
pub type Pe = crate::pe_type!(GenericPe, SHARED);

/// The precision-scalable SIMD MAC processing element for a set of formats, with the widths of
/// its [`PeGeometry`] as parameters (those of [`GenericMac`]). [`Pe`] carries every format; the area report builds single-format PEs
/// from the same code (see [`crate::baseline`]).
#[derive(LogicBlock)]
pub struct GenericPe<
    const ACC_W: usize,
    const WIN: usize,
    const W0: usize,
    const W1: usize,
    const W23: usize,
    const NW: usize,
    const S23: usize,
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
    /// The exact sum, two's complement, bit 0 weighing `2^ACC.lsb`.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky: a NaN/NaR operand, Inf × 0, or a non-multiplier format was seen.
    pub nan: Signal<Out, Bit>,
    /// Sticky: a +Inf product was seen.
    pub pinf: Signal<Out, Bit>,
    /// Sticky: a −Inf product was seen.
    pub ninf: Signal<Out, Bit>,
    mode: LaneMode,
    da: LaneDecode,
    dw: LaneDecode,
    ok_d: DFF<Bit>,
    l4_d: DFF<Bit>,
    l2_d: DFF<Bit>,
    valid_d: DFF<Bit>,
    clear_d: DFF<Bit>,
    a_q: DFF<Bits<LANE_WORD_BITS>>,
    w_q: DFF<Bits<LANE_WORD_BITS>>,
    ok_q: DFF<Bit>,
    l4_q: DFF<Bit>,
    l2_q: DFF<Bit>,
    valid_q: DFF<Bit>,
    clear_q: DFF<Bit>,
    mac: GenericMac<ACC_W, WIN, W0, W1, W23, NW, S23>,
}

impl Default for Pe {
    fn default() -> Self {
        Self::new()
    }
}

impl Pe {
    /// The PE for every multiplier format of the table.
    pub fn new() -> Self {
        Self::with_formats(&Format::ALL)
    }
}

impl<
        const ACC_W: usize,
        const WIN: usize,
        const W0: usize,
        const W1: usize,
        const W23: usize,
        const NW: usize,
        const S23: usize,
    > GenericPe<ACC_W, WIN, W0, W1, W23, NW, S23>
{
    /// The PE for the multiplier formats of `formats` (the others are rejected like unknown
    /// ids). Panics unless the parameters are `PeGeometry::for_formats(formats)`'s widths.
    pub fn with_formats(formats: &[Format]) -> Self {
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
            da: LaneDecode::with_formats(formats),
            dw: LaneDecode::with_formats(formats),
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
            mac: GenericMac::new(&PeGeometry::for_formats(formats)),
        }
    }
}

impl<
        const ACC_W: usize,
        const WIN: usize,
        const W0: usize,
        const W1: usize,
        const W23: usize,
        const NW: usize,
        const S23: usize,
    > Logic for GenericPe<ACC_W, WIN, W0, W1, W23, NW, S23>
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
