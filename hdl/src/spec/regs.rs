//! The AXI4-Lite register map, declared once (LiteX-CSR style: each register with its fields,
//! access, reset value and description). The Verilog register decoder, the host's constants
//! and accessors, and the docs (markdown, JSON, C header) are all generated from [`REGISTERS`].
//!
//! 32-bit registers at word-aligned byte offsets. 64-bit counters are `_LO`/`_HI` pairs; reading
//! `_LO` latches `_HI` so the pair is read atomically.

use std::fmt::Write as _;

/// Version of this register map; bump on any change. Part of the configuration hash.
pub const REGMAP_VERSION: u32 = 5;

/// Value of the ID register: "NPE" and a 1.
pub const ID_MAGIC: u32 = 0x4E50_4501;

/// How software may access a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only: writes change nothing and answer SLVERR.
    Ro,
    /// Read and write.
    Rw,
    /// Write only: reads return 0.
    Wo,
    /// Read; writing 1 to a bit clears it.
    W1c,
}

impl Access {
    /// Short name for docs.
    pub const fn name(self) -> &'static str {
        match self {
            Access::Ro => "RO",
            Access::Rw => "RW",
            Access::Wo => "WO",
            Access::W1c => "W1C",
        }
    }
}

/// A field of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Name (upper case).
    pub name: &'static str,
    /// Lowest bit.
    pub offset: u32,
    /// Width in bits.
    pub width: u32,
    /// A write of 1 makes a one-cycle pulse; reads return 0.
    pub pulse: bool,
    /// What it means.
    pub description: &'static str,
}

/// One register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    /// Name (upper case).
    pub name: &'static str,
    /// Byte offset from the register block's base.
    pub offset: u32,
    /// Access.
    pub access: Access,
    /// Value after reset (for RO registers that reflect hardware: the value at reset).
    pub reset: u32,
    /// What it holds.
    pub description: &'static str,
    /// Named fields; empty means the whole word is one value.
    pub fields: &'static [Field],
}

impl Register {
    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Mask of the bits its fields cover (every bit if it has no fields).
    pub const fn fields_mask(&self) -> u32 {
        if self.fields.is_empty() {
            return u32::MAX;
        }
        let mut m = 0;
        let mut i = 0;
        while i < self.fields.len() {
            m |= self.fields[i].mask();
            i += 1;
        }
        m
    }

    /// Mask of its pulse fields (a write of 1 pulses, nothing is stored).
    pub const fn pulse_mask(&self) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < self.fields.len() {
            if self.fields[i].pulse {
                m |= self.fields[i].mask();
            }
            i += 1;
        }
        m
    }

    /// Bits a write stores (RW and WO: every non-pulse field bit; RO and W1C: none).
    pub const fn write_mask(&self) -> u32 {
        match self.access {
            Access::Rw | Access::Wo => self.fields_mask() & !self.pulse_mask(),
            Access::Ro | Access::W1c => 0,
        }
    }

    /// Bits a written 1 clears (W1C registers: their field bits; others: none).
    pub const fn w1c_mask(&self) -> u32 {
        match self.access {
            Access::W1c => self.fields_mask() & !self.pulse_mask(),
            _ => 0,
        }
    }

    /// Bits a read returns as stored (WO: none, pulses: none).
    pub const fn read_mask(&self) -> u32 {
        match self.access {
            Access::Wo => 0,
            _ => !self.pulse_mask(),
        }
    }

    /// The low word of a 64-bit counter: named `<X>_LO` with `<X>_HI` at the next word.
    pub const fn is_counter_lo(&self) -> bool {
        counter_hi_of(self).is_some()
    }

    /// The high word of a 64-bit counter (the partner of an [`Register::is_counter_lo`]).
    pub const fn is_counter_hi(&self) -> bool {
        let mut i = 0;
        while i < REGISTERS.len() {
            if let Some(hi) = counter_hi_of(&REGISTERS[i]) {
                if hi.offset == self.offset {
                    return true;
                }
            }
            i += 1;
        }
        false
    }
}

