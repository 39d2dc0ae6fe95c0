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
const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

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
/// time. These functions talk to AWS endpoints only (and to emulators over plain HTTP).
fn amazon_roots_only() -> TlsContext {
    let trust = TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
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

/// The coffee database's connection pool: from `DATABASE_URL`, or in the deployed form from
/// `DB_HOST`, `DB_PORT`, `DB_USER`, `DB_NAME` and the password in the Secrets Manager secret
/// `DB_SECRET_ARN`, over TLS unless `DB_TLS=disabled`. Connections open lazily.
#[cfg(feature = "mysql")]
pub async fn mysql_pool(aws: &SdkConfig) -> Result<mysql_async::Pool, String> {
    use crate::config::{
        DATABASE_URL, DB_CA_FILE, DB_HOST, DB_NAME, DB_PORT, DB_SECRET_ARN, DB_TLS, DB_USER,
    };
    use mysql_async::{Opts, OptsBuilder, PoolConstraints, PoolOpts, SslOpts};

    let host = DB_HOST.value();
    let builder = if host.is_empty() {
        let url = DATABASE_URL.value();
        OptsBuilder::from_opts(Opts::from_url(&url).map_err(|e| format!("DATABASE_URL: {e}"))?)
    } else {
        let password = secret_password(aws, &DB_SECRET_ARN.value()).await?;
        let mut builder = OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(DB_PORT.parse()?)
            .user(Some(DB_USER.value()))
            .pass(Some(password))
            .db_name(Some(DB_NAME.value()));
        if DB_TLS.value() != "disabled" {
            let ca_file = DB_CA_FILE.value();
            let mut tls = SslOpts::default();
            if !ca_file.is_empty() {
                tls = tls.with_root_certs(vec![std::path::PathBuf::from(ca_file).into()]);
            }
            builder = builder.ssl_opts(tls);
        }
        builder
    };
    // A Lambda instance serves one invocation at a time.
    let constraints = PoolConstraints::new(0, 2).expect("0 ≤ 2");
    Ok(mysql_async::Pool::new(builder.pool_opts(
        PoolOpts::default().with_constraints(constraints),
    )))
}

/// The database password: the secret's `password` field when it is JSON (as RDS writes it),
/// else the whole secret string.
#[cfg(feature = "mysql")]
async fn secret_password(aws: &SdkConfig, secret_arn: &str) -> Result<String, String> {
    if secret_arn.is_empty() {
        return Err("DB_HOST is set but DB_SECRET_ARN is not".into());
    }
    let secret = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .map_err(|e| {
            let e = crate::error::aws_error_text(&e);
            format!("cannot read the database secret: {e}")
        })?;
    let text = secret.secret_string().unwrap_or_default();
    Ok(password_from_secret(text))
}

#[cfg(feature = "mysql")]
fn password_from_secret(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|secret| secret.get("password")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(all(test, feature = "mysql"))]
mod tests {
    use super::password_from_secret;

    #[test]
    fn the_password_comes_from_an_rds_secret_or_a_plain_one() {
        let rds = r#"{"username": "admin", "password": "s3cr&t\"x"}"#;
        assert_eq!(password_from_secret(rds), "s3cr&t\"x");
        assert_eq!(password_from_secret("plain-password"), "plain-password");
    }
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
