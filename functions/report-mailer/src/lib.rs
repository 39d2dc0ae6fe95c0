//! report-mailer: once the rendered report exists, emails the café manager a presigned link to
//! it through the SNS topic `EmailReport`. It waits (bounded) for the report, so no email ever
//! links to a report that is not there.
//!
//! Failures carry names the state machine matches: `InvalidReportRequest`, `ReportMissing` (the
//! report did not appear in time) and `ReportEmailFailed` (presigning or SNS failed; worth
//! retrying).

pub mod email;
pub mod presign;

use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use cafe_shared::cafe_time::CafeTimeZone;
use cafe_shared::error::aws_error_text;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep};
use tracing::info;

pub use email::{SUBJECT, email_text, in_words};
pub use presign::Presign;

/// The longest link the mailer makes. A presigned URL stops working when the credentials that
/// signed it expire, whatever expiry it was given; the mailer signs with its execution role's
/// session credentials, which Lambda does not promise for longer than an hour (STS's default
/// role session). S3's own limit, seven days, applies only to long-term keys.
pub const MAX_LINK_EXPIRY: Duration = Duration::from_secs(60 * 60);

/// How often the mailer looks for the report while it waits.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The mailer, presigning with `P`: the S3 client when deployed (see [`presign`]).
pub struct ReportMailer<P = aws_sdk_s3::Client> {
    s3: aws_sdk_s3::Client,
    presigner: P,
    sns: aws_sdk_sns::Client,
    bucket: String,
    topic_arn: String,
    link_expiry: Duration,
    wait: Duration,
    credentials: Option<SharedCredentialsProvider>,
    time_zone: CafeTimeZone,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailRequest {
    pub report_key: String,
    #[serde(default)]
    pub execution: Option<String>,
}

/// What the state machine records. The link itself is not returned: only the recipient should
/// hold it, and execution histories are kept.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailedReport {
    pub key: String,
    pub expires_at: DateTime<Utc>,
    pub message_id: String,
}

cafe_shared::named_errors! {
    pub enum MailError {
        InvalidReportRequest final "the mail request is not valid: {0}",
        // The report did not appear in time: the text names it, the wait and the last error.
        ReportMissing final "{0}",
        ReportEmailFailed retryable "the report email could not be sent: {0}",
    }
}

/// The link lifetime from its setting in seconds: at least one second, at most an hour.
pub fn link_expiry(seconds: u64) -> Result<Duration, String> {
    let expiry = Duration::from_secs(seconds);
    if expiry.is_zero() || expiry > MAX_LINK_EXPIRY {
        Err(format!(
            "the report link expiry must be 1 to {} seconds, not {seconds}",
            MAX_LINK_EXPIRY.as_secs()
        ))
    } else {
        Ok(expiry)
    }
}

pub async fn handle<P: Presign>(
    mailer: &ReportMailer<P>,
    event: LambdaEvent<MailRequest>,
) -> Result<MailedReport, MailError> {
    let request = event.payload;
    if request.report_key.trim().is_empty() {
        return Err(MailError::InvalidReportRequest("reportKey is empty".into()));
    }
    let execution = request.execution.unwrap_or(event.context.request_id);
    mailer.wait_for_report(&request.report_key).await?;
    let lifetime = link_lifetime(
        SystemTime::now(),
        mailer.link_expiry,
        mailer.signing_credentials_expiry().await,
    );
    let url = mailer
        .presigner
        .presign_get(&mailer.bucket, &request.report_key, lifetime)
        .await?;
    let expires_at = Utc::now() + lifetime;
    let message_id = mailer
        .publish(&email_text(
            &url,
            expires_at,
            lifetime,
            mailer.time_zone,
            &execution,
        ))
        .await?;
    info!(execution, key = request.report_key, message_id, %expires_at, "report link emailed");
    Ok(MailedReport {
        key: request.report_key,
        expires_at,
        message_id,
    })
}

