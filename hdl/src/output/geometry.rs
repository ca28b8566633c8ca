//! The output unit's fixed facts and its sizes: what the output formats keep (the rounding
//! frame), their float parameters and special codes, and the widths of a unit for one
//! accumulator ([`OuGeometry`], [`ou_type!`](crate::ou_type)). The block itself is
//! [`super::GenericOutputUnit`].

use crate::spec::{Accumulator, Encoding, FloatSpecials, OutputFormat};

/// Width of the scale input: the sum of two 8-bit two's complement scales (the job's
/// `SCALE_EXP` and a column's) always fits.
pub const SCALE_BITS: usize = 9;

/// Scales are held as `scale + SCALE_BIAS` so comparisons are unsigned.
pub const SCALE_BIAS: i64 = 1024;

/// Bits an output format keeps from the normalized magnitude before rounding (its hidden bit
/// included): floats their significand; INT32 one more than its width, so a value that reaches
/// 2^32 is seen (and saturated); posit16 every bit after the sign (regime run included).
pub(super) const fn kept_bits(f: OutputFormat) -> usize {
    let s = &crate::spec::formats::OUTPUT_FORMATS[f as usize];
    match s.encoding {
        Encoding::Float { man_bits, .. } => man_bits as usize + 1,
        Encoding::Int => s.bits as usize + 1,
        Encoding::Posit { .. } => s.bits as usize - 1,
        _ => panic!("no such output encoding"),
    }
}

/// The widest kept field of the output formats.
pub(super) const fn max_kept() -> usize {
    let mut m = 0;
    let mut i = 0;
    while i < OutputFormat::ALL.len() {
        let k = kept_bits(OutputFormat::ALL[i]);
        m = if k > m { k } else { m };
        i += 1;
    }
    m
}

/// Width of the rounding frame: the widest kept field, its guard bit and one sticky bit.
pub const FRAME: usize = max_kept() + 2;
/// Right shifts of `FRAME` or more move every bit under every format's guard bit.
pub(super) const MAX_SHIFT: u64 = FRAME as u64;
/// Width of the rounded magnitude: INT32's kept field and its carry (floats, with their
/// exponent, stay under 2^32 unless they overflow, which is flagged apart).
pub(super) const MAG: usize = FRAME + 1;
const _: () = assert!(MAG >= INT_BITS as usize + 2);
// Shift amounts and the posit regime are held in six bits.
const _: () = assert!(FRAME < 64);

/// The widths of an output unit for one accumulator: the type-level parameters of
/// [`GenericOutputUnit`](super::GenericOutputUnit) (see [`ou_type!`](crate::ou_type)) and the
/// loop count of its leading-zero count. [`OuGeometry::for_acc`] checks that the unit's
/// fixed-width arithmetic holds every value the accumulator can present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OuGeometry {
    /// The accumulator rounded.
    pub acc: Accumulator,
    /// Width of the accumulator port (`acc.width`).
    pub acc_width: usize,
    /// Width of the magnitude from stage 1 on: the accumulator's, or `FRAME + 1` for an
    /// accumulator no wider than the frame (its magnitude is zero-extended, which changes no
    /// value), so at least one normalized bit lies under the frame.
    pub norm: usize,
    /// Normalized bits under the frame, folded into one sticky bit: `norm − FRAME` (≥ 1).
    pub under: usize,
    /// 8-bit groups of the leading-zero count.
    pub lz_groups: usize,
    /// `norm` padded to whole groups.
    pub lz_pad: usize,
    /// Groups of four 8-bit groups: the count's first level (stage 2) finds the top nonzero
    /// group within each, the second (stage 3) the top nonzero super-group.
    pub lz_super: usize,
}

impl OuGeometry {
    /// The widths for `acc`; panics when an accumulator falls outside what the unit's fixed
    /// widths hold (8-bit leading-zero count, 16-bit biased scales).
    pub const fn for_acc(acc: Accumulator) -> OuGeometry {
        let acc_width = acc.width as usize;
        let norm = if acc_width > FRAME { acc_width } else { FRAME + 1 };
        let lz_groups = norm.div_ceil(8);
        let lz_super = lz_groups.div_ceil(4);
        // The count and the group bases are 8 bits (mod 2^8): a leading one's distance from the
        // top must fit. A normalized magnitude wider than the frame leaves bits under it.
        assert!(norm <= 256 && norm > FRAME && lz_super >= 2);
        // Biased scales of a leading one, lsb .. lsb + norm − 1, with the scale input added,
        // stay within 0 .. 2^16 (unsigned comparisons, 16-bit sums).
        let half = 1i64 << (SCALE_BITS - 1);
        assert!(acc.lsb as i64 + SCALE_BIAS - half >= 0);
        assert!(norm as i64 - 1 + acc.lsb as i64 + SCALE_BIAS + half - 1 < 1 << 16);
        OuGeometry {
            acc,
            acc_width,
            norm,
            under: norm - FRAME,
            lz_groups,
            lz_pad: 8 * lz_groups,
            lz_super,
        }
    }
}