/// Byte width of a register (the table's words are `u32`).
pub const REG_BYTES: u32 = u32::BITS / 8;

/// Width of the register block's byte address on AXI4-Lite: a 256-byte window.
pub const REG_ADDR_BITS: usize = 8;

const _: () = {
    // Every offset fits the address window.
    let mut i = 0;
    while i < REGISTERS.len() {
        assert!(REGISTERS[i].offset + REG_BYTES <= 1 << REG_ADDR_BITS);
        i += 1;
    }
};

const fn str_eq(a: &str, b: &str) -> bool {
    str_eq_bytes(a.as_bytes(), b.as_bytes())
}

/// `name` minus `suffix`, if it ends with it.
const fn strip_suffix<'a>(name: &'a str, suffix: &str) -> Option<&'a [u8]> {
    let (n, s) = (name.as_bytes(), suffix.as_bytes());
    if n.len() < s.len() {
        return None;
    }
    let (head, tail) = n.split_at(n.len() - s.len());
    let mut i = 0;
    while i < s.len() {
        if tail[i] != s[i] {
            return None;
        }
        i += 1;
    }
    Some(head)
}

/// The `_HI` partner of a counter's `_LO` register.
const fn counter_hi_of(lo: &Register) -> Option<Register> {
    let Some(stem) = strip_suffix(lo.name, "_LO") else {
        return None;
    };
    let mut i = 0;
    while i < REGISTERS.len() {
        let r = REGISTERS[i];
        if r.offset == lo.offset + REG_BYTES {
            if let Some(s) = strip_suffix(r.name, "_HI") {
                if s.len() == stem.len() && str_eq_bytes(s, stem) {
                    return Some(r);
                }
            }
        }
        i += 1;
    }
    None
}

const fn str_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Field {
    /// Mask of the field's bits in the register.
    pub const fn mask(&self) -> u32 {
        (if self.width >= 32 {
            u32::MAX
        } else {
            (1 << self.width) - 1
        }) << self.offset
    }

    /// The field's value in a register word.
    pub const fn get(&self, word: u32) -> u32 {
        (word & self.mask()) >> self.offset
    }

    /// `word` with the field set to `value` (bits beyond the field's width are dropped).
    pub const fn set(&self, word: u32, value: u32) -> u32 {
        (word & !self.mask()) | ((value << self.offset) & self.mask())
    }
}

const fn field(name: &'static str, offset: u32, width: u32, description: &'static str) -> Field {
    Field {
        name,
        offset,
        width,
        pulse: false,
        description,
    }
}

const fn pulse(name: &'static str, offset: u32, description: &'static str) -> Field {
    Field {
        name,
        offset,
        width: 1,
        pulse: true,
        description,
    }
}

const fn reg(
    name: &'static str,
    offset: u32,
    access: Access,
    reset: u32,
    description: &'static str,
    fields: &'static [Field],
) -> Register {
    Register {
        name,
        offset,
        access,
        reset,
        description,
        fields,
    }
}

/// Why a job ended in error (the STATUS.ERROR field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorCode {
    /// No error.
    None = 0,
    /// The job descriptor was rejected (zero or too-large dimension, unsupported format pair).
    BadJob = 1,
    /// An address or stride was misaligned or out of range.
    BadAddress = 2,
    /// A DMA read got SLVERR.
    ReadSlvErr = 3,
    /// A DMA read got DECERR.
    ReadDecErr = 4,
    /// A DMA write got SLVERR.
    WriteSlvErr = 5,
    /// A DMA write got DECERR.
    WriteDecErr = 6,
}

impl ErrorCode {
    /// Every code, by value.
    pub const ALL: [ErrorCode; 7] = [
        ErrorCode::None,
        ErrorCode::BadJob,
        ErrorCode::BadAddress,
        ErrorCode::ReadSlvErr,
        ErrorCode::ReadDecErr,
        ErrorCode::WriteSlvErr,
        ErrorCode::WriteDecErr,
    ];

