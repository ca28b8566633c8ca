//! The UART bridge protocol (the README's tables), defined once: framing constants, command
//! and status codes, CRC-8/SMBUS, the request encoder and the reply decoder. The host's UART
//! back end speaks it through these functions, and the bridge's hardware tests use them as
//! their reference, so the two cannot drift apart.
//!
//! Request: `SYNC(0xA5) CMD SEQ ADDR:u32 COUNT:u16 DATA:COUNT×u32 CRC`.
//! Reply: `SYNC(0x5A) STATUS SEQ COUNT:u16 DATA:COUNT×u32 CRC`.
//! Multi-byte fields are little-endian; the CRC covers every byte but the SYNC and itself.

use std::fmt;

/// First byte of a request (host → board). Other bytes between frames are ignored.
pub const REQUEST_SYNC: u8 = 0xA5;

/// First byte of a reply (board → host).
pub const REPLY_SYNC: u8 = 0x5A;

/// Most 32-bit words one MEM_WRITE / MEM_READ carries.
pub const MAX_WORDS: usize = 256;

/// Bytes of a request before its DATA: SYNC, CMD, SEQ, ADDR (4), COUNT (2).
pub const REQUEST_HEADER_BYTES: usize = 9;

/// Bytes of a reply before its DATA: SYNC, STATUS, SEQ, COUNT (2).
pub const REPLY_HEADER_BYTES: usize = 5;

/// Bytes after the DATA of a request or reply: the CRC.
pub const TRAILER_BYTES: usize = 1;

/// Bytes per DATA word.
pub const WORD_BYTES: usize = 4;

/// Bit times of idle line (64 byte times of 10 bits) that end a frame: a frame cut short gets
/// TRUNCATED, a discarded bad frame gets its reply.
pub const IDLE_TIMEOUT_BITS: u32 = 64 * 10;

/// Clock cycles the bridge waits for an AXI4-Lite response before it answers AXI_TIMEOUT.
pub const AXI_TIMEOUT_CYCLES: u32 = 4096;

/// The CRC of requests and replies: CRC-8/SMBUS (poly 0x07, init 0, not reflected, xorout 0).
pub fn crc8(bytes: &[u8]) -> u8 {
    const CRC: crc::Crc<u8> = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS);
    CRC.checksum(bytes)
}

/// A request's CMD byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Command {
    /// Write one accelerator register.
    RegWrite = 0x01,
    /// Read one accelerator register.
    RegRead = 0x02,
    /// Write COUNT words of board memory.
    MemWrite = 0x03,
    /// Read COUNT words of board memory.
    MemRead = 0x04,
}

impl Command {
    /// Every command, by code.
    pub const ALL: [Command; 4] = [Command::RegWrite, Command::RegRead, Command::MemWrite, Command::MemRead];

    /// The CMD byte.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The command a CMD byte stands for.
    pub const fn from_code(code: u8) -> Option<Command> {
        match code {
            0x01 => Some(Command::RegWrite),
            0x02 => Some(Command::RegRead),
            0x03 => Some(Command::MemWrite),
            0x04 => Some(Command::MemRead),
            _ => None,
        }
    }

    /// A REG_* command (COUNT must be 1, ADDR is a register offset).
    pub const fn is_reg(self) -> bool {
        matches!(self, Command::RegWrite | Command::RegRead)
    }

    /// The request carries DATA (REG_WRITE, MEM_WRITE).
    pub const fn is_write(self) -> bool {
        matches!(self, Command::RegWrite | Command::MemWrite)
    }
}

/// A reply's STATUS byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// Done.
    Ok = 0x00,
    /// The request's CRC did not match (a REG_WRITE was not performed).
    BadCrc = 0x01,
    /// Unknown CMD.
    BadCmd = 0x02,
    /// COUNT is 0, above MAX_WORDS, or not 1 for a REG_* command.
    BadCount = 0x03,
    /// ADDR misaligned or beyond the memory / register space.
    BadAddr = 0x04,
    /// The line went idle inside a frame.
    Truncated = 0x05,
    /// The register access got SLVERR.
    AxiSlvErr = 0x06,
    /// The register access got DECERR.
    AxiDecErr = 0x07,
    /// The register access got no response within AXI_TIMEOUT_CYCLES.
    AxiTimeout = 0x08,
}

