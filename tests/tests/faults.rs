//! Fault tolerance and hostile input, proven on the running local stack (`make test-faults`).
//!
//! The promise: no accepted order is ever lost or duplicated, and every failure is visible to
//! someone (the DLQ, the notifier-failures queue, an email). The emulator injects the faults
//! (`POST /_cafe/faults`, see local/emulator/): AWS operations failing or slow, MySQL cut off.
//! The tests run one at a time (`--test-threads=1`: a fault is the whole stack's) and each
//! writes its figures to target/faults/<scenario>.json.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsBatchResponse;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use cafe_event_sources::events::sqs_event;
use cafe_event_sources::invoke::invoke;
use cafe_tests::stack::{
    EMULATOR, GATEWAY, clear_faults, database_url, escaped, eventually, fault_hits, inject_fault,
    mailbox, notifications_for, post_order, queue_url, report_email, tag,
};
use cafe_tests::{REGION, http_get, http_post, scan_json, sdk_config_for, workspace_root};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};

const ORDERS_TABLE: &str = "orders";
const REPORTS_BUCKET: &str = "cafe-reports";

/// The clients the scenarios use, all pointed at the stack's emulator.
struct Aws {
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    sfn: aws_sdk_sfn::Client,
    lambda: aws_sdk_lambda::Client,
}

fn aws() -> Aws {
    let config = sdk_config_for(EMULATOR);
    Aws {
        sqs: aws_sdk_sqs::Client::new(&config),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        lambda: aws_sdk_lambda::Client::new(&config),
    }
}

/// Writes a scenario's figures to target/faults/<scenario>.json and prints them.
fn record(scenario: &str, figures: &Value) {
    let dir = workspace_root().join("target/faults");
    std::fs::create_dir_all(&dir).unwrap();
    let text = serde_json::to_string_pretty(figures).unwrap();
    std::fs::write(dir.join(format!("{scenario}.json")), &text).unwrap();
    println!("{scenario}: {text}");
}

/// Posts an order for `customer` through the API; returns the SQS message id.
fn post(customer: &str, item: &str) -> String {
    let (status, answer) = post_order(
        json!({"item": item, "customerID": customer})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 202, "{answer}");
    answer["messageId"].as_str().unwrap().to_owned()
}

/// How many stored orders each customer has.
async fn stored_per_customer(aws: &Aws, customers: &[String]) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = customers.iter().map(|c| (c.clone(), 0)).collect();
    for item in scan_json(&aws.dynamodb, ORDERS_TABLE).await {
        if let Some(count) = item["customerID"].as_str().and_then(|c| counts.get_mut(c)) {
            *count += 1;
        }
    }
    counts
}

/// What became of one order per customer: stored and notified exactly once each, or not.
#[derive(Debug, Default)]
struct Outcome {
    orders: usize,
    stored: usize,
    notified: usize,
    duplicates: usize,
    lost: usize,
}

impl Outcome {
    async fn of(aws: &Aws, customers: &[String]) -> Self {
        let stored = stored_per_customer(aws, customers).await;
        let letters = mailbox();
        let mut outcome = Outcome {
            orders: customers.len(),
            ..Outcome::default()
        };
        for customer in customers {
            let items = stored[customer];
            let notes = notifications_for(&letters, customer).len();
            outcome.stored += usize::from(items > 0);
            outcome.notified += usize::from(notes > 0);
            outcome.duplicates += items.saturating_sub(1) + notes.saturating_sub(1);
            outcome.lost += usize::from(items == 0 || notes == 0);
        }
        outcome
    }

    fn assert_exactly_once(&self) {
        assert_eq!(
            (self.stored, self.notified, self.duplicates, self.lost),
            (self.orders, self.orders, 0, 0),
            "{self:?}"
        );
    }

    fn json(&self) -> Value {
        json!({"orders_in": self.orders, "stored": self.stored, "notified": self.notified,
               "duplicates": self.duplicates, "lost": self.lost})
    }
}

