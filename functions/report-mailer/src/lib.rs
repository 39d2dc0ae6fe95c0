//! report-mailer: once the rendered report exists, emails the café manager a presigned link to
//! it through the SNS topic `EmailReport`. It waits (bounded) for the report, so no email ever
//! links to a report that is not there.
//!
//! Failures carry names the state machine matches: `InvalidReportRequest`, `ReportMissing` (the
//! report did not appear in time) and `ReportEmailFailed` (presigning or SNS failed; worth
//! retrying).

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use cafe_shared::NamedError;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::time::{Instant, sleep};
use tracing::info;

/// S3 presigned URLs live at most seven days.
pub const MAX_LINK_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub const SUBJECT: &str = "Your café inventory report is ready";

/// How often the mailer looks for the report while it waits.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

pub struct ReportMailer {
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub bucket: String,
    pub topic_arn: String,
    pub link_expiry: Duration,
    /// How long to wait for the report to appear.
    pub wait: Duration,
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

#[derive(Debug, Error)]
pub enum MailError {
    #[error("the mail request is not valid: {0}")]
    InvalidReportRequest(String),
    #[error("the report {key} did not appear within {waited:?}: {last_error}")]
    ReportMissing {
        key: String,
        waited: Duration,
        last_error: String,
    },
    #[error("the report email could not be sent: {0}")]
    ReportEmailFailed(String),
}

impl NamedError for MailError {
    fn name(&self) -> &'static str {
        match self {
            Self::InvalidReportRequest(_) => "InvalidReportRequest",
            Self::ReportMissing { .. } => "ReportMissing",
            Self::ReportEmailFailed(_) => "ReportEmailFailed",
        }
    }

    fn retryable(&self) -> bool {
        matches!(self, Self::ReportEmailFailed(_))
    }
}

impl From<MailError> for Diagnostic {
    fn from(error: MailError) -> Self {
        cafe_shared::error::diagnostic(&error)
    }
}

/// The link lifetime from its setting in seconds: at least one second, at most seven days.
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

pub async fn handle(
    mailer: &ReportMailer,
    event: LambdaEvent<MailRequest>,
) -> Result<MailedReport, MailError> {
    let request = event.payload;
    if request.report_key.trim().is_empty() {
        return Err(MailError::InvalidReportRequest("reportKey is empty".into()));
    }
    let execution = request.execution.unwrap_or(event.context.request_id);
    mailer.wait_for_report(&request.report_key).await?;
    let url = mailer.presign(&request.report_key).await?;
    let expires_at = Utc::now() + mailer.link_expiry;
    let message_id = mailer
        .publish(&email_text(&url, expires_at, mailer.link_expiry))
        .await?;
    info!(execution, key = request.report_key, message_id, %expires_at, "report link emailed");
    Ok(MailedReport {
        key: request.report_key,
        expires_at,
        message_id,
    })
}

impl ReportMailer {
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
                Err(e) => aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            };
            if Instant::now() + POLL_INTERVAL > deadline {
                return Err(MailError::ReportMissing {
                    key: key.to_owned(),
                    waited: self.wait,
                    last_error,
                });
            }
            sleep(POLL_INTERVAL).await;
        }
    }

    async fn presign(&self, key: &str) -> Result<String, MailError> {
        let config = PresigningConfig::expires_in(self.link_expiry)
            .map_err(|e| MailError::InvalidReportRequest(e.to_string()))?;
        let request = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| {
                MailError::ReportEmailFailed(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
            })?;
        Ok(request.uri().to_owned())
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
            .map_err(|e| {
                MailError::ReportEmailFailed(aws_sdk_sns::error::DisplayErrorContext(e).to_string())
            })?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

/// The email the manager reads.
pub fn email_text(url: &str, expires_at: DateTime<Utc>, expiry: Duration) -> String {
    format!(
        "Hello,\n\n\
         Your café inventory report is ready. Open it with this link:\n\n\
         {url}\n\n\
         The link works for {} and stops working at {}. \
         Only people who have the link can open the report; please do not forward it. \
         If it has expired, request a new report.\n",
        in_words(expiry),
        expires_at.format("%H:%M UTC on %A %-d %B %Y"),
    )
}

/// "15 minutes", "1 hour", "7 days", "90 seconds".
pub fn in_words(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (count, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}
