//! The AXI4 burst DMA masters that move operands and results between device memory and the
//! on-chip buffers.
//!
//! One AXI4 port, [`AXI_DATA_BITS`](crate::spec::config::AXI_DATA_BITS) = 128-bit data
//! (16-byte beats), 32-bit addresses, a single ID (the ID signals are not ports: tied to 0).
//! [`AxiReadDma`] and [`AxiWriteDma`] each take a command (16-byte aligned address, beat count),
//! split it into INCR bursts of at most 256 beats that never cross a 4 KiB page, and keep
//! several bursts outstanding so memory latency is hidden. [`AxiDmaPair`] exposes both as one
//! top (`axi_dma`) for simulation against npe-sim's AXI memory model.
//!
//! A 4 KiB page holds exactly 256 beats of 16 bytes, so the burst split is one comparison: a
//! burst is `min(beats left, 256 - page offset in beats)` long, and every burst after the first
//! starts on a page boundary.

pub mod dma_pair;
pub mod dma_ports;
pub mod dma_read;
pub mod dma_write;
pub(crate) mod issue;

pub use dma_pair::AxiDmaPair;
pub use dma_ports::{DmaCmd, DmaCmdIn, ReadBeat, ReadBeatIn, WriteBeat, WriteBeatIn};
pub use dma_read::AxiReadDma;
pub use dma_write::AxiWriteDma;

pub use crate::spec::axi::{
    AxiResp, AXI_BURST_INCR, AXI_SIZE, MAX_BURST_BEATS, PAGE_BEATS, PAGE_BYTES, RESP_BITS, RESP_ERROR_BIT,
};

#[cfg(test)]
mod tests {
    use crate::ports::parse_ports;

    /// The emitted top has exactly the port names and widths the simulator and the AXI memory
    /// model look up by name.
    #[test]
    fn axi_dma_top_ports() {
        let v = crate::emit::axi_dma_verilog();
        let ports = parse_ports(&v, crate::emit::AXI_DMA_TOP).unwrap();
        let got: Vec<(String, bool, u32)> = ports.into_iter().map(|p| (p.name, p.input, p.width)).collect();
        let (i, o) = (true, false);
        let mut want = vec![("clock", i, 1), ("reset", i, 1)];
        want.extend([
            ("rd_cmd_valid", i, 1),
            ("rd_cmd_ready", o, 1),
            ("rd_cmd_addr", i, 32),
            ("rd_cmd_beats", i, 16),
            ("rd_data_valid", o, 1),
            ("rd_data", o, 128),
            ("rd_data_last", o, 1),
            ("rd_done", o, 1),
            ("rd_err", o, 2),
            ("wr_cmd_valid", i, 1),
            ("wr_cmd_ready", o, 1),
            ("wr_cmd_addr", i, 32),
            ("wr_cmd_beats", i, 16),
            ("wr_data_valid", i, 1),
            ("wr_data_ready", o, 1),
            ("wr_data", i, 128),
            ("wr_done", o, 1),
            ("wr_err", o, 2),
            ("m_axi_araddr", o, 32),
            ("m_axi_arlen", o, 8),
            ("m_axi_arsize", o, 3),
            ("m_axi_arburst", o, 2),
            ("m_axi_arvalid", o, 1),
            ("m_axi_arready", i, 1),
            ("m_axi_rdata", i, 128),
            ("m_axi_rresp", i, 2),
            ("m_axi_rlast", i, 1),
            ("m_axi_rvalid", i, 1),
            ("m_axi_rready", o, 1),
            ("m_axi_awaddr", o, 32),
            ("m_axi_awlen", o, 8),
            ("m_axi_awsize", o, 3),
            ("m_axi_awburst", o, 2),
            ("m_axi_awvalid", o, 1),
            ("m_axi_awready", i, 1),
            ("m_axi_wdata", o, 128),
            ("m_axi_wstrb", o, 16),
            ("m_axi_wlast", o, 1),
            ("m_axi_wvalid", o, 1),
            ("m_axi_wready", i, 1),
            ("m_axi_bresp", i, 2),
            ("m_axi_bvalid", i, 1),
            ("m_axi_bready", o, 1),
        ]);
        let want: Vec<(String, bool, u32)> = want.into_iter().map(|(n, d, w)| (n.to_string(), d, w)).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted);
        assert_eq!(
            super::AXI_SIZE,
            u64::from(crate::spec::config::AXI_BEAT_BYTES.trailing_zeros())
        );
    }
}
