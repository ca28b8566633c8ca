//! The job check: the job registers' own checks, decoded straight from the registers so the job
//! plan can register them with START.
//!
//! Taken with START, the Check state waits on a few flip-flops instead of on the compares: from
//! the latched copies they were the tops' critical paths (npe4x4: 13.0 ns from `q_k` to `q_kb`
//! through the address checks; with the floorplan, the format pair's lanes gating Check's loads
//! of `q_kb`, `q_mblocks`, `q_ntiles`: 25 endpoints in npe4x4, 93 in npe8x8le8).

use crate::decode::format_decode::{FMT_BITS, FMT_IDS};
use crate::decode::lane_mode::id_mask;
use crate::regs::JobRegsIn;
use crate::spec::block_scale::{ScaleCode, BLOCK_WORDS_MIN};
use crate::spec::config::{NpeConfig, AXI_BEAT_BYTES};
use crate::spec::{regs, OutputFormat};
use rust_hdl::prelude::*;

/// Offset of field `name` of job register `reg`, checked to be `width` bits wide.
pub(super) fn field_at(reg: &str, name: &str, width: usize) -> u64 {
    let f = regs::register(reg)
        .and_then(|r| r.field(name))
        .unwrap_or_else(|| panic!("{reg}.{name} is in the register map"));
    assert_eq!(f.width as usize, width, "{reg}.{name} width");
    f.offset as u64
}

/// The job check (see the module docs): job registers in, flags out, no state.
#[derive(LogicBlock)]
pub struct JobCheck {
    /// The job registers (not yet latched).
    pub job: JobRegsIn,
    /// M, N or K is 0.
    pub zero: Signal<Out, Bit>,
    /// An address or a stride is not a whole number of bus beats (BS_ADDR only with BLOCK.EN).
    pub misaligned: Signal<Out, Bit>,
    /// FMT names an activation format and a weight format the array multiplies, and an output
    /// format there is.
    pub fmt_ok: Signal<Out, Bit>,
    /// Both operands take 4-bit slots: four lanes a 16-bit word.
    pub l4: Signal<Out, Bit>,
    /// Neither operand takes a 16-bit slot: at least two lanes a word.
    pub l2: Signal<Out, Bit>,
    /// BLOCK.EN with fields this device or this kind cannot take.
    pub b_bad: Signal<Out, Bit>,
    a_fmt: Signal<Local, Bits<FMT_BITS>>,
    w_fmt: Signal<Local, Bits<FMT_BITS>>,
    b_en: Signal<Local, Bit>,
    b_kind: Signal<Local, Bits<2>>,
    b_log: Signal<Local, Bits<3>>,
    // FMT's scale exponent and BLOCK's base (and the bits outside the fields) are checked by
    // nothing: any value is a valid one.
    unused_fmt: Signal<Local, Bits<32>>,
    unused_block: Signal<Local, Bits<32>>,
    k0_32: Constant<Bits<32>>,
    k_align: Constant<Bits<32>>,
    k_f_a: Constant<Bits<32>>,
    k_f_w: Constant<Bits<32>>,
    k_f_out: Constant<Bits<32>>,
    k_nout: Constant<Bits<3>>,
    k_slot4: Constant<Bits<FMT_IDS>>,
    k_slot16: Constant<Bits<FMT_IDS>>,
    k_mac_ok: Constant<Bits<FMT_IDS>>,
    // Activation formats: BitMoD's data types are weights only (a block's selector picks one).
    k_a_ok: Constant<Bits<FMT_IDS>>,
    k_b_en: Constant<Bits<32>>,
    k_b_kind: Constant<Bits<32>>,
    k_b_log: Constant<Bits<32>>,
    // The device has block scales (`NpeConfig::block_scales`).
    k_b_cap: Constant<Bit>,
    // Scale kinds there are; the fewest block words (log2); the u8 kind and its fewest.
    k_kinds: Constant<Bits<2>>,
    k_log_min: Constant<Bits<3>>,
    k_kind_u8: Constant<Bits<2>>,
    k_log_u8: Constant<Bits<3>>,
}

