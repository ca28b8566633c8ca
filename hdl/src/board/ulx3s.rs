//! The ULX3S board top (LFE5U-85F, CABGA381): the 25 MHz oscillator through the ECP5's PLL
//! (EHXPLLL) to [`CLOCK_HZ`], a reset from the FIRE1 button and the PLL's lock, the
//! [`BoardCore`] (UART bridge, accelerator, board memory) on the FTDI UART, and status LEDs.
//! Its ports are the board's pin names of `fpga/boards/ulx3s.lpf` (from the board's published
//! constraints, emard/ulx3s `doc/constraints/ulx3s_v20.lpf`).
//!
//! | LED | shows |
//! |---|---|
//! | `led[0]` | heartbeat: toggles every 2^25 design clocks (0.67 s at 50 MHz): the PLL's clock runs |
//! | `led[1]` | the PLL is locked |
//! | `led[2]` | the core is in reset (FIRE1 held, PLL not locked, or the reset stretch after it) |
//! | `led[3]` | UART traffic (either line low in the last 2^22 clocks) |
//! | `led[4]` | DMA traffic on the accelerator's AXI4 port in the last 2^22 clocks (a job runs) |
//! | `led[5]` | the accelerator's interrupt (a job ended, CTRL.IRQ_EN set) |
//! | `led[6]` | the board memory gave an error response since the last reset (a DMA address outside it) |
//! | `led[7]` | off |
//!
//! **Reset.** The request (FIRE1 pressed, or the PLL not locked) passes a two-flip-flop
//! synchronizer in the design clock's domain, and the core leaves reset 2^[`RESET_STRETCH_BITS`]
//! cycles after the request ends. The stretch counter starts at zero when the FPGA is
//! configured (ECP5 flip-flops start at their init value, 0), so the core is reset after
//! configuration even if the PLL locks before the synchronizer sees it unlocked.
//!
//! **The PLL** is the primitive itself, instantiated as a black box ([`Ecp5Pll`], rust-hdl's
//! [`Wrapper`]): Yosys' `synth_ecp5` knows EHXPLLL from its cell library, so the emitted Verilog
//! does not declare it; a lint or simulation of this top needs a model of it (the lint test
//! below adds a stub). Its dividers are computed from [`OSC_HZ`] and [`CLOCK_HZ`] ([`PllParams`]).

use super::board_core::{emit_for_datapath, BoardCore};
use crate::accel::datapath::{
    Datapath, BLOCK8_ACC, FIXED8_ACC, FIXED8_WORD, FIXED_OVP_ACC, FIXED_OVP_WORD, SHARED_ACC, SHARED_WORD,
};
use crate::decode::{const_bits, const_index, BitIndex};
use crate::emit::emit_with_modules;
use crate::spec::board::{CLKS_PER_BIT, CLOCK_HZ, OSC_HZ};
use crate::spec::config::NpeConfig;
use rust_hdl::prelude::*;

/// Module name of the ULX3S top in emitted Verilog (and the top Yosys synthesizes).
pub const ULX3S_TOP: &str = "ulx3s";

/// The preset the board top is built with unless told otherwise: the all-format 4×4, which
/// fits the LFE5U-85F beside the board memory (`fpga/reports/accel.md`).
pub const DEFAULT_PRESET: NpeConfig = NpeConfig::TEST;

/// The reset is held 2^this many design clocks after its request ends.
pub const RESET_STRETCH_BITS: usize = 4;

/// Heartbeat counter width: `led[0]` is its top bit.
const HEARTBEAT_BITS: usize = 26;

/// Activity LEDs stay on 2^this many clocks after the event (84 ms at 50 MHz).
const STRETCH_BITS: usize = 22;

/// EHXPLLL dividers for one output on CLKOP with CLKOP as feedback: f_out = f_in · CLKFB_DIV /
/// CLKI_DIV, and the VCO runs at f_out · CLKOP_DIV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PllParams {
    /// Reference divider (CLKI_DIV).
    pub clki_div: u32,
    /// Feedback divider (CLKFB_DIV).
    pub clkfb_div: u32,
    /// Output divider (CLKOP_DIV).
    pub clkop_div: u32,
}

