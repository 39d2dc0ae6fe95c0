//! The orders pipeline on the emulator, as Lambda would run it: messages sent to the queue are
//! received as an SQS batch for order-writer, the table's stream is read as a batch for
//! order-notifier, and an SQS subscriber of the topic reads what a customer-facing system would.

use aws_lambda_events::event::sqs::SqsEvent;
use cafe_tests::{
    Moto, create_orders_table, create_queue, drain, queue_arn, sample_event, scan_json, sqs_event,
    stream_event, topic_with_queue,
};
use lambda_runtime::{Context, LambdaEvent};
use order_notifier::OrderNotifier;
use order_writer::OrderWriter;
use serde_json::Value;

/// The bodies of the sample mixed batch: 7 orders and 3 bodies that are not orders.
fn mixed_bodies() -> Vec<String> {
    let event: SqsEvent = sample_event("order-writer/mixed.json");
    event.records.into_iter().map(|m| m.body.unwrap()).collect()
}

#[tokio::test]
async fn ten_messages_with_three_invalid_give_seven_orders_and_seven_notifications_once() {
    let emulator = Moto::start();
    let (dynamodb, sqs, sns) = (emulator.dynamodb(), emulator.sqs(), emulator.sns());
    let stream_arn = create_orders_table(&dynamodb, "orders").await;
    let queue_url = create_queue(&sqs, "orders-queue").await;
    let queue = queue_arn(&sqs, &queue_url).await;
    let (topic_arn, subscriber) = topic_with_queue(&sns, &sqs, "OrderNotifications").await;
    let writer = OrderWriter::new(dynamodb.clone(), "orders");
    let notifier = OrderNotifier::new(sns, topic_arn);

    let bodies = mixed_bodies();
    for body in &bodies {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let received = drain(&sqs, &queue_url).await;
    assert_eq!(received.len(), 10);
    let batch = sqs_event(&received, &queue);

    let response =
        order_writer::handle(&writer, LambdaEvent::new(batch.clone(), Context::default()))
            .await
            .unwrap();
    let mut failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let mut invalid: Vec<&str> = received
        .iter()
        .filter(|m| cafe_shared::Order::parse(m.body().unwrap()).is_err())
        .map(|m| m.message_id().unwrap())
        .collect();
    failed.sort();
    invalid.sort();
    assert_eq!(invalid.len(), 3);
    assert_eq!(
        failed, invalid,
        "exactly the three invalid messages are reported"
    );
    assert_eq!(scan_json(&dynamodb, "orders").await.len(), 7);

    let stream = stream_event(&emulator.streams(), &stream_arn, None).await;
    assert_eq!(stream.records.len(), 7);
    let checkpoint = stream
        .records
        .last()
        .unwrap()
        .change
        .sequence_number
        .clone()
        .unwrap();
    let first = stream.records[0].change.sequence_number.as_deref();
    assert_eq!(
        stream_event(&emulator.streams(), &stream_arn, first)
            .await
            .records
            .len(),
        6
    );
    let response = order_notifier::handle(&notifier, LambdaEvent::new(stream, Context::default()))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let notified: Vec<Value> = drain(&sqs, &subscriber)
        .await
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect();
    let mut items: Vec<String> = notified
        .iter()
        .map(|envelope| {
            let order: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            order["item"].as_str().unwrap().to_owned()
        })
        .collect();
    items.sort();
    assert_eq!(
        items,
        [
            "americano",
            "cappuccino",
            "cold brew",
            "croissant",
            "macchiato",
            "muffin",
            "scone"
        ]
    );

    // The same batch delivered again: no new item, so nothing new on the stream after the
    // notifier's checkpoint, so no second notification.
    let again = order_writer::handle(&writer, LambdaEvent::new(batch, Context::default()))
        .await
        .unwrap();
    assert_eq!(again.batch_item_failures.len(), 3);
    assert_eq!(scan_json(&dynamodb, "orders").await.len(), 7);
    let rest = stream_event(&emulator.streams(), &stream_arn, Some(&checkpoint)).await;
    assert!(
        rest.records.is_empty(),
        "redelivery wrote to the stream: {:?}",
        rest.records
    );
    order_notifier::handle(&notifier, LambdaEvent::new(rest, Context::default()))
        .await
        .unwrap();
    assert!(drain(&sqs, &subscriber).await.is_empty());
}