impl JobCheck {
    /// The job check of `cfg`'s formats and block scales.
    pub fn new(cfg: &NpeConfig) -> Self {
        Self {
            job: Default::default(),
            zero: Default::default(),
            misaligned: Default::default(),
            fmt_ok: Default::default(),
            l4: Default::default(),
            l2: Default::default(),
            b_bad: Default::default(),
            a_fmt: Default::default(),
            w_fmt: Default::default(),
            b_en: Default::default(),
            b_kind: Default::default(),
            b_log: Default::default(),
            unused_fmt: Default::default(),
            unused_block: Default::default(),
            k0_32: Constant::new(0.into()),
            k_align: Constant::new(((AXI_BEAT_BYTES - 1) as u64).into()),
            k_f_a: Constant::new(field_at("FMT", "A", FMT_BITS).into()),
            k_f_w: Constant::new(field_at("FMT", "W", FMT_BITS).into()),
            k_f_out: Constant::new(field_at("FMT", "OUT", 3).into()),
            k_nout: Constant::new((OutputFormat::ALL.len() as u64).into()),
            k_slot4: id_mask(cfg.format_set, |f| f.is_mac_operand() && f.slot_bits() <= 4),
            k_slot16: id_mask(cfg.format_set, |f| f.is_mac_operand() && f.slot_bits() == 16),
            k_mac_ok: id_mask(cfg.format_set, |f| f.is_mac_operand()),
            k_a_ok: id_mask(cfg.format_set, |f| f.is_mac_operand() && !f.is_bitmod()),
            k_b_en: Constant::new(field_at("BLOCK", "EN", 1).into()),
            k_b_kind: Constant::new(field_at("BLOCK", "KIND", 2).into()),
            k_b_log: Constant::new(field_at("BLOCK", "BEATS_LOG2", 3).into()),
            k_b_cap: Constant::new(cfg.block_scales),
            k_kinds: Constant::new((ScaleCode::ALL.len() as u64).into()),
            k_log_min: Constant::new((BLOCK_WORDS_MIN.trailing_zeros() as u64).into()),
            k_kind_u8: Constant::new(u64::from(ScaleCode::U8.id()).into()),
            k_log_u8: Constant::new((ScaleCode::U8.q_bits().trailing_zeros() as u64).into()),
        }
    }
}

