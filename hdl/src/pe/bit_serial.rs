//! The bit-serial (term-serial) MAC of BitMoD (HPCA 2025, DESIGN §3.1): four lanes of signed
//! INT8 activations against four 4-bit weights given as signed power-of-two terms
//! ([`crate::spec::terms`]: at most two per weight, decoded once at the array's edge). Each
//! cycle every lane adds its activation shifted by one term (no multiplier), so a beat takes
//! one cycle when no weight of it has two terms and two when one has: cycles per weight follow
//! the term count.
//!
//! ```text
//!  a (4 × INT8), terms (4 × 2) ─► lane: ±(a << shift) ×4 (stage 1) ─► Σ (stage 2) ─► acc += Σ (stage 3)
//!                     └─ a beat with second terms is held; `ready` is low while they are taken
//! ```
//!
//! The accumulator counts in units of 2^[`TERM_LSB`](crate::spec::terms::TERM_LSB) (the 0.5 of
//! E2M1). A beat taken in cycle `c` (with `valid` and `ready`) is in `acc` after edge `c + 3`,
//! its second terms after edge `c + 4`.

use crate::decode::{const_bits, const_index, BitIndex};
use crate::many;
use crate::spec::terms::{MAX_TERMS, TERM_SHIFT_BITS};
use rust_hdl::prelude::*;

/// Lanes of the bit-serial MAC.
pub const BS_LANES: usize = 4;
/// Bits of one lane's activation (signed INT8).
pub const BS_A_BITS: usize = 8;
// The lanes are written out once each in `update`.
const _: () = assert!(BS_LANES == 4);

/// Bits of one term: valid, negative, shift.
pub const TERM_BITS: usize = 2 + TERM_SHIFT_BITS;
/// Bits of a beat's terms: lane `l`'s term `s` at `(l · MAX_TERMS + s) · TERM_BITS` (valid,
/// then negative, then the shift).
pub const BS_T_BITS: usize = BS_LANES * MAX_TERMS * TERM_BITS;
/// Width of a lane's signed product and of the four lanes' sum: 8-bit activations shifted by up
/// to 7, plus two bits of sum growth.
const SUM_BITS: usize = BS_A_BITS + (1 << TERM_SHIFT_BITS) - 1 + 2;

