//! `make bench`: the five functions (release builds) beside the seeds' Python handlers (under
//! awslambdaric), each started as a process on our own Lambda Runtime API host, against the same
//! moto emulator and MariaDB (and, for the writer's batch scenarios, a store that serves requests
//! concurrently: `store.rs`); then each function's cold start as Lambda bills it, under the CPU
//! share of each memory setting and over TLS (`cold.rs`), and what that costs (`cost.rs`).
//! Writes target/bench/results.json, BENCHMARKS.md and its chart.
//!
//! `cafe-bench --quick` (`make bench-check`, in CI) runs the cold scenario alone, at 128 MB with
//! one start per function, and fails on any error; it writes target/bench/quick.json only.
//! `cafe-bench --compare <dir> <change>` measures a change to the cold path: the functions built
//! before it (copied into `<dir>`) against this build, in turn, in one run →
//! `bench/changes/<change>.json`, which BENCHMARKS.md lists.
//!
//! `scenarios.rs` is what runs, `measure.rs` how it is measured, `report.rs` what is written.

mod chart;
mod cold;
mod cost;
mod measure;
mod quota;
mod report;
mod runtime;
mod scenarios;
mod store;
mod tls;

use std::time::Instant;

use anyhow::{Context, bail};
use cafe_tests::workspace_root;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (quick, before) = match arguments.as_slice() {
        [] => (false, None),
        [quick] if quick == "--quick" => (true, None),
        [compare, dir, change] if compare == "--compare" => {
            (false, Some((std::path::PathBuf::from(dir), change.clone())))
        }
        _ => bail!(
            "usage: cafe-bench [--quick | --compare <directory of the binaries before the change> <change-name>]"
        ),
    };
    let root = workspace_root();
    let python = root.join(".venv-bench/bin/python");
    if !python.exists() {
        bail!("{} is missing: run `make bench`", python.display());
    }
    // The functions and the noop floor are built beside this binary, in the same profile.
    let binaries = std::env::current_exe()?
        .parent()
        .context("the benchmark's directory")?
        .to_owned();
    let started = Instant::now();
    let setup = scenarios::set_up().await?;
    let launcher = measure::Launcher {
        release: binaries,
        python,
        handlers_dir: root.join("bench/python"),
        environment: setup.environment(),
        python_environment: vec![],
        memory_mb: cold::TEMPLATE_MEMORY_MB,
        cpu: measure::Cpu::Full,
    };
    let endpoints = cold::set_up(&setup).await?;
    let cold_launcher = measure::Launcher {
        environment: endpoints.environment(&launcher.environment),
        python_environment: endpoints.python_environment(&root)?,
        ..launcher.clone()
    };
    let cold_scenarios = endpoints.scenarios(&setup);

    if let Some((before, change)) = before {
        let before = measure::Launcher {
            release: before,
            ..cold_launcher.clone()
        };
        let compared = cold::compare(
            &before,
            &cold_launcher,
            &cold_scenarios,
            &cold::COMPARE_MEMORY_POINTS,
        )
        .await?;
        let compare_json = report::write_compare(&root, &change, &compared)?;
        eprintln!("wrote {}", compare_json.display());
        return Ok(());
    }

    if quick {
        let cold = cold::run(
            &cold_launcher,
            &cold_scenarios,
            &cold::QUICK_MEMORY_POINTS,
            cold::QUICK_PLAN,
            measure::Cpu::ShareIfPossible,
        )
        .await?;
        let quick_json = report::write_quick(&root, &cold)?;
        eprintln!(
            "wrote {} in {:.0} s",
            quick_json.display(),
            started.elapsed().as_secs_f64()
        );
        return report::errors_of(&cold);
    }

    let scenarios = setup.scenarios();
    let noop = measure::noop(&launcher).await;
    let mut results = Vec::new();
    for scenario in &scenarios {
        results.push(measure::scenario(&launcher, scenario).await);
    }
    let cold = cold::run(
        &cold_launcher,
        &cold_scenarios,
        &cold::MEMORY_POINTS,
        cold::PLAN,
        measure::Cpu::Share,
    )
    .await?;
    let run = report::Run {
        results,
        cold,
        noop,
        render_ms: measure::render_10k_beans(),
        zips: measure::zip_sizes(&report::target_dir(&root)),
        started,
    };

    let results_json = report::write(&root, &run)?;
    eprintln!(
        "wrote {}, BENCHMARKS.md and its chart in {:.0} s",
        results_json.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
