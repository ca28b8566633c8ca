//! The MMIO back end on a stand-in board: regular files in place of `/dev/uio0` and
//! `/dev/udmabuf0` with their sysfs attributes in a directory, mapped exactly as the devices
//! are, and a device thread serving the register map with the functional model.
//!
//! The device thread learns of each register access through a doorbell ([`Doorbell`]): a bus
//! access to a register has effects a memory word cannot show (a START pulse that clears DONE
//! before the next read, write-one-to-clear IRQ bits, counters whose `_HI` half latches when
//! `_LO` is read), so the host's volatile store or load happens on the shared mapping and the
//! device thread applies it before the access returns, as the AXI4-Lite write response and read
//! data do on a board. The DMA buffer is plain shared memory: the device thread reads the
//! operands the host wrote from its own mapping of the file and writes C into it.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use npe_hdl::spec::regs::{self, ID_MAGIC};
use npe_hdl::spec::NpeConfig;

use super::*;
use crate::device::functional::{FunctionalBackend, FunctionalOptions};
use crate::device::uart::tests::gemms_match_the_functional_model;
use crate::device::Device;

/// The DMA buffer's physical address on the stand-in board.
const PHYS: u64 = 0x3000_0000;
/// Its size.
const DMA_BYTES: u64 = 1 << 20;

/// A stand-in board's files.
struct Board {
    dir: PathBuf,
    paths: MmioPaths,
}

