//! order-notifier against SNS in a real (emulated) server, read back by an SQS subscriber.

use aws_lambda_events::event::dynamodb::Event;
use cafe_tests::{Moto, drain, sample_event, topic_with_queue};
use lambda_runtime::{Context, LambdaEvent};
use order_notifier::{OrderNotifier, handle};
use serde_json::Value;

fn stream_batch() -> Event {
    sample_event("order-notifier/default.json")
}

#[tokio::test]
async fn an_sqs_subscriber_reads_each_new_order_once_as_plain_json() {
    let emulator = Moto::start();
    let (sns, sqs) = (emulator.sns(), emulator.sqs());
    let (topic_arn, queue_url) = topic_with_queue(&sns, &sqs, "OrderNotifications").await;
    let notifier = OrderNotifier::new(sns, topic_arn);

    let response = handle(
        &notifier,
        LambdaEvent::new(stream_batch(), Context::default()),
    )
    .await
    .unwrap();
    assert!(response.batch_item_failures.is_empty());

    let envelopes: Vec<Value> = drain(&sqs, &queue_url)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    assert_eq!(envelopes.len(), 3, "three INSERTs, no MODIFY or REMOVE");
    let hostile = envelopes
        .iter()
        .find(|e| {
            e["Subject"]
                .as_str()
                .unwrap()
                .starts_with("New order 7b8c9d0e")
        })
        .expect("the second order");
    assert_eq!(hostile["MessageAttributes"]["customerID"]["Value"], "Zoë");
    assert_eq!(
        hostile["MessageAttributes"]["orderID"]["Value"],
        "7b8c9d0e-1f2a-5b3c-9d4e-5f6a7b8c9d0e"
    );
    let order: Value = serde_json::from_str(hostile["Message"].as_str().unwrap()).unwrap();
    assert_eq!(order["item"], "Café crème & <croissant>");
    assert_eq!(order["notes"], "100% oat + \"extra\" foam");
    assert_eq!(order["address"]["city"], "Zürich");
}

#[tokio::test]
async fn a_missing_topic_reports_the_first_insert() {
    let emulator = Moto::start();
    let notifier = OrderNotifier::new(
        emulator.sns(),
        "arn:aws:sns:us-east-1:123456789012:NoSuchTopic",
    );
    let response = handle(
        &notifier,
        LambdaEvent::new(stream_batch(), Context::default()),
    )
    .await
    .unwrap();
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [Some("111100000000000000000100".to_owned())]);
}
