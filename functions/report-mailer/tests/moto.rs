//! report-mailer against S3 and SNS on the emulator: it waits for a late report, and the link in
//! the email it sends opens that report.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

use cafe_tests::{Moto, drain, http_get, topic_with_queue};
use lambda_runtime::{Context, LambdaEvent};
use report_mailer::{MailRequest, ReportMailer, SUBJECT, handle};
use serde_json::Value;

/// The reports bucket and the `EmailReport` topic with an SQS inbox subscribed. Returns the
/// emulator, the topic's ARN and the inbox queue's URL.
async fn bucket_and_inbox() -> (Moto, String, String) {
    let emulator = Moto::start();
    let (s3, sns, sqs) = (emulator.s3(), emulator.sns(), emulator.sqs());
    s3.create_bucket()
        .bucket("cafe-reports")
        .send()
        .await
        .unwrap();
    let (topic_arn, inbox) = topic_with_queue(&sns, &sqs, "EmailReport").await;
    (emulator, topic_arn, inbox)
}

/// A mailer on the emulator that waits up to `wait` for reports and learns when its link stops
/// working from `credentials`.
fn mailer(
    emulator: &Moto,
    topic_arn: &str,
    wait: Duration,
    credentials: Option<SharedCredentialsProvider>,
) -> ReportMailer {
    ReportMailer::new(
        emulator.s3(),
        emulator.sns(),
        "cafe-reports",
        topic_arn,
        Duration::from_secs(900),
        wait,
        credentials,
    )
}

/// [`bucket_and_inbox`] and a mailer that waits up to `wait` for reports. Returns the emulator,
/// the mailer and the inbox queue's URL.
async fn mailer_with_inbox(wait: Duration) -> (Moto, ReportMailer, String) {
    let (emulator, topic_arn, inbox) = bucket_and_inbox().await;
    let mailer = mailer(&emulator, &topic_arn, wait, None);
    (emulator, mailer, inbox)
}

#[tokio::test]
async fn the_emailed_link_opens_a_report_that_arrived_late() {
    let (emulator, mailer, inbox) = mailer_with_inbox(Duration::from_secs(30)).await;
    let (s3, sqs) = (emulator.s3(), emulator.sqs());
    let request = MailRequest {
        report_key: "reports/exec-1.html".into(),
        execution: Some("exec-1".into()),
    };

    // The report is uploaded a moment after the mailer starts waiting for it.
    let late_upload = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        s3.put_object()
            .bucket("cafe-reports")
            .key("reports/exec-1.html")
            .content_type("text/html; charset=utf-8")
            .body(
                b"<!DOCTYPE html><h1>Cafe inventory report</h1>"
                    .to_vec()
                    .into(),
            )
            .send()
            .await
            .unwrap();
    };
    let (mailed, ()) = tokio::join!(
        handle(&mailer, LambdaEvent::new(request, Context::default())),
        late_upload
    );
    let mailed = mailed.unwrap();

    let emails = drain(&sqs, &inbox).await;
    assert_eq!(emails.len(), 1);
    let envelope: Value = serde_json::from_str(emails[0].body().unwrap()).unwrap();
    assert_eq!(envelope["Subject"], SUBJECT);
    assert_eq!(envelope["MessageId"], mailed.message_id.as_str());
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("works for 15 minutes"), "{text}");
    let url = text
        .lines()
        .find(|line| line.starts_with("http"))
        .expect("a link in the email");
    assert!(url.starts_with(&emulator.endpoint), "{url}");

    let (status, content_type, body) = http_get(url);
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(body.contains("Cafe inventory report"));
}

#[tokio::test]
async fn no_email_is_sent_for_a_report_that_never_arrives() {
    let (emulator, mailer, inbox) = mailer_with_inbox(Duration::from_secs(2)).await;
    let sqs = emulator.sqs();
    let request = MailRequest {
        report_key: "reports/never.html".into(),
        execution: None,
    };
    let error = handle(&mailer, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap_err();
    assert_eq!(
        lambda_runtime::Diagnostic::from(error).error_type,
        "ReportMissing"
    );
    assert!(drain(&sqs, &inbox).await.is_empty());
}

#[tokio::test]
async fn a_link_signed_with_credentials_about_to_expire_says_so() {
    let (emulator, topic_arn, inbox) = bucket_and_inbox().await;
    let (s3, sqs) = (emulator.s3(), emulator.sqs());
    // Session credentials with ten minutes left, as a role session near its end would have.
    let expiry = SystemTime::now() + Duration::from_secs(600);
    let session = Credentials::new(
        "AKIDTEST",
        "secret",
        Some("token".into()),
        Some(expiry),
        "test",
    );
    let session = Some(SharedCredentialsProvider::new(session));
    let mailer = mailer(&emulator, &topic_arn, Duration::from_secs(5), session);
    s3.put_object()
        .bucket("cafe-reports")
        .key("reports/exec-2.html")
        .body(b"<h1>Cafe inventory report</h1>".to_vec().into())
        .send()
        .await
        .unwrap();
    let request = MailRequest {
        report_key: "reports/exec-2.html".into(),
        execution: Some("exec-2".into()),
    };
    let mailed = handle(&mailer, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();

    let lead = mailed.expires_at.signed_duration_since(chrono::Utc::now());
    assert!(
        lead.num_seconds() <= 600,
        "no later than the credentials: {lead}"
    );
    let emails = drain(&sqs, &inbox).await;
    let envelope: Value = serde_json::from_str(emails[0].body().unwrap()).unwrap();
    let text = envelope["Message"].as_str().unwrap();
    assert!(!text.contains("15 minutes"), "{text}");
    let url = text.lines().find(|line| line.starts_with("http")).unwrap();
    let expires: u64 = url
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("X-Amz-Expires="))
        .expect("a presigned URL")
        .parse()
        .unwrap();
    assert!((590..=600).contains(&expires), "X-Amz-Expires={expires}");
}
