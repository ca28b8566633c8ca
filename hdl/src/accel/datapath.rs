//! Which blocks an array is built from: the datapath a preset's format set selects.
//!
//! The all-format presets use the shared floating-point PE ([`crate::pe::Mac`]: lane decoders
//! into sign/exponent/mantissa words, mantissa multipliers, alignment shifters, the exact
//! accumulator of every format); a set whose values are all small fixed-point numbers uses the
//! fixed-point PE ([`crate::pe::MacFixed8`]: the edge decoders turn each lane into fixed point,
//! the PE is an integer MAC). Each datapath names the modules the array's slots
//! ([`super::slots`]) instantiate and emits their Verilog once per top.

use crate::decode::LANE_WORD_BITS;
use crate::emit::emit_verilog;
use crate::pe::{
    PeGeometry, ACC_WIDTH, FIXED8, FIXED8_POINT, FIXED_MAC_LATENCY, FIXED_OVP, FIXED_OVP_POINT, MAC_LATENCY,
};
use crate::spec::config::NpeConfig;

/// The PE module of the shared datapath.
pub const PE_MODULE: &str = "pe_mac";

/// A datapath (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datapath {
    /// The shared multi-format PE (every format of the table).
    Shared,
    /// The fixed-point PE of the ≤ 8-bit set ([`crate::spec::config::LE8_FORMATS`]).
    Fixed8,
    /// The fixed-point PE of OliVe's set ([`crate::spec::config::OLIVE_FORMATS`]), whose edge
    /// decoders decode outlier-victim pairs.
    FixedOvp,
    /// The ≤ 8-bit set's fixed-point PE with a bit-serial dequantization unit beside it
    /// ([`crate::pe::MacBlock8`]): block-scaled weights ([`NpeConfig::block_scales`]).
    Block8,
}

/// Decoded word width of the shared datapath.
pub const SHARED_WORD: usize = LANE_WORD_BITS;
/// Accumulator width of the shared datapath.
pub const SHARED_ACC: usize = ACC_WIDTH;
/// Decoded word width of the fixed-point datapath.
pub const FIXED8_WORD: usize = FIXED8.word.bits;
/// Accumulator width of the fixed-point datapath.
pub const FIXED8_ACC: usize = FIXED8.acc_w;
/// Accumulator width of the block-scaled datapath (its decoded words are [`FIXED8_WORD`]s).
pub const BLOCK8_ACC: usize = crate::pe::DEQUANT8_A;
/// Decoded word width of OliVe's fixed-point datapath.
pub const FIXED_OVP_WORD: usize = FIXED_OVP.word.bits;
/// Accumulator width of OliVe's fixed-point datapath.
pub const FIXED_OVP_ACC: usize = FIXED_OVP.acc_w;

impl Datapath {
    /// Every datapath.
    pub const ALL: [Datapath; 4] = [Datapath::Shared, Datapath::Fixed8, Datapath::FixedOvp, Datapath::Block8];

    /// The datapath of `cfg`'s format set, or why there is none.
    pub fn of(cfg: &NpeConfig) -> Result<Datapath, String> {
        if !cfg.format_set.iter().any(|f| f.is_mac_operand()) {
            return Err("the format set has no multiplier format".into());
        }
        if cfg.block_scales {
            if cfg.fixed_point() == Some(FIXED8_POINT) {
                Ok(Datapath::Block8)
            } else {
                Err("block scales are built for the ≤ 8-bit set's fixed-point PE only".into())
            }
        } else if cfg.fixed_point() == Some(FIXED8_POINT) {
            Ok(Datapath::Fixed8)
        } else if cfg.fixed_point() == Some(FIXED_OVP_POINT) {
            Ok(Datapath::FixedOvp)
        } else if PeGeometry::for_formats(cfg.format_set) == crate::pe::SHARED {
            Ok(Datapath::Shared)
        } else {
            Err(
                "no PE is built for this format set (the shared PE needs the whole table's \
                 geometry, the fixed-point PEs the ≤ 8-bit set's or OliVe's)"
                    .into(),
            )
        }
    }

