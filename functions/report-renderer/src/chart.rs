//! The report's chart: one horizontal bar per supplier, as long as its bags in stock, with the
//! number of its beans low on stock marked in red. Every position and width is worked out here,
//! as plain numbers; the template only prints them (escaped, like every other value).

use std::borrow::Cow;

use cafe_shared::inventory::{Supplier, total_quantity};

use crate::format::{count, thousands};

/// The chart's width in SVG units. The page scales it to the width available (a phone's
/// 375 px included), up to a cap in CSS.
pub const WIDTH: u32 = 320;
/// Above the first row (the legend is the page's, above the chart).
const TOP: usize = 2;
/// One supplier: its name on one line, its bar under it.
const ROW_HEIGHT: usize = 44;
/// Where the bars of a row start (from the top of the row), and how thick they are.
const BAR_Y: usize = 21;
const BAR_HEIGHT: usize = 16;
/// The gap between a label and the low-stock marker after it, in SVG units.
const MARKER_GAP: f64 = 8.0;
/// The labels' and markers' font size (the page's CSS sets it), in SVG units: the width of a
/// wide character such as a CJK ideograph.
const FONT_SIZE: f64 = 14.0;
/// Roughly how wide a digit or letter of the figures is at the chart's font size, in SVG units:
/// whether a bar's figure fits after the bar or goes inside its end.
const FIGURE_CHAR_WIDTH: f64 = 8.0;
const FIGURE_GAP: f64 = 5.0;
/// A bar for any bags at all is at least this wide, so one bag next to a million is visible.
const MIN_BAR: f64 = 1.0;

#[derive(Debug)]
pub struct Chart {
    pub width: u32,
    pub height: usize,
    pub rows: Vec<Row>,
    /// What the chart shows, in words, for screen readers (the SVG's `<desc>`).
    pub description: String,
    pub bar_height: usize,
    /// How tall a row is: the height of the box each label is drawn in.
    pub row_height: usize,
}

#[derive(Debug)]
pub struct Row {
    /// The row's top edge.
    pub y: usize,
    /// The supplier's name as shown: cut, with an ellipsis, only when it is wider than the room
    /// the row has for it ([`label_room`]).
    pub label: String,
    /// The width of the box the label is drawn in: the whole row, or what the row's low-stock
    /// marker leaves. The box clips a label a font draws wider than estimated.
    pub label_room: String,
    /// The whole name, when the label had to be cut.
    pub full_name: Option<String>,
    /// `1,234 bags`, `0 bags` or `too many bags to total`.
    pub figure: String,
    /// The bar's width with one decimal, or `None` when there is no bar to draw: no bags, a
    /// negative total (bad data) or one too large to add up.
    pub bar: Option<String>,
    /// Where the figure goes: after the bar, or inside its end when it does not fit after it.
    pub figure_x: String,
    pub figure_inside: bool,
    /// The supplier's beans under the low-stock threshold.
    pub low: usize,
    pub low_label: String,
}

impl Chart {
    /// The chart of `suppliers`, `None` when there are none (the page says so instead). Never
    /// panics and never divides by zero: the longest bar is the largest total that could be
    /// added up, and when no supplier has any bags there are no bars.
    pub fn new(suppliers: &[Supplier], low_stock_threshold: i64) -> Option<Self> {
        if suppliers.is_empty() {
            return None;
        }
        let totals: Vec<Option<i64>> = suppliers.iter().map(|s| total_quantity(&s.beans)).collect();
        let longest = totals.iter().flatten().copied().filter(|&t| t > 0).max();
        let mut description = format!(
            "Bags in stock for each of the {} suppliers, as horizontal bars",
            count(suppliers.len())
        );
        let rows = suppliers
            .iter()
            .zip(&totals)
            .enumerate()
            .map(|(i, (supplier, &total))| {
                let low = supplier
                    .beans
                    .iter()
                    .filter(|b| b.quantity < low_stock_threshold)
                    .count();
                let figure = match total {
                    Some(bags) => format!("{} bags", thousands(bags)),
                    None => "too many bags to total".to_owned(),
                };
                let width = match (total, longest) {
                    (Some(bags), Some(longest)) if bags > 0 => Some(bar_width(bags, longest)),
                    _ => None,
                };
                let (figure_x, figure_inside) = place_figure(width.unwrap_or(0.0), &figure);
                let low_label = format!("● {} low", count(low));
                let room = label_room(low, &low_label);
                let cut = truncate(&supplier.name, room);
                description.push_str(&format!("; {}: {figure}", one_line(&supplier.name)));
                if low > 0 {
                    description.push_str(&format!(", {} low on stock", beans(low)));
                }
                Row {
                    y: TOP + i * ROW_HEIGHT,
                    full_name: cut.is_some().then(|| supplier.name.clone()),
                    label: cut.unwrap_or_else(|| one_line(&supplier.name).into_owned()),
                    label_room: format!("{room:.1}"),
                    figure,
                    bar: width.map(|w| format!("{w:.1}")),
                    figure_x: format!("{figure_x:.1}"),
                    figure_inside,
                    low,
                    low_label,
                }
            })
            .collect();
        description.push_str(&format!(
            ". Low on stock means under {} bags.",
            thousands(low_stock_threshold)
        ));
        Some(Self {
            width: WIDTH,
            height: TOP + suppliers.len() * ROW_HEIGHT,
            rows,
            description,
            bar_height: BAR_HEIGHT,
            row_height: ROW_HEIGHT,
        })
    }

