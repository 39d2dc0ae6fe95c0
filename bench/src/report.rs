//! What the figures come to: the ratios the targets are judged on, target/bench/results.json, and
//! BENCHMARKS.md (through `templates/BENCHMARKS.md`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use askama::Template;
use serde_json::{Value, json};

use crate::chart::{self, CostPoint};
use crate::cold;
use crate::cost;
use crate::measure::{FULL_SPEED, Measured, Plan, RENDERS, ScenarioResult, stats};
use crate::scenarios::{
    BATCH_OF_1, BATCH_OF_10, CONCURRENT_1, CONCURRENT_10, MAILER, NOTIFIER, READER_SEED,
    RENDERER_10, STORE_SERVICE_TIME,
};

/// The largest release zip a function may have, in bytes: a target of `make bench`, which
/// `make build` also checks of what `sam build` made (deploy/check_build.py reads it from here).
pub const MAX_ZIP_BYTES: u64 = 6_000_000;

/// BENCHMARKS.md from this line on is the load figures of `make test-faults`, not ours.
const FAULTS_MARKER: &str = "<!-- load figures from make test-faults -->";

/// Where the chart of the cost table is written, beside the docs (BENCHMARKS.md links it).
const COST_CHART: &str = "docs/bench-cost.svg";

/// The cold scenario's results: per memory point, one per function.
pub type ColdResults<'a> = Vec<(u32, Vec<ScenarioResult<'a>>)>;

/// Everything a run measured.
pub struct Run<'a> {
    pub results: Vec<ScenarioResult<'a>>,
    pub cold: ColdResults<'a>,
    pub noop: Measured,
    /// Median and p95 (ms) of the render-only repetitions.
    pub render_ms: (f64, f64),
    pub zips: Vec<(String, u64)>,
    pub started: Instant,
}

/// The cargo target directory, where `make build` leaves the zips.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Always target/bench/ beside the sources, as the README says, whatever CARGO_TARGET_DIR is.
fn out_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out)?;
    Ok(out)
}

/// Writes target/bench/results.json, BENCHMARKS.md and its cost chart; returns where
/// results.json is.
pub fn write(root: &Path, run: &Run) -> anyhow::Result<PathBuf> {
    let summary = summary(run);
    let changes = recorded_changes(root);
    let results_json = out_dir(root)?.join("results.json");
    std::fs::write(&results_json, serde_json::to_string_pretty(&summary)?)?;
    std::fs::write(
        root.join(COST_CHART),
        chart::cost_svg(&cost_points(&run.cold)),
    )?;
    // What `make test-faults` recorded under the marker is kept.
    let benchmarks = root.join("BENCHMARKS.md");
    let kept = std::fs::read_to_string(&benchmarks)
        .ok()
        .and_then(|old| old.find(FAULTS_MARKER).map(|at| old[at..].to_owned()))
        .unwrap_or_default();
    std::fs::write(
        &benchmarks,
        markdown(&summary, run, changes)? + "\n" + &kept,
    )?;
    Ok(results_json)
}

/// `cafe-bench --quick`: the cold scenario's figures in target/bench/quick.json.
pub fn write_quick(root: &Path, cold: &ColdResults) -> anyhow::Result<PathBuf> {
    let quick_json = out_dir(root)?.join("quick.json");
    let figures = cold_json(cold, cold::QUICK_PLAN);
    std::fs::write(&quick_json, serde_json::to_string_pretty(&figures)?)?;
    Ok(quick_json)
}

/// Where `cafe-bench --compare` records each change to the cold path, measured before and after.
const CHANGES: &str = "bench/changes";

/// `cafe-bench --compare`: each function's cold figures before and after `change`, in
/// `bench/changes/<change>.json`.
pub fn write_compare(
    root: &Path,
    change: &str,
    compared: &[(u32, &str, Measured, Measured)],
) -> anyhow::Result<PathBuf> {
    let rows: Vec<Value> = compared
        .iter()
        .map(|(memory_mb, scenario, before, after)| {
            json!({"memory_mb": memory_mb, "scenario": scenario,
                   "before": cold_measured_json(before), "after": cold_measured_json(after),
                   "billed_after_over_before": after.billed() / before.billed(),
                   "first_after_over_before": after.first() / before.first(),
                   "init_after_over_before": after.init() / before.init()})
        })
        .collect();
    let folder = root.join(CHANGES);
    std::fs::create_dir_all(&folder)?;
    let compare_json = folder.join(format!("{change}.json"));
    let record = json!({"change": change, "machine": machine(), "rows": rows});
    std::fs::write(&compare_json, serde_json::to_string_pretty(&record)? + "\n")?;
    Ok(compare_json)
}

