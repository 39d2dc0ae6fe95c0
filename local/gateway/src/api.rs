//! The REST API, with the rules of the deployed API: `POST /orders`, `POST /create_report`,
//! and, for the local stack only, `GET /mailbox`, `GET /ops`, `GET /reports/<execution>.html` and
//! `GET /health`; and the HTTP
//! server that serves it, with the bounds a server on a developer's machine needs (loopback names
//! only, header and body timeouts).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::MessageAttributeValue;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cafe_shared::order::{IDEMPOTENCY_KEY, MAX_ORDER_BYTES, Order, OrderError};
use serde_json::json;
use tracing::{debug, info, warn};

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use cafe_shared::error::aws_error_text;

use crate::ops_page::{self, Watched};
use crate::{Aws, is_execution_name, mailbox};

pub struct Api {
    pub aws: Aws,
    pub queue_url: String,
    pub state_machine_arn: String,
    /// Where the state machine puts its reports (`reports/<execution name>.html`).
    pub reports_bucket: String,
    pub mailbox_file: PathBuf,
    /// What `GET /ops` shows.
    pub watched: Watched,
}

/// Requests larger than this are refused before they are read whole.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;
// So a body a little over the order limit still gets the order check's own 413 message.
const _: () = assert!(MAX_REQUEST_BYTES > MAX_ORDER_BYTES);

/// How long a client may take to send a request's headers, from the moment the server waits for
/// them (a new connection, or the next request on a kept-alive one). Every local client sends
/// them at once; without a bound, a client that sends them a byte at a time ("slowloris") holds
/// its connection, and what it costs, for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body once its headers are in. The largest body
/// taken is 1 MiB, which crosses loopback in milliseconds; 30 s leaves room for a busy machine and
/// still frees a connection whose client stopped sending.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The gateway's bounds on slow clients.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub headers: Duration,
    pub body: Duration,
}

pub const TIMEOUTS: Timeouts = Timeouts {
    headers: HEADER_READ_TIMEOUT,
    body: BODY_READ_TIMEOUT,
};

/// The routes, behind the Host check, the body timeout and the size limit (outermost last).
pub fn router(api: Api, body_timeout: Duration) -> Router {
    Router::new()
        .route("/orders", post(post_order))
        .route("/create_report", post(create_report))
        .route("/mailbox", get(read_mailbox))
        .route("/ops", get(ops_page))
        .route("/reports/{file}", get(report))
        .route("/health", get(health))
        .layer(middleware::from_fn_with_state(
            body_timeout,
            read_body_in_time,
        ))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(middleware::from_fn(loopback_only))
        .with_state(Arc::new(api))
}

/// Serves the API on `listener` until the process ends: HTTP/1.1, one task per connection, the
/// headers of each request bounded by `timeouts.headers`, its body by `timeouts.body`.
/// `axum::serve` sets no timer on hyper, so hyper's header read timeout never fires there; this
/// is the same loop with one.
pub async fn serve(listener: tokio::net::TcpListener, api: Api, timeouts: Timeouts) {
    let app = router(api, timeouts.body);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to be freed.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(timeouts.headers)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                debug!(error = %e, "connection ended");
            }
        });
    }
}

/// Whether `host`, a `Host` header, names this machine by a loopback name: `localhost`,
/// `127.0.0.1` or `[::1]`, with any port or none. A name is compared as DNS compares names,
/// without regard to case.
pub fn is_loopback_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((address, "")) => (address, None),
            Some((address, rest)) => match rest.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    let port_ok = port.is_none_or(|port| port.bytes().all(|b| b.is_ascii_digit()));
    port_ok && (name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "::1")
}

/// Whether an `Origin` header names a page served from this machine (`http://localhost:8080`).
pub fn is_loopback_origin(origin: &str) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_, host)| is_loopback_host(host))
}

