//! TLS from a throwaway CA that only its user trusts: [`throwaway_ca`] writes the CA and a
//! server certificate for `localhost` and 127.0.0.1; [`TlsMariaDb`] is a MariaDB server of its
//! own (never the shared one on port 3306) serving that certificate and refusing clients without
//! TLS. The reader's TLS test and the benchmark's TLS endpoints use both.

use std::fs::File;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::OptsBuilder;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use crate::{free_port, wait_until};

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
pub fn throwaway_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
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
pub struct TlsMariaDb {
    child: Child,
    dir: PathBuf,
    pub port: u16,
    /// The throwaway CA's certificate, as a PEM file.
    pub ca_file: PathBuf,
    /// The server's certificate and key (PEM files), which other TLS endpoints may serve too.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TlsMariaDb {
    pub fn start() -> Self {
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
        let (ca_file, cert, key) = throwaway_ca(&dir);

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
            cert_file: cert,
            key_file: key,
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
    pub fn admin(&self) -> mysql_async::Opts {
        let socket = self.dir.join("mariadbd.sock");
        OptsBuilder::default()
            .user(Some("root"))
            .socket(Some(socket.to_string_lossy()))
            .into()
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        // A throwaway: nothing in it needs a clean shutdown.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
