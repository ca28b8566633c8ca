//! The UART bridge: the host's requests (the README's protocol tables, defined in
//! [`crate::spec::uart`]) become AXI4-Lite accesses of the accelerator's registers and word
//! accesses of the board memory; each frame gets exactly one reply.
//!
//! ```text
//!  rx ─► UartRx ─► parser (header, CRC) ─┬─► m_axil_* (REG_WRITE / REG_READ)
//!                                        └─► mem_*    (MEM_WRITE / MEM_READ)
//!  tx ◄─ UartTx ◄─ reply (SYNC STATUS SEQ COUNT DATA CRC)
//! ```
//!
//! **One frame at a time.** Bytes other than SYNC between frames are ignored. After its header
//! (checked in the order CMD, COUNT, ADDR, before the CRC is known: a header damaged on the
//! line gets one of these codes, not BAD_CRC) a bad frame is discarded until the line has been
//! idle for [`IDLE_TIMEOUT_BITS`], then answered; a line idle as long inside a frame, or a
//! framing error inside one (a byte was lost, so the frame cannot end well), answers TRUNCATED.
//! The CRC runs over the bytes as they arrive: after the CRC byte it is zero exactly when the
//! CRC matched (CRC-8/SMBUS has no final xor). Bytes that arrive while the bridge performs a
//! request or sends its reply are dropped: the host waits for each reply before its next
//! request (the protocol's stop-and-wait; a reply's SEQ names its request).
//!
//! **Registers.** A REG_WRITE's AXI write starts only after its CRC matched. AW and W are
//! offered together and may be taken in either order; BREADY and RREADY are always high (a
//! response that comes after a timeout is swallowed). BRESP / RRESP SLVERR and DECERR become
//! the status codes; no response within [`AXI_TIMEOUT_CYCLES`] of the request becomes
//! AXI_TIMEOUT, and the request's valid signals are dropped (the slave broke the protocol
//! first).
//!
//! **Memory.** A MEM_WRITE's words go to memory as each one's fourth byte arrives, before the
//! CRC is known (the protocol lets a bad CRC leave words written). One request is outstanding:
//! a write must be taken within four byte times (the board memory takes every request at
//! once). A MEM_READ's words are read ahead one at a time, so the next word is fetched while
//! the current one is sent and the reply leaves without gaps. The reply waits for the last
//! write to be taken.

use super::uart_rx::UartRx;
use super::uart_tx::UartTx;
use crate::decode::{const_bits, const_index, BitIndex};
use crate::spec::axi::{AxiResp, RESP_BITS};
use crate::spec::board::MEM_WORD_ADDR_BITS;
use crate::spec::regs::REG_ADDR_BITS;
use crate::spec::uart::{
    Command, Status, AXI_TIMEOUT_CYCLES, IDLE_TIMEOUT_BITS, MAX_WORDS, REPLY_HEADER_BYTES, REPLY_SYNC,
    REQUEST_HEADER_BYTES, REQUEST_SYNC,
};
use rust_hdl::prelude::*;

/// Bytes of a request header after its SYNC (CMD, SEQ, ADDR, COUNT).
const HEADER_AFTER_SYNC: u64 = REQUEST_HEADER_BYTES as u64 - 1;

/// Bridge states.
#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum BridgeState {
    /// Waiting for a request's SYNC.
    Sync,
    /// Receiving CMD, SEQ, ADDR, COUNT.
    Header,
    /// Checking the header.
    Check,
    /// Receiving a write's DATA words.
    Data,
    /// Waiting for the CRC byte.
    Crc,
    /// Dropping a bad frame's bytes until the line is idle.
    Discard,
    /// The AXI4-Lite write of a REG_WRITE.
    AxiWrite,
    /// The AXI4-Lite read of a REG_READ.
    AxiRead,
    /// Waiting for the last memory write to be taken before replying.
    Drain,
    /// Sending SYNC, STATUS, SEQ, COUNT.
    TxHead,
    /// Sending the DATA words.
    TxData,
    /// Sending the CRC.
    TxCrc,
}

/// The UART-to-AXI4-Lite bridge (see the module docs). Every output is a register (`tx`
/// through an inverter), none depends on an input in the same cycle.
#[derive(LogicBlock)]
pub struct UartBridge {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub reset: Signal<In, Bit>,
    /// UART from the host (asynchronous).
    pub rx: Signal<In, Bit>,
    /// UART to the host.
    pub tx: Signal<Out, Bit>,
    /// AXI4-Lite master (to the accelerator's `s_axi_*`): write address, a register's byte offset.
    pub m_axil_awaddr: Signal<Out, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite master.
    pub m_axil_awvalid: Signal<Out, Bit>,
    /// AXI4-Lite master.
    pub m_axil_awready: Signal<In, Bit>,
    /// AXI4-Lite master.
    pub m_axil_wdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite master: always every byte.
    pub m_axil_wstrb: Signal<Out, Bits<4>>,
    /// AXI4-Lite master.
    pub m_axil_wvalid: Signal<Out, Bit>,
    /// AXI4-Lite master.
    pub m_axil_wready: Signal<In, Bit>,
    /// AXI4-Lite master.
    pub m_axil_bresp: Signal<In, Bits<RESP_BITS>>,
    /// AXI4-Lite master.
    pub m_axil_bvalid: Signal<In, Bit>,
    /// AXI4-Lite master: always high.
    pub m_axil_bready: Signal<Out, Bit>,
    /// AXI4-Lite master: read address, a register's byte offset.
    pub m_axil_araddr: Signal<Out, Bits<REG_ADDR_BITS>>,
    /// AXI4-Lite master.
    pub m_axil_arvalid: Signal<Out, Bit>,
    /// AXI4-Lite master.
    pub m_axil_arready: Signal<In, Bit>,
    /// AXI4-Lite master.
    pub m_axil_rdata: Signal<In, Bits<32>>,
    /// AXI4-Lite master.
    pub m_axil_rresp: Signal<In, Bits<RESP_BITS>>,
    /// AXI4-Lite master.
    pub m_axil_rvalid: Signal<In, Bit>,
    /// AXI4-Lite master: always high.
    pub m_axil_rready: Signal<Out, Bit>,
    /// Memory port: a request this cycle (held until `mem_ready`).
    pub mem_valid: Signal<Out, Bit>,
    /// Memory port: write (1) or read (0).
    pub mem_write: Signal<Out, Bit>,
    /// Memory port: word address (byte address / 4).
    pub mem_addr: Signal<Out, Bits<MEM_WORD_ADDR_BITS>>,
    /// Memory port: write data.
    pub mem_wdata: Signal<Out, Bits<32>>,
    /// Memory port: the request is taken this cycle.
    pub mem_ready: Signal<In, Bit>,
    /// Memory port: read data valid, one per read taken, in order.
    pub mem_rvalid: Signal<In, Bit>,
    /// Memory port: read data.
    pub mem_rdata: Signal<In, Bits<32>>,

    urx: UartRx,
    utx: UartTx,
    st: DFF<BridgeState>,
    // Header bytes after SEQ as they arrive, shifted down: ADDR in bits 31:0, COUNT in 47:32.
    hdr: DFF<Bits<48>>,
    cmd: DFF<Bits<8>>,
    seq: DFF<Bits<8>>,
    // Header bytes received (Header), reply header bytes sent (TxHead).
    idx: DFF<Bits<4>>,
    crc: DFF<Bits<8>>,
    status: DFF<Bits<8>>,
    // The reply's COUNT.
    count: DFF<Bits<16>>,
    // Words left to receive (Data) or to send (TxData).
    words: DFF<Bits<16>>,
    // Byte of the current word (Data, TxData).
    bidx: DFF<Bits<2>>,
    // The word being received (shifted in from the top) or sent (shifted out at the bottom).
    word: DFF<Bits<32>>,
    // `word` holds a word being sent.
    wload: DFF<Bit>,
    mreq: DFF<Bit>,
    mwr: DFF<Bit>,
    maddr: DFF<Bits<MEM_WORD_ADDR_BITS>>,
    mwdata: DFF<Bits<32>>,
    // MEM_READ: reads still to issue, one issued and not returned, the word read ahead.
    rleft: DFF<Bits<16>>,
    routs: DFF<Bit>,
    rbuf: DFF<Bits<32>>,
    rbufv: DFF<Bit>,
    awv: DFF<Bit>,
    wv: DFF<Bit>,
    arv: DFF<Bit>,
    tmo: DFF<Bits<16>>,

