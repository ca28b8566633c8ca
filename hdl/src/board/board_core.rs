//! Everything of the board that is not an FPGA primitive: the UART bridge, the accelerator and
//! the board memory, wired together, with clock and reset as inputs. The ULX3S top
//! ([`super::ulx3s`]) puts a PLL, a reset synchronizer and LEDs around it; simulation runs it
//! without them.
//!
//! ```text
//!  rx ─► UartBridge ─ m_axil_* ─► AxilSlice ─► s_axi_* Npe m_axi_* ─► s_axi_* BoardMem
//!  tx ◄─┘        └──────────── mem_* (words) ──────────────────────────────► mem_*
//! ```
//!
//! **Why the slice.** rust-hdl writes each block's logic as one `always @(*)`; the bridge's
//! reads AWREADY and writes AWADDR, the register file's reads AWADDR and writes AWREADY, so
//! Verilator sees a combinational loop between the two blocks (UNOPTFLAT) although no signal
//! loops. [`AxilSlice`] registers AW, W and AR between them (every output of it is a flip-flop),
//! which cuts that false loop at the cost of two cycles per register access — nothing next to a
//! UART frame.

use super::board_mem::BoardMem;
use super::uart_bridge::UartBridge;
use crate::accel::datapath::{
    Datapath, BLOCK8_ACC, FIXED8_ACC, FIXED8_WORD, FIXED_OVP_ACC, FIXED_OVP_WORD, SHARED_ACC, SHARED_WORD,
};
use crate::accel::Npe;
use crate::emit::emit_with_modules;
use crate::spec::board::{CLKS_PER_BIT, MEM_BYTES, MEM_WORD_BYTES};
use crate::spec::config::NpeConfig;
use crate::spec::regs::REG_ADDR_BITS;
use rust_hdl::prelude::*;

/// Module name of the board core in emitted Verilog.
pub const BOARD_CORE_TOP: &str = "board_core";

/// The board core for the accelerator of `cfg` (see the module docs).
#[derive(LogicBlock)]
pub struct BoardCore<const LW: usize, const ACC_W: usize> {
    /// Clock (the design clock, [`crate::spec::board::CLOCK_HZ`] on the board).
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high, of the whole core.
    pub reset: Signal<In, Bit>,
    /// UART from the host (asynchronous; the bridge synchronizes it).
    pub rx: Signal<In, Bit>,
    /// UART to the host.
    pub tx: Signal<Out, Bit>,
    /// The accelerator's interrupt (a job ended and CTRL.IRQ_EN is set).
    pub irq: Signal<Out, Bit>,
    /// A DMA burst is asked for, or a beat moves, on the accelerator's AXI4 port this cycle.
    pub dma: Signal<Out, Bit>,
    /// The board memory gives an error response this cycle (a DMA address outside it).
    pub mem_error: Signal<Out, Bit>,

    bridge: UartBridge,
    slice: AxilSlice,
    npe: Npe<LW, ACC_W>,
    mem: BoardMem,
}

impl<const LW: usize, const ACC_W: usize> BoardCore<LW, ACC_W> {
    /// The core for the accelerator of `cfg`, its UART at `clks_per_bit` clock cycles per bit
    /// ([`CLKS_PER_BIT`] on the board; tests go faster).
    pub fn new(cfg: &NpeConfig, clks_per_bit: u32) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            irq: Default::default(),
            dma: Default::default(),
            mem_error: Default::default(),
            bridge: UartBridge::new(clks_per_bit, MEM_BYTES / MEM_WORD_BYTES),
            slice: Default::default(),
            npe: Npe::new(cfg),
            mem: BoardMem::new(),
        }
    }
}

