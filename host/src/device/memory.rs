//! Device memory allocation: page-aligned buffers in the memory the accelerator's DMA reaches.
//!
//! Every buffer starts on a 4 KiB page (the DMA splits bursts at 4 KiB; page-aligned rows keep
//! bursts long). Memory starts at a base address (0 in the simulator; a board's DDR window
//! elsewhere); when it starts at 0, page 0 is never handed out, so address 0 can mean "none" in
//! the job registers (`SCALE_ADDR`). The free-list bookkeeping is `range-alloc`'s (gfx-rs).

use super::DeviceError;
use range_alloc::RangeAllocator;
use std::ops::Range;

/// Allocation granule and alignment: the AXI 4 KiB burst boundary (AMBA AXI: a burst must not
/// cross a 4 KiB boundary).
pub const PAGE: u64 = 4096;

/// Bytes a buffer of `len` bytes takes: whole pages, at least one.
pub fn pages(len: usize) -> u64 {
    (len as u64).div_ceil(PAGE).max(1) * PAGE
}

/// A buffer in device memory. Hand it back with [`DeviceMemory::free`].
#[derive(Debug, PartialEq, Eq)]
pub struct DeviceBuffer {
    range: Range<u64>,
    len: usize,
}

impl DeviceBuffer {
    /// Byte address of the first byte.
    pub fn addr(&self) -> u32 {
        self.range.start as u32
    }

    /// Bytes asked for (the allocation is rounded up to whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The device address of `offset..offset + len` inside the buffer, or an error if that runs
    /// past its end.
    pub fn span(&self, offset: usize, len: usize) -> Result<u32, DeviceError> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(DeviceError::BufferOverrun {
                offset,
                len,
                buffer: self.len,
            });
        }
        Ok(self.addr() + offset as u32)
    }
}

/// The allocator of one device's memory.
pub struct DeviceMemory {
    alloc: RangeAllocator<u64>,
    base: u64,
    size: u64,
}

impl DeviceMemory {
    /// Manages `size` bytes from address `base` (whole pages inside `base..base + size`; page 0
    /// reserved). The end is capped at 4 GiB: addresses are 32-bit.
    pub fn new(base: u32, size: u32) -> Self {
        let end = (u64::from(base) + u64::from(size)).min(1 << 32) / PAGE * PAGE;
        let start = (u64::from(base).div_ceil(PAGE) * PAGE).max(PAGE).min(end);
        // An empty range: one reserved page that is never free, so every allocation fails.
        let alloc = if start < end {
            RangeAllocator::new(start..end)
        } else {
            let mut a = RangeAllocator::new(0..PAGE);
            let _ = a.allocate_range(PAGE);
            a
        };
        DeviceMemory {
            alloc,
            base: u64::from(base),
            size: end.saturating_sub(u64::from(base)),
        }
    }

    /// Address of the first byte managed.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// A page-aligned buffer of `len` bytes, or [`DeviceError::OutOfMemory`].
    pub fn alloc(&mut self, len: usize) -> Result<DeviceBuffer, DeviceError> {
        let pages = pages(len);
        let what = || format!("a buffer of {len} bytes");
        if self.alloc.initial_range().start == 0 {
            return Err(DeviceError::OutOfMemory {
                what: what(),
                need: pages,
                have: 0,
            });
        }
        let range = self.alloc.allocate_range(pages).map_err(|_| DeviceError::OutOfMemory {
            what: what(),
            need: pages,
            have: self.free_bytes(),
        })?;
        Ok(DeviceBuffer { range, len })
    }

    /// Returns a buffer's pages.
    pub fn free(&mut self, buf: DeviceBuffer) {
        self.alloc.free_range(buf.range);
    }

    /// Bytes not allocated (possibly fragmented).
    pub fn free_bytes(&self) -> u64 {
        self.alloc.total_available()
    }

    /// Bytes from the base to the end of the last whole page (page 0 included).
    pub fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_page_aligned_disjoint_and_reused() {
        let mut m = DeviceMemory::new(0, 64 * 1024);
        let a = m.alloc(10).unwrap();
        let b = m.alloc(5000).unwrap();
        assert_eq!(a.addr(), 4096, "page 0 is reserved");
        assert_eq!(b.addr() % 4096, 0);
        assert!(b.addr() >= a.addr() + 4096);
        assert_eq!(m.free_bytes(), 64 * 1024 - 4096 * 4);
        let a_addr = a.addr();
        m.free(a);
        assert_eq!(m.alloc(100).unwrap().addr(), a_addr);
    }

    #[test]
    fn exhaustion_and_overruns_are_errors() {
        let mut m = DeviceMemory::new(0, 4 * 4096);
        let b = m.alloc(3 * 4096).unwrap();
        assert!(matches!(
            m.alloc(1),
            Err(DeviceError::OutOfMemory {
                need: 4096,
                have: 0,
                ..
            })
        ));
        assert_eq!(b.span(3 * 4096 - 8, 8).unwrap(), 4096 + 3 * 4096 - 8);
        assert!(matches!(
            b.span(3 * 4096 - 8, 9),
            Err(DeviceError::BufferOverrun { .. })
        ));
        assert!(matches!(b.span(usize::MAX, 2), Err(DeviceError::BufferOverrun { .. })));
        m.free(b);
        assert_eq!(m.free_bytes(), 3 * 4096);
    }

    #[test]
    fn memory_at_a_base_address() {
        // A board's DDR window: no page is reserved, buffers start at the base.
        let base = 0x8000_0000u32;
        let mut m = DeviceMemory::new(base, 3 * PAGE as u32);
        assert_eq!(m.base(), u64::from(base));
        assert_eq!(m.free_bytes(), 3 * PAGE);
        let a = m.alloc(1).unwrap();
        assert_eq!(a.addr(), base);
        assert_eq!(a.span(0, 1).unwrap(), base);
        // An unaligned base starts at the next page; memory reaching past 4 GiB is cut there.
        let m = DeviceMemory::new(0xFFFF_F800, 0x1000);
        assert_eq!(m.free_bytes(), 0);
        let mut m = DeviceMemory::new(0, 100);
        assert!(matches!(m.alloc(1), Err(DeviceError::OutOfMemory { .. })));
    }
}
