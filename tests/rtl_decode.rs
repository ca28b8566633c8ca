//! The Verilated format decoder against the golden decode: every code of every format.

use npe_host::golden::{decode, Format};
use npe_host::rtl::Decoder;
use rand::{rngs::StdRng, Rng, SeedableRng};

#[test]
fn every_code_of_every_format_decodes_as_golden() {
    let mut hw = Decoder::new();
    let mut rng = StdRng::seed_from_u64(3);
    let mut total = 0usize;
    let mut mismatches = 0usize;
    let mut first = Vec::new();
    for f in Format::ALL {
        for code in 0..f.code_count() {
            let want = decode(f, code).expect("code in range");
            // Bits above the format's width must be ignored: drive random junk there.
            let junk = if f.bits() < 16 {
                (rng.gen::<u32>() & 0xFFFF) >> f.bits() << f.bits()
            } else {
                0
            };
            for driven in [code, code | junk] {
                let got = hw.decode(f, driven);
                total += 1;
                if got != want {
                    mismatches += 1;
                    if first.len() < 20 {
                        first.push(format!("{f} code {driven:#06x}: golden {want:?}, rtl {got:?}"));
                    }
                }
            }
        }
        eprintln!("{f}: {} codes checked", f.code_count());
    }
    eprintln!("{total} decodes compared, {mismatches} mismatches");
    assert_eq!(
        mismatches,
        0,
        "RTL decode mismatches (first {}):\n{}",
        first.len(),
        first.join("\n")
    );
}

#[test]
fn unknown_format_ids_decode_to_all_zero() {
    let mut hw = Decoder::new();
    for id in Format::ALL.len() as u8..16 {
        let u = hw.decode_id(id, 0x1234);
        assert_eq!(u, Default::default(), "format id {id}");
    }
}