impl<const LW: usize, const ACC_W: usize> Logic for BoardCore<LW, ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.bridge.clock.next = self.clock.val();
        self.slice.clock.next = self.clock.val();
        self.slice.reset.next = self.reset.val();
        self.npe.clock.next = self.clock.val();
        self.mem.clock.next = self.clock.val();
        self.bridge.reset.next = self.reset.val();
        self.npe.reset.next = self.reset.val();
        self.mem.reset.next = self.reset.val();
        self.bridge.rx.next = self.rx.val();
        self.tx.next = self.bridge.tx.val();
        self.irq.next = self.npe.irq.val();
        self.dma.next = self.npe.m_axi_arvalid.val()
            | self.npe.m_axi_awvalid.val()
            | self.npe.m_axi_wvalid.val()
            | self.mem.s_axi_rvalid.val();
        self.mem_error.next = self.mem.error.val();

        // bridge ↔ slice ↔ accelerator registers (AXI4-Lite): AW, W, AR through the slice, B
        // and R direct.
        self.slice.s_awaddr.next = self.bridge.m_axil_awaddr.val();
        self.slice.s_awvalid.next = self.bridge.m_axil_awvalid.val();
        self.bridge.m_axil_awready.next = self.slice.s_awready.val();
        self.npe.s_axi_awaddr.next = self.slice.m_awaddr.val();
        self.npe.s_axi_awvalid.next = self.slice.m_awvalid.val();
        self.slice.m_awready.next = self.npe.s_axi_awready.val();
        self.slice.s_wdata.next = self.bridge.m_axil_wdata.val();
        self.slice.s_wstrb.next = self.bridge.m_axil_wstrb.val();
        self.slice.s_wvalid.next = self.bridge.m_axil_wvalid.val();
        self.bridge.m_axil_wready.next = self.slice.s_wready.val();
        self.npe.s_axi_wdata.next = self.slice.m_wdata.val();
        self.npe.s_axi_wstrb.next = self.slice.m_wstrb.val();
        self.npe.s_axi_wvalid.next = self.slice.m_wvalid.val();
        self.slice.m_wready.next = self.npe.s_axi_wready.val();
        self.slice.s_araddr.next = self.bridge.m_axil_araddr.val();
        self.slice.s_arvalid.next = self.bridge.m_axil_arvalid.val();
        self.bridge.m_axil_arready.next = self.slice.s_arready.val();
        self.npe.s_axi_araddr.next = self.slice.m_araddr.val();
        self.npe.s_axi_arvalid.next = self.slice.m_arvalid.val();
        self.slice.m_arready.next = self.npe.s_axi_arready.val();
        self.bridge.m_axil_bresp.next = self.npe.s_axi_bresp.val();
        self.bridge.m_axil_bvalid.next = self.npe.s_axi_bvalid.val();
        self.npe.s_axi_bready.next = self.bridge.m_axil_bready.val();
        self.bridge.m_axil_rdata.next = self.npe.s_axi_rdata.val();
        self.bridge.m_axil_rresp.next = self.npe.s_axi_rresp.val();
        self.bridge.m_axil_rvalid.next = self.npe.s_axi_rvalid.val();
        self.npe.s_axi_rready.next = self.bridge.m_axil_rready.val();

        // bridge ↔ memory (words)
        self.mem.mem_valid.next = self.bridge.mem_valid.val();
        self.mem.mem_write.next = self.bridge.mem_write.val();
        self.mem.mem_addr.next = self.bridge.mem_addr.val();
        self.mem.mem_wdata.next = self.bridge.mem_wdata.val();
        self.bridge.mem_ready.next = self.mem.mem_ready.val();
        self.bridge.mem_rvalid.next = self.mem.mem_rvalid.val();
        self.bridge.mem_rdata.next = self.mem.mem_rdata.val();

        // accelerator DMA ↔ memory (AXI4)
        self.mem.s_axi_araddr.next = self.npe.m_axi_araddr.val();
        self.mem.s_axi_arlen.next = self.npe.m_axi_arlen.val();
        self.mem.s_axi_arsize.next = self.npe.m_axi_arsize.val();
        self.mem.s_axi_arburst.next = self.npe.m_axi_arburst.val();
        self.mem.s_axi_arvalid.next = self.npe.m_axi_arvalid.val();
        self.npe.m_axi_arready.next = self.mem.s_axi_arready.val();
        self.npe.m_axi_rdata.next = self.mem.s_axi_rdata.val();
        self.npe.m_axi_rresp.next = self.mem.s_axi_rresp.val();
        self.npe.m_axi_rlast.next = self.mem.s_axi_rlast.val();
        self.npe.m_axi_rvalid.next = self.mem.s_axi_rvalid.val();
        self.mem.s_axi_rready.next = self.npe.m_axi_rready.val();
        self.mem.s_axi_awaddr.next = self.npe.m_axi_awaddr.val();
        self.mem.s_axi_awlen.next = self.npe.m_axi_awlen.val();
        self.mem.s_axi_awsize.next = self.npe.m_axi_awsize.val();
        self.mem.s_axi_awburst.next = self.npe.m_axi_awburst.val();
        self.mem.s_axi_awvalid.next = self.npe.m_axi_awvalid.val();
        self.npe.m_axi_awready.next = self.mem.s_axi_awready.val();
        self.mem.s_axi_wdata.next = self.npe.m_axi_wdata.val();
        self.mem.s_axi_wstrb.next = self.npe.m_axi_wstrb.val();
        self.mem.s_axi_wlast.next = self.npe.m_axi_wlast.val();
        self.mem.s_axi_wvalid.next = self.npe.m_axi_wvalid.val();
        self.npe.m_axi_wready.next = self.mem.s_axi_wready.val();
        self.npe.m_axi_bresp.next = self.mem.s_axi_bresp.val();
        self.npe.m_axi_bvalid.next = self.mem.s_axi_bvalid.val();
        self.mem.s_axi_bready.next = self.npe.m_axi_bready.val();
    }
}

