//! The Linux MMIO back end, for FPGA SoCs (a Zynq or a Cyclone V SoC running Linux): the
//! accelerator's AXI4-Lite registers through a UIO device (`/dev/uioN`, map 0) and its DMA
//! target in a physically contiguous buffer from u-dma-buf (`/dev/udmabufN`), both mapped with
//! `memmap2` and accessed with volatile 32-bit loads and stores.
//!
//! Sizes and addresses come from sysfs: `/sys/class/uio/uioN/maps/map0/{size,addr}` and
//! `/sys/class/u-dma-buf/udmabufN/{phys_addr,size}` (`/sys/class/udmabuf/…` for u-dma-buf 1.x).
//! Each is checked before anything is mapped: a missing device, a missing or garbled attribute,
//! a register window smaller than the register map, a DMA buffer too small for a job or out of
//! the accelerator's 32-bit reach are [`MmioError`]s naming the file. The DMA buffer is opened
//! `O_SYNC`, which u-dma-buf maps uncached, so the accelerator sees what the host wrote.
//!
//! The two windows are [`Window`]s: [`MappedWindow`] on a board, and anything else that serves
//! 32-bit words in a test (the tests map regular files and serve the registers with the
//! functional model in a thread).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memmap2::{MmapOptions, MmapRaw};
use npe_hdl::spec::config::AXI_BEAT_BYTES;
use npe_hdl::spec::regs::REG_ADDR_BITS;
use npe_hdl::spec::AxiResp;

use super::memory::PAGE;
use super::words::{self, WordBus, WORD};
use super::{Backend, BusError, BusOp, DeviceError, MmioError};

/// Bytes of register window the accelerator's register map needs.
pub const REG_WINDOW_BYTES: u64 = 1 << REG_ADDR_BITS;

/// Fewest bytes of DMA buffer the back end takes: a page each for A, W and C, the least a job
/// needs ([`super::DeviceMemory`] hands out whole pages).
pub const MIN_DMA_BYTES: u64 = 3 * PAGE;

/// 32-bit words at byte offsets: a register window or a DMA buffer.
pub trait Window {
    /// Bytes in the window.
    fn len(&self) -> usize;
    /// Whether the window has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads the word at `offset`. An offset that is not 4-aligned or not inside the window is
    /// `Err(DecErr)` (nothing is touched); a window in front of a bus may answer other errors.
    fn read32(&mut self, offset: usize) -> Result<u32, AxiResp>;
    /// Writes the word at `offset` (errors as for [`Window::read32`]).
    fn write32(&mut self, offset: usize, value: u32) -> Result<(), AxiResp>;
}

/// A shared mapping of a device file (or a regular file), accessed with volatile 32-bit loads
/// and stores so that each access reaches the bus once, in program order.
pub struct MappedWindow {
    map: MmapRaw,
    path: String,
}