impl PllParams {
    /// Lowest VCO frequency of the ECP5 PLL, Hz (the ECP5 family data sheet's f_VCO range).
    pub const VCO_MIN_HZ: u64 = 400_000_000;
    /// Highest VCO frequency, Hz.
    pub const VCO_MAX_HZ: u64 = 800_000_000;
    /// Lowest phase-detector (reference after CLKI_DIV) frequency, Hz.
    pub const PFD_MIN_HZ: u64 = 3_125_000;
    /// Highest phase-detector frequency, Hz.
    pub const PFD_MAX_HZ: u64 = 400_000_000;
    /// Largest value of each divider (7-bit fields, value − 1).
    pub const DIV_MAX: u32 = 128;

    /// Dividers that make exactly `out_hz` from `in_hz` within the ranges above, the VCO
    /// nearest the middle of its range (600 MHz, as Lattice's tools prefer); `None` if no
    /// exact setting exists.
    pub fn exact(in_hz: u32, out_hz: u32) -> Option<PllParams> {
        let (fin, fout) = (u64::from(in_hz), u64::from(out_hz));
        let mut best: Option<(u64, PllParams)> = None;
        for clki_div in 1..=Self::DIV_MAX {
            let pfd = fin / u64::from(clki_div);
            if fin % u64::from(clki_div) != 0 || !(Self::PFD_MIN_HZ..=Self::PFD_MAX_HZ).contains(&pfd) {
                continue;
            }
            // f_out = pfd · CLKFB_DIV exactly.
            if fout % pfd != 0 {
                continue;
            }
            let clkfb_div = fout / pfd;
            if !(1..=u64::from(Self::DIV_MAX)).contains(&clkfb_div) {
                continue;
            }
            for clkop_div in 1..=Self::DIV_MAX {
                let vco = fout * u64::from(clkop_div);
                if !(Self::VCO_MIN_HZ..=Self::VCO_MAX_HZ).contains(&vco) {
                    continue;
                }
                let p = PllParams {
                    clki_div,
                    clkfb_div: clkfb_div as u32,
                    clkop_div,
                };
                let dist = vco.abs_diff(600_000_000);
                if best.is_none_or(|(d, _)| dist < d) {
                    best = Some((dist, p));
                }
            }
        }
        best.map(|(_, p)| p)
    }

    /// CLKOP_CPHASE: the output's coarse phase at 0°, as Project Trellis' `ecppll` sets it.
    pub fn clkop_cphase(&self) -> u32 {
        (self.clkop_div - 1) / 2
    }
}

/// The ECP5 PLL (EHXPLLL) as a black box: CLKOP from CLKI, fed back from CLKOP. In rust-hdl's
/// simulator it passes the clock through and is always locked.
#[derive(LogicBlock)]
pub struct Ecp5Pll {
    /// Reference clock (the oscillator).
    pub clki: Signal<In, Clock>,
    /// Output clock.
    pub clkop: Signal<Out, Clock>,
    /// The PLL is locked.
    pub lock: Signal<Out, Bit>,
    _in_hz: u32,
    _out_hz: u32,
    _p: PllParams,
}

impl Ecp5Pll {
    /// A PLL making `out_hz` from `in_hz`; panics if no divider setting makes it exactly.
    pub fn new(in_hz: u32, out_hz: u32) -> Self {
        let p = PllParams::exact(in_hz, out_hz)
            .unwrap_or_else(|| panic!("the ECP5 PLL cannot make exactly {out_hz} Hz from {in_hz} Hz"));
        Self {
            clki: Default::default(),
            clkop: Default::default(),
            lock: Default::default(),
            _in_hz: in_hz,
            _out_hz: out_hz,
            _p: p,
        }
    }
}

