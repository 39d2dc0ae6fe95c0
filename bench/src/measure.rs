//! How the figures are taken: processes started on our Runtime API host (`runtime.rs`), each fed
//! warm-up and measured events, the Rust ones beside the noop floor in ABBA order; and the two
//! figures that need no process, the render-only time and the zips' sizes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::runtime::Instance;
use crate::scenarios::{self, Scenario};

/// Processes started per implementation and scenario (each one a cold start).
pub const STARTS: usize = 9;
/// Events per process: the first `WARM_UP` are not measured.
pub const WARM_UP: usize = 2;
pub const MEASURED: usize = 10;
/// Render-only repetitions of the 10,000-bean report.
pub const RENDERS: usize = 20;

/// Median and 95th percentile, in the unit given.
pub fn stats(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

#[derive(Debug, Default, Clone)]
pub struct Measured {
    pub init_ms: Vec<f64>,
    /// The noop floor's init, started beside each of these processes: the floor's figures drift
    /// over a run and with what ran just before, so each ratio takes the floor measured alongside.
    pub floor_init_ms: Vec<f64>,
    pub latency_ms: Vec<f64>,
    pub peak_rss: u64,
    pub errors: Vec<String>,
}

impl Measured {
    pub fn init(&self) -> f64 {
        stats(self.init_ms.clone()).0
    }
    pub fn latency(&self) -> f64 {
        stats(self.latency_ms.clone()).0
    }
    pub fn floor_init(&self) -> f64 {
        stats(self.floor_init_ms.clone()).0
    }
    pub fn init_over_floor(&self) -> f64 {
        self.init() / self.floor_init()
    }
}

/// One scenario, measured in both implementations.
pub struct ScenarioResult<'a> {
    pub scenario: &'a Scenario,
    pub rust: Measured,
    pub python: Measured,
}

/// How each implementation's processes are started.
pub struct Launcher {
    /// Where the release binaries are (the functions and `noop`).
    pub release: PathBuf,
    /// The benchmark's Python, with awslambdaric.
    pub python: PathBuf,
    /// Every process's working directory, so that Python finds `handlers.py`.
    pub handlers_dir: PathBuf,
    /// Every process's environment (`Setup::environment`).
    pub environment: Vec<(String, String)>,
}

impl Launcher {
    fn command(&self, program: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&self.handlers_dir)
            .envs(self.environment.iter().cloned());
        command.envs(env.iter().map(|(k, v)| (k, v)));
        command
    }

    fn floor(&self) -> Command {
        self.command(&self.release.join("noop"), &[], &[])
    }

    fn rust(&self, scenario: &Scenario) -> Command {
        let program = self.release.join(scenario.function);
        self.command(&program, &[], &scenario.env)
    }

    fn python(&self, scenario: &Scenario) -> Command {
        let handler = format!("handlers.{}", scenario.python);
        self.command(
            &self.python,
            &["-m", "awslambdaric", &handler],
            &scenario.env,
        )
    }
}

/// The noop floor by itself.
pub async fn noop(launcher: &Launcher) -> Measured {
    let noop = measure(|| launcher.floor(), None, &|_| {
        b"{\"hello\": \"world\"}".to_vec()
    })
    .await;
    eprintln!("noop: init {:.1} ms", noop.init());
    noop
}

/// The scenario in Rust (beside the floor), then in Python.
pub async fn scenario<'a>(launcher: &Launcher, scenario: &'a Scenario) -> ScenarioResult<'a> {
    let rust = measure(
        || launcher.rust(scenario),
        Some(&|| launcher.floor()),
        &scenario.event,
    )
    .await;
    let python = measure(|| launcher.python(scenario), None, &scenario.event).await;
    eprintln!(
        "{}: rust init {:.1} ms ({:.2}× the floor), latency {:.2} ms, rss {} KiB | python init {:.1} ms, latency {:.2} ms, rss {} KiB",
        scenario.name,
        rust.init(),
        rust.init_over_floor(),
        rust.latency(),
        rust.peak_rss / 1024,
        python.init(),
        python.latency(),
        python.peak_rss / 1024
    );
    ScenarioResult {
        scenario,
        rust,
        python,
    }
}

/// Starts `STARTS` processes of `command()` and feeds each `WARM_UP + MEASURED` events; with a
/// `floor`, also starts one of those beside each, for its init alone.
async fn measure(
    command: impl Fn() -> Command,
    floor: Option<&dyn Fn() -> Command>,
    event: &dyn Fn(usize) -> Vec<u8>,
) -> Measured {
    let mut measured = Measured::default();
    let mut sequence = 0;
    for start in 0..STARTS {
        // Floor and function alternate in ABBA order, so that neither always follows the other.
        let floor_first = start % 2 == 0;
        if floor_first {
            floor_init(floor, &mut measured).await;
        }
        match Instance::start(command()).await {
            Ok(mut instance) => {
                measured.init_ms.push(instance.init.as_secs_f64() * 1000.0);
                for i in 0..WARM_UP + MEASURED {
                    sequence += 1;
                    match instance.invoke(&event(sequence)).await {
                        Ok(outcome) if outcome.ok => {
                            if i >= WARM_UP {
                                measured
                                    .latency_ms
                                    .push(outcome.latency.as_secs_f64() * 1000.0);
                            }
                        }
                        Ok(outcome) => measured
                            .errors
                            .push(outcome.body.chars().take(300).collect()),
                        Err(e) => measured.errors.push(format!("{e:#}")),
                    }
                }
                measured.peak_rss = measured.peak_rss.max(instance.peak_rss());
            }
            Err(e) => measured.errors.push(format!("{e:#}")),
        }
        if !floor_first {
            floor_init(floor, &mut measured).await;
        }
    }
    measured.errors.dedup();
    measured
}

async fn floor_init(floor: Option<&dyn Fn() -> Command>, measured: &mut Measured) {
    let Some(floor) = floor else { return };
    match Instance::start(floor()).await {
        Ok(instance) => measured
            .floor_init_ms
            .push(instance.init.as_secs_f64() * 1000.0),
        Err(e) => measured.errors.push(format!("noop: {e:#}")),
    }
}

/// Median and p95 (ms) of rendering the 10,000-bean report in this process, without the
/// runtime or S3.
pub fn render_10k_beans() -> (f64, f64) {
    let big = scenarios::inventory(10_000);
    let render_ms: Vec<f64> = (0..RENDERS)
        .map(|_| {
            let t = Instant::now();
            let html = report_renderer::render(&big, 50).expect("renders");
            std::hint::black_box(html);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    stats(render_ms)
}

/// Each function's release zip (`make build`) in bytes, 0 for a zip that is not there.
pub fn zip_sizes(target: &Path) -> Vec<(String, u64)> {
    cafe_tests::template::functions()
        .into_iter()
        .map(|function| {
            let zip = target.join("lambda").join(&function).join("bootstrap.zip");
            let size = std::fs::metadata(zip).map(|m| m.len()).unwrap_or(0);
            (function, size)
        })
        .collect()
}