impl MappedWindow {
    /// Maps `len` bytes of `path` from `offset`, read-write and shared; `uncached` opens it
    /// `O_SYNC` (u-dma-buf then maps it uncached). A regular file must hold the whole range
    /// (a mapping past its end would fault on access).
    pub fn map(path: &Path, len: u64, offset: u64, uncached: bool) -> Result<Self, DeviceError> {
        let shown = path.display().to_string();
        let file = open_rw(path, uncached)?;
        let meta = file.metadata().map_err(|e| MmioError::Open {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        if meta.is_file() && meta.len() < offset.saturating_add(len) {
            return Err(MmioError::TooSmall {
                what: "file",
                path: shown,
                have: meta.len().saturating_sub(offset),
                need: len,
            }
            .into());
        }
        let map_err = |detail: String| MmioError::Map {
            path: shown.clone(),
            len,
            detail,
        };
        let len_usize = usize::try_from(len).map_err(|_| map_err("larger than the address space".into()))?;
        if len_usize == 0 {
            return Err(map_err("an empty window".into()).into());
        }
        let map = MmapOptions::new()
            .offset(offset)
            .len(len_usize)
            .map_raw(&file)
            .map_err(|e| map_err(e.to_string()))?;
        Ok(MappedWindow { map, path: shown })
    }

    /// The file mapped.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A pointer to the word at `offset`, if it is aligned and inside the mapping.
    fn word(&self, offset: usize) -> Result<*mut u32, AxiResp> {
        if !offset.is_multiple_of(WORD as usize) || offset.checked_add(4).is_none_or(|end| end > self.map.len()) {
            return Err(AxiResp::DecErr);
        }
        // In bounds (checked above) and aligned: the mapping is page-aligned.
        Ok(self.map.as_mut_ptr().wrapping_add(offset).cast::<u32>())
    }
}

impl Window for MappedWindow {
    fn len(&self) -> usize {
        self.map.len()
    }

    fn read32(&mut self, offset: usize) -> Result<u32, AxiResp> {
        let p = self.word(offset)?;
        // SAFETY: `p` is a 4-aligned word inside the live mapping (MappedWindow::word).
        Ok(u32::from_le(unsafe { p.read_volatile() }))
    }

    fn write32(&mut self, offset: usize, value: u32) -> Result<(), AxiResp> {
        let p = self.word(offset)?;
        // SAFETY: as in read32.
        unsafe { p.write_volatile(value.to_le()) };
        Ok(())
    }
}

fn open_rw(path: &Path, uncached: bool) -> Result<File, DeviceError> {
    let shown = path.display().to_string();
    let mut o = OpenOptions::new();
    o.read(true).write(true);
    if uncached {
        o.custom_flags(libc::O_SYNC);
    }
    o.open(path).map_err(|e| {
        match e.kind() {
            std::io::ErrorKind::NotFound => MmioError::Missing {
                path: shown,
                hint: "no such device",
            },
            std::io::ErrorKind::PermissionDenied => MmioError::Open {
                path: shown,
                detail: "permission denied (run as root, or give your user access to the device node)".into(),
            },
            _ => MmioError::Open {
                path: shown,
                detail: e.to_string(),
            },
        }
        .into()
    })
}

/// Where a board's windows and their sysfs attributes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MmioPaths {
    /// The UIO device of the accelerator's registers (`/dev/uio0`).
    pub uio: PathBuf,
    /// Its map 0's sysfs directory (`/sys/class/uio/uio0/maps/map0`, holding `size`, `addr`).
    pub uio_map: PathBuf,
    /// The DMA buffer's device (`/dev/udmabuf0`).
    pub dma: PathBuf,
    /// Its sysfs directory (`/sys/class/u-dma-buf/udmabuf0`, holding `phys_addr`, `size`).
    pub dma_sysfs: PathBuf,
}

/// The DMA buffer a back end uses when none is named.
pub const DEFAULT_DMA: &str = "/dev/udmabuf0";

impl MmioPaths {
    /// The paths for the devices `uio` and `dma` (default [`DEFAULT_DMA`]), with their sysfs
    /// attributes under `/sys`.
    pub fn new(uio: &Path, dma: Option<&Path>) -> Self {
        Self::under(Path::new("/sys"), uio, dma)
    }

    /// As [`MmioPaths::new`], with sysfs at `sysfs` (a test's directory). The DMA buffer's
    /// class directory is `class/u-dma-buf`, or `class/udmabuf` where only that exists.
    pub fn under(sysfs: &Path, uio: &Path, dma: Option<&Path>) -> Self {
        let dma = dma.unwrap_or(Path::new(DEFAULT_DMA)).to_path_buf();
        let name = |p: &Path| p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        let class = ["u-dma-buf", "udmabuf"]
            .iter()
            .map(|c| sysfs.join("class").join(c).join(name(&dma)))
            .find(|p| p.is_dir())
            .unwrap_or_else(|| sysfs.join("class/u-dma-buf").join(name(&dma)));
        MmioPaths {
            uio_map: sysfs.join("class/uio").join(name(uio)).join("maps/map0"),
            uio: uio.to_path_buf(),
            dma,
            dma_sysfs: class,
        }
    }
}

/// Reads a sysfs number (`0x…` hex or decimal, as the drivers print them).
fn sysfs_number(path: &Path, what_it_means: &str) -> Result<u64, DeviceError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| MmioError::Sysfs {
        path: shown.clone(),
        detail: match e.kind() {
            std::io::ErrorKind::NotFound => format!("missing ({what_it_means})"),
            _ => format!("cannot read it: {e}"),
        },
    })?;
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| {
        MmioError::Sysfs {
            path: shown,
            detail: format!("'{t}' is not a number"),
        }
        .into()
    })
}

/// A board's two windows, mapped and checked, before they become a back end.
pub struct MmioWindows {
    /// The register window (UIO map 0).
    pub regs: MappedWindow,
    /// The DMA buffer.
    pub mem: MappedWindow,
    /// The DMA buffer's physical (bus) address.
    pub mem_base: u32,
    /// One line naming both, for [`Backend::describe`].
    pub describe: String,
}

