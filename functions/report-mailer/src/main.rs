use cafe_shared::config::{
    REPORT_LINK_EXPIRY_SECONDS, REPORT_TOPIC_ARN, REPORT_WAIT_SECONDS, REPORTS_BUCKET,
};
use cafe_shared::{clients, telemetry};
use lambda_runtime::{Error, run, service_fn};
use report_mailer::{ReportMailer, handle, link_expiry};
use std::time::Duration;

// One event at a time (Lambda's model): a single-threaded runtime, which also starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let aws = clients::aws_config().await;
    let mailer = ReportMailer {
        s3: clients::s3(&aws),
        sns: clients::sns(&aws),
        bucket: REPORTS_BUCKET.value(),
        topic_arn: REPORT_TOPIC_ARN.value(),
        link_expiry: link_expiry(REPORT_LINK_EXPIRY_SECONDS.parse()?)?,
        wait: Duration::from_secs(REPORT_WAIT_SECONDS.parse()?),
        credentials: aws.credentials_provider(),
    };
    run(service_fn(|event| handle(&mailer, event))).await
}
