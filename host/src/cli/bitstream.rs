//! `npe bitstream`: a board top through Yosys, nextpnr-ecp5 and ecppack to a bitstream, with
//! its report (`npe_fpga::board`).

use super::*;

/// A board `npe bitstream` builds for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum BoardArg {
    /// ULX3S (LFE5U-85F, CABGA381): 25 MHz oscillator, FT231X UART, 8 LEDs.
    Ulx3s,
}

/// `npe bitstream`: builds the bitstream of `board`'s top with the accelerator `preset` in
/// `out`, prints the report and where everything is; an error when a tool is missing, the
/// design does not fit, or the design clock is missed (the bitstream and report are written
/// first, so the figures are there to read).
pub(super) fn bitstream(board: BoardArg, preset: &NpeConfig, out: &Path) -> Result<()> {
    if let Some(e) = npe_hdl::accel::config_error(preset) {
        bail!("preset {}: {e}", preset.name);
    }
    let tools = npe_fpga::Tools::detect(true)?;
    // Found now, not after half an hour of place and route.
    npe_fpga::board::find_ecppack()?;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let r = match board {
        BoardArg::Ulx3s => {
            eprintln!(
                "building the ULX3S bitstream with {} in {} (Yosys a few minutes, nextpnr 20+ minutes; \
                 logs: {}/ulx3s_{}.*.log) ...",
                preset.name,
                out.display(),
                out.display(),
                preset.name
            );
            npe_fpga::ulx3s_bitstream(&tools, preset, out)?
        }
    };
    print!("{}", r.markdown());
    let stem = r.bitstream.with_extension("");
    println!(
        "wrote {}, {}.report.md, {}.report.json",
        r.bitstream.display(),
        stem.display(),
        stem.display()
    );
    if !r.timing_met {
        bail!(
            "the design clock ({:.2} MHz) is not met ({}): the bitstream may not work",
            r.design_clock_mhz,
            r.fmax_mhz
                .map_or_else(|| "no Fmax reported".to_string(), |f| format!("Fmax {f:.2} MHz"))
        );
    }
    Ok(())
}
