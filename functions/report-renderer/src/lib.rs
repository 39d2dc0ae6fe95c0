//! report-renderer: turns an inventory document into a self-contained HTML report and uploads it
//! to S3 at the key the state machine gives it.
//!
//! Failures carry names the state machine matches: `InvalidReportRequest` (bad input; retrying
//! will not help), `InventoryUnavailable` (the claim-checked inventory could not be read) and
//! `ReportUploadFailed` (S3 refused the report; both worth retrying).
//!
//! The page opens with what to reorder now (each bean under the low-stock threshold, with its
//! supplier's contact), then the totals, a chart of the bags in stock per supplier ([`chart`])
//! and every supplier's beans with their descriptions. Prices are per bag, in the
//! `REPORT_CURRENCY` with its minor unit, and counts have thousands separators
//! ([`mod@format`]); times are in the café's time zone (`CAFE_TIME_ZONE`).

pub mod chart;
pub mod format;

use askama::Template;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
pub use cafe_shared::cafe_time::CafeTimeZone;
use cafe_shared::error::aws_error_text;
use cafe_shared::inventory::{
    Bean, Inventory, InventoryPayload, REPORT_NAME, S3Location, Supplier, total_quantity,
};
use cafe_shared::metrics;
use chart::Chart;
pub use format::Currency;
use format::{count, thousands};
use lambda_runtime::LambdaEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tracing::info;

pub struct ReportRenderer {
    s3: aws_sdk_s3::Client,
    bucket: String,
    settings: ReportSettings,
}

/// What the café chooses about its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSettings {
    /// Beans with fewer bags than this are low on stock, and listed under "Reorder now".
    pub low_stock_threshold: i64,
    /// The currency the prices are in.
    pub currency: Currency,
    /// The zone every time is shown in.
    pub time_zone: CafeTimeZone,
}

impl Default for ReportSettings {
    /// The settings' defaults (cafe_shared::config): under 50 bags, US dollars, UTC.
    fn default() -> Self {
        Self {
            low_stock_threshold: 50,
            currency: Currency::USD,
            time_zone: CafeTimeZone::UTC,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderRequest {
    /// Where to put the report, e.g. `reports/<execution>.html`.
    pub report_key: String,
    pub inventory: InventoryPayload,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct RenderedReport {
    pub bucket: String,
    pub key: String,
    pub bytes: usize,
}

cafe_shared::named_errors! {
    pub enum RenderError {
        InvalidReportRequest final "the render request is not valid: {0}",
        InventoryUnavailable retryable "the stored inventory could not be read: {0}",
        ReportUploadFailed retryable "the report could not be uploaded: {0}",
    }
}

pub async fn handle(
    renderer: &ReportRenderer,
    event: LambdaEvent<RenderRequest>,
) -> Result<RenderedReport, RenderError> {
    let request = event.payload;
    check_key(&request.report_key)?;
    let inventory = match request.inventory {
        InventoryPayload::Inline(inventory) => inventory,
        InventoryPayload::Stored(location) => renderer.fetch(&location).await?,
    };
    let html = render(&inventory, &renderer.settings)
        .map_err(|e| RenderError::InvalidReportRequest(e.to_string()))?;
    let report = renderer.upload(&request.report_key, html).await?;
    metrics::count(metrics::REPORT_BYTES, report.bytes as u64);
    info!(
        key = report.key,
        bytes = report.bytes,
        suppliers = inventory.totals.suppliers,
        "report rendered"
    );
    Ok(report)
}

/// A key the report can be stored under: relative, no `..`, ending in `.html`.
pub fn check_key(key: &str) -> Result<(), RenderError> {
    let valid = key.ends_with(".html")
        && !key.starts_with('/')
        && !key.split('/').any(|part| part == ".." || part.is_empty())
        && key.len() <= 1024;
    if valid {
        Ok(())
    } else {
        Err(RenderError::InvalidReportRequest(format!(
            "{key:?} is not a report key such as reports/<execution>.html"
        )))
    }
}

impl ReportRenderer {
    /// A renderer that uploads reports to `bucket` with `s3` (which also reads claim-checked
    /// inventories from wherever they point), rendered with the café's `settings`.
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        settings: ReportSettings,
    ) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            settings,
        }
    }

    async fn fetch(&self, location: &S3Location) -> Result<Inventory, RenderError> {
        let unavailable = |e: String| {
            RenderError::InventoryUnavailable(format!("{}/{}: {e}", location.bucket, location.key))
        };
        let object = self
            .s3
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| unavailable(aws_error_text(&e)))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        serde_json::from_slice(&bytes.into_bytes()).map_err(|e| unavailable(e.to_string()))
    }

    async fn upload(&self, key: &str, html: String) -> Result<RenderedReport, RenderError> {
        let bytes = html.len();
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/html; charset=utf-8")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(html.into_bytes()))
            .send()
            .await
            .map_err(|e| RenderError::ReportUploadFailed(aws_error_text(&e)))?;
        Ok(RenderedReport {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            bytes,
        })
    }
}

