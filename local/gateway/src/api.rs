//! The REST API, with the rules of the deployed API: `POST /orders`, `POST /create_report`,
//! and, for the local stack only, `GET /mailbox` and `GET /health`.

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_sqs::types::MessageAttributeValue;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cafe_shared::order::{MAX_ORDER_BYTES, Order, OrderError};
use serde_json::json;
use tracing::{info, warn};

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use cafe_shared::error::aws_error_text;

use crate::{Aws, mailbox};

pub struct Api {
    pub aws: Aws,
    pub queue_url: String,
    pub state_machine_arn: String,
    pub mailbox_file: PathBuf,
}

/// Requests larger than this are refused before they are read whole.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;
// So a body a little over the order limit still gets the order check's own 413 message.
const _: () = assert!(MAX_REQUEST_BYTES > MAX_ORDER_BYTES);

pub fn router(api: Api) -> Router {
    Router::new()
        .route("/orders", post(post_order))
        .route("/create_report", post(create_report))
        .route("/mailbox", get(read_mailbox))
        .route("/health", get(health))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(Arc::new(api))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Whether SQS refused the request itself (a 4XX): the deployed API answers those 400 and
/// anything else, no answer included, 502.
fn refused_by_service<E>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(e, SdkError::ServiceError(service) if service.raw().status().is_client_error())
}
/// `POST /orders`: a valid order goes on the queue (`202 {"messageId"}`); anything else is
/// refused with a JSON error saying what is wrong. An `Idempotency-Key` header is passed on.
async fn post_order(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
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
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(key)
            .build();
        match attribute {
            Ok(attribute) => send = send.message_attributes("Idempotency-Key", attribute),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("Idempotency-Key: {e}")),
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
            if refused_by_service(&e) {
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
/// as in the deployed API, the request body is not passed on: the input is always `{}`.
async fn create_report(State(api): State<Arc<Api>>) -> Response {
    let input = "{}";
    let started = api
        .aws
        .sfn
        .start_execution()
        .state_machine_arn(&api.state_machine_arn)
        .name(uuid::Uuid::new_v4().to_string())
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
        Err(e) => {
            let reason = aws_error_text(&e);
            warn!(reason, "StartExecution failed");
            let message = e.message().unwrap_or(&reason);
            let failure = format!("the report could not be started: {message}");
            error(StatusCode::BAD_GATEWAY, failure)
        }
    }
}

/// `GET /mailbox`: JSON for tools, a page for browsers.
async fn read_mailbox(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    let letters = match mailbox::read(&api.mailbox_file) {
        Ok(letters) => letters,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        Html(mailbox::html(&letters)).into_response()
    } else {
        Json(letters).into_response()
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
            format!(
                "the emulator does not answer: {}",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            ),
        ),
    }
}
