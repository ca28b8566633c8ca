//! The port list of an emitted top module, read back from its Verilog.
//!
//! npe-sim generates its C++/Rust port tables from this, and npe-fpga its synthesis wrappers,
//! so both follow whatever the blocks declare.

/// One port of a top module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortDecl {
    /// Verilog name.
    pub name: String,
    /// `true` for inputs, `false` for outputs.
    pub input: bool,
    /// Width in bits.
    pub width: u32,
}

/// Reads the port declarations of module `top` (rust-hdl emits one
/// `input|output [wire|reg] [N:0] name;` per line). `None` if the module is missing or has no ports.
pub fn parse_ports(verilog: &str, top: &str) -> Option<Vec<PortDecl>> {
    let start = verilog
        .find(&format!("module {top}("))
        .or_else(|| verilog.find(&format!("module {top} (")))?;
    let body = &verilog[start..];
    let body = &body[..body.find("endmodule").unwrap_or(body.len())];
    let mut ports = Vec::new();
    for line in body.lines() {
        let line = line.trim().trim_end_matches(';');
        let mut words = line.split_whitespace();
        let input = match words.next() {
            Some("input") => true,
            Some("output") => false,
            _ => continue,
        };
        let mut width = 1;
        let mut name = None;
        for w in words {
            match w {
                "wire" | "reg" | "signed" | "logic" => {}
                w if w.starts_with('[') => {
                    let hi: u32 = w.trim_start_matches('[').split(':').next()?.parse().ok()?;
                    width = hi + 1;
                }
                w => name = Some(w.trim_end_matches(',').to_string()),
            }
        }
        ports.push(PortDecl {
            name: name?,
            input,
            width,
        });
    }
    (!ports.is_empty()).then_some(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_decoder_ports() {
        let v = crate::emit::format_decode_verilog();
        let ports = parse_ports(&v, crate::emit::FORMAT_DECODE_TOP).unwrap();
        let names: Vec<_> = ports.iter().map(|p| (p.name.as_str(), p.input, p.width)).collect();
        assert_eq!(
            names,
            [
                ("clock", true, 1),
                ("fmt", true, 5),
                ("code", true, 16),
                ("zero", false, 1),
                ("nar", false, 1),
                ("inf", false, 1),
                ("sign", false, 1),
                ("exp", false, 8),
                ("mant", false, 16)
            ]
        );
    }

    #[test]
    fn missing_module_is_none() {
        assert_eq!(parse_ports("module a(x);\n input wire x;\nendmodule\n", "b"), None);
    }
}
