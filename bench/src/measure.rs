//! How the figures are taken: processes started on our Runtime API host (`runtime.rs`), each fed
//! warm-up and measured events, the Rust ones beside the noop floor in ABBA order; and the two
//! figures that need no process, the render-only time and the zips' sizes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::quota::CpuQuota;
use crate::runtime::{Instance, Start};
use crate::scenarios::{self, Scenario};

/// How many processes are started (each one a cold start) and how many events each is fed: the
/// first `warm_up` (the first invocation among them) are not measured as warm, the next
/// `measured` are.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub starts: usize,
    pub warm_up: usize,
    pub measured: usize,
}

/// The scenarios at full speed: 9 processes × (2 warm-up + 10 measured events).
pub const FULL_SPEED: Plan = Plan {
    starts: 9,
    warm_up: 2,
    measured: 10,
};
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
    /// Each process's first invocation, right after its init (also in `latency_ms` when no
    /// warm-up is asked for).
    pub first_ms: Vec<f64>,
    /// Each process's init plus first invocation, rounded up to the millisecond as Lambda bills
    /// them (init included, as for every runtime since August 2025).
    pub billed_ms: Vec<f64>,
    /// CPU time each process used by the end of its init, and in its first invocation.
    pub init_cpu_ms: Vec<f64>,
    pub first_cpu_ms: Vec<f64>,
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
    pub fn first(&self) -> f64 {
        stats(self.first_ms.clone()).0
    }
    pub fn billed(&self) -> f64 {
        stats(self.billed_ms.clone()).0
    }
    /// The mean of the warm invocations as billed, each rounded up to the millisecond: what a
    /// thousand of them cost, where a median would drop the quota's slow tail.
    pub fn billed_warm_mean(&self) -> f64 {
        let billed: Vec<f64> = self.latency_ms.iter().map(|ms| ms.ceil()).collect();
        billed.iter().sum::<f64>() / billed.len() as f64
    }

    /// `other`'s samples added to these.
    fn absorb(&mut self, other: Measured) {
        self.init_ms.extend(other.init_ms);
        self.first_ms.extend(other.first_ms);
        self.billed_ms.extend(other.billed_ms);
        self.init_cpu_ms.extend(other.init_cpu_ms);
        self.first_cpu_ms.extend(other.first_cpu_ms);
        self.floor_init_ms.extend(other.floor_init_ms);
        self.latency_ms.extend(other.latency_ms);
        self.peak_rss = self.peak_rss.max(other.peak_rss);
        self.errors.extend(other.errors);
    }
}

/// One scenario, measured in both implementations.
pub struct ScenarioResult<'a> {
    pub scenario: &'a Scenario,
    pub rust: Measured,
    pub python: Measured,
}

/// How each implementation's processes are started.
#[derive(Clone)]
pub struct Launcher {
    /// Where the release binaries are (the functions and `noop`).
    pub release: PathBuf,
    /// The benchmark's Python, with awslambdaric.
    pub python: PathBuf,
    /// Every process's working directory, so that Python finds `handlers.py`.
    pub handlers_dir: PathBuf,
    /// Every process's environment (`Setup::environment`).
    pub environment: Vec<(String, String)>,
    /// The Python processes' environment beside it (their CA bundle in the cold scenario).
    pub python_environment: Vec<(String, String)>,
    /// The memory setting the processes are told (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u32,
    /// The CPU they get.
    pub cpu: Cpu,
}

/// The CPU a launcher's processes get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu {
    /// The whole machine.
    Full,
    /// The share of one core that the memory setting buys, in a cgroup of its own per process,
    /// so that none inherits another's throttling.
    Share,
    /// The share where cgroups can be made (root), else the whole machine (`--quick` in CI).
    ShareIfPossible,
}

impl Launcher {
    /// The same processes at `memory_mb`, with the CPU that buys (`cpu`: `Share` or
    /// `ShareIfPossible`).
    pub fn at(&self, memory_mb: u32, cpu: Cpu) -> Self {
        Self {
            memory_mb,
            cpu,
            ..self.clone()
        }
    }

    fn start(
        &self,
        program: &Path,
        args: &[&str],
        env: &[(&str, String)],
        extra: &[(String, String)],
    ) -> anyhow::Result<Start> {
        let quota = match self.cpu {
            Cpu::Full => None,
            Cpu::Share => Some(CpuQuota::new(self.memory_mb)?),
            Cpu::ShareIfPossible => CpuQuota::new(self.memory_mb)
                .inspect_err(|e| eprintln!("no CPU quota, full speed instead: {e:#}"))
                .ok(),
        };
        let mut start = Start::held(program, args, quota);
        start
            .command
            .current_dir(&self.handlers_dir)
            .envs(self.environment.iter().cloned())
            .envs(extra.iter().cloned())
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            )
            .envs(env.iter().map(|(k, v)| (k, v)));
        Ok(start)
    }

    fn floor(&self) -> anyhow::Result<Start> {
        self.start(&self.release.join("noop"), &[], &[], &[])
    }

    fn rust(&self, scenario: &Scenario) -> anyhow::Result<Start> {
        let program = self.release.join(scenario.function);
        self.start(&program, &[], &scenario.env, &[])
    }

    fn python(&self, scenario: &Scenario) -> anyhow::Result<Start> {
        let handler = format!("handlers.{}", scenario.python);
        self.start(
            &self.python,
            &["-m", "awslambdaric", &handler],
            &scenario.env,
            &self.python_environment,
        )
    }
}

