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
mod tests;