    /// The code a STATUS.ERROR value stands for.
    pub fn from_u32(v: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|e| *e as u32 == v)
    }
}

/// The register map, in offset order.
#[rustfmt::skip]
pub const REGISTERS: &[Register] = &[
    reg("ID", 0x00, Access::Ro, ID_MAGIC, "Identifies an npe: 0x4E504501 (\"NPE\", 1).", &[]),
    reg("VERSION", 0x04, Access::Ro, REGMAP_VERSION, "Register-map version.", &[]),
    reg("CONFIG_HASH", 0x08, Access::Ro, 0, "Hash of the hardware configuration (array shape, formats, accumulator, register map); the host refuses a device whose hash differs from its own.", &[]),
    reg("CAPABILITY", 0x0C, Access::Ro, 0, "Array shape and accumulator width.", &[
        field("ROWS", 0, 8, "PE rows."),
        field("COLS", 8, 8, "PE columns."),
        field("ACC_BITS", 16, 10, "Exact accumulator width in bits."),
        field("BLOCK_SCALES", 26, 1, "The PEs scale weight blocks (BLOCK, BS_ADDR)."),
    ]),
    reg("FORMATS", 0x10, Access::Ro, 0, "Bit i set: operand format id i is supported.", &[]),
    reg("CTRL", 0x14, Access::Rw, 0, "Control.", &[
        pulse("START", 0, "Write 1 to start the job in the job registers."),
        pulse("SOFT_RESET", 1, "Write 1 to abort and reset the controller; STATUS.BUSY stays set until the DMA bursts in flight are closed."),
        field("IRQ_EN", 2, 1, "Raise the interrupt line when a job ends."),
    ]),
    reg("STATUS", 0x18, Access::Ro, 0, "Status.", &[
        field("BUSY", 0, 1, "A job is running."),
        field("DONE", 1, 1, "The last job ended (cleared by START)."),
        field("ERROR", 4, 4, "Why the last job ended in error (ErrorCode), 0 if it did not."),
    ]),
    reg("IRQ", 0x1C, Access::W1c, 0, "Interrupt status.", &[
        field("DONE", 0, 1, "A job ended; write 1 to clear."),
    ]),
    reg("M", 0x20, Access::Rw, 0, "Rows of A and C (1 or more).", &[]),
    reg("N", 0x24, Access::Rw, 0, "Columns of W and C (1 or more).", &[]),
    reg("K", 0x28, Access::Rw, 0, "Columns of A, rows of W: the dot-product length in elements (1 or more).", &[]),
    reg("FMT", 0x2C, Access::Rw, 0, "Formats of the job.", &[
        field("A", 0, 5, "Activation format id."),
        field("W", 8, 5, "Weight format id."),
        field("OUT", 24, 3, "Output format id."),
        field("SCALE_EXP", 16, 8, "Power-of-two output scale: results are multiplied by 2^SCALE_EXP (two's complement) before rounding."),
    ]),
    reg("A_ADDR", 0x30, Access::Rw, 0, "Byte address of A: rows of K-beats of lane-packed 16-bit words (16-byte aligned).", &[]),
    reg("W_ADDR", 0x34, Access::Rw, 0, "Byte address of W, stored transposed: one packed row of K-beats per output column (16-byte aligned).", &[]),
    reg("C_ADDR", 0x38, Access::Rw, 0, "Byte address of C: rows of 32-bit output containers (16-byte aligned).", &[]),
    reg("SCALE_ADDR", 0x3C, Access::Rw, 0, "Byte address of the per-column scales (0: none): 16 bytes per column tile, 16-bit word c = column c's power-of-two scale (an 8-bit two's complement value, sign-extended), added to SCALE_EXP. 16-byte aligned.", &[]),
    reg("A_STRIDE", 0x40, Access::Rw, 0, "Bytes between packed rows of A (a multiple of 16).", &[]),
    reg("W_STRIDE", 0x44, Access::Rw, 0, "Bytes between packed columns of W (a multiple of 16).", &[]),
    reg("C_STRIDE", 0x48, Access::Rw, 0, "Bytes between rows of C (a multiple of 16).", &[]),
    reg("SCRATCH", 0x4C, Access::Rw, 0, "Free for software (bus tests).", &[]),
    reg("CYCLES_LO", 0x50, Access::Ro, 0, "Clock cycles since reset, low word (latches the high word).", &[]),
    reg("CYCLES_HI", 0x54, Access::Ro, 0, "Clock cycles since reset, high word.", &[]),
    reg("BUSY_LO", 0x58, Access::Ro, 0, "Cycles with a job running, low word.", &[]),
    reg("BUSY_HI", 0x5C, Access::Ro, 0, "Cycles with a job running, high word.", &[]),
    reg("STALL_LO", 0x60, Access::Ro, 0, "Busy cycles in which the array waited for data, low word.", &[]),
    reg("STALL_HI", 0x64, Access::Ro, 0, "Busy cycles in which the array waited for data, high word.", &[]),
    reg("DMA_RD_LO", 0x68, Access::Ro, 0, "Bytes read by the DMA, low word.", &[]),
    reg("DMA_RD_HI", 0x6C, Access::Ro, 0, "Bytes read by the DMA, high word.", &[]),
    reg("DMA_WR_LO", 0x70, Access::Ro, 0, "Bytes written by the DMA, low word.", &[]),
    reg("DMA_WR_HI", 0x74, Access::Ro, 0, "Bytes written by the DMA, high word.", &[]),
    reg("BLOCK", 0x78, Access::Rw, 0, "Block-scaled weights (devices with CAPABILITY.BLOCK_SCALES; a job with EN set elsewhere is a bad job). Each column's K is cut into blocks of 2^BEATS_LOG2 packed words; the exact partial sum of each block is multiplied by the block's scale before it joins the column's sum.", &[
        field("EN", 0, 1, "Scale weight blocks (BS_ADDR holds the scales)."),
        field("KIND", 1, 2, "Scale code kind: 0 unsigned 8-bit integer, 1 E8M0, 2 FP8 E4M3."),
        field("BEATS_LOG2", 4, 3, "log2 of a block's length in packed words: 2 … 7, at least the kind's scale bits (u8: 3, E4M3: 2, E8M0: 2); K / lanes must be a multiple of the block (pad K with zeros)."),
        field("BASE", 8, 8, "E8M0: the code of the lowest exponent of the 16 a job's scales may use (others make their column NaN)."),
    ]),
    reg("BS_ADDR", 0x7C, Access::Rw, 0, "Byte address of the block scales (16-byte aligned): per column tile, in tile order, ceil(blocks × COLS / 8) 16-byte beats of 16-bit little-endian entries; the entry of block j of the tile's column c is entry (j mod (8 / COLS)) × COLS + c of the run's beat floor(j / (8 / COLS)): the scale code in bits 0–7 and, for BitMoD weights, the block's data-type selector in bits 8–9 (other bits 0).", &[]),
];