impl ReportMailer {
    /// A mailer that waits up to `wait` for a report in `bucket` (looking with `s3`), presigns a
    /// link to it with `s3` that works for `link_expiry` (see [`link_expiry`]), and publishes the
    /// email to `topic_arn` with `sns`. `credentials` are the ones the S3 client signs with, to
    /// learn when they expire and the link with them; `None` when that is not known.
    pub fn new(
        s3: aws_sdk_s3::Client,
        sns: aws_sdk_sns::Client,
        bucket: impl Into<String>,
        topic_arn: impl Into<String>,
        link_expiry: Duration,
        wait: Duration,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Self {
        Self {
            presigner: s3.clone(),
            s3,
            sns,
            bucket: bucket.into(),
            topic_arn: topic_arn.into(),
            link_expiry,
            wait,
            credentials,
            time_zone: CafeTimeZone::UTC,
        }
    }

    /// The same mailer, writing times in the café's `time_zone` (UTC unless given).
    pub fn in_time_zone(self, time_zone: CafeTimeZone) -> Self {
        Self { time_zone, ..self }
    }

    /// The same mailer, presigning with `presigner` instead of its S3 client.
    pub fn with_presigner<Q: Presign>(self, presigner: Q) -> ReportMailer<Q> {
        ReportMailer {
            s3: self.s3,
            presigner,
            sns: self.sns,
            bucket: self.bucket,
            topic_arn: self.topic_arn,
            link_expiry: self.link_expiry,
            wait: self.wait,
            credentials: self.credentials,
            time_zone: self.time_zone,
        }
    }
}

impl<P: Presign> ReportMailer<P> {
    /// Returns once the report exists, or `ReportMissing` after `wait`.
    pub async fn wait_for_report(&self, key: &str) -> Result<(), MailError> {
        let deadline = Instant::now() + self.wait;
        loop {
            let found = self
                .s3
                .head_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await;
            let last_error = match found {
                Ok(_) => return Ok(()),
                Err(e) => aws_error_text(&e),
            };
            if Instant::now() + POLL_INTERVAL > deadline {
                return Err(MailError::ReportMissing(format!(
                    "the report {key} did not appear within {:?}: {last_error}",
                    self.wait
                )));
            }
            sleep(POLL_INTERVAL).await;
        }
    }

    /// When the credentials the link is signed with expire, where the provider says (container
    /// and STS credentials do; the keys Lambda puts in the environment do not).
    async fn signing_credentials_expiry(&self) -> Option<SystemTime> {
        let provider = self.credentials.as_ref()?;
        provider.provide_credentials().await.ok()?.expiry()
    }

    async fn publish(&self, text: &str) -> Result<String, MailError> {
        let output = self
            .sns
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(SUBJECT)
            .message(text)
            .send()
            .await
            .map_err(|e| MailError::ReportEmailFailed(aws_error_text(&e)))?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

/// How long a link signed now really works: the configured expiry, cut short when the signing
/// credentials expire sooner (the link would stop working then).
pub fn link_lifetime(
    now: SystemTime,
    configured: Duration,
    credentials_expiry: Option<SystemTime>,
) -> Duration {
    let left = credentials_expiry.map(|expiry| expiry.duration_since(now).unwrap_or_default());
    // Whole seconds, so the email's "works for" is exact; at least one, as S3 requires.
    let lifetime = left.map_or(configured, |left| configured.min(left));
    Duration::from_secs(lifetime.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
    use aws_sdk_s3::types::error::NotFound;
    use aws_sdk_sns::operation::publish::{PublishError, PublishOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use cafe_shared::NamedError;
    use lambda_runtime::Context;
    use lambda_runtime::Diagnostic;

    fn request(key: &str) -> LambdaEvent<MailRequest> {
        let request = MailRequest {
            report_key: key.into(),
            execution: Some("exec-1".into()),
        };
        LambdaEvent::new(request, Context::default())
    }

    fn mailer(s3: aws_sdk_s3::Client, sns: aws_sdk_sns::Client, wait: Duration) -> ReportMailer {
        ReportMailer::new(
            s3,
            sns,
            "cafe-reports",
            "arn:aws:sns:us-east-1:123456789012:EmailReport",
            Duration::from_secs(900),
            wait,
            None,
        )
    }

    #[test]
    fn link_expiry_is_one_second_to_one_hour() {
        assert_eq!(link_expiry(900), Ok(Duration::from_secs(900)));
        assert_eq!(link_expiry(1), Ok(Duration::from_secs(1)));
        assert_eq!(link_expiry(3600), Ok(MAX_LINK_EXPIRY));
        assert!(link_expiry(0).is_err());
        let too_long = link_expiry(3601).unwrap_err();
        assert!(too_long.contains("1 to 3600 seconds"), "{too_long}");
        assert!(
            link_expiry(604_800).is_err(),
            "S3's seven days outlive the role session"
        );
    }

    #[test]
    fn the_link_lives_no_longer_than_the_credentials_that_signed_it() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fifteen = Duration::from_secs(900);
        assert_eq!(link_lifetime(now, fifteen, None), fifteen);
        let in_an_hour = Some(now + Duration::from_secs(3600));
        assert_eq!(link_lifetime(now, fifteen, in_an_hour), fifteen);
        let in_ten_minutes = Some(now + Duration::from_millis(600_900));
        assert_eq!(
            link_lifetime(now, fifteen, in_ten_minutes),
            Duration::from_secs(600)
        );
        let expired = Some(now - Duration::from_secs(5));
        assert_eq!(link_lifetime(now, fifteen, expired), Duration::from_secs(1));
    }

    /// A presigner that hands out a fixed link, or fails, and records what it was asked for.
    struct Links {
        answer: Result<&'static str, &'static str>,
        asked: std::sync::Mutex<Vec<(String, String, Duration)>>,
    }

    impl Links {
        fn giving(answer: Result<&'static str, &'static str>) -> Self {
            Self {
                answer,
                asked: Default::default(),
            }
        }
    }

    impl Presign for Links {
        async fn presign_get(
            &self,
            bucket: &str,
            key: &str,
            lifetime: Duration,
        ) -> Result<String, MailError> {
            let request = (bucket.to_owned(), key.to_owned(), lifetime);
            self.asked.lock().unwrap().push(request);
            self.answer
                .map(str::to_owned)
                .map_err(|e| MailError::ReportEmailFailed(e.into()))
        }
    }

    const LINK: &str =
        "https://cafe-reports.s3.amazonaws.com/reports/exec-1.html?X-Amz-Signature=ab";

    #[tokio::test]
    async fn the_email_carries_the_link_to_the_report_that_exists() {
        let head = mock!(aws_sdk_s3::Client::head_object)
            .then_output(|| HeadObjectOutput::builder().build());
        let publish = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|publish| {
                publish.topic_arn() == Some("arn:aws:sns:us-east-1:123456789012:EmailReport")
                    && publish.subject() == Some(SUBJECT)
                    && publish.message().is_some_and(|text| text.contains(LINK))
            })
            .then_output(|| PublishOutput::builder().message_id("msg-1").build());
        let mailer = mailer(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]),
            Duration::from_secs(1),
        )
        .with_presigner(Links::giving(Ok(LINK)));
        let before = Utc::now();
        let mailed = handle(&mailer, request("reports/exec-1.html"))
            .await
            .unwrap();
        assert_eq!(mailed.key, "reports/exec-1.html");
        assert_eq!(mailed.message_id, "msg-1");
        let expires_in = mailed.expires_at - before;
        assert!(
            (899..=901).contains(&expires_in.num_seconds()),
            "{expires_in}"
        );
        let asked = mailer.presigner.asked.lock().unwrap().clone();
        let wanted = (
            "cafe-reports".into(),
            "reports/exec-1.html".into(),
            Duration::from_secs(900),
        );
        assert_eq!(asked, vec![wanted]);
        assert_eq!(publish.num_calls(), 1);
    }

