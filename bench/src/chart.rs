//! The cost chart in BENCHMARKS.md (`docs/bench-cost.svg`): for each memory point, the cost per
//! 1,000 orders and per report in Rust and in Python, as bars on a logarithmic scale (the two
//! differ by orders of magnitude).

use std::fmt::Write;

/// One memory point's four figures, in USD.
pub struct CostPoint {
    pub memory_mb: u32,
    pub rust_orders: f64,
    pub python_orders: f64,
    pub rust_report: f64,
    pub python_report: f64,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 80.0;
/// (legend, colour) of the bars, in each group's order.
const SERIES: [(&str, &str); 4] = [
    ("Rust, 1,000 orders", "#b5651d"),
    ("Python, 1,000 orders", "#3776ab"),
    ("Rust, one report", "#e0a96d"),
    ("Python, one report", "#8fb8de"),
];

/// The chart as an SVG document.
pub fn cost_svg(points: &[CostPoint]) -> String {
    let values: Vec<f64> = points
        .iter()
        .flat_map(|p| {
            [
                p.rust_orders,
                p.python_orders,
                p.rust_report,
                p.python_report,
            ]
        })
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(0.0, f64::max);
    let (floor, ceiling) = if values.is_empty() {
        (-6, -5)
    } else {
        (
            low.log10().floor() as i32,
            (high.log10().ceil() as i32).max(low.log10().floor() as i32 + 1),
        )
    };
    let plot_height = HEIGHT - TOP - BOTTOM;
    let y = |usd: f64| {
        let share = (usd.log10() - f64::from(floor)) / f64::from(ceiling - floor);
        TOP + plot_height * (1.0 - share)
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<title>Lambda cost (arm64) per 1,000 orders and per report, Rust and Python, by memory setting</title>
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="22" font-size="14" font-weight="bold">Lambda cost (arm64, USD, log scale) by memory setting</text>
"#
    );
    for power in floor..=ceiling {
        let at = y(10f64.powi(power));
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{at:.1}" x2="{:.1}" y2="{at:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">1e{power}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0
        );
    }
    let group = (WIDTH - LEFT - RIGHT) / points.len().max(1) as f64;
    let bar = group / (SERIES.len() as f64 + 1.5);
    for (i, point) in points.iter().enumerate() {
        let start = LEFT + group * i as f64 + bar * 0.75;
        let figures = [
            point.rust_orders,
            point.python_orders,
            point.rust_report,
            point.python_report,
        ];
        for (j, (usd, (legend, colour))) in figures.iter().zip(SERIES).enumerate() {
            if !(usd.is_finite() && *usd > 0.0) {
                continue;
            }
            let top = y(*usd).max(TOP);
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{legend}, {} MB: ${usd:.8}</title></rect>"#,
                start + bar * j as f64,
                bar * 0.9,
                TOP + plot_height - top,
                point.memory_mb
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{} MB</text>"#,
            start + bar * 2.0,
            TOP + plot_height + 18.0,
            point.memory_mb
        );
    }
    for (j, (legend, colour)) in SERIES.iter().enumerate() {
        let x = LEFT + (j as f64) * 165.0;
        let legend_y = HEIGHT - 24.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{:.1}" y="{legend_y:.1}">{legend}</text>"#,
            legend_y - 10.0,
            x + 16.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_positive_figure_is_a_bar_and_every_memory_point_a_label() {
        let points = [
            CostPoint {
                memory_mb: 128,
                rust_orders: 0.00002,
                python_orders: 0.0002,
                rust_report: 0.000001,
                python_report: 0.00001,
            },
            CostPoint {
                memory_mb: 1024,
                rust_orders: 0.00004,
                python_orders: f64::NAN,
                rust_report: 0.000002,
                python_report: 0.00002,
            },
        ];
        let svg = cost_svg(&points);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches("<rect x=").count(), 7 + SERIES.len());
        assert!(svg.contains(">128 MB</text>") && svg.contains(">1024 MB</text>"));
        assert!(svg.contains("<title>Python, 1,000 orders, 128 MB: $0.00020000</title>"));
        // A decade above and below the figures: 1e-6 to 1e-3.
        assert!(svg.contains(">1e-6</text>") && svg.contains(">1e-3</text>"));
        assert!(svg.ends_with("</svg>\n"));
    }
}
