//! order-writer against DynamoDB in a real (emulated) server: what it writes is read back.

use aws_lambda_events::event::sqs::SqsEvent;
use cafe_tests::{Moto, create_orders_table, failed_ids, sample_event, scan_json};
use lambda_runtime::{Context, LambdaEvent};
use order_writer::{OrderWriter, handle};
use serde_json::Value;

fn mixed_batch() -> SqsEvent {
    sample_event("order-writer/mixed.json")
}

async fn deliver(writer: &OrderWriter, event: SqsEvent) -> Vec<String> {
    let response = handle(writer, LambdaEvent::new(event, Context::default())).await;
    failed_ids(&response.unwrap())
}

#[tokio::test]
async fn a_batch_is_stored_once_however_often_it_is_delivered() {
    let emulator = Moto::start();
    let dynamodb = emulator.dynamodb();
    create_orders_table(&dynamodb, "orders").await;
    let writer = OrderWriter::new(dynamodb.clone(), "orders");
    let event = mixed_batch();
    let ids: Vec<String> = event
        .records
        .iter()
        .map(|m| m.message_id.clone().unwrap())
        .collect();
    let invalid = vec![ids[1].clone(), ids[3].clone(), ids[6].clone()];

    assert_eq!(deliver(&writer, event.clone()).await, invalid);
    let first = scan_json(&dynamodb, "orders").await;
    assert_eq!(first.len(), 7);

    // Redelivery of the whole batch: the valid ones are successes again, nothing new is stored.
    assert_eq!(deliver(&writer, event).await, invalid);
    let mut second = scan_json(&dynamodb, "orders").await;
    assert_eq!(second.len(), 7);
    let by_id =
        |items: &mut Vec<Value>| items.sort_by_key(|i| i["orderID"].as_str().unwrap().to_owned());
    by_id(&mut second);
    let mut first = first;
    by_id(&mut first);
    assert_eq!(first, second, "a redelivery changes no stored order");

    let croissant = second
        .iter()
        .find(|o| o["item"] == "croissant")
        .expect("croissant stored");
    assert_eq!(croissant["customerID"], "m-2");
    assert_eq!(
        croissant["quantity"], 4,
        "stored as a number, not a JSON string"
    );
    assert_eq!(croissant["messageId"], ids[2].as_str());
    assert!(croissant["receivedAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn the_stored_item_is_a_native_map() {
    let emulator = Moto::start();
    let dynamodb = emulator.dynamodb();
    create_orders_table(&dynamodb, "orders").await;
    let writer = OrderWriter::new(dynamodb.clone(), "orders");
    let mut event = mixed_batch();
    event.records.truncate(1);
    assert!(deliver(&writer, event).await.is_empty());

    let items = dynamodb.scan().table_name("orders").send().await.unwrap();
    let item = &items.items()[0];
    assert_eq!(item["item"].as_s().unwrap(), "cappuccino");
    assert_eq!(item["customerID"].as_s().unwrap(), "m-1");
    assert!(item.get("order").is_none(), "no JSON string wrapper");
}

#[tokio::test]
async fn a_missing_table_fails_every_record_for_a_retry() {
    let emulator = Moto::start();
    let writer = OrderWriter::new(emulator.dynamodb(), "no-such-table");
    let event = mixed_batch();
    assert_eq!(deliver(&writer, event).await.len(), 10);
}

#[tokio::test]
async fn a_key_reused_for_another_order_fails_and_the_first_order_stays() {
    let emulator = Moto::start();
    let dynamodb = emulator.dynamodb();
    create_orders_table(&dynamodb, "orders").await;
    let writer = OrderWriter::new(dynamodb.clone(), "orders");
    let mut event = sample_event::<SqsEvent>("order-writer/default.json");
    event.records.drain(..2);
    let keyed = event.records[0].clone();
    let resend = |id: &str, body: Option<&str>| {
        let mut message = keyed.clone();
        message.message_id = Some(id.to_owned());
        if let Some(body) = body {
            message.body = Some(body.to_owned());
        }
        let mut event = SqsEvent::default();
        event.records = vec![message];
        event
    };
    assert!(deliver(&writer, resend("first", None)).await.is_empty());
    let first = scan_json(&dynamodb, "orders").await;

    // The same order again in another message: a quiet success.
    assert!(deliver(&writer, resend("again", None)).await.is_empty());
    // Another order under the same key: refused, so it reaches the DLQ.
    let other = r#"{"item": "oat milk", "customerID": "c-0007"}"#;
    assert_eq!(
        deliver(&writer, resend("other", Some(other))).await,
        vec!["other".to_owned()]
    );
    assert_eq!(
        scan_json(&dynamodb, "orders").await,
        first,
        "the first order is kept as it was"
    );
}