/// A register slice on the AXI4-Lite request channels (AW, W, AR): each holds one beat, taken
/// when empty and handed on when the slave takes it. Every output is a flip-flop (see the
/// module docs for why); one beat per two cycles per channel.
#[derive(LogicBlock, Default)]
pub struct AxilSlice {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: drops the beats held.
    pub reset: Signal<In, Bit>,
    /// From the master: AWADDR.
    pub s_awaddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// From the master: AWVALID.
    pub s_awvalid: Signal<In, Bit>,
    /// To the master: AWREADY (the AW entry is empty).
    pub s_awready: Signal<Out, Bit>,
    /// To the slave: AWADDR.
    pub m_awaddr: Signal<Out, Bits<REG_ADDR_BITS>>,
    /// To the slave: AWVALID.
    pub m_awvalid: Signal<Out, Bit>,
    /// From the slave: AWREADY.
    pub m_awready: Signal<In, Bit>,
    /// From the master: WDATA.
    pub s_wdata: Signal<In, Bits<32>>,
    /// From the master: WSTRB.
    pub s_wstrb: Signal<In, Bits<4>>,
    /// From the master: WVALID.
    pub s_wvalid: Signal<In, Bit>,
    /// To the master: WREADY (the W entry is empty).
    pub s_wready: Signal<Out, Bit>,
    /// To the slave: WDATA.
    pub m_wdata: Signal<Out, Bits<32>>,
    /// To the slave: WSTRB.
    pub m_wstrb: Signal<Out, Bits<4>>,
    /// To the slave: WVALID.
    pub m_wvalid: Signal<Out, Bit>,
    /// From the slave: WREADY.
    pub m_wready: Signal<In, Bit>,
    /// From the master: ARADDR.
    pub s_araddr: Signal<In, Bits<REG_ADDR_BITS>>,
    /// From the master: ARVALID.
    pub s_arvalid: Signal<In, Bit>,
    /// To the master: ARREADY (the AR entry is empty).
    pub s_arready: Signal<Out, Bit>,
    /// To the slave: ARADDR.
    pub m_araddr: Signal<Out, Bits<REG_ADDR_BITS>>,
    /// To the slave: ARVALID.
    pub m_arvalid: Signal<Out, Bit>,
    /// From the slave: ARREADY.
    pub m_arready: Signal<In, Bit>,
    aw_v: DFF<Bit>,
    aw_a: DFF<Bits<REG_ADDR_BITS>>,
    w_v: DFF<Bit>,
    w_d: DFF<Bits<32>>,
    w_s: DFF<Bits<4>>,
    ar_v: DFF<Bit>,
    ar_a: DFF<Bits<REG_ADDR_BITS>>,
}

