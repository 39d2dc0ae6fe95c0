//! report-renderer: turns an inventory document into a self-contained HTML report and uploads it
//! to S3 at the key the state machine gives it.
//!
//! Failures carry names the state machine matches: `InvalidReportRequest` (bad input; retrying
//! will not help), `InventoryUnavailable` (the claim-checked inventory could not be read) and
//! `ReportUploadFailed` (S3 refused the report; both worth retrying).

use askama::Template;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use cafe_shared::NamedError;
use cafe_shared::error::aws_error_text;
use cafe_shared::inventory::{
    Bean, Inventory, InventoryPayload, S3Location, Supplier, total_quantity,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::info;

pub struct ReportRenderer {
    s3: aws_sdk_s3::Client,
    bucket: String,
    low_stock_threshold: i64,
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

#[derive(Debug, Error)]
pub enum RenderError {
    #[error("the render request is not valid: {0}")]
    InvalidReportRequest(String),
    #[error("the stored inventory could not be read: {0}")]
    InventoryUnavailable(String),
    #[error("the report could not be uploaded: {0}")]
    ReportUploadFailed(String),
}

impl RenderError {
    /// One error of every kind, details empty: what the state machine's Retry rules are checked
    /// against (`tests/tests/state_machine.rs`).
    pub fn every_kind() -> Vec<Self> {
        let every = vec![
            Self::InvalidReportRequest(String::new()),
            Self::InventoryUnavailable(String::new()),
            Self::ReportUploadFailed(String::new()),
        ];
        // A new kind does not compile until it is named here, next to the list above.
        for error in &every {
            match error {
                Self::InvalidReportRequest(_)
                | Self::InventoryUnavailable(_)
                | Self::ReportUploadFailed(_) => {}
            }
        }
        every
    }
}

impl NamedError for RenderError {
    fn name(&self) -> &'static str {
        match self {
            Self::InvalidReportRequest(_) => "InvalidReportRequest",
            Self::InventoryUnavailable(_) => "InventoryUnavailable",
            Self::ReportUploadFailed(_) => "ReportUploadFailed",
        }
    }

    fn retryable(&self) -> bool {
        !matches!(self, Self::InvalidReportRequest(_))
    }
}

impl From<RenderError> for Diagnostic {
    fn from(error: RenderError) -> Self {
        cafe_shared::error::diagnostic(&error)
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
    let html = render(&inventory, renderer.low_stock_threshold)
        .map_err(|e| RenderError::InvalidReportRequest(e.to_string()))?;
    let report = renderer.upload(&request.report_key, html).await?;
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
    /// inventories from wherever they point) and flags beans with fewer bags than
    /// `low_stock_threshold` as low stock.
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        low_stock_threshold: i64,
    ) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            low_stock_threshold,
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
    inventory: &'a Inventory,
    low_stock_threshold: i64,
    generated: String,
    low_stock_count: usize,
}

impl ReportPage<'_> {
    fn is_low(&self, bean: &Bean) -> bool {
        bean.quantity < self.low_stock_threshold
    }

    /// `420 bags` across the supplier's beans. Added with a check: quantities come from the
    /// data, and an overflow would panic (debug builds) or wrap around (release).
    fn supplier_bags(&self, supplier: &Supplier) -> String {
        match total_quantity(&supplier.beans) {
            Some(bags) => format!("{bags} bags"),
            None => "too many bags to total".to_owned(),
        }
    }

    fn total_quantity(&self) -> String {
        let quantity = self.inventory.totals.quantity;
        quantity.map_or_else(|| TOO_LARGE.to_owned(), |bags| bags.to_string())
    }

    /// `18.00`, or an em dash for a price the database did not have as a number (or had beyond
    /// the largest amount carried, 10^28).
    fn money(&self, price: &Option<Decimal>) -> String {
        price.map_or_else(|| "—".to_owned(), |p| format!("{:.2}", p.round_dp(2)))
    }

    fn stock_value(&self) -> String {
        match self.inventory.totals.stock_value {
            Some(value) => self.money(&Some(value)),
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

/// Renders the complete HTML page.
pub fn render(inventory: &Inventory, low_stock_threshold: i64) -> Result<String, askama::Error> {
    let low_stock_count = inventory
        .suppliers
        .iter()
        .flat_map(|s| &s.beans)
        .filter(|b| b.quantity < low_stock_threshold)
        .count();
    ReportPage {
        inventory,
        low_stock_threshold,
        generated: inventory
            .generated_at
            .format("%A %-d %B %Y, %H:%M UTC")
            .to_string(),
        low_stock_count,
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
        let html = render(&small_inventory(), 50).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(
            "<title>Bean quantity report · Saturday 21 November 2026, 09:30 UTC</title>"
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
        assert!(html.contains("<b>7734.00</b><span>stock value</span>"));
        assert!(html.contains("<b>1</b><span>low on stock (under 50 bags)</span>"));
        assert_eq!(
            html.matches("class=\"bean low\"").count(),
            1,
            "only the 12-bag bean is low"
        );
    }

    #[test]
    fn names_are_shown_as_text_never_as_markup() {
        let html = render(&small_inventory(), 50).unwrap();
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
        let html = render(&small_inventory(), 50).unwrap();
        assert!(html.contains("No beans listed for this supplier."));
        let empty = Inventory::new(Utc::now(), vec![]);
        let html = render(&empty, 50).unwrap();
        assert!(html.contains("There are no suppliers in the database."));
    }

    #[test]
    fn the_threshold_decides_what_is_low() {
        let html = render(&small_inventory(), 500).unwrap();
        assert_eq!(html.matches("class=\"bean low\"").count(), 3);
        let html = render(&small_inventory(), 0).unwrap();
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
        let html = render(&inventory, 50).unwrap();
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
        let html = render(&inventory, 50).unwrap();
        assert!(html.contains("<b>too large to total</b><span>stock value</span>"));
        // The price is shown as it is, and the bean says why the total is missing.
        assert!(html.contains("<span class=\"price\">79228162514264337593543950335.00</span>"));
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
        let html = render(&inventory, 50).unwrap();
        assert!(html.contains("<b>too large to total</b><span>bags in stock</span>"));
        assert!(html.contains("aria-label=\"2 beans, too many bags to total\""));
        assert!(html.contains(&format!("{} bags", i64::MAX)));
        // No price, no value to add: the stock value is still the small inventory's.
        assert!(html.contains("<b>7734.00</b><span>stock value</span>"));
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
        ReportRenderer::new(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [upload]),
            "cafe-reports",
            50,
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
        let report = handle(&renderer, LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        assert_eq!(upload.num_calls(), 1);
        assert_eq!(report.key, "reports/exec-1.html");
        assert!(report.bytes > 1000);
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
}
