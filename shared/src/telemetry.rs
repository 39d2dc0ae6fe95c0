//! Logs and traces as Lambda's own controls say.
//!
//! Logs, the way the Rust runtime reads its controls
//! (`lambda_runtime_api_client::tracing::init_default_subscriber`):
//!
//! - the level is `AWS_LAMBDA_LOG_LEVEL` (the function's `LoggingConfig`), else `RUST_LOG`, else
//!   `info`;
//! - the format is one JSON object per line when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the template
//!   sets `LogFormat: JSON`), else plain text for people (the local stack).
//!
//! A JSON line carries, at its top level, what CloudWatch Logs Insights is asked for: `timestamp`,
//! `level`, `message` and the event's own fields, and, inside an invocation, `request_id`,
//! `xray_trace_id` (from the span the runtime opens for each invocation), `function`
//! (`AWS_LAMBDA_FUNCTION_NAME`, else the executable's name) and `cold_start` (true on the
//! process's first invocation).
//!
//! Traces, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: a
//! span per invocation (the runtime's `OpenTelemetryLayer`, with the `faas.*` attributes) and,
//! inside it, a span per AWS call (the SDK's own `Service.Operation` span), exported over
//! OTLP/HTTP by `tracing-opentelemetry` and `opentelemetry-otlp`, which read the standard `OTEL_*`
//! variables. The spans are flushed as each invocation ends, after its answer was sent, since
//! Lambda freezes the process between invocations. Without an endpoint nothing of this is built.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lambda_runtime::layers::{OpenTelemetryLayer, TracingLayer};
use lambda_runtime::tower::{Layer, Service, ServiceBuilder};
use lambda_runtime::{Diagnostic, IntoFunctionResponse, LambdaEvent, LambdaInvocation, Runtime};
use metrics_cloudwatch_embedded::Collector;
use metrics_cloudwatch_embedded::lambda::MetricsLayer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Map, Value};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer as _, Registry};

/// How the function logs, from Lambda's variables (read with `lookup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub json: bool,
    /// An `EnvFilter` directive.
    pub level: String,
    /// What the `function` field says, and the traces' `service.name`.
    pub function: String,
    /// Whether an OTLP endpoint is configured for traces (and `OTEL_SDK_DISABLED` is not true).
    pub export_traces: bool,
}

impl LogSettings {
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let level = set("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|| set("RUST_LOG"))
            .unwrap_or_else(|| "info".to_owned())
            .to_lowercase()
            // Lambda's levels include FATAL; tracing's highest is error.
            .replace("fatal", "error");
        let function = set("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
                .unwrap_or_default()
        });
        let export_traces = (set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some())
            && !set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Self {
            json: set("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            level,
            function,
            export_traces,
        }
    }
}

/// What [`init`] set up: the trace pipeline, when traces are exported.
#[derive(Default)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans to this provider (tests give one with an in-memory exporter).
    pub fn with_traces(traces: SdkTracerProvider) -> Self {
        Self {
            traces: Some(traces),
        }
    }

    /// The layers around each invocation: the runtime's span that logs take their ids from
    /// and, when traces are exported, the OpenTelemetry span around it, flushed when the
    /// invocation ends.
    pub fn invocation_layers<S>(
        &self,
    ) -> impl Layer<
        S,
        Service: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
    > + use<S>
    where
        S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
    {
        let export = self.traces.clone().map(|traces| {
            let flusher = Arc::new(Flusher::new(move || traces.force_flush()));
            OpenTelemetryLayer::new(move || {
                flusher.flush();
            })
        });
        ServiceBuilder::new()
            .option_layer(export)
            .layer(TracingLayer::new())
    }

    /// Runs the Lambda runtime with `handler`, with the invocation layers and the metrics
    /// collector (flushed after every invocation). Use it in place of `lambda_runtime::run`.
    pub async fn run<A, F, R, B, S, D, E>(
        self,
        metrics: &'static Collector,
        handler: F,
    ) -> Result<(), lambda_runtime::Error>
    where
        F: Service<LambdaEvent<A>, Response = R>,
        F::Future: Future<Output = Result<R, F::Error>>,
        F::Error: Into<Diagnostic> + std::fmt::Debug,
        A: for<'de> serde::Deserialize<'de>,
        R: IntoFunctionResponse<B, S>,
        B: serde::Serialize,
        S: futures_core::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
        D: Into<bytes::Bytes> + Send,
        E: Into<lambda_runtime::Error> + Send + std::fmt::Debug,
    {
        Runtime::new(handler)
            .layer(MetricsLayer::new(metrics))
            .layer(self.invocation_layers())
            .run()
            .await
    }
}

