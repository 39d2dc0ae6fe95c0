//! Presigning behind a trait. The SDK mocks (`aws-smithy-mocks`) intercept every request a mocked
//! client makes, the presigning one with them, so a mailer whose S3 client is a mock could not
//! presign, and its whole path (wait, presign, email) could be tested only against the emulator.
//! Deployed, the presigner is the S3 client; a test gives the mailer one of its own.

use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use cafe_shared::error::aws_error_text;

use crate::MailError;

pub trait Presign {
    /// A URL that lets whoever holds it GET `key` in `bucket` for `lifetime`.
    fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        lifetime: Duration,
    ) -> impl Future<Output = Result<String, MailError>> + Send;
}

impl Presign for aws_sdk_s3::Client {
    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        lifetime: Duration,
    ) -> Result<String, MailError> {
        let config = PresigningConfig::expires_in(lifetime)
            .map_err(|e| MailError::InvalidReportRequest(e.to_string()))?;
        let request = self
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| MailError::ReportEmailFailed(aws_error_text(&e)))?;
        Ok(request.uri().to_owned())
    }
}
