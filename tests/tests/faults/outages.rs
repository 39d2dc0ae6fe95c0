//! AWS calls failing for a while, or for good: DynamoDB writes, SNS publishes, stream reads.

use super::common::*;

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
        .table_name(&resources().orders_table.name)
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
        let failures = resources().notifier_failures_queue.url.clone();
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
    let (aws, run) = begin();
    warm_up(&aws).await;
    let failures = resources().notifier_failures_queue.url.clone();
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

/// How many order notifications the mailbox holds, of any customer.
fn order_notifications() -> usize {
    mailbox()
        .iter()
        .filter(|l| l["topic"] == order_topic())
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
