//! Every register of the table walked through the Verilated npe4x4 top over AXI4-Lite: reset
//! values, writable bits, the read-only set (SLVERR, nothing changes), W1C bits, IRQ_EN and the
//! irq line, pulse fields, and DECERR for every unmapped or misaligned byte offset.
//!
//! Expectations come from the table ([`REGISTERS`]: access, masks, reset values) and the
//! register file's backing of each register, so a register added to the table is walked too.

use npe_hdl::regs::{backing, constant_value, Backing};
use npe_hdl::spec::regs::{self, ctrl, irq, status, Access, ErrorCode, Register, REGISTERS, REG_ADDR_BITS, REG_BYTES};
use npe_hdl::spec::NpeConfig;
use npe_sim::axi_lite::{AxiLiteError, AxiLiteMaster};
use npe_sim::axi_mem::{AxiMemConfig, AxiMemory};
use npe_sim::{Port, Sim};

const CFG: NpeConfig = NpeConfig::TEST;

/// Data patterns every writable register takes in turn.
const PATTERNS: [u32; 5] = [u32::MAX, 0, 0xA5A5_5A5A, 0x5A5A_A5A5, 0x8000_0001];

/// The npe4x4 top with its memory, driven over AXI4-Lite.
struct Rig {
    sim: Sim,
    mem: AxiMemory,
    lite: AxiLiteMaster,
    irq: Port,
    reset: Port,
}

impl Rig {
    fn new() -> Rig {
        let top = npe_sim::tops::npe4x4::TOP;
        let sim = Sim::new(top);
        let mem = AxiMemory::new(top, "m_axi_", AxiMemConfig::default()).unwrap();
        let mut lite = AxiLiteMaster::new(top, "s_axi_");
        // Responses held under a withheld RREADY/BREADY are checked too.
        lite.withhold = 0.3;
        let mut rig = Rig {
            sim,
            mem,
            lite,
            irq: top.port("irq").unwrap(),
            reset: top.port("reset").unwrap(),
        };
        rig.reset();
        rig
    }

    fn reset(&mut self) {
        self.sim.set(self.reset, 1);
        self.idle(4);
        self.sim.set(self.reset, 0);
        self.sim.eval();
    }

    fn idle(&mut self, cycles: u32) {
        for _ in 0..cycles {
            self.mem.step(&mut self.sim);
        }
    }

    fn read(&mut self, offset: u32) -> Result<u32, AxiLiteError> {
        let mem = &mut self.mem;
        self.lite.read(&mut self.sim, offset, &mut |s: &mut Sim| mem.step(s))
    }

    fn write_strb(&mut self, offset: u32, value: u32, strb: u8) -> Result<(), AxiLiteError> {
        let mem = &mut self.mem;
        self.lite
            .write(&mut self.sim, offset, value, strb, &mut |s: &mut Sim| mem.step(s))
    }

    fn write(&mut self, offset: u32, value: u32) -> Result<(), AxiLiteError> {
        self.write_strb(offset, value, 0xF)
    }

    fn rd(&mut self, r: &Register) -> u32 {
        self.read(r.offset).unwrap_or_else(|e| panic!("read {}: {e}", r.name))
    }

    fn wr(&mut self, r: &Register, value: u32) {
        self.write(r.offset, value)
            .unwrap_or_else(|e| panic!("write {} = {value:#x}: {e}", r.name));
    }

    fn irq_line(&mut self) -> bool {
        self.sim.eval();
        self.sim.get(self.irq) == 1
    }

    /// Polls STATUS until the job ended (DONE and not BUSY).
    fn wait_done(&mut self) -> u32 {
        for _ in 0..1000 {
            let s = self.rd(&regs::STATUS);
            if status::DONE.get(s) == 1 && status::BUSY.get(s) == 0 {
                return s;
            }
        }
        panic!("the job did not end");
    }
}

/// Whether `r` is the free-running cycle counter (its words move while the device is idle).
fn free_running(r: &Register) -> bool {
    *r == regs::CYCLES_LO
}

/// The value `r` reads after reset with no job run (`None`: it moves, checked apart).
fn reset_value(r: &Register) -> Option<u32> {
    match backing(r) {
        Backing::Stored => Some(r.reset & r.read_mask()),
        Backing::Constant => Some(constant_value(r, &CFG)),
        Backing::Status | Backing::CounterHi => Some(r.reset),
        Backing::CounterLo if free_running(r) => None,
        Backing::CounterLo => Some(r.reset),
    }
}

/// Every register reads its reset value (the cycle counter: a count that moves forward).
fn check_reset_values(rig: &mut Rig, when: &str) {
    for r in REGISTERS {
        let got = rig.rd(r);
        match reset_value(r) {
            Some(want) => assert_eq!(got, want, "{when}: {} reads {got:#x}, not {want:#x}", r.name),
            None => {
                let again = rig.rd(r);
                assert!(again > got, "{when}: {} does not count ({got} then {again})", r.name);
            }
        }
    }
}

/// The stored registers other than W1C ones (which a job end may set), with their values.
fn snapshot(rig: &mut Rig) -> Vec<(&'static str, u32)> {
    REGISTERS
        .iter()
        .filter(|r| backing(r) == Backing::Stored && r.access != Access::W1c)
        .map(|r| (r.name, rig.rd(r)))
        .collect()
}

