//! The traces a function exports, seen with an in-memory exporter: a span per invocation, with
//! Lambda's `faas.*` attributes, and inside it a span per AWS call, flushed as the invocation ends.

use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use cafe_shared::telemetry::{LogSettings, Telemetry, subscriber};
use lambda_runtime::tower::{Layer, Service, ServiceExt, service_fn};
use lambda_runtime::{Config, Context, LambdaInvocation};
use opentelemetry::Value;
use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

const FUNCTION: &str = "cafe-order-writer";

fn invocation(request_id: &str) -> LambdaInvocation {
    let (parts, ()) = http::Response::new(()).into_parts();
    let mut context = Context::default();
    context.request_id = request_id.into();
    context.xray_trace_id = Some("Root=1-5759e988-bd862e3fe1be46a994272793".into());
    context.env_config = Arc::new(Config {
        function_name: FUNCTION.into(),
        ..Default::default()
    });
    LambdaInvocation {
        parts,
        body: Default::default(),
        context,
    }
}

/// A DynamoDB client whose calls fail at once (nothing listens on port 1), without retries: the
/// call's span is made all the same.
fn unreachable_dynamodb() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::for_tests())
        .endpoint_url("http://127.0.0.1:1")
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn the_one_named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let named: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(named.len(), 1, "one span named {name} in {spans:#?}");
    named[0]
}

/// Whether `ancestor` is `span`'s parent, or its parent's, and so on.
fn descends_from(spans: &[SpanData], span: &SpanData, ancestor: &SpanData) -> bool {
    let mut parent = span.parent_span_id;
    while parent != SpanId::INVALID {
        if parent == ancestor.span_context.span_id() {
            return true;
        }
        parent = spans
            .iter()
            .find(|s| s.span_context.span_id() == parent)
            .map_or(SpanId::INVALID, |s| s.parent_span_id);
    }
    false
}

#[tokio::test]
async fn each_invocation_is_a_span_with_its_aws_calls_inside_exported_as_it_ends() {
    let exporter = InMemorySpanExporter::default();
    // In batches, as deployed: the spans are there after an invocation only if it flushed them
    // (the batch's own schedule is 5 s away).
    let traces = SdkTracerProvider::builder()
        .with_batch_exporter(exporter.clone())
        .build();
    let settings = LogSettings {
        json: true,
        level: "info".into(),
        function: FUNCTION.into(),
        export_traces: true,
    };
    let _logs =
        tracing::subscriber::set_default(subscriber(settings, std::io::sink, Some(&traces)));
    let dynamodb = unreachable_dynamodb();
    let handler = service_fn(|_: LambdaInvocation| {
        let dynamodb = dynamodb.clone();
        async move {
            let refused = dynamodb.put_item().table_name("orders").send().await;
            assert!(refused.is_err(), "nothing listens on port 1");
            tracing::info!("order refused by the unreachable table");
            Ok::<(), lambda_runtime::Error>(())
        }
    });
    let mut function = Telemetry::with_traces(traces.clone())
        .invocation_layers()
        .layer(handler);

    for (request_id, cold_start) in [("req-1", true), ("req-2", false)] {
        let before = exporter.get_finished_spans().unwrap().len();
        function
            .ready()
            .await
            .unwrap()
            .call(invocation(request_id))
            .await
            .unwrap();
        let all = exporter.get_finished_spans().unwrap();
        let spans = &all[before..];

        let invocation = the_one_named(spans, FUNCTION);
        assert_eq!(
            attribute(invocation, "faas.invocation_id"),
            Some(&Value::from(request_id))
        );
        assert_eq!(
            attribute(invocation, "faas.coldstart"),
            Some(&Value::from(cold_start))
        );
        let call = the_one_named(spans, "DynamoDB.PutItem");
        assert_eq!(
            attribute(call, "rpc.service"),
            Some(&Value::from("DynamoDB"))
        );
        assert_eq!(attribute(call, "rpc.method"), Some(&Value::from("PutItem")));
        assert!(descends_from(spans, call, invocation), "{spans:#?}");
        assert_eq!(
            call.span_context.trace_id(),
            invocation.span_context.trace_id()
        );
        // The runtime's span that logs take the request id from is in the trace too; the SDK's
        // inner spans (attempts, serialization) are not.
        let runtime = the_one_named(spans, "Lambda runtime invoke");
        assert!(descends_from(spans, runtime, invocation));
        assert!(!spans.iter().any(|s| s.name == "try_attempt"), "{spans:#?}");
        assert_eq!(spans.len(), 3, "{spans:#?}");
    }
    assert!(
        !all_events(&exporter).is_empty(),
        "the handler's info event rides on its span"
    );
}

fn all_events(exporter: &InMemorySpanExporter) -> Vec<String> {
    exporter
        .get_finished_spans()
        .unwrap()
        .iter()
        .flat_map(|s| s.events.iter().map(|e| e.name.to_string()))
        .collect()
}

#[test]
fn the_export_timeout_is_a_second_unless_the_otel_variables_set_one() {
    use cafe_shared::telemetry::{EXPORT_TIMEOUT, export_timeout};
    assert_eq!(export_timeout(|_| None), Some(EXPORT_TIMEOUT));
    for variable in [
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ] {
        let set = |name: &str| (name == variable).then(|| "5000".to_owned());
        assert_eq!(export_timeout(set), None, "{variable} is the SDK's to read");
        let blank = |name: &str| (name == variable).then(String::new);
        assert_eq!(export_timeout(blank), Some(EXPORT_TIMEOUT));
    }
}

/// A collector that takes the connection and never answers costs the first invocation's flush
/// the export timeout, and the invocations after it nothing.
#[test]
fn a_collector_that_never_answers_delays_one_flush_by_the_export_timeout_then_none() {
    use cafe_shared::telemetry::{Flusher, export_timeout};
    use opentelemetry::trace::{Span, Tracer, TracerProvider};
    use opentelemetry_otlp::WithExportConfig;
    use std::time::{Duration, Instant};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming() {
            held.push(connection);
        }
    });
    let timeout = export_timeout(|_| None).expect("no OTEL_* timeout is set");
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{address}/v1/traces"))
        .with_timeout(timeout)
        .build()
        .unwrap();
    let traces = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let tracer = traces.tracer("test");
    let flusher = Flusher::new({
        let traces = traces.clone();
        move || traces.force_flush()
    });

    tracer.start("first invocation").end();
    let started = Instant::now();
    assert!(flusher.flush(), "the first flush is tried");
    let waited = started.elapsed();
    assert!(
        waited >= timeout.mul_f64(0.9) && waited < timeout + Duration::from_secs(2),
        "the first flush waited {waited:?}, the export timeout is {timeout:?}"
    );

    tracer.start("second invocation").end();
    let started = Instant::now();
    assert!(!flusher.flush(), "paused after a failed flush");
    assert!(started.elapsed() < Duration::from_millis(100));
}