/// Refuses, with 421, a request whose `Host` is not a loopback name. A web page can make the
/// browser send requests here by giving its own host name a loopback address (DNS rebinding);
/// the browser then treats the answers as the page's own and lets it read them (the mailbox,
/// with its report links) or post orders. Such requests carry the page's host name, so they
/// stop here, on every route. A page elsewhere can still make the browser send a request it
/// cannot read (an order posted without a Content-Type): the browser names that page in
/// `Origin`, so those are refused with 403.
async fn loopback_only(request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(HeaderValue::to_str);
    if let Some(origin) = origin.filter(|origin| !matches!(origin, Ok(o) if is_loopback_origin(o)))
    {
        let named = origin.unwrap_or("one that is not text");
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "this local gateway answers only pages served from this machine; the Origin here is {named}"
            ),
        );
    }
    let host = request.headers().get(header::HOST).map(HeaderValue::to_str);
    match host {
        Some(Ok(host)) if is_loopback_host(host) => next.run(request).await,
        _ => {
            let named = match host {
                Some(Ok(host)) => format!("`{host}`"),
                Some(Err(_)) => "one that is not text".to_owned(),
                None => "none".to_owned(),
            };
            let refusal = format!(
                "this local gateway answers only requests for localhost, 127.0.0.1 or [::1] \
                 (any port); the Host here is {named}"
            );
            error(StatusCode::MISDIRECTED_REQUEST, refusal)
        }
    }
}

/// Reads the request's body within `timeout` (408 after it), so that a client that stops sending
/// does not hold its connection; the routes then read it from memory. Its size is limited by
/// the `DefaultBodyLimit` around this (413 over it).
async fn read_body_in_time(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let read = Bytes::from_request(Request::from_parts(parts.clone(), body), &());
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(rejection)) => rejection.into_response(),
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs_f64()
            ),
        ),
    }
}

/// What the deployed API answers to a body it has no request template for (its
/// `UNSUPPORTED_MEDIA_TYPE` gateway response in template.yaml).
const UNSUPPORTED_MEDIA_TYPE: &str = "send JSON, with Content-Type: application/json";

/// Whether the deployed API takes a body sent with this `Content-Type`. Both routes have one
/// request template, for `application/json`, and `passthroughBehavior: never`, so API Gateway
/// refuses any other type with 415. AWS is reported to take `application/json; charset=utf-8`
/// as `application/json` (template and model alike), and so does this; media types and the
/// charset are matched without regard to case. A request with no `Content-Type` is taken
/// as `application/json`, as API Gateway does ("None: API Gateway defaults to application/json",
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html).
pub fn is_json_content_type(content_type: Option<&HeaderValue>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let Ok(content_type) = content_type.to_str() else {
        return false;
    };
    let (media_type, parameters) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !media_type.trim().eq_ignore_ascii_case("application/json") {
        return false;
    }
    let parameters = parameters.trim();
    if parameters.is_empty() {
        return true;
    }
    match parameters.split_once('=') {
        Some((name, value)) => {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")
        }
        None => false,
    }
}

fn unsupported_media_type() -> Response {
    error(StatusCode::UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// The error codes with which SQS refuses a message for what it holds: the order's fault, 400.
/// SQS answers 400 for its own troubles too (a missing queue, KMS, throttling); those, and every
/// other failure, no answer included, are 502, which clients retry. The deployed API's /orders
/// response template (template.yaml) lists the same codes; a test compares the two.
pub const SQS_CODES_CAUSED_BY_THE_ORDER: [&str; 5] = [
    "InvalidMessageContents",
    "InvalidParameterValue",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "MissingParameter",
];

/// Whether SQS refused the order for what it holds (a 400 with one of
/// [`SQS_CODES_CAUSED_BY_THE_ORDER`]).
fn refused_for_the_order<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(e, SdkError::ServiceError(service)
        if service.raw().status().as_u16() == 400
            && e.code().is_some_and(|code| SQS_CODES_CAUSED_BY_THE_ORDER.contains(&code)))
}

/// What the API answers for a repeated `Idempotency-Key`: the execution it named.
fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}
/// `POST /orders`: a valid order goes on the queue (`202 {"messageId"}`); anything else is
/// refused with a JSON error saying what is wrong. An `Idempotency-Key` header is passed on.
/// The content type is checked first: the deployed API picks its request template (and the model
/// it validates against) by it, and has none for other types.
async fn post_order(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_json_content_type(headers.get(header::CONTENT_TYPE)) {
        return unsupported_media_type();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the order is not UTF-8 text");
    };
    if let Err(e) = Order::parse(text) {
        let status = match e {
            OrderError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        return error(status, e.to_string());
    }
    let mut send = api
        .aws
        .sqs
        .send_message()
        .queue_url(&api.queue_url)
        .message_body(text);
    if let Some(key) = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()) {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(key)
            .build();
        match attribute {
            Ok(attribute) => send = send.message_attributes(IDEMPOTENCY_KEY, attribute),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("{IDEMPOTENCY_KEY}: {e}")),
        }
    }
    match send.send().await {
        Ok(sent) => {
            let message_id = sent.message_id().unwrap_or_default();
            info!(message_id, "order accepted");
            (StatusCode::ACCEPTED, Json(json!({"messageId": message_id}))).into_response()
        }
        Err(e) => {
            let reason = aws_error_text(&e);
            warn!(reason, "SendMessage failed");
            if refused_for_the_order(&e) {
                let message = e.message().unwrap_or(&reason);
                let refusal = format!("the order queue refused the order: {message}");
                error(StatusCode::BAD_REQUEST, refusal)
            } else {
                let outage =
                    "the order queue is unavailable; the order was not taken, send it again";
                error(StatusCode::BAD_GATEWAY, outage)
            }
        }
    }
}