/// The noop floor by itself.
pub async fn noop(launcher: &Launcher) -> Measured {
    let noop = measure(FULL_SPEED, || launcher.floor(), None, &|_| {
        b"{\"hello\": \"world\"}".to_vec()
    })
    .await;
    eprintln!("noop: init {:.1} ms", noop.init());
    noop
}

/// The scenario in Rust (beside the floor), then in Python.
pub async fn scenario<'a>(launcher: &Launcher, scenario: &'a Scenario) -> ScenarioResult<'a> {
    let rust = measure(
        FULL_SPEED,
        || launcher.rust(scenario),
        Some(&|| launcher.floor()),
        &scenario.event,
    )
    .await;
    let python = measure(
        FULL_SPEED,
        || launcher.python(scenario),
        None,
        &scenario.event,
    )
    .await;
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

/// The scenario in Rust, then in Python, as `plan` says, without the floor: the cold start as
/// billed, under the launcher's CPU quota.
pub async fn cold<'a>(
    launcher: &Launcher,
    scenario: &'a Scenario,
    plan: Plan,
) -> ScenarioResult<'a> {
    let rust = measure(plan, || launcher.rust(scenario), None, &scenario.event).await;
    let python = measure(plan, || launcher.python(scenario), None, &scenario.event).await;
    eprintln!(
        "{} MB, {}: rust init {:.1} (cpu {:.1}) + first {:.1} ms (cpu {:.1}) (billed {:.0}), warm {:.2} ms | python init {:.1} + first {:.1} ms (billed {:.0}), warm {:.2} ms",
        launcher.memory_mb,
        scenario.name,
        rust.init(),
        stats(rust.init_cpu_ms.clone()).0,
        rust.first(),
        stats(rust.first_cpu_ms.clone()).0,
        rust.billed(),
        rust.latency(),
        python.init(),
        python.first(),
        python.billed(),
        python.latency(),
    );
    ScenarioResult {
        scenario,
        rust,
        python,
    }
}

/// Two builds of the scenario's Rust function, `before`'s binaries and `after`'s, started in turn
/// (ABBA: neither always goes first) under the same launcher settings, as `plan` says.
pub async fn compare(
    before: &Launcher,
    after: &Launcher,
    scenario: &Scenario,
    plan: Plan,
) -> (Measured, Measured) {
    let one = Plan { starts: 1, ..plan };
    let (mut old, mut new) = (Measured::default(), Measured::default());
    for start in 0..plan.starts {
        let order = if start % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_before in order {
            let (launcher, into) = if is_before {
                (before, &mut old)
            } else {
                (after, &mut new)
            };
            into.absorb(measure(one, || launcher.rust(scenario), None, &scenario.event).await);
        }
    }
    (old, new)
}

/// Starts `plan.starts` processes of `command()` and feeds each `warm_up + measured` events; with
/// a `floor`, also starts one of those beside each, for its init alone.
async fn measure(
    plan: Plan,
    command: impl Fn() -> anyhow::Result<Start>,
    floor: Option<&dyn Fn() -> anyhow::Result<Start>>,
    event: &dyn Fn(usize) -> Vec<u8>,
) -> Measured {
    let mut measured = Measured::default();
    let mut sequence = 0;
    for start in 0..plan.starts {
        // Floor and function alternate in ABBA order, so that neither always follows the other.
        let floor_first = start % 2 == 0;
        if floor_first {
            floor_init(floor, &mut measured).await;
        }
        let instance = match command() {
            Ok(start) => Instance::start(start).await,
            Err(e) => Err(e),
        };
        match instance {
            Ok(mut instance) => {
                let init_ms = instance.init.as_secs_f64() * 1000.0;
                measured.init_ms.push(init_ms);
                let init_cpu = instance.cpu_time();
                measured.init_cpu_ms.push(init_cpu.as_secs_f64() * 1000.0);
                for i in 0..plan.warm_up + plan.measured {
                    sequence += 1;
                    match instance.invoke(&event(sequence)).await {
                        Ok(outcome) if outcome.ok => {
                            let ms = outcome.latency.as_secs_f64() * 1000.0;
                            if i == 0 {
                                measured.first_ms.push(ms);
                                measured.billed_ms.push((init_ms + ms).ceil());
                                let first_cpu = instance.cpu_time().saturating_sub(init_cpu);
                                measured.first_cpu_ms.push(first_cpu.as_secs_f64() * 1000.0);
                            }
                            if i >= plan.warm_up {
                                measured.latency_ms.push(ms);
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

async fn floor_init(floor: Option<&dyn Fn() -> anyhow::Result<Start>>, measured: &mut Measured) {
    let Some(floor) = floor else { return };
    let instance = match floor() {
        Ok(start) => Instance::start(start).await,
        Err(e) => Err(e),
    };
    match instance {
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
            let html = report_renderer::render(&big, &report_renderer::ReportSettings::default())
                .expect("renders");
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
