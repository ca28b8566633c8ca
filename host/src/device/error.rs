//! What can go wrong on the way to and from the device: [`DeviceError`] (the host's checks,
//! the job's error codes, bus and back-end failures) and the DMA faults a back end reports.

use std::time::Duration;

use npe_hdl::spec::block_scale::ScaleCode;
use npe_hdl::spec::regs::ErrorCode;
use npe_hdl::spec::Format;

/// A DMA burst the memory answered with SLVERR or DECERR ([`Backend::take_dma_faults`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaFault {
    /// A write burst (else a read burst).
    pub write: bool,
    /// The burst's first byte address.
    pub addr: u32,
    /// The burst's length in bytes.
    pub bytes: u32,
    /// The response.
    pub resp: npe_hdl::spec::AxiResp,
}

/// Where a job's DMA fault was: the burst's address and the job buffer it lies in, when the
/// back end reports the address; the job's buffers otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultSite {
    /// The burst of `bytes` bytes at `addr`, inside the job's buffer `buffer` (A, W, C,
    /// scales or block scales; "?" if in none).
    Burst {
        /// The burst's first byte address.
        addr: u32,
        /// Its length in bytes.
        bytes: u32,
        /// The buffer holding it.
        buffer: &'static str,
    },
    /// The back end cannot say which burst failed: the buffers of the failed direction, as
    /// (name, address).
    Buffers(Vec<(&'static str, u32)>),
}

impl std::fmt::Display for FaultSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultSite::Burst { addr, bytes, buffer } => {
                write!(f, "the {bytes}-byte burst at {addr:#x} (buffer {buffer})")
            }
            FaultSite::Buffers(b) => {
                let list: Vec<String> = b.iter().map(|(n, a)| format!("{n} at {a:#x}")).collect();
                write!(f, "one of {}", list.join(", "))
            }
        }
    }
}

/// Which kind of bus access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusOp {
    /// A register read (AXI4-Lite AR/R).
    RegRead,
    /// A register write (AXI4-Lite AW/W/B).
    RegWrite,
    /// A copy out of device memory.
    MemRead,
    /// A copy into device memory.
    MemWrite,
}

impl std::fmt::Display for BusOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BusOp::RegRead => "register read",
            BusOp::RegWrite => "register write",
            BusOp::MemRead => "memory read",
            BusOp::MemWrite => "memory write",
        })
    }
}

/// A failed bus access.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// The slave answered SLVERR (for registers: a write to a read-only register).
    #[error("SLVERR on {op} at {addr:#x}")]
    SlvErr {
        /// The access.
        op: BusOp,
        /// Register offset or memory address.
        addr: u32,
    },
    /// The interconnect answered DECERR (for registers: an unmapped or misaligned offset).
    #[error("DECERR on {op} at {addr:#x}")]
    DecErr {
        /// The access.
        op: BusOp,
        /// Register offset or memory address.
        addr: u32,
    },
    /// No response in time.
    #[error("no response to {op} at {addr:#x}")]
    Timeout {
        /// The access.
        op: BusOp,
        /// Register offset or memory address.
        addr: u32,
    },
    /// The link to the device failed (a board's driver, a serial bridge, a simulator's memory).
    #[error("transport: {0}")]
    Transport(String),
}