    /// Where a row's bars start, from its top.
    pub fn bar_y(&self) -> usize {
        BAR_Y
    }

    /// The baseline of a figure inside or after a bar.
    pub fn figure_y(&self) -> usize {
        BAR_Y + BAR_HEIGHT - 4
    }
}

fn beans(n: usize) -> String {
    match n {
        1 => "1 bean".to_owned(),
        n => format!("{} beans", count(n)),
    }
}

/// `bags` as a share of the chart's width, the longest total filling it. Both are positive
/// (`0 < bags <= longest`); the f64 division is for drawing only, the figures stay exact.
fn bar_width(bags: i64, longest: i64) -> f64 {
    let share = bags as f64 / longest as f64;
    (share * f64::from(WIDTH)).clamp(MIN_BAR, f64::from(WIDTH))
}

/// After the bar when the figure fits there, else inside the bar's end (in white).
fn place_figure(bar: f64, figure: &str) -> (f64, bool) {
    let text = figure.chars().count() as f64 * FIGURE_CHAR_WIDTH;
    if bar + FIGURE_GAP + text <= f64::from(WIDTH) {
        (bar + FIGURE_GAP, false)
    } else {
        (bar - FIGURE_GAP, true)
    }
}

/// The room a row has for its label: the chart's width, less the low-stock marker (bold, so a
/// tenth wider) and a gap when the row has one.
pub fn label_room(low: usize, low_label: &str) -> f64 {
    let width = f64::from(WIDTH);
    if low == 0 {
        width
    } else {
        width - MARKER_GAP - text_width(low_label) * 1.1
    }
}

/// Roughly how wide `text` is at the chart's font size, in SVG units.
pub fn text_width(text: &str) -> f64 {
    text.chars().map(char_width).sum()
}

/// Roughly how wide `c` is at the chart's font size, in SVG units: measured on DejaVu Sans, the
/// widest of the common sans-serif fonts, so a label estimated to fit does fit in the others
/// too. East Asian wide characters (ideographs, Hangul, kana, full-width forms, most emoji) are
/// a whole font size wide; combining marks and joiners take nothing. An estimate for cutting
/// labels, not a font metric: the label's box clips whatever a font draws wider still.
fn char_width(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | 'I' | 'J' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' => 4.5,
        'f' | 'r' | 't' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' => 6.2,
        'm' | 'w' | 'M' | 'W' | '@' | '%' | '—' => 13.6,
        'A'..='Z' => 10.6,
        c => match u32::from(c) {
            0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0.0,
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD => FONT_SIZE,
            _ => 9.0,
        },
    }
}

/// `name` on one line: runs of white space, new lines included, become one space. Borrowed when
/// it already is.
fn one_line(name: &str) -> Cow<'_, str> {
    let line = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if line == name {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(line)
    }
}

