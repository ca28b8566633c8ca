//! `npe model --plot`: error against size, one point per run — each uniform format and each
//! layer-adaptive mix — as PNG and SVG (plotters).
//!
//! x: bits per weight with metadata; y: `1 − mean embedding cosine` to the f32 model, on a log
//! scale (lower is better). Text needs a TrueType font: the first of [`FONTS`] found
//! (Debian's fonts-dejavu-core, which `.ci/setup.sh` installs, has the first).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Where the plot's font is looked for, in order.
pub const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// One run on the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Its label.
    pub name: String,
    /// Bits per weight, metadata included.
    pub bits: f64,
    /// Mean embedding cosine to the f32 model.
    pub cosine: f64,
    /// A layer-adaptive mix (drawn apart from the uniform formats).
    pub mixed: bool,
}

/// Distinct colours dark enough to read on white (Tableau's 10 and darker companions).
const COLORS: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(0, 80, 0),
    RGBColor(128, 0, 0),
    RGBColor(0, 0, 160),
    RGBColor(200, 0, 200),
    RGBColor(90, 60, 0),
];

/// Smallest error drawn: an error below it (posit16 is within f32 rounding) sits on the axis.
const FLOOR: f64 = 1e-9;

fn err(p: &Point) -> f64 {
    (1.0 - p.cosine).max(FLOOR)
}

/// Registers the plot font once (plotters keeps fonts for the life of the process, hence the
/// `'static` bytes).
fn font() -> Result<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let path = FONTS.iter().find(|p| Path::new(p).exists()).ok_or_else(|| {
            format!(
                "--plot needs a TrueType font for its text and found none of {} (Debian: apt-get install fonts-dejavu-core)",
                FONTS.join(", ")
            )
        })?;
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{path}: not a font plotters reads"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, title: &str, points: &[Point]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {x:?}");
    root.fill(&WHITE).map_err(e)?;
    let (bmin, bmax) = points
        .iter()
        .fold((f64::INFINITY, 0f64), |(lo, hi), p| (lo.min(p.bits), hi.max(p.bits)));
    let (emin, emax) = points
        .iter()
        .fold((f64::INFINITY, 0f64), |(lo, hi), p| (lo.min(err(p)), hi.max(err(p))));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((bmin - 0.5).max(0.0)..bmax + 1.5, (emin / 3.0..emax * 3.0).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("bits per weight (scales and other metadata included)")
        .y_desc("1 − mean embedding cosine to f32")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(e)?;
    // The 4-bit formats crowd together, so points are told apart by colour and a legend
    // (uniform formats: circles; mixes: triangles) rather than by labels beside them.
    for (i, p) in points.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let at = (p.bits, err(p));
        if p.mixed {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(at, 8, c.filled())))
                .map_err(e)?
                .label(p.name.clone())
                .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, c.filled()));
        } else {
            chart
                .draw_series(std::iter::once(Circle::new(at, 6, c.filled())))
                .map_err(e)?
                .label(p.name.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
        }
    }
    // The mixes, in order of budget, joined: the adaptive frontier.
    let mut mixed: Vec<(f64, f64)> = points.iter().filter(|p| p.mixed).map(|p| (p.bits, err(p))).collect();
    mixed.sort_by(|a, b| a.0.total_cmp(&b.0));
    if mixed.len() > 1 {
        chart
            .draw_series(LineSeries::new(mixed, BLACK.stroke_width(1)))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Writes `PREFIX.png` and `PREFIX.svg`; returns their paths. The caller checks the paths
/// (`outfile`) before the run.
pub fn plot(prefix: &Path, title: &str, points: &[Point]) -> Result<(PathBuf, PathBuf)> {
    if points.is_empty() {
        anyhow::bail!("--plot: nothing to plot");
    }
    font()?;
    let (png, svg) = paths(prefix);
    draw(BitMapBackend::new(&png, (1000, 700)).into_drawing_area(), title, points)
        .with_context(|| format!("writing {}", png.display()))?;
    draw(SVGBackend::new(&svg, (1000, 700)).into_drawing_area(), title, points)
        .with_context(|| format!("writing {}", svg.display()))?;
    Ok((png, svg))
}

/// The plot's title for a run of `sentences` sentences.
pub fn title(sentences: usize) -> String {
    format!("all-MiniLM-L6-v2, {sentences} sentences: linear layers on the device")
}

/// The two files of `--plot PREFIX`.
pub fn paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let mut png = prefix.as_os_str().to_owned();
    png.push(".png");
    let mut svg = prefix.as_os_str().to_owned();
    svg.push(".svg");
    (png.into(), svg.into())
}

/// The points of a JSON report `npe model --json` wrote (to plot a long run again).
pub fn points_from_json(v: &serde_json::Value) -> Result<Vec<Point>> {
    let fmts = v
        .get("formats")
        .and_then(|f| f.as_array())
        .context("not an npe model JSON report (no \"formats\" list)")?;
    fmts.iter()
        .map(|f| {
            let name = f["name"].as_str().context("a format without a name")?.to_string();
            let bits = f["bits_per_weight"]
                .as_f64()
                .with_context(|| format!("{name}: no bits_per_weight"))?;
            let c: Vec<f64> = f["embedding_cosine"]
                .as_array()
                .with_context(|| format!("{name}: no embedding_cosine"))?
                .iter()
                .filter_map(|x| x.as_f64())
                .collect();
            if c.is_empty() {
                anyhow::bail!("{name}: no embedding cosines");
            }
            Ok(Point {
                mixed: name.starts_with("mixed"),
                cosine: c.iter().sum::<f64>() / c.len() as f64,
                name,
                bits,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_png_and_svg() {
        let dir = std::env::temp_dir().join(format!("npe-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pts = [
            Point {
                name: "int8".into(),
                bits: 8.06,
                cosine: 0.9998,
                mixed: false,
            },
            Point {
                name: "posit16".into(),
                bits: 16.06,
                cosine: 1.0,
                mixed: false,
            },
            Point {
                name: "mixed ≤ 5".into(),
                bits: 4.9,
                cosine: 0.999,
                mixed: true,
            },
        ];
        let (png, svg) = plot(&dir.join("p"), "test", &pts).unwrap();
        let png_bytes = std::fs::read(&png).unwrap();
        assert_eq!(&png_bytes[1..4], b"PNG");
        let s = std::fs::read_to_string(&svg).unwrap();
        assert!(s.contains("<svg") && s.contains("posit16") && s.contains("int8"), "{s}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn points_come_back_from_a_json_report() {
        let v = serde_json::json!({"formats": [
            {"name": "int8", "bits_per_weight": 8.0625, "embedding_cosine": [0.99, 0.97]},
            {"name": "mixed ≤ 5", "bits_per_weight": 4.99, "embedding_cosine": [0.98]},
        ]});
        let p = points_from_json(&v).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].name.as_str(), p[0].bits, p[0].mixed), ("int8", 8.0625, false));
        assert!((p[0].cosine - 0.98).abs() < 1e-12);
        assert!(p[1].mixed);
        let bad = serde_json::json!({"formats": [{"name": "x", "bits_per_weight": 4.0, "embedding_cosine": []}]});
        assert!(points_from_json(&bad)
            .unwrap_err()
            .to_string()
            .contains("no embedding cosines"));
    }
}