/// The report page. Askama escapes every value it prints, so supplier and bean names are text,
/// never markup.
#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    name: &'static str,
    inventory: &'a Inventory,
    low_stock_threshold: i64,
    generated: String,
    /// Every bean under the threshold, fewest bags first.
    reorder: Vec<Reorder<'a>>,
    currency: Currency,
    /// `None` when there are no suppliers.
    chart: Option<Chart>,
}

/// A bean to reorder, with the supplier to reorder it from.
struct Reorder<'a> {
    bean: &'a Bean,
    supplier: &'a Supplier,
}

impl ReportPage<'_> {
    fn is_low(&self, bean: &Bean) -> bool {
        bean.quantity < self.low_stock_threshold
    }

    /// `1,420 bags` across the supplier's beans. Added with a check: quantities come from the
    /// data, and an overflow would panic (debug builds) or wrap around (release).
    fn supplier_bags(&self, supplier: &Supplier) -> String {
        match total_quantity(&supplier.beans) {
            Some(bags) => format!("{} bags", thousands(bags)),
            None => "too many bags to total".to_owned(),
        }
    }

    fn total_quantity(&self) -> String {
        let quantity = self.inventory.totals.quantity;
        quantity.map_or_else(|| TOO_LARGE.to_owned(), thousands)
    }

    /// A quantity or the threshold in bags, with thousands separators: `12,345 bags`, `1 bag`.
    fn bags(&self, quantity: &i64) -> String {
        match quantity {
            1 => "1 bag".to_owned(),
            n => format!("{} bags", thousands(*n)),
        }
    }

    /// A count of suppliers or beans, with thousands separators (askama hands a field by
    /// reference, a method's result by value).
    fn count(&self, n: impl std::borrow::Borrow<usize>) -> String {
        count(*n.borrow())
    }

    /// `$1,234.50` (in the report's currency), or an em dash for a price the database did not
    /// have as a number (or had beyond the largest amount carried, 10^28).
    fn money(&self, price: &Option<Decimal>) -> String {
        price.map_or_else(|| "—".to_owned(), |p| self.currency.money(p))
    }

    fn stock_value(&self) -> String {
        match self.inventory.totals.stock_value {
            Some(value) => self.currency.money(value),
            None => TOO_LARGE.to_owned(),
        }
    }

    /// Whether this bean's price × quantity is too large to add to the stock value; the report
    /// says so on the bean, so the row to fix is easy to find.
    fn value_too_large(&self, bean: &Bean) -> bool {
        bean.stock_value().is_none()
    }
}

/// What the report shows for a total that does not fit: one bean's absurd price or quantity
/// leaves the rest of the report readable.
const TOO_LARGE: &str = "too large to total";

/// Every bean with fewer bags than `threshold`, with its supplier: fewest bags first, then by
/// supplier and bean name, so the most urgent order is at the top.
fn reorder_list(inventory: &Inventory, threshold: i64) -> Vec<Reorder<'_>> {
    let mut list: Vec<Reorder<'_>> = inventory
        .suppliers
        .iter()
        .flat_map(|supplier| {
            supplier
                .beans
                .iter()
                .map(move |bean| Reorder { bean, supplier })
        })
        .filter(|line| line.bean.quantity < threshold)
        .collect();
    list.sort_by(|a, b| {
        (a.bean.quantity, &a.supplier.name, &a.bean.product_name).cmp(&(
            b.bean.quantity,
            &b.supplier.name,
            &b.bean.product_name,
        ))
    });
    list
}

