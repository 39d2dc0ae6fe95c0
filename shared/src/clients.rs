//! The one place AWS SDK clients are built. Call [`aws_config`] once per cold start and build the
//! clients a function needs from it; never per invocation.
//!
//! `AWS_ENDPOINT_URL` (or a service-specific `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by the SDK
//! itself, which is how every function points at a local emulator.

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::meta::region::{ProvideRegion, RegionProviderChain};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::config::DEFAULT_REGION;

/// The roots every AWS service endpoint's certificate chains to (Amazon Trust Services, and the
/// Starfield root that cross-signs them), as published in the Mozilla CA bundle.
pub const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Shared SDK configuration: region (falling back to us-east-1), credentials and endpoint from the
/// usual environment variables and profiles.
///
/// Lambda hands every function its region and its role's credentials in environment variables.
/// When they are there, they are used directly: the SDK's default chains would otherwise also be
/// built at every cold start (profiles, SSO, web identity with an STS client of its own, the
/// instance metadata client): over a third of order-writer's instructions before its first
/// request. Without them (a developer's shell with `AWS_PROFILE`, say) the default chains apply.
pub async fn aws_config() -> SdkConfig {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(amazon_roots_only())
        .build_https();
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(WithoutTrialConnector(https));
    loader = match EnvironmentVariableRegionProvider::new().region().await {
        Some(region) => loader.region(region),
        None => loader
            .region(RegionProviderChain::default_provider().or_else(Region::new(DEFAULT_REGION))),
    };
    // Blank counts as unset, as the default chain treats it.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|key| !key.is_empty()) {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The SDK's HTTPS client without its trial connector: as each service client is created, the SDK
/// builds a connector (TLS context included) only to drop it, so that loading the system's CA store
/// fails early, and the first request builds the connector again. With compiled-in roots there is
/// nothing to fail, and the trial cost every cold start about 0.06 ms per service client.
#[derive(Debug)]
struct WithoutTrialConnector(SharedHttpClient);

impl HttpClient for WithoutTrialConnector {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// TLS that trusts only the Amazon roots. The SDK's default reads and parses the system's whole
/// CA store (hundreds of files on Debian) during every cold start: that was most of our init
/// time. These functions talk to AWS endpoints only (and to emulators over plain HTTP), unless
/// `AWS_CA_BUNDLE` names a PEM file of more roots, as the AWS CLI and boto3 read it: a TLS proxy's
/// CA, or the benchmark's throwaway one in front of its emulator.
fn amazon_roots_only() -> TlsContext {
    let mut trust = TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
    if let Some(path) = std::env::var_os("AWS_CA_BUNDLE").filter(|path| !path.is_empty()) {
        let pem = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "AWS_CA_BUNDLE={}: cannot read it: {e}",
                path.to_string_lossy()
            )
        });
        trust = trust.with_pem_certificate(pem);
    }
    TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store of PEM certificates is a valid TLS context")
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

#[cfg(feature = "secretsmanager")]
pub fn secretsmanager(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

#[cfg(test)]
mod trust_tests {
    use super::AMAZON_TRUST_SERVICES_ROOTS;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn the_compiled_in_trust_store_holds_the_five_amazon_roots() {
        let certs = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("every certificate is valid PEM");
        assert_eq!(certs.len(), 5);
        // The TLS context the SDK gets is built from these, and building it must not fail.
        super::amazon_roots_only();
    }
}