    rx_byte: Signal<Local, Bits<8>>,
    rx_got: Signal<Local, Bit>,
    rx_byte48: Signal<Local, Bits<48>>,
    rx_byte32: Signal<Local, Bits<32>>,
    word_in: Signal<Local, Bits<32>>,
    // CRC-8 of one byte: crc_next = table[crc ^ byte], in closed form (see `update`).
    crc_byte: Signal<Local, Bits<8>>,
    crc_a: Signal<Local, Bits<8>>,
    crc_a10: Signal<Local, Bits<10>>,
    crc_w: Signal<Local, Bits<10>>,
    crc_h2: Signal<Local, Bits<2>>,
    crc_h: Signal<Local, Bits<8>>,
    crc_lo: Signal<Local, Bits<8>>,
    crc_next: Signal<Local, Bits<8>>,
    h_addr: Signal<Local, Bits<32>>,
    h_count: Signal<Local, Bits<16>>,
    h_count32: Signal<Local, Bits<32>>,
    h_waddr: Signal<Local, Bits<32>>,
    h_end: Signal<Local, Bits<32>>,
    is_reg: Signal<Local, Bit>,
    is_mem: Signal<Local, Bit>,
    cmd_ok: Signal<Local, Bit>,
    count_ok: Signal<Local, Bit>,
    addr_ok: Signal<Local, Bit>,
    tx_byte: Signal<Local, Bits<8>>,
    tx_valid: Signal<Local, Bit>,
    tx_go: Signal<Local, Bit>,
    word_lo: Signal<Local, Bits<8>>,
    count_lo: Signal<Local, Bits<8>>,
    count_hi: Signal<Local, Bits<8>>,
    resp: Signal<Local, Bits<RESP_BITS>>,
    resp_status: Signal<Local, Bits<8>>,
    mem_issue: Signal<Local, Bit>,

    k_req_sync: Constant<Bits<8>>,
    k_reply_sync: Constant<Bits<8>>,
    k_cmd_regw: Constant<Bits<8>>,
    k_cmd_regr: Constant<Bits<8>>,
    k_cmd_memw: Constant<Bits<8>>,
    k_cmd_memr: Constant<Bits<8>>,
    k_ok: Constant<Bits<8>>,
    k_bad_crc: Constant<Bits<8>>,
    k_bad_cmd: Constant<Bits<8>>,
    k_bad_count: Constant<Bits<8>>,
    k_bad_addr: Constant<Bits<8>>,
    k_truncated: Constant<Bits<8>>,
    k_slverr: Constant<Bits<8>>,
    k_decerr: Constant<Bits<8>>,
    k_timeout: Constant<Bits<8>>,
    k_resp_slverr: Constant<Bits<RESP_BITS>>,
    k_resp_decerr: Constant<Bits<RESP_BITS>>,
    k_hdr_last: Constant<Bits<4>>,
    k_txh_last: Constant<Bits<4>>,
    k_zero4: Constant<Bits<4>>,
    k_one4: Constant<Bits<4>>,
    k_two4: Constant<Bits<4>>,
    k_one2: Constant<Bits<2>>,
    k_three2: Constant<Bits<2>>,
    k_zero8: Constant<Bits<8>>,
    k_one16: Constant<Bits<16>>,
    k_zero16: Constant<Bits<16>>,
    k_max_words: Constant<Bits<16>>,
    k_tmo_last: Constant<Bits<16>>,
    k_one_maddr: Constant<Bits<MEM_WORD_ADDR_BITS>>,
    k_align: Constant<Bits<32>>,
    k_reg_space: Constant<Bits<32>>,
    k_mem_words: Constant<Bits<32>>,
    k_wstrb: Constant<Bits<4>>,
    k_sh1_10: Constant<Bits<10>>,
    k_sh2_10: Constant<Bits<10>>,
    k_sh1_8: Constant<Bits<8>>,
    k_sh2_8: Constant<Bits<8>>,
    k_sh8_48: Constant<Bits<48>>,
    k_sh40_48: Constant<Bits<48>>,
    k_sh8_32: Constant<Bits<32>>,
    k_sh24_32: Constant<Bits<32>>,
    k_sh2_32: Constant<Bits<32>>,
    k_count_hi: Constant<BitIndex>,
}

fn status(s: Status) -> Constant<Bits<8>> {
    const_bits(s.code() as u64)
}

fn command(c: Command) -> Constant<Bits<8>> {
    const_bits(c.code() as u64)
}

impl UartBridge {
    /// A bridge at `clks_per_bit` clock cycles per UART bit (4 to 65535) in front of a memory
    /// of `mem_words` 32-bit words (1 to `1 << MEM_WORD_ADDR_BITS`): MEM_* ranges beyond it
    /// answer BAD_ADDR.
    pub fn new(clks_per_bit: u32, mem_words: u32) -> Self {
        assert!(
            (1..=1u32 << MEM_WORD_ADDR_BITS).contains(&mem_words),
            "mem_words {mem_words} out of 1..={}",
            1u32 << MEM_WORD_ADDR_BITS
        );
        const _: () = assert!(AXI_TIMEOUT_CYCLES >= 2 && AXI_TIMEOUT_CYCLES <= 0x1_0000);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            m_axil_awaddr: Default::default(),
            m_axil_awvalid: Default::default(),
            m_axil_awready: Default::default(),
            m_axil_wdata: Default::default(),
            m_axil_wstrb: Default::default(),
            m_axil_wvalid: Default::default(),
            m_axil_wready: Default::default(),
            m_axil_bresp: Default::default(),
            m_axil_bvalid: Default::default(),
            m_axil_bready: Default::default(),
            m_axil_araddr: Default::default(),
            m_axil_arvalid: Default::default(),
            m_axil_arready: Default::default(),
            m_axil_rdata: Default::default(),
            m_axil_rresp: Default::default(),
            m_axil_rvalid: Default::default(),
            m_axil_rready: Default::default(),
            mem_valid: Default::default(),
            mem_write: Default::default(),
            mem_addr: Default::default(),
            mem_wdata: Default::default(),
            mem_ready: Default::default(),
            mem_rvalid: Default::default(),
            mem_rdata: Default::default(),
            urx: UartRx::new(clks_per_bit, IDLE_TIMEOUT_BITS),
            utx: UartTx::new(clks_per_bit),
            st: Default::default(),
            hdr: Default::default(),
            cmd: Default::default(),
            seq: Default::default(),
            idx: Default::default(),
            crc: Default::default(),
            status: Default::default(),
            count: Default::default(),
            words: Default::default(),
            bidx: Default::default(),
            word: Default::default(),
            wload: Default::default(),
            mreq: Default::default(),
            mwr: Default::default(),
            maddr: Default::default(),
            mwdata: Default::default(),
            rleft: Default::default(),
            routs: Default::default(),
            rbuf: Default::default(),
            rbufv: Default::default(),
            awv: Default::default(),
            wv: Default::default(),
            arv: Default::default(),
            tmo: Default::default(),
            rx_byte: Default::default(),
            rx_got: Default::default(),
            rx_byte48: Default::default(),
            rx_byte32: Default::default(),
            word_in: Default::default(),
            crc_byte: Default::default(),
            crc_a: Default::default(),
            crc_a10: Default::default(),
            crc_w: Default::default(),
            crc_h2: Default::default(),
            crc_h: Default::default(),
            crc_lo: Default::default(),
            crc_next: Default::default(),
            h_addr: Default::default(),
            h_count: Default::default(),
            h_count32: Default::default(),
            h_waddr: Default::default(),
            h_end: Default::default(),
            is_reg: Default::default(),
            is_mem: Default::default(),
            cmd_ok: Default::default(),
            count_ok: Default::default(),
            addr_ok: Default::default(),
            tx_byte: Default::default(),
            tx_valid: Default::default(),
            tx_go: Default::default(),
            word_lo: Default::default(),
            count_lo: Default::default(),
            count_hi: Default::default(),
            resp: Default::default(),
            resp_status: Default::default(),
            mem_issue: Default::default(),
            k_req_sync: const_bits(REQUEST_SYNC as u64),
            k_reply_sync: const_bits(REPLY_SYNC as u64),
            k_cmd_regw: command(Command::RegWrite),
            k_cmd_regr: command(Command::RegRead),
            k_cmd_memw: command(Command::MemWrite),
            k_cmd_memr: command(Command::MemRead),
            k_ok: status(Status::Ok),
            k_bad_crc: status(Status::BadCrc),
            k_bad_cmd: status(Status::BadCmd),
            k_bad_count: status(Status::BadCount),
            k_bad_addr: status(Status::BadAddr),
            k_truncated: status(Status::Truncated),
            k_slverr: status(Status::AxiSlvErr),
            k_decerr: status(Status::AxiDecErr),
            k_timeout: status(Status::AxiTimeout),
            k_resp_slverr: const_bits(AxiResp::SlvErr.code()),
            k_resp_decerr: const_bits(AxiResp::DecErr.code()),
            k_hdr_last: const_bits(HEADER_AFTER_SYNC - 1),
            k_txh_last: const_bits(REPLY_HEADER_BYTES as u64 - 1),
            k_zero4: const_bits(0),
            k_one4: const_bits(1),
            k_two4: const_bits(2),
            k_one2: const_bits(1),
            k_three2: const_bits(3),
            k_zero8: const_bits(0),
            k_one16: const_bits(1),
            k_zero16: const_bits(0),
            k_max_words: const_bits(MAX_WORDS as u64),
            k_tmo_last: const_bits(AXI_TIMEOUT_CYCLES as u64 - 1),
            k_one_maddr: const_bits(1),
            k_align: const_bits(3),
            k_reg_space: const_bits(1 << REG_ADDR_BITS),
            k_mem_words: const_bits(mem_words as u64),
            k_wstrb: const_bits(0xF),
            k_sh1_10: const_bits(1),
            k_sh2_10: const_bits(2),
            k_sh1_8: const_bits(1),
            k_sh2_8: const_bits(2),
            k_sh8_48: const_bits(8),
            k_sh40_48: const_bits(40),
            k_sh8_32: const_bits(8),
            k_sh24_32: const_bits(24),
            k_sh2_32: const_bits(2),
            k_count_hi: const_index(8),
        }
    }
}

