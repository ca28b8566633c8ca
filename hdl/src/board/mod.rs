//! The board around the accelerator (ULX3S): its memory, its top, the UART bridge.

pub mod board_core;
pub mod board_mem;
pub mod uart_bridge;
pub mod uart_rx;
pub mod uart_tx;
pub mod ulx3s;

pub use board_mem::BoardMem;
pub use uart_bridge::UartBridge;
pub use uart_rx::UartRx;
pub use uart_tx::UartTx;