impl Logic for AxilSlice {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, aw_v, aw_a, w_v, w_d, w_s, ar_v, ar_a);
        self.s_awready.next = !self.aw_v.q.val();
        self.m_awvalid.next = self.aw_v.q.val();
        self.m_awaddr.next = self.aw_a.q.val();
        self.s_wready.next = !self.w_v.q.val();
        self.m_wvalid.next = self.w_v.q.val();
        self.m_wdata.next = self.w_d.q.val();
        self.m_wstrb.next = self.w_s.q.val();
        self.s_arready.next = !self.ar_v.q.val();
        self.m_arvalid.next = self.ar_v.q.val();
        self.m_araddr.next = self.ar_a.q.val();
        if self.aw_v.q.val() & self.m_awready.val() {
            self.aw_v.d.next = false;
        }
        if !self.aw_v.q.val() & self.s_awvalid.val() {
            self.aw_v.d.next = true;
            self.aw_a.d.next = self.s_awaddr.val();
        }
        if self.w_v.q.val() & self.m_wready.val() {
            self.w_v.d.next = false;
        }
        if !self.w_v.q.val() & self.s_wvalid.val() {
            self.w_v.d.next = true;
            self.w_d.d.next = self.s_wdata.val();
            self.w_s.d.next = self.s_wstrb.val();
        }
        if self.ar_v.q.val() & self.m_arready.val() {
            self.ar_v.d.next = false;
        }
        if !self.ar_v.q.val() & self.s_arvalid.val() {
            self.ar_v.d.next = true;
            self.ar_a.d.next = self.s_araddr.val();
        }
        if self.reset.val() {
            self.aw_v.d.next = false;
            self.w_v.d.next = false;
            self.ar_v.d.next = false;
        }
    }
}

/// Builds `$make::<LW, ACC_W>(..)` for the datapath of `$cfg` and emits it with the
/// datapath's modules appended (as [`crate::accel::accel_verilog`] does for the bare
/// accelerator). Panics with [`crate::accel::config_error`]'s reason if `$cfg` cannot be built.
macro_rules! emit_for_datapath {
    ($cfg:expr, $name:expr, $make:ident) => {{
        let cfg: &NpeConfig = $cfg;
        if let Some(e) = crate::accel::config_error(cfg) {
            panic!("{e}");
        }
        let dp = Datapath::of(cfg).expect("checked above");
        let modules = dp.modules(cfg);
        match dp {
            Datapath::Shared => emit_with_modules(&mut $make::<SHARED_WORD, SHARED_ACC>(cfg), $name, &modules),
            Datapath::Fixed8 => emit_with_modules(&mut $make::<FIXED8_WORD, FIXED8_ACC>(cfg), $name, &modules),
            Datapath::FixedOvp => emit_with_modules(&mut $make::<FIXED_OVP_WORD, FIXED_OVP_ACC>(cfg), $name, &modules),
            Datapath::Block8 => emit_with_modules(&mut $make::<FIXED8_WORD, BLOCK8_ACC>(cfg), $name, &modules),
        }
    }};
}
pub(crate) use emit_for_datapath;