/// MHz for the PLL's FREQUENCY_PIN attributes (nextpnr derives the output clock's constraint
/// from them).
fn mhz(hz: u32) -> String {
    let s = format!("{:.6}", f64::from(hz) / 1e6);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Logic for Ecp5Pll {
    fn update(&mut self) {
        self.clkop.next = self.clki.val();
        self.lock.next = true;
    }

    fn connect(&mut self) {
        self.clkop.connect();
        self.lock.connect();
    }

    fn hdl(&self) -> Verilog {
        let p = self._p;
        Verilog::Wrapper(Wrapper {
            code: format!(
                r#"
// CLKOP = CLKI * CLKFB_DIV / CLKI_DIV; VCO = CLKOP * CLKOP_DIV ({vco} MHz).
(* FREQUENCY_PIN_CLKI="{fin}" *)
(* FREQUENCY_PIN_CLKOP="{fout}" *)
(* ICP_CURRENT="12" *) (* LPF_RESISTOR="8" *) (* MFG_ENABLE_FILTEROPAMP="1" *) (* MFG_GMCREF_SEL="2" *)
EHXPLLL #(
    .PLLRST_ENA("DISABLED"),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .OUTDIVIDER_MUXA("DIVA"),
    .CLKI_DIV({clki}),
    .CLKFB_DIV({clkfb}),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV({clkop}),
    .CLKOP_CPHASE({cphase}),
    .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP")
) pll_i (
    .CLKI(clki),
    .CLKFB(clkop),
    .RST(1'b0),
    .STDBY(1'b0),
    .PHASESEL0(1'b0),
    .PHASESEL1(1'b0),
    .PHASEDIR(1'b1),
    .PHASESTEP(1'b1),
    .PHASELOADREG(1'b1),
    .PLLWAKESYNC(1'b0),
    .ENCLKOP(1'b0),
    .CLKOP(clkop),
    .LOCK(lock)
);
"#,
                fin = mhz(self._in_hz),
                fout = mhz(self._out_hz),
                vco = mhz(self._out_hz * p.clkop_div),
                clki = p.clki_div,
                clkfb = p.clkfb_div,
                clkop = p.clkop_div,
                cphase = p.clkop_cphase(),
            ),
            // synth_ecp5 brings EHXPLLL's declaration (its cell library).
            cores: String::new(),
        })
    }
}

/// The ULX3S top for the accelerator of `cfg` (see the module docs). Port names are the
/// board's pin names.
#[derive(LogicBlock)]
pub struct Ulx3s<const LW: usize, const ACC_W: usize> {
    /// The 25 MHz oscillator (pin G2).
    pub clk_25mhz: Signal<In, Clock>,
    /// FIRE1 (pin R1, pressed = 1): resets the core while held.
    pub btn_fire1: Signal<In, Bit>,
    /// The FTDI's TXD: the UART from the host (pin M1).
    pub ftdi_txd: Signal<In, Bit>,
    /// The FTDI's RXD: the UART to the host (pin L4).
    pub ftdi_rxd: Signal<Out, Bit>,
    /// The eight LEDs (module docs).
    pub led: Signal<Out, Bits<8>>,

    pll: Ecp5Pll,
    core: BoardCore<LW, ACC_W>,
    // Reset request synchronizer, stretch counter, the registered reset.
    rq1: DFF<Bit>,
    rq2: DFF<Bit>,
    rst_cnt: DFF<Bits<RESET_STRETCH_BITS>>,
    rst: DFF<Bit>,
    lock_q: DFF<Bit>,
    // LEDs.
    hb: DFF<Bits<HEARTBEAT_BITS>>,
    rx1: DFF<Bit>,
    rx2: DFF<Bit>,
    uart_on: DFF<Bits<STRETCH_BITS>>,
    dma_on: DFF<Bits<STRETCH_BITS>>,
    irq_q: DFF<Bit>,
    err_q: DFF<Bit>,
    leds: DFF<Bits<8>>,
    k_one_rst: Constant<Bits<RESET_STRETCH_BITS>>,
    k_one_hb: Constant<Bits<HEARTBEAT_BITS>>,
    k_one_st: Constant<Bits<STRETCH_BITS>>,
    k_full_st: Constant<Bits<STRETCH_BITS>>,
    k_hb_bit: Constant<BitIndex>,
    l0: Signal<Local, Bits<1>>,
    l1: Signal<Local, Bits<1>>,
    l2: Signal<Local, Bits<1>>,
    l3: Signal<Local, Bits<1>>,
    l4: Signal<Local, Bits<1>>,
    l5: Signal<Local, Bits<1>>,
    l6: Signal<Local, Bits<1>>,
    k_sh1: Constant<Bits<3>>,
    k_sh2: Constant<Bits<3>>,
    k_sh3: Constant<Bits<3>>,
    k_sh4: Constant<Bits<3>>,
    k_sh5: Constant<Bits<3>>,
    k_sh6: Constant<Bits<3>>,
}

impl<const LW: usize, const ACC_W: usize> Ulx3s<LW, ACC_W> {
    /// The top for `cfg`'s accelerator (panics if the PLL cannot make [`CLOCK_HZ`] from
    /// [`OSC_HZ`] exactly).
    pub fn new(cfg: &NpeConfig) -> Self {
        Self {
            clk_25mhz: Default::default(),
            btn_fire1: Default::default(),
            ftdi_txd: Default::default(),
            ftdi_rxd: Default::default(),
            led: Default::default(),
            pll: Ecp5Pll::new(OSC_HZ, CLOCK_HZ),
            core: BoardCore::new(cfg, CLKS_PER_BIT),
            rq1: Default::default(),
            rq2: Default::default(),
            rst_cnt: Default::default(),
            rst: Default::default(),
            lock_q: Default::default(),
            hb: Default::default(),
            rx1: Default::default(),
            rx2: Default::default(),
            uart_on: Default::default(),
            dma_on: Default::default(),
            irq_q: Default::default(),
            err_q: Default::default(),
            leds: Default::default(),
            k_one_rst: const_bits(1),
            k_one_hb: const_bits(1),
            k_one_st: const_bits(1),
            k_full_st: const_bits((1 << STRETCH_BITS) - 1),
            k_hb_bit: const_index(HEARTBEAT_BITS - 1),
            l0: Default::default(),
            l1: Default::default(),
            l2: Default::default(),
            l3: Default::default(),
            l4: Default::default(),
            l5: Default::default(),
            l6: Default::default(),
            k_sh1: const_bits(1),
            k_sh2: const_bits(2),
            k_sh3: const_bits(3),
            k_sh4: const_bits(4),
            k_sh5: const_bits(5),
            k_sh6: const_bits(6),
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for Ulx3s<LW, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.pll.clki.next = self.clk_25mhz.val();
        self.core.clock.next = self.pll.clkop.val();
        self.rq1.clock.next = self.pll.clkop.val();
        self.rq2.clock.next = self.pll.clkop.val();
        self.rst_cnt.clock.next = self.pll.clkop.val();
        self.rst.clock.next = self.pll.clkop.val();
        self.lock_q.clock.next = self.pll.clkop.val();
        self.hb.clock.next = self.pll.clkop.val();
        self.rx1.clock.next = self.pll.clkop.val();
        self.rx2.clock.next = self.pll.clkop.val();
        self.uart_on.clock.next = self.pll.clkop.val();
        self.dma_on.clock.next = self.pll.clkop.val();
        self.irq_q.clock.next = self.pll.clkop.val();
        self.err_q.clock.next = self.pll.clkop.val();
        self.leds.clock.next = self.pll.clkop.val();
        self.rq1.d.next = self.rq1.q.val();
        self.rq2.d.next = self.rq2.q.val();
        self.rst_cnt.d.next = self.rst_cnt.q.val();
        self.rst.d.next = self.rst.q.val();
        self.lock_q.d.next = self.lock_q.q.val();
        self.hb.d.next = self.hb.q.val();
        self.rx1.d.next = self.rx1.q.val();
        self.rx2.d.next = self.rx2.q.val();
        self.uart_on.d.next = self.uart_on.q.val();
        self.dma_on.d.next = self.dma_on.q.val();
        self.irq_q.d.next = self.irq_q.q.val();
        self.err_q.d.next = self.err_q.q.val();
        self.leds.d.next = self.leds.q.val();

        // Reset: request → two flip-flops → stretch (module docs).
        self.rq1.d.next = self.btn_fire1.val() | !self.pll.lock.val();
        self.rq2.d.next = self.rq1.q.val();
        self.lock_q.d.next = self.pll.lock.val();
        if self.rq2.q.val() {
            self.rst_cnt.d.next = 0.into();
        } else if !self.rst_cnt.q.val().all() {
            self.rst_cnt.d.next = self.rst_cnt.q.val() + self.k_one_rst.val();
        }
        self.rst.d.next = !self.rst_cnt.q.val().all();
        self.core.reset.next = self.rst.q.val();

        self.core.rx.next = self.ftdi_txd.val();
        self.ftdi_rxd.next = self.core.tx.val();

        // LEDs.
        self.hb.d.next = self.hb.q.val() + self.k_one_hb.val();
        self.rx1.d.next = self.ftdi_txd.val();
        self.rx2.d.next = self.rx1.q.val();
        if self.uart_on.q.val().any() {
            self.uart_on.d.next = self.uart_on.q.val() - self.k_one_st.val();
        }
        if !self.rx2.q.val() | !self.core.tx.val() {
            self.uart_on.d.next = self.k_full_st.val();
        }
        if self.dma_on.q.val().any() {
            self.dma_on.d.next = self.dma_on.q.val() - self.k_one_st.val();
        }
        if self.core.dma.val() {
            self.dma_on.d.next = self.k_full_st.val();
        }
        self.irq_q.d.next = self.core.irq.val();
        if self.core.mem_error.val() {
            self.err_q.d.next = true;
        }
        // Lines and flags in reset mean nothing (the RX synchronizer starts low, as if a start bit).
        if self.rst.q.val() {
            self.err_q.d.next = false;
            self.uart_on.d.next = 0.into();
            self.dma_on.d.next = 0.into();
        }
        // One LED per bit: each 1-bit value widened and shifted to its place.
        self.l0.next = self.hb.q.val().get_bit(self.k_hb_bit.val().index()).into();
        self.l1.next = self.lock_q.q.val().into();
        self.l2.next = self.rst.q.val().into();
        self.l3.next = self.uart_on.q.val().any().into();
        self.l4.next = self.dma_on.q.val().any().into();
        self.l5.next = self.irq_q.q.val().into();
        self.l6.next = self.err_q.q.val().into();
        self.leds.d.next = bit_cast::<8, 1>(self.l0.val())
            | (bit_cast::<8, 1>(self.l1.val()) << self.k_sh1.val())
            | (bit_cast::<8, 1>(self.l2.val()) << self.k_sh2.val())
            | (bit_cast::<8, 1>(self.l3.val()) << self.k_sh3.val())
            | (bit_cast::<8, 1>(self.l4.val()) << self.k_sh4.val())
            | (bit_cast::<8, 1>(self.l5.val()) << self.k_sh5.val())
            | (bit_cast::<8, 1>(self.l6.val()) << self.k_sh6.val());
        self.led.next = self.leds.q.val();
    }
}

fn ulx3s<const LW: usize, const ACC_W: usize>(cfg: &NpeConfig) -> Ulx3s<LW, ACC_W> {
    Ulx3s::new(cfg)
}

/// The Verilog of the ULX3S top for `cfg`, module [`ULX3S_TOP`], with the datapath's modules
/// appended (EHXPLLL is not declared: see the module docs).
pub fn ulx3s_verilog(cfg: &NpeConfig) -> String {
    emit_for_datapath!(cfg, ULX3S_TOP, ulx3s)
}

/// The top-level ports of the ULX3S top with their widths, as the constraint file must place
/// them.
pub fn ulx3s_pins(cfg: &NpeConfig) -> Vec<(String, u32)> {
    let v = ulx3s_verilog(cfg);
    crate::ports::parse_ports(&v, ULX3S_TOP)
        .expect("the top module")
        .into_iter()
        .map(|p| (p.name, p.width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, HasClock};

    impl<const LW: usize, const ACC_W: usize> HasClock for Ulx3s<LW, ACC_W> {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clk_25mhz
        }
    }

    /// A lint-only model of EHXPLLL (the Verilog this top is linted with; synthesis uses
    /// Yosys' ECP5 cell library): CLKOP follows CLKI, always locked. Its unused ports and
    /// parameters are waived inside it only.
    pub(crate) const EHXPLLL_LINT_MODEL: &str = r#"
// Lint-only model of the ECP5 PLL: CLKOP follows CLKI, always locked.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module EHXPLLL #(
    parameter PLLRST_ENA = "DISABLED",
    parameter INTFB_WAKE = "DISABLED",
    parameter STDBY_ENABLE = "DISABLED",
    parameter DPHASE_SOURCE = "DISABLED",
    parameter OUTDIVIDER_MUXA = "DIVA",
    parameter CLKI_DIV = 1,
    parameter CLKFB_DIV = 1,
    parameter CLKOP_ENABLE = "ENABLED",
    parameter CLKOP_DIV = 8,
    parameter CLKOP_CPHASE = 0,
    parameter CLKOP_FPHASE = 0,
    parameter FEEDBK_PATH = "CLKOP"
) (
    input CLKI, input CLKFB, input RST, input STDBY, input PHASESEL0, input PHASESEL1,
    input PHASEDIR, input PHASESTEP, input PHASELOADREG, input PLLWAKESYNC, input ENCLKOP,
    output CLKOP, output LOCK
);
    assign CLKOP = CLKI;
    assign LOCK = 1'b1;
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
"#;

    #[test]
    fn pll_dividers_make_the_clock_exactly() {
        let p = PllParams::exact(OSC_HZ, CLOCK_HZ).expect("50 MHz from 25 MHz");
        assert_eq!(
            p,
            PllParams {
                clki_div: 1,
                clkfb_div: 2,
                clkop_div: 12
            }
        );
        assert_eq!(p.clkop_cphase(), 5);
        for (fin, fout) in [
            (25_000_000, 40_000_000),
            (25_000_000, 65_000_000),
            (12_000_000, 16_000_000),
        ] {
            let p = PllParams::exact(fin, fout).unwrap_or_else(|| panic!("{fout} from {fin}"));
            let (fin, fout) = (u64::from(fin), u64::from(fout));
            assert_eq!(fin * u64::from(p.clkfb_div), fout * u64::from(p.clki_div));
            let vco = fout * u64::from(p.clkop_div);
            assert!((PllParams::VCO_MIN_HZ..=PllParams::VCO_MAX_HZ).contains(&vco), "{vco}");
        }
        // 25 MHz × 2/3 is 16.67 MHz, not 16 MHz: no exact setting with a 3.125 MHz+ PFD.
        assert_eq!(PllParams::exact(25_000_000, 16_666_667), None);
        assert_eq!(PllParams::exact(25_000_000, 1_000_000_000), None);
        assert_eq!(mhz(25_000_000), "25");
        assert_eq!(mhz(12_288_000), "12.288");
    }

    /// The top's Verilog: the board's pin names as ports, the PLL instantiated with the
    /// computed dividers and not declared (Yosys brings it), and lint-clean with the PLL's
    /// lint model appended.
    #[test]
    fn the_top_is_lint_clean_with_a_model_of_the_pll() {
        let v = ulx3s_verilog(&DEFAULT_PRESET);
        let pins = ulx3s_pins(&DEFAULT_PRESET);
        let want: Vec<(String, u32)> = [
            ("clk_25mhz", 1),
            ("btn_fire1", 1),
            ("ftdi_txd", 1),
            ("ftdi_rxd", 1),
            ("led", 8),
        ]
        .map(|(n, w)| (n.to_string(), w))
        .to_vec();
        assert_eq!(pins, want);
        assert!(v.contains("EHXPLLL #(") && v.contains(".CLKFB_DIV(2)") && v.contains(".CLKOP_DIV(12)"));
        assert!(v.contains(r#"(* FREQUENCY_PIN_CLKI="25" *)"#) && v.contains(r#"(* FREQUENCY_PIN_CLKOP="50" *)"#));
        assert!(
            !v.contains("module EHXPLLL"),
            "synth_ecp5's cell library declares EHXPLLL"
        );
        let messages = crate::emit::tests::verilator_lint(&(v + EHXPLLL_LINT_MODEL), ULX3S_TOP, ULX3S_TOP);
        assert!(messages.is_empty(), "{}", messages.join("\n"));
    }

    /// In rust-hdl's simulator (the PLL model passes the clock through, locked): the core is in
    /// reset while FIRE1 is held and for the stretch after it, and the UART LED lights when the
    /// host's line goes low.
    #[test]
    fn reset_and_leds() {
        let mut top = Ulx3s::<SHARED_WORD, SHARED_ACC>::new(&DEFAULT_PRESET);
        top.connect_all();
        top.ftdi_txd.next = true;
        top.btn_fire1.next = true;
        let led = |t: &Ulx3s<SHARED_WORD, SHARED_ACC>, i: usize| t.led.val().get_bit(i);
        for _ in 0..4 {
            cycle(&mut top);
        }
        assert!(led(&top, 2), "in reset while FIRE1 is held");
        assert!(led(&top, 1), "locked");
        top.btn_fire1.next = false;
        let mut cycles = 0;
        while led(&top, 2) {
            cycle(&mut top);
            cycles += 1;
            assert!(cycles < 100, "still in reset");
        }
        // Two synchronizer stages, the stretch, the registered reset, the LED register.
        assert!(cycles >= 1 << RESET_STRETCH_BITS, "{cycles}");
        assert!(!led(&top, 3) && !led(&top, 6));
        top.ftdi_txd.next = false;
        for _ in 0..4 {
            cycle(&mut top);
        }
        assert!(led(&top, 3), "UART LED");
        assert!(!led(&top, 7));
    }
}
