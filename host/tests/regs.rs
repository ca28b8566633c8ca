//! The generated register-map artifacts are well formed for tools outside Rust.

use npe_hdl::spec::regs::{json, REGISTERS};

#[test]
fn register_json_parses_and_matches_the_table() {
    let v: serde_json::Value = serde_json::from_str(&json()).expect("valid JSON");
    let regs = v["registers"].as_array().unwrap();
    assert_eq!(regs.len(), REGISTERS.len());
    for (j, r) in regs.iter().zip(REGISTERS) {
        assert_eq!(j["name"], r.name);
        assert_eq!(j["offset"], r.offset);
        assert_eq!(j["fields"].as_array().unwrap().len(), r.fields.len());
    }
}