impl Board {
    /// Files and sysfs attributes of a board named `name` (a directory of its own per test).
    fn new(name: &str) -> Board {
        let dir = std::env::temp_dir().join(format!("npe-mmio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sys = dir.join("sys");
        let map0 = sys.join("class/uio/uio0/maps/map0");
        let dma_sys = sys.join("class/u-dma-buf/udmabuf0");
        for d in [&map0, &dma_sys, &dir.join("dev")] {
            std::fs::create_dir_all(d).unwrap();
        }
        // As the drivers print them: UIO in hex, u-dma-buf's size in decimal.
        std::fs::write(map0.join("size"), "0x00001000\n").unwrap();
        std::fs::write(map0.join("addr"), "0x43c00000\n").unwrap();
        std::fs::write(dma_sys.join("phys_addr"), format!("{PHYS:#x}\n")).unwrap();
        std::fs::write(dma_sys.join("size"), format!("{DMA_BYTES}\n")).unwrap();
        let paths = MmioPaths::under(&sys, &dir.join("dev/uio0"), Some(&dir.join("dev/udmabuf0")));
        std::fs::File::create(&paths.uio).unwrap().set_len(4096).unwrap();
        std::fs::File::create(&paths.dma).unwrap().set_len(DMA_BYTES).unwrap();
        Board { dir, paths }
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.join(rel), text).unwrap();
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A register access the host made on the shared mapping.
enum Access {
    Read(usize),
    Write(usize),
}

/// The host's register window: the real mapping, plus a doorbell to the device thread.
struct Doorbell {
    window: MappedWindow,
    to_device: Sender<Access>,
    from_device: Receiver<Result<(), AxiResp>>,
}

impl Doorbell {
    /// The device's answer; a device thread that is gone answers SLVERR.
    fn answer(&self) -> Result<(), AxiResp> {
        self.from_device
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or(Err(AxiResp::SlvErr))
    }
}

impl Window for Doorbell {
    fn len(&self) -> usize {
        self.window.len()
    }

    fn read32(&mut self, offset: usize) -> Result<u32, AxiResp> {
        self.to_device.send(Access::Read(offset)).map_err(|_| AxiResp::SlvErr)?;
        self.answer()?;
        self.window.read32(offset)
    }

    fn write32(&mut self, offset: usize, value: u32) -> Result<(), AxiResp> {
        self.window.write32(offset, value)?;
        self.to_device
            .send(Access::Write(offset))
            .map_err(|_| AxiResp::SlvErr)?;
        self.answer()
    }
}

/// Copies the whole DMA window between the mapping and the model (`to_model`: into it).
fn sync_dma(model: &mut FunctionalBackend, dma: &mut MappedWindow, to_model: bool) {
    let mut bus = DmaWords(dma, PHYS as u32);
    let n = DMA_BYTES as usize / 4;
    if to_model {
        let words = bus.read_words(0, n).unwrap();
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        model.write_mem(PHYS as u32, &bytes).unwrap();
    } else {
        let bytes = model.read_mem(PHYS as u32, DMA_BYTES as usize).unwrap();
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        bus.write_words(0, &words).unwrap();
    }
}

/// Starts the device thread of `preset` on the board's files; returns the host's back end.
fn emulate(board: &Board, preset: &str) -> (MmioBackend, JoinHandle<()>) {
    let cfg = NpeConfig::preset(preset).unwrap();
    let windows = MmioWindows::open(&board.paths).unwrap();
    let (to_device, accesses) = channel();
    let (answers, from_device) = channel();
    let paths = board.paths.clone();
    let device = std::thread::spawn(move || {
        let mut regs = MappedWindow::map(&paths.uio, REG_WINDOW_BYTES, 0, false).unwrap();
        let mut dma = MappedWindow::map(&paths.dma, DMA_BYTES, 0, true).unwrap();
        let opts = FunctionalOptions {
            mem_base: PHYS as u32,
            mem_bytes: DMA_BYTES as u32,
        };
        let mut model = FunctionalBackend::new(&cfg, &opts).unwrap();
        let resp = |e: DeviceError| match e {
            DeviceError::Bus(BusError::SlvErr { .. }) => AxiResp::SlvErr,
            _ => AxiResp::DecErr,
        };
        // Ends when the host's back end (the sender) is dropped.
        for access in accesses {
            let answer = match access {
                Access::Read(off) => model
                    .read_reg(off as u32)
                    .map_err(resp)
                    .and_then(|v| regs.write32(off, v)),
                Access::Write(off) => {
                    let value = regs.read32(off).unwrap();
                    let start = off as u32 == regs::CTRL.offset && regs::ctrl::START.get(value) == 1;
                    if start {
                        sync_dma(&mut model, &mut dma, true);
                    }
                    let r = model.write_reg(off as u32, value).map_err(resp);
                    if start {
                        sync_dma(&mut model, &mut dma, false);
                    }
                    r
                }
            };
            if answers.send(answer).is_err() {
                break;
            }
        }
    });
    let doorbell = Doorbell {
        window: windows.regs,
        to_device,
        from_device,
    };
    let backend = MmioBackend::new(
        Box::new(doorbell),
        Box::new(windows.mem),
        windows.mem_base,
        windows.describe,
    )
    .unwrap();
    (backend, device)
}

#[test]
fn a_gemm_through_the_mapped_windows_is_bit_exact_with_the_functional_model() {
    let board = Board::new("gemm");
    let (backend, device) = emulate(&board, "npe4x4");
    assert_eq!(backend.mem_base(), PHYS as u32);
    assert_eq!(u64::from(backend.mem_size()), DMA_BYTES);
    let d = backend.describe();
    assert!(
        d.contains("uio0 (map 0 at 0x43c00000)") && d.contains("at 0x30000000 (1048576 bytes)"),
        "{d}"
    );
    let cfg = NpeConfig::preset("npe4x4").unwrap();
    let mut dev = Device::connect(backend, cfg).unwrap();
    gemms_match_the_functional_model(&mut dev, cfg);
    // The interrupt path: IRQ.DONE is write-one-to-clear through the window.
    dev.start_and_wait_irq().unwrap();
    assert_eq!(dev.field("IRQ", "DONE").unwrap(), 0);
    // Unaligned copies keep their neighbours, and land in the buffer's file.
    let b = dev.backend();
    b.write_mem(PHYS as u32 + 0x100, &[0xAA; 8]).unwrap();
    b.write_mem(PHYS as u32 + 0x101, &[1, 2, 3, 4, 5]).unwrap();
    assert_eq!(
        b.read_mem(PHYS as u32 + 0x100, 8).unwrap(),
        [0xAA, 1, 2, 3, 4, 5, 0xAA, 0xAA]
    );
    let file = std::fs::read(&board.paths.dma).unwrap();
    assert_eq!(&file[0x100..0x108], [0xAA, 1, 2, 3, 4, 5, 0xAA, 0xAA]);
    // Outside the buffer, or outside the register map: refused, nothing touched.
    assert!(matches!(
        b.read_mem(PHYS as u32 - 4, 8),
        Err(DeviceError::Address { .. })
    ));
    assert!(matches!(
        b.write_mem((PHYS + DMA_BYTES) as u32 - 2, &[0; 4]),
        Err(DeviceError::Address { .. })
    ));
    assert_eq!(
        b.read_reg(REG_WINDOW_BYTES as u32),
        Err(DeviceError::Bus(BusError::DecErr {
            op: BusOp::RegRead,
            addr: 0x100
        }))
    );
    assert_eq!(
        b.write_reg(regs::ID.offset, 1),
        Err(DeviceError::Bus(BusError::SlvErr {
            op: BusOp::RegWrite,
            addr: 0
        }))
    );
    drop(dev);
    device.join().unwrap();
}

#[test]
fn a_device_of_another_configuration_is_refused_with_both_hashes() {
    let board = Board::new("hash");
    let (backend, device) = emulate(&board, "npe4x4bs");
    let host = NpeConfig::preset("npe4x4").unwrap();
    let dev = NpeConfig::preset("npe4x4bs").unwrap();
    let e = Device::connect(backend, host).err().expect("a mismatch");
    let t = e.to_string();
    assert!(
        t.contains(&format!("hash {:#010x}", dev.hash())) && t.contains(&format!("hash {:#010x}", host.hash())),
        "{t}"
    );
    device.join().unwrap();
}

#[test]
fn a_window_without_an_npe_is_refused_with_both_ids() {
    // The files mapped, nothing behind them: ID reads 0.
    let board = Board::new("id");
    let backend = MmioBackend::open(&board.paths).unwrap();
    let e = Device::connect(backend, NpeConfig::preset("npe4x4").unwrap())
        .err()
        .expect("not an npe");
    assert_eq!(e, DeviceError::NotAnNpe(0));
    let t = e.to_string();
    assert!(
        t.contains("ID = 0x00000000") && t.contains(&format!("{ID_MAGIC:#010x}")),
        "{t}"
    );
}

/// The MMIO error `open` gives on `board`.
fn open_error(board: &Board) -> MmioError {
    match MmioBackend::open(&board.paths) {
        Err(DeviceError::Mmio(e)) => e,
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("opened"),
    }
}

#[test]
fn missing_devices_and_sysfs_attributes_are_named() {
    let board = Board::new("missing");
    std::fs::remove_file(&board.paths.uio).unwrap();
    let e = open_error(&board);
    let uio = board.paths.uio.display().to_string();
    assert!(matches!(&e, MmioError::Missing { path, .. } if *path == uio), "{e:?}");
    assert!(e.to_string().contains("generic-uio"), "{e}");

    let board = Board::new("missing-dma");
    std::fs::remove_file(&board.paths.dma).unwrap();
    let e = open_error(&board);
    assert!(
        e.to_string()
            .contains("udmabuf0 does not exist (is the u-dma-buf module loaded"),
        "{e}"
    );

    let board = Board::new("missing-sysfs");
    let size = board.paths.uio_map.join("size");
    std::fs::remove_file(&size).unwrap();
    assert_eq!(
        open_error(&board),
        MmioError::Sysfs {
            path: size.display().to_string(),
            detail: "missing (is it a UIO device with a map 0?)".into()
        }
    );
    let phys = board.paths.dma_sysfs.join("phys_addr");
    std::fs::write(&size, "0x1000").unwrap();
    std::fs::remove_file(&phys).unwrap();
    assert!(matches!(open_error(&board), MmioError::Sysfs { path, .. } if path == phys.display().to_string()));
}

#[test]
fn garbled_sysfs_attributes_are_named_with_their_text() {
    let board = Board::new("garbled");
    board.write("sys/class/uio/uio0/maps/map0/addr", "0xZZ\n");
    let e = open_error(&board);
    assert!(e.to_string().ends_with("map0/addr: '0xZZ' is not a number"), "{e}");
    let board = Board::new("garbled-dma");
    board.write("sys/class/u-dma-buf/udmabuf0/size", "lots");
    assert!(open_error(&board).to_string().contains("'lots' is not a number"));
}

#[test]
fn windows_too_small_or_out_of_reach_are_refused() {
    // A UIO map smaller than the register map.
    let board = Board::new("small-uio");
    board.write("sys/class/uio/uio0/maps/map0/size", "0x80");
    let e = open_error(&board);
    assert_eq!(
        e,
        MmioError::TooSmall {
            what: "the register window (UIO map 0) of",
            path: board.paths.uio.display().to_string(),
            have: 0x80,
            need: REG_WINDOW_BYTES,
        }
    );
    assert!(
        e.to_string()
            .contains("is 128 bytes; the accelerator needs at least 256"),
        "{e}"
    );
    // A DMA buffer too small for one job.
    let board = Board::new("small-dma");
    board.write("sys/class/u-dma-buf/udmabuf0/size", "4096");
    assert!(matches!(
        open_error(&board),
        MmioError::TooSmall {
            have: 4096,
            need: MIN_DMA_BYTES,
            ..
        }
    ));
    // A buffer whose file is shorter than sysfs says (mapping it would fault).
    let board = Board::new("short-dma");
    std::fs::File::create(&board.paths.dma).unwrap().set_len(8192).unwrap();
    assert!(matches!(
        open_error(&board),
        MmioError::TooSmall {
            what: "file",
            have: 8192,
            ..
        }
    ));
    // Above the accelerator's 32-bit DMA addresses, or off a bus beat.
    let board = Board::new("high-dma");
    board.write("sys/class/u-dma-buf/udmabuf0/phys_addr", "0x100000000");
    let e = open_error(&board);
    assert!(e.to_string().contains("32-bit: it must lie below 4 GiB"), "{e}");
    board.write("sys/class/u-dma-buf/udmabuf0/phys_addr", "0x30000004");
    assert!(matches!(
        open_error(&board),
        MmioError::Placement { addr: 0x3000_0004, .. }
    ));
}

#[test]
fn the_old_udmabuf_class_directory_is_found() {
    let board = Board::new("old-class");
    let sys = board.dir.join("sys");
    std::fs::rename(sys.join("class/u-dma-buf"), sys.join("class/udmabuf")).unwrap();
    let paths = MmioPaths::under(&sys, &board.paths.uio, Some(&board.paths.dma));
    assert_eq!(paths.dma_sysfs, sys.join("class/udmabuf/udmabuf0"));
    assert!(MmioBackend::open(&paths).is_ok());
    let default = MmioPaths::new(Path::new("/dev/uio3"), None);
    assert_eq!(default.uio_map, Path::new("/sys/class/uio/uio3/maps/map0"));
    assert_eq!(default.dma, Path::new(DEFAULT_DMA));
}
