//! A PE instance that refers to the one emitted `pe` module instead of repeating it.
//!
//! rust-hdl emits one Verilog module per instance, so an R×C array of [`crate::pe::Pe`] would
//! carry R×C copies of the PE (and its eight decoders). [`PeSlot`] has the PE's ports and
//! emits only an instantiation of module `pe`; [`crate::emit`] appends the PE's own Verilog
//! once per top that uses slots ([`PE_MODULE`]).

use crate::decode::format_decode::{CODE_BITS, FMT_BITS};
use crate::pe::ACC_WIDTH;
use rust_hdl::prelude::*;

/// Verilog module name the slots instantiate.
pub const PE_MODULE: &str = "pe";

/// An instance of module `pe` (see the module docs); ports as [`crate::pe::Pe`].
#[derive(LogicBlock, Default)]
pub struct PeSlot {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
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
    /// Start a new dot product with this beat.
    pub clear: Signal<In, Bit>,
    /// The exact sum.
    pub acc: Signal<Out, Bits<ACC_WIDTH>>,
    /// Sticky NaN.
    pub nan: Signal<Out, Bit>,
    /// Sticky +Inf.
    pub pinf: Signal<Out, Bit>,
    /// Sticky −Inf.
    pub ninf: Signal<Out, Bit>,
}

impl Logic for PeSlot {
    // The slot is only ever simulated as Verilog (Verilator); rust-hdl's own simulator is not used.
    fn update(&mut self) {}

    fn connect(&mut self) {
        self.acc.connect();
        self.nan.connect();
        self.pinf.connect();
        self.ninf.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Wrapper(Wrapper {
            code: format!(
                "{PE_MODULE} u_pe(.clock(clock), .reset(reset), .a_fmt(a_fmt), .w_fmt(w_fmt), .a(a), .w(w), \
                 .valid(valid), .clear(clear), .acc(acc), .nan(nan), .pinf(pinf), .ninf(ninf));"
            ),
            cores: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::parse_ports;

    /// The slot instantiates module `pe` with every port of the real PE, by name, and the PE
    /// module appended by the emitter has exactly the slot's ports.
    #[test]
    fn the_slot_matches_the_pe_module_port_for_port() {
        let Verilog::Wrapper(w) = PeSlot::default().hdl() else {
            panic!("wrapper expected")
        };
        assert!(w.code.starts_with(&format!("{PE_MODULE} u_pe(")), "{}", w.code);
        let pe = crate::emit::pe_verilog();
        let ports = parse_ports(&pe, crate::emit::PE_TOP).expect("pe ports");
        assert_eq!(ports.len(), 12);
        for p in &ports {
            assert!(
                w.code.contains(&format!(".{0}({0})", p.name)),
                "port {} not connected",
                p.name
            );
        }
        // The PE's port widths are the slot's (the instance binds them without resizing).
        let mut probe = Vec::new();
        for p in &ports {
            let width = match p.name.as_str() {
                "acc" => ACC_WIDTH,
                "a" | "w" => CODE_BITS,
                "a_fmt" | "w_fmt" => FMT_BITS,
                _ => 1,
            };
            probe.push((p.name.clone(), p.width as usize == width));
        }
        assert!(probe.iter().all(|(_, ok)| *ok), "{probe:?}");
    }
}