impl Status {
    /// Every status, by code.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::BadCrc,
        Status::BadCmd,
        Status::BadCount,
        Status::BadAddr,
        Status::Truncated,
        Status::AxiSlvErr,
        Status::AxiDecErr,
        Status::AxiTimeout,
    ];

    /// The STATUS byte.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The status a STATUS byte stands for.
    pub const fn from_code(code: u8) -> Option<Status> {
        let mut i = 0;
        while i < Status::ALL.len() {
            if Status::ALL[i] as u8 == code {
                return Some(Status::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// The protocol's name (as in the document).
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadCrc => "BAD_CRC",
            Status::BadCmd => "BAD_CMD",
            Status::BadCount => "BAD_COUNT",
            Status::BadAddr => "BAD_ADDR",
            Status::Truncated => "TRUNCATED",
            Status::AxiSlvErr => "AXI_SLVERR",
            Status::AxiDecErr => "AXI_DECERR",
            Status::AxiTimeout => "AXI_TIMEOUT",
        }
    }

    /// One line on what happened, for error messages.
    pub const fn description(self) -> &'static str {
        match self {
            Status::Ok => "done",
            Status::BadCrc => "the request's CRC did not match (a register write was not performed)",
            Status::BadCmd => "unknown command",
            Status::BadCount => "word count is 0, above the maximum, or not 1 for a register command",
            Status::BadAddr => "address misaligned or beyond the memory or register space",
            Status::Truncated => "the line went idle inside a request",
            Status::AxiSlvErr => "the register access answered SLVERR",
            Status::AxiDecErr => "the register access answered DECERR",
            Status::AxiTimeout => "the register access got no response in time",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.description())
    }
}

/// A request. The constructors keep `count` and `data` consistent; the fields are public so a
/// test can build a malformed one, and [`Request::encode`] writes them as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The command.
    pub cmd: Command,
    /// Echoed in the reply.
    pub seq: u8,
    /// Register byte offset (REG_*) or memory byte address (MEM_*).
    pub addr: u32,
    /// The COUNT field: words written or read.
    pub count: u16,
    /// The DATA words (empty for reads).
    pub data: Vec<u32>,
}

impl Request {
    /// REG_WRITE of `value` to the register at byte offset `addr`.
    pub fn reg_write(seq: u8, addr: u32, value: u32) -> Request {
        Request {
            cmd: Command::RegWrite,
            seq,
            addr,
            count: 1,
            data: vec![value],
        }
    }

    /// REG_READ of the register at byte offset `addr`.
    pub fn reg_read(seq: u8, addr: u32) -> Request {
        Request {
            cmd: Command::RegRead,
            seq,
            addr,
            count: 1,
            data: Vec::new(),
        }
    }

    /// MEM_WRITE of `words` from byte address `addr` (COUNT = `words.len()`, truncated to u16:
    /// the bridge refuses more than [`MAX_WORDS`] anyway).
    pub fn mem_write(seq: u8, addr: u32, words: &[u32]) -> Request {
        Request {
            cmd: Command::MemWrite,
            seq,
            addr,
            count: words.len() as u16,
            data: words.to_vec(),
        }
    }

    /// MEM_READ of `count` words from byte address `addr`.
    pub fn mem_read(seq: u8, addr: u32, count: u16) -> Request {
        Request {
            cmd: Command::MemRead,
            seq,
            addr,
            count,
            data: Vec::new(),
        }
    }

