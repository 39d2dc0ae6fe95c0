//! The one place AWS SDK clients are built. Call [`aws_config`] once per cold start and build the
//! clients a function needs from it; never per invocation.
//!
//! `AWS_ENDPOINT_URL` (or a service-specific `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK
//! itself, which is how every function points at a local emulator.

use aws_config::meta::region::RegionProviderChain;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::config::DEFAULT_REGION;

/// Shared SDK configuration: region (falling back to us-east-1), credentials and endpoint from the
/// usual environment variables and profiles.
pub async fn aws_config() -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(Region::new(DEFAULT_REGION));
    aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .load()
        .await
}

#[cfg(feature = "dynamodb")]
pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

#[cfg(feature = "sns")]
pub fn sns(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}

/// S3 with path-style addressing whenever an endpoint is set: an emulator on 127.0.0.1 cannot
/// serve buckets as virtual-host subdomains.
#[cfg(feature = "s3")]
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}
