//! The DMA engines' command and data ports as bundles, written once for every block that
//! issues commands or moves beats: each bundle as its driver sees it, with its mirror for the
//! other side (join the two with `<Bundle>::join`, hand one down to a sub-block with `link`).
//!
//! | bundle | driven by | mirror, taken by |
//! |---|---|---|
//! | [`DmaCmd`] | the loader / the storer (through the core) | [`DmaCmdIn`]: the read / write DMA |
//! | [`ReadBeat`] | the read DMA | [`ReadBeatIn`]: the core, the operand buffers |
//! | [`WriteBeat`] | the core (the storer's handshake, the output stage's data) | [`WriteBeatIn`]: the write DMA |

use crate::spec::axi::RESP_BITS;
use crate::spec::config::AXI_DATA_BITS;
use rust_hdl::prelude::*;

/// AXI data width as a type-level width.
pub const BUS: usize = AXI_DATA_BITS as usize;

/// A DMA command and its end, as the engine that issues it sees them.
#[derive(LogicInterface, Default)]
#[join = "DmaCmdIn"]
pub struct DmaCmd {
    /// A command is offered.
    pub valid: Signal<Out, Bit>,
    /// The DMA is idle: a command offered now is accepted at the next edge.
    pub ready: Signal<In, Bit>,
    /// Byte address of the first beat (beat-aligned; the low bits are ignored).
    pub addr: Signal<Out, Bits<32>>,
    /// Beats to move (0 completes at once without a bus access).
    pub beats: Signal<Out, Bits<16>>,
    /// One-cycle pulse: the command ended.
    pub done: Signal<In, Bit>,
    /// With `done`: the first error response ([`AxiResp`](crate::spec::AxiResp)), else OKAY.
    pub err: Signal<In, Bits<RESP_BITS>>,
}

/// A DMA command and its end, as the DMA sees them (the mirror of [`DmaCmd`]).
#[derive(LogicInterface, Default)]
#[join = "DmaCmd"]
pub struct DmaCmdIn {
    /// See [`DmaCmd::valid`].
    pub valid: Signal<In, Bit>,
    /// See [`DmaCmd::ready`].
    pub ready: Signal<Out, Bit>,
    /// See [`DmaCmd::addr`].
    pub addr: Signal<In, Bits<32>>,
    /// See [`DmaCmd::beats`].
    pub beats: Signal<In, Bits<16>>,
    /// See [`DmaCmd::done`].
    pub done: Signal<Out, Bit>,
    /// See [`DmaCmd::err`].
    pub err: Signal<Out, Bits<RESP_BITS>>,
}

/// Read data, as the read DMA drives it (the consumer always accepts).
#[derive(LogicInterface, Default)]
#[join = "ReadBeatIn"]
pub struct ReadBeat {
    /// A data beat.
    pub valid: Signal<Out, Bit>,
    /// The beat.
    pub data: Signal<Out, Bits<BUS>>,
    /// The command's last beat.
    pub last: Signal<Out, Bit>,
}

/// Read data, as its consumer takes it (the mirror of [`ReadBeat`]).
#[derive(LogicInterface, Default)]
#[join = "ReadBeat"]
pub struct ReadBeatIn {
    /// See [`ReadBeat::valid`].
    pub valid: Signal<In, Bit>,
    /// See [`ReadBeat::data`].
    pub data: Signal<In, Bits<BUS>>,
    /// See [`ReadBeat::last`].
    pub last: Signal<In, Bit>,
}

/// Write data, as its producer drives it.
#[derive(LogicInterface, Default)]
#[join = "WriteBeatIn"]
pub struct WriteBeat {
    /// A beat is offered.
    pub valid: Signal<Out, Bit>,
    /// The write DMA takes it at the next edge.
    pub ready: Signal<In, Bit>,
    /// The beat.
    pub data: Signal<Out, Bits<BUS>>,
}

/// Write data, as the write DMA takes it (the mirror of [`WriteBeat`]).
#[derive(LogicInterface, Default)]
#[join = "WriteBeat"]
pub struct WriteBeatIn {
    /// See [`WriteBeat::valid`].
    pub valid: Signal<In, Bit>,
    /// See [`WriteBeat::ready`].
    pub ready: Signal<Out, Bit>,
    /// See [`WriteBeat::data`].
    pub data: Signal<In, Bits<BUS>>,
}