fn board_core<const LW: usize, const ACC_W: usize>(cfg: &NpeConfig) -> BoardCore<LW, ACC_W> {
    BoardCore::new(cfg, CLKS_PER_BIT)
}

/// The Verilog of the board core for `cfg` at the board's baud rate, module
/// [`BOARD_CORE_TOP`], with the datapath's modules appended.
pub fn board_core_verilog(cfg: &NpeConfig) -> String {
    emit_for_datapath!(cfg, BOARD_CORE_TOP, board_core)
}

/// Module name of the board core npe-sim Verilates: [`BOARD_CORE_SIM_CFG`]'s accelerator, its
/// UART at [`BOARD_CORE_SIM_CLKS_PER_BIT`].
pub const BOARD_CORE_SIM_TOP: &str = "board_core_sim";

/// The preset of the simulated board core: npe4x4ovp, the preset whose Verilated model builds
/// fastest (a board core is a whole accelerator, and CI builds npe-sim twice). Any preset's
/// board core is the same bridge and memory around it.
pub const BOARD_CORE_SIM_CFG: NpeConfig = NpeConfig::OLIVE;

/// Clock cycles per UART bit of the simulated board core: the bridge's least, so a byte takes
/// 40 cycles instead of the board's 500 (each simulated cycle evaluates the whole accelerator).
/// The bridge's logic is the board's; only its bit-time constants are shorter.
pub const BOARD_CORE_SIM_CLKS_PER_BIT: u32 = 4;

fn board_core_sim<const LW: usize, const ACC_W: usize>(cfg: &NpeConfig) -> BoardCore<LW, ACC_W> {
    BoardCore::new(cfg, BOARD_CORE_SIM_CLKS_PER_BIT)
}