/// One row of a recorded change: a function at a memory point, before → after (medians, ms).
struct ChangeRow {
    change: String,
    memory_mb: u64,
    scenario: String,
    before: [f64; 3],
    after: [f64; 3],
}

/// The changes `bench/changes/` records, in name order.
fn recorded_changes(root: &Path) -> Vec<ChangeRow> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(CHANGES))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let figures = |side: &Value| {
        ["init_ms", "first_ms", "billed_ms"].map(|key| side[key].as_f64().unwrap_or(f64::NAN))
    };
    files
        .iter()
        .filter_map(|path| serde_json::from_str::<Value>(&std::fs::read_to_string(path).ok()?).ok())
        .flat_map(|record| {
            let change = record["change"].as_str().unwrap_or_default().to_owned();
            let rows = record["rows"].as_array().cloned().unwrap_or_default();
            rows.into_iter().map(move |row| ChangeRow {
                change: change.clone(),
                memory_mb: row["memory_mb"].as_u64().unwrap_or_default(),
                scenario: row["scenario"].as_str().unwrap_or_default().to_owned(),
                before: figures(&row["before"]),
                after: figures(&row["after"]),
            })
        })
        .collect()
}

/// Fails when any process of the cold scenario failed, or a figure is missing.
pub fn errors_of(cold: &ColdResults) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for (memory_mb, results) in cold {
        for result in results {
            for (implementation, measured) in [("Rust", &result.rust), ("Python", &result.python)] {
                let what = format!("{memory_mb} MB, {}, {implementation}", result.scenario.name);
                if !measured.errors.is_empty() {
                    problems.push(format!("{what}: {}", measured.errors.join("; ")));
                } else if !(measured.billed().is_finite() && measured.latency().is_finite()) {
                    problems.push(format!(
                        "{what}: no cold start or no warm invocation measured"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the cold scenario failed:\n{}", problems.join("\n"))
    }
}

/// A function's cold figures at one memory point.
fn cold_of<'r, 'a>(
    results: &'r [ScenarioResult<'a>],
    name: &str,
) -> Option<&'r ScenarioResult<'a>> {
    results.iter().find(|r| r.scenario.name == name)
}

/// The cost table's figures at each memory point.
fn cost_points(cold: &ColdResults) -> Vec<CostPoint> {
    cold.iter()
        .map(|(memory_mb, results)| {
            let figure = |name: &str, of: fn(&Measured) -> f64, rust: bool| {
                cold_of(results, name)
                    .map_or(f64::NAN, |r| of(if rust { &r.rust } else { &r.python }))
            };
            let orders = |rust| {
                cost::per_1000_orders(
                    *memory_mb,
                    figure(BATCH_OF_10, Measured::billed_warm_mean, rust),
                    figure(NOTIFIER, Measured::billed_warm_mean, rust),
                )
            };
            let report = |rust| {
                cost::per_report(
                    *memory_mb,
                    [READER_SEED, RENDERER_10, MAILER]
                        .map(|name| figure(name, Measured::billed, rust)),
                )
            };
            CostPoint {
                memory_mb: *memory_mb,
                rust_orders: orders(true),
                python_orders: orders(false),
                rust_report: report(true),
                python_report: report(false),
            }
        })
        .collect()
}

fn cold_measured_json(measured: &Measured) -> Value {
    let (warm, warm_p95) = stats(measured.latency_ms.clone());
    json!({"init_ms": measured.init(), "first_ms": measured.first(),
           "warm_ms": {"median": warm, "p95": warm_p95, "samples": measured.latency_ms.len()},
           "billed_ms": measured.billed(), "billed_samples": measured.billed_ms,
           "peak_rss_bytes": measured.peak_rss, "errors": measured.errors})
}

/// The cold scenario, with the ratios taken side by side at each memory point.
fn cold_json(cold: &ColdResults, plan: Plan) -> Value {
    let points: Vec<Value> = cold
        .iter()
        .map(|(memory_mb, results)| {
            let functions: Vec<Value> = results
                .iter()
                .map(|r| {
                    json!({"scenario": r.scenario.name, "function": r.scenario.function,
                           "rust": cold_measured_json(&r.rust), "python": cold_measured_json(&r.python),
                           "billed_rust_over_python": r.rust.billed() / r.python.billed(),
                           "init_rust_over_python": r.rust.init() / r.python.init(),
                           "first_rust_over_python": r.rust.first() / r.python.first(),
                           "warm_rust_over_python": r.rust.latency() / r.python.latency(),
                           "rss_rust_over_python": r.rust.peak_rss as f64 / r.python.peak_rss as f64,
                           "rust_first_over_warm": r.rust.first() / r.rust.latency()})
                })
                .collect();
            json!({"memory_mb": memory_mb, "cpu_share_of_a_core": f64::from(*memory_mb) / f64::from(crate::quota::FULL_CORE_MB),
                   "functions": functions})
        })
        .collect();
    let costs: Vec<Value> = cost_points(cold)
        .iter()
        .map(|p| {
            json!({"memory_mb": p.memory_mb,
                   "usd_per_1000_orders": {"rust": p.rust_orders, "python": p.python_orders,
                                           "rust_over_python": p.rust_orders / p.python_orders},
                   "usd_per_report": {"rust": p.rust_report, "python": p.python_report,
                                      "rust_over_python": p.rust_report / p.python_report}})
        })
        .collect();
    json!({"points": points, "cost": costs, "prices": {"usd_per_gb_second": cost::USD_PER_GB_SECOND,
           "usd_per_request": cost::USD_PER_REQUEST, "source": cost::PRICES_SOURCE},
           "plan": {"starts": plan.starts, "warm": plan.measured}})
}

/// The goals of the cold scenario, over one run: at the smallest memory, Rust's billed cold
/// start against Python's and its first invocation against a warm one (the largest of the
/// functions'); at every memory point, Rust's cost per 1,000 orders against Python's.
fn cold_goals(cold: &ColdResults) -> (f64, f64, f64) {
    let max = largest;
    let smallest = cold.iter().min_by_key(|(memory_mb, _)| *memory_mb);
    let (billed, first) = smallest.map_or((f64::NAN, f64::NAN), |(_, results)| {
        (
            max(results
                .iter()
                .map(|r| r.rust.billed() / r.python.billed())
                .collect()),
            max(results
                .iter()
                .map(|r| r.rust.first() / r.rust.latency())
                .collect()),
        )
    });
    let cost = max(cost_points(cold)
        .iter()
        .map(|p| p.rust_orders / p.python_orders)
        .collect());
    (billed, first, cost)
}

/// The largest of `values`; NaN if there are none or one is NaN (a function that failed), so that
/// a target over them cannot read as met.
fn largest(values: Vec<f64>) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

/// The smallest of `values`, NaN as for [`largest`].
fn smallest(values: Vec<f64>) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    values.into_iter().fold(f64::INFINITY, f64::min)
}

/// results.json: the ratios the targets are judged on, then under `raw` everything measured.
fn summary(run: &Run) -> Value {
    let results = &run.results;
    // One scenario per function for the cross-function ratios: its first (smallest) one.
    let per_function: Vec<&ScenarioResult> = cafe_tests::template::functions()
        .iter()
        .filter_map(|f| results.iter().find(|r| r.scenario.function == f))
        .collect();
    let max = largest;
    let min = smallest;
    let init_rust_over_noop_max = max(per_function
        .iter()
        .map(|r| r.rust.init_over_floor())
        .collect());
    let init_python_over_rust_min = min(per_function
        .iter()
        .map(|r| r.python.init() / r.rust.init())
        .collect());
    let rss_rust_over_python_max = max(per_function
        .iter()
        .map(|r| r.rust.peak_rss as f64 / r.python.peak_rss as f64)
        .collect());
    let scenario = |name: &str| {
        results
            .iter()
            .find(|r| r.scenario.name == name)
            .expect("a scenario of that name")
    };
    let batch10_over_batch1 = |batch_of_1: &str, batch_of_10: &str| {
        let (one, ten) = (scenario(batch_of_1), scenario(batch_of_10));
        (
            ten.rust.latency() / one.rust.latency(),
            ten.python.latency() / one.python.latency(),
        )
    };
    let (writer_batch10_over_batch1, python_writer_batch10_over_batch1) =
        batch10_over_batch1(BATCH_OF_1, BATCH_OF_10);
    let (concurrent_store_ratio, python_concurrent_store_ratio) =
        batch10_over_batch1(CONCURRENT_1, CONCURRENT_10);
    let zip_bytes_max = run.zips.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let (render_median, render_p95) = run.render_ms;

    let raw: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({"scenario": r.scenario.name, "function": r.scenario.function,
                        "rust": measured_json(&r.rust), "python": measured_json(&r.python)})
        })
        .collect();
    let (cold_billed, cold_first, cold_cost) = cold_goals(&run.cold);
    json!({
        "cold_128mb_billed_rust_over_python_max": cold_billed,
        "cold_128mb_first_over_warm_max": cold_first,
        "cost_per_1000_orders_rust_over_python_max": cold_cost,
        "init_rust_over_noop_max": init_rust_over_noop_max,
        "init_python_over_rust_min": init_python_over_rust_min,
        "writer_batch10_over_batch1": writer_batch10_over_batch1,
        "writer_batch10_over_batch1_concurrent_store": concurrent_store_ratio,
        "rss_rust_over_python_max": rss_rust_over_python_max,
        "render_10k_beans_ms": render_median,
        "zip_bytes_max": zip_bytes_max,
        "cold": cold_json(&run.cold, cold::PLAN),
        "raw": {"machine": machine(), "starts": FULL_SPEED.starts,
                "python_writer_batch10_over_batch1": python_writer_batch10_over_batch1,
                "python_writer_batch10_over_batch1_concurrent_store": python_concurrent_store_ratio,
                "store_service_time_ms": STORE_SERVICE_TIME.as_secs_f64() * 1000.0, "warm_up": FULL_SPEED.warm_up, "measured": FULL_SPEED.measured,
                "noop": measured_json(&run.noop), "scenarios": raw,
                "render_10k_beans_ms": {"median": render_median, "p95": render_p95, "runs": RENDERS},
                "zips": run.zips.iter().map(|(f, s)| json!({"function": f, "bytes": s})).collect::<Vec<_>>(),
                "duration_s": run.started.elapsed().as_secs_f64()}
    })
}