impl MmioWindows {
    /// Reads sysfs, checks the sizes and addresses, and maps both windows.
    pub fn open(paths: &MmioPaths) -> Result<Self, DeviceError> {
        let shown = |p: &Path| p.display().to_string();
        if !paths.uio.exists() {
            return Err(MmioError::Missing {
                path: shown(&paths.uio),
                hint: "is the accelerator's UIO driver bound? its device-tree node needs \
                       compatible = \"generic-uio\"; `ls /dev/uio*` lists the UIO devices",
            }
            .into());
        }
        let uio_size = sysfs_number(&paths.uio_map.join("size"), "is it a UIO device with a map 0?")?;
        let uio_addr = sysfs_number(&paths.uio_map.join("addr"), "is it a UIO device with a map 0?")?;
        if uio_size < REG_WINDOW_BYTES {
            return Err(MmioError::TooSmall {
                what: "the register window (UIO map 0) of",
                path: shown(&paths.uio),
                have: uio_size,
                need: REG_WINDOW_BYTES,
            }
            .into());
        }
        if !paths.dma.exists() {
            return Err(MmioError::Missing {
                path: shown(&paths.dma),
                hint: "is the u-dma-buf module loaded with a buffer? e.g. \
                       `modprobe u-dma-buf udmabuf0=1048576`",
            }
            .into());
        }
        let phys = sysfs_number(&paths.dma_sysfs.join("phys_addr"), "is it a u-dma-buf device?")?;
        let size = sysfs_number(&paths.dma_sysfs.join("size"), "is it a u-dma-buf device?")?;
        if size < MIN_DMA_BYTES {
            return Err(MmioError::TooSmall {
                what: "the DMA buffer",
                path: shown(&paths.dma),
                have: size,
                need: MIN_DMA_BYTES,
            }
            .into());
        }
        let placement = |detail: String| MmioError::Placement {
            path: shown(&paths.dma),
            addr: phys,
            size,
            detail,
        };
        if phys.saturating_add(size) > 1 << 32 {
            return Err(placement("the accelerator's DMA addresses are 32-bit: it must lie below 4 GiB".into()).into());
        }
        if !phys.is_multiple_of(u64::from(AXI_BEAT_BYTES)) {
            return Err(placement(format!("it must start on a {AXI_BEAT_BYTES}-byte bus beat")).into());
        }
        // Map 0 of a UIO device is at offset 0 (map N at N pages). Only the register map is
        // mapped: the window may be larger.
        let regs = MappedWindow::map(&paths.uio, REG_WINDOW_BYTES, 0, false)?;
        let mem = MappedWindow::map(&paths.dma, size, 0, true)?;
        Ok(MmioWindows {
            regs,
            mem,
            mem_base: phys as u32,
            describe: format!(
                "Linux MMIO: registers {} (map 0 at {uio_addr:#x}), DMA buffer {} at {phys:#x} ({size} bytes)",
                shown(&paths.uio),
                shown(&paths.dma)
            ),
        })
    }
}

/// An npe on an FPGA SoC, through UIO and a DMA buffer.
pub struct MmioBackend {
    regs: Box<dyn Window>,
    mem: Box<dyn Window>,
    mem_base: u32,
    describe: String,
    t0: Instant,
}

impl MmioBackend {
    /// Opens the board's windows ([`MmioWindows::open`]).
    pub fn open(paths: &MmioPaths) -> Result<Self, DeviceError> {
        let w = MmioWindows::open(paths)?;
        Self::new(Box::new(w.regs), Box::new(w.mem), w.mem_base, w.describe)
    }

