//! report-renderer: turns an inventory document into a self-contained HTML report and uploads it
//! to S3 at the key the state machine gives it.
//!
//! Failures carry names the state machine matches: `InvalidReportRequest` (bad input; retrying
//! will not help), `InventoryUnavailable` (the claim-checked inventory could not be read) and
//! `ReportUploadFailed` (S3 refused the report; both worth retrying).

use askama::Template;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use cafe_shared::NamedError;
use cafe_shared::inventory::{Bean, Inventory, InventoryPayload, S3Location, Supplier};
use lambda_runtime::{Diagnostic, LambdaEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::info;

pub struct ReportRenderer {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    /// Beans with fewer bags than this are flagged as low stock.
    pub low_stock_threshold: i64,
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
            .map_err(|e| unavailable(DisplayErrorContext(e).to_string()))?;
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
            .map_err(|e| RenderError::ReportUploadFailed(DisplayErrorContext(e).to_string()))?;
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

    fn supplier_quantity(&self, supplier: &Supplier) -> i64 {
        supplier.beans.iter().map(|b| b.quantity).sum()
    }

    /// `18.00`, or an em dash for a price the database did not have as a number.
    fn money(&self, price: &Option<Decimal>) -> String {
        price.map_or_else(|| "—".to_owned(), |p| format!("{:.2}", p.round_dp(2)))
    }

    fn stock_value(&self) -> String {
        self.money(&Some(self.inventory.totals.stock_value))
    }
}

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