/// The register named `name` in [`REGISTERS`] (a compile error if there is none).
const fn lookup(name: &str) -> Register {
    let mut i = 0;
    while i < REGISTERS.len() {
        if str_eq(REGISTERS[i].name, name) {
            return REGISTERS[i];
        }
        i += 1;
    }
    panic!("a typed register constant names a register that is not in REGISTERS")
}

/// The field named `name` of `r` (a compile error if there is none).
const fn field_of(r: &Register, name: &str) -> Field {
    let mut i = 0;
    while i < r.fields.len() {
        if str_eq(r.fields[i].name, name) {
            return r.fields[i];
        }
        i += 1;
    }
    panic!("a typed field constant names a field that is not in its register")
}

/// Typed handles on the table: a `Register` constant per register and a module per register
/// with fields holding a `Field` constant per field. Each is looked up in [`REGISTERS`] at
/// compile time (a misspelt name does not compile), so they restate nothing; a test checks
/// that they cover the whole table.
macro_rules! typed_registers {
    ($($reg:ident $(=> $module:ident { $($field:ident),+ $(,)? })?;)*) => {
        $(
            #[doc = concat!("Register `", stringify!($reg), "` (from [`REGISTERS`]).")]
            pub const $reg: Register = lookup(stringify!($reg));
            $(
                #[doc = concat!("Fields of register [`", stringify!($reg), "`] (from [`REGISTERS`]).")]
                pub mod $module {
                    use super::{field_of, Field, $reg};
                    $(
                        #[doc = concat!("Field `", stringify!($reg), ".", stringify!($field), "`.")]
                        pub const $field: Field = field_of(&$reg, stringify!($field));
                    )+
                    /// Every field above, in declaration order.
                    pub const ALL: &[Field] = &[$($field),+];
                }
            )?
        )*

        /// Every typed register constant, in declaration order (the table's order: tested).
        pub const TYPED_REGISTERS: &[Register] = &[$($reg),*];

        /// `(register, its typed fields)` for every register given a field module.
        pub const TYPED_FIELDS: &[(Register, &[Field])] = &[$($(($reg, $module::ALL),)?)*];
    };
}