impl Logic for JobCheck {
    #[hdl_gen]
    fn update(&mut self) {
        self.zero.next = (self.job.m.val() == self.k0_32.val())
            | (self.job.n.val() == self.k0_32.val())
            | (self.job.k.val() == self.k0_32.val());
        self.b_en.next = self.job.block.val().get_bit(self.k_b_en.val().index());
        self.b_kind.next = self.job.block.val().get_bits::<2>(self.k_b_kind.val().index());
        self.b_log.next = self.job.block.val().get_bits::<3>(self.k_b_log.val().index());
        self.unused_block.next = self.job.block.val();
        self.misaligned.next = ((self.job.a_addr.val()
            | self.job.w_addr.val()
            | self.job.c_addr.val()
            | self.job.a_stride.val()
            | self.job.w_stride.val()
            | self.job.c_stride.val()
            | self.job.scale_addr.val())
            & self.k_align.val())
            != self.k0_32.val();
        // BS_ADDR only counts with BLOCK.EN.
        if self.b_en.val() & ((self.job.bs_addr.val() & self.k_align.val()) != self.k0_32.val()) {
            self.misaligned.next = true;
        }
        self.a_fmt.next = self.job.fmt.val().get_bits::<FMT_BITS>(self.k_f_a.val().index());
        self.w_fmt.next = self.job.fmt.val().get_bits::<FMT_BITS>(self.k_f_w.val().index());
        self.unused_fmt.next = self.job.fmt.val();
        self.l4.next =
            self.k_slot4.val().get_bit(self.a_fmt.val().index()) & self.k_slot4.val().get_bit(self.w_fmt.val().index());
        self.l2.next = !self.k_slot16.val().get_bit(self.a_fmt.val().index())
            & !self.k_slot16.val().get_bit(self.w_fmt.val().index());
        self.fmt_ok.next = self.k_a_ok.val().get_bit(self.a_fmt.val().index())
            & self.k_mac_ok.val().get_bit(self.w_fmt.val().index())
            & (self.job.fmt.val().get_bits::<3>(self.k_f_out.val().index()) < self.k_nout.val());
        // A block lasts at least as many packed words as its scale has bits (u8: 8, E4M3: 4;
        // E8M0's one bit is held to the same 4-word floor), and 2^7 words at most.
        self.b_bad.next = self.b_en.val()
            & (!self.k_b_cap.val()
                | (self.b_kind.val() >= self.k_kinds.val())
                | (self.b_log.val() < self.k_log_min.val())
                | ((self.b_kind.val() == self.k_kind_u8.val()) & (self.b_log.val() < self.k_log_u8.val())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::settle;
    use regs::block::{BEATS_LOG2, EN, KIND};

    /// Picks one job register.
    type Reg = fn(&mut JobCheck) -> &mut Signal<In, Bits<32>>;

    fn b32(v: u32) -> Bits<32> {
        u64::from(v).into()
    }

    fn fmt_reg(a: u32, w: u32, out: u32) -> u32 {
        let r = regs::register("FMT").unwrap();
        let v = r.field("A").unwrap().set(0, a);
        let v = r.field("W").unwrap().set(v, w);
        r.field("OUT").unwrap().set(v, out)
    }

    fn check(cfg: &NpeConfig, set: impl FnOnce(&mut JobCheck)) -> JobCheck {
        let mut c = JobCheck::new(cfg);
        c.connect_all();
        for s in [&mut c.job.m, &mut c.job.n, &mut c.job.k] {
            s.next = 1.into();
        }
        set(&mut c);
        settle(&mut c);
        c
    }

    /// Every id pair of the FMT fields on two presets, every output id: the lanes and the
    /// validity are the format table's.
    #[test]
    fn format_pairs_get_their_lanes_and_validity() {
        let ids = 1u32 << FMT_BITS;
        let n_out = 1u32 << 3;
        for cfg in [&NpeConfig::TEST, &NpeConfig::LE8] {
            let known = |id: u32| cfg.format_set.iter().copied().find(|f| f.id() as u32 == id);
            for a in 0..ids {
                for w in 0..ids {
                    for out in [
                        0,
                        OutputFormat::ALL.len() as u32 - 1,
                        OutputFormat::ALL.len() as u32,
                        n_out - 1,
                    ] {
                        let c = check(cfg, |c| c.job.fmt.next = b32(fmt_reg(a, w, out)));
                        let (fa, fw) = (
                            known(a).filter(|f| f.is_mac_operand()),
                            known(w).filter(|f| f.is_mac_operand()),
                        );
                        let ok = fa.is_some_and(|f| !f.is_bitmod())
                            && fw.is_some()
                            && (out as usize) < OutputFormat::ALL.len();
                        let what = format!("{} a {a} w {w} out {out}", cfg.name);
                        assert_eq!(c.fmt_ok.val(), ok, "{what}");
                        if let (Some(fa), Some(fw)) = (fa, fw) {
                            assert_eq!(c.l4.val(), fa.slot_bits() <= 4 && fw.slot_bits() <= 4, "{what}");
                            assert_eq!(c.l2.val(), fa.slot_bits() < 16 && fw.slot_bits() < 16, "{what}");
                        }
                        assert!(!c.zero.val() && !c.misaligned.val() && !c.b_bad.val(), "{what}");
                    }
                }
            }
        }
        // The table has 4-, 8- and 16-bit slots, so each lane flag was seen both ways.
        let slots: Vec<u32> = NpeConfig::TEST.format_set.iter().map(|f| f.slot_bits()).collect();
        assert!([4, 8, 16].iter().all(|b| slots.contains(b)));
    }

    /// A zero dimension, and each address or stride a byte off a beat, is flagged alone.
    #[test]
    fn dimensions_and_addresses() {
        let cfg = &NpeConfig::TEST;
        let dims: [Reg; 3] = [|c| &mut c.job.m, |c| &mut c.job.n, |c| &mut c.job.k];
        for d in dims {
            let c = check(cfg, |c| d(c).next = 0.into());
            assert!(c.zero.val() && !c.misaligned.val());
        }
        let addrs: [Reg; 7] = [
            |c| &mut c.job.a_addr,
            |c| &mut c.job.w_addr,
            |c| &mut c.job.c_addr,
            |c| &mut c.job.a_stride,
            |c| &mut c.job.w_stride,
            |c| &mut c.job.c_stride,
            |c| &mut c.job.scale_addr,
        ];
        for (i, r) in addrs.into_iter().enumerate() {
            for (v, bad) in [(AXI_BEAT_BYTES, false), (AXI_BEAT_BYTES + 4, true), (1, true)] {
                let c = check(cfg, |c| r(c).next = b32(v));
                assert_eq!(c.misaligned.val(), bad, "register {i} = {v}");
                assert!(!c.zero.val());
            }
        }
        // BS_ADDR counts with BLOCK.EN only.
        for (en, bad) in [(0, false), (1, true)] {
            let c = check(cfg, |c| {
                c.job.bs_addr.next = 8.into();
                c.job.block.next = b32(EN.set(0, en));
            });
            assert_eq!(c.misaligned.val(), bad, "BLOCK.EN {en}");
        }
    }

    /// BLOCK: refused on a device without block scales; an unknown kind, blocks under the
    /// 4-word floor or, for u8, under 8 words are refused.
    #[test]
    fn block_fields() {
        let blocks = NpeConfig {
            block_scales: true,
            ..NpeConfig::LE8
        };
        let (e4, e8, u8k) = (ScaleCode::E4m3.id(), ScaleCode::E8m0.id(), ScaleCode::U8.id());
        for (cfg, en, kind, log, bad) in [
            (&NpeConfig::LE8, 1, e4, 2, true),
            (&NpeConfig::LE8, 0, e4, 2, false),
            (&blocks, 1, e4, 2, false),
            (&blocks, 1, e8, 2, false),
            (&blocks, 1, e8, 1, true),
            (&blocks, 1, u8k, 3, false),
            (&blocks, 1, u8k, 2, true),
            (&blocks, 1, 3, 2, true),
            (&blocks, 0, 3, 0, false),
            (&blocks, 1, e4, 7, false),
        ] {
            let b = BEATS_LOG2.set(KIND.set(EN.set(0, en), u32::from(kind)), log);
            let c = check(cfg, |c| c.job.block.next = b32(b));
            assert_eq!(c.b_bad.val(), bad, "{} BLOCK {b:#x}", cfg.name);
        }
    }
}