/// `POST /create_report`: starts the report state machine. The report takes no parameters, so,
/// as in the deployed API, the request body is not passed on: the input is always `{}`. Its
/// content type is checked as for orders, since the deployed route has the same templates.
/// An `Idempotency-Key` header names the execution, so a repeat answers the same execution
/// (`"repeated": true` once it has ended) rather than starting a second report.
async fn create_report(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if !is_json_content_type(headers.get(header::CONTENT_TYPE)) {
        return unsupported_media_type();
    }
    // UTF-8, as API Gateway passes a header on: a name may be any Unicode text.
    let key = match headers
        .get(IDEMPOTENCY_KEY)
        .map(|v| std::str::from_utf8(v.as_bytes()))
    {
        None => None,
        Some(Ok(key)) if is_execution_name(key) => Some(key.to_owned()),
        Some(_) => return error(StatusCode::BAD_REQUEST, INVALID_REPORT_KEY),
    };
    let input = "{}";
    let name = key
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let started = api
        .aws
        .sfn
        .start_execution()
        .state_machine_arn(&api.state_machine_arn)
        .name(&name)
        .input(input)
        .send()
        .await;
    match started {
        Ok(started) => {
            let start_date = started.start_date().as_secs_f64();
            info!(execution = started.execution_arn(), "report requested");
            Json(json!({"executionArn": started.execution_arn(), "startDate": start_date}))
                .into_response()
        }
        // Step Functions answers a repeat of an ended execution so; a running one it returns.
        Err(e) if key.is_some() && e.code() == Some("ExecutionAlreadyExists") => {
            let arn = execution_arn(&api.state_machine_arn, &name);
            info!(
                execution = arn,
                "report already requested under this Idempotency-Key"
            );
            Json(json!({"executionArn": arn, "repeated": true})).into_response()
        }
        Err(e) => {
            let reason = aws_error_text(&e);
            warn!(reason, "StartExecution failed");
            let message = e.message().unwrap_or(&reason);
            let failure = format!("the report could not be started: {message}");
            error(StatusCode::BAD_GATEWAY, failure)
        }
    }
}

/// The answer to an `Idempotency-Key` that cannot name an execution (the deployed API's words).
const INVALID_REPORT_KEY: &str = "the Idempotency-Key is not a valid execution name: 1 to 80 characters, without spaces, control characters or any of < > { } [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : /";