typed_registers! {
    ID;
    VERSION;
    CONFIG_HASH;
    CAPABILITY => capability { ROWS, COLS, ACC_BITS, BLOCK_SCALES };
    FORMATS;
    CTRL => ctrl { START, SOFT_RESET, IRQ_EN };
    STATUS => status { BUSY, DONE, ERROR };
    IRQ => irq { DONE };
    M;
    N;
    K;
    FMT => fmt { A, W, OUT, SCALE_EXP };
    A_ADDR;
    W_ADDR;
    C_ADDR;
    SCALE_ADDR;
    A_STRIDE;
    W_STRIDE;
    C_STRIDE;
    SCRATCH;
    CYCLES_LO;
    CYCLES_HI;
    BUSY_LO;
    BUSY_HI;
    STALL_LO;
    STALL_HI;
    DMA_RD_LO;
    DMA_RD_HI;
    DMA_WR_LO;
    DMA_WR_HI;
    BLOCK => block { EN, KIND, BEATS_LOG2, BASE };
    BS_ADDR;
}

/// The job registers: what START hands the core (the register file's job bundle, in order).
pub const JOB_REGISTERS: &[Register] = &[
    M, N, K, FMT, A_ADDR, W_ADDR, C_ADDR, SCALE_ADDR, A_STRIDE, W_STRIDE, C_STRIDE, BLOCK, BS_ADDR,
];

/// Looks a register up by name (case-insensitive).
pub fn register(name: &str) -> Option<&'static Register> {
    REGISTERS.iter().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// Looks a register up by byte offset.
pub fn register_at(offset: u32) -> Option<&'static Register> {
    REGISTERS.iter().find(|r| r.offset == offset)
}

