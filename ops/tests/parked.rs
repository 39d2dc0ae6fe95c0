//! `cafe-ops parked` against a real SQS API (a private moto server): a message waiting on a parking
//! queue, visible or already received by someone, stops `make destroy`; empty queues do not.

use cafe_ops::parked::{parked, refusal};
use cafe_ops::{LogPlace, Targets};
use cafe_tests::{Moto, create_queue};

#[tokio::test]
async fn a_parked_message_visible_or_in_flight_stops_the_destroy() {
    let emulator = Moto::start();
    let sqs = emulator.sqs();
    let targets = Targets {
        orders_queue_url: create_queue(&sqs, "orders-queue").await,
        orders_dlq_url: create_queue(&sqs, "orders-dlq").await,
        notifier_failures_url: create_queue(&sqs, "notifier-failures").await,
        order_notifier: "order-notifier".to_owned(),
        order_writer_log: LogPlace::Unknown("not read by parked".to_owned()),
    };

    let found = parked(&sqs, &targets).await.unwrap();
    assert_eq!(found.iter().map(|p| p.messages).collect::<Vec<_>>(), [0, 0]);
    assert_eq!(refusal(&found, true), None);

    // An order waiting on the DLQ that an operator is looking at (received, so invisible).
    let dlq = &targets.orders_dlq_url;
    sqs.send_message()
        .queue_url(dlq)
        .message_body(r#"{"item":"latex gloves"}"#)
        .send()
        .await
        .unwrap();
    let received = sqs
        .receive_message()
        .queue_url(dlq)
        .visibility_timeout(300)
        .send()
        .await
        .unwrap();
    assert_eq!(received.messages().len(), 1);

    let found = parked(&sqs, &targets).await.unwrap();
    assert_eq!(found[0].queue, "orders-dlq");
    assert_eq!(found[0].messages, 1);
    assert_eq!(found[1].messages, 0);
    let why = refusal(&found, true).expect("make destroy must stop");
    assert!(why.contains("orders-dlq holds 1 message(s)"), "{why}");
    assert!(why.contains("make redrive-orders DEPLOYED=1"), "{why}");
}

#[tokio::test]
async fn an_unreachable_queue_is_an_error_not_an_empty_queue() {
    let emulator = Moto::start();
    let sqs = emulator.sqs();
    let missing = format!("{}/123456789012/no-such-queue", emulator.endpoint);
    let targets = Targets {
        orders_queue_url: missing.clone(),
        orders_dlq_url: missing.clone(),
        notifier_failures_url: missing,
        order_notifier: "order-notifier".to_owned(),
        order_writer_log: LogPlace::Unknown("not read by parked".to_owned()),
    };
    let error = parked(&sqs, &targets).await.unwrap_err().to_string();
    assert!(error.contains("no-such-queue"), "{error}");
}
