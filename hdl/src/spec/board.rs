//! The board around the accelerator (ULX3S, LFE5U-85F): its clocks, the UART the host talks
//! through, and the on-chip memory the accelerator's DMA reads and writes. The board top, the
//! UART bridge, the host's UART back end and the simulated board all take these from here.

/// The ULX3S's oscillator (pin G2), in Hz.
pub const OSC_HZ: u32 = 25_000_000;

/// The design clock the board top's PLL makes from the oscillator, in Hz. Below the whole
/// top's measured Fmax (`fpga/reports/accel.md`), and a whole multiple of [`UART_BAUD`].
pub const CLOCK_HZ: u32 = 50_000_000;

/// The UART's bit rate on the board (the ULX3S's FT231X takes up to 3 Mbaud).
pub const UART_BAUD: u32 = 1_000_000;

/// Clock cycles per UART bit on the board.
pub const CLKS_PER_BIT: u32 = CLOCK_HZ / UART_BAUD;

/// Bytes of on-chip memory the accelerator's DMA uses on the board, at bus address 0.
pub const MEM_BYTES: u32 = 128 * 1024;

/// Bytes per word of the bridge's memory port (and of the UART protocol's memory commands).
pub const MEM_WORD_BYTES: u32 = 4;

/// Width of a word address into the board's memory.
pub const MEM_WORD_ADDR_BITS: usize = (MEM_BYTES / MEM_WORD_BYTES).trailing_zeros() as usize;

// The UART divides the clock, and the receiver samples mid-bit: it needs a few clocks per bit.
const _: () = assert!(CLOCK_HZ.is_multiple_of(UART_BAUD) && CLKS_PER_BIT >= 4);
// The memory is a power of two, so its word address has MEM_WORD_ADDR_BITS bits exactly.
const _: () = assert!(MEM_BYTES.is_power_of_two() && 1u32 << MEM_WORD_ADDR_BITS == MEM_BYTES / MEM_WORD_BYTES);
