//! inventory-reader over TLS, as it reaches RDS: a MariaDB server of the test's own (never the
//! shared one on port 3306) serves a certificate from a throwaway CA and refuses connections
//! without TLS; the reader connects through the deployed pool (`DB_HOST` form, `DB_TLS=required`).
//! With that CA in `DB_CA_FILE` the inventory is read over TLS; without it, trusting only the
//! Amazon RDS bundle and the webpki roots, the certificate is refused, as a retryable
//! `DatabaseUnavailable` that says TLS.

use std::time::{Duration, Instant};

use cafe_shared::NamedError;
use cafe_tests::tls::TlsMariaDb;
use cafe_tests::{TestDatabase, unreachable_sdk_config};
use inventory_reader::connection::{DatabaseTls, DeployedDatabase};
use inventory_reader::{InventoryReader, ReadError};
use mysql_async::Pool;
use mysql_async::prelude::Queryable;

/// The reader's pool on `server`, built as deployed from the `DB_*` values, with `DB_TLS=required` and
/// `DB_CA_FILE` set to `ca_file` (blank: unset).
fn deployed_pool(server: &TlsMariaDb, database: &str, ca_file: &str) -> Pool {
    let deployed = DeployedDatabase {
        host: "127.0.0.1".into(),
        port: server.port,
        user: "root".into(),
        password: String::new(),
        name: database.into(),
        tls: DatabaseTls::from_settings("required", ca_file).unwrap(),
    };
    deployed.pool()
}

/// An S3 client that is never reached (the seed inventory stays inline).
fn reader(pool: Pool) -> InventoryReader {
    InventoryReader::new(
        pool,
        aws_sdk_s3::Client::new(&unreachable_sdk_config()),
        "cafe-reports",
        Duration::from_secs(5),
        Duration::from_secs(5),
    )
}

#[tokio::test]
async fn the_reader_trusts_a_servers_ca_only_when_db_ca_file_names_it() {
    let started = Instant::now();
    let server = TlsMariaDb::start();
    let database = TestDatabase::create_on(server.admin()).await;
    let ready = started.elapsed();

    let ca_file = server.ca_file.to_str().unwrap();
    let pool = deployed_pool(&server, &database.name, ca_file);
    let trusting = reader(pool.clone());
    let inventory = trusting
        .read()
        .await
        .unwrap_or_else(|e| panic!("with the server's CA in DB_CA_FILE: {e}"));
    assert_eq!(inventory.totals.suppliers, 9);
    assert_eq!(inventory.totals.beans, 16);
    // The server takes no other kind of TCP client, but say it plainly: the session is TLS.
    let mut connection = pool.get_conn().await.unwrap();
    let tls: Option<(String, String)> = connection
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_version'")
        .await
        .unwrap();
    let version = tls.map(|(_, version)| version).unwrap_or_default();
    assert!(version.starts_with("TLSv1."), "session TLS: {version:?}");
    drop(connection);
    pool.disconnect().await.unwrap();

    let pool = deployed_pool(&server, &database.name, "");
    let default_trust = reader(pool.clone());
    let error = default_trust.read().await.unwrap_err();
    assert!(
        matches!(error, ReadError::DatabaseUnavailable(_)),
        "{}: {error}",
        error.name()
    );
    let message = error.to_string();
    assert!(
        message.contains("TLS") && message.contains("certificate"),
        "{message}"
    );
    assert!(message.contains("DB_CA_FILE"), "says what to do: {message}");
    eprintln!("without the CA: {message}");
    pool.disconnect().await.unwrap();

    eprintln!(
        "server and database ready in {ready:?}, test done in {:?}",
        started.elapsed()
    );
}