fn measured_json(measured: &Measured) -> Value {
    let (init, init_p95) = stats(measured.init_ms.clone());
    let (latency, latency_p95) = stats(measured.latency_ms.clone());
    json!({"init_ms": {"median": init, "p95": init_p95, "samples": measured.init_ms},
           "floor_init_ms": {"median": measured.floor_init(), "samples": measured.floor_init_ms},
           "latency_ms": {"median": latency, "p95": latency_p95, "samples": measured.latency_ms.len()},
           "peak_rss_bytes": measured.peak_rss, "errors": measured.errors})
}

/// This machine's CPU, cores and memory, for the reader of the figures.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let cores = cpu.lines().filter(|l| l.starts_with("processor")).count();
    let memory = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = memory
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|m| m.trim().to_owned())
        .unwrap_or_default();
    format!("{model}, {cores} cores, {total} memory, Linux x86_64")
}

/// BENCHMARKS.md above the fault suite's figures. The prose is in the template; what varies is
/// here.
#[derive(Template)]
#[template(path = "BENCHMARKS.md", escape = "none")]
struct BenchmarksPage<'a> {
    machine: &'a str,
    starts: usize,
    warm_up: usize,
    measured: usize,
    init_rust_over_noop_max: f64,
    init_python_over_rust_min: f64,
    writer_batch10_over_batch1: f64,
    python_writer_batch10_over_batch1: f64,
    writer_batch10_over_batch1_concurrent_store: f64,
    python_writer_batch10_over_batch1_concurrent_store: f64,
    rss_rust_over_python_max: f64,
    zip_bytes_max: f64,
    render_median_ms: f64,
    render_p95_ms: f64,
    met: TargetsMet,
    noop_init_ms: f64,
    noop_peak_rss_kib: u64,
    rows: Vec<ScenarioRow<'a>>,
    zips: &'a [(String, u64)],
    cold_billed_rust_over_python_max: f64,
    cold_first_over_warm_max: f64,
    cost_rust_over_python_max: f64,
    cold_starts: usize,
    cold_warm: usize,
    cold_rows: Vec<ColdRow<'a>>,
    cost_rows: Vec<CostPoint>,
    prices_source: &'static str,
    cost_chart: &'static str,
    changes: Vec<ChangeRow>,
    changes_dir: &'static str,
}

