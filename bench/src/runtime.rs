//! A minimal Lambda Runtime API host: starts a function process, hands it events one at a time
//! and records init time (process start → first `GET /next`), per-event latency (event handed
//! out → response posted) and peak RSS. Rust bootstraps and Python handlers under awslambdaric
//! are measured the same way.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::quota::CpuQuota;

const API: &str = "/2018-06-01/runtime";

/// What one invocation gave back.
#[derive(Debug)]
pub struct Outcome {
    pub latency: Duration,
    pub ok: bool,
    pub body: String,
}

struct Shared {
    events: Mutex<mpsc::Receiver<(String, Vec<u8>)>>,
    first_next: Mutex<Option<oneshot::Sender<Instant>>>,
    handed: Mutex<HashMap<String, Instant>>,
    outcomes: mpsc::Sender<Outcome>,
}

/// A process to start: `program` with `args`, held by a shell until it is told to go (see
/// [`Start::held`]), and the CPU quota it runs under, kept until it has exited.
pub struct Start {
    pub command: Command,
    pub quota: Option<CpuQuota>,
}

/// What the shell runs: it says it is ready, waits for a line, then becomes the process.
const HOLD: &str = r#"echo ready; read go || exit 1; exec "$0" "$@" </dev/null >/dev/null 2>&1"#;

impl Start {
    /// `program` started by a shell that waits: the process is created, and moved into its
    /// cgroup, before the clock starts (a move into a cgroup v1 waits for an RCU grace period,
    /// which is the benchmark's, not the function's), and it becomes `program` when told.
    pub fn held(program: &std::path::Path, args: &[&str], quota: Option<CpuQuota>) -> Self {
        let mut command = Command::new("/bin/sh");
        command.arg("-c").arg(HOLD).arg(program).args(args);
        if let Some(quota) = &quota {
            quota.apply(&mut command);
        }
        Self { command, quota }
    }
}

/// One function process on a host of its own.
pub struct Instance {
    child: Child,
    /// Dropped after the process: its cgroup is removed once empty.
    _quota: Option<CpuQuota>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    events: mpsc::Sender<(String, Vec<u8>)>,
    outcomes: mpsc::Receiver<Outcome>,
    pub init: Duration,
}

impl Instance {
    /// Starts the process against a new host and waits for its first `GET /next`; init is from
    /// the moment it is told to go.
    pub async fn start(start: Start) -> anyhow::Result<Self> {
        let Start { mut command, quota } = start;
        let (event_tx, event_rx) = mpsc::channel(1);
        let (outcome_tx, outcome_rx) = mpsc::channel(1);
        let (first_tx, first_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(event_rx),
            first_next: Mutex::new(Some(first_tx)),
            handed: Mutex::new(HashMap::new()),
            outcomes: outcome_tx,
        });
        let app = Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(response))
            .route(&format!("{API}/invocation/{{id}}/error"), post(error))
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        // What Lambda sets for every function; lambda_runtime refuses to start without it.
        let child = command
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                server.abort();
                return Err(anyhow!("cannot start {command:?}: {e}"));
            }
        };
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        // From here on, dropping the instance stops both the process and its host.
        let mut instance = Self {
            child,
            _quota: quota,
            server,
            events: event_tx,
            outcomes: outcome_rx,
            init: Duration::ZERO,
        };
        let (Some(mut stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(anyhow!("{command:?}: no pipes to its shell"));
        };
        let held = tokio::task::spawn_blocking(move || {
            let mut ready = String::new();
            BufReader::new(stdout).read_line(&mut ready).map(|_| ready)
        });
        let ready = tokio::time::timeout(Duration::from_secs(60), held)
            .await
            .map_err(|_| anyhow!("{command:?}: its shell never got ready"))???;
        if ready.trim() != "ready" {
            return Err(anyhow!("{command:?}: its shell ended before it was ready"));
        }
        let started = Instant::now();
        stdin.write_all(b"go\n")?;
        drop(stdin);
        let first = tokio::time::timeout(Duration::from_secs(60), first_rx)
            .await
            .map_err(|_| anyhow!("{command:?} never asked for an event"))??;
        instance.init = first - started;
        Ok(instance)
    }

    pub async fn invoke(&mut self, event: &[u8]) -> anyhow::Result<Outcome> {
        let id = uuid::Uuid::new_v4().to_string();
        self.events.send((id, event.to_vec())).await?;
        tokio::time::timeout(Duration::from_secs(120), self.outcomes.recv())
            .await
            .map_err(|_| anyhow!("no response within 120 s"))?
            .context("the host stopped")
    }

    /// CPU time the process has used so far, all its threads, from the scheduler's nanosecond
    /// account (`/proc/<pid>/task/*/schedstat`): under a CPU quota it tells the work apart from
    /// the waiting for the next period.
    pub fn cpu_time(&self) -> Duration {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        let nanos: u64 = tasks
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        Duration::from_nanos(nanos)
    }

    /// Peak resident set size so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(first) = shared.first_next.lock().await.take() {
        let _ = first.send(Instant::now());
    }
    let Some((id, body)) = shared.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    shared
        .handed
        .lock()
        .await
        .insert(id.clone(), Instant::now());
    let mut headers = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 900_000;
    let pairs = [
        ("Lambda-Runtime-Aws-Request-Id", id),
        ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
        (
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
        ),
        (
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
        // awslambdaric refuses an event without a content type.
        ("Content-Type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header"));
    }
    (headers, body).into_response()
}

async fn settle(shared: &Shared, id: &str, ok: bool, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let handed = shared.handed.lock().await.remove(id).unwrap_or(now);
    let body = String::from_utf8_lossy(&body).into_owned();
    let _ = shared
        .outcomes
        .send(Outcome {
            latency: now - handed,
            ok,
            body,
        })
        .await;
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(&shared, &id, true, body).await
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(&shared, &id, false, body).await
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}