    /// A back end over any two windows: `regs` must hold the register map, `mem` (the DMA
    /// target, at bus address `mem_base`) at least [`MIN_DMA_BYTES`] and end below 4 GiB.
    pub fn new(
        regs: Box<dyn Window>,
        mem: Box<dyn Window>,
        mem_base: u32,
        describe: String,
    ) -> Result<Self, DeviceError> {
        if (regs.len() as u64) < REG_WINDOW_BYTES {
            return Err(MmioError::TooSmall {
                what: "the register window",
                path: describe,
                have: regs.len() as u64,
                need: REG_WINDOW_BYTES,
            }
            .into());
        }
        if (mem.len() as u64) < MIN_DMA_BYTES
            || u64::from(mem_base) + mem.len() as u64 > 1 << 32
            || !mem_base.is_multiple_of(AXI_BEAT_BYTES)
        {
            return Err(MmioError::Placement {
                path: describe,
                addr: mem_base.into(),
                size: mem.len() as u64,
                detail: format!(
                    "it must hold at least {MIN_DMA_BYTES} bytes, start on a {AXI_BEAT_BYTES}-byte beat \
                     and end below 4 GiB"
                ),
            }
            .into());
        }
        Ok(MmioBackend {
            regs,
            mem,
            mem_base,
            describe,
            t0: Instant::now(),
        })
    }

    /// The offset in the DMA window of `addr..addr + len`, or the error naming the range.
    fn mem_offset(&self, addr: u32, len: usize) -> Result<u32, DeviceError> {
        let (base, size) = (u64::from(self.mem_base), self.mem.len() as u64);
        let (start, end) = (u64::from(addr), u64::from(addr) + len as u64);
        if start < base || end > base + size {
            return Err(DeviceError::Address { addr: start, len, size });
        }
        Ok((start - base) as u32)
    }
}

fn bus_error(resp: AxiResp, op: BusOp, addr: u32) -> DeviceError {
    DeviceError::Bus(match resp {
        AxiResp::SlvErr => BusError::SlvErr { op, addr },
        _ => BusError::DecErr { op, addr },
    })
}

/// Word copies in the DMA window, at window offsets.
struct DmaWords<'a>(&'a mut dyn Window, u32);

impl WordBus for DmaWords<'_> {
    fn read_words(&mut self, offset: u32, n: usize) -> Result<Vec<u32>, DeviceError> {
        (0..n)
            .map(|i| {
                let at = offset as usize + i * WORD as usize;
                self.0
                    .read32(at)
                    .map_err(|r| bus_error(r, BusOp::MemRead, self.1 + at as u32))
            })
            .collect()
    }

    fn write_words(&mut self, offset: u32, words: &[u32]) -> Result<(), DeviceError> {
        for (i, &w) in words.iter().enumerate() {
            let at = offset as usize + i * WORD as usize;
            self.0
                .write32(at, w)
                .map_err(|r| bus_error(r, BusOp::MemWrite, self.1 + at as u32))?;
        }
        Ok(())
    }
}

impl Backend for MmioBackend {
    fn read_reg(&mut self, offset: u32) -> Result<u32, DeviceError> {
        // Beyond the register map the window may map other hardware: not touched.
        if u64::from(offset) + 4 > REG_WINDOW_BYTES {
            return Err(bus_error(AxiResp::DecErr, BusOp::RegRead, offset));
        }
        self.regs
            .read32(offset as usize)
            .map_err(|r| bus_error(r, BusOp::RegRead, offset))
    }

    fn write_reg(&mut self, offset: u32, value: u32) -> Result<(), DeviceError> {
        if u64::from(offset) + 4 > REG_WINDOW_BYTES {
            return Err(bus_error(AxiResp::DecErr, BusOp::RegWrite, offset));
        }
        self.regs
            .write32(offset as usize, value)
            .map_err(|r| bus_error(r, BusOp::RegWrite, offset))
    }

    fn write_mem(&mut self, addr: u32, bytes: &[u8]) -> Result<(), DeviceError> {
        let at = self.mem_offset(addr, bytes.len())?;
        words::write_bytes(&mut DmaWords(self.mem.as_mut(), self.mem_base), at, bytes)
    }

    fn read_mem(&mut self, addr: u32, len: usize) -> Result<Vec<u8>, DeviceError> {
        let at = self.mem_offset(addr, len)?;
        words::read_bytes(&mut DmaWords(self.mem.as_mut(), self.mem_base), at, len)
    }

    fn mem_base(&self) -> u32 {
        self.mem_base
    }

    fn mem_size(&self) -> u32 {
        // new() checked that the buffer ends below 4 GiB.
        self.mem.len().min(u32::MAX as usize) as u32
    }

    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    fn wait(&mut self, d: Duration) -> Result<(), DeviceError> {
        std::thread::sleep(d);
        Ok(())
    }

    fn poll_interval(&self) -> Duration {
        // A register read is a bus access of well under a microsecond; the sleep dominates.
        Duration::from_micros(20)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

#[cfg(test)]
mod tests;
