use cafe_shared::config::{CAFE_TIME_ZONE, LOW_STOCK_THRESHOLD, REPORT_CURRENCY, REPORTS_BUCKET};
use cafe_shared::{clients, metrics, telemetry};
use lambda_runtime::{Error, service_fn};
use report_renderer::{ReportRenderer, ReportSettings, handle};

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let aws = clients::aws_config().await;
    let renderer = ReportRenderer::new(
        clients::s3(&aws),
        REPORTS_BUCKET.value(),
        ReportSettings {
            low_stock_threshold: LOW_STOCK_THRESHOLD.parse()?,
            currency: REPORT_CURRENCY.parse()?,
            time_zone: CAFE_TIME_ZONE.parse()?,
        },
    );
    let metrics = metrics::init("report-renderer")?;
    telemetry
        .run(metrics, service_fn(|event| handle(&renderer, event)))
        .await
}
