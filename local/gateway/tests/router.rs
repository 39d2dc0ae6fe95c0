//! The gateway's routes, driven in process through `api::router` (no socket), with the AWS calls
//! behind them answered by SDK mocks: what each route answers for the service's success, its
//! refusal and its outage, and for the paths and methods it does not serve.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
use aws_sdk_sqs::operation::send_message::SendMessageOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cafe_gateway::Aws;
use cafe_gateway::api::{Api, router};
use cafe_tests::unreachable_sdk_config;
use serde_json::Value;
use tower::ServiceExt;

const QUEUE_URL: &str = "http://127.0.0.1:4566/123456789012/orders-queue";
const MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:InventoryReport";

/// Clients of an AWS that does not answer: every call goes to a closed port.
fn unreachable() -> Aws {
    Aws::new(&unreachable_sdk_config())
}

/// An API whose SQS and Step Functions clients answer by `sqs` and `sfn`; every other client
/// points at a closed port.
fn api(sqs: &[&Rule], sfn: &[&Rule]) -> Api {
    let mut aws = unreachable();
    aws.sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, sqs);
    aws.sfn = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, sfn);
    api_on(aws)
}

fn api_on(aws: Aws) -> Api {
    Api {
        aws,
        queue_url: QUEUE_URL.into(),
        state_machine_arn: MACHINE_ARN.into(),
        mailbox_file: PathBuf::from("/nonexistent/cafe-gateway-router-tests/mailbox.jsonl"),
    }
}

/// One request through the router: status and body (JSON, or `Null`).
async fn call(api: Api, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = router(api, Duration::from_secs(5))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const ORDER: &str = r#"{"item": "flat white", "customerID": "c-1", "quantity": 2}"#;

#[tokio::test]
async fn a_valid_order_is_sent_to_the_queue_as_it_came_and_answered_202() {
    let sent = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|send| {
            send.queue_url() == Some(QUEUE_URL) && send.message_body() == Some(ORDER)
        })
        .then_output(|| SendMessageOutput::builder().message_id("m-1").build());
    let (status, answer) = call(api(&[&sent], &[]), "POST", "/orders", ORDER).await;
    assert_eq!(
        (status, answer["messageId"].as_str()),
        (StatusCode::ACCEPTED, Some("m-1"))
    );
    assert_eq!(sent.num_calls(), 1);
}

#[tokio::test]
async fn an_invalid_order_is_refused_with_its_reason_and_never_sent() {
    let sent = mock!(aws_sdk_sqs::Client::send_message)
        .then_output(|| SendMessageOutput::builder().message_id("m-1").build());
    let (status, answer) = call(
        api(&[&sent], &[]),
        "POST",
        "/orders",
        r#"{"item": "flat white", "quantity": 2}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"].as_str().unwrap().contains("customerID"),
        "{answer}"
    );
    assert_eq!(sent.num_calls(), 0);
}

/// An answer of SQS with this HTTP status and JSON body.
fn sqs_answer(status: u16, body: &'static str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

#[tokio::test]
async fn a_queue_that_refuses_the_order_is_a_400_and_one_that_fails_a_502() {
    let refused = mock!(aws_sdk_sqs::Client::send_message).then_http_response(|| {
        sqs_answer(
            400,
            r#"{"__type": "InvalidMessageContents", "message": "invalid character"}"#,
        )
    });
    let (status, answer) = call(api(&[&refused], &[]), "POST", "/orders", ORDER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("the order queue refused"),
        "{answer}"
    );

    let failing = mock!(aws_sdk_sqs::Client::send_message)
        .then_http_response(|| sqs_answer(500, r#"{"__type": "InternalError"}"#));
    for aws in [api(&[&failing], &[]), api_on(unreachable())] {
        let (status, answer) = call(aws, "POST", "/orders", ORDER).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("send it again"),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn a_report_request_starts_the_state_machine_with_no_input_of_the_callers() {
    let started = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|start| {
            start.state_machine_arn() == Some(MACHINE_ARN) && start.input() == Some("{}")
        })
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn("arn:execution:1")
                .start_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        });
    let (status, answer) = call(
        api(&[], &[&started]),
        "POST",
        "/create_report",
        r#"{"bucket": "someone-elses"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["executionArn"], "arn:execution:1");
    assert_eq!(started.num_calls(), 1);

    let failed = mock!(aws_sdk_sfn::Client::start_execution)
        .then_error(|| StartExecutionError::unhandled("no route to host"));
    let (status, _) = call(api(&[], &[&failed]), "POST", "/create_report", "{}").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn health_is_ok_only_while_the_queue_answers() {
    let answers = mock!(aws_sdk_sqs::Client::get_queue_attributes)
        .then_output(|| GetQueueAttributesOutput::builder().build());
    let (status, _) = call(api(&[&answers], &[]), "GET", "/health", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = call(api_on(unreachable()), "GET", "/health", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
}

#[tokio::test]
async fn a_missing_mailbox_is_an_empty_one() {
    let (status, answer) = call(api(&[], &[]), "GET", "/mailbox", "").await;
    assert_eq!((status, answer), (StatusCode::OK, Value::Array(vec![])));
}

#[tokio::test]
async fn other_paths_and_methods_are_not_served() {
    let (status, _) = call(api(&[], &[]), "GET", "/orders", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = call(api(&[], &[]), "POST", "/health", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = call(api(&[], &[]), "GET", "/admin", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