    /// The bytes on the line: header, DATA, CRC.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(REQUEST_HEADER_BYTES + WORD_BYTES * self.data.len() + TRAILER_BYTES);
        b.push(REQUEST_SYNC);
        b.push(self.cmd.code());
        b.push(self.seq);
        b.extend_from_slice(&self.addr.to_le_bytes());
        b.extend_from_slice(&self.count.to_le_bytes());
        for w in &self.data {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.push(crc8(&b[1..]));
        b
    }

    /// Words of DATA an OK reply to this request carries.
    pub fn reply_words(&self) -> usize {
        if self.cmd.is_write() {
            0
        } else {
            self.count as usize
        }
    }
}

/// A decoded reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// What happened.
    pub status: Status,
    /// The request's SEQ (0 when the bad frame ended before its SEQ byte).
    pub seq: u8,
    /// Words read (empty unless an OK REG_READ / MEM_READ).
    pub data: Vec<u32>,
}

/// Why bytes are not a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// The first byte is not [`REPLY_SYNC`].
    BadSync(u8),
    /// Fewer bytes than the header, or than its COUNT says.
    Truncated {
        /// Bytes given.
        have: usize,
        /// Bytes needed (the header's, when the header itself is short).
        need: usize,
    },
    /// The CRC byte does not match the others.
    BadCrc {
        /// CRC of the bytes received.
        computed: u8,
        /// CRC byte received.
        received: u8,
    },
    /// COUNT disagrees with the bytes (more bytes than it says), is above [`MAX_WORDS`], or is
    /// not 0 for a status other than OK.
    CountMismatch {
        /// The COUNT field.
        count: u16,
        /// Bytes given.
        len: usize,
    },
    /// A STATUS byte the protocol does not define.
    UnknownStatus(u8),
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::BadSync(b) => write!(f, "reply starts with {b:#04x}, not the sync byte {REPLY_SYNC:#04x}"),
            ReplyError::Truncated { have, need } => write!(f, "reply truncated: {have} bytes of {need}"),
            ReplyError::BadCrc { computed, received } => {
                write!(
                    f,
                    "reply CRC {received:#04x} does not match its bytes ({computed:#04x})"
                )
            }
            ReplyError::CountMismatch { count, len } => {
                write!(f, "reply COUNT {count} does not fit its status or its {len} bytes")
            }
            ReplyError::UnknownStatus(s) => write!(f, "unknown reply status {s:#04x}"),
        }
    }
}

impl std::error::Error for ReplyError {}

impl Reply {
    /// Total bytes of the reply whose first [`REPLY_HEADER_BYTES`] bytes are `header` (for a
    /// reader that takes the header first); `None` while fewer bytes are given.
    pub fn frame_len(header: &[u8]) -> Option<usize> {
        if header.len() < REPLY_HEADER_BYTES {
            return None;
        }
        let count = u16::from_le_bytes([header[3], header[4]]) as usize;
        Some(REPLY_HEADER_BYTES + WORD_BYTES * count + TRAILER_BYTES)
    }

    /// The bytes on the line (what the bridge sends): header, DATA, CRC.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(REPLY_HEADER_BYTES + WORD_BYTES * self.data.len() + TRAILER_BYTES);
        b.push(REPLY_SYNC);
        b.push(self.status.code());
        b.push(self.seq);
        b.extend_from_slice(&(self.data.len() as u16).to_le_bytes());
        for w in &self.data {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.push(crc8(&b[1..]));
        b
    }

