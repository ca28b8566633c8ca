//! A PE instance that refers to the one emitted MAC-pipe module instead of repeating it.
//!
//! rust-hdl emits one Verilog module per instance, so an R×C array of
//! [`crate::pe::Mac`] would carry R×C copies of it. [`PeSlot`] has the MAC pipe's ports and
//! emits only an instantiation of module [`PE_MODULE`]; [`crate::emit`] appends that module's
//! own Verilog once per top that uses slots.

use crate::decode::LANE_WORD_BITS;
use crate::pe::ACC_WIDTH;
use rust_hdl::prelude::*;

/// Verilog module name the slots instantiate.
pub const PE_MODULE: &str = "pe_mac";

/// An instance of module [`PE_MODULE`] (see the module docs); ports as [`crate::pe::Mac`].
#[derive(LogicBlock, Default)]
pub struct PeSlot {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset.
    pub reset: Signal<In, Bit>,
    /// Decoded activation word.
    pub a: Signal<In, Bits<LANE_WORD_BITS>>,
    /// Decoded weight word.
    pub w: Signal<In, Bits<LANE_WORD_BITS>>,
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
    pub acc: Signal<Out, Bits<ACC_WIDTH>>,
    /// Sticky NaN.
    pub nan: Signal<Out, Bit>,
    /// Sticky +Inf.
    pub pinf: Signal<Out, Bit>,
    /// Sticky −Inf.
    pub ninf: Signal<Out, Bit>,
}

/// The slot's ports, in the order of the instantiation.
const PORTS: [&str; 13] = [
    "clock", "reset", "a", "w", "ok", "lanes4", "lanes2", "valid", "clear", "acc", "nan", "pinf", "ninf",
];

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
        let ports: Vec<String> = PORTS.iter().map(|p| format!(".{p}({p})")).collect();
        Verilog::Wrapper(Wrapper {
            code: format!("{PE_MODULE} u_pe({});", ports.join(", ")),
            cores: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::parse_ports;

    /// The slot instantiates the MAC-pipe module with every one of its ports, by name, and the
    /// module appended by the emitter has exactly the slot's ports and widths.
    #[test]
    fn the_slot_matches_the_mac_module_port_for_port() {
        let Verilog::Wrapper(w) = PeSlot::default().hdl() else {
            panic!("wrapper expected")
        };
        assert!(w.code.starts_with(&format!("{PE_MODULE} u_pe(")), "{}", w.code);
        let mac = crate::emit::mac_verilog();
        let ports = parse_ports(&mac, PE_MODULE).expect("MAC ports");
        assert_eq!(ports.len(), PORTS.len());
        for p in &ports {
            assert!(
                w.code.contains(&format!(".{0}({0})", p.name)),
                "port {} not connected",
                p.name
            );
            let width = match p.name.as_str() {
                "acc" => ACC_WIDTH,
                "a" | "w" => LANE_WORD_BITS,
                _ => 1,
            };
            assert_eq!(p.width as usize, width, "port {}", p.name);
        }
    }
}