/// The output unit type for accumulator `$acc` (an [`Accumulator`](crate::spec::Accumulator)
/// constant): its [`OuGeometry`](crate::output::OuGeometry)'s widths as the parameters of
/// [`GenericOutputUnit`](crate::output::GenericOutputUnit). Build it with
/// [`GenericOutputUnit::for_acc`](crate::output::GenericOutputUnit::for_acc) and the same
/// accumulator.
#[macro_export]
macro_rules! ou_type {
    ($acc:expr) => {
        $crate::output::GenericOutputUnit<
            { $crate::output::OuGeometry::for_acc($acc).acc_width },
            { $crate::output::OuGeometry::for_acc($acc).norm },
            { $crate::output::OuGeometry::for_acc($acc).lz_pad },
            { $crate::output::OuGeometry::for_acc($acc).lz_super },
        >
    };
}

/// Float output parameters: (exponent bits, mantissa bits, bias).
pub(super) const fn float_params(f: OutputFormat) -> (u64, u64, i64) {
    match crate::spec::formats::OUTPUT_FORMATS[f as usize].encoding {
        Encoding::Float {
            exp_bits,
            man_bits,
            bias,
            specials: FloatSpecials::Ieee,
        } => (exp_bits as u64, man_bits as u64, bias as i64),
        _ => panic!("not an IEEE float output format"),
    }
}

/// The float output formats in the order of the per-float constant vectors below.
pub(super) const FLOATS: [OutputFormat; 3] = [OutputFormat::Fp32, OutputFormat::Bf16, OutputFormat::Fp16];
pub(super) const N_FLOATS: usize = FLOATS.len();

/// Bits of the INT32 output.
pub(super) const INT_BITS: u32 = crate::spec::formats::OUTPUT_FORMATS[OutputFormat::Int32 as usize].bits;
/// Bits of the posit16 output.
pub(super) const POSIT_BITS: u32 = crate::spec::formats::OUTPUT_FORMATS[OutputFormat::Posit16Es1 as usize].bits;
/// Posit16's regime `k` (`scale = 2k + e`, es = 1) is clamped to ±POSIT_K_MAX: maxpos is
/// 4^(bits − 2), so from there on the value saturates to maxpos or minpos either way.
pub(super) const POSIT_K_MAX: i64 = POSIT_BITS as i64;
// k's low six bits are the biased scale's bits 6..1 when SCALE_BIAS / 2 is a multiple of 64,
// and they hold every unclamped k (|k| ≤ POSIT_K_MAX) in two's complement.
const _: () = assert!((SCALE_BIAS / 2) % 64 == 0 && POSIT_K_MAX < 32);
const _: () = assert!(matches!(
    crate::spec::formats::OUTPUT_FORMATS[OutputFormat::Posit16Es1 as usize].encoding,
    Encoding::Posit { es: 1 }
));

/// Biased scale below which a float format is subnormal (its `emin`).
pub(super) fn emin_b(f: OutputFormat) -> u64 {
    (1 - float_params(f).2 + SCALE_BIAS) as u64
}

/// Biased largest scale that cannot overflow before rounding.
pub(super) fn max_b(f: OutputFormat) -> u64 {
    let (e, _, bias) = float_params(f);
    (((1i64 << e) - 1) - bias + SCALE_BIAS) as u64
}

/// The ±Inf magnitude code.
pub(super) fn inf_code(f: OutputFormat) -> u64 {
    let (e, m, _) = float_params(f);
    ((1u64 << e) - 1) << m
}

/// `n` ones.
pub(super) fn ones(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::config::LE8_FORMATS;
    use crate::spec::Format;

    fn widths(g: OuGeometry) -> [usize; 6] {
        [g.acc_width, g.norm, g.under, g.lz_groups, g.lz_pad, g.lz_super]
    }

    #[test]
    fn the_geometry_follows_the_accumulator() {
        assert_eq!(FRAME, 35);
        assert_eq!(widths(OuGeometry::for_acc(crate::pe::ACC)), [130, 130, 95, 17, 136, 5]);
        assert_eq!(
            widths(OuGeometry::for_acc(Accumulator::for_formats(&LE8_FORMATS))),
            [53, 53, 18, 7, 56, 2]
        );
        // An accumulator no wider than the frame: its magnitude is zero-extended past it.
        let int4 = Accumulator::for_formats(&[Format::Int4]);
        assert!((int4.width as usize) <= FRAME);
        assert_eq!(
            widths(OuGeometry::for_acc(int4)),
            [int4.width as usize, FRAME + 1, 1, 5, 40, 2]
        );
    }
}
