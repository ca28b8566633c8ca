//! Instances that refer to one emitted module instead of repeating it.
//!
//! rust-hdl emits one Verilog module per instance, so an R×C array of MAC pipes would carry
//! R×C copies of it (and its R + C edge decoders and C output units as many copies of theirs).
//! A slot has the ports of the block it stands for and emits only an instantiation of the
//! block's module, by name; [`crate::emit::emit_with_modules`] appends each module's own
//! Verilog once per top ([`super::Datapath::modules`]).
//!
//! Slots are only ever simulated as Verilog (Verilator): rust-hdl's own simulator sees their
//! outputs hold whatever was last written to them.

use crate::decode::format_decode::{CODE_BITS, FMT_BITS};
use crate::output::SCALE_BITS;
use crate::pe::DEQUANT_LEN_BITS;
use crate::spec::block_scale::{SCALE_Q_BITS, SCALE_SHIFT_BITS};
use rust_hdl::prelude::*;

/// The instantiation of `module` with `ports` connected by name.
fn instance(module: &str, ports: &[&str]) -> Verilog {
    let ports: Vec<String> = ports.iter().map(|p| format!(".{p}({p})")).collect();
    Verilog::Wrapper(Wrapper {
        code: format!("{module} u_{module}({});", ports.join(", ")),
        cores: String::new(),
    })
}

/// A PE's MAC pipe ([`crate::pe::GenericMac`] or [`crate::pe::GenericFixedMac`]: both have
/// these ports), on decoded words of `LW` bits into an `ACC_W`-bit accumulator.
#[derive(LogicBlock)]
pub struct PeSlot<const LW: usize, const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Decoded activation word.
    pub a: Signal<In, Bits<LW>>,
    /// Decoded weight word.
    pub w: Signal<In, Bits<LW>>,
    /// The format pair is a multiplier pair.
    pub ok: Signal<In, Bit>,
    /// Four lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// Start a new dot product with this beat.
    pub clear: Signal<In, Bit>,
    /// The exact sum.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky NaN.
    pub nan: Signal<Out, Bit>,
    /// Sticky +Inf.
    pub pinf: Signal<Out, Bit>,
    /// Sticky −Inf.
    pub ninf: Signal<Out, Bit>,
    _module: &'static str,
}

/// [`PeSlot`]'s ports, in the order of the instantiation.
pub const PE_PORTS: [&str; 13] = [
    "clock", "reset", "a", "w", "ok", "lanes4", "lanes2", "valid", "clear", "acc", "nan", "pinf", "ninf",
];