/// The bit-serial MAC with an `ACC_W`-bit accumulator (see the module docs).
#[derive(LogicBlock)]
pub struct BitSerialMac<const ACC_W: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: nothing held, the accumulator zero.
    pub reset: Signal<In, Bit>,
    /// Four signed INT8 activations, lane `l` at bit `8 l`.
    pub a: Signal<In, Bits<{ BS_LANES * BS_A_BITS }>>,
    /// The four weights' terms (layout: [`BS_T_BITS`]).
    pub t: Signal<In, Bits<BS_T_BITS>>,
    /// A beat is presented (taken when `ready`).
    pub valid: Signal<In, Bit>,
    /// With `valid`: the dot product restarts with this beat.
    pub clear: Signal<In, Bit>,
    /// The MAC takes a beat this cycle.
    pub ready: Signal<Out, Bit>,
    /// The exact sum, two's complement, in units of 2^TERM_LSB.
    pub acc: Signal<Out, Bits<ACC_W>>,
    pend: DFF<Bit>,
    a_h: DFF<Bits<{ BS_LANES * BS_A_BITS }>>,
    t_h: DFF<Bits<BS_T_BITS>>,
    pq: Vec<DFF<Bits<SUM_BITS>>>,
    v1: DFF<Bit>,
    c1: DFF<Bit>,
    sum_q: DFF<Bits<SUM_BITS>>,
    v_q: DFF<Bit>,
    c_q: DFF<Bit>,
    acc_q: DFF<Bits<ACC_W>>,
    a_cur: Signal<Local, Bits<{ BS_LANES * BS_A_BITS }>>,
    t_cur: Signal<Local, Bits<BS_T_BITS>>,
    second: Signal<Local, Bit>,
    ext: Vec<Signal<Local, Bits<SUM_BITS>>>,
    tv: Vec<Signal<Local, Bit>>,
    tn: Vec<Signal<Local, Bit>>,
    ts: Vec<Signal<Local, Bits<TERM_SHIFT_BITS>>>,
    sh: Vec<Signal<Local, Bits<SUM_BITS>>>,
    prod: Vec<Signal<Local, Bits<SUM_BITS>>>,
    sum: Signal<Local, Bits<SUM_BITS>>,
    wide: Signal<Local, Bits<ACC_W>>,
    base: Signal<Local, Bits<ACC_W>>,
    at_a: Vec<Constant<BitIndex>>,
    at_sign: Vec<Constant<BitIndex>>,
    // Each lane's terms: valid, negative, shift of the first (0) and the second (1).
    at_v0: Vec<Constant<BitIndex>>,
    at_n0: Vec<Constant<BitIndex>>,
    at_s0: Vec<Constant<BitIndex>>,
    at_v1: Vec<Constant<BitIndex>>,
    at_n1: Vec<Constant<BitIndex>>,
    at_s1: Vec<Constant<BitIndex>>,
    // The valid bits of every lane's second term.
    second_mask: Constant<Bits<BS_T_BITS>>,
    ext_mask: Constant<Bits<SUM_BITS>>,
    acc_ext: Constant<Bits<ACC_W>>,
    sum_sign: Constant<BitIndex>,
    zero_s: Constant<Bits<SUM_BITS>>,
    zero_t: Constant<Bits<BS_T_BITS>>,
    zero_a: Constant<Bits<ACC_W>>,
}

impl<const ACC_W: usize> Default for BitSerialMac<ACC_W> {
    fn default() -> Self {
        assert!(ACC_W > SUM_BITS && ACC_W <= 64, "BitSerialMac<{ACC_W}>");
        let term_at = |l: usize, s: usize| (l * MAX_TERMS + s) * TERM_BITS;
        let second_mask = (0..BS_LANES).fold(0u64, |m, l| m | 1 << term_at(l, 1));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            a: Default::default(),
            t: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            ready: Default::default(),
            acc: Default::default(),
            pend: Default::default(),
            a_h: Default::default(),
            t_h: Default::default(),
            pq: many(BS_LANES),
            v1: Default::default(),
            c1: Default::default(),
            sum_q: Default::default(),
            v_q: Default::default(),
            c_q: Default::default(),
            acc_q: Default::default(),
            a_cur: Default::default(),
            t_cur: Default::default(),
            second: Default::default(),
            ext: many(BS_LANES),
            tv: many(BS_LANES),
            tn: many(BS_LANES),
            ts: many(BS_LANES),
            sh: many(BS_LANES),
            prod: many(BS_LANES),
            sum: Default::default(),
            wide: Default::default(),
            base: Default::default(),
            at_a: (0..BS_LANES).map(|l| const_index(l * BS_A_BITS)).collect(),
            at_sign: (0..BS_LANES)
                .map(|l| const_index(l * BS_A_BITS + BS_A_BITS - 1))
                .collect(),
            at_v0: (0..BS_LANES).map(|l| const_index(term_at(l, 0))).collect(),
            at_n0: (0..BS_LANES).map(|l| const_index(term_at(l, 0) + 1)).collect(),
            at_s0: (0..BS_LANES).map(|l| const_index(term_at(l, 0) + 2)).collect(),
            at_v1: (0..BS_LANES).map(|l| const_index(term_at(l, 1))).collect(),
            at_n1: (0..BS_LANES).map(|l| const_index(term_at(l, 1) + 1)).collect(),
            at_s1: (0..BS_LANES).map(|l| const_index(term_at(l, 1) + 2)).collect(),
            second_mask: const_bits(second_mask),
            ext_mask: const_bits(((1u64 << SUM_BITS) - 1) & !((1u64 << BS_A_BITS) - 1)),
            acc_ext: const_bits(((1u128 << ACC_W) - (1u128 << SUM_BITS)) as u64),
            sum_sign: const_index(SUM_BITS - 1),
            zero_s: const_bits(0),
            zero_t: const_bits(0),
            zero_a: const_bits(0),
        }
    }
}

