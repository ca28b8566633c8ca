//! `--backend`: which device a command talks to, parsed from `sim`, `functional`,
//! `uart:PORT[,BAUD]` or `mmio:/dev/uioN[,/dev/udmabufN]`, with errors that say what is wrong.

use std::fmt;
use std::path::PathBuf;

use npe_hdl::spec::board::UART_BAUD;

use crate::device::mmio::DEFAULT_DMA;
use crate::device::uart::check_baud;

/// A device back end, as `--backend` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    /// The Verilated accelerator (needs the `sim` feature).
    Sim,
    /// The golden model behind the register map.
    Functional,
    /// A board through its UART bridge.
    Uart {
        /// The serial port.
        port: String,
        /// Its baud rate.
        baud: u32,
    },
    /// An FPGA SoC running Linux: a UIO register window and a u-dma-buf DMA buffer.
    Mmio {
        /// The UIO device.
        uio: PathBuf,
        /// The DMA buffer's device (`None`: [`DEFAULT_DMA`]).
        dma: Option<PathBuf>,
    },
}

/// The forms `--backend` takes, for messages and `--help`.
pub const FORMS: &str = "sim, functional, uart:PORT[,BAUD] (e.g. uart:/dev/ttyUSB0), mmio:/dev/uioN[,/dev/udmabufN]";

impl BackendSpec {
    /// The simulator when it is built in.
    pub const DEFAULT: BackendSpec = if cfg!(feature = "sim") {
        BackendSpec::Sim
    } else {
        BackendSpec::Functional
    };

    /// Whether this is the simulator.
    pub fn is_sim(&self) -> bool {
        *self == BackendSpec::Sim
    }
}

impl fmt::Display for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendSpec::Sim => f.write_str("sim"),
            BackendSpec::Functional => f.write_str("functional"),
            BackendSpec::Uart { port, baud } => write!(f, "uart:{port},{baud}"),
            BackendSpec::Mmio { uio, dma } => write!(
                f,
                "mmio:{},{}",
                uio.display(),
                dma.as_deref().unwrap_or(std::path::Path::new(DEFAULT_DMA)).display()
            ),
        }
    }
}

/// Parses `--backend`'s value.
pub fn parse_backend(s: &str) -> Result<BackendSpec, String> {
    let (kind, rest) = match s.split_once(':') {
        Some((k, r)) => (k, Some(r)),
        None => (s, None),
    };
    match (kind.to_ascii_lowercase().as_str(), rest) {
        ("sim", None) => Ok(BackendSpec::Sim),
        ("functional", None) => Ok(BackendSpec::Functional),
        ("sim" | "functional", Some(_)) => Err(format!("'{s}': the {kind} back end takes no argument")),
        ("uart", rest) => {
            let (port, baud) = match rest.unwrap_or("").split_once(',') {
                Some((p, b)) => (p.trim(), Some(b.trim())),
                None => (rest.unwrap_or("").trim(), None),
            };
            if port.is_empty() {
                return Err(format!(
                    "'{s}': uart needs a serial port, e.g. uart:/dev/ttyUSB0 or uart:/dev/ttyUSB0,{UART_BAUD}"
                ));
            }
            let baud = match baud {
                None => UART_BAUD,
                Some(b) => {
                    let v: u32 = b.parse().map_err(|_| {
                        format!("'{s}': baud rate '{b}' is not a whole number (the board runs at {UART_BAUD})")
                    })?;
                    check_baud(v).map_err(|e| format!("'{s}': {e}"))?;
                    v
                }
            };
            Ok(BackendSpec::Uart {
                port: port.to_string(),
                baud,
            })
        }
        ("mmio", rest) => {
            let rest = rest.unwrap_or("");
            let (uio, dma) = match rest.split_once(',') {
                Some((u, d)) => (u.trim(), Some(d.trim())),
                None => (rest.trim(), None),
            };
            if uio.is_empty() {
                return Err(format!(
                    "'{s}': mmio needs a UIO device, e.g. mmio:/dev/uio0 or mmio:/dev/uio0,{DEFAULT_DMA}"
                ));
            }
            if dma == Some("") {
                return Err(format!(
                    "'{s}': the DMA buffer after the comma is empty (e.g. {DEFAULT_DMA})"
                ));
            }
            Ok(BackendSpec::Mmio {
                uio: uio.into(),
                dma: dma.map(PathBuf::from),
            })
        }
        _ => Err(format!("unknown back end '{s}'; back ends: {FORMS}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_prints_back() {
        assert_eq!(parse_backend("sim"), Ok(BackendSpec::Sim));
        assert_eq!(parse_backend("Functional"), Ok(BackendSpec::Functional));
        let u = parse_backend("uart:/dev/ttyUSB0").unwrap();
        assert_eq!(
            u,
            BackendSpec::Uart {
                port: "/dev/ttyUSB0".into(),
                baud: UART_BAUD
            }
        );
        assert_eq!(u.to_string(), "uart:/dev/ttyUSB0,1000000");
        assert_eq!(
            parse_backend("uart:/dev/ttyACM1,115200"),
            Ok(BackendSpec::Uart {
                port: "/dev/ttyACM1".into(),
                baud: 115_200
            })
        );
        let m = parse_backend("mmio:/dev/uio1,/dev/udmabuf2").unwrap();
        assert_eq!(m.to_string(), "mmio:/dev/uio1,/dev/udmabuf2");
        assert_eq!(
            parse_backend("mmio:/dev/uio0").unwrap().to_string(),
            "mmio:/dev/uio0,/dev/udmabuf0"
        );
        for s in [
            "sim",
            "functional",
            "uart:/dev/ttyUSB0,921600",
            "mmio:/dev/uio0,/dev/udmabuf0",
        ] {
            assert_eq!(parse_backend(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let err = |s: &str| parse_backend(s).unwrap_err();
        assert!(err("verilog").starts_with("unknown back end 'verilog'; back ends: sim, functional, uart:"));
        assert!(err("serial:/dev/ttyUSB0").contains("unknown back end"));
        assert!(err("uart:").contains("uart needs a serial port"));
        assert!(err("uart").contains("uart needs a serial port"));
        assert!(err("uart:/dev/ttyUSB0,fast").contains("baud rate 'fast' is not a whole number"));
        assert!(err("uart:/dev/ttyUSB0,0").contains("baud rate 0 is out of range"));
        assert!(err("uart:/dev/ttyUSB0,99999999999").contains("is not a whole number"));
        assert!(err("mmio:").contains("mmio needs a UIO device"));
        assert!(err("mmio:/dev/uio0,").contains("DMA buffer after the comma is empty"));
        assert!(err("sim:x").contains("takes no argument"));
    }
}
