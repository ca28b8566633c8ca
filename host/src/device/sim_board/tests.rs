//! The UART back end over a pty pair against the Verilated board core ([`SimBoard`]): the
//! connect checks, registers, memory, whole GEMMs bit-exact, and faults on the line answered by
//! the real bridge.

use std::time::Duration;

use npe_hdl::spec::regs::{self, ID_MAGIC};
use npe_hdl::spec::uart::{Status, MAX_WORDS, REQUEST_HEADER_BYTES, WORD_BYTES};
use npe_hdl::spec::{Format, NpeConfig, OutputFormat};

use super::*;
use crate::device::uart::tests::{gemms_in_formats_match_the_functional_model, Mangle, Peer};
use crate::device::uart::{UartBackend, UartOptions};
use crate::device::{Backend, BusError, BusOp, Device};

/// Per-reply timeout: a simulated frame of 256 words takes a fraction of a second of
/// simulation; this only bounds a hang.
const SIM_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

fn sim_opts() -> UartOptions {
    UartOptions {
        reply_timeout: SIM_REPLY_TIMEOUT,
        ..UartOptions::default()
    }
}

/// The Verilated board behind a new pty pair (the host's bytes through `mangle`, when given);
/// finishing it gives what it saw.
pub(super) fn sim_peer(mangle: Option<Mangle>) -> Peer<BoardStats> {
    Peer::spawn(
        || SimBoard::new(HOST_IDLE).expect("the simulated board"),
        SimBoard::on_bytes,
        |b| b.stats().clone(),
        mangle,
    )
}

/// The host's device on `peer`, checked against the simulated board's preset, with a job time
/// limit that only bounds a hang (the board's time passes while the host polls).
pub(super) fn connect(peer: &mut Peer<BoardStats>) -> Device<UartBackend> {
    let mut dev = Device::connect(peer.host_with(&sim_opts()), SimBoard::CONFIG).expect("connect");
    dev.timeout = Duration::from_secs(120);
    dev
}

/// Nothing went wrong on the line: every reply decoded, none was missing, no framing error, no
/// memory error.
fn assert_clean_line(stats: &BoardStats) {
    assert_eq!(
        (
            stats.bad_replies,
            stats.unanswered,
            stats.framing_errors,
            stats.mem_error_cycles
        ),
        (0, 0, 0, 0),
        "{stats:?}"
    );
}

/// The statuses of the board's replies, in order.
fn statuses(stats: &BoardStats) -> Vec<Status> {
    stats.replies.iter().map(|r| r.status).collect()
}

/// A line at `cpb` cycles per bit of the simulated board's top (only its ports are used).
fn line(cpb: u32) -> SerialLine {
    SerialLine::new(npe_sim::tops::by_name(BOARD_CORE_SIM_TOP).unwrap(), cpb).unwrap()
}

#[test]
fn the_serial_line_decodes_what_it_sends() {
    // The sender's levels straight into a receiver, at odd and even bit times.
    for cpb in [2, 3, 4, 7, 50] {
        let (mut tx, mut rx) = (line(cpb), line(cpb));
        let bytes = [0x00, 0xFF, 0xA5, 0x5A, 0x01, 0x80, 0x3C];
        tx.send(&bytes);
        let mut got = Vec::new();
        let mut cycles = 0;
        while tx.sending() || rx.receiving() {
            got.extend(rx.sample(tx.next_level()));
            cycles += 1;
        }
        assert_eq!(got, bytes, "cpb {cpb}");
        // Back to back: ten bit times a byte, the last stop bit sampled before it ends.
        assert_eq!(cycles, bytes.len() as u32 * BITS_PER_BYTE * cpb, "cpb {cpb}");
        assert_eq!(rx.framing_errors(), 0);
    }
}