impl<const LW: usize, const ACC_W: usize> PeSlot<LW, ACC_W> {
    /// An instance of `module`.
    pub fn new(module: &'static str) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a: Default::default(),
            w: Default::default(),
            ok: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            _module: module,
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for PeSlot<LW, ACC_W> {
    fn update(&mut self) {}

    fn connect(&mut self) {
        self.acc.connect();
        self.nan.connect();
        self.pinf.connect();
        self.ninf.connect();
    }

    fn hdl(&self) -> Verilog {
        instance(self._module, &PE_PORTS)
    }
}

/// A block-scaled PE ([`crate::pe::GenericBlockMac`]): the MAC pipe's ports, the block's end
/// and scale, and the tile's result flags in place of the infinities the set does not have.
#[derive(LogicBlock)]
pub struct BlockPeSlot<const LW: usize, const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Decoded activation word.
    pub a: Signal<In, Bits<LW>>,
    /// Decoded weight word.
    pub w: Signal<In, Bits<LW>>,
    /// The format pair is a multiplier pair.
    pub ok: Signal<In, Bit>,
    /// Four lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// Accumulate this beat.
    pub valid: Signal<In, Bit>,
    /// The tile's first beat.
    pub clear: Signal<In, Bit>,
    /// The block's last beat.
    pub bend: Signal<In, Bit>,
    /// The tile's last beat.
    pub last: Signal<In, Bit>,
    /// The block's integer scale.
    pub q: Signal<In, Bits<SCALE_Q_BITS>>,
    /// Its bits to take.
    pub len: Signal<In, Bits<DEQUANT_LEN_BITS>>,
    /// Negative scale.
    pub neg: Signal<In, Bit>,
    /// NaN scale.
    pub snan: Signal<In, Bit>,
    /// The scale's shift.
    pub shift: Signal<In, Bits<SCALE_SHIFT_BITS>>,
    /// The tile's exact sum of scaled blocks.
    pub acc: Signal<Out, Bits<ACC_W>>,
    /// Sticky NaN.
    pub nan: Signal<Out, Bit>,
    /// `acc` holds the tile's result.
    pub done: Signal<Out, Bit>,
    /// Sticky: a block was too short to be scaled in time.
    pub overrun: Signal<Out, Bit>,
    _module: &'static str,
}

/// [`BlockPeSlot`]'s ports, in the order of the instantiation.
pub const BLOCK_PE_PORTS: [&str; 20] = [
    "clock", "reset", "a", "w", "ok", "lanes4", "lanes2", "valid", "clear", "bend", "last", "q", "len", "neg", "snan",
    "shift", "acc", "nan", "done", "overrun",
];

impl<const LW: usize, const ACC_W: usize> BlockPeSlot<LW, ACC_W> {
    /// An instance of `module`.
    pub fn new(module: &'static str) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a: Default::default(),
            w: Default::default(),
            ok: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            bend: Default::default(),
            last: Default::default(),
            q: Default::default(),
            len: Default::default(),
            neg: Default::default(),
            snan: Default::default(),
            shift: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            done: Default::default(),
            overrun: Default::default(),
            _module: module,
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for BlockPeSlot<LW, ACC_W> {
    fn update(&mut self) {}

    fn connect(&mut self) {
        self.acc.connect();
        self.nan.connect();
        self.done.connect();
        self.overrun.connect();
    }

    fn hdl(&self) -> Verilog {
        instance(self._module, &BLOCK_PE_PORTS)
    }
}

/// An edge decoder ([`crate::decode::LaneDecode`] or [`crate::decode::FixedDecode`]: both have
/// these ports and one register stage, [`crate::decode::DECODE_LATENCY`]), into `LW`-bit words.
#[derive(LogicBlock)]
pub struct DecodeSlot<const LW: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Format id.
    pub fmt: Signal<In, Bits<FMT_BITS>>,
    /// The operand word (one to four codes).
    pub code: Signal<In, Bits<CODE_BITS>>,
    /// Four lanes.
    pub lanes4: Signal<In, Bit>,
    /// Two lanes.
    pub lanes2: Signal<In, Bit>,
    /// The decoded word, registered.
    pub word: Signal<Out, Bits<LW>>,
    _module: &'static str,
}

/// [`DecodeSlot`]'s ports, in the order of the instantiation.
pub const DECODE_PORTS: [&str; 6] = ["clock", "fmt", "code", "lanes4", "lanes2", "word"];

impl<const LW: usize> DecodeSlot<LW> {
    /// An instance of `module`.
    pub fn new(module: &'static str) -> Self {
        Self {
            clock: Default::default(),
            fmt: Default::default(),
            code: Default::default(),
            lanes4: Default::default(),
            lanes2: Default::default(),
            word: Default::default(),
            _module: module,
        }
    }
}

impl<const LW: usize> Logic for DecodeSlot<LW> {
    fn update(&mut self) {}

    fn connect(&mut self) {
        self.word.connect();
    }

    fn hdl(&self) -> Verilog {
        instance(self._module, &DECODE_PORTS)
    }
}

/// An output unit ([`crate::output::GenericOutputUnit`]) for an `ACC_W`-bit accumulator.
#[derive(LogicBlock)]
pub struct OutputUnitSlot<const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// An accumulator is presented.
    pub valid: Signal<In, Bit>,
    /// The accumulator.
    pub acc: Signal<In, Bits<ACC_W>>,
    /// Sticky NaN of the PE.
    pub nan: Signal<In, Bit>,
    /// Sticky +Inf.
    pub pinf: Signal<In, Bit>,
    /// Sticky −Inf.
    pub ninf: Signal<In, Bit>,
    /// Output format id.
    pub out_fmt: Signal<In, Bits<3>>,
    /// Power-of-two scale.
    pub scale_exp: Signal<In, Bits<SCALE_BITS>>,
    /// `result` holds a rounded value.
    pub out_valid: Signal<Out, Bit>,
    /// The output code.
    pub result: Signal<Out, Bits<32>>,
    _module: &'static str,
}

/// [`OutputUnitSlot`]'s ports, in the order of the instantiation.
pub const OUTPUT_UNIT_PORTS: [&str; 11] = [
    "clock",
    "reset",
    "valid",
    "acc",
    "nan",
    "pinf",
    "ninf",
    "out_fmt",
    "scale_exp",
    "out_valid",
    "result",
];

impl<const ACC_W: usize> OutputUnitSlot<ACC_W> {
    /// An instance of `module`.
    pub fn new(module: &'static str) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            out_fmt: Default::default(),
            scale_exp: Default::default(),
            out_valid: Default::default(),
            result: Default::default(),
            _module: module,
        }
    }
}

impl<const ACC_W: usize> Logic for OutputUnitSlot<ACC_W> {
    fn update(&mut self) {}

    fn connect(&mut self) {
        self.out_valid.connect();
        self.result.connect();
    }

    fn hdl(&self) -> Verilog {
        instance(self._module, &OUTPUT_UNIT_PORTS)
    }
}