/// The register map as a markdown table (the committed `hdl/REGISTERS.md`).
pub fn markdown() -> String {
    let mut s = String::from("# npe register map\n\n");
    writeln!(
        s,
        "Generated from `hdl/src/spec/regs.rs` (register-map version {REGMAP_VERSION}); do not edit."
    )
    .unwrap();
    writeln!(s, "32-bit registers on AXI4-Lite; offsets in bytes.\n").unwrap();
    writeln!(
        s,
        "| offset | name | access | reset | description |\n|---|---|---|---|---|"
    )
    .unwrap();
    for r in REGISTERS {
        writeln!(
            s,
            "| 0x{:02X} | {} | {} | 0x{:08X} | {} |",
            r.offset,
            r.name,
            r.access.name(),
            r.reset,
            r.description
        )
        .unwrap();
    }
    for r in REGISTERS.iter().filter(|r| !r.fields.is_empty()) {
        writeln!(s, "\n## {}\n\n| bits | field | description |\n|---|---|---|", r.name).unwrap();
        for f in r.fields {
            let bits = if f.width == 1 {
                format!("{}", f.offset)
            } else {
                format!("{}:{}", f.offset + f.width - 1, f.offset)
            };
            let pulse = if f.pulse { " (pulse)" } else { "" };
            writeln!(s, "| {bits} | {}{pulse} | {} |", f.name, f.description).unwrap();
        }
    }
    writeln!(s, "\n## Error codes (STATUS.ERROR)\n\n| value | name |\n|---|---|").unwrap();
    for e in ErrorCode::ALL {
        writeln!(s, "| {} | {:?} |", e as u32, e).unwrap();
    }
    s
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The register map as JSON, for tools outside Rust.
pub fn json() -> String {
    let regs: Vec<String> = REGISTERS
        .iter()
        .map(|r| {
            let fields: Vec<String> = r
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{{\"name\": {}, \"offset\": {}, \"width\": {}, \"pulse\": {}, \"description\": {}}}",
                        json_str(f.name),
                        f.offset,
                        f.width,
                        f.pulse,
                        json_str(f.description)
                    )
                })
                .collect();
            format!(
                "    {{\"name\": {}, \"offset\": {}, \"access\": {}, \"reset\": {}, \"description\": {}, \"fields\": [{}]}}",
                json_str(r.name),
                r.offset,
                json_str(r.access.name()),
                r.reset,
                json_str(r.description),
                fields.join(", ")
            )
        })
        .collect();
    format!(
        "{{\n  \"version\": {REGMAP_VERSION},\n  \"registers\": [\n{}\n  ]\n}}\n",
        regs.join(",\n")
    )
}