#[test]
fn every_register_walks_through_the_verilated_top() {
    let mut rig = Rig::new();
    check_reset_values(&mut rig, "after reset");
    assert!(!rig.irq_line(), "irq after reset");

    // Writable registers: every pattern reads back through the write mask; pulse bits are
    // left out here (START would run a job) and walked below.
    for r in REGISTERS.iter().filter(|r| r.access != Access::Ro) {
        for p in PATTERNS {
            let p = p & !r.pulse_mask();
            let before = rig.rd(r);
            rig.wr(r, p);
            let want = match r.access {
                Access::W1c => before & !(p & r.w1c_mask()),
                _ => ((before & !r.write_mask()) | (p & r.write_mask())) & r.read_mask(),
            };
            assert_eq!(rig.rd(r), want, "{} after writing {p:#x}", r.name);
        }
        // Byte strobes: one lane at a time.
        if r.write_mask() != 0 {
            for lane in 0..REG_BYTES {
                rig.wr(r, 0);
                rig.write_strb(r.offset, !r.pulse_mask(), 1 << lane).unwrap();
                let want = (0xFF << (8 * lane)) & r.write_mask() & r.read_mask();
                assert_eq!(rig.rd(r), want, "{} after an all-ones write to byte {lane}", r.name);
            }
        }
        rig.wr(r, r.reset & !r.pulse_mask());
    }

    // The read-only set: SLVERR, and nothing changes.
    for r in REGISTERS.iter().filter(|r| r.access == Access::Ro) {
        for p in [u32::MAX, 0] {
            let before = rig.rd(r);
            assert_eq!(
                rig.write(r.offset, p),
                Err(AxiLiteError::SlvErr(r.offset)),
                "{}",
                r.name
            );
            let after = rig.rd(r);
            if reset_value(r).is_some() {
                assert_eq!(after, before, "{} changed by a write of {p:#x}", r.name);
            } else {
                assert!(after > before, "{} was reset by a write", r.name);
            }
        }
    }

    // Every byte offset of the window the table does not name (unmapped or misaligned):
    // DECERR both ways, and the writes change nothing.
    let before = snapshot(&mut rig);
    let mut unmapped = 0;
    for offset in 0..1u32 << REG_ADDR_BITS {
        if regs::register_at(offset).is_some() {
            continue;
        }
        unmapped += 1;
        assert_eq!(rig.read(offset), Err(AxiLiteError::DecErr(offset)), "read {offset:#x}");
        assert_eq!(
            rig.write(offset, u32::MAX),
            Err(AxiLiteError::DecErr(offset)),
            "write {offset:#x}"
        );
    }
    assert_eq!(unmapped, (1 << REG_ADDR_BITS) - REGISTERS.len());
    assert_eq!(snapshot(&mut rig), before, "a DECERR write changed a register");
    check_reset_values(&mut rig, "after the walk");

    // Pulse fields read back 0 and change no stored register. START runs the job in the
    // (reset, all-zero) job registers, which the core rejects: a job end without DMA.
    for r in REGISTERS {
        for f in r.fields.iter().filter(|f| f.pulse) {
            let before = snapshot(&mut rig);
            rig.wr(r, f.mask());
            assert_eq!(f.get(rig.rd(r)), 0, "{}.{} reads back", r.name, f.name);
            rig.idle(64);
            assert_eq!(snapshot(&mut rig), before, "{}.{} changed a register", r.name, f.name);
        }
    }
    let st = rig.wait_done();
    assert_eq!(status::ERROR.get(st), ErrorCode::BadJob as u32, "STATUS {st:#x}");

    // The job end set the interrupt bits; IRQ_EN gates the line.
    let pending = rig.rd(&regs::IRQ);
    assert_eq!(irq::DONE.get(pending), 1, "IRQ {pending:#x}");
    assert!(!rig.irq_line(), "irq with IRQ_EN clear");
    rig.wr(&regs::CTRL, ctrl::IRQ_EN.mask());
    assert!(rig.irq_line(), "irq with IRQ_EN set");
    rig.wr(&regs::CTRL, 0);
    assert!(!rig.irq_line(), "irq after IRQ_EN cleared");
    rig.wr(&regs::CTRL, ctrl::IRQ_EN.mask());

    // W1C: writing 0s (or 1s elsewhere) keeps the bits, writing a 1 clears that bit only.
    for r in REGISTERS.iter().filter(|r| r.access == Access::W1c) {
        let v = rig.rd(r);
        assert_ne!(v, 0, "{}: nothing set after a job end", r.name);
        rig.wr(r, 0);
        assert_eq!(rig.rd(r), v, "{} after writing 0", r.name);
        rig.wr(r, !v);
        assert_eq!(rig.rd(r), v, "{} after writing 1s to its clear bits", r.name);
        for f in r.fields {
            rig.wr(r, f.mask());
            assert_eq!(f.get(rig.rd(r)), 0, "{}.{} after writing 1", r.name, f.name);
        }
        assert_eq!(rig.rd(r), 0, "{}", r.name);
    }
    assert!(!rig.irq_line(), "irq after IRQ.DONE cleared");
    let st = rig.rd(&regs::STATUS);
    assert_eq!(status::DONE.get(st), 1, "STATUS.DONE is not cleared by IRQ");

    // A second job end raises the line again; reset brings every register back.
    rig.wr(&regs::CTRL, ctrl::START.mask() | ctrl::IRQ_EN.mask());
    rig.wait_done();
    assert!(rig.irq_line(), "irq after the second job end");
    for r in REGISTERS.iter().filter(|r| r.write_mask() != 0) {
        rig.wr(r, 0x5A5A_A5A5 & r.write_mask());
    }
    rig.reset();
    check_reset_values(&mut rig, "after a second reset");
    assert!(!rig.irq_line(), "irq after the second reset");
    // Both buses stayed within the protocol throughout.
    assert_eq!(rig.mem.violation_count(), 0, "{:?}", rig.mem.violations());
    assert_eq!(rig.lite.violation_count(), 0, "{:?}", rig.lite.violations());
}