/// Waits until every customer's order is notified, then a little longer, so that a duplicate
/// notification would have time to arrive before the outcome is taken.
async fn settle(aws: &Aws, customers: &[String], limit: Duration) -> Outcome {
    eventually(limit, "every order's notification", || {
        let letters = mailbox();
        customers
            .iter()
            .all(|c| !notifications_for(&letters, c).is_empty())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    Outcome::of(aws, customers).await
}

/// Receives (and deletes) the messages with these ids from the DLQ, until all are found or
/// `limit` passes; returns the ids found. (SQS keeps a message's id when it moves it.)
async fn from_dlq(aws: &Aws, ids: &[String], limit: Duration) -> Vec<String> {
    let dlq = queue_url(&aws.sqs, "orders-dlq").await;
    let deadline = Instant::now() + limit;
    let mut found = Vec::new();
    while found.len() < ids.len() && Instant::now() < deadline {
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            let id = message.message_id().unwrap_or_default();
            if ids.iter().any(|wanted| wanted == id) {
                found.push(id.to_owned());
                aws.sqs
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    found
}

/// Posts one order and waits for its notification, so the writer and the notifier are running
/// (`cargo lambda watch` starts a function on its first invocation) before a fault is timed.
async fn warm_up(aws: &Aws) {
    let customer = format!("warm-up-{}", tag());
    post(&customer, "water");
    settle(aws, &[customer], Duration::from_secs(120)).await;
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_message_delivered_three_times_is_stored_once_and_notified_once() {
    clear_faults();
    let run = tag();
    let aws = aws();
    warm_up(&aws).await;
    let queue = queue_url(&aws.sqs, "orders-queue").await;
    let queue_arn = format!("arn:aws:sqs:{REGION}:123456789012:orders-queue");

    // 1. The same event handed to the writer three times, as Lambda retries a failed invocation.
    let again = format!("dup-{run}-again");
    let message = aws_sdk_sqs::types::Message::builder()
        .message_id(format!("{run}-again"))
        .receipt_handle("not used by the writer")
        .body(json!({"item": "flat white", "customerID": again}).to_string())
        .attributes(
            MessageSystemAttributeName::SentTimestamp,
            now_millis().to_string(),
        )
        .build();
    let event = sqs_event(&[message], &queue_arn, REGION);
    for _ in 0..3 {
        let response: SqsBatchResponse = invoke(&aws.lambda, "order-writer", &event).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }

    // 2. The visibility timeout runs out while the writer is slow: DynamoDB holds the first two
    // writes for 5 s, the message is visible again after 2 s, and other pollers receive it.
    aws.sqs
        .set_queue_attributes()
        .queue_url(&queue)
        .attributes(QueueAttributeName::VisibilityTimeout, "2")
        .send()
        .await
        .unwrap();
    // A receive already waiting (long polling) keeps the timeout it started with.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    inject_fault(
        "dynamodb:PutItem",
        json!({"mode": "delay", "delay": 5, "count": 2}),
    );
    let slow = format!("dup-{run}-slow");
    let message_id = post(&slow, "cortado");
    let outcome = settle(
        &aws,
        &[again.clone(), slow.clone()],
        Duration::from_secs(60),
    )
    .await;
    aws.sqs
        .set_queue_attributes()
        .queue_url(&queue)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .unwrap();
    clear_faults();
    // Lambda's log of the writer shows each delivery of the message.
    let log = std::fs::read_to_string(workspace_root().join(".local/logs/functions.log")).unwrap();
    let deliveries = log
        .lines()
        .filter(|l| l.contains(&message_id) && l.contains("order"))
        .filter(|l| l.contains("order stored") || l.contains("already stored"))
        .count();
    record(
        "duplicate-delivery",
        &json!({"outcome": outcome.json(), "reinvocations": 3, "slow_writer_deliveries": deliveries}),
    );
    outcome.assert_exactly_once();
    assert!(
        deliveries >= 2,
        "the slow writer's message was delivered {deliveries} times"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn poison_is_refused_at_the_api_or_parked_in_the_dlq_while_valid_orders_go_through() {
    clear_faults();
    let run = tag();
    let aws = aws();

    // At the API: refused with a status and a message saying what is wrong.
    let big = json!({"item": "x".repeat(300_000), "customerID": run}).to_string();
    let refused: [(&[u8], u16, &str); 6] = [
        (b"{\"item\": \"tea\", ", 400, "not valid JSON"),
        (br#"{"item": "tea"}"#, 400, "no `customerID`"),
        (
            br#"{"item": "tea", "customerID": "c", "quantity": "two"}"#,
            400,
            "`quantity` must",
        ),
        (big.as_bytes(), 413, "bytes are accepted"),
        (b"", 400, "the order is empty"),
        (&[b'{', 0xc3, 0x28, b'}'], 400, "not UTF-8"),
    ];
    for (body, status, message) in refused {
        let (got, answer) = post_order(body);
        assert_eq!(got, status, "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{error:?} should say {message:?}");
    }

    // Straight onto the queue, past the API, among valid orders: each is rejected by the writer,
    // retried and parked in the DLQ, while the valid orders of the same batches are stored.
    // (Invalid UTF-8 cannot be sent to SQS at all. SQS refuses an empty body, which moto takes;
    // so the empty and the 300 KB bodies go alone, and whichever the queue takes must reach the
    // DLQ like the rest.)
    let queue = queue_url(&aws.sqs, "orders-queue").await;
    let poison = [
        format!("not json {run}"),
        json!({"item": "tea", "note": run}).to_string(),
        json!({"item": 5, "customerID": format!("{run}-mistyped")}).to_string(),
        json!({"item": "tea", "customerID": format!("{run}-q"), "quantity": "two"}).to_string(),
        json!(["tea", run]).to_string(),
        json!({"item": "x".repeat(70_000), "customerID": format!("{run}-long")}).to_string(),
    ];
    let mut refused_by_sqs = 0;
    let mut poison_ids = Vec::new();
    for body in [String::new(), big.clone()] {
        match aws
            .sqs
            .send_message()
            .queue_url(&queue)
            .message_body(&body)
            .send()
            .await
        {
            Ok(sent) => poison_ids.push(sent.message_id().unwrap().to_owned()),
            Err(_) => refused_by_sqs += 1,
        }
    }
    let customers: Vec<String> = (0..14).map(|i| format!("poison-{run}-{i}")).collect();
    let mut bodies: Vec<String> = customers
        .iter()
        .map(|c| json!({"item": "americano", "customerID": c}).to_string())
        .collect();
    let poison_bodies: std::collections::HashSet<&String> = poison.iter().collect();
    for (i, body) in poison.iter().enumerate() {
        bodies.insert(i * 3 + 1, body.clone());
    }
    for (batch, chunk) in bodies.chunks(10).enumerate() {
        let entries = chunk.iter().enumerate().map(|(i, body)| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("{batch}-{i}"))
                .message_body(body)
                .build()
                .unwrap()
        });
        let sent = aws
            .sqs
            .send_message_batch()
            .queue_url(&queue)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert!(sent.failed().is_empty());
        poison_ids.extend(
            sent.successful()
                .iter()
                .filter(|entry| {
                    let (batch_no, i) = entry.id().split_once('-').unwrap();
                    let i: usize = i.parse().unwrap();
                    batch_no == batch.to_string() && poison_bodies.contains(&chunk[i])
                })
                .map(|entry| entry.message_id().to_owned()),
        );
    }
    let started = Instant::now();
    let outcome = settle(&aws, &customers, Duration::from_secs(90)).await;
    let parked = from_dlq(&aws, &poison_ids, Duration::from_secs(90)).await;
    record(
        "poison",
        &json!({"outcome": outcome.json(), "poison_sent": poison_ids.len(), "refused_by_api": refused.len(),
                "refused_by_sqs": refused_by_sqs, "dlq": parked.len(),
                "seconds_until_parked": started.elapsed().as_secs_f64()}),
    );
    outcome.assert_exactly_once();
    assert_eq!(parked.len(), poison_ids.len(), "parked: {parked:?}");
}

/// Orders posted while `target` fails, followed until every one is notified.
struct Outage {
    customers: Vec<String>,
    message_ids: Vec<String>,
    outcome: Outcome,
    /// How often the fault struck.
    hits: u64,
    /// How long after the outage ended the last order was notified.
    recovered: Duration,
}

/// Makes `target` fail for `outage` while `orders` orders are posted, and waits for them.
async fn orders_through_outage(aws: &Aws, target: &str, outage: Duration, orders: usize) -> Outage {
    clear_faults();
    warm_up(aws).await;
    inject_fault(
        target,
        json!({"mode": "error", "seconds": outage.as_secs()}),
    );
    let began = Instant::now();
    let run = tag();
    let customers: Vec<String> = (0..orders)
        .map(|i| format!("outage-{run}-{i:02}"))
        .collect();
    let message_ids = customers.iter().map(|c| post(c, "drip coffee")).collect();
    let outcome = settle(aws, &customers, Duration::from_secs(120)).await;
    // `settle` returns 3 s after the last notification.
    let recovered = began
        .elapsed()
        .saturating_sub(outage + Duration::from_secs(3));
    let hits = fault_hits()[target].as_u64().unwrap_or(0);
    clear_faults();
    Outage {
        customers,
        message_ids,
        outcome,
        hits,
        recovered,
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_dynamodb_outage_delays_orders_but_loses_and_duplicates_none() {
    let aws = aws();
    let outage = Duration::from_secs(4);
    let run = orders_through_outage(&aws, "dynamodb:PutItem", outage, 40).await;
    let parked = from_dlq(&aws, &run.message_ids, Duration::from_secs(3)).await;
    record(
        "dynamodb-outage",
        &json!({"outcome": run.outcome.json(), "outage_s": outage.as_secs(), "failed_writes": run.hits,
                "dlq": parked.len(), "recovered_within_s": run.recovered.as_secs_f64()}),
    );
    assert!(run.hits > 0, "the outage struck no write");
    run.outcome.assert_exactly_once();
    assert!(parked.is_empty(), "valid orders in the DLQ: {parked:?}");
}

/// The customer ids of the orders INSERTed into the table, in the stream's order.
async fn stream_order(aws: &Aws, customers: &[String]) -> Vec<String> {
    let table = aws
        .dynamodb
        .describe_table()
        .table_name(ORDERS_TABLE)
        .send()
        .await
        .unwrap();
    let stream = table
        .table()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    let described = aws
        .streams
        .describe_stream()
        .stream_arn(&stream)
        .send()
        .await
        .unwrap();
    let shard = described.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    let mut iterator = aws
        .streams
        .get_shard_iterator()
        .stream_arn(&stream)
        .shard_id(shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .map(str::to_owned);
    let mut order = Vec::new();
    while let Some(current) = iterator {
        let page = aws
            .streams
            .get_records()
            .shard_iterator(current)
            .limit(1000)
            .send()
            .await
            .unwrap();
        if page.records().is_empty() {
            break;
        }
        for record in page.records() {
            let customer = record
                .dynamodb()
                .and_then(|d| d.new_image())
                .and_then(|image| image.get("customerID"))
                .and_then(|value| value.as_s().ok());
            if let Some(customer) = customer.filter(|c| customers.contains(c)) {
                order.push(customer.clone());
            }
        }
        iterator = page.next_shard_iterator().map(str::to_owned);
    }
    order
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn an_sns_outage_delays_notifications_which_then_go_out_once_each_in_order() {
    let aws = aws();
    let outage = Duration::from_secs(5);
    let run = orders_through_outage(&aws, "sns:PublishBatch", outage, 20).await;
    let (customers, outcome) = (&run.customers, &run.outcome);

    let stored = stream_order(&aws, customers).await;
    let letters = mailbox();
    let notified: Vec<String> = letters
        .iter()
        .filter_map(|l| {
            customers
                .iter()
                .find(|c| notifications_for(std::slice::from_ref(l), c).len() == 1)
                .cloned()
        })
        .collect();
    let parked = {
        let failures = queue_url(&aws.sqs, "notifier-failures").await;
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&failures)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        received.messages().len()
    };
    record(
        "sns-outage",
        &json!({"outcome": outcome.json(), "outage_s": outage.as_secs(), "failed_publishes": run.hits,
                "in_stream_order": stored == notified, "parked_on_notifier_failures": parked,
                "recovered_within_s": run.recovered.as_secs_f64()}),
    );
    assert!(run.hits > 0, "the outage struck no publish");
    outcome.assert_exactly_once();
    assert_eq!(notified, stored, "notifications out of the stream's order");
    assert_eq!(parked, 0, "records were given up on");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn an_order_sns_refuses_past_every_retry_is_parked_where_an_operator_sees_it() {
    clear_faults();
    let run = tag();
    let aws = aws();
    warm_up(&aws).await;
    let failures = queue_url(&aws.sqs, "notifier-failures").await;
    let began = Instant::now();
    inject_fault("sns:PublishBatch", json!({"mode": "error", "seconds": 120}));
    let customer = format!("parked-{run}");
    post(&customer, "lungo");
    let deadline = Instant::now() + Duration::from_secs(90);
    let parked = loop {
        let received = aws
            .sqs
            .receive_message()
            .queue_url(&failures)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = received.messages().first() {
            aws.sqs
                .delete_message()
                .queue_url(&failures)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            break message.body().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "nothing parked after 90 s");
    };
    let took = began.elapsed();
    let hits = fault_hits()["sns:PublishBatch"].as_u64().unwrap_or(0);
    clear_faults();
    // The stream goes on past the parked record: the next order is notified.
    let next = format!("after-parked-{run}");
    post(&next, "ristretto");
    let outcome = settle(&aws, std::slice::from_ref(&next), Duration::from_secs(60)).await;
    let parked: Value = serde_json::from_str(&parked).unwrap();
    let notified = notifications_for(&mailbox(), &customer).len();
    record(
        "notifier-parked",
        &json!({"failed_publishes": hits, "seconds_until_parked": took.as_secs_f64(),
                "parked": parked, "parked_order_notified": notified, "next_order": outcome.json()}),
    );
    assert_eq!(
        parked["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert!(parked["DDBStreamBatchInfo"]["startSequenceNumber"].is_string());
    assert_eq!(notified, 0);
    outcome.assert_exactly_once();
}

/// Starts a report through the API; returns the execution's ARN and name.
fn request_report() -> (String, String) {
    let (status, answer) = http_post(&format!("{GATEWAY}/create_report"), b"{}", &[]);
    assert_eq!(status, 200, "{answer}");
    let arn = answer["executionArn"].as_str().unwrap().to_owned();
    let name = arn.rsplit(':').next().unwrap().to_owned();
    (arn, name)
}

/// Waits for an execution to end; returns its status and output or error.
async fn finished(aws: &Aws, execution: &str, limit: Duration) -> (String, Value) {
    let deadline = Instant::now() + limit;
    loop {
        let described = aws
            .sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .unwrap();
        let status = described.status().as_str().to_owned();
        if status != "RUNNING" {
            let detail = match described.output() {
                Some(output) => serde_json::from_str(output).unwrap(),
                None => json!({"error": described.error(), "cause": described.cause()}),
            };
            return (status, detail);
        }
        assert!(
            Instant::now() < deadline,
            "{execution} still running after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The report emails that mention an execution: (failure emails, link emails).
fn report_emails(name: &str) -> (Vec<Value>, Vec<Value>) {
    mailbox()
        .into_iter()
        .filter(|l| l["topic"] == "EmailReport")
        .filter(|l| l["body"].as_str().unwrap_or_default().contains(name))
        .partition(|l| {
            l["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("could not be produced")
        })
}

/// Runs a report while `fault` is in force and checks it fails visibly: the execution Failed,
/// a failure email naming it and one of `errors`, and no link email. Returns how often the
/// fault struck, and the email.
async fn report_fails_under(scenario: &str, target: &str, errors: &[&str]) -> (u64, String) {
    clear_faults();
    let aws = aws();
    inject_fault(target, json!({"mode": "error", "seconds": 180}));
    let began = Instant::now();
    let (execution, name) = request_report();
    let (status, detail) = finished(&aws, &execution, Duration::from_secs(180)).await;
    let took = began.elapsed();
    let hits = fault_hits()[target].as_u64().unwrap_or(0);
    clear_faults();
    let (failures, links) = eventually(Duration::from_secs(30), "the failure email", || {
        let (failures, links) = report_emails(&name);
        (!failures.is_empty()).then_some((failures, links))
    })
    .await;
    let body = failures[0]["body"].as_str().unwrap_or_default().to_owned();
    record(
        scenario,
        &json!({"status": status, "seconds_to_failure": took.as_secs_f64(), "fault_hits": hits,
                "failure_emails": failures.len(), "link_emails": links.len(), "email": body}),
    );
    assert_eq!(status, "FAILED", "{detail}");
    assert_eq!(failures.len(), 1);
    assert!(links.is_empty(), "a link was mailed: {links:?}");
    assert!(
        errors.iter().any(|e| body.contains(e)),
        "the failure email names none of {errors:?}: {body}"
    );
    (hits, body)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn with_mysql_unreachable_the_report_is_retried_then_fails_with_an_email_saying_why() {
    let (connections, _) =
        report_fails_under("mysql-unreachable", "mysql", &["DatabaseUnavailable"]).await;
    // The reader was retried with backoff (3 retries) before the execution gave up.
    assert!(connections >= 4, "the reader tried {connections} times");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn with_the_renderer_failing_the_failure_email_goes_out_instead_of_a_link() {
    let (uploads, email) = report_fails_under(
        "renderer-failing",
        "s3:PUT",
        &["ReportUploadFailed", "ReportNotReady"],
    )
    .await;
    assert!(uploads >= 4, "the renderer tried {uploads} uploads");
    // The email says what S3 said, in a line, not the SDK's dump of the response.
    assert!(
        email.contains("ServiceUnavailable: fault injected: s3:PUT"),
        "{email}"
    );
    assert!(!email.contains("raw: Response"), "{email}");
}

/// The stack's database, for rows a test adds and removes.
async fn database() -> mysql_async::Conn {
    mysql_async::Conn::new(mysql_async::Opts::from_url(&database_url()).unwrap())
        .await
        .unwrap()
}

const HOSTILE_SUPPLIER: &str = "<script>alert('fault-suite')</script> & \"Sons\"";

/// Removes a supplier a test added, with its beans.
async fn remove_supplier(connection: &mut mysql_async::Conn, name: &str) {
    connection
        .exec_drop(
            "DELETE beans FROM beans JOIN suppliers ON beans.supplier_id = suppliers.id WHERE suppliers.name = ?",
            (name,),
        )
        .await
        .unwrap();
    connection
        .exec_drop("DELETE FROM suppliers WHERE name = ?", (name,))
        .await
        .unwrap();
}

/// Adds a supplier named `name` with this address (after removing any left by an earlier run);
/// returns its id.
async fn add_supplier(connection: &mut mysql_async::Conn, name: &str, address: &str) -> u64 {
    remove_supplier(connection, name).await;
    connection
        .exec_drop(
            "INSERT INTO suppliers (name, address, city, state, email, phone) VALUES (?, ?, 'Ville', 'ST', 'a@b.example', '555')",
            (name, address),
        )
        .await
        .unwrap();
    connection
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn hostile_names_and_ten_thousand_beans_are_reported_escaped_through_the_claim_check() {
    clear_faults();
    let aws = aws();
    let mut db = database().await;
    let supplier = add_supplier(&mut db, HOSTILE_SUPPLIER, "<img src=x onerror=alert(1)>").await;
    let long_name = format!("<b>{}</b>", "Très long nom ".repeat(17)); // 238 + 7 characters
    let mut beans: Vec<String> = (0..9_999)
        .map(|i| {
            format!(
                "({supplier}, 'Arabica', '<i>Lot {i}</i>', '9.50', 'onclick=\"x()\"', {})",
                i % 90
            )
        })
        .collect();
    beans.push(format!(
        "({supplier}, 'Robusta', '{long_name}', '12.00', 'long', 3)"
    ));
    db.query_drop(format!(
        "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES {}",
        beans.join(",")
    ))
    .await
    .unwrap();

    let began = Instant::now();
    let (execution, name) = request_report();
    let (status, output) = finished(&aws, &execution, Duration::from_secs(180)).await;
    let took = began.elapsed();
    remove_supplier(&mut db, HOSTILE_SUPPLIER).await;
    db.disconnect().await.unwrap();
    assert_eq!(status, "SUCCEEDED", "{output}");

    // The inventory went through S3, not the state machine's payload.
    let claim = aws_sdk_s3::Client::new(&sdk_config_for(EMULATOR))
        .head_object()
        .bucket(REPORTS_BUCKET)
        .key(format!("inventory/{name}.json"))
        .send()
        .await
        .expect("the claim-checked inventory in S3");
    let (_, link) = report_email(&output).await;
    let (status, _, html) = http_get(&link);
    assert_eq!(status, 200);
    let rows = html.matches("&#60;i&#62;Lot ").count();
    record(
        "hostile-report",
        &json!({"beans": 10_000, "seconds": took.as_secs_f64(), "claim_check_bytes": claim.content_length(),
                "report_bytes": html.len(), "escaped_rows": rows}),
    );
    assert!(html.contains(&escaped(HOSTILE_SUPPLIER)));
    assert!(html.contains(&escaped(&long_name)));
    assert_eq!(rows, 9_999);
    for raw in ["<script>alert(", "<i>Lot", "<b>Très", "onclick=\"x()\""] {
        assert!(!html.contains(raw), "{raw} reached the report unescaped");
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn hostile_order_text_is_mailed_verbatim_as_plain_text() {
    clear_faults();
    let run = tag();
    let aws = aws();
    let customer = format!("<b onmouseover=alert(1)>{run}</b>");
    let item = format!("<script>alert('{run}')</script> & {}", "ü".repeat(20_000));
    post(&customer, &item);
    let outcome = settle(
        &aws,
        std::slice::from_ref(&customer),
        Duration::from_secs(60),
    )
    .await;
    let letters = mailbox();
    let letter = notifications_for(&letters, &customer)[0];
    let subject = letter["subject"].as_str().unwrap();
    record(
        "hostile-order",
        &json!({"outcome": outcome.json(), "item_chars": item.chars().count(),
                "subject_chars": subject.chars().count()}),
    );
    outcome.assert_exactly_once();
    assert!(
        letter["body"]
            .as_str()
            .unwrap()
            .contains(&format!("1 × {item}\n"))
    );
    assert!(
        subject.chars().count() < 100 && !subject.contains('\n'),
        "{subject}"
    );
}

/// How many order notifications the mailbox holds, of any customer.
fn order_notifications() -> usize {
    mailbox()
        .iter()
        .filter(|l| l["topic"] == "OrderNotifications")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_stream_read_outage_delays_notifications_and_repeats_none() {
    let aws = aws();
    let before = order_notifications();
    let outage = Duration::from_secs(6);
    let orders = 20;
    let run = orders_through_outage(&aws, "dynamodbstreams:GetRecords", outage, orders).await;
    // The warm-up order and these: a mapping that started the shard again would resend every
    // order ever notified, which only the total shows.
    let sent = order_notifications() - before;
    record(
        "stream-read-outage",
        &json!({"outcome": run.outcome.json(), "outage_s": outage.as_secs(), "failed_reads": run.hits,
                "notifications_sent": sent, "recovered_within_s": run.recovered.as_secs_f64()}),
    );
    assert!(run.hits > 0, "the outage struck no stream read");
    run.outcome.assert_exactly_once();
    assert_eq!(sent, orders + 1, "notifications besides these orders' own");
}

/// An order for `customer` whose `deep` field is nested so the whole order is `levels` deep.
fn nested_order(customer: &str, levels: usize) -> String {
    let inner = format!("{}0{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
    format!(r#"{{"item": "tea", "customerID": "{customer}", "deep": {inner}}}"#)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn orders_at_dynamodbs_limits_go_through_and_those_past_them_are_refused_at_the_door() {
    clear_faults();
    let aws = aws();
    let run = tag();
    let refused = [
        (nested_order(&run, 33), "nested more than 32 levels"),
        (nested_order(&run, 5_000), "nested more than 32 levels"),
        (
            json!({"item": "tea", "customerID": run, "price": 1e-131}).to_string(),
            "out of DynamoDB's range",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "price": 1e126}}"#),
            "out of DynamoDB's range",
        ),
        (
            format!(
                r#"{{"item": "tea", "customerID": "{run}", "n": {}}}"#,
                "1".repeat(39)
            ),
            "39 significant digits",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "n": 18446744073709551616}}"#),
            "cannot be kept exactly",
        ),
        (
            format!(r#"{{"item": "tea", "customerID": "{run}", "": 1}}"#),
            "a field name is empty",
        ),
    ];
    for (body, message) in &refused {
        let (status, answer) = post_order(body.as_bytes());
        assert_eq!(status, 400, "{answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{error:?} should say {message:?}");
    }

    // At the limits, and large in UTF-8 bytes: each JSON-escaped quote is 2 bytes of the body
    // and 4 of a notification that carries the order's JSON, so an order of 30,000 quotes
    // overflowed SNS's 256 KiB when the notification held the order five times.
    let customers: Vec<String> = (0..5).map(|i| format!("limits-{run}-{i}")).collect();
    let accepted = [
        nested_order(&customers[0], 32),
        json!({"item": "tea", "customerID": customers[1], "large": 9.9999e125, "small": -1e-130,
               "exact": 18_446_744_073_709_551_615_u64})
        .to_string(),
        json!({"item": "tea", "customerID": customers[2], "notes": "\"".repeat(30_000)})
            .to_string(),
        json!({"item": "tea", "customerID": customers[3], "notes": "🍩".repeat(15_000)})
            .to_string(),
        json!({"item": "tea", "customerID": customers[4]}).to_string(),
    ];
    for body in &accepted {
        let (status, answer) = post_order(body.as_bytes());
        assert_eq!(status, 202, "{} bytes: {answer}", body.len());
    }
    let outcome = settle(&aws, &customers, Duration::from_secs(120)).await;
    record(
        "limits",
        &json!({"outcome": outcome.json(), "refused_at_the_api": refused.len(),
                "largest_body_bytes": accepted.iter().map(String::len).max()}),
    );
    outcome.assert_exactly_once();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn an_idempotency_key_reused_for_another_order_parks_that_order_in_the_dlq() {
    clear_faults();
    let aws = aws();
    let run = tag();
    let key = format!("key-{run}");
    let send = |customer: &str| {
        let body = json!({"item": "filter coffee", "customerID": customer}).to_string();
        let (status, answer) = http_post(
            &format!("{GATEWAY}/orders"),
            body.as_bytes(),
            &[("Idempotency-Key", &key)],
        );
        assert_eq!(status, 202, "{answer}");
        answer["messageId"].as_str().unwrap().to_owned()
    };
    let (first, other) = (format!("{run}-first"), format!("{run}-other"));
    send(&first);
    // The same order resent under its key is one order; another order under it is refused.
    send(&first);
    let reused = send(&other);
    let outcome = settle(&aws, std::slice::from_ref(&first), Duration::from_secs(60)).await;
    let parked = from_dlq(&aws, std::slice::from_ref(&reused), Duration::from_secs(90)).await;
    let stored_other = stored_per_customer(&aws, std::slice::from_ref(&other)).await[&other];
    record(
        "idempotency-key-reused",
        &json!({"outcome": outcome.json(), "dlq": parked.len(), "other_order_stored": stored_other}),
    );
    outcome.assert_exactly_once();
    assert_eq!(parked, vec![reused], "the other order is parked in the DLQ");
    assert_eq!(stored_other, 0);
}

const OUT_OF_RANGE_SUPPLIER: &str = "Fault-suite out-of-range prices";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn prices_out_of_range_are_reported_as_they_are_and_fail_no_report() {
    clear_faults();
    let aws = aws();
    let mut db = database().await;
    let supplier = add_supplier(&mut db, OUT_OF_RANGE_SUPPLIER, "1 Quay").await;
    // Beyond what a decimal holds; within it but too large once multiplied by the bags.
    db.exec_drop(
        "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES
         (?, 'Arabica', 'Priceless', '1e40', 'x', 5), (?, 'Arabica', 'Dear', '9999999999999999999999999999', 'x', 1000)",
        (supplier, supplier),
    )
    .await
    .unwrap();
    let (execution, _) = request_report();
    let (status, output) = finished(&aws, &execution, Duration::from_secs(120)).await;
    remove_supplier(&mut db, OUT_OF_RANGE_SUPPLIER).await;
    db.disconnect().await.unwrap();
    assert_eq!(status, "SUCCEEDED", "{output}");
    let (_, link) = report_email(&output).await;
    let (status, _, html) = http_get(&link);
    assert_eq!(status, 200);
    record(
        "out-of-range-prices",
        &json!({"status": "SUCCEEDED", "too_large_to_total": html.matches("too large to total").count()}),
    );
    assert!(
        html.contains("Priceless") && html.contains("Dear"),
        "both beans are listed"
    );
    assert!(
        html.contains("price × quantity too large to total"),
        "the dear bean says so"
    );
    assert!(html.contains("<b>too large to total</b><span>stock value</span>"));
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
fn epoch_millis(timestamp: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(timestamp)
        .unwrap()
        .timestamp_millis()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn two_thousand_orders_are_all_stored_and_notified_once() {
    const ORDERS: usize = 2_000;
    const CONCURRENCY: usize = 16;
    clear_faults();
    let run = tag();
    let aws = aws();
    let customers: Vec<String> = (0..ORDERS).map(|i| format!("load-{run}-{i}")).collect();
    let began = now_millis() as i64;
    let posted: Vec<(String, String, i64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = customers
            .chunks(ORDERS / CONCURRENCY)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|customer| {
                            let id = post(customer, "espresso");
                            (customer.clone(), id, now_millis() as i64)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let posting_s = (now_millis() as i64 - began) as f64 / 1000.0;
    let outcome = settle(&aws, &customers, Duration::from_secs(600)).await;

    let letters = mailbox();
    let mut latencies: Vec<f64> = posted
        .iter()
        .filter_map(|(customer, _, at)| {
            let letter = notifications_for(&letters, customer).into_iter().next()?;
            Some((epoch_millis(letter["timestamp"].as_str()?) - at) as f64)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last = letters
        .iter()
        .filter(|l| {
            l["body"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("load-{run}-"))
        })
        .filter_map(|l| Some(epoch_millis(l["timestamp"].as_str()?)))
        .max()
        .unwrap();
    let total_s = (last - began) as f64 / 1000.0;
    let ids: Vec<String> = posted.iter().map(|(_, id, _)| id.clone()).collect();
    let parked = from_dlq(&aws, &ids, Duration::from_secs(2)).await;
    record(
        "load",
        &json!({"outcome": outcome.json(), "concurrency": CONCURRENCY, "posting_s": posting_s,
                "accepted_per_s": ORDERS as f64 / posting_s, "all_notified_after_s": total_s,
                "notified_per_s": ORDERS as f64 / total_s,
                "latency_ms": {"p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99),
                               "max": latencies.last()}, "dlq": parked.len()}),
    );
    outcome.assert_exactly_once();
    assert!(parked.is_empty());
}