#[test]
fn the_serial_line_drops_a_byte_with_a_low_stop_bit_and_ignores_a_glitch() {
    let cpb = 4;
    let mut rx = line(cpb);
    let bits = |levels: &[bool]| -> Vec<bool> { levels.iter().flat_map(|&l| vec![l; cpb as usize]).collect() };
    // 0x0F with its stop bit low, a line high again, then a one-cycle low glitch, then 0x81.
    let mut levels = bits(&[
        false, true, true, true, true, false, false, false, false, false, true, true,
    ]);
    levels.extend([false, true, true, true, true, true]);
    levels.extend(bits(&[
        false, true, false, false, false, false, false, false, true, true, true,
    ]));
    let got: Vec<u8> = levels.into_iter().filter_map(|l| rx.sample(l)).collect();
    assert_eq!(got, [0x81]);
    assert_eq!(rx.framing_errors(), 1);
    let e = SerialLine::new(npe_sim::tops::by_name(BOARD_CORE_SIM_TOP).unwrap(), 1).err();
    assert!(
        matches!(&e, Some(DeviceError::Backend(m)) if m.contains("at least 2")),
        "{e:?}"
    );
}

#[test]
fn the_host_connects_to_the_verilated_board_and_reaches_its_registers_and_memory() {
    let mut peer = sim_peer(None);
    // ID, VERSION and CONFIG_HASH read through the bridge and checked.
    let mut dev = connect(&mut peer);
    let info = dev.info().unwrap();
    assert_eq!(info.config_hash, SimBoard::CONFIG.hash());
    assert_eq!((info.rows, info.cols), (SimBoard::CONFIG.rows, SimBoard::CONFIG.cols));
    // REG_WRITE / REG_READ.
    dev.write("SCRATCH", 0x8BAD_F00D).unwrap();
    assert_eq!(dev.read("SCRATCH").unwrap(), 0x8BAD_F00D);
    // The register file's AXI errors come back through the bridge as the bus errors.
    let host = dev.backend();
    assert_eq!(
        host.write_reg(regs::ID.offset, 0),
        Err(DeviceError::Bus(BusError::SlvErr {
            op: BusOp::RegWrite,
            addr: regs::ID.offset
        }))
    );
    assert_eq!(
        host.read_reg(0xFC),
        Err(DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegRead,
            addr: 0xFC
        }))
    );
    assert_eq!(host.read_reg(regs::ID.offset).unwrap(), ID_MAGIC);
    // Memory: an unaligned copy over three frames (both edge words read, modified, written),
    // the bytes beside it kept, and the last word of the board's memory.
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 37 + 11) as u8).collect();
    host.write_mem(0x2000, &[0xEE; 4]).unwrap();
    host.write_mem(0x2000 + 3000, &[0xDD; 4]).unwrap();
    host.write_mem(0x2003, &data).unwrap();
    assert_eq!(host.read_mem(0x2003, data.len()).unwrap(), data);
    assert_eq!(host.read_mem(0x2000, 3).unwrap(), [0xEE; 3]);
    assert_eq!(host.read_mem(0x2003 + 3000, 1).unwrap(), [0xDD]);
    host.write_mem(MEM_BYTES - 4, &[1, 2, 3, 4]).unwrap();
    assert_eq!(host.read_mem(MEM_BYTES - 4, 4).unwrap(), [1, 2, 3, 4]);
    drop(dev);
    let stats = peer.finish();
    assert_clean_line(&stats);
    let s = statuses(&stats);
    // Every reply OK but the two AXI errors; the copy went as frames of at most MAX_WORDS.
    assert_eq!(s.iter().filter(|&&st| st != Status::Ok).count(), 2, "{s:?}");
    assert!(s.contains(&Status::AxiSlvErr) && s.contains(&Status::AxiDecErr));
    let longest = stats.replies.iter().map(|r| r.data.len()).max().unwrap();
    assert_eq!(longest, MAX_WORDS, "a full MEM_READ frame");
    assert_eq!(stats.dma_cycles, 0, "no job ran");
}

#[test]
fn a_host_of_another_preset_is_refused_by_the_verilated_board() {
    let mut peer = sim_peer(None);
    let other = NpeConfig::TEST;
    let e = Device::connect(peer.host_with(&sim_opts()), other)
        .err()
        .expect("a mismatch");
    assert!(
        matches!(e, DeviceError::ConfigMismatch { device_hash, host_hash, .. }
            if device_hash == SimBoard::CONFIG.hash() && host_hash == other.hash()),
        "{e:?}"
    );
    assert_clean_line(&peer.finish());
}

