//! The job-register bundle: the registers START hands to the core
//! ([`JOB_REGISTERS`](crate::spec::regs::JOB_REGISTERS)), one 32-bit signal each, in table order.
//!
//! [`JobRegs`] is what the register file drives; [`JobRegsIn`] is its mirror for the blocks
//! that take the job: the top joins the register file's bundle to the core's
//! (`JobRegs::join`), the core hands its own to the job plan (`JobRegsIn::link`). A test checks
//! that the fields are the job registers of the table, by name and in order.

use rust_hdl::prelude::*;

/// The job registers, as driven by the register file.
#[derive(LogicInterface, Default)]
#[join = "JobRegsIn"]
pub struct JobRegs {
    /// Register M.
    pub m: Signal<Out, Bits<32>>,
    /// Register N.
    pub n: Signal<Out, Bits<32>>,
    /// Register K.
    pub k: Signal<Out, Bits<32>>,
    /// Register FMT.
    pub fmt: Signal<Out, Bits<32>>,
    /// Register A_ADDR.
    pub a_addr: Signal<Out, Bits<32>>,
    /// Register W_ADDR.
    pub w_addr: Signal<Out, Bits<32>>,
    /// Register C_ADDR.
    pub c_addr: Signal<Out, Bits<32>>,
    /// Register SCALE_ADDR.
    pub scale_addr: Signal<Out, Bits<32>>,
    /// Register A_STRIDE.
    pub a_stride: Signal<Out, Bits<32>>,
    /// Register W_STRIDE.
    pub w_stride: Signal<Out, Bits<32>>,
    /// Register C_STRIDE.
    pub c_stride: Signal<Out, Bits<32>>,
    /// Register BLOCK.
    pub block: Signal<Out, Bits<32>>,
    /// Register BS_ADDR.
    pub bs_addr: Signal<Out, Bits<32>>,
}

/// The job registers, as taken by the core and its job plan (the mirror of [`JobRegs`]).
#[derive(LogicInterface, Default)]
#[join = "JobRegs"]
pub struct JobRegsIn {
    /// Register M.
    pub m: Signal<In, Bits<32>>,
    /// Register N.
    pub n: Signal<In, Bits<32>>,
    /// Register K.
    pub k: Signal<In, Bits<32>>,
    /// Register FMT.
    pub fmt: Signal<In, Bits<32>>,
    /// Register A_ADDR.
    pub a_addr: Signal<In, Bits<32>>,
    /// Register W_ADDR.
    pub w_addr: Signal<In, Bits<32>>,
    /// Register C_ADDR.
    pub c_addr: Signal<In, Bits<32>>,
    /// Register SCALE_ADDR.
    pub scale_addr: Signal<In, Bits<32>>,
    /// Register A_STRIDE.
    pub a_stride: Signal<In, Bits<32>>,
    /// Register W_STRIDE.
    pub w_stride: Signal<In, Bits<32>>,
    /// Register C_STRIDE.
    pub c_stride: Signal<In, Bits<32>>,
    /// Register BLOCK.
    pub block: Signal<In, Bits<32>>,
    /// Register BS_ADDR.
    pub bs_addr: Signal<In, Bits<32>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::regs::JOB_REGISTERS;

    /// Collects the names of a bundle's signals.
    #[derive(Default)]
    struct Names(Vec<String>);

    impl Probe for Names {
        fn visit_atom(&mut self, name: &str, _signal: &dyn Atom) {
            self.0.push(name.to_uppercase());
        }
    }

    #[test]
    fn bundles_hold_the_job_registers_of_the_table() {
        let want: Vec<String> = JOB_REGISTERS.iter().map(|r| r.name.to_string()).collect();
        let mut out = Names::default();
        JobRegs::default().accept("job", &mut out);
        assert_eq!(out.0, want);
        let mut mirror = Names::default();
        JobRegsIn::default().accept("job", &mut mirror);
        assert_eq!(mirror.0, want);
    }
}