/// `GET /mailbox`: JSON for tools, a page for browsers.
async fn read_mailbox(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    let letters = match mailbox::read(&api.mailbox_file) {
        Ok(letters) => letters,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    if wants_html(&headers) {
        Html(mailbox::html(&letters)).into_response()
    } else {
        Json(letters).into_response()
    }
}

/// Whether a browser asks: it sends `Accept: text/html,…`; tools send none or `*/*`.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /ops`: JSON for tools, a page for browsers; 200 even when a section could not be
/// gathered, since that section says so and the rest is still worth reading.
async fn ops_page(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    let report = ops_page::gather(
        &api.aws,
        &api.state_machine_arn,
        &api.watched,
        &api.mailbox_file,
    )
    .await;
    if wants_html(&headers) {
        Html(ops_page::html(&report)).into_response()
    } else {
        Json(report).into_response()
    }
}

/// The S3 key of the report of the execution named by `file` (`<execution name>.html`), or None
/// when `file` is not that: the name must be one Step Functions accepts, which has no `/`, `\`,
/// `%` or control character, so no request reaches a key outside `reports/`.
pub fn report_key(file: &str) -> Option<String> {
    let name = file.strip_suffix(".html")?;
    is_execution_name(name).then(|| format!("reports/{name}.html"))
}

/// What the browser may do with a served report: show it and its inline styles and pictures,
/// nothing else. The report has no script and fetches nothing; should a supplier's text ever
/// get through unescaped, this keeps it inert on the gateway's origin.
const REPORT_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /reports/<execution>.html`: the report the execution stored, read from the reports bucket,
/// so the ops page can link every report for as long as it is kept (the emailed link is
/// presigned and stops working within the hour). 404 when it is not there, 400 for a file name
/// that cannot be an execution's report.
async fn report(State(api): State<Arc<Api>>, Path(file): Path<String>) -> Response {
    let Some(key) = report_key(&file) else {
        return error(
            StatusCode::BAD_REQUEST,
            "a report is named <execution name>.html, the execution name as Step Functions takes it",
        );
    };
    let got = api
        .aws
        .s3
        .get_object()
        .bucket(&api.reports_bucket)
        .key(&key)
        .send()
        .await;
    let object = match got {
        Ok(object) => object,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no report at s3://{}/{key}", api.reports_bucket),
            );
        }
        Err(e) => {
            let reason = aws_error_text(&e);
            warn!(key, reason, "GetObject failed");
            return error(
                StatusCode::BAD_GATEWAY,
                format!("the report could not be read: {reason}"),
            );
        }
    };
    match object.body.collect().await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    REPORT_CONTENT_SECURITY_POLICY,
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes.into_bytes(),
        )
            .into_response(),
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the report could not be read: {e}"),
        ),
    }
}

/// `GET /health`: 200 once the emulator answers for the queue the gateway feeds.
async fn health(State(api): State<Arc<Api>>) -> Response {
    let queue = api
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&api.queue_url)
        .send()
        .await;
    match queue {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the emulator does not answer: {}", aws_error_text(&e)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_any_port_are_loopback() {
        for host in [
            "localhost",
            "localhost:3000",
            "LocalHost:3000",
            "127.0.0.1",
            "127.0.0.1:3000",
            "[::1]",
            "[::1]:3000",
            "localhost:",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn origins_are_loopback_when_their_host_is() {
        for origin in [
            "http://localhost:8080",
            "http://127.0.0.1",
            "https://[::1]:3000",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "null",
            "https://evil.example",
            "http://127.0.0.1.nip.io",
            "localhost",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }

    #[test]
    fn every_other_name_is_not() {
        for host in [
            "",
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "localhost.evil.example:3000",
            "evil.localhost",
            "127.0.0.1.nip.io:3000",
            "127.0.0.2:3000",
            "0.0.0.0:3000",
            "192.168.1.20:3000",
            "::1",
            "[::1]x",
            "[::1",
            "[::2]:3000",
            "localhost:3000:1",
            "localhost:30x0",
            "localhost@evil.example",
            "evil.example@localhost",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    fn json(content_type: &str) -> bool {
        is_json_content_type(Some(&HeaderValue::from_str(content_type).unwrap()))
    }

    #[test]
    fn json_with_or_without_a_utf8_charset_is_json_in_any_case() {
        assert!(is_json_content_type(None), "no Content-Type: taken as JSON");
        for content_type in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "APPLICATION/JSON ; Charset = \"utf-8\"",
        ] {
            assert!(json(content_type), "{content_type}");
        }
    }

    #[test]
    fn any_other_content_type_is_not() {
        for content_type in [
            "",
            "text/plain",
            "text/plain; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "application/json-patch+json",
            "application/json; charset=iso-8859-1",
            "application/json; charset=utf-8; x=y",
            "application/json; x",
        ] {
            assert!(!json(content_type), "{content_type}");
        }
    }
}