/// One function's line in the cold-start table: both implementations side by side.
struct ColdRow<'a> {
    memory_mb: u32,
    scenario: &'a str,
    rust: &'a Measured,
    python: &'a Measured,
}

impl ColdRow<'_> {
    fn warm_p95(measured: &Measured) -> f64 {
        stats(measured.latency_ms.clone()).1
    }
    fn mib(measured: &Measured) -> f64 {
        measured.peak_rss as f64 / 1_048_576.0
    }
    fn errors(&self) -> String {
        let errors: Vec<&String> = self.rust.errors.iter().chain(&self.python.errors).collect();
        errors
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join("; ")
            .replace('|', "/")
            .chars()
            .take(200)
            .collect()
    }
}

/// Which targets the figures meet, in the order of the Targets table.
struct TargetsMet {
    init_over_floor: bool,
    init_over_python: bool,
    writer_batch: bool,
    peak_rss: bool,
    zips: bool,
    render: bool,
    cold_billed: bool,
    cold_first: bool,
    cost: bool,
}

/// One implementation's line in the Scenarios table.
struct ScenarioRow<'a> {
    scenario: &'a str,
    implementation: &'static str,
    init_median_ms: f64,
    init_p95_ms: f64,
    /// Only the Rust processes are started beside the floor.
    init_over_floor: Option<f64>,
    latency_median_ms: f64,
    latency_p95_ms: f64,
    peak_rss_mib: f64,
    /// Empty when there were none.
    errors: String,
}

