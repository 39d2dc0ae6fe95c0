//! The cold start as Lambda bills it: each function started under the CPU share its memory
//! setting buys (`quota.rs`), reaching its services over TLS as on AWS, and measured from process
//! start through its first answer, then warm.
//!
//! The AWS endpoints are the emulator behind an HTTPS endpoint (`tls.rs`), the database a MariaDB
//! server of the benchmark's own that takes TLS clients only (`cafe_tests::tls::TlsMariaDb`);
//! both present certificates of a throwaway CA that only the benchmark's processes trust
//! (`AWS_CA_BUNDLE` for the SDKs, `DB_CA_FILE` for the database drivers). inventory-reader reads
//! its database password from Secrets Manager at cold start, as deployed.

use anyhow::Context;
use cafe_tests::TestDatabase;
use cafe_tests::tls::TlsMariaDb;

use crate::measure::{self, Cpu, Launcher, Measured, Plan, ScenarioResult};
use crate::quota::CpuQuota;
use crate::scenarios::{BATCH_OF_10, MAILER, NOTIFIER, READER_SEED, RENDERER_10, Scenario, Setup};
use crate::tls;

/// The template's `MemorySize` (Globals): what the full-speed scenarios tell their processes.
pub const TEMPLATE_MEMORY_MB: u32 = 128;
/// The memory settings measured: Lambda's smallest, the template's, and two larger.
pub const MEMORY_POINTS: [u32; 4] = [128, 256, 512, 1024];
/// Each function and memory point: 3 cold starts, each fed its first event and 20 warm ones.
pub const PLAN: Plan = Plan {
    starts: 3,
    warm_up: 1,
    measured: 20,
};
/// `cafe-bench --quick` (CI): the smallest memory, one start and 3 warm events.
pub const QUICK_MEMORY_POINTS: [u32; 1] = [128];
pub const QUICK_PLAN: Plan = Plan {
    starts: 1,
    warm_up: 1,
    measured: 3,
};
/// `cafe-bench --compare`: the smallest memory and the largest measured, 6 starts of each build.
pub const COMPARE_MEMORY_POINTS: [u32; 2] = [128, 1024];
const COMPARE_PLAN: Plan = Plan {
    starts: 6,
    warm_up: 1,
    measured: 20,
};

/// One scenario per function: what each does in the pipelines as configured (the writer's SQS
/// batches are of 10).
const SCENARIOS: [&str; 5] = [BATCH_OF_10, NOTIFIER, READER_SEED, RENDERER_10, MAILER];

/// The TLS endpoints and what the reader reads through them; dropping it stops them.
pub struct TlsEndpoints {
    /// The seed data on the TLS server (dropped before the server).
    database: TestDatabase,
    mariadb: TlsMariaDb,
    /// The emulator behind HTTPS.
    aws: String,
    /// The reader's database password, in the emulator's Secrets Manager.
    secret_arn: String,
}