/// The Verilog of the simulated board core (module [`BOARD_CORE_SIM_TOP`]): the board core of
/// [`BOARD_CORE_SIM_CFG`] at [`BOARD_CORE_SIM_CLKS_PER_BIT`], the datapath's modules appended.
pub fn board_core_sim_verilog() -> String {
    emit_for_datapath!(&BOARD_CORE_SIM_CFG, BOARD_CORE_SIM_TOP, board_core_sim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, HasClock};
    use crate::spec::regs::ID_MAGIC;
    use crate::spec::uart::{Reply, Request, Status, REPLY_HEADER_BYTES};

    impl<const LW: usize, const ACC_W: usize> HasClock for BoardCore<LW, ACC_W> {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// Clock cycles per UART bit in these tests (the bridge's least).
    const CPB: usize = 4;

    /// A host on the core's UART: sends requests bit by bit, collects the reply's bytes.
    struct Host {
        core: BoardCore<SHARED_WORD, SHARED_ACC>,
        // The receiver: cycles into the current byte (None: waiting for a start bit), bits.
        rx_at: Option<usize>,
        rx_bits: u16,
        got: Vec<u8>,
        dma_cycles: u64,
    }

    impl Host {
        fn new() -> Self {
            let mut core = BoardCore::new(&DEFAULT_CFG, CPB as u32);
            core.connect_all();
            core.rx.next = true;
            core.reset.next = true;
            for _ in 0..4 {
                cycle(&mut core);
            }
            core.reset.next = false;
            Host {
                core,
                rx_at: None,
                rx_bits: 0,
                got: Vec::new(),
                dma_cycles: 0,
            }
        }

        fn tick(&mut self) {
            cycle(&mut self.core);
            if self.core.dma.val() {
                self.dma_cycles += 1;
            }
            assert!(!self.core.mem_error.val());
            let tx = self.core.tx.val();
            match self.rx_at {
                None if !tx => {
                    self.rx_at = Some(0);
                    self.rx_bits = 0;
                }
                None => {}
                Some(t) => {
                    let t = t + 1;
                    // Sample each bit in its middle: bit k (start = 0) at k·CPB + CPB/2.
                    if t % CPB == CPB / 2 {
                        let k = t / CPB;
                        if k == 0 {
                            assert!(!tx, "start bit");
                        } else if k <= 8 {
                            self.rx_bits |= u16::from(tx) << (k - 1);
                        } else {
                            assert!(tx, "stop bit");
                            self.got.push(self.rx_bits as u8);
                            self.rx_at = None;
                            return;
                        }
                    }
                    self.rx_at = Some(t);
                }
            }
        }

        fn send_byte(&mut self, b: u8) {
            let frame = [false].into_iter().chain((0..8).map(|i| b >> i & 1 == 1)).chain([true]);
            for bit in frame {
                self.core.rx.next = bit;
                for _ in 0..CPB {
                    self.tick();
                }
            }
        }

        /// Sends `req` and waits for its whole reply.
        fn call(&mut self, req: &Request) -> Reply {
            self.got.clear();
            for b in req.encode() {
                self.send_byte(b);
            }
            let len = REPLY_HEADER_BYTES + 4 * req.reply_words() + 1;
            let mut waited = 0;
            while self.got.len() < len {
                self.tick();
                waited += 1;
                assert!(waited < 100 * CPB * len, "no reply to {req:?}: {:x?}", self.got);
            }
            Reply::decode(&self.got).expect("a well-formed reply")
        }
    }

    /// The default board preset's datapath is the one these tests build.
    const DEFAULT_CFG: NpeConfig = crate::board::ulx3s::DEFAULT_PRESET;

    /// Through the UART: the accelerator's registers answer (ID, SCRATCH written and read back),
    /// words written to the board memory read back, and a register outside the map is an error.
    #[test]
    fn registers_and_memory_through_the_uart() {
        assert_eq!(Datapath::of(&DEFAULT_CFG), Ok(Datapath::Shared));
        let mut h = Host::new();
        let id = h.call(&Request::reg_read(1, 0x00));
        assert_eq!(
            (id.status, id.seq, id.data.as_slice()),
            (Status::Ok, 1, &[ID_MAGIC][..])
        );
        assert_eq!(h.call(&Request::reg_write(2, 0x4c, 0x1234_5678)).status, Status::Ok);
        let s = h.call(&Request::reg_read(3, 0x4c));
        assert_eq!((s.status, s.data.as_slice()), (Status::Ok, &[0x1234_5678][..]));
        let words: Vec<u32> = (0..6).map(|i| (0x0101_0101 * (i + 1)) ^ 0xa5a5_0000).collect();
        // Across a beat boundary: lanes 3, 0, 1, … of consecutive beats.
        assert_eq!(h.call(&Request::mem_write(4, 0x1fc, &words)).status, Status::Ok);
        let r = h.call(&Request::mem_read(5, 0x1fc, 6));
        assert_eq!((r.status, r.data), (Status::Ok, words));
        let r = h.call(&Request::mem_read(6, 0x200, 1));
        assert_eq!(r.data, [(0x0101_0101 * 2) ^ 0xa5a5_0000]);
        // No job ran: the DMA port stayed quiet.
        assert_eq!(h.dma_cycles, 0);
    }

    /// The board core is lint-clean Verilog with the bridge, the accelerator and the memory in
    /// it, and its ports are the UART, the status outputs, clock and reset.
    #[test]
    fn board_core_verilog_is_lint_clean() {
        let v = board_core_verilog(&DEFAULT_CFG);
        let ports = crate::ports::parse_ports(&v, BOARD_CORE_TOP).expect("top module");
        let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["clock", "reset", "rx", "tx", "irq", "dma", "mem_error"]);
        for m in ["board_core__bridge", "board_core__npe", "board_core__mem", "pe_mac"] {
            assert!(v.contains(&format!("module {m}(")), "no module {m}");
        }
        let messages = crate::emit::tests::verilator_lint(&v, BOARD_CORE_TOP, "board_core");
        assert!(messages.is_empty(), "{}", messages.join("\n"));
    }
}