/// The register map as a C header: `NPE_<REG>_OFFSET`, `NPE_<REG>_<FIELD>_SHIFT` / `_MASK`.
pub fn c_header() -> String {
    let mut s = String::from("/* npe register map: generated from hdl/src/spec/regs.rs, do not edit. */\n");
    s.push_str("#ifndef NPE_REGS_H\n#define NPE_REGS_H\n\n");
    writeln!(
        s,
        "#define NPE_REGMAP_VERSION {REGMAP_VERSION}u\n#define NPE_ID_MAGIC 0x{ID_MAGIC:08X}u\n"
    )
    .unwrap();
    for r in REGISTERS {
        writeln!(s, "#define NPE_{}_OFFSET 0x{:02X}u", r.name, r.offset).unwrap();
        for f in r.fields {
            writeln!(s, "#define NPE_{}_{}_SHIFT {}u", r.name, f.name, f.offset).unwrap();
            writeln!(s, "#define NPE_{}_{}_MASK 0x{:08X}u", r.name, f.name, f.mask()).unwrap();
        }
    }
    s.push_str("\n#endif /* NPE_REGS_H */\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader and the storer turn an AXI error response into their error code by adding
    /// one offset: SLVERR and DECERR must stand in the same order, as far apart, in both.
    #[test]
    fn dma_error_codes_follow_the_axi_responses() {
        use crate::spec::AxiResp;
        for (slv, dec) in [
            (ErrorCode::ReadSlvErr, ErrorCode::ReadDecErr),
            (ErrorCode::WriteSlvErr, ErrorCode::WriteDecErr),
        ] {
            assert_eq!(dec as u64 - slv as u64, AxiResp::DecErr.code() - AxiResp::SlvErr.code());
        }
    }

    #[test]
    fn offsets_are_word_aligned_unique_and_ordered() {
        for pair in REGISTERS.windows(2) {
            assert!(pair[0].offset < pair[1].offset, "{} / {}", pair[0].name, pair[1].name);
        }
        for r in REGISTERS {
            assert_eq!(r.offset % REG_BYTES, 0, "{}", r.name);
            assert_eq!(register(r.name), Some(r));
            assert_eq!(register_at(r.offset), Some(r));
        }
    }

    #[test]
    fn fields_fit_and_do_not_overlap() {
        for r in REGISTERS {
            let mut used = 0u32;
            for f in r.fields {
                assert!(f.width >= 1 && f.offset + f.width <= 32, "{}.{}", r.name, f.name);
                assert_eq!(used & f.mask(), 0, "{}.{} overlaps", r.name, f.name);
                used |= f.mask();
            }
            if !r.fields.is_empty() {
                assert_eq!(r.reset & !used, 0, "{} reset outside its fields", r.name);
            }
        }
    }

    #[test]
    fn field_get_and_set() {
        let fmt = register("FMT").unwrap();
        let w = fmt.field("W").unwrap();
        let word = w.set(fmt.field("A").unwrap().set(0, 0x7), 0xC);
        assert_eq!(word, 0xC07);
        assert_eq!(w.get(word), 0xC);
        assert_eq!(w.set(word, 0x3F), 0x1F07, "bits beyond the field are dropped");
    }

    #[test]
    fn typed_constants_cover_the_table() {
        assert_eq!(
            TYPED_REGISTERS, REGISTERS,
            "one typed constant per register, in table order"
        );
        for r in REGISTERS.iter().filter(|r| !r.fields.is_empty()) {
            let typed = TYPED_FIELDS.iter().find(|(t, _)| t == r);
            assert_eq!(typed.map(|t| t.1), Some(r.fields), "{}: typed fields", r.name);
        }
        assert_eq!(STATUS.offset, register("STATUS").unwrap().offset);
        assert_eq!(status::ERROR.get(0x50), 5);
        assert_eq!(fmt::W.set(0, 0x16), 0x1600);
    }

    #[test]
    fn masks_follow_access_and_fields() {
        assert_eq!(CTRL.write_mask(), ctrl::IRQ_EN.mask(), "pulses are not stored");
        assert_eq!(CTRL.pulse_mask(), ctrl::START.mask() | ctrl::SOFT_RESET.mask());
        assert_eq!(IRQ.write_mask(), 0);
        assert_eq!(IRQ.w1c_mask(), irq::DONE.mask());
        assert_eq!(M.write_mask(), u32::MAX);
        assert_eq!(STATUS.write_mask(), 0);
        assert_eq!(FMT.write_mask(), fmt::ALL.iter().fold(0, |m, f| m | f.mask()));
    }

    #[test]
    fn counters_are_lo_hi_pairs() {
        let lo: Vec<&str> = REGISTERS.iter().filter(|r| r.is_counter_lo()).map(|r| r.name).collect();
        let hi: Vec<&str> = REGISTERS.iter().filter(|r| r.is_counter_hi()).map(|r| r.name).collect();
        assert_eq!(lo, ["CYCLES_LO", "BUSY_LO", "STALL_LO", "DMA_RD_LO", "DMA_WR_LO"]);
        assert_eq!(hi, ["CYCLES_HI", "BUSY_HI", "STALL_HI", "DMA_RD_HI", "DMA_WR_HI"]);
        assert!(!SCRATCH.is_counter_lo() && !SCRATCH.is_counter_hi());
    }

    #[test]
    fn job_registers_are_writable() {
        for r in JOB_REGISTERS {
            assert_eq!(r.access, Access::Rw, "{}", r.name);
        }
    }

    #[test]
    fn the_committed_markdown_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/REGISTERS.md");
        let want = markdown();
        if std::env::var_os("NPE_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "{path} is stale: regenerate with NPE_BLESS=1 cargo test -p npe-hdl regs"
        );
    }

    #[test]
    fn json_and_header_name_every_register() {
        let j = json();
        let h = c_header();
        for r in REGISTERS {
            assert!(j.contains(&format!("\"name\": \"{}\"", r.name)), "{}", r.name);
            assert!(
                h.contains(&format!("#define NPE_{}_OFFSET 0x{:02X}u", r.name, r.offset)),
                "{}",
                r.name
            );
        }
        assert!(h.contains("#define NPE_CTRL_START_MASK 0x00000001u"));
        assert_eq!(ErrorCode::from_u32(4), Some(ErrorCode::ReadDecErr));
        assert_eq!(ErrorCode::from_u32(99), None);
    }
}