    /// Decodes exactly one reply. Never panics: any other input is a [`ReplyError`]. Checks in
    /// line order: sync, length (header, then COUNT), CRC, then the fields' meaning.
    pub fn decode(bytes: &[u8]) -> Result<Reply, ReplyError> {
        let len = bytes.len();
        match bytes.first() {
            None => {
                return Err(ReplyError::Truncated {
                    have: 0,
                    need: REPLY_HEADER_BYTES + TRAILER_BYTES,
                })
            }
            Some(&b) if b != REPLY_SYNC => return Err(ReplyError::BadSync(b)),
            Some(_) => {}
        }
        let need = Reply::frame_len(bytes).ok_or(ReplyError::Truncated {
            have: len,
            need: REPLY_HEADER_BYTES + TRAILER_BYTES,
        })?;
        let count = u16::from_le_bytes([bytes[3], bytes[4]]);
        if len < need {
            return Err(ReplyError::Truncated { have: len, need });
        }
        if len > need {
            return Err(ReplyError::CountMismatch { count, len });
        }
        let computed = crc8(&bytes[1..len - 1]);
        let received = bytes[len - 1];
        if computed != received {
            return Err(ReplyError::BadCrc { computed, received });
        }
        let status = Status::from_code(bytes[1]).ok_or(ReplyError::UnknownStatus(bytes[1]))?;
        if count as usize > MAX_WORDS || (status != Status::Ok && count != 0) {
            return Err(ReplyError::CountMismatch { count, len });
        }
        let data = bytes[REPLY_HEADER_BYTES..len - 1]
            .chunks_exact(WORD_BYTES)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        Ok(Reply {
            status,
            seq: bytes[2],
            data,
        })
    }
}

