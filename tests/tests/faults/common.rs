//! What every scenario uses (each imports this module whole): the clients, posting orders,
//! reading what became of them, the figures each scenario writes, and the imports they share.

pub use aws_lambda_events::event::sqs::SqsBatchResponse;
pub use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
pub use cafe_event_sources::events::sqs_event;
pub use cafe_event_sources::invoke::invoke;
pub use cafe_tests::stack::{
    EMULATOR, GATEWAY, clear_faults, database_url, escaped, eventually, fault_hits, inject_fault,
    mailbox, notifications_for, order_topic, post_order, report_email, report_topic, resources,
    tag,
};
pub use cafe_tests::{REGION, http_get, http_post, scan_json, sdk_config_for, workspace_root};
pub use mysql_async::prelude::Queryable;
pub use serde_json::{Value, json};
pub use std::collections::HashMap;
pub use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The clients the scenarios use, all pointed at the stack's emulator.
pub struct Aws {
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub lambda: aws_sdk_lambda::Client,
}

pub fn aws() -> Aws {
    let config = sdk_config_for(EMULATOR);
    Aws {
        sqs: aws_sdk_sqs::Client::new(&config),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        streams: aws_sdk_dynamodbstreams::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        lambda: aws_sdk_lambda::Client::new(&config),
    }
}

/// How every scenario starts: no fault left in force by another, the clients, and a tag that
/// makes this run's customers and keys its own.
pub fn begin() -> (Aws, String) {
    clear_faults();
    (aws(), tag())
}

/// Writes a scenario's figures to target/faults/<scenario>.json and prints them.
pub fn record(scenario: &str, figures: &Value) {
    let dir = workspace_root().join("target/faults");
    std::fs::create_dir_all(&dir).unwrap();
    let text = serde_json::to_string_pretty(figures).unwrap();
    std::fs::write(dir.join(format!("{scenario}.json")), &text).unwrap();
    println!("{scenario}: {text}");
}

/// Posts an order for `customer` through the API; returns the SQS message id.
pub fn post(customer: &str, item: &str) -> String {
    let (status, answer) = post_order(
        json!({"item": item, "customerID": customer})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 202, "{answer}");
    answer["messageId"].as_str().unwrap().to_owned()
}

/// How many stored orders each customer has.
pub async fn stored_per_customer(aws: &Aws, customers: &[String]) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = customers.iter().map(|c| (c.clone(), 0)).collect();
    for item in scan_json(&aws.dynamodb, &resources().orders_table.name).await {
        if let Some(count) = item["customerID"].as_str().and_then(|c| counts.get_mut(c)) {
            *count += 1;
        }
    }
    counts
}

/// What became of one order per customer: stored and notified exactly once each, or not.
#[derive(Debug, Default)]
pub struct Outcome {
    pub orders: usize,
    pub stored: usize,
    pub notified: usize,
    pub duplicates: usize,
    pub lost: usize,
}

impl Outcome {
    pub async fn of(aws: &Aws, customers: &[String]) -> Self {
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

    pub fn assert_exactly_once(&self) {
        assert_eq!(
            (self.stored, self.notified, self.duplicates, self.lost),
            (self.orders, self.orders, 0, 0),
            "{self:?}"
        );
    }

    pub fn json(&self) -> Value {
        json!({"orders_in": self.orders, "stored": self.stored, "notified": self.notified,
               "duplicates": self.duplicates, "lost": self.lost})
    }
}

/// Waits until every customer's order is notified, then a little longer, so that a duplicate
/// notification would have time to arrive before the outcome is taken.
pub async fn settle(aws: &Aws, customers: &[String], limit: Duration) -> Outcome {
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
pub async fn from_dlq(aws: &Aws, ids: &[String], limit: Duration) -> Vec<String> {
    let dlq = resources().orders_dead_letter_queue.url.clone();
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
pub async fn warm_up(aws: &Aws) {
    let customer = format!("warm-up-{}", tag());
    post(&customer, "water");
    settle(aws, &[customer], Duration::from_secs(120)).await;
}

pub fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// Posts an order for `item` by `customer` through the API under `Idempotency-Key: key`; the
/// message id the API answers with.
pub fn post_order_with_key(item: &str, customer: &str, key: &str) -> String {
    let body = json!({"item": item, "customerID": customer}).to_string();
    let (status, answer) = http_post(
        &format!("{GATEWAY}/orders"),
        body.as_bytes(),
        &[("Idempotency-Key", key)],
    );
    assert_eq!(status, 202, "{answer}");
    answer["messageId"].as_str().unwrap().to_owned()
}
