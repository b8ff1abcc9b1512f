//! Charts drawn on the server as SVG: they print, work without script, and pass the
//! Content-Security-Policy (presentation attributes, no `style`). Each chart carries a
//! `<title>` and `<desc>` for screen readers; the pages keep a table of the same figures.

use maud::{Markup, html};

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 28.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

/// One line of a chart: its name, colour and values (one per label; `None`: no value).
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<Option<f64>>,
}

/// A line chart of `series` over `labels` (weeks), from 0 to `max` (the largest value when
/// `None`), with `unit` after the axis numbers ("%" for shares given as 0–100).
pub fn line(
    title: &str,
    labels: &[String],
    series: &[Series],
    max: Option<f64>,
    unit: &str,
) -> Markup {
    // Counts get an even top, so the middle line is a whole number too.
    let top = max.unwrap_or_else(|| {
        let highest = series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0_f64, |a, b| a.max(*b));
        ((highest / 2.0).ceil() * 2.0).max(2.0)
    });
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v / top).clamp(0.0, 1.0));
    // Show at most about 12 labels on the axis.
    let every = n.div_ceil(12).max(1);
    let desc: Vec<String> = series
        .iter()
        .map(|s| {
            let vals: Vec<String> = labels
                .iter()
                .zip(&s.values)
                .map(|(l, v)| {
                    format!(
                        "{l}: {}",
                        v.map(|v| format!("{v:.0}{unit}"))
                            .unwrap_or_else(|| "—".into())
                    )
                })
                .collect();
            format!("{}: {}", s.name, vals.join(", "))
        })
        .collect();
    html! {
        svg class="chart" viewBox=(format!("0 0 {W} {H}")) width="100%" role="img" xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            desc { (desc.join("; ")) }
            // Grid and axis numbers: 0, half, top.
            @for frac in [0.0, 0.5, 1.0] {
                line x1=(LEFT) x2=(W - RIGHT) y1=(y(top * frac)) y2=(y(top * frac)) stroke="#d0d7de" stroke-width="1" {}
                text x=(LEFT - 6.0) y=(y(top * frac) + 4.0) text-anchor="end" font-size="11" fill="#57606a" { (format!("{:.0}{unit}", top * frac)) }
            }
            @for (i, l) in labels.iter().enumerate() {
                @if i % every == 0 {
                    text x=(x(i)) y=(H - BOTTOM + 16.0) text-anchor="middle" font-size="11" fill="#57606a" { (l) }
                }
            }
            @for s in series {
                @let points: Vec<String> = s.values.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
                @if points.len() > 1 {
                    polyline points=(points.join(" ")) fill="none" stroke=(s.colour) stroke-width="2.5" {}
                }
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3" fill=(s.colour) {
                            title { (labels.get(i).map(String::as_str).unwrap_or("")) ": " (format!("{v:.0}{unit}")) }
                        }
                    }
                }
            }
            // The legend.
            @for (i, s) in series.iter().enumerate() {
                rect x=(LEFT + 150.0 * i as f64) y=(H - 14.0) width="12" height="4" fill=(s.colour) {}
                text x=(LEFT + 16.0 + 150.0 * i as f64) y=(H - 9.0) font-size="11" fill="#24292f" { (s.name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_its_points_its_labels_and_a_text_for_screen_readers() {
        let labels: Vec<String> = ["02/03", "09/03", "16/03"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = line(
            "Đúng hạn",
            &labels,
            &[Series {
                name: "Đúng hạn / On time",
                colour: "#1a7f37",
                values: vec![Some(50.0), None, Some(100.0)],
            }],
            Some(100.0),
            "%",
        )
        .into_string();
        assert!(svg.starts_with("<svg") && svg.contains("<title>Đúng hạn</title>"));
        assert!(
            svg.contains("09/03: —") && svg.contains("16/03: 100%"),
            "{svg}"
        );
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "no point where there is no value"
        );
        assert!(!svg.contains("style="), "no inline style (CSP)");
        // One label, one point: drawn in the middle, no line.
        let one = line(
            "x",
            &labels[..1],
            &[Series {
                name: "a",
                colour: "#000",
                values: vec![Some(3.0)],
            }],
            None,
            "",
        )
        .into_string();
        assert!(one.contains("<circle") && !one.contains("<polyline"));
    }
}