/// `name` on one line, cut on a character boundary to at most `room` wide (estimated, with
/// [`text_width`]) and ending with `…` when wider; `None` when it fits.
pub fn truncate(name: &str, room: f64) -> Option<String> {
    let line = one_line(name);
    if text_width(&line) <= room {
        return None;
    }
    let mut cut = String::new();
    let mut used = char_width('…');
    for c in line.chars() {
        if used + char_width(c) > room {
            break;
        }
        used += char_width(c);
        cut.push(c);
    }
    let mut cut = cut.trim_end().to_owned();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::inventory::Bean;

    /// The label a row shows for `name`: on one line, cut to `room` wide.
    fn label(name: &str, room: f64) -> Cow<'_, str> {
        truncate(name, room).map_or_else(|| one_line(name), Cow::Owned)
    }

    fn bean(quantity: i64) -> Bean {
        Bean {
            id: 1,
            kind: "Arabica".into(),
            product_name: "Lot".into(),
            price: None,
            description: String::new(),
            quantity,
        }
    }

    fn supplier(name: &str, quantities: &[i64]) -> Supplier {
        Supplier {
            id: 1,
            name: name.into(),
            address: String::new(),
            city: String::new(),
            state: String::new(),
            email: String::new(),
            phone: String::new(),
            beans: quantities.iter().map(|&q| bean(q)).collect(),
        }
    }

    fn widths(chart: &Chart) -> Vec<Option<f64>> {
        chart
            .rows
            .iter()
            .map(|r| r.bar.as_ref().map(|w| w.parse().unwrap()))
            .collect()
    }

    #[test]
    fn bars_are_proportional_to_the_bags() {
        let chart = Chart::new(
            &[
                supplier("A", &[60, 40]),
                supplier("B", &[50]),
                supplier("C", &[25]),
                supplier("D", &[1, 2]),
            ],
            50,
        )
        .unwrap();
        assert_eq!(
            widths(&chart),
            [Some(320.0), Some(160.0), Some(80.0), Some(9.6)]
        );
        assert_eq!(chart.rows[1].bar.as_deref(), Some("160.0"));
        let figures: Vec<&str> = chart.rows.iter().map(|r| r.figure.as_str()).collect();
        assert_eq!(figures, ["100 bags", "50 bags", "25 bags", "3 bags"]);
        // Low: 40 (A), none (B: 50 is not under 50), 25 (C), 1 and 2 (D).
        let low: Vec<usize> = chart.rows.iter().map(|r| r.low).collect();
        assert_eq!(low, [1, 0, 1, 2]);
        assert_eq!(chart.rows[3].low_label, "● 2 low");
        let ys: Vec<usize> = chart.rows.iter().map(|r| r.y).collect();
        assert_eq!(ys, [2, 46, 90, 134]);
        assert_eq!(chart.height, 2 + 4 * 44);
    }

    #[test]
    fn no_suppliers_no_chart() {
        assert!(Chart::new(&[], 50).is_none());
    }

    #[test]
    fn zero_bags_draw_no_bar_and_never_divide_by_zero() {
        let chart = Chart::new(&[supplier("Empty", &[]), supplier("Zero", &[0, 0])], 50).unwrap();
        assert_eq!(widths(&chart), [None, None]);
        assert_eq!(chart.rows[0].figure, "0 bags");
        assert_eq!(chart.rows[1].figure, "0 bags");
        assert_eq!(chart.rows[1].low, 2);
        assert_eq!(chart.rows[0].low, 0);
        // Next to a supplier with bags, the empty one still has no bar.
        let chart = Chart::new(&[supplier("Empty", &[]), supplier("Full", &[7])], 50).unwrap();
        assert_eq!(widths(&chart), [None, Some(320.0)]);
    }

    #[test]
    fn totals_too_large_or_negative_have_no_bar_and_leave_the_others_proportional() {
        let chart = Chart::new(
            &[
                supplier("Overflow", &[i64::MAX, 1]),
                supplier("Big", &[200]),
                supplier("Small", &[50]),
                supplier("Broken", &[-30]),
                supplier("Max", &[i64::MAX]),
            ],
            50,
        )
        .unwrap();
        assert_eq!(chart.rows[0].figure, "too many bags to total");
        assert_eq!(chart.rows[0].bar, None);
        assert_eq!(chart.rows[3].figure, "-30 bags");
        assert_eq!(chart.rows[3].bar, None);
        assert_eq!(chart.rows[4].figure, "9,223,372,036,854,775,807 bags");
        assert_eq!(chart.rows[4].bar.as_deref(), Some("320.0"));
        // Next to i64::MAX, 200 bags is a sliver, but still drawn.
        assert_eq!(chart.rows[1].bar.as_deref(), Some("1.0"));

        let chart = Chart::new(
            &[
                supplier("Overflow", &[i64::MAX, 1]),
                supplier("Big", &[200]),
            ],
            50,
        )
        .unwrap();
        assert_eq!(widths(&chart), [None, Some(320.0)]);

        // Nothing adds up: no bars at all, every figure still shown.
        let chart = Chart::new(
            &[
                supplier("Overflow", &[i64::MAX, 1]),
                supplier("Negative", &[-5]),
            ],
            50,
        )
        .unwrap();
        assert_eq!(widths(&chart), [None, None]);
        assert!(
            chart
                .description
                .contains("Overflow: too many bags to total")
        );
        assert!(
            chart
                .description
                .contains("Negative: -5 bags, 1 bean low on stock")
        );
    }

    #[test]
    fn every_number_printed_is_finite() {
        let chart = Chart::new(
            &[
                supplier("A", &[i64::MAX]),
                supplier("B", &[1]),
                supplier("C", &[i64::MIN]),
                supplier("D", &[]),
            ],
            i64::MIN,
        )
        .unwrap();
        for row in &chart.rows {
            for number in row.bar.iter().chain([&row.figure_x]) {
                let n: f64 = number.parse().unwrap();
                assert!(n.is_finite() && (-f64::from(WIDTH)..=f64::from(WIDTH)).contains(&n));
            }
        }
    }

    #[test]
    fn a_figure_that_does_not_fit_after_its_bar_goes_inside() {
        let chart = Chart::new(&[supplier("A", &[1000]), supplier("B", &[10])], 50).unwrap();
        assert!(chart.rows[0].figure_inside);
        assert_eq!(chart.rows[0].figure_x, "315.0");
        assert!(!chart.rows[1].figure_inside);
        assert_eq!(chart.rows[1].figure_x, "8.2");
    }

    #[test]
    fn long_names_are_cut_on_a_character_with_an_ellipsis() {
        let room = f64::from(WIDTH);
        assert_eq!(label("Highland Bean Co.", room), "Highland Bean Co.");
        assert!(matches!(label("Highland Bean Co.", room), Cow::Borrowed(_)));
        assert_eq!(truncate("Highland Bean Co.", room), None);
        let long = "The Extraordinarily Long-Named Cooperative of Highland Growers";
        let cut = label(long, room);
        assert_eq!(cut, "The Extraordinarily Long-Named Cooper…");
        assert!(text_width(&cut) <= room);
        // No trailing space before the ellipsis.
        assert_eq!(label("Abcdefgh ijklmnop", 90.0), "Abcdefgh…");
        // Multi-byte characters are never split: é is two bytes, the cut is on a char boundary.
        let accents = "é".repeat(50);
        let cut = label(&accents, room);
        assert_eq!(cut, format!("{}…", "é".repeat(34)));
        // Wide characters take a whole font size: 22 of them and the ellipsis in 320.
        let wide = "珈琲".repeat(20);
        let cut = label(&wide, room);
        assert_eq!(cut.chars().count(), 23);
        assert!(cut.ends_with('…'));
        // A combining accent takes no room.
        let combining = "e\u{301}".repeat(40);
        let cut = label(&combining, 90.0);
        assert_eq!(cut, format!("{}…", "e\u{301}".repeat(9)));
        // New lines and runs of spaces become one space.
        assert_eq!(label(" Two\n  lines ", room), "Two lines");
        assert_eq!(label("", room), "");
        assert_eq!(label("abc", 0.0), "…");
    }

    #[test]
    fn a_name_is_cut_only_where_the_row_has_no_room_for_it() {
        // 33 characters: too wide beside a marker, whole on a row without one.
        let name = "Highland Growers Cooperative Ltd.";
        let chart = Chart::new(&[supplier(name, &[100]), supplier(name, &[1])], 50).unwrap();
        assert_eq!(chart.rows[0].label, name);
        assert_eq!(chart.rows[0].full_name, None);
        assert_eq!(chart.rows[0].label_room, "320.0");
        assert!(
            chart.rows[1].label.ends_with('…'),
            "{}",
            chart.rows[1].label
        );
        assert_eq!(chart.rows[1].full_name.as_deref(), Some(name));
        let room: f64 = chart.rows[1].label_room.parse().unwrap();
        assert!(room < 320.0 - 8.0 && room > 200.0, "{room}");
        assert!(text_width(&chart.rows[1].label) <= room);
        // A wider marker leaves less room.
        assert!(label_room(1_000, "● 1,000 low") < label_room(1, "● 1 low"));
    }

    #[test]
    fn a_cut_name_keeps_its_whole_name_for_the_tooltip() {
        let long = "N".repeat(200);
        let chart = Chart::new(&[supplier(&long, &[1]), supplier("Short", &[1])], 50).unwrap();
        assert_eq!(chart.rows[0].full_name.as_deref(), Some(long.as_str()));
        assert!(chart.rows[0].label.ends_with('…'));
        assert!(text_width(&chart.rows[0].label) <= label_room(1, "● 1 low"));
        assert_eq!(chart.rows[1].full_name, None);
        assert!(chart.description.contains(&long));
    }
}
