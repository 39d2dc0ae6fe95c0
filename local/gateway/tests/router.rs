//! The gateway's routes, driven in process through `api::router` (no socket), with the AWS calls
//! behind them answered by SDK mocks: what each route answers for the service's success, its
//! refusal and its outage, and for the paths and methods it does not serve.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{Record, StreamRecord};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::list_executions::{ListExecutionsError, ListExecutionsOutput};
use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus};
use aws_sdk_sqs::operation::get_queue_attributes::{
    GetQueueAttributesError, GetQueueAttributesOutput,
};
use aws_sdk_sqs::operation::send_message::SendMessageOutput;
use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cafe_gateway::Aws;
use cafe_gateway::api::{Api, SQS_CODES_CAUSED_BY_THE_ORDER, router};
use cafe_gateway::mappings::position::StreamPosition;
use cafe_gateway::metrics_log::FunctionsLog;
use cafe_gateway::ops_page::{QueueKind, Watched, WatchedQueue};
use cafe_tests::unreachable_sdk_config;
use serde_json::{Value, json};
use tower::ServiceExt;

const QUEUE_URL: &str = "http://127.0.0.1:4566/123456789012/orders-queue";
const DLQ_URL: &str = "http://127.0.0.1:4566/123456789012/orders-dlq";
const FAILURES_URL: &str = "http://127.0.0.1:4566/123456789012/notifier-failures";
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
        reports_bucket: "cafe-reports".into(),
        mailbox_file: PathBuf::from("/nonexistent/cafe-gateway-router-tests/mailbox.jsonl"),
        watched: Watched {
            queues: [
                ("orders-queue", QUEUE_URL, QueueKind::Work),
                ("orders-dlq", DLQ_URL, QueueKind::ParkedOrders),
                (
                    "notifier-failures",
                    FAILURES_URL,
                    QueueKind::ParkedNotifications,
                ),
            ]
            .map(|(name, url, kind)| WatchedQueue {
                name: name.into(),
                url: url.into(),
                kind,
            })
            .into(),
            stream_position: StreamPosition::default(),
            functions_log: FunctionsLog::new(PathBuf::from(
                "/nonexistent/cafe-gateway-router-tests/functions.log",
            )),
        },
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
    let (status, bytes) = send(api, request).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `request` through the router: the answer's status and body.
async fn send(api: Api, request: Request<Body>) -> (StatusCode, axum::body::Bytes) {
    let response = router(api, Duration::from_secs(5))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes)
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

/// An answer of an AWS service with this HTTP status and JSON body.
fn service_answer(status: u16, body: impl Into<String>) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body.into()),
    )
}