impl<'a> ScenarioRow<'a> {
    fn new(scenario: &'a str, implementation: &'static str, measured: &Measured) -> Self {
        let (init_median_ms, init_p95_ms) = stats(measured.init_ms.clone());
        let (latency_median_ms, latency_p95_ms) = stats(measured.latency_ms.clone());
        ScenarioRow {
            scenario,
            implementation,
            init_median_ms,
            init_p95_ms,
            init_over_floor: (!measured.floor_init_ms.is_empty())
                .then(|| measured.init_over_floor()),
            latency_median_ms,
            latency_p95_ms,
            peak_rss_mib: measured.peak_rss as f64 / 1_048_576.0,
            // A `|` would end the table cell.
            errors: measured
                .errors
                .join("; ")
                .replace('|', "/")
                .chars()
                .take(200)
                .collect(),
        }
    }
}

fn markdown(summary: &Value, run: &Run, changes: Vec<ChangeRow>) -> Result<String, askama::Error> {
    // The targets' figures are read back from the summary, so that the page says what
    // results.json records (a ratio JSON cannot hold, an infinite one, is null there, NaN here).
    let figure = |key: &str| summary[key].as_f64().unwrap_or(f64::NAN);
    let raw = |key: &str| summary["raw"][key].as_f64().unwrap_or(f64::NAN);
    let zip_bytes_max = figure("zip_bytes_max");
    let page = BenchmarksPage {
        machine: summary["raw"]["machine"].as_str().unwrap_or_default(),
        starts: FULL_SPEED.starts,
        warm_up: FULL_SPEED.warm_up,
        measured: FULL_SPEED.measured,
        init_rust_over_noop_max: figure("init_rust_over_noop_max"),
        init_python_over_rust_min: figure("init_python_over_rust_min"),
        writer_batch10_over_batch1: figure("writer_batch10_over_batch1"),
        python_writer_batch10_over_batch1: raw("python_writer_batch10_over_batch1"),
        writer_batch10_over_batch1_concurrent_store: figure(
            "writer_batch10_over_batch1_concurrent_store",
        ),
        python_writer_batch10_over_batch1_concurrent_store: raw(
            "python_writer_batch10_over_batch1_concurrent_store",
        ),
        rss_rust_over_python_max: figure("rss_rust_over_python_max"),
        zip_bytes_max,
        render_median_ms: figure("render_10k_beans_ms"),
        render_p95_ms: run.render_ms.1,
        met: TargetsMet {
            init_over_floor: figure("init_rust_over_noop_max") <= 2.0,
            init_over_python: figure("init_python_over_rust_min") >= 5.0,
            writer_batch: figure("writer_batch10_over_batch1") <= 2.0,
            peak_rss: figure("rss_rust_over_python_max") <= 0.5,
            // No zip at all is not a pass.
            zips: zip_bytes_max <= MAX_ZIP_BYTES as f64 && zip_bytes_max > 0.0,
            render: figure("render_10k_beans_ms") <= 50.0,
            cold_billed: figure("cold_128mb_billed_rust_over_python_max") <= 0.2,
            cold_first: figure("cold_128mb_first_over_warm_max") <= 2.0,
            cost: figure("cost_per_1000_orders_rust_over_python_max") < 1.0,
        },
        noop_init_ms: run.noop.init(),
        noop_peak_rss_kib: run.noop.peak_rss / 1024,
        rows: run
            .results
            .iter()
            .flat_map(|r| {
                [
                    ScenarioRow::new(r.scenario.name, "Rust", &r.rust),
                    ScenarioRow::new(r.scenario.name, "Python", &r.python),
                ]
            })
            .collect(),
        zips: &run.zips,
        cold_billed_rust_over_python_max: figure("cold_128mb_billed_rust_over_python_max"),
        cold_first_over_warm_max: figure("cold_128mb_first_over_warm_max"),
        cost_rust_over_python_max: figure("cost_per_1000_orders_rust_over_python_max"),
        cold_starts: cold::PLAN.starts,
        cold_warm: cold::PLAN.measured,
        cold_rows: run
            .cold
            .iter()
            .flat_map(|(memory_mb, results)| {
                results.iter().map(|r| ColdRow {
                    memory_mb: *memory_mb,
                    scenario: r.scenario.name,
                    rust: &r.rust,
                    python: &r.python,
                })
            })
            .collect(),
        cost_rows: cost_points(&run.cold),
        prices_source: cost::PRICES_SOURCE,
        cost_chart: COST_CHART,
        changes,
        changes_dir: CHANGES,
    };
    let mut markdown = page.render()?;
    // askama drops the template file's final newline.
    markdown.push('\n');
    Ok(markdown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::Scenario;

    fn measured(
        init: &[f64],
        floor: &[f64],
        latency: &[f64],
        rss: u64,
        errors: &[&str],
    ) -> Measured {
        Measured {
            init_ms: init.to_vec(),
            floor_init_ms: floor.to_vec(),
            latency_ms: latency.to_vec(),
            peak_rss: rss,
            errors: errors.iter().map(|e| e.to_string()).collect(),
            ..Measured::default()
        }
    }

    fn scenario(name: &'static str, function: &'static str) -> Scenario {
        Scenario {
            name,
            function,
            python: "unused",
            env: vec![],
            event: Box::new(|_| vec![]),
        }
    }

    /// A fixed, small run: the writer's four batch scenarios (which the ratios need) and a
    /// mailer whose Rust errors are long and whose Python never started.
    fn scenarios() -> Vec<Scenario> {
        vec![
            scenario(BATCH_OF_1, "order-writer"),
            scenario(BATCH_OF_10, "order-writer"),
            scenario("report-mailer, presign + publish", "report-mailer"),
            scenario(CONCURRENT_1, "order-writer"),
            scenario(CONCURRENT_10, "order-writer"),
        ]
    }

    fn run(scenarios: &[Scenario]) -> Run<'_> {
        let long = "x".repeat(250);
        let figures = [
            (
                measured(
                    &[1.0, 1.2, 1.1],
                    &[0.5, 0.6, 0.55],
                    &[3.0, 3.5, 2.9, 4.0],
                    5_300_000,
                    &[],
                ),
                measured(
                    &[300.0, 320.0, 310.0],
                    &[],
                    &[10.0, 12.0, 11.0],
                    61_000_000,
                    &["boom | bad", "second"],
                ),
            ),
            (
                measured(
                    &[1.3, 1.1, 1.0],
                    &[0.5, 0.52, 0.58],
                    &[30.0, 31.5, 29.0],
                    5_600_000,
                    &[],
                ),
                measured(
                    &[305.0, 321.0, 311.0],
                    &[],
                    &[100.0, 120.0, 110.0],
                    62_000_000,
                    &[],
                ),
            ),
            (
                measured(
                    &[2.0, 2.2, 2.1],
                    &[0.4, 0.6, 0.5],
                    &[8.0, 9.0, 7.5],
                    7_000_000,
                    &[&long],
                ),
                measured(&[400.0, 420.0], &[], &[], 0, &["no start"]),
            ),
            (
                measured(
                    &[1.0, 1.0, 1.0],
                    &[0.5, 0.5, 0.5],
                    &[6.0, 6.1, 6.2],
                    5_000_000,
                    &[],
                ),
                measured(
                    &[300.0, 300.0, 300.0],
                    &[],
                    &[6.5, 6.6, 6.7],
                    60_000_000,
                    &[],
                ),
            ),
            (
                measured(
                    &[1.0, 1.0, 1.0],
                    &[0.5, 0.5, 0.5],
                    &[7.0, 7.1, 7.2],
                    5_100_000,
                    &[],
                ),
                measured(
                    &[300.0, 300.0, 300.0],
                    &[],
                    &[65.0, 66.0, 67.0],
                    60_100_000,
                    &[],
                ),
            ),
        ];
        Run {
            results: scenarios
                .iter()
                .zip(figures)
                .map(|(scenario, (rust, python))| ScenarioResult {
                    scenario,
                    rust,
                    python,
                })
                .collect(),
            noop: measured(&[0.5, 0.45, 0.6], &[], &[1.0, 1.1], 1_600_000, &[]),
            cold: vec![],
            render_ms: stats(vec![12.0, 13.5, 11.0, 20.0]),
            zips: vec![
                ("order-writer".into(), 4_000_000),
                ("order-notifier".into(), 0),
                ("report-mailer".into(), 5_500_000),
            ],
            started: Instant::now(),
        }
    }

    #[test]
    fn the_page_shows_the_targets_the_scenarios_and_the_zips() {
        let scenarios = scenarios();
        let run = run(&scenarios);
        let mut summary = summary(&run);
        summary["raw"]["machine"] = json!("Test CPU, 4 cores, 8 GB memory, Linux x86_64");
        let page = markdown(&summary, &run, vec![]).unwrap();
        for line in [
            "# Benchmarks\n\nGenerated by `make bench`; do not edit by hand. Each function runs",
            "\nMachine: Test CPU, 4 cores, 8 GB memory, Linux x86_64. Each implementation: 9 cold starts × (2 warm-up + 10 measured events); medians and p95.\n\n## Targets\n\n| target | result |\n| --- | --- |\n",
            "\n| init ≤ 2× the noop floor, every handler | **missed** max ratio 4.20 |\n",
            "\n| init ≤ 1/5 of Python, every handler | **met** Python is at least 200.0× slower to start |\n",
            // No Python RSS for the mailer: an infinite ratio, null in results.json.
            "\n| peak RSS ≤ ½ of Python, every handler | **missed** max ratio NaN |\n",
            "\n| every zip ≤ 6 MB | **met** largest 5500000 bytes |\n",
            "\n| 10,000 beans rendered in ≤ 50 ms | **met** median 13.5 ms, p95 20.0 ms (render only, in process) |\n",
            "\nNoop floor (`bench/src/bin/noop.rs`): init median 0.5 ms, peak RSS 1562 KiB.",
            "\n| scenario | implementation | init median / p95 (ms) | latency median / p95 (ms) | peak RSS (MiB) | errors |\n| --- | --- | --- | --- | --- | --- |\n",
            "\n| order-writer, batch of 1 | Rust | 1.1 / 1.2 (2.00× the floor) | 3.50 / 4.00 | 5.1 | none |\n",
            "\n| order-writer, batch of 1 | Python | 310.0 / 320.0 | 11.00 / 12.00 | 58.2 | boom / bad; second |\n",
            "\n| report-mailer, presign + publish | Python | 420.0 / 420.0 | NaN / NaN | 0.0 | no start |\n",
            "\n## Release zips (`make build`, arm64)\n\n| function | bytes |\n| --- | --- |\n| order-writer | 4000000 |\n| order-notifier | 0 |\n| report-mailer | 5500000 |\n\n## Cold start as billed\n",
            "\nRaw figures: `target/bench/results.json`.\n",
        ] {
            assert!(page.contains(line), "no {line:?} in\n{page}");
        }
        assert!(page.contains(&format!(" | {} |\n", "x".repeat(200))));
        assert!(page.ends_with("Raw figures: `target/bench/results.json`.\n"));
    }

    /// A cold start: its init, first invocation (billed: their sum, rounded up) and warm ones.
    fn cold_start(init: f64, first: f64, warm: &[f64], rss: u64) -> Measured {
        Measured {
            init_ms: vec![init],
            first_ms: vec![first],
            billed_ms: vec![(init + first).ceil()],
            latency_ms: warm.to_vec(),
            peak_rss: rss,
            ..Measured::default()
        }
    }

    #[test]
    fn the_cold_scenario_and_its_cost_are_on_the_page_with_their_goals() {
        let cold_scenarios = [
            scenario(BATCH_OF_10, "order-writer"),
            scenario(NOTIFIER, "order-notifier"),
            scenario(READER_SEED, "inventory-reader"),
            scenario(RENDERER_10, "report-renderer"),
            scenario(MAILER, "report-mailer"),
        ];
        let cold = |memory_mb: u32, speed: f64| {
            let results = cold_scenarios
                .iter()
                .map(|s| ScenarioResult {
                    scenario: s,
                    rust: cold_start(
                        20.0 / speed,
                        30.0 / speed,
                        &[10.0 / speed, 11.0 / speed, 12.0 / speed],
                        9 << 20,
                    ),
                    python: cold_start(3000.0 / speed, 200.0 / speed, &[40.0 / speed], 56 << 20),
                })
                .collect();
            (memory_mb, results)
        };
        let scenarios = scenarios();
        let mut run = run(&scenarios);
        run.cold = vec![cold(128, 1.0), cold(1024, 8.0)];
        let summary = summary(&run);
        // At 128 MB: billed 50 against 3200, first 30 against warm 11 (the median of 10, 11 and 12).
        assert_eq!(
            summary["cold_128mb_billed_rust_over_python_max"],
            json!(50.0 / 3200.0)
        );
        assert_eq!(
            summary["cold_128mb_first_over_warm_max"],
            json!(30.0 / 11.0)
        );
        let page = markdown(&summary, &run, vec![]).unwrap();
        for line in [
            "\n| cold, as billed, at 128 MB: init + first invocation ≤ 1/5 of Python's, every function | **met** max ratio 0.016 |\n",
            "\n| cold at 128 MB: first invocation ≤ 2× a warm one, every Rust function | **missed** max ratio 2.73 |\n",
            "\n| 128 MB | order-writer, batch of 10 | 20.0 / 3000.0 | 30.0 / 200.0 | 11.00 / 12.00 · 40.00 / 40.00 | 50 / 3200 | 0.016 | 2.73 | 9.0 / 56.0 | none |\n",
            "\n| 1024 MB | report-mailer, presign + publish | 2.5 / 375.0 |",
            "![Cost per 1,000 orders and per report, Rust and Python, by memory setting](docs/bench-cost.svg)",
        ] {
            assert!(page.contains(line), "no {line:?} in\n{page}");
        }
        // 1,000 orders at 128 MB: 100 × (11 + 11 ms) in Rust, 100 × (40 + 40 ms) in Python.
        let rust = cost::per_1000_orders(128, 11.0, 11.0);
        let python = cost::per_1000_orders(128, 40.0, 40.0);
        assert!(page.contains(&format!(
            "\n| 128 MB | {rust:.8} / {python:.8} | {:.3} |",
            rust / python
        )));
        assert!(
            summary["cost_per_1000_orders_rust_over_python_max"]
                .as_f64()
                .unwrap()
                < 1.0
        );
    }

    #[test]
    fn a_recorded_change_is_listed_before_and_after() {
        let root = std::env::temp_dir().join(format!("cafe-bench-changes-{}", std::process::id()));
        let folder = root.join(CHANGES);
        std::fs::create_dir_all(&folder).unwrap();
        let side = |init: f64, first: f64| cold_measured_json(&cold_start(init, first, &[5.0], 1));
        let record = json!({"change": "no-jitter-entropy", "rows": [
            {"memory_mb": 128, "scenario": MAILER, "before": side(100.0, 460.2), "after": side(98.0, 60.4)}]});
        std::fs::write(folder.join("no-jitter-entropy.json"), record.to_string()).unwrap();
        std::fs::write(folder.join("notes.txt"), "not a record").unwrap();
        let changes = recorded_changes(&root);
        std::fs::remove_dir_all(&root).unwrap();

        let scenarios = scenarios();
        let run = run(&scenarios);
        let page = markdown(&summary(&run), &run, changes).unwrap();
        let line = "\n| no-jitter-entropy | 128 MB | report-mailer, presign + publish | 100.0 → 98.0 | 460.2 → 60.4 | 561 → 159 |\n";
        assert!(page.contains(line), "no {line:?} in\n{page}");
    }

    #[test]
    fn the_writer_row_has_both_ratios_on_moto_and_on_the_concurrent_store() {
        let scenarios = scenarios();
        let run = run(&scenarios);
        let page = markdown(&summary(&run), &run, vec![]).unwrap();
        assert!(page.contains(
            "\n| order-writer batch of 10 ≤ 2× batch of 1 | **missed** ratio 8.57 on moto (the seeds' \
             sequential loop: 10.00); against a store that serves requests concurrently in 5 ms, as \
             DynamoDB does: 1.16 (the seeds' loop: 10.00); see below |\n"
        ));
    }
}