    /// The MAC-pipe module of each PE.
    pub const fn pe_module(self) -> &'static str {
        match self {
            Datapath::Shared => PE_MODULE,
            Datapath::Fixed8 => "mac_fixed8",
            Datapath::FixedOvp => "mac_fixed_ovp",
            Datapath::Block8 => "mac_block8",
        }
    }

    /// The edge decoder module of each row and column.
    pub const fn decoder_module(self) -> &'static str {
        match self {
            Datapath::Shared => "lane_decode",
            Datapath::Fixed8 | Datapath::Block8 => "fixed_decode8",
            Datapath::FixedOvp => "fixed_decode_ovp",
        }
    }

    /// The output unit module of each column.
    pub const fn output_unit_module(self) -> &'static str {
        match self {
            Datapath::Shared => "output_unit",
            Datapath::Fixed8 => "output_unit_le8",
            Datapath::FixedOvp => "output_unit_ovp",
            Datapath::Block8 => "output_unit_block8",
        }
    }

    /// Cycles from a beat at the MAC pipe's inputs to its sum in the accumulator (the
    /// block-scaled PE says when its tile is done itself).
    pub const fn mac_latency(self) -> usize {
        match self {
            Datapath::Shared => MAC_LATENCY,
            Datapath::Fixed8 | Datapath::FixedOvp | Datapath::Block8 => FIXED_MAC_LATENCY,
        }
    }

    /// The PEs scale weight blocks ([`Datapath::Block8`]).
    pub const fn block_scaled(self) -> bool {
        matches!(self, Datapath::Block8)
    }

    /// The Verilog of the output unit module ([`Datapath::output_unit_module`]).
    pub fn output_unit_verilog(self) -> String {
        let ou = self.output_unit_module();
        match self {
            Datapath::Shared => emit_verilog(&mut crate::output::OutputUnit::default(), ou),
            Datapath::Fixed8 => emit_verilog(&mut <crate::ou_type!(FIXED8_POINT.acc)>::for_acc(FIXED8_POINT.acc), ou),
            Datapath::FixedOvp => emit_verilog(
                &mut <crate::ou_type!(FIXED_OVP_POINT.acc)>::for_acc(FIXED_OVP_POINT.acc),
                ou,
            ),
            Datapath::Block8 => emit_verilog(
                &mut <crate::ou_type!(crate::pe::BLOCK8_ACCUMULATOR)>::for_acc(crate::pe::BLOCK8_ACCUMULATOR),
                ou,
            ),
        }
    }

    /// The Verilog of the PE, decoder and output unit modules for `cfg`'s format set, as
    /// `(module name, Verilog)`.
    pub fn modules(self, cfg: &NpeConfig) -> [(&'static str, String); 3] {
        let set = cfg.format_set;
        let (pe, dec) = (self.pe_module(), self.decoder_module());
        let [pe_v, dec_v] = match self {
            Datapath::Shared => [
                emit_verilog(&mut crate::pe::Mac::default(), pe),
                emit_verilog(&mut crate::decode::LaneDecode::with_formats(set), dec),
            ],
            Datapath::Fixed8 => [
                emit_verilog(&mut crate::pe::MacFixed8::for_fixed(FIXED8_POINT), pe),
                emit_verilog(&mut crate::pe::DecodeFixed8::new(set, FIXED8_POINT), dec),
            ],
            Datapath::FixedOvp => [
                emit_verilog(&mut crate::pe::MacFixedOvp::for_fixed(FIXED_OVP_POINT), pe),
                emit_verilog(&mut crate::pe::DecodeFixedOvp::new(set, FIXED_OVP_POINT), dec),
            ],
            // BitMoD's types reach the decoder as FP4 E2M1 codes (`BitmodLanes` at the
            // column edge): the decoder does not hold them.
            Datapath::Block8 => {
                let plain: Vec<_> = set.iter().copied().filter(|f| !f.is_bitmod()).collect();
                [
                    emit_verilog(&mut crate::pe::MacBlock8::for_fixed(FIXED8_POINT), pe),
                    emit_verilog(&mut crate::pe::DecodeFixed8::new(&plain, FIXED8_POINT), dec),
                ]
            }
        };
        [
            (pe, pe_v),
            (dec, dec_v),
            (self.output_unit_module(), self.output_unit_verilog()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::slots::{BLOCK_PE_PORTS, DECODE_PORTS, OUTPUT_UNIT_PORTS, PE_PORTS};
    use crate::ports::parse_ports;
    use crate::spec::config::NpeConfig;

    /// Each preset has a datapath; a format set no PE is built for is refused with a reason.
    #[test]
    fn presets_select_their_datapath() {
        assert_eq!(Datapath::of(&NpeConfig::TEST), Ok(Datapath::Shared));
        assert_eq!(Datapath::of(&NpeConfig::DEMO), Ok(Datapath::Shared));
        assert_eq!(Datapath::of(&NpeConfig::LE8), Ok(Datapath::Fixed8));
        assert_eq!(Datapath::of(&NpeConfig::OLIVE), Ok(Datapath::FixedOvp));
        assert_eq!(Datapath::of(&crate::emit::BLOCK_ARRAY_CFG), Ok(Datapath::Block8));
        let shared_blocks = NpeConfig {
            block_scales: true,
            ..NpeConfig::TEST
        };
        assert!(Datapath::of(&shared_blocks).unwrap_err().contains("block scales"));
        assert_eq!(Datapath::of(&NpeConfig::BLOCK), Ok(Datapath::Block8));
        assert_eq!(crate::accel::config_error(&NpeConfig::BLOCK), None);
        let ints = NpeConfig {
            format_set: &[crate::spec::Format::Int8, crate::spec::Format::Int16],
            ..NpeConfig::TEST
        };
        assert!(Datapath::of(&ints).unwrap_err().contains("no PE"));
        let none = NpeConfig {
            format_set: &[crate::spec::Format::E8M0],
            ..NpeConfig::TEST
        };
        assert!(Datapath::of(&none).is_err());
        assert!(crate::accel::config_error(&none).is_some());
    }

    /// The slots instantiate each datapath's modules with every one of their ports, and the
    /// widths the array and output stage are built with are the modules' own.
    #[test]
    fn the_slots_match_the_modules_port_for_port() {
        for (cfg, word, acc) in [
            (NpeConfig::TEST, SHARED_WORD, SHARED_ACC),
            (NpeConfig::LE8, FIXED8_WORD, FIXED8_ACC),
            (NpeConfig::OLIVE, FIXED_OVP_WORD, FIXED_OVP_ACC),
            (crate::emit::BLOCK_ARRAY_CFG, FIXED8_WORD, BLOCK8_ACC),
        ] {
            let dp = Datapath::of(&cfg).unwrap();
            let [pe, dec, ou] = dp.modules(&cfg);
            let pe_ports = if dp.block_scaled() {
                &BLOCK_PE_PORTS[..]
            } else {
                &PE_PORTS[..]
            };
            for ((module, text), names) in [(pe, pe_ports), (dec, &DECODE_PORTS[..]), (ou, &OUTPUT_UNIT_PORTS[..])] {
                let ports = parse_ports(&text, module).expect("module ports");
                let got: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                assert_eq!(got, names, "{module}");
                for p in &ports {
                    let want = match (module == dp.output_unit_module(), p.name.as_str()) {
                        (_, "acc") => acc,
                        (false, "a" | "w" | "word") => word,
                        (false, "code") => crate::decode::format_decode::CODE_BITS,
                        (false, "fmt") => crate::decode::format_decode::FMT_BITS,
                        (false, "q") => crate::spec::block_scale::SCALE_Q_BITS,
                        (false, "len") => crate::pe::DEQUANT_LEN_BITS,
                        (false, "shift") => crate::spec::block_scale::SCALE_SHIFT_BITS,
                        (true, "out_fmt") => 3,
                        (true, "scale_exp") => crate::output::SCALE_BITS,
                        (true, "result") => 32,
                        _ => 1,
                    };
                    assert_eq!(p.width as usize, want, "{module}.{}", p.name);
                }
            }
        }
    }
}