#[tokio::test]
async fn a_queue_that_refuses_the_order_is_a_400_and_one_that_fails_a_502() {
    let refused = mock!(aws_sdk_sqs::Client::send_message).then_http_response(|| {
        service_answer(
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
        .then_http_response(|| service_answer(500, r#"{"__type": "InternalError"}"#));
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
async fn an_sqs_400_that_is_sqss_own_trouble_is_a_502_the_client_retries() {
    for code in [
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "KmsAccessDenied",
        "RequestThrottled",
        "AccessDenied",
    ] {
        let refused = mock!(aws_sdk_sqs::Client::send_message).then_http_response(move || {
            service_answer(400, format!(r#"{{"__type": "{code}", "message": "m"}}"#))
        });
        let (status, answer) = call(api(&[&refused], &[]), "POST", "/orders", ORDER).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{code}: {answer}");
    }
}

#[test]
fn the_deployed_api_treats_the_same_sqs_codes_as_the_orders_fault() {
    let template =
        std::fs::read_to_string(cafe_tests::workspace_root().join("template.yaml")).unwrap();
    let condition = template
        .lines()
        .find(|line| line.contains("#if($code == "))
        .expect("the /orders 400 response template's list of codes");
    let deployed: Vec<&str> = condition
        .split("$code == '")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap())
        .collect();
    assert_eq!(deployed, SQS_CODES_CAUSED_BY_THE_ORDER);
}

/// A report request with this `Idempotency-Key`.
async fn report_with_key(api: Api, key: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method("POST")
        .uri("/create_report")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from("{}"))
        .unwrap();
    let (status, bytes) = send(api, request).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn an_idempotency_key_names_the_execution_and_a_repeat_answers_it() {
    let started = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|start| start.name() == Some("nightly-2026-12-05"))
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn(format!(
                    "{}:nightly-2026-12-05",
                    MACHINE_ARN.replace(":stateMachine:", ":execution:")
                ))
                .start_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap()
        });
    let (status, first) = report_with_key(api(&[], &[&started]), "nightly-2026-12-05").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(started.num_calls(), 1);

    // Once that execution has ended, Step Functions refuses the name: the same execution.
    let ended = mock!(aws_sdk_sfn::Client::start_execution).then_http_response(|| {
        service_answer(
            400,
            r#"{"__type": "ExecutionAlreadyExists", "message": "Execution Already Exists"}"#,
        )
    });
    let (status, repeat) = report_with_key(api(&[], &[&ended]), "nightly-2026-12-05").await;
    assert_eq!(status, StatusCode::OK, "{repeat}");
    assert_eq!(repeat["executionArn"], first["executionArn"]);
    assert_eq!(repeat["repeated"], true);
}

#[tokio::test]
async fn a_key_that_cannot_name_an_execution_is_a_400_and_starts_nothing() {
    let started = mock!(aws_sdk_sfn::Client::start_execution).then_output(|| {
        StartExecutionOutput::builder()
            .execution_arn("arn:execution:1")
            .start_date(DateTime::from_secs(1_700_000_000))
            .build()
            .unwrap()
    });
    let too_long = "k".repeat(81);
    for key in ["two words", "a/b", "a:b", "\u{85}x", too_long.as_str(), ""] {
        let (status, answer) = report_with_key(api(&[], &[&started]), key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{answer}"
        );
    }
    assert_eq!(started.num_calls(), 0);
    let longest = "é".repeat(80);
    let (status, answer) = report_with_key(api(&[], &[&started]), &longest).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
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

/// `GET /ops` with this `Accept`: status and body text.
async fn ops(api: Api, accept: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri("/ops")
        .header("host", "127.0.0.1:3000")
        .header("accept", accept)
        .body(Body::empty())
        .unwrap();
    let (status, bytes) = send(api, request).await;
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// SQS's answer for `url`: so many messages waiting and in flight.
fn depth(url: &'static str, waiting: u32, in_flight: u32) -> Rule {
    mock!(aws_sdk_sqs::Client::get_queue_attributes)
        .match_requests(move |get| get.queue_url() == Some(url))
        .then_output(move || {
            GetQueueAttributesOutput::builder()
                .attributes(
                    QueueAttributeName::ApproximateNumberOfMessages,
                    waiting.to_string(),
                )
                .attributes(
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                    in_flight.to_string(),
                )
                .build()
        })
}

/// Step Functions' answer to ListExecutions on the state machine: these (name, status, start,
/// stop) executions.
fn executions(listed: &'static [(&'static str, ExecutionStatus, i64, Option<i64>)]) -> Rule {
    mock!(aws_sdk_sfn::Client::list_executions)
        .match_requests(|list| {
            list.state_machine_arn() == Some(MACHINE_ARN) && list.max_results() == Some(10)
        })
        .then_output(move || {
            let executions = listed.iter().map(|(name, status, start, stop)| {
                ExecutionListItem::builder()
                    .execution_arn(format!("arn:execution:{name}"))
                    .state_machine_arn(MACHINE_ARN)
                    .name(*name)
                    .status(status.clone())
                    .start_date(DateTime::from_secs(*start))
                    .set_stop_date(stop.map(DateTime::from_secs))
                    .build()
                    .unwrap()
            });
            ListExecutionsOutput::builder()
                .set_executions(Some(executions.collect()))
                .build()
                .unwrap()
        })
}

/// A functions' log holding `lines`, in a file of the test's own.
fn functions_log(test: &str, lines: &[&str]) -> FunctionsLog {
    let path = std::env::temp_dir().join(format!(
        "cafe-gateway-router-{test}-{}.log",
        std::process::id()
    ));
    std::fs::write(
        &path,
        lines
            .iter()
            .map(|line| format!("{line}\n"))
            .collect::<String>(),
    )
    .unwrap();
    FunctionsLog::new(path)
}

fn emf(function: &str, metric: &str, value: u32) -> String {
    json!({
        "_aws": {
            "Timestamp": 1_800_000_000_000u64,
            "CloudWatchMetrics": [{
                "Namespace": "Cafe",
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "FunctionName": function,
        metric: value,
    })
    .to_string()
}

fn stream_record(sequence: &str, written: i64) -> Record {
    Record::builder()
        .dynamodb(
            StreamRecord::builder()
                .sequence_number(sequence)
                .approximate_creation_date_time(
                    aws_sdk_dynamodbstreams::primitives::DateTime::from_secs(written),
                )
                .build(),
        )
        .build()
}

const STARTED: i64 = 1_700_000_000;

/// Step Functions' answer to DescribeExecution: failed with this error and cause.
fn described_failure(error: &'static str, cause: &'static str) -> Rule {
    mock!(aws_sdk_sfn::Client::describe_execution).then_output(move || {
        DescribeExecutionOutput::builder()
            .execution_arn("arn:execution:failed")
            .state_machine_arn(MACHINE_ARN)
            .status(ExecutionStatus::Failed)
            .start_date(DateTime::from_secs(STARTED))
            .error(error)
            .cause(cause)
            .build()
            .unwrap()
    })
}

/// A mailbox file of the test's own holding these (subject, body, message id) letters.
fn mailbox_file(test: &str, letters: &[(&str, &str, &str)]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "cafe-gateway-router-{test}-{}.mailbox.jsonl",
        std::process::id()
    ));
    let lines: String = letters
        .iter()
        .map(|(subject, body, id)| {
            let letter = json!({"topic": "EmailReport", "to": "manager@cafe.example",
                "subject": subject, "body": body, "timestamp": "2026-12-06T00:00:00Z", "messageId": id});
            format!("{letter}\n")
        })
        .collect();
    std::fs::write(&path, lines).unwrap();
    path
}

/// The HTML of the card whose heading is `title`.
fn card<'a>(page: &'a str, title: &str) -> &'a str {
    let heading = format!("<h3>{title}</h3>");
    let at = page
        .find(&heading)
        .unwrap_or_else(|| panic!("no card {title}: {page}"));
    let start = page[..at].rfind("<div class=\"card").unwrap();
    let end = at + page[at..].find("\n</div>").unwrap();
    &page[start..end]
}

/// An API whose SQS client answers by `sqs`; every other client points at a closed port.
fn queues_only(sqs: &[&Rule]) -> Api {
    let mut aws = unreachable();
    aws.sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, sqs);
    api_on(aws)
}

#[tokio::test]
async fn a_parked_order_asks_for_action_and_names_its_verbs_while_an_empty_queue_stays_calm() {
    let (orders, dlq, failures) = (
        depth(QUEUE_URL, 3, 0),
        depth(DLQ_URL, 1, 0),
        depth(FAILURES_URL, 0, 0),
    );
    let (status, page) = ops(queues_only(&[&orders, &dlq, &failures]), "text/html").await;
    assert_eq!(status, StatusCode::OK);
    let parked = card(&page, "orders-dlq");
    assert!(
        parked.starts_with("<div class=\"card needs-action\">") && parked.contains("needs action"),
        "{parked}"
    );
    let verbs = parked
        .find("<code>make dlq-peek</code>")
        .zip(parked.find("<code>make redrive-orders</code>"));
    assert!(
        verbs.is_some_and(|(peek, redrive)| peek < redrive),
        "look first, then redrive: {parked}"
    );
    let calm = card(&page, "notifier-failures");
    assert!(
        calm.starts_with("<div class=\"card calm\">")
            && calm.contains("nothing parked")
            && !calm.contains("needs action")
            && !calm.contains("<code>"),
        "{calm}"
    );
    let work = card(&page, "orders-queue");
    assert!(
        work.starts_with("<div class=\"card \">") && !work.contains("needs action"),
        "orders waiting on the orders queue are work, not parked: {work}"
    );

    // Parked notifications name their own verb; a message in flight there counts too.
    let (orders, dlq, failures) = (
        depth(QUEUE_URL, 0, 0),
        depth(DLQ_URL, 0, 0),
        depth(FAILURES_URL, 0, 2),
    );
    let (_, page) = ops(queues_only(&[&orders, &dlq, &failures]), "text/html").await;
    let parked = card(&page, "notifier-failures");
    assert!(
        parked.contains("needs-action")
            && parked.contains("<code>make replay-notifications</code>"),
        "{parked}"
    );
    assert!(card(&page, "orders-dlq").contains("nothing parked"));
}

#[tokio::test]
async fn the_stream_is_caught_up_when_nothing_waits_and_behind_while_a_record_does() {
    let api = api_on(unreachable());
    let batch = [
        stream_record("101", STARTED),
        stream_record("102", STARTED + 1),
    ];
    let position = api.watched.stream_position.clone();
    position.handed_over("shard-1", &batch);
    position.settled("shard-1", Some("102"), None, &batch);
    let (_, page) = ops(api, "text/html").await;
    let shard = card(&page, "shard-1");
    assert!(
        shard.contains("caught up") && !shard.contains("behind"),
        "{shard}"
    );
    assert!(
        page.contains("parked on the failure queue; caught up"),
        "{page}"
    );

    let api = api_on(unreachable());
    api.watched
        .stream_position
        .handed_over("shard-1", &[stream_record("103", STARTED)]);
    let (_, body) = ops(api, "application/json").await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["stream"]["caughtUp"], false, "{answer}");
    assert!(answer["stream"]["waitingSeconds"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn executions_link_their_report_and_email_and_a_failed_one_shows_its_error_and_cause() {
    let listed = executions(&[
        (
            "fine-1",
            ExecutionStatus::Succeeded,
            STARTED,
            Some(STARTED + 2),
        ),
        (
            "broke-1",
            ExecutionStatus::Failed,
            STARTED + 10,
            Some(STARTED + 11),
        ),
        (
            "quiet-1",
            ExecutionStatus::Succeeded,
            STARTED + 20,
            Some(STARTED + 22),
        ),
    ]);
    let described = described_failure(
        "DatabaseUnavailable",
        "connection refused by 127.0.0.1:3306",
    );
    let mut aws = unreachable();
    aws.sfn = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, &[&listed, &described]);
    let mut api = api_on(aws);
    api.mailbox_file = mailbox_file(
        "executions",
        &[
            (
                "Café inventory report",
                "Open it: http://127.0.0.1:4566/cafe-reports/reports/fine-1.html?X-Amz-Signature=1 (works for 1 hour)",
                "m-fine",
            ),
            (
                "Café inventory report could not be produced",
                "No report this time. Reference: broke-1.",
                "",
            ),
            (
                "Café inventory report",
                "about fine-10, not the others",
                "m-other",
            ),
        ],
    );
    let mailbox = api.mailbox_file.clone();
    let (_, page) = ops(api, "text/html").await;
    let fine = card(&page, "fine-1");
    assert!(
        fine.contains("<a href=\"/reports/fine-1.html\">report</a>")
            && fine.contains("<a href=\"/mailbox#letter-m-fine\">email</a>"),
        "{fine}"
    );
    let broke = card(&page, "broke-1");
    assert!(
        broke.contains("<a href=\"/mailbox#letter.2\">email</a>") && !broke.contains("/reports/"),
        "the failure notice, which has no message id: the second letter; no report: {broke}"
    );
    assert!(
        broke.contains("DatabaseUnavailable")
            && broke.contains("<p class=\"cause\">connection refused by 127.0.0.1:3306</p>"),
        "{broke}"
    );
    let quiet = card(&page, "quiet-1");
    assert!(
        !quiet.contains("/mailbox#") && quiet.contains("No email of it in the mailbox."),
        "{quiet}"
    );
    assert_eq!(described.num_calls(), 1, "described: the failed one only");

    let request = Request::builder()
        .uri("/mailbox")
        .header("host", "127.0.0.1:3000")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let (_, bytes) = send(api_with_mailbox(mailbox.clone()), request).await;
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    for id in ["letter-m-fine", "letter.2", "letter-m-other"] {
        assert!(
            html.contains(&format!("<article id=\"{id}\">")),
            "{id}: {html}"
        );
    }
    std::fs::remove_file(mailbox).unwrap();
}

fn api_with_mailbox(mailbox_file: PathBuf) -> Api {
    let mut api = api_on(unreachable());
    api.mailbox_file = mailbox_file;
    api
}

/// `GET path` through the router: status, headers and body text.
async fn get(api: Api, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::builder()
        .uri(path)
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let response = router(api, Duration::from_secs(5))
        .oneshot(request)
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn a_report_is_served_from_the_bucket_under_its_execution_name_only() {
    let stored = mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|get| {
            get.bucket() == Some("cafe-reports") && get.key() == Some("reports/fine-1.html")
        })
        .then_output(|| {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(
                    b"<h1>Caf\xc3\xa9 inventory report</h1>",
                ))
                .build()
        });
    let missing = mock!(aws_sdk_s3::Client::get_object)
        .then_error(|| GetObjectError::NoSuchKey(NoSuchKey::builder().build()));
    let reports = || {
        let mut aws = unreachable();
        aws.s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[&stored, &missing]);
        api_on(aws)
    };

    let (status, headers, body) = get(reports(), "/reports/fine-1.html").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "<h1>Café inventory report</h1>");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"),
        "{headers:?}"
    );

    let (status, _, body) = get(reports(), "/reports/gone-1.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body.contains("s3://cafe-reports/reports/gone-1.html"),
        "{body}"
    );

    for path in [
        "/reports/..%2Fsecret.html",
        "/reports/a%2Fb.html",
        "/reports/fine-1.htm",
        "/reports/.html",
        "/reports/a%00b.html",
        "/reports/a%20b.html",
        "/reports/a%5Cb.html",
    ] {
        let (status, _, body) = get(reports(), path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    let (status, _, _) = get(reports(), "/reports/a/b.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no route below /reports/");
    assert_eq!(stored.num_calls(), 1);
    assert_eq!(missing.num_calls(), 1, "only the two good names reached S3");
}

#[tokio::test]
async fn ops_shows_queue_depths_the_stream_the_executions_and_the_metric_sums() {
    let (orders, dlq, failures) = (
        depth(QUEUE_URL, 4, 2),
        depth(DLQ_URL, 1, 0),
        depth(FAILURES_URL, 0, 0),
    );
    let listed = executions(&[
        (
            "older",
            ExecutionStatus::Succeeded,
            STARTED,
            Some(STARTED + 3),
        ),
        ("newer", ExecutionStatus::Running, STARTED + 60, None),
    ]);
    let mut api = api(&[&orders, &dlq, &failures], &[&listed]);
    let stored = emf("order-writer", "OrdersStored", 3);
    let log = [
        "   Compiling order-writer",
        &stored,
        "{\"level\":\"INFO\"}",
        &stored,
        &emf("order-notifier", "NotificationsPublished", 5),
    ];
    let log = functions_log("json", &log);
    api.watched.functions_log = log.clone();
    let batch = [
        stream_record("101", STARTED),
        stream_record("102", STARTED + 1),
    ];
    api.watched.stream_position.handed_over("shard-1", &batch);
    api.watched
        .stream_position
        .settled("shard-1", Some("102"), None, &batch);

    let (status, body) = ops(api, "application/json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["queues"],
        json!({
            "orders-queue": {"kind": "work", "approximateNumberOfMessages": 4, "approximateNumberOfMessagesNotVisible": 2},
            "orders-dlq": {
                "kind": "parkedOrders",
                "approximateNumberOfMessages": 1,
                "approximateNumberOfMessagesNotVisible": 0,
                "needsAction": QueueKind::ParkedOrders.remedy().unwrap(),
            },
            "notifier-failures": {"kind": "parkedNotifications", "approximateNumberOfMessages": 0, "approximateNumberOfMessagesNotVisible": 0},
        })
    );
    let shard = &answer["stream"]["shards"][0];
    assert_eq!(shard["shardId"], "shard-1");
    assert_eq!(shard["checkpoint"], "102");
    assert_eq!(shard["recordsHandedOver"], 2);
    assert_eq!(shard["lagFrom"], "lastFinished");
    assert!(shard["lagSeconds"].as_f64().unwrap() > 0.0, "{shard}");
    assert_eq!(answer["stream"]["parked"], 0);
    assert_eq!(answer["stream"]["caughtUp"], true, "nothing waits");
    assert_eq!(answer["stream"]["waitingSeconds"], Value::Null);

    let executions = answer["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 2);
    assert_eq!(executions[0]["name"], "newer", "newest first");
    assert_eq!(executions[0]["status"], "RUNNING");
    assert_eq!(executions[0]["durationSeconds"], Value::Null);
    assert_eq!(executions[1]["status"], "SUCCEEDED");
    assert_eq!(executions[1]["durationSeconds"], 3.0);
    assert_eq!(executions[1]["startDate"], "2023-11-14T22:13:20Z");
    assert_eq!(executions[1]["report"], "/reports/older.html");
    assert_eq!(
        executions[0]["report"],
        Value::Null,
        "no report while it runs"
    );

    assert_eq!(
        answer["metrics"]["functions"],
        json!({"order-writer": {"OrdersStored": 6}, "order-notifier": {"NotificationsPublished": 5}})
    );
    std::fs::remove_file(log.path()).unwrap();
    assert!(answer["generatedAt"].is_string());
    assert_eq!(
        (orders.num_calls(), dlq.num_calls(), failures.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn the_ops_page_refreshes_itself_and_escapes_what_comes_from_data() {
    let (orders, dlq, failures) = (
        depth(QUEUE_URL, 0, 0),
        depth(DLQ_URL, 0, 0),
        depth(FAILURES_URL, 0, 0),
    );
    let listed = executions(&[(
        "<script>alert(1)</script>",
        ExecutionStatus::Failed,
        STARTED,
        Some(STARTED + 1),
    )]);
    let described = described_failure("<b>Boom</b>", "<script>alert(3)</script>");
    let mut api = api(&[&orders, &dlq, &failures], &[&listed, &described]);
    let hostile = emf("<img src=x onerror=alert(2)>", "OrdersStored", 1);
    let log = functions_log("html", &[&hostile]);
    api.watched.functions_log = log.clone();

    let (status, page) = ops(api, "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#));
    for heading in [
        "Queues",
        "Order stream",
        "Report executions",
        "Function metrics",
    ] {
        assert!(page.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;b&gt;Boom&lt;/b&gt;")
            && page.contains("&lt;script&gt;alert(3)&lt;/script&gt;"),
        "the failure's error and cause, escaped: {page}"
    );
    assert!(
        !page.contains("<script") && !page.contains("<img"),
        "{page}"
    );
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "nothing fetched from elsewhere"
    );
    std::fs::remove_file(log.path()).unwrap();
}

#[tokio::test]
async fn a_section_that_fails_says_why_and_the_rest_is_still_shown() {
    let orders = depth(QUEUE_URL, 7, 0);
    let dlq = mock!(aws_sdk_sqs::Client::get_queue_attributes)
        .match_requests(|get| get.queue_url() == Some(DLQ_URL))
        .then_error(|| GetQueueAttributesError::unhandled("the DLQ is gone"));
    let failures = depth(FAILURES_URL, 0, 0);
    let listing_fails = mock!(aws_sdk_sfn::Client::list_executions)
        .then_error(|| ListExecutionsError::unhandled("no route to host"));
    let log = functions_log("failing", &[&emf("order-writer", "OrdersStored", 2)]);
    let failing_api = || {
        let mut api = api(&[&orders, &dlq, &failures], &[&listing_fails]);
        api.watched.functions_log = FunctionsLog::new(log.path().to_owned());
        api
    };

    let (status, body) = ops(failing_api(), "application/json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["queues"]["orders-queue"]["approximateNumberOfMessages"],
        7
    );
    let dlq_error = answer["queues"]["orders-dlq"]["error"].as_str().unwrap();
    assert!(
        dlq_error.starts_with("GetQueueAttributes failed") && dlq_error.contains("the DLQ is gone"),
        "{dlq_error}"
    );
    assert_eq!(
        answer["queues"]["notifier-failures"]["approximateNumberOfMessages"],
        0
    );
    let listing_error = answer["executions"]["error"].as_str().unwrap();
    assert!(
        listing_error.starts_with("ListExecutions failed"),
        "{listing_error}"
    );
    assert_eq!(
        answer["metrics"]["functions"]["order-writer"]["OrdersStored"],
        2
    );

    let (status, page) = ops(failing_api(), "text/html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("GetQueueAttributes failed") && page.contains("ListExecutions failed"),
        "{page}"
    );
    assert!(page.contains("OrdersStored"), "{page}");
    std::fs::remove_file(log.path()).unwrap();

    // AWS not answering at all: every AWS section says so; the page is still served.
    let (status, body) = ops(api_on(unreachable()), "application/json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert!(
        answer["queues"]["orders-queue"]["error"].is_string(),
        "{answer}"
    );
    assert!(answer["executions"]["error"].is_string(), "{answer}");
    assert_eq!(
        answer["metrics"]["functions"],
        json!({}),
        "no log yet: no metrics yet"
    );
    assert_eq!(answer["stream"]["shards"], json!([]));
}
