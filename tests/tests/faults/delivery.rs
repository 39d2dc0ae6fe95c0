//! A message delivered more than once.

use super::common::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_message_delivered_three_times_is_stored_once_and_notified_once() {
    let (aws, run) = begin();
    warm_up(&aws).await;
    let queue = resources().orders_queue.url.clone();
    let queue_arn = resources().orders_queue.arn.clone();

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