impl<const ACC_W: usize> Logic for BitSerialMac<ACC_W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, pend, a_h, t_h, v1, c1, sum_q, v_q, c_q, acc_q);
        for l in 0..4 {
            self.pq[l].clock.next = self.clock.val();
        }

        // ---- stage 1: one term per lane, from the new beat (first terms) or the held one
        // (second terms).
        self.ready.next = !self.pend.q.val();
        self.a_cur.next = self.a.val();
        self.t_cur.next = self.t.val();
        if self.pend.q.val() {
            self.a_cur.next = self.a_h.q.val();
            self.t_cur.next = self.t_h.q.val();
        }
        // The lanes, unrolled (rust-hdl's generator loses a loop index inside `bit_cast`).
        self.ext[0].next =
            bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[0].val().index()));
        if self.a_cur.val().get_bit(self.at_sign[0].val().index()) {
            self.ext[0].next =
                bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[0].val().index()))
                    | self.ext_mask.val();
        }
        // The term taken now: a held beat's second, else the new beat's first.
        self.tv[0].next = self.t_cur.val().get_bit(self.at_v0[0].val().index());
        self.tn[0].next = self.t_cur.val().get_bit(self.at_n0[0].val().index());
        self.ts[0].next = self
            .t_cur
            .val()
            .get_bits::<TERM_SHIFT_BITS>(self.at_s0[0].val().index());
        if self.pend.q.val() {
            self.tv[0].next = self.t_cur.val().get_bit(self.at_v1[0].val().index());
            self.tn[0].next = self.t_cur.val().get_bit(self.at_n1[0].val().index());
            self.ts[0].next = self
                .t_cur
                .val()
                .get_bits::<TERM_SHIFT_BITS>(self.at_s1[0].val().index());
        }
        self.sh[0].next = self.ext[0].val() << bit_cast::<SUM_BITS, TERM_SHIFT_BITS>(self.ts[0].val());
        self.prod[0].next = self.zero_s.val();
        if self.tv[0].val() {
            self.prod[0].next = self.sh[0].val();
            if self.tn[0].val() {
                self.prod[0].next = self.zero_s.val() - self.sh[0].val();
            }
        }
        self.ext[1].next =
            bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[1].val().index()));
        if self.a_cur.val().get_bit(self.at_sign[1].val().index()) {
            self.ext[1].next =
                bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[1].val().index()))
                    | self.ext_mask.val();
        }
        // The term taken now: a held beat's second, else the new beat's first.
        self.tv[1].next = self.t_cur.val().get_bit(self.at_v0[1].val().index());
        self.tn[1].next = self.t_cur.val().get_bit(self.at_n0[1].val().index());
        self.ts[1].next = self
            .t_cur
            .val()
            .get_bits::<TERM_SHIFT_BITS>(self.at_s0[1].val().index());
        if self.pend.q.val() {
            self.tv[1].next = self.t_cur.val().get_bit(self.at_v1[1].val().index());
            self.tn[1].next = self.t_cur.val().get_bit(self.at_n1[1].val().index());
            self.ts[1].next = self
                .t_cur
                .val()
                .get_bits::<TERM_SHIFT_BITS>(self.at_s1[1].val().index());
        }
        self.sh[1].next = self.ext[1].val() << bit_cast::<SUM_BITS, TERM_SHIFT_BITS>(self.ts[1].val());
        self.prod[1].next = self.zero_s.val();
        if self.tv[1].val() {
            self.prod[1].next = self.sh[1].val();
            if self.tn[1].val() {
                self.prod[1].next = self.zero_s.val() - self.sh[1].val();
            }
        }
        self.ext[2].next =
            bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[2].val().index()));
        if self.a_cur.val().get_bit(self.at_sign[2].val().index()) {
            self.ext[2].next =
                bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[2].val().index()))
                    | self.ext_mask.val();
        }
        // The term taken now: a held beat's second, else the new beat's first.
        self.tv[2].next = self.t_cur.val().get_bit(self.at_v0[2].val().index());
        self.tn[2].next = self.t_cur.val().get_bit(self.at_n0[2].val().index());
        self.ts[2].next = self
            .t_cur
            .val()
            .get_bits::<TERM_SHIFT_BITS>(self.at_s0[2].val().index());
        if self.pend.q.val() {
            self.tv[2].next = self.t_cur.val().get_bit(self.at_v1[2].val().index());
            self.tn[2].next = self.t_cur.val().get_bit(self.at_n1[2].val().index());
            self.ts[2].next = self
                .t_cur
                .val()
                .get_bits::<TERM_SHIFT_BITS>(self.at_s1[2].val().index());
        }
        self.sh[2].next = self.ext[2].val() << bit_cast::<SUM_BITS, TERM_SHIFT_BITS>(self.ts[2].val());
        self.prod[2].next = self.zero_s.val();
        if self.tv[2].val() {
            self.prod[2].next = self.sh[2].val();
            if self.tn[2].val() {
                self.prod[2].next = self.zero_s.val() - self.sh[2].val();
            }
        }
        self.ext[3].next =
            bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[3].val().index()));
        if self.a_cur.val().get_bit(self.at_sign[3].val().index()) {
            self.ext[3].next =
                bit_cast::<SUM_BITS, BS_A_BITS>(self.a_cur.val().get_bits::<BS_A_BITS>(self.at_a[3].val().index()))
                    | self.ext_mask.val();
        }
        // The term taken now: a held beat's second, else the new beat's first.
        self.tv[3].next = self.t_cur.val().get_bit(self.at_v0[3].val().index());
        self.tn[3].next = self.t_cur.val().get_bit(self.at_n0[3].val().index());
        self.ts[3].next = self
            .t_cur
            .val()
            .get_bits::<TERM_SHIFT_BITS>(self.at_s0[3].val().index());
        if self.pend.q.val() {
            self.tv[3].next = self.t_cur.val().get_bit(self.at_v1[3].val().index());
            self.tn[3].next = self.t_cur.val().get_bit(self.at_n1[3].val().index());
            self.ts[3].next = self
                .t_cur
                .val()
                .get_bits::<TERM_SHIFT_BITS>(self.at_s1[3].val().index());
        }
        self.sh[3].next = self.ext[3].val() << bit_cast::<SUM_BITS, TERM_SHIFT_BITS>(self.ts[3].val());
        self.prod[3].next = self.zero_s.val();
        if self.tv[3].val() {
            self.prod[3].next = self.sh[3].val();
            if self.tn[3].val() {
                self.prod[3].next = self.zero_s.val() - self.sh[3].val();
            }
        }
        for l in 0..4 {
            self.pq[l].d.next = self.prod[l].val();
        }
        self.second.next = (self.t.val() & self.second_mask.val()) != self.zero_t.val();
        self.v1.d.next = false;
        self.c1.d.next = false;
        if self.pend.q.val() {
            self.v1.d.next = true;
            self.pend.d.next = false;
        } else if self.valid.val() {
            self.v1.d.next = true;
            self.c1.d.next = self.clear.val();
            if self.second.val() {
                self.pend.d.next = true;
                self.a_h.d.next = self.a.val();
                self.t_h.d.next = self.t.val();
            }
        }

        // ---- stage 2: the lanes' sum.
        self.sum.next = self.pq[0].q.val() + self.pq[1].q.val() + self.pq[2].q.val() + self.pq[3].q.val();
        self.sum_q.d.next = self.sum.val();
        self.v_q.d.next = self.v1.q.val();
        self.c_q.d.next = self.c1.q.val();

        // ---- stage 3: accumulate (a beat's first terms restart the sum on `clear`).
        self.wide.next = bit_cast::<ACC_W, SUM_BITS>(self.sum_q.q.val());
        if self.sum_q.q.val().get_bit(self.sum_sign.val().index()) {
            self.wide.next = bit_cast::<ACC_W, SUM_BITS>(self.sum_q.q.val()) | self.acc_ext.val();
        }
        self.base.next = self.acc_q.q.val();
        if self.c_q.q.val() {
            self.base.next = self.zero_a.val();
        }
        if self.v_q.q.val() {
            self.acc_q.d.next = self.base.val() + self.wide.val();
        }

        if self.reset.val() {
            self.pend.d.next = false;
            self.v1.d.next = false;
            self.v_q.d.next = false;
            self.acc_q.d.next = self.zero_a.val();
        }
        self.acc.next = self.acc_q.q.val();
    }
}