/// Everything the runtime refuses or the device reports.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// A tensor does not have the size its shape says.
    #[error("{what}: expected {expected} elements, got {got}")]
    Shape {
        /// Which tensor.
        what: &'static str,
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// A dimension is zero or too large for the registers.
    #[error("bad dimension: {0}")]
    Dimension(String),
    /// A format the array does not multiply, or an output format it does not produce.
    #[error("unsupported format: {0}")]
    Format(String),
    /// K is longer than the activation buffer holds.
    #[error("K = {k} needs {beats} beats per row; the device holds at most {max}")]
    TooLong {
        /// The job's K.
        k: usize,
        /// Packed beats it needs.
        beats: usize,
        /// Beats a buffer half holds.
        max: u32,
    },
    /// A code has bits above its format's width.
    #[error("{what}[{index}] = {code:#x} is not a {format} code")]
    Code {
        /// Which tensor.
        what: &'static str,
        /// Element index.
        index: usize,
        /// The code.
        code: u32,
        /// Its format.
        format: Format,
    },
    /// Device memory is too small for the job, or for one buffer.
    #[error("device memory: {what} needs {need} bytes, {have} are free")]
    OutOfMemory {
        /// What needs the memory: the whole job (with its buffers' sizes) or one buffer.
        what: String,
        /// Bytes needed (whole 4 KiB pages).
        need: u64,
        /// Bytes the back end has.
        have: u64,
    },
    /// An access outside device memory.
    #[error("address range {addr:#x}+{len} is outside device memory ({size} bytes)")]
    Address {
        /// Start.
        addr: u64,
        /// Length.
        len: usize,
        /// Memory size.
        size: u64,
    },
    /// An access past the end of a device buffer.
    #[error("bytes {offset}..{offset}+{len} are outside a {buffer}-byte device buffer")]
    BufferOverrun {
        /// Offset into the buffer.
        offset: usize,
        /// Length of the access.
        len: usize,
        /// The buffer's length.
        buffer: usize,
    },
    /// The ID register does not say npe: the value read (an npe reads
    /// [`npe_hdl::spec::regs::ID_MAGIC`]).
    #[error("no npe at this back end: ID = {0:#010x}, expected {magic:#010x}", magic = npe_hdl::spec::regs::ID_MAGIC)]
    NotAnNpe(u32),
    /// The hardware was built from another configuration than the runtime expects.
    #[error(
        "configuration mismatch: device regmap v{device_version} hash {device_hash:#010x}, \
         runtime regmap v{host_version} hash {host_hash:#010x} ({preset})"
    )]
    ConfigMismatch {
        /// VERSION read from the device.
        device_version: u32,
        /// CONFIG_HASH read from the device.
        device_hash: u32,
        /// The runtime's register-map version.
        host_version: u32,
        /// The runtime's hash of the preset.
        host_hash: u32,
        /// The preset the runtime expected.
        preset: &'static str,
    },
    /// A register name not in the map.
    #[error("no register named {0}")]
    NoSuchRegister(String),
    /// A bus access failed.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The job ended with an error code in STATUS.
    #[error("the device ended the job with error {0:?}")]
    Job(ErrorCode),
    /// A job run by [`Device::gemm`] / [`Device::run_gemm`] ended with a DMA error code (SLVERR
    /// or DECERR on a read or a write): the code and where the failing burst was.
    #[error("the device ended the job with error {code:?}: bus error on {site}")]
    DmaFault {
        /// The job's STATUS.ERROR.
        code: ErrorCode,
        /// The failing burst, or the buffers it may have been in.
        site: FaultSite,
    },
    /// The job ended with a STATUS.ERROR value no [`ErrorCode`] has (a device newer than the
    /// runtime, or a fault): the raw value.
    #[error("the device ended the job with unknown error code {0}")]
    UnknownJobError(u32),
    /// The job did not finish in time (the device is left as it is; SOFT_RESET recovers it).
    #[error("the job did not finish within {after:?}")]
    Timeout {
        /// The limit.
        after: Duration,
    },
    /// The job did not finish within the wall-clock limit ([`Device::wall_timeout`]), whatever
    /// device time had passed (the device is left as it is; SOFT_RESET recovers it).
    #[error("the job did not finish within {after:?} of wall-clock time ({device:?} of device time had passed)")]
    WallTimeout {
        /// The wall-clock limit.
        after: Duration,
        /// Device time that had passed.
        device: Duration,
    },
    /// A back end could not be set up (bad option, no model of the preset, trace file).
    #[error("back end: {0}")]
    Backend(String),
    /// Lane-packing got a number of codes other than the format pair's lane count.
    #[error("{a_fmt} x {w_fmt} packs {lanes} codes per word, got {got}")]
    Lanes {
        /// Activation format.
        a_fmt: Format,
        /// Weight format.
        w_fmt: Format,
        /// Lanes of the pair.
        lanes: usize,
        /// Codes given.
        got: usize,
    },
    /// A byte buffer is shorter than the layout it is read with needs.
    #[error("{what}: {need} bytes needed, {have} given")]
    ShortBuffer {
        /// What was read.
        what: &'static str,
        /// Bytes the layout needs.
        need: usize,
        /// Bytes given.
        have: usize,
    },
    /// A block-scaled job for a device whose PEs do not scale weight blocks
    /// (CAPABILITY.BLOCK_SCALES is 0): refused before the device is touched.
    #[error("{preset} has no block scales (CAPABILITY.BLOCK_SCALES = 0): it cannot run a block-scaled job")]
    NoBlockScales {
        /// The preset the device was checked against.
        preset: &'static str,
    },
    /// A block size the device cannot scale by: a block must be the format pair's lanes times a
    /// power of two of packed words, from the scale kind's fewest to the most BLOCK.BEATS_LOG2
    /// holds.
    #[error(
        "a block of {block} elements cannot be scaled with {kind:?} scales at {lanes} lanes per word: \
         it must be {lanes} x 2^p elements with {min_words} <= 2^p <= {max_words}"
    )]
    BlockSize {
        /// The block size asked for, in elements.
        block: usize,
        /// Elements per packed word of the job's format pair.
        lanes: usize,
        /// The scale code kind.
        kind: ScaleCode,
        /// Fewest packed words a block of this kind may have.
        min_words: usize,
        /// Most packed words a block may have.
        max_words: usize,
    },
    /// An E8M0 window base that does not fit BLOCK.BASE.
    #[error("E8M0 base code {base} does not fit BLOCK.BASE ({bits} bits)")]
    BlockBase {
        /// The base asked for.
        base: u32,
        /// Bits of BLOCK.BASE.
        bits: u32,
    },
    /// A block-scaled job whose output scale (SCALE_EXP, the window's lowest exponent and a
    /// column's scale) does not fit the output units' scale.
    #[error("output scale 2^{exp} of a block-scaled job does not fit the output units' {bits}-bit scale")]
    BlockScaleRange {
        /// The sum that does not fit.
        exp: i32,
        /// Bits of the output units' scale.
        bits: usize,
    },
    /// E8M0 block scales (of blocks with nonzero weights) that no window of 16 exponents holds.
    #[error("the E8M0 block scales of nonzero blocks span 2^{lo} to 2^{hi}: the device holds 16 exponents per job")]
    BlockScaleSpan {
        /// The smallest exponent.
        lo: i32,
        /// The largest exponent.
        hi: i32,
    },
    /// The simulated bus saw the hardware break the AXI protocol.
    #[error("AXI protocol violations: {0:?}")]
    Protocol(Vec<String>),
    /// The serial link to a UART bridge failed ([`crate::device::uart`]); the message names
    /// the port.
    #[error(transparent)]
    Uart(#[from] UartError),
    /// The register window or DMA buffer of a Linux MMIO device could not be set up
    /// ([`crate::device::mmio`]); the message names the file.
    #[error(transparent)]
    Mmio(#[from] MmioError),
}

/// A failure of the serial link to a UART bridge: opening the port, or a request that got no
/// good reply. Each names the port.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UartError {
    /// The port's device node does not exist.
    #[error(
        "serial port {port} does not exist (is the board plugged in? `ls /dev/ttyUSB* /dev/ttyACM*` lists the ports)"
    )]
    PortMissing {
        /// The port's path.
        port: String,
    },
    /// Another program holds the port (serial ports are opened exclusively).
    #[error("serial port {port} is busy: another program has it open ({detail})")]
    PortBusy {
        /// The port's path.
        port: String,
        /// The driver's words.
        detail: String,
    },
    /// The user may not open the port.
    #[error("no permission to open serial port {port} (add yourself to the `dialout` group, or run as root)")]
    PortPermission {
        /// The port's path.
        port: String,
    },
    /// The port could not be opened or set up for another reason (not a tty, a baud rate the
    /// driver refuses).
    #[error("cannot open serial port {port}: {detail}")]
    PortOpen {
        /// The port's path.
        port: String,
        /// The driver's words.
        detail: String,
    },
    /// Reading or writing the open port failed (the adapter was unplugged).
    #[error("serial port {port}: {detail}")]
    Io {
        /// The port's path.
        port: String,
        /// The driver's words.
        detail: String,
    },
    /// Not one byte of a reply came within the reply timeout.
    #[error(
        "no reply from {port} to a {op} at {addr:#x} within {waited:?} ({attempts} attempt(s); \
         is the board powered, its bitstream loaded, and its baud rate {baud}?)"
    )]
    Timeout {
        /// The port's path.
        port: String,
        /// The request.
        op: BusOp,
        /// Its register offset or memory address.
        addr: u32,
        /// How long the host waited for each attempt's reply.
        waited: Duration,
        /// Requests sent.
        attempts: u32,
        /// The port's baud rate.
        baud: u32,
    },
    /// Every attempt got a reply that is not one (bad CRC, cut short, malformed): the last
    /// one's fault.
    #[error("bad reply from {port} to a {op} at {addr:#x} ({attempts} attempt(s)): {reason}")]
    BadReply {
        /// The port's path.
        port: String,
        /// The request.
        op: BusOp,
        /// Its register offset or memory address.
        addr: u32,
        /// Requests sent.
        attempts: u32,
        /// What was wrong with the last reply.
        reason: npe_hdl::spec::uart::ReplyError,
    },
    /// Replies came, but none carried the request's SEQ (stale or misrouted replies).
    #[error(
        "{port}: the replies to a {op} at {addr:#x} carried SEQ {got}, the request's was {expected} \
         (no matching reply within {waited:?})"
    )]
    WrongSeq {
        /// The port's path.
        port: String,
        /// The request.
        op: BusOp,
        /// Its register offset or memory address.
        addr: u32,
        /// The request's SEQ.
        expected: u8,
        /// The last reply's SEQ.
        got: u8,
        /// How long the host waited.
        waited: Duration,
    },
    /// The bridge refused the request with a protocol status (for a status that says the
    /// request was damaged on the line, after the retries).
    #[error("{port}: the bridge answered status {code:#04x} {status} to a {op} at {addr:#x} ({attempts} attempt(s))", code = status.code())]
    Status {
        /// The port's path.
        port: String,
        /// The request.
        op: BusOp,
        /// Its register offset or memory address.
        addr: u32,
        /// The bridge's status.
        status: npe_hdl::spec::uart::Status,
        /// Requests sent.
        attempts: u32,
    },
    /// A register write whose reply was lost or damaged, and which is not safe to send again
    /// (it sets a pulse field: START, SOFT_RESET): whether the device performed it is unknown.
    #[error("{port}: the reply to a {op} of {value:#010x} at {addr:#x} was lost ({reason}); not resent, since it triggers an action: the device may or may not have performed it")]
    Unconfirmed {
        /// The port's path.
        port: String,
        /// The request.
        op: BusOp,
        /// The register offset.
        addr: u32,
        /// The value written.
        value: u32,
        /// What happened to the reply.
        reason: String,
    },
}