/// Installs the subscriber the settings in the environment ask for, and the trace exporter when
/// they ask for one (a second call keeps the first subscriber, as tests and benches need).
pub fn init() -> Telemetry {
    let settings = LogSettings::from_env(|name| std::env::var(name).ok());
    let (telemetry, refused) = if settings.export_traces {
        match otlp_traces(&settings.function) {
            Ok(traces) => (Telemetry::with_traces(traces), None),
            Err(error) => (Telemetry::default(), Some(error)),
        }
    } else {
        (Telemetry::default(), None)
    };
    let _ = tracing::subscriber::set_global_default(subscriber(
        settings,
        std::io::stdout,
        telemetry.traces.as_ref(),
    ));
    if let Some(error) = refused {
        tracing::warn!(%error, "traces are not exported: the OTLP exporter could not be built");
    }
    telemetry
}

/// How long an export may take unless `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or
/// `OTEL_EXPORTER_OTLP_TIMEOUT` say otherwise. The SDK's default, 10 s (and the batch's flush
/// gives up after 5 s), would be added to an invocation whose collector does not answer; a
/// collector beside the function (an extension on localhost) answers in milliseconds.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(1);

/// The export timeout to set, or None where the `OTEL_*` variables set one (a timeout set in
/// code would override theirs).
pub fn export_timeout(lookup: impl Fn(&str) -> Option<String>) -> Option<Duration> {
    let set = |name: &str| lookup(name).is_some_and(|value| !value.trim().is_empty());
    (!set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") && !set("OTEL_EXPORTER_OTLP_TIMEOUT"))
        .then_some(EXPORT_TIMEOUT)
}

/// After a flush fails, invocations stop waiting for the collector this long: their spans still
/// leave on the batch's own schedule, from the SDK's thread, and the next flush after this tries
/// again.
pub const FLUSH_PAUSE: Duration = Duration::from_secs(60);

/// Flushes the spans as an invocation ends, unless a flush failed less than [`FLUSH_PAUSE`] ago:
/// a collector that is down costs one invocation an export timeout, not every invocation.
pub struct Flusher<F> {
    flush: F,
    paused_until: Mutex<Option<Instant>>,
}

impl<F: Fn() -> opentelemetry_sdk::error::OTelSdkResult> Flusher<F> {
    pub fn new(flush: F) -> Self {
        Self {
            flush,
            paused_until: Mutex::new(None),
        }
    }

    /// Flushes, or does nothing while paused. Whether it flushed.
    pub fn flush(&self) -> bool {
        let mut paused_until = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused_until.is_some_and(|until| Instant::now() < until) {
            return false;
        }
        match (self.flush)() {
            Ok(()) => *paused_until = None,
            Err(error) => {
                tracing::warn!(
                    %error,
                    pause_seconds = FLUSH_PAUSE.as_secs(),
                    "the invocation's spans could not be exported; invocations stop waiting for \
                     the collector for a while, and spans go on leaving in batches"
                );
                *paused_until = Some(Instant::now() + FLUSH_PAUSE);
            }
        }
        true
    }
}

/// The OTLP/HTTP exporter, configured by the `OTEL_*` variables, with [`export_timeout`].
pub fn otlp_exporter(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<opentelemetry_otlp::SpanExporter, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig;
    let builder = opentelemetry_otlp::SpanExporter::builder().with_http();
    match export_timeout(lookup) {
        Some(timeout) => builder.with_timeout(timeout).build(),
        None => builder.build(),
    }
}

/// The OTLP/HTTP pipeline. Spans are exported in batches from the SDK's own thread, so the flush
/// at the end of an invocation is the only wait.
fn otlp_traces(
    function: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = otlp_exporter(|name| std::env::var(name).ok())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(function.to_owned())
                .build(),
        )
        .build())
}

/// What becomes a span or a span event in the export: spans at `info` and above (the invocation,
/// ours), the SDK's span for each AWS call (a `debug` span named after the operation; the
/// orchestrator's inner spans are left out), and events at `info` and above.
fn exported(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::INFO
        || (metadata.is_span() && metadata.target().starts_with("aws_sdk_"))
}

/// The subscriber for `settings`, writing logs to `writer` and, given `traces`, spans to it.
pub fn subscriber<W>(
    settings: LogSettings,
    writer: W,
    traces: Option<&SdkTracerProvider>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(writer);
    let logs = if settings.json {
        logs.fmt_fields(JsonFields::new())
            .event_format(LambdaJson {
                function: settings.function.clone(),
                first_request: OnceLock::new(),
            })
            .with_filter(filter)
            .boxed()
    } else {
        logs.with_ansi(false).with_filter(filter).boxed()
    };
    let spans = traces.map(|traces| {
        tracing_opentelemetry::layer()
            .with_tracer(traces.tracer(settings.function))
            .with_filter(tracing_subscriber::filter::filter_fn(exported))
    });
    Box::new(Registry::default().with(logs).with(spans))
}

