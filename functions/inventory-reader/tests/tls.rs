//! inventory-reader over TLS, as it reaches RDS: a MariaDB server of the test's own (never the
//! shared one on port 3306) serves a certificate from a throwaway CA and refuses connections
//! without TLS; the reader connects through the deployed pool (`DB_HOST` form, `DB_TLS=required`).
//! With that CA in `DB_CA_FILE` the inventory is read over TLS; without it, trusting only the
//! Amazon RDS bundle and the webpki roots, the certificate is refused, as a retryable
//! `DatabaseUnavailable` that says TLS.

use std::fs::File;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cafe_shared::NamedError;
use cafe_tests::{TestDatabase, free_port, unreachable_sdk_config, wait_until};
use inventory_reader::connection::{DatabaseTls, DeployedDatabase};
use inventory_reader::{InventoryReader, ReadError};
use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, Pool};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

const INSTALL: &str = "install MariaDB (Debian/Ubuntu: sudo apt-get install mariadb-server, \
                       macOS: brew install mariadb)";

/// The first of `names` found on PATH or in the directories MariaDB's packages install to.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = [
        "/usr/sbin",
        "/usr/local/sbin",
        "/usr/libexec",
        "/opt/homebrew/bin",
    ];
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(extra.into_iter().map(PathBuf::from))
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A throwaway CA and a certificate it signed for `localhost` and 127.0.0.1, written as PEM
/// files into `dir`: (CA certificate, server certificate, server key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "cafe throwaway test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let mut server = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &ca).unwrap();

    let files = (
        dir.join("ca.pem"),
        dir.join("server-cert.pem"),
        dir.join("server-key.pem"),
    );
    std::fs::write(&files.0, ca.pem()).unwrap();
    std::fs::write(&files.1, server_cert.pem()).unwrap();
    std::fs::write(&files.2, server_key.serialize_pem()).unwrap();
    (files.0, files.1, files.2)
}

/// Runs `command` to completion within `limit`, its output going to `log`; fails the test with
/// that output when it fails or overruns.
fn run_within(mut command: Command, limit: Duration, log: &Path) {
    let output = File::create(log).unwrap();
    let mut child = command
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} took longer than {limit:?}: {}", read(log));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{command:?}: {status}: {}", read(log));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A MariaDB server in a temporary directory, on a free loopback port, serving TLS with a
/// certificate from a throwaway CA and refusing clients without TLS. Killed and removed when
/// dropped.
struct TlsServer {
    child: Child,
    dir: PathBuf,
    port: u16,
    /// The throwaway CA's certificate, as a PEM file.
    ca_file: PathBuf,
}

impl TlsServer {
    fn start() -> Self {
        let (Some(mariadbd), Some(install_db)) = (
            program(&["mariadbd"]),
            program(&["mariadb-install-db", "mysql_install_db"]),
        ) else {
            panic!(
                "this test runs a MariaDB server of its own: mariadbd and mariadb-install-db are needed; {INSTALL}"
            );
        };
        let dir = std::env::temp_dir().join(format!("cafe-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (ca_file, cert, key) = certificates(&dir);

        // The server refuses to run as root unless told to; as anyone else `--user` is ignored.
        let as_root = std::fs::metadata(&dir).unwrap().uid() == 0;
        let user: &[&str] = if as_root { &["--user=root"] } else { &[] };
        let datadir = format!("--datadir={}", dir.join("data").display());
        // Small InnoDB files: the defaults would write over 100 MB for a few rows.
        let small = ["--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"];

        let mut install = Command::new(install_db);
        install
            .args(["--no-defaults", &datadir, "--skip-test-db"])
            // root@127.0.0.1 without a password, instead of unix-socket authentication.
            .arg("--auth-root-authentication-method=normal")
            .args(small)
            .args(user);
        run_within(install, Duration::from_secs(60), &dir.join("install.log"));

        let port = free_port();
        let socket = dir.join("mariadbd.sock");
        let error_log = dir.join("error.log");
        let child = Command::new(&mariadbd)
            .arg("--no-defaults")
            .arg(&datadir)
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
            .arg(format!("--log-error={}", error_log.display()))
            .arg("--skip-name-resolve")
            .args(small)
            .arg(format!("--ssl-cert={}", cert.display()))
            .arg(format!("--ssl-key={}", key.display()))
            .arg("--require-secure-transport=ON")
            .args(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", mariadbd.display()));
        let mut server = Self {
            child,
            dir,
            port,
            ca_file,
        };
        wait_until(Duration::from_secs(30), "the TLS MariaDB server", || {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("mariadbd exited ({status}): {}", read(&error_log));
            }
            socket.exists() && TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
        });
        server
    }

    /// The administrator's way in, for loading the schema: the server's Unix socket, since over
    /// TCP it takes TLS clients only.
    fn admin(&self) -> mysql_async::Opts {
        let socket = self.dir.join("mariadbd.sock");
        OptsBuilder::default()
            .user(Some("root"))
            .socket(Some(socket.to_string_lossy()))
            .into()
    }

    /// The reader's pool, built as deployed from the `DB_*` values, with `DB_TLS=required` and
    /// `DB_CA_FILE` set to `ca_file` (blank: unset).
    fn deployed_pool(&self, database: &str, ca_file: &str) -> Pool {
        let deployed = DeployedDatabase {
            host: "127.0.0.1".into(),
            port: self.port,
            user: "root".into(),
            password: String::new(),
            name: database.into(),
            tls: DatabaseTls::from_settings("required", ca_file).unwrap(),
        };
        deployed.pool()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        // A throwaway: nothing in it needs a clean shutdown.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
    let server = TlsServer::start();
    let database = TestDatabase::create_on(server.admin()).await;
    let ready = started.elapsed();

    let ca_file = server.ca_file.to_str().unwrap();
    let pool = server.deployed_pool(&database.name, ca_file);
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

    let pool = server.deployed_pool(&database.name, "");
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
