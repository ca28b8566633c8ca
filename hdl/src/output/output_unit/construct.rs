//! [`GenericOutputUnit::for_acc`]: the output unit's constants, from its accumulator's
//! [`OuGeometry`] and the output formats' table.

use super::*;

impl<const ACC_W: usize, const NORM_W: usize, const LZ_PAD: usize, const LZ_SUPER: usize>
    GenericOutputUnit<ACC_W, NORM_W, LZ_PAD, LZ_SUPER>
{
    /// The unit for `acc`; panics unless the type's widths are `acc`'s [`OuGeometry`] (use
    /// [`ou_type!`](crate::ou_type)`(acc)` for the type).
    pub fn for_acc(acc: Accumulator) -> Self {
        let g = OuGeometry::for_acc(acc);
        assert_eq!(
            (ACC_W, NORM_W, LZ_PAD, LZ_SUPER),
            (g.acc_width, g.norm, g.lz_pad, g.lz_super),
            "output unit widths do not match accumulator {acc:?}"
        );
        let id = |f: OutputFormat| const_bits(f.spec().id as u64);
        // The kept field of a format sits at the top of the frame; the guard bit under it.
        let qsh = |f: OutputFormat| FRAME - kept_bits(f);
        let guard = |f: OutputFormat| (qsh(f) - 1) as u64;
        let posit = OutputFormat::Posit16Es1;
        Self {
            clock: Default::default(),
            reset: Default::default(),
            valid: Default::default(),
            acc: Default::default(),
            nan: Default::default(),
            pinf: Default::default(),
            ninf: Default::default(),
            out_fmt: Default::default(),
            scale_exp: Default::default(),
            out_valid: Default::default(),
            result: Default::default(),
            v0: Default::default(),
            acc0: Default::default(),
            nan0: Default::default(),
            pinf0: Default::default(),
            ninf0: Default::default(),
            fmt0: Default::default(),
            scale0: Default::default(),
            v1: Default::default(),
            neg1: Default::default(),
            acc_mag: Default::default(),
            mag1: Default::default(),
            nan1: Default::default(),
            inf1: Default::default(),
            ninf1: Default::default(),
            fmt1: Default::default(),
            stop1: Default::default(),
            scale_x: Default::default(),
            v2: Default::default(),
            neg2: Default::default(),
            mag2: Default::default(),
            stop2: Default::default(),
            svec2: Default::default(),
            slz2: many(LZ_SUPER),
            nan2: Default::default(),
            inf2: Default::default(),
            ninf2: Default::default(),
            fmt2: Default::default(),
            v3: Default::default(),
            neg3: Default::default(),
            mag3: Default::default(),
            lz3: Default::default(),
            sb3: Default::default(),
            zero3: Default::default(),
            nan3: Default::default(),
            inf3: Default::default(),
            ninf3: Default::default(),
            fmt3: Default::default(),
            lz: Default::default(),
            mag_pad: Default::default(),
            gbits: many(g.lz_groups),
            _groups: g.lz_groups,
            svec: Default::default(),
            k_sbit: (0..LZ_SUPER).map(|s| const_bits(1 << s)).collect(),
            k_sabove: (0..LZ_SUPER)
                .map(|s| const_bits(ones(LZ_SUPER) ^ ones(s + 1)))
                .collect(),
            glz: many(g.lz_groups),
            slz: many(LZ_SUPER),
            goff: (0..g.lz_groups).map(|i| const_index(8 * i)).collect(),
            // Leading zeros above group i's top bit (mod 2^8, as the count, which is below 2^8:
            // the top group may reach past the magnitude, into zero padding, so its base is
            // negative and its count makes up for it).
            gbase: (0..g.lz_groups)
                .map(|i| const_bits(((g.norm as i64 - 1 - (8 * i + 7) as i64) as u64) & 0xFF))
                .collect(),
            k_in8: (0..8).map(|b| const_bits(7 - b as u64)).collect(),
            v4: Default::default(),
            neg4: Default::default(),
            src4: Default::default(),
            st4: Default::default(),
            sparts: Default::default(),
            k_part: (0..STICKY_PARTS)
                .map(|p| {
                    let w = g.under.div_ceil(STICKY_PARTS);
                    Constant::new(
                        (p * w..((p + 1) * w).min(g.under))
                            .fold(Bits::default(), |b: Bits<NORM_W>, i| b.replace_bit(i, true)),
                    )
                })
                .collect(),
            k_pbit: (0..STICKY_PARTS).map(|p| const_bits(1 << p)).collect(),
            gsh4: Default::default(),
            kpos4: Default::default(),
            pw4: Default::default(),
            ebase4: Default::default(),
            ovf4: Default::default(),
            zero4: Default::default(),
            nan4: Default::default(),
            inf4: Default::default(),
            ninf4: Default::default(),
            fmt4: Default::default(),
            norm: Default::default(),
            unused_norm: Default::default(),
            smask: Default::default(),
            k_under_mask: Constant::new(
                (0..g.under).fold(Bits::default(), |b: Bits<NORM_W>, i| b.replace_bit(i, true)),
            ),
            src: Default::default(),
            gsh: Default::default(),
            sb_lo: Default::default(),
            kq: Default::default(),
            prefix: Default::default(),
            v5: Default::default(),
            neg5: Default::default(),
            q5: Default::default(),
            inc5: Default::default(),
            ebase5: Default::default(),
            ovf5: Default::default(),
            zero5: Default::default(),
            nan5: Default::default(),
            inf5: Default::default(),
            ninf5: Default::default(),
            fmt5: Default::default(),
            e: Default::default(),
            qp: Default::default(),
            q: Default::default(),
            sticky: Default::default(),
            v6: Default::default(),
            neg6: Default::default(),
            mag6: Default::default(),
            ovf6: Default::default(),
            zero6: Default::default(),
            nan6: Default::default(),
            inf6: Default::default(),
            ninf6: Default::default(),
            fmt6: Default::default(),
            qi: Default::default(),
            eb: Default::default(),
            v7: Default::default(),
            neg7: Default::default(),
            code7: Default::default(),
            tint7: Default::default(),
            tposit7: Default::default(),
            big7: Default::default(),
            small7: Default::default(),
            ovf7: Default::default(),
            zero7: Default::default(),
            nan7: Default::default(),
            inf7: Default::default(),
            ninf7: Default::default(),
            fmt7: Default::default(),
            res: Default::default(),
            v8: Default::default(),
            code: Default::default(),
            t_int: Default::default(),
            t_posit: Default::default(),
            unused_t_int: Default::default(),
            unused_t_posit: Default::default(),
            f_id: FLOATS.into_iter().map(id).collect(),
            f_emin: FLOATS.into_iter().map(|f| const_bits(emin_b(f))).collect(),
            f_max: FLOATS.into_iter().map(|f| const_bits(max_b(f))).collect(),
            // Subnormal: the right shift emin − scale (1 ..= MAX_SHIFT; mod 64) plus the guard's place.
            f_emin6: FLOATS
                .into_iter()
                .map(|f| const_bits((emin_b(f) + guard(f)) & 63))
                .collect(),
            f_g6: FLOATS.into_iter().map(|f| const_bits(guard(f))).collect(),
            f_max_sh: FLOATS.into_iter().map(|f| const_bits(MAX_SHIFT + guard(f))).collect(),
            // Below this biased scale, a float's right shift exceeds the frame.
            f_big: FLOATS.into_iter().map(|f| const_bits(emin_b(f) - MAX_SHIFT)).collect(),
            f_max_finite: FLOATS.into_iter().map(|f| const_bits(inf_code(f) - 1)).collect(),
            f_inf: FLOATS.into_iter().map(|f| const_bits(inf_code(f))).collect(),
            f_nan: FLOATS
                .into_iter()
                .map(|f| const_bits(inf_code(f) | 1 << (float_params(f).1 - 1)))
                .collect(),
            f_sign: FLOATS
                .into_iter()
                .map(|f| const_bits(1 << (f.spec().bits - 1)))
                .collect(),
            f_man: FLOATS.into_iter().map(|f| const_bits(float_params(f).1)).collect(),
            k_sign_bit: const_index(ACC_W - 1),
            k_under: const_index(g.under),
            k1_acc: Constant::new(1.into()),
            k_int32: id(OutputFormat::Int32),
            k_posit: id(OutputFormat::Posit16Es1),
            // The magnitude's top bit weighs 2^(norm − 1 + acc.lsb).
            k_scale_top: const_bits((g.norm as i64 - 1 + acc.lsb as i64 + SCALE_BIAS) as u64),
            k_int_max_sh: const_bits(MAX_SHIFT + guard(OutputFormat::Int32)),
            // INT32: 2^0 lands at the kept field's LSB when shifted right by INT_BITS − scale.
            k_int_b: const_bits((INT_BITS as i64 + SCALE_BIAS) as u64),
            k_int_b6: const_bits(((INT_BITS as i64 + SCALE_BIAS) as u64 + guard(OutputFormat::Int32)) & 63),
            k_int_big: const_bits((INT_BITS as i64 + SCALE_BIAS) as u64 - MAX_SHIFT),
            // Posit regime k = floor(scale / 2): k ≥ 0 from biased scale SCALE_BIAS on; below
            // k_sb_lo it is < −POSIT_K_MAX, from k_sb_hi on > POSIT_K_MAX.
            k_sb0: const_bits(SCALE_BIAS as u64),
            k_sb_lo: const_bits((SCALE_BIAS - 2 * POSIT_K_MAX) as u64),
            k_sb_hi: const_bits((SCALE_BIAS + 2 * POSIT_K_MAX + 2) as u64),
            k1_6: const_bits(1),
            k0_6: const_bits(0),
            k_kmax6: const_bits(POSIT_K_MAX as u64),
            k_kmax6_1: const_bits(POSIT_K_MAX as u64 + 1),
            k_p_sh_lo: const_bits(POSIT_K_MAX as u64 + 1 + guard(posit)),
            k_p_sh_hi: const_bits(POSIT_K_MAX as u64 + 2 + guard(posit)),
            k_p_sh_pos: const_bits(2 + guard(posit)),
            k_p_sh_neg: const_bits(1 + guard(posit)),
            k_p_qsh: const_bits(qsh(posit) as u64),
            k_p_guard: const_index(qsh(posit) - 1),
            k_p_smask: const_bits(ones(qsh(posit) - 1)),
            k0_16: const_bits(0),
            k_sext_16: const_bits(0xFFFF ^ ((1 << SCALE_BITS) - 1)),
            k_scale_sign: const_index(SCALE_BITS - 1),
            k0_f: const_bits(0),
            k1_f: const_bits(1),
            k_top_f: const_bits(FRAME as u64 - 1),
            k1_m: const_bits(1),
            k0_m: const_bits(0),
            k_int_max: const_bits(ones(INT_BITS as usize - 1)),
            k_int_min: const_bits(1 << (INT_BITS - 1)),
            k_int_wrap: const_bits(1 << INT_BITS),
            k_posit_max: const_bits(ones(POSIT_BITS as usize - 1)),
            k_posit_wrap: const_bits(1 << POSIT_BITS),
            k_int_max32: const_bits(ones(INT_BITS as usize - 1)),
            k_int_min32: const_bits(1 << (INT_BITS - 1)),
            k_posit_min32: const_bits(1),
            k_posit_max32: const_bits(ones(POSIT_BITS as usize - 1)),
            k_posit_nmin32: const_bits(ones(POSIT_BITS as usize)),
            k_posit_nmax32: const_bits((1 << POSIT_BITS) - ones(POSIT_BITS as usize - 1)),
            k_posit_nar: const_bits(1 << (POSIT_BITS - 1)),
        }
    }
}
