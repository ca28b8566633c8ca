//! AXI4 facts the DMA engines and the core rely on: bus width, beat size, burst and page
//! limits. (Response codes are not defined here.)

/// Width of the AXI4 DMA data bus in bits.
pub const AXI_DATA_BITS: u32 = 128;

/// Bytes per AXI4 data beat.
pub const AXI_BEAT_BYTES: u32 = AXI_DATA_BITS / 8;

/// Beats per AXI4 INCR burst at most (AxLEN is 8 bits: beats − 1).
pub const MAX_BURST_BEATS: u32 = 256;

/// A burst must not cross a boundary of this many bytes (AXI4's 4 KiB rule).
pub const PAGE_BYTES: u32 = 4096;

/// Beats per 4 KiB page.
pub const PAGE_BEATS: u32 = PAGE_BYTES / AXI_BEAT_BYTES;

/// AxSIZE of every burst: log2 of the beat's bytes.
pub const AXI_SIZE: u64 = AXI_BEAT_BYTES.trailing_zeros() as u64;

/// AxBURST of every burst: INCR.
pub const AXI_BURST_INCR: u64 = 1;

/// Bits of AxLEN.
pub const AXI_LEN_BITS: usize = 8;

// The burst split takes min(beats left, beats left in the page): a page may not hold more
// beats than one burst carries.
const _: () = assert!(PAGE_BEATS <= MAX_BURST_BEATS && MAX_BURST_BEATS == 1 << AXI_LEN_BITS);
const _: () = assert!(AXI_BEAT_BYTES.is_power_of_two() && PAGE_BEATS.is_power_of_two());