/// One JSON object per event, with the invocation's ids at the top level.
struct LambdaJson {
    function: String,
    /// The first invocation's request id: an event of that invocation is a cold start's.
    first_request: OnceLock<String>,
}

impl<S, N> FormatEvent<S, N> for LambdaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = Map::new();
        line.insert("timestamp".into(), chrono::Utc::now().to_rfc3339().into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        let mut fields = FieldsToJson(Map::new());
        event.record(&mut fields);
        line.extend(fields.0);

        // The runtime's invocation span ("Lambda runtime invoke") carries requestId and
        // xrayTraceId; spans' fields are kept as JSON by JsonFields.
        let mut request_id = None;
        let mut trace_id = None;
        for span in ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
        {
            let extensions = span.extensions();
            let Some(formatted) = extensions.get::<FormattedFields<N>>() else {
                continue;
            };
            if let Ok(Value::Object(span_fields)) = serde_json::from_str(formatted) {
                request_id = span_fields.get("requestId").cloned().or(request_id);
                trace_id = span_fields.get("xrayTraceId").cloned().or(trace_id);
            }
        }
        line.insert("function".into(), self.function.clone().into());
        if let Some(Value::String(request_id)) = request_id {
            let first = self.first_request.get_or_init(|| request_id.clone());
            line.insert("cold_start".into(), (*first == request_id).into());
            line.insert("request_id".into(), request_id.into());
        }
        if let Some(trace_id) = trace_id {
            line.insert("xray_trace_id".into(), trace_id);
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// An event's fields as JSON values (`message` included).
struct FieldsToJson(Map<String, Value>);

impl tracing::field::Visit for FieldsToJson {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    fn settings(variables: &[(&str, &str)]) -> LogSettings {
        let map: HashMap<String, String> = variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LogSettings::from_env(|name| map.get(name).cloned())
    }

    #[test]
    fn lambdas_level_wins_over_rust_log_and_info_is_the_default() {
        let both = settings(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")]);
        assert_eq!(both.level, "warn");
        assert_eq!(settings(&[("RUST_LOG", "debug")]).level, "debug");
        assert_eq!(settings(&[]).level, "info");
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).level,
            "error"
        );
    }

    #[test]
    fn json_only_when_lambda_says_json() {
        assert!(settings(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")]).json);
        assert!(settings(&[("AWS_LAMBDA_LOG_FORMAT", "json")]).json);
        assert!(!settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]).json);
        assert!(!settings(&[]).json);
        let named = settings(&[("AWS_LAMBDA_FUNCTION_NAME", "cafe-order-writer")]);
        assert_eq!(named.function, "cafe-order-writer");
    }

    #[test]
    fn traces_are_exported_only_to_a_configured_endpoint_unless_the_sdk_is_disabled() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318");
        assert!(settings(&[endpoint]).export_traces);
        assert!(
            settings(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://localhost:4318/v1/traces"
            )])
            .export_traces
        );
        assert!(!settings(&[]).export_traces);
        assert!(!settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]).export_traces);
        assert!(!settings(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]).export_traces);
        assert!(settings(&[endpoint, ("OTEL_SDK_DISABLED", "false")]).export_traces);
    }

    /// Everything written, shared with the subscriber.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn a_json_line_carries_the_invocations_ids_at_its_top_level() {
        let captured = Captured::default();
        let settings = settings(&[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
            ("AWS_LAMBDA_FUNCTION_NAME", "cafe-order-writer"),
        ]);
        tracing::subscriber::with_default(subscriber(settings, captured.clone(), None), || {
            tracing::info!("before any invocation");
            for (request, trace) in [("req-1", "Root=1-a"), ("req-2", "Root=1-b")] {
                // As the runtime opens it for each invocation (lambda_runtime's request_span).
                let span = tracing::info_span!(
                    "Lambda runtime invoke",
                    requestId = request,
                    xrayTraceId = trace
                );
                let _entered = span.enter();
                tracing::info!(message_id = "m-1", stored = 3u64, "orders stored");
                tracing::debug!("below the level");
            }
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["message"], "before any invocation");
        assert_eq!(lines[0]["function"], "cafe-order-writer");
        assert!(lines[0].get("request_id").is_none());
        for (line, request, trace, cold) in [
            (&lines[1], "req-1", "Root=1-a", true),
            (&lines[2], "req-2", "Root=1-b", false),
        ] {
            assert_eq!(line["request_id"], request);
            assert_eq!(line["xray_trace_id"], trace);
            assert_eq!(line["cold_start"], cold);
            assert_eq!(line["function"], "cafe-order-writer");
            assert_eq!(line["level"], "INFO");
            assert_eq!(line["message"], "orders stored");
            assert_eq!(line["message_id"], "m-1");
            assert_eq!(line["stored"], 3);
            assert!(line["timestamp"].as_str().unwrap().contains('T'));
        }
    }
}
