//! Logging as Lambda's own controls say, the way the Rust runtime reads them
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

use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How the function logs, from Lambda's variables (read with `lookup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub json: bool,
    /// An `EnvFilter` directive.
    pub level: String,
    /// What the `function` field says.
    pub function: String,
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
        Self {
            json: set("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            level,
            function,
        }
    }
}

/// Installs the subscriber the settings in the environment ask for (a second call keeps the
/// first, as tests and benches need).
pub fn init() {
    let _ = try_init(
        LogSettings::from_env(|name| std::env::var(name).ok()),
        std::io::stdout,
    );
}

/// The same with `settings`, writing to `writer`.
pub fn try_init<W>(settings: LogSettings, writer: W) -> Result<(), impl std::error::Error>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing::subscriber::set_global_default(subscriber(settings, writer))
}

/// The subscriber for `settings`, writing to `writer`.
pub fn subscriber<W>(settings: LogSettings, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    if settings.json {
        Box::new(
            builder
                .fmt_fields(JsonFields::new())
                .event_format(LambdaJson {
                    function: settings.function,
                    first_request: OnceLock::new(),
                })
                .finish(),
        )
    } else {
        Box::new(builder.with_ansi(false).finish())
    }
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
        tracing::subscriber::with_default(subscriber(settings, captured.clone()), || {
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
