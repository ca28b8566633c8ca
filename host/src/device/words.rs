//! Byte copies over a bus that moves whole 32-bit words (a UART bridge's memory commands, a
//! mapped DMA buffer accessed with volatile word loads and stores): an unaligned start or end
//! is a read-modify-write of its edge word, so the bytes beside the copy keep their values.

use super::DeviceError;

/// Bytes per word.
pub(crate) const WORD: u32 = 4;

/// A bus of 32-bit words at 4-aligned byte addresses.
pub(crate) trait WordBus {
    /// Reads `n` words from the 4-aligned byte address `addr`.
    fn read_words(&mut self, addr: u32, n: usize) -> Result<Vec<u32>, DeviceError>;
    /// Writes `words` from the 4-aligned byte address `addr`.
    fn write_words(&mut self, addr: u32, words: &[u32]) -> Result<(), DeviceError>;
}

/// The words covering `addr..addr + len` (`len` > 0): the first word's address, the number of
/// words, and where `addr` lies in the first word. The caller has checked that the range lies
/// in memory, so the covering words do too (memory starts and ends on words).
fn cover(addr: u32, len: usize) -> (u32, usize, usize) {
    let start = addr & !(WORD - 1);
    let end = u64::from(addr) + len as u64;
    let words = (end - u64::from(start)).div_ceil(u64::from(WORD)) as usize;
    (start, words, (addr - start) as usize)
}

fn to_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(WORD as usize)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

/// Copies `len` bytes at `addr` out.
pub(crate) fn read_bytes(bus: &mut impl WordBus, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let (start, n, head) = cover(addr, len);
    let words = bus.read_words(start, n)?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Ok(bytes[head..head + len].to_vec())
}

/// Copies `bytes` to `addr`, reading back the edge words a partial first or last word shares
/// with its neighbours.
pub(crate) fn write_bytes(bus: &mut impl WordBus, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let (start, n, head) = cover(addr, bytes.len());
    let mut buf = vec![0u8; n * WORD as usize];
    let tail_partial = !(head + bytes.len()).is_multiple_of(WORD as usize);
    if head != 0 || (n == 1 && tail_partial) {
        buf[..4].copy_from_slice(&bus.read_words(start, 1)?[0].to_le_bytes());
    }
    if tail_partial && n > 1 {
        let last = start + (n as u32 - 1) * WORD;
        buf[(n - 1) * 4..].copy_from_slice(&bus.read_words(last, 1)?[0].to_le_bytes());
    }
    buf[head..head + bytes.len()].copy_from_slice(bytes);
    bus.write_words(start, &to_words(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory of words, counting the words each access moves.
    struct Mem {
        words: Vec<u32>,
        reads: usize,
        writes: usize,
    }

    impl WordBus for Mem {
        fn read_words(&mut self, addr: u32, n: usize) -> Result<Vec<u32>, DeviceError> {
            assert_eq!(addr % 4, 0);
            self.reads += n;
            Ok(self.words[addr as usize / 4..][..n].to_vec())
        }
        fn write_words(&mut self, addr: u32, words: &[u32]) -> Result<(), DeviceError> {
            assert_eq!(addr % 4, 0);
            self.writes += words.len();
            self.words[addr as usize / 4..][..words.len()].copy_from_slice(words);
            Ok(())
        }
    }

    #[test]
    fn unaligned_copies_keep_the_neighbouring_bytes() {
        let init: Vec<u8> = (0..64u8).collect();
        for addr in 0..12u32 {
            for len in 0..20usize {
                let mut m = Mem {
                    words: to_words(&init),
                    reads: 0,
                    writes: 0,
                };
                let data: Vec<u8> = (0..len).map(|i| 0xC0 ^ i as u8).collect();
                write_bytes(&mut m, addr, &data).unwrap();
                let mut want = init.clone();
                want[addr as usize..addr as usize + len].copy_from_slice(&data);
                let got: Vec<u8> = m.words.iter().flat_map(|w| w.to_le_bytes()).collect();
                assert_eq!(got, want, "addr {addr} len {len}");
                // Only partial edge words are read back: at most two, one if they are the same.
                let (head, tail) = (!addr.is_multiple_of(4), !(addr as usize + len).is_multiple_of(4));
                let want_reads = match len {
                    0 => 0,
                    _ if cover(addr, len).1 == 1 => usize::from(head || tail),
                    _ => usize::from(head) + usize::from(tail),
                };
                assert_eq!(m.reads, want_reads, "addr {addr} len {len}");
                assert_eq!(read_bytes(&mut m, addr, len).unwrap(), data);
            }
        }
    }
}