/// The STATUS codes as a markdown table (the README's, checked by a test).
pub fn status_markdown() -> String {
    let mut t = String::from("| STATUS | name | meaning |\n|---|---|---|\n");
    for s in Status::ALL {
        t += &format!("| `0x{:02X}` | {} | {} |\n", s.code(), s.name(), s.description());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc8_is_smbus() {
        // The catalogue's check value of CRC-8/SMBUS.
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc8(&[]), 0x00);
        // A bitwise reference (poly 0x07, MSB first), independent of the crate.
        let bitwise = |bytes: &[u8]| {
            let mut c = 0u8;
            for &b in bytes {
                c ^= b;
                for _ in 0..8 {
                    c = if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 };
                }
            }
            c
        };
        for s in [&b"\x01"[..], b"\xff\x00\xa5", b"npe uart bridge"] {
            assert_eq!(crc8(s), bitwise(s));
        }
    }

    #[test]
    fn codes_round_trip_and_are_the_documented_ones() {
        for c in Command::ALL {
            assert_eq!(Command::from_code(c.code()), Some(c));
        }
        assert_eq!(Command::ALL.map(Command::code), [1, 2, 3, 4]);
        assert_eq!(Command::from_code(0), None);
        assert_eq!(Command::from_code(5), None);
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(s.code() as usize, i);
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert!(!s.description().is_empty());
        }
        assert_eq!(Status::from_code(9), None);
        assert_eq!(Status::AxiTimeout.name(), "AXI_TIMEOUT");
    }

    #[test]
    fn requests_encode_as_documented() {
        let r = Request::reg_write(0x33, 0x0000_0010, 0xDEAD_BEEF).encode();
        let body = [0x01, 0x33, 0x10, 0, 0, 0, 1, 0, 0xEF, 0xBE, 0xAD, 0xDE];
        assert_eq!(r[0], REQUEST_SYNC);
        assert_eq!(&r[1..13], &body);
        assert_eq!(r[13], crc8(&body));
        assert_eq!(r.len(), REQUEST_HEADER_BYTES + 4 + TRAILER_BYTES);

        let r = Request::mem_read(7, 0x0001_0004, 256).encode();
        assert_eq!(r, {
            let body = [0x04, 7, 0x04, 0, 1, 0, 0x00, 0x01];
            let mut v = vec![REQUEST_SYNC];
            v.extend_from_slice(&body);
            v.push(crc8(&body));
            v
        });
        assert_eq!(Request::mem_read(7, 0, 256).reply_words(), 256);
        assert_eq!(Request::mem_write(7, 0, &[1, 2, 3]).reply_words(), 0);
        assert_eq!(Request::mem_write(7, 0, &[1, 2, 3]).count, 3);
        assert_eq!(
            Request::reg_read(1, 4).encode().len(),
            REQUEST_HEADER_BYTES + TRAILER_BYTES
        );
    }

    #[test]
    fn replies_round_trip() {
        let cases = [
            Reply {
                status: Status::Ok,
                seq: 0,
                data: vec![],
            },
            Reply {
                status: Status::Ok,
                seq: 255,
                data: vec![0x0102_0304],
            },
            Reply {
                status: Status::Ok,
                seq: 9,
                data: (0..MAX_WORDS as u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect(),
            },
        ];
        for r in cases.iter().cloned().chain(Status::ALL.into_iter().map(|status| Reply {
            status,
            seq: 42,
            data: vec![],
        })) {
            let b = r.encode();
            assert_eq!(Reply::frame_len(&b[..REPLY_HEADER_BYTES]), Some(b.len()));
            assert_eq!(Reply::decode(&b), Ok(r));
        }
        assert_eq!(Reply::frame_len(&[REPLY_SYNC, 0, 0, 1]), None);
    }

    #[test]
    fn every_malformed_reply_gives_its_error() {
        let good = Reply {
            status: Status::Ok,
            seq: 3,
            data: vec![0xAABB_CCDD, 5],
        }
        .encode();
        assert_eq!(Reply::decode(&[]), Err(ReplyError::Truncated { have: 0, need: 6 }));
        assert_eq!(Reply::decode(&[0xA5, 0, 0, 0, 0, 0]), Err(ReplyError::BadSync(0xA5)));
        assert_eq!(
            Reply::decode(&good[..4]),
            Err(ReplyError::Truncated { have: 4, need: 6 })
        );
        assert_eq!(
            Reply::decode(&good[..good.len() - 1]),
            Err(ReplyError::Truncated { have: 13, need: 14 })
        );
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            Reply::decode(&long),
            Err(ReplyError::CountMismatch { count: 2, len: 15 })
        );
        let mut bad = good.clone();
        bad[6] ^= 0x10;
        assert!(matches!(Reply::decode(&bad), Err(ReplyError::BadCrc { received, .. }) if received == good[13]));
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(Reply::decode(&bad), Err(ReplyError::BadCrc { .. })));
        // A well-framed reply with an undefined status, or data on an error status.
        let reframe = |mut b: Vec<u8>| {
            let n = b.len();
            b[n - 1] = crc8(&b[1..n - 1]);
            b
        };
        let mut bad = good.clone();
        bad[1] = 0x09;
        assert_eq!(Reply::decode(&reframe(bad)), Err(ReplyError::UnknownStatus(0x09)));
        let mut bad = good.clone();
        bad[1] = Status::BadAddr.code();
        assert_eq!(
            Reply::decode(&reframe(bad)),
            Err(ReplyError::CountMismatch { count: 2, len: 14 })
        );
        let mut big = vec![REPLY_SYNC, 0, 0, 0x01, 0x01];
        big.resize(REPLY_HEADER_BYTES + 4 * 257 + 1, 0);
        assert_eq!(
            Reply::decode(&reframe(big)),
            Err(ReplyError::CountMismatch { count: 257, len: 1034 })
        );
    }

    #[test]
    fn decode_never_panics() {
        // Every short input, then pseudo-random ones that start with the sync byte.
        let mut x = 0x1234_5678u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for len in 0..8 {
            for _ in 0..2000 {
                let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let _ = Reply::decode(&b);
            }
        }
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if !b.is_empty() {
                b[0] = REPLY_SYNC;
            }
            if b.len() > 4 {
                b[4] = 0;
                b[3] %= 8;
            }
            if let Ok(r) = Reply::decode(&b) {
                assert_eq!(r.encode(), b);
            }
        }
    }

    #[test]
    fn the_readme_has_the_status_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        assert!(
            readme.contains(&status_markdown()),
            "README.md's STATUS table is stale; the spec's is:\n{}",
            status_markdown()
        );
    }
}