    #[tokio::test]
    async fn no_email_when_the_link_cannot_be_made_or_sent_and_both_are_retryable() {
        let head = mock!(aws_sdk_s3::Client::head_object)
            .then_output(|| HeadObjectOutput::builder().build());
        let publish =
            mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().build());
        let unsigned = mailer(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]),
            Duration::from_secs(1),
        )
        .with_presigner(Links::giving(Err("the signing credentials expired")));
        let error = handle(&unsigned, request("reports/exec-1.html"))
            .await
            .unwrap_err();
        assert!(error.retryable());
        let diagnostic = Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "ReportEmailFailed");
        assert!(diagnostic.error_message.contains("credentials expired"));
        assert_eq!(publish.num_calls(), 0);

        let refused = mock!(aws_sdk_sns::Client::publish)
            .then_error(|| PublishError::unhandled("the topic is gone"));
        let unsent = mailer(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&refused]),
            Duration::from_secs(1),
        )
        .with_presigner(Links::giving(Ok(LINK)));
        let error = handle(&unsent, request("reports/exec-1.html"))
            .await
            .unwrap_err();
        assert_eq!(Diagnostic::from(error).error_type, "ReportEmailFailed");
        assert_eq!(refused.num_calls(), 1);
    }

    // Presigning with the real S3 client is exercised against the emulator (tests/emulator.rs).
    #[tokio::test]
    async fn it_waits_for_a_late_report() {
        let head = mock!(aws_sdk_s3::Client::head_object)
            .match_requests(|head| {
                head.bucket() == Some("cafe-reports") && head.key() == Some("reports/exec-1.html")
            })
            .sequence()
            .error(|| HeadObjectError::NotFound(NotFound::builder().build()))
            .times(2)
            .output(|| HeadObjectOutput::builder().build())
            .build();
        let publish =
            mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().build());
        let mailer = mailer(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]),
            Duration::from_secs(10),
        );
        mailer.wait_for_report("reports/exec-1.html").await.unwrap();
        assert_eq!(head.num_calls(), 3);
    }

    #[tokio::test]
    async fn no_email_when_the_report_never_appears() {
        let head = mock!(aws_sdk_s3::Client::head_object)
            .then_error(|| HeadObjectError::NotFound(NotFound::builder().build()));
        let publish =
            mock!(aws_sdk_sns::Client::publish).then_output(|| PublishOutput::builder().build());
        let mailer = mailer(
            mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head]),
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&publish]),
            Duration::from_secs(1),
        );
        let error = handle(&mailer, request("reports/exec-1.html"))
            .await
            .unwrap_err();
        assert_eq!(Diagnostic::from(error).error_type, "ReportMissing");
        assert_eq!(publish.num_calls(), 0);
        assert!(head.num_calls() >= 2, "it looked more than once");
    }
}