/// A failure setting up a Linux MMIO device: the UIO register window or the DMA buffer. Each
/// names the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MmioError {
    /// A device node that does not exist.
    #[error("{path} does not exist ({hint})")]
    Missing {
        /// The path.
        path: String,
        /// What would create it.
        hint: &'static str,
    },
    /// A device node or sysfs file that exists but cannot be opened or read.
    #[error("cannot open {path}: {detail}")]
    Open {
        /// The path.
        path: String,
        /// The system's words.
        detail: String,
    },
    /// A sysfs attribute that is missing or does not hold a number.
    #[error("{path}: {detail}")]
    Sysfs {
        /// The attribute's path.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A window smaller than the accelerator needs.
    #[error("{what} {path} is {have} bytes; the accelerator needs at least {need}")]
    TooSmall {
        /// The register window or the DMA buffer.
        what: &'static str,
        /// Its device node.
        path: String,
        /// Bytes it has.
        have: u64,
        /// Bytes needed.
        need: u64,
    },
    /// A DMA buffer the accelerator cannot address (above 4 GiB, or not on a bus beat).
    #[error("DMA buffer {path} at {addr:#x}+{size:#x}: {detail}")]
    Placement {
        /// Its device node.
        path: String,
        /// Its physical address.
        addr: u64,
        /// Its size.
        size: u64,
        /// Why it does not fit.
        detail: String,
    },
    /// mmap failed.
    #[error("cannot map {len} bytes of {path}: {detail}")]
    Map {
        /// The device node.
        path: String,
        /// Bytes asked for.
        len: u64,
        /// The system's words.
        detail: String,
    },
}

/// For a DMA error code: whether it is a write's (`Some(true)`) or a read's (`Some(false)`).
pub fn dma_write(code: ErrorCode) -> Option<bool> {
    match code {
        ErrorCode::ReadSlvErr | ErrorCode::ReadDecErr => Some(false),
        ErrorCode::WriteSlvErr | ErrorCode::WriteDecErr => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dma_codes_say_which_direction_failed_and_others_say_nothing() {
        let got: Vec<(ErrorCode, Option<bool>)> = ErrorCode::ALL.into_iter().map(|c| (c, dma_write(c))).collect();
        assert_eq!(
            got,
            vec![
                (ErrorCode::None, None),
                (ErrorCode::BadJob, None),
                (ErrorCode::BadAddress, None),
                (ErrorCode::ReadSlvErr, Some(false)),
                (ErrorCode::ReadDecErr, Some(false)),
                (ErrorCode::WriteSlvErr, Some(true)),
                (ErrorCode::WriteDecErr, Some(true)),
            ]
        );
    }
}