/// Renders the complete HTML page.
pub fn render(inventory: &Inventory, settings: &ReportSettings) -> Result<String, askama::Error> {
    let threshold = settings.low_stock_threshold;
    ReportPage {
        name: REPORT_NAME,
        inventory,
        low_stock_threshold: threshold,
        generated: settings
            .time_zone
            .format(inventory.generated_at, "%A %-d %B %Y, %H:%M %Z"),
        reorder: reorder_list(inventory, threshold),
        currency: settings.currency,
        chart: Chart::new(&inventory.suppliers, threshold),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use chrono::{TimeZone, Utc};
    use lambda_runtime::Context;
    use lambda_runtime::Diagnostic;

    /// The default settings with beans under `threshold` bags low on stock.
    fn under(threshold: i64) -> ReportSettings {
        ReportSettings {
            low_stock_threshold: threshold,
            ..ReportSettings::default()
        }
    }

    /// The default settings in `currency`.
    fn in_currency(currency: Currency) -> ReportSettings {
        ReportSettings {
            currency,
            ..ReportSettings::default()
        }
    }

    fn bean(id: i64, kind: &str, name: &str, price: Option<&str>, quantity: i64) -> Bean {
        Bean {
            id,
            kind: kind.into(),
            product_name: name.into(),
            price: price.map(|p| p.parse().unwrap()),
            description: String::new(),
            quantity,
        }
    }

    fn supplier(id: i64, name: &str, beans: Vec<Bean>) -> Supplier {
        Supplier {
            id,
            name: name.into(),
            address: "12 Ridge Road".into(),
            city: "Asheville".into(),
            state: "NC".into(),
            email: "orders@example.com".into(),
            phone: "+1 828 555 0101".into(),
            beans,
        }
    }

    fn small_inventory() -> Inventory {
        let generated = Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 0).unwrap();
        Inventory::new(
            generated,
            vec![
                supplier(
                    1,
                    "Highland Bean Co.",
                    vec![
                        bean(1, "Arabica", "Ridge Morning Blend", Some("18.00"), 420),
                        bean(2, "Robusta", "Ridge Dark Espresso", Some("14.5"), 12),
                    ],
                ),
                supplier(
                    2,
                    "<script>alert(1)</script>",
                    vec![bean(3, "Liberica", "\"Smoky\" & <b>bold</b>", None, 60)],
                ),
                supplier(3, "Tiny Batch Roasters", vec![]),
            ],
        )
    }

    #[test]
    fn the_report_shows_every_supplier_bean_and_total() {
        let html = render(&small_inventory(), &under(50)).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(
            "<title>Café inventory report · Saturday 21 November 2026, 09:30 UTC</title>"
        ));
        for text in [
            "Highland Bean Co.",
            "Ridge Morning Blend",
            "Arabica",
            "18.00",
            "420 bags",
            "Ridge Dark Espresso",
            "14.50",
            "Tiny Batch Roasters",
            "+1 828 555 0101",
        ] {
            assert!(html.contains(text), "missing {text}");
        }
        // Totals: 3 suppliers, 3 beans, 492 bags, value 18×420 + 14.5×12 = 7734.00.
        assert!(html.contains("<b>3</b><span>suppliers</span>"));
        assert!(html.contains("<b>492</b><span>bags in stock</span>"));
        assert!(html.contains("<b>$7,734.00</b><span>stock value</span>"));
        assert!(html.contains("<b>1</b><span>low on stock (under 50 bags)</span>"));
        assert_eq!(
            html.matches("class=\"bean low\"").count(),
            1,
            "only the 12-bag bean is low"
        );
    }

    /// The page's "Reorder now" section.
    fn reorder_section(html: &str) -> &str {
        let start = html
            .find("<section class=\"reorder\"")
            .expect("a reorder section");
        let end = html[start..].find("</section>").unwrap() + start;
        &html[start..end]
    }

    #[test]
    fn the_report_opens_with_what_to_reorder_fewest_bags_first() {
        let mut inventory = small_inventory();
        inventory.suppliers[2]
            .beans
            .push(bean(4, "Arabica", "Tiny Lot", Some("9"), 3));
        inventory.suppliers[2].phone = String::new();
        inventory.suppliers[2].email = String::new();
        let html = render(&inventory, &under(50)).unwrap();
        // First in <main>, before the totals and the chart.
        let main = &html[html.find("<main>").unwrap()..];
        assert!(
            main[6..]
                .trim_start()
                .starts_with("<section class=\"reorder\" id=\"reorder\"")
        );
        let section = reorder_section(&html);
        assert!(section.contains("<h2 id=\"reorder-title\">Reorder now</h2>"));
        assert!(section.contains("2 beans are under the low-stock threshold of 50 bags"));
        // Fewest bags first: Tiny Lot (3) before Ridge Dark Espresso (12); Liberica's 60 is not low.
        let tiny = section.find("Tiny Lot").unwrap();
        let ridge = section.find("Ridge Dark Espresso").unwrap();
        assert!(tiny < ridge);
        assert!(!section.contains("Smoky"));
        // Each line: its supplier (linked to the supplier's card), contact, on hand, threshold.
        assert!(section.contains("<a href=\"#supplier-1\">Highland Bean Co.</a>"));
        assert!(section.contains("<a href=\"tel:+1 828 555 0101\">+1 828 555 0101</a>"));
        assert!(section.contains("<a href=\"mailto:orders@example.com\">orders@example.com</a>"));
        assert!(section.contains("class=\"number on-hand\"><div>12 bags</div></td>"));
        assert!(section.contains("class=\"number on-hand\"><div>3 bags</div></td>"));
        assert_eq!(section.matches(">50 bags</div></td>").count(), 2);
        // A supplier without contact details says so.
        assert!(section.contains("no contact on file"));
        // The tile counts them and leads there.
        assert!(html.contains(
            "<li class=\"alert\"><a href=\"#reorder\"><b>2</b><span>low on stock (under 50 bags)</span></a></li>"
        ));
    }

    #[test]
    fn nothing_to_reorder_is_said_plainly() {
        let html = render(&small_inventory(), &under(0)).unwrap();
        let section = reorder_section(&html);
        assert!(section.contains("Nothing to reorder: every bean has at least 0 bags in stock."));
        assert!(!section.contains("<table"));
        assert!(html.contains("<li class=\"\"><a href=\"#reorder\"><b>0</b>"));
    }

    #[test]
    fn one_bag_is_a_bag() {
        let inventory = inventory_with(vec![bean(10, "Arabica", "Last One", Some("5"), 1)]);
        let html = render(&inventory, &under(50)).unwrap();
        assert!(html.contains("class=\"number on-hand\"><div>1 bag</div></td>"));
        assert!(html.contains("<span class=\"quantity\">1 bag<span class=\"badge\">low</span>"));
    }

    #[test]
    fn beans_show_their_description_and_prices_are_per_bag() {
        let mut inventory = small_inventory();
        inventory.suppliers[0].beans[0].description =
            "Bright & fruity, <em>washed</em> at 1,800 m".into();
        let html = render(&inventory, &under(50)).unwrap();
        assert!(html.contains(
            "<p class=\"description\">Bright &#38; fruity, &#60;em&#62;washed&#60;/em&#62; at 1,800 m</p>"
        ));
        // Only the bean that has one.
        assert_eq!(html.matches("class=\"description\"").count(), 1);
        assert!(
            html.contains(
                "<span class=\"price\">$18.00</span> <span class=\"unit\">per bag</span>"
            )
        );
        // No unit beside a price the database did not have.
        assert!(html.contains("<span><span class=\"price\">—</span></span>"));
    }

    #[test]
    fn the_report_has_one_name_and_the_cafes_time() {
        let settings = ReportSettings {
            time_zone: "America/New_York".parse().unwrap(),
            ..under(50)
        };
        let html = render(&small_inventory(), &settings).unwrap();
        // 09:30 UTC is 04:30 in New York in November.
        let generated = "Saturday 21 November 2026, 04:30 EST";
        assert!(html.contains(&format!(
            "<title>Café inventory report · {generated}</title>"
        )));
        assert!(html.contains("<h1>Café inventory report</h1>"));
        assert!(html.contains(&format!("<p>Generated {generated}</p>")));
        assert!(html.contains(&format!(
            "<footer>Café inventory report · 3 beans from 3 suppliers · generated {generated}</footer>"
        )));
        assert!(!html.contains("UTC"));
        assert_eq!(REPORT_NAME, "Café inventory report");
        for other in [
            "Bean quantity report",
            "Café inventory ·",
            "café inventory report",
        ] {
            assert!(!html.contains(other), "{other}");
        }
    }

    #[test]
    fn the_page_has_a_print_stylesheet() {
        let html = render(&small_inventory(), &under(50)).unwrap();
        let print = &html[html.find("@media print {").expect("a print stylesheet")..];
        let print = &print[..print.find("\n  }\n").unwrap()];
        for rule in ["@page", "break-inside: avoid", "print-color-adjust: exact"] {
            assert!(print.contains(rule), "{rule}");
        }
    }

    #[test]
    fn amounts_follow_the_currencys_minor_unit_on_the_page() {
        let yen: Currency = "JPY".parse().unwrap();
        let html = render(&small_inventory(), &in_currency(yen)).unwrap();
        assert!(html.contains("<span class=\"price\">18\u{a0}JPY</span>"));
        // 14.5 rounds half to even: 14 yen. The stock value 7,734 has no decimals either.
        assert!(html.contains("<span class=\"price\">14\u{a0}JPY</span>"));
        assert!(html.contains("<b>7,734\u{a0}JPY</b><span>stock value</span>"));
        let dinar: Currency = "KWD".parse().unwrap();
        let html = render(&small_inventory(), &in_currency(dinar)).unwrap();
        assert!(html.contains("<span class=\"price\">14.500\u{a0}KWD</span>"));
    }

    #[test]
    fn names_are_shown_as_text_never_as_markup() {
        let html = render(&small_inventory(), &under(50)).unwrap();
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("<h2>&#60;script&#62;alert(1)&#60;/script&#62;</h2>"));
        assert!(html.contains("&#34;Smoky&#34; &#38; &#60;b&#62;bold&#60;/b&#62;"));
        assert!(!html.contains("<b>bold</b>"));
        // A price the database did not have as a number.
        assert!(html.contains("<span class=\"price\">—</span>"));
        assert!(
            !html.contains("<link") && !html.contains("src="),
            "self-contained: no external assets"
        );
    }

    #[test]
    fn empty_states_are_explained() {
        let html = render(&small_inventory(), &under(50)).unwrap();
        assert!(html.contains("No beans listed for this supplier."));
        let empty = Inventory::new(Utc::now(), vec![]);
        let html = render(&empty, &under(50)).unwrap();
        assert!(html.contains("There are no suppliers in the database."));
    }

    #[test]
    fn the_threshold_decides_what_is_low() {
        let html = render(&small_inventory(), &under(500)).unwrap();
        assert_eq!(html.matches("class=\"bean low\"").count(), 3);
        let html = render(&small_inventory(), &under(0)).unwrap();
        assert_eq!(html.matches("class=\"bean low\"").count(), 0);
    }

    #[test]
    fn ten_thousand_beans_render_completely() {
        let suppliers = (0..100)
            .map(|s| {
                let beans = (0..100)
                    .map(|b| {
                        bean(
                            s * 100 + b,
                            "Arabica",
                            &format!("Lot {s}-{b}"),
                            Some("9.99"),
                            b,
                        )
                    })
                    .collect();
                supplier(s, &format!("Supplier {s}"), beans)
            })
            .collect();
        let inventory = Inventory::new(Utc::now(), suppliers);
        let html = render(&inventory, &under(50)).unwrap();
        assert_eq!(html.matches("<li class=\"bean").count(), 10_000);
        assert_eq!(html.matches("class=\"bean low\"").count(), 100 * 50);
        assert!(html.contains("Lot 99-99"));
    }

    /// The small inventory with one more supplier holding `beans`.
    fn inventory_with(beans: Vec<Bean>) -> Inventory {
        let mut suppliers = small_inventory().suppliers;
        suppliers.push(supplier(4, "Typo Traders", beans));
        Inventory::new(Utc::now(), suppliers)
    }

    #[test]
    fn the_largest_decimal_price_renders_and_its_value_is_too_large_to_total() {
        let mut huge = bean(10, "Arabica", "Typo Lot", None, 420);
        huge.price = Some(Decimal::MAX);
        let inventory = inventory_with(vec![huge, bean(11, "Robusta", "Fine Lot", Some("2"), 8)]);
        let html = render(&inventory, &under(50)).unwrap();
        assert!(html.contains("<b>too large to total</b><span>stock value</span>"));
        // The price is shown as it is, and the bean says why the total is missing.
        assert!(
            html.contains(
                "<span class=\"price\">$79,228,162,514,264,337,593,543,950,335.00</span>"
            )
        );
        assert_eq!(
            html.matches("price × quantity too large to total").count(),
            1
        );
        // The other totals stay: 492 + 420 + 8 bags.
        assert!(html.contains("<b>920</b><span>bags in stock</span>"));
        assert!(html.contains("<b>5</b><span>beans</span>"));
    }

    #[test]
    fn quantities_that_overflow_are_too_large_to_total() {
        let inventory = inventory_with(vec![
            bean(10, "Arabica", "Big Lot", None, i64::MAX),
            bean(11, "Arabica", "One More", None, 1),
        ]);
        let html = render(&inventory, &under(50)).unwrap();
        assert!(html.contains("<b>too large to total</b><span>bags in stock</span>"));
        assert!(html.contains("aria-label=\"2 beans, too many bags to total\""));
        assert!(html.contains("<span class=\"quantity\">9,223,372,036,854,775,807 bags</span>"));
        // No price, no value to add: the stock value is still the small inventory's.
        assert!(html.contains("<b>$7,734.00</b><span>stock value</span>"));
    }

    #[tokio::test]
    async fn totals_sent_as_null_are_rendered_and_uploaded() {
        let upload = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| PutObjectOutput::builder().build());
        let renderer = mocked_renderer(&upload);
        let request: RenderRequest = serde_json::from_value(serde_json::json!({
            "reportKey": "reports/exec-1.html",
            "inventory": {"inline": {
                "generatedAt": "2026-11-21T09:30:00Z",
                "suppliers": [],
                "totals": {"suppliers": 0, "beans": 0, "quantity": null, "stockValue": null}
            }}
        }))
        .unwrap();
        handle(&renderer, LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        assert_eq!(upload.num_calls(), 1);
    }

    #[test]
    fn only_plain_report_keys_are_accepted() {
        assert!(check_key("reports/exec-1.html").is_ok());
        for bad in [
            "",
            "/reports/x.html",
            "reports/../x.html",
            "reports//x.html",
            "reports/x.txt",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    fn mocked_renderer(upload: &Rule) -> ReportRenderer {
        mocked_renderer_in(upload, Currency::USD)
    }

    fn mocked_renderer_in(upload: &Rule, currency: Currency) -> ReportRenderer {
        ReportRenderer::new(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [upload]),
            "cafe-reports",
            in_currency(currency),
        )
    }

    #[tokio::test]
    async fn the_report_is_uploaded_as_encrypted_html_at_the_given_key() {
        let upload = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|put| {
                put.bucket() == Some("cafe-reports")
                    && put.key() == Some("reports/exec-1.html")
                    && put.content_type() == Some("text/html; charset=utf-8")
                    && put.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
                    && put.acl().is_none()
            })
            .then_output(|| PutObjectOutput::builder().build());
        let renderer = mocked_renderer(&upload);
        let request = RenderRequest {
            report_key: "reports/exec-1.html".into(),
            inventory: InventoryPayload::Inline(small_inventory()),
        };
        let (report, counts) = cafe_tests::metrics::counted(handle(
            &renderer,
            LambdaEvent::new(request, Context::default()),
        ))
        .await;
        let report = report.unwrap();
        assert_eq!(upload.num_calls(), 1);
        assert_eq!(report.key, "reports/exec-1.html");
        assert!(report.bytes > 1000);
        let bytes = report.bytes as u64;
        assert_eq!(counts, [(metrics::REPORT_BYTES.to_owned(), bytes)].into());
    }

    #[tokio::test]
    async fn a_bad_key_is_refused_by_name_before_any_upload() {
        let upload = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| PutObjectOutput::builder().build());
        let renderer = mocked_renderer(&upload);
        let request = RenderRequest {
            report_key: "../escape.html".into(),
            inventory: InventoryPayload::Inline(small_inventory()),
        };
        let error = handle(&renderer, LambdaEvent::new(request, Context::default()))
            .await
            .unwrap_err();
        assert_eq!(Diagnostic::from(error).error_type, "InvalidReportRequest");
        assert_eq!(upload.num_calls(), 0);
    }

    /// The chart: the page's `<svg>…</svg>`.
    fn svg(html: &str) -> &str {
        let start = html.find("<svg").expect("a chart");
        // The last end tag: each label is drawn in an <svg> box of its own inside the chart.
        let end = html.rfind("</svg>").expect("the chart's end");
        &html[start..end + "</svg>".len()]
    }

    /// Every `name="…"` attribute value in `text`.
    fn attributes<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let prefix = format!(" {name}=\"");
        text.split(prefix.as_str())
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect()
    }

    #[test]
    fn the_chart_has_a_bar_per_supplier_as_long_as_its_bags() {
        let html = render(&small_inventory(), &under(50)).unwrap();
        let svg = svg(&html);
        assert_eq!(html.matches("<svg role=\"img\"").count(), 1);
        // Accessible: an image with a title and a description in words.
        assert!(svg.starts_with(
            "<svg role=\"img\" aria-labelledby=\"chart-title\" aria-describedby=\"chart-desc\" \
             width=\"100%\" viewBox=\"0 0 320 134\""
        ));
        assert!(svg.contains(
            "<title id=\"chart-title\">Bar chart: bags in stock per supplier, with the number of \
             beans low on stock</title>"
        ));
        assert!(svg.contains(
            "<desc id=\"chart-desc\">Bags in stock for each of the 3 suppliers, as horizontal \
             bars; Highland Bean Co.: 432 bags, 1 bean low on stock; \
             &#60;script&#62;alert(1)&#60;/script&#62;: 60 bags; Tiny Batch Roasters: 0 bags. \
             Low on stock means under 50 bags.</desc>"
        ));
        // One row per supplier; Highland's 432 bags fill the width, 60 is 60/432 of it (44.44…),
        // and no bags draw no bar (only the empty track).
        assert_eq!(svg.matches("<g transform=").count(), 3);
        let bars: Vec<&str> = svg
            .split("<rect class=\"bar\"")
            .skip(1)
            .map(|rest| attributes(rest, "width")[0])
            .collect();
        assert_eq!(bars, ["320.0", "44.4"]);
        assert_eq!(svg.matches("<rect class=\"track\"").count(), 3);
        for figure in ["432 bags", "60 bags", "0 bags"] {
            assert!(svg.contains(&format!("\">{figure}</text>")), "{figure}");
        }
        // The 12-bag bean is Highland's: one marker, in the low-stock colour.
        assert_eq!(svg.matches("class=\"low-mark\"").count(), 1);
        assert!(svg.contains(">● 1 low</text>"));
        assert!(html.contains("beans low on stock (under 50 bags)</p>"));
        // Self-contained: no script, no external anything, no fixed pixel size.
        assert!(!svg.contains("<script") && !svg.contains("href") && !svg.contains("http"));
        assert!(!svg.contains("<image") && !svg.contains("<use") && !svg.contains("<foreign"));
        // No url() at all; each label is drawn in a box of its own, which clips it: the whole
        // width on a row without a marker, less beside Highland's marker.
        assert!(!svg.contains("url("));
        let boxes: Vec<f64> = svg
            .split("<svg class=\"label\"")
            .skip(1)
            .map(|rest| attributes(rest, "width")[0].parse().unwrap())
            .collect();
        assert_eq!(boxes.len(), 3);
        assert!(boxes[0] < 320.0 - 8.0, "Highland has a marker: {boxes:?}");
        assert_eq!(&boxes[1..], [320.0, 320.0]);
        let tag = &svg[..svg.find('>').unwrap()];
        assert!(!tag.contains("height="), "{tag}");
        assert_eq!(attributes(tag, "width"), ["100%"]);
    }

    #[test]
    fn every_chart_number_is_a_plain_finite_number() {
        let inventory = inventory_with(vec![
            bean(10, "Arabica", "Big Lot", None, i64::MAX),
            bean(11, "Arabica", "One More", None, 1),
        ]);
        let html = render(&inventory, &under(50)).unwrap();
        let svg = svg(&html);
        for name in ["width", "height", "x", "y"] {
            for value in attributes(svg, name) {
                if value == "100%" {
                    continue;
                }
                let n: f64 = value.parse().unwrap_or_else(|_| panic!("{name}={value:?}"));
                assert!(n.is_finite() && n >= 0.0, "{name}={value:?}");
                // At most one decimal.
                assert!(
                    value.split('.').nth(1).is_none_or(|d| d.len() == 1),
                    "{value}"
                );
            }
        }
        // The overflowing supplier says so and has no bar; the others keep theirs.
        assert!(svg.contains(">too many bags to total</text>"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
        assert_eq!(svg.matches("<g transform=").count(), 4);
    }

    #[test]
    fn no_suppliers_no_chart() {
        let empty = Inventory::new(Utc::now(), vec![]);
        let html = render(&empty, &under(50)).unwrap();
        assert!(!html.contains("<svg"));
        assert!(html.contains("There are no suppliers in the database."));
    }

    #[test]
    fn suppliers_without_bags_have_a_chart_without_bars() {
        let inventory = Inventory::new(
            Utc::now(),
            vec![
                supplier(1, "Empty Shelves", vec![]),
                supplier(
                    2,
                    "Sold Out",
                    vec![bean(1, "Arabica", "Gone", Some("3"), 0)],
                ),
            ],
        );
        let html = render(&inventory, &under(50)).unwrap();
        let svg = svg(&html);
        assert_eq!(svg.matches("<g transform=").count(), 2);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 0);
        assert_eq!(svg.matches(">0 bags</text>").count(), 2);
        assert!(html.contains("<b>$0.00</b><span>stock value</span>"));
    }

    #[test]
    fn totals_sent_as_null_still_chart_the_suppliers() {
        let inventory: Inventory = serde_json::from_value(serde_json::json!({
            "generatedAt": "2026-11-21T09:30:00Z",
            "suppliers": [{
                "id": 1, "name": "Highland Bean Co.", "address": "", "city": "", "state": "",
                "email": "", "phone": "",
                "beans": [{"id": 1, "type": "Arabica", "productName": "Ridge", "price": 18.0,
                           "description": "", "quantity": 1234}]
            }],
            "totals": {"suppliers": 1, "beans": 1, "quantity": null, "stockValue": null}
        }))
        .unwrap();
        let html = render(&inventory, &under(50)).unwrap();
        assert!(html.contains("<b>too large to total</b><span>bags in stock</span>"));
        assert!(html.contains("<b>too large to total</b><span>stock value</span>"));
        let svg = svg(&html);
        assert!(svg.contains(">1,234 bags</text>"));
        assert_eq!(
            attributes(svg.split("<rect class=\"bar\"").nth(1).unwrap(), "width")[0],
            "320.0"
        );
    }

    #[test]
    fn hostile_names_are_text_inside_the_chart_too() {
        let long = format!("{}<script>alert(2)</script>", "Ö".repeat(40));
        let inventory = Inventory::new(
            Utc::now(),
            vec![
                supplier(
                    1,
                    "<script>alert(1)</script>",
                    vec![bean(1, "A", "x", None, 5)],
                ),
                supplier(
                    2,
                    "Smith & \"Sons\" 'Roasters'",
                    vec![bean(2, "A", "y", None, 9)],
                ),
                supplier(3, &long, vec![bean(3, "A", "z", None, 70)]),
                supplier(
                    4,
                    "</text></svg><img src=x onerror=alert(3)>",
                    vec![bean(4, "A", "w", None, 1)],
                ),
            ],
        );
        let html = render(&inventory, &under(50)).unwrap();
        let svg = svg(&html);
        assert!(!html.contains("<script"), "no script anywhere");
        assert!(!html.contains("<img"));
        assert!(svg.contains(">&#60;script&#62;alert(1)&#60;/script&#62;</text>"));
        assert!(svg.contains(">Smith &#38; &#34;Sons&#34; &#39;Roasters&#39;</text>"));
        // Cut before it is escaped, so never inside an entity; whole in the tooltip.
        let escaped = |text: &str| {
            text.replace('&', "&#38;")
                .replace('<', "&#60;")
                .replace('>', "&#62;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;")
        };
        let markup = "</text></svg><img src=x onerror=alert(3)>";
        let cut = chart::truncate(markup, chart::label_room(1, "● 1 low")).expect("cut");
        assert!(
            cut.starts_with("</text></svg><img src=x") && cut.ends_with('…'),
            "{cut}"
        );
        assert!(svg.contains(&format!(
            ">{}<title>{}</title></text>",
            escaped(&cut),
            escaped(markup)
        )));
        // The long name is cut on a character, and whole (escaped) in its tooltip.
        let long_cut = chart::truncate(&long, f64::from(chart::WIDTH)).expect("cut");
        assert!(long_cut.starts_with(&"Ö".repeat(30)) && long_cut.ends_with('…'));
        assert!(svg.contains(&format!(
            ">{long_cut}<title>{}&#60;script&#62;alert(2)&#60;/script&#62;</title></text>",
            "Ö".repeat(40)
        )));
        assert!(svg.contains(&format!(
            "{}&#60;script&#62;alert(2)&#60;/script&#62;: 70 bags",
            "Ö".repeat(40)
        )));
        // The escaped names did not break the chart: four rows, the chart's svg and a box per
        // label, every one closed.
        assert_eq!(svg.matches("<g transform=").count(), 4);
        assert_eq!(html.matches("<svg").count(), 5);
        assert_eq!(html.matches("</svg>").count(), 5);
    }

    #[test]
    fn a_hundred_suppliers_are_a_hundred_bars() {
        let suppliers = (0..100)
            .map(|s| {
                supplier(
                    s,
                    &format!("Supplier {s}"),
                    vec![bean(s, "A", "Lot", None, s * 10)],
                )
            })
            .collect();
        let html = render(&Inventory::new(Utc::now(), suppliers), &under(50)).unwrap();
        let svg = svg(&html);
        assert_eq!(svg.matches("<g transform=").count(), 100);
        // Supplier 0 has no bags: 99 bars, the longest 990 bags, the shortest 10.
        let bars: Vec<f64> = svg
            .split("<rect class=\"bar\"")
            .skip(1)
            .map(|rest| attributes(rest, "width")[0].parse().unwrap())
            .collect();
        assert_eq!(bars.len(), 99);
        assert_eq!(bars[0], 3.2);
        assert_eq!(bars[98], 320.0);
        assert!(bars.windows(2).all(|w| w[0] < w[1]));
        // Under 50 bags: suppliers 0 to 4.
        assert_eq!(svg.matches(">● 1 low</text>").count(), 5);
    }

    #[test]
    fn counts_and_prices_have_thousands_separators() {
        let inventory = Inventory::new(
            Utc::now(),
            vec![supplier(
                1,
                "Bulk Beans",
                vec![
                    bean(1, "Arabica", "Sack", Some("1234.5"), 12_345),
                    bean(2, "Robusta", "Crate", Some("999"), 1_000),
                ],
            )],
        );
        let html = render(&inventory, &under(2_000)).unwrap();
        assert!(html.contains("<span class=\"price\">$1,234.50</span>"));
        assert!(html.contains("<span class=\"price\">$999.00</span>"));
        assert!(html.contains("<span class=\"quantity\">12,345 bags</span>"));
        assert!(html.contains(
            "<span class=\"quantity\">1,000 bags<span class=\"badge\">low</span></span>"
        ));
        assert!(html.contains("<b>13,345</b><span>bags in stock</span>"));
        // 1234.5 × 12345 + 999 × 1000 = 15,239,902.50 + 999,000.
        assert!(html.contains("<b>$16,238,902.50</b><span>stock value</span>"));
        assert!(html.contains("<b>1</b><span>low on stock (under 2,000 bags)</span>"));
        assert!(html.contains("aria-label=\"2 beans, 13,345 bags\""));
        assert!(html.contains(">13,345 bags</text>"));
    }

    #[test]
    fn prices_are_in_the_reports_currency() {
        let euro: Currency = "EUR".parse().unwrap();
        let html = render(&small_inventory(), &in_currency(euro)).unwrap();
        assert!(html.contains("<b>€7,734.00</b><span>stock value</span>"));
        assert!(html.contains("<span class=\"price\">€18.00</span>"));
        assert!(html.contains("<span class=\"price\">€14.50</span>"));
        assert!(html.contains("<span class=\"price\">—</span>"));
        assert!(!html.contains('$'));
        let franc: Currency = "CHF".parse().unwrap();
        let html = render(&small_inventory(), &in_currency(franc)).unwrap();
        assert!(html.contains("<b>7,734.00\u{a0}CHF</b><span>stock value</span>"));
        assert!(html.contains("<span class=\"price\">18.00\u{a0}CHF</span>"));
        // The default, and what `render` uses: dollars.
        assert_eq!(
            render(&small_inventory(), &under(50)).unwrap(),
            render(&small_inventory(), &in_currency(Currency::USD)).unwrap()
        );
    }

    #[test]
    fn a_currency_that_is_not_three_capital_letters_is_refused_by_name() {
        use cafe_shared::config::REPORT_CURRENCY;
        let unset: Currency = REPORT_CURRENCY.parse_from(|_| None).unwrap();
        assert_eq!(unset, Currency::USD);
        let set = |value: &'static str| {
            move |name: &str| (name == "REPORT_CURRENCY").then(|| value.to_owned())
        };
        let pound: Currency = REPORT_CURRENCY.parse_from(set("GBP")).unwrap();
        assert_eq!(pound.to_string(), "GBP");
        for bad in ["usd", "US", "EURO", "€", "US1"] {
            let error = REPORT_CURRENCY
                .parse_from::<Currency>(set(bad))
                .unwrap_err();
            assert_eq!(
                error,
                format!(
                    "REPORT_CURRENCY={bad:?} is not valid: a currency is an ISO 4217 code, three \
                     capital letters such as USD, EUR or GBP"
                )
            );
        }
    }

    #[tokio::test]
    async fn the_renderer_uses_its_currency() {
        let upload = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|put| {
                let html = put
                    .body()
                    .bytes()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                html.contains("<b>£7,734.00</b><span>stock value</span>")
            })
            .then_output(|| PutObjectOutput::builder().build());
        let renderer = mocked_renderer_in(&upload, "GBP".parse().unwrap());
        let request = RenderRequest {
            report_key: "reports/exec-1.html".into(),
            inventory: InventoryPayload::Inline(small_inventory()),
        };
        handle(&renderer, LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        assert_eq!(upload.num_calls(), 1);
    }
}
