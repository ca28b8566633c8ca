//! A buffer bank whose depth is chosen at construction: the buffer sizes of [`NpeConfig`] are
//! values, not types, so a bank cannot be rust-hdl's `RAM<D, N>` (depth 2^N fixed by the type).
//!
//! Addresses are [`BANK_ADDR_BITS`] wide; a bank of 2^k words uses their low k bits (the rest
//! are zero by construction). Like `RAM`, reads are registered: `read_data` shows the word at
//! the address of the previous cycle.
//!
//! **A read of the word written in the same cycle is undefined**, as it is in the ECP5's block
//! RAM (DP16KD) when its two ports meet. Giving it the old word would cost a bypass per bank
//! (Yosys emulates it with a register of the write data and a multiplexer on the read data: in
//! npe8x8le8 about 2.9 k LUT4 and 5.2 k flip-flops for 32 banks, and the multiplexer sat on the
//! top's critical path). The engines never use such a read: a half is read only while its
//! owner holds it, and written only while nobody reads it. Simulation makes sure of it: the
//! Rust model and the simulated Verilog return the old word inverted, so a test that used one
//! would fail; synthesis (`SYNTHESIS`, which Yosys defines) sees the plain RAM, marked
//! `no_rw_check`.
//!
//! [`NpeConfig`]: crate::spec::NpeConfig

use std::ops::Not;

use rust_hdl::prelude::*;

/// Width of every bank address port (the largest bank a config can ask for: 2^16 words).
pub const BANK_ADDR_BITS: usize = 16;

/// A single-clock bank of `depth` words of type `D` (see the module docs).
#[derive(LogicBlock)]
pub struct BankRam<D: Synth + Not<Output = D>> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Read address (low `addr_bits` used).
    pub read_address: Signal<In, Bits<BANK_ADDR_BITS>>,
    /// The word at the previous cycle's read address.
    pub read_data: Signal<Out, D>,
    /// Write address (low `addr_bits` used).
    pub write_address: Signal<In, Bits<BANK_ADDR_BITS>>,
    /// Write data.
    pub write_data: Signal<In, D>,
    /// Write this cycle.
    pub write_enable: Signal<In, Bit>,
    _addr_bits: usize,
    _mem: Vec<D>,
}

impl<D: Synth + Not<Output = D>> BankRam<D> {
    /// A bank of 2^`addr_bits` words.
    pub fn new(addr_bits: usize) -> Self {
        assert!(
            (1..=BANK_ADDR_BITS).contains(&addr_bits),
            "bank address bits {addr_bits}"
        );
        Self {
            clock: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _addr_bits: addr_bits,
            _mem: vec![D::default(); 1 << addr_bits],
        }
    }

    /// Words in the bank.
    pub fn depth(&self) -> usize {
        self._mem.len()
    }
}

impl<D: Synth + Not<Output = D>> Logic for BankRam<D> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let mask = self._mem.len() - 1;
            let (ra, wa) = (
                self.read_address.val().index() & mask,
                self.write_address.val().index() & mask,
            );
            self.read_data.next = self._mem[ra];
            if self.write_enable.val() && ra == wa {
                // Undefined in the block RAM: poisoned (see the module docs).
                self.read_data.next = !self._mem[ra];
            }
            if self.write_enable.val() {
                self._mem[self.write_address.val().index() & mask] = self.write_data.val();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let k = self._addr_bits;
        // Verilator's lint does not report signals named `unused*`: the high address bits are
        // zero by construction.
        let unused = if k < BANK_ADDR_BITS {
            format!(
                "wire unused_addr_hi = ^{{read_address[{hi}:{k}], write_address[{hi}:{k}]}};\n",
                hi = BANK_ADDR_BITS - 1
            )
        } else {
            String::new()
        };
        Verilog::Custom(format!(
            "\
// A read of the word being written is undefined (see BankRam's docs): no bypass in synthesis,
// a poisoned word in simulation.
(* no_rw_check *) reg [{msb}:0] mem [0:{last}];
{unused}
always @(posedge clock) begin
`ifdef SYNTHESIS
   read_data <= mem[read_address[{amsb}:0]];
`else
   if (write_enable && read_address[{amsb}:0] == write_address[{amsb}:0]) begin
      read_data <= ~mem[read_address[{amsb}:0]];
   end else begin
      read_data <= mem[read_address[{amsb}:0]];
   end
`endif
   if (write_enable) begin
      mem[write_address[{amsb}:0]] <= write_data;
   end
end
",
            msb = D::BITS - 1,
            last = (1usize << k) - 1,
            amsb = k - 1,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::cycle;

    #[test]
    fn reads_are_registered_and_wrap_at_the_depth() {
        let mut r = BankRam::<Bits<8>>::new(3);
        assert_eq!(r.depth(), 8);
        r.connect_all();
        for a in 0..8u64 {
            r.write_address.next = bits(a);
            r.write_data.next = bits(10 + a);
            r.write_enable.next = true;
            cycle(&mut r);
        }
        r.write_enable.next = false;
        // Address 9 is word 1 of an 8-word bank (the high bits are not used).
        for (a, want) in [(2u64, 12u64), (9, 11), (7, 17)] {
            r.read_address.next = bits(a);
            cycle(&mut r);
            assert_eq!(r.read_data.val().to_u64(), want);
        }
        // A write and a read of one word in the same cycle: undefined, poisoned (the old word
        // inverted); the write happens.
        r.write_address.next = bits(7);
        r.write_data.next = bits(99);
        r.write_enable.next = true;
        cycle(&mut r);
        assert_eq!(r.read_data.val().to_u64(), !17u64 & 0xff);
        r.write_enable.next = false;
        cycle(&mut r);
        assert_eq!(r.read_data.val().to_u64(), 99);
    }

    #[test]
    fn verilog_declares_the_depth() {
        let v = BankRam::<Bits<32>>::new(9).hdl();
        let Verilog::Custom(text) = v else {
            panic!("custom Verilog expected")
        };
        assert!(text.contains("(* no_rw_check *) reg [31:0] mem [0:511];"), "{text}");
        assert!(text.contains("`ifdef SYNTHESIS"), "{text}");
        assert!(
            text.contains("read_address[8:0]") && text.contains("unused_addr_hi"),
            "{text}"
        );
    }
}