/// The bit-serial MAC with a 32-bit accumulator (what `npe synth --top mac_bitserial` measures).
pub type MacBitSerial = BitSerialMac<32>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::testbench::{cycle, rng};
    use crate::spec::terms::{code_terms, Term, TERM_FORMATS};

    fn term_bits(t: Option<Term>) -> u64 {
        t.map_or(0, |t| 1 | u64::from(t.neg) << 1 | u64::from(t.shift) << 2)
    }

    /// Random dot products of every term format's codes with INT8 activations, presented as fast
    /// as `ready` allows: the accumulator is the exact Σ a·w (in units of 2^-1) and the beats
    /// take one cycle plus one for each beat with a second term.
    #[test]
    fn term_serial_dot_products_are_exact_and_take_one_cycle_per_term() {
        let mut m = MacBitSerial::default();
        m.connect_all();
        m.reset.next = true;
        cycle(&mut m);
        m.reset.next = false;
        let mut rnd = rng(0xB175_E1A1);
        for case in 0..60 {
            let f = TERM_FORMATS[case % TERM_FORMATS.len()];
            let beats = 1 + (rnd() % 24) as usize;
            let (mut want, mut want_cycles, mut cycles) = (0i64, 0usize, 0usize);
            for b in 0..beats {
                let (mut a, mut t, mut two) = (0u64, 0u64, false);
                for l in 0..BS_LANES {
                    let x = rnd() as i8;
                    let code = (rnd() % (1 << f.bits())) as u8;
                    let terms = code_terms(f, code).unwrap();
                    a |= u64::from(x as u8) << (l * BS_A_BITS);
                    for (s, term) in terms.iter().enumerate() {
                        t |= term_bits(*term) << ((l * MAX_TERMS + s) * TERM_BITS);
                        if let Some(term) = term {
                            let p = i64::from(x) << term.shift;
                            want += if term.neg { -p } else { p };
                        }
                    }
                    two |= terms[1].is_some();
                }
                want_cycles += 1 + usize::from(two);
                m.a.next = bits(a);
                m.t.next = bits(t);
                m.valid.next = true;
                m.clear.next = b == 0;
                loop {
                    let taken = m.ready.val();
                    cycle(&mut m);
                    cycles += 1;
                    if taken {
                        break;
                    }
                }
            }
            m.valid.next = false;
            // A held second term, then the three stages.
            while !m.ready.val() {
                cycle(&mut m);
                cycles += 1;
            }
            for _ in 0..3 {
                cycle(&mut m);
            }
            let v = m.acc.val().to_u64() as u32 as i32;
            assert_eq!(i64::from(v), want, "case {case} ({f}, {beats} beats)");
            assert_eq!(
                cycles, want_cycles,
                "case {case}: one cycle per beat, one more per second term"
            );
        }
    }
}