impl Logic for UartBridge {
    // `match` guards are not synthesizable: the state's conditions stay `if`s inside the arms.
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, st, hdr, cmd, seq, idx, crc, status, count, words, bidx, word, wload, mreq, mwr, maddr,
            mwdata, rleft, routs, rbuf, rbufv, awv, wv, arv, tmo
        );
        self.urx.clock.next = self.clock.val();
        self.urx.reset.next = self.reset.val();
        self.urx.rx.next = self.rx.val();
        self.utx.clock.next = self.clock.val();
        self.utx.reset.next = self.reset.val();

        self.rx_byte.next = self.urx.data.val();
        self.rx_got.next = self.urx.valid.val();
        self.rx_byte48.next = bit_cast::<48, 8>(self.rx_byte.val());
        self.rx_byte32.next = bit_cast::<32, 8>(self.rx_byte.val());
        self.word_in.next = (self.word.q.val() >> self.k_sh8_32.val()) | (self.rx_byte32.val() << self.k_sh24_32.val());

        // ---- the header's fields and checks (read in Check, when the header is complete)
        self.h_addr.next = self.hdr.q.val().get_bits::<32>(0);
        self.h_count.next = self.hdr.q.val().get_bits::<16>(32);
        self.h_count32.next = bit_cast::<32, 16>(self.h_count.val());
        self.h_waddr.next = self.h_addr.val() >> self.k_sh2_32.val();
        // At most 2^30 + 2^16: no overflow.
        self.h_end.next = self.h_waddr.val() + self.h_count32.val();
        self.is_reg.next = (self.cmd.q.val() == self.k_cmd_regw.val()) | (self.cmd.q.val() == self.k_cmd_regr.val());
        self.is_mem.next = (self.cmd.q.val() == self.k_cmd_memw.val()) | (self.cmd.q.val() == self.k_cmd_memr.val());
        self.cmd_ok.next = self.is_reg.val() | self.is_mem.val();
        self.count_ok.next = (self.h_count.val() != self.k_zero16.val())
            & (!self.is_reg.val() | (self.h_count.val() == self.k_one16.val()))
            & (!self.is_mem.val() | (self.h_count.val() <= self.k_max_words.val()));
        self.addr_ok.next = !(self.h_addr.val() & self.k_align.val()).any()
            & (!self.is_reg.val() | (self.h_addr.val() < self.k_reg_space.val()))
            & (!self.is_mem.val() | (self.h_end.val() <= self.k_mem_words.val()));

        // ---- the reply's bytes
        self.word_lo.next = self.word.q.val().get_bits::<8>(0);
        self.count_lo.next = self.count.q.val().get_bits::<8>(0);
        self.count_hi.next = self.count.q.val().get_bits::<8>(self.k_count_hi.val().index());
        self.tx_byte.next = self.crc.q.val();
        self.tx_valid.next = false;
        match self.st.q.val() {
            BridgeState::TxHead => {
                self.tx_valid.next = true;
                if self.idx.q.val() == self.k_zero4.val() {
                    self.tx_byte.next = self.k_reply_sync.val();
                } else if self.idx.q.val() == self.k_one4.val() {
                    self.tx_byte.next = self.status.q.val();
                } else if self.idx.q.val() == self.k_txh_last.val() {
                    self.tx_byte.next = self.count_hi.val();
                } else if self.idx.q.val() == self.k_two4.val() {
                    self.tx_byte.next = self.seq.q.val();
                } else {
                    self.tx_byte.next = self.count_lo.val();
                }
            }
            BridgeState::TxData => {
                self.tx_valid.next = self.wload.q.val();
                self.tx_byte.next = self.word_lo.val();
            }
            BridgeState::TxCrc => {
                self.tx_valid.next = true;
            }
            _ => {}
        }
        self.utx.data.next = self.tx_byte.val();
        self.utx.valid.next = self.tx_valid.val();
        self.tx_go.next = self.tx_valid.val() & self.utx.ready.val();

        // ---- CRC-8/SMBUS of one byte (poly x^8 + x^2 + x + 1): table[a] = a·x^8 mod P. With
        // x^8 ≡ x^2 + x + 1: w = a·(x^2 + x + 1) has 10 bits, and its two top bits h reduce
        // the same way, h·(x^2 + x + 1) (at most 4 bits, nothing left to reduce).
        self.crc_byte.next = self.rx_byte.val();
        if self.tx_valid.val() {
            self.crc_byte.next = self.tx_byte.val();
        }
        self.crc_a.next = self.crc.q.val() ^ self.crc_byte.val();
        self.crc_a10.next = bit_cast::<10, 8>(self.crc_a.val());
        self.crc_w.next = self.crc_a10.val()
            ^ (self.crc_a10.val() << self.k_sh1_10.val())
            ^ (self.crc_a10.val() << self.k_sh2_10.val());
        self.crc_h2.next = self.crc_w.val().get_bits::<2>(self.k_count_hi.val().index());
        self.crc_h.next = bit_cast::<8, 2>(self.crc_h2.val());
        self.crc_lo.next = self.crc_w.val().get_bits::<8>(0);
        self.crc_next.next = self.crc_lo.val()
            ^ self.crc_h.val()
            ^ (self.crc_h.val() << self.k_sh1_8.val())
            ^ (self.crc_h.val() << self.k_sh2_8.val());

        // ---- AXI response → status
        self.resp.next = self.m_axil_bresp.val();
        if self.st.q.val() == BridgeState::AxiRead {
            self.resp.next = self.m_axil_rresp.val();
        }
        self.resp_status.next = self.k_ok.val();
        if self.resp.val() == self.k_resp_slverr.val() {
            self.resp_status.next = self.k_slverr.val();
        }
        if self.resp.val() == self.k_resp_decerr.val() {
            self.resp_status.next = self.k_decerr.val();
        }

        // ---- memory port: a taken request ends; MEM_READ issues its reads one ahead
        if self.mreq.q.val() & self.mem_ready.val() {
            self.mreq.d.next = false;
            self.maddr.d.next = self.maddr.q.val() + self.k_one_maddr.val();
            if !self.mwr.q.val() {
                self.routs.d.next = true;
            }
        }
        if self.mem_rvalid.val() & self.routs.q.val() {
            self.routs.d.next = false;
            self.rbuf.d.next = self.mem_rdata.val();
            self.rbufv.d.next = true;
        }
        self.mem_issue.next = (self.rleft.q.val() != self.k_zero16.val())
            & !self.mreq.q.val()
            & !self.routs.q.val()
            & !self.rbufv.q.val();
        if self.mem_issue.val() {
            self.mreq.d.next = true;
            self.mwr.d.next = false;
            self.rleft.d.next = self.rleft.q.val() - self.k_one16.val();
        }

        // ---- AXI handshakes and the response timeout
        if self.m_axil_awready.val() {
            self.awv.d.next = false;
        }
        if self.m_axil_wready.val() {
            self.wv.d.next = false;
        }
        if self.m_axil_arready.val() {
            self.arv.d.next = false;
        }
        self.tmo.d.next = self.tmo.q.val() + self.k_one16.val();

        match self.st.q.val() {
            BridgeState::Sync => {
                if self.rx_got.val() & (self.rx_byte.val() == self.k_req_sync.val()) {
                    self.st.d.next = BridgeState::Header;
                    self.idx.d.next = 0.into();
                    self.crc.d.next = 0.into();
                    // SEQ is 0 in the reply of a frame that ends before it.
                    self.seq.d.next = 0.into();
                    self.cmd.d.next = 0.into();
                }
            }
            BridgeState::Header => {
                if self.rx_got.val() {
                    self.crc.d.next = self.crc_next.val();
                    self.idx.d.next = self.idx.q.val() + self.k_one4.val();
                    self.hdr.d.next =
                        (self.hdr.q.val() >> self.k_sh8_48.val()) | (self.rx_byte48.val() << self.k_sh40_48.val());
                    if self.idx.q.val() == self.k_zero4.val() {
                        self.cmd.d.next = self.rx_byte.val();
                    }
                    if self.idx.q.val() == self.k_one4.val() {
                        self.seq.d.next = self.rx_byte.val();
                    }
                    if self.idx.q.val() == self.k_hdr_last.val() {
                        self.st.d.next = BridgeState::Check;
                    }
                }
            }
            BridgeState::Check => {
                self.count.d.next = self.h_count.val();
                self.words.d.next = self.h_count.val();
                self.maddr.d.next = self.h_waddr.val().get_bits::<MEM_WORD_ADDR_BITS>(0);
                self.bidx.d.next = 0.into();
                if !self.cmd_ok.val() {
                    self.status.d.next = self.k_bad_cmd.val();
                    self.st.d.next = BridgeState::Discard;
                } else if !self.count_ok.val() {
                    self.status.d.next = self.k_bad_count.val();
                    self.st.d.next = BridgeState::Discard;
                } else if !self.addr_ok.val() {
                    self.status.d.next = self.k_bad_addr.val();
                    self.st.d.next = BridgeState::Discard;
                } else if (self.cmd.q.val() == self.k_cmd_regw.val()) | (self.cmd.q.val() == self.k_cmd_memw.val()) {
                    self.st.d.next = BridgeState::Data;
                } else {
                    self.st.d.next = BridgeState::Crc;
                }
            }
            BridgeState::Data => {
                if self.rx_got.val() {
                    self.crc.d.next = self.crc_next.val();
                    self.word.d.next = self.word_in.val();
                    self.bidx.d.next = self.bidx.q.val() + self.k_one2.val();
                    if self.bidx.q.val() == self.k_three2.val() {
                        self.words.d.next = self.words.q.val() - self.k_one16.val();
                        if self.cmd.q.val() == self.k_cmd_memw.val() {
                            self.mreq.d.next = true;
                            self.mwr.d.next = true;
                            self.mwdata.d.next = self.word_in.val();
                        }
                        if self.words.q.val() == self.k_one16.val() {
                            self.st.d.next = BridgeState::Crc;
                        }
                    }
                }
            }
            BridgeState::Crc => {
                if self.rx_got.val() {
                    self.crc.d.next = self.crc_next.val();
                    self.tmo.d.next = 0.into();
                    if self.crc_next.val() != self.k_zero8.val() {
                        self.status.d.next = self.k_bad_crc.val();
                        self.count.d.next = 0.into();
                        self.st.d.next = BridgeState::Drain;
                    } else if self.cmd.q.val() == self.k_cmd_regw.val() {
                        self.awv.d.next = true;
                        self.wv.d.next = true;
                        self.st.d.next = BridgeState::AxiWrite;
                    } else if self.cmd.q.val() == self.k_cmd_regr.val() {
                        self.arv.d.next = true;
                        self.st.d.next = BridgeState::AxiRead;
                    } else {
                        self.status.d.next = self.k_ok.val();
                        if self.cmd.q.val() == self.k_cmd_memr.val() {
                            self.rleft.d.next = self.count.q.val();
                        } else {
                            self.count.d.next = 0.into();
                        }
                        self.st.d.next = BridgeState::Drain;
                    }
                }
            }
            BridgeState::Discard => {
                if self.urx.idle.val() {
                    self.count.d.next = 0.into();
                    self.st.d.next = BridgeState::Drain;
                }
            }
            BridgeState::AxiWrite => {
                if self.m_axil_bvalid.val() {
                    self.status.d.next = self.resp_status.val();
                    self.count.d.next = 0.into();
                    self.awv.d.next = false;
                    self.wv.d.next = false;
                    self.st.d.next = BridgeState::Drain;
                } else if self.tmo.q.val() == self.k_tmo_last.val() {
                    self.status.d.next = self.k_timeout.val();
                    self.count.d.next = 0.into();
                    self.awv.d.next = false;
                    self.wv.d.next = false;
                    self.st.d.next = BridgeState::Drain;
                }
            }
            BridgeState::AxiRead => {
                if self.m_axil_rvalid.val() {
                    self.status.d.next = self.resp_status.val();
                    self.arv.d.next = false;
                    if self.resp_status.val() == self.k_ok.val() {
                        self.rbuf.d.next = self.m_axil_rdata.val();
                        self.rbufv.d.next = true;
                    } else {
                        self.count.d.next = 0.into();
                    }
                    self.st.d.next = BridgeState::Drain;
                } else if self.tmo.q.val() == self.k_tmo_last.val() {
                    self.status.d.next = self.k_timeout.val();
                    self.count.d.next = 0.into();
                    self.arv.d.next = false;
                    self.st.d.next = BridgeState::Drain;
                }
            }
            BridgeState::Drain => {
                if !self.mreq.q.val() | !self.mwr.q.val() {
                    self.idx.d.next = 0.into();
                    self.crc.d.next = 0.into();
                    self.st.d.next = BridgeState::TxHead;
                }
            }
            BridgeState::TxHead => {
                if self.tx_go.val() {
                    self.idx.d.next = self.idx.q.val() + self.k_one4.val();
                    // Every byte but the SYNC is in the CRC.
                    if self.idx.q.val() != self.k_zero4.val() {
                        self.crc.d.next = self.crc_next.val();
                    }
                    if self.idx.q.val() == self.k_txh_last.val() {
                        self.words.d.next = self.count.q.val();
                        self.bidx.d.next = 0.into();
                        self.wload.d.next = false;
                        if self.count.q.val() == self.k_zero16.val() {
                            self.st.d.next = BridgeState::TxCrc;
                        } else {
                            self.st.d.next = BridgeState::TxData;
                        }
                    }
                }
            }
            BridgeState::TxData => {
                if !self.wload.q.val() {
                    if self.rbufv.q.val() {
                        self.word.d.next = self.rbuf.q.val();
                        self.rbufv.d.next = false;
                        self.wload.d.next = true;
                    }
                } else if self.tx_go.val() {
                    self.crc.d.next = self.crc_next.val();
                    self.word.d.next = self.word.q.val() >> self.k_sh8_32.val();
                    self.bidx.d.next = self.bidx.q.val() + self.k_one2.val();
                    if self.bidx.q.val() == self.k_three2.val() {
                        self.wload.d.next = false;
                        self.words.d.next = self.words.q.val() - self.k_one16.val();
                        if self.words.q.val() == self.k_one16.val() {
                            self.st.d.next = BridgeState::TxCrc;
                        }
                    }
                }
            }
            BridgeState::TxCrc => {
                if self.tx_go.val() {
                    self.st.d.next = BridgeState::Sync;
                }
            }
            _ => {}
        }

        // A framing error inside a frame: a byte was lost, so the frame cannot end well.
        if self.urx.frame_err.val()
            & ((self.st.q.val() == BridgeState::Header)
                | (self.st.q.val() == BridgeState::Data)
                | (self.st.q.val() == BridgeState::Crc))
        {
            self.status.d.next = self.k_truncated.val();
            self.st.d.next = BridgeState::Discard;
        }
        // The line went idle inside a frame.
        if self.urx.idle.val()
            & ((self.st.q.val() == BridgeState::Header)
                | (self.st.q.val() == BridgeState::Data)
                | (self.st.q.val() == BridgeState::Crc))
        {
            self.status.d.next = self.k_truncated.val();
            self.count.d.next = 0.into();
            self.st.d.next = BridgeState::Drain;
        }

        if self.reset.val() {
            self.st.d.next = BridgeState::Sync;
            self.mreq.d.next = false;
            self.routs.d.next = false;
            self.rleft.d.next = 0.into();
            self.rbufv.d.next = false;
            self.wload.d.next = false;
            self.awv.d.next = false;
            self.wv.d.next = false;
            self.arv.d.next = false;
        }

        self.tx.next = self.utx.tx.val();
        self.m_axil_awaddr.next = self.h_addr.val().get_bits::<REG_ADDR_BITS>(0);
        self.m_axil_awvalid.next = self.awv.q.val();
        self.m_axil_wdata.next = self.word.q.val();
        self.m_axil_wstrb.next = self.k_wstrb.val();
        self.m_axil_wvalid.next = self.wv.q.val();
        self.m_axil_bready.next = true;
        self.m_axil_araddr.next = self.h_addr.val().get_bits::<REG_ADDR_BITS>(0);
        self.m_axil_arvalid.next = self.arv.q.val();
        self.m_axil_rready.next = true;
        self.mem_valid.next = self.mreq.q.val();
        self.mem_write.next = self.mwr.q.val();
        self.mem_addr.next = self.maddr.q.val();
        self.mem_wdata.next = self.mwdata.q.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng, HasClock};
    use crate::spec::board::CLKS_PER_BIT;
    use crate::spec::uart::{crc8, Reply, Request, WORD_BYTES};
    use std::collections::{BTreeSet, HashMap, VecDeque};

    impl HasClock for UartBridge {
        fn clock_signal(&mut self) -> &mut Signal<In, Clock> {
            &mut self.clock
        }
    }

    /// Memory of the tests: small, so the end of its range is reachable.
    const MEM_WORDS: u32 = 1024;

    /// What the behavioural AXI4-Lite slave does at an address.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Fault {
        SlvErr,
        DecErr,
        /// Takes the request and never answers.
        NoResponse,
    }

    /// An AXI4-Lite slave: registers in a map, faults by address, random ready and response
    /// delays; checks that the master holds its requests until they are taken.
    #[derive(Default)]
    struct AxiSlave {
        regs: HashMap<u32, u32>,
        faults: HashMap<u32, Fault>,
        writes: usize,
        reads: usize,
        aw: Option<u32>,
        w: Option<u32>,
        // Pending response: (cycles before it is presented, RESP, RDATA).
        b: Option<(u32, u64)>,
        ar: Option<u32>,
        r: Option<(u32, u64, u32)>,
        // Requests seen unaccepted last cycle (must be held).
        held_aw: Option<u32>,
        held_w: Option<u32>,
        held_ar: Option<u32>,
    }

    /// A word memory: random ready, reads answered 1 to 6 cycles later, in order.
    struct Mem {
        words: Vec<u32>,
        writes: usize,
        reads: VecDeque<(u64, u32)>,
        held: Option<(bool, u32, u32)>,
        stall: u32,
    }

    /// The bench: the bridge, its slaves, the rx line it is driven with, the tx line decoded.
    struct Bench {
        uut: UartBridge,
        clks: u32,
        line: VecDeque<bool>,
        axi: AxiSlave,
        mem: Mem,
        r: Box<dyn FnMut() -> u64>,
        t: u64,
        // Percent chance of a ready (AXI, memory) in a cycle.
        ready_pct: u64,
        // The tx decoder: start of the frame being sampled, bits so far.
        tx_start: Option<u64>,
        tx_bits: Vec<bool>,
        got: VecDeque<u8>,
        // Time each reply byte's start bit began.
        got_at: VecDeque<u64>,
    }

    impl Bench {
        fn new(clks: u32, seed: u64) -> Bench {
            let mut uut = UartBridge::new(clks, MEM_WORDS);
            uut.connect_all();
            let mut r = rng(seed);
            let words = (0..MEM_WORDS).map(|_| r() as u32).collect();
            let mut b = Bench {
                uut,
                clks,
                line: VecDeque::new(),
                axi: AxiSlave::default(),
                mem: Mem {
                    words,
                    writes: 0,
                    reads: VecDeque::new(),
                    held: None,
                    stall: 0,
                },
                r: Box::new(r),
                t: 0,
                ready_pct: 50,
                tx_start: None,
                tx_bits: Vec::new(),
                got: VecDeque::new(),
                got_at: VecDeque::new(),
            };
            b.uut.reset.next = true;
            b.uut.rx.next = true;
            cycle(&mut b.uut);
            cycle(&mut b.uut);
            b.uut.reset.next = false;
            b
        }

        fn chance(&mut self, pct: u64) -> bool {
            (self.r)() % 100 < pct
        }

        /// Queues `bytes` on the rx line, back to back.
        fn send(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.send_byte(b, true);
            }
        }

        /// Queues one frame; `stop` false makes a framing error.
        fn send_byte(&mut self, b: u8, stop: bool) {
            let bits = std::iter::once(false)
                .chain((0..8).map(|i| b >> i & 1 == 1))
                .chain([stop]);
            for bit in bits {
                self.line.extend(std::iter::repeat_n(bit, self.clks as usize));
            }
        }

        /// Queues `bits` bit times of idle line.
        fn idle(&mut self, bits: u32) {
            self.line.extend(std::iter::repeat_n(true, (bits * self.clks) as usize));
        }

        /// One clock cycle: drive the inputs, clock, then let the models see the handshakes.
        fn step(&mut self) {
            // ---- inputs for this edge (the bridge's outputs are registers: already final)
            let rx = self.line.pop_front().unwrap_or(true);
            let p = self.ready_pct;
            let awready = self.axi.aw.is_none() && self.axi.b.is_none() && self.chance(p);
            let wready = self.axi.w.is_none() && self.axi.b.is_none() && self.chance(p);
            let arready = self.axi.ar.is_none() && self.axi.r.is_none() && self.chance(p);
            let (bvalid, bresp) = match self.axi.b {
                Some((0, resp)) => (true, resp),
                _ => (false, 0),
            };
            let (rvalid, rresp, rdata) = match self.axi.r {
                Some((0, resp, data)) => (true, resp, data),
                _ => (false, 0, 0xBAD0_BAD0),
            };
            // A stall never longer than 24 cycles (the bridge needs a write taken within four
            // byte times).
            let mem_ready = self.mem.stall >= 24 || self.chance(p);
            let (mem_rvalid, mem_rdata) = match self.mem.reads.front() {
                Some(&(due, data)) if due <= self.t => (true, data),
                _ => (false, 0xBAD1_BAD1),
            };
            let u = &mut self.uut;
            u.rx.next = rx;
            u.m_axil_awready.next = awready;
            u.m_axil_wready.next = wready;
            u.m_axil_bvalid.next = bvalid;
            u.m_axil_bresp.next = bresp.into();
            u.m_axil_arready.next = arready;
            u.m_axil_rvalid.next = rvalid;
            u.m_axil_rresp.next = rresp.into();
            u.m_axil_rdata.next = (rdata as u64).into();
            u.mem_ready.next = mem_ready;
            u.mem_rvalid.next = mem_rvalid;
            u.mem_rdata.next = (mem_rdata as u64).into();

            // ---- what the bridge presents at this edge
            let awv = u.m_axil_awvalid.val();
            let awaddr = u.m_axil_awaddr.val().to_u32();
            let wv = u.m_axil_wvalid.val();
            let wdata = u.m_axil_wdata.val().to_u32();
            let arv = u.m_axil_arvalid.val();
            let araddr = u.m_axil_araddr.val().to_u32();
            assert!(u.m_axil_bready.val() && u.m_axil_rready.val());
            assert_eq!(u.m_axil_wstrb.val().to_u32(), 0xF);
            let mv = u.mem_valid.val();
            let mreq = (u.mem_write.val(), u.mem_addr.val().to_u32(), u.mem_wdata.val().to_u32());

            // AXI and the memory port: a request not taken is held, unchanged.
            if let Some(a) = self.axi.held_aw {
                assert!(awv && awaddr == a, "AW dropped or changed before it was taken");
            }
            if let Some(d) = self.axi.held_w {
                assert!(wv && wdata == d, "W dropped or changed before it was taken");
            }
            if let Some(a) = self.axi.held_ar {
                assert!(arv && araddr == a, "AR dropped or changed before it was taken");
            }
            if let Some((w, a, d)) = self.mem.held {
                assert!(
                    mv && mreq.0 == w && mreq.1 == a && (!w || mreq.2 == d),
                    "memory request dropped"
                );
            }
            self.axi.held_aw = (awv && !awready).then_some(awaddr);
            self.axi.held_w = (wv && !wready).then_some(wdata);
            self.axi.held_ar = (arv && !arready).then_some(araddr);
            self.mem.held = (mv && !mem_ready).then_some(mreq);

            cycle(&mut self.uut);
            self.t += 1;

            // ---- the slaves see the handshakes
            if bvalid {
                self.axi.b = None;
            } else if let Some((d, _)) = &mut self.axi.b {
                *d = d.saturating_sub(1);
            }
            if rvalid {
                self.axi.r = None;
            } else if let Some((d, _, _)) = &mut self.axi.r {
                *d = d.saturating_sub(1);
            }
            if awv && awready {
                assert!(awaddr & 3 == 0, "unaligned AWADDR {awaddr:#x}");
                self.axi.aw = Some(awaddr);
            }
            if wv && wready {
                self.axi.w = Some(wdata);
            }
            if let (Some(a), Some(d)) = (self.axi.aw, self.axi.w) {
                self.axi.aw = None;
                self.axi.w = None;
                let delay = ((self.r)() % 4) as u32;
                match self.axi.faults.get(&a) {
                    None => {
                        self.axi.regs.insert(a, d);
                        self.axi.writes += 1;
                        self.axi.b = Some((delay, AxiResp::Okay.code()));
                    }
                    Some(Fault::SlvErr) => self.axi.b = Some((delay, AxiResp::SlvErr.code())),
                    Some(Fault::DecErr) => self.axi.b = Some((delay, AxiResp::DecErr.code())),
                    Some(Fault::NoResponse) => {}
                }
            }
            if arv && arready {
                assert!(araddr & 3 == 0, "unaligned ARADDR {araddr:#x}");
                self.axi.reads += 1;
                let delay = ((self.r)() % 4) as u32;
                let data = self.axi.regs.get(&araddr).copied().unwrap_or(0);
                match self.axi.faults.get(&araddr) {
                    None => self.axi.r = Some((delay, AxiResp::Okay.code(), data)),
                    Some(Fault::SlvErr) => self.axi.r = Some((delay, AxiResp::SlvErr.code(), 0xEEEE_EEEE)),
                    Some(Fault::DecErr) => self.axi.r = Some((delay, AxiResp::DecErr.code(), 0xEEEE_EEEE)),
                    Some(Fault::NoResponse) => {}
                }
            }
            if mem_rvalid {
                self.mem.reads.pop_front();
            }
            self.mem.stall = if mv && !mem_ready { self.mem.stall + 1 } else { 0 };
            if mv && mem_ready {
                let (w, a, d) = mreq;
                assert!(a < MEM_WORDS, "memory address {a:#x} beyond the memory");
                if w {
                    self.mem.words[a as usize] = d;
                    self.mem.writes += 1;
                } else {
                    let last = self.mem.reads.back().map_or(0, |r| r.0);
                    let due = (self.t + 1 + (self.r)() % 6).max(last + 1);
                    self.mem.reads.push_back((due, self.mem.words[a as usize]));
                }
            }

            // ---- the tx line, sampled mid-bit
            let tx = self.uut.tx.val();
            let c = self.clks as u64;
            match self.tx_start {
                None => {
                    if !tx {
                        self.tx_start = Some(self.t);
                        self.tx_bits.clear();
                    }
                }
                Some(t0) => {
                    let k = self.tx_bits.len() as u64;
                    if self.t == t0 + c / 2 + k * c {
                        self.tx_bits.push(tx);
                        if self.tx_bits.len() == 10 {
                            assert!(!self.tx_bits[0], "tx start bit not low mid-bit");
                            assert!(self.tx_bits[9], "tx stop bit low");
                            let byte = (0..8).fold(0u8, |b, i| b | (self.tx_bits[1 + i] as u8) << i);
                            self.got.push_back(byte);
                            self.got_at.push_back(t0);
                            self.tx_start = None;
                        }
                    }
                }
            }
        }

        /// Runs until a whole reply has arrived (at most `limit` cycles); returns it decoded
        /// and the cycle its first byte started.
        fn reply_within(&mut self, limit: u64) -> (Reply, u64) {
            let end = self.t + limit;
            loop {
                let bytes: Vec<u8> = self.got.iter().copied().collect();
                if let Some(n) = Reply::frame_len(&bytes) {
                    if bytes.len() >= n {
                        let at = self.got_at[0];
                        self.got.drain(..n);
                        self.got_at.drain(..n);
                        let reply =
                            Reply::decode(&bytes[..n]).unwrap_or_else(|e| panic!("bad reply {bytes:02x?}: {e}"));
                        return (reply, at);
                    }
                }
                assert!(self.t < end, "no reply within {limit} cycles (got {bytes:02x?})");
                self.step();
            }
        }

        /// The reply to what was sent, within the time of the line queued plus the idle rule.
        fn reply(&mut self) -> Reply {
            let limit = self.line.len() as u64 + (IDLE_TIMEOUT_BITS as u64 + 1100 * 10) * self.clks as u64 + 10_000;
            self.reply_within(limit).0
        }

        /// Sends `req` and returns its reply; the reply echoes the SEQ.
        fn transact(&mut self, req: &Request) -> Reply {
            self.send(&req.encode());
            let reply = self.reply();
            assert_eq!(reply.seq, req.seq, "{req:?}");
            reply
        }

        /// No byte leaves for longer than the idle rule: exactly one reply per frame.
        fn assert_quiet(&mut self) {
            let n = (IDLE_TIMEOUT_BITS + 40) as u64 * self.clks as u64 + self.line.len() as u64;
            for _ in 0..n {
                self.step();
            }
            assert!(
                self.got.is_empty() && self.tx_start.is_none(),
                "an extra reply: {:02x?}",
                self.got
            );
        }
    }

    fn ok(data: Vec<u32>, seq: u8) -> Reply {
        Reply {
            status: Status::Ok,
            seq,
            data,
        }
    }

    fn err(status: Status, seq: u8) -> Reply {
        Reply {
            status,
            seq,
            data: vec![],
        }
    }

    /// A request frame with any CMD byte and COUNT, `data` words, and a correct CRC.
    fn raw_frame(cmd: u8, seq: u8, addr: u32, count: u16, data: &[u32]) -> Vec<u8> {
        let mut b = vec![REQUEST_SYNC, cmd, seq];
        b.extend_from_slice(&addr.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        for w in data {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.push(crc8(&b[1..]));
        b
    }

    #[test]
    fn register_writes_and_reads() {
        let mut b = Bench::new(4, 1);
        let mut r = rng(2);
        let mut want = HashMap::new();
        for i in 0..12u8 {
            let addr = ((r() % 64) * 4) as u32;
            let value = r() as u32;
            assert_eq!(b.transact(&Request::reg_write(i, addr, value)), ok(vec![], i));
            want.insert(addr, value);
            let read = *want.keys().nth((r() as usize) % want.len()).unwrap();
            assert_eq!(
                b.transact(&Request::reg_read(i ^ 0x80, read)),
                ok(vec![want[&read]], i ^ 0x80)
            );
        }
        assert_eq!(b.axi.regs, want);
        assert_eq!((b.axi.writes, b.axi.reads), (12, 12));
        // The last register of the space.
        assert_eq!(b.transact(&Request::reg_write(7, 0xFC, 0x1234_5678)), ok(vec![], 7));
        assert_eq!(b.transact(&Request::reg_read(8, 0xFC)), ok(vec![0x1234_5678], 8));
        assert_eq!(b.mem.writes + b.mem.reads.len(), 0);
        b.assert_quiet();
    }

    #[test]
    fn memory_writes_then_reads_back_1_and_256_words() {
        let mut b = Bench::new(4, 3);
        let mut r = rng(4);
        // One word, then the 256 words at the very end of the memory.
        let one = [r() as u32];
        assert_eq!(b.transact(&Request::mem_write(1, 0x40, &one)), ok(vec![], 1));
        assert_eq!(b.mem.words[0x10], one[0]);
        assert_eq!(b.transact(&Request::mem_read(2, 0x40, 1)), ok(one.to_vec(), 2));
        let many: Vec<u32> = (0..MAX_WORDS).map(|_| r() as u32).collect();
        let base = (MEM_WORDS - MAX_WORDS as u32) * 4;
        let before = b.mem.words.clone();
        assert_eq!(b.transact(&Request::mem_write(3, base, &many)), ok(vec![], 3));
        assert_eq!(&b.mem.words[(base / 4) as usize..], &many[..]);
        assert_eq!(&b.mem.words[..(base / 4) as usize], &before[..(base / 4) as usize]);
        assert_eq!(b.mem.writes, 1 + MAX_WORDS);
        assert_eq!(
            b.transact(&Request::mem_read(4, base, MAX_WORDS as u16)),
            ok(many.clone(), 4)
        );
        // Reads of words never written return the memory's contents.
        let mid = 0x200;
        assert_eq!(
            b.transact(&Request::mem_read(5, mid * 4, 3)),
            ok(b.mem.words[mid as usize..mid as usize + 3].to_vec(), 5)
        );
        assert_eq!(b.axi.writes + b.axi.reads, 0);
        b.assert_quiet();
    }

    #[test]
    fn a_memory_read_reply_leaves_without_gaps() {
        // Memory always ready: the read ahead keeps the transmitter busy, byte after byte.
        let mut b = Bench::new(4, 5);
        b.ready_pct = 100;
        b.send(&Request::mem_read(9, 0, 64).encode());
        let (reply, _) = b.reply_within(100_000);
        assert_eq!(reply.data.len(), 64);
        let mut b = Bench::new(4, 5);
        b.ready_pct = 100;
        b.send(&Request::mem_read(9, 0, 64).encode());
        let limit = b.t + b.line.len() as u64 + 100_000;
        while b.got.len() < 5 + 4 * 64 + 1 {
            b.step();
            assert!(b.t < limit);
        }
        let starts: Vec<u64> = b.got_at.iter().copied().collect();
        for w in starts.windows(2) {
            assert_eq!(w[1] - w[0], 10 * 4, "a gap in the reply");
        }
    }

    #[test]
    fn every_status_code() {
        let mut b = Bench::new(4, 6);
        let mut seen = BTreeSet::new();
        let mut check = |b: &mut Bench, bytes: Vec<u8>, want: Reply| {
            b.send(&bytes);
            let got = b.reply();
            assert_eq!(got, want, "frame {bytes:02x?}");
            seen.insert(got.status.code());
            b.assert_quiet();
        };
        b.axi.faults.insert(0x20, Fault::SlvErr);
        b.axi.faults.insert(0x24, Fault::DecErr);
        b.axi.faults.insert(0x28, Fault::NoResponse);

        // BAD_CRC: the register is not written.
        let mut f = Request::reg_write(0x11, 0x10, 0xFEED_F00D).encode();
        *f.last_mut().unwrap() ^= 0x40;
        check(&mut b, f, err(Status::BadCrc, 0x11));
        let mut f = Request::reg_write(0x12, 0x10, 0xFEED_F00D).encode();
        f[9] ^= 1;
        check(&mut b, f, err(Status::BadCrc, 0x12));
        assert_eq!(b.axi.writes, 0);
        assert!(b.axi.regs.is_empty());
        // A MEM_READ with a bad CRC reads nothing.
        let mut f = Request::mem_read(0x13, 0, 4).encode();
        f[9] ^= 0x80;
        check(&mut b, f, err(Status::BadCrc, 0x13));
        assert!(b.mem.reads.is_empty());

        // BAD_CMD (with its payload skipped by the idle rule) and codes next to the valid ones.
        for (seq, cmd) in [(0x21, 0x00u8), (0x22, 0x05), (0x23, 0xA5)] {
            check(
                &mut b,
                raw_frame(cmd, seq, 0x10, 1, &[0xA5A5_A5A5]),
                err(Status::BadCmd, seq),
            );
        }

        // BAD_COUNT: 0, above MAX_WORDS, not 1 for a register.
        check(&mut b, raw_frame(0x02, 0x31, 0x10, 2, &[]), err(Status::BadCount, 0x31));
        check(&mut b, raw_frame(0x01, 0x32, 0x10, 0, &[]), err(Status::BadCount, 0x32));
        check(&mut b, raw_frame(0x04, 0x33, 0, 0, &[]), err(Status::BadCount, 0x33));
        let big: Vec<u32> = (0..=MAX_WORDS as u32).collect();
        check(
            &mut b,
            Request::mem_write(0x34, 0, &big).encode(),
            err(Status::BadCount, 0x34),
        );
        assert_eq!(b.mem.writes, 0, "a bad frame's words reached the memory");

        // BAD_ADDR: misaligned, beyond the register space, beyond the memory.
        check(
            &mut b,
            Request::reg_read(0x41, 0x12).encode(),
            err(Status::BadAddr, 0x41),
        );
        check(
            &mut b,
            Request::reg_write(0x42, 0x100, 5).encode(),
            err(Status::BadAddr, 0x42),
        );
        check(
            &mut b,
            Request::reg_read(0x43, 0x8000_0000).encode(),
            err(Status::BadAddr, 0x43),
        );
        check(
            &mut b,
            Request::mem_read(0x44, (MEM_WORDS - 1) * 4, 2).encode(),
            err(Status::BadAddr, 0x44),
        );
        check(
            &mut b,
            Request::mem_write(0x45, 0x101, &[1, 2]).encode(),
            err(Status::BadAddr, 0x45),
        );
        check(
            &mut b,
            Request::mem_read(0x46, 0xFFFF_FFFC, 1).encode(),
            err(Status::BadAddr, 0x46),
        );
        check(
            &mut b,
            Request::mem_write(0x47, MEM_WORDS * 4, &[1]).encode(),
            err(Status::BadAddr, 0x47),
        );
        assert_eq!(b.axi.writes + b.axi.reads + b.mem.writes, 0);
        // The last word of the memory is in range.
        check(
            &mut b,
            Request::mem_write(0x48, (MEM_WORDS - 1) * 4, &[7]).encode(),
            ok(vec![], 0x48),
        );

        // TRUNCATED: in the data, in the header (SEQ echoed), before SEQ (SEQ 0), at the CRC.
        let f = Request::reg_write(0x51, 0x30, 0x0BAD_CAFE).encode();
        check(&mut b, f[..11].to_vec(), err(Status::Truncated, 0x51));
        check(&mut b, f[..5].to_vec(), err(Status::Truncated, 0x51));
        check(&mut b, f[..2].to_vec(), err(Status::Truncated, 0));
        check(&mut b, f[..f.len() - 1].to_vec(), err(Status::Truncated, 0x51));
        assert!(!b.axi.regs.contains_key(&0x30));
        // A MEM_WRITE cut short: the words that arrived are written, the reply says TRUNCATED.
        let f = Request::mem_write(0x52, 0x80, &[10, 11, 12]).encode();
        check(&mut b, f[..9 + 8].to_vec(), err(Status::Truncated, 0x52));
        assert_eq!(&b.mem.words[0x20..0x22], &[10, 11]);

        // AXI_SLVERR, AXI_DECERR, AXI_TIMEOUT on writes and reads.
        for (addr, status) in [
            (0x20, Status::AxiSlvErr),
            (0x24, Status::AxiDecErr),
            (0x28, Status::AxiTimeout),
        ] {
            check(&mut b, Request::reg_write(0x61, addr, 1).encode(), err(status, 0x61));
            check(&mut b, Request::reg_read(0x62, addr).encode(), err(status, 0x62));
        }
        // ... and the bridge still works.
        check(&mut b, Request::reg_write(0x63, 0x2C, 99).encode(), ok(vec![], 0x63));
        check(&mut b, Request::reg_read(0x64, 0x2C).encode(), ok(vec![99], 0x64));

        let all: BTreeSet<u8> = Status::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn errors_reply_after_the_idle_rule_and_timeouts_after_axi_timeout_cycles() {
        let mut b = Bench::new(4, 7);
        // A bad frame is answered once the line has been idle for IDLE_TIMEOUT_BITS.
        b.send(&raw_frame(0x09, 1, 0, 1, &[]));
        let sent = b.t + b.line.len() as u64;
        let (reply, at) = b.reply_within(100_000);
        assert_eq!(reply.status, Status::BadCmd);
        let idle = (IDLE_TIMEOUT_BITS * 4) as u64;
        assert!(
            at >= sent + idle && at < sent + idle + 40,
            "replied {} cycles after the frame",
            at - sent
        );
        // An unanswered register access is answered AXI_TIMEOUT_CYCLES after its request.
        b.axi.faults.insert(0, Fault::NoResponse);
        b.send(&Request::reg_read(2, 0).encode());
        let sent = b.t + b.line.len() as u64;
        let (reply, at) = b.reply_within(100_000);
        assert_eq!(reply.status, Status::AxiTimeout);
        let tmo = AXI_TIMEOUT_CYCLES as u64;
        assert!(
            at >= sent + tmo && at < sent + tmo + 40,
            "replied {} cycles after the frame",
            at - sent
        );
        // A fast OK reply comes within a few cycles.
        b.send(&Request::reg_read(3, 4).encode());
        let sent = b.t + b.line.len() as u64;
        let (reply, at) = b.reply_within(100_000);
        assert_eq!(reply.status, Status::Ok);
        assert!(at < sent + 40, "replied {} cycles after the frame", at - sent);
    }

    #[test]
    fn a_framing_error_inside_a_frame_is_truncated() {
        let mut b = Bench::new(4, 8);
        // The byte after the frame would complete it were the lost byte not noticed (then
        // the CRC or the header would be wrong, not the length).
        let f = Request::reg_write(0x71, 0x40, 0x5555_AAAA).encode();
        b.send(&f[..10]);
        b.send_byte(f[10], false);
        b.send(&f[11..]);
        b.send(&[f[10]]);
        assert_eq!(b.reply(), err(Status::Truncated, 0x71));
        assert!(b.axi.regs.is_empty());
        b.assert_quiet();
        // Between frames, a framing error is ignored like any other noise.
        b.send_byte(0x00, false);
        b.idle(2);
        assert_eq!(b.transact(&Request::reg_write(0x72, 0x40, 3)), ok(vec![], 0x72));
        b.assert_quiet();
    }

    #[test]
    fn back_to_back_frames_with_garbage_between() {
        let mut b = Bench::new(4, 9);
        let mut r = rng(10);
        let mut regs: HashMap<u32, u32> = HashMap::new();
        let mut mem = b.mem.words.clone();
        for i in 0..40u8 {
            // Garbage before some frames: anything but the request SYNC.
            if i % 3 == 1 {
                let garbage: Vec<u8> = (0..1 + r() % 6)
                    .map(|_| r() as u8)
                    .map(|x| if x == REQUEST_SYNC { 0x5A } else { x })
                    .collect();
                b.send(&garbage);
            }
            let addr = (r() % 64 * 4) as u32;
            let req = match r() % 4 {
                0 => Request::reg_write(i, addr, r() as u32),
                1 => Request::reg_read(i, addr),
                2 => {
                    let n = 1 + (r() % 8) as usize;
                    let waddr = (r() % (MEM_WORDS as u64 - n as u64)) as u32;
                    Request::mem_write(i, waddr * 4, &(0..n).map(|_| r() as u32).collect::<Vec<_>>())
                }
                _ => {
                    let n = 1 + (r() % 8) as u16;
                    let waddr = (r() % (MEM_WORDS as u64 - n as u64)) as u32;
                    Request::mem_read(i, waddr * 4, n)
                }
            };
            // The reference model.
            let want = match req.cmd {
                Command::RegWrite => {
                    regs.insert(req.addr, req.data[0]);
                    vec![]
                }
                Command::RegRead => vec![regs.get(&req.addr).copied().unwrap_or(0)],
                Command::MemWrite => {
                    let w = (req.addr / 4) as usize;
                    mem[w..w + req.data.len()].copy_from_slice(&req.data);
                    vec![]
                }
                Command::MemRead => {
                    let w = (req.addr / 4) as usize;
                    mem[w..w + req.count as usize].to_vec()
                }
            };
            // The next frame follows the reply with no idle time.
            assert_eq!(b.transact(&req), ok(want, i), "{req:?}");
        }
        assert_eq!(b.axi.regs, regs);
        assert_eq!(b.mem.words, mem);
        b.assert_quiet();
    }

    #[test]
    fn runs_at_the_boards_baud_divisor() {
        // CLKS_PER_BIT (50): the rx samples mid-bit and the tx decoder checks each bit mid-bit.
        let mut b = Bench::new(CLKS_PER_BIT, 11);
        assert_eq!(b.transact(&Request::reg_write(1, 0x8, 0xC0FF_EE00)), ok(vec![], 1));
        assert_eq!(b.transact(&Request::reg_read(2, 0x8)), ok(vec![0xC0FF_EE00], 2));
        assert_eq!(b.transact(&Request::mem_write(3, 0x10, &[1, 2, 3])), ok(vec![], 3));
        assert_eq!(b.transact(&Request::mem_read(4, 0x10, 3)), ok(vec![1, 2, 3], 4));
        // A reply byte every 10 bit times exactly.
        b.send(&Request::mem_read(5, 0x10, 2).encode());
        let limit = b.t + b.line.len() as u64 + 50_000;
        while b.got.len() < 5 + 4 * 2 + 1 {
            b.step();
            assert!(b.t < limit);
        }
        let starts: Vec<u64> = b.got_at.iter().copied().collect();
        for w in starts.windows(2) {
            assert_eq!(w[1] - w[0], 10 * CLKS_PER_BIT as u64);
        }
    }

    #[test]
    fn reply_bytes_are_the_spec_encoding() {
        // The bytes on the tx line are exactly `Reply::encode`'s (the CRC network matches the
        // spec's CRC on every byte value through the data words).
        let mut b = Bench::new(4, 12);
        let words: Vec<u32> = (0..64u32)
            .map(|i| (4 * i) | (4 * i + 1) << 8 | (4 * i + 2) << 16 | (4 * i + 3) << 24)
            .collect();
        assert_eq!(b.transact(&Request::mem_write(0xEE, 0, &words)), ok(vec![], 0xEE));
        b.send(&Request::mem_read(0xEF, 0, 64).encode());
        let limit = b.t + b.line.len() as u64 + 100_000;
        let n = REPLY_HEADER_BYTES + WORD_BYTES * 64 + 1;
        while b.got.len() < n {
            b.step();
            assert!(b.t < limit);
        }
        let got: Vec<u8> = b.got.iter().copied().collect();
        assert_eq!(
            got,
            Reply {
                status: Status::Ok,
                seq: 0xEF,
                data: words
            }
            .encode()
        );
    }
}
