use cafe_shared::config::{
    CAFE_TIME_ZONE, REPORT_LINK_EXPIRY_SECONDS, REPORT_TOPIC_ARN, REPORT_WAIT_SECONDS,
    REPORTS_BUCKET,
};
use cafe_shared::{clients, metrics, telemetry};
use lambda_runtime::{Error, service_fn};
use report_mailer::{ReportMailer, handle, link_expiry};
use std::time::Duration;

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let telemetry = telemetry::init();
    let aws = clients::aws_config().await;
    let mailer = ReportMailer::new(
        clients::s3(&aws),
        clients::sns(&aws),
        REPORTS_BUCKET.value(),
        REPORT_TOPIC_ARN.value(),
        link_expiry(REPORT_LINK_EXPIRY_SECONDS.parse()?)?,
        Duration::from_secs(REPORT_WAIT_SECONDS.parse()?),
        aws.credentials_provider(),
    )
    .in_time_zone(CAFE_TIME_ZONE.parse()?);
    let metrics = metrics::init("report-mailer")?;
    telemetry
        .run(metrics, service_fn(|event| handle(&mailer, event)))
        .await
}