pub async fn set_up(setup: &Setup) -> anyhow::Result<TlsEndpoints> {
    let mariadb = TlsMariaDb::start();
    let database = TestDatabase::create_on(mariadb.admin()).await;
    let aws = tls::https_in_front_of(
        setup.emulator_address(),
        &mariadb.cert_file,
        &mariadb.key_file,
    )
    .await?;
    let secrets = aws_sdk_secretsmanager::Client::new(&setup.emulator().sdk_config());
    let secret = secrets
        .create_secret()
        .name(format!("cafe-bench-db-{}", database.name))
        .secret_string(r#"{"username": "root", "password": ""}"#)
        .send()
        .await
        .context("the reader's database secret")?;
    Ok(TlsEndpoints {
        database,
        mariadb,
        aws,
        secret_arn: secret.arn().unwrap_or_default().to_owned(),
    })
}

impl TlsEndpoints {
    /// Every process's environment: `base` with the AWS endpoint over HTTPS and its CA trusted.
    pub fn environment(&self, base: &[(String, String)]) -> Vec<(String, String)> {
        let mut environment: Vec<(String, String)> = base
            .iter()
            .filter(|(name, _)| name != "AWS_ENDPOINT_URL")
            .cloned()
            .collect();
        environment.push(("AWS_ENDPOINT_URL".into(), self.aws.clone()));
        environment.push(("AWS_CA_BUNDLE".into(), self.ca_file()));
        environment
    }

    fn ca_file(&self) -> String {
        self.mariadb.ca_file.to_string_lossy().into_owned()
    }

    /// The Python processes' `AWS_CA_BUNDLE`: the roots botocore loads by default (its own bundle,
    /// or certifi's where installed), and the throwaway CA. Given the throwaway CA alone, botocore would skip the parsing of the
    /// roots it does on Lambda; the Rust functions trust their compiled-in Amazon roots there and
    /// here alike.
    pub fn python_environment(
        &self,
        root: &std::path::Path,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let python = root.join(".venv-bench/bin/python");
        let output = std::process::Command::new(&python)
            .args([
                "-c",
                "from botocore.httpsession import get_cert_path; print(get_cert_path(True))",
            ])
            .output()
            .with_context(|| format!("{}", python.display()))?;
        let default = String::from_utf8(output.stdout)?.trim().to_owned();
        let mut bundle =
            std::fs::read(&default).with_context(|| format!("botocore's CA bundle {default:?}"))?;
        bundle.extend(std::fs::read(&self.mariadb.ca_file)?);
        let path = root.join("target/bench/python-ca-bundle.pem");
        std::fs::create_dir_all(root.join("target/bench"))?;
        std::fs::write(&path, bundle)?;
        Ok(vec![(
            "AWS_CA_BUNDLE".into(),
            path.to_string_lossy().into_owned(),
        )])
    }

    /// The reader's settings: the deployed form (`DB_*`, the password from Secrets Manager) for
    /// the Rust reader, `DATABASE_URL` for the seed's; both over TLS with the throwaway CA.
    fn reader_environment(&self) -> Vec<(&'static str, String)> {
        let port = self.mariadb.port;
        vec![
            ("DB_HOST", "127.0.0.1".into()),
            ("DB_PORT", port.to_string()),
            ("DB_USER", "root".into()),
            ("DB_NAME", self.database.name.clone()),
            ("DB_SECRET_ARN", self.secret_arn.clone()),
            ("DB_TLS", "required".into()),
            ("DB_CA_FILE", self.ca_file()),
            (
                "DATABASE_URL",
                format!("mysql://root@127.0.0.1:{port}/{}", self.database.name),
            ),
        ]
    }

    /// One scenario per function, the reader's reading the TLS server.
    pub fn scenarios(&self, setup: &Setup) -> Vec<Scenario> {
        setup
            .scenarios()
            .into_iter()
            .filter(|scenario| SCENARIOS.contains(&scenario.name))
            .map(|mut scenario| {
                if scenario.function == "inventory-reader" {
                    scenario.env = self.reader_environment();
                }
                scenario
            })
            .collect()
    }
}

/// A change to the cold path, measured: each scenario's Rust function as `before` built it and as
/// `after` does, under each memory point's quota.
pub async fn compare<'a>(
    before: &Launcher,
    after: &Launcher,
    scenarios: &'a [Scenario],
    memory_points: &[u32],
) -> anyhow::Result<Vec<(u32, &'a str, Measured, Measured)>> {
    let mut results = Vec::new();
    for &memory_mb in memory_points {
        let (before, after) = (
            before.at(memory_mb, Cpu::Share),
            after.at(memory_mb, Cpu::Share),
        );
        for scenario in scenarios {
            let (old, new) = measure::compare(&before, &after, scenario, COMPARE_PLAN).await;
            eprintln!(
                "{memory_mb} MB, {}: init {:.1} → {:.1} ms, first {:.1} → {:.1} ms, billed {:.0} → {:.0} ms, warm {:.2} → {:.2} ms",
                scenario.name,
                old.init(),
                new.init(),
                old.first(),
                new.first(),
                old.billed(),
                new.billed(),
                old.latency(),
                new.latency()
            );
            results.push((memory_mb, scenario.name, old, new));
        }
    }
    Ok(results)
}

/// The cold scenarios at each memory point, Rust then Python, each process under that point's
/// CPU quota (`cpu`: `Share`, or `ShareIfPossible` for the quick check).
pub async fn run<'a>(
    launcher: &Launcher,
    scenarios: &'a [Scenario],
    memory_points: &[u32],
    plan: Plan,
    cpu: Cpu,
) -> anyhow::Result<Vec<(u32, Vec<ScenarioResult<'a>>)>> {
    // Say it at once when the quota cannot be had, rather than in every process's error.
    if cpu == Cpu::Share {
        CpuQuota::new(memory_points[0])?;
    }
    let mut results = Vec::new();
    for &memory_mb in memory_points {
        let launcher = launcher.at(memory_mb, cpu);
        let mut at_this_point = Vec::new();
        for scenario in scenarios {
            at_this_point.push(measure::cold(&launcher, scenario, plan).await);
        }
        results.push((memory_mb, at_this_point));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_memory_is_the_templates_and_among_the_points_measured() {
        let template = std::fs::read_to_string(cafe_tests::workspace_root().join("template.yaml"))
            .expect("template.yaml");
        let globals = template
            .split("\nResources:")
            .next()
            .expect("Globals before Resources");
        assert!(
            globals.contains(&format!("\n    MemorySize: {TEMPLATE_MEMORY_MB}\n")),
            "template.yaml's Globals MemorySize is not {TEMPLATE_MEMORY_MB}"
        );
        assert!(MEMORY_POINTS.contains(&TEMPLATE_MEMORY_MB));
    }
}
