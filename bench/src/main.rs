//! `make bench`: the five functions (release builds) beside the seeds' Python handlers (under
//! awslambdaric), each started as a process on our own Lambda Runtime API host, against the same
//! moto emulator and MariaDB (and, for two writer scenarios, a store that serves requests
//! concurrently: `store.rs`). Writes target/bench/results.json and BENCHMARKS.md.
//!
//! `scenarios.rs` is what runs, `measure.rs` how it is measured, `report.rs` what is written.

mod measure;
mod report;
mod runtime;
mod scenarios;
mod store;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use cafe_tests::workspace_root;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = workspace_root();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let python = root.join(".venv-bench/bin/python");
    if !python.exists() {
        bail!("{} is missing: run `make bench`", python.display());
    }
    let started = Instant::now();
    let setup = scenarios::set_up().await?;
    let scenarios = setup.scenarios();
    let launcher = measure::Launcher {
        release: target.join("release"),
        python,
        handlers_dir: root.join("bench/python"),
        environment: setup.environment(),
    };

    let noop = measure::noop(&launcher).await;
    let mut results = Vec::new();
    for scenario in &scenarios {
        results.push(measure::scenario(&launcher, scenario).await);
    }
    let run = report::Run {
        results,
        noop,
        render_ms: measure::render_10k_beans(),
        zips: measure::zip_sizes(&target),
        started,
    };

    let results_json = report::write(&root, &run)?;
    eprintln!(
        "wrote {} and BENCHMARKS.md in {:.0} s",
        results_json.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