#[test]
fn gemms_on_the_verilated_board_are_bit_exact_with_the_functional_model() {
    let mut peer = sim_peer(None);
    let mut dev = connect(&mut peer);
    // The preset's plain formats and its outlier-victim pairs, to three output formats.
    let formats = [
        (Format::Int8, Format::Int8, OutputFormat::Fp32),
        (Format::Fp8E4M3, Format::Int4, OutputFormat::Bf16),
        (Format::OvpInt4, Format::OvpFlint4, OutputFormat::Int32),
    ];
    gemms_in_formats_match_the_functional_model(&mut dev, SimBoard::CONFIG, &formats, true);
    drop(dev);
    let stats = peer.finish();
    assert_clean_line(&stats);
    assert!(statuses(&stats).iter().all(|&s| s == Status::Ok));
    assert!(stats.dma_cycles > 0, "the jobs' DMA ran in the board memory");
}

/// Changes the host's byte stream at fixed offsets (counted over every byte the host sent):
/// `flip` XORs a byte, `drop` removes bytes.
fn mangle_at(flip: Vec<(usize, u8)>, drop: Vec<usize>) -> Mangle {
    let mut pos = 0;
    Box::new(move |bytes: &[u8]| {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            if !drop.contains(&pos) {
                out.push(flip.iter().find(|(at, _)| *at == pos).map_or(b, |(_, x)| b ^ x));
            }
            pos += 1;
        }
        out
    })
}

#[test]
fn requests_damaged_on_the_line_are_answered_by_the_bridge_and_sent_again() {
    // The host's frames, in order: REG_WRITE (14 bytes) twice, REG_READ (10), MEM_WRITE of 256
    // words (1,034) twice, MEM_READ (10), REG_WRITE twice, REG_READ.
    let reg_write = REQUEST_HEADER_BYTES + WORD_BYTES + 1;
    let mem_write = REQUEST_HEADER_BYTES + MAX_WORDS * WORD_BYTES + 1;
    let read = REQUEST_HEADER_BYTES + 1;
    let mem_at = 2 * reg_write + read;
    let last_at = mem_at + 2 * mem_write + read;
    let mangle = mangle_at(
        vec![
            // A bit of the first REG_WRITE's value: BAD_CRC, the write not performed.
            (10, 0x04),
            // A data byte in the middle of the MEM_WRITE: BAD_CRC after its words went in.
            (mem_at + REQUEST_HEADER_BYTES + 500, 0x81),
        ],
        // The last REG_WRITE's last two bytes: the bridge waits out its idle time, TRUNCATED.
        vec![last_at + reg_write - 2, last_at + reg_write - 1],
    );
    let mut peer = sim_peer(Some(mangle));
    let mut host = peer.host_with(&sim_opts());
    host.write_reg(regs::SCRATCH.offset, 0xCAFE).unwrap();
    assert_eq!(host.read_reg(regs::SCRATCH.offset).unwrap(), 0xCAFE);
    let data: Vec<u8> = (0..MAX_WORDS * WORD_BYTES).map(|i| (i * 13 + 5) as u8).collect();
    host.write_mem(0x400, &data).unwrap();
    assert_eq!(host.read_mem(0x400, data.len()).unwrap(), data);
    host.write_reg(regs::SCRATCH.offset, 0xF00D).unwrap();
    assert_eq!(host.read_reg(regs::SCRATCH.offset).unwrap(), 0xF00D);
    drop(host);
    let stats = peer.finish();
    assert_clean_line(&stats);
    use Status::{BadCrc, Ok, Truncated};
    assert_eq!(
        statuses(&stats),
        [BadCrc, Ok, Ok, BadCrc, Ok, Ok, Truncated, Ok, Ok],
        "{:?}",
        stats.replies
    );
    // Each damaged request's reply carried its SEQ, and the resend had a new one.
    let seqs: Vec<u8> = stats.replies.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (0..9).collect::<Vec<u8>>());
}
